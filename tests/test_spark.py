"""The session's code-generation and adaptive-execution settings follow the size of the night,
and either way a query gives the same rows."""

from pyspark.sql import functions as F

from nightfeed.runtime.spark import SMALL_NIGHT_EVENTS, night_settings, size_to_night

KEYS = ("spark.sql.codegen.wholeStage", "spark.sql.codegen.factoryMode", "spark.sql.adaptive.enabled")
SMALL, LARGE = ("false", "NO_CODEGEN", "false"), ("true", "FALLBACK", "true")


def test_small_nights_are_interpreted_and_large_ones_generate_code():
    assert night_settings(0) == dict(zip(KEYS, SMALL, strict=True))
    assert night_settings(SMALL_NIGHT_EVENTS - 1) == dict(zip(KEYS, SMALL, strict=True))
    assert night_settings(SMALL_NIGHT_EVENTS) == dict(zip(KEYS, LARGE, strict=True))


def test_a_key_set_at_launch_is_left_alone():
    chosen = night_settings(5, set_at_launch=lambda key: key == KEYS[0])
    assert chosen == {KEYS[1]: "NO_CODEGEN", KEYS[2]: "false"}


def _query(spark):
    rows = spark.range(2000).select(
        (F.col("id") % 7).alias("k"), (F.col("id") * 1.5).alias("v"), F.col("id").cast("string").alias("s")
    )
    return rows.where(F.col("v") > 10).groupBy("k").agg(F.sum("v").alias("v"), F.max("s").alias("s"))


def _rows_and_plan(spark, night_events: int) -> tuple[list, str]:
    size_to_night(spark, night_events)
    query = _query(spark)
    return sorted(query.collect()), query._jdf.queryExecution().executedPlan().toString()


def test_both_modes_give_the_same_rows_and_only_the_large_one_compiles_and_adapts(spark):
    try:
        interpreted, plan_small = _rows_and_plan(spark, 10)
        assert tuple(spark.conf.get(k) for k in KEYS) == SMALL
        generated, plan_large = _rows_and_plan(spark, SMALL_NIGHT_EVENTS)
    finally:
        for key in KEYS:
            spark.conf.unset(key)
    assert interpreted == generated and len(generated) == 7
    assert "*(" not in plan_small and "*(1) Filter" in plan_large  # *(n): a whole-stage codegen stage
    assert "AdaptiveSparkPlan" not in plan_small and "AdaptiveSparkPlan" in plan_large
