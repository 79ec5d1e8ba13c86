"""The retrievers work on sparse rows and pairs, and nominate what dense viewers × catalog scoring
would: each list equals a brute-force top-k over every code."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from helpers.scoring import FEED, factor_model
from nightfeed.feeds import scoring
from nightfeed.models.topk import select_topk
from nightfeed.ranking import retrievers
from nightfeed.ranking.state import build_state

DAY = "2026-11-25"
N_USERS, N_ITEMS, N_MODEL_ITEMS, RANK = 30, 40, 34, 4
KS = {"cf": 6, "covis": 5, "creator": 4, "new_creator": 2, "fresh": 2, "trending": 3}


def _world(seed: int = 3):
    rng = np.random.default_rng(seed)
    item_ids = np.array([f"i{k:02d}" for k in range(N_ITEMS)])
    created = pd.Timestamp(DAY) - pd.to_timedelta(rng.integers(1, 400, N_ITEMS), unit="h")
    catalog = pd.DataFrame(
        {
            "item_id": item_ids,
            "creator_id": [f"c{k % 8}" for k in range(N_ITEMS)],
            "created_ts": created,
            "duration_ms": rng.integers(5_000, 60_000, N_ITEMS),
            "moderation_status": np.where(np.arange(N_ITEMS) % 9 == 4, "removed", "approved"),
            "is_fresh": np.arange(N_ITEMS) >= 36,
            "n_users": rng.integers(0, 9, N_ITEMS),
            "trending_score": rng.random(N_ITEMS),
        }
    )
    user_ids = np.array([f"u{u:02d}" for u in range(N_USERS)])
    plays = [(u, i) for u in range(N_USERS) for i in rng.choice(N_ITEMS, 6, replace=False)]
    outcomes = pd.DataFrame(
        {
            "user_id": user_ids[[u for u, _ in plays]],
            "item_id": item_ids[[i for _, i in plays]],
            "ds": "2026-11-24",
            "impressed": True,
            "played": rng.random(len(plays)) < 0.8,
            "watch_ms": rng.integers(1_000, 30_000, len(plays)),
            "finished": False,
            "liked": rng.random(len(plays)) < 0.2,
            "shared": False,
            "followed": rng.random(len(plays)) < 0.1,
            "skipped": False,
        }
    )
    model = factor_model(rng.normal(size=(N_USERS - 5, RANK)), rng.normal(size=(N_MODEL_ITEMS, RANK)))
    ctx = scoring.build_context(model, item_ids[:N_MODEL_ITEMS], catalog, replace(FEED, n=10), DAY)
    state = build_state(outcomes, catalog, user_ids, ctx.item_ids, DAY, 0.9)
    eligible = np.zeros(ctx.n_codes, bool)
    eligible[ctx.trending_codes] = True
    rctx = retrievers.RetrievalContext(
        feed=ctx,
        state=state,
        held=np.zeros(ctx.n_codes, bool),
        new_creator_codes=ctx.trending_codes[::5],
        recent=rng.random(ctx.n_codes) < 0.5,
        ks=KS,
        max_candidates=25,
    )
    history = [sorted(set(rng.choice(N_MODEL_ITEMS, 4, replace=False).tolist())) for _ in range(N_USERS)]
    excl = [rng.choice(ctx.n_codes, 3, replace=False).tolist() for _ in range(N_USERS)]
    batch = pa.RecordBatch.from_pydict(
        {
            "user_id": list(user_ids),
            "user_idx": [u if u < N_USERS - 5 else -1 for u in range(N_USERS)],  # five cold viewers
            "hist_idx": history,
            "hist_conf": [[1.0] * len(h) for h in history],
            "excl": excl,
            "state_row": [u if u % 7 else None for u in range(N_USERS)],  # some without a state
        }
    )
    return rctx, batch, model, history, excl


def _dense_top(scores: np.ndarray, blocked: np.ndarray, k: int, positive: bool):
    scores = scores.astype(np.float32)
    if positive:
        scores[scores <= 0] = -np.inf
    scores[blocked] = -np.inf
    return select_topk(scores, k)


def test_every_list_equals_a_dense_top_k_over_the_whole_catalog():
    rctx, batch, model, history, excl = _world()
    ctx, state = rctx.feed, rctx.state
    blocked = np.zeros((N_USERS, ctx.n_codes), bool)
    for u in range(N_USERS):
        blocked[u, history[u] + excl[u]] = True
    blocked[:, ~rctx.eligible] = True
    cf = np.full((N_USERS, ctx.n_codes), -np.inf)
    cf[: N_USERS - 5, :N_MODEL_ITEMS] = model.user_factors @ model.item_factors.T
    rows = np.array([u if u % 7 else -1 for u in range(N_USERS)])
    known = rows >= 0
    covis = np.zeros((N_USERS, ctx.n_codes))
    covis[known] = (state.history[rows[known]] @ state.covis).toarray()
    recent = np.flatnonzero(rctx.recent)
    affinity = state.watch_by_creator[rows[known]].log1p() + 2 * state.follows_by_creator[rows[known]]
    uploads = np.zeros((affinity.shape[1], ctx.n_codes))
    uploads[state.creator[recent], recent] = 1.0
    creator = np.zeros((N_USERS, ctx.n_codes))
    creator[known] = affinity @ uploads
    expected = {
        "cf": _dense_top(cf, blocked, KS["cf"], positive=False),
        "covis": _dense_top(covis, blocked, KS["covis"], positive=True),
        "creator": _dense_top(creator, blocked, KS["creator"], positive=True),
    }
    sparse = retrievers.Blocked(ctx, batch, rctx.eligible)
    got = {
        "cf": retrievers._CF(ctx, batch).top(KS["cf"]),
        "covis": retrievers._sparse_top(sp.csr_matrix(covis), sparse, KS["covis"]),
        "creator": retrievers._sparse_top(sp.csr_matrix(creator), sparse, KS["creator"]),
    }
    for name, (codes, scores) in expected.items():
        width = codes.shape[1]
        assert np.array_equal(got[name][0][:, :width], codes), name
        assert np.allclose(got[name][1][:, :width], scores, rtol=1e-5), name
        assert (got[name][0][:, width:] == -1).all()
    assert np.array_equal(sparse.columns(ctx.trending_codes), blocked[:, ctx.trending_codes])


def test_candidates_carry_the_cf_score_of_the_pair_and_nan_where_the_model_cannot_score():
    rctx, batch, model, _, _ = _world()
    nominated = retrievers.nominate(rctx, batch)
    warm = nominated.rows < N_USERS - 5
    known_item = nominated.codes < N_MODEL_ITEMS
    dots = np.einsum(
        "ij,ij->i",
        model.user_factors[np.minimum(nominated.rows, N_USERS - 6)],
        model.item_factors[np.minimum(nominated.codes, N_MODEL_ITEMS - 1)],
    )
    assert np.allclose(nominated.cf[warm & known_item], dots[warm & known_item], rtol=1e-5)
    assert np.isnan(nominated.cf[~(warm & known_item)]).all()
    assert (
        not retrievers.Blocked(rctx.feed, batch, rctx.eligible).pairs(nominated.rows, nominated.codes).any()
    )
    per_viewer = np.bincount(nominated.rows, minlength=N_USERS)
    assert per_viewer.max() <= 25 and (per_viewer > 0).all()
