"""Data quality gates with Great Expectations 1.x on Spark DataFrames.

Suites are data (`schemas/quality/<suite>.json`): each check names a frame, a GX expectation,
its kwargs (`"$name"` placeholders are filled per region and run) and a severity — `fail`
stops the run before publishing, `warn` is only reported. Frames are prepared here by pure
DataFrame functions so every check is a plain column expectation.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from .errors import NightfeedError
from .schemas import schemas_dir

SEVERITIES = ("fail", "warn")
STATUS_PASSED, STATUS_FAILED, STATUS_WARNED = "passed", "failed", "passed_with_warnings"


def load_suite(name: str) -> dict:
    path = schemas_dir() / "quality" / f"{name}.json"
    if not path.exists():
        raise NightfeedError(f"unknown quality suite {name!r} (no {path})")
    suite = json.loads(path.read_text())
    for check in suite["checks"]:
        if check["severity"] not in SEVERITIES:
            raise NightfeedError(f"{path}: check {check['name']} has severity {check['severity']!r}; use fail or warn")
    return suite


def resolve(value, params: dict):
    """Replace "$name" placeholders (also inside lists) with run parameters; None if unknown."""
    if isinstance(value, str) and value.startswith("$"):
        return params.get(value[1:])
    if isinstance(value, list):
        out = []
        for v in value:
            r = resolve(v, params)
            out.extend(r if isinstance(v, str) and v.startswith("$") and isinstance(r, list) else [r])
        return out
    return value


# ---------------------------------------------------------------- frames (pure)

def events_frame(events: DataFrame, items: DataFrame, ds: str) -> DataFrame:
    """Bronze events with hours since the ds day started and watch time as a share of duration."""
    start = dt.datetime.combine(dt.date.fromisoformat(ds), dt.time())
    return (events.join(items.select("item_id", "duration_ms"), "item_id", "left")
            .select("event_id", "user_id", "item_id", "event_type", "region",
                    ((F.col("event_ts").cast("long") - F.lit(start).cast("long")) / 3600.0).alias("hours_into_day"),
                    (F.col("watch_ms") / F.col("duration_ms")).alias("watch_ratio")))


def feed_capacity(users: DataFrame, catalog: DataFrame, seen: DataFrame, eligible: list[str], cap: int) -> DataFrame:
    """Per user, the most feed rows the rules allow: over creators, min(cap, eligible items of the
    creator the user has not seen, finished or skipped). seen: user_id, item_id (any duplicates)."""
    items = catalog.where(F.col("moderation_status").isin(eligible)).select("item_id", "creator_id")
    per_creator = items.groupBy("creator_id").agg(F.count(F.lit(1)).alias("a"))
    base = per_creator.agg(F.coalesce(F.sum(F.least("a", F.lit(cap))), F.lit(0)).alias("base"))
    lost = (seen.select("user_id", "item_id").distinct().join(items, "item_id")
            .groupBy("user_id", "creator_id").agg(F.count(F.lit(1)).alias("s")).join(per_creator, "creator_id")
            .groupBy("user_id").agg(F.sum(F.least("a", F.lit(cap)) - F.least(F.col("a") - F.col("s"), F.lit(cap))).alias("lost")))
    return (users.select("user_id").distinct().crossJoin(base).join(lost, "user_id", "left")
            .select("user_id", (F.col("base") - F.coalesce("lost", F.lit(0))).alias("capacity")))


def feed_frames(feeds: DataFrame, active_users: DataFrame, catalog: DataFrame, exclusions: DataFrame,
                interactions: DataFrame, n: int, cap: int, eligible: list[str]) -> dict[str, DataFrame]:
    """Row-level and user-level views of a region's feeds for the feed checks.

    A feed is full when it holds min(n, capacity) rows (see `feed_capacity`); users whose allowed
    catalog holds fewer than n items are flagged `catalog_exhausted`.
    """
    by_rank = Window.partitionBy("user_id").orderBy("rank")
    finished = exclusions.where(F.col("reason") == "finished").select("user_id", "item_id", F.lit(True).alias("fin"))
    rows = (feeds.join(catalog.select("item_id", "moderation_status"), "item_id", "left")
            .join(finished, ["user_id", "item_id"], "left")
            .withColumn("finished", F.coalesce("fin", F.lit(False)))
            .withColumn("prev_score", F.lag("score").over(by_rank))
            .withColumn("score_ok", F.col("prev_score").isNull() | (F.col("score") <= F.col("prev_score") + F.lit(1e-9)))
            .withColumn("is_trending", (F.col("source") == "trending").cast("double"))
            .select("user_id", "item_id", "rank", "score", "source", "moderation_status", "finished", "score_ok", "is_trending"))
    per_user = feeds.groupBy("user_id").agg(F.count(F.lit(1)).alias("n"), F.min("rank").alias("lo"),
                                            F.max("rank").alias("hi"), F.countDistinct("rank").alias("distinct"))
    seen = interactions.select("user_id", "item_id").unionByName(exclusions.select("user_id", "item_id"))
    capacity = feed_capacity(active_users, catalog, seen, eligible, cap)
    users = (active_users.select("user_id").distinct().join(per_user, "user_id", "full").join(capacity, "user_id", "left")
             .select("user_id", F.col("n").isNotNull().alias("has_feed"),
                     F.when(F.col("n").isNotNull(), (F.col("lo") == 1) & (F.col("hi") == F.col("n")) & (F.col("distinct") == F.col("n")))
                     .alias("ranks_ok"),
                     (F.coalesce("n", F.lit(0)) >= F.least(F.lit(n), F.coalesce("capacity", F.lit(n)))).alias("full_feed"),
                     (F.coalesce("capacity", F.lit(n)) < n).alias("catalog_exhausted")))
    return {"feed_rows": rows, "feed_users": users}


def band(value: float | None, lo_hi: list[float]) -> tuple[float | None, float | None]:
    if value is None:
        return None, None
    return lo_hi[0] * value, lo_hi[1] * value


# ---------------------------------------------------------------- running GX

def _gx_context(project_dir: Path):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TQDM_DISABLE", "1")  # GX's metric progress bars flood the job logs
    import great_expectations as gx

    project_dir.mkdir(parents=True, exist_ok=True)
    return gx.get_context(mode="file", project_root_dir=str(project_dir))


def _observed(result: dict) -> object:
    res = result.get("result", {}) or {}
    if "observed_value" in res:
        return res["observed_value"]
    if "unexpected_count" in res:
        return {"unexpected_count": res.get("unexpected_count"), "unexpected_percent": res.get("unexpected_percent"),
                "element_count": res.get("element_count"), "partial_unexpected_list": res.get("partial_unexpected_list", [])[:5]}
    return None


def _batch_definition(source, name: str):
    """The whole-DataFrame batch definition `name`, created on first use (reruns reuse it)."""
    try:
        asset = source.get_asset(name)
    except LookupError:
        asset = source.add_dataframe_asset(name=name)
    try:
        return asset.get_batch_definition(name)
    except (KeyError, LookupError):
        return asset.add_batch_definition_whole_dataframe(name)


def run_suite(suite_name: str, frames: dict[str, DataFrame], params: dict, project_dir: Path, run_name: str) -> dict:
    """Validate each frame with its checks in a GX file project; returns per-check results.

    A check whose parameters are unknown (e.g. no trailing history for a volume band) is
    recorded as skipped with the reason, never silently dropped.
    """
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = load_suite(suite_name)
    context = _gx_context(project_dir)
    source = context.data_sources.add_or_update_spark(name="nightfeed")
    results = []
    t0 = time.perf_counter()
    for frame_name in dict.fromkeys(c["frame"] for c in suite["checks"]):
        checks, skipped = [], []
        for check in suite["checks"]:
            if check["frame"] != frame_name:
                continue
            kwargs = {k: resolve(v, params) for k, v in check["kwargs"].items()}
            missing = [k for k, v in check["kwargs"].items() if isinstance(v, str) and v.startswith("$") and kwargs[k] is None]
            (skipped if missing else checks).append((check, kwargs, missing))
        for check, _, missing in skipped:
            results.append({"check": check["name"], "frame": frame_name, "severity": check["severity"], "success": None,
                            "status": "skipped", "observed": None, "reason": f"no value for {missing}"})
        if not checks:
            continue
        gx_suite = gx.ExpectationSuite(name=f"{suite_name}.{frame_name}")
        for check, kwargs, _ in checks:
            expectation = getattr(gxe, check["expectation"])(
                **kwargs, meta={"check": check["name"], "severity": check["severity"]},
                severity="critical" if check["severity"] == "fail" else "warning")
            gx_suite.add_expectation(expectation)
        gx_suite = context.suites.add_or_update(gx_suite)
        batch = _batch_definition(source, f"{suite_name}.{frame_name}")
        vd = context.validation_definitions.add_or_update(gx.ValidationDefinition(
            name=f"{suite_name}.{frame_name}", data=batch, suite=gx_suite))
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=f"{suite_name}.{frame_name}", validation_definitions=[vd],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")], result_format="SUMMARY"))
        run = checkpoint.run(batch_parameters={"dataframe": frames[frame_name]},
                             run_id=gx.core.run_identifier.RunIdentifier(run_name=run_name))
        for vr in run.run_results.values():
            for r in vr.to_json_dict()["results"]:
                meta = r["expectation_config"]["meta"]
                results.append({"check": meta["check"], "frame": frame_name, "severity": meta["severity"],
                                "success": bool(r["success"]), "status": "passed" if r["success"] else "failed",
                                "observed": _observed(r), "expectation": r["expectation_config"]["type"]})
    failed = [r for r in results if r["status"] == "failed" and r["severity"] == "fail"]
    warned = [r for r in results if r["status"] == "failed" and r["severity"] == "warn"]
    status = STATUS_FAILED if failed else STATUS_WARNED if warned else STATUS_PASSED
    return {"suite": suite_name, "status": status, "seconds": round(time.perf_counter() - t0, 2),
            "checks": results, "failed": [r["check"] for r in failed], "warnings": [r["check"] for r in warned]}
