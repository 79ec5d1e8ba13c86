"""Features: implicit-feedback interactions, exclusions and simple user/item aggregates.

Confidence of a (user, item) pair = sum over its events of
`event_weight × (watch completion for plays) × 0.5 ** (age_days / half_life)`, so a finished,
liked video from yesterday outweighs an old half-watched one.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from nightfeed.configuration.settings import FeatureSettings
from nightfeed.core.days import day_end


def window_start(ds: str, days: int) -> str:
    """First ds of a `days`-long window ending at ds."""
    return (dt.date.fromisoformat(ds) - dt.timedelta(days=days - 1)).isoformat()


def _weight(event_weights: dict[str, float]) -> Column:
    expr = F.lit(0.0)
    for etype, w in event_weights.items():
        expr = F.when(F.col("event_type") == etype, F.lit(float(w))).otherwise(expr)
    return expr


def _completion() -> Column:
    return F.least(F.lit(1.0), F.coalesce(F.col("watch_ms") / F.col("duration_ms"), F.lit(1.0)))


def with_durations(events: DataFrame, items: DataFrame) -> DataFrame:
    return events.join(items.select("item_id", "duration_ms"), "item_id", "left")


def interactions(
    events: DataFrame, items: DataFrame, region: str, ds: str, cfg: FeatureSettings
) -> DataFrame:
    """Positive-confidence (user, item) pairs from the events of the lookback window."""
    end = day_end(ds)
    age_days = (F.lit(end).cast("long") - F.col("event_ts").cast("long")) / 86400.0
    decay = F.pow(F.lit(0.5), age_days / cfg.half_life_days)
    ev = with_durations(events, items)
    base = _weight(cfg.event_weights)
    weight = F.when(F.col("event_type") == "play", base * _completion()).otherwise(base)
    finished = (F.col("event_type") == "finish") | (
        (F.col("event_type") == "play")
        & (_completion() >= cfg.finish_ratio)
        & F.col("duration_ms").isNotNull()
    )
    agg = (
        ev.withColumn("w", weight * decay)
        .withColumn("fin", finished)
        .groupBy("user_id", "item_id")
        .agg(
            F.sum("w").alias("confidence"),
            F.count(F.lit(1)).cast("int").alias("n_events"),
            F.coalesce(F.sum(F.when(F.col("event_type") == "play", F.col("watch_ms"))), F.lit(0))
            .cast("long")
            .alias("watch_ms"),
            F.max(F.col("fin").cast("int")).cast("boolean").alias("finished"),
            F.max("event_ts").alias("last_event_ts"),
        )
    )
    return agg.where(F.col("confidence") > 0).withColumn("region", F.lit(region)).withColumn("ds", F.lit(ds))


def exclusions(events: DataFrame, items: DataFrame, region: str, ds: str, cfg: FeatureSettings) -> DataFrame:
    """Items a user finished or skipped: never shown to that user again."""
    ev = with_durations(events, items)
    finished = (F.col("event_type") == "finish") | (
        (F.col("event_type") == "play")
        & F.col("duration_ms").isNotNull()
        & (_completion() >= cfg.finish_ratio)
    )
    flagged = ev.select(
        "user_id",
        "item_id",
        F.when(finished, 2).when(F.col("event_type") == "skip", 1).otherwise(0).alias("flag"),
    )
    return (
        flagged.groupBy("user_id", "item_id")
        .agg(F.max("flag").alias("flag"))
        .where(F.col("flag") > 0)
        .select(
            "user_id", "item_id", F.when(F.col("flag") == 2, "finished").otherwise("skipped").alias("reason")
        )
        .withColumn("region", F.lit(region))
        .withColumn("ds", F.lit(ds))
    )


def user_features(events: DataFrame, inter: DataFrame, region: str, ds: str) -> DataFrame:
    ev = events.groupBy("user_id").agg(
        F.count(F.lit(1)).cast("int").alias("n_events"),
        F.coalesce(F.sum(F.when(F.col("event_type") == "play", F.col("watch_ms"))), F.lit(0))
        .cast("long")
        .alias("total_watch_ms"),
        F.max("event_ts").alias("last_event_ts"),
    )
    items = inter.groupBy("user_id").agg(F.count(F.lit(1)).cast("int").alias("n_items"))
    return (
        ev.join(items, "user_id", "left")
        .fillna({"n_items": 0})
        .withColumn("region", F.lit(region))
        .withColumn("ds", F.lit(ds))
    )


def item_features(
    events: DataFrame,
    items: DataFrame,
    inter: DataFrame,
    region: str,
    ds: str,
    cfg: FeatureSettings,
    fresh_hours: float,
) -> DataFrame:
    """Catalog items with engagement stats, a decayed trending score and a freshness flag (an item
    created within `fresh_hours` of the end of ds is fresh)."""
    end = day_end(ds)
    ev = with_durations(events, items)
    recent = F.col("event_ts") >= F.lit(end - dt.timedelta(days=cfg.trending_days))
    age_days = (F.lit(end).cast("long") - F.col("event_ts").cast("long")) / 86400.0
    trend_w = F.when(recent, _weight(cfg.event_weights) * F.pow(F.lit(0.5), age_days)).otherwise(0.0)
    stats = ev.groupBy("item_id").agg(
        F.sum((F.col("event_type") == "play").cast("int")).alias("n_plays"),
        F.sum((F.col("event_type") == "finish").cast("int")).alias("n_finishes"),
        F.sum((F.col("event_type") == "like").cast("int")).alias("n_likes"),
        F.avg(F.when(F.col("event_type") == "play", _completion())).alias("completion_rate"),
        F.sum(trend_w).alias("trending_score"),
    )
    users = inter.groupBy("item_id").agg(F.count(F.lit(1)).cast("int").alias("n_users"))
    fresh_from = end - dt.timedelta(hours=fresh_hours)
    return (
        items.select("item_id", "creator_id", "moderation_status", "created_ts", "duration_ms")
        .join(stats, "item_id", "left")
        .join(users, "item_id", "left")
        .fillna(
            {
                "n_plays": 0,
                "n_finishes": 0,
                "n_likes": 0,
                "completion_rate": 0.0,
                "trending_score": 0.0,
                "n_users": 0,
            }
        )
        .withColumn("is_fresh", F.col("created_ts") >= F.lit(fresh_from))
        .withColumn("region", F.lit(region))
        .withColumn("ds", F.lit(ds))
    )
