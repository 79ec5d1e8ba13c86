"""Argument types of the command line: each turns a bad value into one clear line."""

from __future__ import annotations

import argparse

from . import config
from .errors import NightfeedError


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


def _int_at_least(lowest: int, expected: str):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or number < lowest:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")
        return number

    return parse


non_negative_int = _int_at_least(0, "a whole number >= 0")
positive_int = _int_at_least(1, "a positive integer")
