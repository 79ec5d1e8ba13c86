"""The item catalog's daily snapshot: landing lines -> typed bronze rows plus quarantine rows,
with the same structural rules as events (see `events`) and the catalog's own."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nightfeed.core.vocabulary import MODERATION_STATUSES
from nightfeed.ingest.events import (
    INTEGER,
    ISO_TS_WITH_ZONE,
    Classified,
    late_end,
    later_duplicate,
    parse_json,
    quarantine_rows,
    structural_reason,
    whole_number,
)

EARLIEST_UPLOAD = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # an earlier upload is a producer default


def classify_items(
    lines: DataFrame,
    region: str,
    ds: str,
    late_tolerance_hours: float = 6.0,
    max_duration_ms: int = 43_200_000,
) -> Classified:
    """Validate a region's item catalog snapshot for a day.

    Values that pass the type checks but cannot be true are quarantined too: a duration above
    `max_duration_ms`, an upload after the end of ds (+ the late-arrival tolerance) or before
    `EARLIEST_UPLOAD` (year-1 and epoch-zero timestamps are producer defaults, not uploads).
    """
    df = parse_json(lines, "landing_items")
    created = F.expr("try_cast(j.created_ts AS TIMESTAMP)")
    duration = F.col("j.duration_ms")
    reason = (
        structural_reason(
            "landing_items",
            ["item_id", "creator_id", "region", "duration_ms", "created_ts", "moderation_status"],
        )
        .when(~F.col("j.moderation_status").isin(*MODERATION_STATUSES), "unknown_moderation_status")
        .when(~F.col("j.created_ts").rlike(ISO_TS_WITH_ZONE) | created.isNull(), "invalid_timestamp")
        .when(~duration.rlike(INTEGER) | (whole_number("duration_ms") <= 0), "invalid_duration")
        .when(whole_number("duration_ms") > F.lit(max_duration_ms), "implausible_duration")
        .when(
            (created < F.lit(EARLIEST_UPLOAD)) | (created >= F.lit(late_end(ds, late_tolerance_hours))),
            "implausible_created_ts",
        )
        .when(F.col("j.region") != F.lit(region), "region_mismatch")
    )
    df = df.withColumn("reason", reason)
    df = df.withColumn("_dedupe_key", F.when(F.col("reason").isNull(), F.trim("j.item_id")))
    df = df.withColumn(
        "reason", F.when(later_duplicate(df, "_dedupe_key"), "duplicate_item_id").otherwise(F.col("reason"))
    )
    valid = df.where(F.col("reason").isNull()).select(
        F.trim("j.item_id").alias("item_id"),
        F.trim("j.creator_id").alias("creator_id"),
        whole_number("duration_ms").alias("duration_ms"),
        created.alias("created_ts"),
        F.col("j.moderation_status").alias("moderation_status"),
        F.lit(region).alias("region"),
        F.lit(ds).alias("ds"),
    )
    return Classified(df, valid, quarantine_rows(df, region, ds, "item_id"))
