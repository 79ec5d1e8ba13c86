"""Benchmarks (`nightfeed benchmark`, `make bench`): JSON results, never timed unit tests.

Suites:
- models: every model on MovieLens 100k (recommenders-team protocol) and on the synthetic
  platform, next to the published reference rows;
- scoring: training and top-N-with-rules at scale, nightfeed vs Spark MLlib vs the BLAS limit.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from . import config, evaluation, synthetic

# recommenders-team/recommenders examples/06_benchmarks (2025 run), MovieLens 100k, k=10.
PUBLISHED_ML100K_NDCG10 = {"BiVAE": 0.4687, "BPR (cornac)": 0.4450, "LightGCN": 0.4164, "SAR": 0.3938,
                           "NCF": 0.3686, "Spark ALS (explicit)": 0.0332}
ALL_MODELS = ["popularity", "als", "bpr", "ease", "spark-als", "auto"]


class PeakRSS:
    """Samples the RSS of this process and all its children (JVM, Python workers) while active."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _total(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._total())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.peak = self._total()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._total())


@contextmanager
def stage(results: dict, name: str):
    """Record wall seconds and peak RSS (MB, process tree) of a block under results[name]."""
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        yield
        wall = time.perf_counter() - t0
    results[name] = {"wall_s": round(wall, 3), "peak_rss_mb": round(mem.peak / 2**20, 1)}
    print(f"  {name}: {wall:.2f} s, peak RSS {mem.peak / 2**20:.0f} MB", flush=True)


def machine() -> dict:
    return {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform()}


# ---------------------------------------------------------------- models suite

def synthetic_interactions(region: str = "BENCH", ds: str = "2026-11-25", days: int = 7, seed: int = 42) -> pd.DataFrame:
    """The synthetic platform's positive (user, item) events over `days`, weighted like the pipeline."""
    cfg = config.region_config(region)
    weights = cfg["event_weights"]
    rows = []
    for back in range(days - 1, -1, -1):
        day = (dt.date.fromisoformat(ds) - dt.timedelta(days=back)).isoformat()
        for e in synthetic.events(cfg["synthetic"], seed, region, day):
            w = weights.get(e["event_type"], 0.0)
            if w > 0:
                rows.append((e["user_id"], e["item_id"], w, dt.datetime.fromisoformat(e["event_ts"].replace("Z", "+00:00")).timestamp()))
    return pd.DataFrame(rows, columns=["user", "item", "weight", "time"])


def models_suite(movielens: Path | None, k: int = 10, seed: int = 42, models: list[str] | None = None) -> dict:
    models = models or ALL_MODELS
    out: dict = {"k": k, "seed": seed}
    if movielens and Path(movielens).exists():
        print(f"MovieLens 100k ({movielens}), stratified 75/25, seed {seed}", flush=True)
        df = evaluation.load_interactions(movielens, "movielens-100k")
        t0 = time.perf_counter()
        res = evaluation.compare(df, models, "stratified", 0.25, seed, k)
        print(evaluation.format_table(res, k), flush=True)
        out["movielens_100k"] = {"protocol": "stratified per-user 75/25, binary relevance, seen items removed",
                                 "results": res, "published_ndcg@10": PUBLISHED_ML100K_NDCG10,
                                 "total_s": round(time.perf_counter() - t0, 2)}
    else:
        print(f"MovieLens 100k not found at {movielens}: skipping that part", flush=True)
    print("synthetic platform (7 days, default region size), temporal split 75/25", flush=True)
    df = synthetic_interactions(seed=seed)
    res = evaluation.compare(df, models, "temporal", 0.25, seed, k, weighted=True)
    print(evaluation.format_table(res, k), flush=True)
    out["synthetic_platform"] = {"protocol": "per-user temporal 75/25 on 7 days of synthetic events, confidence weights",
                                 "results": res}
    return out


def write_json(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), **result}, indent=1, default=str))
    print(f"wrote {path}")
