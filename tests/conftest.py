"""Shared fixtures: one local SparkSession for the whole run, tiny synthetic lakes."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

TINY_PLATFORM = {
    "n_users": 60, "items_per_day": 12, "catalog_days": 10, "n_creators": 10, "n_topics": 4,
    "sessions_per_active_user": 1.0, "impressions_per_session": 8, "active_share": 0.8,
    "malformed_share": 0.02, "history_days": 3,
}


@pytest.fixture(scope="session")
def spark():
    from nightfeed.spark import build_session

    session = build_session("nightfeed-tests", master="local[2]", extra_conf={
        "spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"})
    yield session
    session.stop()


@pytest.fixture
def lake(tmp_path, monkeypatch):
    from nightfeed.config import Lake

    monkeypatch.setenv("NIGHTFEED_LAKE", str(tmp_path / "lake"))
    return Lake(tmp_path / "lake")


def land_tiny(lake_root: Path, region: str, ds: str, days: int = 3, seed: int = 7) -> None:
    """Land `days` days of a tiny synthetic platform ending at ds."""
    import datetime as dt

    from nightfeed import synthetic

    for back in range(days - 1, -1, -1):
        day = (dt.date.fromisoformat(ds) - dt.timedelta(days=back)).isoformat()
        synthetic.write_day(lake_root, TINY_PLATFORM, seed, region, day)
