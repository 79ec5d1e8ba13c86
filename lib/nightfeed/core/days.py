"""Day boundaries of a run date (ds), as zone-aware UTC datetimes.

A Spark literal built from a naive datetime is read in the driver's local zone, so on a machine
not set to UTC every day window would shift by its offset; aware datetimes mean the same instant
everywhere.
"""

from __future__ import annotations

import datetime as dt


def day_start(ds: str, days: int = 0) -> dt.datetime:
    """Midnight UTC that starts the day `days` after ds (ds: YYYY-MM-DD)."""
    return dt.datetime.combine(dt.date.fromisoformat(ds) + dt.timedelta(days=days), dt.time(), dt.UTC)


def day_end(ds: str) -> dt.datetime:
    """Exclusive end of ds (UTC): nothing at or after it belongs to ds."""
    return day_start(ds, 1)
