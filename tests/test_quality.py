import pytest

from nightfeed.core.errors import NightfeedError
from nightfeed.quality import frames as quality_frames
from nightfeed.quality import suites as quality
from nightfeed.reports import quality_page as reports


def test_placeholders_resolve_inside_lists():
    params = {"region": "US", "types": ["a", "b"], "lo": None}
    assert quality.resolve("$region", params) == "US"
    assert quality.resolve(["$region"], params) == ["US"]
    assert quality.resolve("$types", params) == ["a", "b"]
    assert quality.resolve("$lo", params) is None
    assert quality.resolve(3, params) == 3


def test_every_suite_is_valid_data():
    for name in ("events", "features", "feeds"):
        suite = quality.load_suite(name)
        assert suite["checks"] and all(c["severity"] in ("fail", "warn") for c in suite["checks"])
    with pytest.raises(NightfeedError, match="unknown quality suite"):
        quality.load_suite("nope")


def test_band_scales_a_trailing_mean():
    assert quality_frames.band(100.0, [0.5, 2.0]) == (50.0, 200.0)
    assert quality_frames.band(None, [0.5, 2.0]) == (None, None)


@pytest.fixture
def bad_feed(spark):
    feeds = spark.createDataFrame(
        [
            ("u1", 1, "a", 0.9, "cf"),
            ("u1", 2, "b", 0.95, "cf"),  # score rises with rank
            ("u2", 1, "a", 0.5, "cf"),
            ("u2", 3, "c", 0.4, "cf"),  # rank gap
            ("u3", 1, "d", 0.9, "cf"),
            ("u3", 2, "d", 0.8, "trending"),
            ("u5", 1, "a", 0.9, "cf"),
            ("u5", 2, "b", 0.8, "cf"),
            ("u5", 3, "c", 0.7, "cf"),  # longer than n
        ],  # duplicate item, removed item
        "user_id string, rank int, item_id string, score double, source string",
    )
    users = spark.createDataFrame(
        [("u1",), ("u2",), ("u3",), ("u4",), ("u5",)], "user_id string"
    )  # u4: no feed
    catalog = spark.createDataFrame(
        [("a", "approved"), ("b", "approved"), ("c", "approved"), ("d", "removed")],
        "item_id string, moderation_status string",
    )
    excl = spark.createDataFrame([("u2", "c", "finished")], "user_id string, item_id string, reason string")
    inter = spark.createDataFrame([("u1", "c")], "user_id string, item_id string")
    return quality_frames.feed_frames(
        feeds,
        users,
        catalog.withColumn("creator_id", catalog["item_id"]),
        excl,
        inter,
        n=2,
        cap=1,
        eligible=["approved"],
    )


@pytest.mark.parametrize("local_max_rows", [quality.LOCAL_MAX_ROWS, 0], ids=["pandas", "spark"])
def test_feed_checks_catch_each_violation(bad_feed, tmp_path, monkeypatch, local_max_rows):
    """Small frames are validated on GX's pandas engine, larger ones on Spark: the same verdicts."""
    monkeypatch.setattr(quality, "LOCAL_MAX_ROWS", local_max_rows)
    params = {
        "min_feed_coverage": 1.0,
        "eligible_moderation": ["approved"],
        "trending_min": 0.0,
        "trending_max": 0.1,
        "min_full_feed_share": 1.0,
    }
    result = quality.run_suite("feeds", bad_feed, params, tmp_path / "gx", "test")
    assert result["status"] == quality.STATUS_FAILED
    assert set(result["failed"]) == {
        "every_active_user_has_a_feed",
        "full_feeds_given_the_catalog",
        "ranks_without_gaps",
        "no_feed_longer_than_n",
        "no_duplicate_items_per_user",
        "no_ineligible_items",
        "no_finished_items",
        "scores_non_increasing_by_rank",
    }
    assert result["warnings"] == ["trending_share_within_band"]
    by_name = {c["check"]: c for c in result["checks"]}
    assert by_name["trending_share_within_band"]["observed"] == pytest.approx(1 / 9)
    assert by_name["ranks_without_gaps"]["observed"]["unexpected_count"] == 1
    assert {c["engine"] for c in result["checks"]} == {"spark" if local_max_rows == 0 else "pandas"}


def test_checks_without_parameters_are_skipped_not_dropped(spark, tmp_path):
    inter = spark.createDataFrame(
        [("u1", "a", 1.0), ("u2", "a", 2.0)], "user_id string, item_id string, confidence double"
    )
    result = quality.run_suite("features", {"interactions": inter}, {}, tmp_path / "gx", "test")
    assert result["status"] == quality.STATUS_PASSED
    skipped = {c["check"]: c["reason"] for c in result["checks"] if c["status"] == "skipped"}
    assert skipped == dict.fromkeys(
        ["users_within_band", "items_within_band"], "no earlier day in the trailing 7 days to compare with"
    )


def test_overall_status():
    assert reports.overall_status({"a": {"status": "passed"}, "b": {"status": "failed"}}) == "failed"
    assert reports.overall_status({"a": {"status": "passed"}, "b": {"status": "missing"}}) == "incomplete"
    assert reports.overall_status({"a": {"status": "passed_with_warnings"}}) == "passed_with_warnings"


def test_feed_capacity_counts_what_the_rules_allow(spark):
    catalog = spark.createDataFrame(
        [
            ("a", "A", "approved"),
            ("b", "A", "approved"),
            ("c", "A", "approved"),
            ("d", "B", "approved"),
            ("e", "B", "removed"),
            ("f", "C", "approved"),
        ],
        "item_id string, creator_id string, moderation_status string",
    )
    users = spark.createDataFrame([("u1",), ("u2",), ("u3",)], "user_id string")
    seen = spark.createDataFrame(
        [("u2", "a"), ("u2", "a"), ("u2", "b"), ("u3", "d"), ("u3", "f"), ("u3", "a")],
        "user_id string, item_id string",
    )
    got = {
        r["user_id"]: r["capacity"]
        for r in quality_frames.feed_capacity(users, catalog, seen, ["approved"], 2).collect()
    }
    # A: min(2, 3) + B: 1 (e is removed) + C: 1; u2 saw two of A (one left); u3 saw all of B, C and one of A
    assert got == {"u1": 4, "u2": 3, "u3": 2}


def test_short_feeds_fail_unless_the_catalog_is_exhausted(spark, tmp_path):
    catalog = spark.createDataFrame(
        [(f"i{k}", f"c{k}", "approved") for k in range(4)],
        "item_id string, creator_id string, moderation_status string",
    )
    feeds = spark.createDataFrame(
        [("u1", 1, "i0", 0.9, "cf"), ("u2", 1, "i1", 0.9, "cf"), ("u2", 2, "i2", 0.8, "cf")],
        "user_id string, rank int, item_id string, score double, source string",
    )
    users = spark.createDataFrame([("u1",), ("u2",)], "user_id string")
    excl = spark.createDataFrame([], "user_id string, item_id string, reason string")
    inter = spark.createDataFrame([("u2", "i0"), ("u2", "i3")], "user_id string, item_id string")
    frames = quality_frames.feed_frames(feeds, users, catalog, excl, inter, n=3, cap=1, eligible=["approved"])
    got = {r["user_id"]: (r["full_feed"], r["catalog_exhausted"]) for r in frames["feed_users"].collect()}
    assert got == {"u1": (False, False), "u2": (True, True)}  # u2 may only see i1, i2


def test_a_user_with_nothing_left_to_see_needs_no_feed(spark):
    """A tiny catalog the user has finished or skipped entirely: no feed is the right answer."""
    catalog = spark.createDataFrame(
        [("i0", "c0", "approved"), ("i1", "c1", "approved")],
        "item_id string, creator_id string, moderation_status string",
    )
    feeds = spark.createDataFrame(
        [("u2", 1, "i0", 0.9, "cf")], "user_id string, rank int, item_id string, score double, source string"
    )
    users = spark.createDataFrame([("u1",), ("u2",), ("u3",)], "user_id string")
    excl = spark.createDataFrame(
        [("u1", "i0", "finished"), ("u1", "i1", "skipped")], "user_id string, item_id string, reason string"
    )
    inter = spark.createDataFrame([("u2", "i1")], "user_id string, item_id string")
    frames = quality_frames.feed_frames(feeds, users, catalog, excl, inter, n=3, cap=1, eligible=["approved"])
    got = {
        r["user_id"]: (r["has_feed"], r["full_feed"], r["catalog_exhausted"])
        for r in frames["feed_users"].collect()
    }
    # u1 has seen both items: no feed is due; u3 has seen nothing and still has no feed: a failure
    assert got == {"u1": (True, True, True), "u2": (True, True, True), "u3": (False, False, True)}
