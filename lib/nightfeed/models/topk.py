"""Exact per-row top-k over score matrices: the kernel every model's `recommend` uses.

A leaf module (numpy only) so models, scoring and evaluation can all share NO_ITEM and the
kernel without importing each other.
"""

from __future__ import annotations

import numpy as np

NO_ITEM = -1


def select_topk(scores: np.ndarray, k: int, ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k ids per row (by score, ties by lower id), -inf never selected.

    ids: the id of each column (1-d), or of each cell (2-d), non-negative and below 2**31;
    None: the column index.

    Sorting whole rows is what makes naive top-N slow. Here one pass keeps the entries at or
    above a per-row threshold, then only those few are sorted. The threshold comes from a strided
    sample (a few hundred candidates per row); rows where the sample is misleading get the exact
    k-th value instead. Short rows are padded with NO_ITEM / -inf.
    """
    b, n = scores.shape
    k = min(k, n)
    if b == 0 or k == 0:
        return np.full((b, k), NO_ITEM, np.int64), np.full((b, k), -np.inf, np.float32)
    lowest = np.finfo(scores.dtype).min
    stride = n // (8 * k)
    if stride >= 2:
        sample = scores[:, ::stride]
        nth = max(0, sample.shape[1] - 2 - 2 * k // stride)  # about 2k of the row's scores lie above it
        threshold = np.maximum(np.partition(sample, nth, axis=1)[:, nth], lowest)
        flat = np.flatnonzero(scores >= threshold[:, None])  # row-major: rows, then columns, ascending
        counts = np.bincount(flat // n, minlength=b)
        good = (counts >= k) & (counts <= 8 * k)
    else:
        flat, good = np.empty(0, np.int64), np.zeros(b, bool)
    if not good.all():
        flat = np.sort(
            np.concatenate(
                [flat[good[flat // n]], _exact_candidates(scores, np.flatnonzero(~good), k, lowest)]
            )
        )
    rows = flat // n
    counts = np.bincount(rows, minlength=b)
    width = max(int(counts.max()), k)
    position = np.arange(len(flat)) - np.repeat(np.cumsum(counts) - counts, counts)
    if ids is None:
        cand_ids = flat - rows * n
    elif ids.ndim == 1:
        cand_ids = ids[flat - rows * n]
    else:
        cand_ids = ids.reshape(-1)[flat]
    # One int64 key per candidate orders by score descending, then id ascending, so an
    # unstable partition + sort of only k keys per row gives the exact, deterministic top-k.
    keys = np.full((b, width), np.iinfo(np.int64).max, np.int64)
    keys[rows, position] = (-_ordered_bits(scores.reshape(-1)[flat]) << 32) | cand_ids
    if width > k:
        keys = np.partition(keys, k - 1, axis=1)[:, :k]
    keys.sort(axis=1)
    missing = keys == np.iinfo(np.int64).max
    return (
        np.where(missing, NO_ITEM, keys & 0xFFFFFFFF),
        np.where(missing, -np.inf, _float_of_bits(-(keys >> 32))).astype(np.float32),
    )


def _ordered_bits(values: np.ndarray) -> np.ndarray:
    """float32 -> int64 with the same order (IEEE bits, negatives flipped; -0.0 counts as 0.0)."""
    bits = (np.asarray(values, dtype=np.float32) + np.float32(0.0)).view(np.int32).astype(np.int64)
    return np.where(bits >= 0, bits, bits ^ 0x7FFFFFFF)


def _float_of_bits(ordered: np.ndarray) -> np.ndarray:
    """Inverse of _ordered_bits."""
    bits = np.where(ordered >= 0, ordered, ordered ^ 0x7FFFFFFF).astype(np.int32)
    return bits.view(np.float32)


def _exact_candidates(scores: np.ndarray, rows: np.ndarray, k: int, lowest: float) -> np.ndarray:
    """Flat positions of the finite entries of `rows` at or above each row's k-th score (all ties kept:
    which of them win depends on their ids)."""
    if not len(rows):
        return np.empty(0, np.int64)
    n = scores.shape[1]
    sub = scores[rows]
    kth = np.maximum(-np.partition(-sub, k - 1, axis=1)[:, k - 1], lowest)
    r, c = np.nonzero(sub >= kth[:, None])
    return rows[r] * n + c
