"""Stage score_feeds: every active viewer's feed under the feed rules -> silver/feed_candidates,
and what the audit's holds changed -> silver/feed_slots_without_holds; with a ranker, the night's
retrieved and valued candidates -> silver/ranking_candidates too (`rank_feeds`)."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import registered_model
from nightfeed.pipeline.feed_passes import cf_feeds
from nightfeed.pipeline.rank_feeds import two_stage_feeds
from nightfeed.pipeline.ranking_inputs import serving_ranker


def score_feeds(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    """silver/feed_candidates of ds, and silver/feed_slots_without_holds: the slots every video
    would have had tonight without the audit's holds (a second pass when anything is held).
    Two-stage feeds (`rank_feeds`) when [ranker] type is xgboost and a promoted ranker exists;
    the CF model's feeds otherwise."""
    t = LakeTables(spark, lake.root)
    reg = registered_model(t, region, ds)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(cfg.feed.score_block_users))
    serving = serving_ranker(t, lake, region, ds) if cfg.ranker.type != "none" else None
    if serving is None:
        passes, ranker_version = cf_feeds(t, lake, region, ds, cfg, reg), None
    else:
        passes, ranker_version = two_stage_feeds(t, lake, region, ds, cfg, serving[0]), serving[1]
        candidates = (
            passes.candidates.withColumn("ranker_version", F.lit(ranker_version))
            .withColumn("region", F.lit(region))
            .withColumn("ds", F.lit(ds))
        )
        t.write_slice("silver/ranking_candidates", candidates, region, ds)
    feeds = (
        passes.feeds(include_held=False)
        .withColumn("region", F.lit(region))
        .withColumn("ds", F.lit(ds))
        .withColumn("model_version", F.lit(reg["model_version"]))
        .withColumn("ranker_version", F.lit(ranker_version).cast("string"))
    )
    t.write_slice("silver/feed_candidates", feeds, region, ds)
    written = t.read_slice("silver/feed_candidates", region, ds)
    open_feeds = passes.feeds(include_held=True) if passes.held_ids else written
    slots = open_feeds.groupBy("item_id").agg(F.count("*").alias("slots"))
    t.write_slice(
        "silver/feed_slots_without_holds",
        slots.withColumn("region", F.lit(region)).withColumn("ds", F.lit(ds)),
        region,
        ds,
    )
    passes.release()
    held_slots = (
        t.read_slice("silver/feed_slots_without_holds", region, ds)
        .where(F.col("item_id").isin(passes.held_ids))
        .agg(F.sum("slots"))
        .first()[0]
    )
    by_source = {r["source"]: r["count"] for r in written.groupBy("source").count().collect()}
    return {
        "model_version": reg["model_version"],
        "ranker_version": ranker_version,
        "held_items": len(passes.held_ids),
        "held_item_slots_without_holds": int(held_slots or 0),
        "users": written.select("user_id").distinct().count(),
        "rows": sum(by_source.values()),
        "rows_by_source": by_source,
        **({"ranking_candidates": t.slice_rows("silver/ranking_candidates", region, ds)} if serving else {}),
    }
