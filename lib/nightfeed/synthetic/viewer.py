"""A viewer going down a feed, under the synthetic world's hidden truth: what a feed is worth.

The viewer model is a cascade (RecSim's user who answers a slate, one slot at a time): the viewer
sees slot 1, answers it (`response`), and moves on to slot r+1 with a chance that depends on
what they just did (`scroll_on_after_play` / `_after_skip`); every earlier video of the same topic
or creator in the feed lowers the next one's play (fatigue). A feed's value is the expectation
of watch seconds, completions, likes, shares and skips over that walk. `oracle` builds, per
viewer, the feed the same rules allow that a greedy walk values most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from nightfeed.configuration.settings import SyntheticSettings
from nightfeed.core.errors import NightfeedError
from nightfeed.synthetic import response
from nightfeed.synthetic.items import Users, users
from nightfeed.synthetic.world import catalog, fan_hash_key

OUTCOMES = ("watch_s", "completions", "likes", "shares", "skips")


@dataclass(frozen=True)
class Night:
    """The hidden truth of one region-night, for videos in the caller's order (codes)."""

    cfg: SyntheticSettings
    fan_key: int
    viewers: Users
    topic: np.ndarray
    quality: np.ndarray
    violating: np.ndarray
    duration_ms: np.ndarray
    account: np.ndarray  # creator account as a dense code
    creator_topic: np.ndarray
    creator_share: np.ndarray

    def viewer_rows(self, user_ids) -> np.ndarray:
        rows = pd.Index(self.viewers.ids).get_indexer(np.asarray(user_ids, dtype=object))
        if (rows < 0).any():
            raise NightfeedError(
                f"viewers not in the synthetic world: {list(np.asarray(user_ids)[rows < 0][:3])}"
            )
        return rows

    def answers(self, rows: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, response.PerPlay]:
        """For viewers `rows` (b) and videos `codes` (b × m, valid codes): the play logit without
        fatigue and the per-play expectations."""
        a = self.answer(rows, codes)
        return a.play_logit, response.per_play(a)

    def answer(self, rows: np.ndarray, codes: np.ndarray) -> response.Answer:
        """The answer's distribution (without fatigue) of viewers `rows` to videos `codes`."""
        v = self.viewers
        taste = v.taste[rows]
        r = np.arange(len(rows))[:, None]
        fan = response.fan_of(
            self.cfg,
            self.fan_key,
            rows[:, None],
            taste[r, self.creator_topic[codes]],
            v.fan_norm[rows, None],
            self.account[codes],
            self.creator_share[codes],
        )
        return response.answer(
            self.cfg,
            response.affinity(taste[r, self.topic[codes]], self.cfg.n_topics),
            self.quality[codes],
            fan,
            self.violating[codes],
            self.duration_ms[codes],
            v.preferred_ms[rows, None],
        )


def night(cfg: SyntheticSettings, seed: int, region: str, ds: str, capacity: int, item_ids) -> Night:
    """The truth of (region, ds) for `item_ids`; every one must be in the world's catalog of ds."""
    cat = catalog(cfg, seed, region, ds, capacity)
    at = pd.Index(cat.ids).get_indexer(np.asarray(item_ids, dtype=object))
    if (at < 0).any():
        missing = list(np.asarray(item_ids)[at < 0][:3])
        raise NightfeedError(
            f"{region} {ds}: videos not in the synthetic world's catalog of that day: {missing}"
        )
    return Night(
        cfg=cfg,
        fan_key=fan_hash_key(seed, region),
        viewers=users(cfg, seed, region),
        topic=cat.topic[at],
        quality=cat.quality[at],
        violating=cat.policy[at] != "none",
        duration_ms=cat.duration_ms[at].astype(np.float64),
        account=pd.factorize(cat.account[at])[0],
        creator_topic=cat.creator_topic[at],
        creator_share=cat.creator_share[at],
    )


class _Walk:
    """The cascade's state for a block of viewers: reach, and topic and creator counts so far."""

    def __init__(self, night: Night, b: int):
        self.night = night
        self.reach = np.ones(b)
        self.topics = np.zeros((b, night.cfg.n_topics), np.int32)
        self.creators = np.zeros((b, int(night.account.max(initial=0)) + 1), np.int32)
        self.totals = {k: np.zeros(b) for k in OUTCOMES}

    def outcomes(
        self, rows: np.ndarray, codes: np.ndarray, logit0: np.ndarray, per: response.PerPlay
    ) -> dict:
        """Expected outcomes of showing viewers `rows` the `codes` (rows × m) next, given their feeds
        so far."""
        r = rows[:, None]
        same = self.topics[r, self.night.topic[codes]], self.creators[r, self.night.account[codes]]
        out = per.at(self.night.cfg, expit(logit0 - response.fatigue(self.night.cfg, *same)))
        out["watch_s"] = out.pop("watch_share") * self.night.duration_ms[codes] / 1000.0
        return out

    def show(self, shown: np.ndarray, code: np.ndarray, out: dict) -> None:
        """Viewers `shown` see video `code` (one each) with expected outcomes `out` (per viewer)."""
        for k in OUTCOMES:
            self.totals[k][shown] += self.reach[shown] * out[k]
        self.reach[shown] *= out["scroll_on"]
        np.add.at(self.topics, (shown, self.night.topic[code]), 1)
        np.add.at(self.creators, (shown, self.night.account[code]), 1)


def feed_value(night: Night, rows: np.ndarray, feeds: np.ndarray) -> dict[str, np.ndarray]:
    """Expected outcomes per viewer of walking their feed: feeds (b × n) of codes in slot order,
    -1 where a feed has ended."""
    walk = _Walk(night, len(rows))
    present = feeds >= 0
    safe = np.where(present, feeds, 0)
    logit0, per = night.answers(rows, safe)
    for slot in range(feeds.shape[1]):
        shown = np.flatnonzero(present[:, slot])
        at = (shown[:, None], slot)
        out = walk.outcomes(shown, safe[at], logit0[at], per.take(at))
        walk.show(shown, safe[shown, slot], {k: v[:, 0] for k, v in out.items()})
    return walk.totals


@dataclass(frozen=True)
class Rules:
    """The feed rules an oracle feed keeps, for a block of viewers over candidate codes."""

    n: int
    max_per_creator: int
    creator: np.ndarray  # code -> creator code of the lake's catalog (the cap's creator)
    fresh: np.ndarray  # bool per code: counts toward the fresh slots
    new_creator: np.ndarray  # bool per code: counts toward the new-creator slots
    n_fresh_slots: int
    n_new_creator_slots: int


def oracle(night: Night, rows: np.ndarray, allowed: np.ndarray, rules: Rules, shortlist: int) -> np.ndarray:
    """Per viewer, the feed built greedily from the true values: each slot takes the allowed video
    with the highest expected watch time per chance of leaving (the order that maximises a
    cascade's value), given the fatigue of the slots before, within the creator cap, and keeping
    room for the fresh and new-creator slots the rules reserve. allowed: b × codes. Candidates
    are each viewer's 2 × `shortlist` best by a rough index without fatigue (`_rough_index`) plus
    the best fresh and new-creator ones."""
    b = len(rows)
    r = np.arange(b)[:, None]
    all_codes = np.broadcast_to(np.arange(allowed.shape[1]), allowed.shape)
    index = np.where(allowed, _rough_index(night, night.answer(rows, all_codes)), -np.inf)
    picks = [_best(index, 2 * shortlist)]
    for reserved in (rules.fresh, rules.new_creator):
        picks.append(_best(np.where(reserved, index, -np.inf), 2 * rules.n))
    cand = np.sort(np.hstack(picks), axis=1)
    ok = np.isfinite(index[r, cand])
    ok[:, 1:] &= cand[:, 1:] != cand[:, :-1]
    lg, pp = night.answers(rows, cand)
    quota = [
        np.minimum(k, (ok & m[cand]).sum(axis=1))
        for k, m in ((rules.n_fresh_slots, rules.fresh), (rules.n_new_creator_slots, rules.new_creator))
    ]
    walk = _Walk(night, b)
    per_creator = np.zeros((b, int(rules.creator.max(initial=0)) + 1), np.int32)
    feeds = np.full((b, rules.n), -1, np.int64)
    for slot in range(rules.n):
        out = walk.outcomes(np.arange(b), cand, lg, pp)
        value = np.where(
            ok & (per_creator[r, rules.creator[cand]] < rules.max_per_creator),
            out["watch_s"] / _leave(out),
            -np.inf,
        )
        must = (quota[0] + quota[1]) >= rules.n - slot
        reserved = ((quota[0] > 0)[:, None] & rules.fresh[cand]) | (
            (quota[1] > 0)[:, None] & rules.new_creator[cand]
        )
        kept = np.where(must[:, None] & ~reserved, -np.inf, value)
        value = np.where(
            np.isfinite(kept).any(axis=1)[:, None], kept, value
        )  # a quota the cap left unfillable
        best = np.argmax(value, axis=1)
        shown = np.flatnonzero(np.isfinite(value[np.arange(b), best]))
        j, code = best[shown], cand[shown, best[shown]]
        feeds[shown, slot] = code
        walk.show(shown, code, {k: v[shown, j] for k, v in out.items()})
        ok[shown, j] = False
        np.add.at(per_creator, (shown, rules.creator[code]), 1)
        is_fresh = rules.fresh[code] & (quota[0][shown] > 0)
        quota[0][shown] -= is_fresh
        quota[1][shown] -= ~is_fresh & rules.new_creator[code] & (quota[1][shown] > 0)
    return feeds


def _rough_index(night: Night, a: response.Answer) -> np.ndarray:
    """The greedy index without the Beta integrals (every play counted): enough to shortlist."""
    p = expit(a.play_logit)
    watch_s = p * a.scale * a.alpha / (a.alpha + response.COMPLETION_BETA) * night.duration_ms / 1000.0
    return watch_s / _leave(
        {"scroll_on": p * night.cfg.scroll_on_after_play + (1 - p) * night.cfg.scroll_on_after_skip}
    )


def _leave(out: dict) -> np.ndarray:
    """The chance the viewer leaves after a slot (never 0: the greedy index divides by it)."""
    return np.maximum(1.0 - out["scroll_on"], 1e-9)


def _best(index: np.ndarray, k: int) -> np.ndarray:
    """Each row's k highest columns (unordered)."""
    k = min(k, index.shape[1])
    return np.argpartition(-index, k - 1, axis=1)[:, :k] if k else np.zeros((len(index), 0), np.int64)
