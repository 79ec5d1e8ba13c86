import pytest

from nightfeed import quality, reports
from nightfeed.errors import NightfeedError


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
    assert quality.band(100.0, [0.5, 2.0]) == (50.0, 200.0)
    assert quality.band(None, [0.5, 2.0]) == (None, None)


@pytest.fixture
def bad_feed(spark):
    feeds = spark.createDataFrame(
        [("u1", 1, "a", 0.9, "cf"), ("u1", 2, "b", 0.95, "cf"),   # score rises with rank
         ("u2", 1, "a", 0.5, "cf"), ("u2", 3, "c", 0.4, "cf"),    # rank gap
         ("u3", 1, "d", 0.9, "cf"), ("u3", 2, "d", 0.8, "trending")],  # duplicate item, removed item
        "user_id string, rank int, item_id string, score double, source string")
    users = spark.createDataFrame([("u1",), ("u2",), ("u3",), ("u4",)], "user_id string")  # u4 has no feed
    catalog = spark.createDataFrame([("a", "approved"), ("b", "approved"), ("c", "approved"), ("d", "removed")],
                                    "item_id string, moderation_status string")
    excl = spark.createDataFrame([("u2", "c", "finished")], "user_id string, item_id string, reason string")
    return quality.feed_frames(feeds, users, catalog, excl)


def test_feed_checks_catch_each_violation(bad_feed, tmp_path):
    params = {"min_feed_coverage": 1.0, "eligible_moderation": ["approved"], "trending_min": 0.0, "trending_max": 0.1}
    result = quality.run_suite("feeds", bad_feed, params, tmp_path / "gx", "test")
    assert result["status"] == quality.STATUS_FAILED
    assert set(result["failed"]) == {"every_active_user_has_a_feed", "ranks_without_gaps", "no_duplicate_items_per_user",
                                     "no_ineligible_items", "no_finished_items", "scores_non_increasing_by_rank"}
    assert result["warnings"] == ["trending_share_within_band"]
    by_name = {c["check"]: c for c in result["checks"]}
    assert by_name["trending_share_within_band"]["observed"] == pytest.approx(1 / 6)


def test_checks_without_parameters_are_skipped_not_dropped(spark, tmp_path):
    inter = spark.createDataFrame([("u1", "a", 1.0), ("u2", "a", 2.0)], "user_id string, item_id string, confidence double")
    result = quality.run_suite("features", {"interactions": inter}, {}, tmp_path / "gx", "test")
    assert result["status"] == quality.STATUS_PASSED
    skipped = {c["check"] for c in result["checks"] if c["status"] == "skipped"}
    assert skipped == {"users_within_band", "items_within_band"}


def test_overall_status():
    assert reports.overall_status({"a": {"status": "passed"}, "b": {"status": "failed"}}) == "failed"
    assert reports.overall_status({"a": {"status": "passed"}, "b": {"status": "missing"}}) == "incomplete"
    assert reports.overall_status({"a": {"status": "passed_with_warnings"}}) == "passed_with_warnings"
