"""Inputs several stages read the same way: the day's catalog, a window of bronze events, the
audit's holds and which videos truly violate a policy."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nightfeed.audit.features import VIOLATING_DECISIONS
from nightfeed.configuration.config import Lake
from nightfeed.core.days import day_end
from nightfeed.core.errors import NightfeedError
from nightfeed.feeds import features
from nightfeed.ingest.moderation import with_later_decisions
from nightfeed.lake.tables import LakeTables


def shift(ds: str, days: int) -> str:
    return (dt.date.fromisoformat(ds) + dt.timedelta(days=days)).isoformat()


def catalog_snapshot(t: LakeTables, region: str, ds: str) -> DataFrame:
    """The region's newest item catalog delivered on or before ds. If that is an earlier day's,
    the review decisions ingested since then set the status of the videos they decided."""
    items = t.read("bronze/items").where((F.col("region") == region) & (F.col("ds") <= ds))
    latest = items.agg(F.max("ds")).first()[0]
    if latest is None:
        raise NightfeedError(
            f"no item catalog for region={region} on or before {ds}: "
            f"land it under landing/items/region={region}/ds=<date>/ and run ingest_events"
        )
    catalog = items.where(F.col("ds") == latest).drop("ds", "region")
    if latest == ds or not t.exists("bronze/moderation_decisions"):
        return catalog
    since = t.read("bronze/moderation_decisions").where(
        (F.col("region") == region) & (F.col("ds") > latest) & (F.col("ds") <= ds)
    )
    return with_later_decisions(catalog, since)


def window_events(t: LakeTables, region: str, ds: str, days: int) -> DataFrame:
    """Bronze events of the `days` days ending at ds (ds itself must have been ingested)."""
    t.require_slice("bronze/events", region, ds, "ingest_events")
    return t.read("bronze/events").where(
        (F.col("region") == region) & (F.col("ds") >= features.window_start(ds, days)) & (F.col("ds") <= ds)
    )


def held_items(t: LakeTables, region: str, ds: str) -> DataFrame:
    """item_id, held: the videos the night's audit queue holds out of the feeds."""
    return t.read_slice("gold/audit_queue", region, ds).where("held").select("item_id", "held")


def truth_path(lake: Lake, region: str) -> Path:
    return lake.root / "landing" / "audit_truth" / f"region={region}" / "truth.jsonl"


def violation_labels(t: LakeTables, lake: Lake, region: str, ds: str) -> tuple[dict[str, int], str]:
    """item_id -> 1 if it violates a policy: from the truth file when there is one, else from the
    decisions taken after ds that the lake holds by now."""
    path = truth_path(lake, region)
    if path.exists():
        truth = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return {r["item_id"]: int(r["policy"] != "none") for r in truth}, "hidden truth"
    later = (
        t.read("bronze/moderation_decisions")
        .where(
            (F.col("region") == region)
            & (F.col("decided_ts") >= F.lit(day_end(ds)))
            & (F.col("reviewer") != "auto")
        )
        .select("item_id", F.col("decision").isin(*VIOLATING_DECISIONS).cast("int").alias("v"))
        .collect()
    )
    return {r["item_id"]: r["v"] for r in later}, "decisions after ds (unreviewed videos count as benign)"


def viewer_sample(examples: DataFrame, max_examples: int, seed: int) -> tuple[DataFrame, float]:
    """The rows (one or more per user_id) of a fixed-hash sample of whole viewers holding about
    `max_examples` rows (all of them when fewer), and the sampled share: a read of a region's
    impressions that stays bounded whatever the region's size."""
    total = examples.count()
    share = min(1.0, max_examples / total) if total else 1.0
    if share >= 1.0:
        return examples, 1.0
    bucket = F.abs(F.xxhash64("user_id", F.lit(seed))) % 1_000_000
    return examples.where(bucket < F.lit(int(share * 1_000_000))), round(share, 6)
