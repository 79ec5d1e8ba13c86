"""Stage evaluate_model: the registered model and the popularity baseline on a temporal holdout
(train on the window ending the day before ds, test on ds's new interactions), and the model
that was live on ds on its impressions (`next_day`: GAUC, XAUC, watch nDCG).

A holdout that cannot be formed (a region's first day, no returning user, too few test users) is
a fact about the data, not a failure: the stage records a `skipped` row with the reason in
gold/model_metrics and the night goes on (the promotion gate does not use these metrics).
"""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from nightfeed import models
from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.evaluation.matrices import encode, relevant_sets
from nightfeed.evaluation.protocol import fit_and_score
from nightfeed.feeds import features
from nightfeed.lake import schemas
from nightfeed.lake.table_registry import TABLES
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import registered_model, registered_params
from nightfeed.pipeline.inputs import catalog_snapshot, shift, window_events
from nightfeed.pipeline.next_day import impression_rows


def evaluate_model(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    """Reports the registered model's type/params and the popularity baseline on the same split,
    and the next-day impression metrics; all rows in one write of the slice."""
    t = LakeTables(spark, lake.root)
    rows, out = _holdout(t, region, ds, cfg)
    next_rows, out["next_day"] = impression_rows(t, lake, region, ds, cfg.model.k, cfg.model.seed)
    schema = schemas.load(TABLES["gold/model_metrics"].schema)
    t.write_slice("gold/model_metrics", spark.createDataFrame(rows + next_rows, schema), region, ds)
    return out


def _holdout(t: LakeTables, region: str, ds: str, cfg: RegionConfig) -> tuple[list[dict], dict]:
    """The holdout rows and summary (one `skipped` row when the holdout cannot be formed)."""
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
    k = cfg.model.k
    if train.empty or test.empty:
        return _skipped(
            reg,
            region,
            ds,
            k,
            0,
            f"need interactions on {ds} and in the window before it "
            f"(train {len(train)}, test {len(test)} pairs)",
        )
    enc = encode(train, user="user_id", item="item_id", weight="confidence")
    test_users, relevant = relevant_sets(test, enc, user="user_id", item="item_id")
    if len(test_users) < cfg.model.min_eval_users:
        return _skipped(
            reg,
            region,
            ds,
            k,
            len(test_users),
            f"{len(test_users)} returning users interacted with "
            f"an item they had not seen before on {ds}; model.min_eval_users is {cfg.model.min_eval_users}",
        )
    params = registered_params(reg["params"])
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
                "status": "ok",
                "reason": None,
            }
            for m, v in metrics.items()
        ]
    return rows, {
        "status": "ok",
        "model_version": reg["model_version"],
        "k": k,
        "test_users": int(len(test_users)),
        "metrics": results,
    }


def _skipped(reg, region: str, ds: str, k: int, test_users: int, reason: str) -> tuple[list[dict], dict]:
    """One `skipped` row (metric holdout_users = the test users found) instead of the metrics."""
    row = {
        "region": region,
        "ds": ds,
        "model_version": reg["model_version"],
        "model": reg["model_type"],
        "k": k,
        "metric": "holdout_users",
        "value": float(test_users),
        "n_users": int(test_users),
        "status": "skipped",
        "reason": reason,
    }
    return [row], {"status": "skipped", "reason": reason, "model_version": reg["model_version"], "k": k}
