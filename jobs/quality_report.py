"""spark-submit entry point of the `quality_report` stage: `spark-submit jobs/quality_report.py --region X --ds YYYY-MM-DD`."""
import sys

from nightfeed.cli import run_job

if __name__ == "__main__":
    sys.exit(run_job("quality_report"))
