"""Retention: how much history the lake keeps, and `nightfeed maintain` (OPTIMIZE, VACUUM) that
never deletes what rollback or a live feed still needs."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import MaintenanceSettings
from nightfeed.core.errors import NightfeedError
from nightfeed.lake import readonly, tables
from nightfeed.lake.tables import LakeTables

MAINTAIN_THREADS = 4
DELTA_SAFE_RETENTION_HOURS = 168  # Delta's own minimum (delta.deletedFileRetentionDuration)
DELTA_LOG_DAYS = 30  # delta.logRetentionDuration's default


def served_log_days(m: MaintenanceSettings) -> int:
    """Days of Delta log gold/feeds keeps: a live feed is read by time travel to its version, which
    must outlive the longest a pointer stays unchanged, plus the rollback window."""
    return m.live_feed_max_age_days + m.rollback_days


def keep_served_log(spark: SparkSession, lake: Lake, m: MaintenanceSettings) -> None:
    """Raise gold/feeds' `delta.logRetentionDuration` to `served_log_days` (never lowered; a
    metadata commit only when it changes)."""
    path = LakeTables(spark, lake.root).path("gold/feeds")
    current = (
        readonly.table_property(Path(path), "delta.logRetentionDuration") or f"interval {DELTA_LOG_DAYS} days"
    )
    found = re.fullmatch(r"interval (\d+) days?", current.strip().lower())
    days = served_log_days(m)
    if not found or int(found.group(1)) < days:
        tables.set_properties(spark, path, {"delta.logRetentionDuration": f"interval {days} days"})


def live_versions(spark: SparkSession, lake: Lake) -> list[int]:
    """The gold/feeds versions the regions' live pointers name."""
    t = LakeTables(spark, lake.root)
    if not t.exists("gold/feed_pointer"):
        return []
    return sorted({int(r["feeds_table_version"]) for r in t.read("gold/feed_pointer").collect()})


def retention_needed_hours(spark: SparkSession, lake: Lake, rollback_days: int) -> float:
    """Hours of history VACUUM must keep: the rollback window, and every live pointer's version."""
    needed = rollback_days * 24.0
    t = LakeTables(spark, lake.root)
    versions = live_versions(spark, lake)
    if versions and t.exists("gold/feeds"):
        hist = (
            DeltaTable.forPath(spark, t.path("gold/feeds"))
            .history()
            .where(F.col("version").isin(versions))
            .agg(F.min("timestamp"))
            .first()[0]
        )
        if hist is not None:
            needed = max(needed, (dt.datetime.now() - hist).total_seconds() / 3600.0 + 24.0)
    return needed


def live_files_guard(spark: SparkSession, lake: Lake, retention_hours: float) -> str | None:
    """Why gold/feeds must not be vacuumed now, or None: each live version's file list is read
    (delta-rs) and compared with what VACUUM would delete (its dry run) at `retention_hours`."""
    path = LakeTables(spark, lake.root).path("gold/feeds")
    live: set[str] = set()
    for version in live_versions(spark, lake):
        files = readonly.version_files(Path(path), version)
        if files is None:
            return f"a live feed is gold/feeds version {version}, whose Delta log is gone: vacuum skipped"
        live |= {Path(f).name for f in files}
    quoted = path.replace("`", "``")
    doomed = spark.sql(f"VACUUM delta.`{quoted}` RETAIN {retention_hours} HOURS DRY RUN").collect()
    hit = sorted(name for name in (Path(r[0]).name for r in doomed) if name in live)
    if hit:
        return f"VACUUM would delete {len(hit)} files of a live feed (e.g. {hit[0]}): vacuum skipped"
    return None


def maintain(
    spark: SparkSession,
    lake: Lake,
    retention_hours: float,
    m: MaintenanceSettings,
    dry_run: bool = False,
    force: bool = False,
) -> dict:
    """OPTIMIZE (compaction) and VACUUM every table, keeping at least what rollback and live feeds
    need; gold/feeds is vacuumed only when no live feed's file would go (`live_files_guard`)."""
    if m.rollback_days < 1:
        raise NightfeedError(f"maintenance.rollback_days = {m.rollback_days}: must be at least 1")
    if retention_hours < DELTA_SAFE_RETENTION_HOURS and not force:
        raise NightfeedError(
            f"retention {retention_hours:g} h is below Delta's {DELTA_SAFE_RETENTION_HOURS} h safety "
            "default: VACUUM could delete files a running reader or writer still needs; pass --force "
            "to vacuum with it anyway"
        )
    needed = retention_needed_hours(spark, lake, m.rollback_days)
    effective = max(float(retention_hours), needed)
    if force:
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    # VACUUM lists the table's folders in a Spark job with this many tasks (default 10,000):
    # ~50 s per small table on 2 cores, ~5 s with one task per core.
    spark.conf.set(
        "spark.sql.sources.parallelPartitionDiscovery.parallelism", str(spark.sparkContext.defaultParallelism)
    )
    t = LakeTables(spark, lake.root)
    present = [table for table in tables.TABLES if t.exists(table)]
    if "gold/feeds" in present and not dry_run:
        keep_served_log(spark, lake, m)
    if dry_run:
        done = {table: {"would_vacuum_hours": effective} for table in present}
    else:
        # Each table's OPTIMIZE and VACUUM is a few small Spark jobs, mostly driver-side planning
        # and log replay: a few tables at once keep both cores busy (20 small tables here: 57 s,
        # against 79 s one by one).
        with ThreadPoolExecutor(max_workers=MAINTAIN_THREADS) as pool:
            work = [pool.submit(_compact_and_vacuum, t, lake, table, effective) for table in present]
            done = {table: job.result() for table, job in zip(present, work)}
    return {
        "retention_hours_configured": float(retention_hours),
        "retention_hours_needed": round(needed, 1),
        "retention_hours_used": round(effective, 1),
        "tables": done,
    }


def _compact_and_vacuum(t: LakeTables, lake: Lake, table: str, retention_hours: float) -> dict:
    dt_ = DeltaTable.forPath(t.spark, t.path(table))
    compacted = (
        dt_.optimize().executeCompaction().select("metrics.numFilesRemoved", "metrics.numFilesAdded").first()
    )
    skipped = live_files_guard(t.spark, lake, retention_hours) if table == "gold/feeds" else None
    if skipped is None:
        dt_.vacuum(retention_hours)
    return {
        "files_removed_by_optimize": int(compacted[0] or 0),
        "files_added_by_optimize": int(compacted[1] or 0),
        "version": t.latest_version(table),
        **({"vacuum": skipped} if skipped else {}),
    }
