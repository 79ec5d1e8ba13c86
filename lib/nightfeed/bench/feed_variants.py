"""The feeds `nightfeed benchmark --suite feed-value --compare ranker=none` sets beside the
published one, each composed by the pipeline's own passes on the same night's lake inputs:
the CF-only feed (`ranker = "none"`) and the two-stage ablations — all retrievers in CF-score
order, the value of the watch head alone, and no diversity term."""

from __future__ import annotations

import pandas as pd

from nightfeed.configuration.settings import RegionConfig
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import registered_model
from nightfeed.pipeline.feed_passes import cf_feeds
from nightfeed.pipeline.rank_feeds import ranked_passes, ranking_batch

CF_ONLY = "cf_only"


def variant_feeds(t: LakeTables, lake, cfg: RegionConfig, region: str, ds: str, ranker_version) -> dict:
    """name -> feed rows (user_id, rank, item_id) of every viewer; the ablations only when the
    published feed was ordered by a ranker (`ranker_version`)."""
    reg = registered_model(t, region, ds)
    out = {CF_ONLY: cf_feeds(t, lake, region, ds, cfg, reg)}
    if ranker_version:
        batch = ranking_batch(t, lake, region, ds, cfg, heads=True)
        out["retrievers_cf_order"] = ranked_passes(t, batch, order="cf", counterfactual=False)
        out["watch_head_only"] = ranked_passes(t, batch, weights={"watch": 1.0}, counterfactual=False)
        out["no_diversity"] = ranked_passes(t, batch, diversity=0.0, counterfactual=False)
    frames = {}
    for name, passes in out.items():
        frames[name] = passes.feeds(include_held=False).select("user_id", "rank", "item_id").toPandas()
        passes.release()
    return frames


def rows_of(frame: pd.DataFrame, ids) -> pd.DataFrame:
    return frame[frame["user_id"].isin(ids)]
