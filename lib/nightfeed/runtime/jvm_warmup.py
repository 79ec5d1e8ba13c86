"""The warm-up job whose loaded classes become the JVM class archive (see venv_spark): a Delta
session, a `replaceWhere` write, a MERGE, history, a window, an aggregate, a join and an Arrow
round trip through pandas — what the nightly stages do, with the settings of a small night and of
a large one (see `spark.night_settings`). Run by `nightfeed setup-spark` as
`spark-submit jvm_warmup.py <scratch folder>`."""

import sys

from delta.tables import DeltaTable
from pyspark.sql import Window
from pyspark.sql import functions as F

from nightfeed.runtime.spark import SMALL_NIGHT_EVENTS, build_session, size_to_night


def stage_like_work(spark, path: str) -> None:
    rows = spark.range(5000).select(
        F.col("id").alias("event_id"),
        (F.col("id") % 97).alias("user_id"),
        (F.col("id") % 13).cast("string").alias("item_id"),
        F.rand(7).alias("score"),
        F.lit("ZQ").alias("region"),
        F.lit("2026-11-20").alias("ds"),
    )
    where = "region = 'ZQ' AND ds = '2026-11-20'"
    rows.write.format("delta").mode("overwrite").option("replaceWhere", where).partitionBy(
        "region", "ds"
    ).save(path)
    table = DeltaTable.forPath(spark, path)
    (
        table.alias("t")
        .merge(rows.limit(100).alias("s"), "t.event_id = s.event_id")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )
    table.history(1).collect()
    events = spark.read.format("delta").load(path).where(where)
    ranked = events.withColumn(
        "rank", F.row_number().over(Window.partitionBy("user_id").orderBy(F.desc("score")))
    )
    per_item = (
        ranked.where("rank <= 5")
        .groupBy("item_id")
        .agg(
            F.count("*").alias("n"),
            F.avg("score").alias("mean_score"),
            F.collect_list("user_id").alias("users"),
        )
    )
    frame = per_item.join(events.select("item_id").distinct(), "item_id", "left").toPandas()
    spark.createDataFrame(frame).write.format("delta").mode("overwrite").save(f"{path}_out")


if __name__ == "__main__":
    session = build_session("nightfeed-jvm-warmup")
    for night_events in (0, SMALL_NIGHT_EVENTS):
        size_to_night(session, night_events)
        stage_like_work(session, f"{sys.argv[1]}/warmup")
    session.stop()
