"""Delta Lake I/O: every write replaces exactly one (region, ds) slice, so reruns never duplicate."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from nightfeed.core.errors import NightfeedError
from nightfeed.lake import readonly, schemas
from nightfeed.lake.table_registry import TABLES

CONFLICT_RETRIES = 6
COMMIT_FILE = re.compile(r"\d{20}\.(json|checkpoint)")  # a commit or checkpoint in _delta_log
# Delta's optimistic-concurrency failures (and a create racing another create): safe to retry.
RETRYABLE = ("concurrent", "metadatachanged", "protocolchanged", "already exists")


def _sql_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def slice_predicate(region: str, ds: str | None = None, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    pred = f"{prefix}region = {_sql_literal(region)}"
    return pred if ds is None else f"{pred} AND {prefix}ds = {_sql_literal(ds)}"


def exists(path: str) -> bool:
    """A Delta table: its log holds a commit or a checkpoint. What `DeltaTable.isDeltaTable` checks,
    read from the folder instead of a Spark job (a stage asks this of every table it touches)."""
    log = Path(path) / "_delta_log"
    return log.is_dir() and any(COMMIT_FILE.match(f.name) for f in log.iterdir())


def conform(df: DataFrame, table: str) -> DataFrame:
    """Select and cast the table's columns in schema order; a missing nullable column is written
    as null (e.g. a CF-only feed has no ranker value), a missing required one fails clearly."""
    schema = schemas.load(TABLES[table].schema)
    missing = [f.name for f in schema.fields if f.name not in df.columns and not f.nullable]
    if missing:
        raise NightfeedError(f"cannot write {table}: missing columns {missing}")
    given = [F.col(f.name) if f.name in df.columns else F.lit(None) for f in schema.fields]
    return df.select([c.cast(f.dataType).alias(f.name) for c, f in zip(given, schema.fields, strict=True)])


def write_slice(
    spark: SparkSession, df: DataFrame, lake_table: str, table: str, region: str, ds: str
) -> None:
    """Atomically replace the (region, ds) slice of a Delta table with `df`.

    One Delta commit: readers see the old slice or the new one, never a mix. Rows outside the
    slice make the commit fail (Delta checks replaceWhere), so a job can only touch its own
    partition. Concurrent writers of other regions conflict only on metadata; we retry those.
    `mergeSchema` only ever adds the nullable columns a schema file gained since the table was
    created (conform selects exactly the registry schema), so older lakes migrate on write.
    """
    out = _slowed_for_tests(conform(df, table), lake_table)
    writer = (
        out.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", slice_predicate(region, ds))
        .option("mergeSchema", "true")
    )
    if not exists(lake_table):
        _create(spark, lake_table, table)
    _with_conflict_retries(lambda: writer.save(lake_table))


def replace_rows(
    spark: SparkSession, df: DataFrame, lake_table: str, table: str, region: str, ds: str, same: str
) -> None:
    """In the (region, ds) slice, replace the rows that `same` pairs with a row of `df` (SQL over
    the stored row `t` and the new row `s`) by df's rows; every other row stays as stored.

    One MERGE: Delta checks it against concurrent writers of the slice, and a conflict is retried
    on the slice as it is then (reading, editing and rewriting the slice would write back a stale
    copy and lose the other writer's rows)."""
    if not exists(lake_table):
        _create(spark, lake_table, table)
    rows = conform(df, table)
    condition = f"{slice_predicate(region, ds, 't')} AND ({same})"
    _with_conflict_retries(
        lambda: DeltaTable.forPath(spark, lake_table)
        .alias("t")
        .merge(rows.alias("s"), condition)
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )


def _slowed_for_tests(df: DataFrame, lake_table: str) -> DataFrame:
    """Test hook for crash tests: `NIGHTFEED_TEST_SLOW_WRITE=<table suffix>:<seconds>` makes every
    write task of that table pause before returning rows, so a test can SIGKILL the driver while
    data files are being written but before the Delta commit."""
    hook = os.environ.get("NIGHTFEED_TEST_SLOW_WRITE", "")
    if not hook or not lake_table.endswith(hook.split(":")[0]):
        return df
    pause = float(hook.split(":")[1])

    def slow(batches):
        for batch in batches:
            time.sleep(pause)
            yield batch

    return df.repartition(4).mapInPandas(slow, df.schema)


def _create(spark: SparkSession, lake_table: str, table: str) -> None:
    """Create an empty, partitioned table; if another writer wins the race, use its table."""
    partitions = TABLES[table].partition_columns
    log = Path(lake_table) / "_delta_log"
    if log.is_dir() and not any(log.iterdir()):
        log.rmdir()  # left by a create that died before its first commit; Delta refuses to reuse it
    for attempt in range(CONFLICT_RETRIES):
        try:
            (
                DeltaTable.createIfNotExists(spark)
                .location(lake_table)
                .addColumns(schemas.load(TABLES[table].schema))
                .partitionedBy(*partitions)
                .execute()
            )
            return
        except Exception as exc:  # noqa: BLE001 - a concurrent create leaves a valid table behind
            if exists(lake_table):
                return
            if attempt == CONFLICT_RETRIES - 1:
                raise NightfeedError(
                    f"cannot create Delta table {lake_table}: {str(exc).splitlines()[0][:300]}"
                ) from exc
            time.sleep(0.5 * 2**attempt)


def set_properties(spark: SparkSession, lake_table: str, properties: dict[str, str]) -> None:
    """Set table properties (`delta.logRetentionDuration`, ...): one metadata commit."""
    quoted = lake_table.replace("`", "``")
    settings = ", ".join(f"{_sql_literal(k)} = {_sql_literal(v)}" for k, v in properties.items())
    _with_conflict_retries(lambda: spark.sql(f"ALTER TABLE delta.`{quoted}` SET TBLPROPERTIES ({settings})"))


def latest_version(spark: SparkSession, lake_table: str) -> int:
    return int(DeltaTable.forPath(spark, lake_table).history(1).select("version").first()[0])


def pointer(spark: SparkSession, lake_table: str, region: str):
    """The region's live-feed pointer row, or None if nothing was published yet."""
    if not exists(lake_table):
        return None
    return read(spark, lake_table).where(slice_predicate(region)).first()


def set_pointer(
    spark: SparkSession, lake_table: str, region: str, live_ds: str, model_version: str, feeds_version: int
) -> None:
    """Point the region's live feed at (live_ds, feeds table version): one atomic commit."""
    row = spark.createDataFrame(
        [(region, live_ds, model_version, int(feeds_version))], schemas.load("gold_feed_pointer")
    )
    if not exists(lake_table):
        _create(spark, lake_table, "gold/feed_pointer")
    writer = row.write.format("delta").mode("overwrite").option("replaceWhere", slice_predicate(region))
    _with_conflict_retries(lambda: writer.save(lake_table))


def _with_conflict_retries(action):
    for attempt in range(CONFLICT_RETRIES):
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - only Delta's concurrency errors are retried
            text = (type(exc).__name__ + " " + str(exc)[:2000]).lower()
            if not any(r in text for r in RETRYABLE) or attempt == CONFLICT_RETRIES - 1:
                raise
            time.sleep(0.5 * 2**attempt)
    return None


def read(spark: SparkSession, lake_table: str, table: str | None = None) -> DataFrame:
    """The whole table, or an empty DataFrame of its schema if it does not exist yet."""
    if exists(lake_table):
        return spark.read.format("delta").load(lake_table)
    if table is None:
        raise NightfeedError(f"missing Delta table {lake_table}")
    return schemas.empty_frame(spark, schemas.load(TABLES[table].schema))


def read_slice(
    spark: SparkSession, lake_table: str, region: str, ds: str, table: str | None = None
) -> DataFrame:
    return read(spark, lake_table, table).where(slice_predicate(region, ds))


def require_slice(spark: SparkSession, lake_table: str, region: str, ds: str, produced_by: str) -> DataFrame:
    """The (region, ds) slice; a clear error naming the stage to run first if it is absent."""
    if not exists(lake_table):
        raise NightfeedError(
            f"missing input {lake_table} for region={region} ds={ds}: run {produced_by} first"
        )
    df = read_slice(spark, lake_table, region, ds)
    if readonly.slice_rows(lake_table, region, ds) == 0:
        raise NightfeedError(
            f"no rows in {lake_table} for region={region} ds={ds}: {produced_by} has not run for it, "
            f"or its input was empty (e.g. an empty delivery)"
        )
    return df


class LakeTables:
    """The lake's tables by registry name, bound to one SparkSession: what stages read and write.

    `t.write_slice("gold/feeds", df, region, ds)` replaces that slice in one commit;
    `t.read_slice(name, region, ds)` is empty (with the schema) when the table does not exist yet.
    """

    def __init__(self, spark: SparkSession, root: Path):
        self.spark, self.root = spark, Path(root)

    def path(self, name: str) -> str:
        if name not in TABLES:
            raise NightfeedError(f"unknown table {name!r}; known: {', '.join(TABLES)}")
        return str(self.root / name)

    def exists(self, name: str) -> bool:
        return exists(self.path(name))

    def read(self, name: str) -> DataFrame:
        return read(self.spark, self.path(name), name)

    def read_slice(self, name: str, region: str, ds: str) -> DataFrame:
        return read_slice(self.spark, self.path(name), region, ds, name)

    def require_slice(self, name: str, region: str, ds: str, produced_by: str) -> DataFrame:
        return require_slice(self.spark, self.path(name), region, ds, produced_by)

    def write_slice(self, name: str, df: DataFrame, region: str, ds: str) -> None:
        write_slice(self.spark, df, self.path(name), name, region, ds)

    def replace_rows(self, name: str, df: DataFrame, region: str, ds: str, same: str) -> None:
        replace_rows(self.spark, df, self.path(name), name, region, ds, same)

    def slice_rows(self, name: str, region: str, ds: str) -> int:
        """Rows of the slice from the Delta log's statistics (no Spark job)."""
        return readonly.slice_rows(self.path(name), region, ds)

    def latest_version(self, name: str) -> int:
        return latest_version(self.spark, self.path(name))

    def pointer(self, region: str):
        return pointer(self.spark, self.path("gold/feed_pointer"), region)

    def set_pointer(self, region: str, live_ds: str, model_version: str, feeds_version: int) -> None:
        set_pointer(self.spark, self.path("gold/feed_pointer"), region, live_ds, model_version, feeds_version)
