"""A stage from an installed package: `spark-submit <this folder>/__main__.py <stage> ...`
or `python -m nightfeed.jobs <stage> ...`."""
