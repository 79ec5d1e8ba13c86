"""The `nightfeed` subcommands: each takes its parsed arguments and calls the pipeline (no logic
of its own beyond choosing what to call)."""

from __future__ import annotations

import json
import sys

from nightfeed.configuration import config
from nightfeed.core.errors import NightfeedError
from nightfeed.pipeline import registry


def stage_kwargs(args, stage: str) -> dict:
    """The extra options of `stage` (from the registry) that were given on the command line."""
    return {
        o.dest: getattr(args, o.dest)
        for o in registry.stage(stage).options
        if getattr(args, o.dest, None) is not None
    }


def _session(app: str):
    from nightfeed.runtime.spark import build_session

    return build_session(app)


def _regions(args) -> list[str]:
    """The regions asked for, each one's configuration read and its model parameters checked: a
    bad value fails before a JVM starts."""
    from nightfeed.models.configured import check_model_settings

    regions = (
        config.nightly_regions() if getattr(args, "all_regions", False) or not args.region else [args.region]
    )
    if not regions:
        raise NightfeedError(
            f"configuration nightly_regions in {config.conf_path()} is empty: nothing to run "
            "(list regions there, or give --region)"
        )
    for region in regions:
        check_model_settings(config.region_settings(region).model)
    return regions


def cmd_run(args) -> int:
    """All nightly stages in order, in one Spark session, for one region or every nightly region;
    with --from/--to every day of the range in date order (each day's regions before the next day)."""
    regions = _regions(args)
    from nightfeed.pipeline.morning import build_report
    from nightfeed.pipeline.runner import night_dates, run_nights
    from nightfeed.pipeline.summary import print_summary

    days = night_dates(args.ds, args.from_ds, args.to_ds)
    results, failed = run_nights(_session("nightfeed-run"), regions, days, args.generate)
    lake = config.Lake.default()
    if args.summary:
        print_summary(results, lake)
    page = None
    for ds in days:
        ran = [r for r in regions if r not in failed or failed[r][0] >= ds]
        page = build_report(lake, ds, ran) if ran else None
    if page:
        print(f"morning report: {page}")
    if not failed:
        return 0
    if len(regions) > 1:  # each region's error is already on stderr
        nights = ", ".join(f"{r} {ds}" for r, (ds, _) in failed.items())
        print(
            f"error: {len(failed)} of {len(regions)} regions failed ({nights}); the others ran",
            file=sys.stderr,
        )
    return 2


def cmd_report(args) -> int:
    from nightfeed.pipeline.morning import build_report

    print(build_report(config.Lake.default(), args.ds, args.region))
    return 0


def cmd_rollback(args) -> int:
    from nightfeed.lake import readonly
    from nightfeed.reports import text_tables

    root = config.Lake.default().root
    eligible = config.region_settings(args.region).feed.eligible_moderation
    if args.dry_run:
        target = readonly.rollback_target(root, args.region, args.to_ds, args.to_version, eligible)
        try:
            current = readonly.live_pointer(root, args.region)
        except NightfeedError:
            current = None
        out = {"dry_run": True, **target, "previous": current}
    else:
        from nightfeed.pipeline import publish_feeds as publish

        out = publish.rollback(
            _session("nightfeed-rollback"),
            config.Lake.default(),
            args.region,
            args.to_ds,
            args.to_version,
            eligible=eligible,
        )
    print(json.dumps(out, default=str))
    if out["taken_down_since"]["videos"]:
        print(
            f"warning: {text_tables.taken_down_note(out['live_ds'], out['taken_down_since'])}",
            file=sys.stderr,
        )
    return 0


def cmd_live_feed(args) -> int:
    """Read with delta-rs: no JVM for a look at one pointer row."""
    from nightfeed.lake import readonly

    print(json.dumps(readonly.live_feed_size(config.Lake.default().root, args.region), default=str))
    return 0


def cmd_feed(args) -> int:
    from nightfeed.lake import readonly
    from nightfeed.reports import text_tables

    feed = readonly.user_feed(config.Lake.default().root, args.region, args.user, args.ds)
    print(json.dumps(feed, default=str) if args.json else text_tables.format_feed(feed))
    return 0


def cmd_audit_queue(args) -> int:
    """Read with delta-rs: the queue is small, and reviewers want it in a second."""
    from nightfeed.lake import readonly
    from nightfeed.reports import text_tables

    queue = readonly.audit_queue(config.Lake.default().root, args.region, args.ds, args.top)
    print(json.dumps(queue, default=str) if args.json else text_tables.format_audit_queue(queue))
    return 0


def cmd_maintain(args) -> int:
    from nightfeed.pipeline import retention

    m = config.default_settings().maintenance
    hours = args.retention_hours if args.retention_hours is not None else m.retention_hours
    out = retention.maintain(
        _session("nightfeed-maintain"), config.Lake.default(), hours, m, args.dry_run, args.force
    )
    print(json.dumps(out, default=str))
    return 0


def cmd_cluster(args) -> int:
    from nightfeed.runtime import cluster

    if args.action == "up":
        print(json.dumps(cluster.up(args.cores, args.memory, workers=args.workers)))
    elif args.action == "down":
        print(json.dumps({"stopped": cluster.down()}))
    else:
        print(cluster.package_zip())
    return 0


def cmd_setup_spark(args) -> int:
    from nightfeed.runtime.venv_spark import configure_venv_spark

    for path in configure_venv_spark():
        print(f"configured {path}")
    return 0


def cmd_stage(args) -> int:
    from nightfeed.pipeline.runner import print_line, run_stage

    print_line(run_stage(args.stage, args.region, args.ds, **stage_kwargs(args, args.stage)))
    return 0


def cmd_benchmark(args) -> int:
    from nightfeed.bench.runner import run_suites

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
        args.repeats,
        region=args.region,
        ds=args.ds,
        compare=args.compare,
        sizes=args.sizes,
        master=args.master,
    )
    return 0


def cmd_evaluate(args) -> int:
    from nightfeed.pipeline import offline

    names = [
        m.strip() for arg in (args.model or ["popularity,als,ease,auto"]) for m in arg.split(",") if m.strip()
    ]
    source = offline.InteractionsFile(
        args.input,
        args.format,
        args.sep,
        args.user_col,
        args.item_col,
        args.weight_col,
        args.time_col,
        header=not args.no_header,
    )
    transform = None
    if args.confidence is not None:
        transform = {
            "confidence": args.confidence,
            "confidence_alpha": args.confidence_alpha,
            "confidence_eps": args.confidence_eps,
        }
    offline.evaluate_file(
        source,
        offline.Evaluation(
            names,
            args.k,
            args.seed,
            args.split,
            args.test_fraction,
            args.time_budget,
            args.output_json,
            transform,
        ),
    )
    return 0
