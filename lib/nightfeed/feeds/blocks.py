"""A block of users as the scoring tasks receive it (Arrow): its list columns as CSR rows, and
the model view over the user factors the block carries."""

from __future__ import annotations

import copy

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

BLOCK_FACTORS = "user_factors"  # the column of a user block that carries the user's factors


def list_csr(lists: pa.Array, n_cols: int, values: pa.Array | None = None) -> sp.csr_matrix:
    """A list<int> column (with optional aligned list<float> values) as CSR rows, without Python loops."""
    n_rows = len(lists)
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy().astype(np.int64)
    indptr = np.r_[0, np.cumsum(lengths)]
    indices = pc.fill_null(lists.flatten(), -1).to_numpy().astype(np.int64)
    data = (
        np.ones(len(indices), np.float32)
        if values is None
        else pc.fill_null(values.flatten(), 0.0).to_numpy().astype(np.float32)
    )
    inside = (indices >= 0) & (indices < n_cols)
    if not inside.all():  # codes outside the model's items: not part of this matrix
        rows = np.repeat(np.arange(n_rows), lengths)[inside]
        indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_rows))]
        indices, data = indices[inside], data[inside]
    m = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))
    m.sum_duplicates()
    return m


def block_model(ctx, batch: pa.RecordBatch):
    """(model, each row's user index) for a block of users of a `scoring.FeedContext`. When the
    block carries the users' factors (column BLOCK_FACTORS: the broadcast model was sent without
    them) the model is a view over the block's own factors, indexed by row."""
    user_idx = pc.fill_null(batch.column("user_idx"), -1).to_numpy().astype(np.int64)
    if BLOCK_FACTORS not in batch.schema.names:
        return ctx.model, user_idx
    column = batch.column(BLOCK_FACTORS)
    factors = np.zeros((batch.num_rows, ctx.model.item_factors.shape[1]), np.float32)
    known = pc.is_valid(column).to_numpy(zero_copy_only=False)
    factors[known] = column.flatten().to_numpy().astype(np.float32).reshape(int(known.sum()), -1)
    model = copy.copy(ctx.model)
    model.user_factors = factors
    return model, np.where((user_idx >= 0) & known, np.arange(batch.num_rows), -1)
