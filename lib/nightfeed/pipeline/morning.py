"""`nightfeed report --ds D`: the morning report of one night, rebuilt from what the lake holds
(Delta tables read with delta-rs, the stages' run records, the quality checks) — no Spark, and
the same inputs give the same page, so rebuilding is idempotent.

Writes `<lake>/reports/runs/ds=D/index.html` and the list of nights `<lake>/reports/index.html`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from nightfeed.configuration import config
from nightfeed.configuration.config import Lake
from nightfeed.core.errors import NightfeedError
from nightfeed.lake import readonly
from nightfeed.pipeline import registry
from nightfeed.pipeline.inputs import shift
from nightfeed.pipeline.registry import AUDIT_PREFIX, RANKER_PREFIX
from nightfeed.reports import morning as morning_report
from nightfeed.reports import quality_page as reports

HISTORY_DAYS = 14


def build_report(lake: Lake, ds: str, regions: list[str] | None = None) -> Path:
    """Write the night's page and the index; returns the page's path."""
    regions = regions or _regions_of(lake, ds)
    if not regions:
        raise NightfeedError(f"nothing ran on {ds}: no stage records under {lake.run_page(ds)}/stages")
    data = [_region(lake, region, ds) for region in regions]
    page = lake.run_page(ds) / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(morning_report.render_night(ds, data))
    _write_index(lake)
    return page


def _regions_of(lake: Lake, ds: str) -> list[str]:
    return sorted(p.name.split("=", 1)[1] for p in (lake.run_page(ds) / "stages").glob("region=*"))


def _stages(lake: Lake, region: str, ds: str) -> list[dict]:
    folder = lake.run_page(ds) / "stages" / f"region={region}"
    records = [json.loads(p.read_text()) for p in folder.glob("*.json")]
    order = {name: k for k, name in enumerate(registry.STAGE_NAMES)}
    return sorted(records, key=lambda r: order.get(r["stage"], len(order)))


def _region(lake: Lake, region: str, ds: str) -> dict:
    root = lake.root
    k = config.region_settings(region).model.k
    first = shift(ds, -(HISTORY_DAYS - 1))
    suites, checks = {}, []
    base = lake.reports("quality", region, ds)
    for suite in reports.SUITES:
        path = base / "checks" / f"{suite}.json"
        suites[suite] = json.loads(path.read_text()) if path.exists() else {"status": "missing", "checks": []}
        checks += [{"suite": suite, **c} for c in suites[suite].get("checks", [])]
    gate_file = base / "checks" / "gate.json"
    metrics = readonly.region_history(root, "gold/feed_metrics", region, first, ds, ["metric", "value"])
    today = {r.metric: float(r.value) for r in metrics[metrics["ds"] == ds].itertuples()}
    return {
        "region": region,
        "stages": _stages(lake, region, ds),
        "volumes": {
            "events": readonly.rows_per_day(root, "bronze/events", region, ds, ds).get(ds, 0),
            "quarantined": readonly.rows_per_day(root, "bronze/events_quarantine", region, ds, ds).get(ds, 0),
            "items": readonly.rows_per_day(root, "bronze/items", region, ds, ds).get(ds, 0),
            "items_quarantined": readonly.rows_per_day(root, "bronze/items_quarantine", region, ds, ds).get(
                ds, 0
            ),
        },
        "checks": checks,
        "quality_status": reports.overall_status(suites),
        "quality_page": f"../../quality/region={region}/ds={ds}/summary.html"
        if (base / "summary.html").exists()
        else None,
        "model": _model(
            root, region, ds, today, json.loads(gate_file.read_text()) if gate_file.exists() else None
        ),
        "health": today,
        "history": _history(root, region, first, ds, metrics, k),
    }


def _model(root: Path, region: str, ds: str, today: dict, gate: dict | None) -> dict:
    reg = readonly.region_history(
        root, "gold/model_registry", region, ds, ds, ["model_version", "model_type"]
    )
    reg = reg[~reg["model_type"].str.startswith((AUDIT_PREFIX, RANKER_PREFIX))]
    if reg.empty:
        return {}
    offline = {
        m: v
        for m, v in today.items()
        if m.startswith(("model_", "popularity_")) and not m.endswith("_change")
    }
    note = (
        None
        if offline
        else "evaluate_model recorded no holdout metrics for this night (see the quality page)."
    )
    return {
        "model_version": reg["model_version"].iloc[0],
        "model_type": reg["model_type"].iloc[0],
        "gate": (gate or {}).get("decision", "n/a")
        + (f" — {gate['reason']}" if gate and gate.get("reason") else ""),
        "metrics": offline,
        "change": {m: today.get(f"{m}_change") for m in offline},
        "note": note,
    }


def _history(root: Path, region: str, first: str, ds: str, metrics: pd.DataFrame, k: int) -> pd.DataFrame:
    """One row per day of the chart window, NaN where a day has no value."""
    days = [shift(first, n) for n in range(HISTORY_DAYS)]
    wide = (
        metrics.pivot_table(index="ds", columns="metric", values="value") if len(metrics) else pd.DataFrame()
    )
    events = readonly.rows_per_day(root, "bronze/events", region, first, ds)
    quarantined = readonly.rows_per_day(root, "bronze/events_quarantine", region, first, ds)

    def series(name: str) -> list[float]:
        return [float(wide.at[d, name]) if name in wide.columns and d in wide.index else np.nan for d in days]

    return pd.DataFrame(
        {
            "ds": days,
            "events": [events.get(d, 0) for d in days],
            "quarantined": [quarantined.get(d, 0) for d in days],
            "model_ndcg": series(f"model_ndcg@{k}"),
            "popularity_ndcg": series(f"popularity_ndcg@{k}"),
            "model_gauc": series("model_gauc"),
            "popularity_gauc": series("popularity_gauc"),
            "model_watch_ndcg": series(f"model_watch_ndcg@{k}"),
            "popularity_watch_ndcg": series(f"popularity_watch_ndcg@{k}"),
            "ranker_gauc": series("ranker_gauc"),
            "ranker_cf_score_gauc": series("ranker_cf_score_gauc"),
            "ranker_watch_ndcg": series(f"ranker_watch_ndcg@{k}"),
            "ranker_cf_score_watch_ndcg": series(f"ranker_cf_score_watch_ndcg@{k}"),
            "catalog_coverage": series("catalog_coverage"),
            "creator_exposure_gini": series("creator_exposure_gini"),
            "new_creator_slot_share": series("new_creator_slot_share"),
            "new_creator_reach": series("new_creator_reach"),
        }
    )


def _write_index(lake: Lake) -> Path:
    nights = []
    for folder in (lake.root / "reports" / "runs").glob("ds=*"):
        ds = folder.name.split("=", 1)[1]
        regions = _regions_of(lake, ds)
        failed = any(r["status"] != "ok" for region in regions for r in _stages(lake, region, ds))
        nights.append((ds, regions, "failed" if failed else "passed"))
    index = lake.root / "reports" / "index.html"
    index.write_text(morning_report.render_index(nights))
    return index
