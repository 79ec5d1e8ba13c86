"""Inputs of the scoring benchmark: a synthetic interaction matrix at scale with a catalog and a
temporal holdout, implicit's regularisation tuned on it, and the bare BLAS product as the floor."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nightfeed.evaluation.metrics import ranking_metrics
from nightfeed.evaluation.protocol import fit_and_score_folds
from nightfeed.evaluation.splits import holdout
from nightfeed.models import create

SCALES = {
    "small": {"users": 10_000, "items": 2_000, "interactions": 300_000},
    "default": {"users": 100_000, "items": 20_000, "interactions": 5_000_000},
    "large": {"users": 300_000, "items": 50_000, "interactions": 20_000_000},
}


def synthetic_matrix(users: int, items: int, interactions: int, seed: int = 42, topics: int = 32) -> dict:
    """Interactions with latent tastes at scale, straight as arrays (no JSON round trip).

    Each draw picks a topic from the user's taste, then an item of that topic by popularity;
    draws on the last of 14 days form the temporal holdout.
    """
    rng = np.random.default_rng(seed)
    taste = rng.dirichlet(np.full(topics, 0.1), size=users)
    item_topic = rng.integers(0, topics, size=items)
    pop = rng.pareto(1.1, size=items) + 0.01
    activity = rng.lognormal(0.0, 0.8, size=users)
    per_user = np.maximum(1, np.round(activity / activity.sum() * interactions)).astype(np.int64)
    u = np.repeat(np.arange(users), per_user)
    cum_taste = np.cumsum(taste, axis=1)
    topic = np.empty(len(u), dtype=np.int64)
    for start in range(0, len(u), 1_000_000):
        sl = slice(start, start + 1_000_000)
        topic[sl] = (cum_taste[u[sl]] < rng.random(len(u[sl]))[:, None]).sum(axis=1)
    topic = np.minimum(topic, topics - 1)
    item = np.empty(len(u), dtype=np.int64)
    for t in range(topics):
        members = np.flatnonzero(item_topic == t)
        draws = np.flatnonzero(topic == t)
        if len(members) == 0:
            members = np.arange(items)
        cdf = np.cumsum(pop[members])
        item[draws] = members[np.searchsorted(cdf, rng.random(len(draws)) * cdf[-1])]
    day = rng.integers(0, 14, size=len(u))
    last = day == 13
    train = pd.DataFrame({"u": u[~last], "i": item[~last]}).groupby(["u", "i"], as_index=False).size()
    test = pd.DataFrame({"u": u[last], "i": item[last]}).drop_duplicates()
    test = test.merge(train[["u", "i"]], how="left", indicator=True)
    test = test[test["_merge"] == "left_only"][["u", "i"]]
    creators = rng.integers(0, max(1, items // 8), size=items)
    status = rng.choice(np.array(["approved", "removed", "restricted"]), size=items, p=[0.96, 0.02, 0.02])
    n_seen = np.bincount(train["i"].to_numpy(), minlength=items)
    fresh = (rng.random(items) < 0.02) & (n_seen <= 5)
    finished = train.sample(frac=0.2, random_state=seed)[["u", "i"]]
    skipped = pd.DataFrame(
        {"u": rng.integers(0, users, size=users * 3), "i": rng.integers(0, items, size=users * 3)}
    ).drop_duplicates()
    exclusions = pd.concat([finished, skipped]).drop_duplicates()
    catalog = pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(items)],
            "creator_id": [f"c{c}" for c in creators],
            "moderation_status": status,
            "is_fresh": fresh,
            "n_users": n_seen,
            "trending_score": pop * (1 + rng.random(items)),
        }
    )
    return {
        "train": train,
        "test": test,
        "exclusions": exclusions,
        "catalog": catalog,
        "users": users,
        "items": items,
    }


def to_csr(train: pd.DataFrame, users: int, items: int):
    return sp.csr_matrix(
        (1.0 + train["size"].to_numpy(np.float32), (train["u"].to_numpy(), train["i"].to_numpy())),
        shape=(users, items),
    )


def ndcg_of_feeds(feeds: pd.DataFrame, test: pd.DataFrame, k: int = 10) -> float:
    """nDCG@k of each user's first k feed items against that user's held-out items."""
    rel: dict[int, set] = {}
    for u, i in zip(test["u"].to_numpy(), test["i"].to_numpy()):
        rel.setdefault(int(u), set()).add(int(i))
    top = feeds[feeds["rank"] <= k].sort_values(["user", "rank"])
    recs = {u: g["item"].to_numpy() for u, g in top.groupby("user")}
    users = sorted(rel)
    mat = np.full((len(users), k), -1, dtype=np.int64)
    for row, u in enumerate(users):
        got = recs.get(u, np.empty(0, np.int64))[:k]
        mat[row, : len(got)] = got
    return ranking_metrics(mat, [rel[u] for u in users], k, 1)[f"ndcg@{k}"]


def tune_regularization(mat, rank: int, iterations: int, seed: int, grid=(10.0, 50.0, 200.0)) -> dict:
    """implicit's λ is not scaled per user as MLlib's is: pick it on a holdout of the training data."""
    folds = [holdout(mat, 0.1, seed)]
    scores = {
        reg: fit_and_score_folds(
            lambda reg=reg: create(
                "als", factors=rank, iterations=iterations, regularization=reg, alpha=1.0, seed=seed
            ),
            folds,
            10,
            max_users=20_000,
            seed=seed,
        )["ndcg@10"]
        for reg in grid
    }
    best = max(scores, key=scores.get)
    return {"regularization": best, "validation_ndcg@10": {str(k): round(v, 4) for k, v in scores.items()}}


def blas_limit(user_factors: np.ndarray, item_factors: np.ndarray, block: int = 8192) -> float:
    """Seconds for the bare product of all users × all eligible items, BLAS on all cores."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=os.cpu_count(), user_api="blas"):
        t0 = time.perf_counter()
        vt = np.ascontiguousarray(item_factors.T)
        out = np.empty((block, vt.shape[1]), dtype=np.float32)
        for start in range(0, len(user_factors), block):
            chunk = user_factors[start : start + block]
            np.matmul(chunk, vt, out=out[: len(chunk)])
        return time.perf_counter() - t0
