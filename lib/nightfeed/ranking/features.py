"""The ranker's features of (viewer, video) pairs: one definition for the training examples and
for tonight's candidates, read from a `RankingState` (what was known before the day) and the
CF model's score of the pair (NaN where the model cannot score it)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nightfeed.ranking.state import CREATOR, VIDEO, VIEWER, RankingState

PAIR = ("vc_watch_s", "vc_likes", "vc_followed", "duration_match", "covis", "cf_score")
FEATURES = VIEWER + VIDEO + CREATOR + PAIR
BLOCK_USERS = 1024


def pair_features(
    state: RankingState, users: np.ndarray, items: np.ndarray, cf_score: np.ndarray
) -> np.ndarray:
    """float32 (pairs × FEATURES). users / items: rows of the state (-1: unknown to it, NaN features)."""
    users, items = np.asarray(users, np.int64), np.asarray(items, np.int64)
    known_u, known_i = users >= 0, items >= 0
    creators = np.where(known_i, state.creator[np.maximum(items, 0)], -1)
    known_c = creators >= 0
    both = known_u & known_c
    viewer = _take(state.viewer, users)
    video = _take(state.video, items)
    out = np.column_stack(
        [
            viewer,
            video,
            _take(state.creator_stats, creators),
            np.log1p(_lookup(state.watch_by_creator, users, creators, both)),
            _lookup(state.likes_by_creator, users, creators, both),
            _lookup(state.follows_by_creator, users, creators, both),
            video[:, VIDEO.index("i_log_duration")] - viewer[:, VIEWER.index("v_log_duration")],
            similarity_to_history(state, users, items),
            np.asarray(cf_score, np.float64),
        ]
    )
    return out.astype(np.float32)


def similarity_to_history(state: RankingState, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Σ over the viewer's played videos of their co-visitation with the item (0 when unknown)."""
    out = np.zeros(len(users))
    ok = np.flatnonzero((users >= 0) & (items >= 0))
    if not len(ok):
        return out
    order = ok[np.argsort(users[ok], kind="stable")]
    distinct, first = np.unique(users[order], return_index=True)
    bounds = np.r_[first, len(order)]
    for lo in range(0, len(distinct), BLOCK_USERS):
        block = distinct[lo : lo + BLOCK_USERS]
        scores = (state.history[block] @ state.covis).tocsr()
        at = order[bounds[lo] : bounds[min(lo + BLOCK_USERS, len(distinct))]]
        out[at] = np.asarray(scores[np.searchsorted(block, users[at]), items[at]]).ravel()
    return out


def _take(table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = table[np.maximum(rows, 0)].astype(np.float64)
    out[rows < 0] = np.nan
    return out


def _lookup(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, ok: np.ndarray) -> np.ndarray:
    out = np.zeros(len(rows))
    if ok.any():
        out[ok] = np.asarray(matrix[rows[ok], cols[ok]]).ravel()
    return out
