"""spark-submit entry point of the nightfeed stage this file is named after (see the stage registry,
`nightfeed.pipeline.registry`): `spark-submit jobs/<stage>.py --region X --ds YYYY-MM-DD [options]`."""

import sys
from pathlib import Path

from nightfeed.cli.main import run_job

if __name__ == "__main__":
    sys.exit(run_job(Path(__file__).stem))
