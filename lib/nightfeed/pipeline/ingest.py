"""Stages ingest_events and ingest_moderation: landing JSON Lines -> bronze, every line either a
typed row or a quarantine row with its reason (lines read = valid + quarantined)."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.core.errors import NightfeedError
from nightfeed.ingest import catalog, landing_files
from nightfeed.ingest import events as ev
from nightfeed.ingest import moderation as mod
from nightfeed.lake.schemas import empty_frame
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.inputs import shift


def _prior_ids(t: LakeTables, table: str, region: str, ds: str, cfg: RegionConfig):
    """Rows of `table` ingested for the region in the dedupe lookback before ds."""
    return t.read(table).where(
        (F.col("region") == region)
        & (F.col("ds") >= shift(ds, -cfg.ingest.dedupe_lookback_days))
        & (F.col("ds") < ds)
    )


def _land(
    t: LakeTables, result: ev.Classified, table: str, quarantine: str, region: str, ds: str, cfg: RegionConfig
) -> dict:
    """Write the quarantine rows, then (if the quarantined share is within the limit) the valid rows."""
    result.frame.persist()
    try:  # the first action: every landing file is read here
        counts = result.frame.groupBy("reason").count().collect()
    except Exception as exc:
        result.frame.unpersist()
        unreadable = landing_files.unreadable_file(exc)
        if unreadable is None:
            raise
        raise NightfeedError(
            f"ingest {table} {region} {ds}: cannot read landing file {unreadable}; {table} not "
            "updated: deliver the file again (or remove it) and rerun"
        ) from None
    reasons = {r["reason"] or "": r["count"] for r in counts}
    n_valid = reasons.pop("", 0)
    n_quarantined = sum(reasons.values())
    n_read = n_valid + n_quarantined
    t.write_slice(quarantine, result.quarantine, region, ds)
    share = n_quarantined / n_read if n_read else 0.0
    limit = cfg.ingest.max_quarantine_share
    if share > limit:
        result.frame.unpersist()
        raise NightfeedError(
            f"ingest {table} {region} {ds}: {n_quarantined} of {n_read} lines quarantined "
            f"({share:.1%} > max_quarantine_share {limit:.1%}); {table} not updated, see {quarantine}"
        )
    t.write_slice(table, result.valid, region, ds)
    result.frame.unpersist()
    return {
        "lines_read": n_read,
        "valid": n_valid,
        "quarantined": n_quarantined,
        "quarantine_reasons": reasons,
        "quarantine_share": round(share, 6),
    }


def _kept(t: LakeTables, table: str, region: str, ds: str, folder) -> dict | None:
    """The summary of a rerun whose landing folder is gone (cleaned up after an earlier ingest):
    the slice already in bronze stays as it is. None when there is no such slice to keep."""
    rows = t.slice_rows(table, region, ds) if t.exists(table) else 0
    if not rows:
        return None
    return {
        "lines_read": 0,
        "valid": 0,
        "quarantined": 0,
        "quarantine_reasons": {},
        "kept_rows": rows,
        "note": f"no landing folder {folder}: {table} of {region} {ds} kept as ingested before ({rows} rows)",
    }


def ingest_events(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    """Landing JSONL -> bronze/events + bronze/events_quarantine (and the item catalog likewise)."""
    t = LakeTables(spark, lake.root)
    folder = lake.landing("events", region, ds)
    summary = None if folder.is_dir() else _kept(t, "bronze/events", region, ds, folder)
    if summary is None:
        prior = _prior_ids(t, "bronze/events", region, ds, cfg)
        result = ev.classify_events(
            landing_files.read_lines(spark, folder),
            region,
            ds,
            cfg.ingest.late_arrival_tolerance_hours,
            prior,
            cfg.ingest.max_watch_ms,
        )
        summary = _land(t, result, "bronze/events", "bronze/events_quarantine", region, ds, cfg)
    item_dir = lake.landing("items", region, ds)
    if item_dir.is_dir():
        items = catalog.classify_items(
            landing_files.read_lines(spark, item_dir),
            region,
            ds,
            cfg.ingest.late_arrival_tolerance_hours,
            cfg.ingest.max_duration_ms,
        )
        landed = _land(t, items, "bronze/items", "bronze/items_quarantine", region, ds, cfg)
        summary["items"] = landed["valid"]
        summary["items_quarantined"] = landed["quarantined"]
        summary["items_quarantine_reasons"] = landed["quarantine_reasons"]
    else:
        summary["items_note"] = (
            f"no item catalog delivery at {item_dir}: the newest earlier catalog stays in use, "
            "with the review decisions since then applied"
        )
    return summary


def ingest_moderation(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    """Landing review decisions -> bronze/moderation_decisions + bronze/moderation_quarantine.

    A region without a moderation delivery for ds (e.g. a lake from before the audit) gets an
    empty slice and says so in its summary; a slice ingested before is kept (`_kept`).
    """
    t = LakeTables(spark, lake.root)
    folder = lake.landing("moderation", region, ds)
    if not folder.is_dir():
        kept = _kept(t, "bronze/moderation_decisions", region, ds, folder)
        if kept is not None:
            return kept
        empty = empty_frame(spark, t.read("bronze/moderation_decisions").schema)
        t.write_slice("bronze/moderation_decisions", empty, region, ds)
        return {"lines_read": 0, "valid": 0, "quarantined": 0, "note": f"no moderation delivery at {folder}"}
    prior = _prior_ids(t, "bronze/moderation_decisions", region, ds, cfg)
    result = mod.classify_decisions(
        landing_files.read_lines(spark, folder), region, ds, cfg.ingest.late_arrival_tolerance_hours, prior
    )
    return _land(t, result, "bronze/moderation_decisions", "bronze/moderation_quarantine", region, ds, cfg)
