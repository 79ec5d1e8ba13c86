"""A tiny two-region lake run through every nightly stage once per test session."""

import dataclasses
import shutil

import pytest

from helpers import DS, TINY_PLATFORM, land_tiny, nightly_cfg, run_nightly, shift
from nightfeed import pipeline
from nightfeed.configuration import config

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


AUDIT_REGION = "AU"
AUDIT_WORLD = dataclasses.replace(TINY_PLATFORM, items_per_day=20, violating_share=0.15, malformed_share=0.0)
AUDIT_STAGES = ("build_audit_features", "train_audit_model", "score_audit_queue", "evaluate_audit")


def audit_cfg():
    return dataclasses.replace(nightly_cfg(AUDIT_REGION), synthetic=AUDIT_WORLD)


@pytest.fixture(scope="session")
def audit_lake(spark, tmp_path_factory):
    """16 days of a small world with 15% violating uploads straight into bronze (enough reviewed
    videos to train a classifier), and the audit stages run for the last day."""
    from nightfeed.bench.audit_world import land_bronze

    lake = config.Lake(tmp_path_factory.mktemp("audit-lake"))
    days = [shift(DS, -k) for k in range(15, -1, -1)]
    land_bronze(spark, lake.root, audit_cfg(), AUDIT_REGION, days, seed=5)
    results = {st: pipeline.run(spark, lake, st, AUDIT_REGION, DS, audit_cfg()) for st in AUDIT_STAGES}
    return lake, results
