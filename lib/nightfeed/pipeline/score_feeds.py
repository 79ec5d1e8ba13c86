"""Stage score_feeds: top-N with the feed rules for every active user -> silver/feed_candidates, and
what the audit's holds changed -> silver/feed_slots_without_holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.feeds import scoring, scoring_spark
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import load_artifact, registered_model
from nightfeed.pipeline.inputs import held_items

CATALOG_COLUMNS = (
    "item_id",
    "creator_id",
    "created_ts",
    "moderation_status",
    "is_fresh",
    "n_users",
    "trending_score",
)


def score_feeds(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    """silver/feed_candidates of ds, and silver/feed_slots_without_holds: the slots every video
    would have had tonight without the audit's holds (a second scoring pass when anything is held)."""
    t = LakeTables(spark, lake.root)
    reg = registered_model(t, region, ds)
    model, model_users, model_items = load_artifact(lake, reg["artifact_path"])
    catalog = scoring_catalog(t, region, ds)
    user_index = spark.createDataFrame(
        pd.DataFrame({"user_id": model_users, "user_idx": np.arange(len(model_users))})
    )
    users = t.require_slice("gold/user_features", region, ds, "build_features").select("user_id")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(cfg.feed.score_block_users))
    broadcasts = []

    def feeds_of(catalog: pd.DataFrame):
        ctx = scoring.build_context(model, model_items, catalog, cfg.feed, ds)
        batch = scoring_rows(t, region, ds, ctx, users, user_index)
        broadcasts.append(spark.sparkContext.broadcast(ctx))
        return scoring_spark.score_users(batch, broadcasts[-1])

    feeds = (
        feeds_of(catalog)
        .withColumn("region", F.lit(region))
        .withColumn("ds", F.lit(ds))
        .withColumn("model_version", F.lit(reg["model_version"]))
    )
    t.write_slice("silver/feed_candidates", feeds, region, ds)
    written = t.read_slice("silver/feed_candidates", region, ds)
    held = catalog["held"].eq(True)
    open_feeds = feeds_of(catalog.assign(held=False)) if held.any() else written
    slots = open_feeds.groupBy("item_id").agg(F.count("*").alias("slots"))
    t.write_slice(
        "silver/feed_slots_without_holds",
        slots.withColumn("region", F.lit(region)).withColumn("ds", F.lit(ds)),
        region,
        ds,
    )
    for bc in broadcasts:
        bc.unpersist()
    held_ids = catalog.loc[held, "item_id"].tolist()
    held_slots = (
        t.read_slice("silver/feed_slots_without_holds", region, ds)
        .where(F.col("item_id").isin(held_ids))
        .agg(F.sum("slots"))
        .first()[0]
    )
    by_source = {r["source"]: r["count"] for r in written.groupBy("source").count().collect()}
    return {
        "model_version": reg["model_version"],
        "held_items": int(held.sum()),
        "held_item_slots_without_holds": int(held_slots or 0),
        "users": written.select("user_id").distinct().count(),
        "rows": sum(by_source.values()),
        "rows_by_source": by_source,
    }


def scoring_catalog(t: LakeTables, region: str, ds: str) -> pd.DataFrame:
    """The night's catalog as the feed rules read it: CATALOG_COLUMNS and the audit's holds."""
    return (
        t.require_slice("gold/item_features", region, ds, "build_features")
        .select(*CATALOG_COLUMNS)
        .join(held_items(t, region, ds), "item_id", "left")
        .toPandas()
    )


def scoring_rows(t: LakeTables, region: str, ds: str, ctx: scoring.FeedContext, users, user_index):
    """One row per user to score (`scoring_spark.user_blocks`): their history and exclusions of
    (region, ds) in the item codes of `ctx`."""
    codes = t.spark.createDataFrame(pd.DataFrame({"item_id": ctx.item_ids, "code": np.arange(ctx.n_codes)}))
    return scoring_spark.user_blocks(
        users,
        t.read_slice("silver/interactions", region, ds),
        t.read_slice("silver/exclusions", region, ds),
        codes,
        user_index,
        ctx.n_model_items,
    )
