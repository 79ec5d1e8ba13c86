"""Per-video risk features for the content audit, computed strictly as of a cut-off.

Every row has its own `as_of_ts`: the end of ds for a video still waiting for a person's review
(the queue), and the start of the decision's day for a reviewed video (what the queue looked like
the night before the review: the training example). Only events, decisions and uploads before a
row's `as_of_ts` are counted, so adding later data never changes a day's features.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from nightfeed.core.days import day_end

COUNTS = ("impressions", "plays", "finishes", "skips", "likes", "shares", "comments", "reports")
EVENT_OF_COUNT = {
    "impressions": "impression",
    "plays": "play",
    "finishes": "finish",
    "skips": "skip",
    "likes": "like",
    "shares": "share",
    "comments": "comment",
    "reports": "report",
}
RATES = {
    "completion_rate": ("finishes", "plays"),
    "skip_rate": ("skips", "impressions"),
    "like_rate": ("likes", "plays"),
    "share_rate": ("shares", "plays"),
    "comment_rate": ("comments", "plays"),
    "report_rate": ("reports", "impressions"),
}
# The model's inputs, in order (the table has these plus keys, label and views_prev_24h).
FEATURES = (
    *COUNTS,
    "distinct_reporters",
    "impressions_24h",
    "reports_6h",
    *RATES,
    "creator_videos",
    "creator_prior_removals",
    "creator_prior_restrictions",
    "creator_prior_reports",
    "creator_account_age_days",
    "duration_s",
    "age_hours",
    "upload_hour",
)
VIOLATING_DECISIONS = ("removed", "restricted")
CREATOR_SIGNALS = {  # what happened to a creator's other videos -> feature
    "removed": "creator_prior_removals",
    "restricted": "creator_prior_restrictions",
    "report": "creator_prior_reports",
}


def first_human_decisions(decisions: DataFrame, before: dt.datetime) -> DataFrame:
    """Each video's first decision by a person (reviewer not `auto`) before `before`:
    item_id, decided_ts, decision."""
    human = decisions.where((F.col("reviewer") != "auto") & (F.col("decided_ts") < F.lit(before)))
    return (
        human.groupBy("item_id")
        .agg(F.min_by(F.struct("decided_ts", "decision"), "decided_ts").alias("d"))
        .select("item_id", "d.decided_ts", "d.decision")
    )


def feature_rows(
    catalog: DataFrame,
    uploads: DataFrame,
    decisions: DataFrame,
    ds: str,
    lookback_days: int,
    label_days: int,
    history_start: dt.datetime | None = None,
) -> DataFrame:
    """The rows of ds: queued videos (listed in the catalog, uploaded in the lookback, no human
    decision by the cut-off) and reviewed videos (first human decision in the last `label_days`,
    whether or not still listed), each with its `as_of_ts`.

    history_start: where the events given to the features begin. A video uploaded before it is no
    training example: its counts miss the reports that sent it to review, so it would teach that
    unreported videos violate (a lake's first weeks held benign videos that way).

    catalog: item_id (the catalog as of ds); uploads: item_id, creator_id, created_ts, duration_ms
    of every video known up to ds; decisions: item_id, decided_ts, decision, reviewer.
    """
    end = day_end(ds)
    start = end - dt.timedelta(days=lookback_days)
    label_start = end - dt.timedelta(days=label_days)
    first = first_human_decisions(decisions, end)
    listed = catalog.select("item_id", F.lit(True).alias("listed"))
    rows = (
        uploads.join(first, "item_id", "left")
        .join(listed, "item_id", "left")
        .where(F.col("created_ts") < F.lit(end))
    )
    queued = (
        F.col("decided_ts").isNull() & F.col("listed").isNotNull() & (F.col("created_ts") >= F.lit(start))
    )
    reviewed = F.col("decided_ts") >= F.lit(label_start)
    if history_start is not None:
        reviewed &= F.col("created_ts") >= F.lit(history_start)
    day_of_review = F.greatest(F.date_trunc("day", "decided_ts"), F.col("created_ts"))
    label = F.col("decision").isin(*VIOLATING_DECISIONS).cast("int")
    return rows.where(queued | reviewed).select(
        "item_id",
        "creator_id",
        "created_ts",
        "duration_ms",
        "decided_ts",
        F.col("decided_ts").isNotNull().alias("reviewed"),
        F.when(F.col("decided_ts").isNotNull(), label).alias("label"),
        F.when(F.col("decided_ts").isNull(), F.lit(end)).otherwise(day_of_review).alias("as_of_ts"),
    )


def reviews_before_history(
    uploads: DataFrame, decisions: DataFrame, ds: str, label_days: int, history_start: dt.datetime
) -> DataFrame:
    """The reviewed videos `feature_rows` leaves out of training: a first human decision in the
    last `label_days`, but uploaded before `history_start`."""
    label_start = day_end(ds) - dt.timedelta(days=label_days)
    return (
        first_human_decisions(decisions, day_end(ds))
        .where(F.col("decided_ts") >= F.lit(label_start))
        .join(uploads.where(F.col("created_ts") < F.lit(history_start)), "item_id")
    )


def _ratio(num: str, den: str) -> Column:
    return F.when(F.col(den) > 0, F.col(num) / F.col(den)).otherwise(F.lit(0.0))


def _hours_before(hours: float) -> Column:
    return F.col("as_of_ts") - F.expr(f"INTERVAL {int(hours * 3600)} SECONDS")


def engagement(rows: DataFrame, events: DataFrame) -> DataFrame:
    """Exposure, engagement and reports of each row's video before its `as_of_ts`.
    events: item_id, user_id, event_type, event_ts."""
    ev = (
        rows.select("item_id", "as_of_ts")
        .join(events, "item_id")
        .where(F.col("event_ts") < F.col("as_of_ts"))
    )
    is_type = {name: F.col("event_type") == etype for name, etype in EVENT_OF_COUNT.items()}
    aggs = [F.sum(is_type[name].cast("long")).alias(name) for name in COUNTS]
    recent = F.col("event_ts") >= _hours_before(24)
    previous = (F.col("event_ts") >= _hours_before(48)) & ~recent
    aggs += [
        F.countDistinct(F.when(is_type["reports"], F.col("user_id"))).alias("distinct_reporters"),
        F.sum((is_type["impressions"] & recent).cast("long")).alias("impressions_24h"),
        F.sum((is_type["reports"] & (F.col("event_ts") >= _hours_before(6))).cast("long")).alias(
            "reports_6h"
        ),
        F.sum((is_type["impressions"] & previous).cast("long")).alias("views_prev_24h"),
    ]
    counted = ev.groupBy("item_id", "as_of_ts").agg(*aggs)
    out = rows.join(counted, ["item_id", "as_of_ts"], "left").fillna(
        0, [*COUNTS, "distinct_reporters", "impressions_24h", "reports_6h", "views_prev_24h"]
    )
    for name, (num, den) in RATES.items():
        out = out.withColumn(name, _ratio(num, den))
    return out


def creator_history(
    rows: DataFrame, uploads: DataFrame, decisions: DataFrame, events: DataFrame
) -> DataFrame:
    """Each row's creator as of its `as_of_ts`: videos uploaded, account age (days since the first
    upload seen), and what happened to their other videos: removals and restrictions decided by
    people, and viewers' reports. uploads: item_id, creator_id, created_ts (every video known up
    to ds); events: item_id, event_type, event_ts."""
    keys = rows.select("item_id", "creator_id", "as_of_ts")
    videos = (
        keys.join(uploads.select(F.col("creator_id"), F.col("created_ts").alias("up_ts")), "creator_id")
        .where(F.col("up_ts") < F.col("as_of_ts"))
        .groupBy("item_id", "as_of_ts")
        .agg(F.count("*").alias("creator_videos"), F.min("up_ts").alias("first_upload"))
    )
    decided = decisions.where(F.col("reviewer") != "auto").select(
        "item_id", F.col("decided_ts").alias("ts"), F.col("decision").alias("what")
    )
    reported = events.where(F.col("event_type") == "report").select(
        "item_id", F.col("event_ts").alias("ts"), F.lit("report").alias("what")
    )
    signals = (
        decided.unionByName(reported)
        .join(uploads.select("item_id", "creator_id"), "item_id")
        .withColumnRenamed("item_id", "other")
    )
    prior = (
        keys.join(signals, "creator_id")
        .where((F.col("ts") < F.col("as_of_ts")) & (F.col("other") != F.col("item_id")))
        .groupBy("item_id", "as_of_ts")
        .agg(
            *[
                F.sum((F.col("what") == what).cast("long")).alias(name)
                for what, name in CREATOR_SIGNALS.items()
            ]
        )
    )
    age = (F.unix_timestamp("as_of_ts") - F.unix_timestamp("first_upload")) / 86400.0
    return (
        rows.join(videos, ["item_id", "as_of_ts"], "left")
        .join(prior, ["item_id", "as_of_ts"], "left")
        .fillna(0, ["creator_videos", *CREATOR_SIGNALS.values()])
        .withColumn("creator_account_age_days", F.coalesce(age, F.lit(0.0)))
        .drop("first_upload")
    )


def risk_features(
    catalog: DataFrame,
    uploads: DataFrame,
    events: DataFrame,
    decisions: DataFrame,
    ds: str,
    lookback_days: int,
    label_days: int,
    history_start: dt.datetime | None = None,
) -> DataFrame:
    """silver/item_risk_features rows of ds (without region/ds): keys, as_of_ts, reviewed, label,
    decided_ts, FEATURES and views_prev_24h. Inputs must hold nothing after ds's partition;
    history_start: see `feature_rows`."""
    rows = feature_rows(catalog, uploads, decisions, ds, lookback_days, label_days, history_start)
    out = creator_history(engagement(rows, events), uploads, decisions, events)
    age_hours = (F.unix_timestamp("as_of_ts") - F.unix_timestamp("created_ts")) / 3600.0
    return (
        out.withColumn("duration_s", F.col("duration_ms") / 1000.0)
        .withColumn("age_hours", age_hours)
        .withColumn("upload_hour", F.hour("created_ts").cast("double"))
        .select(
            "item_id",
            "creator_id",
            "as_of_ts",
            "reviewed",
            "label",
            "decided_ts",
            *[F.col(f).cast("double").alias(f) for f in FEATURES],
            F.col("views_prev_24h").cast("double"),
        )
    )
