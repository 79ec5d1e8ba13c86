"""`make bench`: every benchmark suite, JSON under --output-dir (see `nightfeed benchmark --help`)."""

import sys

from nightfeed.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["benchmark", "--suite", "all", *sys.argv[1:]]))
