"""Command line: `nightfeed <command>` and the argument handling of the spark-submit jobs.

User errors (bad arguments, missing inputs, failed checks) print one line `error: ...` and exit 2.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

from . import config
from .errors import NightfeedError


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line `error: ...` (usage stays available via --help)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message}\n")


def _date(value: str) -> str:
    try:
        return config.validate_ds(value)
    except NightfeedError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("invalid --ds ", "")) from None


def _region(value: str) -> str:
    try:
        return config.validate_region(value)
    except NightfeedError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_slice_args(p: argparse.ArgumentParser, region_required: bool = True) -> None:
    p.add_argument("--region", type=_region, required=region_required, help="region code, e.g. US")
    p.add_argument("--ds", type=_date, required=True, help="run date YYYY-MM-DD")


def _stage_options(p: argparse.ArgumentParser, stage: str) -> None:
    if stage == "generate_events":
        p.add_argument("--days", type=int, default=None, help="days of history ending at --ds (default: conf)")
        p.add_argument("--seed", type=int, default=None, help="generator seed (default: conf model.seed)")
    if stage == "train_model":
        from .models import MODEL_NAMES

        p.add_argument("--model", dest="model_type", choices=MODEL_NAMES, default=None,
                       help="model type (default: conf model.type)")


def _stage_kwargs(args: argparse.Namespace, stage: str) -> dict:
    keys = {"generate_events": ("days", "seed"), "train_model": ("model_type",)}.get(stage, ())
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def _fail(exc: Exception) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def _session(app: str):
    from .spark import build_session

    return build_session(app)


def run_stage(stage: str, region: str, ds: str, spark=None, **options) -> dict:
    from . import stages

    cfg = config.region_config(region)
    lake = config.Lake.default()
    spark = spark if spark is not None or stage == "generate_events" else _session(f"nightfeed-{stage}-{region}-{ds}")
    t0 = time.perf_counter()
    out = stages.run(spark, lake, stage, region, ds, cfg, **options)
    return {"stage": stage, "region": region, "ds": ds, "seconds": round(time.perf_counter() - t0, 2), **out}


def run_job(stage: str, argv: list[str] | None = None) -> int:
    """Entry point of `spark-submit jobs/<stage>.py --region X --ds D [options]`."""
    parser = Parser(prog=f"jobs/{stage}.py", description=f"nightfeed stage {stage} for one (region, ds)")
    _add_slice_args(parser)
    _stage_options(parser, stage)
    args = parser.parse_args(argv)
    try:
        print(json.dumps(run_stage(stage, args.region, args.ds, **_stage_kwargs(args, stage)), default=str))
        return 0
    except NightfeedError as exc:
        return _fail(exc)


def _regions(args) -> list[str]:
    if getattr(args, "all_regions", False) or not args.region:
        return config.nightly_regions()
    return [args.region]


def cmd_run(args) -> int:
    """All nightly stages in order, in one Spark session, for one region or every nightly region."""
    from . import stages

    spark = _session("nightfeed-run")
    results = []
    for region in _regions(args):
        if args.generate:
            gen = run_stage("generate_events", region, args.ds, spark)
            print(json.dumps(gen), flush=True)
            for back in range(gen["days"] - 1, 0, -1):  # history the nightly window reads
                day = (dt.date.fromisoformat(args.ds) - dt.timedelta(days=back)).isoformat()
                print(json.dumps(run_stage("ingest_events", region, day, spark), default=str), flush=True)
        for stage in stages.NIGHTLY:
            res = run_stage(stage, region, args.ds, spark)
            results.append(res)
            print(json.dumps(res, default=str), flush=True)
    if args.summary:
        print_summary(results)
    return 0


def print_summary(results: list[dict]) -> None:
    """One block per region: events, quarantine, users/items, model, metric vs baseline, feed rows."""
    lake = config.Lake.default()
    by_region: dict[str, dict] = {}
    for r in results:
        by_region.setdefault(r["region"], {})[r["stage"]] = r
    print("\n=== nightfeed summary ===")
    for region, st in by_region.items():
        ing, tr, ev, pub = st["ingest_events"], st["train_model"], st["evaluate_model"], st["publish_feeds"]
        k = ev["k"]
        model_m, pop_m = ev["metrics"][tr["model_type"]], ev["metrics"]["popularity"]
        print(f"[{region}] ds={ing['ds']}")
        print(f"  events read {ing['lines_read']:,}  valid {ing['valid']:,}  quarantined {ing['quarantined']:,} "
              f"{dict(sorted(ing['quarantine_reasons'].items()))}")
        print(f"  users {tr['n_users']:,}  items {tr['n_items']:,}  interactions {tr['n_interactions']:,}")
        print(f"  model {tr['model_version']} ({tr['model_type']})")
        print(f"  offline (last-day holdout, {ev['test_users']} users): ndcg@{k} {model_m[f'ndcg@{k}']:.4f} "
              f"vs popularity {pop_m[f'ndcg@{k}']:.4f}; recall@{k} {model_m[f'recall@{k}']:.4f} vs {pop_m[f'recall@{k}']:.4f}")
        print(f"  feed rows written {pub['rows']:,} for {pub['users']:,} users "
              f"{st['score_feeds'].get('rows_by_source', {})}")
    print(f"\nlake: {lake.root}\n  tables: {lake.root}/bronze, {lake.root}/silver, {lake.root}/gold "
          f"(feeds: {lake.table('gold/feeds')})\n  models: {lake.root}/models  reports: {lake.root}/reports")


def cmd_rollback(args) -> int:
    from . import publish

    out = publish.rollback(_session("nightfeed-rollback"), config.Lake.default(), args.region, args.to_ds, args.to_version)
    print(json.dumps(out, default=str))
    return 0


def cmd_live_feed(args) -> int:
    from . import publish

    spark = _session("nightfeed-live-feed")
    lake = config.Lake.default()
    ptr = publish.live_pointer(spark, lake, args.region)
    rows = publish.live_feed(spark, lake, args.region).count()
    print(json.dumps({**ptr, "rows": rows}, default=str))
    return 0


def cmd_maintain(args) -> int:
    from . import publish

    m = config.load_raw()["defaults"]["maintenance"]
    hours = args.retention_hours if args.retention_hours is not None else float(m["retention_hours"])
    out = publish.maintain(_session("nightfeed-maintain"), config.Lake.default(), hours, int(m["rollback_days"]), args.dry_run)
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
    print(json.dumps(run_stage(args.stage, args.region, args.ds, **_stage_kwargs(args, args.stage)), default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import stages

    parser = Parser(prog="nightfeed", description="nightly batch For-You feeds on Spark + Delta")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("run", help="run every nightly stage in order for one region (or all nightly regions)")
    p.add_argument("--region", type=_region, help="region code (default: every region in conf nightly_regions)")
    p.add_argument("--all-regions", action="store_true", help="every region in conf nightly_regions")
    p.add_argument("--ds", type=_date, required=True)
    p.add_argument("--generate", action="store_true",
                   help="first land synthetic history ending at --ds (the embedded data set) and ingest its earlier days")
    p.add_argument("--summary", action="store_true", help="print a per-region summary at the end")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("stage", help="run one stage in-process (same as spark-submit jobs/<stage>.py)")
    p.add_argument("stage", choices=stages.STAGES)
    _add_slice_args(p)
    for st in ("generate_events", "train_model"):
        _stage_options(p, st)
    p.set_defaults(func=cmd_stage)

    p = sub.add_parser("quality-report", help="GX Data Docs + summary page + summary.json for one (region, ds)")
    _add_slice_args(p)
    p.set_defaults(func=lambda a: cmd_stage(argparse.Namespace(stage="quality_report", region=a.region, ds=a.ds)))

    p = sub.add_parser("rollback", help="make an earlier published feed the live one (Delta time travel)")
    p.add_argument("--region", type=_region, required=True)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--to-ds", type=_date, help="make this ds's published feed live")
    target.add_argument("--to-version", type=int, help="make the region's feed at this gold/feeds version live")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("live-feed", help="which feed is live for a region, and its size")
    p.add_argument("--region", type=_region, required=True)
    p.set_defaults(func=cmd_live_feed)

    p = sub.add_parser("maintain", help="OPTIMIZE and VACUUM every table, never below what rollback needs")
    p.add_argument("--retention-hours", type=float, help="default: conf maintenance.retention_hours")
    p.add_argument("--dry-run", action="store_true")
    p.set_defaults(func=cmd_maintain)

    p = sub.add_parser("cluster", help="Spark standalone master + worker on 127.0.0.1 (make cluster-up/down)")
    p.add_argument("action", choices=("up", "down", "package"))
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--memory", default="4g")
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("setup-spark", help="configure this venv's Spark: Delta jars, python, local IP (make install)")
    p.set_defaults(func=cmd_setup_spark)

    p = sub.add_parser("benchmark", help="benchmarks with JSON output: model quality and scoring speed")
    p.add_argument("--suite", choices=("models", "scoring", "all"), default="all")
    p.add_argument("--scale", choices=("small", "default", "large"), default="default", help="scoring data size")
    p.add_argument("--users", type=int, help="override the scale's user count")
    p.add_argument("--items", type=int, help="override the scale's item count")
    p.add_argument("--interactions", type=int, help="override the scale's interaction count")
    p.add_argument("--rank", type=int, default=64)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--skip-mllib", action="store_true", help="scoring suite without the Spark MLlib baseline")
    p.add_argument("--movielens", default="../shared/data/ml-100k/u.data", help="MovieLens 100k u.data for the models suite")
    p.add_argument("--output-dir", default="bench/results")
    p.add_argument("--output-json", help="scoring suite: write its JSON here (default: <output-dir>/scoring.json)")
    p.set_defaults(func=cmd_benchmark)

    p = sub.add_parser("evaluate", help="offline evaluation of models on an interactions file")
    add_evaluate_args(p)
    p.set_defaults(func=cmd_evaluate)
    return parser


def add_evaluate_args(p: argparse.ArgumentParser) -> None:
    from .evaluation import FORMATS, SPLITS

    p.add_argument("--input", required=True, help="ratings / interactions file")
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--sep", default=",", help="csv delimiter (\\t or 'tab' for tabs)")
    p.add_argument("--user-col", help="user column name (or 0-based position with --no-header)")
    p.add_argument("--item-col", help="item column name (or position)")
    p.add_argument("--weight-col", help="optional weight column (default: every row weighs 1)")
    p.add_argument("--time-col", help="optional timestamp column (needed by temporal splits)")
    p.add_argument("--no-header", action="store_true", help="csv has no header line; columns are positions")
    p.add_argument("--model", action="append", default=None,
                   help="model(s) to compare: popularity, als, bpr, ease, spark-als, auto (repeatable or comma-separated)")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--split", choices=SPLITS, default="stratified")
    p.add_argument("--test-fraction", type=float, default=0.25)
    p.add_argument("--time-budget", type=float, default=120.0, help="seconds for auto's search")
    p.add_argument("--output-json", help="write the per-model results here")


def cmd_benchmark(args) -> int:
    from pathlib import Path

    from . import benchmark

    out = Path(args.output_dir)
    if args.suite in ("models", "all"):
        benchmark.write_json(benchmark.models_suite(Path(args.movielens)), out / "models.json")
    if args.suite in ("scoring", "all"):
        scale = dict(benchmark.SCALES[args.scale])
        scale.update({k: getattr(args, k) for k in ("users", "items", "interactions") if getattr(args, k)})
        res = benchmark.scoring_suite(scale, rank=args.rank, iterations=args.iterations, skip_mllib=args.skip_mllib)
        print(json.dumps({"ratios": res["ratios"], "quality": res["quality"]}, indent=1))
        benchmark.write_json(res, Path(args.output_json) if args.output_json else out / "scoring.json")
    return 0


def cmd_evaluate(args) -> int:
    from . import evaluation
    from .models import MODEL_NAMES

    names = [m.strip() for arg in (args.model or ["popularity,als,ease,auto"]) for m in arg.split(",") if m.strip()]
    unknown = [m for m in names if m not in MODEL_NAMES]
    if unknown:
        raise NightfeedError(f"unknown --model {unknown}; choose from {', '.join(MODEL_NAMES)}")
    if args.k < 1:
        raise NightfeedError("--k must be at least 1")
    df = evaluation.load_interactions(args.input, args.format, args.sep, args.user_col, args.item_col,
                                      args.weight_col, args.time_col, header=not args.no_header)
    if args.split != "stratified" and args.format == "csv" and not args.time_col:
        raise NightfeedError(f"--split {args.split} needs --time-col")
    results = evaluation.compare(df, names, args.split, args.test_fraction, args.seed, args.k,
                                 time_budget_s=args.time_budget, weighted=bool(args.weight_col))
    print(evaluation.format_table(results, args.k))
    if args.output_json:
        with open(args.output_json, "w") as fh:
            json.dump(results, fh, indent=1)
        print(f"wrote {args.output_json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except NightfeedError as exc:
        return _fail(exc)


if __name__ == "__main__":
    sys.exit(main())
