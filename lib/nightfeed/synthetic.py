"""Synthetic short-video platform: the embedded default data set.

Deterministic in (seed, region, day): users with latent topic tastes, creators with a topic and
a long-tailed popularity, a stream of new videos every day, regional catalogs plus a few global
videos, watch time driven by affinity and duration, likes/shares more likely when affinity is
high, moderation that removes some videos after they were watched, and a configurable share of
malformed lines. Any day can be generated on its own and gives the same world.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np

from .settings import SyntheticSettings

EPOCH = dt.date(2020, 1, 1)
GLOBAL_ITEMS_PER_DAY = 3
MALFORMED_KINDS = ("bad_json", "missing_id", "negative_watch", "unknown_type", "duplicate", "wrong_region")
TZ_OFFSETS = ("+00:00", "Z", "+02:00", "-03:00", "+05:30")


def _day_index(ds: str) -> int:
    return (dt.date.fromisoformat(ds) - EPOCH).days


def keyed_rng(*keys) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(str(k).encode()) for k in keys])


@dataclass(frozen=True)
class Users:
    ids: np.ndarray  # str
    taste: np.ndarray  # (n, topics) rows sum to 1
    activity: np.ndarray  # per-user activity multiplier


@dataclass(frozen=True)
class Catalog:
    ids: np.ndarray
    creator: np.ndarray
    topic: np.ndarray
    duration_ms: np.ndarray
    created_ts: np.ndarray  # epoch seconds
    popularity: np.ndarray  # base popularity
    status: np.ndarray  # moderation status as of the catalog day


def users(cfg: SyntheticSettings, seed: int, region: str) -> Users:
    n, topics = cfg.n_users, cfg.n_topics
    rng = keyed_rng(seed, region, "users")
    taste = rng.dirichlet(np.full(topics, 0.25), size=n)
    activity = np.clip(rng.lognormal(0.0, 0.6, size=n), 0.1, 4.0)
    ids = np.array([f"u-{region}-{k:06d}" for k in range(n)])
    return Users(ids, taste, activity)


def _creators(cfg: SyntheticSettings, seed: int, region: str):
    n, topics = cfg.n_creators, cfg.n_topics
    rng = keyed_rng(seed, region, "creators")
    topic = rng.integers(0, topics, size=n)
    pop = rng.pareto(1.2, size=n) + 0.05
    return topic, pop / pop.sum()


def _items_of_day(cfg: SyntheticSettings, seed: int, region: str, day: int) -> dict:
    """Videos uploaded on `day`: regional ones plus the few global ones every region lists."""
    topics = cfg.n_topics
    c_topic, c_pop = _creators(cfg, seed, region)
    rng = keyed_rng(seed, region, "items", day)
    n = cfg.items_per_day
    creator = rng.choice(len(c_topic), size=n, p=c_pop)
    topic = np.where(rng.random(n) < 0.8, c_topic[creator], rng.integers(0, topics, size=n))
    grng = keyed_rng(seed, "global", "items", day)
    g_topic = grng.integers(0, topics, size=GLOBAL_ITEMS_PER_DAY)
    ids = [f"v-{region}-{day}-{j:04d}" for j in range(n)] + [
        f"v-global-{day}-{j:02d}" for j in range(GLOBAL_ITEMS_PER_DAY)
    ]
    creators = [f"c-{region}-{c:05d}" for c in creator] + [
        f"c-global-{j:02d}" for j in range(GLOBAL_ITEMS_PER_DAY)
    ]
    all_topic = np.concatenate([topic, g_topic])
    m = len(ids)
    pop = np.concatenate([c_pop[creator] * len(c_pop), np.full(GLOBAL_ITEMS_PER_DAY, 3.0)]) * rng.lognormal(
        0, 0.7, m
    )
    duration = np.clip(rng.lognormal(np.log(30_000), 0.6, m), 5_000, 180_000).astype(np.int64)
    day_start = (EPOCH + dt.timedelta(days=day) - dt.date(1970, 1, 1)).days * 86400
    created = day_start + rng.integers(0, 86400, size=m)
    final = rng.choice(np.array(["approved", "restricted", "removed"]), size=m, p=[0.93, 0.03, 0.04])
    pending = rng.random(m) < 0.3
    return dict(
        ids=np.array(ids),
        creator=np.array(creators),
        topic=all_topic,
        duration_ms=duration,
        created_ts=created,
        popularity=pop,
        final=final,
        pending=pending,
        day=day,
    )


def catalog(cfg: SyntheticSettings, seed: int, region: str, ds: str) -> Catalog:
    """Every video uploaded in the `catalog_days` up to ds, with its moderation status at ds.

    New uploads may sit in `pending` on their first day; videos that end up removed or restricted
    were live (approved) for two days first, so they have viewing history.
    """
    day = _day_index(ds)
    parts = [_items_of_day(cfg, seed, region, d) for d in range(day - cfg.catalog_days + 1, day + 1)]
    status = []
    for p in parts:
        age = day - p["day"]
        st = np.where(age >= 2, p["final"], "approved")
        st = np.where((age == 0) & p["pending"], "pending", st)
        status.append(st)
    cat = {
        k: np.concatenate([p[k] for p in parts])
        for k in ("ids", "creator", "topic", "duration_ms", "created_ts", "popularity")
    }
    return Catalog(status=np.concatenate(status), **cat)


def iso_time(ts: int, offset: str) -> str:
    if offset == "Z":
        return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sign = 1 if offset[0] == "+" else -1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    return dt.datetime.fromtimestamp(ts, tz).isoformat()


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def events(cfg: SyntheticSettings, seed: int, region: str, ds: str) -> list[dict]:
    """One day of viewing events of a region, as the producer would send them (valid only)."""
    day = _day_index(ds)
    us = users(cfg, seed, region)
    cat = catalog(cfg, seed, region, ds)
    rng = keyed_rng(seed, region, "events", day)
    day_start = (dt.date.fromisoformat(ds) - dt.date(1970, 1, 1)).days * 86400
    live = np.isin(cat.status, ["approved", "pending"])
    age_days = np.maximum(0.0, (day_start + 86400 - cat.created_ts) / 86400.0)
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
            t0 = day_start + rng.integers(0, 86400 - 3600, size=len(items))
            ts = np.maximum(t0 + np.arange(len(items)) * 40, created + 60)
            ok = ts < day_start + 86400
            played = rng.random(len(items)) < _sigmoid(-0.5 + 1.2 * a)
            completion = 1.15 * rng.beta(0.5 + 1.5 * a, 1.5)
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
                    if rng.random() < _sigmoid(-6.5 + 1.2 * a[i]):
                        evs.append(("share", None))
                    if rng.random() < _sigmoid(-6.5 + 1.2 * a[i]):
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
    return out
