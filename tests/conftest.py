"""Shared fixtures: one local SparkSession for the whole run, tiny synthetic lakes."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def spark():
    from nightfeed.spark import build_session

    session = build_session(
        "nightfeed-tests",
        master="local[2]",
        extra_conf={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"},
    )
    yield session
    session.stop()


@pytest.fixture
def lake(tmp_path, monkeypatch):
    from nightfeed.config import Lake

    monkeypatch.setenv("NIGHTFEED_LAKE", str(tmp_path / "lake"))
    return Lake(tmp_path / "lake")
