"""Reading users' own interaction files for `nightfeed evaluate`: MovieLens formats and any CSV.

Every file becomes columns user, item, weight, time (ids as strings); errors name the file and,
for a malformed line, its line number. Tab-, whitespace- and multi-character-separated files
(MovieLens 1M/10M `ratings.dat` uses `::`) have no quoting and are split plainly: a stray quote in
a TSV field must not swallow the lines after it, as a CSV reader would. Files may come as shipped:
gzip, bzip2, xz or a one-file zip; with `#` or `%` comment lines before the data (SNAP, KONECT);
with times as epoch numbers or ISO-8601 (Last.fm 1K).
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from nightfeed.core.errors import NightfeedError
from nightfeed.evaluation.textfiles import read_text

FORMATS = ("movielens-100k", "movielens-dat", "movielens-csv", "csv")
WHITESPACE = ("whitespace", "ws")


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
        what = "is a directory; give the file inside it" if path.is_dir() else "not found"
        raise NightfeedError(f"input file {what}: {path}")
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
    sep = _separator(spec["sep"])
    text, first_line = _without_preamble(read_text(path))
    if not text.strip():
        raise NightfeedError(f"{path}: no interactions found (the file is empty or only comment lines)")
    names = []
    if spec["header"]:
        head, _, text = text.partition("\n")
        names, first_line = [c.strip() for c in _split([head], sep)[0]], first_line + 1
    idx = [_column_index(c, names, path) if c is not None else None for c in spec["cols"]]
    fast = _read_fast(text, sep, idx, first_line)
    if fast is not None:
        return fast
    lines = text.split("\n")
    return _read_exact(path, _split(lines[:-1] if lines[-1] == "" else lines, sep), sep, idx, first_line)


def _read_fast(text: str, sep: str, idx: list, first_line: int) -> pd.DataFrame | None:
    """The file by pandas' C parser (10M lines in seconds), or None when any line needs a closer
    look (too few fields, an empty id, a value that is not a finite number or a date/time): then
    `_read_exact` reads it line by line and names the first bad line."""
    options = {"sep": "\x1f", "quoting": csv.QUOTE_NONE}
    if sep in WHITESPACE:
        options = {"sep": r"\s+"}
    elif sep == "\t" or len(sep) > 1:
        if "\x1f" in text:
            return None
        text = text.replace(sep, "\x1f")
    else:
        options = {"sep": sep}
    ids = {idx[0]: str, idx[1]: str}

    def parse(time_type) -> pd.DataFrame:
        types = {
            **({idx[2]: float} if idx[2] is not None else {}),
            **({idx[3]: time_type} if idx[3] is not None else {}),
        }
        return pd.read_csv(
            io.StringIO(text),
            header=None,
            usecols=sorted({i for i in idx if i is not None}),
            dtype={**types, **ids},
            na_filter=False,
            engine="c",
            **options,
        )

    try:
        try:
            frame = parse(float)
        except ValueError:  # ISO-8601 times, or a bad value that `_read_exact` will name
            frame = parse(str)
    except (ValueError, pd.errors.ParserError):
        return None
    if frame.empty or frame.isna().any().any():
        return None
    users, items = frame[idx[0]].str.strip(), frame[idx[1]].str.strip()
    weights = np.ones(len(frame)) if idx[2] is None else frame[idx[2]].to_numpy(np.float64)
    if idx[3] is None:
        times = np.arange(first_line, first_line + len(frame), dtype=np.float64)
    elif frame[idx[3]].dtype == object:
        stamps = pd.to_datetime(frame[idx[3]].str.strip(), utc=True, format="ISO8601", errors="coerce")
        times = np.where(stamps.isna(), np.nan, stamps.astype("int64") / 1e9)
    else:
        times = frame[idx[3]].to_numpy(np.float64)
    if (
        (users == "").any()
        or (items == "").any()
        or not (np.isfinite(weights).all() and np.isfinite(times).all())
    ):
        return None
    return _frame(users, items, weights, times)


def _read_exact(path: Path, rows: list[list[str]], sep: str, idx: list, first_line: int) -> pd.DataFrame:
    """Line by line; raises NightfeedError naming the first malformed line."""
    width = max(i for i in idx if i is not None) + 1
    users, items, weights, times = [], [], [], []
    for n, row in enumerate(rows, start=first_line):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < width:
            raise NightfeedError(
                f"{path}:{n}: malformed line (expected at least {width} fields, got {len(row)}): "
                f"{sep.join(row)[:120]!r}"
            )
        u, i = row[idx[0]].strip(), row[idx[1]].strip()
        if not u or not i:
            raise NightfeedError(f"{path}:{n}: malformed line (empty user or item id)")
        users.append(u)
        items.append(i)
        weights.append(_number(row, idx[2], path, n, "weight", 1.0))
        times.append(_number(row, idx[3], path, n, "time", float(n)))
    if not users:
        raise NightfeedError(f"{path}: no interactions found")
    return _frame(users, items, weights, times)


def _frame(users, items, weights, times) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user": users,
            "item": items,
            "weight": np.asarray(weights, np.float32),
            "time": np.asarray(times, float),
        }
    )


def _separator(sep: str) -> str:
    if sep in ("\\t", "tab"):
        return "\t"
    if not sep:
        raise NightfeedError("--sep must not be empty")
    return sep


def _without_preamble(text: str) -> tuple[str, int]:
    """The text after its leading `#` or `%` comment lines, and the line number it starts at."""
    start, line = 0, 1
    while text[start : start + 1] in ("#", "%"):
        end = text.find("\n", start)
        start, line = (len(text) if end < 0 else end + 1), line + 1
    return text[start:], line


def _split(lines: list[str], sep: str) -> list[list[str]]:
    if sep in WHITESPACE:
        return [line.split() for line in lines]
    if sep == "\t" or len(sep) > 1:
        return [line.split(sep) for line in lines]
    return list(csv.reader(lines, delimiter=sep))


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
    """Field i as a finite float (`default` without the column); a time may also be ISO-8601."""
    if i is None:
        return default
    text = row[i].strip()
    for parse in (float, _iso) if what == "time" else (float,):
        try:
            value = parse(text)
            break
        except ValueError:
            continue
    else:
        also = " or an ISO-8601 date/time" if what == "time" else ""
        raise NightfeedError(f"{path}:{n}: malformed line ({what} {text!r} is not a number{also})")
    if not math.isfinite(value):
        raise NightfeedError(f"{path}:{n}: malformed line ({what} {text!r} is not a finite number)")
    return value


def _iso(text: str) -> float:
    """Epoch seconds of an ISO-8601 date/time, UTC when it names no zone."""
    stamp = datetime.fromisoformat(text)
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
