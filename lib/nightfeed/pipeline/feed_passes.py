"""How a night's feeds are composed, shared by score_feeds, the two-stage feeds and the
benchmarks: the catalog and per-viewer rows the feed rules read, and the CF model's feeds."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.feeds import scoring, scoring_spark
from nightfeed.feeds.blocks import BLOCK_FACTORS
from nightfeed.lake.tables import LakeTables
from nightfeed.models import Recommender
from nightfeed.pipeline.artifacts import load_artifact
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


@dataclass
class FeedPasses:
    """How a night's feeds are composed: `feeds(include_held)` plans one pass (with the audit's
    holds, or the counterfactual without them); `release` frees what the passes broadcast."""

    feeds: Callable[..., DataFrame]
    held_ids: list[str]
    broadcasts: list = field(default_factory=list)
    cached: list = field(default_factory=list)  # DataFrames persisted for the passes
    candidates: DataFrame | None = None  # two-stage feeds: the night's valued candidates

    def release(self) -> None:
        for bc in self.broadcasts:
            bc.unpersist()
        for frame in self.cached:
            frame.unpersist()


def cf_feeds(t: LakeTables, lake: Lake, region: str, ds: str, cfg: RegionConfig, reg: dict) -> FeedPasses:
    """The CF model's top-N under the feed rules (`scoring.compose_feeds`)."""
    model, model_users, model_items = load_artifact(lake, reg["artifact_path"])
    model, user_index = model_user_index(t.spark, model, model_users)
    catalog = scoring_catalog(t, region, ds)
    users = t.require_slice("gold/user_features", region, ds, "build_features").select("user_id")
    held = catalog["held"].eq(True)
    passes = FeedPasses(lambda include_held: None, catalog.loc[held, "item_id"].tolist())

    def feeds(include_held: bool) -> DataFrame:
        ctx = scoring.build_context(
            model, model_items, catalog.assign(held=False) if include_held else catalog, cfg.feed, ds
        )
        batch = scoring_rows(t, region, ds, ctx, users, user_index)
        passes.broadcasts.append(t.spark.sparkContext.broadcast(ctx))
        return scoring_spark.score_users(batch, passes.broadcasts[-1])

    passes.feeds = feeds
    return passes


def model_user_index(spark, model: Recommender, model_users) -> tuple[Recommender, DataFrame]:
    """The model to broadcast and its users as a table (user_id, user_idx). A factor model's user
    factors go into that table (joined to each block of users, `blocks.block_model`) and out of
    the broadcast model: what a task holds grows with its block, not with the region."""
    index = pd.DataFrame({"user_id": model_users, "user_idx": np.arange(len(model_users))})
    if not hasattr(model, "user_factors"):
        return model, spark.createDataFrame(index)
    columns = {"user_id": pa.array(index["user_id"], pa.string()), "user_idx": pa.array(index["user_idx"])}
    factors = np.ascontiguousarray(model.user_factors, np.float32)
    rank = factors.shape[1]
    offsets = pa.array(np.arange(0, len(factors) * rank + 1, rank, dtype=np.int32))
    columns[BLOCK_FACTORS] = pa.ListArray.from_arrays(offsets, pa.array(factors.reshape(-1)))
    shared = copy.copy(model)
    shared.user_factors = np.zeros((0, rank), np.float32)
    return shared, spark.createDataFrame(pa.table(columns))


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
