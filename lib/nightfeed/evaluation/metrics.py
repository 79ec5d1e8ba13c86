"""Ranking metrics of top-k lists against held-out items.

Definitions (binary relevance: every held-out interaction is relevant; items in a user's
training data are never recommended; users without test items, or without training items,
are skipped):
- precision@k = hits / k
- recall@k    = hits / |relevant|
- nDCG@k      = Σ_hits 1/log2(rank+1) / Σ_{i=1..min(k,|relevant|)} 1/log2(i+1)
- MAP@k       = Σ_hits precision@rank / min(k, |relevant|)
- coverage    = share of the training catalog that appears in anyone's top-k
- gini        = Gini index of the items' exposure in the top-k lists (0: every item shown equally
                often; (n-1)/n: one item takes every slot)
- novelty     = mean over shown slots of -log2(share of training users who interacted with the item)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nightfeed.core.errors import NightfeedError


def gini(values) -> float:
    """Gini index of non-negative amounts (exposure per item or creator); 0 for none at all."""
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    return float(((2 * np.arange(1, n + 1) - n - 1) * x).sum() / (n * total))


def item_popularity(train: sp.csr_matrix) -> np.ndarray:
    """Share of the training users who interacted with each item."""
    users = max(train.shape[0], 1)
    return np.bincount(train.indices, minlength=train.shape[1]) / users


def ranking_metrics(
    recs: np.ndarray, relevant: list[set], k: int, n_items: int, popularity: np.ndarray | None = None
) -> dict[str, float]:
    """precision/recall/nDCG/MAP@k, coverage and Gini for top-k lists (rows of item ids, -1 =
    empty); novelty too when `popularity` (see item_popularity) is given."""
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
    slots = recs[(recs >= 0) & (recs < n_items)]
    shown = np.unique(slots)
    beyond = {"gini": gini(np.bincount(slots, minlength=n_items))}
    if popularity is not None:
        floor = popularity[popularity > 0].min(initial=1.0)  # an item no training user had
        beyond["novelty"] = (
            float(np.mean(-np.log2(np.maximum(popularity[slots], floor)))) if len(slots) else 0.0
        )
    return {
        f"ndcg@{k}": float(np.mean(ndcg)),
        f"map@{k}": float(np.mean(ap)),
        f"precision@{k}": float(np.mean(prec)),
        f"recall@{k}": float(np.mean(rec)),
        "coverage": float(len(shown) / n_items) if n_items else 0.0,
        **beyond,
    }
