"""The ranker: one xgboost head per objective, and the order value Σ weight · head.

`watch` predicts the seconds a viewer will watch the video (0 when not played), the other heads
the probability of finishing, liking, sharing, following from it and skipping it. Heads train
single-node below `spark_min_examples` examples and with `xgboost.spark` from there on; either
way a head is an xgboost Booster, saved in xgboost's own JSON (nothing that can run code)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nightfeed.core.vocabulary import OBJECTIVES
from nightfeed.ranking.features import FEATURES

LABELS = {
    "watch": "watch_s",
    "finish": "finished",
    "like": "liked",
    "share": "shared",
    "follow": "followed",
    "skip": "skipped",
}
META_FILE = "ranker.json"


@dataclass
class Ranker:
    """Fitted heads (objective -> xgboost Booster) and the weights of the order value."""

    heads: dict
    weights: dict[str, float]

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        import xgboost as xgb

        matrix = xgb.DMatrix(X, feature_names=list(FEATURES), missing=np.nan)
        return {name: head.predict(matrix) for name, head in self.heads.items()}

    def value(self, X: np.ndarray) -> np.ndarray:
        return order_value(self.predict(X), self.weights)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        for name, head in self.heads.items():
            head.save_model(str(path / f"{name}.json"))
        (path / META_FILE).write_text(json.dumps({"heads": sorted(self.heads), "weights": self.weights}))

    @classmethod
    def load(cls, path: Path) -> Ranker:
        import xgboost as xgb

        meta = json.loads((path / META_FILE).read_text())
        heads = {}
        for name in meta["heads"]:
            if name not in OBJECTIVES:
                raise ValueError(f"ranker at {path} names an unknown head {name!r}")
            heads[name] = xgb.Booster(model_file=str(path / f"{name}.json"))
        return cls(heads, {k: float(v) for k, v in meta["weights"].items()})


def order_value(predictions: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Σ_o weight_o · prediction_o over the heads the weights name (a head without a weight adds 0)."""
    size = len(next(iter(predictions.values())))
    total = np.zeros(size)
    for name, weight in weights.items():
        if weight and name in predictions:
            total += weight * np.asarray(predictions[name], np.float64)
    return total


def head_params(name: str, max_depth: int, seed: int) -> dict:
    return {
        "objective": "reg:squarederror" if name == "watch" else "binary:logistic",
        "max_depth": max_depth,
        "learning_rate": 0.1,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "min_child_weight": 5.0,
        "seed": seed,
        "nthread": 2,
    }


def fit_local(examples: pd.DataFrame, weights: dict, rounds: int, max_depth: int, seed: int) -> Ranker:
    """Every head whose label varies in `examples` (FEATURES columns and the LABELS)."""
    import xgboost as xgb

    X = examples[list(FEATURES)].to_numpy(np.float32)
    heads = {}
    for name, label in LABELS.items():
        y = examples[label].to_numpy(np.float64)
        if np.unique(y).size < 2:
            continue
        matrix = xgb.DMatrix(X, label=y, feature_names=list(FEATURES), missing=np.nan)
        heads[name] = xgb.train(head_params(name, max_depth, seed), matrix, num_boost_round=rounds)
    return Ranker(heads, dict(weights))


def fit_spark(examples, weights: dict, rounds: int, max_depth: int, seed: int, n_workers: int) -> Ranker:
    """As `fit_local`, distributed: examples is a Spark DataFrame, each head an xgboost.spark fit."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F
    from xgboost.spark import SparkXGBClassifier, SparkXGBRegressor

    data = VectorAssembler(inputCols=list(FEATURES), outputCol="features", handleInvalid="keep").transform(
        examples
    )
    heads = {}
    for name, label in LABELS.items():
        if data.select(F.countDistinct(label)).first()[0] < 2:
            continue
        p = head_params(name, max_depth, seed)
        kind = SparkXGBRegressor if name == "watch" else SparkXGBClassifier
        model = kind(
            features_col="features",
            label_col=label,
            num_workers=n_workers,
            n_estimators=rounds,
            max_depth=max_depth,
            learning_rate=p["learning_rate"],
            subsample=p["subsample"],
            colsample_bytree=p["colsample_bytree"],
            min_child_weight=p["min_child_weight"],
            random_state=seed,
            verbose=False,
            verbosity=0,
        ).fit(data.withColumn(label, F.col(label).cast("double")))
        booster = model.get_booster()
        booster.feature_names = list(FEATURES)
        heads[name] = booster
    return Ranker(heads, dict(weights))
