"""Running stages: one stage with its own session and timer, or a region's whole night (with the
earlier days of a landed history ingested first). The CLI, the jobs and the tests use these."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from .. import config
from . import registry, run
from .inputs import shift


def run_stage(stage: str, region: str, ds: str, spark=None, cfg=None, lake=None, **options) -> dict:
    """Run one stage; a session is started unless given (generate_events needs none).

    Returns the stage summary with stage, region, ds and the stage's own wall seconds first.
    """
    cfg = cfg or config.region_settings(region)
    lake = lake or config.Lake.default()
    if spark is None and stage != "generate_events":
        from ..spark import build_session

        spark = build_session(f"nightfeed-{stage}-{region}-{ds}")
    t0 = time.perf_counter()
    out = run(spark, lake, stage, region, ds, cfg, **options)
    return {"stage": stage, "region": region, "ds": ds, "seconds": round(time.perf_counter() - t0, 2), **out}


def run_night(
    spark,
    region: str,
    ds: str,
    backfill_days: int = 0,
    generate: bool = False,
    cfg=None,
    lake=None,
    report: Callable[[dict], None] | None = None,
    stage_options: dict | None = None,
) -> list[dict]:
    """Every nightly stage of the registry for (region, ds), in order, in one session.

    generate: first land the synthetic history ending at ds (its earlier days are then ingested);
    backfill_days: ingest that many earlier days first (history the nightly window reads).
    `report` is called with each stage summary as it finishes.
    """
    cfg = cfg or config.region_settings(region)
    report = report or (lambda summary: print(json.dumps(summary, default=str), flush=True))
    stage_options = stage_options or {}
    if generate:
        gen = run_stage("generate_events", region, ds, spark, cfg, lake)
        report(gen)
        backfill_days = gen["days"] - 1
    for back in range(backfill_days, 0, -1):
        report(run_stage("ingest_events", region, shift(ds, -back), spark, cfg, lake))
    results = []
    for stage in registry.NIGHTLY:
        summary = run_stage(stage, region, ds, spark, cfg, lake, **stage_options.get(stage, {}))
        report(summary)
        results.append(summary)
    return results
