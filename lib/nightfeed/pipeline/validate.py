"""Stages validate_events, validate_features, validate_feeds: the Great Expectations suites of
`schemas/quality/` on each stage's output, with their run parameters."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.ingest import events as ev
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.checks import fingerprint, trailing_mean, validate
from nightfeed.pipeline.inputs import catalog_snapshot, held_items
from nightfeed.quality import frames as quality_frames

TRAILING_DAYS = 7


def validate_events(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    t = LakeTables(spark, lake.root)
    events = t.require_slice("bronze/events", region, ds, "ingest_events")
    items = catalog_snapshot(t, region, ds)
    tol = cfg.ingest.late_arrival_tolerance_hours
    lo, hi = quality_frames.band(
        trailing_mean(t, "bronze/events", region, ds, TRAILING_DAYS, F.count(F.lit(1))),
        cfg.quality.volume_band,
    )
    params = {
        "region": region,
        "event_types": list(ev.EVENT_TYPES),
        "ts_min_hours": -tol,
        "ts_max_hours": 24 + tol,
        "watch_max_ratio": cfg.quality.watch_ms_max_duration_factor,
        "volume_min": lo,
        "volume_max": hi,
    }
    return validate(
        lake, region, ds, "events", {"events": quality_frames.events_frame(events, items, ds)}, params
    )


def validate_features(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    t = LakeTables(spark, lake.root)
    inter = t.require_slice("silver/interactions", region, ds, "build_features")
    band = cfg.quality.volume_band
    users_lo, users_hi = quality_frames.band(
        trailing_mean(t, "silver/interactions", region, ds, TRAILING_DAYS, F.countDistinct("user_id")), band
    )
    items_lo, items_hi = quality_frames.band(
        trailing_mean(t, "silver/interactions", region, ds, TRAILING_DAYS, F.countDistinct("item_id")), band
    )
    params = {"users_min": users_lo, "users_max": users_hi, "items_min": items_lo, "items_max": items_hi}
    return validate(lake, region, ds, "features", {"interactions": inter}, params)


def validate_feeds(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    t = LakeTables(spark, lake.root)
    cand = t.require_slice("silver/feed_candidates", region, ds, "score_feeds")
    users = t.require_slice("gold/user_features", region, ds, "build_features")
    q, feed = cfg.quality, cfg.feed
    params = {
        "min_feed_coverage": q.min_feed_coverage,
        "eligible_moderation": list(feed.eligible_moderation),
        "min_full_feed_share": q.min_full_feed_share,
        "trending_min": q.trending_share_band[0],
        "trending_max": q.trending_share_band[1],
    }
    frames = quality_frames.feed_frames(
        cand,
        users,
        t.read_slice("gold/item_features", region, ds),
        t.read_slice("silver/exclusions", region, ds),
        t.read_slice("silver/interactions", region, ds),
        feed.n,
        feed.max_per_creator,
        list(feed.eligible_moderation),
        held_items(t, region, ds),
    )
    frames["feed_users"] = frames["feed_users"].persist()
    exhausted = frames["feed_users"].where("catalog_exhausted").count()
    try:
        out = validate(
            lake,
            region,
            ds,
            "feeds",
            frames,
            params,
            fp=fingerprint(cand.drop("region", "ds")),
            extra={"users_catalog_exhausted": exhausted},
        )
    finally:
        frames["feed_users"].unpersist()
    return {**out, "users_catalog_exhausted": exhausted}
