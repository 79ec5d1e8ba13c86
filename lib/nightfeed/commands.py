"""The `nightfeed` subcommands: each takes its parsed arguments and calls the pipeline (no logic
of its own beyond choosing what to call)."""

from __future__ import annotations

import json

from . import config
from .pipeline import registry


def stage_kwargs(args, stage: str) -> dict:
    """The extra options of `stage` (from the registry) that were given on the command line."""
    return {
        o.dest: getattr(args, o.dest)
        for o in registry.stage(stage).options
        if getattr(args, o.dest, None) is not None
    }


def _session(app: str):
    from .spark import build_session

    return build_session(app)


def _regions(args) -> list[str]:
    if getattr(args, "all_regions", False) or not args.region:
        return config.nightly_regions()
    return [args.region]


def cmd_run(args) -> int:
    """All nightly stages in order, in one Spark session, for one region or every nightly region."""
    from .pipeline.runner import run_night
    from .pipeline.summary import print_summary

    spark = _session("nightfeed-run")
    results = []
    for region in _regions(args):
        results += run_night(spark, region, args.ds, generate=args.generate)
    if args.summary:
        print_summary(results, config.Lake.default())
    return 0


def cmd_rollback(args) -> int:
    from .pipeline import publish

    out = publish.rollback(
        _session("nightfeed-rollback"), config.Lake.default(), args.region, args.to_ds, args.to_version
    )
    print(json.dumps(out, default=str))
    return 0


def cmd_live_feed(args) -> int:
    from .pipeline import publish

    spark = _session("nightfeed-live-feed")
    lake = config.Lake.default()
    ptr = publish.live_pointer(spark, lake, args.region)
    rows = publish.live_feed(spark, lake, args.region).count()
    print(json.dumps({**ptr, "rows": rows}, default=str))
    return 0


def cmd_maintain(args) -> int:
    from .pipeline import publish

    m = config.default_settings().maintenance
    hours = args.retention_hours if args.retention_hours is not None else m.retention_hours
    out = publish.maintain(
        _session("nightfeed-maintain"), config.Lake.default(), hours, m.rollback_days, args.dry_run
    )
    print(json.dumps(out, default=str))
    return 0


def cmd_cluster(args) -> int:
    from . import cluster

    if args.action == "up":
        print(json.dumps(cluster.up(args.cores, args.memory)))
    elif args.action == "down":
        print(json.dumps({"stopped": cluster.down()}))
    else:
        print(cluster.package_zip())
    return 0


def cmd_setup_spark(args) -> int:
    from .spark import configure_venv_spark

    for path in configure_venv_spark():
        print(f"configured {path}")
    return 0


def cmd_stage(args) -> int:
    from .pipeline.runner import run_stage

    print(
        json.dumps(run_stage(args.stage, args.region, args.ds, **stage_kwargs(args, args.stage)), default=str)
    )
    return 0


def cmd_benchmark(args) -> int:
    from .bench.runner import run_suites

    scale_overrides = {k: getattr(args, k) for k in ("users", "items", "interactions") if getattr(args, k)}
    run_suites(
        args.suite,
        args.scale,
        scale_overrides,
        args.rank,
        args.iterations,
        args.skip_mllib,
        args.movielens,
        args.output_dir,
        args.output_json,
    )
    return 0


def cmd_evaluate(args) -> int:
    from .pipeline import offline

    names = [
        m.strip() for arg in (args.model or ["popularity,als,ease,auto"]) for m in arg.split(",") if m.strip()
    ]
    offline.evaluate_file(
        args.input,
        args.format,
        args.sep,
        args.user_col,
        args.item_col,
        args.weight_col,
        args.time_col,
        not args.no_header,
        names,
        args.k,
        args.seed,
        args.split,
        args.test_fraction,
        args.time_budget,
        args.output_json,
    )
    return 0
