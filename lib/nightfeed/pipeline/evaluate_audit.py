"""Stage evaluate_audit: the night's queue against the hidden truth (else later decisions), for the
model and the three baselines -> gold/audit_metrics and reports/audit/region=R/ds=D/queue.html."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import SparkSession

from nightfeed.audit import metrics as audit_eval
from nightfeed.audit import report as audit_report
from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.inputs import violation_labels
from nightfeed.reports import quality_page as reports


def evaluate_audit(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    t = LakeTables(spark, lake.root)
    capacity = cfg.audit.daily_review_capacity
    features = t.require_slice("silver/item_risk_features", region, ds, "build_audit_features").select(
        "item_id", "age_hours", "reports", "report_rate"
    )
    queue = (
        t.require_slice("gold/audit_queue", region, ds, "score_audit_queue")
        .join(features, "item_id", "left")
        .toPandas()
    )
    labels, source = violation_labels(t, lake, region, ds)
    queue["violating"] = queue["item_id"].map(labels).fillna(0).astype(int)
    metrics = audit_eval.evaluate(queue, capacity)
    held = queue[queue["held"]]
    holds = pd.DataFrame(
        [
            ("holds", "held", float(len(held))),
            ("holds", "held_violating", float(held["violating"].sum())),
            ("holds", "held_benign", float(len(held) - held["violating"].sum())),
            ("queue", "labeled", float(queue["item_id"].isin(list(labels)).sum())),
        ],
        columns=["method", "metric", "value"],
    )
    metrics = pd.concat([metrics, holds], ignore_index=True).assign(region=region, ds=ds)
    t.write_slice("gold/audit_metrics", spark.createDataFrame(metrics), region, ds)
    curves = (
        audit_eval.curves(queue, capacity)
        if len(queue)
        else {m: {"capacity": [], "precision": [], "recall": []} for m in audit_eval.METHODS}
    )
    page = lake.reports("audit", region, ds) / "queue.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(audit_report.render(region, ds, queue, metrics, curves, source))
    reports.write_index(lake)
    value = {(r.method, r.metric): r.value for r in metrics.itertuples()}
    best = max(audit_eval.METHODS[1:], key=lambda m: value[(m, "precision_at_c")])
    return {
        "labels": source,
        "queued": len(queue),
        "violating_in_queue": int(queue["violating"].sum()),
        **{f"{m}_precision_at_c": round(value[(m, "precision_at_c")], 4) for m in audit_eval.METHODS},
        **{
            f"{m}_views_prevented": round(value[(m, "violating_views_prevented")], 1)
            for m in audit_eval.METHODS
        },
        "best_baseline": best,
        "held": int(value[("holds", "held")]),
        "held_benign": int(value[("holds", "held_benign")]),
        "report": str(page),
    }
