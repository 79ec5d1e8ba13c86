"""The scale suite's accounting: stage windows, peaks, events per second and growth exponents."""

import json
import sys

from nightfeed.bench import harness, scale_suite
from nightfeed.pipeline import registry

DS = "2026-11-25"


def _line(stage, ds, seconds, **counts):
    return json.dumps({"stage": stage, "region": "S1", "ds": ds, "seconds": seconds, **counts}) + "\n"


def test_each_stage_of_the_night_gets_its_window_peak_and_rates():
    lines = [
        (10.0, _line("generate_events", DS, 10.0, days=3, event_lines=3000)),
        (12.0, _line("ingest_events", "2026-11-24", 2.0, valid=900)),
        (15.0, _line("ingest_events", DS, 3.0, valid=1000)),
        (20.0, _line("build_features", DS, 5.0, rows=40)),
        (21.0, _line("train_model", DS, 1.0, model_type="ease", validation={"ndcg@10": 0.2})),
        (21.5, "morning report: x\n"),
    ]
    samples = [(11.0, 100 * 2**20, 900 * 2**20, 0), (14.0, 100 * 2**20, 500 * 2**20, 0)]
    samples += [(18.0, 200 * 2**20, 600 * 2**20, 300 * 2**20)]
    out = scale_suite.night_costs(lines, samples, DS)
    assert out["generate"] == {"event_lines": 3000, "seconds": 10.0, "lines_per_s": 300}
    assert out["events"] == 1000 and out["night_s"] == 9.0
    assert out["stages"]["train_model"]["model"] == {"model_type": "ease", "validation": {"ndcg@10": 0.2}}
    ingest, features = out["stages"]["ingest_events"], out["stages"]["build_features"]
    assert ingest["driver_rss_mb"] == 600 and ingest["events_per_s"] == 333  # not the earlier day's 1000
    assert features["driver_rss_mb"] == 800 and features["python_workers_rss_mb"] == 300
    assert features["counts"] == {"rows": 40} and out["peak_driver_rss_mb"] == 1000


def test_growth_exponent_is_the_log_log_slope_between_sizes():
    def run(region, events, seconds):
        stages = {name: {"seconds": seconds} for name in registry.NIGHTLY}
        return {"region": region, "exit_code": 0, "events": events, "night_s": seconds, "stages": stages}

    runs = [run("A", 1000, 10.0), run("B", 10000, 100.0), run("C", 100000, 100.0), {"exit_code": 1}]
    out = scale_suite.growth_exponents(runs)
    assert out["score_feeds"] == {"A->B": 1.0, "B->C": 0.0} and out["night"] == {"A->B": 1.0, "B->C": 0.0}
    assert scale_suite.chart(runs).startswith("<svg")


def test_the_monitor_sees_the_process_tree_and_every_line(tmp_path):
    child = "import time; b = bytearray(50 * 2**20); time.sleep(1.0)"
    code = "import subprocess, sys; print('a', flush=True); "
    code += f"subprocess.run([sys.executable, '-c', {child!r}]); print('b')"
    rc, lines, samples = harness.monitored([sys.executable, "-c", code], {}, tmp_path / "log")
    assert rc == 0 and [line for _, line in lines] == ["a\n", "b\n"]
    assert max(s[3] for s in samples) > 50 * 2**20  # the child counts as a worker
    assert (tmp_path / "log").read_text() == "a\nb\n"


def test_world_settings_grow_with_the_viewers():
    small, large = scale_suite.world_settings(30_000), scale_suite.world_settings(1_000_000)
    assert small == {"n_users": 30_000, "items_per_day": 450, "n_creators": 3600, "history_days": 3}
    assert large["items_per_day"] == 15_000 and large["n_creators"] == 120_000
