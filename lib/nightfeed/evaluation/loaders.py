"""Reading users' own interaction files for `nightfeed evaluate`: MovieLens formats and any CSV.

Every file becomes columns user, item, weight, time (ids as strings); errors name the file and,
for a malformed line, its line number. Tab-, whitespace- and multi-character-separated files
(MovieLens 1M/10M `ratings.dat` uses `::`) have no quoting and are split plainly: a stray quote in
a TSV field must not swallow the lines after it, as a CSV reader would. Files may come as shipped:
gzip, bzip2, xz or a one-file zip; with `#` or `%` comment lines before the data (SNAP, KONECT);
with times as epoch numbers or ISO-8601 (Last.fm 1K).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import math
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import NightfeedError

FORMATS = ("movielens-100k", "movielens-dat", "movielens-csv", "csv")
WHITESPACE = ("whitespace", "ws")
_DECOMPRESS = {b"\x1f\x8b": gzip.decompress, b"BZh": bz2.decompress, b"\xfd7zXZ\x00": lzma.decompress}


def load_interactions(
    path: str | Path,
    fmt: str,
    sep: str = ",",
    user_col: str | None = None,
    item_col: str | None = None,
    weight_col: str | None = None,
    time_col: str | None = None,
    header: bool = True,
) -> pd.DataFrame:
    """Read a ratings/interactions file into columns user, item, weight, time (strings for ids).

    Errors name the file and, for a malformed line, its line number.
    """
    path = Path(path)
    if not path.is_file():
        raise NightfeedError(f"input file not found: {path}")
    if fmt == "movielens-100k":
        spec = dict(sep="\t", header=False, cols=["0", "1", "2", "3"])
    elif fmt == "movielens-dat":  # MovieLens 1M and 10M ratings.dat: UserID::MovieID::Rating::Timestamp
        spec = dict(sep="::", header=False, cols=["0", "1", "2", "3"])
    elif fmt == "movielens-csv":
        spec = dict(sep=",", header=True, cols=["userId", "movieId", "rating", "timestamp"])
    elif fmt == "csv":
        if user_col is None or item_col is None:
            raise NightfeedError(
                "--format csv needs --user-col and --item-col (names, or 0-based positions with --no-header)"
            )
        spec = dict(sep=sep, header=header, cols=[user_col, item_col, weight_col, time_col])
    else:
        raise NightfeedError(f"unknown --format {fmt!r}; choose from {', '.join(FORMATS)}")
    rows, names, first_line = _read_rows(path, spec["sep"], spec["header"])
    idx = [_column_index(c, names, path) if c is not None else None for c in spec["cols"]]
    width = max(i for i in idx if i is not None) + 1
    users, items, weights, times = [], [], [], []
    for n, row in enumerate(rows, start=first_line):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < width:
            raise NightfeedError(
                f"{path}:{n}: malformed line (expected at least {width} fields, got {len(row)}): "
                f"{spec['sep'].join(row)[:120]!r}"
            )
        u, i = row[idx[0]].strip(), row[idx[1]].strip()
        if not u or not i:
            raise NightfeedError(f"{path}:{n}: malformed line (empty user or item id)")
        users.append(u)
        items.append(i)
        weights.append(_number(row, idx[2], path, n, "weight", 1.0))
        times.append(_time(row, idx[3], path, n))
    if not users:
        raise NightfeedError(f"{path}: no interactions found")
    return pd.DataFrame(
        {
            "user": users,
            "item": items,
            "weight": np.asarray(weights, np.float32),
            "time": np.asarray(times, np.float64),
        }
    )


def _read_rows(path: Path, sep: str, header: bool):
    """(data rows, header names, the file's line number of the first data row)."""
    if sep in ("\\t", "tab"):
        sep = "\t"
    if not sep:
        raise NightfeedError("--sep must not be empty")
    data = _decompressed(path)
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark must not become part of the first name
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    # Only \n, \r\n and \r end a line: str.splitlines also splits inside fields at \x85 or \u2028.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    comments = 0
    while comments < len(lines) and lines[comments][:1] in ("#", "%"):
        comments += 1
    lines = lines[comments:]
    if sep in WHITESPACE:
        rows = [line.split() for line in lines]
    elif sep == "\t" or len(sep) > 1:
        rows = [line.split(sep) for line in lines]
    else:
        rows = list(csv.reader(lines, delimiter=sep))
    names = [c.strip() for c in rows[0]] if header and rows else []
    return (rows[1:] if header else rows), names, comments + (2 if header else 1)


def _decompressed(path: Path) -> bytes:
    """The file's bytes, decompressed when they start with a gzip, bzip2, xz or zip signature."""
    data = path.read_bytes()
    try:
        for magic, decompress in _DECOMPRESS.items():
            if data.startswith(magic):
                return decompress(data)
        if data.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(path) as archive:
                files = [i for i in archive.infolist() if not i.is_dir()]
                if len(files) != 1:
                    names = ", ".join(i.filename for i in files[:10])
                    raise NightfeedError(
                        f"{path}: a zip of {len(files)} files ({names}); extract the one to read"
                    )
                return archive.read(files[0])
    except (OSError, EOFError, ValueError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise NightfeedError(f"{path}: cannot decompress: {exc}") from None
    return data


def _column_index(col: str, names: list[str], path: Path) -> int:
    if names:
        if col in names:
            return names.index(col)
        raise NightfeedError(f"{path}: unknown column {col!r}; the header has {names}")
    try:
        return int(col)
    except ValueError:
        raise NightfeedError(
            f"{path}: column {col!r} must be a 0-based position when the file has no header"
        ) from None


def _number(row, i, path, n, what, default):
    if i is None:
        return default
    try:
        value = float(row[i])
    except (ValueError, IndexError):
        raise NightfeedError(
            f"{path}:{n}: malformed line ({what} {row[i] if i < len(row) else ''!r} is not a number)"
        ) from None
    if not math.isfinite(value):
        raise NightfeedError(f"{path}:{n}: malformed line ({what} {row[i]!r} is not a finite number)")
    return value


def _time(row, i, path, n):
    """Epoch seconds from a number or an ISO-8601 date/time (UTC when it names no zone)."""
    if i is None:
        return float(n)
    text = row[i].strip()
    try:
        value = float(text)
    except ValueError:
        try:
            return _iso(text)
        except ValueError:
            raise NightfeedError(
                f"{path}:{n}: malformed line (time {text!r} is neither a number nor an ISO-8601 date/time)"
            ) from None
    if not math.isfinite(value):
        raise NightfeedError(f"{path}:{n}: malformed line (time {text!r} is not a finite number)")
    return value


def _iso(text: str) -> float:
    stamp = datetime.fromisoformat(text)
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
