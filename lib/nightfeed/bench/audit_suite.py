"""`nightfeed benchmark --suite audit`: the two audit classifiers at scale, trained and scored on
Spark: xgboost's PySpark estimator and Spark MLlib's GBTClassifier, on a generated table of
videos × the audit features (a planted violation signal, 3% positives), 80/20 split by id.
JSON: {"scale", "rows", "stages": {name: {"wall_s", "peak_rss_mb"}}, "quality": {...}}.
"""

from __future__ import annotations

from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from nightfeed.audit.features import FEATURES
from nightfeed.audit.model import KINDS, AuditModel
from nightfeed.bench.harness import materialise, stage
from nightfeed.runtime.spark import task_slots

ROWS = {"small": 50_000, "default": 1_000_000, "large": 3_000_000}
BASE_RATE = 0.03


def feature_table(spark: SparkSession, rows: int, seed: int = 7):
    """`rows` videos with every audit feature, `label` and `weight` (1); violating videos are
    reported, skipped and made by creators with removals more often, as on the platform. The
    viewing counts are consistent (skips about binomial in impressions, the rest within plays)."""
    df = spark.range(rows).withColumnRenamed("id", "vid")
    df = df.withColumn("label", (F.rand(seed) < BASE_RATE).cast("int"))
    y = F.col("label").cast("double")
    for k, name in enumerate(FEATURES):
        df = df.withColumn(name, F.rand(seed + 1 + k) * 10.0)
    impressions, p_skip = F.col("impressions"), 0.35 + 0.08 * y
    spread = F.sqrt(impressions * p_skip * (1 - p_skip)) * F.randn(seed + 103)
    signal = {
        "reports": F.floor(F.rand(seed + 101) * (1.2 + 1.0 * y)),
        "report_rate": F.rand(seed + 102) * (0.01 + 0.01 * y),
        "creator_prior_removals": F.floor(F.rand(seed + 104) * (1.0 + 0.8 * y)),
        "creator_account_age_days": F.rand(seed + 105) * (400.0 - 150.0 * y),
        "impressions": F.floor(F.rand(seed + 106) * 60) + 1,
        "skips": F.least(impressions, F.greatest(F.lit(0.0), F.round(impressions * p_skip + spread))),
        "plays": impressions - F.col("skips"),
        "finishes": F.floor(F.col("plays") * F.rand(seed + 107) * 0.4),
        "likes": F.floor(F.col("plays") * F.rand(seed + 108) * 0.2),
        "shares": F.floor(F.col("plays") * F.rand(seed + 109) * 0.05),
        "comments": F.floor(F.col("plays") * F.rand(seed + 110) * 0.05),
        "skip_rate": F.col("skips") / impressions,
    }
    for name, column in signal.items():
        df = df.withColumn(name, column.cast("double"))
    return df.withColumn("weight", F.lit(1.0)).withColumn("item_id", F.col("vid").cast("string"))


def audit_suite(spark: SparkSession, scale: str) -> dict:
    """Train and score both classifiers on the scale's table; wall time, peak memory, PR-AUC."""
    rows = ROWS[scale]
    table = feature_table(spark, rows).repartition(max(2, spark.sparkContext.defaultParallelism)).cache()
    materialise(table)
    train, valid, test = (
        table.where(F.col("vid") % 10 < 7),
        table.where(F.col("vid") % 10 == 7),
        table.where(F.col("vid") % 10 >= 8),
    )
    stages, quality = {}, {}
    workers = task_slots(spark)
    for kind in KINDS:
        model = AuditModel(kind, seed=1, n_workers=workers)
        with stage(stages, f"{kind}_train"):
            model.fit(train, valid)
        with stage(stages, f"{kind}_score"):
            scored = model.risk(test).select("label", "risk_score").cache()
            materialise(scored)
        evaluator = BinaryClassificationEvaluator(
            rawPredictionCol="risk_score", labelCol="label", metricName="areaUnderPR"
        )
        quality[kind] = {
            "pr_auc": round(evaluator.evaluate(scored.withColumn("label", F.col("label").cast("double"))), 4),
            "mean_risk": round(scored.agg(F.avg("risk_score")).first()[0], 4),
        }
        scored.unpersist()
    table.unpersist()
    best = max(KINDS, key=lambda k: quality[k]["pr_auc"])
    return {
        "scale": scale,
        "rows": rows,
        "features": len(FEATURES),
        "positive_share": BASE_RATE,
        "stages": stages,
        "quality": {**quality, "better": best},
    }
