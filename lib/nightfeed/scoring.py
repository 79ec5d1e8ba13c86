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
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from .models import NO_ITEM, Recommender

FEED_SCHEMA = "user_id string, rank int, item_id string, score double, source string"
SOURCE_CF, SOURCE_FRESH, SOURCE_TRENDING = "cf", "fresh", "trending"
SOURCES = pa.array([SOURCE_CF, SOURCE_FRESH, SOURCE_TRENDING])


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

    @cached_property
    def item_id_array(self) -> pa.Array:
        return pa.array(self.item_ids, type=pa.string())

    @cached_property
    def listed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Slot of each code in the union of the fresh and trending lists (-1: in neither), and
        the slots of those two lists: exclusions of listed items are looked up in a small table."""
        union = np.unique(np.concatenate([self.fresh_codes, self.trending_codes]))
        slot = np.full(self.n_codes, -1, np.int64)
        slot[union] = np.arange(len(union))
        return slot, slot[self.fresh_codes], slot[self.trending_codes]


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


def _list_csr(lists: pa.Array, n_cols: int, values: pa.Array | None = None) -> sp.csr_matrix:
    """A list<int> column (with optional aligned list<float> values) as CSR rows, without Python loops."""
    n_rows = len(lists)
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy().astype(np.int64)
    indptr = np.r_[0, np.cumsum(lengths)]
    indices = pc.fill_null(lists.flatten(), -1).to_numpy().astype(np.int64)
    data = (np.ones(len(indices), np.float32) if values is None
            else pc.fill_null(values.flatten(), 0.0).to_numpy().astype(np.float32))
    inside = (indices >= 0) & (indices < n_cols)
    if not inside.all():  # codes outside the model's items: not part of this matrix
        rows = np.repeat(np.arange(n_rows), lengths)[inside]
        indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_rows))]
        indices, data = indices[inside], data[inside]
    m = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))
    m.sum_duplicates()
    return m


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


def _listed_excluded(ctx: FeedContext, n_rows: int, matrices) -> np.ndarray:
    """(rows, listed items) mask of the fresh/trending items each user must not see."""
    slot, _, _ = ctx.listed
    hit = np.zeros((n_rows, int(slot.max(initial=-1)) + 1), dtype=bool)
    for m in matrices:
        rows = np.repeat(np.arange(n_rows), np.diff(m.indptr))
        slots = slot[m.indices]
        hit[rows[slots >= 0], slots[slots >= 0]] = True
    return hit


def compose_feeds(ctx: FeedContext, batch: pa.RecordBatch) -> pa.RecordBatch:
    """Feeds for a block of users (Arrow in, Arrow out: no per-user Python).

    batch columns: user_id, user_idx (model index or -1), hist_idx / hist_conf (lists of model
    item indices and confidences), excl (list of item codes never to show: finished, skipped).
    """
    b = batch.num_rows
    n = ctx.n
    user_idx = pc.fill_null(batch.column("user_idx"), -1).to_numpy().astype(np.int64)
    history = _list_csr(batch.column("hist_idx"), ctx.n_model_items, batch.column("hist_conf"))
    exclude = _list_csr(batch.column("excl"), ctx.n_codes)
    warm = (user_idx >= 0) & (np.diff(history.indptr) >= ctx.min_user_interactions)
    n_cand = n * ctx.candidate_multiplier
    cf_codes = np.full((b, n_cand), NO_ITEM, dtype=np.int64)
    cf_scores = np.full((b, n_cand), -np.inf, dtype=np.float64)
    w = np.flatnonzero(warm)
    if len(w):
        ids, scores = ctx.model.recommend(user_idx[w], history[w], N=n_cand, filter_already_liked_items=True,
                                          filter_items=ctx.ineligible_model_items,
                                          exclude=exclude[w][:, : ctx.n_model_items])
        cf_codes[w] = ids
        cf_scores[w] = scores
    return _apply_rules(ctx, batch.column("user_id"), warm, cf_codes, cf_scores,
                        _listed_excluded(ctx, b, (history, exclude)))


def _compact(mask: np.ndarray, width: int, *pairs) -> list[np.ndarray]:
    """Per row, the entries where mask is True moved left in order, in arrays `width` wide.

    pairs: (values, fill) — values broadcastable to mask's shape, fill for the unused cells.
    """
    position = np.cumsum(mask, axis=1) - 1
    rows, cols = np.nonzero(mask & (position < width))
    out = []
    for values, fill in pairs:
        values = np.broadcast_to(values, mask.shape)
        arr = np.full((mask.shape[0], width), fill, dtype=values.dtype)
        arr[rows, position[rows, cols]] = values[rows, cols]
        out.append(arr)
    return out


def _in_rows(codes: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """codes[r, j] is one of taken[r, :] (a few taken items per row: a broadcast compare is cheapest)."""
    if taken.shape[1] == 0:
        return np.zeros(codes.shape, dtype=bool)
    return (codes[:, :, None] == taken[:, None, :]).any(axis=2) & (codes != NO_ITEM)


def _allowed_after(ctx: FeedContext, taken: np.ndarray, candidates: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """valid candidates that are not already taken and whose creator still has room, counting
    the taken items and the earlier candidates."""
    valid = valid & ~_in_rows(candidates, taken)
    seq = np.hstack([taken, candidates])
    ok = _creator_ok(ctx.creator[np.maximum(seq, 0)], np.hstack([taken != NO_ITEM, valid]), ctx.max_per_creator)
    return ok[:, taken.shape[1]:]


def _apply_rules(ctx: FeedContext, user_ids: pa.Array, warm, cf_codes, cf_scores, listed_excluded) -> pa.RecordBatch:
    """Fresh slots first, then the model's candidates, then trending for the feeds still short.

    Each step only looks at what it can still change: the fresh list, the model's candidates
    beside the chosen fresh items, and the trending list only for users whose feed is short.
    """
    b, n, cap = len(warm), ctx.n, ctx.max_per_creator
    _, fresh_slots, trending_slots = ctx.listed
    n_fresh_slots = int(round(n * ctx.fresh_share)) if len(ctx.fresh_codes) else 0
    fresh_valid = ~listed_excluded[:, fresh_slots] & warm[:, None]
    fresh_creators = np.broadcast_to(ctx.creator[ctx.fresh_codes], fresh_valid.shape)
    take_fresh = _take_first(_creator_ok(fresh_creators, fresh_valid, cap), np.full(b, n_fresh_slots))
    fr_codes, fr_scores = _compact(take_fresh, n_fresh_slots, (ctx.fresh_codes, NO_ITEM), (ctx.fresh_scores, -np.inf))
    n_fresh = (fr_codes != NO_ITEM).sum(axis=1)
    # Model candidates come out of `recommend` without excluded, seen or ineligible items; a fresh
    # item the model also ranks is served (and labelled) as fresh.
    valid = _allowed_after(ctx, fr_codes, cf_codes, cf_codes != NO_ITEM)
    cf_sel, cf_sel_scores = _compact(_take_first(valid, n - n_fresh), n, (cf_codes, NO_ITEM), (cf_scores, -np.inf))
    n_cf = (cf_sel != NO_ITEM).sum(axis=1)
    tr_sel = np.full((b, n), NO_ITEM, np.int64)
    tr_sel_scores = np.full((b, n), -np.inf)
    short = np.flatnonzero(n_fresh + n_cf < n)
    if len(short) and len(ctx.trending_codes):
        before = np.hstack([fr_codes[short], cf_sel[short]])
        trend = np.broadcast_to(ctx.trending_codes, (len(short), len(ctx.trending_codes)))
        ok = _allowed_after(ctx, before, trend, ~listed_excluded[short][:, trending_slots])
        tr_sel[short], tr_sel_scores[short] = _compact(_take_first(ok, n - n_fresh[short] - n_cf[short]), n,
                                                       (ctx.trending_codes, NO_ITEM), (ctx.trending_scores, -np.inf))
    codes = np.hstack([fr_codes, cf_sel, tr_sel])
    own = np.hstack([fr_scores, cf_sel_scores, tr_sel_scores])
    segment = np.repeat(np.array([1, 0, 2]), [n_fresh_slots, n, n])
    present = codes != NO_ITEM
    return _merge(ctx, user_ids, codes, own, present & (segment == 0), present & (segment == 1),
                  present & (segment == 2), n_fresh_slots)


def _merge(ctx, user_ids: pa.Array, codes, own, take_cf, take_fresh, take_tr, n_fresh_slots) -> pa.RecordBatch:
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
    source = np.where(np.take_along_axis(take_cf, order, axis=1), 0,
                      np.where(np.take_along_axis(take_fresh, order, axis=1), 1, 2)).astype(np.int8)
    rank = np.broadcast_to(np.arange(1, width + 1, dtype=np.int32), sel.shape)
    rows = np.broadcast_to(np.arange(len(user_ids))[:, None], sel.shape)
    return pa.RecordBatch.from_arrays(
        [user_ids.take(pa.array(rows[sel])), pa.array(rank[sel]), ctx.item_id_array.take(pa.array(sel_codes[sel])),
         pa.array(scores[sel]), SOURCES.take(pa.array(source[sel]))],
        names=["user_id", "rank", "item_id", "score", "source"])


def user_blocks(users, interactions, exclusions, item_codes, user_index, n_model_items: int):
    """One row per active user, the input of `score_users`, built with a single shuffle.

    users: user_id (the users to score); interactions: user_id, item_id, confidence;
    exclusions: user_id, item_id; item_codes: item_id, code (codes below n_model_items are the
    model's items); user_index: user_id, user_idx (the model's users, small: broadcast).
    """
    from pyspark.sql import functions as F

    none = F.lit(None)
    rows = (users.select("user_id", F.lit(0).alias("kind"), none.cast("int").alias("code"), none.cast("float").alias("confidence"))
            .unionByName(interactions.join(F.broadcast(item_codes.where(F.col("code") < n_model_items)), "item_id")
                         .select("user_id", F.lit(1).alias("kind"), F.col("code").cast("int").alias("code"),
                                 F.col("confidence").cast("float").alias("confidence")))
            .unionByName(exclusions.join(F.broadcast(item_codes), "item_id")
                         .select("user_id", F.lit(2).alias("kind"), F.col("code").cast("int").alias("code"),
                                 none.cast("float").alias("confidence"))))
    kind = F.col("kind")
    grouped = (rows.groupBy("user_id")
               .agg(F.max(kind == 0).alias("active"),
                    F.collect_list(F.when(kind == 1, F.struct("code", "confidence"))).alias("h"),
                    F.collect_list(F.when(kind == 2, F.col("code"))).alias("excl"))
               .where("active"))
    return (grouped.join(F.broadcast(user_index), "user_id", "left")
            .select(F.col("user_id").cast("string").alias("user_id"), F.coalesce("user_idx", F.lit(-1)).cast("long").alias("user_idx"),
                    F.col("h.code").alias("hist_idx"), F.col("h.confidence").alias("hist_conf"), "excl"))


def score_users(users_df, ctx_broadcast):
    """Spark: mapInArrow over blocks of users with the broadcast FeedContext."""

    def run(batches):
        ctx = ctx_broadcast.value
        for batch in batches:
            if batch.num_rows:
                yield compose_feeds(ctx, batch)

    return users_df.mapInArrow(run, FEED_SCHEMA)
