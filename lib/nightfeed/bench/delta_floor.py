"""The floor of a spark-submit stage: start the Delta session, replace one (region, ds) slice of
5,000 rows with `replaceWhere` and read it back. Run by the `stages` benchmark as
`spark-submit delta_floor.py <table path> [--warm N]`; prints one JSON line.

With `--warm N` the session then repeats, N times, what a nightly stage does most in a warm JVM,
as small nights run it (`size_to_night`): one slice commit, a filtered read of the table just
written, and a filtered read of an unchanged table; it reports the median of each."""

import json
import statistics
import sys
import time

from pyspark.sql import functions as F

from nightfeed.runtime.spark import build_session, size_to_night

SLICE_ROWS = 5000


def write_and_count(spark, path: str, region: str, ds: str) -> tuple[float, float]:
    """Replace the (region, ds) slice and count it back: (write seconds, read seconds)."""
    rows = spark.range(SLICE_ROWS).select(
        F.col("id").alias("event_id"),
        (F.col("id") % 97).alias("user_id"),
        F.lit(region).alias("region"),
        F.lit(ds).alias("ds"),
    )
    where = f"region = '{region}' AND ds = '{ds}'"
    t0 = time.perf_counter()
    rows.write.format("delta").mode("overwrite").option("replaceWhere", where).partitionBy(
        "region", "ds"
    ).save(path)
    t1 = time.perf_counter()
    n = spark.read.format("delta").load(path).where(where).count()
    if n != SLICE_ROWS:
        raise SystemExit(f"read back {n} rows of {where}, wrote {SLICE_ROWS}")
    return t1 - t0, time.perf_counter() - t1


def warm_medians(spark, path: str, repeats: int) -> dict:
    size_to_night(spark, SLICE_ROWS)
    other = path + "_unchanged"
    write_and_count(spark, other, "ZQ", "2026-11-20")
    writes, reads_after, reads = [], [], []
    for i in range(repeats):
        w, r = write_and_count(spark, path, ("ZQ", "ZX", "ZY")[i % 3], f"2026-11-{10 + i // 3 % 20}")
        t0 = time.perf_counter()
        spark.read.format("delta").load(other).where("region = 'ZQ'").groupBy("user_id").count().collect()
        writes.append(w)
        reads_after.append(r)
        reads.append(time.perf_counter() - t0)
    return {
        "warm_repeats": repeats,
        "warm_commit_s": round(statistics.median(writes), 3),
        "warm_read_after_commit_s": round(statistics.median(reads_after), 3),
        "warm_read_s": round(statistics.median(reads), 3),
    }


if __name__ == "__main__":
    t0 = time.perf_counter()
    spark = build_session("nightfeed-delta-floor")
    t1 = time.perf_counter()
    write_s, read_s = write_and_count(spark, sys.argv[1], "ZQ", "2026-11-20")
    out = {"session_s": round(t1 - t0, 2), "write_read_s": round(write_s + read_s, 2), "rows": SLICE_ROWS}
    if "--warm" in sys.argv:
        out.update(warm_medians(spark, sys.argv[1], int(sys.argv[sys.argv.index("--warm") + 1])))
    print(json.dumps(out))
