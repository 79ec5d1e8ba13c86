"""The real stages on a tiny generated lake: contracts, feed invariants, idempotent reruns."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from e2e.conftest import REGIONS
from helpers import DS, ROOT, landing_lines, nightly_cfg
from nightfeed import pipeline
from nightfeed.core.vocabulary import RETRIEVERS
from nightfeed.lake import tables
from nightfeed.pipeline import registry

pytestmark = pytest.mark.e2e


def slice_rows(spark, lake, table, region, ds=DS):
    df = tables.read_slice(spark, lake.table(table), region, ds)
    return sorted(tuple(str(v) for v in r) for r in df.collect())


def test_ingest_counts_balance(spark, tiny_lake):
    lake, results = tiny_lake
    for region in REGIONS:
        res = results[region]["ingest_events"]
        bronze = tables.read_slice(spark, lake.table("bronze/events"), region, DS).count()
        quarantine = tables.read_slice(spark, lake.table("bronze/events_quarantine"), region, DS).count()
        assert landing_lines(lake, region, DS) == res["lines_read"] == bronze + quarantine
        assert quarantine > 0 and res["quarantine_reasons"]


def test_feeds_satisfy_the_contract(spark, tiny_lake):
    lake, results = tiny_lake
    feeds = tables.read(spark, lake.table("gold/feeds"))
    assert {r.region for r in feeds.select("region").distinct().collect()} == set(REGIONS)
    for region in REGIONS:
        f = feeds.where((F.col("region") == region) & (F.col("ds") == DS)).toPandas()
        active = {
            r.user_id
            for r in tables.read_slice(spark, lake.table("gold/user_features"), region, DS).collect()
        }
        assert set(f.user_id) == active, "every active user has a feed"
        for _, g in f.groupby("user_id"):
            assert sorted(g["rank"]) == list(range(1, len(g) + 1))
            assert g["item_id"].is_unique
            assert (g.sort_values("rank")["score"].diff().dropna() <= 1e-9).all()
        finished = (
            tables.read_slice(spark, lake.table("silver/exclusions"), region, DS)
            .where("reason = 'finished'")
            .toPandas()
        )
        assert not set(zip(f.user_id, f.item_id)) & set(zip(finished.user_id, finished.item_id))
        items = tables.read_slice(spark, lake.table("gold/item_features"), region, DS).toPandas()
        status = dict(zip(items.item_id, items.moderation_status))
        assert {status.get(i) for i in f.item_id} == {"approved"}
        assert set(f.source) <= set(RETRIEVERS) and "cf" in set(f.source)
        assert f["ranker_version"].notna().all(), "the two-stage feed names its ranker"
        ranked = f[f["value"].notna()]
        assert len(ranked) > 0.5 * len(f), "most slots were ordered by the ranker's value"
        assert f.model_version.nunique() == 1


def test_model_is_registered_and_beats_popularity_offline(spark, tiny_lake):
    lake, results = tiny_lake
    for region in REGIONS:
        rows = tables.read_slice(spark, lake.table("gold/model_registry"), region, DS).collect()
        families = sorted(r.model_type.split("-")[0] if "-" in r.model_type else "feed" for r in rows)
        assert families == ["audit", "feed", "ranker"], "the feed's model, the audit classifier, the ranker"
        reg = [r for r in rows if not r.model_type.startswith(("audit-", "ranker-"))]
        assert (lake.root / reg[0].artifact_path / "model.json").exists()
        assert json.loads(reg[0].params)["requested"] == "auto"
        everything = tables.read_slice(spark, lake.table("gold/model_metrics"), region, DS).toPandas()
        ranker = everything[everything.model.str.startswith("ranker")]
        assert {m for m in ranker.model if m.startswith("ranker:")} >= {"ranker:watch", "ranker:skip"}
        assert set(ranker[ranker.model == "ranker"].metric) >= {"validation_gauc", "gauc"}
        metrics = everything[~everything.model.str.startswith("ranker")]
        assert set(metrics[metrics.status == "ok"].model) == {reg[0].model_type, "popularity"}
        next_day = metrics[metrics.status == "skipped"]
        assert list(next_day.metric) == ["gauc"], "one night only: no feed of the night before to judge"
        assert next_day.reason.iloc[0].startswith("no feed was published on or before ")


def test_audit_queue_metrics_report_and_cli(spark, tiny_lake):
    lake, results = tiny_lake
    for region in REGIONS:
        queue = tables.read_slice(spark, lake.table("gold/audit_queue"), region, DS).toPandas()
        assert len(queue) == results[region]["score_audit_queue"]["queued"] > 0
        assert sorted(queue["rank"]) == list(range(1, len(queue) + 1))
        assert queue.sort_values("rank")["priority"].is_monotonic_decreasing
        assert queue["risk_score"].between(0, 1).all() and all(len(r) > 0 for r in queue["reasons"])
        reg = tables.read_slice(spark, lake.table("gold/model_registry"), region, DS).toPandas()
        audit = reg[reg.model_type.str.startswith("audit-")]
        assert set(queue["model_version"]) == set(audit["model_version"])
        metrics = tables.read_slice(spark, lake.table("gold/audit_metrics"), region, DS).toPandas()
        for method in ("model", "fifo", "reports", "report_rate"):
            got = set(metrics[metrics.method == method].metric)
            assert got == {"precision_at_c", "recall_at_c", "pr_auc", "violating_views_prevented"}
        page = lake.reports("audit", region, DS) / "queue.html"
        assert page.exists() and page.read_text().count("<svg") == 2
        held = set(queue[queue["held"]]["item_id"])
        feeds = tables.read_slice(spark, lake.table("gold/feeds"), region, DS).toPandas()
        assert not held & set(feeds["item_id"])
        without = tables.read_slice(
            spark, lake.table("silver/feed_slots_without_holds"), region, DS
        ).toPandas()
        assert without["slots"].sum() >= len(feeds) > 0  # same users; nothing held: never fewer slots
        effects = tables.read_slice(spark, lake.table("gold/feed_metrics"), region, DS).toPandas()
        effects = effects[effects.metric.str.startswith("audit_")].set_index("metric")["value"]
        assert effects["audit_held_videos"] == len(held)
        slots = results[region]["score_feeds"]["held_item_slots_without_holds"]
        assert slots == without[without.item_id.isin(held)]["slots"].sum()
        assert effects["audit_violating_slots_without_holds"] >= 0 <= effects["audit_violating_slots"]
    index = (lake.root / "reports" / "quality" / "index.html").read_text()
    assert f"../audit/region={REGIONS[0]}/ds={DS}/queue.html" in index
    out = subprocess.run(
        [str(Path(sys.executable).parent / "nightfeed"), "audit-queue", "--region", REGIONS[0], "--top", "3"],
        capture_output=True,
        text=True,
        env={**os.environ, "NIGHTFEED_LAKE": str(lake.root)},
    )
    assert out.returncode == 0 and out.stdout.startswith(f"audit queue of {REGIONS[0]} (ds {DS}): top 3 of")


def test_rerunning_every_stage_leaves_identical_tables(spark, tiny_lake):
    lake, _ = tiny_lake
    region = REGIONS[0]
    watched = [
        "bronze/events",
        "bronze/events_quarantine",
        "silver/interactions",
        "silver/exclusions",
        "gold/user_features",
        "gold/item_features",
        "gold/model_registry",
        "gold/model_metrics",
        "silver/feed_candidates",
        "gold/feeds",
        "bronze/moderation_decisions",
        "silver/item_risk_features",
        "gold/audit_queue",
        "gold/audit_metrics",
    ]
    before = {t: slice_rows(spark, lake, t, region) for t in watched}
    totals = {t: tables.read(spark, lake.table(t)).count() for t in watched}
    cfg = nightly_cfg(region)
    for st in registry.NIGHTLY:
        pipeline.run(spark, lake, st, region, DS, cfg)
    for t in watched:
        assert slice_rows(spark, lake, t, region) == before[t], t
        assert tables.read(spark, lake.table(t)).count() == totals[t], t


def test_tables_are_readable_by_another_delta_reader(spark, tiny_lake):
    from deltalake import DeltaTable

    lake, _ = tiny_lake
    for t in ("gold/feeds", "bronze/events", "bronze/events_quarantine", "gold/model_registry"):
        dt_ = DeltaTable(lake.table(t))
        assert dt_.metadata().partition_columns == ["region", "ds"]
        assert len(dt_.to_pandas()) == tables.read(spark, lake.table(t)).count()


def _spark_submit(job, *args, lake):
    env = {**os.environ, "NIGHTFEED_LAKE": str(lake)}
    env.pop("PYSPARK_GATEWAY_PORT", None)
    return subprocess.run(
        [str(Path(sys.executable).parent / "spark-submit"), str(ROOT / "jobs" / f"{job}.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _error_lines(res):
    """spark-submit's PythonRunner merges the driver's stderr into stdout: read both."""
    return [l for l in (res.stdout + res.stderr).splitlines() if l.startswith("error:")]


def test_spark_submit_job_bad_arguments_give_one_line_errors(tmp_path):
    res = _spark_submit("ingest_events", "--region", "US", "--ds", "2026-02-30", lake=tmp_path)
    assert res.returncode != 0
    errors = _error_lines(res)
    assert len(errors) == 1 and "YYYY-MM-DD" in errors[0]
    res = _spark_submit("ingest_events", "--region", "US", "--ds", DS, lake=tmp_path)
    assert res.returncode == 2
    assert _error_lines(res) == [
        f"error: landing folder not found: {tmp_path}/landing/events/region=US/ds={DS}"
    ]
    assert "Traceback" not in res.stdout + res.stderr
