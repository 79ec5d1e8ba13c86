"""Whoever can write files into the lake cannot make a nightly stage run code: planted artifacts
are refused by the stages that read them, with one clear error, and nothing runs."""

import json
import shutil

import numpy as np
import pytest

from e2e.conftest import AUDIT_REGION, audit_cfg
from helpers import DS, RunsCode, nightly_cfg, plant_pickled_xgboost
from nightfeed import pipeline
from nightfeed.configuration import config
from nightfeed.core.errors import NightfeedError
from nightfeed.lake import tables

pytestmark = pytest.mark.e2e


def _registered(spark, lake, region, audit):
    rows = tables.read_slice(spark, lake.table("gold/model_registry"), region, DS).collect()
    return next(r for r in rows if r.model_type.startswith("audit-") == audit)


def test_a_pickled_users_file_stops_score_feeds_and_runs_nothing(spark, lake_copy, tmp_path):
    marker = tmp_path / "ran"
    row = _registered(spark, lake_copy, "AA", audit=False)
    users = lake_copy.root / row.artifact_path / "users.npy"
    np.save(users, np.array([RunsCode(marker), "u-AA-000000"], dtype=object), allow_pickle=True)
    with pytest.raises(NightfeedError, match=r"refused .*users\.npy.*rerun"):
        pipeline.run(spark, lake_copy, "score_feeds", "AA", DS, nightly_cfg("AA"))
    assert not marker.exists()


def test_xgboosts_pickled_metadata_stops_score_audit_queue_and_runs_nothing(spark, audit_lake, tmp_path):
    marker = tmp_path / "ran"
    root = tmp_path / "lake"
    shutil.copytree(audit_lake[0].root, root)
    lake = config.Lake(root)
    folder = lake.root / _registered(spark, lake, AUDIT_REGION, audit=True).artifact_path
    meta = json.loads((folder / "audit_model.json").read_text())
    (folder / "audit_model.json").write_text(json.dumps({**meta, "kind": "xgboost"}))
    shutil.rmtree(folder / "estimator", ignore_errors=True)
    plant_pickled_xgboost(folder / "estimator", marker)
    with pytest.raises(NightfeedError, match=r"score_audit_queue .* has no booster\.json.*retrain it"):
        pipeline.run(spark, lake, "score_audit_queue", AUDIT_REGION, DS, audit_cfg())
    assert not marker.exists()


def test_a_registry_row_pointing_outside_the_lake_is_refused(spark, lake_copy, tmp_path):
    row = _registered(spark, lake_copy, "AA", audit=False).asDict()
    outside = tmp_path / "elsewhere"
    shutil.copytree(lake_copy.root / row["artifact_path"], outside)
    t = tables.LakeTables(spark, lake_copy.root)
    frame = t.read_slice("gold/model_registry", "AA", DS).toPandas()
    frame.loc[frame["model_version"] == row["model_version"], "artifact_path"] = str(outside)
    t.write_slice(
        "gold/model_registry", spark.createDataFrame(frame, t.read("gold/model_registry").schema), "AA", DS
    )
    with pytest.raises(NightfeedError, match="refused model artifact path"):
        pipeline.run(spark, lake_copy, "score_feeds", "AA", DS, nightly_cfg("AA"))
