"""Shared fixtures: one local SparkSession for the whole run, tiny synthetic lakes."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# Every JVM of the run (the session, each spark-submit) works on a few hundred rows: the optimising
# JIT compiler (C2) only competes for the 2 cores there; C1 alone made the Delta floor ~25% faster.
os.environ.setdefault("SPARK_SUBMIT_OPTS", "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m")

# `make test` runs two pytest-xdist workers. Tests that share a session-scoped lake, or Airflow's
# metadata database, run on one worker so each is built once; the rest balance freely. Each
# worker's standalone cluster listens on its own ports.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
os.environ.setdefault("NIGHTFEED_MASTER_PORT", str(7077 + 10 * _WORKER))
os.environ.setdefault("NIGHTFEED_MASTER_UI_PORT", str(8090 + 10 * _WORKER))
os.environ.setdefault("NIGHTFEED_WORKER_UI_PORT", str(8091 + 10 * _WORKER))
_SHARED = ("tiny_lake", "audit_lake")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(items):
    for item in items:
        names = set(item.fixturenames)
        if "lake_copy" in names:
            names.add("tiny_lake")
        shared = [name for name in _SHARED if name in names]
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))
        elif item.get_closest_marker("airflow"):
            item.add_marker(pytest.mark.xdist_group("airflow"))


@pytest.fixture(scope="session")
def spark():
    from nightfeed.runtime.spark import build_session

    session = build_session(
        "nightfeed-tests",
        master="local[2]",
        extra_conf={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"},
    )
    yield session
    session.stop()


@pytest.fixture
def lake(tmp_path, monkeypatch):
    from nightfeed.configuration.config import Lake

    monkeypatch.setenv("NIGHTFEED_LAKE", str(tmp_path / "lake"))
    return Lake(tmp_path / "lake")


@pytest.fixture(scope="module")
def published(spark, tmp_path_factory):
    """US feeds for two days (versions 1 and 2) and a rewrite of the second day (version 3); the
    pointer at version 2. Tests that move the pointer leave it there again."""
    from helpers import feed_rows
    from nightfeed.configuration.config import Lake
    from nightfeed.lake.tables import LakeTables

    root = tmp_path_factory.mktemp("published")
    t = LakeTables(spark, root)
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-24", ["a"], "m1"), "US", "2026-11-24")
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-25", ["b"], "m2"), "US", "2026-11-25")
    t.write_slice("gold/feeds", feed_rows(spark, "US", "2026-11-25", ["c"], "m3"), "US", "2026-11-25")
    t.set_pointer("US", "2026-11-25", "m2", 2)
    return Lake(root)
