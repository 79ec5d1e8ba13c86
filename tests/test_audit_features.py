"""Risk features on a hand-built lake: the counts, the rows, and no leakage from after the cut-off."""

import datetime as dt

import pytest

from helpers import EVENT_COLUMNS, nightly_cfg
from nightfeed import pipeline
from nightfeed.configuration import config
from nightfeed.lake.tables import LakeTables

DS = "2026-11-25"
NEXT = "2026-11-26"


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


UPLOADS = [  # item, creator, created
    ("v1", "c1", "2026-11-20T10:00:00"),
    ("v2", "c1", "2026-11-18T10:00:00"),
    ("v3", "c2", "2026-11-25T12:00:00"),
    ("v4", "c1", "2026-11-24T10:00:00"),
]
EVENTS = [  # item, user, type, time, partition
    ("vx", "u1", "impression", "2026-11-17T10:00:00", "2026-11-17"),  # the lake's events begin here
    ("v1", "u1", "impression", "2026-11-21T10:00:00", "2026-11-21"),
    ("v1", "u2", "impression", "2026-11-25T20:00:00", DS),
    ("v1", "u3", "impression", "2026-11-25T23:00:00", DS),
    ("v1", "u2", "play", "2026-11-25T20:00:01", DS),
    ("v1", "u1", "skip", "2026-11-21T10:00:01", "2026-11-21"),
    ("v1", "u3", "skip", "2026-11-25T23:00:01", DS),
    ("v1", "u1", "report", "2026-11-25T22:00:00", DS),
    ("v1", "u2", "report", "2026-11-25T22:30:00", DS),
    ("v1", "u1", "report", "2026-11-25T22:40:00", DS),
    ("v2", "u1", "impression", "2026-11-21T10:00:00", "2026-11-21"),
    ("v2", "u2", "impression", "2026-11-23T10:00:00", "2026-11-23"),  # after v2's review day began
]
DECISIONS = [  # id, item, time, decision, policy, reviewer, partition
    ("d1", "v2", "2026-11-22T09:00:00", "removed", "spam", "r-1", "2026-11-22"),
    ("d2", "v4", "2026-11-24T10:05:00", "approved", "none", "auto", "2026-11-24"),
]
LATER_EVENTS = [
    ("v1", "u9", "report", "2026-11-25T23:59:00", NEXT),  # late arrival of ds, delivered the next day
    ("v1", "u9", "impression", "2026-11-26T01:00:00", NEXT),
    ("v3", "u9", "report", "2026-11-26T02:00:00", NEXT),
]
LATER_DECISIONS = [("d3", "v1", "2026-11-26T09:00:00", "removed", "hate", "r-2", NEXT)]


def write_lake(spark, root, events, decisions, catalog_days=(DS,)):
    t = LakeTables(spark, root)
    for day in catalog_days:
        items = [(i, c, 30_000, ts(created), "approved", "QQ", day) for i, c, created in UPLOADS]
        t.write_slice(
            "bronze/items",
            spark.createDataFrame(
                items,
                "item_id string, creator_id string, duration_ms long, created_ts timestamp, "
                "moderation_status string, region string, ds string",
            ),
            "QQ",
            day,
        )
    by_day = {}
    for k, (item, user, etype, when, day) in enumerate(events):
        by_day.setdefault(day, []).append((f"e{k}", user, item, etype, ts(when), None, "QQ", day, "f"))
    for day, rows in by_day.items():
        t.write_slice("bronze/events", spark.createDataFrame(rows, EVENT_COLUMNS), "QQ", day)
    by_day = {}
    for d_id, item, when, decision, policy, who, day in decisions:
        by_day.setdefault(day, []).append((d_id, item, ts(when), decision, policy, who, "QQ", day, "f"))
    for day, rows in by_day.items():
        schema = "decision_id string, item_id string, decided_ts timestamp, decision string, policy string, "
        schema += "reviewer string, region string, ds string, source_file string"
        t.write_slice("bronze/moderation_decisions", spark.createDataFrame(rows, schema), "QQ", day)
    return t


def features(spark, lake, t):
    pipeline.run(spark, lake, "build_audit_features", "QQ", DS, nightly_cfg("QQ"))
    rows = t.read_slice("silver/item_risk_features", "QQ", DS).collect()
    return {r.item_id: r.asDict() for r in rows}


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    return config.Lake(tmp_path_factory.mktemp("audit-lake"))


@pytest.fixture(scope="module")
def built(spark, lake):
    """Built once; the leakage test (last) adds the next day's data to this lake."""
    t = write_lake(spark, lake.root, EVENTS, DECISIONS)
    return t, features(spark, lake, t)


def test_rows_are_the_queue_and_the_reviewed_videos(built):
    _, rows = built
    assert set(rows) == {"v1", "v2", "v3", "v4"}  # v4's automatic approval is not a review
    assert [i for i, r in rows.items() if r["reviewed"]] == ["v2"]
    assert rows["v2"]["label"] == 1 and rows["v1"]["label"] is None
    assert rows["v2"]["as_of_ts"] == ts("2026-11-22T00:00:00")  # the night before its review
    assert rows["v1"]["as_of_ts"] == ts("2026-11-26T00:00:00")


def test_counts_rates_and_creator_history_as_of_the_cut_off(built):
    _, rows = built
    v1 = rows["v1"]
    assert (v1["impressions"], v1["plays"], v1["skips"], v1["reports"]) == (3, 1, 2, 3)
    assert v1["distinct_reporters"] == 2 and v1["reports_6h"] == 3 and v1["impressions_24h"] == 2
    assert v1["report_rate"] == pytest.approx(1.0) and v1["skip_rate"] == pytest.approx(2 / 3)
    assert v1["creator_videos"] == 3 and v1["creator_prior_removals"] == 1
    assert v1["creator_account_age_days"] == pytest.approx(
        (ts("2026-11-26") - ts("2026-11-18T10:00")).days + 14 / 24
    )
    v2 = rows["v2"]
    assert v2["impressions"] == 1  # the impression after the start of its review day is not counted
    assert v2["creator_prior_removals"] == 0  # its own removal is the label, not history
    assert rows["v3"]["age_hours"] == pytest.approx(12.0) and rows["v3"]["upload_hour"] == 12
    assert rows["v4"]["creator_prior_reports"] == 3 and v1["creator_prior_reports"] == 0  # v1's, not its own


def test_later_events_and_decisions_do_not_change_the_days_features(spark, lake, built):
    t, before = built
    write_lake(spark, lake.root, LATER_EVENTS, LATER_DECISIONS, catalog_days=(NEXT,))
    after = features(spark, lake, t)
    assert after == before


def test_a_video_uploaded_before_the_events_begin_is_no_training_example(spark, tmp_path):
    """v2 was uploaded on the 18th; events from the 21st only would miss what sent it to review."""
    lake = config.Lake(tmp_path)
    t = write_lake(spark, lake.root, EVENTS[1:], DECISIONS)
    summary = pipeline.run(spark, lake, "build_audit_features", "QQ", DS, nightly_cfg("QQ"))
    assert summary["events_from"] == "2026-11-21" and summary["reviewed_left_out"] == 1
    assert (summary["reviewed"], summary["queued"]) == (0, 3)
    assert "v2" not in {r.item_id for r in t.read_slice("silver/item_risk_features", "QQ", DS).collect()}
