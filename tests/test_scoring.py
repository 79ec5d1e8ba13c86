from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa

from helpers.scoring import FEED, catalog, factor_model
from nightfeed.feeds import scoring, scoring_spark


def ranked_model(n_items=12):
    """One user whose score falls with the item index: item 0 best."""
    return factor_model([[1.0]], [[float(n_items - k)] for k in range(n_items)])


USERS = pa.schema(
    [
        ("user_id", pa.string()),
        ("user_idx", pa.int64()),
        ("hist_idx", pa.list_(pa.int64())),
        ("hist_conf", pa.list_(pa.float64())),
        ("excl", pa.list_(pa.int64())),
    ]
)


def users(rows):
    return pa.RecordBatch.from_pandas(
        pd.DataFrame(rows, columns=USERS.names), schema=USERS, preserve_index=False
    )


def compose(ctx, batch):
    return scoring.compose_feeds(ctx, batch).to_pandas()


def feed_of(ctx, hist=(11,), excl=(), user_idx=0):
    return compose(ctx, users([("u", user_idx, list(hist), [1.0] * len(hist), list(excl))]))


def check_invariants(feed):
    for _, f in feed.groupby("user_id"):
        assert f["rank"].tolist() == list(range(1, len(f) + 1))
        assert f["item_id"].is_unique
        assert (np.diff(f["score"].to_numpy()) <= 0).all()


def test_top_n_in_score_order_without_seen_items():
    ctx = scoring.build_context(ranked_model(), np.array([f"i{k}" for k in range(12)]), catalog(12), FEED)
    feed = feed_of(ctx, hist=[0])
    assert feed["item_id"].tolist() == ["i1", "i2", "i3", "i4", "i5"]
    assert set(feed["source"]) == {"cf"}
    check_invariants(feed)


def test_finished_and_skipped_items_are_excluded():
    ctx = scoring.build_context(ranked_model(), np.array([f"i{k}" for k in range(12)]), catalog(12), FEED)
    feed = feed_of(ctx, hist=[11], excl=[0, 2])
    assert feed["item_id"].tolist() == ["i1", "i3", "i4", "i5", "i6"]


def test_removed_restricted_pending_and_unavailable_items_are_never_shown():
    status = ["removed", "restricted", "pending"] + [
        "approved"
    ] * 8  # i11 is missing from the region's catalog
    cat = catalog(11, moderation_status=status)
    ctx = scoring.build_context(ranked_model(), np.array([f"i{k}" for k in range(12)]), cat, FEED)
    feed = feed_of(ctx, hist=[10])
    assert feed["item_id"].tolist() == ["i3", "i4", "i5", "i6", "i7"]


def test_videos_held_by_the_audit_are_in_no_feed_not_even_as_trending_filler():
    cat = catalog(12, held=[True, None, True] + [False] * 9)
    ctx = scoring.build_context(ranked_model(), np.array([f"i{k}" for k in range(12)]), cat, FEED)
    assert {0, 2} <= set(ctx.ineligible_model_items.tolist())
    assert not {0, 2} & set(ctx.trending_codes.tolist())
    assert feed_of(ctx)["item_id"].tolist() == ["i1", "i3", "i4", "i5", "i6"]


def test_at_most_max_per_creator():
    cat = catalog(12, creator_id=["A"] * 6 + [f"c{k}" for k in range(6)])
    ctx = scoring.build_context(
        ranked_model(), np.array([f"i{k}" for k in range(12)]), cat, replace(FEED, max_per_creator=2)
    )
    feed = feed_of(ctx)
    assert feed["item_id"].tolist() == ["i0", "i1", "i6", "i7", "i8"]


def test_fresh_items_get_their_share_of_slots():
    cat = catalog(12, is_fresh=[False] * 9 + [True] * 3, n_users=[100] * 9 + [0, 1, 2])
    cat.loc[9:, "trending_score"] = [0.05, 0.04, 0.03]
    ctx = scoring.build_context(
        ranked_model(), np.array([f"i{k}" for k in range(12)]), cat, replace(FEED, n=10, fresh_share=0.2)
    )
    feed = feed_of(ctx, hist=[8])
    fresh = feed[feed["source"] == "fresh"]
    assert len(feed) == 10 and len(fresh) == 2
    assert set(fresh["item_id"]) <= {"i9", "i10", "i11"}
    check_invariants(feed)


def test_fresh_items_unknown_to_the_model_are_served():
    cat = pd.concat(
        [
            catalog(12),
            pd.DataFrame(
                {
                    "item_id": ["new1"],
                    "creator_id": ["cn"],
                    "moderation_status": "approved",
                    "is_fresh": True,
                    "n_users": 0,
                    "trending_score": 0.0,
                }
            ),
        ]
    )
    ctx = scoring.build_context(
        ranked_model(), np.array([f"i{k}" for k in range(12)]), cat, replace(FEED, n=10, fresh_share=0.1)
    )
    feed = feed_of(ctx)
    assert feed.loc[feed["source"] == "fresh", "item_id"].tolist() == ["new1"]


def test_cold_start_users_get_trending_minus_their_exclusions():
    cat = catalog(12, trending_score=np.arange(12, 0, -1) / 12)
    ctx = scoring.build_context(ranked_model(), np.array([f"i{k}" for k in range(12)]), cat, FEED)
    feed = feed_of(ctx, hist=[], excl=[1], user_idx=-1)
    assert feed["item_id"].tolist() == ["i0", "i2", "i3", "i4", "i5"]
    assert set(feed["source"]) == {"trending"}
    check_invariants(feed)


def test_short_feeds_are_topped_up_from_trending():
    ctx = scoring.build_context(
        ranked_model(4),
        np.array([f"i{k}" for k in range(4)]),
        pd.concat([catalog(4), catalog(8).iloc[4:]]),
        FEED,
    )
    feed = feed_of(ctx, hist=[0])
    assert feed["source"].tolist() == ["cf", "cf", "cf", "trending", "trending"]
    check_invariants(feed)


def test_composition_is_deterministic():
    rng = np.random.default_rng(0)
    model = factor_model(rng.normal(size=(30, 4)), rng.normal(size=(50, 4)))
    cat = catalog(
        50,
        creator_id=[f"c{k % 7}" for k in range(50)],
        is_fresh=[k % 9 == 0 for k in range(50)],
        n_users=[k % 4 for k in range(50)],
    )
    ctx = scoring.build_context(
        model,
        np.array([f"i{k}" for k in range(50)]),
        cat,
        replace(FEED, n=10, max_per_creator=2, fresh_share=0.2),
    )
    batch = users([(f"u{u}", u, [u % 50], [1.0], [(u + 1) % 50]) for u in range(30)])
    first = compose(ctx, batch)
    pd.testing.assert_frame_equal(first, compose(ctx, batch))
    check_invariants(first)
    per_creator = first.merge(cat, on="item_id").groupby(["user_id", "creator_id"]).size()
    assert per_creator.max() <= 2


def test_distributed_scorer_equals_brute_force_numpy(spark):
    rng = np.random.default_rng(42)
    n_users, n_items, rank, n = 300, 400, 16, 20
    uf, itf = rng.normal(size=(n_users, rank)), rng.normal(size=(n_items, rank))
    model = factor_model(uf, itf)
    removed = rng.choice(n_items, size=20, replace=False)
    status = np.where(np.isin(np.arange(n_items), removed), "removed", "approved")
    ctx = scoring.build_context(
        model,
        np.array([f"i{k}" for k in range(n_items)]),
        catalog(n_items, moderation_status=status),
        replace(FEED, n=n, max_per_creator=n),
    )
    hist = [
        sorted(rng.choice(n_items, size=rng.integers(1, 30), replace=False).tolist()) for _ in range(n_users)
    ]
    excl = [rng.choice(n_items, size=rng.integers(0, 40), replace=False).tolist() for _ in range(n_users)]
    batch = users([(f"u{u:04d}", u, h, [1.0] * len(h), e) for u, (h, e) in enumerate(zip(hist, excl))])
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
    df = spark.createDataFrame(
        batch.to_pandas(),
        "user_id string, user_idx long, hist_idx array<long>, hist_conf array<double>, excl array<long>",
    )
    got = scoring_spark.score_users(df.repartition(3), spark.sparkContext.broadcast(ctx)).toPandas()
    scores = np.asarray(model.user_factors, np.float64) @ np.asarray(model.item_factors, np.float64).T
    scores[:, removed] = -np.inf
    for u, (h, e) in enumerate(zip(hist, excl)):
        scores[u, h + e] = -np.inf
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :n]
    got = got.sort_values(["user_id", "rank"])
    assert len(got) == n_users * n
    for u in range(n_users):
        items = got.loc[got["user_id"] == f"u{u:04d}", "item_id"].tolist()
        assert items == [f"i{k}" for k in expected[u]], u


def test_full_feed_when_the_user_has_seen_most_of_the_top_items():
    ctx = scoring.build_context(
        ranked_model(40),
        np.array([f"i{k}" for k in range(40)]),
        catalog(40),
        replace(FEED, n=5, candidate_multiplier=1),
    )
    feed = feed_of(ctx, hist=list(range(0, 30, 2)), excl=list(range(1, 30, 2)))
    assert feed["item_id"].tolist() == ["i30", "i31", "i32", "i33", "i34"]
    assert set(feed["source"]) == {"cf"}


def test_full_feed_when_one_creator_owns_the_head_of_the_ranking():
    cat = catalog(60, creator_id=["A"] * 50 + [f"c{k}" for k in range(10)])
    ctx = scoring.build_context(
        ranked_model(60),
        np.array([f"i{k}" for k in range(60)]),
        cat,
        replace(FEED, n=8, max_per_creator=2, candidate_multiplier=1),
    )
    feed = feed_of(ctx, hist=[59])
    assert feed["item_id"].tolist() == ["i0", "i1"] + [f"i{k}" for k in range(50, 56)]
    assert set(feed["source"]) == {"cf"}
    check_invariants(feed)


def test_full_feed_when_the_head_of_trending_is_seen():
    cat = catalog(30, trending_score=np.arange(30, 0, -1) / 30)
    ctx = scoring.build_context(ranked_model(30), np.array([f"i{k}" for k in range(30)]), cat, FEED)
    feed = feed_of(ctx, hist=[], excl=list(range(20)), user_idx=-1)
    assert feed["item_id"].tolist() == ["i20", "i21", "i22", "i23", "i24"]
    assert set(feed["source"]) == {"trending"}


def test_trending_top_up_reaches_items_the_model_does_not_know_and_respects_the_cap():
    model_items = np.array([f"i{k}" for k in range(4)])
    cat = catalog(30, creator_id=[f"c{k % 3}" for k in range(30)])
    ctx = scoring.build_context(ranked_model(4), model_items, cat, replace(FEED, n=10, max_per_creator=3))
    feed = feed_of(ctx, hist=[0], excl=[4, 5])  # i4, i5: seen items the model does not know
    assert len(feed) == 9  # three creators, at most three items each
    assert not {"i0", "i4", "i5"} & set(feed["item_id"])
    assert feed.merge(cat, on="item_id").groupby("creator_id").size().max() == 3
    check_invariants(feed)


def reference_feed(ctx, model, u, hist, excl, cat, creator_of):
    """The feed rules written as a plain greedy loop over the full rankings (no chunks, no tricks)."""
    blocked, taken, per_creator = set(hist) | set(excl), [], {}

    def offer(item, source, limit):
        if (
            len(taken) < limit
            and item not in blocked
            and per_creator.get(creator_of[item], 0) < ctx.max_per_creator
        ):
            taken.append((item, source))
            blocked.add(item)
            per_creator[creator_of[item]] = per_creator.get(creator_of[item], 0) + 1

    for code in ctx.fresh_codes:
        offer(int(code), "fresh", ctx.n_fresh_slots)
    scores = np.asarray(model.user_factors[u], np.float64) @ np.asarray(model.item_factors, np.float64).T
    eligible = set(cat.loc[cat["moderation_status"] == "approved", "item_id"].str[1:].astype(int))
    for item in np.argsort(-scores, kind="stable"):
        if item in eligible:
            offer(int(item), "cf", ctx.n)
    for code in ctx.trending_codes:
        offer(int(code), "trending", ctx.n)
    return taken


def test_rules_equal_a_plain_greedy_reference_under_heavy_filtering():
    rng = np.random.default_rng(3)
    n_users, n_items, n = 60, 120, 12
    model = factor_model(rng.normal(size=(n_users, 6)), rng.normal(size=(n_items, 6)))
    cat = catalog(
        n_items,
        creator_id=[f"c{k}" for k in rng.integers(0, 9, n_items)],
        moderation_status=np.where(rng.random(n_items) < 0.2, "removed", "approved"),
        is_fresh=rng.random(n_items) < 0.15,
        n_users=rng.integers(0, 8, n_items),
        trending_score=rng.random(n_items),
    )
    ctx = scoring.build_context(
        model,
        np.array([f"i{k}" for k in range(n_items)]),
        cat,
        replace(FEED, n=n, max_per_creator=2, fresh_share=0.2, candidate_multiplier=1),
    )
    creator_of = dict(enumerate(ctx.creator))
    hist = [rng.choice(n_items, size=rng.integers(1, 60), replace=False).tolist() for _ in range(n_users)]
    excl = [rng.choice(n_items, size=rng.integers(0, 30), replace=False).tolist() for _ in range(n_users)]
    feeds = compose(
        ctx, users([(f"u{u:03d}", u, h, [1.0] * len(h), e) for u, (h, e) in enumerate(zip(hist, excl))])
    )
    check_invariants(feeds)
    for u in range(n_users):
        got = feeds[feeds["user_id"] == f"u{u:03d}"]
        expected = reference_feed(ctx, model, u, hist[u], excl[u], cat, creator_of)
        assert sorted(zip(got["item_id"], got["source"])) == sorted((f"i{k}", s) for k, s in expected), u


def new_creator_catalog(n_items, new_items, ds="2026-11-25"):
    """Items by one creator each; the creators of `new_items` uploaded first on ds, the rest a
    month earlier."""
    created = [pd.Timestamp(ds) - pd.Timedelta(days=30)] * n_items
    for k in new_items:
        created[k] = pd.Timestamp(ds) + pd.Timedelta(hours=1)
    return catalog(n_items, created_ts=created)


def test_new_creator_slots_take_the_videos_of_new_creators_the_model_ranks_best():
    cfg = replace(FEED, n=10, new_creator_share=0.2)
    items = np.array([f"i{k}" for k in range(12)])
    ctx = scoring.build_context(
        ranked_model(), items, new_creator_catalog(12, [8, 9, 10, 11]), cfg, "2026-11-25"
    )
    assert ctx.n_new_creator_slots == 2
    feed = feed_of(ctx, hist=[0])
    new = feed[feed["source"] == "new_creator"]
    assert new["item_id"].tolist() == ["i8", "i9"], "the model's best new-creator items, not random ones"
    assert new["rank"].tolist() == [5, 10], "placed like fresh slots"
    check_invariants(feed)
    seen = feed_of(ctx, hist=[0, 8])
    assert seen.loc[seen["source"] == "new_creator", "item_id"].tolist() == ["i9", "i10"]


def test_no_new_creator_slots_without_new_creators_or_share():
    items = np.array([f"i{k}" for k in range(12)])
    cfg = replace(FEED, n=10, new_creator_share=0.2)
    none_new = scoring.build_context(ranked_model(), items, new_creator_catalog(12, []), cfg, "2026-11-25")
    assert none_new.n_new_creator_slots == 0
    assert set(feed_of(none_new, hist=[0])["source"]) == {"cf"}
    off = scoring.build_context(
        ranked_model(), items, new_creator_catalog(12, [8]), replace(cfg, new_creator_share=0.0), "2026-11-25"
    )
    assert off.n_new_creator_slots == 0


def test_fresh_and_new_creator_slots_never_make_a_feed_longer_than_n():
    cat = new_creator_catalog(12, [8, 9, 10, 11]).assign(is_fresh=[False] * 4 + [True] * 8, n_users=0)
    for n, fresh, new in ((1, 1.0, 1.0), (10, 0.7, 0.7), (3, 0.5, 0.5)):
        cfg = replace(FEED, n=n, fresh_share=fresh, new_creator_share=new)
        ctx = scoring.build_context(
            ranked_model(), np.array([f"i{k}" for k in range(12)]), cat, cfg, "2026-11-25"
        )
        assert ctx.n_fresh_slots + ctx.n_new_creator_slots <= n
        feed = feed_of(ctx, hist=[0])
        assert len(feed) == n and feed["rank"].tolist() == list(range(1, n + 1))
        check_invariants(feed)


def test_new_creator_slots_keep_the_creator_cap():
    cat = new_creator_catalog(12, [6, 7, 8, 9])
    cat.loc[[6, 7, 8], "creator_id"] = "newbie"
    cfg = replace(FEED, n=10, new_creator_share=0.3, max_per_creator=1)
    ctx = scoring.build_context(
        ranked_model(), np.array([f"i{k}" for k in range(12)]), cat, cfg, "2026-11-25"
    )
    feed = feed_of(ctx, hist=[0])
    assert feed.loc[feed["source"] == "new_creator", "item_id"].tolist() == ["i6", "i9"]
    assert (feed.merge(cat, on="item_id")["creator_id"].value_counts() <= 1).all()
