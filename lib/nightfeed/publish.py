"""The live feed of each region: which (ds, table version) readers see, rollback, and retention.

Publishing writes `gold/feeds` first and moves `gold/feed_pointer` second (each one atomic Delta
commit), so readers following the pointer never see a partial feed. Rollback only moves the
pointer; time travel on `gold/feeds` serves the older version.
"""
from __future__ import annotations

import datetime as dt

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from . import tables
from .config import Lake
from .errors import NightfeedError


def live_pointer(spark: SparkSession, lake: Lake, region: str) -> dict:
    ptr = tables.pointer(spark, lake.table("gold/feed_pointer"), region)
    if ptr is None:
        raise NightfeedError(f"no live feed for region {region}: nothing was published yet")
    return ptr.asDict()


def live_feed(spark: SparkSession, lake: Lake, region: str):
    """The region's live feed: the pointer's ds read at the pointer's table version (time travel),
    so a later rewrite of that ds never changes what readers see until the pointer moves."""
    ptr = live_pointer(spark, lake, region)
    return (spark.read.format("delta").option("versionAsOf", int(ptr["feeds_table_version"]))
            .load(lake.table("gold/feeds")).where(tables.slice_predicate(region, ptr["live_ds"])))


def rollback(spark: SparkSession, lake: Lake, region: str, to_ds: str | None = None, to_version: int | None = None) -> dict:
    """Make an earlier feed live: the region's newest ds at table version N, or ds D as stored now."""
    feeds = lake.table("gold/feeds")
    if not tables.exists(spark, feeds):
        raise NightfeedError("no gold/feeds table yet: nothing to roll back to")
    before = tables.pointer(spark, lake.table("gold/feed_pointer"), region)
    if to_version is not None:
        try:
            df = spark.read.format("delta").option("versionAsOf", int(to_version)).load(feeds)
            latest = df.where(tables.slice_predicate(region)).agg(F.max("ds")).first()[0]
        except Exception as exc:  # noqa: BLE001 - Delta raises JVM errors for unknown/vacuumed versions
            raise NightfeedError(f"cannot read gold/feeds at version {to_version}: {str(exc).splitlines()[0][:200]}") from None
        if latest is None:
            raise NightfeedError(f"gold/feeds version {to_version} holds no feed for region {region}")
        ds, version = latest, int(to_version)
    elif to_ds is not None:
        version = tables.latest_version(spark, feeds)
        ds = to_ds
    else:
        raise NightfeedError("rollback needs --to-ds or --to-version")
    slice_df = spark.read.format("delta").option("versionAsOf", version).load(feeds).where(tables.slice_predicate(region, ds))
    first = slice_df.select("model_version").first()
    if first is None:
        available = [r[0] for r in tables.read(spark, feeds).where(tables.slice_predicate(region))
                     .select("ds").distinct().orderBy("ds").collect()]
        raise NightfeedError(f"no published feed for region {region} ds {ds}; published: {available}")
    tables.set_pointer(spark, lake.table("gold/feed_pointer"), region, ds, first[0], version)
    return {"region": region, "live_ds": ds, "feeds_table_version": version, "model_version": first[0],
            "rows": slice_df.count(), "previous": before.asDict() if before else None}


def retention_needed_hours(spark: SparkSession, lake: Lake, rollback_days: int) -> float:
    """Hours of history VACUUM must keep: the rollback window, and every live pointer's version."""
    needed = rollback_days * 24.0
    ptr_table, feeds = lake.table("gold/feed_pointer"), lake.table("gold/feeds")
    if tables.exists(spark, ptr_table) and tables.exists(spark, feeds):
        versions = [r["feeds_table_version"] for r in tables.read(spark, ptr_table).collect()]
        if versions:
            hist = DeltaTable.forPath(spark, feeds).history().where(F.col("version").isin(versions)).agg(F.min("timestamp")).first()[0]
            if hist is not None:
                needed = max(needed, (dt.datetime.now() - hist).total_seconds() / 3600.0 + 24.0)
    return needed


def maintain(spark: SparkSession, lake: Lake, retention_hours: float, rollback_days: int, dry_run: bool = False) -> dict:
    """OPTIMIZE (compaction) and VACUUM every table, keeping at least what rollback and live feeds need."""
    needed = retention_needed_hours(spark, lake, rollback_days)
    effective = max(float(retention_hours), needed)
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    # VACUUM lists the table's folders in a Spark job with this many tasks (default 10,000):
    # ~50 s per small table on 2 cores, ~5 s with one task per core.
    spark.conf.set("spark.sql.sources.parallelPartitionDiscovery.parallelism", str(spark.sparkContext.defaultParallelism))
    done = {}
    for table in tables.TABLES:
        path = lake.table(table)
        if not tables.exists(spark, path):
            continue
        dt_ = DeltaTable.forPath(spark, path)
        if dry_run:
            done[table] = {"would_vacuum_hours": effective}
            continue
        compacted = dt_.optimize().executeCompaction().select("metrics.numFilesRemoved", "metrics.numFilesAdded").first()
        dt_.vacuum(effective)
        done[table] = {"files_removed_by_optimize": int(compacted[0] or 0), "files_added_by_optimize": int(compacted[1] or 0),
                       "version": tables.latest_version(spark, path)}
    return {"retention_hours_configured": float(retention_hours), "retention_hours_needed": round(needed, 1),
            "retention_hours_used": round(effective, 1), "tables": done}
