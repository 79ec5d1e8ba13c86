"""Two-stage feeds for a block of viewers: their candidates' features (`features`), the ranker's
value, the MMR re-rank under the feed rules (`rerank`), then, for a feed still short, the eligible
catalog in trending order as today (`feeds.feed_rules`). Arrow in, Arrow out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nightfeed.core.vocabulary import RETRIEVERS
from nightfeed.feeds import feed_rules
from nightfeed.feeds.scoring import SOURCE_TRENDING, list_csr
from nightfeed.models.topk import NO_ITEM
from nightfeed.ranking.features import pair_features
from nightfeed.ranking.heads import Ranker
from nightfeed.ranking.rerank import Reserved, mmr
from nightfeed.ranking.retrievers import RetrievalContext

RANKED_SCHEMA = (
    "user_id string, rank int, item_id string, score double, source string, value double, "
    "without_holds boolean"
)


@dataclass
class RankContext:
    """Broadcast to the ranking tasks: the retrieval context (rules, state, catalog), the ranker
    and the re-rank's settings. `order` = "value" (the ranker) or "cf" (the CF score: the
    ablation of all retrievers without the ranker). `counterfactual`: also compose every feed as
    if nothing were held (rows with without_holds = true), from the same values."""

    retrieval: RetrievalContext
    ranker: Ranker | None
    embeddings: np.ndarray
    diversity: float
    counterfactual: bool = False
    order: str = "value"


def rank_block(rk: RankContext, batch: pa.RecordBatch) -> pa.RecordBatch:
    """batch: `scoring_spark.user_blocks` columns, state_row, and the viewer's candidates as lists
    cand_code, cand_cf, cand_held, cand_source."""
    b = batch.num_rows
    lengths = pc.fill_null(pc.list_value_length(batch.column("cand_code")), 0).to_numpy().astype(np.int64)
    row = np.repeat(np.arange(b), lengths)
    code = _flat(batch, "cand_code", np.int64, -1)
    cf = _flat(batch, "cand_cf", np.float64, np.nan)
    held = _flat(batch, "cand_held", bool, False)
    source = _flat(batch, "cand_source", np.int64, 0)
    state_rows = pc.fill_null(batch.column("state_row"), -1).to_numpy().astype(np.int64)
    if rk.order == "cf" or rk.ranker is None:
        value = np.where(np.isnan(cf), -1e9, cf)
    else:
        value = rk.ranker.value(pair_features(rk.retrieval.state, state_rows[row], code, cf))
    composed = [
        _compose(rk, batch, row, code, value, source, (code >= 0) & (without_holds | ~held), without_holds)
        for without_holds in ((False, True) if rk.counterfactual else (False,))
    ]
    return pa.Table.from_batches(composed).combine_chunks().to_batches()[0]


def _compose(rk: RankContext, batch, row, code, value, source, keep, without_holds: bool) -> pa.RecordBatch:
    """The re-ranked feeds of the block from the candidates `keep` marks."""
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


def _with_top_up(rk, batch, picks, scores, codes, values, sources, without_holds: bool) -> pa.RecordBatch:
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
    return pa.RecordBatch.from_arrays(
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


def _flat(batch: pa.RecordBatch, name: str, dtype, fill) -> np.ndarray:
    return pc.fill_null(batch.column(name).flatten(), fill).to_numpy(zero_copy_only=False).astype(dtype)


def _mask(n_codes: int, codes: np.ndarray) -> np.ndarray:
    mask = np.zeros(n_codes, bool)
    mask[np.asarray(codes, np.int64)] = True
    return mask


def _new_slots(ctx, retrieval: RetrievalContext) -> int:
    some = len(retrieval.new_creator_codes) > 0
    return min(int(round(ctx.n * ctx.new_creator_share)), ctx.n - ctx.n_fresh_slots) if some else 0
