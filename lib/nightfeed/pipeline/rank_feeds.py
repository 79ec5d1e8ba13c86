"""The two-stage feeds of a night (used by score_feeds): tonight's candidates from
silver/ranking_candidates, ordered by the ranker's value and re-ranked (`ranking.ranked_feeds`),
distributed over blocks of viewers like the CF scoring."""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.core.vocabulary import RETRIEVERS
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.feed_passes import FeedPasses
from nightfeed.pipeline.retrieve_candidates import retrieval_inputs
from nightfeed.ranking.heads import Ranker
from nightfeed.ranking.ranked_feeds import RANKED_SCHEMA, RankContext, rank_block
from nightfeed.ranking.rerank import item_embeddings


def ranked_feeds(
    t: LakeTables, lake: Lake, region: str, ds: str, cfg: RegionConfig, ranker: Ranker | None, **variant
) -> FeedPasses:
    """FeedPasses of the two-stage feeds; `variant` (the benchmark's ablations) overrides
    RankContext fields: order="cf", diversity=0.0."""
    rctx, rows = retrieval_inputs(t, lake, region, ds, cfg)
    t.require_slice("silver/ranking_candidates", region, ds, "retrieve_candidates")
    held_ids = list(rctx.feed.item_ids[rctx.held])
    embeddings = item_embeddings(rctx.feed.model, rctx.feed.n_codes, rctx.state.history)
    codes = t.spark.createDataFrame(
        [(str(i), k) for k, i in enumerate(rctx.feed.item_ids)], "item_id string, code long"
    )
    source = F.array_position(F.array(*[F.lit(r) for r in RETRIEVERS]), F.col("source")) - 1
    candidates = (
        t.read_slice("silver/ranking_candidates", region, ds)
        .join(F.broadcast(codes), "item_id")
        .groupBy("user_id")
        .agg(
            F.collect_list(
                F.struct(
                    F.col("code").alias("c"),
                    F.col("cf_score").alias("cf"),
                    F.col("held").alias("h"),
                    source.cast("long").alias("s"),
                )
            ).alias("cand")
        )
        .select(
            "user_id",
            F.col("cand.c").alias("cand_code"),
            F.col("cand.cf").alias("cand_cf"),
            F.col("cand.h").alias("cand_held"),
            F.col("cand.s").alias("cand_source"),
        )
    )
    batch = rows.join(candidates, "user_id", "left")
    context = RankContext(rctx, ranker, embeddings, cfg.ranker.diversity, counterfactual=bool(held_ids))
    for name, value in variant.items():
        setattr(context, name, value)
    bc = t.spark.sparkContext.broadcast(context)

    def run(batches):
        rk = bc.value
        for b in batches:
            if b.num_rows:
                yield rank_block(rk, b)

    both = batch.mapInArrow(run, RANKED_SCHEMA).persist(StorageLevel.MEMORY_AND_DISK)

    def feeds(include_held: bool) -> DataFrame:
        return both.where(F.col("without_holds") == F.lit(include_held)).drop("without_holds")

    return FeedPasses(feeds, held_ids, [bc], [both])
