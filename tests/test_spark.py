"""The session's code-generation settings follow the size of the night, and either way a query
gives the same rows."""

from pyspark.sql import functions as F

from nightfeed.spark import INTERPRETED_BELOW_EVENTS, codegen_settings, size_codegen

KEYS = ("spark.sql.codegen.wholeStage", "spark.sql.codegen.factoryMode")


def test_small_nights_are_interpreted_and_large_ones_generate_code():
    assert codegen_settings(0) == dict(zip(KEYS, ("false", "NO_CODEGEN"), strict=True))
    assert codegen_settings(INTERPRETED_BELOW_EVENTS - 1)[KEYS[1]] == "NO_CODEGEN"
    assert codegen_settings(INTERPRETED_BELOW_EVENTS) == dict(zip(KEYS, ("true", "FALLBACK"), strict=True))


def test_a_key_set_at_launch_is_left_alone():
    chosen = codegen_settings(5, set_at_launch=lambda key: key == KEYS[0])
    assert chosen == {KEYS[1]: "NO_CODEGEN"}


def _query(spark):
    rows = spark.range(2000).select(
        (F.col("id") % 7).alias("k"), (F.col("id") * 1.5).alias("v"), F.col("id").cast("string").alias("s")
    )
    return rows.where(F.col("v") > 10).groupBy("k").agg(F.sum("v").alias("v"), F.max("s").alias("s"))


def _rows_and_plan(spark, night_events: int) -> tuple[list, str]:
    size_codegen(spark, night_events)
    query = _query(spark)
    return sorted(query.collect()), query._jdf.queryExecution().executedPlan().toString()


def test_both_modes_give_the_same_rows_and_only_the_large_one_compiles(spark):
    try:
        interpreted, plan_small = _rows_and_plan(spark, 10)
        assert [spark.conf.get(k) for k in KEYS] == ["false", "NO_CODEGEN"]
        generated, plan_large = _rows_and_plan(spark, INTERPRETED_BELOW_EVENTS)
    finally:
        for key in KEYS:
            spark.conf.unset(key)
    assert interpreted == generated and len(generated) == 7
    assert "*(" not in plan_small and "*(1) Filter" in plan_large  # *(n): a whole-stage codegen stage
