"""The synthetic platform's moderation: viewer reports and the platform's current review process.

Every video is approved by an automatic check at upload (minutes, or hours for some: `pending`
until then). Viewers report videos: violating ones at a per-view rate, benign ones at a rate set
so that `false_report_share` of all reports hit benign videos. Each day `capacity` videos are
reviewed by people, most-reported first, then oldest (the process the audit model replaces):
violating videos are removed or restricted, benign ones approved; removed and restricted videos
get no more views. The review queue carries state from day to day, so the world is simulated
from a fixed start; any day is the same however it was reached.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from nightfeed.configuration.settings import SyntheticSettings
from nightfeed.core.errors import NightfeedError
from nightfeed.synthetic.items import day_index, day_start, iso_time, items_of_day, keyed_rng

VIOLATING_REPORTS_PER_VIEW = 0.05
REMOVED_SHARE = 0.7  # of violating videos reviewed; the rest are restricted
START = "2025-01-01"  # the review process runs from here (a fixed start: any day is reached the same way)
KEEP_DAYS = 8  # days of snapshots kept (an older day is re-simulated from the start)


@dataclass(frozen=True)
class DayModeration:
    """A region's moderation of one day, aligned with the catalog window ending that day."""

    status: np.ndarray  # each window video's moderation status at the end of the day
    reports: np.ndarray  # reports each window video received that day
    decisions: list[tuple]  # (window index, epoch seconds, decision, policy, reviewer) taken that day

    def decision_rows(self, region: str, ids: np.ndarray) -> list[dict]:
        """The day's decisions as landing rows; `ids` are the window's video ids (the catalog's)."""
        return [
            dict(
                decision_id=f"{region}-{'auto' if who == 'auto' else 'rev'}-{ids[k]}",
                item_id=str(ids[k]),
                region=region,
                decided_ts=iso_time(ts, "Z"),
                decision=decision,
                policy=str(policy),
                reviewer=who,
            )
            for k, ts, decision, policy, who in self.decisions
        ]


FIELDS = ("created_ts", "auto_ts", "policy", "popularity", "report_propensity")


class _World:
    """The review process day by day over the catalog window, as flat arrays (one row per video)."""

    def __init__(self, cfg: SyntheticSettings, seed: int, region: str, capacity: int):
        self.cfg, self.seed, self.region, self.capacity = cfg, seed, region, capacity
        self.w = {f: np.empty(0, dtype=object if f == "policy" else float) for f in FIELDS}
        self.w.update(
            day=np.empty(0, int), reports=np.empty(0, int), human_ts=np.empty(0), decision=np.empty(0, object)
        )
        self.snapshots: dict[int, DayModeration] = {}
        self.day = day_index(START) - cfg.catalog_days - 1

    def day_of(self, day: int) -> DayModeration:
        if day < day_index(START):
            raise NightfeedError(f"the synthetic world's moderation starts on {START}: no earlier day exists")
        if day not in self.snapshots and day <= self.day:
            self.__init__(self.cfg, self.seed, self.region, self.capacity)
        while self.day < day:
            self.day += 1
            snapshot = self._step(self.day, record=self.day > day - KEEP_DAYS)
            if snapshot is not None:
                self.snapshots[self.day] = snapshot
            self.snapshots.pop(self.day - KEEP_DAYS, None)
        return self.snapshots[day]

    def _step(self, day: int, record: bool) -> DayModeration | None:
        items = items_of_day(self.cfg, self.seed, self.region, day)
        m = items["n"]
        new = {f: items[f] for f in FIELDS}
        new.update(
            day=np.full(m, day),
            reports=np.zeros(m, int),
            human_ts=np.full(m, np.inf),
            decision=np.full(m, "", object),
        )
        keep = self.w["day"] > day - self.cfg.catalog_days
        self.w = {f: np.concatenate([self.w[f][keep], new[f]]) for f in self.w}
        rng = keyed_rng(self.seed, self.region, "moderation", day)
        start, end = day_start(day), day_start(day + 1)
        decisions = self._review(rng, day, start)
        today = self._report(rng, start)
        if not record:
            return None
        w = self.w
        for k in np.flatnonzero((w["auto_ts"] >= start) & (w["auto_ts"] < end)):
            decisions.append((k, int(w["auto_ts"][k]), "approved", "none", "auto"))
        status = np.where(
            w["human_ts"] < end, w["decision"], np.where(w["auto_ts"] < end, "approved", "pending")
        )
        return DayModeration(status=status.astype(str), reports=today, decisions=decisions)

    def _review(self, rng: np.random.Generator, day: int, start: int) -> list[dict]:
        """Today's reviews: the most-reported (as of last night) unreviewed videos first, then oldest."""
        w = self.w
        queue = np.flatnonzero((w["day"] < day) & np.isinf(w["human_ts"]))
        key = (-w["reports"][queue].astype(np.int64) << 32) + w["created_ts"][queue].astype(np.int64)
        head = np.arange(len(queue))
        if 0 < self.capacity < len(queue):  # only the head of the queue needs sorting
            head = np.flatnonzero(key <= np.partition(key, self.capacity - 1)[self.capacity - 1])
        chosen = queue[head[np.argsort(key[head], kind="stable")][: self.capacity]]
        times = start + 28800 + np.sort(rng.integers(0, 43200, size=len(chosen)))
        out = []
        for n, (t, k) in enumerate(zip(times, chosen, strict=True)):
            policy = w["policy"][k]
            decision = (
                "approved"
                if policy == "none"
                else ("removed" if rng.random() < REMOVED_SHARE else "restricted")
            )
            w["human_ts"][k], w["decision"][k] = t, decision
            out.append((k, int(t), decision, policy, f"r-{self.region}-{n % 7:02d}"))
        return out

    def _report(self, rng: np.random.Generator, start: int) -> np.ndarray:
        """Today's reports: Poisson in each live video's expected views times its report rate."""
        cfg, w = self.cfg, self.w
        live = ~np.isin(w["decision"], ["removed", "restricted"]) | (w["human_ts"] >= start)
        age = (start + 86400 - w["created_ts"]) / 86400.0
        weight = np.where(live, w["popularity"] * np.exp(-0.25 * np.maximum(age, 0.0)), 0.0)
        total = (
            cfg.n_users * cfg.active_share * (cfg.sessions_per_active_user * cfg.impressions_per_session + 1)
        )
        views = total * weight / max(weight.sum(), 1e-12)
        violating = w["policy"] != "none"
        true_rate = views * VIOLATING_REPORTS_PER_VIEW * w["report_propensity"]
        benign = np.where(violating, 0.0, views * w["report_propensity"])
        share = cfg.false_report_share
        if violating.any():
            scale = share / (1.0 - share) * true_rate[violating].sum() / max(benign.sum(), 1e-12)
        else:
            scale = VIOLATING_REPORTS_PER_VIEW * share
        today = np.minimum(rng.poisson(np.where(violating, true_rate, benign * scale)), cfg.n_users)
        w["reports"] = w["reports"] + today
        return today


@functools.lru_cache(maxsize=16)
def _world(cfg: SyntheticSettings, seed: int, region: str, capacity: int) -> _World:
    return _World(cfg, seed, region, capacity)


def moderation(cfg: SyntheticSettings, seed: int, region: str, ds: str, capacity: int) -> DayModeration:
    """The region's moderation on ds (statuses at its end, its reports and decisions)."""
    return _world(cfg, seed, region, int(capacity)).day_of(day_index(ds))
