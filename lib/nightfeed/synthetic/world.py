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

import functools
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.special import expit

from nightfeed.configuration.settings import REVIEW_CAPACITY, SyntheticSettings
from nightfeed.synthetic import response
from nightfeed.synthetic.items import (
    creator_ids,
    day_index,
    day_start,
    items_of_day,
    keyed_rng,
    users,
    video_ids,
)
from nightfeed.synthetic.logging_policy import Policy, shown
from nightfeed.synthetic.review import moderation
from nightfeed.synthetic.text import EVENT_KINDS, TZ_OFFSETS, DayText

MALFORMED_KINDS = ("bad_json", "missing_id", "negative_watch", "unknown_type", "duplicate", "wrong_region")
VIEWERS_PER_BLOCK = 4000


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


@functools.lru_cache(maxsize=4)
def catalog(
    cfg: SyntheticSettings, seed: int, region: str, ds: str, capacity: int = REVIEW_CAPACITY
) -> Catalog:
    """Every video uploaded in the `catalog_days` up to ds, with its moderation status at ds."""
    day = day_index(ds)
    days = range(day - cfg.catalog_days + 1, day + 1)
    parts = [items_of_day(cfg, seed, region, d) for d in days]
    mod = moderation(cfg, seed, region, ds, capacity)
    cat = {
        k: np.concatenate([p[k] for p in parts])
        for k in ("topic", "duration_ms", "created_ts", "popularity", "policy")
        + ("quality", "account", "creator_topic", "creator_share")
    }
    return Catalog(
        ids=np.concatenate([video_ids(region, d, p["n"]) for d, p in zip(days, parts, strict=True)]),
        creator=np.concatenate([creator_ids(region, p) for p in parts]),
        status=mod.status,
        reports=mod.reports,
        **cat,
    )


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


@dataclass(frozen=True)
class EventBlock:
    """Events of one block of viewers (or the day's reports) as columns."""

    kind: np.ndarray  # index into EVENT_KINDS
    ts: np.ndarray  # epoch seconds
    offset: np.ndarray  # index into text.TZ_OFFSETS: the time zone the producer wrote
    watch_ms: np.ndarray  # -1 where the event has no watch time
    user: np.ndarray  # row of `users`
    item: np.ndarray  # row of the catalog


def event_tables(
    cfg: SyntheticSettings, seed: int, region: str, ds: str, capacity: int = REVIEW_CAPACITY
) -> Iterator[pa.Table]:
    """One day of viewing events and reports of a region as the producer would send them (valid
    only), block by block of viewers: memory bounded by a block whatever the day's size."""
    cat = catalog(cfg, seed, region, ds, capacity)
    text = DayText(region, ds, day_start(day_index(ds)), users(cfg, seed, region).ids, cat.ids)
    for block in event_blocks(cfg, seed, region, ds, capacity):
        yield text.table(block)


def events(
    cfg: SyntheticSettings, seed: int, region: str, ds: str, capacity: int = REVIEW_CAPACITY
) -> pd.DataFrame:
    """The whole day of `event_tables` as one frame (watch_ms nullable)."""
    table = pa.concat_tables(event_tables(cfg, seed, region, ds, capacity))
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def event_blocks(
    cfg: SyntheticSettings, seed: int, region: str, ds: str, capacity: int = REVIEW_CAPACITY
) -> Iterator[EventBlock]:
    """The day's events by blocks of active viewers, then its reports.

    The platform's logging policy (`logging_policy`) picks each active viewer's impressions by
    popularity, topic affinity and the creators they are fans of; the impressions are cut into
    sessions, and the viewer answers each one by `response.answer` (fatigue counts the session's
    earlier videos)."""
    day = day_index(ds)
    us = users(cfg, seed, region)
    cat = catalog(cfg, seed, region, ds, capacity)
    rng = keyed_rng(seed, region, "events", day)
    start = day_start(day)
    live = np.isin(cat.status, ["approved", "pending"])
    age_days = np.maximum(0.0, (start + 86400 - cat.created_ts) / 86400.0)
    fan_key = fan_hash_key(seed, region)
    active = np.flatnonzero(rng.random(len(us.ids)) < np.clip(cfg.active_share * us.activity, 0, 0.98))
    per_session = cfg.impressions_per_session
    for block in np.array_split(active, max(1, len(active) // VIEWERS_PER_BLOCK + 1)):
        if len(block) == 0:
            continue
        taste = us.taste[block]
        policy = Policy(
            weight=np.where(live, cat.popularity * np.exp(-0.25 * age_days), 0.0),
            topic=cat.topic,
            fan=lambda r, i, taste=taste, block=block: response.fan_of(
                cfg,
                fan_key,
                block[r],
                taste[r, cat.creator_topic[i]],
                us.fan_norm[block[r]],
                cat.account[i],
                cat.creator_share[i],
            ),
            fan_strength=cfg.fan_strength,
        )
        n_imp = np.minimum(
            rng.poisson(cfg.sessions_per_active_user * per_session, size=len(block)) + 1, live.sum()
        )
        imp = shown(rng, policy, np.exp(1.5 * response.affinity(taste, cfg.n_topics)), n_imp)
        row, item = imp.row, imp.item
        session = imp.pos // per_session
        session_start = start + rng.integers(
            0, 86400 - 3600, size=(len(block), int(session.max(initial=0)) + 1)
        )
        ts = np.maximum(session_start[row, session] + (imp.pos % per_session) * 40, cat.created_ts[item] + 60)
        ans = response.answer(
            cfg,
            response.affinity(taste[row, cat.topic[item]], cfg.n_topics),
            cat.quality[item],
            imp.fan,
            cat.policy[item] != "none",
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
        imp_at, kind = np.nonzero(kinds)
        step = (np.cumsum(kinds, axis=1) - 1)[imp_at, kind]
        has_watch = (kind == 1) | (kind == 2) | (kind == 7)
        yield EventBlock(
            kind=kind,
            ts=ts[imp_at] - late[imp_at] + 2 * step,
            offset=offset[imp_at],
            watch_ms=np.where(has_watch, watch[imp_at], -1),
            user=block[row][imp_at],
            item=item[imp_at],
        )
    yield _reports(cat, len(us.ids), start, rng)


def fan_hash_key(seed: int, region: str) -> int:
    """The key of the fixed viewer × creator fan relation of a region."""
    return zlib.crc32(f"{seed}/{region}/fans".encode())


def _reports(cat: Catalog, n_users: int, start: int, rng: np.random.Generator) -> EventBlock:
    """The day's report events: each report from a different viewer, after the upload."""
    reported = np.flatnonzero(cat.reports)
    counts = cat.reports[reported].astype(np.int64)
    reporters = [rng.choice(n_users, size=int(c), replace=False) for c in counts]
    item = np.repeat(reported, counts)
    first = np.minimum(np.maximum(start, cat.created_ts[item] + 60), start + 86399)
    return EventBlock(
        kind=np.full(len(item), EVENT_KINDS.index("report")),
        ts=rng.integers(first, start + 86400) if len(item) else np.zeros(0, np.int64),
        offset=np.full(len(item), TZ_OFFSETS.index("Z")),
        watch_ms=np.full(len(item), -1),
        user=np.concatenate(reporters) if reporters else np.zeros(0, np.int64),
        item=item,
    )
