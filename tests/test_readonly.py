"""Read-only looks with delta-rs (no Spark) on a hand-built published lake: they agree with what
the Spark side wrote, and the CLI commands that use them never start a JVM."""

import json
import subprocess
import sys

import pytest

from nightfeed.core.errors import NightfeedError
from nightfeed.lake import readonly
from nightfeed.reports import text_tables


def test_live_feed_size_reads_the_pointer_version(published):
    out = readonly.live_feed_size(published.root, "US")
    assert (out["live_ds"], out["feeds_table_version"], out["rows"], out["users"]) == ("2026-11-25", 2, 2, 1)


def test_user_feed_live_and_by_ds(published):
    live = readonly.user_feed(published.root, "US", "b")
    assert [(r["rank"], r["item_id"]) for r in live["items"]] == [(1, "i1"), (2, "i2")]
    assert live["feeds_table_version"] == 2
    assert readonly.user_feed(published.root, "US", "c", ds="2026-11-25")["items"][0]["model_version"] == "m3"
    with pytest.raises(NightfeedError, match="user c has no feed in region US ds 2026-11-25"):
        readonly.user_feed(published.root, "US", "c")  # c is only in the rewrite, not in version 2
    text = text_tables.format_feed(live)
    assert text.splitlines()[0] == "live feed of user b in US (ds 2026-11-25, 2 items)"
    assert text.splitlines()[2].split() == ["1", "i1", "1.0000", "cf", "m2"]


def test_ids_with_terminal_escapes_are_printed_escaped():
    """An id carrying ANSI/OSC sequences (ESC [ 2J clears the screen, ESC ] 0 ; ... BEL retitles the
    terminal) is shown as escapes in the tables and notes, never sent to the terminal raw."""
    hostile = "u1\x1b[2J\x1b]0;owned\x07\r\x9b31m"
    feed = {"user_id": hostile, "region": "US", "ds": "2026-11-25", "feeds_table_version": 1}
    feed["items"] = [{"rank": 1, "item_id": hostile, "score": 1.0, "source": "cf", "model_version": "m"}]
    queue = {"region": "US", "ds": "2026-11-25", "queued": 1}
    queue["items"] = [
        {"rank": 1, "item_id": hostile, "risk_score": 0.5, "expected_views": 1.0, "priority": 0.5}
        | {"held": False, "reasons": [hostile]}
    ]
    note = text_tables.taken_down_note("2026-11-25", {"videos": 1, "feed_slots": 1, "item_ids": [hostile]})
    for text in (text_tables.format_feed(feed), text_tables.format_audit_queue(queue), note):
        assert not any(ord(c) < 32 and c != "\n" or 127 <= ord(c) < 160 for c in text)
        assert "u1\\x1b[2J\\x1b]0;owned\\x07\\r\\x9b31m" in text


def test_rollback_target_resolves_like_a_rollback(published):
    assert readonly.rollback_target(published.root, "US", None, 1, ["approved"])["live_ds"] == "2026-11-24"
    by_ds = readonly.rollback_target(published.root, "US", "2026-11-25", None, ["approved"])
    assert (by_ds["feeds_table_version"], by_ds["model_version"]) == (3, "m3")
    with pytest.raises(NightfeedError, match="published: \\['2026-11-24', '2026-11-25'\\]"):
        readonly.rollback_target(published.root, "US", "2026-01-01", None, ["approved"])
    with pytest.raises(NightfeedError, match=r"gold/feeds has no version 99: its versions are 0 \.\. 3"):
        readonly.rollback_target(published.root, "US", None, 99, ["approved"])


def _cli(lake_root, *argv) -> subprocess.CompletedProcess:
    code = (
        "import sys; from nightfeed.cli.main import main; rc = main(sys.argv[1:]); "
        "assert 'pyspark' not in sys.modules, 'a read-only command imported pyspark'; sys.exit(rc)"
    )
    env = {"NIGHTFEED_LAKE": str(lake_root), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env)


def test_read_only_commands_answer_without_spark(published):
    live = _cli(published.root, "live-feed", "--region", "US")
    assert live.returncode == 0, live.stderr
    assert json.loads(live.stdout)["rows"] == 2
    feed = _cli(published.root, "feed", "--region", "US", "--user", "b", "--json")
    assert [r["item_id"] for r in json.loads(feed.stdout)["items"]] == ["i1", "i2"]
    dry = _cli(published.root, "rollback", "--region", "US", "--to-ds", "2026-11-24", "--dry-run")
    assert json.loads(dry.stdout)["live_ds"] == "2026-11-24" and dry.stderr == ""
    assert json.loads(dry.stdout)["taken_down_since"] == {"videos": 0, "feed_slots": 0, "item_ids": []}
    assert readonly.live_pointer(published.root, "US")["live_ds"] == "2026-11-25"  # nothing moved
    negative = _cli(published.root, "rollback", "--region", "US", "--to-version", "-1")
    assert negative.returncode == 2 and "expected a whole number >= 0, got '-1'" in negative.stderr
    missing = _cli(published.root, "feed", "--region", "BR", "--user", "b")
    assert (missing.returncode, missing.stderr.strip()) == (
        2,
        "error: no live feed for region BR: nothing was published yet",
    )


def test_slice_rows_come_from_the_log_statistics(published):
    feeds = published.table("gold/feeds")
    assert readonly.slice_rows(feeds, "US", "2026-11-25") == 2  # the rewrite (version 3) replaced b by c
    assert readonly.slice_rows(feeds, "US", "2026-11-23") == 0
    assert readonly.slice_rows(feeds, "BR", "2026-11-25") == 0


def test_the_taken_down_note_counts_in_words():
    one = text_tables.taken_down_note("2026-11-23", {"videos": 1, "feed_slots": 1, "item_ids": ["v1"]})
    assert one == (
        "the feed of 2026-11-23 holds 1 video removed or restricted since (1 feed slot, e.g. v1); "
        "readers get it until the next publish"
    )
    many = text_tables.taken_down_note(
        "2026-11-23", {"videos": 7, "feed_slots": 9, "item_ids": list("abcdefg")}
    )
    assert (
        "holds 7 videos removed or restricted since (9 feed slots, e.g. a, b, c, d, e); readers get them"
        in many
    )
