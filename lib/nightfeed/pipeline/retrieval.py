"""What the retrievers and the re-rank read of a night: the scoring context of a catalog whose held
videos stay eligible (marked, for the counterfactual feed without holds), the ranker's state at
the start of the next day, and one row per active viewer."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.feeds import scoring
from nightfeed.feeds.feed_health import new_creator_items
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import load_artifact, registered_model
from nightfeed.pipeline.feed_passes import model_user_index, scoring_catalog, scoring_rows
from nightfeed.pipeline.inputs import shift
from nightfeed.pipeline.ranking_inputs import state_at
from nightfeed.ranking.retrievers import RetrievalContext


def retrieval_inputs(
    t: LakeTables, lake: Lake, region: str, ds: str, cfg: RegionConfig, with_state: bool
) -> tuple[RetrievalContext, DataFrame]:
    """The retrieval context of tonight and one row per active viewer (`scoring_rows`); with_state:
    the ranker's state at the start of ds+1 too, and each viewer's state_row."""
    reg = registered_model(t, region, ds)
    model, model_users, model_items = load_artifact(lake, reg["artifact_path"])
    model, user_index = model_user_index(t.spark, model, model_users)
    catalog = scoring_catalog(t, region, ds)
    held = scoring.held(catalog).to_numpy()
    ctx = scoring.build_context(model, model_items, catalog.assign(held=False), cfg.feed, ds)
    users = t.require_slice("gold/user_features", region, ds, "build_features").select("user_id")
    user_ids = np.sort(users.toPandas()["user_id"].to_numpy(dtype=object))
    state = state_at(t, region, shift(ds, 1), cfg, user_ids, ctx.item_ids) if with_state else None
    code = pd.Index(ctx.item_ids).get_indexer(catalog["item_id"])
    held_codes = np.zeros(ctx.n_codes, bool)
    held_codes[code[held]] = True
    new = np.zeros(ctx.n_codes, bool)
    new[code[new_creator_items(catalog, ds, cfg.feed.new_creator_days).to_numpy()]] = True
    rctx = RetrievalContext(
        feed=ctx,
        state=state,
        held=held_codes,
        new_creator_codes=ctx.trending_codes[new[ctx.trending_codes]],
        recent=_recent(catalog, code, ctx.n_codes, shift(ds, 1), cfg.ranker.creator_video_days),
        ks={name: int(k) for name, k in cfg.ranker.retrievers.items()},
        max_candidates=cfg.ranker.max_candidates,
    )
    rows = scoring_rows(t, region, ds, ctx, users, user_index)
    if with_state:
        state_index = t.spark.createDataFrame(
            pd.DataFrame({"user_id": user_ids, "state_row": np.arange(len(user_ids))})
        )
        rows = rows.join(F.broadcast(state_index), "user_id", "left")
    return rctx, rows


def _recent(catalog: pd.DataFrame, code: np.ndarray, n_codes: int, day: str, days: float) -> np.ndarray:
    """code -> uploaded within `days` before the start of `day`."""
    created = pd.to_datetime(catalog["created_ts"]).dt.tz_localize(None)
    out = np.zeros(n_codes, bool)
    out[code] = (created >= pd.Timestamp(day) - pd.Timedelta(days=days)).to_numpy()
    return out
