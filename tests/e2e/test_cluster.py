"""A stage submitted to a real Spark standalone cluster on loopback gives the same output as local mode."""

import os
import shutil
import subprocess
import sys

import pytest

from e2e.conftest import AUDIT_REGION
from helpers import DS, ROOT
from nightfeed.bench import scale_suite
from nightfeed.lake import tables
from nightfeed.runtime import cluster

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]


def _submit(info, zip_path, lake_root, job, *args):
    env = {**os.environ, "NIGHTFEED_LAKE": str(lake_root)}
    env.pop("PYSPARK_GATEWAY_PORT", None)
    command = [os.path.join(os.path.dirname(sys.executable), "spark-submit"), "--master", info["master"]]
    command += [
        "--py-files",
        str(zip_path),
        "--conf",
        "spark.executor.memory=1g",
        "--conf",
        "spark.cores.max=1",
    ]
    return subprocess.run(
        [*command, str(ROOT / "jobs" / f"{job}.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_audit_classifier_trains_and_scores_on_a_standalone_cluster(spark, audit_lake, tmp_path, monkeypatch):
    lake, _ = audit_lake
    root = tmp_path / "lake"
    shutil.copytree(lake.root, root)
    monkeypatch.setenv("NIGHTFEED_CLUSTER_DIR", str(tmp_path / "cluster"))
    zip_path = cluster.package_zip(tmp_path / "nightfeed.zip")
    info = cluster.up(cores=1, memory="2g")
    try:
        outputs = {}
        for job in ("train_audit_model", "score_audit_queue"):
            res = _submit(info, zip_path, root, job, "--region", AUDIT_REGION, "--ds", DS)
            assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
            outputs[job] = res.stdout
        assert '"model_type": "audit-xgboost"' in outputs["train_audit_model"]
    finally:
        cluster.down()
    queue = tables.read_slice(spark, str(root / "gold/audit_queue"), AUDIT_REGION, DS).toPandas()
    assert sorted(queue["rank"]) == list(range(1, len(queue) + 1))


def test_score_stage_on_a_standalone_cluster(spark, lake_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("NIGHTFEED_CLUSTER_DIR", str(tmp_path / "cluster"))
    local = sorted(
        map(tuple, tables.read_slice(spark, lake_copy.table("silver/feed_candidates"), "AA", DS).collect())
    )
    zip_path = cluster.package_zip(tmp_path / "nightfeed.zip")
    info = cluster.up(cores=1, memory="1g", workers=2)
    try:
        assert cluster.running("master") == info["master_pid"]
        assert [cluster.running(w) for w in ("worker", "worker-2")] == info["worker_pids"]
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
        # the scale suite's check: the same night's score_feeds rerun in local mode on this lake
        cli = [os.path.join(os.path.dirname(sys.executable), "nightfeed")]
        same = scale_suite.same_as_local(
            cli, {**env, "NIGHTFEED_SPARK_MASTER": info["master"]}, "AA", DS, lake_copy.root
        )
        assert same["equal"] and same["rows"] > 0, same
    finally:
        stopped = cluster.down()
    assert set(stopped) == {info["master_pid"], *info["worker_pids"]}
    assert cluster.running("master") is None and cluster.running("worker-2") is None
    spark.catalog.clearCache()
    on_cluster = sorted(
        map(tuple, tables.read_slice(spark, lake_copy.table("silver/feed_candidates"), "AA", DS).collect())
    )
    # Same feeds; scores may differ in float32 rounding (BLAS blocks differ with executor cores).
    assert [r[:5] + r[6:] for r in on_cluster] == [r[:5] + r[6:] for r in local]
    assert [r[5] for r in on_cluster] == pytest.approx([r[5] for r in local], rel=1e-4, abs=1e-5)
