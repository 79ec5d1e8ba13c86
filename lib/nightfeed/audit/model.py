"""Content-audit classifiers trained and applied on Spark, with calibrated probabilities.

Reviewed videos are few (a region reviews a handful a day), so the classifier does not start from
nothing: its starting log-odds are the evidence of each video's viewing counts (`audit_evidence`,
rates fit on the reviewed violating videos against the whole night) plus the violation rate of
reviewed videos with as many reports (`bucket_rates`: today's process reviews the reported
first, so one rate for all would give every unreported video the reported ones' odds), and the
boosted trees learn from the labels (removed or restricted, with the selection weights) what
reports, creator history and the rest add. `xgboost` uses xgboost's PySpark estimator with
that base margin, `gbt` Spark MLlib's GBTClassifier with the evidence as a feature (`audit_boost`);
`prior` stands in while a region has too few labels for trees: the smoothed violation rate of
reviewed videos per report count, times the viewing evidence (naive Bayes; no evidence before the
first violating review). Raw scores are Platt-calibrated on the time-based validation rows, so
`risk_score` reads as a probability. Interface like the recommenders: fit, risk, save, load.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from nightfeed.audit import boost as audit_boost
from nightfeed.audit.evidence import evidence, fit_rates
from nightfeed.audit.features import FEATURES
from nightfeed.core.vocabulary import AUDIT_MODELS as KINDS

PRIOR = "prior"
REPORT_BUCKETS = 5  # the prior's report-count buckets: 0 .. 4, and 5 or more
PRIOR_STRENGTH = 2.0  # pseudo-reviews of the smoothing prior
# Before reviews say otherwise, a few percent of uploads violate (public transparency reports):
# the unreported videos' rate starts there. A region without reviews yet then holds nothing on a
# guess (an even 0.5 would hold every unreviewed video).
BASE_RATE = 0.03
# Today's review picks the most-reported videos first, then the oldest: among reviewed videos the
# young ones are the reported ones. Age (and the upload hour) would stand in for reports and
# extrapolate to tonight's uploads, which no reviewed video resembles; the model leaves them out.
SELECTION_CONFOUNDED = ("age_hours", "upload_hour")
MODEL_FEATURES = tuple(f for f in FEATURES if f not in SELECTION_CONFOUNDED)
MARGIN = "base_margin"  # the log-odds the trees start from: evidence + training base rate
MIN_CALIBRATION_POSITIVES = 5


def report_bucket() -> Column:
    return F.least(F.col("reports"), F.lit(float(REPORT_BUCKETS))).cast("int")


def platt(raw: np.ndarray, label: np.ndarray, weight: np.ndarray, steps: int = 50) -> tuple[float, float]:
    """(a, b) of p = sigmoid(a * logit(raw) + b): Platt's fit with his smoothed targets
    ((n+ + 1) / (n+ + 2) and 1 / (n- + 2)). Identity with fewer than MIN_CALIBRATION_POSITIVES
    violating videos: the model's base margin already holds the training base rate, and a handful
    of labels would only move the scores of the many confident benign videos (fitting an intercept
    to 3 positives among 20 reviews held 150 benign videos in one night of the US world)."""
    n_pos, n_neg = float(np.sum(label == 1)), float(np.sum(label == 0))
    if n_pos < MIN_CALIBRATION_POSITIVES or n_neg == 0:
        return 1.0, 0.0
    target = np.where(label == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    z = np.log(np.clip(raw, 1e-6, 1 - 1e-6) / np.clip(1 - raw, 1e-6, 1))
    x = np.column_stack([z, np.ones_like(z)])
    theta = np.array([1.0, 0.0])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-x @ theta))
        grad = x.T @ (weight * (p - target))
        hess = x.T @ (x * (weight * p * (1 - p))[:, None]) + 1e-3 * np.eye(2)
        theta = np.clip(theta - np.linalg.solve(hess, grad), [0.05, -20.0], [20.0, 20.0])
    return float(theta[0]), float(theta[1])


def bucket_rates(labeled: DataFrame) -> list[float]:
    """The violation rate of reviewed videos per report bucket (0 .. REPORT_BUCKETS), each
    smoothed with PRIOR_STRENGTH pseudo-reviews toward the bucket below it, and bucket 0 toward
    BASE_RATE: a bucket without reviews (often the unreported one: today's process reviews the
    reported first) reads as the platform's base rate, not as the reported videos' rate."""
    counts = labeled.groupBy(report_bucket().alias("b")).agg(
        F.sum("label").alias("pos"), F.count("*").alias("n")
    )
    by_bucket = {r["b"]: (float(r["pos"] or 0.0), float(r["n"])) for r in counts.collect()}
    rates, below = [], BASE_RATE
    for b in range(REPORT_BUCKETS + 1):
        pos, n = by_bucket.get(b, (0.0, 0.0))
        below = (pos + PRIOR_STRENGTH * below) / (n + PRIOR_STRENGTH)
        rates.append(min(max(below, 1e-4), 1 - 1e-4))
    return rates


class AuditModel:
    """A fitted audit classifier: the evidence rates, report-bucket rates and Spark model (none for `prior`),
    calibration and importances."""

    def __init__(self, kind: str = "xgboost", seed: int = 42, n_workers: int = 1):
        if kind not in (*KINDS, PRIOR):
            raise ValueError(f"unknown audit model {kind!r}; choose from {', '.join(KINDS)}")
        self.kind, self.seed, self.n_workers = kind, seed, n_workers
        self.spark_model = None
        self.rates: dict[str, tuple] = {}  # count -> (p_v, p_b, dispersion)
        self.calibration = (1.0, 0.0)
        self.importances: dict[str, float] = {}
        self.prior_rates: list[float] = []

    def fit(self, train: DataFrame, valid: DataFrame, population: DataFrame | None = None) -> AuditModel:
        """train/valid: FEATURES, `label` (0/1) and `weight`; valid calibrates (may be empty).
        population: every video of the night (FEATURES), the evidence's baseline; default train."""
        population = population if population is not None else train
        if self.kind == PRIOR:
            labeled = train.unionByName(valid)
            self.prior_rates = bucket_rates(labeled)
            self.importances = {"reports": 1.0, "evidence": 1.0}
            self.rates = fit_rates(labeled.where(F.col("label") == 1), population)
            return self
        self.rates = fit_rates(train.where(F.col("label") == 1), population)
        self.prior_rates = bucket_rates(train)
        self.spark_model = audit_boost.fit(
            self.kind, self._with_margin(train), MODEL_FEATURES, MARGIN, self.seed, self.n_workers
        )
        trees = audit_boost.importances(self.kind, self.spark_model, MODEL_FEATURES, MARGIN)
        trees.pop(MARGIN, None)  # GBT's share of the evidence: every score starts from it anyway
        self.importances = {**trees, "evidence": 1.0}
        rows = self._raw(valid).select("raw", "label", "weight").toPandas()
        if len(rows):
            self.calibration = platt(
                rows["raw"].to_numpy(), rows["label"].to_numpy(), rows["weight"].to_numpy()
            )
        return self

    def _prior_logit(self) -> Column:
        """The log-odds of the video's report bucket among reviewed videos (`bucket_rates`)."""
        logits = F.array(*[F.lit(float(np.log(r / (1 - r)))) for r in self.prior_rates])
        return F.element_at(logits, report_bucket() + 1)

    def _with_margin(self, df: DataFrame) -> DataFrame:
        return df.withColumn("evidence", evidence(self.rates)).withColumn(
            MARGIN, F.col("evidence") + self._prior_logit()
        )

    def _raw(self, df: DataFrame) -> DataFrame:
        return audit_boost.probability(
            self.kind, self.spark_model, self._with_margin(df), MODEL_FEATURES, MARGIN, "raw"
        ).drop(MARGIN)

    def risk(self, df: DataFrame) -> DataFrame:
        """df with `risk_score` (the calibrated probability that the video violates a policy) and,
        for the boosted models, `evidence` (log-likelihood ratio of its viewing counts)."""
        if self.kind == PRIOR:  # naive Bayes: the report bucket's rate, times the viewing evidence
            z = self._prior_logit() + F.col("evidence")
            return df.withColumn("evidence", evidence(self.rates)).withColumn(
                "risk_score", 1 / (1 + F.exp(-z))
            )
        a, b = self.calibration
        z = F.log(F.greatest(F.col("raw"), F.lit(1e-6)) / F.greatest(1 - F.col("raw"), F.lit(1e-6)))
        scored = self._raw(df).withColumn("risk_score", 1 / (1 + F.exp(-(F.lit(a) * z + F.lit(b)))))
        return scored.drop("raw")

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.spark_model is not None:
            audit_boost.save(self.kind, self.spark_model, path / "estimator")
        meta = {
            "kind": self.kind,
            "seed": self.seed,
            "calibration": self.calibration,
            "evidence_rates": self.rates,
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
        if len(model.prior_rates) != REPORT_BUCKETS + 1:
            raise ValueError(f"audit model at {path} has no report-bucket rates (older version); retrain it")
        model.rates = {k: tuple(v) for k, v in meta["evidence_rates"].items()}
        if model.kind in KINDS:
            model.spark_model = audit_boost.load(model.kind, path / "estimator")
        return model
