"""Reading a landing folder: every line of every delivered file, and naming a file Spark could not
read (a truncated or corrupt compressed file) instead of a stack trace."""

from __future__ import annotations

import re
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from nightfeed.core.errors import NightfeedError
from nightfeed.lake.schemas import empty_frame


def read_lines(spark: SparkSession, folder: Path) -> DataFrame:
    """Every line of every file in a landing folder, with the file it came from.

    A missing folder is an error (the producer did not deliver); an empty folder or empty
    files are a valid, empty delivery. Names starting with `.` or `_` (`_SUCCESS`, `.crc`, a
    writer's `_temporary/`) are not data; any other subfolder is an error, not silently unread.
    Compressed files (`.gz`, `.bz2`, `.zst`, ...) are read by their extension.
    """
    if not folder.is_dir():
        raise NightfeedError(f"landing folder not found: {folder}")
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith((".", "_")))
    nested = [p.name for p in entries if p.is_dir()]
    if nested:
        raise NightfeedError(
            f"landing folder {folder} holds subfolders {nested}: deliver the files directly in it"
        )
    files = [p for p in entries if p.is_file()]
    if not files:
        return empty_frame(
            spark, StructType([StructField("value", StringType()), StructField("source_file", StringType())])
        )
    raw = spark.read.option("lineSep", "\n").text([str(p) for p in files])
    # A line ends at LF, CRLF or a lone CR (universal newlines): a file with CR-only line ends is
    # split into its lines, never read as one. A line that is not valid UTF-8 keeps its bytes (its
    # reason, invalid_encoding, is decided on them) and is not split.
    text = F.regexp_replace("value", "^\ufeff|\r$", "")  # a UTF-8 BOM, a CRLF
    return raw.select(
        F.explode(
            F.when(F.expr("is_valid_utf8(value)"), F.split(text, "\r")).otherwise(F.array("value"))
        ).alias("value"),
        F.col("_metadata.file_name").alias("source_file"),
    )


def unreadable_file(exc: Exception) -> str | None:
    """'<file> (<cause>)' when `exc` is Spark failing to read a landing file (a truncated or
    corrupt compressed file, a file gone while read); None for any other error."""
    text = str(exc)
    found = re.search(r"FAILED_READ_FILE\S*\] Encountered error while reading file (\S+?)\.?\s", text)
    if found is None:
        return None
    causes = re.findall(r"Caused by: ([^\n]+)", text)
    return f"{found.group(1).removeprefix('file://')} ({causes[-1].strip() if causes else 'unreadable'})"
