"""Review decisions applied to a catalog snapshot older than the night."""

import datetime as dt

from nightfeed.ingest.moderation import with_later_decisions

T = dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)


def test_the_latest_decision_sets_the_status_and_undecided_videos_keep_theirs(spark):
    catalog = spark.createDataFrame(
        [
            ("v1", "c1", "approved"),
            ("v2", "c1", "approved"),
            ("v3", "c2", "pending"),
            ("v4", "c2", "pending"),
        ],
        "item_id string, creator_id string, moderation_status string",
    )
    decisions = spark.createDataFrame(
        [
            ("v1", T, "removed"),
            ("v3", T, "approved"),
            ("v3", T + dt.timedelta(hours=2), "restricted"),  # the later decision wins
            ("v4", T, "approved"),
            ("v4", T, "removed"),  # same instant: the stricter one
            ("v9", T, "removed"),  # not in the catalog: adds nothing
        ],
        "item_id string, decided_ts timestamp, decision string",
    )
    out = with_later_decisions(catalog, decisions)
    assert out.columns == catalog.columns
    assert {r.item_id: r.moderation_status for r in out.collect()} == {
        "v1": "removed",
        "v2": "approved",
        "v3": "restricted",
        "v4": "removed",
    }
