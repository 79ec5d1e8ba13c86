"""Scoring distributed over users on Spark: one shuffle builds each active user's block row,
`mapInArrow` composes their feeds (`scoring.compose_feeds`) against the broadcast context."""

from __future__ import annotations

from nightfeed.feeds.blocks import BLOCK_FACTORS
from nightfeed.feeds.scoring import FEED_SCHEMA, compose_feeds


def user_blocks(users, interactions, exclusions, item_codes, user_index, n_model_items: int):
    """One row per active user, the input of `score_users`, built with a single shuffle.

    users: user_id (the users to score); interactions: user_id, item_id, confidence;
    exclusions: user_id, item_id; item_codes: item_id, code (codes below n_model_items are the
    model's items: history; seen items the model does not know join the exclusions); user_index:
    user_id, user_idx (the model's users: broadcast) and, for a factor model, user_factors (each
    user's factors: joined, not broadcast, so a task holds only its block's).
    """
    from pyspark.sql import functions as F

    none = F.lit(None)
    rows = (
        users.select(
            "user_id",
            F.lit(0).alias("kind"),
            none.cast("int").alias("code"),
            none.cast("float").alias("confidence"),
        )
        .unionByName(
            interactions.join(F.broadcast(item_codes), "item_id").select(
                "user_id",
                F.when(F.col("code") < n_model_items, 1).otherwise(2).alias("kind"),
                F.col("code").cast("int").alias("code"),
                F.col("confidence").cast("float").alias("confidence"),
            )
        )
        .unionByName(
            exclusions.join(F.broadcast(item_codes), "item_id").select(
                "user_id",
                F.lit(2).alias("kind"),
                F.col("code").cast("int").alias("code"),
                none.cast("float").alias("confidence"),
            )
        )
    )
    kind = F.col("kind")
    grouped = (
        rows.groupBy("user_id")
        .agg(
            F.max(kind == 0).alias("active"),
            F.collect_list(F.when(kind == 1, F.struct("code", "confidence"))).alias("h"),
            F.collect_list(F.when(kind == 2, F.col("code"))).alias("excl"),
        )
        .where("active")
    )
    factors = [c for c in user_index.columns if c == BLOCK_FACTORS]
    index = user_index if factors else F.broadcast(user_index)
    return grouped.join(index, "user_id", "left").select(
        F.col("user_id").cast("string").alias("user_id"),
        F.coalesce("user_idx", F.lit(-1)).cast("long").alias("user_idx"),
        F.col("h.code").alias("hist_idx"),
        F.col("h.confidence").alias("hist_conf"),
        "excl",
        *factors,
    )


def score_users(users_df, ctx_broadcast):
    """Spark: mapInArrow over blocks of users with the broadcast FeedContext."""

    def run(batches):
        ctx = ctx_broadcast.value
        for batch in batches:
            if batch.num_rows:
                yield compose_feeds(ctx, batch)

    return users_df.mapInArrow(run, FEED_SCHEMA)
