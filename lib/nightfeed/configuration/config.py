"""Configuration: `conf/nightfeed.toml` defaults merged with per-region overrides, and lake paths.

Any region code is valid: a region missing from the file runs with the defaults.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.resources
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nightfeed.configuration.settings import RegionConfig, parse_region
from nightfeed.core.errors import NightfeedError


def _project_root() -> Path:
    """The checkout nightfeed runs from ($NIGHTFEED_HOME, else the folder holding lib/, else the
    working directory): where the spark-submit shims (jobs/), .cluster/ and build/ are."""
    if os.environ.get("NIGHTFEED_HOME"):
        return Path(os.environ["NIGHTFEED_HOME"])
    checkout = Path(__file__).resolve().parents[3]
    return checkout if (checkout / "jobs").is_dir() else Path.cwd()


PROJECT_ROOT = _project_root()
REGION_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")  # the whole code: fullmatch


def resource(*parts: str):
    """A file shipped inside the package (`nightfeed/resources/...`): the default configuration,
    the table schemas and the quality suites travel with the code (a wheel, a --py-files zip)."""
    return importlib.resources.files("nightfeed").joinpath("resources", *parts)


def conf_path():
    """The configuration file: `$NIGHTFEED_CONF` (`--conf`), else the defaults shipped with the package."""
    if os.environ.get("NIGHTFEED_CONF"):
        return Path(os.environ["NIGHTFEED_CONF"])
    return resource("nightfeed.toml")


def lake_root() -> Path:
    """The lake root: `$NIGHTFEED_LAKE`, else `./lakehouse` (relative to the working directory)."""
    return Path(os.environ.get("NIGHTFEED_LAKE", "lakehouse")).absolute()


def _deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_raw(path: Path | None = None) -> dict[str, Any]:
    path = path or conf_path()
    if not path.is_file():
        raise NightfeedError(f"configuration file not found: {path}")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise NightfeedError(f"invalid configuration {path}: {exc}") from None


def validate_region(region: str) -> str:
    if not isinstance(region, str) or not REGION_RE.fullmatch(region):
        raise NightfeedError(
            f"invalid region code {region!r}: use letters, digits, '_' or '-' (max 32, starting "
            f"with a letter)"
        )
    return region


def validate_ds(ds: str) -> str:
    try:
        parsed = dt.date.fromisoformat(ds)
    except (TypeError, ValueError):
        raise NightfeedError(f"invalid --ds {ds!r}: expected a date YYYY-MM-DD") from None
    if parsed.isoformat() != ds:
        raise NightfeedError(f"invalid --ds {ds!r}: expected a date YYYY-MM-DD")
    return ds


def region_config(region: str, raw: dict | None = None) -> dict[str, Any]:
    """Defaults merged with the region's overrides."""
    raw = raw if raw is not None else load_raw()
    validate_region(region)
    return _deep_merge(raw.get("defaults", {}), raw.get("regions", {}).get(region, {}))


def region_settings(region: str, raw: dict | None = None) -> RegionConfig:
    """The region's configuration, parsed once into typed settings."""
    return parse_region(region, region_config(region, raw))


def default_settings(raw: dict | None = None) -> RegionConfig:
    """The [defaults] alone, typed: settings that are not per region (e.g. maintenance)."""
    raw = raw if raw is not None else load_raw()
    return parse_region("defaults", raw.get("defaults", {}))


def nightly_regions(raw: dict | None = None) -> list[str]:
    """The regions a nightly run covers: `nightly_regions`, else every [regions.<CODE>] table.
    A value that is not a list of distinct region codes is a NightfeedError naming it."""
    raw = raw if raw is not None else load_raw()
    regions = raw.get("nightly_regions", sorted(raw.get("regions", {})))
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        raise NightfeedError(f"configuration nightly_regions = {regions!r}: expected a list of region codes")
    for region in regions:
        try:
            validate_region(region)
        except NightfeedError as exc:
            raise NightfeedError(f"configuration nightly_regions: {exc}") from None
    twice = sorted({r for r in regions if regions.count(r) > 1})
    if twice:
        raise NightfeedError(f"configuration nightly_regions lists {twice} more than once")
    return regions


@dataclass(frozen=True)
class Lake:
    """Where every table and artifact lives under one lake root."""

    root: Path

    @classmethod
    def default(cls) -> Lake:
        return cls(lake_root())

    def table(self, name: str) -> str:
        """`bronze/events`, `gold/feeds`, ... -> absolute path string."""
        return str(self.root / name)

    def landing(self, kind: str, region: str, ds: str) -> Path:
        return self.root / "landing" / kind / f"region={region}" / f"ds={ds}"

    def models(self, region: str) -> Path:
        return self.root / "models" / f"region={region}"

    def reports(self, kind: str, region: str, ds: str) -> Path:
        return self.root / "reports" / kind / f"region={region}" / f"ds={ds}"

    def run_page(self, ds: str) -> Path:
        """Folder of one night's morning report (`index.html`) and its stage records."""
        return self.root / "reports" / "runs" / f"ds={ds}"
