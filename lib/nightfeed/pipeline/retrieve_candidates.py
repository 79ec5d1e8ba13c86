"""Stage retrieve_candidates: every retriever's nominations for every active viewer ->
silver/ranking_candidates (one row per viewer and candidate, each retriever's rank and score,
the CF score, the nominating `source`, and whether the audit holds the video)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.feeds import scoring
from nightfeed.feeds.feed_health import new_creator_items
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import load_artifact, registered_model
from nightfeed.pipeline.feed_passes import scoring_catalog, scoring_rows
from nightfeed.pipeline.inputs import shift
from nightfeed.pipeline.ranking_inputs import state_at
from nightfeed.ranking.retrievers import CANDIDATE_SCHEMA, RetrievalContext, nominate


def retrieve_candidates(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    if cfg.ranker.type == "none":
        return {"skipped": "ranker.type is none: CF-only feeds"}
    t = LakeTables(spark, lake.root)
    rctx, rows = retrieval_inputs(t, lake, region, ds, cfg)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(cfg.feed.score_block_users))
    bc = spark.sparkContext.broadcast(rctx)

    def run(batches):
        ctx = bc.value
        for batch in batches:
            if batch.num_rows:
                yield nominate(ctx, batch)

    candidates = (
        rows.mapInArrow(run, CANDIDATE_SCHEMA).withColumn("region", F.lit(region)).withColumn("ds", F.lit(ds))
    )
    t.write_slice("silver/ranking_candidates", candidates, region, ds)
    bc.unpersist()
    written = t.read_slice("silver/ranking_candidates", region, ds)
    per_user = written.groupBy("user_id").count().agg(F.count("*"), F.avg("count"), F.max("count")).first()
    by_source = {r["source"]: r["count"] for r in written.groupBy("source").count().collect()}
    return {
        "users": int(per_user[0]),
        "candidates_per_user": {"mean": round(float(per_user[1] or 0), 1), "max": int(per_user[2] or 0)},
        "rows_by_source": by_source,
    }


def retrieval_inputs(
    t: LakeTables, lake: Lake, region: str, ds: str, cfg: RegionConfig
) -> tuple[RetrievalContext, DataFrame]:
    """The retrieval context of tonight (state at the start of ds+1) and one row per active viewer
    (`scoring_rows` + state_row)."""
    reg = registered_model(t, region, ds)
    model, model_users, model_items = load_artifact(lake, reg["artifact_path"])
    catalog = scoring_catalog(t, region, ds)
    held = scoring.held(catalog).to_numpy()
    ctx = scoring.build_context(model, model_items, catalog.assign(held=False), cfg.feed, ds)
    users = t.require_slice("gold/user_features", region, ds, "build_features").select("user_id")
    user_ids = np.sort(users.toPandas()["user_id"].to_numpy(dtype=object))
    state = state_at(t, region, shift(ds, 1), cfg, user_ids, ctx.item_ids)
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
        recent=state.item_created <= 24 * cfg.ranker.creator_video_days,
        ks={name: int(k) for name, k in cfg.ranker.retrievers.items()},
        max_candidates=cfg.ranker.max_candidates,
    )
    user_index = t.spark.createDataFrame(
        pd.DataFrame({"user_id": model_users, "user_idx": np.arange(len(model_users))})
    )
    state_index = t.spark.createDataFrame(
        pd.DataFrame({"user_id": user_ids, "state_row": np.arange(len(user_ids))})
    )
    rows = scoring_rows(t, region, ds, ctx, users, user_index).join(
        F.broadcast(state_index), "user_id", "left"
    )
    return rctx, rows
