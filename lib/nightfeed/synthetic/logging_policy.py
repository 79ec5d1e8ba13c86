"""The platform's logging policy: which videos each active viewer is shown on a day, and in what order.

A viewer's impressions are a draw without replacement (a Plackett–Luce order, what Gumbel top-k
over the whole catalog gives) with weights popularity × e^(−0.25·age) × e^(1.5·affinity) ×
e^(fan_strength·fan). They are drawn as a stream — a topic by the viewer's taste, a video of it
by popularity (one binary search), a rejection step for the fan bonus, repeats dropped — so a
block of viewers costs its impressions, not viewers × catalog. Viewers whose stream runs short (a
catalog barely larger than their day) are finished exactly by Gumbel top-k over the videos they
have not been shown yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

STREAM_ROUNDS = 4
DRAWS_PER_NEED = 1.5  # draws per missing impression in a round, before rejections


@dataclass(frozen=True)
class Shown:
    """A block's impressions in each viewer's order: viewer (row of the block), position, video."""

    row: np.ndarray
    pos: np.ndarray
    item: np.ndarray
    fan: np.ndarray  # whether the viewer is a fan of the video's creator


@dataclass(frozen=True)
class Policy:
    """The catalog side of the weights: each video's base weight (0 when it cannot be shown) and
    topic; `fan(rows, items)` says whether viewer `rows` is a fan of video `items`' creator."""

    weight: np.ndarray
    topic: np.ndarray
    fan: Callable[[np.ndarray, np.ndarray], np.ndarray]
    fan_strength: float


def shown(rng: np.random.Generator, policy: Policy, taste_weight: np.ndarray, n_imp: np.ndarray) -> Shown:
    """Draw `n_imp[r]` distinct videos for each viewer r of the block; taste_weight (viewers ×
    topics) is e^(1.5·affinity). n_imp must not exceed the videos of positive weight."""
    stream = _Stream(policy, taste_weight)
    need = np.asarray(n_imp, np.int64)
    rows, items = np.zeros(0, np.int64), np.zeros(0, np.int64)
    for _ in range(STREAM_ROUNDS):
        have = np.bincount(rows, minlength=len(need))
        short = np.flatnonzero(have < need)
        if not len(short):
            break
        draws = np.ceil((need - have)[short] * DRAWS_PER_NEED * np.exp(policy.fan_strength)).astype(np.int64)
        r, i = stream.draw(rng, np.repeat(short, draws + 1))
        rows, items = _first_draws(np.concatenate([rows, r]), np.concatenate([items, i]), need)
    rows, items = _finish(rng, policy, taste_weight, rows, items, need)
    order = np.argsort(rows, kind="stable")
    rows, items = rows[order], items[order]
    return Shown(rows, _ranks(need), items, policy.fan(rows, items))


class _Stream:
    """I.i.d. draws from each viewer's weights: topic, then a video of the topic by weight."""

    def __init__(self, policy: Policy, taste_weight: np.ndarray):
        self.policy = policy
        self.order = np.argsort(policy.topic, kind="stable")
        self.cum = np.cumsum(policy.weight[self.order])
        n_topics = taste_weight.shape[1]
        self.last = np.searchsorted(policy.topic[self.order], np.arange(n_topics), side="right") - 1
        end = np.where(self.last >= 0, self.cum[np.maximum(self.last, 0)], 0.0)
        self.begin = np.concatenate([[0.0], end[:-1]])
        self.mass = end - self.begin
        self.topic_cum = np.cumsum(taste_weight * self.mass, axis=1)

    def draw(self, rng: np.random.Generator, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One draw per entry of `rows`, rejections removed: (rows, items) in draw order."""
        tc = self.topic_cum[rows]
        t = (tc < (rng.random(len(rows)) * tc[:, -1])[:, None]).sum(axis=1)
        t = np.minimum(t, tc.shape[1] - 1)
        v = self.begin[t] + rng.random(len(rows)) * self.mass[t]
        items = self.order[np.minimum(np.searchsorted(self.cum, v, side="right"), self.last[t])]
        fan = self.policy.fan(rows, items)
        keep = rng.random(len(rows)) < np.exp(self.policy.fan_strength * (fan - 1.0))
        return rows[keep], items[keep]


def _first_draws(rows: np.ndarray, items: np.ndarray, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first `need[r]` distinct videos of each viewer's draws, in draw order."""
    key = rows * (int(items.max(initial=0)) + 1) + items
    first = np.sort(np.unique(key, return_index=True)[1])
    rows, items = rows[first], items[first]
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=len(need))
    rank = np.empty(len(rows), np.int64)
    rank[order] = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    keep = rank < need[rows]
    return rows[keep], items[keep]


def _finish(
    rng: np.random.Generator,
    policy: Policy,
    taste_weight: np.ndarray,
    rows: np.ndarray,
    items: np.ndarray,
    need: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Complete the viewers still short by Gumbel top-k over the videos they were not shown (the
    same order's continuation)."""
    have = np.bincount(rows, minlength=len(need))
    short = np.flatnonzero(have < need)
    if not len(short):
        return rows, items
    m = len(policy.weight)
    rr = np.repeat(short, m)
    ii = np.tile(np.arange(m), len(short))
    with np.errstate(divide="ignore"):
        logits = (
            np.log(policy.weight)[None, :]
            + np.log(taste_weight[short][:, policy.topic])
            + policy.fan_strength * policy.fan(rr, ii).reshape(len(short), m)
        )
    at = {r: j for j, r in enumerate(short.tolist())}
    mine = np.isin(rows, short)
    logits[[at[r] for r in rows[mine].tolist()], items[mine]] = -np.inf
    top = np.argsort(-(logits + rng.gumbel(size=logits.shape)), axis=1)
    missing = need[short] - have[short]
    extra_rows = np.repeat(short, missing)
    extra_items = top[np.repeat(np.arange(len(short)), missing), _ranks(missing)]
    return np.concatenate([rows, extra_rows]), np.concatenate([items, extra_items])


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each count c, concatenated."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
