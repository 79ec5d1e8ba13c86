import numpy as np
import pytest
import scipy.sparse as sp

from nightfeed import models
from nightfeed.errors import NightfeedError
from nightfeed.evaluation.splits import holdout
from nightfeed.models.auto import AutoModel


def block_matrix(n_users=40, n_items=30, seed=0):
    """Two taste groups: users 0..19 like items 0..14, the rest items 15..29."""
    rng = np.random.default_rng(seed)
    dense = np.zeros((n_users, n_items), dtype=np.float32)
    for u in range(n_users):
        lo = 0 if u < n_users // 2 else n_items // 2
        dense[u, rng.choice(np.arange(lo, lo + n_items // 2), size=6, replace=False)] = 1 + rng.random(6)
    return sp.csr_matrix(dense)


FAST = {
    "popularity": {},
    "als": {"factors": 8, "iterations": 5},
    "bpr": {"factors": 8, "iterations": 20},
    "ease": {"l2": 10.0},
}


@pytest.mark.parametrize("name", list(FAST))
def test_recommend_excludes_seen_and_filtered_and_roundtrips(name, tmp_path):
    x = block_matrix()
    model = models.create(name, **FAST[name]).fit(x)
    users = np.arange(5)
    ids, scores = model.recommend(users, x[users], N=10, filter_items=np.array([0, 1]))
    for u, row in zip(users, ids):
        got = set(row[row >= 0])
        assert not got & set(x[u].indices), "seen items never recommended"
        assert not got & {0, 1}
        assert len(got) == len(row[row >= 0]), "no duplicates"
    assert np.all(np.diff(scores, axis=1)[np.isfinite(scores[:, 1:])] <= 1e-6)
    model.save(tmp_path / name)
    again = models.load(tmp_path / name)
    ids2, _ = again.recommend(users, x[users], N=10, filter_items=np.array([0, 1]))
    np.testing.assert_array_equal(ids, ids2)


@pytest.mark.parametrize("name", ["als", "ease"])
def test_models_learn_the_taste_groups(name):
    x = block_matrix()
    model = models.create(name, **FAST[name]).fit(x)
    ids, _ = model.recommend(np.arange(40), x, N=3)
    in_group = [(i < 15) == (u < 20) for u, row in enumerate(ids) for i in row if i >= 0]
    assert np.mean(in_group) > 0.9


def test_exclude_matrix_is_respected():
    x = block_matrix()
    model = models.create("popularity").fit(x)
    exclude = sp.csr_matrix(np.ones((1, 30), dtype=np.float32))
    ids, scores = model.recommend([0], x[[0]], N=5, exclude=exclude)
    assert (ids == -1).all() and np.isneginf(scores).all()


def test_ease_refuses_catalogs_above_its_limit():
    with pytest.raises(NightfeedError, match="max_items"):
        models.create("ease", max_items=10).fit(block_matrix())


def test_unknown_model_and_parameter_are_rejected():
    with pytest.raises(ValueError, match="unknown model"):
        models.create("svd")
    with pytest.raises(ValueError, match="unknown parameters"):
        models.create("als", factor=3)


def test_spark_als_fits_on_spark(spark):
    x = block_matrix()
    model = models.create("spark-als", factors=8, iterations=5).fit(x)
    assert model.user_factors.shape == (40, 8) and model.item_factors.shape == (30, 8)
    ids, _ = model.recommend(np.arange(40), x, N=3)
    in_group = [(i < 15) == (u < 20) for u, row in enumerate(ids) for i in row if i >= 0]
    assert np.mean(in_group) > 0.8


def test_holdout_is_carved_from_training_only():
    x = block_matrix()
    train, val = holdout(x, 0.25, seed=1)
    assert train.multiply(val).nnz == 0
    assert (train + val - x).nnz == 0 or abs(train + val - x).max() < 1e-6
    assert (np.diff(train.indptr) >= 1).all()


def test_auto_records_trials_and_picks_the_best(tmp_path):
    x = block_matrix(n_users=60)
    auto = AutoModel(k=5, time_budget_s=60, candidates=["ease", "popularity"]).fit(x)
    best = max(auto.trials, key=lambda t: t["metrics"]["ndcg@5"])
    assert auto.chosen == best and auto.chosen["model"] == "ease"
    auto.save(tmp_path / "auto")
    assert (tmp_path / "auto" / "tuning.json").exists()
    assert models.load(tmp_path / "auto").name == "ease"


def test_blend_saves_and_loads(tmp_path):
    x = block_matrix()
    blend = models.create(
        "blend",
        members=[
            {"model": "ease", "params": {"l2": 10.0}},
            {"model": "als", "params": {"factors": 8, "iterations": 5}},
        ],
        weights=[0.7, 0.3],
    ).fit(x)
    ids, _ = blend.recommend(np.arange(4), x[:4], N=5)
    blend.save(tmp_path / "b")
    ids2, _ = models.load(tmp_path / "b").recommend(np.arange(4), x[:4], N=5)
    np.testing.assert_array_equal(ids, ids2)
