"""A region's configuration parsed once into typed, frozen dataclasses.

`conf/nightfeed.toml` is read and merged by `config`; here every key is checked and converted
once, so stages and transforms take the typed pieces they need (`cfg.feed.n`, not
`int(cfg["feed"]["n"])`). An unknown or missing key is a clear error naming it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import NightfeedError
from .settings_rules import check_section, check_value


@dataclass(frozen=True)
class IngestSettings:
    late_arrival_tolerance_hours: float
    dedupe_lookback_days: int
    max_quarantine_share: float
    max_watch_ms: int = 21_600_000  # a longer watch time is implausible: quarantined
    max_duration_ms: int = 43_200_000  # a longer video is implausible: its catalog line quarantined


@dataclass(frozen=True)
class FeatureSettings:
    lookback_days: int
    half_life_days: float
    finish_ratio: float
    trending_days: int
    event_weights: dict[str, float]


@dataclass(frozen=True)
class ModelSettings:
    type: str
    k: int
    seed: int
    time_budget_s: float
    ease_max_items: int
    min_eval_users: int = 5  # fewer returning test users than this: evaluate_model records `skipped`
    retune_days: int = 7  # `auto` searches again once its last search is this old (0: every night)
    confidence: str = "auto"  # auto: each model's own transform, and `auto` chooses; else raw|binary|log
    confidence_alpha: float = 1.0
    confidence_eps: float = 1.0
    per_model: dict[str, dict] = field(default_factory=dict)  # [model.<type>] tables: fixed params


@dataclass(frozen=True)
class FeedSettings:
    n: int
    candidate_multiplier: int
    max_per_creator: int
    fresh_share: float
    fresh_hours: float
    fresh_max_interactions: int
    min_user_interactions: int
    eligible_moderation: tuple[str, ...]
    exclude_lookback_days: int
    score_block_users: int
    new_creator_days: float = 7.0  # a creator whose first upload is this recent is new
    new_creator_share: float = 0.05  # share of slots for new creators' videos the model ranks well


@dataclass(frozen=True)
class GateSettings:
    max_ndcg_drop: float


@dataclass(frozen=True)
class QualitySettings:
    volume_band: tuple[float, float]
    watch_ms_max_duration_factor: float
    min_feed_coverage: float
    trending_share_band: tuple[float, float]
    min_full_feed_share: float = 1.0


@dataclass(frozen=True)
class MaintenanceSettings:
    retention_hours: float
    rollback_days: int
    live_feed_max_age_days: int


@dataclass(frozen=True)
class SyntheticSettings:
    n_users: int
    items_per_day: int
    catalog_days: int
    n_creators: int
    n_topics: int
    sessions_per_active_user: float
    impressions_per_session: int
    active_share: float
    malformed_share: float
    history_days: int
    violating_share: float = 0.03  # expected share of each day's uploads that violate a policy
    repeat_offender_share: float = 0.05  # share of creator accounts that are repeat offenders
    false_report_share: float = 0.4  # share of all reports that hit benign videos


REVIEW_CAPACITY = 8


@dataclass(frozen=True)
class AuditSettings:
    daily_review_capacity: int = REVIEW_CAPACITY  # videos a region's reviewers decide per day
    hold_threshold: float = 0.5  # risk at or above this, and no human approval: out of the feeds
    lookback_days: int = 14  # unreviewed videos uploaded this recently are queued
    label_days: int = 60  # videos reviewed this recently are the classifier's training examples
    model: str = "xgboost"  # xgboost (xgboost.spark) | gbt (Spark MLlib)


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
    """cls(**values) with every field converted to its declared type; unknown/missing keys fail."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise NightfeedError(f"configuration [{where}]: unknown keys {unknown}; known: {sorted(fields)}")
    missing = [
        n
        for n, f in fields.items()
        if n not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise NightfeedError(f"configuration [{where}]: missing keys {missing}")
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
        check_value(cls.__name__, name, value, where)
        out[name] = value
    check_section(cls.__name__, out, where)
    return cls(**out)


_INGEST_KEYS = {f.name for f in dataclasses.fields(IngestSettings)}
_FEATURE_KEYS = {f.name for f in dataclasses.fields(FeatureSettings)}
_SECTIONS = {"model", "feed", "gate", "quality", "maintenance", "synthetic", "audit"}


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
    )


def with_changes(cfg: RegionConfig, **sections: dict) -> RegionConfig:
    """A copy with some keys of some sections replaced: with_changes(cfg, model={"k": 5})."""
    return dataclasses.replace(
        cfg, **{name: dataclasses.replace(getattr(cfg, name), **values) for name, values in sections.items()}
    )
