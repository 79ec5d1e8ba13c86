"""`nightfeed benchmark --suite feed-value` on the tiny lake: four feeds per night under the same
rules, the published one valued from its published rows."""

from pyspark.sql import functions as F

from helpers import DS
from nightfeed.bench.feed_value_suite import FEEDS, feed_value_suite
from nightfeed.lake.tables import LakeTables
from nightfeed.synthetic.viewer import OUTCOMES


def test_the_oracle_is_worth_most_and_the_published_value_comes_from_the_published_rows(spark, lake_copy):
    first = {(r["region"], r["ds"]): r for r in feed_value_suite(spark, lake_copy)["results"]}
    assert set(first) == {("AA", DS), ("BB", DS)}
    for r in first.values():
        assert set(r["feeds"]) == set(FEEDS) and all(set(f) == set(OUTCOMES) for f in r["feeds"].values())
        watch = {name: f["watch_s"] for name, f in r["feeds"].items()}
        assert watch["oracle"] >= max(watch.values()) and 0 < r["share_of_oracle"] <= 1
        assert r["lift_over_trending"]["watch_s"] == round(watch["published"] / watch["trending"], 4)

    t = LakeTables(spark, lake_copy.root)
    top_only = t.read_slice("gold/feeds", "AA", DS).where(F.col("rank") == 1).localCheckpoint()
    t.write_slice("gold/feeds", top_only, "AA", DS)
    again = feed_value_suite(spark, lake_copy, region="AA", ds=DS)["results"]
    assert len(again) == 1
    before, after = first[("AA", DS)]["feeds"], again[0]["feeds"]
    assert after["published"]["watch_s"] < 0.3 * before["published"]["watch_s"]
    for name in ("trending", "random", "oracle"):
        assert after[name] == before[name]


def test_compare_ranker_none_values_the_cf_only_feed_and_the_ablations(spark, lake_copy):
    (r,) = feed_value_suite(spark, lake_copy, region="AA", ds=DS, compare="ranker=none")["results"]
    feeds = r["feeds"]
    assert set(feeds) == {*FEEDS, "cf_only", "retrievers_cf_order", "watch_head_only", "no_diversity"}
    assert all(set(f) == set(OUTCOMES) for f in feeds.values())
    assert set(r["lift_over_cf_only"]) == {"watch_s", "likes", "skips"}
    assert r["lift_over_cf_only"]["watch_s"] == round(
        feeds["published"]["watch_s"] / feeds["cf_only"]["watch_s"], 4
    )
    assert r["share_of_oracle_cf_only"] == round(feeds["cf_only"]["watch_s"] / feeds["oracle"]["watch_s"], 4)
    assert set(r["ablations_over_cf_only"]) == {"retrievers_cf_order", "watch_head_only", "no_diversity"}
    assert feeds["cf_only"] != feeds["published"], "the tiny lake's published feed is the two-stage one"
