"""A tiny two-region lake run through every nightly stage once per test session."""

import shutil

import pytest

from helpers import DS, land_tiny, run_nightly
from nightfeed import config

REGIONS = ("AA", "BB")


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
