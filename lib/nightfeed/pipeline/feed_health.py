"""Stage feed_health: creator-side health of the feed published for (region, ds), the live model's
offline metrics against the previous day, and what the audit's holds changed (feed slots of truly
violating videos with and without holds, benign videos held) -> gold/feed_metrics (region, ds,
metric, value)."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.feeds.feed_health import feed_aggregates, health_metrics, hold_effects, model_metrics
from nightfeed.lake import schemas
from nightfeed.lake.table_registry import TABLES
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.inputs import held_items, violation_labels

CATALOG = ("item_id", "creator_id", "created_ts", "moderation_status", "is_fresh")


def feed_health(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    t = LakeTables(spark, lake.root)
    feeds = t.require_slice("gold/feeds", region, ds, "publish_feeds")
    catalog = t.require_slice("gold/item_features", region, ds, "build_features").select(*CATALOG)
    per_item, users, per_source = feed_aggregates(feeds, catalog.select("item_id", "creator_id"))
    metrics = health_metrics(
        per_item.toPandas(),
        users.toPandas(),
        per_source.toPandas(),
        catalog.toPandas(),
        ds,
        cfg.feed.new_creator_days,
        cfg.feed.eligible_moderation,
    )
    metrics.update(model_metrics(*_offline_metrics(t, region, ds)))
    if t.exists("silver/feed_slots_without_holds"):
        metrics.update(_hold_effects(t, lake, region, ds))
    rows = [{"region": region, "ds": ds, "metric": m, "value": float(v)} for m, v in sorted(metrics.items())]
    schema = schemas.load(TABLES["gold/feed_metrics"].schema)
    t.write_slice("gold/feed_metrics", spark.createDataFrame(rows, schema), region, ds)
    return {"metrics": {m: round(v, 4) for m, v in metrics.items() if not m.endswith("_change")}}


def _hold_effects(t: LakeTables, lake: Lake, region: str, ds: str) -> dict[str, float]:
    def slots(table: str):
        per_item = t.read_slice(table, region, ds).groupBy("item_id").agg(F.count("*").alias("n"))
        return per_item.toPandas().set_index("item_id")["n"]

    without = t.read_slice("silver/feed_slots_without_holds", region, ds).toPandas()
    held = {r["item_id"] for r in held_items(t, region, ds).collect()}
    labels, _ = violation_labels(t, lake, region, ds)
    return hold_effects(slots("silver/feed_candidates"), without.set_index("item_id")["slots"], held, labels)


def _owner(model: str) -> str:
    """The prefix of a gold/model_metrics row's metrics: popularity, the ranker (and its heads:
    ranker_like, ...; its CF-score baseline: ranker_cf_score), else the live CF model."""
    if model == "popularity" or model.startswith("ranker"):
        return model.replace(":", "_")
    return "model"


def _offline_metrics(t: LakeTables, region: str, ds: str) -> tuple[dict, dict | None]:
    """gold/model_metrics of ds and of the latest earlier day that has any, as
    {"model_ndcg@10": ..., "popularity_ndcg@10": ..., "ranker_gauc": ...} (`_owner`)."""
    if not t.exists("gold/model_metrics"):
        return {}, None
    rows = (
        t.read("gold/model_metrics")
        .where((F.col("region") == region) & (F.col("ds") <= ds) & (F.col("status") == "ok"))
        .select("ds", "model", "metric", "value")
        .toPandas()
    )
    by_day = {}
    for day, group in rows.groupby("ds"):
        by_day[day] = {f"{_owner(r.model)}_{r.metric}": float(r.value) for r in group.itertuples()}
    earlier = sorted(d for d in by_day if d < ds)
    return by_day.get(ds, {}), by_day[earlier[-1]] if earlier else None
