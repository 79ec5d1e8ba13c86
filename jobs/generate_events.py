"""spark-submit entry point of the `generate_events` stage: `spark-submit jobs/generate_events.py --region X --ds YYYY-MM-DD`."""
import sys

from nightfeed.cli import run_job

if __name__ == "__main__":
    sys.exit(run_job("generate_events"))
