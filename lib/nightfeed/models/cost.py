"""What a model costs to fit and score, before it runs: how `auto` keeps its time budget.

Each family's work grows with a known shape of the data — EASE with items³ (one dense solve),
ALS with interactions × rank² plus (users + items) × rank³ per iteration, neighbourhood models with
the co-occurrences Σ_u deg(u)² — counted here in floating-point operations. This machine's speed
comes from a short matrix-product probe; each family's ratio of measured to estimated time is
then learned from its own trials, so later estimates are close.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

# Measured / counted time per family on the first trial, before any trial corrects it (sparse and
# sampled work runs far below the dense-product rate).
FIRST_GUESS = {
    "ease": 1.0,
    "ease-path": 1.0,
    "als": 3.0,
    "bpr": 40.0,
    "itemknn": 4.0,
    "rp3beta": 4.0,
    "popularity": 1.0,
}


@dataclass(frozen=True)
class DataShape:
    users: int
    items: int
    nnz: int
    cooccurrences: float  # Σ_u deg(u)²: the work of an item × item sparse product
    eval_users: int  # users scored per validation fold

    @classmethod
    def of(cls, user_items: sp.csr_matrix, eval_users: int) -> DataShape:
        degrees = np.diff(user_items.indptr).astype(np.float64)
        return cls(*user_items.shape, int(user_items.nnz), float((degrees**2).sum()), int(eval_users))


def flops(model: str, params: dict, d: DataShape, scored_users: int) -> float:
    """Floating-point operations of fitting `model` on data shaped `d` and scoring `scored_users`."""
    n, m = d.items, d.users
    if model == "ease":
        kept = min(n, int(params.get("max_items", n)))
        if m < kept:  # Woodbury: a users × users inverse and sparse products
            solve = m**3 + d.nnz * (m + kept) + 4.0 * kept * kept
        else:
            solve = kept**3
        return solve + 2.0 * scored_users * kept * kept
    if model == "ease-path":
        r = min(m, n)
        per_value = scored_users * (r * m + d.nnz) if m < n else 2.0 * scored_users * r * n
        return 4.0 * r**3 + len(params["l2_values"]) * (per_value + 4.0 * scored_users * n)
    if model in ("als", "spark-als"):
        f = int(params.get("factors", 32))
        per_iter = 2.0 * d.nnz * f * f + (m + n) * f**3 / 3.0
        return int(params.get("iterations", 15)) * per_iter + 2.0 * scored_users * n * f
    if model == "bpr":
        f = int(params.get("factors", 200))
        return int(params.get("iterations", 100)) * d.nnz * f * 6.0 + 2.0 * scored_users * n * f
    if model in ("itemknn", "rp3beta"):
        # the dense similarity blocks are divided and partitioned entry by entry (not BLAS)
        neighbours = int(params.get("neighbors", 100))
        return 2.0 * d.cooccurrences + 150.0 * n * n + 2.0 * scored_users * n * neighbours
    if model == "blend":
        return sum(flops(p["model"], p["params"], d, scored_users) for p in params["members"])
    return 10.0 * d.nnz + scored_users * n


@dataclass
class CostModel:
    """Seconds per counted operation, corrected per family by measured trials."""

    seconds_per_flop: float
    measured: dict[str, list[float]] = field(default_factory=dict)  # model -> [measured s, counted s]

    @classmethod
    def probe(cls) -> CostModel:
        """Times a float32 matrix product (about 50 ms) to learn this machine's speed."""
        rng = np.random.default_rng(0)
        a = rng.random((768, 768), dtype=np.float32)
        a @ a  # warm-up: thread pools and caches
        t0 = time.perf_counter()
        for _ in range(3):
            a @ a
        return cls(max(time.perf_counter() - t0, 1e-6) / (3 * 2.0 * 768**3))

    def seconds(self, model: str, params: dict, d: DataShape, scored_users: int, times: int = 1) -> float:
        if model == "blend":
            return sum(
                self.seconds(p["model"], p["params"], d, scored_users, times) for p in params["members"]
            )
        measured, counted = self.measured.get(model, (0.0, 0.0))
        factor = measured / counted if counted > 0 else FIRST_GUESS.get(model, 5.0)
        return times * factor * self.seconds_per_flop * flops(model, params, d, scored_users)

    def learn(self, model: str, params: dict, d: DataShape, scored_users: int, times: int, measured_s: float):
        """Add a trial that took `measured_s` to its family's correction: total measured over total
        counted time, so the larger trials (the ones worth predicting) weigh most."""
        if model == "blend":
            return
        totals = self.measured.setdefault(model, [0.0, 0.0])
        totals[0] += measured_s
        totals[1] += times * self.seconds_per_flop * flops(model, params, d, scored_users)
