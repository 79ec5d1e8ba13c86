"""`python -m nightfeed.cli ...` is the `nightfeed` command."""

import sys

from nightfeed.cli.main import main

sys.exit(main())
