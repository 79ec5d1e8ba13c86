"""The review queue: selection-bias weights for training, expected views, priority, rank, reasons.

Only reviewed videos have labels, and the platform reviews the most-reported first, so reported
videos are over-represented among labels. Each labeled row is weighted by the inverse of the
review rate of its report-count bucket (reviewed / all rows of that bucket, clipped), so the
classifier is fit to the whole upload population, not to the reviewers' selection.
"""

from __future__ import annotations

import math

import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from nightfeed.audit.model import report_bucket

MAX_WEIGHT = 5.0
REASON_FEATURES = {  # feature -> words; features where a high value means risk
    "report_rate": "report rate",
    "reports": "reports",
    "distinct_reporters": "distinct reporters",
    "reports_6h": "reports in the last 6 h",
    "skip_rate": "skip rate",
    "creator_prior_removals": "creator's prior removals",
    "creator_prior_restrictions": "creator's prior restrictions",
    "creator_prior_reports": "reports on the creator's other videos",
    "impressions_24h": "views in the last 24 h",
}
EVIDENCE_REASON = 2.0  # nats: viewing counts at least e² ≈ 7× likelier from a violating video
LOW_FEATURES = {  # feature -> words; features where a low value means risk
    "completion_rate": "completion rate",
    "creator_account_age_days": "creator account age",
    "like_rate": "like rate",
}
N_REASONS = 3


def selection_weights(rows: DataFrame) -> DataFrame:
    """Labeled rows (reviewed) with `weight` = 1 / review rate of their report bucket, clipped to
    [1, MAX_WEIGHT]. rows: the day's feature rows, queued and reviewed."""
    rate = rows.groupBy(report_bucket().alias("bucket")).agg(
        F.avg(F.col("reviewed").cast("double")).alias("rate")
    )
    weight = F.least(F.lit(MAX_WEIGHT), F.greatest(F.lit(1.0), 1.0 / F.col("rate")))
    return (
        rows.where("reviewed")
        .withColumn("bucket", report_bucket())
        .join(rate, "bucket")
        .withColumn("weight", weight)
        .drop("bucket", "rate")
    )


def expected_views(age_hours: str = "age_hours") -> F.Column:
    """Views of the next 24 h from the recent trajectory: the last 24 h (scaled up for videos
    younger than a day), times last day's change, clipped to [0.25, 1]."""
    per_day = F.col("impressions_24h") * 24.0 / F.least(F.greatest(F.col(age_hours), F.lit(1.0)), F.lit(24.0))
    trend = (F.col("impressions_24h") + 1.0) / (F.col("views_prev_24h") + 1.0)
    change = F.when(F.col(age_hours) >= 48, F.least(F.greatest(trend, F.lit(0.25)), F.lit(1.0))).otherwise(
        0.8
    )
    return per_day * change


def rank_queue(scored: DataFrame, hold_threshold: float) -> DataFrame:
    """Queued rows with risk_score -> expected_views, priority (risk × expected views), rank
    (1..n by priority, ties by item_id) and `held` (risk at or above the hold threshold)."""
    out = scored.withColumn("expected_views", expected_views()).withColumn(
        "priority", F.col("risk_score") * F.col("expected_views")
    )
    order = Window.orderBy(F.col("priority").desc(), F.col("risk_score").desc(), F.col("item_id"))
    return out.withColumn("rank", F.row_number().over(order)).withColumn(
        "held", F.col("risk_score") >= F.lit(hold_threshold)
    )


def _ratio_words(name: str, value: float, median: float) -> str:
    if median > 0:
        return f"{name} {value / median:.1f}× region median"
    return f"{name} {value:.3g} (region median 0)"


def reasons(queue: pd.DataFrame, importances: dict[str, float], medians: dict[str, float]) -> pd.Series:
    """Each row's top contributing features in words: features far from the region's median in
    the risky direction, ranked by the model's importance × how far (log ratio)."""
    out = []
    for _, row in queue.iterrows():
        found = []
        weight = float(row.get("evidence", 0.0))  # every AuditModel.risk row has it; hand-built ones may not
        if weight >= EVIDENCE_REASON:
            likelier = f"{math.exp(weight):,.0f}×" if weight < math.log(1e4) else "over 10,000×"
            found.append(
                (
                    importances.get("evidence", 0.0) * weight,
                    f"skips, completions and likes {likelier} likelier from a violating video",
                )
            )
        for feat, words in REASON_FEATURES.items():
            if feat not in row:
                continue
            value, median = float(row[feat]), float(medians.get(feat, 0.0))
            if value > 0 and value >= 2 * median:
                strength = math.log2((value + 1e-9) / (median + 1e-9)) if median > 0 else 4.0 + value
                found.append((importances.get(feat, 0.0) * strength, _ratio_words(words, value, median)))
        for feat, words in LOW_FEATURES.items():
            if feat not in row:
                continue
            value, median = float(row[feat]), float(medians.get(feat, 0.0))
            if median > 0 and value <= median / 2:
                strength = math.log2(median / max(value, median / 64))
                text = (
                    f"{words} {value / median:.2f}× region median"
                    if value >= median / 100
                    else f"{words} {value:.3g} (region median {median:.3g})"
                )
                found.append((importances.get(feat, 0.0) * strength, text))
        found.sort(key=lambda x: -x[0])
        out.append([text for _, text in found[:N_REASONS]] or ["no feature far from the region median"])
    return pd.Series(out, index=queue.index)
