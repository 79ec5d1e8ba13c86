"""Checking what a configuration key may hold (the ranges and vocabularies its declaration in
`settings` gives) and what keys of one section must satisfy together, as a region's configuration
is read: a bad value is a clear error naming the key, not a broken feed hours later."""

from __future__ import annotations

from nightfeed.core.errors import NightfeedError

# Keys whose values together must stay within a limit: shares of one feed's slots, and bands.
TOTAL_AT_MOST_ONE: dict[str, tuple[str, ...]] = {"FeedSettings": ("fresh_share", "new_creator_share")}
BANDS = {"QualitySettings.volume_band": (0, None), "QualitySettings.trending_share_band": (0, 1)}


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


def check_value(meta, name: str, value, where: str) -> None:
    """Raises NightfeedError when `value` of key `name` (section `where`) is out of the range or the
    vocabulary its declaration (`meta`: `settings.key`) allows, or is a weights table where
    nothing counts."""
    shown = f"configuration [{where}] {name} = {list(value) if isinstance(value, tuple) else value!r}"
    lo, hi = meta.get("range") or (None, None)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise NightfeedError(
            f"{shown}: must be " + (f"at least {lo}" if hi is None else f"between {lo} and {hi}")
        )
    allowed = meta.get("choices")
    if allowed is None:
        return
    names = [value] if isinstance(value, str) else list(value)
    unknown = [v for v in names if v not in allowed]
    if unknown and not isinstance(value, str):
        raise NightfeedError(f"{shown}: unknown {unknown}; choose from {', '.join(allowed)}")
    if isinstance(value, dict) and not any(w > 0 for w in value.values()):
        raise NightfeedError(f"{shown}: nothing in it is more than 0, so nothing would count")
    if unknown or not names:
        raise NightfeedError(f"{shown}: choose from {', '.join(allowed)}")
