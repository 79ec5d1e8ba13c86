import bz2
import gzip
import json
import lzma
import math
import zipfile

import numpy as np
import pandas as pd
import pytest

from nightfeed.core.errors import NightfeedError
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


def test_gini_of_equal_and_of_winner_takes_all_exposure():
    assert metrics.gini([3, 3, 3, 3]) == 0.0
    assert metrics.gini([0, 0, 0, 5]) == pytest.approx(3 / 4)
    assert metrics.gini([1, 3]) == pytest.approx(0.25)  # (2·1 - 3)·1 + (2·2 - 3)·3 = 2, / (2·4)
    assert metrics.gini([]) == 0.0 and metrics.gini([0, 0]) == 0.0


def test_gini_and_novelty_of_top_k_lists():
    recs = np.array([[0, 1], [0, 2]])  # item 0 twice, items 1 and 2 once, item 3 never
    popularity = np.array([0.5, 0.25, 0.125, 0.0])
    m = metrics.ranking_metrics(recs, [{0}, {1}], k=2, n_items=4, popularity=popularity)
    assert m["gini"] == pytest.approx(metrics.gini([2, 1, 1, 0]))
    assert m["novelty"] == pytest.approx((1 + 1 + 2 + 3) / 4)  # -log2 of 0.5, 0.5, 0.25, 0.125


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
    one_each = pd.DataFrame({"user": [str(u) for u in range(20)], "item": "i", "weight": 1.0, "time": 0.0})
    with pytest.raises(NightfeedError, match="no user has enough distinct items .* at most 1 per user"):
        splits.split(one_each, "stratified")


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
    with pytest.raises(NightfeedError, match="input file is a directory; give the file inside it"):
        loaders.load_interactions(tmp_path, "csv", user_col="a", item_col="b")
    bad = tmp_path / "bad.data"
    bad.write_text("1\t10\t5\t1\n2\t20\n")
    with pytest.raises(NightfeedError, match=r"bad.data:2: malformed line"):
        loaders.load_interactions(bad, "movielens-100k")
    with pytest.raises(NightfeedError, match="unknown column 'user'"):
        loaders.load_interactions(r, "csv", user_col="user", item_col="movieId")
    for empty in ("", "\n\n", "# only a comment\n"):
        (tmp_path / "empty.csv").write_text(empty)
        with pytest.raises(NightfeedError, match="empty.csv: no interactions found .the file is empty"):
            loaders.load_interactions(tmp_path / "empty.csv", "movielens-csv")


def test_loaders_read_what_public_data_sets_ship(tmp_path):
    """MovieLens 1M's `::`, a byte-order mark, CRLF, a TSV field with a stray quote, latin-1 bytes."""
    dat = tmp_path / "ratings.dat"
    dat.write_bytes(b"1::1193::5::978300760\r\n1::661::3::978302109\r\n")
    df = loaders.load_interactions(dat, "movielens-dat")
    assert df.item.tolist() == ["1193", "661"] and df.weight.tolist() == [5.0, 3.0]
    same = loaders.load_interactions(dat, "csv", sep="::", user_col="0", item_col="1", header=False)
    assert same.item.tolist() == ["1193", "661"]
    bom = tmp_path / "ratings.csv"
    bom.write_bytes(b"\xef\xbb\xbfuserId,movieId,rating,timestamp\n1,10,4.0,100\n")
    assert loaders.load_interactions(bom, "movielens-csv").user.tolist() == ["1"]
    tsv = tmp_path / "plays.tsv"
    tsv.write_bytes(b'u1\t"Weird Al\tx\nu2\tCaf\xe9 \x85 Tacvba\tx\nu3\tabc\tx\n')
    df = loaders.load_interactions(tsv, "csv", sep="\\t", user_col="0", item_col="1", header=False)
    assert df.user.tolist() == ["u1", "u2", "u3"]
    assert df.item.tolist() == ['"Weird Al', "Caf\xe9 \x85 Tacvba", "abc"]
    with pytest.raises(NightfeedError, match="--sep must not be empty"):
        loaders.load_interactions(tsv, "csv", sep="", user_col="0", item_col="1", header=False)


def test_loaders_read_compressed_commented_whitespace_and_iso_time_files(tmp_path):
    """As shipped: gzip/bz2/xz/one-file zip, a SNAP/KONECT comment preamble with runs of spaces,
    Last.fm 1K's ISO-8601 times; non-finite numbers and unreadable archives are clear errors."""
    text = b"userId,movieId,rating,timestamp\n1,10,4.0,100\n2,20,3.0,200\n"
    for name, data in [
        ("r.csv.gz", gzip.compress(text)),
        ("r.csv.bz2", bz2.compress(text)),
        ("r.csv.xz", lzma.compress(text)),
    ]:
        (tmp_path / name).write_bytes(data)
        assert loaders.load_interactions(tmp_path / name, "movielens-csv").item.tolist() == ["10", "20"]
    with zipfile.ZipFile(tmp_path / "one.zip", "w") as archive:
        archive.writestr("ml/ratings.csv", text)
    assert loaders.load_interactions(tmp_path / "one.zip", "movielens-csv").time.tolist() == [100, 200]
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
        archive.writestr("ratings.csv", text)
        archive.writestr("movies.csv", b"movieId,title\n")
    with pytest.raises(NightfeedError, match="a zip of 2 files .*extract the one to read"):
        loaders.load_interactions(tmp_path / "two.zip", "movielens-csv")
    (tmp_path / "cut.gz").write_bytes(gzip.compress(text)[:20])
    with pytest.raises(NightfeedError, match="cut.gz: cannot decompress"):
        loaders.load_interactions(tmp_path / "cut.gz", "movielens-csv")
    konect = tmp_path / "out.konect"
    konect.write_text("% bip unweighted\n% 3 2 2\n1  \t10 1\n2 20   1\nx\n")
    with pytest.raises(NightfeedError, match=r"out.konect:5: malformed line"):
        loaders.load_interactions(konect, "csv", sep="whitespace", user_col="0", item_col="1", header=False)
    konect.write_text("% bip unweighted\n% 3 2 2\n1  \t10 1\n2 20   1\n")
    df = loaders.load_interactions(konect, "csv", sep="ws", user_col="0", item_col="1", header=False)
    assert df.item.tolist() == ["10", "20"]
    plays = tmp_path / "lastfm.tsv"
    plays.write_text("u1\t2009-05-04T23:08:57Z\ta\nu1\t2009-05-04 13:54:10\tb\nu2\t2009-05-05\tc\n")
    df = loaders.load_interactions(
        plays, "csv", sep="tab", user_col="0", item_col="2", time_col="1", header=False
    )
    assert df.time.tolist() == [1241478537.0, 1241445250.0, 1241481600.0]
    plays.write_text("u1\tyesterday\ta\n")
    with pytest.raises(NightfeedError, match="time 'yesterday' is not a number or an ISO-8601 date/time"):
        loaders.load_interactions(
            plays, "csv", sep="tab", user_col="0", item_col="2", time_col="1", header=False
        )
    for bad in ("nan", "inf", "-Infinity"):
        (tmp_path / "w.csv").write_text(f"u,i,w\n1,2,1\n1,3,{bad}\n")
        with pytest.raises(
            NightfeedError, match=f"w.csv:3: malformed line \\(weight '{bad}' is not a finite"
        ):
            loaders.load_interactions(tmp_path / "w.csv", "csv", user_col="u", item_col="i", weight_col="w")


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("1::10::4.5::100\n2::20::3::200\n", dict(fmt="movielens-dat")),
        (
            'user,item,w\n" a",b c,1e1\n"x, y",z,2\n\n',
            dict(fmt="csv", user_col="user", item_col="item", weight_col="w"),
        ),
        (
            'u1\t"Weird Al\t7\nu2\tCaf\xe9\t8\n',
            dict(fmt="csv", sep="tab", user_col="0", item_col="1", header=False),
        ),
        (
            "% konect\n 1  10\t2009-05-04T23:08:57Z\n2 20 2009-05-05\n",
            dict(fmt="csv", sep="whitespace", user_col="0", item_col="1", time_col="2", header=False),
        ),
    ],
    ids=["dat", "quoted-csv", "tsv", "whitespace-iso"],
)
def test_the_fast_reader_reads_exactly_what_the_line_reader_does(tmp_path, monkeypatch, text, options):
    path = tmp_path / "data"
    path.write_text(text)
    fmt = options.pop("fmt")
    read_fast, results = loaders._read_fast, []
    monkeypatch.setattr(loaders, "_read_fast", lambda *a: results.append(read_fast(*a)) or results[-1])
    fast = loaders.load_interactions(path, fmt, **options)
    assert results[0] is not None, "the fast reader gave up on a well-formed file"
    monkeypatch.setattr(loaders, "_read_fast", lambda *a: None)
    exact = loaders.load_interactions(path, fmt, **options)
    pd.testing.assert_frame_equal(fast, exact)


def test_compare_says_when_the_data_cannot_be_learned_from():
    df = _interactions(n_users=20, per_user=8).assign(weight=0.0)
    with pytest.raises(NightfeedError, match="every weight is 0 or less"):
        offline.compare(df, ["als"], "stratified", 0.25, 0, 5, weighted=True)


def test_pairs_weighing_nothing_are_neither_learned_nor_relevant():
    rows = [(f"u{u}", f"i{(u + t) % 40}", 1.0, float(t)) for u in range(40) for t in range(10)]
    df = pd.DataFrame(rows, columns=["user", "item", "weight", "time"])  # distinct pairs
    disliked = df.index % 3 == 0
    df.loc[disliked, "weight"] = -2.0
    twice = df[~disliked].head(5).assign(weight=-1.0)  # a play then an equal dislike: net zero
    df = pd.concat([df, twice], ignore_index=True)
    for method in splits.SPLITS:
        train, test = splits.split(df, method, 0.25, 0)
        assert (train["weight"] > 0).all() and (test["weight"] > 0).all()
        assert len(train) + len(test) == (~disliked).sum() - len(twice)
    res = offline.compare(df, ["popularity"], "stratified", 0.25, 0, 5, weighted=True)
    assert res[0]["n_not_interactions"] == disliked.sum() + len(twice)
    assert "weigh 0 or less" in offline.format_table(res, 5)


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
        assert set(r["metrics"]) == {
            "ndcg@5",
            "map@5",
            "precision@5",
            "recall@5",
            "coverage",
            "gini",
            "novelty",
        }
        assert set(r["timings"]) == {"fit_s", "recommend_s"}


def _play_counts(tmp_path, n_users=60, n_items=40, seed=5):
    """A CSV of heavy-tailed play counts over two taste groups (items 0..19 and 20..39)."""
    rng = np.random.default_rng(seed)
    lines = ["user,artist,plays"]
    for u in range(n_users):
        lo = 0 if u < n_users // 2 else n_items // 2
        for i in rng.choice(np.arange(lo, lo + n_items // 2), size=8, replace=False):
            lines.append(f"u{u},a{i},{int(rng.pareto(0.8) * 50) + 1}")
    path = tmp_path / "plays.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_evaluate_cli_applies_the_confidence_transform_and_reports_beyond_accuracy(tmp_path, capsys):
    from nightfeed.cli import main as cli

    path, out = _play_counts(tmp_path), tmp_path / "res.json"
    argv = ["evaluate", "--input", str(path), "--user-col", "user", "--item-col", "artist"]
    argv += ["--weight-col", "plays", "--model", "itemknn,rp3beta,ease", "--k", "5"]
    assert cli.main([*argv, "--confidence", "log", "--confidence-eps", "10", "--output-json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "gini" in printed and "novelty" in printed and "rp3beta" in printed
    results = json.loads(out.read_text())
    for r in results:
        assert r["params"]["confidence"] == "log" and r["params"]["confidence_eps"] == 10.0
        assert 0 <= r["metrics"]["gini"] <= 1 and r["metrics"]["novelty"] > 0
    assert cli.main([*argv, "--confidence", "log", "--confidence-eps", "0"]) == 2
    assert "eps > 0" in capsys.readouterr().err
