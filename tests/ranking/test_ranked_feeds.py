"""The CF-score order of the ablation: unscored candidates last, the scored ones' scale intact."""

import numpy as np

from nightfeed.ranking.ranked_feeds import _unscored_last


def test_unscored_candidates_go_just_below_the_viewers_lowest_score():
    rows = np.array([0, 0, 0, 1, 1])
    order = _unscored_last(rows, np.array([0.5, np.nan, 0.2, np.nan, np.nan]))
    assert order[0] > order[2] > order[1] > 0.2 - 1e-3  # just below 0.2, not at -1e9
    assert (order[3:] < 0).all() and order[3] == order[4]
