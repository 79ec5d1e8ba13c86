"""A stage submitted to a real Spark standalone cluster on loopback gives the same output as local mode."""

import os
import subprocess
import sys

import pytest

from helpers import DS, ROOT
from nightfeed import cluster, tables

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]


def test_score_stage_on_a_standalone_cluster(spark, lake_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("NIGHTFEED_CLUSTER_DIR", str(tmp_path / "cluster"))
    local = sorted(
        map(tuple, tables.read_slice(spark, lake_copy.table("silver/feed_candidates"), "AA", DS).collect())
    )
    zip_path = cluster.package_zip(tmp_path / "nightfeed.zip")
    info = cluster.up(cores=1, memory="2g")
    try:
        assert (
            cluster.running("master") == info["master_pid"]
            and cluster.running("worker") == info["worker_pid"]
        )
        env = {**os.environ, "NIGHTFEED_LAKE": str(lake_copy.root)}
        env.pop("PYSPARK_GATEWAY_PORT", None)
        res = subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "spark-submit"),
                "--master",
                info["master"],
                "--py-files",
                str(zip_path),
                "--conf",
                "spark.executor.memory=1g",
                str(ROOT / "jobs" / "score_feeds.py"),
                "--region",
                "AA",
                "--ds",
                DS,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
        assert "app-" in (tmp_path / "cluster" / "master.log").read_text(), (
            "the application ran on the cluster"
        )
    finally:
        stopped = cluster.down()
    assert set(stopped) == {info["master_pid"], info["worker_pid"]}
    assert cluster.running("master") is None and cluster.running("worker") is None
    spark.catalog.clearCache()
    on_cluster = sorted(
        map(tuple, tables.read_slice(spark, lake_copy.table("silver/feed_candidates"), "AA", DS).collect())
    )
    # Same feeds; scores may differ in float32 rounding (BLAS blocks differ with executor cores).
    assert [r[:5] + r[6:] for r in on_cluster] == [r[:5] + r[6:] for r in local]
    assert [r[5] for r in on_cluster] == pytest.approx([r[5] for r in local], rel=1e-4, abs=1e-5)
