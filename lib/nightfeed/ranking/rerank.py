"""The re-rank: a feed filled greedily by maximal marginal relevance over the ranker's values,
keeping the feed rules (Carbonell & Goldstein 1998; YouTube's DPP paper reports diversity as
the only re-rank that raised satisfied watchers).

At each slot a viewer gets the candidate with the best `v − diversity · s`, where v is the
candidate's value scaled to 0..1 within the viewer's candidates and s its largest cosine
similarity to the videos already in the feed (item embeddings of the CF model). A creator at the
cap is skipped; reserved slots (fresh videos, new creators) are kept by taking only their
videos once the slots left are no more than the reserved ones still open. The score each pick
was made at, capped by the scores above it, is the feed's `score` (never increasing)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from nightfeed.models.topk import NO_ITEM


@dataclass
class Reserved:
    """Slots reserved for the videos `codes` marks (a bool per item code)."""

    codes: np.ndarray
    slots: int


def item_embeddings(model, n_codes: int, history: sp.csr_matrix | None, dims: int = 32) -> np.ndarray:
    """Unit vectors per item code: the CF model's item factors where it has them, else the item
    side of a truncated SVD of the viewers' plays (codes without either: zeros, never similar)."""
    factors = getattr(model, "item_factors", None)
    if factors is None and history is not None and history.nnz and min(history.shape) > 2:
        from scipy.sparse.linalg import svds

        k = min(dims, min(history.shape) - 1)
        _, s, vt = svds(history.astype(np.float64), k=k, random_state=0)
        factors = (vt.T * s).astype(np.float32)
    out = np.zeros((n_codes, 0 if factors is None else factors.shape[1]), np.float32)
    if factors is not None:
        out[: min(len(factors), n_codes)] = factors[:n_codes]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    return out


def mmr(
    codes: np.ndarray,
    values: np.ndarray,
    embeddings: np.ndarray,
    creator: np.ndarray,
    cap: int,
    n: int,
    diversity: float,
    reserved: tuple[Reserved, ...] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """(picked columns of `codes`, −1 where none; the score of each pick), each (viewers × n).
    codes: (viewers × C) item codes, NO_ITEM padding; values: the ranker's value of each."""
    b, width = codes.shape
    present = codes != NO_ITEM
    safe = np.where(present, codes, 0)
    lo = np.min(np.where(present, values, np.inf), axis=1, initial=np.inf)
    hi = np.max(np.where(present, values, -np.inf), axis=1, initial=-np.inf)
    span = np.where(hi > lo, hi - lo, 1.0)
    # open: still pickable (present, not picked, creator under the cap); score: its MMR score
    open_ = present.copy()
    score = np.where(present, (values - np.where(np.isfinite(lo), lo, 0)[:, None]) / span[:, None], -np.inf)
    score = score.astype(np.float32)
    vectors = embeddings[safe] if embeddings.shape[1] and diversity else None
    nearest = np.zeros((b, width), np.float32)
    creators = creator[safe]
    counts = np.zeros((b, int(creator.max(initial=-1)) + 1), np.int32)
    need = np.array([[r.slots] * b for r in reserved], np.int64).reshape(len(reserved), b)
    marks = [r.codes[safe] & present for r in reserved]
    picks = np.full((b, n), -1, np.int64)
    pick_scores = np.full((b, n), -np.inf)
    rows = np.arange(b)
    for slot in range(n):
        current = np.where(open_, score - diversity * nearest if vectors is not None else score, -np.inf)
        if reserved:
            due = need.clip(min=0).sum(axis=0) >= n - slot
            if due.any():
                wanted = np.zeros((int(due.sum()), width), bool)
                for k, mark in enumerate(marks):
                    wanted |= mark[due] & (need[k, due] > 0)[:, None]
                sub = current[due]
                restricted = np.where(wanted, sub, -np.inf)
                keep = np.isfinite(restricted).any(axis=1)
                sub[keep] = restricted[keep]
                current[due] = sub
        best = current.argmax(axis=1)
        got = np.isfinite(current[rows, best])
        if not got.any():
            break
        r, c = rows[got], best[got]
        picks[r, slot], pick_scores[r, slot] = c, current[r, c]
        open_[r, c] = False
        k = creators[r, c]
        counts[r, k] += 1
        full = counts[r, k] >= cap
        if full.any():
            fr = r[full]
            open_[fr] &= creators[fr] != k[full][:, None]
        for m, mark in enumerate(marks):
            need[m, r] -= mark[r, c]
        if vectors is not None:
            mine = vectors if len(r) == b else vectors[r]
            sims = np.einsum("bcd,bd->bc", mine, vectors[r, c])
            np.maximum(nearest[r], sims, out=sims)
            nearest[r] = sims
    return picks, np.minimum.accumulate(pick_scores, axis=1)
