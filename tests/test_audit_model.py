"""The audit classifiers on Spark: they learn a planted signal, give probabilities, and round-trip."""

import numpy as np
import pytest

from nightfeed.audit.features import FEATURES
from nightfeed.audit.metrics import average_precision
from nightfeed.audit.model import BASE_RATE, AuditModel, bucket_rates, platt


@pytest.fixture(scope="module")
def labeled(spark):
    """600 videos; violating ones are skipped more and their creators had removals."""
    rng = np.random.default_rng(3)
    n = 600
    y = rng.random(n) < 0.2
    cols = {f: rng.random(n) for f in FEATURES}
    cols["impressions"] = rng.poisson(20, n).astype(float)
    cols["skips"] = rng.binomial(cols["impressions"].astype(int), 0.3 + 0.3 * y).astype(float)
    cols["skip_rate"] = cols["skips"] / np.maximum(cols["impressions"], 1)
    cols["creator_prior_removals"] = rng.poisson(0.2 + 2.0 * y).astype(float)
    cols["reports"] = rng.poisson(0.3 + 0.5 * y).astype(float)
    cols["distinct_reporters"] = cols["reports"]
    rows = [(f"v{k}", int(y[k]), 1.0, *[float(cols[f][k]) for f in FEATURES]) for k in range(n)]
    schema = "item_id string, label int, weight double, " + ", ".join(f"{f} double" for f in FEATURES)
    df = spark.createDataFrame(rows, schema)
    return (
        df.where("item_id < 'v4'"),
        df.where("item_id >= 'v4' and item_id < 'v5'"),
        df.where("item_id >= 'v5'"),
    )


@pytest.mark.parametrize("kind", ["xgboost", "gbt"])
def test_classifier_learns_calibrates_and_round_trips(kind, labeled, tmp_path):
    train, valid, test = labeled
    model = AuditModel(kind, seed=1, n_workers=2).fit(train, valid)
    scored = (
        model.risk(test)
        .select("item_id", "label", "risk_score")
        .toPandas()
        .sort_values("risk_score", ascending=False)
    )
    assert scored["risk_score"].between(0, 1).all()
    assert average_precision(scored["label"].to_numpy()) > 0.7
    assert abs(scored["risk_score"].mean() - scored["label"].mean()) < 0.1  # calibrated on average
    trees = {k: v for k, v in model.importances.items() if k != "evidence"}
    assert max(trees, key=trees.get) in ("skip_rate", "skips", "creator_prior_removals")
    evidence = model.risk(test).groupBy("label").avg("evidence").toPandas().set_index("label")
    assert evidence.loc[1].item() > 1.0 > -1.0 > evidence.loc[0].item()  # skips weighed as binomial counts
    model.save(tmp_path / "m")
    again = AuditModel.load(tmp_path / "m").risk(test).select("item_id", "risk_score").toPandas()
    assert np.allclose(
        scored.sort_values("item_id")["risk_score"], again.sort_values("item_id")["risk_score"]
    )


def test_prior_is_the_smoothed_rate_per_report_count_times_the_viewing_evidence(labeled):
    train, valid, test = labeled
    model = AuditModel("prior").fit(train, valid)
    assert len(model.prior_rates) == 6 and all(0 < r < 1 for r in model.prior_rates)
    unreported = model.risk(test).where("reports = 0").select("evidence", "risk_score").toPandas()
    assert unreported.sort_values("evidence")["risk_score"].is_monotonic_increasing
    no_violations = AuditModel("prior").fit(train.where("label = 0"), valid.where("label = 0"))
    assert no_violations.risk(test).where("reports = 0").select("risk_score").distinct().count() == 1


def test_prior_without_reviews_starts_from_a_low_base_rate_and_holds_nothing(labeled):
    """A new region has no review decision yet: no video may look likely to violate on a guess."""
    train, valid, test = labeled
    unreviewed = AuditModel("prior").fit(train.limit(0), valid.limit(0), population=test)
    risk = unreviewed.risk(test).select("risk_score").toPandas()["risk_score"]
    assert risk.max() == pytest.approx(BASE_RATE) and risk.min() == pytest.approx(BASE_RATE)


def test_platt_recovers_a_known_scaling():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 5000)
    y = (rng.random(5000) < 1 / (1 + np.exp(-(0.5 * z - 1.0)))).astype(float)
    a, b = platt(1 / (1 + np.exp(-z)), y, np.ones_like(y))
    assert a == pytest.approx(0.5, abs=0.1) and b == pytest.approx(-1.0, abs=0.15)
    assert platt(np.array([0.2, 0.4]), np.array([1.0, 1.0]), np.ones(2)) == (1.0, 0.0)
    few = platt(np.array([1e-7, 0.4, 0.1]), np.array([1.0, 0.0, 0.0]), np.ones(3))  # one positive
    assert few == (1.0, 0.0)  # too few violating videos to calibrate on: the scores stay as they are


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="choose from xgboost, gbt"):
        AuditModel("forest")


def test_xgboost_asks_for_no_more_workers_than_task_slots(spark):
    from nightfeed.runtime.spark import task_slots

    assert task_slots(spark) == 2  # the tests' session is local[2]


def test_bucket_rates_read_an_unreviewed_bucket_as_the_base_rate(spark):
    """Reviews go to reported videos first: the unreported bucket, never reviewed here, must not
    take the reported videos' rate; each bucket shrinks toward the one below it."""
    rows = [(1.0, 1), (1.0, 0), (1.0, 0), (1.0, 0), (7.0, 1), (9.0, 1)]
    labeled = spark.createDataFrame(rows, "reports double, label int")
    r1 = (1 + 2 * BASE_RATE) / (4 + 2)
    assert bucket_rates(labeled) == pytest.approx([BASE_RATE, r1, r1, r1, r1, (2 + 2 * r1) / (2 + 2)])
