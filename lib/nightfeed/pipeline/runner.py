"""Running stages: one stage with its own session and timer, or a region's whole night (with the
earlier days of a landed history ingested first). The CLI, the jobs and the tests use these."""

from __future__ import annotations

import importlib
import json
import math
import sys
import threading
import time
import traceback
from collections.abc import Callable

from nightfeed.configuration import config
from nightfeed.core.errors import NightfeedError
from nightfeed.lake import readonly
from nightfeed.lake.tables import exists
from nightfeed.pipeline import registry, run
from nightfeed.pipeline.inputs import shift
from nightfeed.runtime.spark import size_to_night


def run_stage(stage: str, region: str, ds: str, spark=None, cfg=None, lake=None, **options) -> dict:
    """Run one stage; a session is started unless given (generate_events needs none).

    Returns the stage summary with stage, region, ds and the stage's own wall seconds first.
    """
    cfg = cfg or config.region_settings(region)
    lake = lake or config.Lake.default()
    if spark is None and stage != "generate_events":
        from nightfeed.runtime.spark import build_session

        warm = threading.Thread(target=_preload, args=(registry.stage(stage).preload,), daemon=True)
        warm.start()
        spark = build_session(f"nightfeed-{stage}-{region}-{ds}")
        warm.join()
    tag = stage_tag(stage, region, ds)
    if spark is not None:
        size_to_night(spark, night_events(lake, region, ds))
        spark.addTag(tag)
    t0 = time.perf_counter()
    try:
        out = run(spark, lake, stage, region, ds, cfg, **options)
    except Exception as exc:
        _record(
            lake,
            stage,
            region,
            ds,
            {"status": "failed", "seconds": time.perf_counter() - t0, "error": str(exc)},
        )
        raise
    finally:
        if spark is not None:
            spark.removeTag(tag)
    summary = {
        "stage": stage,
        "region": region,
        "ds": ds,
        "seconds": round(time.perf_counter() - t0, 2),
        **out,
    }
    _record(lake, stage, region, ds, {"status": "ok", "seconds": summary["seconds"]})
    return summary


TAG_PREFIX = "nightfeed:"


def stage_tag(stage: str, region: str, ds: str) -> str:
    """The Spark job tag of a stage's queries (Spark's UI, its event log, `SparkSession.interruptTag`)."""
    return f"{TAG_PREFIX}{stage}:{region}:{ds}"


def tagged_stage(tags: list[str]) -> str | None:
    """The stage named by a `stage_tag` among a query's job tags, if any (Spark's event log
    reports a session's tag inside a longer one: `spark-session-<id>-thread-<id>-<tag>`)."""
    for tag in tags:
        ours = tag[tag.find(TAG_PREFIX) :] if TAG_PREFIX in tag else ""
        if ours.count(":") == 3:
            return ours.split(":")[1]
    return None


def night_events(lake, region: str, ds: str) -> int:
    """The events of the region's night from the Delta log (no Spark job); before the night is
    ingested, those of the night before."""
    path = lake.root / "bronze" / "events"
    if not exists(str(path)):
        return 0
    return readonly.slice_rows(path, region, ds) or readonly.slice_rows(path, region, shift(ds, -1))


def _record(lake, stage: str, region: str, ds: str, record: dict) -> None:
    """The stage's outcome for the morning report: one small JSON file per (ds, region, stage),
    replaced atomically, so a rerun leaves only its own record."""
    folder = lake.run_page(ds) / "stages" / f"region={region}"
    folder.mkdir(parents=True, exist_ok=True)
    body = {
        "stage": stage,
        "region": region,
        "ds": ds,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp = folder / f".{stage}.json.tmp"
    tmp.write_text(json.dumps({**body, **record, "seconds": round(record["seconds"], 2)}, default=str))
    tmp.replace(folder / f"{stage}.json")


def print_line(summary: dict) -> None:
    """A stage's summary as one line of strict JSON on stdout (an undefined number, such as a
    PR-AUC without positives, is null: NaN and Infinity are not JSON, and `jq` refuses them)."""
    print(json.dumps(_finite(summary), default=str, allow_nan=False), flush=True)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _preload(modules: tuple[str, ...]) -> None:
    """Import what the stage will need while the JVM starts (a failure surfaces at the real import)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            return


def run_night(
    spark,
    region: str,
    ds: str,
    backfill_days: int = 0,
    cfg=None,
    lake=None,
    report: Callable[[dict], None] | None = None,
    stage_options: dict | None = None,
) -> list[dict]:
    """Every nightly stage of the registry for (region, ds), in order, in one session.

    backfill_days: ingest that many earlier days first (history the nightly window reads).
    `report` is called with each stage summary as it finishes.
    """
    cfg = cfg or config.region_settings(region)
    report = report or print_line
    stage_options = stage_options or {}
    for back in range(backfill_days, 0, -1):
        for stage in registry.INGEST:
            report(run_stage(stage, region, shift(ds, -back), spark, cfg, lake))
    results = []
    for stage in registry.NIGHTLY:
        summary = run_stage(stage, region, ds, spark, cfg, lake, **stage_options.get(stage, {}))
        report(summary)
        results.append(summary)
    return results


def run_nights(spark, regions: list[str], days: list[str], generate: bool = False) -> tuple[list[dict], dict]:
    """Every region's night for each day, days in date order, in the one session. generate: land
    the synthetic history ending at the last day first, and ingest its days before the first.

    A region whose night fails (a bad delivery, a failed check) is reported on stderr at once and
    skips its later days, whose windows would lack that night; the other regions go on, as the
    DAG's per-region tasks do. Returns (the finished stages' summaries, {region: (ds, error)}).
    (Regions in threads were measured: on 2 cores each stage took twice as long, so no gain.)
    """
    failed: dict[str, tuple[str, str]] = {}

    def attempt(region: str, ds: str, work: Callable[[], list[dict] | None]) -> list[dict]:
        if region in failed:
            return []
        try:
            return work() or []
        except Exception as exc:  # noqa: BLE001 - one region's failure must not stop the others
            if not isinstance(exc, NightfeedError):
                traceback.print_exc()
            print(f"error: {exc}", file=sys.stderr, flush=True)
            failed[region] = (ds, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return []

    if generate:
        for region in regions:
            attempt(region, days[0], lambda region=region: _land_history(spark, region, days))
    results = [
        s
        for ds in days
        for region in regions
        for s in attempt(region, ds, lambda region=region, ds=ds: run_night(spark, region, ds))
    ]
    return results, failed


def _land_history(spark, region: str, days: list[str]) -> None:
    """Generate the region's synthetic history ending at the last day (`synthetic.history_days`,
    or every night's day if the range is longer); ingest the days before the first."""
    history = max(config.region_settings(region).synthetic.history_days, len(days))
    gen = run_stage("generate_events", region, days[-1], spark, days=history)
    print_line(gen)
    for back in range(gen["days"] - 1, len(days) - 1, -1):
        for stage in registry.INGEST:
            print_line(run_stage(stage, region, shift(days[-1], -back), spark))


def night_dates(ds: str | None, first: str | None, last: str | None) -> list[str]:
    """The days a `nightfeed run` covers: --ds alone, or every day from --from to --to in order."""
    if ds and (first or last):
        raise NightfeedError("give either --ds or --from/--to, not both")
    if ds:
        return [ds]
    if not (first and last):
        raise NightfeedError("give --ds, or both --from and --to")
    if first > last:
        raise NightfeedError(f"--from {first} is after --to {last}")
    days = [first]
    while days[-1] < last:
        days.append(shift(days[-1], 1))
    return days
