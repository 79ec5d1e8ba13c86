"""The evidence of viewing counts: binomial log-likelihood ratios against the night's rates."""

import math

import pytest

from nightfeed.audit.evidence import MAX_EVIDENCE, VIEWING_COUNTS, evidence, fit_rates

COLUMNS = sorted({*VIEWING_COUNTS, *VIEWING_COUNTS.values()})


def frame(spark, rows):
    """rows: dicts of some counts; the others are 0."""
    return spark.createDataFrame(
        [tuple(float(r.get(c, 0)) for c in COLUMNS) for r in rows], ", ".join(f"{c} double" for c in COLUMNS)
    )


def test_rates_are_pooled_and_smoothed(spark):
    violating = frame(spark, [{"skips": 7, "impressions": 8}, {"skips": 1, "impressions": 2}])
    population = frame(spark, [{"skips": 3, "impressions": 10, "plays": 7}, {"skips": 2, "impressions": 8}])
    rates = fit_rates(violating, population)
    assert rates["skips"][:2] == pytest.approx(((7 + 1 + 1) / (10 + 2), (3 + 2 + 1) / (18 + 2)))
    assert rates["finishes"][:2] == pytest.approx((1 / 2, 1 / 9))  # no plays among the violating: 1/2


def test_overdispersed_counts_weigh_less(spark):
    """Videos that vary far more than one binomial allows: each count says less about the video."""
    binomial = [{"skips": s, "impressions": 100} for s in (18, 20, 22, 19, 21)]
    spread = [{"skips": s, "impressions": 100} for s in (2, 40, 10, 30, 20)]
    violating = frame(spark, [{"skips": 60, "impressions": 100}])
    assert fit_rates(violating, frame(spark, binomial))["skips"][2] == 1.0
    phi = fit_rates(violating, frame(spark, spread))["skips"][2]
    assert phi > 10  # median (10 - 20.2)² / (100 · 0.202 · 0.798) / 0.455 ≈ 14
    rates = {"skips": (0.75, 0.25, phi)}
    row = frame(spark, [{"skips": 3, "impressions": 4}])
    assert row.select(evidence(rates)).first()[0] == pytest.approx(2 * math.log(3) / phi)
    assert row.select(evidence({"skips": (0.75, 0.25)})).first()[0] == pytest.approx(2 * math.log(3))


def test_evidence_is_the_binomial_log_likelihood_ratio(spark):
    rates = {c: (0.5, 0.5) for c in VIEWING_COUNTS} | {"skips": (0.75, 0.25)}
    rows = frame(spark, [{"skips": 3, "impressions": 4}, {"skips": 0, "impressions": 4}, {}])
    got = [r[0] for r in rows.select(evidence(rates)).collect()]
    step = math.log(3)  # each skip: log(0.75/0.25); each impression without one: log(0.25/0.75)
    assert got == pytest.approx([3 * step - step, -4 * step, 0.0])


def test_evidence_is_clipped_and_zero_without_violating_videos(spark):
    rows = frame(spark, [{"skips": 500, "impressions": 500}])
    assert rows.select(evidence({"skips": (0.9, 0.1)})).first()[0] == MAX_EVIDENCE
    assert fit_rates(rows.limit(0), rows) == {}
    assert rows.select(evidence({})).first()[0] == 0.0
