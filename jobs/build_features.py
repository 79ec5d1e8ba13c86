"""spark-submit entry point of the `build_features` stage: `spark-submit jobs/build_features.py --region X --ds YYYY-MM-DD`."""
import sys

from nightfeed.cli import run_job

if __name__ == "__main__":
    sys.exit(run_job("build_features"))
