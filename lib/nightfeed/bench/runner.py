"""`nightfeed benchmark`: run the chosen suites and write their JSON."""

from __future__ import annotations

import json
from pathlib import Path

from nightfeed.bench.data import SCALES
from nightfeed.bench.harness import write_json
from nightfeed.core.errors import NightfeedError


def run_suites(
    suite: str,
    scale_name: str,
    scale_overrides: dict,
    rank: int,
    iterations: int,
    skip_mllib: bool,
    movielens: str | None,
    output_dir: str,
    output_json: str | None,
    repeats: int = 1,
    region: str | None = None,
    ds: str | None = None,
    compare: str | None = None,
    sizes: list[int] | None = None,
    master: str | None = None,
) -> None:
    """suite: models, scoring, stages, exposure, all, or (not in all) audit / audit-world /
    feed-value (region, ds: only that region / night; compare: "ranker=none" adds the CF-only
    feed and the two-stage ablations) / scale (sizes: viewers per region, master: a Spark master);
    JSON to
    <output_dir>/<suite>.json, or to output_json for a single suite (not with `all`: several
    files); the exposure suite's chart goes to <output_dir>/exposure.svg."""
    if output_json and suite == "all":
        raise NightfeedError(
            f"--output-json with --suite all: all writes one file per suite into {output_dir}; "
            "give one suite, or --output-dir"
        )
    out = Path(output_dir)

    def target(name: str) -> Path:
        return Path(output_json) if output_json else out / name

    if suite in ("models", "all"):
        from nightfeed.bench.models_suite import models_suite

        write_json(models_suite(Path(movielens) if movielens else None), target("models.json"))
    if suite in ("scoring", "all"):
        from nightfeed.bench.scoring_suite import scoring_suite

        scale = {**SCALES[scale_name], **scale_overrides}
        res = scoring_suite(scale, rank=rank, iterations=iterations, skip_mllib=skip_mllib)
        print(json.dumps({"ratios": res["ratios"], "quality": res["quality"]}, indent=1))
        write_json(res, target("scoring.json"))
    if suite in ("exposure", "all"):
        from nightfeed.bench.exposure_suite import exposure_suite

        res = exposure_suite()
        chart = out / "exposure.svg"
        out.mkdir(parents=True, exist_ok=True)
        chart.write_text(res.pop("chart_svg"))
        res["chart"] = str(chart)
        print(json.dumps({k: v for k, v in res.items() if k != "settings"}, indent=1))
        write_json(res, target("exposure.json"))
    if suite == "audit":
        from nightfeed.bench.audit_suite import audit_suite
        from nightfeed.runtime.spark import build_session

        res = audit_suite(build_session("nightfeed-bench-audit"), scale_name)
        print(json.dumps({k: res[k] for k in ("stages", "quality")}, indent=1))
        write_json(res, target(f"audit-{scale_name}.json"))
    if suite == "feed-value":
        from nightfeed.bench.feed_value_suite import feed_value_suite, require_synthetic, summary_table
        from nightfeed.configuration.config import Lake
        from nightfeed.runtime.spark import build_session

        require_synthetic(Lake.default())
        res = feed_value_suite(
            build_session("nightfeed-bench-feed-value"), Lake.default(), region, ds, compare
        )
        chart = out / "feed-value.svg"
        out.mkdir(parents=True, exist_ok=True)
        chart.write_text(res.pop("chart_svg"))
        res["chart"] = str(chart)
        print(json.dumps(summary_table(res["results"]), indent=1))
        write_json(res, target("feed-value.json"))
    if suite == "audit-world":
        from nightfeed.bench.audit_world import audit_world_suite

        res = audit_world_suite()
        print(json.dumps(res["summary"], indent=1))
        write_json(res, target("audit-world.json"))
    if suite == "scale":
        from nightfeed.bench.scale_suite import DEFAULT_SIZES, scale_suite

        res = scale_suite(sizes or DEFAULT_SIZES, ds or "2026-11-25", master)
        chart = out / "scale.svg"
        out.mkdir(parents=True, exist_ok=True)
        chart.write_text(res.pop("chart_svg"))
        res["chart"] = str(chart)
        print(json.dumps(res["growth_exponents"], indent=1))
        write_json(res, target("scale.json"))
    if suite in ("stages", "all"):
        from nightfeed.bench.stages_suite import stages_suite

        res = stages_suite(repeats=repeats)
        write_json(res, target("stages.json"))
