"""Review decisions: landing JSON Lines -> typed rows plus a quarantine row (raw text + reason) per
bad line, with the same rules as events (one outcome per line, so counts balance)."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from nightfeed.core.vocabulary import DECISIONS
from nightfeed.ingest.events import (
    ISO_TS_WITH_ZONE,
    Classified,
    mark_duplicates,
    outside_day,
    parse_json,
    quarantine_rows,
    structural_reason,
)

VIOLATIONS = ("spam", "adult", "violence", "hate", "dangerous", "misinformation")
POLICIES = ("none", *VIOLATIONS)
REQUIRED = ["decision_id", "item_id", "region", "decided_ts", "decision", "policy", "reviewer"]


def classify_decisions(
    lines: DataFrame,
    region: str,
    ds: str,
    late_tolerance_hours: float,
    already_ingested_ids: DataFrame | None = None,
) -> Classified:
    """Validate one day of a region's review decisions.

    `approved` must carry policy `none` and `removed`/`restricted` a violated policy
    (`policy_mismatch` otherwise). `already_ingested_ids` (column `decision_id`) are ids of earlier
    days: seeing one again is a duplicate.
    """
    df = parse_json(lines, "landing_moderation")
    ts = F.expr("try_cast(j.decided_ts AS TIMESTAMP)")
    approved = F.col("j.decision") == "approved"
    reason = (
        structural_reason("landing_moderation", REQUIRED)
        .when(~F.col("j.decision").isin(*DECISIONS), "unknown_decision")
        .when(~F.col("j.policy").isin(*POLICIES), "unknown_policy")
        .when(approved != (F.col("j.policy") == "none"), "policy_mismatch")
        .when(~F.col("j.decided_ts").rlike(ISO_TS_WITH_ZONE) | ts.isNull(), "invalid_timestamp")
        .when(F.col("j.region") != F.lit(region), "region_mismatch")
        .when(outside_day(ts, ds, late_tolerance_hours), "timestamp_out_of_window")
    )
    df = mark_duplicates(df.withColumn("reason", reason), "decision_id", already_ingested_ids)
    valid = df.where(F.col("reason").isNull()).select(
        "decision_id",
        F.trim("j.item_id").alias("item_id"),
        ts.alias("decided_ts"),
        F.col("j.decision").alias("decision"),
        F.col("j.policy").alias("policy"),
        F.trim("j.reviewer").alias("reviewer"),
        F.lit(region).alias("region"),
        F.lit(ds).alias("ds"),
        "source_file",
    )
    return Classified(df, valid, quarantine_rows(df, region, ds, "decision_id"))


def with_later_decisions(catalog: DataFrame, decisions: DataFrame) -> DataFrame:
    """The catalog (item_id, moderation_status, ...) with each video's status set by its latest
    review decision among `decisions` (item_id, decided_ts, decision), if it has one.

    For a catalog snapshot older than the night (a day whose catalog was not delivered): a video
    removed since must not stay `approved` and reach the feeds. Decision names are statuses."""
    severity = F.array_position(F.array(*map(F.lit, DECISIONS)), F.col("decision"))
    w = Window.partitionBy("item_id").orderBy(F.col("decided_ts").desc(), severity.desc())
    latest = (
        decisions.withColumn("_n", F.row_number().over(w))
        .where(F.col("_n") == 1)
        .select("item_id", F.col("decision").alias("_decided"))
    )
    return (
        catalog.join(latest, "item_id", "left")
        .withColumn("moderation_status", F.coalesce("_decided", "moderation_status"))
        .select(catalog.columns)
    )
