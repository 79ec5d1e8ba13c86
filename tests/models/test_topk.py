import numpy as np
import pytest
import scipy.sparse as sp

from nightfeed.models.base import mask_excluded
from nightfeed.models.topk import NO_ITEM, select_topk


def reference_topk(scores, k):
    """Sort every row: by score descending, ties by lower column; -inf never selected."""
    ids = np.full((len(scores), k), NO_ITEM)
    vals = np.full((len(scores), k), -np.inf, np.float32)
    for r, row in enumerate(scores):
        order = np.lexsort((np.arange(len(row)), -row))
        order = order[np.isfinite(row[order])][:k]
        ids[r, : len(order)] = order
        vals[r, : len(order)] = row[order]
    return ids, vals


@pytest.mark.parametrize("n_items,k", [(5000, 10), (5000, 50), (300, 20), (40, 50)])
def test_select_topk_equals_full_sort_with_ties_and_masked_items(n_items, k):
    rng = np.random.default_rng(n_items + k)
    scores = rng.normal(size=(200, n_items)).astype(np.float32)
    scores[:50] = np.round(scores[:50], 1)  # many ties, also at the k-th value
    scores[50:60] = 1.0  # one value everywhere: the sample threshold admits whole rows
    scores[60:70, : n_items - 5] = -np.inf  # fewer finite items than k
    scores[70:80] = -np.inf
    scores[80:90, ::3] = -np.inf
    ids, vals = select_topk(scores, k)
    want_ids, want_vals = reference_topk(scores, min(k, n_items))
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(vals, want_vals)
    # Columns labelled with other ids: ties go to the lower id, not the lower column.
    labels = rng.permutation(n_items)
    ids, vals = select_topk(scores, k, labels)
    relabelled = np.empty_like(scores)
    relabelled[:, labels] = scores
    want_ids, want_vals = reference_topk(relabelled, min(k, n_items))
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(vals, want_vals)


def test_mask_excluded_maps_items_to_columns():
    scores = np.zeros((2, 3), np.float32)
    exclude = sp.csr_matrix(np.array([[1, 0, 0, 1], [0, 1, 0, 0]], np.float32))
    column_of = np.array([0, -1, 1, 2])  # item 1 is not scored at all
    mask_excluded(scores, exclude, column_of)
    assert np.isneginf(scores).tolist() == [[True, False, True], [False, False, False]]


def test_factor_model_norm_bound_gives_the_exact_top_n():
    from nightfeed.models import create

    rng = np.random.default_rng(3)
    n_users, n_items = 300, 2000
    model = create("als")
    model.user_factors = rng.normal(size=(n_users, 8)).astype(np.float32)
    model.user_factors[0] = 0.0  # every score 0: ties everywhere
    items = rng.normal(size=(n_items, 8)) * rng.pareto(
        1.5, size=(n_items, 1)
    )  # skewed norms, like popularity
    items[100:110] = items[5]  # identical items tie for every user
    model.item_factors = items.astype(np.float32)
    model.n_items = n_items
    seen = sp.random(n_users, n_items, density=0.01, format="csr", random_state=4, dtype=np.float32)
    exclude = sp.random(n_users, n_items, density=0.01, format="csr", random_state=5, dtype=np.float32)
    filtered = rng.choice(n_items, size=50, replace=False)
    ids, vals = model.recommend(np.arange(n_users), seen, N=30, filter_items=filtered, exclude=exclude)
    scores = model.user_factors @ model.item_factors.T
    scores[:, filtered] = -np.inf
    scores[(seen + exclude).nonzero()] = -np.inf
    want_ids, want_vals = reference_topk(scores, 30)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(vals, want_vals, rtol=1e-5)
