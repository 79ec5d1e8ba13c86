"""Stage publish_feeds and the live feed of each region: the promotion gate, which (ds, table
version) readers see, rollback, and retention.

Publishing writes `gold/feeds` first and moves `gold/feed_pointer` second (each one atomic Delta
commit), so readers following the pointer never see a partial feed. Rollback only moves the
pointer; time travel on `gold/feeds` serves the older version.
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from .. import readonly, tables, text_tables
from ..config import Lake
from ..errors import NightfeedError
from ..settings import MaintenanceSettings, RegionConfig
from ..tables import LakeTables
from .artifacts import registered_meta, registered_model, registry_row
from .checks import checks_dir, fingerprint, require_validated

MAINTAIN_THREADS = 4
DELTA_SAFE_RETENTION_HOURS = 168  # Delta's own minimum (delta.deletedFileRetentionDuration)


KEEP_NEWER = "keep newer live feed"


def promotion_gate(t: LakeTables, lake: Lake, region: str, ds: str, cfg: RegionConfig, live) -> dict:
    """New model vs the live one (`live`: the region's pointer row, None before the first
    publish) on validation nDCG@k: may be worse by at most `gate.max_ndcg_drop`. Both are scored
    on tonight's validation folds (`train_model` records the live model's score there); without
    that record, on each model's own validation split. A night earlier than the live one is
    stored but never made live: only rollback moves the live feed back."""
    if live is not None and live["live_ds"] > ds:
        reason = (
            f"the live feed is of a later night ({live['live_ds']}); only `nightfeed rollback` moves it back"
        )
        return {"decision": KEEP_NEWER, "reason": reason}
    new = registered_model(t, region, ds)
    metric = f"ndcg@{cfg.model.k}"
    new_score = (new["validation_metrics"] or {}).get(metric)
    if live is None or live["live_ds"] == ds:
        return {"decision": "promote", "reason": "no other live feed to compare with", "new": new_score}
    live_score, compared_on = _live_score(t, lake, region, ds, live["model_version"], metric)
    if new_score is None or live_score is None:  # documented in conf: promote, say why
        return {
            "decision": "promote",
            "reason": f"no validation {metric} for the {'new' if new_score is None else 'live'} model",
            "new": new_score,
            "live": live_score,
        }
    margin = cfg.gate.max_ndcg_drop
    decision = "promote" if new_score >= live_score - margin else "reject"
    return {
        "decision": decision,
        "metric": metric,
        "new": round(new_score, 4),
        "live": round(live_score, 4),
        "live_model_version": live["model_version"],
        "max_drop": margin,
        "compared_on": compared_on,
    }


def _live_score(t: LakeTables, lake: Lake, region: str, ds: str, live_version: str, metric: str):
    """(the live model's validation `metric`, on which split): tonight's folds when train_model
    scored the live model there, else the live model's own registered validation."""
    found = registered_meta(t, lake, region, ds)
    baseline = (found[1].get("gate_baseline") if found else None) or {}
    if baseline.get("model_version") == live_version and metric in baseline.get("metrics", {}):
        return baseline["metrics"][metric], f"tonight's validation split ({baseline['how']})"
    reg = registry_row(t, region, live_version)
    score = (reg["validation_metrics"] or {}).get(metric) if reg else None
    return score, "each model's own validation split"


def record_gate(lake: Lake, region: str, ds: str, gate: dict) -> None:
    """The gate's decision next to the run's checks, for the quality report."""
    out = checks_dir(lake, region, ds)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gate.json").write_text(json.dumps(gate, default=str))


def publish_feeds(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    """Make the validated feed of (region, ds) the region's live feed, if the new model is good enough."""
    t = LakeTables(spark, lake.root)
    cand = t.require_slice("silver/feed_candidates", region, ds, "score_feeds")
    require_validated(lake, region, ds, fingerprint(cand.drop("region", "ds")))
    live = t.pointer(region)
    gate = promotion_gate(t, lake, region, ds, cfg, live)
    record_gate(lake, region, ds, gate)
    if gate["decision"] == "reject":
        stale = readonly.taken_down_since(
            lake.root, region, live["live_ds"], int(live["feeds_table_version"]), cfg.feed.eligible_moderation
        )
        raise NightfeedError(
            f"publish {region} {ds} refused by the promotion gate: validation {gate['metric']} "
            f"{gate['new']} is more than {gate['max_drop']} below the live model's {gate['live']} "
            f"({gate['live_model_version']}) on {gate['compared_on']}; the previous feed stays live"
            + (
                f" (warning: {text_tables.taken_down_note(live['live_ds'], stale)})"
                if stale["videos"]
                else ""
            )
        )
    t.write_slice("gold/feeds", cand, region, ds)
    tables.keep_log_days(spark, t.path("gold/feeds"), served_log_days(cfg.maintenance))
    published = t.read_slice("gold/feeds", region, ds)
    version = t.latest_version("gold/feeds")
    made_live = gate["decision"] != KEEP_NEWER
    if made_live:
        t.set_pointer(region, ds, published.select("model_version").first()[0], version)
    return {
        "rows": t.slice_rows("gold/feeds", region, ds),
        "users": published.select("user_id").distinct().count(),
        "table": t.path("gold/feeds"),
        "live_ds": ds if made_live else live["live_ds"],
        "feeds_table_version": version,
        "gate": gate,
    }


def live_pointer(spark: SparkSession, lake: Lake, region: str) -> dict:
    ptr = LakeTables(spark, lake.root).pointer(region)
    if ptr is None:
        raise NightfeedError(f"no live feed for region {region}: nothing was published yet")
    return ptr.asDict()


def live_feed(spark: SparkSession, lake: Lake, region: str):
    """The region's live feed: the pointer's ds read at the pointer's table version (time travel),
    so a later rewrite of that ds never changes what readers see until the pointer moves."""
    ptr = live_pointer(spark, lake, region)
    return (
        spark.read.format("delta")
        .option("versionAsOf", int(ptr["feeds_table_version"]))
        .load(LakeTables(spark, lake.root).path("gold/feeds"))
        .where(tables.slice_predicate(region, ptr["live_ds"]))
    )


def rollback(
    spark: SparkSession,
    lake: Lake,
    region: str,
    to_ds: str | None = None,
    to_version: int | None = None,
    *,
    eligible,
) -> dict:
    """Make an earlier feed live: the region's newest ds at table version N, or ds D as stored now.
    The feed is served as it was published; the summary counts its videos that reviewers took down
    since (not `eligible` any more)."""
    t = LakeTables(spark, lake.root)
    before = t.pointer(region)
    target = readonly.rollback_target(lake.root, region, to_ds, to_version, eligible)
    t.set_pointer(region, target["live_ds"], target["model_version"], target["feeds_table_version"])
    return {**target, "previous": before.asDict() if before else None}


def served_log_days(m: MaintenanceSettings) -> int:
    """Days of Delta log gold/feeds keeps: a live feed is read by time travel to its version, which
    must outlive the longest a pointer stays unchanged, plus the rollback window."""
    return m.live_feed_max_age_days + m.rollback_days


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
        tables.keep_log_days(spark, t.path("gold/feeds"), served_log_days(m))
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
