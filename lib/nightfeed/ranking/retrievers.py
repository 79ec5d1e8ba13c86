"""The retrievers, over a block of viewers (arrays, no per-viewer Python): each nominates up to
its K videos a viewer may be shown (eligible, not seen, finished or skipped); the union, bounded
per viewer, is the ranker's candidates. Each candidate keeps every retriever's rank and score and
its `source`: the first retriever in RETRIEVERS' order that nominated it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from nightfeed.core.vocabulary import OBJECTIVES, RETRIEVERS
from nightfeed.feeds.blocks import block_model, list_csr
from nightfeed.feeds.scoring import FeedContext
from nightfeed.models.topk import NO_ITEM, select_topk
from nightfeed.ranking.state import RankingState

CANDIDATE_SCHEMA = ", ".join(
    [
        "user_id string, item_id string, source string, held boolean, cf_score double",
        *(f"rank_{r} int, score_{r} double" for r in RETRIEVERS),
        *(f"p_{o} double" for o in OBJECTIVES),
        "value double",
    ]
)


@dataclass
class RetrievalContext:
    """Built once on the driver and broadcast. `feed` is the scoring context of a catalog whose
    held videos stay eligible (`held` marks them, so the counterfactual feed without holds can be
    composed from the same candidates); the state's items are the feed's item codes (no state:
    the re-rank, which reads the candidates' values)."""

    feed: FeedContext
    state: RankingState | None
    held: np.ndarray  # code -> held by the audit
    new_creator_codes: np.ndarray  # eligible videos of new creators, by trending score
    recent: np.ndarray  # code -> uploaded within the creator retriever's window
    ks: dict[str, int]
    max_candidates: int

    @property
    def eligible(self) -> np.ndarray:
        mask = np.zeros(self.feed.n_codes, bool)
        mask[self.feed.trending_codes] = True
        return mask


class Blocked:
    """What no retriever may nominate for a block of viewers (seen, excluded, ineligible), asked of
    (viewer, code) pairs or of a few columns: nothing of size viewers × catalog is built."""

    def __init__(self, ctx: FeedContext, batch: pa.RecordBatch, eligible: np.ndarray):
        history = list_csr(batch.column("hist_idx"), ctx.n_codes)
        exclude = list_csr(batch.column("excl"), ctx.n_codes)
        self.csr = (history + exclude).tocsr()
        self.n_codes, self.eligible = ctx.n_codes, eligible
        rows = np.repeat(np.arange(self.csr.shape[0], dtype=np.int64), np.diff(self.csr.indptr))
        self.keys = np.sort(rows * self.n_codes + self.csr.indices)

    def pairs(self, rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
        key = rows.astype(np.int64) * self.n_codes + codes
        if not len(self.keys):
            return ~self.eligible[codes]
        at = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
        return (self.keys[at] == key) | ~self.eligible[codes]

    def columns(self, codes: np.ndarray) -> np.ndarray:
        """Dense (viewers × len(codes))."""
        return np.asarray(self.csr[:, codes].todense() > 0) | ~self.eligible[codes][None, :]


@dataclass
class Nominated:
    """A block's candidates (`batch`: CANDIDATE_SCHEMA without the heads and value) and, per
    candidate, the viewer's row in the block, the item code, the CF score (NaN: none) and the
    nominating retriever (index into RETRIEVERS); rows ascending."""

    batch: pa.RecordBatch
    rows: np.ndarray
    codes: np.ndarray
    cf: np.ndarray
    sources: np.ndarray


def nominate(rctx: RetrievalContext, batch: pa.RecordBatch) -> Nominated:
    """The candidates of a block of viewers (batch: `scoring_spark.user_blocks` columns + state_row)."""
    ctx, state = rctx.feed, rctx.state
    b = batch.num_rows
    blocked = Blocked(ctx, batch, rctx.eligible)
    cf = _CF(ctx, batch)
    rows = pc.fill_null(batch.column("state_row"), -1).to_numpy().astype(np.int64)
    known = np.flatnonzero(rows >= 0)
    covis = sp.csr_matrix((b, ctx.n_codes), dtype=np.float32)
    creator = sp.csr_matrix((b, ctx.n_codes), dtype=np.float32)
    if len(known):
        place = sp.csr_matrix(
            (np.ones(len(known), np.float32), (known, np.arange(len(known)))), shape=(b, len(known))
        )
        covis = place @ (state.history[rows[known]] @ state.covis)
        affinity = state.watch_by_creator[rows[known]].log1p() + 2 * state.follows_by_creator[rows[known]]
        recent = np.flatnonzero(rctx.recent)
        uploads = sp.csr_matrix(
            (np.ones(len(recent), np.float32), (state.creator[recent], recent)),
            shape=(affinity.shape[1], ctx.n_codes),
        )
        creator = place @ (affinity @ uploads)
    lists = {
        "cf": cf.top(rctx.ks["cf"]),
        "covis": _sparse_top(covis, blocked, rctx.ks["covis"]),
        "creator": _sparse_top(creator, blocked, rctx.ks["creator"]),
        "new_creator": _first(rctx.new_creator_codes, blocked, rctx.ks["new_creator"]),
        "fresh": _first(ctx.fresh_codes, blocked, rctx.ks["fresh"], ctx.fresh_scores),
        "trending": _first(ctx.trending_codes, blocked, rctx.ks["trending"], ctx.trending_scores),
    }
    return _union(rctx, batch, lists, cf)


class _CF:
    """The CF model's side of a block: its top-k of what each viewer may be shown, and its score of
    any (viewer, code) pair (NaN for cold viewers and videos the model never saw)."""

    def __init__(self, ctx: FeedContext, batch: pa.RecordBatch):
        self.ctx = ctx
        self.model, self.user_idx = block_model(ctx, batch)
        self.history = list_csr(batch.column("hist_idx"), ctx.n_model_items, batch.column("hist_conf"))
        self.exclude = list_csr(batch.column("excl"), ctx.n_codes)[:, : ctx.n_model_items]
        n_history = np.diff(self.history.indptr)
        self.warm = (self.user_idx >= 0) & (n_history >= ctx.min_user_interactions)

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        b, k = len(self.user_idx), max(k, 0)
        codes, scores = np.full((b, k), NO_ITEM, np.int64), np.full((b, k), -np.inf)
        warm = np.flatnonzero(self.warm)
        if k and len(warm):
            codes[warm], scores[warm] = self.model.recommend(
                self.user_idx[warm],
                self.history[warm],
                N=k,
                filter_already_liked_items=True,
                filter_items=self.ctx.ineligible_model_items,
                exclude=self.exclude[warm],
            )
        return codes, scores

    def at(self, rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
        out = np.full(len(rows), np.nan)
        ok = self.warm[rows] & (codes < self.ctx.n_model_items)
        if ok.any():
            out[ok] = self.model.pair_scores(self.user_idx, self.history, rows[ok], codes[ok])
        return out


def _sparse_top(scores: sp.csr_matrix, blocked: Blocked, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k best positive, unblocked entries of a sparse score matrix (ties by lower code)."""
    b = scores.shape[0]
    if k <= 0:
        return np.full((b, 0), NO_ITEM), np.zeros((b, 0))
    scores = scores.tocsr()
    scores.sum_duplicates()
    rows = np.repeat(np.arange(b, dtype=np.int64), np.diff(scores.indptr))
    codes, values = scores.indices.astype(np.int64), scores.data.astype(np.float32)
    keep = (values > 0) & ~blocked.pairs(rows, codes)
    rows, codes, values = rows[keep], codes[keep], values[keep]
    counts = np.bincount(rows, minlength=b)
    width = max(int(counts.max(initial=0)), 1)
    position = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    dense = np.full((b, width), -np.inf, np.float32)
    ids = np.zeros((b, width), np.int64)
    dense[rows, position], ids[rows, position] = values, codes
    return select_topk(dense, k, ids)


def _first(codes, blocked: Blocked, k: int, scores=None) -> tuple[np.ndarray, np.ndarray]:
    """The first k unblocked entries of one list shared by every viewer: read in prefixes that
    double until every viewer has k or the list is used up."""
    codes = np.asarray(codes, np.int64)
    scores = np.zeros(len(codes)) if scores is None else np.asarray(scores, np.float64)
    width = min(k, len(codes))
    out = np.full((blocked.csr.shape[0], max(width, 0)), NO_ITEM, np.int64)
    vals = np.zeros(out.shape)
    if k <= 0 or not len(codes):
        return out, vals
    size = 2 * k
    while True:
        head = codes[:size]
        open_ = ~blocked.columns(head)
        take = np.cumsum(open_, axis=1)
        if size >= len(codes) or take[:, -1].min() >= k:
            break
        size *= 2
    r, c = np.nonzero(open_ & (take <= k))
    slot = take[r, c] - 1
    out[r, slot], vals[r, slot] = head[c], scores[c]
    return out, vals


def _union(rctx: RetrievalContext, batch: pa.RecordBatch, lists: dict, cf: _CF) -> Nominated:
    n_codes = rctx.feed.n_codes
    parts = []
    for s, name in enumerate(RETRIEVERS):
        codes, scores = lists[name]
        r, k = np.nonzero(codes != NO_ITEM)
        parts.append((r, codes[r, k], np.full(len(r), s), k + 1, scores[r, k]))
    row, code, src, rank, score = (np.concatenate(x) for x in zip(*parts, strict=True))
    key = row.astype(np.int64) * n_codes + code
    order = np.lexsort((src, key))
    key, row, code, src, rank, score = (a[order] for a in (key, row, code, src, rank, score))
    first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    pair = np.cumsum(first) - 1
    n_pairs = int(first.sum())
    ranks = np.zeros((n_pairs, len(RETRIEVERS)), np.int64)
    scores = np.full((n_pairs, len(RETRIEVERS)), np.nan)
    ranks[pair, src], scores[pair, src] = rank, score
    p_row, p_code, p_src = row[first], code[first], src[first]
    best = np.where(ranks > 0, ranks, np.iinfo(np.int64).max).min(axis=1)
    keep_order = np.lexsort((p_src, best, p_row))
    starts = np.searchsorted(p_row[keep_order], p_row[keep_order])
    kept = keep_order[np.arange(len(keep_order)) - starts < rctx.max_candidates]
    kept.sort()
    cf_value = cf.at(p_row[kept], p_code[kept])
    columns = [
        batch.column("user_id").take(pa.array(p_row[kept])),
        rctx.feed.item_id_array.take(pa.array(p_code[kept])),
        pa.array(np.asarray(RETRIEVERS, dtype=object)[p_src[kept]], pa.string()),
        pa.array(rctx.held[p_code[kept]]),
        pa.array(cf_value, mask=np.isnan(cf_value)),
    ]
    names = ["user_id", "item_id", "source", "held", "cf_score"]
    for s, name in enumerate(RETRIEVERS):
        nominated = ranks[kept, s] > 0
        columns += [
            pa.array(ranks[kept, s].astype(np.int32), mask=~nominated),
            pa.array(scores[kept, s], mask=~nominated),
        ]
        names += [f"rank_{name}", f"score_{name}"]
    return Nominated(
        pa.RecordBatch.from_arrays(columns, names=names), p_row[kept], p_code[kept], cf_value, p_src[kept]
    )
