"""Top-N feeds for every user, with the feed rules, distributed over users on Spark.

Each Spark task gets a block of users (id, model index, history, exclusions), scores it against
the broadcast model with BLAS (memory per task bounded by block × items), takes top candidates
with a partial sort, and applies the rules vectorised over the block:
- never an excluded (finished/skipped) or already-seen item, never an ineligible one
  (removed/restricted/not in the region's catalog: they are filtered before top-k);
- at most `max_per_creator` items per creator;
- `fresh_share` of the slots go to fresh items the model has little signal on;
- cold-start users (unknown to the model, or too little history) get the region's trending
  items; feeds the model cannot fill are topped up from trending.
Every row records its `source` (cf, fresh, trending). Output is deterministic for fixed inputs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .models import NO_ITEM, Recommender

FEED_SCHEMA = "user_id string, rank int, item_id string, score double, source string"
SOURCE_CF, SOURCE_FRESH, SOURCE_TRENDING = "cf", "fresh", "trending"


@dataclass
class FeedContext:
    """Everything a scoring task needs, built once on the driver and broadcast.

    Items are integer codes: 0..n_model-1 are the model's own item indices, further codes are
    catalog items the model never saw (new uploads).
    """

    model: Recommender
    n_model_items: int
    item_ids: np.ndarray          # code -> item_id
    creator: np.ndarray           # code -> creator code
    ineligible_model_items: np.ndarray  # model indices never to recommend
    fresh_codes: np.ndarray       # fresh items with little signal, best first
    fresh_scores: np.ndarray
    trending_codes: np.ndarray    # eligible items by trending score, best first
    trending_scores: np.ndarray
    n: int = 50
    candidate_multiplier: int = 4
    max_per_creator: int = 3
    fresh_share: float = 0.1
    min_user_interactions: int = 1

    @property
    def n_codes(self) -> int:
        return len(self.item_ids)


def build_context(model: Recommender, model_items: np.ndarray, catalog: pd.DataFrame, feed_cfg: dict) -> FeedContext:
    """`catalog`: the region's items with item_id, creator_id, moderation_status, is_fresh, n_users, trending_score."""
    code_of = {item: k for k, item in enumerate(model_items)}
    extra = [i for i in catalog["item_id"] if i not in code_of]
    item_ids = np.concatenate([np.asarray(model_items, dtype=object), np.asarray(extra, dtype=object)])
    for k, item in enumerate(extra, start=len(model_items)):
        code_of[item] = k
    cat = catalog.assign(code=catalog["item_id"].map(code_of))
    creators = pd.Series(pd.factorize(cat["creator_id"])[0], index=cat["code"])
    creator = np.full(len(item_ids), -1, dtype=np.int64)
    creator[creators.index.to_numpy()] = creators.to_numpy()
    # Items outside the catalog get a unique creator so the cap never merges them.
    missing = creator < 0
    creator[missing] = creator.max(initial=0) + 1 + np.arange(missing.sum())
    eligible = cat["moderation_status"].isin(feed_cfg["eligible_moderation"])
    eligible_codes = set(cat.loc[eligible, "code"].tolist())
    ineligible = np.array([k for k in range(len(model_items)) if k not in eligible_codes], dtype=np.int32)
    ok = cat[eligible].sort_values(["trending_score", "item_id"], ascending=[False, True])
    n = int(feed_cfg["n"])
    fresh_slots = int(round(n * float(feed_cfg["fresh_share"])))
    # Lists only as deep as the slots they can fill, with room for exclusions and the creator cap:
    # the rule pass costs time in proportion to the candidates per user.
    fresh = ok[ok["is_fresh"] & (ok["n_users"] <= int(feed_cfg["fresh_max_interactions"]))].head(max(8 * fresh_slots, 10))
    trending = ok.head(2 * n)
    return FeedContext(
        model=model, n_model_items=len(model_items), item_ids=item_ids, creator=creator,
        ineligible_model_items=ineligible,
        fresh_codes=fresh["code"].to_numpy(np.int64), fresh_scores=fresh["trending_score"].to_numpy(np.float64),
        trending_codes=trending["code"].to_numpy(np.int64), trending_scores=trending["trending_score"].to_numpy(np.float64),
        n=n, candidate_multiplier=int(feed_cfg["candidate_multiplier"]),
        max_per_creator=int(feed_cfg["max_per_creator"]), fresh_share=float(feed_cfg["fresh_share"]),
        min_user_interactions=int(feed_cfg["min_user_interactions"]))


def _rows_csr(lists, n_rows: int, n_cols: int, values=None) -> sp.csr_matrix:
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=n_rows)
    indptr = np.r_[0, np.cumsum(lengths)]
    indices = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists]) if indptr[-1] else np.empty(0, np.int64)
    data = (np.concatenate([np.asarray(v, dtype=np.float32) for v in values]) if values is not None and indptr[-1]
            else np.ones(len(indices), np.float32))
    m = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))
    m.sum_duplicates()
    return m


def _first_occurrence(codes: np.ndarray) -> np.ndarray:
    """Mask of entries that are the first of their value in their row (-1 never counts)."""
    order = np.argsort(codes, axis=1, kind="stable")
    srt = np.take_along_axis(codes, order, axis=1)
    dup_sorted = np.zeros_like(srt, dtype=bool)
    dup_sorted[:, 1:] = srt[:, 1:] == srt[:, :-1]
    first = np.empty_like(dup_sorted)
    np.put_along_axis(first, order, ~dup_sorted, axis=1)
    return first & (codes != NO_ITEM)


def _creator_ok(creators: np.ndarray, valid: np.ndarray, cap: int) -> np.ndarray:
    """Mask of valid entries whose creator has appeared fewer than `cap` times before (row order)."""
    b, m = creators.shape
    key = np.where(valid, creators, -1)
    order = np.lexsort((np.broadcast_to(np.arange(m), (b, m)), key), axis=1)
    srt = np.take_along_axis(key, order, axis=1)
    new_group = np.ones_like(srt, dtype=bool)
    new_group[:, 1:] = srt[:, 1:] != srt[:, :-1]
    idx = np.broadcast_to(np.arange(m), (b, m))
    group_start = np.maximum.accumulate(np.where(new_group, idx, 0), axis=1)
    occurrence = idx - group_start
    ok = np.empty_like(occurrence)
    np.put_along_axis(ok, order, occurrence, axis=1)
    return valid & (ok < cap)


def _take_first(mask: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Keep, per row, the first `limit[row]` True entries of mask."""
    return mask & (np.cumsum(mask, axis=1) <= limit[:, None])


def compose_feeds(ctx: FeedContext, batch: pd.DataFrame) -> pd.DataFrame:
    """Feeds for a block of users.

    batch columns: user_id, user_idx (model index or -1), hist_idx / hist_conf (model item
    indices and confidences), excl (item codes never to show: finished, skipped, seen).
    """
    b = len(batch)
    if b == 0:
        return pd.DataFrame({c: [] for c in ("user_id", "rank", "item_id", "score", "source")})
    n = ctx.n
    user_idx = batch["user_idx"].to_numpy(np.int64)
    hist = list(batch["hist_idx"])
    hist_len = np.fromiter((len(h) for h in hist), dtype=np.int64, count=b)
    warm = (user_idx >= 0) & (hist_len >= ctx.min_user_interactions)
    excl_all = _rows_csr([np.concatenate([np.asarray(e, np.int64), np.asarray(h, np.int64)])
                          for e, h in zip(batch["excl"], hist)], b, ctx.n_codes)
    n_cand = n * ctx.candidate_multiplier
    cf_codes = np.full((b, n_cand), NO_ITEM, dtype=np.int64)
    cf_scores = np.full((b, n_cand), -np.inf, dtype=np.float64)
    w = np.flatnonzero(warm)
    if len(w):
        history = _rows_csr([hist[i] for i in w], len(w), ctx.n_model_items, [batch["hist_conf"].iloc[i] for i in w])
        exclude = excl_all[w][:, : ctx.n_model_items]
        ids, scores = ctx.model.recommend(user_idx[w], history, N=n_cand, filter_already_liked_items=True,
                                          filter_items=ctx.ineligible_model_items, exclude=exclude)
        cf_codes[w] = ids
        cf_scores[w] = scores
    n_fresh_slots = int(round(n * ctx.fresh_share)) if len(ctx.fresh_codes) else 0
    fresh = np.broadcast_to(ctx.fresh_codes, (b, len(ctx.fresh_codes)))
    trend = np.broadcast_to(ctx.trending_codes, (b, len(ctx.trending_codes)))
    # Sequence per user: fresh, then model candidates, then trending. Fresh slots are picked
    # first so a fresh item the model also ranks is served (and labelled) as fresh.
    codes = np.hstack([fresh, cf_codes, trend])
    own = np.hstack([np.broadcast_to(ctx.fresh_scores, fresh.shape), cf_scores,
                     np.broadcast_to(ctx.trending_scores, trend.shape)])
    segment = np.repeat(np.array([1, 0, 2]), [fresh.shape[1], n_cand, trend.shape[1]])
    rows = np.repeat(np.arange(b), codes.shape[1])
    safe = np.where(codes >= 0, codes, 0)
    excluded = np.asarray(excl_all[rows, safe.ravel()]).reshape(codes.shape) > 0
    valid = (codes != NO_ITEM) & ~excluded
    valid[~warm[:, None] & (segment[None, :] < 2)] = False  # cold-start: trending only
    creators = ctx.creator[safe]
    fresh_ok = _creator_ok(creators, valid & (segment == 1), ctx.max_per_creator)
    take_fresh = _take_first(fresh_ok, np.where(warm, n_fresh_slots, 0))
    valid &= (segment != 1) | take_fresh
    valid &= _first_occurrence(np.where(valid, codes, NO_ITEM))
    valid = _creator_ok(creators, valid, ctx.max_per_creator)
    n_fresh = take_fresh.sum(axis=1)
    take_cf = _take_first(valid & (segment == 0), n - n_fresh)
    take_tr = _take_first(valid & (segment == 2), n - n_fresh - take_cf.sum(axis=1))
    return _merge(ctx, batch["user_id"].to_numpy(), codes, own, take_cf, take_fresh, take_tr, n_fresh_slots)


def _merge(ctx, user_ids, codes, own, take_cf, take_fresh, take_tr, n_fresh_slots) -> pd.DataFrame:
    """Order each feed, vectorised: fresh items at ranks step, 2·step, … among the model's items,
    leftover fresh after them, trending last; scores made non-increasing by a running minimum.
    """
    step = max(2, ctx.n // n_fresh_slots) if n_fresh_slots else 0
    j_cf = np.cumsum(take_cf, axis=1) - 1
    j_fr = np.cumsum(take_fresh, axis=1) - 1
    j_tr = np.cumsum(take_tr, axis=1) - 1
    n_fresh = take_fresh.sum(axis=1, keepdims=True)
    key = np.full(codes.shape, np.inf)
    if step:
        key = np.where(take_cf, j_cf + np.minimum(n_fresh, j_cf // (step - 1)), key)
        key = np.where(take_fresh, (j_fr + 1) * step - 1.5, key)
    else:
        key = np.where(take_cf, j_cf, key)
    key = np.where(take_tr, 1e9 + j_tr, key)
    taken = take_cf | take_fresh | take_tr
    width = int(taken.sum(axis=1).max()) if taken.size else 0
    order = np.argsort(key, axis=1, kind="stable")[:, :width]
    sel = np.take_along_axis(taken, order, axis=1)
    sel_codes = np.take_along_axis(codes, order, axis=1)
    scores = np.take_along_axis(own, order, axis=1).astype(np.float64)
    scores = np.where(sel, scores, -np.inf)
    scores = np.minimum.accumulate(scores, axis=1)
    source = np.where(np.take_along_axis(take_cf, order, axis=1), SOURCE_CF,
                      np.where(np.take_along_axis(take_fresh, order, axis=1), SOURCE_FRESH, SOURCE_TRENDING))
    rank = np.broadcast_to(np.arange(1, width + 1, dtype=np.int32), sel.shape)
    rows = np.broadcast_to(np.arange(len(user_ids))[:, None], sel.shape)
    return pd.DataFrame({"user_id": np.asarray(user_ids, dtype=object)[rows[sel]], "rank": rank[sel],
                         "item_id": ctx.item_ids[sel_codes[sel]], "score": scores[sel],
                         "source": source[sel]})


def score_users(users_df, ctx_broadcast):
    """Spark: mapInPandas over blocks of users with the broadcast FeedContext."""

    def run(batches):
        ctx = ctx_broadcast.value
        for batch in batches:
            yield compose_feeds(ctx, batch)

    return users_df.mapInPandas(run, FEED_SCHEMA)
