"""The one small interface every model shares, modelled on `implicit`: fit, recommend, save, load.

Rows of `user_items` are users, columns items (contiguous integer ids), values confidences.
`recommend` returns `(ids, scores)` of shape (len(userids), N); slots without a candidate hold
id -1 and score -inf. Excluded items (already seen, filtered) are never returned.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import scipy.sparse as sp

NO_ITEM = -1
BLOCK_USERS = 2048


def as_csr(matrix) -> sp.csr_matrix:
    csr = sp.csr_matrix(matrix, dtype=np.float32)
    csr.sort_indices()
    return csr


def exclusion_matrix(user_items: sp.csr_matrix | None, exclude: sp.csr_matrix | None,
                     filter_already_liked_items: bool) -> sp.csr_matrix | None:
    """Union of the seen items (if filtered) and explicit exclusions, as a binary CSR."""
    parts = []
    if filter_already_liked_items and user_items is not None:
        parts.append(user_items)
    if exclude is not None:
        parts.append(exclude)
    if not parts:
        return None
    total = parts[0].copy().astype(np.float32)
    for p in parts[1:]:
        total = total + p.astype(np.float32)
    total.data[:] = 1.0
    total.eliminate_zeros()
    return as_csr(total)


def topk_dense(scores: np.ndarray, k: int, exclude: sp.csr_matrix | None = None,
               filter_items: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of each row of a dense score block, after masking excluded and filtered items."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if filter_items is not None and len(filter_items):
        scores[:, filter_items] = -np.inf
    if exclude is not None and exclude.nnz:
        rows = np.repeat(np.arange(exclude.shape[0]), np.diff(exclude.indptr))
        scores[rows, exclude.indices] = -np.inf
    k_eff = min(k, scores.shape[1])
    part = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)  # by score, ties by item id: deterministic
    ids = np.take_along_axis(part, order, axis=1)
    vals = np.take_along_axis(part_scores, order, axis=1)
    return _pad(ids, vals, k)


def _pad(ids: np.ndarray, vals: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    ids = ids.astype(np.int64)
    vals = vals.astype(np.float32)
    invalid = ~np.isfinite(vals) | (vals <= -1e30)
    ids[invalid] = NO_ITEM
    vals[invalid] = -np.inf
    if ids.shape[1] < k:
        pad = k - ids.shape[1]
        ids = np.hstack([ids, np.full((ids.shape[0], pad), NO_ITEM)])
        vals = np.hstack([vals, np.full((vals.shape[0], pad), -np.inf, dtype=np.float32)])
    return ids, vals


class Recommender(ABC):
    """Base class: subclasses implement `fit`, `score_block` and their array state."""

    name: str = ""
    defaults: dict = {}

    def __init__(self, **params):
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise ValueError(f"{self.name}: unknown parameters {sorted(unknown)}; known: {sorted(self.defaults)}")
        self.params = {**self.defaults, **params}
        self.n_items = 0

    @abstractmethod
    def fit(self, user_items: sp.csr_matrix) -> "Recommender":
        ...

    @abstractmethod
    def score_block(self, userids: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        """Dense scores (len(userids), n_items) for a block of users."""

    def recommend(self, userids, user_items: sp.csr_matrix, N: int = 10, filter_already_liked_items: bool = True,
                  filter_items: np.ndarray | None = None, exclude: sp.csr_matrix | None = None):
        """Top-N per user, in blocks so memory stays bounded by BLOCK_USERS × n_items."""
        userids = np.asarray(userids, dtype=np.int64)
        user_items = as_csr(user_items)
        excl = exclusion_matrix(user_items, exclude, filter_already_liked_items)
        ids, vals = [], []
        for start in range(0, len(userids), BLOCK_USERS):
            sl = slice(start, start + BLOCK_USERS)
            block = self.score_block(userids[sl], user_items[sl])
            i, v = topk_dense(block, N, None if excl is None else excl[sl], filter_items)
            ids.append(i)
            vals.append(v)
        if not ids:
            return np.empty((0, N), np.int64), np.empty((0, N), np.float32)
        return np.vstack(ids), np.vstack(vals)

    def arrays(self) -> dict[str, np.ndarray]:
        """The fitted state to persist."""
        return {}

    def set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        for key, value in arrays.items():
            setattr(self, key, value)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        np.savez(path / "arrays.npz", **self.arrays())
        (path / "model.json").write_text(json.dumps({"type": self.name, "params": self.params, "n_items": self.n_items}))

    @classmethod
    def load(cls, path: str | Path) -> "Recommender":
        from . import create  # the registry knows every model type

        path = Path(path)
        meta = json.loads((path / "model.json").read_text())
        if meta["type"] == "blend":
            from .blend import BlendModel

            return BlendModel.load_from(path, meta)
        model = create(meta["type"], **meta["params"])
        with np.load(path / "arrays.npz") as data:
            model.set_arrays({k: data[k] for k in data.files})
        model.n_items = int(meta["n_items"])
        return model


class FactorModel(Recommender):
    """score = user_factors · item_factors; top-k by implicit's blocked C++ kernel."""

    user_factors: np.ndarray
    item_factors: np.ndarray

    def score_block(self, userids, user_items):
        return self.user_factors[userids] @ self.item_factors.T

    def recommend(self, userids, user_items, N=10, filter_already_liked_items=True, filter_items=None, exclude=None):
        from implicit.cpu.topk import topk

        userids = np.asarray(userids, dtype=np.int64)
        excl = exclusion_matrix(as_csr(user_items), exclude, filter_already_liked_items)
        k = min(N, self.item_factors.shape[0])
        ids, vals = topk(np.ascontiguousarray(self.item_factors, dtype=np.float32),
                         np.ascontiguousarray(self.user_factors[userids], dtype=np.float32), k,
                         filter_query_items=excl,
                         filter_items=None if filter_items is None else np.asarray(filter_items, dtype=np.int32))
        return _pad(ids, vals, N)

    def arrays(self):
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}
