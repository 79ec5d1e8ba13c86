"""Faults a production run meets: kills mid-write, concurrent regions, a worse model, rollback, bad feeds."""

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from helpers import DS, ROOT, land_tiny, landing_lines, nightly_cfg, shift, write_decisions
from nightfeed import pipeline
from nightfeed.configuration.config import Lake
from nightfeed.core.errors import NightfeedError
from nightfeed.lake import readonly, tables
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline import publish_feeds as publish
from nightfeed.pipeline import retention
from nightfeed.pipeline.checks import checks_dir

pytestmark = pytest.mark.e2e
NEXT = shift(DS, 1)


def version(spark, path):
    return tables.latest_version(spark, path)


def test_sigkill_mid_write_leaves_tables_at_their_last_commit(spark, lake_copy):
    table = lake_copy.table("silver/interactions")
    before_version = version(spark, table)
    before_rows = tables.read(spark, table).count()
    files_before = {p for p in (lake_copy.root / "silver/interactions").rglob("*.parquet")}
    env = {
        **os.environ,
        "NIGHTFEED_LAKE": str(lake_copy.root),
        "NIGHTFEED_TEST_SLOW_WRITE": "silver/interactions:3",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "nightfeed.cli.main", "stage", "build_features", "--region", "AA", "--ds", DS],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 240
    while time.time() < deadline:
        new = {p for p in (lake_copy.root / "silver/interactions").rglob("*.parquet")} - files_before
        if new:
            break
        assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
        time.sleep(0.2)
    else:
        pytest.fail("no data file was written in time")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    spark.catalog.clearCache()
    assert version(spark, table) == before_version
    assert tables.read(spark, table).count() == before_rows
    from deltalake import DeltaTable

    assert DeltaTable(table).version() == before_version and len(DeltaTable(table).to_pandas()) == before_rows
    pipeline.run(spark, lake_copy, "build_features", "AA", DS, nightly_cfg("AA"))
    assert version(spark, table) > before_version
    assert tables.read(spark, table).count() == before_rows


def _submit(job, region, ds, lake_root):
    env = {**os.environ, "NIGHTFEED_LAKE": str(lake_root)}
    env.pop("PYSPARK_GATEWAY_PORT", None)
    return subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "spark-submit"),
            str(ROOT / "jobs" / f"{job}.py"),
            "--region",
            region,
            "--ds",
            ds,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_new_regions_ingest_concurrently_with_spark_submit(spark, tmp_path):
    for i, region in enumerate(("CA", "CB")):
        land_tiny(tmp_path, region, DS, days=1, seed=3 + i)
    procs = [_submit("ingest_events", region, DS, tmp_path) for region in ("CA", "CB")]
    outs = [p.communicate(timeout=600) for p in procs]
    errors = [
        [l for l in (o + e).splitlines() if l.startswith(("error:", "Traceback", "pyspark.errors", "py4j"))]
        for o, e in outs
    ]
    assert [p.returncode for p in procs] == [0, 0], errors
    for region, (out, err) in zip(("CA", "CB"), outs):
        assert " INFO " not in out + err, "log4j2's WARN default (setup-spark's jar) applies"
        summary = json.loads(out.strip().splitlines()[-1])
        assert (
            summary["lines_read"]
            == summary["valid"] + summary["quarantined"]
            == landing_lines(Lake(tmp_path), region, DS)
        )
        assert (
            tables.read_slice(spark, str(tmp_path / "bronze/events"), region, DS).count() == summary["valid"]
        )
    regions = {
        r.region
        for r in tables.read(spark, str(tmp_path / "bronze/events")).select("region").distinct().collect()
    }
    assert regions == {"CA", "CB"}


@pytest.fixture(scope="module")
def next_day_scored(spark, tiny_lake, tmp_path_factory):
    """The tiny lake with region AA's next day landed and run up to score_feeds (default model):
    the common start of the publish-side fault tests, run once."""
    import shutil

    lake, _ = tiny_lake
    root = tmp_path_factory.mktemp("next_day") / "lake"
    shutil.copytree(lake.root, root)
    next_lake = Lake(root)
    land_tiny(root, "AA", NEXT, days=1, seed=11)
    cfg = nightly_cfg("AA")
    for st in ("ingest_events", "validate_events", "build_features", "validate_features", "train_model"):
        pipeline.run(spark, next_lake, st, "AA", NEXT, cfg)
    pipeline.run(spark, next_lake, "score_feeds", "AA", NEXT, cfg)
    return next_lake


@pytest.fixture
def next_lake(next_day_scored, tmp_path, monkeypatch):
    """A private copy of `next_day_scored` for a test that changes it."""
    import shutil

    root = tmp_path / "lake"
    shutil.copytree(next_day_scored.root, root)
    monkeypatch.setenv("NIGHTFEED_LAKE", str(root))
    return Lake(root)


def _finish_next_day(spark, lake, model=None, tamper=None, max_ndcg_drop=1.0):
    """Validate and publish AA's next day (after retraining with `model`, if given); by default
    the gate lets any model through."""
    cfg = nightly_cfg("AA", gate={"max_ndcg_drop": max_ndcg_drop})
    if model:
        pipeline.run(spark, lake, "train_model", "AA", NEXT, cfg, model_type=model)
        pipeline.run(spark, lake, "score_feeds", "AA", NEXT, cfg)
    if tamper:
        tamper(spark, lake)
    pipeline.run(spark, lake, "validate_feeds", "AA", NEXT, cfg)
    return pipeline.run(spark, lake, "publish_feeds", "AA", NEXT, cfg)


def _gate_record(lake) -> dict:
    return json.loads((checks_dir(lake, "AA", NEXT) / "gate.json").read_text())


def test_gate_rejects_a_worse_model_and_the_previous_feed_stays_live(spark, next_lake):
    """...and the refusal warns that the feed staying live holds a video reviewers removed since."""
    live_before = publish.live_pointer(spark, next_lake, "AA")
    feeds_version = version(spark, next_lake.table("gold/feeds"))
    served = publish.live_feed(spark, next_lake, "AA").first()["item_id"]
    later = shift(NEXT, 1)  # a day of its own, so tonight's ingested decisions stay as they are
    removed_at = dt.datetime.fromisoformat(later).replace(hour=9, tzinfo=dt.UTC)
    write_decisions(LakeTables(spark, next_lake.root), "AA", later, [("late", served, removed_at, "removed")])
    with pytest.raises(
        NightfeedError,
        match="promotion gate.*on tonight's validation split.*; the previous feed stays live "
        f"\\(warning: the feed of {live_before['live_ds']} holds [0-9]+ videos? removed or restricted since",
    ):
        _finish_next_day(spark, next_lake, model="popularity", max_ndcg_drop=0.02)
    assert publish.live_pointer(spark, next_lake, "AA") == live_before
    assert version(spark, next_lake.table("gold/feeds")) == feeds_version
    assert tables.read_slice(spark, next_lake.table("gold/feeds"), "AA", NEXT).count() == 0
    gate = _gate_record(next_lake)
    assert gate["compared_on"] == "tonight's validation split (refitted on tonight's validation folds)"
    assert gate["live"] > gate["new"] + 0.02


def test_gate_compares_both_models_on_tonights_validation_split(spark, next_lake):
    """Two nights' validation splits differ by their noise: the gate scores the live model's type
    and parameters on tonight's split, not by the score it had on its own night (set here to 0.99,
    which no model of tonight's split reaches)."""
    live = publish.live_pointer(spark, next_lake, "AA")
    registry = DeltaTable.forPath(spark, next_lake.table("gold/model_registry"))
    registry.update(
        F.col("model_version") == live["model_version"],
        {"validation_metrics": F.map_from_arrays(F.array(F.lit("ndcg@10")), F.array(F.lit(0.99)))},
    )
    out = _finish_next_day(spark, next_lake, max_ndcg_drop=0.0)
    assert out["live_ds"] == NEXT and out["gate"]["decision"] == "promote"
    assert out["gate"]["compared_on"].startswith("tonight's validation split")
    assert out["gate"]["live"] < 0.99


def test_failing_feed_check_stops_publishing(spark, next_lake):
    def duplicate_a_row(spark, lake):
        cand = tables.read_slice(spark, lake.table("silver/feed_candidates"), "AA", NEXT)
        first = cand.where("rank = 1").limit(1)
        tables.write_slice(
            spark,
            cand.unionByName(first.withColumn("rank", F.lit(999))),
            lake.table("silver/feed_candidates"),
            "silver/feed_candidates",
            "AA",
            NEXT,
        )

    live_before = publish.live_pointer(spark, next_lake, "AA")
    with pytest.raises(NightfeedError, match="feeds checks failed.*no_duplicate_items_per_user"):
        _finish_next_day(spark, next_lake, tamper=duplicate_a_row)
    assert publish.live_pointer(spark, next_lake, "AA") == live_before
    with pytest.raises(NightfeedError, match="feed checks failed"):
        pipeline.run(spark, next_lake, "publish_feeds", "AA", NEXT, nightly_cfg("AA"))
    report = pipeline.run(spark, next_lake, "quality_report", "AA", NEXT, nightly_cfg("AA"))
    assert report["status"] == "failed"
    summary = json.loads(open(report["summary_json"]).read())
    assert "no_duplicate_items_per_user" in summary["suites"]["feeds"]["failed"]


def test_publish_then_rollback_by_ds_and_by_version(spark, next_lake):
    first = publish.live_pointer(spark, next_lake, "AA")
    first_rows = sorted(map(tuple, publish.live_feed(spark, next_lake, "AA").collect()))
    out = _finish_next_day(spark, next_lake)
    assert publish.live_pointer(spark, next_lake, "AA")["live_ds"] == NEXT == out["live_ds"]
    back = publish.rollback(spark, next_lake, "AA", to_ds=DS, eligible=["approved"])
    assert back["live_ds"] == DS
    assert sorted(map(tuple, publish.live_feed(spark, next_lake, "AA").collect())) == first_rows
    publish.rollback(spark, next_lake, "AA", to_version=out["feeds_table_version"], eligible=["approved"])
    assert publish.live_pointer(spark, next_lake, "AA")["live_ds"] == NEXT
    publish.rollback(spark, next_lake, "AA", to_version=first["feeds_table_version"], eligible=["approved"])
    assert publish.live_pointer(spark, next_lake, "AA")["live_ds"] == DS
    with pytest.raises(NightfeedError, match="no published feed"):
        publish.rollback(spark, next_lake, "AA", to_ds="2020-01-01", eligible=["approved"])
    m = nightly_cfg("AA").maintenance
    with pytest.raises(NightfeedError, match=r"retention 0 h is below Delta's 168 h safety default.*--force"):
        retention.maintain(spark, next_lake, 0, m)
    with pytest.raises(NightfeedError, match="rollback_days = 0: must be at least 1"):
        retention.maintain(spark, next_lake, 336, dataclasses.replace(m, rollback_days=0))
    kept = retention.maintain(spark, next_lake, 0, m, force=True)
    assert kept["retention_hours_used"] >= 7 * 24 and "vacuum" not in kept["tables"]["gold/feeds"]
    assert sorted(map(tuple, publish.live_feed(spark, next_lake, "AA").collect())) == first_rows
    log_days = readonly.table_property(next_lake.root / "gold/feeds", "delta.logRetentionDuration")
    assert log_days == f"interval {m.live_feed_max_age_days + m.rollback_days} days"


def test_vacuum_never_runs_when_a_live_feeds_version_has_lost_its_log(spark, next_lake):
    """A pointer left unchanged longer than gold/feeds' log retention names a version Delta can no
    longer rebuild: VACUUM cannot tell that version's files, so it leaves gold/feeds alone."""
    from deltalake import DeltaTable as RustTable

    first = publish.live_pointer(spark, next_lake, "AA")
    _finish_next_day(spark, next_lake)
    publish.rollback(spark, next_lake, "AA", to_version=first["feeds_table_version"], eligible=["approved"])
    feeds = next_lake.root / "gold/feeds"
    live_files = RustTable(str(feeds), version=first["feeds_table_version"]).file_uris()
    RustTable(str(feeds)).create_checkpoint()
    latest = RustTable(str(feeds)).version()
    for old in range(latest):  # what Delta's log clean-up does to commits past the retention
        (feeds / "_delta_log" / f"{old:020d}.json").unlink()
    out = retention.maintain(spark, next_lake, 200, nightly_cfg("AA").maintenance)
    assert "whose Delta log is gone: vacuum skipped" in out["tables"]["gold/feeds"]["vacuum"]
    assert all(os.path.exists(f) for f in live_files)


def test_quality_report_is_written_for_each_run(tiny_lake):
    lake, results = tiny_lake
    for res in results.values():
        report = res["quality_report"]
        summary = json.loads(open(report["summary_json"]).read())
        assert summary["status"] in ("passed", "passed_with_warnings")
        assert set(summary["suites"]) == {"events", "features", "feeds"}
        assert (
            sum(summary["quarantine"]["bronze/events_quarantine"].values())
            == res["ingest_events"]["quarantined"]
        )
        assert report["data_docs"] and os.path.exists(report["data_docs"])
        assert "<style>" in open(report["summary_html"]).read()
    assert (lake.root / "reports/quality/index.html").exists()
