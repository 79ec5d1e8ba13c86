"""The frames the quality suites check, prepared by pure DataFrame functions so that every check
is a plain column expectation (see `quality` and `schemas/quality/`)."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from nightfeed.core.days import day_start


def events_frame(events: DataFrame, items: DataFrame, ds: str) -> DataFrame:
    """Bronze events with hours since the ds day started and watch time as a share of duration."""
    start = day_start(ds)
    return events.join(items.select("item_id", "duration_ms"), "item_id", "left").select(
        "event_id",
        "user_id",
        "item_id",
        "event_type",
        "region",
        ((F.col("event_ts").cast("long") - F.lit(start).cast("long")) / 3600.0).alias("hours_into_day"),
        (F.col("watch_ms") / F.col("duration_ms")).alias("watch_ratio"),
    )


def feed_capacity(
    users: DataFrame, catalog: DataFrame, seen: DataFrame, eligible: list[str], cap: int
) -> DataFrame:
    """Per user, the most feed rows the rules allow: over creators, min(cap, eligible items of the
    creator the user has not seen, finished or skipped). seen: user_id, item_id (any duplicates)."""
    items = catalog.where(F.col("moderation_status").isin(eligible)).select("item_id", "creator_id")
    per_creator = items.groupBy("creator_id").agg(F.count(F.lit(1)).alias("a"))
    base = per_creator.agg(F.coalesce(F.sum(F.least("a", F.lit(cap))), F.lit(0)).alias("base"))
    lost = (
        seen.select("user_id", "item_id")
        .distinct()
        .join(items, "item_id")
        .groupBy("user_id", "creator_id")
        .agg(F.count(F.lit(1)).alias("s"))
        .join(per_creator, "creator_id")
        .groupBy("user_id")
        .agg(F.sum(F.least("a", F.lit(cap)) - F.least(F.col("a") - F.col("s"), F.lit(cap))).alias("lost"))
    )
    return (
        users.select("user_id")
        .distinct()
        .crossJoin(base)
        .join(lost, "user_id", "left")
        .select("user_id", (F.col("base") - F.coalesce("lost", F.lit(0))).alias("capacity"))
    )


def feed_frames(
    feeds: DataFrame,
    active_users: DataFrame,
    catalog: DataFrame,
    exclusions: DataFrame,
    interactions: DataFrame,
    n: int,
    cap: int,
    eligible: list[str],
    held: DataFrame | None = None,
) -> dict[str, DataFrame]:
    """Row-level and user-level views of a region's feeds for the feed checks.

    A feed is full when it holds min(n, capacity) rows (see `feed_capacity`); users whose allowed
    catalog holds fewer than n items are flagged `catalog_exhausted`, and one whose allowed catalog
    is empty needs no feed at all (`has_feed` holds). `held` (item_id): the audit's
    safety holds, which no feed may contain and which are not part of the allowed catalog.
    """
    held = (held if held is not None else catalog.limit(0)).select("item_id").distinct()
    catalog = catalog.join(held, "item_id", "left_anti")
    by_rank = Window.partitionBy("user_id").orderBy("rank")
    finished = exclusions.where(F.col("reason") == "finished").select(
        "user_id", "item_id", F.lit(True).alias("fin")
    )
    rows = (
        feeds.join(catalog.select("item_id", "moderation_status"), "item_id", "left")
        .join(finished, ["user_id", "item_id"], "left")
        .join(held.withColumn("is_held", F.lit(True)), "item_id", "left")
        .withColumn("finished", F.coalesce("fin", F.lit(False)))
        .withColumn("held", F.coalesce("is_held", F.lit(False)))
        .withColumn("prev_score", F.lag("score").over(by_rank))
        .withColumn(
            "score_ok", F.col("prev_score").isNull() | (F.col("score") <= F.col("prev_score") + F.lit(1e-9))
        )
        .withColumn("is_trending", (F.col("source") == "trending").cast("double"))
        .select(
            "user_id",
            "item_id",
            "rank",
            "score",
            "source",
            "moderation_status",
            "finished",
            "held",
            "score_ok",
            "is_trending",
        )
    )
    per_user = feeds.groupBy("user_id").agg(
        F.count(F.lit(1)).alias("n"),
        F.min("rank").alias("lo"),
        F.max("rank").alias("hi"),
        F.countDistinct("rank").alias("distinct"),
    )
    seen = interactions.select("user_id", "item_id").unionByName(exclusions.select("user_id", "item_id"))
    capacity = feed_capacity(active_users, catalog, seen, eligible, cap)
    users = (
        active_users.select("user_id")
        .distinct()
        .join(per_user, "user_id", "full")
        .join(capacity, "user_id", "left")
        .select(
            "user_id",
            # a user who has seen, finished or skipped everything the rules allow gets no feed
            (F.col("n").isNotNull() | (F.coalesce("capacity", F.lit(n)) <= 0)).alias("has_feed"),
            F.when(
                F.col("n").isNotNull(),
                (F.col("lo") == 1) & (F.col("hi") == F.col("n")) & (F.col("distinct") == F.col("n")),
            ).alias("ranks_ok"),
            (F.coalesce("n", F.lit(0)) >= F.least(F.lit(n), F.coalesce("capacity", F.lit(n)))).alias(
                "full_feed"
            ),
            (F.coalesce("n", F.lit(0)) <= n).alias("within_length"),
            (F.coalesce("capacity", F.lit(n)) < n).alias("catalog_exhausted"),
        )
    )
    return {"feed_rows": rows, "feed_users": users}


def band(value: float | None, lo_hi: list[float]) -> tuple[float | None, float | None]:
    if value is None:
        return None, None
    return lo_hi[0] * value, lo_hi[1] * value
