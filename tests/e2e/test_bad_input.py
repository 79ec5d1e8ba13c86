"""Everything a producer can send, through the real ingest stage: nothing lost, every line explained."""

import json

import pytest

from helpers import nightly_cfg
from nightfeed import pipeline
from nightfeed.configuration import config
from nightfeed.core.errors import NightfeedError
from nightfeed.lake import tables

pytestmark = pytest.mark.e2e
DS = "2026-11-25"


def ev(**overrides):
    base = {
        "event_id": "e-ok",
        "user_id": "u1",
        "item_id": "v1",
        "event_type": "play",
        "event_ts": "2026-11-25T10:00:00Z",
        "watch_ms": 1000,
        "region": "QQ",
    }
    base.update(overrides)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


# (bytes of one line, expected reason or None for valid)
LINES = [
    (ev(event_id="ok-1"), None),
    (ev(event_id="ok-2", event_ts="2026-11-25T23:30:00-02:00"), None),  # late arrival within tolerance
    (b'{"event_id": "bad-json", "user_id": ', "invalid_json"),  # truncated
    (b"this is not json", "invalid_json"),
    (ev(event_id="twice").replace(b'"user_id"', b'"event_id": "again", "user_id"'), "duplicate_field"),
    (ev(event_id="wrong-type", watch_ms="lots"), "invalid_watch_ms"),
    (ev(event_id="nested", user_id={"id": 1}), "wrong_type"),
    (ev(event_id="missing", item_id=...), "missing_item_id"),
    (ev(event_id="extra", referrer="ads"), "unknown_field"),
    (
        b'{"event_id": "latin1", "user_id": "u\xe9", "item_id": "v1", "event_type": "play", '
        b'"event_ts": "2026-11-25T10:00:00Z", "watch_ms": 1, "region": "QQ"}',
        "invalid_encoding",
    ),
    (ev(event_id="dup-in-file"), None),
    (ev(event_id="dup-in-file"), "duplicate_event_id"),
    (ev(event_id="other-region", region="ZZ"), "region_mismatch"),
    (ev(event_id="future", event_ts="2099-01-01T00:00:00Z"), "timestamp_out_of_window"),
    (ev(event_id="ancient", event_ts="1970-01-02T00:00:00Z"), "timestamp_out_of_window"),
    (ev(event_id="no-zone", event_ts="2026-11-25T10:00:00"), "invalid_timestamp"),
    (ev(event_id="negative", watch_ms=-3), "invalid_watch_ms"),
    (ev(event_id="hover", event_type="hover"), "unknown_event_type"),
    (b"", "blank_line"),
    (ev(event_id="marathon", watch_ms=99_000_000), "implausible_watch_ms"),  # 27.5 h > max_watch_ms
    (ev(event_id="report-1", event_type="report", watch_ms=...), None),
    (ev(event_id="float-written", watch_ms=5000.0), None),  # a whole number, as pandas writes it
    (ev(event_id="fraction", watch_ms=2.5), "invalid_watch_ms"),
    (ev(event_id="glued-1") + ev(event_id="glued-2"), "trailing_content"),  # no newline between
    (ev(event_id="garbage") + b" <- trailing", "trailing_content"),
    (ev(event_id="real-X").replace(b"X", "\ufffd".encode()), None),  # a genuine U+FFFD, as UTF-8
    (ev(event_id="bracket", user_id="[u1]"), None),  # a string that opens with "["
]
SECOND_FILE = [
    (b"\xef\xbb\xbf" + ev(event_id="bom"), None),  # a UTF-8 byte order mark opening the file
    (ev(event_id="dup-in-file"), "duplicate_event_id"),
    (ev(event_id="ok-3"), None),
]
CR_ONLY_FILE = [(ev(event_id=f"cr-{i}"), None) for i in range(3)]  # old Mac line ends


def test_every_bad_input_kind_is_quarantined_with_its_reason(spark, tmp_path):
    lake = config.Lake(tmp_path)
    folder = lake.landing("events", "QQ", DS)
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_bytes(b"\n".join(line for line, _ in LINES) + b"\n")
    (folder / "b.jsonl").write_bytes(b"\n".join(line for line, _ in SECOND_FILE) + b"\n")
    (folder / "c.jsonl").write_bytes(b"\r".join(line for line, _ in CR_ONLY_FILE) + b"\r")
    (folder / "empty.jsonl").write_bytes(b"")
    cfg = nightly_cfg("QQ", ingest={"max_quarantine_share": 1.0})
    summary = pipeline.run(spark, lake, "ingest_events", "QQ", DS, cfg)
    expected = [r for _, r in LINES + SECOND_FILE + CR_ONLY_FILE]
    assert summary["lines_read"] == len(expected) == summary["valid"] + summary["quarantined"]
    assert summary["valid"] == expected.count(None)
    quarantine = tables.read_slice(spark, lake.table("bronze/events_quarantine"), "QQ", DS).collect()
    got = sorted(r.reason for r in quarantine)
    assert got == sorted(r for r in expected if r)
    assert all(r.raw is not None and r.source_file in ("a.jsonl", "b.jsonl") for r in quarantine)
    valid = {r.event_id for r in tables.read_slice(spark, lake.table("bronze/events"), "QQ", DS).collect()}
    assert valid == {
        *("ok-1", "ok-2", "dup-in-file", "ok-3", "report-1", "float-written", "bom", "real-\ufffd"),
        *("bracket", "cr-0", "cr-1", "cr-2"),
    }


def decision(**overrides):
    base = {
        "decision_id": "d-ok",
        "item_id": "v1",
        "region": "QQ",
        "decided_ts": "2026-11-25T10:00:00Z",
        "decision": "removed",
        "policy": "spam",
        "reviewer": "r-1",
    }
    base.update(overrides)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


DECISION_LINES = [
    (decision(decision_id="ok-1"), None),
    (decision(decision_id="ok-2", decision="approved", policy="none", reviewer="auto"), None),
    (
        decision(
            decision_id="ok-3", decision="restricted", policy="hate", decided_ts="2026-11-25T08:00:00+05:30"
        ),
        None,
    ),
    (b'{"decision_id": "cut', "invalid_json"),
    (decision(decision_id="no-item", item_id=...), "missing_item_id"),
    (decision(decision_id="maybe", decision="maybe"), "unknown_decision"),
    (decision(decision_id="odd-policy", policy="rudeness"), "unknown_policy"),
    (decision(decision_id="approved-spam", decision="approved", policy="spam"), "policy_mismatch"),
    (decision(decision_id="removed-none", policy="none"), "policy_mismatch"),
    (decision(decision_id="no-zone", decided_ts="2026-11-25 10:00:00"), "invalid_timestamp"),
    (decision(decision_id="elsewhere", region="ZZ"), "region_mismatch"),
    (decision(decision_id="next-week", decided_ts="2026-12-02T10:00:00Z"), "timestamp_out_of_window"),
    (decision(decision_id="ok-1"), "duplicate_decision_id"),
    (decision(decision_id="extra", note="x"), "unknown_field"),
]


def test_decisions_with_bad_lines_are_quarantined_and_counts_balance(spark, tmp_path):
    lake = config.Lake(tmp_path)
    folder = lake.landing("moderation", "QQ", DS)
    folder.mkdir(parents=True)
    (folder / "decisions.jsonl").write_bytes(b"\n".join(line for line, _ in DECISION_LINES) + b"\n")
    cfg = nightly_cfg("QQ", ingest={"max_quarantine_share": 1.0})
    summary = pipeline.run(spark, lake, "ingest_moderation", "QQ", DS, cfg)
    expected = [r for _, r in DECISION_LINES]
    assert summary["lines_read"] == len(expected) == summary["valid"] + summary["quarantined"]
    quarantine = tables.read_slice(spark, lake.table("bronze/moderation_quarantine"), "QQ", DS).collect()
    assert sorted(r.reason for r in quarantine) == sorted(r for r in expected if r)
    valid = tables.read_slice(spark, lake.table("bronze/moderation_decisions"), "QQ", DS).collect()
    assert {r.decision_id for r in valid} == {"ok-1", "ok-2", "ok-3"}
    # a re-delivery on the next day is a duplicate, not a second decision
    nxt = lake.landing("moderation", "QQ", "2026-11-26")
    nxt.mkdir(parents=True)
    (nxt / "d.jsonl").write_bytes(decision(decision_id="ok-1", decided_ts="2026-11-26T01:00:00Z") + b"\n")
    again = pipeline.run(spark, lake, "ingest_moderation", "QQ", "2026-11-26", cfg)
    assert again["quarantine_reasons"] == {"duplicate_decision_id": 1}


def test_a_night_without_a_moderation_delivery_says_so(spark, tmp_path):
    lake = config.Lake(tmp_path)
    summary = pipeline.run(spark, lake, "ingest_moderation", "QQ", DS, nightly_cfg("QQ"))
    assert summary["valid"] == 0 and "no moderation delivery" in summary["note"]


def test_duplicates_across_days_are_quarantined(spark, tmp_path):
    lake = config.Lake(tmp_path)
    cfg = nightly_cfg("QQ", ingest={"max_quarantine_share": 1.0})
    for ds, ids in (("2026-11-24", ["x1", "x2"]), (DS, ["x2", "x3"])):
        folder = lake.landing("events", "QQ", ds)
        folder.mkdir(parents=True)
        (folder / "a.jsonl").write_bytes(
            b"\n".join(ev(event_id=i, event_ts=f"{ds}T10:00:00Z") for i in ids) + b"\n"
        )
        pipeline.run(spark, lake, "ingest_events", "QQ", ds, cfg)
    reasons = [
        r.reason for r in tables.read_slice(spark, lake.table("bronze/events_quarantine"), "QQ", DS).collect()
    ]
    assert reasons == ["duplicate_event_id"]


def test_too_much_quarantine_fails_without_touching_bronze(spark, tmp_path):
    lake = config.Lake(tmp_path)
    folder = lake.landing("events", "QQ", DS)
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_bytes(b"garbage\n" * 9 + ev(event_id="fine") + b"\n")
    with pytest.raises(NightfeedError, match=r"9 of 10 lines quarantined"):
        pipeline.run(spark, lake, "ingest_events", "QQ", DS, nightly_cfg("QQ"))
    assert tables.read_slice(spark, lake.table("bronze/events_quarantine"), "QQ", DS).count() == 9
    assert not tables.exists(lake.table("bronze/events"))


def test_a_catalog_with_too_many_bad_lines_fails_like_events(spark, tmp_path):
    lake = config.Lake(tmp_path)
    events = lake.landing("events", "QQ", DS)
    events.mkdir(parents=True)
    (events / "a.jsonl").write_bytes(ev(event_id="fine") + b"\n")
    items = lake.landing("items", "QQ", DS)
    items.mkdir(parents=True)
    item = {"item_id": "v1", "creator_id": "c1", "region": "QQ", "duration_ms": 1000}
    item |= {"created_ts": "2026-11-20T00:00:00Z", "moderation_status": "approved"}
    (items / "items.jsonl").write_text(json.dumps(item) + "\n" + "{broken\n" * 9)
    with pytest.raises(NightfeedError, match=r"bronze/items QQ 2026-11-25: 9 of 10 lines quarantined"):
        pipeline.run(spark, lake, "ingest_events", "QQ", DS, nightly_cfg("QQ"))
    assert tables.read_slice(spark, lake.table("bronze/items_quarantine"), "QQ", DS).count() == 9
    assert not tables.exists(lake.table("bronze/items"))


def test_empty_delivery_ingests_nothing_and_balances(spark, tmp_path):
    lake = config.Lake(tmp_path)
    folder = lake.landing("events", "QQ", DS)
    folder.mkdir(parents=True)
    (folder / "empty.jsonl").write_bytes(b"")
    summary = pipeline.run(spark, lake, "ingest_events", "QQ", DS, nightly_cfg("QQ"))
    assert summary["lines_read"] == summary["valid"] == summary["quarantined"] == 0


def test_a_truncated_compressed_file_is_a_clear_error_and_writes_nothing(spark, tmp_path):
    """Spark cannot read a cut-off gzip file: the stage names the file and its cause, not a stack trace."""
    import gzip

    lake = config.Lake(tmp_path)
    folder = lake.landing("events", "QQ", DS)
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_bytes(ev(event_id="fine") + b"\n")
    packed = gzip.compress(b"\n".join(ev(event_id=f"z{i}") for i in range(200)) + b"\n")
    (folder / "b.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(
        NightfeedError, match=r"cannot read landing file \S+/b\.jsonl\.gz \(java\.io\.EOFException"
    ):
        pipeline.run(spark, lake, "ingest_events", "QQ", DS, nightly_cfg("QQ"))
    assert not tables.exists(lake.table("bronze/events"))
    assert not tables.exists(lake.table("bronze/events_quarantine"))


def test_the_command_line_says_a_truncated_file_in_one_line_without_a_stack_trace(tmp_path):
    """What an operator sees: `nightfeed stage ingest_events` on a cut-off gzip prints its one error
    line, and Spark's task failure (a Java stack trace of ~45 lines) stays off stderr."""
    import gzip
    import os
    import subprocess
    import sys

    folder = config.Lake(tmp_path).landing("events", "QQ", DS)
    folder.mkdir(parents=True)
    packed = gzip.compress(b"\n".join(ev(event_id=f"z{i}") for i in range(2000)) + b"\n")
    (folder / "b.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    run = subprocess.run(
        [sys.executable, "-m", "nightfeed.cli.main", "stage", "ingest_events", "--region", "QQ", "--ds", DS],
        capture_output=True,
        text=True,
        env={**os.environ, "NIGHTFEED_LAKE": str(tmp_path), "NIGHTFEED_VERBOSE": "0"},
        timeout=300,
    )
    errors = [line for line in run.stderr.splitlines() if not line.startswith("WARNING: Using incubator")]
    assert run.returncode == 2
    assert (
        len(errors) == 1
        and errors[0].startswith("error: ingest bronze/events QQ")
        and "b.jsonl.gz" in errors[0]
    )
