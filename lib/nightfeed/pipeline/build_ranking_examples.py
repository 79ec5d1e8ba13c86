"""Stage build_ranking_examples: the impressions of the ranker's training days with what viewers
did with them and the features of the pair at the start of that day -> silver/ranking_examples.

A day's features come from the state before it (`ranking.state`) and from the CF model of the
night before it scoring the viewer's interactions of that night (NaN when there was none): what
a feed served that day could have known. Slices already built are kept; missing ones in the
window are built (the first nights of a lake)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.lake import schemas
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import load_artifact
from nightfeed.pipeline.inputs import shift
from nightfeed.pipeline.next_day import model_scores
from nightfeed.pipeline.ranking_inputs import catalog, outcomes, state_at
from nightfeed.pipeline.registry import AUDIT_PREFIX, RANKER_PREFIX
from nightfeed.ranking.features import FEATURES, pair_features
from nightfeed.ranking.state import with_watch

LABELS = ("played", "watch_s", "watched", "finished", "liked", "shared", "followed", "skipped")


def build_ranking_examples(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    if cfg.ranker.type == "none":
        return {"skipped": "ranker.type is none: CF-only feeds need no ranking examples"}
    t = LakeTables(spark, lake.root)
    days = [shift(ds, -k) for k in range(cfg.ranker.train_days - 1, -1, -1)]
    ingested = {
        r["ds"]
        for r in t.read("bronze/events").where(F.col("region") == region).select("ds").distinct().collect()
    }
    have = set()
    if t.exists("silver/ranking_examples"):
        have = {
            r["ds"]
            for r in t.read("silver/ranking_examples")
            .where(F.col("region") == region)
            .select("ds")
            .distinct()
            .collect()
        }
    built = {}
    for day in days:
        if day not in ingested or (day in have and day != ds):
            continue
        frame = day_examples(t, lake, region, day, cfg)
        schema = schemas.load("silver_ranking_examples")
        frame = frame[[f.name for f in schema.fields]]
        t.write_slice("silver/ranking_examples", spark.createDataFrame(frame, schema), region, day)
        built[day] = len(frame)
    return {"built": built, "kept": sorted(have & set(days) - set(built))}


def day_examples(t: LakeTables, lake: Lake, region: str, day: str, cfg: RegionConfig) -> pd.DataFrame:
    """The impressions of `day` with their labels and the features at the day's start."""
    first = shift(day, -cfg.features.lookback_days)
    known = outcomes(t, region, first, day)
    items = catalog(t, region, day)
    shown = with_watch(
        known[(known["ds"] == day) & known["impressed"].fillna(False).astype(bool)],
        items,
        cfg.features.finish_ratio,
    )
    shown = shown.sort_values(["user_id", "item_id"], ignore_index=True)
    # The state covers the whole catalog, as tonight's does: creator stats and the similarity to
    # a viewer's history count every video, not only the ones shown that day.
    users = np.unique(shown["user_id"])
    items = np.unique(np.concatenate([items["item_id"].to_numpy(object), shown["item_id"].to_numpy(object)]))
    state = state_at(t, region, day, cfg, users, items, known)
    features = pair_features(
        state,
        state.user_rows(shown["user_id"]),
        state.item_rows(shown["item_id"]),
        _cf(t, lake, region, day, shown),
    )
    out = pd.DataFrame(features, columns=list(FEATURES))
    for label in LABELS:
        numeric = label in ("watch_s", "watched")
        out[label] = (
            shown[label].to_numpy(np.float64)
            if numeric
            else shown[label].fillna(False).astype(bool).to_numpy()
        )
    out.insert(0, "item_id", shown["item_id"].to_numpy())
    out.insert(0, "user_id", shown["user_id"].to_numpy())
    return out.assign(region=region, ds=day)


def _cf(t: LakeTables, lake: Lake, region: str, day: str, shown: pd.DataFrame) -> np.ndarray:
    """The CF model of the night before `day` scoring each pair from that night's interactions."""
    night = shift(day, -1)
    out = np.full(len(shown), np.nan)
    if not t.exists("gold/model_registry"):
        return out
    reg = (
        t.read_slice("gold/model_registry", region, night)
        .where(~F.col("model_type").startswith(AUDIT_PREFIX) & ~F.col("model_type").startswith(RANKER_PREFIX))
        .first()
    )
    if reg is None:
        return out
    model, model_users, model_items = load_artifact(lake, reg["artifact_path"])
    history = (
        t.read_slice("silver/interactions", region, night)
        .select("user_id", "item_id", "confidence")
        .toPandas()
    )
    user = pd.Index(model_users).get_indexer(shown["user_id"])
    known = user >= 0
    if known.any():
        frame = shown[known].assign(user=user[known])
        scores = model_scores(model, model_items, frame, history, model_users)
        out[known] = np.where(np.isfinite(scores), scores, np.nan)
    return out
