import dataclasses
import json

import pytest

from helpers import TINY_PLATFORM
from nightfeed.core.errors import NightfeedError
from nightfeed.synthetic import landing as synthetic_landing
from nightfeed.synthetic import world as synthetic


def test_a_day_is_deterministic_and_independent_of_other_days(tmp_path):
    a = synthetic.events(TINY_PLATFORM, 1, "US", "2026-11-25")
    synthetic.events(TINY_PLATFORM, 1, "US", "2026-11-24")
    assert a.equals(synthetic.events(TINY_PLATFORM, 1, "US", "2026-11-25"))
    assert not a.equals(synthetic.events(TINY_PLATFORM, 2, "US", "2026-11-25"))


def test_events_follow_the_landing_contract():
    evs = synthetic.events(TINY_PLATFORM, 1, "BR", "2026-11-25").to_dict("records")
    assert evs and len({e["event_id"] for e in evs}) == len(evs)
    for e in evs:
        assert set(e) == {"event_id", "user_id", "item_id", "event_type", "event_ts", "watch_ms", "region"}
        assert e["region"] == "BR" and e["event_type"] in {
            "impression",
            "play",
            "finish",
            "like",
            "share",
            "comment",
            "follow",
            "skip",
            "report",
        }


def test_catalog_has_new_items_daily_and_moderation():
    cat = synthetic.catalog(TINY_PLATFORM, 1, "US", "2026-11-25")
    prev = synthetic.catalog(TINY_PLATFORM, 1, "US", "2026-11-24")
    assert set(cat.ids) - set(prev.ids), "new videos every day"
    assert {"approved", "removed"} <= set(cat.status) or {"approved", "restricted"} <= set(cat.status)


def test_write_day_lands_malformed_lines(tmp_path):
    out = synthetic_landing.write_day(
        tmp_path, dataclasses.replace(TINY_PLATFORM, malformed_share=0.1), 1, "US", "2026-11-25"
    )
    lines = [
        l
        for f in sorted((tmp_path / "landing/events/region=US/ds=2026-11-25").glob("*.jsonl"))
        for l in f.read_text().splitlines()
    ]
    assert len(lines) == out["event_lines"]
    bad = 0
    for l in lines:
        try:
            e = json.loads(l)
            bad += e.get("region") != "US" or "user_id" not in e or e["event_type"] == "hover"
        except json.JSONDecodeError:
            bad += 1
    assert bad > 0


def test_generation_never_replaces_a_real_delivery(tmp_path):
    """A lake without the synthetic marker keeps its deliveries: generating into it is refused
    unless the day's landing folders are empty; a new lake is marked synthetic and regenerates."""
    real = tmp_path / "real"
    delivered = real / "landing/events/region=US/ds=2026-11-25/part-0.jsonl"
    delivered.parent.mkdir(parents=True)
    delivered.write_text('{"event_id": "real"}\n')
    with pytest.raises(
        NightfeedError, match=r"refusing to generate .*landing/events/region=US/ds=2026-11-25"
    ):
        synthetic_landing.write_day(real, TINY_PLATFORM, 1, "US", "2026-11-25")
    assert delivered.read_text() == '{"event_id": "real"}\n'
    synthetic_landing.write_day(real, TINY_PLATFORM, 1, "US", "2026-11-24")  # empty folders: allowed
    assert not synthetic_landing.is_synthetic(real)

    new = tmp_path / "new"
    synthetic_landing.write_day(new, TINY_PLATFORM, 1, "US", "2026-11-25")
    assert synthetic_landing.is_synthetic(new)
    synthetic_landing.write_day(new, TINY_PLATFORM, 1, "US", "2026-11-25")  # a synthetic lake regenerates


def test_make_demo_uses_its_own_lake_unless_named_on_the_command_line(monkeypatch):
    """An operator's NIGHTFEED_LAKE (a real lake) is not where `make demo` writes: LAKE=... is."""
    import subprocess

    from helpers import ROOT

    show = ["make", "-s", "-C", str(ROOT), "--eval", "show-lake: ; @echo $$NIGHTFEED_LAKE", "show-lake"]
    monkeypatch.setenv("NIGHTFEED_LAKE", "/srv/real-lake")
    assert subprocess.run(show, capture_output=True, text=True, check=True).stdout.strip() == str(
        ROOT / "lakehouse"
    )
    named = subprocess.run([*show, "LAKE=/tmp/other"], capture_output=True, text=True, check=True)
    assert named.stdout.strip() == "/tmp/other"
