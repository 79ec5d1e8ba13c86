"""What the two-stage stages read from the lake: daily outcomes, the ranker's state at the start
of a day, the registered ranker and which one the live feed used."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.core.errors import NightfeedError
from nightfeed.feeds.features import window_start
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import artifact_dir
from nightfeed.pipeline.inputs import catalog_snapshot, shift
from nightfeed.pipeline.registry import RANKER_PREFIX
from nightfeed.ranking.heads import Ranker
from nightfeed.ranking.state import RankingState, build_state, daily_outcomes

RANKER_TYPE = RANKER_PREFIX + "xgboost"  # gold/model_registry model_type of the ranker
CATALOG = ("item_id", "creator_id", "created_ts", "duration_ms")


def outcomes(t: LakeTables, region: str, first: str, last: str) -> pd.DataFrame:
    """Daily outcomes (`ranking.state.daily_outcomes`) of the days first..last."""
    events = t.read("bronze/events").where(
        (F.col("region") == region) & (F.col("ds") >= first) & (F.col("ds") <= last)
    )
    return daily_outcomes(events).toPandas()


def catalog(t: LakeTables, region: str, ds: str) -> pd.DataFrame:
    return catalog_snapshot(t, region, ds).select(*CATALOG).toPandas()


def state_at(
    t: LakeTables,
    region: str,
    day: str,
    cfg: RegionConfig,
    user_ids,
    item_ids,
    known: pd.DataFrame | None = None,
) -> RankingState:
    """The state at the start of `day` from the lookback window's events before it; `known`:
    outcomes already read that cover the window."""
    last = shift(day, -1)
    first = window_start(last, cfg.features.lookback_days)
    if known is None:
        known = outcomes(t, region, first, last)
    window = known[(known["ds"] >= first) & (known["ds"] <= last)]
    items = catalog(t, region, day)
    return build_state(window, items, user_ids, item_ids, day, cfg.features.finish_ratio)


def registered_rankers(t: LakeTables, region: str, last: str):
    """The region's ranker registry rows up to `last`, newest first (pandas)."""
    if not t.exists("gold/model_registry"):
        return pd.DataFrame()
    return (
        t.read("gold/model_registry")
        .where((F.col("region") == region) & (F.col("model_type") == RANKER_TYPE) & (F.col("ds") <= last))
        .orderBy(F.col("ds").desc())
        .toPandas()
    )


def promoted(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return rows
    return rows[[bool(m and m.get("promoted", 0.0) == 1.0) for m in rows["validation_metrics"]]]


def serving_ranker(t: LakeTables, lake: Lake, region: str, ds: str) -> tuple[Ranker, str] | None:
    """Tonight's ranker if the gate promoted it, else the newest promoted before; None: none yet."""
    rows = promoted(registered_rankers(t, region, ds))
    if rows.empty:
        return None
    row = rows.iloc[0]
    return _load(lake, row), row["model_version"]


def load_ranker(t: LakeTables, lake: Lake, region: str, version: str) -> Ranker | None:
    rows = registered_rankers(t, region, "9999-12-31")
    rows = rows[rows["model_version"] == version] if not rows.empty else rows
    return None if rows.empty else _load(lake, rows.iloc[0])


def _load(lake: Lake, row) -> Ranker:
    """The registered ranker's artifact; a clear error when it is gone or not a ranker's."""
    path = artifact_dir(lake, row["artifact_path"])
    try:
        return Ranker.load(path)
    except (OSError, ValueError, KeyError) as err:
        raise NightfeedError(
            f"ranker {row['model_version']} at {path} cannot be read ({err}): rerun train_ranker "
            f"--region {row['region']} --ds {row['ds']}"
        ) from None
