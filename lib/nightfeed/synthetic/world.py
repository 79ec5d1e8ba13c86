"""Synthetic short-video platform: the embedded default data set.

Deterministic in (seed, region, day): users with latent topic tastes and a preferred video
length, creators with a topic, a skill and a long-tailed popularity, a stream of new videos
every day, regional catalogs plus a few global videos, viewers' answers drawn from the response
model (`response`: taste, quality, length, fans, session fatigue, violations), violating videos
reported (noisily), the platform's own review removing some of them, and a configurable share
of malformed lines. Any day can be generated on its own and gives the same world. The actors
live in `items`, moderation in `review`; docs/synthetic-world.md describes every effect.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from nightfeed.configuration.settings import REVIEW_CAPACITY, SyntheticSettings
from nightfeed.synthetic import response
from nightfeed.synthetic.items import day_index, day_start, iso_time, items_of_day, keyed_rng, users
from nightfeed.synthetic.review import moderation

MALFORMED_KINDS = ("bad_json", "missing_id", "negative_watch", "unknown_type", "duplicate", "wrong_region")
TZ_OFFSETS = ("+00:00", "Z", "+02:00", "-03:00", "+05:30")


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
    quality: np.ndarray  # hidden truth: the video's quality (mean 0, sd 1)
    account: np.ndarray  # the creator account as an integer
    creator_topic: np.ndarray  # the creator's own topic
    creator_share: np.ndarray  # the creator's share of the region's popularity


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
        + ("quality", "account", "creator_topic", "creator_share")
    }
    return Catalog(status=mod.status, reports=mod.reports, **cat)


def _occurrence(*keys: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions (in array order) have the same keys."""
    n = len(keys[0])
    order = np.lexsort((np.arange(n),) + tuple(reversed(keys)))
    srt = np.stack([k[order] for k in keys])
    start = np.ones(n, dtype=bool)
    start[1:] = (srt[:, 1:] != srt[:, :-1]).any(axis=0)
    idx = np.arange(n)
    out = np.empty(n, np.int64)
    out[order] = idx - np.maximum.accumulate(np.where(start, idx, 0))
    return out


EVENT_KINDS = ("impression", "play", "finish", "like", "share", "comment", "follow", "skip")


def events(
    cfg: SyntheticSettings, seed: int, region: str, ds: str, capacity: int = REVIEW_CAPACITY
) -> list[dict]:
    """One day of viewing events and reports of a region, as the producer would send them (valid only).

    The platform's logging policy picks each active viewer's impressions by popularity, topic
    affinity and the creators they are fans of; the impressions are cut into sessions, and the
    viewer answers each one by `response.answer` (fatigue counts the session's earlier videos)."""
    day = day_index(ds)
    us = users(cfg, seed, region)
    cat = catalog(cfg, seed, region, ds, capacity)
    rng = keyed_rng(seed, region, "events", day)
    start = day_start(day)
    live = np.isin(cat.status, ["approved", "pending"])
    age_days = np.maximum(0.0, (start + 86400 - cat.created_ts) / 86400.0)
    log_pop = np.log(cat.popularity) - 0.25 * age_days
    fan_key = fan_hash_key(seed, region)
    active = rng.random(len(us.ids)) < np.clip(cfg.active_share * us.activity, 0, 0.98)
    per_session = cfg.impressions_per_session
    out: list[dict] = []
    for block in np.array_split(np.flatnonzero(active), max(1, int(active.sum()) // 1000 + 1)):
        if len(block) == 0:
            continue
        taste = us.taste[block]
        fan = response.fan_of(
            cfg,
            fan_key,
            block[:, None],
            taste[:, cat.creator_topic],
            us.fan_norm[block, None],
            cat.account,
            cat.creator_share,
        )
        logits = np.where(live, log_pop + 1.5 * response.affinity(taste[:, cat.topic], cfg.n_topics), -np.inf)
        logits = logits + cfg.fan_strength * fan
        n_imp = np.minimum(
            rng.poisson(cfg.sessions_per_active_user * per_session, size=len(block)) + 1, live.sum()
        )
        top = np.argsort(-(logits + rng.gumbel(size=logits.shape)), axis=1)[:, : int(n_imp.max())]
        row = np.repeat(np.arange(len(block)), n_imp)
        pos = np.arange(len(row)) - np.repeat(np.cumsum(n_imp) - n_imp, n_imp)
        item = top[row, pos]
        session = pos // per_session
        session_start = start + rng.integers(0, 86400 - 3600, size=(len(block), int(session.max()) + 1))
        ts = np.maximum(session_start[row, session] + (pos % per_session) * 40, cat.created_ts[item] + 60)
        violating = cat.policy[item] != "none"
        ans = response.answer(
            cfg,
            response.affinity(taste[row, cat.topic[item]], cfg.n_topics),
            cat.quality[item],
            fan[row, item],
            violating,
            cat.duration_ms[item],
            us.preferred_ms[block][row],
            _occurrence(row, session, cat.topic[item]),
            _occurrence(row, session, cat.account[item]),
        )
        n = len(row)
        played = rng.random(n) < ans.p_play
        completion = ans.scale * rng.beta(ans.alpha, response.COMPLETION_BETA)
        counted = played & (completion >= response.PLAYED_SHARE)
        kinds = np.column_stack(
            [
                np.ones(n, bool),
                counted,
                counted & (completion >= response.FINISHED_SHARE),
                counted & (rng.random(n) < ans.like_probability(completion)),
                counted & (rng.random(n) < expit(ans.share_logit)),
                counted & (rng.random(n) < expit(ans.comment_logit)),
                counted & (rng.random(n) < ans.p_follow),
                ~counted,
            ]
        )
        watch = np.where(played, (completion * cat.duration_ms[item]).astype(np.int64), 0)
        offset = rng.integers(0, len(TZ_OFFSETS), size=n)
        late = np.where(rng.random(n) < 0.01, rng.integers(60, 3 * 3600, size=n), 0)
        kinds &= (ts < start + 86400)[:, None]
        imp, kind = np.nonzero(kinds)
        step = (np.cumsum(kinds, axis=1) - 1)[imp, kind]
        when = ts[imp] - late[imp] + 2 * step
        has_watch = (kind == 1) | (kind == 2) | (kind == 7)
        user_ids, item_ids = us.ids[block][row], cat.ids[item]
        first = len(out)
        out.extend(
            dict(
                event_id=f"{region}-{ds}-{first + e + 1:09d}",
                event_type=EVENT_KINDS[k],
                event_ts=iso_time(int(t), TZ_OFFSETS[offset[i]]),
                watch_ms=int(watch[i]) if w else None,
                user_id=str(user_ids[i]),
                item_id=str(item_ids[i]),
                region=region,
            )
            for e, (i, k, t, w) in enumerate(
                zip(imp.tolist(), kind.tolist(), when.tolist(), has_watch.tolist())
            )
        )
    return out + _reports(cat, us, region, ds, start, rng, len(out))


def fan_hash_key(seed: int, region: str) -> int:
    """The key of the fixed viewer × creator fan relation of a region."""
    return zlib.crc32(f"{seed}/{region}/fans".encode())


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
