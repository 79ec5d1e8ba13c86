"""Stage publish_feeds and the live feed of each region: the promotion gate, which (ds, table
version) readers see, rollback, and retention.

Publishing writes `gold/feeds` first and moves `gold/feed_pointer` second (each one atomic Delta
commit), so readers following the pointer never see a partial feed. Rollback only moves the
pointer; time travel on `gold/feeds` serves the older version.
"""

from __future__ import annotations

import json

from pyspark.sql import SparkSession

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.core.errors import NightfeedError
from nightfeed.lake import readonly, tables
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import registered_meta, registered_model, registry_row
from nightfeed.pipeline.checks import checks_dir, fingerprint, require_validated
from nightfeed.pipeline.retention import keep_served_log
from nightfeed.reports import text_tables

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
    keep_served_log(spark, lake, cfg.maintenance)
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
