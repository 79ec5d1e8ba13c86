import json

import pytest

from nightfeed.ingest import events, landing_files

DS = "2026-11-25"


def line(**overrides):
    ev = {
        "event_id": "e1",
        "user_id": "u1",
        "item_id": "v1",
        "event_type": "play",
        "event_ts": "2026-11-25T10:00:00Z",
        "watch_ms": 1000,
        "region": "US",
    }
    ev.update(overrides)
    return json.dumps({k: v for k, v in ev.items() if v is not ...}, ensure_ascii=False)


def classify(spark, raw_lines, prior_ids=None):
    lines = spark.createDataFrame(
        [(v, f"part-{i % 2}.jsonl") for i, v in enumerate(raw_lines)], "value string, source_file string"
    )
    prior = spark.createDataFrame([(i,) for i in prior_ids], "event_id string") if prior_ids else None
    result = events.classify_events(lines, "US", DS, late_tolerance_hours=6, already_ingested_ids=prior)
    valid = result.valid.collect()
    quarantine = result.quarantine.collect()
    assert len(valid) + len(quarantine) == len(raw_lines), "every line gets exactly one outcome"
    return valid, {q["raw"]: q["reason"] for q in quarantine}


CASES = [
    ('{"event_id": "e1", "user_id": "u1"', "invalid_json"),
    ("not json at all", "invalid_json"),
    ("[1, 2, 3]", "invalid_json"),
    ("   ", "blank_line"),
    (line(user_id=...), "missing_user_id"),
    (line(item_id=""), "missing_item_id"),
    (line(extra_field=1), "unknown_field"),
    (line(user_id={"nested": 1}), "wrong_type"),
    (line(item_id=["v1", "v2"]), "wrong_type"),
    (line(event_id="two") + line(event_id="objects"), "trailing_content"),
    (line(event_id="garbage") + " trailing", "trailing_content"),
    (line(event_id="closes") + "]", "trailing_content"),
    (line(event_id="closes-twice") + '], "x"]', "trailing_content"),
    (line(event_id="comma") + ", 5", "trailing_content"),
    (line(event_type="hover"), "unknown_event_type"),
    (line(event_ts="2026-11-25T10:00:00"), "invalid_timestamp"),
    (line(event_ts="25/11/2026 10:00"), "invalid_timestamp"),
    (line(watch_ms=-5), "invalid_watch_ms"),
    (line(watch_ms=12.5), "invalid_watch_ms"),
    (line(watch_ms="abc"), "invalid_watch_ms"),
    (line(region="BR"), "region_mismatch"),
    (line(event_ts="1999-01-01T00:00:00Z"), "timestamp_out_of_window"),
    (line(event_ts="2031-01-01T00:00:00+00:00"), "timestamp_out_of_window"),
]


def test_each_bad_line_is_quarantined_with_its_reason(spark):
    valid, quarantined = classify(spark, [raw for raw, _ in CASES] + [line(event_id="ok")])
    assert [r["event_id"] for r in valid] == ["ok"]
    assert quarantined == {raw: reason for raw, reason in CASES}


def test_strings_that_look_like_faults_are_valid(spark):
    """A genuine U+FFFD character, a string opening with `[` or `{`, and trailing whitespace are
    valid text, not an encoding fault, a nested value or trailing content."""
    raws = [
        line(event_id="replacement\ufffdchar"),
        line(event_id="bracket", user_id="[not a list"),
        line(event_id="brace", item_id="{not an object}"),
        line(event_id="spaces") + "   \t",
    ]
    valid, quarantined = classify(spark, raws)
    assert quarantined == {}
    assert sorted(r["event_id"] for r in valid) == ["brace", "bracket", "replacement\ufffdchar", "spaces"]


def test_every_line_ending_splits_lines_and_bad_bytes_are_invalid_encoding(spark, tmp_path):
    """LF, CRLF and a lone CR all end a line (a CR-only file is never read as one line); a line
    that is not UTF-8 is quarantined as invalid_encoding, stored readable (U+FFFD)."""
    lf, crlf, cr = (line(event_id=f"e{i}") for i in range(3))
    cr_only = "\r".join(line(event_id=f"cr{i}") for i in range(3)) + "\r"
    (tmp_path / "a.jsonl").write_bytes(f"{lf}\n{crlf}\r\n{cr}\r{cr_only}".encode())
    bad = line(event_id="latin1").encode().replace(b"latin1", b"latin\xe9")
    (tmp_path / "b.jsonl").write_bytes(bad + b"\n")
    lines = landing_files.read_lines(spark, tmp_path)
    result = events.classify_events(lines, "US", DS, late_tolerance_hours=6)
    assert sorted(r["event_id"] for r in result.valid.collect()) == ["cr0", "cr1", "cr2", "e0", "e1", "e2"]
    (q,) = result.quarantine.collect()
    assert q["reason"] == "invalid_encoding" and "latin\ufffd" in q["raw"]


def test_valid_lines_are_typed(spark):
    raws = [
        line(),
        line(event_id="e2", event_type="like", watch_ms=None, event_ts="2026-11-25T12:30:00+02:00"),
    ]
    valid, quarantined = classify(spark, raws)
    assert quarantined == {}
    by_id = {r["event_id"]: r for r in valid}
    assert by_id["e1"]["watch_ms"] == 1000 and by_id["e1"]["ds"] == DS
    assert by_id["e2"]["watch_ms"] is None
    assert by_id["e2"]["event_ts"].hour == 10  # +02:00 normalised to UTC


def test_late_arrival_within_tolerance_is_accepted(spark):
    valid, _ = classify(spark, [line(event_ts="2026-11-24T21:00:00Z")])
    assert len(valid) == 1


def test_duplicates_keep_exactly_one(spark):
    raws = [line(), line(), line(watch_ms=5)]
    valid, _ = classify(spark, raws)
    assert len(valid) == 1
    lines = spark.createDataFrame([(v, "f") for v in raws], "value string, source_file string")
    q = events.classify_events(lines, "US", DS, 6).quarantine.collect()
    assert sorted(r["reason"] for r in q) == ["duplicate_event_id", "duplicate_event_id"]


def test_event_ids_seen_on_earlier_days_are_duplicates(spark):
    valid, quarantined = classify(spark, [line(event_id="old"), line(event_id="new")], prior_ids=["old"])
    assert [r["event_id"] for r in valid] == ["new"]
    assert list(quarantined.values()) == ["duplicate_event_id"]


def test_classification_is_deterministic(spark):
    raws = [line(watch_ms=w) for w in range(5)]
    first = sorted(map(tuple, classify(spark, raws)[0]))
    assert first == sorted(map(tuple, classify(spark, raws)[0]))


def test_missing_landing_folder_is_a_clear_error(spark, tmp_path):
    from nightfeed.core.errors import NightfeedError

    with pytest.raises(NightfeedError, match="landing folder not found"):
        landing_files.read_lines(spark, tmp_path / "nope")


def test_compressed_files_are_read_and_a_subfolder_is_a_clear_error(spark, tmp_path):
    import gzip

    from nightfeed.core.errors import NightfeedError

    (tmp_path / "part-0.jsonl.gz").write_bytes(gzip.compress(b'{"a": 1}\n{"a": 2}\n'))
    (tmp_path / "part-1.jsonl").write_text('{"a": 3}\n')
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / "_temporary").mkdir()
    (tmp_path / "_temporary" / "part-9.jsonl").write_text('{"a": 9}\n')
    lines = landing_files.read_lines(spark, tmp_path).orderBy("value").collect()
    assert [(r.value, r.source_file) for r in lines] == [
        ('{"a": 1}', "part-0.jsonl.gz"),
        ('{"a": 2}', "part-0.jsonl.gz"),
        ('{"a": 3}', "part-1.jsonl"),
    ]
    (tmp_path / "late").mkdir()
    (tmp_path / "late" / "part-2.jsonl").write_text('{"a": 4}\n')
    with pytest.raises(NightfeedError, match=r"holds subfolders \['late'\]: deliver the files directly"):
        landing_files.read_lines(spark, tmp_path)


def test_empty_folder_and_empty_files_read_as_no_lines(spark, tmp_path):
    assert landing_files.read_lines(spark, tmp_path).count() == 0
    (tmp_path / "empty.jsonl").write_text("")
    assert landing_files.read_lines(spark, tmp_path).count() == 0


def test_only_a_failed_file_read_is_named_as_an_unreadable_file():
    spark_error = (
        "An error occurred while calling o491.collectToPython.\n: org.apache.spark.SparkException: "
        "[FAILED_READ_FILE.NO_HINT] Encountered error while reading file file:///lake/x/a.jsonl.gz.  "
        "SQLSTATE: KD001\n\tat org.apache...\n"
        "Caused by: java.io.EOFException: Unexpected end of input stream\n"
    )
    assert landing_files.unreadable_file(RuntimeError(spark_error)) == (
        "/lake/x/a.jsonl.gz (java.io.EOFException: Unexpected end of input stream)"
    )
    assert landing_files.unreadable_file(RuntimeError("[DIVIDE_BY_ZERO] Division by zero")) is None
