"""Inputs several stages share, read from a real lake."""

import datetime as dt

from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.inputs import catalog_snapshot

ITEMS = "item_id string, creator_id string, duration_ms long, created_ts timestamp, "
ITEMS += "moderation_status string, region string, ds string"
DECISIONS = "decision_id string, item_id string, region string, decided_ts timestamp, decision string, "
DECISIONS += "policy string, reviewer string, source_file string, ds string"


def test_a_night_without_its_catalog_uses_the_last_one_with_the_decisions_since(spark, tmp_path):
    t = LakeTables(spark, tmp_path)
    up = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    rows = [(v, "c1", 1000, up, "approved", "QQ", "2026-11-24") for v in ("v1", "v2")]
    t.write_slice("bronze/items", spark.createDataFrame(rows, ITEMS), "QQ", "2026-11-24")
    removed = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)
    decision = [("d1", "v1", "QQ", removed, "removed", "spam", "r1", "d.jsonl", "2026-11-25")]
    t.write_slice(
        "bronze/moderation_decisions", spark.createDataFrame(decision, DECISIONS), "QQ", "2026-11-25"
    )
    status = {r.item_id: r.moderation_status for r in catalog_snapshot(t, "QQ", "2026-11-25").collect()}
    assert status == {"v1": "removed", "v2": "approved"}
    before = {r.item_id: r.moderation_status for r in catalog_snapshot(t, "QQ", "2026-11-24").collect()}
    assert before == {"v1": "approved", "v2": "approved"}  # its own day's catalog: as delivered
