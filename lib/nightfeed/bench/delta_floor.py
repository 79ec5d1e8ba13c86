"""The floor of a spark-submit stage: start the Delta session, replace one (region, ds) slice of
5,000 rows with `replaceWhere` and read it back. Run by the `stages` benchmark as
`spark-submit delta_floor.py <table path>`; prints one JSON line."""

import json
import sys
import time

from pyspark.sql import functions as F

from nightfeed.spark import build_session

if __name__ == "__main__":
    t0 = time.perf_counter()
    spark = build_session("nightfeed-delta-floor")
    t1 = time.perf_counter()
    rows = spark.range(5000).select(
        F.col("id").alias("event_id"),
        (F.col("id") % 97).alias("user_id"),
        F.lit("ZQ").alias("region"),
        F.lit("2026-11-20").alias("ds"),
    )
    where = "region = 'ZQ' AND ds = '2026-11-20'"
    (
        rows.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", where)
        .partitionBy("region", "ds")
        .save(sys.argv[1])
    )
    n = spark.read.format("delta").load(sys.argv[1]).where(where).count()
    t2 = time.perf_counter()
    print(json.dumps({"session_s": round(t1 - t0, 2), "write_read_s": round(t2 - t1, 2), "rows": n}))
