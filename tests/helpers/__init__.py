"""Helpers shared by the tests: tiny synthetic lakes and settings for fast nightly runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from nightfeed.configuration import config, settings
from nightfeed.lake import schemas
from nightfeed.synthetic import landing as synthetic_landing

ROOT = Path(__file__).resolve().parents[2]
DS = "2026-11-25"
TINY_PLATFORM = settings.SyntheticSettings(
    n_users=60,
    items_per_day=12,
    catalog_days=10,
    n_creators=10,
    n_topics=4,
    sessions_per_active_user=1.0,
    impressions_per_session=8,
    active_share=0.8,
    malformed_share=0.02,
    history_days=3,
)


def shift(ds: str, days: int) -> str:
    return (dt.date.fromisoformat(ds) + dt.timedelta(days=days)).isoformat()


def land_tiny(lake_root: Path, region: str, ds: str, days: int = 3, seed: int = 7) -> None:
    """Land `days` days of a tiny synthetic platform ending at ds."""
    for back in range(days - 1, -1, -1):
        synthetic_landing.write_day(lake_root, TINY_PLATFORM, seed, region, shift(ds, -back))


def landing_lines(lake: config.Lake, region: str, ds: str) -> int:
    """Lines of the landed event files of (region, ds): what ingest must account for."""
    return sum(len(f.read_bytes().splitlines()) for f in lake.landing("events", region, ds).glob("*.jsonl"))


def nightly_cfg(region: str, **sections: dict) -> settings.RegionConfig:
    """The region's settings with a short `auto` budget (and any other section changes)."""
    cfg = config.region_settings(region)
    return settings.with_changes(cfg, model={"time_budget_s": 20.0, **sections.pop("model", {})}, **sections)


def run_nightly(spark, lake, region: str, ds: str = DS, backfill_days: int = 2, **stage_options) -> dict:
    """Every nightly stage of the registry for (region, ds) in-process, after ingesting the earlier days."""
    from nightfeed.pipeline.runner import run_night

    results = run_night(
        spark,
        region,
        ds,
        backfill_days=backfill_days,
        cfg=nightly_cfg(region),
        lake=lake,
        report=lambda summary: None,
        stage_options=stage_options,
    )
    return {r["stage"]: r for r in results}


FEED_COLUMNS = "region string, ds string, user_id string, rank int, item_id string, score double, "
FEED_COLUMNS += "source string, model_version string"


def feed_rows(spark, region: str, ds: str, users: list[str], version: str = "m1"):
    """Two feed rows (items i1, i2) per user, as gold/feeds holds them."""
    rows = [(region, ds, u, r, f"i{r}", 1.0 / r, "cf", version) for u in users for r in (1, 2)]
    return spark.createDataFrame(rows, FEED_COLUMNS)


DECISION_COLUMNS = (
    "decision_id string, item_id string, decided_ts timestamp, decision string, policy string, "
)
DECISION_COLUMNS += "reviewer string, region string, ds string, source_file string"


def write_decisions(t, region: str, ds: str, decisions: list[tuple]) -> None:
    """Review decisions (decision_id, item_id, decided_ts, decision) as ingested on ds."""
    rows = [
        (d_id, item, when, decision, "none" if decision == "approved" else "spam", "r1", region, ds, "f")
        for d_id, item, when, decision in decisions
    ]
    t.write_slice("bronze/moderation_decisions", t.spark.createDataFrame(rows, DECISION_COLUMNS), region, ds)


EVENT_COLUMNS = "event_id string, user_id string, item_id string, event_type string, event_ts timestamp, "
EVENT_COLUMNS += "watch_ms long, region string, ds string, source_file string"


def write_interactions(spark, lake, region, ds, users=12):
    """silver/interactions of (region, ds): 3 items out of 7 for each of `users` users."""
    from nightfeed.lake.tables import LakeTables

    rows = [
        (region, ds, f"u{u}", f"i{(u * 3 + j) % 7}", 1.0 + j, 1, 1000, True, dt.datetime(2026, 11, 24, 12))
        for u in range(users)
        for j in range(3)
    ]
    frame = spark.createDataFrame(rows, schemas.load("silver_interactions"))
    LakeTables(spark, lake.root).write_slice("silver/interactions", frame, region, ds)


class RunsCode:
    """A pickle payload: unpickling it creates `marker`, the proof that loading ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def plant_pickled_xgboost(folder: Path, marker: Path) -> None:
    """An xgboost Spark model in xgboost's own writer's format at `folder`, its metadata carrying a
    pickled callback that creates `marker` when xgboost's reader unpickles it."""
    import base64
    import json

    import cloudpickle
    import numpy as np
    from xgboost import XGBClassifier
    from xgboost.spark import SparkXGBClassifier

    booster = XGBClassifier(n_estimators=2).fit(np.arange(20.0).reshape(10, 2), np.arange(10) % 2)
    estimator = SparkXGBClassifier()
    estimator._copyValues(estimator._create_pyspark_model(booster, None)).write().overwrite().save(
        str(folder)
    )
    meta_file = next((folder / "metadata").glob("part-*"))
    meta = json.loads(meta_file.read_text())
    meta["serialized_callbacks"] = base64.encodebytes(cloudpickle.dumps(RunsCode(marker))).decode("ascii")
    meta_file.write_text(json.dumps(meta))
