"""Quality-check results of a (region, ds): run a suite, persist its result, and prove later that
what was validated is what gets published (content fingerprint)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.core.errors import NightfeedError
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.inputs import shift
from nightfeed.quality import suites as quality


def checks_dir(lake: Lake, region: str, ds: str) -> Path:
    return lake.reports("quality", region, ds) / "checks"


def fingerprint(df: DataFrame) -> str:
    """Order-independent content hash of a DataFrame: proves what was validated is what is published."""
    row = df.agg(
        F.count(F.lit(1)).alias("n"), F.sum(F.xxhash64(*df.columns).cast("decimal(38,0)")).alias("h")
    ).first()
    return f"{row['n']}:{row['h']}"


def validate(
    lake: Lake,
    region: str,
    ds: str,
    suite: str,
    frames: dict,
    params: dict,
    fp: str | None = None,
    extra: dict | None = None,
) -> dict:
    """Run a suite, save its results (always, before failing), raise if a `fail` check failed."""
    project = lake.reports("quality", region, ds) / "gx"
    result = quality.run_suite(suite, frames, params, project, run_name=f"{region}-{ds}-{suite}")
    result.update({"region": region, "ds": ds, "fingerprint": fp, **(extra or {})})
    out = checks_dir(lake, region, ds)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{suite}.json.tmp"
    tmp.write_text(json.dumps(result, indent=1, default=str))
    tmp.replace(out / f"{suite}.json")
    if result["status"] == quality.STATUS_FAILED:
        raise NightfeedError(
            f"{suite} checks failed for {region} {ds}: {', '.join(result['failed'])} "
            f"(details: {out / f'{suite}.json'})"
        )
    return {
        "status": result["status"],
        "warnings": result["warnings"],
        "checks": len(result["checks"]),
        "validation_s": result["seconds"],
    }


def require_validated(lake: Lake, region: str, ds: str, fp: str) -> dict:
    """The passed feed checks of (region, ds), made on exactly these rows; a clear refusal otherwise."""
    path = checks_dir(lake, region, ds) / "feeds.json"
    if not path.exists():
        raise NightfeedError(
            f"publish {region} {ds} refused: feeds were not validated (run validate_feeds); "
            f"the previous feed stays live"
        )
    result = json.loads(path.read_text())
    if result["status"] == quality.STATUS_FAILED:
        raise NightfeedError(
            f"publish {region} {ds} refused: feed checks failed ({', '.join(result['failed'])}); "
            f"the previous feed stays live"
        )
    if result.get("fingerprint") != fp:
        raise NightfeedError(
            f"publish {region} {ds} refused: feed candidates changed since validate_feeds; rerun it"
        )
    return result


def trailing_mean(t: LakeTables, table: str, region: str, ds: str, days: int, agg) -> float | None:
    """Mean over the previous `days` days of a per-ds aggregate; None without history."""
    if not t.exists(table):
        return None
    rows = (
        t.read(table)
        .where((F.col("region") == region) & (F.col("ds") < ds) & (F.col("ds") >= shift(ds, -days)))
        .groupBy("ds")
        .agg(agg.alias("v"))
        .collect()
    )
    return float(np.mean([r["v"] for r in rows])) if rows else None
