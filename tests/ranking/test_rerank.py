"""The MMR re-rank on hand-built candidates: value order, creator cap, reserved slots, diversity."""

import numpy as np

from nightfeed.models.topk import NO_ITEM
from nightfeed.ranking.rerank import Reserved, mmr

# Five videos: 0 and 1 near-identical (same direction), 2..4 orthogonal-ish.
EMB = np.array([[1, 0, 0], [0.99, 0.141, 0], [0, 1, 0], [0, 0, 1], [0.7, 0.7, 0]], np.float32)
EMB /= np.linalg.norm(EMB, axis=1, keepdims=True)
CREATOR = np.array([0, 1, 2, 3, 4])


def _picked(codes, picks):
    return [int(codes[0, p]) for p in picks[0] if p >= 0]


def test_without_diversity_the_order_is_the_value_order():
    codes = np.array([[0, 1, 2, 3, NO_ITEM]])
    values = np.array([[5.0, 9.0, 1.0, 3.0, 0.0]])
    picks, scores = mmr(codes, values, EMB, CREATOR, cap=3, n=4, diversity=0.0)
    assert _picked(codes, picks) == [1, 0, 3, 2]
    assert np.all(np.diff(scores[0]) <= 0)


def test_diversity_moves_a_near_duplicate_down():
    codes = np.array([[0, 1, 2, 3]])
    values = np.array([[10.0, 9.5, 8.0, 0.0]])
    plain, _ = mmr(codes, values, EMB, CREATOR, cap=3, n=3, diversity=0.0)
    varied, scores = mmr(codes, values, EMB, CREATOR, cap=3, n=3, diversity=0.5)
    assert _picked(codes, plain) == [0, 1, 2]
    assert _picked(codes, varied) == [0, 2, 1]  # 1 is almost 0 again: it waits
    assert np.all(np.diff(scores[0]) <= 0)


def test_the_creator_cap_holds():
    creator = np.array([0, 0, 0, 1, 1])
    codes = np.array([[0, 1, 2, 3, 4]])
    values = np.array([[9.0, 8.0, 7.0, 1.0, 0.5]])
    picks, _ = mmr(codes, values, EMB, creator, cap=2, n=4, diversity=0.0)
    assert _picked(codes, picks) == [0, 1, 3, 4]


def test_reserved_slots_are_kept_for_their_videos():
    fresh = np.zeros(5, bool)
    fresh[3] = True  # the least valuable video is fresh
    codes = np.array([[0, 1, 2, 3]])
    values = np.array([[9.0, 8.0, 7.0, 1.0]])
    picks, scores = mmr(
        codes, values, EMB, CREATOR, cap=3, n=3, diversity=0.0, reserved=(Reserved(fresh, 1),)
    )
    assert _picked(codes, picks) == [0, 1, 3]  # the last slot goes to the fresh video
    assert np.all(np.diff(scores[0]) <= 0)


def test_a_short_candidate_list_leaves_slots_open():
    codes = np.array([[2, NO_ITEM, NO_ITEM], [0, 1, 4]])
    values = np.array([[1.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    picks, _ = mmr(codes, values, EMB, CREATOR, cap=3, n=3, diversity=0.0)
    assert list(picks[0]) == [0, -1, -1]
    assert [int(codes[1, p]) for p in picks[1]] == [4, 1, 0]
