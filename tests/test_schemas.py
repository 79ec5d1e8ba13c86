from pathlib import Path

from nightfeed.lake import schemas, table_registry


def test_every_table_schema_loads_and_has_its_partition_columns():
    for name, table in table_registry.TABLES.items():
        assert table.name == name
        assert set(table.partition_columns) <= set(schemas.field_names(table.schema)), name


def test_every_schema_file_is_used():
    files = {p.stem for p in Path(schemas.schemas_dir()).glob("*.json")}
    used = {t.schema for t in table_registry.TABLES.values()} | {
        "landing_events",
        "landing_items",
        "landing_moderation",
    }
    assert files == used


def test_landing_event_contract_fields():
    assert schemas.field_names("landing_events") == [
        "event_id",
        "user_id",
        "item_id",
        "event_type",
        "event_ts",
        "watch_ms",
        "region",
    ]
