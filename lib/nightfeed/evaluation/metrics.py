"""Ranking metrics of top-k lists against held-out items.

Definitions (binary relevance: every held-out interaction is relevant; items in a user's
training data are never recommended; users without test items, or without training items,
are skipped):
- precision@k = hits / k
- recall@k    = hits / |relevant|
- nDCG@k      = Σ_hits 1/log2(rank+1) / Σ_{i=1..min(k,|relevant|)} 1/log2(i+1)
- MAP@k       = Σ_hits precision@rank / min(k, |relevant|)
- coverage    = share of the training catalog that appears in anyone's top-k
"""

from __future__ import annotations

import numpy as np

from ..errors import NightfeedError
from ..topk import NO_ITEM


def ranking_metrics(recs: np.ndarray, relevant: list[set], k: int, n_items: int) -> dict[str, float]:
    """precision/recall/nDCG/MAP@k and coverage for top-k lists (rows of item ids, -1 = empty)."""
    if len(relevant) == 0:
        raise NightfeedError("no test users with training history: nothing to evaluate")
    recs = recs[:, :k]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    prec, rec, ndcg, ap = [], [], [], []
    for row, rel in zip(recs, relevant):
        hits = np.array([i in rel for i in row], dtype=float)
        n_hits = hits.sum()
        n_rel = len(rel)
        ideal = discounts[: min(k, n_rel)].sum()
        prec.append(n_hits / k)
        rec.append(n_hits / n_rel)
        ndcg.append((hits * discounts).sum() / ideal)
        ap.append((np.cumsum(hits) / np.arange(1, k + 1) * hits).sum() / min(k, n_rel))
    shown = np.unique(recs[recs != NO_ITEM])
    return {
        f"ndcg@{k}": float(np.mean(ndcg)),
        f"map@{k}": float(np.mean(ap)),
        f"precision@{k}": float(np.mean(prec)),
        f"recall@{k}": float(np.mean(rec)),
        "coverage": float(len(shown) / n_items) if n_items else 0.0,
    }
