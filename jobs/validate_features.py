"""spark-submit entry point of the `validate_features` stage: `spark-submit jobs/validate_features.py --region X --ds YYYY-MM-DD`."""
import sys

from nightfeed.cli import run_job

if __name__ == "__main__":
    sys.exit(run_job("validate_features"))
