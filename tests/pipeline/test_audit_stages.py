"""The audit stages refuse a night whose events were never ingested."""

import datetime as dt

import pytest

from helpers import nightly_cfg
from nightfeed import pipeline
from nightfeed.configuration import config
from nightfeed.core.errors import NightfeedError
from nightfeed.lake.tables import LakeTables

ITEMS = "item_id string, creator_id string, duration_ms long, created_ts timestamp, "
ITEMS += "moderation_status string, region string, ds string"


def test_audit_features_need_the_nights_events(spark, tmp_path):
    lake = config.Lake(tmp_path)
    up = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    items = [("v1", "c1", 1000, up, "approved", "QQ", "2026-11-25")]
    LakeTables(spark, tmp_path).write_slice(
        "bronze/items", spark.createDataFrame(items, ITEMS), "QQ", "2026-11-25"
    )
    with pytest.raises(NightfeedError, match="bronze/events for region=QQ ds=2026-11-25: .*ingest_events"):
        pipeline.run(spark, lake, "build_audit_features", "QQ", "2026-11-25", nightly_cfg("QQ"))
