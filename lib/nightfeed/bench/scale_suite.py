"""Benchmark suite `scale`: one region's night at growing sizes, and how each stage's cost grows.

For each size a synthetic region of that many viewers (catalog and creators in proportion) gets
`HISTORY_DAYS` days landed; `nightfeed run --generate` then ingests the earlier days and runs the
last day's night in one process, locally or on a cluster (`master`). Per stage: seconds, events
per second, the peak RSS of the driver (its Python and its JVM) and of the Python workers while
the stage ran, and the stage's own counts; per stage and pair of sizes, the growth exponent (the
slope of log seconds against log events: 1.0 is linear). The feed-value suite runs where it is
affordable (`FEED_VALUE_MAX_VIEWERS`: its oracle costs viewers × catalog). On a cluster, the
night's score_feeds is then run again in local mode on the same lake and its feed candidates
compared with the cluster's (read back with delta-rs, the cluster's at their version).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nightfeed.bench.harness import monitored
from nightfeed.configuration import config
from nightfeed.pipeline import registry
from nightfeed.reports.charts import figure, to_svg

DEFAULT_SIZES = (30_000, 100_000, 300_000, 1_000_000)
HISTORY_DAYS = 3
ITEMS_PER_VIEWER_DAY = 0.015  # uploads a day per viewer (the 100k region: 1,500)
CREATORS_PER_VIEWER = 0.12
FEED_VALUE_MAX_VIEWERS = 30_000


def world_settings(viewers: int) -> dict:
    """The synthetic settings of a region of `viewers` viewers."""
    return {
        "n_users": viewers,
        "items_per_day": max(40, round(viewers * ITEMS_PER_VIEWER_DAY)),
        "n_creators": max(200, round(viewers * CREATORS_PER_VIEWER)),
        "history_days": HISTORY_DAYS,
    }


def scale_suite(
    sizes=DEFAULT_SIZES, ds: str = "2026-11-25", master: str | None = None, workdir: str | None = None
) -> dict:
    """Each size's night, the growth exponents between sizes, and the chart of seconds per stage."""
    work = Path(workdir or tempfile.mkdtemp(prefix="nightfeed-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    runs = [_size(int(n), ds, master, work) for n in sizes]
    return {
        "suite": "scale",
        "ds": ds,
        "master": master or "local",
        "sizes": runs,
        "growth_exponents": growth_exponents(runs),
        "chart_svg": chart(runs),
        "workdir": str(work),
    }


def _size(viewers: int, ds: str, master: str | None, work: Path) -> dict:
    region = f"S{viewers}"
    settings = world_settings(viewers)
    conf = work / f"{region}.toml"
    conf.write_text(
        config.conf_path().read_text()
        + f"\n[regions.{region}.synthetic]\n"
        + "".join(f"{k} = {v}\n" for k, v in settings.items())
    )
    lake = work / region / "lake"
    env = {**os.environ, "NIGHTFEED_CONF": str(conf), "NIGHTFEED_LAKE": str(lake)}
    if master:
        env["NIGHTFEED_SPARK_MASTER"] = master
    cli = [str(Path(sys.executable).parent / "nightfeed")]
    print(f"[scale] {region}: {settings}", flush=True)
    t0 = time.perf_counter()
    code, lines, samples = monitored(
        cli + ["run", "--region", region, "--ds", ds, "--generate"], env, work / f"{region}.log"
    )
    out = {
        "viewers": viewers,
        "region": region,
        "world": settings,
        "exit_code": code,
        "wall_s": round(time.perf_counter() - t0, 1),
        **night_costs(lines, samples, ds),
        "log": str(work / f"{region}.log"),
    }
    if code == 0 and viewers <= FEED_VALUE_MAX_VIEWERS:
        target = work / f"{region}-feed-value.json"
        fv = subprocess.run(
            cli
            + [
                "benchmark",
                "--suite",
                "feed-value",
                "--region",
                region,
                "--ds",
                ds,
                "--output-json",
                str(target),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        out["feed_value"] = (
            json.loads(target.read_text())["results"] if fv.returncode == 0 else fv.stderr[-2000:]
        )
    if code == 0 and master:
        out["equal_to_local"] = same_as_local(cli, env, region, ds, lake)
    print(f"[scale] {region}: night {out.get('night_s')} s, exit {code}", flush=True)
    return out


FEED_KEY = ["user_id", "rank", "item_id", "source"]


def same_as_local(cli: list[str], env: dict, region: str, ds: str, lake: Path) -> dict:
    """Rerun the night's score_feeds in local mode on the same lake: are the feed candidates the
    cluster wrote the same (order, items, sources; scores within float rounding)?"""
    from deltalake import DeltaTable

    path = str(lake / "silver" / "feed_candidates")
    cluster_version = DeltaTable(path).version()
    local = {k: v for k, v in env.items() if k != "NIGHTFEED_SPARK_MASTER"}
    rerun = subprocess.run(
        cli + ["stage", "score_feeds", "--region", region, "--ds", ds],
        env=local,
        capture_output=True,
        text=True,
    )
    if rerun.returncode:
        return {"equal": False, "error": rerun.stderr[-2000:]}

    def feeds(version: int | None):
        table = DeltaTable(path, version=version).to_pandas(
            partitions=[("region", "=", region), ("ds", "=", ds)], columns=[*FEED_KEY, "score"]
        )
        return table.sort_values(FEED_KEY, ignore_index=True)

    on_cluster, on_local = feeds(cluster_version), feeds(None)
    same_rows = on_cluster[FEED_KEY].equals(on_local[FEED_KEY])
    gap = (on_cluster["score"] - on_local["score"]).abs() / on_local["score"].abs().clip(lower=1.0)
    score_gap = float(gap.max()) if same_rows and len(gap) else None
    return {
        "equal": bool(same_rows and (score_gap or 0.0) <= 1e-4),
        "rows": len(on_cluster),
        "max_relative_score_difference": score_gap,
    }


def night_costs(lines: list[tuple[float, str]], samples: list[tuple], ds: str) -> dict:
    """Per stage of the night of ds (its ingest through its last stage): seconds, events/s, peak
    RSS while it ran, its counts; and the generation's lines per second."""
    stages, gen, events, last = {}, None, None, None
    for at, line in lines:
        summary = json.loads(line) if line.startswith("{") else None
        if not summary or "stage" not in summary:
            continue
        start, last = last if last is not None else at - summary["seconds"], at
        if summary["stage"] == "generate_events":
            gen = summary
            continue
        if summary["ds"] != ds or summary["stage"] not in registry.NIGHTLY:
            continue
        if summary["stage"] == "ingest_events":
            events = summary.get("valid")
        window = [s for s in samples if start <= s[0] <= at]
        stages[summary["stage"]] = {
            "seconds": summary["seconds"],
            "driver_rss_mb": _peak(window, lambda s: s[1] + s[2]),
            "python_workers_rss_mb": _peak(window, lambda s: s[3]),
            "counts": {k: v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool)},
        }
        if summary["stage"] == "train_model":  # what `auto` bought at this size
            stages["train_model"]["model"] = {k: summary.get(k) for k in ("model_type", "validation")}
    night = sum(s["seconds"] for s in stages.values())
    for s in stages.values():
        s["events_per_s"] = round(events / s["seconds"]) if events and s["seconds"] else None
    return {
        "events": events,
        "generate": gen
        and {
            "event_lines": gen["event_lines"],
            "seconds": gen["seconds"],
            "lines_per_s": round(gen["event_lines"] / gen["seconds"]),
        },
        "night_s": round(night, 1),
        "peak_driver_rss_mb": _peak(samples, lambda s: s[1] + s[2]),
        "peak_python_workers_rss_mb": _peak(samples, lambda s: s[3]),
        "stages": stages,
    }


def _peak(samples: list[tuple], value) -> float | None:
    return round(max(map(value, samples)) / 2**20) if samples else None


def growth_exponents(runs: list[dict]) -> dict:
    """Per stage and the whole night: log-log slope of seconds against events between each pair of
    consecutive sizes that both finished."""
    done = [r for r in runs if r["exit_code"] == 0 and r.get("events")]
    out: dict[str, dict] = {}
    for a, b in zip(done, done[1:], strict=False):
        span = f"{a['region']}->{b['region']}"
        de = math.log(b["events"] / a["events"])
        for stage in registry.NIGHTLY:
            sa, sb = a["stages"].get(stage, {}).get("seconds"), b["stages"].get(stage, {}).get("seconds")
            if sa and sb and de:
                out.setdefault(stage, {})[span] = round(math.log(sb / sa) / de, 2)
        if de:
            out.setdefault("night", {})[span] = round(math.log(b["night_s"] / a["night_s"]) / de, 2)
    return out


def chart(runs: list[dict]) -> str:
    """Seconds per stage against the night's events, log-log, one line per stage, as SVG."""
    fig, ax = figure(7.5, 4.8)
    done = [r for r in runs if r["exit_code"] == 0 and r.get("events")]
    for stage in registry.NIGHTLY:
        points = [(r["events"], r["stages"][stage]["seconds"]) for r in done if stage in r["stages"]]
        if points:
            ax.plot(*zip(*points, strict=True), "o-", label=stage, linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("events of the night")
    ax.set_ylabel("seconds")
    ax.set_title("Seconds per nightly stage against the night's events")
    ax.grid(color="#e5e7eb", which="both")
    ax.legend(fontsize=6, ncol=3)
    return to_svg(fig)
