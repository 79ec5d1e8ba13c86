"""spark-submit entry point of the `train_model` stage: `spark-submit jobs/train_model.py --region X --ds YYYY-MM-DD`."""
import sys

from nightfeed.cli import run_job

if __name__ == "__main__":
    sys.exit(run_job("train_model"))
