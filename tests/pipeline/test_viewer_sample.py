"""The bounded reads of train_ranker and the next-day metrics: a fixed sample of whole viewers."""

import pandas as pd

from nightfeed.pipeline.inputs import viewer_sample


def test_the_sample_keeps_whole_viewers_and_about_the_asked_number_of_examples(spark):
    rows = pd.DataFrame({"user_id": [f"u{u}" for u in range(400) for _ in range(10)], "x": 1.0})
    examples = spark.createDataFrame(rows)
    sample, share = viewer_sample(examples, 1000, seed=42)
    kept = sample.toPandas()
    assert share == 0.25 and 700 < len(kept) < 1300
    assert (kept.groupby("user_id").size() == 10).all(), "a viewer is in or out with all their examples"
    again, _ = viewer_sample(examples, 1000, seed=42)
    assert sorted(again.toPandas()["user_id"]) == sorted(kept["user_id"])
    everything, share = viewer_sample(examples, 10_000, seed=42)
    assert share == 1.0 and everything.count() == 4000
