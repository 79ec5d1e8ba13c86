import math

import pandas as pd
import pytest

from nightfeed.feeds import feed_health

DS = "2026-11-25"
OLD = pd.Timestamp(DS) - pd.Timedelta(days=30)
NEW = pd.Timestamp(DS) + pd.Timedelta(hours=2)


def catalog():
    """Four approved items of creators a, a, b, n (n is new) and one removed item."""
    return pd.DataFrame(
        {
            "item_id": ["i1", "i2", "i3", "i4", "gone"],
            "creator_id": ["a", "a", "b", "n", "b"],
            "created_ts": [OLD, OLD, OLD, NEW, OLD],
            "moderation_status": ["approved"] * 4 + ["removed"],
            "is_fresh": [False, False, False, True, False],
        }
    )


def feeds(spark, rows):
    return spark.createDataFrame(pd.DataFrame(rows, columns=["user_id", "rank", "item_id", "source"]))


def metrics(spark, rows):
    cat = catalog()
    parts = feed_health.feed_aggregates(
        feeds(spark, rows), spark.createDataFrame(cat[["item_id", "creator_id"]])
    )
    return feed_health.health_metrics(*(p.toPandas() for p in parts), cat, DS, 7, ("approved",))


def test_new_creators_are_judged_by_their_first_upload():
    cat = catalog()
    assert feed_health.new_creator_items(cat, DS, 7).tolist() == [False, False, False, True, False]
    cat.loc[0, "created_ts"] = NEW  # a's second video is new, but a is not
    assert not feed_health.new_creator_items(cat, DS, 7)[0]


def test_metrics_of_a_hand_built_feed(spark):
    m = metrics(
        spark,
        [("u1", 1, "i1", "cf"), ("u1", 2, "i4", "new_creator"), ("u2", 1, "i1", "trending")],
    )
    assert m["users"] == 2 and m["slots"] == 3
    assert m["catalog_coverage"] == pytest.approx(2 / 4)
    exposure = [2.0, 0.0, 0.0, 1 / math.log2(3)]  # i1 twice at rank 1, i4 once at rank 2
    assert m["item_exposure_gini"] == pytest.approx(feed_health.gini(exposure))
    assert m["creator_exposure_gini"] == pytest.approx(feed_health.gini([2.0, 0.0, 1 / math.log2(3)]))
    assert m["fresh_slot_share"] == pytest.approx(1 / 3)
    assert m["new_creator_slot_share"] == pytest.approx(1 / 3)
    assert m["new_creator_reach"] == 1.0
    assert m["creators_per_feed"] == pytest.approx((2 + 1) / 2)
    assert m["cold_start_user_share"] == pytest.approx(1 / 2)
    assert m["source_share_cf"] == pytest.approx(1 / 3) and m["source_share_fresh"] == 0.0


def test_equal_exposure_has_zero_gini_and_one_item_taking_all_has_n_minus_1_over_n(spark):
    equal = metrics(spark, [(f"u{k}", 1, f"i{k}", "cf") for k in range(1, 5)])
    assert equal["item_exposure_gini"] == pytest.approx(0.0)
    assert equal["catalog_coverage"] == 1.0
    one = metrics(spark, [(f"u{k}", 1, "i1", "cf") for k in range(1, 5)])
    assert one["item_exposure_gini"] == pytest.approx(3 / 4)
    assert one["new_creator_reach"] == 0.0


def test_model_metrics_change_against_the_previous_day():
    today = {"model_ndcg@10": 0.30, "popularity_ndcg@10": 0.10}
    out = feed_health.model_metrics(today, {"model_ndcg@10": 0.25})
    assert out["model_ndcg@10_change"] == pytest.approx(0.05)
    assert "popularity_ndcg@10_change" not in out
    assert feed_health.model_metrics(today, None) == today


def test_hold_effects_count_slots_of_violating_and_benign_videos_with_and_without_holds():
    with_holds = pd.Series({"ok": 5, "bad_unheld": 2})
    without = pd.Series({"ok": 3, "bad_unheld": 2, "bad_held": 4, "benign_held": 1})
    violating = {"bad_unheld": 1, "bad_held": 1, "ok": 0}
    got = feed_health.hold_effects(with_holds, without, {"bad_held", "benign_held", "never_shown"}, violating)
    assert got == {
        "audit_violating_slots": 2.0,
        "audit_violating_slots_without_holds": 6.0,
        "audit_held_videos": 3.0,
        "audit_held_benign_videos": 2.0,  # benign_held and never_shown
        "audit_held_benign_slots_without_holds": 1.0,
    }
    empty = feed_health.hold_effects(pd.Series(dtype=int), pd.Series(dtype=int), set(), {})
    assert empty["audit_violating_slots"] == 0.0 and empty["audit_held_videos"] == 0.0
