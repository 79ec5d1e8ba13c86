"""The two gradient-boosting backends of the audit, behind one small API: build an estimator for a
feature list, fit it, get raw probabilities and importances, save and load it.
`xgboost` is xgboost's PySpark estimator (training distributed over Spark tasks, monotone
constraints, boosting from a base margin), `gbt` is Spark MLlib's GBTClassifier (no base margin:
the margin column becomes one more feature)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

# Labels are few (a region reviews a handful of videos a day), so xgboost is told the direction of
# the features whose effect is known: more reports, skips or prior removals never lower the risk;
# more completion, likes or account age never raise it.
MONOTONE = {
    "reports": 1,
    "distinct_reporters": 1,
    "reports_6h": 1,
    "report_rate": 1,
    "skip_rate": 1,
    "creator_prior_removals": 1,
    "creator_prior_restrictions": 1,
    "creator_prior_reports": 1,
    "completion_rate": -1,
    "like_rate": -1,
    "creator_account_age_days": -1,
    "evidence": 1,
}


def assemble(df: DataFrame, features: tuple[str, ...]) -> DataFrame:
    return VectorAssembler(inputCols=list(features), outputCol="features", handleInvalid="keep").transform(df)


def inputs(kind: str, features: tuple[str, ...], margin: str) -> tuple[str, ...]:
    """The feature columns `kind` is fit on: xgboost boosts from the margin, GBT learns it as a feature."""
    return features if kind == "xgboost" else (*features, margin)


def fit(kind: str, df: DataFrame, features: tuple[str, ...], margin: str, seed: int, n_workers: int):
    """The fitted Spark model of `kind` on df's `features`, `margin` (log-odds to start from),
    `label` (0/1) and `weight`."""
    features = inputs(kind, features, margin)
    df = assemble(df.withColumn("label", F.col("label").cast("double")), features)
    if kind == "xgboost":
        from xgboost.spark import SparkXGBClassifier

        estimator = SparkXGBClassifier(
            features_col="features",
            label_col="label",
            weight_col="weight",
            base_margin_col=margin,
            num_workers=n_workers,
            n_estimators=200,
            max_depth=4,
            learning_rate=0.05,
            subsample=0.8,
            colsample_bytree=0.8,
            min_child_weight=0.5,
            reg_lambda=1.0,
            monotone_constraints="(" + ",".join(str(MONOTONE.get(f, 0)) for f in features) + ")",
            random_state=seed,
            verbose=False,  # no per-round log lines in the job's output
            verbosity=0,
        )
    else:
        from pyspark.ml.classification import GBTClassifier

        estimator = GBTClassifier(
            featuresCol="features",
            labelCol="label",
            weightCol="weight",
            maxIter=60,
            maxDepth=4,
            stepSize=0.1,
            subsamplingRate=0.8,
            seed=seed,
        )
    return estimator.fit(df)


def probability(
    kind: str, model, df: DataFrame, features: tuple[str, ...], margin: str, column: str
) -> DataFrame:
    """df with `column` = the model's probability of the positive class."""
    out = model.transform(assemble(df, inputs(kind, features, margin)))
    return out.withColumn(column, vector_to_array("probability")[1]).drop(
        "features", "rawPrediction", "prediction", "probability"
    )


def importances(kind: str, model, features: tuple[str, ...], margin: str) -> dict[str, float]:
    """Share of the model's gain (xgboost) or impurity decrease (GBT) per feature."""
    features = inputs(kind, features, margin)
    if kind == "gbt":
        values = model.featureImportances.toArray()
    else:
        gain = model.get_booster().get_score(importance_type="gain")
        values = np.array([gain.get(f"f{k}", gain.get(name, 0.0)) for k, name in enumerate(features)])
    total = float(np.sum(values)) or 1.0
    return {name: float(v) / total for name, v in zip(features, values, strict=True)}


# What a saved xgboost model is: the booster in xgboost's own JSON format and the Spark wrapper's
# parameters as plain JSON. xgboost's own Spark writer also pickles callbacks into its metadata,
# which its reader unpickles: a file that can run code is never read here.
BOOSTER_FILE, PARAMS_FILE = "booster.json", "spark_params.json"
UNSAVED_PARAMS = ("callbacks", "xgb_model", "coll_cfg")


def save(kind: str, model, path: Path) -> None:
    """The fitted model of `kind` under `path` (a new folder)."""
    if kind != "xgboost":
        model.write().overwrite().save(str(path))
        return
    path.mkdir(parents=True, exist_ok=True)
    model.get_booster().save_model(str(path / BOOSTER_FILE))
    params = {
        which: {p.name: v for p, v in values.items() if p.name not in UNSAVED_PARAMS}
        for which, values in (("set", model._paramMap), ("defaults", model._defaultParamMap))
    }
    (path / PARAMS_FILE).write_text(json.dumps(params, sort_keys=True, default=str))


def load(kind: str, path: Path):
    """The model `save` wrote; refuses any other content (xgboost's pickled metadata included)."""
    if kind != "xgboost":
        from pyspark.ml.classification import GBTClassificationModel

        return GBTClassificationModel.load(str(path))
    from xgboost import XGBClassifier
    from xgboost.spark import SparkXGBClassifierModel

    if not (path / BOOSTER_FILE).is_file() or not (path / PARAMS_FILE).is_file():
        raise ValueError(
            f"audit model at {path} has no {BOOSTER_FILE} (saved by an older version); retrain it"
        )
    params = json.loads((path / PARAMS_FILE).read_text())
    model = SparkXGBClassifierModel(XGBClassifier())
    names = [name for values in params.values() for name in values]
    unknown = sorted(name for name in names if name in UNSAVED_PARAMS or not model.hasParam(name))
    if sorted(params) != ["defaults", "set"] or unknown:
        raise ValueError(f"audit model at {path}: refused parameters {unknown}; retrain it")
    model._xgb_sklearn_model.load_model(str(path / BOOSTER_FILE))
    model._setDefault(**params["defaults"])
    return model._set(**params["set"])
