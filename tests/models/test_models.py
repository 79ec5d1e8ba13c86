import json
import re

import numpy as np
import pytest
import scipy.sparse as sp

from nightfeed import models
from nightfeed.evaluation.splits import holdout
from nightfeed.models import confidence
from nightfeed.models.auto import AutoModel
from nightfeed.models.cost import CostModel, DataShape


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
    "itemknn": {"neighbors": 10},
    "rp3beta": {"neighbors": 10},
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


@pytest.mark.parametrize("name", ["als", "ease", "itemknn", "rp3beta"])
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


def test_ease_solves_only_items_with_enough_users_and_ranks_the_rest_last():
    x = block_matrix().tolil()
    x[:, 29] = 0
    x[0, 29] = 1.0  # one user: pruned with min_item_users=2
    model = models.create("ease", l2=10.0, min_item_users=2, max_items=20).fit(x.tocsr())
    assert model.pruned_items == 10 and 29 not in model.kept_items
    scores = model.score_block(np.arange(3), model.confidence_of(x.tocsr()[:3]))
    assert (scores[:, 29] <= scores[:, model.kept_items].min(axis=1)).all()


def test_ease_with_no_item_of_enough_users_ties_every_score_instead_of_failing():
    x = sp.csr_matrix(np.eye(5, dtype=np.float32))  # every item has one user
    model = models.create("ease", min_item_users=2).fit(x)
    assert model.pruned_items == 5
    assert (model.scores(np.arange(5), x) == 0).all()
    (path,) = models.create("ease", min_item_users=2).path_scores(x, np.arange(5), [10.0])
    assert path.shape == (5, 5) and (path == 0).all()


@pytest.mark.parametrize("n_users", [60, 12], ids=["item-gram", "user-gram"])
def test_ease_fit_and_regularisation_path_match_the_closed_form(n_users):
    x = block_matrix(n_users=n_users)
    users = np.arange(n_users)
    path = list(models.create("ease").path_scores(x, users, [5.0, 50.0]))
    binary = (x > 0).astype(np.float64)
    for l2, scores in zip([5.0, 50.0], path):
        direct = models.create("ease", l2=l2, min_item_users=1).fit(x)
        inv = np.linalg.inv((binary.T @ binary).toarray() + l2 * np.eye(x.shape[1]))
        expected = -inv / np.diag(inv)
        np.fill_diagonal(expected, 0.0)
        kept = np.ix_(direct.kept_items, direct.kept_items)  # items nobody had: zero weights anyway
        np.testing.assert_allclose(direct.item_weights, expected[kept], atol=1e-4)
        direct = models.create("ease", l2=l2).fit(x)
        np.testing.assert_allclose(scores, direct.scores(users, x), atol=2e-3)


def test_confidence_transforms():
    x = sp.csr_matrix(np.array([[1.0, 0.0, 1000.0], [3.0, 0.0, 0.0]], dtype=np.float32))
    assert confidence.apply(x, "raw") is x
    np.testing.assert_array_equal(confidence.apply(x, "binary").toarray(), (x.toarray() > 0))
    logged = confidence.apply(x, "log", alpha=2.0, eps=10.0).toarray()
    np.testing.assert_allclose(logged[0, 2], 1 + 2 * np.log1p(100.0), rtol=1e-6)
    assert logged[0, 1] == 0.0
    assert confidence.candidates(confidence.apply(x, "binary")) == [{"confidence": "binary"}]
    kinds = [c["confidence"] for c in confidence.candidates(x)]
    assert kinds[0] == "log" and "binary" in kinds
    with pytest.raises(ValueError, match="unknown confidence"):
        models.create("als", confidence="sqrt")


def heavy_tailed(n_users=120, n_items=80, seed=3):
    """Two taste groups again, plus play counts from 1 to ~10⁵ that say little about taste:
    a few random (user, item) pairs have enormous counts."""
    rng = np.random.default_rng(seed)
    x = block_matrix(n_users, n_items, seed).tocoo()
    plays = np.floor(rng.pareto(0.7, x.nnz) + 1).clip(1, 200000)
    noise_users = rng.integers(0, n_users, 40)
    noise_items = rng.integers(0, n_items, 40)
    noise = sp.csr_matrix((np.full(40, 1e5, np.float32), (noise_users, noise_items)), shape=x.shape)
    return sp.csr_matrix((plays.astype(np.float32), (x.row, x.col)), shape=x.shape) + noise


def test_auto_chooses_a_scaled_transform_on_heavy_tailed_weights():
    x = heavy_tailed()
    auto = AutoModel(k=5, time_budget_s=60, candidates=["ease", "als"]).fit(x)
    transforms = {t["params"].get("confidence") for t in auto.trials}
    assert {"log", "binary"} <= transforms
    assert auto.chosen["params"]["confidence"] in ("log", "binary")
    best_single = max(t["metrics"]["ndcg@5"] for t in auto.trials if t["model"] != "blend")
    assert auto.chosen["metrics"]["ndcg@5"] >= best_single
    raw = models.create("als", factors=8, iterations=5, confidence="raw").fit(x)
    scaled = models.create("als", factors=8, iterations=5).fit(x)
    ids_raw, _ = raw.recommend(np.arange(120), x, N=3)
    ids_log, _ = scaled.recommend(np.arange(120), x, N=3)

    def in_group(ids):
        return np.mean([(i < 40) == (u < 60) for u, row in enumerate(ids) for i in row if i >= 0])

    assert in_group(ids_log) > in_group(ids_raw)


def test_unknown_model_and_parameter_are_rejected():
    with pytest.raises(ValueError, match="unknown model"):
        models.create("svd")
    with pytest.raises(ValueError, match="unknown parameters"):
        models.create("als", factor=3)
    assert models.create("als", factors=np.int64(8), regularization=np.float32(0.5)).params["factors"] == 8


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("als", {"factors": -3}, "als: factors = -3: must be above 0"),
        ("als", {"factors": 0}, "factors = 0: must be above 0"),
        ("als", {"factors": 2.5}, "factors = 2.5: must be a whole number"),
        ("als", {"factors": "big"}, "factors = 'big': must be a number"),
        ("als", {"regularization": -0.1}, "regularization = -0.1: must be at least 0"),
        ("als", {"bm25": 1}, "bm25 = 1: must be true or false"),
        ("ease", {"l2": 0}, "ease: l2 = 0: must be above 0"),
        ("ease", {"l2": float("nan")}, "l2 = nan: must be above 0"),
        ("rp3beta", {"neighbors": 0}, "neighbors = 0: must be above 0"),
        ("bpr", {"learning_rate": 0.0}, "learning_rate = 0.0: must be above 0"),
        ("auto", {"k": 0}, "auto: k = 0: must be above 0"),
    ],
)
def test_parameters_of_the_wrong_kind_or_range_are_rejected(name, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        models.create(name, **params)
    assert models.create(name, **{k: 1 for k in params if k not in ("bm25",)}).params


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
    tuning = json.loads((tmp_path / "auto" / "tuning.json").read_text())
    assert tuning["chosen"] == auto.chosen and len(tuning["trials"]) == len(auto.trials)
    assert models.load(tmp_path / "auto").name == "ease"


def test_auto_searches_on_a_sample_of_users_and_fits_its_choice_on_all(tmp_path):
    x = block_matrix(n_users=300)
    auto = AutoModel(k=5, time_budget_s=60, candidates=["als"], search_max_users=120).fit(x)
    assert auto.folds[0][0].shape[0] == 120
    assert auto.inner.user_factors.shape[0] == 300, "the winner is fitted on every user"
    auto.save(tmp_path / "auto")
    assert json.loads((tmp_path / "auto" / "tuning.json").read_text())["search_users"] == 120
    assert AutoModel(k=5, time_budget_s=60, candidates=["popularity"]).fit(x).folds[0][0].shape[0] == 300


def test_auto_skips_what_would_not_fit_its_budget_and_says_why(monkeypatch):
    """On a machine 100× slower than this one (fixed, so the outcome does not hang on its load)."""
    monkeypatch.setattr(CostModel, "probe", classmethod(lambda cls: cls(seconds_per_flop=1e-8)))
    x = block_matrix(n_users=60)
    auto = AutoModel(k=5, time_budget_s=0.5).fit(x)
    assert auto.skipped and all("left of the budget" in s["reason"] for s in auto.skipped)
    assert auto.trials, "something always runs (the cheapest model at least)"
    assert {s["model"] for s in auto.skipped} & {"bpr", "als", "blend"}


def test_cost_estimates_grow_with_the_work_and_learn_from_trials():
    small = DataShape(users=5000, items=100, nnz=1000, cooccurrences=1e4, eval_users=100)
    large = DataShape(users=5000, items=1000, nnz=1000, cooccurrences=1e4, eval_users=100)
    costs = CostModel(seconds_per_flop=1e-9)
    ratio = costs.seconds("ease", {}, large, 0) / costs.seconds("ease", {}, small, 0)
    assert ratio == pytest.approx(1000, rel=0.01), "items³ with more users than items"
    few_users = DataShape(users=100, items=1000, nnz=1000, cooccurrences=1e4, eval_users=100)
    assert costs.seconds("ease", {}, few_users, 0) < costs.seconds("ease", {}, large, 0) / 50, "Woodbury"
    als = {"factors": 32, "iterations": 10}
    assert costs.seconds("als", {**als, "factors": 64}, small, 0) > 3 * costs.seconds("als", als, small, 0)
    before = costs.seconds("als", als, small, 0)
    costs.learn("als", als, small, 0, 1, measured_s=10 * before)
    assert costs.seconds("als", als, small, 0) == pytest.approx(10 * before)


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


def test_blend_weight_path_equals_each_blend(monkeypatch):
    """One fit of the members for every weight gives each blend's own top-N, also across blocks."""
    from nightfeed.models import blend as blend_module

    monkeypatch.setattr(blend_module, "BLOCK_USERS", 7)
    x = block_matrix()
    members = [
        {"model": "ease", "params": {"l2": 10.0}},
        {"model": "als", "params": {"factors": 8, "iterations": 5}},
    ]
    users = np.array([0, 2, 3, 5, 8, 13, 17, 21, 26, 30, 34, 39])
    path = list(
        models.create("blend", members=members, weights=[0.5, 0.5]).path_recommend(x, users, [0.6, 0.8], 5)
    )
    for w, ids in zip([0.6, 0.8], path, strict=True):
        one = models.create("blend", members=members, weights=[w, round(1 - w, 3)]).fit(x)
        np.testing.assert_array_equal(ids, one.recommend(users, x[users], N=5)[0])
    with pytest.raises(ValueError, match="exactly two members"):
        next(models.create("blend", members=members[:1], weights=[1.0]).path_recommend(x, users, [0.6], 5))


def test_auto_blends_its_two_best_families():
    """Besides item-item + ALS, the two families that validate best are blended (here BPR and
    ALS, with no item-item model among the candidates), each pair at every blend weight."""
    x = block_matrix()
    auto = AutoModel(k=5, time_budget_s=60, candidates=["als", "bpr"]).fit(x)
    blends = [t for t in auto.trials if t["model"] == "blend"]
    assert {tuple(m["model"] for m in t["params"]["members"]) for t in blends} in (
        {("als", "bpr")},
        {("bpr", "als")},
    )
    assert sorted(t["params"]["weights"][0] for t in blends) == sorted(models.auto.BLEND_WEIGHTS)
    assert auto.chosen["metrics"]["ndcg@5"] == max(t["metrics"]["ndcg@5"] for t in auto.trials)
