"""`nightfeed benchmark --suite audit-world`: the audit targets on the synthetic platform.

For each world (default; violating share doubled and halved; two thirds of reports false) and
each nightly region: `HISTORY_DAYS` days of the platform go straight into bronze (valid rows
only; landing and ingest have their own tests and would take most of the time here), then the
real audit stages run for the last `NIGHTS` nights, and each night's queue is scored against the
hidden truth. Precision@C and violating views prevented are pooled over the nights (hits and
views summed), for the model and each baseline.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import pandas as pd
from pyspark.sql import functions as F

from nightfeed import pipeline
from nightfeed.audit.metrics import METHODS
from nightfeed.configuration import config
from nightfeed.configuration.settings import with_changes
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.inputs import shift
from nightfeed.runtime.spark import build_session
from nightfeed.synthetic import landing as synthetic_landing
from nightfeed.synthetic import world as synthetic
from nightfeed.synthetic.review import moderation

HISTORY_DAYS = 21
NIGHTS = 3
LAST_DS = "2026-11-25"
WORLDS = {
    "default": {},
    "violating_x2": {"violating_share": 0.06},
    "violating_half": {"violating_share": 0.015},
    "false_reports_2_3": {"false_report_share": 2 / 3},
}
AUDIT_STAGES = ("build_audit_features", "train_audit_model", "score_audit_queue", "evaluate_audit")


def land_bronze(spark, root: Path, cfg, region: str, days: list[str], seed: int) -> None:
    """The platform's days as bronze rows (events, catalogs, decisions) and its truth file."""
    t = LakeTables(spark, root)
    capacity = cfg.audit.daily_review_capacity
    for ds in days:
        ev = pd.DataFrame(synthetic.events(cfg.synthetic, seed, region, ds, capacity))
        ev["event_ts"] = pd.to_datetime(ev["event_ts"], utc=True, format="ISO8601").dt.tz_localize(None)
        ev = ev.assign(ds=ds, source_file="generated", watch_ms=ev["watch_ms"].astype("Int64"))
        t.write_slice("bronze/events", spark.createDataFrame(ev), region, ds)
        cat = synthetic.catalog(cfg.synthetic, seed, region, ds, capacity)
        items = pd.DataFrame(
            {
                "item_id": cat.ids.astype(str),
                "creator_id": cat.creator.astype(str),
                "duration_ms": cat.duration_ms,
                "created_ts": pd.to_datetime(cat.created_ts, unit="s"),
                "moderation_status": cat.status,
                "region": region,
                "ds": ds,
            }
        )
        t.write_slice("bronze/items", spark.createDataFrame(items), region, ds)
        rows = moderation(cfg.synthetic, seed, region, ds, capacity).decision_rows(region, cat.ids)
        dec = pd.DataFrame(rows).assign(ds=ds, source_file="generated")
        dec["decided_ts"] = pd.to_datetime(dec["decided_ts"], utc=True).dt.tz_localize(None)
        t.write_slice("bronze/moderation_decisions", spark.createDataFrame(dec), region, ds)
        synthetic_landing.merge_truth(
            root / "landing" / "audit_truth" / f"region={region}" / "truth.jsonl", cat
        )


def pooled(metrics: pd.DataFrame, capacity: int) -> dict:
    """Per method: precision@C and violating views prevented pooled over the nights."""
    value = metrics.set_index(["ds", "method", "metric"])["value"]
    nights = sorted(metrics["ds"].unique())
    out = {}
    filled = {d: min(capacity, value[d, "queue", "videos"]) for d in nights}
    for m in METHODS:
        hits = sum(value[d, m, "precision_at_c"] * filled[d] for d in nights if filled[d])
        views = sum(value[d, m, "violating_views_prevented"] for d in nights)
        out[m] = {
            "precision_at_c": round(hits / max(sum(filled.values()), 1), 4),
            "views_prevented": round(views, 1),
        }
    best_p = max(out[m]["precision_at_c"] for m in METHODS[1:])
    best_v = max(out[m]["views_prevented"] for m in METHODS[1:])
    out["precision_ratio"] = round(out["model"]["precision_at_c"] / best_p, 2) if best_p else None
    out["views_ratio"] = round(out["model"]["views_prevented"] / best_v, 2) if best_v else None
    # The same ratios for an order that knows the truth: below a target, no order reaches it.
    best_hits = sum(value[d, "queue", "best_precision_at_c"] * filled[d] for d in nights if filled[d])
    best_views = sum(value[d, "queue", "best_violating_views_prevented"] for d in nights)
    out["ceiling"] = {
        "precision_ratio": round(best_hits / max(sum(filled.values()), 1) / best_p, 2) if best_p else None,
        "views_ratio": round(best_views / best_v, 2) if best_v else None,
    }
    out["violating_in_queues"] = int(sum(value[d, "queue", "violating"] for d in nights))
    out["holds"] = {
        h: int(sum(value.get((d, "holds", h), 0) for d in nights)) for h in ("held", "held_benign")
    }
    return out


def audit_world_suite(regions: list[str] | None = None, worlds: dict | None = None, seed: int = 42) -> dict:
    spark = build_session("nightfeed-bench-audit-world")
    regions = regions or config.nightly_regions()
    results = {}
    days = [shift(LAST_DS, -k) for k in range(HISTORY_DAYS - 1, -1, -1)]
    for world, changes in (worlds or WORLDS).items():
        for region in regions:
            cfg = config.region_settings(region)
            cfg = dataclasses.replace(cfg, synthetic=dataclasses.replace(cfg.synthetic, **changes))
            cfg = with_changes(cfg, model={"seed": seed})
            with tempfile.TemporaryDirectory(prefix="nightfeed-audit-world-") as tmp:
                lake = config.Lake(Path(tmp))
                t0 = time.perf_counter()
                land_bronze(spark, lake.root, cfg, region, days, seed)
                nights = []
                for ds in days[-NIGHTS:]:
                    for st in AUDIT_STAGES:
                        summary = pipeline.run(spark, lake, st, region, ds, cfg)
                    nights.append(summary)
                metrics = (
                    LakeTables(spark, lake.root)
                    .read("gold/audit_metrics")
                    .where(F.col("region") == region)
                    .toPandas()
                )
                models = [summary_of_model(spark, lake, region, d) for d in days[-NIGHTS:]]
            results[f"{world}/{region}"] = {
                **pooled(metrics, cfg.audit.daily_review_capacity),
                "models": models,
                "seconds": round(time.perf_counter() - t0, 1),
            }
            print(world, region, results[f"{world}/{region}"], flush=True)
    summary = {
        k: {"precision_ratio": v["precision_ratio"], "views_ratio": v["views_ratio"], "ceiling": v["ceiling"]}
        for k, v in results.items()
    }
    return {
        "history_days": HISTORY_DAYS,
        "nights": NIGHTS,
        "worlds": WORLDS,
        "results": results,
        "summary": summary,
    }


def summary_of_model(spark, lake, region: str, ds: str) -> str:
    row = (
        LakeTables(spark, lake.root)
        .read_slice("gold/model_registry", region, ds)
        .where(F.col("model_type").startswith("audit-"))
        .first()
    )
    return row["model_type"] if row else "none"
