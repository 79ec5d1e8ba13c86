"""A tiny two-region lake run through every nightly stage once per test session."""
import datetime as dt
import shutil
from pathlib import Path

import pytest

from conftest import land_tiny
from nightfeed import config, stages

DS = "2026-11-25"
REGIONS = ("AA", "BB")
ROOT = Path(__file__).resolve().parents[2]


def shift(ds: str, days: int) -> str:
    return (dt.date.fromisoformat(ds) + dt.timedelta(days=days)).isoformat()


def nightly_cfg(region: str) -> dict:
    cfg = config.region_config(region)
    cfg["model"]["time_budget_s"] = 20
    return cfg


def run_nightly(spark, lake, region, ds=DS, backfill=(2, 1), **stage_options):
    cfg = nightly_cfg(region)
    for back in backfill:
        stages.run(spark, lake, "ingest_events", region, shift(ds, -back), cfg)
    return {st: stages.run(spark, lake, st, region, ds, cfg, **stage_options.get(st, {})) for st in stages.NIGHTLY}


@pytest.fixture(scope="session")
def tiny_lake(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("lake")
    lake = config.Lake(root)
    for i, region in enumerate(REGIONS):
        land_tiny(root, region, DS, days=3, seed=11 + i)
    results = {region: run_nightly(spark, lake, region) for region in REGIONS}
    return lake, results


@pytest.fixture
def lake_copy(tiny_lake, tmp_path, monkeypatch):
    """A private copy of the tiny lake for tests that change it."""
    lake, _ = tiny_lake
    root = tmp_path / "lake"
    shutil.copytree(lake.root, root)
    monkeypatch.setenv("NIGHTFEED_LAKE", str(root))
    return config.Lake(root)
