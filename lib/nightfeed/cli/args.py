"""Argument types of the command line (each turns a bad value into one clear line), and the
argument group of `nightfeed evaluate`."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from nightfeed.configuration import config
from nightfeed.core.errors import NightfeedError


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line `error: ...` (usage stays available via --help)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message}\n")


def date_arg(value: str) -> str:
    try:
        return config.validate_ds(value)
    except NightfeedError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("invalid --ds ", "")) from None


def region_arg(value: str) -> str:
    try:
        return config.validate_region(value)
    except NightfeedError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _at_least(kind: type, lowest: float, expected: str):
    def parse(value: str):
        try:
            number = kind(value)
        except ValueError:
            number = None
        if number is None or not math.isfinite(number) or not number >= lowest:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")
        return number

    return parse


def output_file(value: str) -> str:
    """A file a command will write at its end: its folder is created now, and a directory or an
    unwritable target is refused before any work (not after a long run)."""
    path = Path(value)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise argparse.ArgumentTypeError(
            f"cannot create the folder of {value}: {exc.strerror or exc}"
        ) from None
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a directory")
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"{value}: permission denied")
    return value


non_negative_int = _at_least(int, 0, "a whole number >= 0")
positive_int = _at_least(int, 1, "a positive integer")
non_negative_float = _at_least(float, 0.0, "a finite number >= 0")
finite_float = _at_least(float, -math.inf, "a finite number")


def sizes_arg(value: str) -> list[int]:
    """A comma-separated list of positive integers (the scale suite's region sizes)."""
    try:
        return [positive_int(part.strip()) for part in value.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers, got {value!r}"
        ) from None


def add_evaluate_args(p: argparse.ArgumentParser) -> None:
    from nightfeed.evaluation.loaders import FORMATS
    from nightfeed.evaluation.splits import SPLITS
    from nightfeed.models import MODEL_NAMES
    from nightfeed.models.confidence import CONFIDENCES

    p.add_argument(
        "--input",
        required=True,
        help="ratings / interactions file (may be gzip, bzip2, xz or a one-file zip)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="csv",
        help="movielens-100k: u.data; movielens-dat: 1M/10M ratings.dat (::); movielens-csv: ratings.csv",
    )
    p.add_argument(
        "--sep",
        default=",",
        help="csv delimiter: \\t or 'tab' for tabs, 'whitespace' for runs of spaces and tabs; "
        "several characters (e.g. '::') allowed",
    )
    p.add_argument("--user-col", help="user column name (or 0-based position with --no-header)")
    p.add_argument("--item-col", help="item column name (or position)")
    p.add_argument("--weight-col", help="optional weight column (default: every row weighs 1)")
    p.add_argument(
        "--time-col", help="optional time column, epoch seconds or ISO-8601 (needed by temporal splits)"
    )
    p.add_argument("--no-header", action="store_true", help="csv has no header line; columns are positions")
    p.add_argument(
        "--model",
        action="append",
        default=None,
        help=f"model(s) to compare: {', '.join(MODEL_NAMES)} (repeatable or comma-separated)",
    )
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--seed", type=non_negative_int, default=42)
    p.add_argument("--split", choices=SPLITS, default="stratified")
    p.add_argument("--test-fraction", type=finite_float, default=0.25)
    p.add_argument("--time-budget", type=non_negative_float, default=120.0, help="seconds for auto's search")
    p.add_argument(
        "--confidence",
        choices=CONFIDENCES,
        help="weight -> confidence for every model: raw, binary, or log = 1 + alpha*log(1 + w/eps) "
        "(default: each model's own; auto chooses on its validation split)",
    )
    p.add_argument("--confidence-alpha", type=finite_float, default=1.0, help="alpha of --confidence log")
    p.add_argument("--confidence-eps", type=finite_float, default=1.0, help="eps of --confidence log")
    p.add_argument("--output-json", type=output_file, help="write the per-model results here")
