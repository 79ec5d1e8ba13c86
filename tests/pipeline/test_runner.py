"""The days a `nightfeed run` covers, clear refusals of ranges it cannot run, and one region's
failure leaving the other regions' nights to run."""

import datetime as dt
import json
import math

import numpy as np
import pytest

from helpers import EVENT_COLUMNS
from nightfeed.configuration import config
from nightfeed.core.errors import NightfeedError
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline import runner
from nightfeed.pipeline.runner import (
    night_dates,
    night_events,
    print_line,
    run_nights,
    run_stage,
    stage_tag,
    tagged_stage,
)


def test_a_range_is_every_day_in_order_across_a_month_end():
    assert night_dates(None, "2026-11-29", "2026-12-02") == [
        "2026-11-29",
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
    ]
    assert night_dates("2026-11-25", None, None) == ["2026-11-25"]
    assert night_dates(None, "2026-11-25", "2026-11-25") == ["2026-11-25"]


@pytest.mark.parametrize(
    ("ds", "first", "last", "message"),
    [
        ("2026-11-25", "2026-11-24", None, "either --ds or --from/--to"),
        (None, "2026-11-24", None, "both --from and --to"),
        (None, None, None, "give --ds"),
        (None, "2026-11-25", "2026-11-24", "--from 2026-11-25 is after --to 2026-11-24"),
    ],
)
def test_ranges_that_cannot_run_are_refused(ds, first, last, message):
    with pytest.raises(NightfeedError, match=message):
        night_dates(ds, first, last)


def test_a_failing_region_skips_its_later_days_and_the_others_still_run(spark, tmp_path, monkeypatch, capsys):
    """Neither region has landed events: each fails in ingest_events on the first day, is reported,
    and is not run again on the second day; the second region was still attempted after the first."""
    monkeypatch.setenv("NIGHTFEED_LAKE", str(tmp_path))
    results, failed = run_nights(spark, ["NA", "NB"], ["2026-11-20", "2026-11-21"])
    assert results == []
    assert {r: ds for r, (ds, _) in failed.items()} == {"NA": "2026-11-20", "NB": "2026-11-20"}
    assert all("landing folder not found" in error for _, error in failed.values())
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and "region=NB" in errors[1]
    lake = config.Lake(tmp_path)
    assert (lake.run_page("2026-11-20") / "stages" / "region=NB" / "ingest_events.json").exists()
    assert not (lake.run_page("2026-11-21") / "stages").exists()


@pytest.mark.parametrize(
    ("first", "history", "ingested"),
    [
        ("2026-11-23", 5, ["2026-11-21", "2026-11-22"]),  # the configured 5 days: 2 before the nights
        ("2026-11-19", 7, []),  # a 7-night range lands 7 days, every one a night
    ],
)
def test_generated_history_covers_every_night_of_the_range(monkeypatch, capsys, first, history, ingested):
    """--generate lands synthetic.history_days (5 here) ending at the last night, or more when the
    range has more nights, so no night lacks its landing."""
    from nightfeed.pipeline import runner

    calls = []

    def fake_stage(stage, region, ds, spark=None, cfg=None, lake=None, **options):
        calls.append((stage, ds, options))
        return {"stage": stage, "days": options.get("days")}

    monkeypatch.setattr(runner, "run_stage", fake_stage)
    runner._land_history(None, "ZZ", night_dates(None, first, "2026-11-25"))
    assert calls[0] == ("generate_events", "2026-11-25", {"days": history})
    assert sorted({ds for stage, ds, _ in calls[1:]}) == ingested


def test_a_summary_line_is_strict_json_with_undefined_numbers_null(capsys):
    print_line({"valid_pr_auc": math.nan, "ratios": [math.inf, 1.5], "nested": {"x": np.float64("nan")}})
    line = capsys.readouterr().out.strip()

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    assert json.loads(line, parse_constant=refuse) == {
        "valid_pr_auc": None,
        "ratios": [None, 1.5],
        "nested": {"x": None},
    }


def test_a_night_is_sized_by_its_events_or_before_its_ingest_by_the_night_before(spark, tmp_path):
    lake = config.Lake(tmp_path)
    assert night_events(lake, "NS", "2026-11-20") == 0  # no bronze/events table yet
    rows = [
        (f"e{i}", "u1", "i1", "play", dt.datetime(2026, 11, 20, 12), 900, "NS", "2026-11-20", "f")
        for i in range(3)
    ]
    LakeTables(spark, lake.root).write_slice(
        "bronze/events", spark.createDataFrame(rows, EVENT_COLUMNS), "NS", "2026-11-20"
    )
    assert night_events(lake, "NS", "2026-11-20") == 3
    assert night_events(lake, "NS", "2026-11-21") == 3  # ingest_events of 11-21 has not run yet
    assert night_events(lake, "NS", "2026-11-23") == 0
    assert night_events(lake, "OTHER", "2026-11-20") == 0


NIGHT_KEYS = ("spark.sql.codegen.wholeStage", "spark.sql.codegen.factoryMode", "spark.sql.adaptive.enabled")


@pytest.fixture
def night_settings_restored(spark):
    yield spark
    for key in NIGHT_KEYS:
        spark.conf.unset(key)


def test_each_stage_runs_with_the_settings_its_night_calls_for(night_settings_restored, tmp_path):
    """A tiny night (here: no events at all) runs interpreted and without adaptive execution,
    whatever the session ran before."""
    spark = night_settings_restored
    spark.conf.set("spark.sql.codegen.wholeStage", "true")
    with pytest.raises(NightfeedError, match="landing folder not found"):
        run_stage("ingest_events", "NS", "2026-11-20", spark, lake=config.Lake(tmp_path))
    assert [spark.conf.get(key) for key in NIGHT_KEYS] == ["false", "NO_CODEGEN", "false"]


def test_a_stages_queries_carry_its_tag_only_while_it_runs(night_settings_restored, tmp_path, monkeypatch):
    spark = night_settings_restored
    tags_seen = []

    def failing_stage(session, *args, **options):
        tags_seen.append(set(session.getTags()))
        session.range(3).count()
        raise NightfeedError("this stage failed")

    monkeypatch.setattr(runner, "run", failing_stage)
    with pytest.raises(NightfeedError, match="this stage failed"):
        run_stage("ingest_events", "NS", "2026-11-20", spark, lake=config.Lake(tmp_path))
    tag = stage_tag("ingest_events", "NS", "2026-11-20")
    assert tag in tags_seen[0] and tag not in spark.getTags()
    assert tagged_stage(["spark-session-1", tag]) == "ingest_events"
    assert tagged_stage(["spark-session-1", f"spark-session-1-thread-2-{tag}"]) == "ingest_events"
    assert tagged_stage(["spark-session-1", "nightfeed:no-stage"]) is None
