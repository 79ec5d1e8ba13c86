"""Two-stage feeds for blocks of viewers, Arrow in, Arrow out. `night_block`: the retrievers'
nominations (`retrievers`), valued by the ranker's heads (`features` at tonight's state), then
the MMR re-rank of those values under the feed rules (`rerank`) and, for a feed still short, the
eligible catalog in trending order as today (`feeds.feed_rules`) — one pass, both the candidates
and the feeds out. `rank_block`: the re-rank alone, of candidates already valued (the
benchmark's ablations re-rank tonight's candidates under other orders)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from nightfeed.core.vocabulary import OBJECTIVES, RETRIEVERS
from nightfeed.feeds import feed_rules
from nightfeed.feeds.blocks import list_csr
from nightfeed.feeds.scoring import SOURCE_TRENDING
from nightfeed.models.topk import NO_ITEM
from nightfeed.ranking.features import pair_features
from nightfeed.ranking.heads import Ranker, order_value
from nightfeed.ranking.rerank import Reserved, mmr
from nightfeed.ranking.retrievers import CANDIDATE_SCHEMA, RetrievalContext, nominate

RANKED_SCHEMA = (
    "user_id string, rank int, item_id string, score double, source string, value double, "
    "without_holds boolean"
)
NIGHT_SCHEMA = f"{CANDIDATE_SCHEMA}, rank int, score double, without_holds boolean, kind string"


def _valued(rctx: RetrievalContext, ranker: Ranker, batch: pa.RecordBatch):
    """(the block's candidates with each head's prediction p_<objective> and the order value —
    null for a head the ranker lacks —, the nominations, the values)."""
    got = nominate(rctx, batch)
    n = got.batch.num_rows
    predictions: dict[str, np.ndarray] = {}
    if n:
        state_rows = pc.fill_null(batch.column("state_row"), -1).to_numpy().astype(np.int64)
        predictions = ranker.predict(pair_features(rctx.state, state_rows[got.rows], got.codes, got.cf))
    columns = [got.batch.column(k) for k in range(got.batch.num_columns)]
    names = list(got.batch.schema.names)
    for objective in OBJECTIVES:
        p = np.asarray(predictions.get(objective, np.full(n, np.nan)), np.float64)
        columns.append(pa.array(p, mask=np.isnan(p)))
        names.append(f"p_{objective}")
    value = order_value(predictions, ranker.weights) if predictions else np.zeros(0)
    columns.append(pa.array(value))
    return pa.RecordBatch.from_arrays(columns, names=names + ["value"]), got, value


@dataclass
class RankContext:
    """Broadcast to the re-rank tasks: the night's rules and catalog, the item embeddings and the
    re-rank's settings. The order is the candidates' value, or with `weights` the value of their
    heads under other weights (an ablation), or with order="cf" the CF score (the ablation of all
    retrievers without the ranker). `counterfactual`: also compose every feed as if nothing were
    held (rows with without_holds = true), from the same values."""

    retrieval: RetrievalContext
    embeddings: np.ndarray
    diversity: float
    counterfactual: bool = False
    order: str = "value"
    weights: dict[str, float] | None = None


def rank_block(rk: RankContext, batch: pa.RecordBatch) -> pa.RecordBatch:
    """batch: `scoring_spark.user_blocks` columns and the viewer's candidates as lists cand_code,
    cand_cf, cand_value, cand_held, cand_source and cand_p_<objective>."""
    b = batch.num_rows
    lengths = pc.fill_null(pc.list_value_length(batch.column("cand_code")), 0).to_numpy().astype(np.int64)
    row = np.repeat(np.arange(b), lengths)
    code = _flat(batch, "cand_code", np.int64, -1)
    cf = _flat(batch, "cand_cf", np.float64, np.nan)
    held = _flat(batch, "cand_held", bool, False)
    source = _flat(batch, "cand_source", np.int64, 0)
    if rk.order == "cf":
        value = _unscored_last(row, cf)
    elif rk.weights is not None:
        heads = {o: _flat(batch, f"cand_p_{o}", np.float64, np.nan) for o in rk.weights}
        value = order_value({o: np.nan_to_num(p) for o, p in heads.items()}, rk.weights)
    else:
        value = np.nan_to_num(_flat(batch, "cand_value", np.float64, np.nan), nan=-1e9)
    return _feeds(rk, batch, row, code, value, source, held)


def night_block(rk: RankContext, ranker: Ranker, batch: pa.RecordBatch) -> pa.RecordBatch:
    """One block's candidates and feeds in NIGHT_SCHEMA (`kind` = candidate | feed); batch:
    `scoring_spark.user_blocks` columns + state_row."""
    candidates, got, value = _valued(rk.retrieval, ranker, batch)
    held = rk.retrieval.held[got.codes]
    feeds = _feeds(rk, batch, got.rows, got.codes, value, got.sources, held)
    return pa.concat_batches([_as_night(candidates, "candidate"), _as_night(feeds, "feed")])


def _as_night(batch: pa.RecordBatch, kind: str) -> pa.RecordBatch:
    """`batch` in NIGHT_SCHEMA: its columns where NIGHT_SCHEMA has them, nulls elsewhere."""
    schema = night_schema()
    columns = [
        batch.column(f.name) if f.name in batch.schema.names else pa.nulls(batch.num_rows, f.type)
        for f in schema
        if f.name != "kind"
    ]
    return pa.RecordBatch.from_arrays(
        [*columns, pa.array([kind] * batch.num_rows, pa.string())], schema=schema
    )


ARROW_TYPES = {"string": pa.string(), "double": pa.float64(), "int": pa.int32(), "boolean": pa.bool_()}


def night_schema() -> pa.Schema:
    """NIGHT_SCHEMA as Arrow (built without Spark: it runs in the tasks)."""
    fields = (f.strip().split(" ") for f in NIGHT_SCHEMA.split(","))
    return pa.schema([(name, ARROW_TYPES[kind]) for name, kind in fields])


def _feeds(rk: RankContext, batch, row, code, value, source, held) -> pa.RecordBatch:
    """The re-ranked feeds (RANKED_SCHEMA) of the block's candidates, and with `counterfactual`
    the feeds as if nothing were held."""
    b = batch.num_rows
    feeds, feed_rows, topped_up = _compose(rk, batch, row, code, value, source, (code >= 0) & ~held, False)
    if not rk.counterfactual:
        return feeds
    # Without the holds only viewers with a held candidate, or a feed the trending list topped
    # up (it may reach held videos), can differ: only theirs are composed again.
    again = topped_up.copy()
    again[row[held]] = True
    same = feeds.filter(pa.array(~again[feed_rows]))
    same = same.set_column(same.num_columns - 1, "without_holds", pa.array(np.ones(same.num_rows, bool)))
    parts = [feeds, same]
    if again.any():
        subset = np.flatnonzero(again)
        local = np.full(b, -1)
        local[subset] = np.arange(len(subset))
        mine = again[row]
        part, _, _ = _compose(
            rk,
            batch.take(pa.array(subset)),
            local[row[mine]],
            code[mine],
            value[mine],
            source[mine],
            code[mine] >= 0,
            True,
        )
        parts.append(part)
    return pa.Table.from_batches(parts).combine_chunks().to_batches()[0]


def _compose(rk: RankContext, batch, row, code, value, source, keep, without_holds: bool):
    """The re-ranked feeds of the block from the candidates `keep` marks: (feed rows, each row's
    viewer in the block, per viewer whether the trending list topped the feed up)."""
    ctx = rk.retrieval.feed
    b, n = batch.num_rows, ctx.n
    row, code, value, source = row[keep], code[keep], value[keep], source[keep]
    width = int(np.bincount(row, minlength=b).max(initial=0))
    pos = np.arange(len(row)) - np.searchsorted(row, row)
    codes = np.full((b, max(width, 1)), NO_ITEM, np.int64)
    values = np.zeros(codes.shape)
    sources = np.zeros(codes.shape, np.int64)
    codes[row, pos], values[row, pos], sources[row, pos] = code, value, source
    reserved = (
        Reserved(_mask(ctx.n_codes, ctx.fresh_codes), ctx.n_fresh_slots),
        Reserved(_mask(ctx.n_codes, rk.retrieval.new_creator_codes), _new_slots(ctx, rk.retrieval)),
    )
    picks, scores = mmr(
        codes, values, rk.embeddings, ctx.creator, ctx.max_per_creator, n, rk.diversity, reserved
    )
    return _with_top_up(rk, batch, picks, scores, codes, values, sources, without_holds)


def _with_top_up(rk, batch, picks, scores, codes, values, sources, without_holds: bool):
    """The picks, then the eligible catalog in trending order for feeds still short."""
    ctx = rk.retrieval.feed
    b, n = picks.shape
    got = picks >= 0
    rows = np.broadcast_to(np.arange(b)[:, None], picks.shape)
    chosen = np.where(got, codes[rows, np.maximum(picks, 0)], NO_ITEM)
    history = list_csr(batch.column("hist_idx"), ctx.n_codes)
    exclude = list_csr(batch.column("excl"), ctx.n_codes)
    block = feed_rules.FeedBlock(ctx.creator, (history + exclude).tocsr(), ctx.max_per_creator)
    if not without_holds:
        block.blocked[:, np.flatnonzero(rk.retrieval.held)] = True
    r, c = np.nonzero(got)
    block.blocked[r, chosen[r, c]] = True
    np.add.at(block.per_creator, (r, ctx.creator[chosen[r, c]]), 1)
    block.taken = got.sum(axis=1)
    floor = np.where(got.any(axis=1), np.min(np.where(got, scores, np.inf), axis=1), 0.0) - 1.0
    top_codes, _ = feed_rules.fill_from_list(
        block, np.arange(b), ctx.trending_codes, ctx.trending_scores, n - block.taken, n, 2 * n
    )
    out_rows, out_codes, out_scores, out_source, out_value = [], [], [], [], []
    out_rows.append(r)
    out_codes.append(chosen[r, c])
    out_scores.append(scores[r, c])
    out_source.append(np.asarray(RETRIEVERS, dtype=object)[sources[r, picks[r, c]]])
    out_value.append(values[r, picks[r, c]])
    tr, tc = np.nonzero(top_codes != NO_ITEM)
    out_rows.append(tr)
    out_codes.append(top_codes[tr, tc])
    out_scores.append(floor[tr] - (tc + 1) / (n + 1))
    out_source.append(np.full(len(tr), SOURCE_TRENDING, dtype=object))
    out_value.append(np.full(len(tr), np.nan))
    row, code, score, source, value = (
        np.concatenate(x) for x in (out_rows, out_codes, out_scores, out_source, out_value)
    )
    order = np.lexsort((-score, row))
    row, code, score, source, value = (a[order] for a in (row, code, score, source, value))
    rank = np.arange(len(row)) - np.searchsorted(row, row) + 1
    topped_up = np.zeros(b, bool)
    topped_up[tr] = True
    out = pa.RecordBatch.from_arrays(
        [
            batch.column("user_id").take(pa.array(row)),
            pa.array(rank.astype(np.int32)),
            ctx.item_id_array.take(pa.array(code)),
            pa.array(score.astype(np.float64)),
            pa.array(source, pa.string()),
            pa.array(value.astype(np.float64), mask=np.isnan(value)),
            pa.array(np.full(len(row), without_holds)),
        ],
        names=["user_id", "rank", "item_id", "score", "source", "value", "without_holds"],
    )
    return out, row, topped_up


def _unscored_last(row: np.ndarray, cf: np.ndarray) -> np.ndarray:
    """The CF score, a candidate it cannot score just below the viewer's lowest scored one (not a
    sentinel far below, which would squash the scored ones' 0..1 scale in the re-rank)."""
    floor = pd.Series(cf).groupby(row).transform("min").fillna(0.0).to_numpy() - 1e-6
    return np.where(np.isnan(cf), floor, cf)


def _flat(batch: pa.RecordBatch, name: str, dtype, fill) -> np.ndarray:
    return pc.fill_null(batch.column(name).flatten(), fill).to_numpy(zero_copy_only=False).astype(dtype)


def _mask(n_codes: int, codes: np.ndarray) -> np.ndarray:
    mask = np.zeros(n_codes, bool)
    mask[np.asarray(codes, np.int64)] = True
    return mask


def _new_slots(ctx, retrieval: RetrievalContext) -> int:
    some = len(retrieval.new_creator_codes) > 0
    return min(int(round(ctx.n * ctx.new_creator_share)), ctx.n - ctx.n_fresh_slots) if some else 0
