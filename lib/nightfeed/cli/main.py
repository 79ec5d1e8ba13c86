"""Command line: `nightfeed <command>` and the argument handling of the spark-submit jobs.

User errors (bad arguments, missing inputs, failed checks) print one line `error: ...` and exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from nightfeed.cli import commands
from nightfeed.cli.args import (
    Parser,
    add_evaluate_args,
    date_arg,
    non_negative_float,
    non_negative_int,
    output_file,
    positive_int,
    region_arg,
    sizes_arg,
)
from nightfeed.core.errors import NightfeedError
from nightfeed.pipeline import registry
from nightfeed.reports.text_tables import printable
from nightfeed.runtime import logs


def _add_slice_args(p: argparse.ArgumentParser, region_required: bool = True) -> None:
    p.add_argument("--region", type=region_arg, required=region_required, help="region code, e.g. US")
    p.add_argument("--ds", type=date_arg, required=True, help="run date YYYY-MM-DD")


def _stage_options(p: argparse.ArgumentParser, options) -> None:
    """Add a stage's extra options (from the stage registry)."""
    for opt in options:
        choices = None
        if opt.choices_from == "models":
            from nightfeed.models import MODEL_NAMES

            choices = MODEL_NAMES
        elif opt.choices_from == "audit_models":
            from nightfeed.core.vocabulary import AUDIT_MODELS

            choices = AUDIT_MODELS
        kind = {None: opt.type, 0: non_negative_int, 1: positive_int}[opt.at_least]
        p.add_argument(opt.flag, dest=opt.dest, type=kind, choices=choices, default=None, help=opt.help)


def _fail(exc: Exception) -> int:
    print(f"error: {printable(exc)}", file=sys.stderr)  # one line, whatever ids the message quotes
    return 2


def run_job(stage: str, argv: list[str] | None = None) -> int:
    """Entry point of `spark-submit jobs/<stage>.py --region X --ds D [options]`."""
    parser = Parser(prog=f"jobs/{stage}.py", description=f"nightfeed stage {stage} for one (region, ds)")
    _add_slice_args(parser)
    _stage_options(parser, registry.stage(stage).options)
    _add_verbose(parser)
    args = parser.parse_args(argv)
    _use_settings(args)
    try:
        from nightfeed.pipeline.runner import print_line, run_stage

        print_line(run_stage(stage, args.region, args.ds, **commands.stage_kwargs(args, stage)))
        return 0
    except NightfeedError as exc:
        return _fail(exc)


def _add_verbose(p: argparse.ArgumentParser) -> None:
    """The options every command and job takes: --verbose, and --conf (sets NIGHTFEED_CONF)."""
    p.add_argument(
        "--verbose", action="store_true", help="Spark INFO logs and progress bars (default: quiet)"
    )
    p.add_argument("--conf", help="configuration file (default: $NIGHTFEED_CONF, else the packaged defaults)")


def _use_settings(args) -> None:
    """Before anything starts: child processes (spark-submit, Spark's Python workers) inherit both."""
    logs.set_verbose(args.verbose)
    if args.conf:
        os.environ["NIGHTFEED_CONF"] = str(Path(args.conf).absolute())


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="nightfeed", description="nightly batch For-You feeds on Spark + Delta")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("run", help="run every nightly stage in order for one region (or all nightly regions)")
    p.add_argument(
        "--region", type=region_arg, help="region code (default: every region in conf nightly_regions)"
    )
    p.add_argument("--all-regions", action="store_true", help="every region in conf nightly_regions")
    p.add_argument("--ds", type=date_arg, help="run date YYYY-MM-DD (or a range with --from/--to)")
    p.add_argument("--from", dest="from_ds", type=date_arg, help="first day of a backfill range (with --to)")
    p.add_argument("--to", dest="to_ds", type=date_arg, help="last day of a backfill range, inclusive")
    p.add_argument(
        "--generate",
        action="store_true",
        help="first land synthetic history ending at --ds (or --to) (the embedded data set) and "
        "ingest its days before the first night",
    )
    p.add_argument("--summary", action="store_true", help="print a per-region summary at the end")
    p.set_defaults(func=commands.cmd_run)

    p = sub.add_parser("report", help="rebuild the morning report of one night from the lake (no Spark)")
    p.add_argument("--ds", type=date_arg, required=True, help="the night YYYY-MM-DD")
    p.add_argument(
        "--region", type=region_arg, action="append", help="only these regions (default: all that ran)"
    )
    p.set_defaults(func=commands.cmd_report)

    p = sub.add_parser("stage", help="run one stage in-process (same as spark-submit jobs/<stage>.py)")
    stages = p.add_subparsers(dest="stage", required=True, metavar="STAGE", parser_class=Parser)
    for st in registry.STAGES:  # each stage takes only the options it declares
        sp = stages.add_parser(st.name, help=f"nightfeed stage {st.name} for one (region, ds)")
        _add_slice_args(sp)
        _stage_options(sp, st.options)
        _add_verbose(sp)
    p.set_defaults(func=commands.cmd_stage)

    p = sub.add_parser(
        "quality-report", help="GX Data Docs + summary page + summary.json for one (region, ds)"
    )
    _add_slice_args(p)
    p.set_defaults(
        func=lambda a: commands.cmd_stage(
            argparse.Namespace(stage="quality_report", region=a.region, ds=a.ds)
        )
    )

    p = sub.add_parser("rollback", help="make an earlier published feed the live one (Delta time travel)")
    p.add_argument("--region", type=region_arg, required=True)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--to-ds", type=date_arg, help="make this ds's published feed live")
    target.add_argument(
        "--to-version", type=non_negative_int, help="make the region's feed at this gold/feeds version live"
    )
    p.add_argument("--dry-run", action="store_true", help="show what would become live; change nothing")
    p.set_defaults(func=commands.cmd_rollback)

    p = sub.add_parser("live-feed", help="which feed is live for a region, and its size")
    p.add_argument("--region", type=region_arg, required=True)
    p.set_defaults(func=commands.cmd_live_feed)

    p = sub.add_parser("feed", help="one user's live feed (or the feed published for --ds) as a table")
    p.add_argument("--region", type=region_arg, required=True)
    p.add_argument("--user", required=True, help="user id")
    p.add_argument("--ds", type=date_arg, help="the feed published for this ds (default: the live one)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=commands.cmd_feed)

    p = sub.add_parser("audit-queue", help="the top of a region's content-audit review queue as a table")
    p.add_argument("--region", type=region_arg, required=True)
    p.add_argument("--ds", type=date_arg, help="the queue of this ds (default: the newest)")
    p.add_argument("--top", type=positive_int, default=20, help="rows to show (default 20)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=commands.cmd_audit_queue)

    p = sub.add_parser("maintain", help="OPTIMIZE and VACUUM every table, never below what rollback needs")
    p.add_argument(
        "--retention-hours", type=non_negative_float, help="default: conf maintenance.retention_hours"
    )
    p.add_argument("--dry-run", action="store_true")
    p.add_argument(
        "--force", action="store_true", help="allow a retention below Delta's 168 h safety default"
    )
    p.set_defaults(func=commands.cmd_maintain)

    p = sub.add_parser(
        "cluster", help="Spark standalone master + workers on 127.0.0.1 (make cluster-up/down)"
    )
    p.add_argument("action", choices=("up", "down", "package"))
    p.add_argument("--workers", type=positive_int, default=2)
    p.add_argument("--cores", type=positive_int, default=1, help="per worker")
    p.add_argument("--memory", default="4g", help="per worker")
    p.set_defaults(func=commands.cmd_cluster)

    p = sub.add_parser(
        "setup-spark",
        help="configure this venv's Spark: Delta jars, python, local IP, JVM class archive (make install)",
    )
    p.set_defaults(func=commands.cmd_setup_spark)

    p = sub.add_parser(
        "benchmark", help="benchmarks with JSON output: model quality, scoring speed, stage overhead"
    )
    p.add_argument(
        "--suite",
        choices=("models", "scoring", "stages", "exposure", "audit", "audit-world", "feed-value", "scale")
        + ("all",),
        default="all",
        help="all = models, scoring, stages and exposure",
    )
    p.add_argument(
        "--repeats", type=positive_int, default=1, help="stages suite: runs per spark-submit (median)"
    )
    p.add_argument(
        "--scale", choices=("small", "default", "large"), default="default", help="scoring/audit data size"
    )
    p.add_argument("--users", type=positive_int, help="override the scale's user count")
    p.add_argument("--items", type=positive_int, help="override the scale's item count")
    p.add_argument("--interactions", type=positive_int, help="override the scale's interaction count")
    p.add_argument("--rank", type=positive_int, default=64)
    p.add_argument("--iterations", type=positive_int, default=10)
    p.add_argument("--skip-mllib", action="store_true", help="scoring suite without the Spark MLlib baseline")
    p.add_argument(
        "--movielens",
        help="MovieLens 100k u.data for the models suite (default: ../shared/data/ml-100k/u.data, "
        "skipped when absent; a path given here must exist)",
    )
    p.add_argument(
        "--region", type=region_arg, help="feed-value suite: only this region (default: every one)"
    )
    p.add_argument("--ds", type=date_arg, help="feed-value suite: only this night (default: every one)")
    p.add_argument(
        "--compare",
        choices=("ranker=none",),
        help="feed-value suite: also value the CF-only feeds (ranker = none) and the two-stage ablations",
    )
    p.add_argument("--sizes", type=sizes_arg, help="scale suite: viewers per region (30000,100000,...)")
    p.add_argument("--master", help="scale suite: Spark master of the nights (default: local)")
    p.add_argument("--output-dir", default="bench/results")
    p.add_argument(
        "--output-json",
        type=output_file,
        help="the one suite's JSON goes here (default: <output-dir>/<suite>.json)",
    )
    p.set_defaults(func=commands.cmd_benchmark)

    p = sub.add_parser("evaluate", help="offline evaluation of models on an interactions file")
    add_evaluate_args(p)
    p.set_defaults(func=commands.cmd_evaluate)
    for name, command in sub.choices.items():
        if name != "stage":  # given after the stage's name, to that stage's parser
            _add_verbose(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # named by the stage whose options they are not
        where = f"nightfeed stage {args.stage}" if args.command == "stage" else "nightfeed"
        parser.exit(2, f"error: {where}: unrecognized arguments: {' '.join(unknown)}\n")
    _use_settings(args)
    try:
        return args.func(args)
    except NightfeedError as exc:
        return _fail(exc)


if __name__ == "__main__":
    sys.exit(main())
