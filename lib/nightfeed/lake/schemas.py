"""Table schemas, kept as Spark JSON schema files in the package (`resources/schemas/`, linked from
the checkout's `schemas/`) and loaded here."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from nightfeed.configuration.config import resource


def schemas_dir():
    """`$NIGHTFEED_SCHEMAS`, else the schemas shipped with the package."""
    return (
        Path(os.environ["NIGHTFEED_SCHEMAS"]) if os.environ.get("NIGHTFEED_SCHEMAS") else resource("schemas")
    )


@functools.cache
def load(name: str) -> StructType:
    """The StructType stored in `<schemas_dir>/<name>.json`."""
    path = schemas_dir() / f"{name}.json"
    return StructType.fromJson(json.loads(path.read_text()))


def field_names(name: str) -> list[str]:
    return [f.name for f in load(name).fields]


def empty_frame(spark: SparkSession, schema: StructType) -> DataFrame:
    """No rows, with `schema`, planned in the JVM alone: `createDataFrame([])` is a Python RDD whose
    tasks start Python workers, which print EOF tracebacks when a failing job kills them."""
    return spark.range(0).select([F.lit(None).cast(f.dataType).alias(f.name) for f in schema.fields])
