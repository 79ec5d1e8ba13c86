"""Benchmark suite `models`: every model on MovieLens 100k (recommenders-team protocol) and on
the synthetic platform, next to the published reference rows."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd

from .. import config, synthetic
from ..evaluation.loaders import load_interactions
from ..models import MODEL_NAMES
from ..pipeline.offline import compare, format_table
from ..spark import build_session

# recommenders-team/recommenders examples/06_benchmarks (2025 run), MovieLens 100k, k=10.
PUBLISHED_ML100K_NDCG10 = {
    "BiVAE": 0.4687,
    "BPR (cornac)": 0.4450,
    "LightGCN": 0.4164,
    "SAR": 0.3938,
    "NCF": 0.3686,
    "Spark ALS (explicit)": 0.0332,
}


def synthetic_interactions(
    region: str = "BENCH", ds: str = "2026-11-25", days: int = 7, seed: int = 42
) -> pd.DataFrame:
    """The synthetic platform's positive (user, item) events over `days`, weighted like the pipeline."""
    cfg = config.region_settings(region)
    weights = cfg.features.event_weights
    rows = []
    for back in range(days - 1, -1, -1):
        day = (dt.date.fromisoformat(ds) - dt.timedelta(days=back)).isoformat()
        for e in synthetic.events(cfg.synthetic, seed, region, day):
            w = weights.get(e["event_type"], 0.0)
            if w > 0:
                rows.append(
                    (
                        e["user_id"],
                        e["item_id"],
                        w,
                        dt.datetime.fromisoformat(e["event_ts"].replace("Z", "+00:00")).timestamp(),
                    )
                )
    return pd.DataFrame(rows, columns=["user", "item", "weight", "time"])


def models_suite(
    movielens: Path | None, k: int = 10, seed: int = 42, models: list[str] | None = None
) -> dict:
    models = models or list(MODEL_NAMES)
    out: dict = {"k": k, "seed": seed}
    if "spark-als" in models:
        build_session("nightfeed-benchmark-models")  # spark-als trains on the active session
    if movielens and Path(movielens).exists():
        print(f"MovieLens 100k ({movielens}), stratified 75/25, seed {seed}", flush=True)
        df = load_interactions(movielens, "movielens-100k")
        t0 = time.perf_counter()
        res = compare(df, models, "stratified", 0.25, seed, k)
        print(format_table(res, k), flush=True)
        out["movielens_100k"] = {
            "protocol": "stratified per-user 75/25, binary relevance, seen items removed",
            "results": res,
            "published_ndcg@10": PUBLISHED_ML100K_NDCG10,
            "total_s": round(time.perf_counter() - t0, 2),
        }
    else:
        print(f"MovieLens 100k not found at {movielens}: skipping that part", flush=True)
    print("synthetic platform (7 days, default region size), temporal split 75/25", flush=True)
    df = synthetic_interactions(seed=seed)
    res = compare(df, models, "temporal", 0.25, seed, k, weighted=True)
    print(format_table(res, k), flush=True)
    out["synthetic_platform"] = {
        "protocol": "per-user temporal 75/25 on 7 days of synthetic events, confidence weights",
        "results": res,
    }
    return out
