"""What the ranker may know at the start of a day: aggregates of the events of the days *before*
it, and nothing later (point-in-time). One definition serves the training examples (each past
day's impressions, from the state at that day's start) and tonight's candidates (served the day
after ds, from the state after ds)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nightfeed.models.topk import select_topk

OUTCOMES = ("played", "watch_ms", "finished", "liked", "shared", "followed", "skipped")
PRIOR_WEIGHT = 10.0  # impressions' worth of the region's mean a rate starts from
COVIS_NEIGHBOURS = 50  # co-visited videos kept per video


def daily_outcomes(events: DataFrame) -> DataFrame:
    """One row per (user_id, item_id, ds) with what the viewer did with the video that day:
    impressed, played, watch_ms (longest play or skip), finished, liked, shared, followed, skipped."""
    kind = F.col("event_type")

    def happened(*kinds: str):
        return F.max(kind.isin(*kinds).cast("int")).cast("boolean")

    return events.groupBy("user_id", "item_id", "ds").agg(
        happened("impression").alias("impressed"),
        happened("play", "finish").alias("played"),
        F.max(F.when(kind.isin("play", "finish", "skip"), F.col("watch_ms"))).alias("watch_ms"),
        happened("finish").alias("finished"),
        happened("like").alias("liked"),
        happened("share").alias("shared"),
        happened("follow").alias("followed"),
        happened("skip").alias("skipped"),
    )


def with_watch(outcomes: pd.DataFrame, catalog: pd.DataFrame, finish_ratio: float) -> pd.DataFrame:
    """Adds duration_s, watch_s (0 unless played), watched (share of the video) and finished
    (a finish event, or a play of at least `finish_ratio` of the video)."""
    duration = (
        outcomes["item_id"].map(catalog.set_index("item_id")["duration_ms"]).to_numpy(np.float64) / 1000
    )
    watch = np.where(outcomes["played"], outcomes["watch_ms"].fillna(0).to_numpy(np.float64) / 1000, 0.0)
    watch = np.minimum(watch, np.where(np.isnan(duration), watch, duration))
    share = np.where(duration > 0, watch / np.where(duration > 0, duration, 1), 0.0)
    return outcomes.assign(
        duration_s=duration,
        watch_s=watch,
        watched=np.clip(share, 0, 1),
        finished=outcomes["finished"].fillna(False).to_numpy(bool) | (share >= finish_ratio),
    )


@dataclass
class RankingState:
    """The state at the start of `day`. Users and items are rows of `user_ids` / `item_ids`
    (callers pick the order: tonight, the scoring context's item codes); creators are rows of
    `creator_ids`."""

    day: str
    user_ids: np.ndarray
    item_ids: np.ndarray
    creator: np.ndarray  # item row -> creator row
    viewer: np.ndarray  # users × VIEWER
    video: np.ndarray  # items × VIDEO
    creator_stats: np.ndarray  # creators × CREATOR
    watch_by_creator: sp.csr_matrix  # users × creators: seconds watched
    likes_by_creator: sp.csr_matrix
    follows_by_creator: sp.csr_matrix  # 1 where the viewer followed from one of its videos
    history: sp.csr_matrix  # users × items: 1 where played
    covis: sp.csr_matrix  # items × items: cosine of co-plays, top COVIS_NEIGHBOURS per row
    item_created: np.ndarray  # hours before the day's start the item was uploaded

    def user_rows(self, user_ids) -> np.ndarray:
        return pd.Index(self.user_ids).get_indexer(user_ids)

    def item_rows(self, item_ids) -> np.ndarray:
        return pd.Index(self.item_ids).get_indexer(item_ids)


VIEWER = ("v_impressions", "v_play_rate", "v_completion", "v_like_rate", "v_skip_rate", "v_log_duration")
VIDEO = (
    "i_impressions",
    "i_play_rate",
    "i_completion",
    "i_like_rate",
    "i_share_rate",
    "i_skip_rate",
    "i_finish_rate",
    "i_log_duration",
    "i_age_h",
)
CREATOR = ("c_impressions", "c_play_rate", "c_completion", "c_like_rate", "c_follows", "c_age_days")


def build_state(
    outcomes: pd.DataFrame, catalog: pd.DataFrame, user_ids, item_ids, day: str, finish_ratio: float
) -> RankingState:
    """The state at the start of `day` from daily outcomes (`daily_outcomes` rows; rows of `day`
    or later are ignored here, whatever the caller passes) and the catalog (item_id, creator_id,
    created_ts, duration_ms). `item_ids` should hold the whole catalog: creator stats and the
    viewers' histories count only the videos among them."""
    before = with_watch(outcomes[outcomes["ds"] < day], catalog, finish_ratio)
    user_ids, item_ids = np.asarray(user_ids, dtype=object), np.asarray(item_ids, dtype=object)
    cat = catalog.set_index("item_id").reindex(item_ids)
    creator_codes, creator_ids = pd.factorize(cat["creator_id"].fillna("").to_numpy())
    start = pd.Timestamp(day)
    created = pd.to_datetime(cat["created_ts"])
    if created.dt.tz is not None:
        created = created.dt.tz_localize(None)
    age_h = ((start - created).dt.total_seconds() / 3600).clip(lower=0).to_numpy(np.float64)
    log_duration = np.log(np.maximum(cat["duration_ms"].to_numpy(np.float64) / 1000, 1e-3))
    u = pd.Index(user_ids).get_indexer(before["user_id"])
    i = pd.Index(item_ids).get_indexer(before["item_id"])
    c = np.where(i >= 0, creator_codes[np.maximum(i, 0)], -1)
    stats = _Counts(before)
    viewer = stats.rates(u, len(user_ids))
    pref = _weighted_mean(
        u, len(user_ids), np.log(np.maximum(before["duration_s"].fillna(0), 1e-3)), before["watch_s"]
    )
    video = stats.rates(i, len(item_ids), videos=True)
    creators = stats.rates(c, len(creator_ids))
    follows = np.bincount(c[c >= 0], before["followed"].to_numpy(float)[c >= 0], len(creator_ids))
    first_upload = pd.Series(age_h).groupby(creator_codes).max().reindex(range(len(creator_ids)))
    known = (u >= 0) & (c >= 0)
    shape_uc = (len(user_ids), len(creator_ids))
    played = (u >= 0) & (i >= 0) & before["played"].to_numpy(bool)
    history = sp.csr_matrix(
        (np.ones(played.sum(), np.float32), (u[played], i[played])), (len(user_ids), len(item_ids))
    )
    history.data[:] = 1.0
    return RankingState(
        day=day,
        user_ids=user_ids,
        item_ids=item_ids,
        creator=creator_codes,
        viewer=np.column_stack([viewer[:, :5], pref]).astype(np.float32),
        video=np.column_stack([video, log_duration, np.log1p(age_h)]).astype(np.float32),
        creator_stats=np.column_stack(
            [creators[:, [0, 1, 2, 3]], np.log1p(follows), first_upload.to_numpy() / 24]
        ).astype(np.float32),
        watch_by_creator=_sparse(u[known], c[known], before["watch_s"].to_numpy()[known], shape_uc),
        likes_by_creator=_sparse(u[known], c[known], before["liked"].to_numpy(float)[known], shape_uc),
        follows_by_creator=_sparse(
            u[known], c[known], before["followed"].to_numpy(float)[known], shape_uc, cap=1.0
        ),
        history=history,
        covis=covisitation(history),
        item_created=age_h,
    )


class _Counts:
    """Per-row counts of the outcomes, turned into rates that start from the region's mean."""

    def __init__(self, rows: pd.DataFrame):
        self.shown = np.ones(len(rows))
        self.played = rows["played"].to_numpy(float)
        self.watched = rows["watched"].to_numpy(float)
        self.liked = rows["liked"].to_numpy(float)
        self.shared = rows["shared"].to_numpy(float)
        self.skipped = rows["skipped"].to_numpy(float)
        self.finished = rows["finished"].to_numpy(float)

    def rates(self, keys: np.ndarray, n: int, videos: bool = False) -> np.ndarray:
        ok = keys >= 0

        def count(values):
            return np.bincount(keys[ok], values[ok], n)

        shown, plays = count(self.shown), count(self.played)
        cols = [
            np.log1p(shown),
            _rate(plays, shown, self.played),
            _rate(count(self.watched * self.played), plays, self.watched[self.played > 0]),
            _rate(count(self.liked), plays, self.liked[self.played > 0]),
        ]
        if videos:
            cols.append(_rate(count(self.shared), plays, self.shared[self.played > 0]))
        cols.append(_rate(count(self.skipped), shown, self.skipped))
        if videos:
            cols.append(_rate(count(self.finished), shown, self.finished))
        return np.column_stack(cols)


def _rate(k: np.ndarray, n: np.ndarray, population: np.ndarray) -> np.ndarray:
    prior = float(population.mean()) if len(population) else 0.0
    return (k + PRIOR_WEIGHT * prior) / (n + PRIOR_WEIGHT)


def _weighted_mean(keys: np.ndarray, n: int, values, weights) -> np.ndarray:
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    ok = keys >= 0
    total = np.bincount(keys[ok], weights[ok], n)
    mean = np.bincount(keys[ok], (values * weights)[ok], n) / np.where(total > 0, total, 1)
    return np.where(total > 0, mean, np.nan)


def _sparse(rows, cols, values, shape, cap: float | None = None) -> sp.csr_matrix:
    m = sp.csr_matrix((np.asarray(values, np.float32), (rows, cols)), shape=shape)
    m.sum_duplicates()
    if cap is not None:
        m.data = np.minimum(m.data, cap)
    m.eliminate_zeros()
    return m


def covisitation(history: sp.csr_matrix, neighbours: int = COVIS_NEIGHBOURS) -> sp.csr_matrix:
    """items × items: cosine similarity of the viewers who played both, the `neighbours` largest
    per row (the item-to-item retriever and the similarity-to-history feature)."""
    co = (history.T @ history).tocsr().astype(np.float32)
    co.setdiag(0)
    co.eliminate_zeros()
    norm = np.sqrt(np.asarray(history.sum(axis=0)).ravel()).astype(np.float32)
    norm[norm == 0] = 1
    co = sp.diags(1 / norm) @ co @ sp.diags(1 / norm)
    co = co.tocsr()
    width = min(neighbours, co.shape[1])
    if co.nnz == 0 or width == 0:
        return co
    rows = np.flatnonzero(np.diff(co.indptr))
    dense_rows = []
    for lo in range(0, len(rows), 512):
        chunk = rows[lo : lo + 512]
        ids, vals = select_topk(co[chunk].toarray(), width)
        keep = vals > 0
        dense_rows.append((np.repeat(chunk, keep.sum(axis=1)), ids[keep], vals[keep]))
    r, c, v = (np.concatenate(x) for x in zip(*dense_rows, strict=True))
    return sp.csr_matrix((v.astype(np.float32), (r, c)), shape=co.shape)
