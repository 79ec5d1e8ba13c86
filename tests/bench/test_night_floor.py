"""Counting what a night asks of Spark (event log) and Delta (commits), and its priced floor."""

import json

import pandas as pd
import pytest
from deltalake import write_deltalake

from nightfeed.bench import night_floor
from nightfeed.bench.stages_suite import event_log_conf
from nightfeed.pipeline.runner import stage_tag

START = night_floor.EXECUTION_START


def _event(execution_id, description, root=None, stage=None):
    ours = [f"spark-session-1-thread-2-{stage_tag(stage, 'US', '2026-11-25')}"] if stage else []
    tags = ["spark-session-1", *ours]
    return json.dumps(
        {
            "Event": START,
            "executionId": execution_id,
            "rootExecutionId": execution_id if root is None else root,
            "description": description,
            "jobTags": tags,
        }
    )


def test_counts_root_executions_split_into_deltas_own_and_the_stages(tmp_path):
    app = tmp_path / "eventlog_v2_local-1"
    app.mkdir()
    (app / "events_1_local-1").write_text(
        "\n".join(
            [
                json.dumps({"Event": "SparkListenerJobStart", "Job ID": 0}),
                _event(0, "Delta: Filtering files for query", stage="ingest_events"),
                _event(1, "save at NativeMethodAccessorImpl.java:0", stage="ingest_events"),
                _event(2, "Delta: Compute snapshot for version: 3", root=1, stage="ingest_events"),
                _event(3, "collect at /lake/pipeline/score.py:34", stage="score_feeds"),
                _event(4, "count at NativeMethodAccessorImpl.java:0"),
            ]
        )
        + "\n"
    )
    (app / "appstatus_local-1").write_text("")
    assert night_floor.count_queries(tmp_path) == {
        "delta_internal_queries": 1,
        "stage_queries": 3,
        "by_stage": {
            "ingest_events": {"delta_internal_queries": 1, "stage_queries": 1},
            "score_feeds": {"delta_internal_queries": 0, "stage_queries": 1},
            "outside stages": {"delta_internal_queries": 0, "stage_queries": 1},
        },
    }


def test_a_compressed_event_log_is_refused_by_name(tmp_path):
    (tmp_path / "events_1_local-1.zstd").write_bytes(b"\x28\xb5")
    with pytest.raises(
        ValueError, match="compressed; write the event log with spark.eventLog.compress false"
    ):
        night_floor.count_queries(tmp_path)


def test_commits_are_counted_from_each_tables_versions(tmp_path):
    rows = pd.DataFrame({"region": ["US"], "ds": ["2026-11-25"], "metric": ["coverage"], "value": [0.5]})
    write_deltalake(tmp_path / "gold" / "feed_metrics", rows)
    before = night_floor.table_versions(tmp_path)
    assert before == {"gold/feed_metrics": 0}
    write_deltalake(tmp_path / "gold" / "feed_metrics", rows, mode="overwrite")
    write_deltalake(tmp_path / "gold" / "model_metrics", rows)
    after = night_floor.table_versions(tmp_path)
    assert after == {"gold/feed_metrics": 1, "gold/model_metrics": 0}
    assert night_floor.commits_between(before, after) == 2


def test_the_floor_prices_commits_and_the_other_queries_at_warm_costs():
    warm = {"warm_commit_s": 0.3, "warm_read_after_commit_s": 0.35, "warm_read_s": 0.1}
    floor = night_floor.implied_floor({"delta_internal_queries": 7, "stage_queries": 50}, 10, warm)
    assert floor["reads"] == 40 and floor["commits"] == 10
    assert floor["floor_s"] == pytest.approx(10 * 0.3 + 40 * 0.1)


def test_the_event_log_settings_name_an_uncompressed_folder(tmp_path):
    lines = night_floor.event_log_settings(tmp_path / "events")
    assert "spark.eventLog.enabled true" in lines and "spark.eventLog.compress false" in lines
    assert f"spark.eventLog.dir {(tmp_path / 'events').as_uri()}" in lines
    assert (tmp_path / "events").is_dir()


def test_the_counted_run_keeps_the_callers_spark_conf_and_starts_without_old_events(tmp_path):
    own = tmp_path / "own_conf"
    own.mkdir()
    (own / "spark-defaults.conf").write_text("spark.driver.memory 6g\n")
    (own / "log4j2.properties").write_text("rootLogger.level = warn\n")
    events = tmp_path / "night_events"
    (events / "eventlog_v2_old").mkdir(parents=True)
    (events / "eventlog_v2_old" / "events_1_old").write_text(_event(0, "collect at old.py:1") + "\n")
    folder = event_log_conf(tmp_path / "night_conf", events, {"SPARK_CONF_DIR": str(own)})
    defaults = (folder / "spark-defaults.conf").read_text()
    assert defaults.startswith("spark.driver.memory 6g\n") and "spark.eventLog.enabled true" in defaults
    assert (folder / "log4j2.properties").read_text() == "rootLogger.level = warn\n"
    assert night_floor.count_queries(events)["stage_queries"] == 0
    assert (own / "spark-defaults.conf").read_text() == "spark.driver.memory 6g\n"
