import datetime as dt

import pytest

from nightfeed.configuration import config
from nightfeed.feeds import features

DS = "2026-11-25"
CFG = config.region_settings("ZZ")
TS = dt.datetime(2026, 11, 25, 12, 0)


@pytest.fixture
def frames(spark):
    ev = [
        ("u1", "v1", "play", TS, 30_000),
        ("u1", "v1", "like", TS, None),
        ("u1", "v2", "skip", TS, 1_000),
        ("u2", "v1", "impression", TS, None),
        ("u2", "v2", "finish", TS - dt.timedelta(days=7), 10_000),
        ("u3", "v1", "play", TS, 6_000),
    ]
    events = spark.createDataFrame(
        ev, "user_id string, item_id string, event_type string, event_ts timestamp, watch_ms long"
    )
    items = spark.createDataFrame(
        [
            ("v1", "c1", 60_000, TS - dt.timedelta(hours=2), "approved"),
            ("v2", "c2", 10_000, TS - dt.timedelta(days=20), "removed"),
        ],
        "item_id string, creator_id string, duration_ms long, created_ts timestamp, moderation_status string",
    )
    return events, items


def test_confidence_combines_weights_completion_and_decay(frames):
    events, items = frames
    rows = {
        (r.user_id, r.item_id): r
        for r in features.interactions(events, items, "US", DS, CFG.features).collect()
    }
    w, half = CFG.features.event_weights, CFG.features.half_life_days
    decay_12h = 0.5 ** (0.5 / half)
    assert rows[("u1", "v1")].confidence == pytest.approx((w["play"] * 0.5 + w["like"]) * decay_12h)
    assert rows[("u3", "v1")].confidence == pytest.approx(w["play"] * 0.1 * decay_12h)
    decay_7d = 0.5 ** (7.5 / half)
    assert rows[("u2", "v2")].confidence == pytest.approx(w["finish"] * decay_7d)
    assert rows[("u2", "v2")].finished
    assert ("u1", "v2") not in rows, "a skip alone is no positive signal"
    assert ("u2", "v1") not in rows, "an impression alone is no positive signal"
    assert all(r.confidence > 0 and r.region == "US" and r.ds == DS for r in rows.values())


def test_exclusions_are_finished_or_skipped(frames):
    events, items = frames
    rows = {
        (r.user_id, r.item_id): r.reason
        for r in features.exclusions(events, items, "US", DS, CFG.features).collect()
    }
    assert rows == {("u1", "v2"): "skipped", ("u2", "v2"): "finished"}


def test_item_features_flag_fresh_items_and_score_trending(frames):
    events, items = frames
    inter = features.interactions(events, items, "US", DS, CFG.features)
    rows = {
        r.item_id: r
        for r in features.item_features(
            events, items, inter, "US", DS, CFG.features, CFG.feed.fresh_hours
        ).collect()
    }
    assert rows["v1"].is_fresh and not rows["v2"].is_fresh
    assert rows["v1"].n_users == 2 and rows["v1"].n_likes == 1
    assert rows["v1"].trending_score > rows["v2"].trending_score


def test_user_features_count_everyone_active(frames):
    events, items = frames
    inter = features.interactions(events, items, "US", DS, CFG.features)
    rows = {r.user_id: r for r in features.user_features(events, inter, "US", DS).collect()}
    assert set(rows) == {"u1", "u2", "u3"}
    assert rows["u1"].n_items == 1 and rows["u1"].n_events == 3


def test_window_start():
    assert features.window_start("2026-11-25", 1) == "2026-11-25"
    assert features.window_start("2026-11-25", 30) == "2026-10-27"
