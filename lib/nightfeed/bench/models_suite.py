"""Benchmark suite `models`: every model on MovieLens 100k (recommenders-team protocol), on a
generated weighted listening log (large catalog, heavy-tailed play counts) and on the synthetic
platform, next to the published reference rows; plus EASE's fit and λ-sweep times."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd

from nightfeed.bench.catalogs import ease_scaling, listening_log
from nightfeed.configuration import config
from nightfeed.core.errors import NightfeedError
from nightfeed.evaluation.loaders import load_interactions
from nightfeed.models import MODEL_NAMES
from nightfeed.pipeline.offline import compare, format_table
from nightfeed.runtime.spark import build_session
from nightfeed.synthetic import world as synthetic

DEFAULT_MOVIELENS = Path("../shared/data/ml-100k/u.data")

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
    frames = []
    for back in range(days - 1, -1, -1):
        day = (dt.date.fromisoformat(ds) - dt.timedelta(days=back)).isoformat()
        ev = synthetic.events(cfg.synthetic, seed, region, day)
        w = ev["event_type"].map(weights).fillna(0.0)
        ev = ev[w > 0]
        frames.append(
            pd.DataFrame(
                {
                    "user": ev["user_id"],
                    "item": ev["item_id"],
                    "weight": w[w > 0],
                    "time": pd.to_datetime(ev["event_ts"], format="ISO8601", utc=True).astype("int64") / 1e9,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def models_suite(
    movielens: Path | None,
    k: int = 10,
    seed: int = 42,
    models: list[str] | None = None,
    budget_s: float = 120.0,
) -> dict:
    """Every model (default: all) on each data set; `auto` gets `budget_s` seconds. movielens None:
    DEFAULT_MOVIELENS if it is there (this machine's copy); a path given must exist."""
    if movielens is not None and not movielens.is_file():
        raise NightfeedError(f"--movielens {movielens}: file not found")
    movielens = movielens or DEFAULT_MOVIELENS
    models = models or list(MODEL_NAMES)
    out: dict = {"k": k, "seed": seed}
    if "spark-als" in models:
        build_session("nightfeed-benchmark-models")  # spark-als trains on the active session
    if movielens.is_file():
        print(f"MovieLens 100k ({movielens}), stratified 75/25, seed {seed}", flush=True)
        df = load_interactions(movielens, "movielens-100k")
        t0 = time.perf_counter()
        res = compare(df, models, "stratified", 0.25, seed, k, time_budget_s=budget_s)
        print(format_table(res, k), flush=True)
        out["movielens_100k"] = {
            "protocol": "stratified per-user 75/25, binary relevance, seen items removed",
            "results": res,
            "published_ndcg@10": PUBLISHED_ML100K_NDCG10,
            "total_s": round(time.perf_counter() - t0, 2),
        }
    else:
        print(f"MovieLens 100k not found at {movielens}: skipping that part", flush=True)
    log = listening_log(seed=seed)
    print("generated listening log (play counts), stratified 75/25; EASE scaling on it", flush=True)
    out["ease_scaling"] = ease_scaling(log)
    print(out["ease_scaling"], flush=True)
    log_models = [m for m in models if m not in ("spark-als", "bpr")]  # bpr/spark-als: minutes here
    res = compare(log, log_models, "stratified", 0.25, seed, k, time_budget_s=budget_s, weighted=True)
    print(format_table(res, k), flush=True)
    out["listening_log"] = {
        "protocol": "stratified per-user 75/25 on generated play counts (weights = plays)",
        "results": res,
    }
    print("synthetic platform (7 days, default region size), temporal split 75/25", flush=True)
    df = synthetic_interactions(seed=seed)
    res = compare(df, models, "temporal", 0.25, seed, k, time_budget_s=budget_s, weighted=True)
    print(format_table(res, k), flush=True)
    out["synthetic_platform"] = {
        "protocol": "per-user temporal 75/25 on 7 days of synthetic events, confidence weights",
        "results": res,
    }
    return out
