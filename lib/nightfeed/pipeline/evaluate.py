"""Stage evaluate_model: the registered model and the popularity baseline on a temporal holdout
(train on the window ending the day before ds, test on ds's new interactions)."""

from __future__ import annotations

import json

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from .. import features, models, schemas
from ..config import Lake
from ..errors import NightfeedError
from ..evaluation.matrices import encode, relevant_sets
from ..evaluation.protocol import fit_and_score
from ..settings import RegionConfig
from ..tables import LakeTables
from .artifacts import registered_model
from .inputs import catalog_snapshot, shift, window_events


def evaluate_model(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    """Reports the registered model's type/params and the popularity baseline on the same split."""
    t = LakeTables(spark, lake.root)
    reg = registered_model(t, region, ds)
    items = catalog_snapshot(t, region, ds)
    lookback = cfg.features.lookback_days
    events = window_events(t, region, ds, lookback + 1)
    prev = shift(ds, -1)
    train_events = events.where(F.col("ds") <= prev).where(
        F.col("ds") >= features.window_start(prev, lookback)
    )
    train = (
        features.interactions(train_events, items, region, prev, cfg.features)
        .select("user_id", "item_id", "confidence")
        .toPandas()
    )
    test = (
        features.interactions(events.where(F.col("ds") == ds), items, region, ds, cfg.features)
        .select("user_id", "item_id")
        .toPandas()
    )
    if train.empty or test.empty:
        raise NightfeedError(
            f"evaluate {region} {ds}: need events on {ds} and before it (train {len(train)}, test "
            f"{len(test)} pairs)"
        )
    enc = encode(train, user="user_id", item="item_id", weight="confidence")
    test_users, relevant = relevant_sets(test, enc, user="user_id", item="item_id")
    if not len(test_users):
        raise NightfeedError(f"evaluate {region} {ds}: no returning user interacted with a new item on {ds}")
    k = cfg.model.k
    params = {p: v for p, v in json.loads(reg["params"]).items() if p not in ("requested", "selected_by")}
    results, rows = {}, []
    for name, model in (
        (reg["model_type"], models.create(reg["model_type"], **params)),
        ("popularity", models.create("popularity")),
    ):
        metrics = fit_and_score(model, enc.train, test_users, relevant, k)["metrics"]
        results[name] = {m: round(v, 4) for m, v in metrics.items()}
        rows += [
            {
                "region": region,
                "ds": ds,
                "model_version": reg["model_version"],
                "model": name,
                "k": k,
                "metric": m,
                "value": float(v),
                "n_users": int(len(test_users)),
            }
            for m, v in metrics.items()
        ]
    t.write_slice(
        "gold/model_metrics", spark.createDataFrame(rows, schemas.load("gold_model_metrics")), region, ds
    )
    return {
        "model_version": reg["model_version"],
        "k": k,
        "test_users": int(len(test_users)),
        "metrics": results,
    }
