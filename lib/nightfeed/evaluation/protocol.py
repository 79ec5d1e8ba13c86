"""The one evaluation protocol: fit on train, recommend k unseen items per test user, score them
against the held-out items. The promotion gate, `auto`, the benchmarks, `nightfeed evaluate`
and the nightly evaluate stage all measure models through these functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from nightfeed.evaluation.matrices import relevant_from_matrix
from nightfeed.evaluation.metrics import item_popularity, ranking_metrics


def fit_and_score(model, train: sp.csr_matrix, users: np.ndarray, relevant: list[set], k: int) -> dict:
    """Fit `model` (the shared model interface) on train, recommend k for `users`, score.

    Returns {"metrics": {...}, "timings": {"fit_s", "recommend_s"}}.
    """
    t0 = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    recs, _ = model.recommend(users, train[users], N=k)
    rec_s = time.perf_counter() - t0
    return {
        "metrics": ranking_metrics(recs, relevant, k, train.shape[1], item_popularity(train)),
        "timings": {"fit_s": round(fit_s, 4), "recommend_s": round(rec_s, 4)},
    }


def fold_users(held_out: sp.csr_matrix, max_users: int | None, seed: int) -> tuple[np.ndarray, list[set]]:
    """A fold's users with held-out items and their sets; a random `max_users` of them if more."""
    users, relevant = relevant_from_matrix(held_out)
    if max_users is not None and len(users) > max_users:
        pick = np.sort(np.random.default_rng(seed).choice(len(users), size=max_users, replace=False))
        users, relevant = users[pick], [relevant[p] for p in pick]
    return users, relevant


def fit_and_score_folds(
    make_model: Callable, folds: list, k: int, max_users: int | None = None, seed: int = 0
) -> dict:
    """Mean metrics over (train, held-out) CSR folds, a fresh model per fold; {} when no fold
    has held-out items. `max_users` scores a random sample of each fold's users."""
    per_fold = []
    for train, held_out in folds:
        users, relevant = fold_users(held_out, max_users, seed)
        if len(users):
            per_fold.append(fit_and_score(make_model(), train, users, relevant, k)["metrics"])
    return _mean(per_fold)


def path_metrics(
    model, values, folds: list, k: int, max_users: int | None = None, seed: int = 0
) -> list[dict]:
    """Mean metrics over folds of `model` at each regularisation value in `values`, for a model
    with a regularisation path (`path_recommend`: one factorisation per fold for all values)."""
    per_value: list[list[dict]] = [[] for _ in values]
    for train, held_out in folds:
        users, relevant = fold_users(held_out, max_users, seed)
        if not len(users):
            continue
        popularity = item_popularity(train)
        for i, recs in enumerate(model.path_recommend(train, users, list(values), k)):
            per_value[i].append(ranking_metrics(recs, relevant, k, train.shape[1], popularity))
    return [_mean(folds_metrics) for folds_metrics in per_value]


def _mean(per_fold: list[dict]) -> dict:
    if not per_fold:
        return {}
    return {m: float(np.mean([f[m] for f in per_fold])) for m in per_fold[0]}
