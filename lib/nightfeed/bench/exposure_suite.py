"""Benchmark suite `exposure`: the trade-off between feed quality and creator-side exposure.

On the synthetic platform (one region, default size): ALS is fitted on six days, and feeds are
composed with the real feed rules (`scoring.compose_feeds`) for every user active on the seventh,
once per setting of `feed.new_creator_share` × `feed.max_per_creator`. Each setting reports
nDCG@10 of the feed's first ten items against the users' new interactions of day seven, the
creator exposure Gini and the share of slots that went to new creators (`feed_health`). The
question: is there a setting that lowers creator Gini by ≥ 20% for ≤ 2% relative nDCG loss?
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from nightfeed.bench.models_suite import synthetic_interactions
from nightfeed.configuration import config
from nightfeed.evaluation.matrices import encode, relevant_sets
from nightfeed.evaluation.metrics import ranking_metrics
from nightfeed.feeds import feed_health, scoring
from nightfeed.models import create
from nightfeed.reports.charts import figure, to_svg
from nightfeed.synthetic import world as synthetic

SHARES = (0.0, 0.05, 0.1, 0.2)
CAPS = (3, 2, 1)
REGION, DS, SEED = "BENCH", "2026-11-25", 42


def exposure_suite(shares=SHARES, caps=CAPS, region: str = REGION, ds: str = DS, seed: int = SEED) -> dict:
    cfg = config.region_settings(region)
    df = synthetic_interactions(region, ds, days=7, seed=seed)
    cut = dt.datetime.fromisoformat(ds).replace(tzinfo=dt.UTC).timestamp()
    train, test = df[df["time"] < cut], df[df["time"] >= cut]
    enc = encode(train)
    users, relevant = relevant_sets(test, enc)
    model = create("als", seed=seed).fit(enc.train)
    catalog = _catalog(cfg.synthetic, seed, region, ds, train)
    batch = _users(enc, users)
    rows = []
    for cap in caps:
        for share in shares:
            feed = dataclasses.replace(cfg.feed, new_creator_share=share, max_per_creator=cap)
            ctx = scoring.build_context(model, enc.item_ids, catalog, feed, ds)
            feeds = scoring.compose_feeds(ctx, batch).to_pandas()
            rows.append(
                {
                    "new_creator_share": share,
                    "max_per_creator": cap,
                    **_measure(feeds, enc, users, relevant, catalog, ds, cfg.feed),
                }
            )
    base = next(
        r for r in rows if r["new_creator_share"] == 0.0 and r["max_per_creator"] == cfg.feed.max_per_creator
    )
    for r in rows:
        r["gini_change"] = r["creator_exposure_gini"] / base["creator_exposure_gini"] - 1
        r["ndcg_change"] = r["ndcg@10"] / base["ndcg@10"] - 1
    good = [r for r in rows if r["gini_change"] <= -0.2 and r["ndcg_change"] >= -0.02]
    return {
        "region": region,
        "ds": ds,
        "users": int(len(users)),
        "baseline": {"new_creator_share": 0.0, "max_per_creator": cfg.feed.max_per_creator},
        "settings": rows,
        "target": "creator Gini -20% or better for at most -2% relative nDCG@10",
        "meets_target": [{k: r[k] for k in ("new_creator_share", "max_per_creator")} for r in good],
        "chart_svg": trade_off_chart(rows),
    }


def _catalog(syn, seed: int, region: str, ds: str, train: pd.DataFrame) -> pd.DataFrame:
    prev = (dt.date.fromisoformat(ds) - dt.timedelta(days=1)).isoformat()
    cat = synthetic.catalog(syn, seed, region, prev)
    n_users = train.groupby("item")["user"].nunique()
    created = pd.to_datetime(cat.created_ts, unit="s")
    return pd.DataFrame(
        {
            "item_id": cat.ids,
            "creator_id": cat.creator,
            "created_ts": created,
            "moderation_status": cat.status,
            "is_fresh": created >= pd.Timestamp(ds) - pd.Timedelta(hours=24),
            "n_users": n_users.reindex(cat.ids).fillna(0).to_numpy(int),
            "trending_score": n_users.reindex(cat.ids).fillna(0).to_numpy(float),
        }
    )


def _users(enc, users: np.ndarray) -> pa.RecordBatch:
    rows = enc.train[users]
    hist = [rows.indices[rows.indptr[k] : rows.indptr[k + 1]].tolist() for k in range(len(users))]
    conf = [rows.data[rows.indptr[k] : rows.indptr[k + 1]].astype(float).tolist() for k in range(len(users))]
    return pa.RecordBatch.from_pydict(
        {
            "user_id": [str(u) for u in enc.user_ids[users]],
            "user_idx": users.astype(np.int64),
            "hist_idx": hist,
            "hist_conf": conf,
            "excl": [[] for _ in users],
        },
        schema=pa.schema(
            [
                ("user_id", pa.string()),
                ("user_idx", pa.int64()),
                ("hist_idx", pa.list_(pa.int64())),
                ("hist_conf", pa.list_(pa.float64())),
                ("excl", pa.list_(pa.int64())),
            ]
        ),
    )


def _measure(feeds: pd.DataFrame, enc, users, relevant, catalog: pd.DataFrame, ds: str, feed_cfg) -> dict:
    code = {item: k for k, item in enumerate(enc.item_ids)}
    top = feeds[feeds["rank"] <= 10].sort_values(["user_id", "rank"])
    recs = np.full((len(users), 10), -1, np.int64)
    row_of = {str(u): k for k, u in enumerate(enc.user_ids[users])}
    for user, group in top.groupby("user_id"):
        ids = [code.get(i, -2) for i in group["item_id"]]
        recs[row_of[user], : len(ids)] = ids
    quality = ranking_metrics(recs, relevant, 10, enc.train.shape[1])
    feeds = feeds.assign(exposure=1.0 / np.log2(feeds["rank"] + 1.0))
    per_item = (
        feeds.groupby("item_id").agg(exposure=("exposure", "sum"), slots=("rank", "size")).reset_index()
    )
    creators = feeds.merge(catalog[["item_id", "creator_id"]], on="item_id", how="left")
    per_user = creators.groupby("user_id").agg(
        creators=("creator_id", "nunique"), cf_rows=("source", lambda s: int((s == "cf").sum()))
    )
    per_source = feeds.groupby("source").size().rename("slots").reset_index()
    health = feed_health.health_metrics(
        per_item,
        per_user.reset_index(),
        per_source,
        catalog,
        ds,
        feed_cfg.new_creator_days,
        feed_cfg.eligible_moderation,
    )
    return {
        "ndcg@10": quality["ndcg@10"],
        "creator_exposure_gini": health["creator_exposure_gini"],
        "item_exposure_gini": health["item_exposure_gini"],
        "new_creator_slot_share": health["new_creator_slot_share"],
        "new_creator_reach": health["new_creator_reach"],
        "catalog_coverage": health["catalog_coverage"],
    }


def trade_off_chart(rows: list[dict]) -> str:
    """nDCG@10 against creator exposure Gini, one marker per setting, as SVG."""
    fig, ax = figure(6.4, 4.0)
    for cap, marker in zip(sorted({r["max_per_creator"] for r in rows}, reverse=True), "osd^v"):
        mine = [r for r in rows if r["max_per_creator"] == cap]
        ax.plot(
            [r["creator_exposure_gini"] for r in mine],
            [r["ndcg@10"] for r in mine],
            marker + "-",
            label=f"max_per_creator {cap}",
        )
        for r in mine:
            ax.annotate(
                f"{r['new_creator_share']:.2f}",
                (r["creator_exposure_gini"], r["ndcg@10"]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=7,
            )
    ax.set_xlabel("creator exposure Gini (rank-discounted, lower = more even)")
    ax.set_ylabel("nDCG@10, next-day holdout")
    ax.set_title("Feed quality vs creator exposure (labels: new_creator_share)")
    ax.grid(color="#e5e7eb")
    ax.legend(fontsize=8)
    return to_svg(fig)
