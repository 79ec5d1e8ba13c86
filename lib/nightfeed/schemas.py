"""Table schemas, kept as Spark JSON schema files in `schemas/` and loaded here."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from pyspark.sql.types import StructType

from .config import PROJECT_ROOT


def schemas_dir() -> Path:
    return Path(os.environ.get("NIGHTFEED_SCHEMAS", PROJECT_ROOT / "schemas"))


@functools.cache
def load(name: str) -> StructType:
    """The StructType stored in `schemas/<name>.json`."""
    path = schemas_dir() / f"{name}.json"
    return StructType.fromJson(json.loads(path.read_text()))


def field_names(name: str) -> list[str]:
    return [f.name for f in load(name).fields]
