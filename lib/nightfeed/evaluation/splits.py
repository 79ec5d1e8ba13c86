"""Leakage-free train/test splits: one per-user core shared by the DataFrame and the CSR paths.

Per user, rows are put in order of a key (random for stratified splits, time for temporal
ones) and the last `fraction` of them (at least one row stays in train) is held out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nightfeed.core.errors import NightfeedError

SPLITS = ("stratified", "temporal", "global-time")
MIN_INTERACTIONS = 10


def _per_user_holdout(users: np.ndarray, key: np.ndarray, fraction: float) -> np.ndarray:
    """Mask of held-out rows: per user (any sortable ids), the rows with the largest keys, a
    `fraction` of the user's rows rounded, always leaving one in train."""
    order = np.lexsort((key, users))
    users_sorted = users[order]
    starts = np.r_[0, np.flatnonzero(users_sorted[1:] != users_sorted[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(users)])
    n_train = np.maximum(1, np.round(sizes * (1 - fraction))).astype(int)
    pos = np.arange(len(users)) - np.repeat(starts, sizes)
    held = np.empty(len(users), dtype=bool)
    held[order] = pos >= np.repeat(n_train, sizes)
    return held


def holdout(user_items: sp.csr_matrix, fraction: float, seed: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Per user, a random `fraction` of their items moves to validation (at least one stays)."""
    csr = sp.csr_matrix(user_items, dtype=np.float32)
    csr.sort_indices()
    coo = csr.tocoo()
    val = _per_user_holdout(coo.row, np.random.default_rng(seed).random(coo.nnz), fraction)

    def part(mask):
        m = sp.csr_matrix(
            (coo.data[mask], (coo.row[mask], coo.col[mask])), shape=user_items.shape, dtype=np.float32
        )
        m.sort_indices()
        return m

    return part(~val), part(val)


def holdout_folds(user_items: sp.csr_matrix, fraction: float, seed: int, n_folds: int) -> list:
    """`n_folds` independent holdouts (seeds seed, seed+1, ...)."""
    return [holdout(user_items, fraction, seed + f) for f in range(n_folds)]


def positive_interactions(df: pd.DataFrame) -> pd.DataFrame:
    """(user, item, weight, time) rows with duplicate pairs merged (weights summed, latest time)
    and only the pairs whose weight is above 0: a dislike or a net-zero pair is no interaction,
    neither something to learn from nor a relevant test item."""
    merged = df.groupby(["user", "item"], as_index=False, sort=False).agg(
        weight=("weight", "sum"), time=("time", "max")
    )
    return merged[merged["weight"] > 0].reset_index(drop=True)


def split(
    df: pd.DataFrame, method: str, test_fraction: float = 0.25, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train/test split of (user, item, weight, time) rows. Duplicate (user, item) pairs are
    merged first so no pair is on both sides, and pairs weighing 0 or less are left out
    (`positive_interactions`).

    stratified: a random `test_fraction` of each user's interactions (recommenders' protocol);
    temporal: each user's latest `test_fraction`; global-time: everything after one global cut.
    """
    if not 0 < test_fraction < 1:
        raise NightfeedError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    df = positive_interactions(df)
    if len(df) < MIN_INTERACTIONS:
        raise NightfeedError(
            f"too few interactions to evaluate: {len(df)} (need at least {MIN_INTERACTIONS})"
        )
    if method == "global-time":
        cut = df["time"].quantile(1 - test_fraction, interpolation="lower")
        test_mask = (df["time"] > cut).to_numpy()
    elif method in ("stratified", "temporal"):
        rng = np.random.default_rng(seed)
        if method == "stratified":
            key = rng.random(len(df))
        else:
            key = df["time"].to_numpy() + rng.random(len(df)) * 1e-6  # ties broken reproducibly
        test_mask = _per_user_holdout(df["user"].to_numpy(), key, test_fraction)
    else:
        raise NightfeedError(f"unknown --split {method!r}; choose from {', '.join(SPLITS)}")
    train, test = df[~test_mask].reset_index(drop=True), df[test_mask].reset_index(drop=True)
    if train.empty or test.empty:
        why = ""
        if method != "global-time" and test.empty:
            most = int(df.groupby("user").size().max())
            why = (
                f" (no user has enough distinct items to hold out a {test_fraction:g} share of them while "
                f"keeping one in train: at most {most} per user)"
            )
        raise NightfeedError(f"too few interactions to evaluate: the split left train or test empty{why}")
    return train, test


def user_sample(user_items: sp.csr_matrix, most: int, seed: int) -> sp.csr_matrix:
    """All rows when there are at most `most`, else a seeded sample of `most` rows (in order)."""
    n = user_items.shape[0]
    if n <= most:
        return user_items
    return user_items[np.sort(np.random.default_rng(seed).choice(n, most, replace=False))]
