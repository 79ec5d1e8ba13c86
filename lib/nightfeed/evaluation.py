"""Offline evaluation: data loaders, leakage-free splitters and ranking metrics.

Metric definitions (binary relevance: every held-out interaction is relevant; items in a
user's training data are never recommended; users without test items, or without training
items, are skipped):
- precision@k = hits / k
- recall@k    = hits / |relevant|
- nDCG@k      = Σ_hits 1/log2(rank+1) / Σ_{i=1..min(k,|relevant|)} 1/log2(i+1)
- MAP@k       = Σ_hits precision@rank / min(k, |relevant|)
- coverage    = share of the training catalog that appears in anyone's top-k
"""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import NightfeedError
from .models import NO_ITEM, Recommender

FORMATS = ("movielens-100k", "movielens-csv", "csv")
SPLITS = ("stratified", "temporal", "global-time")
MIN_INTERACTIONS = 10


# ---------------------------------------------------------------- loading

def load_interactions(path: str | Path, fmt: str, sep: str = ",", user_col: str | None = None,
                      item_col: str | None = None, weight_col: str | None = None,
                      time_col: str | None = None, header: bool = True) -> pd.DataFrame:
    """Read a ratings/interactions file into columns user, item, weight, time (strings for ids).

    Errors name the file and, for a malformed line, its line number.
    """
    path = Path(path)
    if not path.is_file():
        raise NightfeedError(f"input file not found: {path}")
    if fmt == "movielens-100k":
        spec = dict(sep="\t", header=False, cols=["0", "1", "2", "3"])
    elif fmt == "movielens-csv":
        spec = dict(sep=",", header=True, cols=["userId", "movieId", "rating", "timestamp"])
    elif fmt == "csv":
        if user_col is None or item_col is None:
            raise NightfeedError("--format csv needs --user-col and --item-col (names, or 0-based positions with --no-header)")
        spec = dict(sep=sep, header=header, cols=[user_col, item_col, weight_col, time_col])
    else:
        raise NightfeedError(f"unknown --format {fmt!r}; choose from {', '.join(FORMATS)}")
    rows, names = _read_rows(path, spec["sep"], spec["header"])
    idx = [_column_index(c, names, path) if c is not None else None for c in spec["cols"]]
    width = max(i for i in idx if i is not None) + 1
    users, items, weights, times = [], [], [], []
    first_line = 2 if spec["header"] else 1
    for n, row in enumerate(rows, start=first_line):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < width:
            raise NightfeedError(f"{path}:{n}: malformed line (expected at least {width} fields, got {len(row)}): {spec['sep'].join(row)[:120]!r}")
        u, i = row[idx[0]].strip(), row[idx[1]].strip()
        if not u or not i:
            raise NightfeedError(f"{path}:{n}: malformed line (empty user or item id)")
        users.append(u)
        items.append(i)
        weights.append(_number(row, idx[2], path, n, "weight", 1.0))
        times.append(_number(row, idx[3], path, n, "time", float(n)))
    if not users:
        raise NightfeedError(f"{path}: no interactions found")
    return pd.DataFrame({"user": users, "item": items, "weight": np.asarray(weights, np.float32),
                         "time": np.asarray(times, np.float64)})


def _read_rows(path: Path, sep: str, header: bool):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    if sep in ("\\t", "tab"):
        sep = "\t"
    reader = csv.reader(text.splitlines(), delimiter=sep)
    rows = list(reader)
    names = [c.strip() for c in rows[0]] if header and rows else []
    return (rows[1:] if header else rows), names


def _column_index(col: str, names: list[str], path: Path) -> int:
    if names:
        if col in names:
            return names.index(col)
        raise NightfeedError(f"{path}: unknown column {col!r}; the header has {names}")
    try:
        return int(col)
    except ValueError:
        raise NightfeedError(f"{path}: column {col!r} must be a 0-based position when the file has no header") from None


def _number(row, i, path, n, what, default):
    if i is None:
        return default
    try:
        return float(row[i])
    except (ValueError, IndexError):
        raise NightfeedError(f"{path}:{n}: malformed line ({what} {row[i] if i < len(row) else ''!r} is not a number)") from None


# ---------------------------------------------------------------- splitting

def split(df: pd.DataFrame, method: str, test_fraction: float = 0.25, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train/test split. Duplicate (user, item) pairs are merged first so no pair is on both sides.

    stratified: a random `test_fraction` of each user's interactions (recommenders' protocol);
    temporal: each user's latest `test_fraction`; global-time: everything after one global cut.
    """
    if not 0 < test_fraction < 1:
        raise NightfeedError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    df = (df.groupby(["user", "item"], as_index=False, sort=False)
          .agg(weight=("weight", "sum"), time=("time", "max")))
    if len(df) < MIN_INTERACTIONS:
        raise NightfeedError(f"too few interactions to evaluate: {len(df)} (need at least {MIN_INTERACTIONS})")
    if method == "global-time":
        cut = df["time"].quantile(1 - test_fraction, interpolation="lower")
        test_mask = (df["time"] > cut).to_numpy()
    elif method in ("stratified", "temporal"):
        rng = np.random.default_rng(seed)
        if method == "stratified":
            key = rng.random(len(df))
        else:
            key = df["time"].to_numpy() + rng.random(len(df)) * 1e-6  # ties broken reproducibly
        order = np.lexsort((key, df["user"].to_numpy()))
        users_sorted = df["user"].to_numpy()[order]
        starts = np.r_[0, np.flatnonzero(users_sorted[1:] != users_sorted[:-1]) + 1]
        sizes = np.diff(np.r_[starts, len(df)])
        n_train = np.maximum(1, np.round(sizes * (1 - test_fraction))).astype(int)
        pos = np.arange(len(df)) - np.repeat(starts, sizes)
        test_sorted = pos >= np.repeat(n_train, sizes)
        test_mask = np.empty(len(df), dtype=bool)
        test_mask[order] = test_sorted
    else:
        raise NightfeedError(f"unknown --split {method!r}; choose from {', '.join(SPLITS)}")
    train, test = df[~test_mask].reset_index(drop=True), df[test_mask].reset_index(drop=True)
    if train.empty or test.empty:
        raise NightfeedError("too few interactions to evaluate: the split left train or test empty")
    return train, test


# ---------------------------------------------------------------- matrices

@dataclass
class Encoded:
    """Contiguous integer ids over the training data."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    train: sp.csr_matrix
    user_index: dict = field(repr=False, default_factory=dict)
    item_index: dict = field(repr=False, default_factory=dict)


def encode(train: pd.DataFrame, binary: bool = False) -> Encoded:
    users, u_idx = np.unique(train["user"].to_numpy(), return_inverse=True)
    items, i_idx = np.unique(train["item"].to_numpy(), return_inverse=True)
    data = np.ones(len(train), np.float32) if binary else train["weight"].to_numpy(np.float32)
    mat = sp.csr_matrix((data, (u_idx, i_idx)), shape=(len(users), len(items)), dtype=np.float32)
    mat.sum_duplicates()
    return Encoded(users, items, mat, {u: k for k, u in enumerate(users)}, {i: k for k, i in enumerate(items)})


def relevant_sets(test: pd.DataFrame, enc: Encoded) -> tuple[np.ndarray, list[set]]:
    """Test users known at training time, and each one's set of held-out items (encoded, -2 if unseen)."""
    known = test[test["user"].isin(enc.user_index)]
    rel: dict[int, set] = {}
    for row, (u, i) in enumerate(zip(known["user"].to_numpy(), known["item"].to_numpy())):
        rel.setdefault(enc.user_index[u], set()).add(enc.item_index.get(i, -2 - row))  # unseen: never a hit
    users = np.array(sorted(rel), dtype=np.int64)
    return users, [rel[u] for u in users]


# ---------------------------------------------------------------- metrics

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
    return {f"ndcg@{k}": float(np.mean(ndcg)), f"map@{k}": float(np.mean(ap)),
            f"precision@{k}": float(np.mean(prec)), f"recall@{k}": float(np.mean(rec)),
            "coverage": float(len(shown) / n_items) if n_items else 0.0}


def evaluate_model(model: Recommender, enc: Encoded, test_users: np.ndarray, relevant: list[set], k: int) -> dict:
    """Fit on the encoded training matrix, recommend k unseen items per test user, score them."""
    t0 = time.perf_counter()
    model.fit(enc.train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    recs, _ = model.recommend(test_users, enc.train[test_users], N=k)
    rec_s = time.perf_counter() - t0
    return {"metrics": ranking_metrics(recs, relevant, k, enc.train.shape[1]),
            "timings": {"fit_s": round(fit_s, 4), "recommend_s": round(rec_s, 4)}}


# ---------------------------------------------------------------- comparing models

def model_params(name: str, k: int, seed: int, time_budget_s: float) -> dict:
    from .models import MODELS

    if name == "auto":
        return {"k": k, "seed": seed, "time_budget_s": time_budget_s}
    return {"seed": seed} if "seed" in MODELS[name].defaults else {}


def compare(df: pd.DataFrame, names: list[str], split_method: str, test_fraction: float, seed: int, k: int,
            time_budget_s: float = 120.0, weighted: bool = False) -> list[dict]:
    """Split once, then fit and score every named model on the same split."""
    from .models import create

    train, test = split(df, split_method, test_fraction, seed)
    enc = encode(train, binary=not weighted)
    users, relevant = relevant_sets(test, enc)
    if not len(users):
        raise NightfeedError("too few interactions to evaluate: no test user has training interactions")
    results = []
    for name in names:
        model = create(name, **model_params(name, k, seed, time_budget_s))
        res = evaluate_model(model, enc, users, relevant, k)
        params = dict(model.params)
        if name == "auto":
            params = {"chosen": model.chosen["model"], "chosen_params": model.chosen["params"],
                      "validation": model.chosen["metrics"], **params}
        results.append({"model": name, "params": params, "k": k, "metrics": res["metrics"], "timings": res["timings"],
                        "n_users": int(enc.train.shape[0]), "n_items": int(enc.train.shape[1]),
                        "n_train": int(len(train)), "n_test": int(len(test)), "n_eval_users": int(len(users)),
                        "split": split_method, "test_fraction": test_fraction, "seed": seed})
    return results


def format_table(results: list[dict], k: int) -> str:
    cols = [f"ndcg@{k}", f"map@{k}", f"precision@{k}", f"recall@{k}", "coverage"]
    head = f"{'model':<12}" + "".join(f"{c:>14}" for c in cols) + f"{'fit_s':>10}{'recommend_s':>13}"
    lines = [head, "-" * len(head)]
    for r in results:
        label = r["model"] + (f"→{r['params']['chosen']}" if r["model"] == "auto" else "")
        lines.append(f"{label:<12}" + "".join(f"{r['metrics'][c]:>14.4f}" for c in cols)
                     + f"{r['timings']['fit_s']:>10.2f}{r['timings']['recommend_s']:>13.3f}")
    first = results[0]
    lines.append(f"users {first['n_users']}  items {first['n_items']}  train {first['n_train']}  test {first['n_test']}"
                 f"  ({first['split']} split, test fraction {first['test_fraction']}, seed {first['seed']})")
    return "\n".join(lines)
