"""The feed rules as array operations over a block of users (no per-user Python, no I/O).

A feed is filled greedily from ranked sources — fresh items, the model's ranking, the region's
whole eligible catalog in trending order — taking an item only if the user has not seen,
finished or skipped it, it is not already in the feed, and its creator has fewer than
`max_per_creator` items in the feed. Each source is read in chunks that double in size, and
only for the users whose feed is still short, so a feed stops short of `n` only when the whole
eligible catalog is used up; most users are done after the first chunk.

Per block the state is one dense `blocked` mask (users × item codes) and per-creator counts
(users × creators): memory is bounded by block × items, as for scoring itself.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nightfeed.models.topk import NO_ITEM


class FeedBlock:
    """What a block of users may still take: `blocked` items and per-creator counts.

    creator: item code -> creator code (0..n_creators-1). blocked_items: CSR (users × codes) of
    items never to show (seen, finished, skipped).
    """

    def __init__(self, creator: np.ndarray, blocked_items: sp.csr_matrix, cap: int):
        b, n_codes = blocked_items.shape
        self.creator, self.cap = creator, cap
        self.blocked = np.zeros((b, n_codes), dtype=bool)
        rows = np.repeat(np.arange(b), np.diff(blocked_items.indptr))
        self.blocked[rows, blocked_items.indices] = True
        self.per_creator = np.zeros((b, int(creator.max(initial=-1)) + 1), dtype=np.int32)
        self.taken = np.zeros(b, dtype=np.int64)

    def take(
        self,
        rows: np.ndarray,
        codes: np.ndarray,
        scores: np.ndarray,
        room: np.ndarray,
        out_codes: np.ndarray,
        out_scores: np.ndarray,
        filled: np.ndarray,
    ) -> None:
        """Take, per row, the first `room` allowed entries of `codes` (rows × m, NO_ITEM = none),
        in order, into out_codes/out_scores after the `filled` entries already there."""
        present = codes != NO_ITEM
        safe = np.where(present, codes, 0)
        allowed = present & ~self.blocked[rows[:, None], safe]
        creators = self.creator[safe]
        ok = allowed & (self.per_creator[rows[:, None], creators] + _occurrence(creators, allowed) < self.cap)
        take = ok & (np.cumsum(ok, axis=1) <= room[:, None])
        r, c = np.nonzero(take)
        slot = filled[rows][r] + (np.cumsum(take, axis=1) - 1)[r, c]
        out_codes[rows[r], slot] = codes[r, c]
        out_scores[rows[r], slot] = np.broadcast_to(scores, codes.shape)[r, c]
        self.blocked[rows[r], codes[r, c]] = True
        np.add.at(self.per_creator, (rows[r], creators[r, c]), 1)
        got = take.sum(axis=1)
        filled[rows] += got
        self.taken[rows] += got


def _occurrence(creators: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """For each valid entry, how many valid entries of the same creator come before it in its row."""
    b, m = creators.shape
    if m == 0:
        return np.zeros((b, 0), np.int64)
    key = np.where(valid, creators, -1)
    idx = np.broadcast_to(np.arange(m), (b, m))
    order = np.lexsort((idx, key), axis=1)
    srt = np.take_along_axis(key, order, axis=1)
    new_group = np.ones_like(srt, dtype=bool)
    new_group[:, 1:] = srt[:, 1:] != srt[:, :-1]
    group_start = np.maximum.accumulate(np.where(new_group, idx, 0), axis=1)
    occurrence = np.empty((b, m), np.int64)
    np.put_along_axis(occurrence, order, idx - group_start, axis=1)
    return occurrence


def fill_from_list(
    block: FeedBlock,
    rows: np.ndarray,
    codes: np.ndarray,
    scores: np.ndarray,
    want: np.ndarray,
    width: int,
    first_chunk: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Up to `want[row]` items per row of `rows` from one ranked list (codes best first), in chunks
    of the list that double from `first_chunk`, only for rows still short. Returns (b × width)."""
    b = len(block.taken)
    out_codes = np.full((b, width), NO_ITEM, np.int64)
    out_scores = np.full((b, width), -np.inf)
    filled = np.zeros(b, np.int64)
    active = rows[want[rows] > 0]
    lo, size = 0, max(first_chunk, 1)
    while len(active) and lo < len(codes):
        hi = min(len(codes), lo + size)
        chunk = np.broadcast_to(codes[lo:hi], (len(active), hi - lo))
        block.take(active, chunk, scores[lo:hi], want[active] - filled[active], out_codes, out_scores, filled)
        active = active[filled[active] < want[active]]
        lo, size = hi, 2 * size
    return out_codes, out_scores


def fill_from_model(
    block: FeedBlock,
    rows: np.ndarray,
    recommend,
    exclude: sp.csr_matrix,
    want: np.ndarray,
    width: int,
    first_n: int,
    n_items: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Like `fill_from_list`, over each user's own ranking: `recommend(rows, exclude_csr, N)` returns
    the top-N (ids, scores) of the items the model may show. A row still short after its
    candidates asks for 4× as many more, excluding those already considered, until its feed is
    full or the model has nothing left (a slot without a candidate)."""
    b = len(block.taken)
    out_codes = np.full((b, width), NO_ITEM, np.int64)
    out_scores = np.full((b, width), -np.inf)
    filled = np.zeros(b, np.int64)
    keep = want[rows] > 0
    active, excl = rows[keep], exclude[keep]
    n = max(first_n, 1)
    while len(active):
        ids, scores = recommend(active, excl, min(n, n_items))
        block.take(
            active,
            ids,
            scores.astype(np.float64),
            want[active] - filled[active],
            out_codes,
            out_scores,
            filled,
        )
        more = (filled[active] < want[active]) & (ids != NO_ITEM).all(axis=1) & (ids.shape[1] < n_items)
        if not more.any():
            break
        seen = ids[more]
        considered = sp.csr_matrix(
            (np.ones(seen.size, np.float32), seen.reshape(-1), np.arange(0, seen.size + 1, seen.shape[1])),
            shape=(len(seen), n_items),
        )
        excl = excl[more] + considered
        excl.data[:] = 1.0
        active, n = active[more], 4 * n
    return out_codes, out_scores


def merge(
    codes: np.ndarray,
    own: np.ndarray,
    take_cf: np.ndarray,
    take_fresh: np.ndarray,
    take_tr: np.ndarray,
    n: int,
    n_fresh_slots: int,
    take_new: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Order each feed, vectorised: placed items (fresh, then new creators', `take_new`) at ranks
    step, 2·step, … among the model's items, leftover placed ones after them, trending last;
    scores made non-increasing by a running minimum. `n_fresh_slots` counts all placed slots.

    Returns (selected mask, codes, scores, source index 0 cf / 1 fresh / 2 trending / 3 new
    creator, rank), each (users × width) in feed order.
    """
    take_new = np.zeros_like(take_cf) if take_new is None else take_new
    placed = take_fresh | take_new
    step = max(2, n // n_fresh_slots) if n_fresh_slots else 0
    j_cf = np.cumsum(take_cf, axis=1) - 1
    j_fr = np.cumsum(placed, axis=1) - 1
    j_tr = np.cumsum(take_tr, axis=1) - 1
    n_fresh = placed.sum(axis=1, keepdims=True)
    key = np.full(codes.shape, np.inf)
    if step:
        key = np.where(take_cf, j_cf + np.minimum(n_fresh, j_cf // (step - 1)), key)
        key = np.where(placed, (j_fr + 1) * step - 1.5, key)
    else:
        key = np.where(take_cf, j_cf, key)
    key = np.where(take_tr, 1e9 + j_tr, key)
    taken = take_cf | placed | take_tr
    width = int(taken.sum(axis=1).max()) if taken.size else 0
    order = np.argsort(key, axis=1, kind="stable")[:, :width]
    sel = np.take_along_axis(taken, order, axis=1)
    sel_codes = np.take_along_axis(codes, order, axis=1)
    scores = np.where(sel, np.take_along_axis(own, order, axis=1).astype(np.float64), -np.inf)
    scores = np.minimum.accumulate(scores, axis=1)
    source = np.select(
        [np.take_along_axis(m, order, axis=1) for m in (take_cf, take_fresh, take_new)], [0, 1, 3], 2
    ).astype(np.int8)
    rank = np.broadcast_to(np.arange(1, width + 1, dtype=np.int32), sel.shape)
    return sel, sel_codes, scores, source, rank
