"""Day boundaries mean the same instant whatever the driver's local time zone."""

import datetime as dt
import os
import time

import pytest
from pyspark.sql import functions as F

from nightfeed.core.days import day_end, day_start
from nightfeed.ingest import events


@pytest.fixture
def los_angeles_driver():
    """The Python driver in a zone 8 hours behind UTC (Spark's session zone stays UTC)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/Los_Angeles"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_day_boundaries_are_utc_midnights():
    assert day_start("2026-11-25") == dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    assert day_end("2026-11-25") == day_start("2026-11-25", 1) == dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def test_the_late_arrival_window_does_not_move_with_the_driver_zone(spark, los_angeles_driver):
    stamps = ["2026-11-24T17:59:59Z", "2026-11-24T18:00:00Z", "2026-11-26T05:59:59Z", "2026-11-26T06:00:00Z"]
    df = spark.createDataFrame([(s,) for s in stamps], "t string").select(F.col("t").cast("timestamp"))
    outside = [r[0] for r in df.select(events.outside_day(F.col("t"), "2026-11-25", 6)).collect()]
    assert outside == [True, False, False, True]
