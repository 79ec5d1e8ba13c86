"""A factor model's user factors travel with each block of users, and give the same feeds as the
whole model broadcast."""

from dataclasses import replace

import numpy as np
import pandas as pd

from helpers.scoring import FEED, catalog, factor_model
from nightfeed.feeds import scoring, scoring_spark
from nightfeed.feeds.blocks import BLOCK_FACTORS
from nightfeed.pipeline.feed_passes import model_user_index


def test_feeds_from_block_factors_equal_those_of_the_broadcast_model(spark):
    rng = np.random.default_rng(7)
    n_users, n_items, rank = 120, 90, 8
    model = factor_model(rng.normal(size=(n_users, rank)), rng.normal(size=(n_items, rank)))
    item_ids = np.array([f"i{k}" for k in range(n_items)])
    model_users = np.array([f"u{k:03d}" for k in range(n_users)])
    feed = replace(FEED, n=10, max_per_creator=10)
    cat = catalog(n_items)
    history = pd.DataFrame(
        [
            (f"u{u:03d}", f"i{i}", 1.0)
            for u in range(n_users + 5)
            for i in rng.choice(n_items, 4, replace=False)
        ],
        columns=["user_id", "item_id", "confidence"],
    )  # five users the model does not know: cold start
    frames = {
        "users": spark.createDataFrame(history[["user_id"]].drop_duplicates()),
        "interactions": spark.createDataFrame(history),
        "exclusions": spark.createDataFrame(history[["user_id", "item_id"]].head(40)),
        "item_codes": spark.createDataFrame(pd.DataFrame({"item_id": item_ids, "code": np.arange(n_items)})),
    }

    def feeds(model, user_index):
        ctx = scoring.build_context(model, item_ids, cat, feed)
        rows = scoring_spark.user_blocks(**frames, user_index=user_index, n_model_items=n_items)
        got = scoring_spark.score_users(rows.repartition(3), spark.sparkContext.broadcast(ctx)).toPandas()
        return rows, got.sort_values(["user_id", "rank"], ignore_index=True)

    shared, with_factors = model_user_index(spark, model, model_users)
    assert shared.user_factors.shape == (0, rank) and model.user_factors.shape == (n_users, rank)
    plain = spark.createDataFrame(pd.DataFrame({"user_id": model_users, "user_idx": np.arange(n_users)}))
    rows, blocked = feeds(shared, with_factors)
    assert BLOCK_FACTORS in rows.columns
    _, whole = feeds(model, plain)
    assert len(whole) == (n_users + 5) * 10
    pd.testing.assert_frame_equal(blocked, whole)
