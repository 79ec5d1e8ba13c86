"""Factor models (ALS, BPR, Spark ALS): exact top-N without scoring every item."""

from __future__ import annotations

import numpy as np

from nightfeed.models.base import BLOCK_USERS, Recommender, as_csr, exclusion_matrix, mask_excluded
from nightfeed.models.topk import NO_ITEM, select_topk


class FactorModel(Recommender):
    """score = user_factors · item_factors, top-N without scoring every item.

    Items are scored in order of decreasing factor norm, in chunks that double in size. Once a
    user has N candidates whose N-th score t exceeds |u|·|v| for every item v not yet scored, no
    such item can enter (Cauchy–Schwarz), so that user is done: the result is exact. With
    regularised implicit factors most users are done after a small share of the catalog.
    """

    user_factors: np.ndarray
    item_factors: np.ndarray

    def score_block(self, userids, user_items, items=None):
        factors = self.item_factors if items is None else self.item_factors[items]
        return self.user_factors[userids] @ factors.T

    def pair_scores(self, userids, user_items, rows, items):
        """One dot product per pair: no users × items block."""
        users = self.user_factors[np.asarray(userids, np.int64)[rows]]
        return np.einsum("ij,ij->i", users, self.item_factors[items])

    def recommend(
        self, userids, user_items, N=10, filter_already_liked_items=True, filter_items=None, exclude=None
    ):
        userids = np.asarray(userids, dtype=np.int64)
        excl = exclusion_matrix(as_csr(user_items), exclude, filter_already_liked_items)
        allowed = self._allowed(filter_items)
        norms = np.linalg.norm(self.item_factors[allowed].astype(np.float64), axis=1)
        order = np.lexsort((allowed, -norms))
        items, item_norms = allowed[order], norms[order]
        factors = np.ascontiguousarray(self.item_factors[items], dtype=np.float32)
        column_of = np.full(self.n_items, -1, np.int64)
        column_of[items] = np.arange(len(items))
        ids = np.full((len(userids), N), NO_ITEM, np.int64)
        vals = np.full((len(userids), N), -np.inf, np.float32)
        first = min(len(items), max(16 * N, len(items) // 5))
        for start in range(0, len(userids), BLOCK_USERS):
            sl = slice(start, start + BLOCK_USERS)
            users = np.ascontiguousarray(self.user_factors[userids[sl]], dtype=np.float32)
            # float32 dot products may exceed the exact bound by rounding: keep a margin.
            user_norms = np.linalg.norm(users.astype(np.float64), axis=1) * (1 + 1e-4) + 1e-30
            block_excl = None if excl is None else excl[sl]
            rows = np.arange(len(users))
            lo, hi = 0, first
            while len(rows) and lo < hi:
                scores = users[rows] @ factors[lo:hi].T
                if block_excl is not None:
                    mask_excluded(scores, block_excl[rows], column_of - lo)
                chunk_ids, chunk_vals = select_topk(scores, N, items[lo:hi])
                merged_ids, merged_vals = select_topk(
                    np.hstack([vals[sl][rows], chunk_vals]), N, np.hstack([ids[sl][rows], chunk_ids])
                )
                ids[start + rows, : merged_ids.shape[1]] = merged_ids
                vals[start + rows, : merged_vals.shape[1]] = merged_vals
                if hi == len(items):
                    break
                kth = vals[start + rows, N - 1]
                rows = rows[user_norms[rows] * item_norms[hi] >= kth]
                lo, hi = hi, min(len(items), 2 * hi)
        return ids, vals

    def arrays(self):
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}
