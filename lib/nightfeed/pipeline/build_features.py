"""Stage build_features: bronze events -> interactions, exclusions, user and item features."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.feeds import features
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.inputs import catalog_snapshot, window_events

OUTPUTS = ("silver/interactions", "silver/exclusions", "gold/user_features", "gold/item_features")


def build_features(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    t = LakeTables(spark, lake.root)
    lookback, excl_days = cfg.features.lookback_days, cfg.feed.exclude_lookback_days
    events = window_events(t, region, ds, max(lookback, excl_days)).persist()
    items = catalog_snapshot(t, region, ds).persist()
    in_window = events.where(F.col("ds") >= features.window_start(ds, lookback))
    t.write_slice(
        "silver/interactions", features.interactions(in_window, items, region, ds, cfg.features), region, ds
    )
    inter = t.read_slice("silver/interactions", region, ds)
    excl_events = events.where(F.col("ds") >= features.window_start(ds, excl_days))
    t.write_slice(
        "silver/exclusions", features.exclusions(excl_events, items, region, ds, cfg.features), region, ds
    )
    t.write_slice("gold/user_features", features.user_features(in_window, inter, region, ds), region, ds)
    t.write_slice(
        "gold/item_features",
        features.item_features(in_window, items, inter, region, ds, cfg.features, cfg.feed.fresh_hours),
        region,
        ds,
    )
    events.unpersist()
    items.unpersist()
    return {"rows": {name: t.slice_rows(name, region, ds) for name in OUTPUTS}}
