"""spark-submit entry point of `nightfeed evaluate` (offline evaluation of models on a ratings file)."""

import sys

from nightfeed.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
