"""Data quality gates with Great Expectations 1.x on Spark DataFrames.

GX computes every metric of an expectation as its own Spark job: a few hundred milliseconds each
even on a tiny slice, dozens per suite. A frame of at most `LOCAL_MAX_ROWS` rows is therefore
collected once and validated with the same expectations on GX's pandas engine; larger frames
are cached and validated on Spark.

Suites are data (`schemas/quality/<suite>.json`): each check names a frame, a GX expectation,
its kwargs (`"$name"` placeholders are filled per region and run), a severity — `fail`
stops the run before publishing, `warn` is only reported — and optionally the `skip_reason`
shown when a placeholder has no value this run. Frames are prepared here by pure
DataFrame functions so every check is a plain column expectation.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from pyspark.sql import DataFrame

from nightfeed.core.errors import NightfeedError
from nightfeed.lake.schemas import schemas_dir
from nightfeed.runtime.logs import verbose

SEVERITIES = ("fail", "warn")
LOCAL_MAX_ROWS = 250_000
STATUS_PASSED, STATUS_FAILED, STATUS_WARNED = "passed", "failed", "passed_with_warnings"


def load_suite(name: str) -> dict:
    path = schemas_dir() / "quality" / f"{name}.json"
    if not path.is_file():
        raise NightfeedError(f"unknown quality suite {name!r} (no {path})")
    suite = json.loads(path.read_text())
    for check in suite["checks"]:
        if check["severity"] not in SEVERITIES:
            raise NightfeedError(
                f"{path}: check {check['name']} has severity {check['severity']!r}; use fail or warn"
            )
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


def _gx_context(project_dir: Path):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    project_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(project_dir))
    # GX's per-validation metric progress bars flood job logs; `--verbose` brings them back.
    context.variables.progress_bars = ProgressBarsConfig(globally=verbose())
    return context


def _observed(result: dict) -> object:
    res = result.get("result", {}) or {}
    if "observed_value" in res:
        return res["observed_value"]
    if "unexpected_count" in res:
        return {
            "unexpected_count": res.get("unexpected_count"),
            "unexpected_percent": res.get("unexpected_percent"),
            "element_count": res.get("element_count"),
            "partial_unexpected_list": res.get("partial_unexpected_list", [])[:5],
        }
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


def _engine_and_data(frame: DataFrame) -> tuple[str, object]:
    """("pandas", the rows collected) for a frame of at most LOCAL_MAX_ROWS rows, else ("spark", frame)."""
    if frame.count() > LOCAL_MAX_ROWS:
        return "spark", frame
    return "pandas", frame.toPandas()


def run_suite(
    suite_name: str, frames: dict[str, DataFrame], params: dict, project_dir: Path, run_name: str
) -> dict:
    """Validate each frame with its checks in a GX file project; returns per-check results.

    A check whose parameters are unknown (e.g. no trailing history for a volume band) is
    recorded as skipped with the reason, never silently dropped.
    """
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = load_suite(suite_name)
    context = _gx_context(project_dir)
    sources = {
        "spark": context.data_sources.add_or_update_spark(name="nightfeed"),
        "pandas": context.data_sources.add_or_update_pandas(name="nightfeed-local"),
    }
    results = []
    t0 = time.perf_counter()
    for frame_name in dict.fromkeys(c["frame"] for c in suite["checks"]):
        checks, skipped = [], []
        for check in suite["checks"]:
            if check["frame"] != frame_name:
                continue
            kwargs = {k: resolve(v, params) for k, v in check["kwargs"].items()}
            missing = [
                k
                for k, v in check["kwargs"].items()
                if isinstance(v, str) and v.startswith("$") and kwargs[k] is None
            ]
            (skipped if missing else checks).append((check, kwargs, missing))
        for check, _, missing in skipped:
            results.append(
                {
                    "check": check["name"],
                    "frame": frame_name,
                    "severity": check["severity"],
                    "success": None,
                    "status": "skipped",
                    "observed": None,
                    "reason": check.get("skip_reason", f"no value for {missing}"),
                }
            )
        if not checks:
            continue
        gx_suite = gx.ExpectationSuite(name=f"{suite_name}.{frame_name}")
        for check, kwargs, _ in checks:
            expectation = getattr(gxe, check["expectation"])(
                **kwargs,
                meta={"check": check["name"], "severity": check["severity"]},
                severity="critical" if check["severity"] == "fail" else "warning",
            )
            gx_suite.add_expectation(expectation)
        gx_suite = context.suites.add_or_update(gx_suite)
        # Cached once for all the expectations (and the count). The results land in the
        # project's store; the quality_report stage renders Data Docs once.
        frame = frames[frame_name].persist()
        try:
            engine, data = _engine_and_data(frame)
            batch = _batch_definition(sources[engine], f"{suite_name}.{frame_name}")
            vd = context.validation_definitions.add_or_update(
                gx.ValidationDefinition(
                    name=f"{suite_name}.{frame_name}.{engine}", data=batch, suite=gx_suite
                )
            )
            result = vd.run(
                batch_parameters={"dataframe": data},
                result_format="SUMMARY",
                run_id=gx.core.run_identifier.RunIdentifier(run_name=run_name),
            )
        finally:
            frame.unpersist()
        for r in result.to_json_dict()["results"]:
            meta = r["expectation_config"]["meta"]
            results.append(
                {
                    "check": meta["check"],
                    "frame": frame_name,
                    "severity": meta["severity"],
                    "success": bool(r["success"]),
                    "status": "passed" if r["success"] else "failed",
                    "observed": _observed(r),
                    "expectation": r["expectation_config"]["type"],
                    "engine": engine,
                }
            )
    failed = [r for r in results if r["status"] == "failed" and r["severity"] == "fail"]
    warned = [r for r in results if r["status"] == "failed" and r["severity"] == "warn"]
    status = STATUS_FAILED if failed else STATUS_WARNED if warned else STATUS_PASSED
    return {
        "suite": suite_name,
        "status": status,
        "seconds": round(time.perf_counter() - t0, 2),
        "checks": results,
        "failed": [r["check"] for r in failed],
        "warnings": [r["check"] for r in warned],
    }
