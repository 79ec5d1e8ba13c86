import math

import numpy as np
import pandas as pd
import pytest

from nightfeed.errors import NightfeedError
from nightfeed.evaluation import loaders, metrics, splits
from nightfeed.pipeline import offline


def test_metrics_match_hand_computed_values():
    # user 0: relevant {1, 3}; recs [1, 2, 3] -> hits at ranks 1 and 3
    # user 1: relevant {9} (not in catalog); recs [4, 5, -1] -> no hits
    recs = np.array([[1, 2, 3], [4, 5, -1]])
    m = metrics.ranking_metrics(recs, [{1, 3}, {-7}], k=3, n_items=10)
    dcg0 = 1 / math.log2(2) + 1 / math.log2(4)
    idcg0 = 1 / math.log2(2) + 1 / math.log2(3)
    assert m["ndcg@3"] == pytest.approx((dcg0 / idcg0 + 0) / 2)
    assert m["precision@3"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["recall@3"] == pytest.approx((2 / 2 + 0) / 2)
    assert m["map@3"] == pytest.approx(((1 / 1 + 2 / 3) / 2 + 0) / 2)
    assert m["coverage"] == pytest.approx(5 / 10)


def test_map_and_ndcg_normalise_by_min_k_and_relevant():
    recs = np.array([[5, 6]])
    m = metrics.ranking_metrics(recs, [{5, 7, 8, 9}], k=2, n_items=10)
    assert m["ndcg@2"] == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert m["map@2"] == pytest.approx(1 / 2)  # one hit at rank 1, normalised by min(2, 4)


def _interactions(n_users=30, per_user=8, seed=0):
    rng = np.random.default_rng(seed)
    rows = [
        (f"u{u}", f"i{rng.integers(0, 40)}", 1.0, float(t)) for u in range(n_users) for t in range(per_user)
    ]
    return pd.DataFrame(rows, columns=["user", "item", "weight", "time"])


@pytest.mark.parametrize("method", splits.SPLITS)
def test_split_has_no_leakage(method):
    df = _interactions()
    train, test = splits.split(df, method, 0.25, seed=1)
    pairs_train = set(zip(train.user, train.item))
    assert not pairs_train & set(zip(test.user, test.item))
    merged = df.groupby(["user", "item"]).size()
    assert len(train) + len(test) == len(merged)


def test_stratified_split_takes_a_quarter_of_each_user():
    df = pd.DataFrame(
        [(f"u{u}", f"i{i}", 1.0, 0.0) for u in range(5) for i in range(8)],
        columns=["user", "item", "weight", "time"],
    )
    train, test = splits.split(df, "stratified", 0.25, seed=3)
    assert test.groupby("user").size().tolist() == [2] * 5


def test_temporal_split_holds_out_each_users_latest():
    df = pd.DataFrame(
        [(f"u{u}", f"i{i}", 1.0, float(i)) for u in range(3) for i in range(4)],
        columns=["user", "item", "weight", "time"],
    )
    _, test = splits.split(df, "temporal", 0.25, seed=0)
    assert sorted(test.item) == ["i3", "i3", "i3"]


def test_global_time_split_cuts_once():
    df = pd.DataFrame(
        [(f"u{u}", f"i{i}", 1.0, float(i)) for u in range(3) for i in range(4)],
        columns=["user", "item", "weight", "time"],
    )
    train, test = splits.split(df, "global-time", 0.25, seed=0)
    assert test.time.min() > train.time.max()


def test_too_few_interactions_is_a_clear_error():
    with pytest.raises(NightfeedError, match="too few interactions"):
        splits.split(_interactions(n_users=1, per_user=3), "stratified")


def test_loaders_and_their_errors(tmp_path):
    u = tmp_path / "u.data"
    u.write_text("1\t10\t5\t881250949\n2\t20\t3\t881250950\n")
    df = loaders.load_interactions(u, "movielens-100k")
    assert df.user.tolist() == ["1", "2"] and df.time.tolist() == [881250949, 881250950]
    r = tmp_path / "ratings.csv"
    r.write_text("userId,movieId,rating,timestamp\n1,10,4.0,100\n")
    assert loaders.load_interactions(r, "movielens-csv").item.tolist() == ["10"]
    c = tmp_path / "clicks.tsv"
    c.write_text("a;x;3\nb;y;1\n")
    df = loaders.load_interactions(
        c, "csv", sep=";", user_col="0", item_col="1", weight_col="2", header=False
    )
    assert df.weight.tolist() == [3.0, 1.0]
    with pytest.raises(NightfeedError, match="not found"):
        loaders.load_interactions(tmp_path / "missing.csv", "csv", user_col="a", item_col="b")
    bad = tmp_path / "bad.data"
    bad.write_text("1\t10\t5\t1\n2\t20\n")
    with pytest.raises(NightfeedError, match=r"bad.data:2: malformed line"):
        loaders.load_interactions(bad, "movielens-100k")
    with pytest.raises(NightfeedError, match="unknown column 'user'"):
        loaders.load_interactions(r, "csv", user_col="user", item_col="movieId")


def test_compare_reports_the_contract_keys():
    df = _interactions(n_users=40, per_user=10)
    res = offline.compare(df, ["popularity", "als"], "stratified", 0.25, 42, 5)
    assert [r["model"] for r in res] == ["popularity", "als"]
    for r in res:
        assert set(r) >= {
            "model",
            "params",
            "k",
            "metrics",
            "timings",
            "n_users",
            "n_items",
            "n_train",
            "n_test",
        }
        assert set(r["metrics"]) == {"ndcg@5", "map@5", "precision@5", "recall@5", "coverage"}
        assert set(r["timings"]) == {"fit_s", "recommend_s"}
