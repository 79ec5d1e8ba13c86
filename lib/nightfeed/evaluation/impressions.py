"""Metrics of a model's scores on logged impressions: did its order agree with what viewers did?

Scores are compared within a viewer only (scores of different viewers are not comparable), and
each viewer's figure is weighted by how much that viewer contributes:
- GAUC: per viewer, the AUC of the score for played vs skipped impressions (ties count half),
  averaged with weights = the viewer's impressions; viewers with only plays or only skips have
  no AUC and are left out. A perfect score gives 1, a constant one 0.5.
- XAUC (watch time): per viewer, over pairs of played impressions with different watched
  shares, the share of pairs the score orders like the watched share (ties half), weighted by
  the viewer's pairs. The reverse order gives 0.
- watch nDCG@k: per viewer, the impressions ranked by score, gain = watched share (0..1), DCG
  over the ideal order's, averaged over viewers who watched anything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ("user", "score", "played", "watched")  # watched: watched share of the video, 0..1


def gauc(frame: pd.DataFrame) -> tuple[float, int]:
    """(GAUC, viewers counted) of `score` for `played` (frame columns: COLUMNS)."""
    rank = frame.groupby("user")["score"].rank(method="average")
    f = frame.assign(pos_rank=rank.where(frame["played"], 0.0), pos=frame["played"].astype(int))
    g = f.groupby("user").agg(n=("pos", "size"), pos=("pos", "sum"), pos_rank=("pos_rank", "sum"))
    g = g[(g["pos"] > 0) & (g["pos"] < g["n"])]
    if g.empty:
        return float("nan"), 0
    neg = g["n"] - g["pos"]
    auc = (g["pos_rank"] - g["pos"] * (g["pos"] + 1) / 2) / (g["pos"] * neg)
    return float(np.average(auc, weights=g["n"])), len(g)


def xauc(frame: pd.DataFrame) -> tuple[float, int]:
    """(XAUC, viewers counted): pairs of played impressions ordered by score vs by watched share."""
    played = frame.loc[frame["played"], ["user", "score", "watched"]]
    pairs = played.merge(played, on="user", suffixes=("_a", "_b"))
    pairs = pairs[pairs["watched_a"] > pairs["watched_b"]]
    if pairs.empty:
        return float("nan"), 0
    agree = np.sign(pairs["score_a"] - pairs["score_b"]).to_numpy()
    per_user = pd.DataFrame({"user": pairs["user"].to_numpy(), "hit": (agree + 1) / 2}).groupby("user")["hit"]
    return float(per_user.sum().sum() / per_user.size().sum()), int(per_user.ngroups)


def watch_ndcg(frame: pd.DataFrame, k: int) -> tuple[float, int]:
    """(nDCG@k with the watched share as gain, viewers counted)."""
    f = frame[["user", "score", "watched"]].copy()
    f["watched"] = f["watched"].clip(0.0, 1.0)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    by_score = f.sort_values(["user", "score"], ascending=[True, False], kind="stable")
    by_gain = f.sort_values(["user", "watched"], ascending=[True, False], kind="stable")
    dcg = _dcg(by_score, discount, k)
    ideal = _dcg(by_gain, discount, k)
    ok = ideal > 0
    if not ok.any():
        return float("nan"), 0
    return float((dcg[ok] / ideal[ok]).mean()), int(ok.sum())


def _dcg(ordered: pd.DataFrame, discount: np.ndarray, k: int) -> pd.Series:
    pos = ordered.groupby("user").cumcount().to_numpy()
    top = pos < k
    gains = ordered["watched"].to_numpy()[top] * discount[pos[top]]
    return pd.Series(gains, index=ordered["user"].to_numpy()[top]).groupby(level=0).sum()


def impression_metrics(frame: pd.DataFrame, k: int) -> dict[str, tuple[float, int]]:
    """Every metric above: name -> (value, viewers counted)."""
    return {"gauc": gauc(frame), "xauc": xauc(frame), f"watch_ndcg@{k}": watch_ndcg(frame, k)}
