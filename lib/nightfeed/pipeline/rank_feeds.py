"""The two-stage feeds of a night (used by score_feeds), distributed over blocks of viewers like
the CF scoring: one pass retrieves, values and re-ranks (`ranking.ranked_feeds.night_block`),
giving both the night's candidates and its feeds. The benchmark's ablations re-rank the stored
candidates under other orders (`ranking_batch`, `ranked_passes`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.core.vocabulary import OBJECTIVES, RETRIEVERS
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.feed_passes import FeedPasses
from nightfeed.pipeline.retrieval import retrieval_inputs
from nightfeed.ranking.heads import Ranker
from nightfeed.ranking.ranked_feeds import NIGHT_SCHEMA, RANKED_SCHEMA, RankContext, night_block, rank_block
from nightfeed.ranking.rerank import item_embeddings
from nightfeed.ranking.retrievers import CANDIDATE_SCHEMA, RetrievalContext


@dataclass
class RankingBatch:
    """What every re-rank pass of a night reads: the night's rules and catalog, one row per viewer
    with their valued candidates (planned, not computed), the held videos, the item embeddings,
    and the ranker that valued the candidates."""

    context: RetrievalContext
    rows: DataFrame
    held_ids: list[str]
    embeddings: np.ndarray
    diversity: float
    ranker_version: str | None


def two_stage_feeds(
    t: LakeTables, lake: Lake, region: str, ds: str, cfg: RegionConfig, ranker: Ranker
) -> FeedPasses:
    """FeedPasses of tonight's two-stage feeds; `candidates` holds the night's candidates."""
    rctx, rows = retrieval_inputs(t, lake, region, ds, cfg, with_state=True)
    held_ids = list(rctx.feed.item_ids[rctx.held])
    model = rctx.feed.model
    history = None if hasattr(model, "item_factors") else rctx.state.history
    context = RankContext(
        rctx, item_embeddings(model, rctx.feed.n_codes, history), cfg.ranker.diversity, bool(held_ids)
    )
    bc = t.spark.sparkContext.broadcast((context, ranker))

    def run(batches):
        rk, valued_by = bc.value
        for b in batches:
            if b.num_rows:
                yield night_block(rk, valued_by, b)

    night = rows.mapInArrow(run, NIGHT_SCHEMA).persist(StorageLevel.DISK_ONLY)  # streamed out: no heap unroll
    feed_rows = night.where(F.col("kind") == "feed")
    ranked = [c.split(" ")[0] for c in RANKED_SCHEMA.split(", ")]
    candidate_columns = [c.split(" ")[0] for c in CANDIDATE_SCHEMA.split(", ")]

    def feeds(include_held: bool) -> DataFrame:
        return feed_rows.where(F.col("without_holds") == F.lit(include_held)).select(*ranked[:-1])

    passes = FeedPasses(feeds, held_ids, [bc], [night])
    passes.candidates = night.where(F.col("kind") == "candidate").select(*candidate_columns)
    return passes


def ranking_batch(
    t: LakeTables, lake: Lake, region: str, ds: str, cfg: RegionConfig, heads: bool = False
) -> RankingBatch:
    """heads: also each candidate's head predictions (to re-value them under other weights)."""
    rctx, rows = retrieval_inputs(t, lake, region, ds, cfg, with_state=False)
    slice_ = t.require_slice("silver/ranking_candidates", region, ds, "score_feeds")
    version = slice_.select("ranker_version").first()
    held_ids = list(rctx.feed.item_ids[rctx.held])
    model = rctx.feed.model
    history = None if hasattr(model, "item_factors") else _plays(t, region, ds, rctx.feed.item_ids)
    embeddings = item_embeddings(model, rctx.feed.n_codes, history)
    codes = t.spark.createDataFrame(
        [(str(i), k) for k, i in enumerate(rctx.feed.item_ids)], "item_id string, code long"
    )
    source = F.array_position(F.array(*[F.lit(r) for r in RETRIEVERS]), F.col("source")) - 1
    fields = {"code": "code", "cf_score": "cf", "value": "value", "held": "held"}
    if heads:
        fields |= {f"p_{o}": f"p_{o}" for o in OBJECTIVES}
    candidates = (
        slice_.join(F.broadcast(codes), "item_id")
        .groupBy("user_id")
        .agg(
            F.collect_list(
                F.struct(*[F.col(c).alias(a) for c, a in fields.items()], source.cast("long").alias("source"))
            ).alias("cand")
        )
        .select("user_id", *[F.col(f"cand.{a}").alias(f"cand_{a}") for a in [*fields.values(), "source"]])
    )
    return RankingBatch(
        rctx,
        rows.join(candidates, "user_id", "left"),
        held_ids,
        embeddings,
        cfg.ranker.diversity,
        version and version["ranker_version"],
    )


def _plays(t: LakeTables, region: str, ds: str, item_ids) -> sp.csr_matrix:
    """users × item codes of the night's interactions (embeddings for models without factors)."""
    inter = t.read_slice("silver/interactions", region, ds).select("user_id", "item_id").toPandas()
    cols = pd.Index(item_ids).get_indexer(inter["item_id"])
    rows = pd.factorize(inter["user_id"])[0]
    keep = cols >= 0
    return sp.csr_matrix(
        (np.ones(keep.sum(), np.float32), (rows[keep], cols[keep])),
        shape=(rows.max(initial=-1) + 1, len(item_ids)),
    )


def ranked_passes(t: LakeTables, batch: RankingBatch, **variant) -> FeedPasses:
    """The two-stage feeds of `batch`; `variant` (the benchmark's ablations) overrides RankContext
    fields: order="cf", weights={...}, diversity=0.0, counterfactual=False."""
    context = RankContext(
        batch.context, batch.embeddings, batch.diversity, counterfactual=bool(batch.held_ids)
    )
    for name, value in variant.items():
        setattr(context, name, value)
    bc = t.spark.sparkContext.broadcast(context)

    def run(batches):
        rk = bc.value
        for b in batches:
            if b.num_rows:
                yield rank_block(rk, b)

    both = batch.rows.mapInArrow(run, RANKED_SCHEMA).persist(StorageLevel.DISK_ONLY)

    def feeds(include_held: bool) -> DataFrame:
        return both.where(F.col("without_holds") == F.lit(include_held)).drop("without_holds")

    return FeedPasses(feeds, batch.held_ids, [bc], [both])
