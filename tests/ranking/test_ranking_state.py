"""The ranker's state is point-in-time: what happens on the day or later never reaches it."""

import numpy as np
import pandas as pd

from nightfeed.ranking.features import FEATURES, pair_features
from nightfeed.ranking.state import build_state, covisitation, daily_outcomes

DAY = "2026-11-25"
CATALOG = pd.DataFrame(
    {
        "item_id": ["a", "b", "c"],
        "creator_id": ["x", "x", "y"],
        "created_ts": pd.to_datetime(["2026-11-20 10:00", "2026-11-23 00:00", "2026-11-24 12:00"]),
        "duration_ms": [20_000, 40_000, 10_000],
    }
)


def _row(user, item, ds, played=True, watch_ms=10_000, liked=False, skipped=False):
    return {
        "user_id": user,
        "item_id": item,
        "ds": ds,
        "impressed": True,
        "played": played,
        "watch_ms": watch_ms if played else 500,
        "finished": False,
        "liked": liked,
        "shared": False,
        "followed": False,
        "skipped": skipped,
    }


BEFORE = pd.DataFrame(
    [
        _row("u1", "a", "2026-11-23"),
        _row("u1", "b", "2026-11-24", liked=True),
        _row("u2", "a", "2026-11-24"),
        _row("u2", "c", "2026-11-24", played=False, skipped=True),
    ]
)
LATER = pd.DataFrame(
    [
        _row("u2", "b", DAY, liked=True, watch_ms=40_000),  # the day itself: after the state's start
        _row("u1", "c", "2026-11-26", liked=True),
    ]
)


def _features(outcomes):
    state = build_state(outcomes, CATALOG, ["u1", "u2", "u3"], ["a", "b", "c"], DAY, 0.9)
    users = state.user_rows(["u1", "u1", "u2", "u3"])
    items = state.item_rows(["a", "c", "b", "b"])
    return pair_features(state, users, items, np.array([0.5, np.nan, 0.1, np.nan]))


def test_events_of_the_day_or_later_change_no_feature():
    without = _features(BEFORE)
    with_later = _features(pd.concat([BEFORE, LATER], ignore_index=True))
    assert without.shape == (4, len(FEATURES))
    np.testing.assert_array_equal(without, with_later)


def test_the_same_events_do_reach_the_next_days_state():
    """The check above could fail: a day later, those events are history and move the features."""
    later_day = "2026-11-27"
    outcomes = pd.concat([BEFORE, LATER], ignore_index=True)
    before = build_state(BEFORE, CATALOG, ["u1", "u2"], ["a", "b", "c"], later_day, 0.9)
    after = build_state(outcomes, CATALOG, ["u1", "u2"], ["a", "b", "c"], later_day, 0.9)
    b = before.item_rows(["b"])[0]
    assert after.video[b, 0] > before.video[b, 0]  # b's impressions
    assert after.likes_by_creator.sum() > before.likes_by_creator.sum()


def test_features_read_viewer_video_creator_and_pair():
    state = build_state(BEFORE, CATALOG, ["u1", "u2", "u3"], ["a", "b", "c"], DAY, 0.9)
    users = state.user_rows(["u1", "u3", "u9"])
    x = pair_features(state, users, state.item_rows(["b", "b", "b"]), np.array([0.7, np.nan, np.nan]))
    col = {name: k for k, name in enumerate(FEATURES)}
    assert x[0, col["cf_score"]] == np.float32(0.7) and np.isnan(x[1, col["cf_score"]])
    assert x[1, col["v_impressions"]] == 0 and x[1, col["v_play_rate"]] == np.float32(
        0.75
    )  # the region's mean
    assert np.isnan(x[2, col["v_play_rate"]])  # a viewer outside the state: unknown, not zero
    assert x[0, col["vc_likes"]] == 1.0  # u1 liked b, by creator x
    assert x[0, col["vc_watch_s"]] > 0
    assert x[0, col["i_age_h"]] == np.float32(np.log1p(48.0))  # uploaded two days before DAY
    assert x[0, col["covis"]] > 0  # u1 played a, and a was co-played with b (by u1)


def test_covisitation_is_cosine_of_co_plays():
    import scipy.sparse as sp

    history = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [1, 1, 0]], np.float32))
    co = covisitation(history).toarray()
    assert co[0, 0] == 0
    assert np.isclose(co[0, 1], 2 / np.sqrt(3 * 2))
    assert np.isclose(co[1, 2], 0.0)


def test_daily_outcomes_one_row_per_viewer_video_day(spark):
    events = spark.createDataFrame(
        [
            ("u1", "a", "2026-11-24", "impression", None),
            ("u1", "a", "2026-11-24", "play", 9000),
            ("u1", "a", "2026-11-24", "like", None),
            ("u1", "b", "2026-11-24", "impression", None),
            ("u1", "b", "2026-11-24", "skip", 400),
        ],
        "user_id string, item_id string, ds string, event_type string, watch_ms long",
    )
    rows = {r["item_id"]: r.asDict() for r in daily_outcomes(events).collect()}
    assert rows["a"]["played"] and rows["a"]["liked"] and rows["a"]["watch_ms"] == 9000
    assert rows["b"]["skipped"] and not rows["b"]["played"]
