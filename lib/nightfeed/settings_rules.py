"""What each configuration key may hold: numeric ranges and closed choices, checked as a region's
configuration is read, so a bad value is a clear error naming the key, not a broken feed hours later."""

from __future__ import annotations

from .errors import NightfeedError
from .vocabulary import AUDIT_MODELS, EVENT_TYPES, MODERATION_STATUSES

# Allowed ranges (inclusive; None = unbounded) of numeric keys, by "<Settings class>.<key>".
POSITIVE, NON_NEGATIVE, SHARE = (1, None), (0, None), (0, 1)
RANGES: dict[str, tuple[float | None, float | None]] = {
    "IngestSettings.late_arrival_tolerance_hours": NON_NEGATIVE,
    "IngestSettings.dedupe_lookback_days": NON_NEGATIVE,
    "IngestSettings.max_quarantine_share": SHARE,
    "IngestSettings.max_watch_ms": POSITIVE,
    "IngestSettings.max_duration_ms": POSITIVE,
    "FeatureSettings.lookback_days": POSITIVE,
    "FeatureSettings.half_life_days": (1e-9, None),
    "FeatureSettings.finish_ratio": SHARE,
    "FeatureSettings.trending_days": POSITIVE,
    "ModelSettings.k": POSITIVE,
    "ModelSettings.time_budget_s": NON_NEGATIVE,
    "ModelSettings.ease_max_items": POSITIVE,
    "ModelSettings.min_eval_users": NON_NEGATIVE,
    "ModelSettings.retune_days": NON_NEGATIVE,
    "FeedSettings.n": POSITIVE,
    "FeedSettings.candidate_multiplier": POSITIVE,
    "FeedSettings.max_per_creator": POSITIVE,
    "FeedSettings.fresh_share": SHARE,
    "FeedSettings.fresh_hours": NON_NEGATIVE,
    "FeedSettings.fresh_max_interactions": NON_NEGATIVE,
    "FeedSettings.min_user_interactions": NON_NEGATIVE,
    "FeedSettings.exclude_lookback_days": NON_NEGATIVE,
    "FeedSettings.score_block_users": POSITIVE,
    "FeedSettings.new_creator_days": NON_NEGATIVE,
    "FeedSettings.new_creator_share": SHARE,
    "GateSettings.max_ndcg_drop": SHARE,
    "QualitySettings.min_feed_coverage": SHARE,
    "QualitySettings.min_full_feed_share": SHARE,
    "QualitySettings.watch_ms_max_duration_factor": (1e-9, None),
    "MaintenanceSettings.retention_hours": NON_NEGATIVE,
    "MaintenanceSettings.rollback_days": POSITIVE,
    "MaintenanceSettings.live_feed_max_age_days": POSITIVE,
    **{
        f"SyntheticSettings.{k}": POSITIVE for k in ("n_users", "items_per_day", "catalog_days", "n_creators")
    },
    **{f"SyntheticSettings.{k}": POSITIVE for k in ("n_topics", "history_days", "impressions_per_session")},
    "SyntheticSettings.sessions_per_active_user": NON_NEGATIVE,
    **{f"SyntheticSettings.{k}": SHARE for k in ("active_share", "malformed_share", "violating_share")},
    "SyntheticSettings.repeat_offender_share": SHARE,
    "SyntheticSettings.false_report_share": (0, 0.999),  # all reports false: no report is true to scale
    "AuditSettings.daily_review_capacity": POSITIVE,
    "AuditSettings.hold_threshold": SHARE,
    "AuditSettings.lookback_days": POSITIVE,
    "AuditSettings.label_days": POSITIVE,
}


# Keys whose values (a name, or every name of a list or table) come from a closed vocabulary.
CHOICES: dict[str, tuple[str, ...]] = {
    "FeatureSettings.event_weights": EVENT_TYPES,
    "FeedSettings.eligible_moderation": MODERATION_STATUSES,
    "AuditSettings.model": AUDIT_MODELS,
}


# Keys whose values together must stay within a limit: shares of one feed's slots, and bands.
TOTAL_AT_MOST_ONE: dict[str, tuple[str, ...]] = {"FeedSettings": ("fresh_share", "new_creator_share")}
BANDS = {"QualitySettings.volume_band": (0, None), "QualitySettings.trending_share_band": SHARE}


def check_section(cls_name: str, values: dict, where: str) -> None:
    """Raises NightfeedError when keys of one section contradict each other: slot shares adding up
    to more than the feed, or a band [low, high] that is not two ordered values in its range."""
    shares = [k for k in TOTAL_AT_MOST_ONE.get(cls_name, ()) if k in values]
    if len(shares) > 1 and sum(values[k] for k in shares) > 1:
        given = " + ".join(f"{k} {values[k]:g}" for k in shares)
        raise NightfeedError(
            f"configuration [{where}] {given}: together more than the whole feed (at most 1)"
        )
    for key, (lo, hi) in BANDS.items():
        owner, name = key.split(".")
        band = values.get(name) if owner == cls_name else None
        if band is None:
            continue
        inside = len(band) == 2 and lo <= band[0] <= band[1] and (hi is None or band[1] <= hi)
        if not inside:
            limits = f"{lo} <= low <= high" + (f" <= {hi}" if hi is not None else "")
            raise NightfeedError(
                f"configuration [{where}] {name} = {list(band)}: must be [low, high] with {limits}"
            )


def check_value(cls_name: str, name: str, value, where: str) -> None:
    """Raises NightfeedError when `value` of key `name` (of settings class `cls_name`, section
    `where`) is out of its range or its vocabulary, or is a weights table where nothing counts."""
    shown = f"configuration [{where}] {name} = {list(value) if isinstance(value, tuple) else value!r}"
    key = f"{cls_name}.{name}"
    lo, hi = RANGES.get(key, (None, None))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise NightfeedError(
            f"{shown}: must be " + (f"at least {lo}" if hi is None else f"between {lo} and {hi}")
        )
    allowed = CHOICES.get(key)
    if allowed is None:
        return
    names = [value] if isinstance(value, str) else list(value)
    unknown = [v for v in names if v not in allowed]
    if unknown and not isinstance(value, str):
        raise NightfeedError(f"{shown}: unknown {unknown}; choose from {', '.join(allowed)}")
    if isinstance(value, dict) and not any(w > 0 for w in value.values()):
        raise NightfeedError(f"{shown}: no event type weighs more than 0, so nothing would count")
    if unknown or not names:
        raise NightfeedError(f"{shown}: choose from {', '.join(allowed)}")
