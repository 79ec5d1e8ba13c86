"""EASE (Steck 2019): closed-form item-item model; exact and strong on catalogs up to ~tens of thousands.

Three things keep it fast on large catalogs: items with fewer than `min_item_users` users (too
little signal to learn a row of weights from) are left out of the dense solve and ranked last;
the solve is a float32 Cholesky inverse; and a regularisation sweep (`path_scores`) reuses one
eigendecomposition of the Gram matrix (or of the smaller user Gram) for every λ.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from nightfeed.models.base import Recommender, as_csr, exclusion_matrix, mask_excluded
from nightfeed.models.topk import select_topk

SOLVE_COPIES = 3  # items × items float32 arrays alive at once in the solve (Gram, inverse, weights)


def items_within(memory_mb: float) -> int:
    """The most items whose dense solve fits in `memory_mb` (the kept items are the most popular)."""
    return int(math.sqrt(memory_mb * 2**20 / (SOLVE_COPIES * 4)))


class EASEModel(Recommender):
    """B = argmin ||X - XB||² + λ||B||², diag(B) = 0, over the items with enough users."""

    name = "ease"
    defaults = {"l2": 500.0, "max_items": 20000, "min_item_users": 2, "confidence": "binary"}
    positive = ("l2", "max_items")

    def _fit(self, user_items):
        self.kept_items = self._kept(user_items)
        x = as_csr(user_items[:, self.kept_items])
        l2 = float(self.params["l2"])
        if not x.shape[1]:  # no item has enough users: every score ties
            weights = np.zeros((0, 0), np.float32)
        elif x.shape[0] < x.shape[1]:
            # Fewer users than items: P = (XᵀX + λI)⁻¹ = (I - Xᵀ(XXᵀ + λI)⁻¹X)/λ (Woodbury), so
            # the dense inverse is users × users, and B = -P/diag(P) = M/(1 - diag(M)), M = XᵀAX.
            a_x = np.ascontiguousarray(np.asarray(x.T @ _inverse_spd(x @ x.T, l2)).T)  # A·X, users × items
            m = np.asarray(x.T @ a_x, dtype=np.float32)
            weights = m / (1.0 - np.diag(m))
        else:
            inv = _inverse_spd(x.T @ x, l2)
            weights = -inv / np.diag(inv)
        weights[np.diag_indices_from(weights)] = 0.0
        self.item_weights = np.ascontiguousarray(weights, dtype=np.float32)

    def _kept(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Items with at least `min_item_users` users; the `max_items` most popular of them."""
        users = np.bincount(user_items.indices, minlength=user_items.shape[1])
        keep = np.flatnonzero(users >= max(1, int(self.params["min_item_users"])))
        limit = int(self.params["max_items"])
        if len(keep) > limit:
            keep = np.sort(keep[np.argsort(-users[keep], kind="stable")[:limit]])
        return keep.astype(np.int64)

    @property
    def pruned_items(self) -> int:
        return int(self.n_items - len(self.kept_items))

    def score_block(self, userids, user_items, items=None):
        return self._expand(np.asarray(user_items[:, self.kept_items] @ self.item_weights), items)

    def _expand(self, kept_scores: np.ndarray, items: np.ndarray | None) -> np.ndarray:
        """Scores over all items (or `items`): pruned items get each row's lowest score."""
        if len(self.kept_items) == self.n_items:
            return kept_scores if items is None else kept_scores[:, items]
        floor = kept_scores.min(axis=1, keepdims=True) if kept_scores.shape[1] else 0.0
        full = np.empty((kept_scores.shape[0], self.n_items), np.float32)
        full[:] = floor
        full[:, self.kept_items] = kept_scores
        return full if items is None else full[:, items]

    def path_scores(
        self, user_items: sp.csr_matrix, userids: np.ndarray, l2_values: list[float]
    ) -> Iterator[np.ndarray]:
        """Scores of `userids` (rows of `user_items`, raw weights) for the model fitted with each
        l2 in turn, from one eigendecomposition of the smaller Gram matrix (items' XᵀX or users'
        XXᵀ): no λ needs a new factorisation."""
        x = self.confidence_of(user_items)
        self.n_items = x.shape[1]
        self.kept_items = self._kept(x)
        x = as_csr(x[:, self.kept_items])
        userids = np.asarray(userids, np.int64)
        rows = x[userids].tocoo()
        if not x.shape[1]:
            yield from (self._expand(np.zeros((len(userids), 0), np.float32), None) for _ in l2_values)
            return
        path = _user_gram_path if x.shape[0] < x.shape[1] else _item_gram_path
        for scores in path(x, userids, rows, [float(v) for v in l2_values]):
            yield self._expand(scores, None)

    def path_recommend(
        self, user_items: sp.csr_matrix, userids: np.ndarray, l2_values: list[float], N: int
    ) -> Iterator[np.ndarray]:
        """Top-N unseen item ids of `userids` for each l2 in turn (see `path_scores`)."""
        seen = exclusion_matrix(as_csr(user_items)[np.asarray(userids, np.int64)], None, True)
        for scores in self.path_scores(user_items, userids, l2_values):
            mask_excluded(scores, seen)
            yield select_topk(scores, N)[0]

    def arrays(self):
        return {"item_weights": self.item_weights, "kept_items": self.kept_items}

    @classmethod
    def _restore(cls, path, params):
        if "binary" in params:  # artifacts saved before confidence transforms existed
            params = {**params, "confidence": "binary" if params.pop("binary") else "raw"}
        model = super()._restore(path, params)
        if not hasattr(model, "kept_items"):
            model.kept_items = np.arange(model.item_weights.shape[0], dtype=np.int64)
        return model


def _inverse_spd(gram: sp.spmatrix, l2: float) -> np.ndarray:
    """(gram + l2·I)⁻¹ of a sparse Gram matrix, dense float32, by Cholesky."""
    dense = np.asarray(gram.toarray(), dtype=np.float32)
    dense[np.diag_indices_from(dense)] += l2
    factor, info = scipy.linalg.lapack.spotrf(dense, lower=1, overwrite_a=1, clean=1)
    if info == 0:
        dense, info = scipy.linalg.lapack.spotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise ValueError(f"ease: the Gram matrix is not positive definite (LAPACK info {info}); raise l2")
    return np.tril(dense) + np.tril(dense, -1).T


def _positive_eigen(gram: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues above round-off and their orthonormal eigenvectors of a sparse Gram matrix."""
    dense = np.asarray(gram.toarray(), dtype=np.float32)
    values, vectors = scipy.linalg.eigh(dense, overwrite_a=True, check_finite=False, driver="evd")
    keep = values > 1e-5 * max(float(values.max()), 1e-30)
    return values[keep], np.ascontiguousarray(vectors[:, keep])


def _item_gram_path(x, userids, rows: sp.coo_matrix, l2_values: list[float]) -> Iterator[np.ndarray]:
    """X - XP·diag(P)⁻¹ per λ with XᵀX = W diag(s) Wᵀ: P = W diag(1/(s+λ)) Wᵀ (+ I/λ off X's range)."""
    values, vectors = _positive_eigen(x.T @ x)
    projected = np.asarray(rows.tocsr() @ vectors, dtype=np.float32)
    squared = vectors**2
    for l2 in l2_values:
        diag = 1.0 / l2 + squared @ (1.0 / (values + l2) - 1.0 / l2)
        scores = (projected / -(values + l2)) @ (vectors / diag[:, None]).T
        scores[rows.row, rows.col] += rows.data
        yield scores


def _user_gram_path(x, userids, rows: sp.coo_matrix, l2_values: list[float]) -> Iterator[np.ndarray]:
    """X - XP·diag(P)⁻¹ per λ with XXᵀ = U diag(σ) Uᵀ (fewer users than items). By Woodbury
    P = (I - XᵀAX)/λ with A = U diag(1/(σ+λ)) Uᵀ, so a user's row of XP is (x_u - c_u X)/λ with
    c_u = U_u diag(σ/(σ+λ)) Uᵀ, and λ·diag(P)_j = 1 - Σ_k (XᵀU)²_jk/(σ_k+λ): every product is
    users × users or sparse, none users × users × items."""
    values, vectors = _positive_eigen(x @ x.T)
    by_item = x.T.tocsr()
    squared = np.asarray(by_item @ vectors, dtype=np.float64) ** 2
    mine = vectors[userids]
    for l2 in l2_values:
        scale = 1.0 / (1.0 - squared @ (1.0 / (values + l2)))  # 1/(λ·diag(P))
        mixed = (mine * (values / (values + l2))) @ vectors.T
        scores = np.asarray(by_item @ mixed.T, dtype=np.float32).T * scale.astype(np.float32)
        scores[rows.row, rows.col] += rows.data * (1.0 - scale[rows.col]).astype(np.float32)
        yield scores
