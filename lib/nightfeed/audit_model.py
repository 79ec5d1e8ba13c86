"""Content-audit classifiers trained and applied on Spark, with calibrated probabilities.

`xgboost` is xgboost's PySpark estimator (distributed over Spark tasks), `gbt` is Spark MLlib's
GBTClassifier; `prior` is the fallback while a region has too few labels to fit either (the
smoothed violation rate of reviewed videos per report count). Raw scores are Platt-calibrated on
the time-based validation rows, so `risk_score` reads as a probability. Same small interface as
the recommenders: fit, score (`risk`), save, load.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from .audit_features import FEATURES

KINDS = ("xgboost", "gbt")
PRIOR = "prior"
REPORT_BUCKETS = 5  # the prior's report-count buckets: 0 .. 4, and 5 or more
PRIOR_STRENGTH = 2.0  # pseudo-reviews of the smoothing prior
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
    "completion_rate": -1,
    "like_rate": -1,
    "creator_account_age_days": -1,
}


def report_bucket() -> Column:
    return F.least(F.col("reports"), F.lit(float(REPORT_BUCKETS))).cast("int")


def _assemble(df: DataFrame) -> DataFrame:
    return VectorAssembler(inputCols=list(FEATURES), outputCol="features", handleInvalid="keep").transform(df)


def platt(raw: np.ndarray, label: np.ndarray, weight: np.ndarray, steps: int = 50) -> tuple[float, float]:
    """(a, b) of p = sigmoid(a * logit(raw) + b): Platt's fit with his smoothed targets
    ((n+ + 1) / (n+ + 2) and 1 / (n- + 2)) and a ridge pull towards the identity, so a validation
    day with few violating videos cannot make the scores extreme. Identity for a single class."""
    if len(np.unique(label)) < 2:
        return 1.0, 0.0
    n_pos, n_neg = float(np.sum(label == 1)), float(np.sum(label == 0))
    target = np.where(label == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    z = np.log(np.clip(raw, 1e-6, 1 - 1e-6) / np.clip(1 - raw, 1e-6, 1))
    x = np.column_stack([z, np.ones_like(z)])
    identity = np.array([1.0, 0.0])
    ridge = np.diag([1.0, 0.1])
    theta = identity.copy()
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-x @ theta))
        grad = x.T @ (weight * (p - target)) + ridge @ (theta - identity)
        hess = x.T @ (x * (weight * p * (1 - p))[:, None]) + ridge
        theta = theta - np.linalg.solve(hess, grad)
    return float(theta[0]), float(theta[1])


class AuditModel:
    """A fitted audit classifier: the Spark model (none for `prior`), calibration and importances."""

    def __init__(self, kind: str = "xgboost", seed: int = 42, n_workers: int = 1):
        if kind not in (*KINDS, PRIOR):
            raise ValueError(f"unknown audit model {kind!r}; choose from {', '.join(KINDS)}")
        self.kind, self.seed, self.n_workers = kind, seed, n_workers
        self.spark_model = None
        self.calibration = (1.0, 0.0)
        self.importances: dict[str, float] = {}
        self.prior_rates: list[float] = []

    def _estimator(self):
        if self.kind == "xgboost":
            from xgboost.spark import SparkXGBClassifier

            return SparkXGBClassifier(
                features_col="features",
                label_col="label",
                weight_col="weight",
                num_workers=self.n_workers,
                n_estimators=200,
                max_depth=4,
                learning_rate=0.05,
                subsample=0.8,
                colsample_bytree=0.8,
                min_child_weight=5.0,
                reg_lambda=5.0,
                monotone_constraints="(" + ",".join(str(MONOTONE.get(f, 0)) for f in FEATURES) + ")",
                random_state=self.seed,
            )
        from pyspark.ml.classification import GBTClassifier

        return GBTClassifier(
            featuresCol="features",
            labelCol="label",
            weightCol="weight",
            maxIter=60,
            maxDepth=4,
            stepSize=0.1,
            subsamplingRate=0.8,
            seed=self.seed,
        )

    def fit(self, train: DataFrame, valid: DataFrame) -> AuditModel:
        """train/valid: FEATURES, `label` (0/1) and `weight`; valid calibrates (may be empty)."""
        if self.kind == PRIOR:
            self._fit_prior(train.unionByName(valid))
            return self
        self.spark_model = self._estimator().fit(
            _assemble(train.withColumn("label", F.col("label").cast("double")))
        )
        self.importances = self._importances()
        rows = self._raw(valid).select("raw", "label", "weight").toPandas()
        if len(rows):
            self.calibration = platt(
                rows["raw"].to_numpy(), rows["label"].to_numpy(), rows["weight"].to_numpy()
            )
        return self

    def _fit_prior(self, labeled: DataFrame) -> None:
        counts = labeled.groupBy(report_bucket().alias("b")).agg(
            F.sum(F.col("weight") * F.col("label")).alias("pos"), F.sum("weight").alias("n")
        )
        by_bucket = {r["b"]: (r["pos"] or 0.0, r["n"] or 0.0) for r in counts.collect()}
        total_pos = sum(p for p, _ in by_bucket.values())
        total_n = sum(n for _, n in by_bucket.values())
        base = (total_pos + 0.5) / (total_n + 1.0)
        self.prior_rates = [
            (by_bucket.get(b, (0.0, 0.0))[0] + PRIOR_STRENGTH * base)
            / (by_bucket.get(b, (0.0, 0.0))[1] + PRIOR_STRENGTH)
            for b in range(REPORT_BUCKETS + 1)
        ]
        self.importances = {"reports": 1.0}

    def _importances(self) -> dict[str, float]:
        if self.kind == "gbt":
            values = self.spark_model.featureImportances.toArray()
        else:
            gain = self.spark_model.get_booster().get_score(importance_type="gain")
            values = np.array([gain.get(f"f{k}", gain.get(name, 0.0)) for k, name in enumerate(FEATURES)])
        total = float(np.sum(values)) or 1.0
        return {name: float(v) / total for name, v in zip(FEATURES, values, strict=True)}

    def _raw(self, df: DataFrame) -> DataFrame:
        out = self.spark_model.transform(_assemble(df))
        return out.withColumn("raw", vector_to_array("probability")[1]).drop(
            "features", "rawPrediction", "prediction"
        )

    def risk(self, df: DataFrame) -> DataFrame:
        """df with `risk_score`: the calibrated probability that the video violates a policy."""
        if self.kind == PRIOR:
            rates = F.array(*[F.lit(r) for r in self.prior_rates])
            return df.withColumn("risk_score", F.element_at(rates, report_bucket() + 1))
        a, b = self.calibration
        z = F.log(F.greatest(F.col("raw"), F.lit(1e-6)) / F.greatest(1 - F.col("raw"), F.lit(1e-6)))
        scored = self._raw(df).withColumn("risk_score", 1 / (1 + F.exp(-(F.lit(a) * z + F.lit(b)))))
        return scored.drop("raw", "probability")

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.spark_model is not None:
            self.spark_model.write().overwrite().save(str(path / "estimator"))
        meta = {
            "kind": self.kind,
            "seed": self.seed,
            "calibration": self.calibration,
            "importances": self.importances,
            "prior_rates": self.prior_rates,
            "features": list(FEATURES),
        }
        (path / "audit_model.json").write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, path: Path) -> AuditModel:
        meta = json.loads((path / "audit_model.json").read_text())
        if meta["features"] != list(FEATURES):
            raise ValueError(f"audit model at {path} was trained on other features; retrain it")
        model = cls(meta["kind"], meta["seed"])
        model.calibration = tuple(meta["calibration"])
        model.importances, model.prior_rates = meta["importances"], meta["prior_rates"]
        if model.kind == "xgboost":
            from xgboost.spark import SparkXGBClassifierModel

            model.spark_model = SparkXGBClassifierModel.load(str(path / "estimator"))
        elif model.kind == "gbt":
            from pyspark.ml.classification import GBTClassificationModel

            model.spark_model = GBTClassificationModel.load(str(path / "estimator"))
        return model
