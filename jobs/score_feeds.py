"""spark-submit entry point of the `score_feeds` stage: `spark-submit jobs/score_feeds.py --region X --ds YYYY-MM-DD`."""
import sys

from nightfeed.cli import run_job

if __name__ == "__main__":
    sys.exit(run_job("score_feeds"))
