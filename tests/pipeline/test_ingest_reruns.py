"""A rerun after the landing files were cleaned up keeps what was ingested; an empty delivery is
still an empty slice."""

import json
import shutil

from helpers import nightly_cfg
from nightfeed import pipeline
from nightfeed.lake.tables import LakeTables

REGION, DS = "QR", "2026-11-25"


def _deliver(lake, kind: str, rows: list[dict]) -> None:
    folder = lake.landing(kind, REGION, DS)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-0.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


EVENT = {
    "user_id": "u1",
    "item_id": "v1",
    "event_type": "play",
    "event_ts": f"{DS}T10:00:00Z",
    "region": REGION,
}
DECISION = {
    "decision_id": "d1",
    "item_id": "v1",
    "region": REGION,
    "decided_ts": f"{DS}T10:00:00Z",
    "decision": "removed",
    "policy": "spam",
    "reviewer": "r1",
}


def test_a_missing_landing_folder_keeps_the_ingested_slice_and_an_empty_delivery_empties_it(spark, lake):
    t, cfg = LakeTables(spark, lake.root), nightly_cfg(REGION)
    _deliver(lake, "events", [{**EVENT, "event_id": f"e{i}", "watch_ms": 1000 + i} for i in range(3)])
    _deliver(lake, "moderation", [DECISION])
    pipeline.run(spark, lake, "ingest_events", REGION, DS, cfg)
    pipeline.run(spark, lake, "ingest_moderation", REGION, DS, cfg)
    shutil.rmtree(lake.root / "landing")  # landing files cleaned up after the night

    events = pipeline.run(spark, lake, "ingest_events", REGION, DS, cfg)
    decisions = pipeline.run(spark, lake, "ingest_moderation", REGION, DS, cfg)
    assert events["kept_rows"] == 3 and "kept as ingested before" in events["note"]
    assert decisions["kept_rows"] == 1 and "kept as ingested before" in decisions["note"]
    assert t.slice_rows("bronze/events", REGION, DS) == 3
    assert t.slice_rows("bronze/moderation_decisions", REGION, DS) == 1

    _deliver(lake, "moderation", [])  # delivered, and empty: the day had no decisions after all
    assert pipeline.run(spark, lake, "ingest_moderation", REGION, DS, cfg)["lines_read"] == 0
    assert t.slice_rows("bronze/moderation_decisions", REGION, DS) == 0
