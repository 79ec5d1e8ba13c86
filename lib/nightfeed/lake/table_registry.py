"""The table registry: every Delta table of the lake, named once with its schema and partitions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """A Delta table of the lake: its name (path under the lake root), schema file and partitions."""

    name: str
    schema: str  # schemas/<schema>.json
    partition_columns: tuple[str, ...] = ("region", "ds")


# The table registry: every table of the lake, named once.
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("bronze/events", "bronze_events"),
        Table("bronze/events_quarantine", "quarantine"),
        Table("bronze/items", "bronze_items"),
        Table("bronze/items_quarantine", "quarantine"),
        Table("bronze/moderation_decisions", "bronze_moderation_decisions"),
        Table("bronze/moderation_quarantine", "quarantine"),
        Table("silver/item_risk_features", "silver_item_risk_features"),
        Table("gold/audit_queue", "gold_audit_queue"),
        Table("gold/audit_metrics", "gold_audit_metrics"),
        Table("silver/interactions", "silver_interactions"),
        Table("silver/exclusions", "silver_exclusions"),
        Table("silver/ranking_examples", "silver_ranking_examples"),
        Table("silver/ranking_candidates", "silver_ranking_candidates"),
        Table("silver/feed_candidates", "feeds"),
        Table("silver/feed_slots_without_holds", "silver_feed_slots_without_holds"),
        Table("gold/user_features", "gold_user_features"),
        Table("gold/item_features", "gold_item_features"),
        Table("gold/model_registry", "gold_model_registry"),
        Table("gold/model_metrics", "gold_model_metrics"),
        Table("gold/feeds", "feeds"),
        Table("gold/feed_metrics", "gold_feed_metrics"),
        Table("gold/feed_pointer", "gold_feed_pointer", ("region",)),  # one row per region, not per run
    )
}
