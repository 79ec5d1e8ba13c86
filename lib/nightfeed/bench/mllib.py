"""The obvious Spark-MLlib-only design the scoring benchmark compares against: MLlib ALS, then
`recommendForAllUsers` plus joins and windows for the same feed rules (exclusions, eligibility,
creator cap, n — the same FeedSettings nightfeed's rules read)."""

from __future__ import annotations

from nightfeed.configuration.settings import FeedSettings


def fit(t: dict, rank: int, iterations: int, seed: int):
    from pyspark.ml.recommendation import ALS

    model = ALS(
        rank=rank,
        maxIter=iterations,
        regParam=0.05,
        alpha=1.0,
        implicitPrefs=True,
        seed=seed,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
    ).fit(t["ratings"])
    model.userFactors.count()
    return model


def feeds(mllib_model, t: dict, feed: FeedSettings):
    """The obvious Spark design: recommendForAllUsers, then joins and windows for the same rules."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    n = feed.n
    recs = mllib_model.recommendForAllUsers(n * feed.candidate_multiplier)
    flat = recs.select("user", F.posexplode("recommendations").alias("pos", "r")).select(
        "user", F.col("r.item").alias("item"), F.col("r.rating").alias("score")
    )
    ok = flat.join(t["mllib_exclusions"], ["user", "item"], "left_anti").join(t["mllib_catalog"], "item")
    per_creator = Window.partitionBy("user", "creator_id").orderBy(F.desc("score"), "item")
    per_user = Window.partitionBy("user").orderBy(F.desc("score"), "item")
    feeds = (
        ok.withColumn("c", F.row_number().over(per_creator))
        .where(F.col("c") <= feed.max_per_creator)
        .withColumn("rank", F.row_number().over(per_user))
        .where(F.col("rank") <= n)
        .select("user", "rank", "item")
    )
    return feeds
