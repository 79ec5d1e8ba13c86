"""Generated catalogs for the models suite: a weighted listening log (heavy-tailed play counts
on a large catalog) and the EASE scaling measurement on it.

Real listening logs (Last.fm-style user × artist play counts) have a Zipf-like catalog, far more
items than a dense solve likes, most items with one or two listeners, and counts from 1 to
hundreds of thousands that say only a little about taste. This generator has all of that, with
a planted taste structure so a good model has something to find.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from nightfeed.evaluation.matrices import encode
from nightfeed.models import create


def listening_log(
    n_users: int = 2000, n_items: int = 15000, per_user: int = 45, n_tastes: int = 40, seed: int = 7
) -> pd.DataFrame:
    """Rows (user, item, weight = plays, time): each user draws most artists from their taste
    group (Zipf within it) and some from the global head; plays are Pareto-tailed, a little
    larger for in-taste artists."""
    rng = np.random.default_rng(seed)
    taste_of_item = rng.integers(0, n_tastes, n_items)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.9
    rng.shuffle(popularity)
    rows = []
    for user in range(n_users):
        taste = rng.integers(0, n_tastes)
        in_taste = np.flatnonzero(taste_of_item == taste)
        size = max(5, int(rng.lognormal(np.log(per_user), 0.6)))
        own = rng.choice(
            in_taste,
            size=min(len(in_taste), int(size * 0.75)),
            replace=False,
            p=popularity[in_taste] / popularity[in_taste].sum(),
        )
        head = rng.choice(n_items, size=size - len(own), replace=False, p=popularity / popularity.sum())
        items = np.unique(np.concatenate([own, head]))
        plays = np.floor((rng.pareto(1.1, len(items)) + 1) * np.where(np.isin(items, own), 12, 4))
        rows.append(pd.DataFrame({"user": user, "item": items, "weight": plays.clip(1, 300000)}))
    out = pd.concat(rows, ignore_index=True)
    out["time"] = np.arange(len(out), dtype=np.float64)
    out["user"] = out["user"].astype(str)
    out["item"] = out["item"].astype(str)
    return out


def ease_scaling(df: pd.DataFrame, l2_values=(50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0)) -> dict:
    """Seconds of one EASE fit and of a sweep over `l2_values` (scores for every user) on `df`."""
    x = encode(df, binary=True).train
    model = create("ease", l2=float(l2_values[0]))
    t0 = time.perf_counter()
    model.fit(x)
    fit_s = time.perf_counter() - t0
    users = np.arange(x.shape[0])
    t0 = time.perf_counter()
    for _ in create("ease").path_recommend(x, users, list(l2_values), 10):
        pass
    sweep_s = time.perf_counter() - t0
    return {
        "users": int(x.shape[0]),
        "items": int(x.shape[1]),
        "interactions": int(x.nnz),
        "items_in_solve": int(len(model.kept_items)),
        "pruned_items": model.pruned_items,
        "fit_s": round(fit_s, 2),
        "sweep_values": len(l2_values),
        "sweep_s": round(sweep_s, 2),
        "sweep_over_fit": round(sweep_s / fit_s, 2),
    }
