"""The live-feed pointer logic on a small hand-built gold/feeds table: which rows readers see,
rollback by ds and by table version, and clear refusals."""

import json

import pytest

from nightfeed.configuration.config import Lake
from nightfeed.core.errors import NightfeedError
from nightfeed.pipeline import publish_feeds as publish


def test_live_feed_reads_the_pointer_version_not_the_newest_rows(spark, published):
    assert publish.live_pointer(spark, published, "US")["feeds_table_version"] == 2
    assert {r.user_id for r in publish.live_feed(spark, published, "US").collect()} == {"b"}


def test_rollback_by_ds_and_by_version(spark, published):
    out = publish.rollback(spark, published, "US", to_ds="2026-11-24", eligible=["approved"])
    assert (out["live_ds"], out["model_version"], out["rows"]) == ("2026-11-24", "m1", 2)
    assert out["previous"]["live_ds"] == "2026-11-25"
    assert {r.user_id for r in publish.live_feed(spark, published, "US").collect()} == {"a"}
    out = publish.rollback(spark, published, "US", to_version=2, eligible=["approved"])
    assert (out["live_ds"], out["feeds_table_version"], out["model_version"]) == ("2026-11-25", 2, "m2")
    assert {r.user_id for r in publish.live_feed(spark, published, "US").collect()} == {"b"}


def test_rollback_refuses_what_does_not_exist(spark, published, tmp_path):
    with pytest.raises(NightfeedError, match="no published feed for region US ds 2026-01-01"):
        publish.rollback(spark, published, "US", to_ds="2026-01-01", eligible=["approved"])
    with pytest.raises(NightfeedError, match="version 99"):
        publish.rollback(spark, published, "US", to_version=99, eligible=["approved"])
    with pytest.raises(NightfeedError, match="nothing was published"):
        publish.live_pointer(spark, published, "BR")
    with pytest.raises(NightfeedError, match="no gold/feeds table"):
        publish.rollback(spark, Lake(tmp_path / "empty"), "US", to_ds="2026-11-24", eligible=["approved"])


def test_publishing_an_earlier_night_stores_it_but_keeps_the_newer_feed_live(spark, tmp_path):
    """A rerun or backfill of 2026-11-24 while 2026-11-25 is live: the feed is stored (rollback
    can serve it), the live feed stays on the later night, and the gate is not consulted."""
    import json

    from helpers import feed_rows
    from nightfeed.configuration import config
    from nightfeed.lake.tables import LakeTables
    from nightfeed.pipeline.checks import checks_dir, fingerprint

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
    back = publish.rollback(spark, lake, "US", to_ds="2026-11-24", eligible=["approved"])
    assert back["model_version"] == "m4" and back["feeds_table_version"] == out["feeds_table_version"]


def test_rollback_counts_the_videos_reviewers_took_down_since(spark, tmp_path, monkeypatch, capsys):
    """The older feed is served as published; the summary (and a warning) name its videos whose
    newest decision after its night makes them ineligible: at the same instant the stricter one
    wins, a later approval lifts a restriction, and a decision of the feed's own night is not
    "since" (that night's feed was built after it)."""
    import datetime as dt

    from helpers import feed_rows, write_decisions
    from nightfeed.cli import main as cli
    from nightfeed.lake.tables import LakeTables

    lake, t = Lake(tmp_path), LakeTables(spark, tmp_path)
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-24", ["a", "b"], "m1"), "US", "2026-11-24")
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-25", ["a"], "m2"), "US", "2026-11-25")
    t.set_pointer("US", "2026-11-25", "m2", t.latest_version("gold/feeds"))
    at = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)
    write_decisions(t, "US", "2026-11-24", [("d0", "i2", at - dt.timedelta(days=1), "removed")])
    write_decisions(t, "US", "2026-11-25", [("d1", "i1", at, "approved"), ("d2", "i1", at, "removed")])
    later = at + dt.timedelta(days=1)
    write_decisions(
        t,
        "US",
        "2026-11-26",
        [("d3", "i2", later, "restricted"), ("d4", "i2", later + dt.timedelta(hours=1), "approved")],
    )
    monkeypatch.setenv("NIGHTFEED_LAKE", str(tmp_path))
    assert cli.main(["rollback", "--region", "US", "--to-ds", "2026-11-24", "--dry-run"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["taken_down_since"] == {"videos": 1, "feed_slots": 2, "item_ids": ["i1"]}
    assert out.err.strip() == (
        "warning: the feed of 2026-11-24 holds 1 video removed or restricted since (2 feed slots, e.g. i1); "
        "readers get it until the next publish"
    )
    back = publish.rollback(spark, lake, "US", to_ds="2026-11-24", eligible=["approved"])
    assert back["taken_down_since"]["item_ids"] == ["i1"] and back["live_ds"] == "2026-11-24"
    anything = publish.rollback(
        spark, lake, "US", to_ds="2026-11-24", eligible=["approved", "restricted", "removed"]
    )
    assert anything["taken_down_since"] == {"videos": 0, "feed_slots": 0, "item_ids": []}
