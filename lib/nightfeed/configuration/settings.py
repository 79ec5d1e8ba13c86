"""A region's configuration parsed once into typed, frozen dataclasses.

Every key is declared once here (`key`: default, help, range or vocabulary); the configuration
file, read and merged by `config`, overrides defaults, and every value is checked and converted
once, so stages and transforms take the typed pieces they need (`cfg.feed.n`, not
`int(cfg["feed"]["n"])`). An unknown key or a bad value is a clear error naming it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from nightfeed.configuration.rules import check_section, check_value
from nightfeed.core.errors import NightfeedError
from nightfeed.core.vocabulary import (
    AUDIT_MODELS,
    EVENT_TYPES,
    MODERATION_STATUSES,
    OBJECTIVES,
    RANKER_TYPES,
    RETRIEVERS,
)

POSITIVE, NON_NEGATIVE, SHARE = (1, None), (0, None), (0, 1)


def key(default, help: str, range: tuple | None = None, choices: tuple[str, ...] | None = None):
    """One configuration key, declared once: its default, a one-line help, its allowed range
    (inclusive; None for an open end) or closed vocabulary. The validation, the packaged TOML's
    [defaults] and docs/configuration.md all come from these declarations (`config_docs`)."""
    meta = {"help": help, "range": range, "choices": choices}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class IngestSettings:
    late_arrival_tolerance_hours: float = key(
        6.0, "events up to this long before/after the ds day are accepted", NON_NEGATIVE
    )
    dedupe_lookback_days: int = key(
        3, "an event_id already ingested this many days back is a duplicate", NON_NEGATIVE
    )
    max_quarantine_share: float = key(
        0.05, "ingest fails if more than this share of lines is quarantined", SHARE
    )
    max_watch_ms: int = key(21_600_000, "a longer watch time (6 h) is implausible: quarantined", POSITIVE)
    max_duration_ms: int = key(
        43_200_000, "a longer video (12 h) in the catalog is implausible: quarantined", POSITIVE
    )


@dataclass(frozen=True)
class FeatureSettings:
    lookback_days: int = key(30, "interactions window ending at ds", POSITIVE)
    half_life_days: float = key(7.0, "time decay of an event's weight", (1e-9, None))
    finish_ratio: float = key(0.9, "watch_ms / duration_ms at or above this counts as finished", SHARE)
    trending_days: int = key(3, "window of the trending score", POSITIVE)
    event_weights: dict[str, float] = key(
        {"impression": 0.0, "play": 1.0, "finish": 2.0, "like": 4.0, "share": 5.0, "comment": 3.0}
        | {"follow": 4.0, "skip": 0.0},
        "weight of each event type in a (user, item) interaction",
        choices=EVENT_TYPES,
    )


@dataclass(frozen=True)
class ModelSettings:
    type: str = key(
        "auto", "popularity | als | bpr | ease | itemknn | rp3beta | spark-als | auto (searches them)"
    )
    k: int = key(10, "cut-off of the offline metrics", POSITIVE)
    seed: int = key(42, "seed of every model and of the synthetic platform")
    time_budget_s: float = key(120.0, "budget of the `auto` search", NON_NEGATIVE)
    ease_max_items: int = key(20_000, "ease keeps this many most popular items in its dense solve", POSITIVE)
    memory_budget_mb: int = key(
        4096, "largest dense model a night builds (EASE: items²); beyond it EASE keeps fewer items", POSITIVE
    )
    min_eval_users: int = key(
        5, "evaluate_model records `skipped` with fewer returning test users", NON_NEGATIVE
    )
    retune_days: int = key(
        7,
        "auto searches again when its last search is this old (0: every night); nights between refit",
        NON_NEGATIVE,
    )
    confidence: str = key("auto", "weight -> confidence: auto (each model's own) | raw | binary | log")
    confidence_alpha: float = key(1.0, "log confidence: 1 + alpha * log(1 + w / eps)")
    confidence_eps: float = key(1.0, "log confidence: see confidence_alpha")
    per_model: dict[str, dict] = field(default_factory=dict)  # the [model.<type>] tables: fixed params


@dataclass(frozen=True)
class FeedSettings:
    n: int = key(50, "feed length", POSITIVE)
    candidate_multiplier: int = key(2, "model candidates fetched per slot before the rules", POSITIVE)
    max_per_creator: int = key(3, "at most this many items of one creator per feed", POSITIVE)
    fresh_share: float = key(0.1, "share of slots reserved for fresh items", SHARE)
    fresh_hours: float = key(24.0, "an item uploaded this recently is fresh", NON_NEGATIVE)
    fresh_max_interactions: int = key(5, "...and has at most this many interacting users", NON_NEGATIVE)
    min_user_interactions: int = key(1, "users with fewer positive interactions are cold-start", NON_NEGATIVE)
    eligible_moderation: tuple[str, ...] = key(
        ("approved",),
        "catalog statuses a feed may show (never removed or restricted)",
        choices=MODERATION_STATUSES,
    )
    exclude_lookback_days: int = key(
        30, "finished or skipped in this window: never shown again", NON_NEGATIVE
    )
    score_block_users: int = key(2048, "users scored per BLAS block (bounds memory per task)", POSITIVE)
    new_creator_days: float = key(7.0, "a creator whose first upload is this recent is new", NON_NEGATIVE)
    new_creator_share: float = key(
        0.05, "share of slots for new creators' videos the model ranks well", SHARE
    )


@dataclass(frozen=True)
class GateSettings:
    max_ndcg_drop: float = key(
        0.02, "promotion gate: the new model may be this much worse than the live one (same split)", SHARE
    )


@dataclass(frozen=True)
class QualitySettings:
    volume_band: tuple[float, float] = key((0.3, 3.0), "a night's event volume vs its trailing 7-day mean")
    watch_ms_max_duration_factor: float = key(3.0, "watch_ms <= factor * duration_ms", (1e-9, None))
    min_feed_coverage: float = key(1.0, "share of active users that must have a feed", SHARE)
    trending_share_band: tuple[float, float] = key((0.0, 0.6), "share of feed rows with source = trending")
    min_full_feed_share: float = key(
        1.0, "share of active users with min(n, allowed catalog) feed rows", SHARE
    )


@dataclass(frozen=True)
class MaintenanceSettings:
    retention_hours: float = key(
        336.0,
        "VACUUM keeps this much history (raised if rollback needs more; < 168 h needs --force)",
        NON_NEGATIVE,
    )
    rollback_days: int = key(7, "rollback must reach feeds this old", POSITIVE)
    live_feed_max_age_days: int = key(
        60,
        "the longest a live feed may stay unchanged; gold/feeds keeps its log this long + rollback_days",
        POSITIVE,
    )


@dataclass(frozen=True)
class SyntheticSettings:
    n_users: int = key(1000, "viewers of the synthetic region", POSITIVE)
    items_per_day: int = key(40, "uploads per day", POSITIVE)
    catalog_days: int = key(30, "days of uploads in the catalog", POSITIVE)
    n_creators: int = key(200, "creator accounts", POSITIVE)
    n_topics: int = key(12, "topics viewers' tastes and videos are drawn over", POSITIVE)
    sessions_per_active_user: float = key(1.5, "sessions per active viewer per day", NON_NEGATIVE)
    impressions_per_session: int = key(10, "videos shown per session", POSITIVE)
    active_share: float = key(0.55, "share of viewers active on a day", SHARE)
    malformed_share: float = key(0.004, "share of landed lines that are malformed", SHARE)
    history_days: int = key(5, "make demo generates this many days ending at ds", POSITIVE)
    violating_share: float = key(
        0.03, "expected share of uploads that violate a policy (hidden truth)", SHARE
    )
    repeat_offender_share: float = key(0.05, "share of creator accounts that are repeat offenders", SHARE)
    false_report_share: float = key(0.4, "share of all viewer reports that hit benign videos", (0, 0.999))
    quality_strength: float = key(
        1.0,
        "how much a video's quality (creator skill + the video's own) raises play, completion, likes",
        NON_NEGATIVE,
    )
    quality_creator_share: float = key(0.5, "share of a video's quality that is its creator's skill", SHARE)
    duration_strength: float = key(
        1.0,
        "how fast completion falls per log-unit of duration above the viewer's preferred length",
        NON_NEGATIVE,
    )
    preferred_duration_s: float = key(20.0, "median of the viewers' preferred video length", (1e-3, None))
    fan_strength: float = key(
        1.0, "how much more viewers show, play and like videos of creators they are fans of", NON_NEGATIVE
    )
    creators_followed: float = key(5.0, "creators a viewer is a fan of, on average", NON_NEGATIVE)
    fatigue_strength: float = key(
        0.15,
        "play falls by this (logit) per earlier video of the same topic in a session; creator twice",
        NON_NEGATIVE,
    )
    scroll_on_after_play: float = key(
        0.98, "viewer model: chance to scroll to the next slot after a play", SHARE
    )
    scroll_on_after_skip: float = key(
        0.93, "viewer model: chance to scroll to the next slot after a skip", SHARE
    )


REVIEW_CAPACITY = 8


@dataclass(frozen=True)
class AuditSettings:
    daily_review_capacity: int = key(REVIEW_CAPACITY, "videos a region's reviewers decide per day", POSITIVE)
    hold_threshold: float = key(
        0.5, "risk at or above this, and no human approval: held out of every feed", SHARE
    )
    lookback_days: int = key(14, "unreviewed videos uploaded this recently are queued", POSITIVE)
    label_days: int = key(
        60, "videos reviewed this recently are the classifier's training examples", POSITIVE
    )
    model: str = key("xgboost", "xgboost (xgboost.spark) | gbt (Spark MLlib)", choices=AUDIT_MODELS)


@dataclass(frozen=True)
class RankerSettings:
    type: str = key(
        "xgboost", "xgboost (two-stage feeds) | none (the CF model's feeds, as before)", choices=RANKER_TYPES
    )
    train_days: int = key(
        3, "days of impressions the ranker learns from (the newest one judges it)", (2, None)
    )
    weights: dict[str, float] = key(
        {"watch": 1.0, "finish": 10.0, "like": 40.0, "share": 20.0, "follow": 20.0, "skip": -30.0},
        "order value = sum of weight x head (watch: expected seconds; others: probabilities)",
        choices=OBJECTIVES,
    )
    diversity: float = key(
        0.05, "MMR re-rank: weight of the similarity to the videos already in the feed", NON_NEGATIVE
    )
    retrievers: dict[str, float] = key(
        {"cf": 100, "covis": 50, "creator": 30, "new_creator": 20, "fresh": 20, "trending": 50},
        "candidates each retriever nominates per viewer (0 turns one off)",
        choices=RETRIEVERS,
    )
    max_candidates: int = key(200, "most candidates per viewer after the retrievers' union", POSITIVE)
    creator_video_days: float = key(
        7.0, "the creator retriever nominates videos uploaded this recently", (1e-9, None)
    )
    spark_min_examples: int = key(
        2_000_000,
        "training examples from which the heads train with xgboost.spark (single node below)",
        POSITIVE,
    )
    max_examples: int = key(
        1_000_000, "train_ranker learns from a sample of viewers holding at most this many examples", POSITIVE
    )
    rounds: int = key(100, "boosting rounds per head", POSITIVE)
    max_depth: int = key(6, "depth of the heads' trees", POSITIVE)


@dataclass(frozen=True)
class RegionConfig:
    region: str
    ingest: IngestSettings
    features: FeatureSettings
    model: ModelSettings
    feed: FeedSettings
    gate: GateSettings
    quality: QualitySettings
    maintenance: MaintenanceSettings
    synthetic: SyntheticSettings
    audit: AuditSettings = field(default_factory=AuditSettings)
    ranker: RankerSettings = field(default_factory=RankerSettings)


SECTIONS = {  # RegionConfig field -> its TOML table under [defaults] ("" for [defaults] itself)
    "ingest": "",
    "features": "",
    "model": "model",
    "feed": "feed",
    "gate": "gate",
    "quality": "quality",
    "maintenance": "maintenance",
    "synthetic": "synthetic",
    "audit": "audit",
    "ranker": "ranker",
}


def _number(kind: str, value):
    """int or float of a TOML value; a bool, nan or inf, or a fraction where an int is due, is
    refused."""
    if isinstance(value, bool) or (kind == "int" and isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    number = {"int": int, "float": float}[kind](value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _build(cls, values: dict[str, Any], where: str):
    """cls(**values) with every field converted to its declared type (a key not given takes its
    declared default); an unknown key fails."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise NightfeedError(f"configuration [{where}]: unknown keys {unknown}; known: {sorted(fields)}")
    out = {}
    for name, value in values.items():
        kind = fields[name].type
        try:
            if kind in ("int", "float"):
                value = _number(kind, value)
            elif kind == "str":
                value = str(value)
            elif kind.startswith("tuple"):
                value = tuple(_number("float", v) if "float" in kind else str(v) for v in value)
            elif kind.startswith("dict[str, float]"):
                value = {str(k): _number("float", v) for k, v in value.items()}
        except (TypeError, ValueError, AttributeError):
            finite = " of finite numbers" if "float" in kind and kind != "float" else ""
            finite = finite or (" (a finite number)" if kind in ("int", "float") else "")
            raise NightfeedError(
                f"configuration [{where}] {name} = {value!r}: expected {kind}{finite}"
            ) from None
        check_value(fields[name].metadata, name, value, where)
        out[name] = value
    check_section(cls.__name__, out, where)
    return cls(**out)


_INGEST_KEYS = {f.name for f in dataclasses.fields(IngestSettings)}
_FEATURE_KEYS = {f.name for f in dataclasses.fields(FeatureSettings)}
_SECTIONS = {"model", "feed", "gate", "quality", "maintenance", "synthetic", "audit", "ranker"}


def parse_region(region: str, merged: dict[str, Any]) -> RegionConfig:
    """Typed settings from a region's merged configuration (defaults + overrides)."""
    top = {k: v for k, v in merged.items() if k not in _SECTIONS}
    unknown = sorted(set(top) - _INGEST_KEYS - _FEATURE_KEYS)
    if unknown:
        raise NightfeedError(f"configuration for region {region}: unknown keys {unknown}")
    model = dict(merged.get("model", {}))
    per_model = {k: dict(model.pop(k)) for k in list(model) if isinstance(model[k], dict)}
    return RegionConfig(
        region=region,
        ingest=_build(IngestSettings, {k: v for k, v in top.items() if k in _INGEST_KEYS}, "defaults"),
        features=_build(FeatureSettings, {k: v for k, v in top.items() if k in _FEATURE_KEYS}, "defaults"),
        model=dataclasses.replace(_build(ModelSettings, model, "model"), per_model=per_model),
        feed=_build(FeedSettings, merged.get("feed", {}), "feed"),
        gate=_build(GateSettings, merged.get("gate", {}), "gate"),
        quality=_build(QualitySettings, merged.get("quality", {}), "quality"),
        maintenance=_build(MaintenanceSettings, merged.get("maintenance", {}), "maintenance"),
        synthetic=_build(SyntheticSettings, merged.get("synthetic", {}), "synthetic"),
        audit=_build(AuditSettings, merged.get("audit", {}), "audit"),
        ranker=_build(RankerSettings, merged.get("ranker", {}), "ranker"),
    )


def with_changes(cfg: RegionConfig, **sections: dict) -> RegionConfig:
    """A copy with some keys of some sections replaced: with_changes(cfg, model={"k": 5})."""
    return dataclasses.replace(
        cfg, **{name: dataclasses.replace(getattr(cfg, name), **values) for name, values in sections.items()}
    )
