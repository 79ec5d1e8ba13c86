"""The `nightfeed run --summary` block of each night, on hand-built stage summaries."""

from nightfeed.configuration.config import Lake
from nightfeed.pipeline.summary import print_summary


def _night(ds: str, live_ds: str) -> list[dict]:
    common = {"region": "US", "ds": ds}
    return [
        {**common, "stage": "ingest_events", "lines_read": 10, "valid": 9, "quarantined": 1}
        | {"quarantine_reasons": {"invalid_json": 1}},
        {**common, "stage": "train_model", "n_users": 3, "n_items": 4, "n_interactions": 9}
        | {"model_version": "m1", "model_type": "als"},
        {**common, "stage": "evaluate_model", "status": "skipped", "reason": "no earlier day"},
        {**common, "stage": "score_feeds", "rows_by_source": {"cf": 6}},
        {**common, "stage": "publish_feeds", "rows": 6, "users": 3, "live_ds": live_ds},
    ]


def test_each_night_says_what_it_published_and_when_a_later_night_stays_live(tmp_path, capsys):
    print_summary(_night("2026-11-24", "2026-11-25") + _night("2026-11-25", "2026-11-25"), Lake(tmp_path))
    out = capsys.readouterr().out
    assert "[US] ds=2026-11-24" in out and "[US] ds=2026-11-25" in out
    assert "offline (last-day holdout): skipped: no earlier day" in out
    assert out.count("feed rows written 6 for 3 users {'cf': 6}") == 2
    assert out.count("; the later night 2026-11-25 stays live") == 1


def test_the_next_day_line_compares_last_nights_model_with_popularity(tmp_path, capsys):
    night = _night("2026-11-25", "2026-11-25")
    night[2] = night[2] | {
        "next_day": {
            "impressions": 1234,
            "feed_of": "2026-11-24",
            "model_type": "ease",
            "metrics": {
                "ease": {"gauc": 0.64, "xauc": 0.52, "watch_ndcg@10": 0.7},
                "popularity": {"gauc": 0.54, "xauc": None, "watch_ndcg@10": 0.6},
            },
        }
    }
    print_summary(night, Lake(tmp_path))
    out = capsys.readouterr().out
    assert "next day (impressions of 2026-11-25): the feed of 2026-11-24 (ease) on 1,234 impressions: " in out
    assert "GAUC 0.6400 vs popularity 0.5400; watch_ndcg@10 0.7000 vs popularity 0.6000" in out
