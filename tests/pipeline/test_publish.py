"""The live-feed pointer logic on a small hand-built gold/feeds table: which rows readers see,
rollback by ds and by table version, and clear refusals."""

import pytest

from nightfeed.config import Lake
from nightfeed.errors import NightfeedError
from nightfeed.pipeline import publish


def test_live_feed_reads_the_pointer_version_not_the_newest_rows(spark, published):
    assert publish.live_pointer(spark, published, "US")["feeds_table_version"] == 2
    assert {r.user_id for r in publish.live_feed(spark, published, "US").collect()} == {"b"}


def test_rollback_by_ds_and_by_version(spark, published):
    out = publish.rollback(spark, published, "US", to_ds="2026-11-24")
    assert (out["live_ds"], out["model_version"], out["rows"]) == ("2026-11-24", "m1", 2)
    assert out["previous"]["live_ds"] == "2026-11-25"
    assert {r.user_id for r in publish.live_feed(spark, published, "US").collect()} == {"a"}
    out = publish.rollback(spark, published, "US", to_version=2)
    assert (out["live_ds"], out["feeds_table_version"], out["model_version"]) == ("2026-11-25", 2, "m2")
    assert {r.user_id for r in publish.live_feed(spark, published, "US").collect()} == {"b"}


def test_rollback_refuses_what_does_not_exist(spark, published, tmp_path):
    with pytest.raises(NightfeedError, match="no published feed for region US ds 2026-01-01"):
        publish.rollback(spark, published, "US", to_ds="2026-01-01")
    with pytest.raises(NightfeedError, match="version 99"):
        publish.rollback(spark, published, "US", to_version=99)
    with pytest.raises(NightfeedError, match="nothing was published"):
        publish.live_pointer(spark, published, "BR")
    with pytest.raises(NightfeedError, match="no gold/feeds table"):
        publish.rollback(spark, Lake(tmp_path / "empty"), "US", to_ds="2026-11-24")


def test_publishing_an_earlier_night_stores_it_but_keeps_the_newer_feed_live(spark, tmp_path):
    """A rerun or backfill of 2026-11-24 while 2026-11-25 is live: the feed is stored (rollback
    can serve it), the live feed stays on the later night, and the gate is not consulted."""
    import json

    from helpers import feed_rows
    from nightfeed import config
    from nightfeed.pipeline.checks import checks_dir, fingerprint
    from nightfeed.tables import LakeTables

    lake, t = Lake(tmp_path), LakeTables(spark, tmp_path)
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-25", ["b"], "m2"), "US", "2026-11-25")
    t.set_pointer("US", "2026-11-25", "m2", t.latest_version("gold/feeds"))
    t.write_slice(
        "silver/feed_candidates", feed_rows(spark, "US", "2026-11-24", ["d"], "m4"), "US", "2026-11-24"
    )
    checks = checks_dir(lake, "US", "2026-11-24")
    checks.mkdir(parents=True)
    stored = t.read_slice("silver/feed_candidates", "US", "2026-11-24").drop("region", "ds")
    (checks / "feeds.json").write_text(json.dumps({"status": "passed", "fingerprint": fingerprint(stored)}))
    before = publish.live_pointer(spark, lake, "US")
    out = publish.publish_feeds(spark, lake, "US", "2026-11-24", config.region_settings("US"))
    assert out["live_ds"] == "2026-11-25" and out["gate"]["decision"] == "keep newer live feed"
    assert (out["rows"], out["users"]) == (2, 1)
    assert publish.live_pointer(spark, lake, "US") == before
    back = publish.rollback(spark, lake, "US", to_ds="2026-11-24")
    assert back["model_version"] == "m4" and back["feeds_table_version"] == out["feeds_table_version"]
