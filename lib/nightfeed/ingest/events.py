"""Ingest: landing JSON Lines -> typed bronze rows plus a quarantine row (raw text + reason) per bad line.

Every line read gets exactly one outcome, so `lines read = valid + quarantined` holds by
construction. Parsing stays in Spark SQL (no Python UDF) so it scales with the cluster.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from nightfeed.core.days import day_end, day_start
from nightfeed.core.vocabulary import EVENT_TYPES
from nightfeed.lake import schemas

ISO_TS_WITH_ZONE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$"
INTEGER = r"^-?\d{1,18}(\.0+)?$"  # JSON Schema's integer: 5000 and 5000.0 alike (pandas writes the latter)
CORRUPT = "_corrupt_record"

# Reason codes, in the order they are checked (the first that applies is recorded).
REASONS = (
    "invalid_encoding",
    "blank_line",
    "invalid_json",
    "trailing_content",
    "duplicate_field",
    "unknown_field",
    "missing_<field>",
    "wrong_type",
    "unknown_event_type",
    "unknown_moderation_status",
    "invalid_timestamp",
    "invalid_watch_ms",
    "implausible_watch_ms",
    "invalid_duration",
    "implausible_duration",
    "implausible_created_ts",
    "region_mismatch",
    "timestamp_out_of_window",
    "duplicate_event_id",
    "duplicate_item_id",
    "unknown_decision",
    "unknown_policy",
    "policy_mismatch",
    "duplicate_decision_id",
)


@dataclass(frozen=True)
class Classified:
    """Result of parsing one landing slice: every line with its reason, and the two projections of it.

    Persist `frame` to classify once when both projections are written.
    """

    frame: DataFrame
    valid: DataFrame
    quarantine: DataFrame


def _string_schema(landing_schema: str) -> StructType:
    fields = [StructField(f.name, StringType()) for f in schemas.load(landing_schema).fields]
    return StructType(fields + [StructField(CORRUPT, StringType())])


def whole_number(field: str) -> Column:
    """The landing field `field` of `j` as a BIGINT (null unless it matches INTEGER)."""
    return F.expr(f"try_cast(regexp_replace(j.{field}, '\\\\.0+$', '') AS BIGINT)")


def parse_json(lines: DataFrame, landing_schema: str) -> DataFrame:
    """Adds `j` (every field as raw string) and `keys` (top-level keys, null if not an object)."""
    return lines.withColumn(
        "j",
        F.from_json(
            "value",
            _string_schema(landing_schema),
            {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT},
        ),
    ).withColumn("keys", F.expr("json_object_keys(value)"))


def one_json_value(text: str) -> Column:
    """True when `text` holds exactly one JSON value and nothing after it but whitespace.

    Spark's JSON readers stop after the first value: `{..}{..}` or `{..} junk` parse as the first
    object alone. Wrapped as an array, any text after the value either breaks the array (NULL) or
    adds elements to it; text that closes the array early (`{..}] ..`) is caught by the second,
    doubled wrap, which then holds one element instead of two.
    """
    once = F.expr(f"json_array_length(concat('[', {text}, ']'))")
    twice = F.expr(f"json_array_length(concat('[', {text}, ',', {text}, ']'))")
    return F.coalesce((once == 1) & (twice == 2), F.lit(False))


def _is_container(name: str) -> Column:
    """True when the top-level field `name` of the line is a JSON array or object. from_json gives
    a nested value's raw text as a string, indistinguishable from a string value that starts
    with `[` or `{`: the line's variant form knows the difference (only asked of such values)."""
    kind = F.expr(f"schema_of_variant(try_variant_get(try_parse_json(value), '$.{name}', 'variant'))")
    return F.coalesce(kind.startswith("ARRAY") | kind.startswith("OBJECT"), F.lit(True))


def structural_reason(landing_schema: str, required: list[str]) -> Column:
    """Reason for problems any landing file can have: encoding, JSON shape, fields, types."""
    names = schemas.field_names(landing_schema)
    allowed = F.array(*[F.lit(n) for n in names])
    nested = F.lit(False)
    for name in names:
        nested = nested | (F.col(f"j.{name}").rlike(r"^\s*[\[{]") & _is_container(name))
    reason = (
        F.when(~F.expr("is_valid_utf8(value)"), "invalid_encoding")
        .when(F.trim("value") == "", "blank_line")
        .when(F.col("keys").isNull() | F.col(f"j.{CORRUPT}").isNotNull(), "invalid_json")
        .when(~one_json_value("value"), "trailing_content")
        .when(F.size("keys") != F.size(F.array_distinct("keys")), "duplicate_field")
        .when(F.size(F.array_except("keys", allowed)) > 0, "unknown_field")
    )
    for name in required:
        reason = reason.when(
            F.col(f"j.{name}").isNull() | (F.trim(F.col(f"j.{name}")) == ""), f"missing_{name}"
        )
    return reason.when(nested, "wrong_type")


def later_duplicate(df: DataFrame, key: str) -> Column:
    """True for every row but the first of its key (deterministic: by file, then raw text)."""
    w = Window.partitionBy(key).orderBy("source_file", "value")
    return F.when(F.col(key).isNull(), F.lit(False)).otherwise(F.row_number().over(w) > 1)


def late_end(ds: str, tolerance_hours: float) -> dt.datetime:
    """The end of ds plus the late-arrival tolerance: a later timestamp is not part of ds."""
    return day_end(ds) + dt.timedelta(hours=tolerance_hours)


def outside_day(ts: Column, ds: str, tolerance_hours: float) -> Column:
    """True when a timestamp falls outside the ds day (UTC) ± the late-arrival tolerance."""
    lo = day_start(ds) - dt.timedelta(hours=tolerance_hours)
    return (ts < F.lit(lo)) | (ts >= F.lit(late_end(ds, tolerance_hours)))


def mark_duplicates(df: DataFrame, id_col: str, already_ingested: DataFrame | None) -> DataFrame:
    """Adds the trimmed `id_col`; an otherwise valid row whose id was ingested before (column
    `id_col` of `already_ingested`) or appears earlier in this delivery gets `duplicate_<id_col>`."""
    duplicate = f"duplicate_{id_col}"
    df = df.withColumn(id_col, F.trim(f"j.{id_col}"))
    if already_ingested is not None:
        seen = already_ingested.select(id_col).distinct().withColumn("_seen", F.lit(True))
        df = df.join(seen, id_col, "left")
        df = df.withColumn(
            "reason",
            F.when(F.col("reason").isNull() & F.col("_seen").isNotNull(), duplicate).otherwise(
                F.col("reason")
            ),
        ).drop("_seen")
    df = df.withColumn("_dedupe_key", F.when(F.col("reason").isNull(), F.col(id_col)))
    return df.withColumn(
        "reason", F.when(later_duplicate(df, "_dedupe_key"), duplicate).otherwise(F.col("reason"))
    )


def quarantine_rows(df: DataFrame, region: str, ds: str, id_col: str) -> DataFrame:
    """The quarantined lines: text stays readable by any Parquet reader (bytes that are not UTF-8
    become U+FFFD in the stored copy; the reason says they were there)."""
    return df.where(F.col("reason").isNotNull()).select(
        F.lit(region).alias("region"),
        F.lit(ds).alias("ds"),
        "source_file",
        F.expr("make_valid_utf8(value)").alias("raw"),
        "reason",
        F.expr(f"make_valid_utf8(j.{id_col})").alias("event_id"),
    )


def classify_events(
    lines: DataFrame,
    region: str,
    ds: str,
    late_tolerance_hours: float,
    already_ingested_ids: DataFrame | None = None,
    max_watch_ms: int = 21_600_000,
) -> Classified:
    """Validate one day of raw event lines for a region.

    `already_ingested_ids` (column `event_id`) are ids from earlier days: seeing one again is
    a duplicate too, so a producer's re-delivery never double counts. A watch time above
    `max_watch_ms` passes the type checks but is implausible: quarantined as well.
    """
    df = parse_json(lines, "landing_events")
    ts = F.expr("try_cast(j.event_ts AS TIMESTAMP)")
    watch = F.col("j.watch_ms")
    reason = (
        structural_reason(
            "landing_events", ["event_id", "user_id", "item_id", "event_type", "event_ts", "region"]
        )
        .when(~F.col("j.event_type").isin(*EVENT_TYPES), "unknown_event_type")
        .when(~F.col("j.event_ts").rlike(ISO_TS_WITH_ZONE) | ts.isNull(), "invalid_timestamp")
        .when(
            watch.isNotNull() & (~watch.rlike(INTEGER) | (whole_number("watch_ms") < 0)),
            "invalid_watch_ms",
        )
        .when(whole_number("watch_ms") > F.lit(max_watch_ms), "implausible_watch_ms")
        .when(F.col("j.region") != F.lit(region), "region_mismatch")
        .when(outside_day(ts, ds, late_tolerance_hours), "timestamp_out_of_window")
    )
    df = mark_duplicates(df.withColumn("reason", reason), "event_id", already_ingested_ids)
    valid = df.where(F.col("reason").isNull()).select(
        "event_id",
        F.trim("j.user_id").alias("user_id"),
        F.trim("j.item_id").alias("item_id"),
        F.col("j.event_type").alias("event_type"),
        ts.alias("event_ts"),
        whole_number("watch_ms").alias("watch_ms"),
        F.lit(region).alias("region"),
        F.lit(ds).alias("ds"),
        "source_file",
    )
    return Classified(df, valid, quarantine_rows(df, region, ds, "event_id"))
