"""The one small interface every model shares, modelled on `implicit`: fit, recommend, save, load.

Rows of `user_items` are users, columns items (contiguous integer ids), values confidences.
`recommend` returns `(ids, scores)` of shape (len(userids), N); slots without a candidate hold
id -1 and score -inf. Excluded items (already seen, filtered) are never returned.
"""

from __future__ import annotations

import json
import math
import numbers
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from nightfeed.models import confidence
from nightfeed.models.topk import NO_ITEM, select_topk

BLOCK_USERS = 1024  # users scored at once: memory per block is BLOCK_USERS × items × 4 bytes


def as_csr(matrix) -> sp.csr_matrix:
    csr = sp.csr_matrix(matrix, dtype=np.float32)
    csr.sort_indices()
    return csr


def exclusion_matrix(
    user_items: sp.csr_matrix | None, exclude: sp.csr_matrix | None, filter_already_liked_items: bool
) -> sp.csr_matrix | None:
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


def mask_excluded(
    scores: np.ndarray, exclude: sp.csr_matrix | None, column_of: np.ndarray | None = None
) -> np.ndarray:
    """Set each row's excluded items to -inf, in place.

    `column_of` maps item ids to score columns; ids mapped outside [0, columns) are not in this block.
    """
    if exclude is None or not exclude.nnz:
        return scores
    rows = np.repeat(np.arange(exclude.shape[0], dtype=np.int64), np.diff(exclude.indptr))
    cols = exclude.indices.astype(np.int64)
    if column_of is not None:
        cols = column_of[cols]
        inside = (cols >= 0) & (cols < scores.shape[1])
        rows, cols = rows[inside], cols[inside]
    scores.reshape(-1)[rows * scores.shape[1] + cols] = -np.inf
    return scores


REGISTRY: dict[str, type[Recommender]] = {}  # name -> class, filled as model modules are imported


def _check_param(model: str, key: str, value, default, positive: bool) -> None:
    """A parameter of the default's kind (a whole number where the default is an int) and range."""
    where = f"{model}: {key} = {value!r}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where}: must be true or false")
    elif isinstance(default, (int, float)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ValueError(f"{where}: must be a number")
        if isinstance(default, int) and not float(value).is_integer():
            raise ValueError(f"{where}: must be a whole number")
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise ValueError(f"{where}: must be {'above' if positive else 'at least'} 0")
    elif isinstance(default, str) and not isinstance(value, str):
        raise ValueError(f"{where}: must be a string")


class Recommender(ABC):
    """Base class: subclasses implement `fit`, `score_block` and their array state.

    A subclass with a `name` registers itself in REGISTRY; `user_facing` models are the ones
    users may ask for by name (a blend is built by `auto`, not asked for).
    """

    name: str = ""
    defaults: dict = {}
    positive: tuple[str, ...] = ()  # numeric parameters that must be above 0 (the others: at least 0)
    user_facing: bool = True
    transforms_input: bool = True  # takes the confidence parameters (a wrapper model does not)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            REGISTRY[cls.name] = cls

    def __init__(self, **params):
        known = {**confidence.PARAMS, **self.defaults} if self.transforms_input else dict(self.defaults)
        unknown = set(params) - set(known)
        if unknown:
            raise ValueError(f"{self.name}: unknown parameters {sorted(unknown)}; known: {sorted(known)}")
        for key, value in params.items():
            if key not in confidence.PARAMS:  # confidence.check below names a bad transform
                _check_param(self.name, key, value, known[key], key in self.positive)
        self.params = {**known, **params}
        if self.transforms_input:
            self._confidence = (
                self.params["confidence"],
                float(self.params["confidence_alpha"]),
                float(self.params["confidence_eps"]),
            )
            confidence.check(*self._confidence)
        self.n_items = 0

    def confidence_of(self, user_items: sp.csr_matrix) -> sp.csr_matrix:
        """`user_items` as this model sees them (its confidence transform applied)."""
        user_items = as_csr(user_items)
        return confidence.apply(user_items, *self._confidence) if self.transforms_input else user_items

    def fit(self, user_items: sp.csr_matrix) -> Recommender:
        """Learn from raw weights (users × items); the model applies its confidence transform."""
        x = self.confidence_of(user_items)
        self.n_items = x.shape[1]
        self._fit(x)
        return self

    @abstractmethod
    def _fit(self, user_items: sp.csr_matrix) -> None:
        """Learn from transformed `user_items`."""

    def scores(self, userids: np.ndarray, user_items: sp.csr_matrix, items: np.ndarray | None = None):
        """`score_block` on raw weights (the transform applied first)."""
        return self.score_block(userids, self.confidence_of(user_items), items)

    @abstractmethod
    def score_block(
        self, userids: np.ndarray, user_items: sp.csr_matrix, items: np.ndarray | None = None
    ) -> np.ndarray:
        """Scores (len(userids), len(items)) for a block of users' transformed rows; items None
        means all. Return a new array or a read-only view: writable results are masked in place."""

    def pair_scores(
        self, userids: np.ndarray, user_items: sp.csr_matrix, rows: np.ndarray, items: np.ndarray
    ) -> np.ndarray:
        """Scores of the pairs (user `userids[rows[j]]`, item `items[j]`) of a block of users (rows
        index `userids` and `user_items`): only the pairs' users and items are scored."""
        cols, col_at = np.unique(items, return_inverse=True)
        users, row_at = np.unique(rows, return_inverse=True)
        return np.asarray(self.scores(userids[users], user_items[users], cols))[row_at, col_at]

    def recommend(
        self,
        userids,
        user_items: sp.csr_matrix,
        N: int = 10,
        filter_already_liked_items: bool = True,
        filter_items: np.ndarray | None = None,
        exclude: sp.csr_matrix | None = None,
    ):
        """Top-N per user, in blocks so memory stays bounded by BLOCK_USERS × n_items.

        Filtered items are left out of the product itself (fewer columns to score); each user's
        exclusions are masked in the block, so the result is the exact top-N of what is allowed.
        """
        userids = np.asarray(userids, dtype=np.int64)
        user_items = as_csr(user_items)
        excl = exclusion_matrix(user_items, exclude, filter_already_liked_items)
        items, column_of = None, None
        if filter_items is not None and len(filter_items):
            items = self._allowed(filter_items)
            column_of = np.full(self.n_items, -1, np.int64)
            column_of[items] = np.arange(len(items))
        ids = np.full((len(userids), N), NO_ITEM, np.int64)
        vals = np.full((len(userids), N), -np.inf, np.float32)
        for start in range(0, len(userids), BLOCK_USERS):
            sl = slice(start, start + BLOCK_USERS)
            block = np.require(self.scores(userids[sl], user_items[sl], items), np.float32, ["C", "W"])
            mask_excluded(block, None if excl is None else excl[sl], column_of)
            top_ids, top_vals = select_topk(block, N, items)
            ids[sl, : top_ids.shape[1]] = top_ids
            vals[sl, : top_vals.shape[1]] = top_vals
        return ids, vals

    def _allowed(self, filter_items) -> np.ndarray:
        """Item ids not in filter_items, ascending."""
        keep = np.ones(self.n_items, bool)
        if filter_items is not None:
            keep[np.asarray(filter_items, np.int64)] = False
        return np.flatnonzero(keep)

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
        (path / "model.json").write_text(
            json.dumps({"type": self.name, "params": self.params, "n_items": self.n_items})
        )

    @classmethod
    def load(cls, path: str | Path) -> Recommender:
        """The model saved at `path`, whatever its type (dispatched by the saved type)."""
        path = Path(path)
        meta = json.loads((path / "model.json").read_text())
        if meta["type"] not in REGISTRY:
            raise ValueError(f"{path}: unknown saved model type {meta['type']!r}")
        model = REGISTRY[meta["type"]]._restore(path, meta["params"])
        model.n_items = int(meta["n_items"])
        return model

    @classmethod
    def _restore(cls, path: Path, params: dict) -> Recommender:
        """A model of this type with the state saved under `path`."""
        model = cls(**params)
        with np.load(path / "arrays.npz") as data:
            model.set_arrays({k: data[k] for k in data.files})
        return model


def seeded(name: str, params: dict, seed: int) -> dict:
    """`params` plus `seed` when model `name` takes one (a seed already in params is kept)."""
    return {**params, "seed": params.get("seed", seed)} if "seed" in REGISTRY[name].defaults else dict(params)


def create(name: str, **params) -> Recommender:
    """A model by its registered name."""
    if name not in REGISTRY:
        names = ", ".join(n for n, c in REGISTRY.items() if c.user_facing)
        raise ValueError(f"unknown model {name!r}; choose from {names}")
    return REGISTRY[name](**params)
