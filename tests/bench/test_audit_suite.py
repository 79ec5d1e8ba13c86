"""The audit benchmark's generated table: consistent viewing counts with a planted signal."""

from pyspark.sql import functions as F

from nightfeed.audit.features import FEATURES
from nightfeed.bench.audit_suite import feature_table


def test_viewing_counts_are_consistent_and_carry_the_signal(spark):
    df = feature_table(spark, 4000)
    assert set(FEATURES) <= set(df.columns)
    bad = df.where(
        (F.col("skips") > F.col("impressions"))
        | (F.col("plays") + F.col("skips") != F.col("impressions"))
        | (F.col("finishes") > F.col("plays"))
        | (F.col("likes") > F.col("plays"))
    )
    assert bad.count() == 0
    rates = {
        r["label"]: r["rate"]
        for r in df.groupBy("label").agg((F.sum("skips") / F.sum("impressions")).alias("rate")).collect()
    }
    assert rates[1] > rates[0] + 0.04
