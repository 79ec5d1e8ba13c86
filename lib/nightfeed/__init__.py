"""nightfeed: nightly batch "For You" feeds on PySpark, Delta Lake and implicit."""

__version__ = "0.1.0"
