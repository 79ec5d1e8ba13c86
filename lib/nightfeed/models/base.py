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
TOPK_CHUNK_USERS = 256  # users per top-k call, grouped by how many items each excludes


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


def mask_scores(scores: np.ndarray, exclude: sp.csr_matrix | None, filter_items: np.ndarray | None) -> np.ndarray:
    """Set excluded (per row) and filtered (all rows) items to -inf, in place."""
    if filter_items is not None and len(filter_items):
        scores[:, filter_items] = -np.inf
    if exclude is not None and exclude.nnz:
        rows = np.repeat(np.arange(exclude.shape[0]), np.diff(exclude.indptr))
        scores[rows, exclude.indices] = -np.inf
    return scores


def select_topk(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k per row (by score, ties by lower id), without sorting whole rows.

    A threshold from a strided sample of each row keeps a few hundred candidates per row;
    rows where it keeps fewer than k finite scores fall back to an exact partition.
    """
    b, n = scores.shape
    k = min(k, n)
    if b == 0 or k == 0:
        return np.empty((b, k), np.int64), np.empty((b, k), np.float32)
    stride = n // (8 * k)
    if stride >= 2:
        sample = scores[:, ::stride]
        rank_in_sample = min(sample.shape[1] - 1, 2 * k // stride + 1)
        thr = -np.partition(-sample, rank_in_sample, axis=1)[:, rank_in_sample]
        mask = scores >= thr[:, None]
        mask &= np.isfinite(scores)
        counts = mask.sum(axis=1)
        ok = counts >= k
    else:
        ok = np.zeros(b, dtype=bool)
    ids = np.empty((b, k), np.int64)
    vals = np.empty((b, k), np.float32)
    if ok.any():
        rows_ok = np.flatnonzero(ok)
        r, c = np.nonzero(mask[rows_ok])
        width = int(counts[rows_ok].max())
        starts = np.r_[0, np.cumsum(counts[rows_ok])[:-1]]
        pos = np.arange(len(r)) - starts[r]
        cand = np.full((len(rows_ok), width), n, dtype=np.int64)
        cand[r, pos] = c
        cand_scores = np.full((len(rows_ok), width), -np.inf, dtype=np.float32)
        cand_scores[r, pos] = scores[rows_ok[r], c]
        order = np.lexsort((cand, -cand_scores), axis=1)[:, :k]
        ids[rows_ok] = np.take_along_axis(cand, order, axis=1)
        vals[rows_ok] = np.take_along_axis(cand_scores, order, axis=1)
    rest = np.flatnonzero(~ok)
    if len(rest):
        sub = scores[rest]
        part = np.argpartition(-sub, k - 1, axis=1)[:, :k]
        part_scores = np.take_along_axis(sub, part, axis=1)
        order = np.lexsort((part, -part_scores), axis=1)
        ids[rest] = np.take_along_axis(part, order, axis=1)
        vals[rest] = np.take_along_axis(part_scores, order, axis=1)
    return ids, vals


def topk_dense(scores: np.ndarray, k: int, exclude: sp.csr_matrix | None = None,
               filter_items: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of each row of a dense score block, after masking excluded and filtered items."""
    scores = mask_scores(np.array(scores, dtype=np.float32, copy=True), exclude, filter_items)
    ids, vals = select_topk(scores, k)
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
        """implicit's blocked C++ product + top-k, with per-user exclusions applied afterwards.

        implicit's own per-user filter slices the CSR row by row in Python (half the time here),
        so each sub-block of users with similar exclusion counts asks for k + that many items,
        and the excluded ones are dropped: still the exact top-k of what is allowed.
        """
        from implicit.cpu.topk import topk

        userids = np.asarray(userids, dtype=np.int64)
        excl = exclusion_matrix(as_csr(user_items), exclude, filter_already_liked_items)
        n_items = self.item_factors.shape[0]
        k = min(N, n_items)
        items = np.ascontiguousarray(self.item_factors, dtype=np.float32)
        item_filter = None if filter_items is None or not len(filter_items) else np.asarray(filter_items, dtype=np.int32)
        counts = np.zeros(len(userids), np.int64) if excl is None else np.diff(excl.indptr)
        order = np.argsort(counts, kind="stable")
        out_ids = np.full((len(userids), N), NO_ITEM, dtype=np.int64)
        out_vals = np.full((len(userids), N), -np.inf, dtype=np.float32)
        for chunk in np.array_split(order, max(1, -(-len(order) // TOPK_CHUNK_USERS))):
            if not len(chunk):
                continue
            kk = int(min(n_items, k + counts[chunk].max()))
            ids, vals = topk(items, np.ascontiguousarray(self.user_factors[userids[chunk]], dtype=np.float32), kk,
                             filter_items=item_filter)
            ids, vals = _pad(ids, vals, kk)
            if excl is not None and kk > k:
                sub = excl[chunk]
                rows = np.repeat(np.arange(len(chunk)), kk)
                hit = np.asarray(sub[rows, np.maximum(ids, 0).ravel()]).reshape(ids.shape) > 0
                drop = hit | (ids == NO_ITEM)
                keep = np.argsort(drop, axis=1, kind="stable")[:, :k]
                ids = np.where(np.take_along_axis(drop, keep, axis=1), NO_ITEM, np.take_along_axis(ids, keep, axis=1))
                vals = np.where(ids == NO_ITEM, -np.inf, np.take_along_axis(vals, keep, axis=1))
            out_ids[chunk, : ids.shape[1]] = ids[:, :N]
            out_vals[chunk, : vals.shape[1]] = vals[:, :N]
        return out_ids, out_vals

    def arrays(self):
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}
