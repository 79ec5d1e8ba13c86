"""Synthetic short-video platform: the embedded default data set.

Deterministic in (seed, region, day): users with latent topic tastes, creators with a topic and
a long-tailed popularity, a stream of new videos every day, regional catalogs plus a few global
videos, watch time driven by affinity and duration, likes/shares more likely when affinity is
high, violating videos skipped more and reported (noisily), the platform's own review removing
some of them, and a configurable share of malformed lines. Any day can be generated on its own
and gives the same world. The actors live in `synthetic_items`, moderation in `synthetic_review`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nightfeed.configuration.settings import REVIEW_CAPACITY, SyntheticSettings
from nightfeed.synthetic.items import day_index, day_start, iso_time, items_of_day, keyed_rng, users
from nightfeed.synthetic.review import moderation

MALFORMED_KINDS = ("bad_json", "missing_id", "negative_watch", "unknown_type", "duplicate", "wrong_region")
TZ_OFFSETS = ("+00:00", "Z", "+02:00", "-03:00", "+05:30")
# How violating videos are watched: skipped more, abandoned earlier, shared and argued about more.
VIOLATING_PLAY_PENALTY = 1.5  # logit
VIOLATING_COMPLETION = 0.85  # factor on the watched share
VIOLATING_SHARE_BOOST = 1.0  # logit
VIOLATING_COMMENT_BOOST = 1.5  # logit


@dataclass(frozen=True)
class Catalog:
    ids: np.ndarray
    creator: np.ndarray
    topic: np.ndarray
    duration_ms: np.ndarray
    created_ts: np.ndarray  # epoch seconds
    popularity: np.ndarray  # base popularity
    status: np.ndarray  # moderation status at the end of the catalog day
    policy: np.ndarray  # hidden truth: "none" or the policy the video violates
    reports: np.ndarray  # reports the video receives on the catalog day


def catalog(
    cfg: SyntheticSettings, seed: int, region: str, ds: str, capacity: int = REVIEW_CAPACITY
) -> Catalog:
    """Every video uploaded in the `catalog_days` up to ds, with its moderation status at ds."""
    day = day_index(ds)
    parts = [items_of_day(cfg, seed, region, d) for d in range(day - cfg.catalog_days + 1, day + 1)]
    mod = moderation(cfg, seed, region, ds, capacity)
    cat = {
        k: np.concatenate([p[k] for p in parts])
        for k in ("ids", "creator", "topic", "duration_ms", "created_ts", "popularity", "policy")
    }
    return Catalog(status=mod.status, reports=mod.reports, **cat)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def events(
    cfg: SyntheticSettings, seed: int, region: str, ds: str, capacity: int = REVIEW_CAPACITY
) -> list[dict]:
    """One day of viewing events and reports of a region, as the producer would send them (valid only)."""
    day = day_index(ds)
    us = users(cfg, seed, region)
    cat = catalog(cfg, seed, region, ds, capacity)
    rng = keyed_rng(seed, region, "events", day)
    start = day_start(day)
    live = np.isin(cat.status, ["approved", "pending"])
    age_days = np.maximum(0.0, (start + 86400 - cat.created_ts) / 86400.0)
    log_pop = np.log(cat.popularity) - 0.25 * age_days
    topics = cfg.n_topics
    item_topic = np.eye(topics)[cat.topic]
    active = rng.random(len(us.ids)) < np.clip(cfg.active_share * us.activity, 0, 0.98)
    out: list[dict] = []
    n_counter = 0
    per_session = cfg.impressions_per_session
    for block in np.array_split(np.flatnonzero(active), max(1, int(active.sum()) // 1000 + 1)):
        if len(block) == 0:
            continue
        aff = us.taste[block] @ item_topic.T * topics  # ~1 on average, high for loved topics
        logits = np.where(live, log_pop + 1.5 * np.log1p(aff), -np.inf)
        gumbel = rng.gumbel(size=logits.shape)
        n_imp = np.minimum(
            rng.poisson(cfg.sessions_per_active_user * per_session, size=len(block)) + 1, live.sum()
        )
        top = np.argsort(-(logits + gumbel), axis=1)[:, : int(n_imp.max())]
        for row, u in enumerate(block):
            items = top[row, : n_imp[row]]
            a = np.log1p(aff[row, items])  # 0 (disliked topic) .. ~2.5 (the user's one topic)
            created = cat.created_ts[items]
            t0 = start + rng.integers(0, 86400 - 3600, size=len(items))
            ts = np.maximum(t0 + np.arange(len(items)) * 40, created + 60)
            ok = ts < start + 86400
            violating = cat.policy[items] != "none"
            played = rng.random(len(items)) < _sigmoid(-0.5 + 1.2 * a - VIOLATING_PLAY_PENALTY * violating)
            completion = 1.15 * rng.beta(0.5 + 1.5 * a, 1.5) * np.where(violating, VIOLATING_COMPLETION, 1.0)
            watch = (completion * cat.duration_ms[items]).astype(np.int64)
            for i, item in enumerate(items):
                if not ok[i]:
                    continue
                base = dict(user_id=str(us.ids[u]), item_id=str(cat.ids[item]), region=region)
                offset = TZ_OFFSETS[int(rng.integers(0, len(TZ_OFFSETS)))]
                t = int(ts[i])
                if rng.random() < 0.01:
                    t -= int(rng.integers(60, 3 * 3600))  # late arrival from the previous day
                evs = [("impression", None)]
                if played[i] and completion[i] >= 0.15:
                    evs.append(("play", int(watch[i])))
                    if completion[i] >= 0.95:
                        evs.append(("finish", int(watch[i])))
                    if rng.random() < _sigmoid(-5.0 + 1.2 * a[i] + 1.5 * completion[i]):
                        evs.append(("like", None))
                    if rng.random() < _sigmoid(-6.5 + 1.2 * a[i] + VIOLATING_SHARE_BOOST * violating[i]):
                        evs.append(("share", None))
                    if rng.random() < _sigmoid(-6.5 + 1.2 * a[i] + VIOLATING_COMMENT_BOOST * violating[i]):
                        evs.append(("comment", None))
                    if rng.random() < 0.004 * a[i]:
                        evs.append(("follow", None))
                else:
                    evs.append(("skip", int(watch[i]) if played[i] else 0))
                for k, (etype, w) in enumerate(evs):
                    n_counter += 1
                    out.append(
                        dict(
                            event_id=f"{region}-{ds}-{n_counter:09d}",
                            event_type=etype,
                            event_ts=iso_time(t + k * 2, offset),
                            watch_ms=w,
                            **base,
                        )
                    )
    return out + _reports(cat, us, region, ds, start, rng, n_counter)


def _reports(
    cat: Catalog, us, region: str, ds: str, start: int, rng: np.random.Generator, counter: int
) -> list[dict]:
    """The day's report events: each report from a different viewer, after the upload."""
    out = []
    for k in np.flatnonzero(cat.reports):
        reporters = rng.choice(len(us.ids), size=int(cat.reports[k]), replace=False)
        first = min(max(start, int(cat.created_ts[k]) + 60), start + 86399)
        for u in reporters:
            counter += 1
            out.append(
                dict(
                    event_id=f"{region}-{ds}-{counter:09d}",
                    event_type="report",
                    event_ts=iso_time(int(rng.integers(first, start + 86400)), "Z"),
                    watch_ms=None,
                    user_id=str(us.ids[u]),
                    item_id=str(cat.ids[k]),
                    region=region,
                )
            )
    return out
