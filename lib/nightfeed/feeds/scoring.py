"""Top-N feeds for every user, with the feed rules, distributed over users on Spark.

Each Spark task gets a block of users (id, model index, history, exclusions; a factor model's
user factors travel with the block, `block_model`), scores it against the broadcast model with
BLAS (memory per task bounded by block × items) and fills each feed
with the rules of `feed_rules`, vectorised over the block:
- never an excluded (finished/skipped) or already-seen item, never an ineligible one
  (removed/restricted/not in the region's catalog: they are filtered before top-k);
- at most `max_per_creator` items per creator;
- `fresh_share` of the slots go to fresh items the model has little signal on, and
  `new_creator_share` to the videos of new creators that the model ranks best for the user;
- cold-start users (unknown to the model, or too little history) get the region's trending
  items; feeds the model cannot fill are topped up from the whole eligible catalog in trending
  order, so a feed is shorter than `n` only when the user's allowed catalog is used up.
Every row records its `source` (cf, fresh, trending, new_creator). Output is deterministic for fixed inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from nightfeed.configuration.settings import FeedSettings
from nightfeed.feeds import feed_rules
from nightfeed.feeds.blocks import block_model, list_csr
from nightfeed.feeds.feed_health import new_creator_items
from nightfeed.models import Recommender
from nightfeed.models.topk import NO_ITEM

FEED_SCHEMA = "user_id string, rank int, item_id string, score double, source string"
SOURCE_CF, SOURCE_FRESH, SOURCE_TRENDING, SOURCE_NEW_CREATOR = "cf", "fresh", "trending", "new_creator"
SOURCES = pa.array([SOURCE_CF, SOURCE_FRESH, SOURCE_TRENDING, SOURCE_NEW_CREATOR])  # feed_rules.merge's order


@dataclass
class FeedContext:
    """Everything a scoring task needs, built once on the driver and broadcast.

    Items are integer codes: 0..n_model-1 are the model's own item indices, further codes are
    catalog items the model never saw (new uploads).
    """

    model: Recommender
    n_model_items: int
    item_ids: np.ndarray  # code -> item_id
    creator: np.ndarray  # code -> creator code
    ineligible_model_items: np.ndarray  # model indices never to recommend
    fresh_codes: np.ndarray  # fresh items with little signal, best first
    fresh_scores: np.ndarray
    trending_codes: np.ndarray  # every eligible item by trending score, best first
    trending_scores: np.ndarray
    not_new_creator_items: np.ndarray | None = None  # model indices outside the new-creator pass
    n: int = 50
    candidate_multiplier: int = 4
    max_per_creator: int = 3
    fresh_share: float = 0.1
    new_creator_share: float = 0.0
    min_user_interactions: int = 1

    @property
    def n_codes(self) -> int:
        return len(self.item_ids)

    @property
    def n_fresh_slots(self) -> int:
        return int(round(self.n * self.fresh_share)) if len(self.fresh_codes) else 0

    @property
    def n_new_creator_slots(self) -> int:
        """The new-creator share of the slots, within what the fresh slots leave of the feed."""
        some = self.not_new_creator_items is not None and len(self.not_new_creator_items) < self.n_model_items
        return min(int(round(self.n * self.new_creator_share)), self.n - self.n_fresh_slots) if some else 0

    @cached_property
    def item_id_array(self) -> pa.Array:
        return pa.array(self.item_ids, type=pa.string())


def held(catalog: pd.DataFrame) -> pd.Series:
    """The feed rule of the content audit: a held video is not eligible for any feed tonight."""
    if "held" not in catalog:
        return pd.Series(False, index=catalog.index)
    return catalog["held"].eq(True)


def build_context(
    model: Recommender,
    model_items: np.ndarray,
    catalog: pd.DataFrame,
    feed: FeedSettings,
    ds: str | None = None,
) -> FeedContext:
    """`catalog`: the region's items with item_id, creator_id, moderation_status, is_fresh,
    n_users, trending_score, optionally `held` (the audit's safety hold: never in a feed), and
    created_ts when `ds` (the run date new creators are judged against) is given; without ds
    there are no new-creator slots."""
    code_of = {item: k for k, item in enumerate(model_items)}
    extra = [i for i in catalog["item_id"] if i not in code_of]
    item_ids = np.concatenate([np.asarray(model_items, dtype=object), np.asarray(extra, dtype=object)])
    for k, item in enumerate(extra, start=len(model_items)):
        code_of[item] = k
    cat = catalog.assign(code=catalog["item_id"].map(code_of))
    creators = pd.Series(pd.factorize(cat["creator_id"])[0], index=cat["code"])
    creator = np.full(len(item_ids), -1, dtype=np.int64)
    creator[creators.index.to_numpy()] = creators.to_numpy()
    # Items outside the catalog get a unique creator so the cap never merges them.
    missing = creator < 0
    creator[missing] = creator.max(initial=-1) + 1 + np.arange(missing.sum())
    eligible = cat["moderation_status"].isin(list(feed.eligible_moderation)) & ~held(cat)
    eligible_codes = set(cat.loc[eligible, "code"].tolist())
    ineligible = np.array([k for k in range(len(model_items)) if k not in eligible_codes], dtype=np.int32)
    ok = cat[eligible].sort_values(["trending_score", "item_id"], ascending=[False, True])
    fresh = ok[ok["is_fresh"] & (ok["n_users"] <= feed.fresh_max_interactions)]
    not_new = None
    if ds is not None:
        new = cat.loc[eligible & new_creator_items(cat, ds, feed.new_creator_days), "code"]
        new_codes = set(new[new < len(model_items)].tolist())
        not_new = np.array([k for k in range(len(model_items)) if k not in new_codes], dtype=np.int32)
    return FeedContext(
        model=model,
        n_model_items=len(model_items),
        item_ids=item_ids,
        creator=creator,
        ineligible_model_items=ineligible,
        fresh_codes=fresh["code"].to_numpy(np.int64),
        fresh_scores=fresh["trending_score"].to_numpy(np.float64),
        trending_codes=ok["code"].to_numpy(np.int64),
        trending_scores=ok["trending_score"].to_numpy(np.float64),
        not_new_creator_items=not_new,
        n=feed.n,
        candidate_multiplier=feed.candidate_multiplier,
        max_per_creator=feed.max_per_creator,
        fresh_share=feed.fresh_share,
        new_creator_share=feed.new_creator_share,
        min_user_interactions=feed.min_user_interactions,
    )


def compose_feeds(ctx: FeedContext, batch: pa.RecordBatch) -> pa.RecordBatch:
    """Feeds for a block of users (Arrow in, Arrow out: no per-user Python).

    batch columns: user_id, user_idx (model index or -1), hist_idx / hist_conf (lists of model
    item indices and confidences), excl (list of item codes never to show: finished, skipped,
    and seen items the model does not know).
    """
    b, n = batch.num_rows, ctx.n
    model, user_idx = block_model(ctx, batch)
    history = list_csr(batch.column("hist_idx"), ctx.n_model_items, batch.column("hist_conf"))
    exclude = list_csr(batch.column("excl"), ctx.n_codes)
    warm = np.flatnonzero((user_idx >= 0) & (np.diff(history.indptr) >= ctx.min_user_interactions))
    seen = sp.hstack([history, sp.csr_matrix((b, ctx.n_codes - ctx.n_model_items))], format="csr")
    block = feed_rules.FeedBlock(ctx.creator, (seen + exclude).tocsr(), ctx.max_per_creator)
    n_fresh_slots = ctx.n_fresh_slots
    fr_codes, fr_scores = feed_rules.fill_from_list(
        block,
        warm,
        ctx.fresh_codes,
        ctx.fresh_scores,
        np.full(b, n_fresh_slots),
        n_fresh_slots,
        8 * n_fresh_slots,
    )

    def recommender(filter_items):
        def recommend(rows, excl, N):
            return model.recommend(
                user_idx[rows],
                history[rows],
                N=N,
                filter_already_liked_items=True,
                filter_items=filter_items,
                exclude=excl,
            )

        return recommend

    recommend = recommender(ctx.ineligible_model_items)
    n_new = ctx.n_new_creator_slots
    new_codes, new_scores = feed_rules.fill_from_model(
        block,
        warm,
        recommender(ctx.not_new_creator_items),
        exclude[warm][:, : ctx.n_model_items],
        np.full(b, n_new),
        n_new,
        n_new * ctx.candidate_multiplier,
        ctx.n_model_items,
    )
    cf_codes, cf_scores = feed_rules.fill_from_model(
        block,
        warm,
        recommend,
        exclude[warm][:, : ctx.n_model_items],
        n - block.taken,
        n,
        n * ctx.candidate_multiplier,
        ctx.n_model_items,
    )
    tr_codes, tr_scores = feed_rules.fill_from_list(
        block, np.arange(b), ctx.trending_codes, ctx.trending_scores, n - block.taken, n, 2 * n
    )
    codes = np.hstack([fr_codes, new_codes, cf_codes, tr_codes])
    segment = np.repeat(np.array([1, 3, 0, 2]), [n_fresh_slots, n_new, n, n])
    present = codes != NO_ITEM
    sel, sel_codes, scores, source, rank = feed_rules.merge(
        codes,
        np.hstack([fr_scores, new_scores, cf_scores, tr_scores]),
        present & (segment == 0),
        present & (segment == 1),
        present & (segment == 2),
        n,
        n_fresh_slots + n_new,
        take_new=present & (segment == 3),
    )
    rows = np.broadcast_to(np.arange(b)[:, None], sel.shape)
    return pa.RecordBatch.from_arrays(
        [
            batch.column("user_id").take(pa.array(rows[sel])),
            pa.array(rank[sel]),
            ctx.item_id_array.take(pa.array(sel_codes[sel])),
            pa.array(scores[sel]),
            SOURCES.take(pa.array(source[sel])),
        ],
        names=["user_id", "rank", "item_id", "score", "source"],
    )
