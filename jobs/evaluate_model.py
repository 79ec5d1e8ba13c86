"""spark-submit entry point of the `evaluate_model` stage: `spark-submit jobs/evaluate_model.py --region X --ds YYYY-MM-DD`."""
import sys

from nightfeed.cli import run_job

if __name__ == "__main__":
    sys.exit(run_job("evaluate_model"))
