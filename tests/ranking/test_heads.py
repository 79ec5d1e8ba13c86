"""The ranker's heads and the order value."""

import numpy as np
import pandas as pd
import pytest

from nightfeed.ranking.features import FEATURES
from nightfeed.ranking.heads import LABELS, Ranker, fit_local, order_value


def test_order_value_is_the_weighted_sum_of_the_heads():
    predictions = {
        "watch": np.array([10.0, 0.0]),
        "like": np.array([0.5, 0.1]),
        "skip": np.array([0.2, 0.9]),
        "share": np.array([0.3, 0.3]),  # no weight: adds nothing
    }
    weights = {"watch": 1.0, "like": 40.0, "skip": -30.0, "follow": 20.0}  # follow: no such head here
    np.testing.assert_allclose(order_value(predictions, weights), [10 + 20 - 6, 0 + 4 - 27])


def _examples(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, len(FEATURES)))
    frame = pd.DataFrame(x, columns=list(FEATURES))
    quality = frame["i_completion"].to_numpy()
    frame["watch_s"] = 30 * quality + rng.random(n)
    for label in ("finished", "liked", "shared", "followed"):
        frame[label] = rng.random(n) < quality
    frame["skipped"] = rng.random(n) > quality
    return frame


def test_heads_learn_their_outcome_and_survive_a_save(tmp_path):
    examples = _examples()
    ranker = fit_local(examples, {"watch": 1.0, "like": 40.0, "skip": -30.0}, rounds=20, max_depth=3, seed=1)
    assert set(ranker.heads) == set(LABELS)
    x = examples[list(FEATURES)].to_numpy(np.float32)
    value = ranker.value(x)
    assert np.corrcoef(value, examples["i_completion"])[0, 1] > 0.8  # better videos, higher value
    ranker.save(tmp_path / "r")
    loaded = Ranker.load(tmp_path / "r")
    assert loaded.weights == ranker.weights
    np.testing.assert_allclose(loaded.value(x), value, rtol=1e-6)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == sorted(
        [f"{h}.json" for h in LABELS] + ["ranker.json"]
    )


def test_a_head_whose_outcome_never_varies_is_left_out():
    examples = _examples().assign(followed=False)
    ranker = fit_local(examples, {"watch": 1.0}, rounds=5, max_depth=2, seed=1)
    assert "follow" not in ranker.heads and "watch" in ranker.heads


def test_loading_refuses_an_unknown_head(tmp_path):
    ranker = fit_local(_examples(), {"watch": 1.0}, rounds=3, max_depth=2, seed=1)
    ranker.save(tmp_path / "r")
    meta = tmp_path / "r" / "ranker.json"
    meta.write_text(meta.read_text().replace('"watch"', '"../../evil"', 1))
    with pytest.raises(ValueError, match="unknown head"):
        Ranker.load(tmp_path / "r")


def test_heads_train_on_spark_into_the_same_boosters(spark, tmp_path):
    """Above `spark_min_examples` the heads train with xgboost.spark: same Ranker, same files."""
    from nightfeed.ranking.heads import fit_spark

    examples = _examples(600, seed=3)
    frame = spark.createDataFrame(examples.astype({c: "float64" for c in FEATURES}))
    ranker = fit_spark(frame, {"watch": 1.0, "like": 40.0}, rounds=10, max_depth=3, seed=1, n_workers=1)
    assert set(ranker.heads) == set(LABELS)
    x = examples[list(FEATURES)].to_numpy(np.float32)
    assert np.corrcoef(ranker.value(x), examples["i_completion"])[0, 1] > 0.8
    ranker.save(tmp_path / "r")
    np.testing.assert_allclose(Ranker.load(tmp_path / "r").value(x), ranker.value(x), rtol=1e-6)
