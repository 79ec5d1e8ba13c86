"""Content-audit classifiers trained and applied on Spark, with calibrated probabilities.

Reviewed videos are few (a region reviews a handful a day), so the classifier learns in two
steps. A behaviour model learns, from every video of the night, which viewing patterns and
creator histories go with being reported (a weak label: most reports hit violating videos) —
without the report features themselves. Its score joins the features of the main model, fit on
the reviewed videos (label: removed or restricted) with the selection weights. `xgboost` uses
xgboost's PySpark estimator for both, `gbt` Spark MLlib's GBTClassifier (`audit_boost`); `prior`
stands in while a region has too few labels (the smoothed violation rate of reviewed videos per
report count). Raw scores are Platt-calibrated on the time-based validation rows, so
`risk_score` reads as a probability. Interface like the recommenders: fit, risk, save, load.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from . import audit_boost
from .audit_features import FEATURES
from .settings import AUDIT_MODELS as KINDS

PRIOR = "prior"
REPORT_BUCKETS = 5  # the prior's report-count buckets: 0 .. 4, and 5 or more
PRIOR_STRENGTH = 2.0  # pseudo-reviews of the smoothing prior
REPORT_FEATURES = ("reports", "distinct_reporters", "reports_6h", "report_rate")
# Today's review picks the most-reported videos first, then the oldest: among reviewed videos the
# young ones are the reported ones. Age (and the upload hour) would stand in for reports and
# extrapolate to tonight's uploads, which no reviewed video resembles; the model leaves them out.
SELECTION_CONFOUNDED = ("age_hours", "upload_hour")
BEHAVIOUR_FEATURES = tuple(f for f in FEATURES if f not in REPORT_FEATURES + SELECTION_CONFOUNDED)
MODEL_FEATURES = (*(f for f in FEATURES if f not in SELECTION_CONFOUNDED), "behaviour_score")
MIN_CALIBRATION_POSITIVES = 5


def report_bucket() -> Column:
    return F.least(F.col("reports"), F.lit(float(REPORT_BUCKETS))).cast("int")


def platt(raw: np.ndarray, label: np.ndarray, weight: np.ndarray, steps: int = 50) -> tuple[float, float]:
    """(a, b) of p = sigmoid(a * logit(raw) + b): Platt's fit with his smoothed targets
    ((n+ + 1) / (n+ + 2) and 1 / (n- + 2)). With fewer than MIN_CALIBRATION_POSITIVES violating
    videos only the intercept moves (a = 1: a handful of labels can shift the scores, not flatten or
    invert their order). Identity for a single class."""
    if len(np.unique(label)) < 2:
        return 1.0, 0.0
    n_pos, n_neg = float(np.sum(label == 1)), float(np.sum(label == 0))
    target = np.where(label == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    z = np.log(np.clip(raw, 1e-6, 1 - 1e-6) / np.clip(1 - raw, 1e-6, 1))
    if n_pos < MIN_CALIBRATION_POSITIVES:
        lo, hi = -20.0, 20.0  # the weighted mean of sigmoid(z + b) rises with b: bisect for the target's
        for _ in range(60):
            mid = (lo + hi) / 2
            p = 1.0 / (1.0 + np.exp(-(z + mid)))
            lo, hi = (mid, hi) if np.sum(weight * (p - target)) < 0 else (lo, mid)
        return 1.0, float((lo + hi) / 2)
    x = np.column_stack([z, np.ones_like(z)])
    theta = np.array([1.0, 0.0])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-x @ theta))
        grad = x.T @ (weight * (p - target))
        hess = x.T @ (x * (weight * p * (1 - p))[:, None]) + 1e-3 * np.eye(2)
        theta = np.clip(theta - np.linalg.solve(hess, grad), [0.05, -20.0], [20.0, 20.0])
    return float(theta[0]), float(theta[1])


class AuditModel:
    """A fitted audit classifier: behaviour and main Spark models (none for `prior`), calibration
    and importances."""

    def __init__(self, kind: str = "xgboost", seed: int = 42, n_workers: int = 1):
        if kind not in (*KINDS, PRIOR):
            raise ValueError(f"unknown audit model {kind!r}; choose from {', '.join(KINDS)}")
        self.kind, self.seed, self.n_workers = kind, seed, n_workers
        self.behaviour_model = None
        self.spark_model = None
        self.calibration = (1.0, 0.0)
        self.importances: dict[str, float] = {}
        self.prior_rates: list[float] = []

    def fit(self, train: DataFrame, valid: DataFrame, population: DataFrame | None = None) -> AuditModel:
        """train/valid: FEATURES, `label` (0/1) and `weight`; valid calibrates (may be empty).
        population: every video of the night (FEATURES) for the behaviour model; default train."""
        if self.kind == PRIOR:
            self._fit_prior(train.unionByName(valid))
            return self
        weak = (
            (population if population is not None else train)
            .select(*FEATURES)
            .withColumns({"label": (F.col("distinct_reporters") >= 1).cast("int"), "weight": F.lit(1.0)})
        )
        classes = weak.agg(F.min("label"), F.max("label")).first()
        if classes[0] != classes[1]:  # a night without any report has nothing to learn from
            self.behaviour_model = audit_boost.fit(
                self.kind, weak, BEHAVIOUR_FEATURES, self.seed, self.n_workers
            )
        self.spark_model = audit_boost.fit(
            self.kind, self._behaviour(train), MODEL_FEATURES, self.seed, self.n_workers
        )
        self.importances = audit_boost.importances(self.kind, self.spark_model, MODEL_FEATURES)
        rows = self._raw(valid).select("raw", "label", "weight").toPandas()
        if len(rows):
            self.calibration = platt(
                rows["raw"].to_numpy(), rows["label"].to_numpy(), rows["weight"].to_numpy()
            )
        return self

    def _behaviour(self, df: DataFrame) -> DataFrame:
        if self.behaviour_model is None:
            return df.withColumn("behaviour_score", F.lit(0.0))
        return audit_boost.probability(self.behaviour_model, df, BEHAVIOUR_FEATURES, "behaviour_score")

    def _raw(self, df: DataFrame) -> DataFrame:
        return audit_boost.probability(self.spark_model, self._behaviour(df), MODEL_FEATURES, "raw")

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

    def risk(self, df: DataFrame) -> DataFrame:
        """df with `risk_score` (the calibrated probability that the video violates a policy) and,
        for the boosted models, `behaviour_score`."""
        if self.kind == PRIOR:
            rates = F.array(*[F.lit(r) for r in self.prior_rates])
            return df.withColumn("risk_score", F.element_at(rates, report_bucket() + 1))
        a, b = self.calibration
        z = F.log(F.greatest(F.col("raw"), F.lit(1e-6)) / F.greatest(1 - F.col("raw"), F.lit(1e-6)))
        scored = self._raw(df).withColumn("risk_score", 1 / (1 + F.exp(-(F.lit(a) * z + F.lit(b)))))
        return scored.drop("raw")

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.spark_model is not None:
            self.spark_model.write().overwrite().save(str(path / "estimator"))
        if self.behaviour_model is not None:
            self.behaviour_model.write().overwrite().save(str(path / "behaviour"))
        meta = {
            "kind": self.kind,
            "seed": self.seed,
            "calibration": self.calibration,
            "importances": self.importances,
            "prior_rates": self.prior_rates,
            "features": list(MODEL_FEATURES),
        }
        (path / "audit_model.json").write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, path: Path) -> AuditModel:
        meta = json.loads((path / "audit_model.json").read_text())
        if meta["features"] != list(MODEL_FEATURES):
            raise ValueError(f"audit model at {path} was trained on other features; retrain it")
        model = cls(meta["kind"], meta["seed"])
        model.calibration = tuple(meta["calibration"])
        model.importances, model.prior_rates = meta["importances"], meta["prior_rates"]
        if model.kind in KINDS:
            model.spark_model = audit_boost.load(model.kind, str(path / "estimator"))
        if (path / "behaviour").exists():
            model.behaviour_model = audit_boost.load(model.kind, str(path / "behaviour"))
        return model
