"""The table registry and slice I/O on real Delta tables: one slice replaced per write, reruns
never duplicate, missing inputs are clear errors, the pointer table holds one row per region."""

import pytest

from helpers import feed_rows
from nightfeed.core.errors import NightfeedError
from nightfeed.lake import table_registry, tables
from nightfeed.lake.tables import LakeTables


def test_every_registered_table_has_a_schema_and_partitions():
    assert table_registry.TABLES["gold/feed_pointer"].partition_columns == ("region",)
    assert all(
        t.partition_columns == ("region", "ds")
        for n, t in table_registry.TABLES.items()
        if n != "gold/feed_pointer"
    )


def test_write_slice_replaces_only_its_slice_and_reruns_do_not_duplicate(spark, tmp_path):
    t = LakeTables(spark, tmp_path)
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-24", ["a", "b"]), "US", "2026-11-24")
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-25", ["a"]), "US", "2026-11-25")
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-25", ["c"]), "US", "2026-11-25")
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-25", ["c"]), "US", "2026-11-25")
    assert t.read_slice("gold/feeds", "US", "2026-11-24").count() == 4
    assert {r.user_id for r in t.read_slice("gold/feeds", "US", "2026-11-25").collect()} == {"c"}
    assert t.read("gold/feeds").count() == 6
    assert t.latest_version("gold/feeds") == 4  # version 0 is the create, then one commit per write


def test_a_write_outside_its_slice_fails_and_changes_nothing(spark, tmp_path):
    t = LakeTables(spark, tmp_path)
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-25", ["a"]), "US", "2026-11-25")
    with pytest.raises(Exception, match="(?i)replaceWhere|predicate|does not conform"):
        t.write_slice("gold/feeds", feed_rows(spark, "BR", "2026-11-25", ["x"]), "US", "2026-11-25")
    assert t.read("gold/feeds").count() == 2


def test_missing_tables_read_empty_or_fail_clearly(spark, tmp_path):
    t = LakeTables(spark, tmp_path)
    assert t.read_slice("silver/interactions", "US", "2026-11-25").count() == 0
    assert "confidence" in t.read("silver/interactions").columns
    with pytest.raises(NightfeedError, match="run build_features first"):
        t.require_slice("silver/interactions", "US", "2026-11-25", "build_features")
    t.write_slice("silver/interactions", t.read("silver/interactions"), "US", "2026-11-25")
    with pytest.raises(NightfeedError, match="build_features has not run for it, or its input was empty"):
        t.require_slice("silver/interactions", "US", "2026-11-25", "build_features")
    with pytest.raises(NightfeedError, match="unknown table"):
        t.path("gold/nope")
    with pytest.raises(NightfeedError, match="missing columns"):
        t.write_slice("gold/feeds", spark.createDataFrame([("US",)], "region string"), "US", "2026-11-25")


def test_pointer_holds_one_row_per_region(spark, tmp_path):
    t = LakeTables(spark, tmp_path)
    assert t.pointer("US") is None
    t.set_pointer("US", "2026-11-24", "m1", 1)
    t.set_pointer("BR", "2026-11-24", "m1", 2)
    t.set_pointer("US", "2026-11-25", "m2", 3)
    assert t.pointer("US").asDict() == {
        "region": "US",
        "live_ds": "2026-11-25",
        "model_version": "m2",
        "feeds_table_version": 3,
    }
    assert t.pointer("BR")["live_ds"] == "2026-11-24"
    assert t.read("gold/feed_pointer").count() == 2


def test_a_delta_table_is_a_folder_whose_log_holds_a_commit(spark, tmp_path):
    from delta.tables import DeltaTable

    folder = tmp_path / "gold" / "feeds"
    assert not tables.exists(str(folder))
    (folder / "_delta_log").mkdir(parents=True)
    assert not tables.exists(str(folder)), "a log folder without a commit is not a table yet"
    t = LakeTables(spark, tmp_path)
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-25", ["a"]), "US", "2026-11-25")
    assert t.exists("gold/feeds") and DeltaTable.isDeltaTable(spark, t.path("gold/feeds"))
    only_checkpoint = tmp_path / "cleaned" / "_delta_log"
    only_checkpoint.mkdir(parents=True)
    (only_checkpoint / "00000000000000000010.checkpoint.parquet").write_bytes(b"")
    assert tables.exists(str(only_checkpoint.parent))


def test_timestamps_far_from_now_read_back_with_delta_rs(spark, tmp_path):
    """Parquet's standard microsecond timestamps, not Spark's legacy INT96 (which delta-rs reads
    as nanoseconds, failing on any date before 1677)."""
    import datetime as dt

    from deltalake import DeltaTable

    t = LakeTables(spark, tmp_path)
    old = dt.datetime(1500, 1, 1, tzinfo=dt.UTC)
    row = [("v1", "c1", 1000, old, "approved", "US", "2026-11-25")]
    schema = "item_id string, creator_id string, duration_ms long, created_ts timestamp, "
    schema += "moderation_status string, region string, ds string"
    t.write_slice("bronze/items", spark.createDataFrame(row, schema), "US", "2026-11-25")
    back = DeltaTable(t.path("bronze/items")).to_pyarrow_table().to_pylist()
    assert [r["created_ts"] for r in back] == [old]
