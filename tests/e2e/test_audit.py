"""The audit stages with a real classifier: a small world with enough reviewed videos to train on."""

import json

import pytest

from e2e.conftest import AUDIT_REGION as REGION
from e2e.conftest import audit_cfg
from helpers import DS
from nightfeed import pipeline
from nightfeed.lake import tables

pytestmark = pytest.mark.e2e


def test_xgboost_on_spark_is_trained_registered_and_queues_the_region(spark, audit_lake):
    lake, results = audit_lake
    assert results["train_audit_model"]["model_type"] == "audit-xgboost"
    reg = tables.read_slice(spark, lake.table("gold/model_registry"), REGION, DS).collect()
    (row,) = [r for r in reg if r.model_type == "audit-xgboost"]
    assert (lake.root / row.artifact_path / "audit_model.json").exists()
    assert json.loads(row.params)["weights"] == "inverse review rate per report bucket"
    queue = tables.read_slice(spark, lake.table("gold/audit_queue"), REGION, DS).toPandas()
    assert sorted(queue["rank"]) == list(range(1, len(queue) + 1))
    assert queue.sort_values("rank")["priority"].is_monotonic_decreasing
    assert (queue["held"] == (queue["risk_score"] >= audit_cfg().audit.hold_threshold)).all()
    assert queue["risk_score"].between(0, 1).all() and queue["risk_score"].nunique() > 1
    assert results["evaluate_audit"]["labels"] == "hidden truth"


def test_gbt_is_the_other_choice(spark, audit_lake):
    lake, _ = audit_lake
    out = pipeline.run(spark, lake, "train_audit_model", REGION, DS, audit_cfg(), audit_model="gbt")
    assert out["model_type"] == "audit-gbt"
    queued = pipeline.run(spark, lake, "score_audit_queue", REGION, DS, audit_cfg())
    assert queued["model_version"] == out["model_version"]
    reg = tables.read_slice(spark, lake.table("gold/model_registry"), REGION, DS).collect()
    assert [r.model_type for r in reg] == ["audit-gbt"]  # replaced its own family's row only
