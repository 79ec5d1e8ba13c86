"""EASE (Steck 2019): closed-form item-item model; exact and strong on catalogs up to ~tens of thousands."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..errors import NightfeedError
from .base import Recommender, as_csr


class EASEModel(Recommender):
    """B = argmin ||X - XB||² + λ||B||², diag(B) = 0, solved with one n_items² inverse."""

    name = "ease"
    defaults = {"l2": 500.0, "max_items": 20000, "binary": True}

    def fit(self, user_items):
        user_items = as_csr(user_items)
        n_items = user_items.shape[1]
        if n_items > int(self.params["max_items"]):
            raise NightfeedError(
                f"ease: {n_items} items exceed max_items={self.params['max_items']} "
                f"(memory grows with items²); use als or raise model.ease_max_items"
            )
        self.n_items = n_items
        x = user_items.copy()
        if self.params["binary"]:
            x.data[:] = 1.0
        gram = (x.T @ x).toarray().astype(np.float64)
        gram[np.diag_indices(n_items)] += float(self.params["l2"])
        inv = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        b = -inv / np.diag(inv)
        b[np.diag_indices(n_items)] = 0.0
        self.item_weights = b.astype(np.float32)
        return self

    def score_block(self, userids, user_items, items=None):
        x = as_csr(user_items)
        if self.params["binary"]:
            x = x.copy()
            x.data[:] = 1.0
        weights = self.item_weights if items is None else self.item_weights[:, items]
        return np.asarray(x @ weights)

    def arrays(self):
        return {"item_weights": self.item_weights}
