"""Next-day impression metrics for evaluate_model: the model whose feed was live on ds (the newest
published on or before ds−1), judged by what its viewers did with the impressions of ds
(`evaluation.impressions`: GAUC, XAUC, watch nDCG), against the popularity of that feed's night
on the same impressions.

The scores come from the live model's artifact and each viewer's interactions of that night —
the inputs the feed was scored from — so nothing of ds leaks into them. Viewers the model does not
know (they got trending feeds) are left out of both rows, so the two stay comparable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.evaluation.impressions import impression_metrics
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import load_artifact, registry_row
from nightfeed.pipeline.inputs import catalog_snapshot, shift, viewer_sample

BLOCK_USERS = 1024
MAX_IMPRESSIONS = 1_000_000  # judged per night: beyond it, a fixed-hash sample of whole viewers
PLAYED = ("play", "finish")


def impression_rows(
    t: LakeTables, lake: Lake, region: str, ds: str, k: int, seed: int
) -> tuple[list[dict], dict]:
    """gold/model_metrics rows (metric gauc, xauc, watch_ndcg@k; model = the live model's type and
    popularity) and a summary; one `skipped` row with the reason when they cannot be computed."""
    prev = shift(ds, -1)
    served = served_night(t, region, prev)
    if served is None:
        return _skipped(
            region, ds, "", k, f"no feed was published on or before {prev}: no impressions to judge it by"
        )
    live = t.read_slice("gold/feeds", region, served)
    version = live.select("model_version").first()["model_version"]
    reg = registry_row(t, region, version)
    if reg is None:
        return _skipped(region, ds, version, k, f"the live model {version} is not in gold/model_registry")
    model, model_users, model_items = load_artifact(lake, reg["artifact_path"])
    frame = _impressions(t, live.select("user_id").distinct(), region, ds, seed)
    user_index = pd.Index(model_users).get_indexer(frame["user_id"])
    frame = frame[user_index >= 0].assign(user=user_index[user_index >= 0])
    if frame.empty:
        return _skipped(region, ds, version, k, f"no impressions on {ds} of viewers the live model knows")
    judged = t.spark.createDataFrame(pd.DataFrame({"user_id": frame["user_id"].unique()}))
    history = (
        t.read_slice("silver/interactions", region, served)
        .join(F.broadcast(judged), "user_id")
        .select("user_id", "item_id", "confidence")
        .toPandas()
    )
    scores = {
        reg["model_type"]: model_scores(model, model_items, frame, history, model_users),
        "popularity": _popularity(history, frame),
    }
    rows = []
    summary = {
        "impressions": len(frame),
        "feed_of": served,
        "model_version": version,
        "model_type": reg["model_type"],
        "metrics": {},
    }
    for name, score in scores.items():
        for metric, (value, users) in impression_metrics(frame.assign(score=score), k).items():
            ok = not np.isnan(value)
            rows.append(
                metric_row(
                    region,
                    ds,
                    version,
                    name,
                    k,
                    metric,
                    value if ok else 0.0,
                    users,
                    "ok" if ok else "skipped",
                    None
                    if ok
                    else f"no viewer on {ds} with what {metric} compares (plays and skips, or two plays)",
                )
            )
            summary["metrics"].setdefault(name, {})[metric] = round(value, 4) if ok else None
    return rows, summary


def served_night(t: LakeTables, region: str, last: str) -> str | None:
    """The night whose feed viewers saw the day after `last`: the newest published on or before
    it (a night the gate refused publishes nothing, so the feed before it stayed live)."""
    if not t.exists("gold/feeds"):
        return None
    feeds = t.read("gold/feeds")
    return feeds.where((F.col("region") == region) & (F.col("ds") <= last)).agg(F.max("ds")).first()[0]


def _impressions(t: LakeTables, viewers, region: str, ds: str, seed: int) -> pd.DataFrame:
    """user_id, item_id, played, watched (share of the video, 0..1) of each impression of ds, of a
    fixed sample of viewers holding at most MAX_IMPRESSIONS (one bounded read)."""
    kind = F.col("event_type")
    durations = catalog_snapshot(t, region, ds).select("item_id", "duration_ms")
    events = t.read_slice("bronze/events", region, ds)
    shown = events.where(kind == "impression").join(viewers, "user_id").select("user_id")
    viewers = viewer_sample(shown, MAX_IMPRESSIONS, seed)[0].distinct()
    return (
        events.join(viewers, "user_id")
        .groupBy("user_id", "item_id")
        .agg(
            F.max(kind == "impression").alias("shown"),
            F.max(kind.isin(*PLAYED)).alias("played"),
            F.max(F.when(kind.isin(*PLAYED, "skip"), F.col("watch_ms"))).alias("watch_ms"),
        )
        .where("shown")
        .join(durations, "item_id", "left")
        .select(
            "user_id",
            "item_id",
            "played",
            F.least(F.coalesce(F.col("watch_ms") / F.col("duration_ms"), F.lit(0.0)), F.lit(1.0)).alias(
                "watched"
            ),
        )
        .toPandas()
        .sort_values(["user_id", "item_id"], ignore_index=True)
    )


def model_scores(model, model_items, frame: pd.DataFrame, history: pd.DataFrame, model_users) -> np.ndarray:
    """The live model's score of each impression from the viewer's interactions of ds−1 (a video
    the model does not know scores lowest)."""
    item_of = pd.Index(model_items)
    rows = pd.Index(model_users).get_indexer(history["user_id"])
    cols = item_of.get_indexer(history["item_id"])
    keep = (rows >= 0) & (cols >= 0)
    hist = sp.csr_matrix(
        (history["confidence"].to_numpy(np.float32)[keep], (rows[keep], cols[keep])),
        shape=(len(model_users), len(model_items)),
    )
    items = item_of.get_indexer(frame["item_id"])
    users = frame["user"].to_numpy()
    out = np.full(len(frame), -np.inf)
    distinct = np.unique(users)
    for start in range(0, len(distinct), BLOCK_USERS):
        block = distinct[start : start + BLOCK_USERS]
        scores = np.asarray(model.scores(block, hist[block]))
        at = np.flatnonzero(np.isin(users, block) & (items >= 0))
        out[at] = scores[np.searchsorted(block, users[at]), items[at]]
    return out


def _popularity(history: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """Viewers who interacted with each video in the window ending at the feed's night."""
    counts = history.groupby("item_id")["user_id"].nunique()
    return frame["item_id"].map(counts).fillna(0).to_numpy(np.float64)


def metric_row(region, ds, version, model, k, metric, value, users, status, reason) -> dict:
    return {
        "region": region,
        "ds": ds,
        "model_version": version,
        "model": model,
        "k": k,
        "metric": metric,
        "value": float(value),
        "n_users": int(users),
        "status": status,
        "reason": reason,
    }


def _skipped(region: str, ds: str, version: str, k: int, reason: str) -> tuple[list[dict], dict]:
    row = metric_row(region, ds, version, "live", k, "gauc", 0.0, 0, "skipped", reason)
    return [row], {"status": "skipped", "reason": reason}
