"""spark-submit entry point of the `validate_feeds` stage: `spark-submit jobs/validate_feeds.py --region X --ds YYYY-MM-DD`."""
import sys

from nightfeed.cli import run_job

if __name__ == "__main__":
    sys.exit(run_job("validate_feeds"))
