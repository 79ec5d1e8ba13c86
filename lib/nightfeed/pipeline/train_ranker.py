"""Stage train_ranker: the ranker's heads trained on the examples of the train window's earlier
days and judged on its newest (ds), against the CF score and the live ranker on the same
impressions; registered in gold/model_registry (`promoted` = the gate's decision), its heads'
GAUC and the next-day metrics of the ranker the live feed used in gold/model_metrics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.evaluation.impressions import gauc, impression_metrics
from nightfeed.lake import schemas
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import artifact_dir, register
from nightfeed.pipeline.inputs import shift, viewer_sample
from nightfeed.pipeline.next_day import metric_row, served_night
from nightfeed.pipeline.ranking_inputs import RANKER_TYPE, load_ranker, promoted, registered_rankers
from nightfeed.ranking.features import FEATURES
from nightfeed.ranking.heads import LABELS, Ranker, fit_local, fit_spark


def train_ranker(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    rc = cfg.ranker
    if rc.type == "none":
        return {"skipped": "ranker.type is none: CF-only feeds"}
    t = LakeTables(spark, lake.root)
    first = shift(ds, -(rc.train_days - 1))
    examples = t.read("silver/ranking_examples").where(
        (F.col("region") == region) & (F.col("ds") >= first) & (F.col("ds") <= ds)
    )
    examples, share = viewer_sample(examples, rc.max_examples, cfg.model.seed)
    train = examples.where(F.col("ds") < ds)
    n_train = train.count()
    judge = examples.where(F.col("ds") == ds).toPandas()
    if n_train == 0 or judge.empty:
        return {
            "status": "skipped",
            "reason": f"no ranking examples of {region} to train on ({first}..{shift(ds, -1)}) and to judge "
            f"by ({ds}): the feeds stay the CF model's until the lake holds those days' events",
        }
    seed = cfg.model.seed
    if n_train >= rc.spark_min_examples:
        workers = max(1, spark.sparkContext.defaultParallelism)
        ranker = fit_spark(train, rc.weights, rc.rounds, rc.max_depth, seed, workers)
        trained_on = "xgboost.spark"
    else:
        ranker = fit_local(train.toPandas(), rc.weights, rc.rounds, rc.max_depth, seed)
        trained_on = "xgboost"
    k = cfg.model.k
    judged = judge_ranker(ranker, judge, k)
    live = promoted(registered_rankers(t, region, shift(ds, -1)))
    baseline = "cf_score"
    if not live.empty:
        live_ranker = load_ranker(t, lake, region, live.iloc[0]["model_version"])
        baseline = f"live ranker {live.iloc[0]['model_version']}"
        judged["baseline"] = _metrics(judge, live_ranker.value(_x(judge)), k)
    else:
        judged["baseline"] = judged["cf"]
    gate = _gate(judged, cfg.gate.max_ndcg_drop, k)
    version = f"{region}-{ds}-ranker"
    path = f"models/ranker/{region}/{ds}"
    ranker.save(artifact_dir(lake, path))
    metrics = {f"value_{m}": v for m, v in judged["value"].items()} | {
        f"cf_{m}": v for m, v in judged["cf"].items()
    }
    metrics |= {f"head_gauc_{h}": v for h, v in judged["heads"].items()} | {"promoted": float(gate)}
    register(
        t,
        {
            "region": region,
            "ds": ds,
            "model_version": version,
            "model_type": RANKER_TYPE,
            "params": json.dumps(
                {"weights": rc.weights, "trained_on": trained_on, "baseline": baseline, "viewer_share": share}
            ),
            "validation_metrics": {m: float(v) for m, v in metrics.items() if np.isfinite(v)},
            "artifact_path": path,
            "n_users": int(judge["user_id"].nunique()),
            "n_items": int(judge["item_id"].nunique()),
            "n_interactions": int(n_train),
        },
        region,
        ds,
    )
    rows = _metric_rows(region, ds, version, k, judged) + _next_day_rows(t, lake, region, ds, k, judge)
    frame = spark.createDataFrame(rows, schemas.load("gold_model_metrics"))
    t.replace_rows("gold/model_metrics", frame, region, ds, "t.model = s.model AND t.metric = s.metric")
    return {
        "model_version": version,
        "trained_on": trained_on,
        "train_examples": int(n_train),
        "viewer_share": share,
        "judged_impressions": len(judge),
        "promoted": bool(gate),
        "compared_with": baseline,
        "value": judged["value"],
        "cf": judged["cf"],
        "head_gauc": judged["heads"],
    }


def _x(frame: pd.DataFrame) -> np.ndarray:
    return frame[list(FEATURES)].to_numpy(np.float32)


def _metrics(frame: pd.DataFrame, score: np.ndarray, k: int) -> dict[str, float]:
    scored = pd.DataFrame(
        {
            "user": frame["user_id"],
            "score": score,
            "played": frame["played"].astype(bool),
            "watched": frame["watched"],
        }
    )
    return {m: v for m, (v, _) in impression_metrics(scored, k).items()}


def cf_order(frame: pd.DataFrame) -> np.ndarray:
    """The CF score as an order: a pair it could not score ranks below every scored one (ties
    among those, never -inf, which the metrics cannot tell apart)."""
    cf = frame["cf_score"].to_numpy(np.float64)
    floor = np.nanmin(cf) - 1 if np.isfinite(cf).any() else 0.0
    return np.where(np.isnan(cf), floor, cf)


def judge_ranker(ranker: Ranker, frame: pd.DataFrame, k: int) -> dict:
    """The value's and the CF score's next-day metrics on `frame`'s impressions, and each head's
    GAUC for its own outcome."""
    predictions = ranker.predict(_x(frame))
    heads = {}
    for name, p in predictions.items():
        label = frame[LABELS[name]].to_numpy(np.float64) > 0
        heads[name] = gauc(pd.DataFrame({"user": frame["user_id"], "score": p, "played": label}))[0]
    return {
        "value": _metrics(frame, ranker.value(_x(frame)), k),
        "cf": _metrics(frame, cf_order(frame), k),
        "heads": heads,
    }


def _gate(judged: dict, max_drop: float, k: int) -> bool:
    """Promote when the value orders the judged day's impressions no worse than the baseline (the
    live ranker, else the CF score) on GAUC and watch nDCG, within `gate.max_ndcg_drop`."""
    ndcg = f"watch_ndcg@{k}"
    new, old = judged["value"], judged["baseline"]
    return bool(new["gauc"] >= old["gauc"] - max_drop and new[ndcg] >= old[ndcg] - max_drop)


def _row(region, ds, version, model, k, metric, value, reason=None) -> dict:
    """A gold/model_metrics row (`next_day.metric_row`); `skipped` when there is no value."""
    ok = value is not None and np.isfinite(value)
    reason = None if ok else reason or "no viewer with what the metric compares"
    return metric_row(
        region, ds, version, model, k, metric, value if ok else 0.0, 0, "ok" if ok else "skipped", reason
    )


def _metric_rows(region, ds, version, k, judged) -> list[dict]:
    rows = [
        _row(region, ds, version, f"ranker:{h}", k, "validation_gauc", v) for h, v in judged["heads"].items()
    ]
    rows += [_row(region, ds, version, "ranker", k, f"validation_{m}", v) for m, v in judged["value"].items()]
    return rows


def _next_day_rows(
    t: LakeTables, lake: Lake, region: str, ds: str, k: int, judge: pd.DataFrame
) -> list[dict]:
    """The ranker the live feed used, and the CF score, on the impressions of ds (next-day)."""
    served = served_night(t, region, shift(ds, -1))
    version = None
    if served is not None:
        live = t.read_slice("gold/feeds", region, served)
        if "ranker_version" in live.columns:
            version = live.where(F.col("ranker_version").isNotNull()).select("ranker_version").first()
            version = version and version["ranker_version"]
    ranker = load_ranker(t, lake, region, version) if version else None
    if ranker is None:
        reason = "the live feed was not ordered by a ranker"
        return [_row(region, ds, version or "", "ranker", k, "gauc", None, reason=reason)]
    values = _metrics(judge, ranker.value(_x(judge)), k)
    cf_values = _metrics(judge, cf_order(judge), k)
    return [_row(region, ds, version, "ranker", k, m, v) for m, v in values.items()] + [
        _row(region, ds, version, "ranker_cf_score", k, m, v) for m, v in cf_values.items()
    ]
