"""Table schemas, kept as Spark JSON schema files in the package (`resources/schemas/`, linked from
the checkout's `schemas/`) and loaded here."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

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
