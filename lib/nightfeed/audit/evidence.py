"""The evidence of a video's viewing counts: how much likelier its skips, completions, likes, shares
and comments are from a violating video than from an average one (a log-likelihood ratio).

A region reviews a handful of videos a day, far too few for trees to learn from raw rates how much
30 skips in 40 views say compared with 3 in 4. The counts are binomial, so their evidence has a
closed form: for each count over its exposure, n·log(p_v/p_b) + (N−n)·log((1−p_v)/(1−p_b)), where
p_v is the pooled rate of the reviewed violating videos and p_b that of every video of the night
(nearly all benign). It grows with exposure, as it should. The classifier starts from it (xgboost's
base margin) and learns the rest from the labels.

Real videos vary more than one binomial allows (benign videos differ in topic, length and
audience), so the plain ratio is overconfident: a benign video with a bad day looks certain to
violate. Each count's ratio is divided by its dispersion φ (quasi-likelihood): the median Pearson
χ² of the night's videos over the χ²₁ median, at least 1. The median keeps the few violating videos
from inflating it.
"""

from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

VIEWING_COUNTS = {  # count -> its exposure
    "skips": "impressions",
    "finishes": "plays",
    "likes": "plays",
    "shares": "plays",
    "comments": "plays",
}
MAX_EVIDENCE = 30.0  # nats; beyond this a video is certain either way
CHI2_1_MEDIAN = 0.454936  # median of a χ² variable with one degree of freedom


def pooled_rates(rows: DataFrame) -> dict[str, float]:
    """Each count's pooled rate over `rows` (sum of counts / sum of exposures), Laplace-smoothed and
    kept inside (0, 1) (a producer may count more likes than plays)."""
    sums = rows.agg(*[F.sum(c).alias(c) for c in {*VIEWING_COUNTS, *VIEWING_COUNTS.values()}]).first()
    return {
        count: min(max(((sums[count] or 0.0) + 1.0) / ((sums[exposure] or 0.0) + 2.0), 1e-3), 1 - 1e-3)
        for count, exposure in VIEWING_COUNTS.items()
    }


def dispersions(population: DataFrame, p_b: dict[str, float]) -> dict[str, float]:
    """count -> φ: the median over videos with exposure of (n − N·p_b)² / (N·p_b·(1 − p_b)), over
    the χ²₁ median, at least 1 (1 when no video has exposure)."""
    medians = population.agg(
        *[
            F.percentile_approx(
                F.when(
                    F.col(exposure) > 0,
                    (F.col(count) - F.col(exposure) * p_b[count]) ** 2
                    / (F.col(exposure) * p_b[count] * (1 - p_b[count])),
                ),
                0.5,
            ).alias(count)
            for count, exposure in VIEWING_COUNTS.items()
        ]
    ).first()
    return {c: max(1.0, (medians[c] or 0.0) / CHI2_1_MEDIAN) for c in VIEWING_COUNTS}


def fit_rates(violating: DataFrame, population: DataFrame) -> dict[str, tuple[float, float, float]]:
    """count -> (p_v, p_b, φ): rates of the reviewed violating videos and of the whole population,
    and the population's dispersion. Empty without a violating video (no evidence then)."""
    if violating.isEmpty():
        return {}
    p_v, p_b = pooled_rates(violating), pooled_rates(population)
    phi = dispersions(population, p_b)
    return {count: (p_v[count], p_b[count], phi[count]) for count in VIEWING_COUNTS}


def log_ratios(rates: dict[str, tuple]) -> dict[str, tuple[float, float]]:
    """count -> (weight of each counted event, weight of each exposure without one), each divided
    by the count's dispersion (rates saved before dispersions existed have none: 1)."""
    out = {}
    for count, (v, b, *rest) in rates.items():
        phi = rest[0] if rest else 1.0
        out[count] = (math.log(v / b) / phi, math.log((1 - v) / (1 - b)) / phi)
    return out


def evidence(rates: dict[str, tuple]) -> Column:
    """The dispersion-scaled log-likelihood ratio of a row's viewing counts, clipped to
    ±MAX_EVIDENCE (0 without rates). Needs the VIEWING_COUNTS columns and their exposures."""
    total = F.lit(0.0)
    for count, (hit, miss) in log_ratios(rates).items():
        exposure = VIEWING_COUNTS[count]
        none = F.greatest(F.col(exposure) - F.col(count), F.lit(0.0))
        total = total + F.col(count) * F.lit(hit) + none * F.lit(miss)
    return F.least(F.greatest(total, F.lit(-MAX_EVIDENCE)), F.lit(MAX_EVIDENCE))
