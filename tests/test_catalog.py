"""The item catalog's landing rules: structure, duplicates and values that cannot be true."""

import json

from nightfeed.ingest import catalog

DS = "2026-11-25"


def test_item_catalog_validation(spark):
    good = {
        "item_id": "v1",
        "creator_id": "c1",
        "region": "US",
        "duration_ms": 30000,
        "created_ts": "2026-11-20T00:00:00Z",
        "moderation_status": "approved",
    }
    raws = [
        json.dumps(good),
        json.dumps({**good, "moderation_status": "hidden", "item_id": "v2"}),
        json.dumps({**good, "duration_ms": 0, "item_id": "v3"}),
        json.dumps(good),
        json.dumps({**good, "duration_ms": 999_999_999_999, "item_id": "v4"}),  # 31 years
        json.dumps({**good, "created_ts": "2099-01-01T00:00:00Z", "item_id": "v5"}),  # after ds
        json.dumps({**good, "created_ts": "0001-01-01T00:00:00Z", "item_id": "v6"}),  # a default
        json.dumps({**good, "created_ts": f"{DS}T23:00:00-05:00", "item_id": "v7"}),  # late, tolerated
        json.dumps({**good, "duration_ms": 30000.0, "item_id": "v10"}),  # a whole number, pandas-style
        '{"item_id": "v8", "item_id": "v9", "creator_id": "c1", "region": "US", "duration_ms": 1, '
        '"created_ts": "2026-11-20T00:00:00Z", "moderation_status": "approved"}',
    ]
    lines = spark.createDataFrame([(v, "items.jsonl") for v in raws], "value string, source_file string")
    result = catalog.classify_items(lines, "US", DS, late_tolerance_hours=6, max_duration_ms=43_200_000)
    assert sorted(r["item_id"] for r in result.valid.collect()) == ["v1", "v10", "v7"]
    assert sorted(r["reason"] for r in result.quarantine.collect()) == [
        "duplicate_field",
        "duplicate_item_id",
        "implausible_created_ts",
        "implausible_created_ts",
        "implausible_duration",
        "invalid_duration",
        "unknown_moderation_status",
    ]
