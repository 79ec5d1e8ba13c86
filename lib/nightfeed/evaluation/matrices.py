"""Interactions as matrices: contiguous integer ids, CSR training data, held-out relevant sets."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass
class Encoded:
    """Contiguous integer ids over the training data."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    train: sp.csr_matrix
    user_index: dict = field(repr=False, default_factory=dict)
    item_index: dict = field(repr=False, default_factory=dict)


def encode(
    train: pd.DataFrame, binary: bool = False, user: str = "user", item: str = "item", weight: str = "weight"
) -> Encoded:
    """Rows (user, item, weight) -> CSR users × items (duplicates summed) and the id maps."""
    users, u_idx = np.unique(train[user].to_numpy(), return_inverse=True)
    items, i_idx = np.unique(train[item].to_numpy(), return_inverse=True)
    data = np.ones(len(train), np.float32) if binary else train[weight].to_numpy(np.float32)
    mat = sp.csr_matrix((data, (u_idx, i_idx)), shape=(len(users), len(items)), dtype=np.float32)
    mat.sum_duplicates()
    return Encoded(
        users, items, mat, {u: k for k, u in enumerate(users)}, {i: k for k, i in enumerate(items)}
    )


def relevant_sets(
    test: pd.DataFrame, enc: Encoded, user: str = "user", item: str = "item"
) -> tuple[np.ndarray, list[set]]:
    """Test users known at training time, and each one's set of held-out items they did not
    already have in training (encoded; an item unknown to training never matches, -2 - row)."""
    rel: dict[int, set] = {}
    train = enc.train
    for row, (u, i) in enumerate(zip(test[user].to_numpy(), test[item].to_numpy())):
        uk = enc.user_index.get(u)
        if uk is None:
            continue
        ik = enc.item_index.get(i)
        if ik is not None and ik in train.indices[train.indptr[uk] : train.indptr[uk + 1]]:
            continue
        rel.setdefault(uk, set()).add(ik if ik is not None else -2 - row)
    users = np.array(sorted(rel), dtype=np.int64)
    return users, [rel[u] for u in users]


def relevant_from_matrix(held_out: sp.csr_matrix) -> tuple[np.ndarray, list[set]]:
    """Users with held-out items in a CSR, and each one's set of those items."""
    users = np.flatnonzero(np.diff(held_out.indptr) > 0)
    return users, [set(held_out.indices[held_out.indptr[u] : held_out.indptr[u + 1]]) for u in users]
