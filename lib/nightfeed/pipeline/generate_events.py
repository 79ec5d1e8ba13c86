"""Stage generate_events: land the embedded synthetic platform's days as landing files."""

from __future__ import annotations

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.pipeline.inputs import shift
from nightfeed.synthetic import landing as synthetic_landing


def generate_events(
    spark,
    lake: Lake,
    region: str,
    ds: str,
    cfg: RegionConfig,
    days: int | None = None,
    seed: int | None = None,
) -> dict:
    """Land `days` days of synthetic events, catalogs and moderation decisions ending at ds (no Spark)."""
    days = int(days or cfg.synthetic.history_days)
    seed = int(cfg.model.seed if seed is None else seed)
    landed = [
        synthetic_landing.write_day(
            lake.root, cfg.synthetic, seed, region, shift(ds, -d), capacity=cfg.audit.daily_review_capacity
        )
        for d in range(days - 1, -1, -1)
    ]
    return {"days": days, "event_lines": sum(x["event_lines"] for x in landed), "items": landed[-1]["items"]}
