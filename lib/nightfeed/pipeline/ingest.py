"""Stage ingest_events: landing JSON Lines -> bronze, every line either a typed row or a
quarantine row with its reason (lines read = valid + quarantined)."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from .. import events as ev
from ..config import Lake
from ..errors import NightfeedError
from ..settings import RegionConfig
from ..tables import LakeTables
from .inputs import shift


def ingest_events(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    """Landing JSONL -> bronze/events + bronze/events_quarantine (and the item catalog likewise)."""
    t = LakeTables(spark, lake.root)
    lines = ev.read_lines(spark, lake.landing("events", region, ds))
    prior = t.read("bronze/events").where(
        (F.col("region") == region)
        & (F.col("ds") >= shift(ds, -cfg.ingest.dedupe_lookback_days))
        & (F.col("ds") < ds)
    )
    result = ev.classify_events(lines, region, ds, cfg.ingest.late_arrival_tolerance_hours, prior)
    result.frame.persist()
    reasons = {r["reason"] or "": r["count"] for r in result.frame.groupBy("reason").count().collect()}
    n_valid = reasons.pop("", 0)
    n_quarantined = sum(reasons.values())
    n_read = n_valid + n_quarantined
    t.write_slice("bronze/events_quarantine", result.quarantine, region, ds)
    share = n_quarantined / n_read if n_read else 0.0
    summary = {
        "lines_read": n_read,
        "valid": n_valid,
        "quarantined": n_quarantined,
        "quarantine_reasons": reasons,
        "quarantine_share": round(share, 6),
    }
    limit = cfg.ingest.max_quarantine_share
    if share > limit:
        result.frame.unpersist()
        raise NightfeedError(
            f"ingest {region} {ds}: {n_quarantined} of {n_read} lines quarantined "
            f"({share:.1%} > max_quarantine_share {limit:.1%}); "
            f"bronze/events not updated, see bronze/events_quarantine"
        )
    t.write_slice("bronze/events", result.valid, region, ds)
    result.frame.unpersist()
    item_dir = lake.landing("items", region, ds)
    if item_dir.is_dir():
        items = ev.classify_items(ev.read_lines(spark, item_dir), region, ds)
        items.frame.persist()
        item_counts = {
            r["ok"]: r["count"]
            for r in items.frame.groupBy(F.col("reason").isNull().alias("ok")).count().collect()
        }
        t.write_slice("bronze/items", items.valid, region, ds)
        t.write_slice("bronze/items_quarantine", items.quarantine, region, ds)
        items.frame.unpersist()
        summary["items"] = item_counts.get(True, 0)
        summary["items_quarantined"] = item_counts.get(False, 0)
    return summary
