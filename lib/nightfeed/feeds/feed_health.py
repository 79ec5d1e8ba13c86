"""Creator-side health of a published feed: who gets exposure, how concentrated it is, whether new
creators are seen at all. DataFrame → DataFrame aggregation on Spark, then small pandas → dict.

Exposure is rank-discounted: a slot at rank r is worth 1/log2(r + 1), as in nDCG, so the top of a
feed counts most. A creator is new when their first upload in the catalog is within
`new_creator_days` of the end of ds.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nightfeed.core.days import day_end
from nightfeed.core.vocabulary import RETRIEVERS
from nightfeed.evaluation.metrics import gini

SOURCES = RETRIEVERS  # every source a feed row may name (CF-only feeds use cf, fresh, trending, new_creator)


def new_creator_items(catalog: pd.DataFrame, ds: str, days: float) -> pd.Series:
    """Per catalog row (item_id, creator_id, created_ts): True when its creator is new on ds."""
    created = pd.to_datetime(catalog["created_ts"]).dt.tz_localize(None)
    first = created.groupby(catalog["creator_id"]).transform("min")
    return first >= pd.Timestamp(day_end(ds).replace(tzinfo=None) - dt.timedelta(days=days))


def feed_aggregates(feeds: DataFrame, creators: DataFrame) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(per item: item_id, exposure, slots; over the users, one row: users, creators_per_feed,
    cold_users (no CF slot); per source: source, slots) of a feed slice (user_id, rank, item_id,
    source); `creators`: item_id, creator_id (an item missing there counts as its own creator).
    Nothing of the region's users' size leaves Spark."""
    discount = 1.0 / F.log2(F.col("rank").cast("double") + 1.0)
    per_item = feeds.groupBy("item_id").agg(
        F.sum(discount).alias("exposure"), F.count(F.lit(1)).alias("slots")
    )
    with_creator = feeds.join(creators, "item_id", "left").select(
        "user_id", "source", F.coalesce("creator_id", F.concat(F.lit("item:"), "item_id")).alias("creator")
    )
    per_user = with_creator.groupBy("user_id").agg(
        F.countDistinct("creator").alias("creators"),
        F.sum((F.col("source") == "cf").cast("int")).alias("cf_rows"),
    )
    users = per_user.agg(
        F.count(F.lit(1)).alias("users"),
        F.coalesce(F.avg("creators"), F.lit(0.0)).alias("creators_per_feed"),
        F.coalesce(F.sum((F.col("cf_rows") == 0).cast("long")), F.lit(0)).alias("cold_users"),
    )
    per_source = feeds.groupBy("source").agg(F.count(F.lit(1)).alias("slots"))
    return per_item, users, per_source


def health_metrics(
    per_item: pd.DataFrame,
    users: pd.DataFrame,
    per_source: pd.DataFrame,
    catalog: pd.DataFrame,
    ds: str,
    new_creator_days: float,
    eligible_moderation: tuple[str, ...],
) -> dict[str, float]:
    """The feed health metrics of one (region, ds) from `feed_aggregates` (as pandas) and the
    catalog (item_id, creator_id, created_ts, moderation_status, is_fresh)."""
    cat = catalog.assign(new_creator=new_creator_items(catalog, ds, new_creator_days).to_numpy())
    shown = cat.merge(per_item, on="item_id", how="left").fillna({"exposure": 0.0, "slots": 0})
    eligible = shown[shown["moderation_status"].isin(list(eligible_moderation))]
    total_slots = float(per_item["slots"].sum())
    by_creator = eligible.groupby("creator_id").agg(exposure=("exposure", "sum"), new=("new_creator", "any"))
    new_creators = by_creator[by_creator["new"]]
    source_slots = dict(zip(per_source["source"], per_source["slots"].astype(float)))
    n_users = float(users["users"].iloc[0])
    out = {
        "users": n_users,
        "slots": total_slots,
        "catalog_coverage": _share((eligible["slots"] > 0).sum(), len(eligible)),
        "item_exposure_gini": gini(eligible["exposure"]),
        "creator_exposure_gini": gini(by_creator["exposure"]),
        "fresh_slot_share": _share(shown.loc[shown["is_fresh"], "slots"].sum(), total_slots),
        "new_creator_slot_share": _share(shown.loc[shown["new_creator"], "slots"].sum(), total_slots),
        "new_creator_reach": _share((new_creators["exposure"] > 0).sum(), len(new_creators)),
        "creators_per_feed": float(users["creators_per_feed"].iloc[0]),
        "cold_start_user_share": _share(users["cold_users"].iloc[0], n_users),
    }
    for source in SOURCES:
        out[f"source_share_{source}"] = _share(source_slots.get(source, 0.0), total_slots)
    return out


def model_metrics(today: dict[str, float], previous: dict[str, float] | None) -> dict[str, float]:
    """The live model's offline metrics (`<model|popularity>_<metric>` as in gold/model_metrics)
    and, per metric, its change against the previous day that has them."""
    out = dict(today)
    for name, value in today.items():
        if previous and name in previous:
            out[f"{name}_change"] = value - previous[name]
    return out


def _share(part, whole) -> float:
    return float(part) / float(whole) if whole else 0.0


def hold_effects(
    with_holds: pd.Series, without_holds: pd.Series, held: set[str], violating: dict[str, int]
) -> dict[str, float]:
    """What the audit's safety holds did to tonight's feeds. with_holds / without_holds: feed slots
    per item_id with the holds (the feeds written) and without them (the same scoring, nothing
    held); held: the held item_ids; violating: item_id -> 1 if it truly violates a policy."""

    def slots(per_item: pd.Series, keep) -> float:
        return float(per_item[[keep(i) for i in per_item.index]].sum()) if len(per_item) else 0.0

    def bad(item: str) -> bool:
        return violating.get(item, 0) == 1

    benign_held = {i for i in held if not bad(i)}
    return {
        "audit_violating_slots": slots(with_holds, bad),
        "audit_violating_slots_without_holds": slots(without_holds, bad),
        "audit_held_videos": float(len(held)),
        "audit_held_benign_videos": float(len(benign_held)),
        "audit_held_benign_slots_without_holds": slots(without_holds, lambda i: i in benign_held),
    }
