"""Stage quality_report: GX Data Docs plus a self-contained summary page and summary.json."""

from __future__ import annotations

from pyspark.sql import SparkSession

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.lake.tables import LakeTables
from nightfeed.reports import quality_page as reports

QUARANTINES = ("bronze/events_quarantine", "bronze/items_quarantine")


def quality_report(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    t = LakeTables(spark, lake.root)
    quarantine = {
        name: {
            r["reason"]: r["count"]
            for r in t.read_slice(name, region, ds).groupBy("reason").count().collect()
        }
        for name in QUARANTINES
    }
    metrics = [r.asDict() for r in t.read_slice("gold/model_metrics", region, ds).collect()]
    return reports.write_quality_report(lake, region, ds, quarantine, model_evaluation(metrics))


def model_evaluation(rows: list[dict]) -> dict:
    """The evaluate_model outcome from its gold/model_metrics rows: ok with the metrics computed
    (and the reasons of those it could not compute), or skipped when it computed none."""
    if not rows:
        return {"status": "missing"}
    ok = [r for r in rows if r.get("status") != "skipped"]
    skipped = [r for r in rows if r.get("status") == "skipped"]
    if not ok:
        return {"status": "skipped", "reason": skipped[0]["reason"], "model": skipped[0]["model"]}
    metrics: dict[str, dict[str, float]] = {}
    for r in ok:
        metrics.setdefault(r["model"], {})[r["metric"]] = round(r["value"], 4)
    holdout = [r["n_users"] for r in ok if r["metric"].startswith("ndcg@")]
    return {
        "status": "ok",
        "test_users": holdout[0] if holdout else 0,
        "metrics": metrics,
        "not_computed": sorted({r["reason"] for r in skipped}),
    }
