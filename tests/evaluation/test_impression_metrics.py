"""Impression metrics on hand-built cases."""

import math

import pandas as pd
import pytest

from nightfeed.evaluation.impressions import gauc, impression_metrics, watch_ndcg, xauc


def frame(rows):
    return pd.DataFrame(rows, columns=["user", "score", "played", "watched"])


PLAYS = frame(
    [
        ("a", 0.9, True, 1.0),
        ("a", 0.8, True, 0.6),
        ("a", 0.7, True, 0.2),
        ("a", 0.1, False, 0.0),
        ("b", 0.5, True, 0.9),
        ("b", 0.4, False, 0.05),
        ("b", 0.3, False, 0.0),
    ]
)


def test_gauc_of_a_perfect_score_is_1_of_a_constant_one_half_and_of_the_reverse_0():
    assert gauc(PLAYS) == (1.0, 2)
    assert gauc(PLAYS.assign(score=1.0)) == (0.5, 2)
    assert gauc(PLAYS.assign(score=-PLAYS["score"])) == (0.0, 2)


def test_gauc_weights_viewers_by_impressions_and_skips_one_class_viewers():
    mixed = frame([("a", 1, True, 1), ("a", 2, False, 0), ("b", 1, False, 0), ("b", 2, True, 1)])
    mixed = pd.concat([mixed, frame([("b", 0, False, 0), ("c", 5, True, 1)])])
    # a: AUC 0 over 2 impressions; b: positive ranks above both negatives, AUC 1 over 3; c: one class
    assert gauc(mixed) == (pytest.approx(3 / 5), 2)


def test_xauc_is_1_in_the_watched_order_0_in_the_reverse_and_half_for_a_constant():
    assert xauc(PLAYS) == (1.0, 1)  # b has one play: no pair
    assert xauc(PLAYS.assign(score=-PLAYS["score"]))[0] == 0.0
    assert xauc(PLAYS.assign(score=0.0))[0] == 0.5


def test_watch_ndcg_is_1_in_the_watched_order_and_lower_otherwise():
    assert watch_ndcg(PLAYS, 3) == (1.0, 2)
    reverse = watch_ndcg(PLAYS.assign(score=-PLAYS["score"]), 3)[0]
    assert 0 < reverse < 1
    # a's top-1 by score is 0.1 (watched 0); ideal 1.0; b's reverse order puts 0.9 last of 3
    assert watch_ndcg(PLAYS.assign(score=-PLAYS["score"]), 1)[0] == 0.0


def test_no_viewer_with_both_outcomes_gives_nan_not_an_error():
    only_plays = frame([("a", 1, True, 0.5)])
    values = impression_metrics(only_plays, 10)
    assert set(values) == {"gauc", "xauc", "watch_ndcg@10"}
    assert math.isnan(values["gauc"][0]) and values["gauc"][1] == 0
    assert math.isnan(values["xauc"][0])
    assert values["watch_ndcg@10"] == (1.0, 1)
