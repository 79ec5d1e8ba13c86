"""Benchmark suite `stages`: what each nightly stage costs as its own `spark-submit`, against the
floor of Spark itself measured in the same run (`delta_floor.py`: session start, one 5,000-row
replaceWhere write, one read), on a generated region of ~5,000 events a day with three days
landed; plus the whole region in one process and one night of the demo regions in one process,
with what that night asks of Spark and Delta counted and priced at warm costs (`night_floor`)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nightfeed.bench import night_floor
from nightfeed.configuration import config
from nightfeed.pipeline import registry
from nightfeed.pipeline.inputs import shift
from nightfeed.runtime.venv_spark import SPARK_HOME

REGION = "ZQ"
REGION_CONF = "\n[regions.ZQ.synthetic]\nn_users = 260\nitems_per_day = 20\nn_creators = 60\n"
FLOOR_SCRIPT = Path(__file__).with_name("delta_floor.py")


def _timed(cmd: list[str], env: dict, log: Path) -> tuple[float, int, str]:
    """Run cmd; (wall seconds, exit code, last stdout line). Output goes to log."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    with log.open("a") as f:
        f.write(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}\n")
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return round(wall, 2), proc.returncode, lines[-1] if lines else ""


def _median(runs: list[float]) -> float:
    return round(statistics.median(runs), 2)


def stages_suite(ds: str = "2026-11-20", repeats: int = 1, workdir: str | None = None) -> dict:
    """Per-stage spark-submit wall times (median of `repeats`) and their ratio to the floor."""
    work = Path(workdir or tempfile.mkdtemp(prefix="nightfeed-stages-"))
    work.mkdir(parents=True, exist_ok=True)
    conf = work / "nightfeed.toml"
    conf.write_text(config.conf_path().read_text() + REGION_CONF)
    log = work / "stages.log"
    env = {**os.environ, "NIGHTFEED_LAKE": str(work / "lake"), "NIGHTFEED_CONF": str(conf)}
    bin_dir = Path(sys.executable).parent
    cli = [str(bin_dir / "nightfeed")]
    submit = [str(bin_dir / "spark-submit")]
    setup = _land_first_two_nights(ds, env, log, cli) if not (work / "lake").exists() else "reused"
    return {"setup_exit_codes": setup, **measure(work, ds, repeats, env, log, cli, submit)}


def _land_first_two_nights(ds: str, env: dict, log: Path, cli: list[str]) -> dict:
    setup = {
        "generate": _timed(
            cli + ["stage", "generate_events", "--region", REGION, "--ds", ds, "--days", "3"], env, log
        )[1],
        "first_two_nights": _timed(
            cli + ["run", "--region", REGION, "--from", shift(ds, -2), "--to", shift(ds, -1)], env, log
        )[1],
    }
    print(f"  setup exit codes {setup} (log {log})", flush=True)
    return setup


def measure(
    work: Path, ds: str, repeats: int, env: dict, log: Path, cli: list[str], submit: list[str]
) -> dict:
    """Floor, each nightly stage of ds as its own spark-submit, the region in one process, demo night."""
    floor = []
    for _ in range(repeats):
        floor.append(_timed(submit + [str(FLOOR_SCRIPT), str(work / "floor_table")], env, log)[0])
    base = _median(floor)
    print(f"  floor: {base} s", flush=True)
    warm_line = _timed(submit + [str(FLOOR_SCRIPT), str(work / "warm_table"), "--warm", "45"], env, log)[2]
    warm = {k: v for k, v in json.loads(warm_line).items() if k.startswith("warm_")}
    print(f"  warm: {warm}", flush=True)
    stages = {}
    for name in registry.NIGHTLY:
        runs, code = [], 0
        for _ in range(repeats):
            wall, code, last = _timed(
                submit + [str(config.PROJECT_ROOT / "jobs" / f"{name}.py"), "--region", REGION, "--ds", ds],
                env,
                log,
            )
            runs.append(wall)
        own = json.loads(last).get("seconds") if last.startswith("{") else None
        stages[name] = {
            "wall_s": runs,
            "median_s": _median(runs),
            "ratio_to_floor": round(_median(runs) / base, 2),
            "stage_own_s": own,
            "exit_code": code,
        }
        print(f"  {name}: {_median(runs)} s ({stages[name]['ratio_to_floor']}x floor)", flush=True)
    region_run, code, _ = _timed(cli + ["run", "--region", REGION, "--ds", ds], env, log)
    return {
        "suite": "stages",
        "region": REGION,
        "ds": ds,
        "repeats": repeats,
        "floor_s": base,
        "floor_runs_s": floor,
        "stages": stages,
        "max_stage_ratio": max(s["ratio_to_floor"] for s in stages.values()),
        "region_run_s": region_run,
        "region_run_exit_code": code,
        "region_run_ratio": round(region_run / base, 2),
        "warm_floor": warm,
        "demo_night": demo_night(work / "demo", env, log, cli, warm),
        "workdir": str(work),
    }


def demo_night(lake: Path, env: dict, log: Path, cli: list[str], warm: dict) -> dict:
    """`make demo` on its own lake (generation, earlier days ingested, the night), then the same
    night again in one process: every nightly stage of the demo regions, as a nightly run does.
    A third run of that night writes Spark's event log, to count its queries and commits."""
    demo_env = {**env, "NIGHTFEED_LAKE": str(lake), "NIGHTFEED_CONF": str(config.conf_path())}
    ds = "2026-11-25"
    first, code_first, _ = _timed(cli + ["run", "--all-regions", "--ds", ds, "--generate"], demo_env, log)
    night, code, _ = _timed(cli + ["run", "--all-regions", "--ds", ds], demo_env, log)
    print(f"  demo: {first} s with generation and earlier days; the night alone {night} s", flush=True)
    events = lake.parent / "night_events"
    counted_env = {**demo_env, "SPARK_CONF_DIR": str(event_log_conf(lake.parent / "night_conf", events, env))}
    before = night_floor.table_versions(lake)
    counted, code_counted, _ = _timed(cli + ["run", "--all-regions", "--ds", ds], counted_env, log)
    commits = night_floor.commits_between(before, night_floor.table_versions(lake))
    queries = night_floor.count_queries(events)
    floor = night_floor.implied_floor(queries, commits, warm)
    print(f"  the night asks {floor}", flush=True)
    return {
        "regions": config.nightly_regions(),
        "ds": ds,
        "with_generation_s": first,
        "night_s": night,
        "counted_night_s": counted,
        "night_floor": floor,
        "exit_codes": [code_first, code, code_counted],
    }


def event_log_conf(folder: Path, events: Path, env: dict) -> Path:
    """A copy of the caller's Spark conf folder (`SPARK_CONF_DIR`, else Spark's own conf/) whose
    spark-defaults.conf also writes an event log into `events`; both start empty of older runs."""
    own = Path(env.get("SPARK_CONF_DIR") or Path(env.get("SPARK_HOME") or SPARK_HOME) / "conf")
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(events, ignore_errors=True)
    if own.is_dir():
        shutil.copytree(own, folder)
    folder.mkdir(parents=True, exist_ok=True)
    defaults = folder / "spark-defaults.conf"
    lines = defaults.read_text() if defaults.is_file() else ""
    defaults.write_text(lines + "\n" + night_floor.event_log_settings(events))
    return folder
