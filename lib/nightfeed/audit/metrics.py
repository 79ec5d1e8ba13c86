"""How well a review order catches violating videos: the model's queue against three baselines.

Every order ranks the same queued videos. With C = the daily review capacity: precision@C (over
min(C, queued videos): a queue shorter than C is reviewed whole), recall@C, PR-AUC (average
precision over the whole order) and violating views prevented (the next-24-hour views of the
truly violating videos among the top C: the views a review tonight takes away from them; the
estimate from each video's trajectory is the same for every order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METHODS = ("model", "fifo", "reports", "report_rate")
CAPACITY_FACTORS = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0)


def order(queue: pd.DataFrame, method: str) -> np.ndarray:
    """Row positions of `queue` in the method's review order. queue: item_id, rank, age_hours,
    reports, report_rate."""
    ids = queue["item_id"].to_numpy()
    if method == "model":
        return np.argsort(queue["rank"].to_numpy(), kind="stable")
    if method == "fifo":
        return np.lexsort((ids, -queue["age_hours"].to_numpy()))
    if method == "reports":
        return np.lexsort((ids, -queue["age_hours"].to_numpy(), -queue["reports"].to_numpy()))
    if method == "report_rate":
        return np.lexsort(
            (
                ids,
                -queue["age_hours"].to_numpy(),
                -queue["reports"].to_numpy(),
                -queue["report_rate"].to_numpy(),
            )
        )
    raise ValueError(f"unknown review order {method!r}; choose from {', '.join(METHODS)}")


def average_precision(relevant: np.ndarray) -> float:
    """Area under the precision-recall curve of an ordered 0/1 array (NaN without positives)."""
    total = relevant.sum()
    if total == 0:
        return float("nan")
    hits = np.cumsum(relevant)
    return float(np.sum(relevant * hits / np.arange(1, len(relevant) + 1)) / total)


def order_metrics(queue: pd.DataFrame, method: str, capacity: int) -> dict[str, float]:
    """The metrics of one order. queue also needs `violating` (0/1) and `expected_views`."""
    pos = order(queue, method)
    relevant = queue["violating"].to_numpy()[pos].astype(float)
    views = queue["expected_views"].to_numpy()[pos]
    top = slice(0, capacity)
    total = relevant.sum()
    return {
        "precision_at_c": _precision(relevant, capacity),
        "recall_at_c": float(relevant[top].sum() / total) if total else float("nan"),
        "pr_auc": average_precision(relevant),
        "violating_views_prevented": float(np.sum(relevant[top] * views[top])),
    }


def _precision(relevant: np.ndarray, capacity: int) -> float:
    """Share of violating videos among the first min(capacity, len) of an ordered 0/1 array."""
    filled = min(capacity, len(relevant))
    return float(relevant[:filled].sum() / filled) if filled else float("nan")


def evaluate(queue: pd.DataFrame, capacity: int) -> pd.DataFrame:
    """One row per (method, metric, value) for every order, plus the queue's own counts."""
    rows = [(m, k, v) for m in METHODS for k, v in order_metrics(queue, m, capacity).items()]
    rows += [
        ("queue", "videos", float(len(queue))),
        ("queue", "violating", float(queue["violating"].sum())),
        ("queue", "capacity", float(capacity)),
        *(("queue", f"best_{k}", v) for k, v in best_possible(queue, capacity).items()),
    ]
    return pd.DataFrame(rows, columns=["method", "metric", "value"])


def best_possible(queue: pd.DataFrame, capacity: int) -> dict[str, float]:
    """What an order knowing the truth would reach on this queue: every violating video first,
    the most viewed first (the ceiling of precision@C and of violating views prevented)."""
    views = queue["expected_views"].to_numpy()
    relevant = queue["violating"].to_numpy().astype(float)
    pos = np.lexsort((-views, -relevant))
    return {
        "precision_at_c": _precision(relevant[pos], capacity),
        "violating_views_prevented": float(np.sum((relevant * views)[pos][:capacity])),
    }


def curves(queue: pd.DataFrame, capacity: int) -> dict[str, dict[str, list[float]]]:
    """Precision and recall of every order at capacities C/4 .. 4C."""
    caps = sorted({max(1, int(round(capacity * f))) for f in CAPACITY_FACTORS})
    out = {}
    for method in METHODS:
        relevant = queue["violating"].to_numpy()[order(queue, method)].astype(float)
        total = relevant.sum()
        out[method] = {
            "capacity": caps,
            "precision": [_precision(relevant, c) for c in caps],
            "recall": [float(relevant[:c].sum() / total) if total else float("nan") for c in caps],
        }
    return out
