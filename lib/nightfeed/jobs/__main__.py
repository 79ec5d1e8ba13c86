"""Run a stage from an installed package, as `jobs/<stage>.py` runs it from a checkout:
`spark-submit <site-packages>/nightfeed/jobs/__main__.py <stage> --region R --ds D [options]`, or
in-process `python -m nightfeed.jobs <stage> ...`."""

import sys

from nightfeed.cli.main import run_job
from nightfeed.pipeline.registry import STAGE_NAMES

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in STAGE_NAMES:
        given = repr(sys.argv[1]) if len(sys.argv) > 1 else "none"
        print(
            f"error: nightfeed.jobs: a stage first (given {given}); one of {', '.join(STAGE_NAMES)}",
            file=sys.stderr,
        )
        sys.exit(2)
    sys.exit(run_job(sys.argv[1], sys.argv[2:]))
