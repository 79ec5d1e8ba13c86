"""The synthetic platform's actors: users with topic tastes, creator accounts, and each day's uploads.

Deterministic in (seed, region, day). Creator accounts churn: each creator slot is taken over by
a new account every `lifetime` days, so there are always young accounts. Every video gets a hidden
policy class at upload: its violation propensity comes from the account (a small share of repeat
offenders), the topic and the account's age.
"""

from __future__ import annotations

import datetime as dt
import functools
import zlib
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from nightfeed.configuration.settings import SyntheticSettings
from nightfeed.ingest.moderation import VIOLATIONS

EPOCH = dt.date(2020, 1, 1)
GLOBAL_ITEMS_PER_DAY = 3
NEW_ACCOUNT_DAYS = 30
OFFENDER_FACTOR = 12.0
NEW_ACCOUNT_FACTOR = 3.0


def day_index(ds: str) -> int:
    return (dt.date.fromisoformat(ds) - EPOCH).days


def day_start(day: int) -> int:
    """Epoch seconds of the start (UTC) of world day `day`."""
    return (EPOCH + dt.timedelta(days=day) - dt.date(1970, 1, 1)).days * 86400


def keyed_rng(*keys) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(str(k).encode()) for k in keys])


def iso_time(ts: int, offset: str) -> str:
    if offset == "Z":
        return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sign = 1 if offset[0] == "+" else -1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    return dt.datetime.fromtimestamp(ts, tz).isoformat()


@dataclass(frozen=True)
class Users:
    ids: np.ndarray  # str
    taste: np.ndarray  # (n, topics) rows sum to 1
    activity: np.ndarray  # per-user activity multiplier
    preferred_ms: np.ndarray  # the video length each viewer prefers
    fan_norm: np.ndarray  # per viewer: sum over creators of taste x popularity (see `fan_probability`)


@functools.lru_cache(maxsize=16)
def users(cfg: SyntheticSettings, seed: int, region: str) -> Users:
    n, topics = cfg.n_users, cfg.n_topics
    rng = keyed_rng(seed, region, "users")
    taste = rng.dirichlet(np.full(topics, 0.25), size=n)
    activity = np.clip(rng.lognormal(0.0, 0.6, size=n), 0.1, 4.0)
    ids = np.array([f"u-{region}-{k:06d}" for k in range(n)])
    preferred = keyed_rng(seed, region, "users", "duration").lognormal(
        np.log(cfg.preferred_duration_s * 1000.0), 0.5, size=n
    )
    c_topic, c_pop = _creators(cfg, seed, region)[:2]
    topic_pop = np.bincount(c_topic, weights=c_pop, minlength=topics)
    return Users(ids, taste, activity, preferred, taste @ topic_pop)


@functools.lru_cache(maxsize=64)
def _creators(cfg: SyntheticSettings, seed: int, region: str):
    """Creator slots: topic, popularity share, account lifetime and phase, and the propensity norm
    that makes the expected violating share equal `violating_share`."""
    n, topics = cfg.n_creators, cfg.n_topics
    rng = keyed_rng(seed, region, "creators")
    topic = rng.integers(0, topics, size=n)
    pop = rng.pareto(1.2, size=n) + 0.05
    pop = pop / pop.sum()
    lifetime = rng.integers(60, 720, size=n)
    phase = rng.integers(0, lifetime)
    topic_risk = keyed_rng(seed, region, "topic_risk").lognormal(0.0, 0.8, size=topics)
    topic_risk = topic_risk / topic_risk.mean()
    young = np.minimum(1.0, NEW_ACCOUNT_DAYS / lifetime)
    offender = 1.0 + (OFFENDER_FACTOR - 1.0) * cfg.repeat_offender_share
    norm = float(np.sum(pop * offender * (1.0 + (NEW_ACCOUNT_FACTOR - 1.0) * young)))
    return topic, pop, lifetime, phase, topic_risk, norm


def hash_uniform(key: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) for each pair (a, b) of non-negative integers
    (broadcast): a property of the pair that any day can recompute without state."""
    a, b = np.asarray(a).astype(np.uint64), np.asarray(b).astype(np.uint64)
    with np.errstate(over="ignore"):
        x = (np.uint64(key) ^ (a << np.uint64(32)) ^ b) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(31))) * np.uint64(0xBF58476D1CE4E5B9)
    return ((x ^ (x >> np.uint64(29))) % np.uint64(1_000_000)).astype(np.float64) / 1_000_000


def _offender(key: int, slot: np.ndarray, generation: np.ndarray, share: float) -> np.ndarray:
    """Whether each account (slot, generation) is a repeat offender: a fixed hash of the account."""
    return hash_uniform(key, slot, generation) < share


@functools.lru_cache(maxsize=128)
def items_of_day(cfg: SyntheticSettings, seed: int, region: str, day: int) -> dict:
    """Videos uploaded on `day`: regional ones plus the few global ones every region lists."""
    topics = cfg.n_topics
    c_topic, c_pop, lifetime, phase, topic_risk, norm = _creators(cfg, seed, region)
    rng = keyed_rng(seed, region, "items", day)
    n = cfg.items_per_day
    slot = rng.choice(len(c_topic), size=n, p=c_pop)
    topic = np.where(rng.random(n) < 0.8, c_topic[slot], rng.integers(0, topics, size=n))
    generation = (day + phase[slot]) // lifetime[slot]
    account_age = (day + phase[slot]) % lifetime[slot]
    key = zlib.crc32(f"{seed}/{region}/offender".encode())
    offender = _offender(key, slot, generation, cfg.repeat_offender_share)
    mult = np.where(offender, OFFENDER_FACTOR, 1.0) * topic_risk[topic]
    mult = mult * np.where(account_age < NEW_ACCOUNT_DAYS, NEW_ACCOUNT_FACTOR, 1.0)
    grng = keyed_rng(seed, "global", "items", day)
    g_topic = grng.integers(0, topics, size=GLOBAL_ITEMS_PER_DAY)
    m = n + GLOBAL_ITEMS_PER_DAY
    pop = np.concatenate([c_pop[slot] * len(c_pop), np.full(GLOBAL_ITEMS_PER_DAY, 3.0)]) * rng.lognormal(
        0, 0.7, m
    )
    duration = np.clip(rng.lognormal(np.log(30_000), 0.6, m), 5_000, 180_000).astype(np.int64)
    created = day_start(day) + rng.integers(0, 86400, size=m)
    p_violate = np.clip(cfg.violating_share * mult / norm, 0.0, 0.95)
    violating = np.concatenate(
        [rng.random(n) < p_violate, grng.random(GLOBAL_ITEMS_PER_DAY) < cfg.violating_share]
    )
    policy = np.where(violating, np.array(VIOLATIONS)[rng.integers(0, len(VIOLATIONS), size=m)], "none")
    slow_auto = rng.random(m) < 0.3  # the automatic check needs hours for these (pending until then)
    auto_delay = np.where(slow_auto, rng.integers(3600, 72000, size=m), rng.integers(60, 300, size=m))
    report_propensity = rng.lognormal(0.0, 1.0, size=m) / np.exp(0.5)
    account = np.concatenate(
        [slot * 65536 + generation % 65536, len(c_topic) * 65536 + np.arange(GLOBAL_ITEMS_PER_DAY)]
    )
    return dict(
        n=m,
        slot=slot,
        generation=generation,
        topic=np.concatenate([topic, g_topic]),
        duration_ms=duration,
        created_ts=created,
        popularity=pop,
        policy=policy,
        auto_ts=created + auto_delay,
        report_propensity=report_propensity,
        day=day,
        account=account,
        creator_topic=np.concatenate([c_topic[slot], g_topic]),
        creator_share=np.concatenate([c_pop[slot], np.full(GLOBAL_ITEMS_PER_DAY, 1.0 / len(c_topic))]),
        quality=_quality(cfg, seed, region, day, account),
    )


def video_ids(region: str, day: int, n: int) -> np.ndarray:
    """The ids of the `n` videos uploaded on `day` (`items_of_day` order: regional, then global)."""
    return np.array(
        [f"v-{region}-{day}-{j:04d}" for j in range(n - GLOBAL_ITEMS_PER_DAY)]
        + [f"v-global-{day}-{j:02d}" for j in range(GLOBAL_ITEMS_PER_DAY)]
    )


def creator_ids(region: str, items: dict) -> np.ndarray:
    """The creator account id of each of a day's videos (`items_of_day`)."""
    return np.array(
        [f"c-{region}-{s:05d}-{g}" for s, g in zip(items["slot"].tolist(), items["generation"].tolist())]
        + [f"c-global-{j:02d}" for j in range(GLOBAL_ITEMS_PER_DAY)]
    )


def _quality(cfg: SyntheticSettings, seed: int, region: str, day: int, account: np.ndarray) -> np.ndarray:
    """Each video's hidden quality (mean 0, sd 1): its creator account's skill plus its own noise."""
    skill = ndtri(
        np.clip(hash_uniform(zlib.crc32(f"{seed}/{region}/skill".encode()), account, 0), 1e-6, None)
    )
    own = keyed_rng(seed, region, "quality", day).normal(size=len(account))
    share = cfg.quality_creator_share
    return np.sqrt(share) * skill + np.sqrt(1.0 - share) * own
