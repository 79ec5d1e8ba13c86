"""The morning report's charts on hand-built histories: a day without data draws a gap, not an error."""

import numpy as np
import pandas as pd
import pytest

from nightfeed.reports.charts import CHARTS, chart_svg
from nightfeed.reports.morning import render_night


def history() -> pd.DataFrame:
    """Three days: one with no events, one with events and quarantine, one with no volume row."""
    return pd.DataFrame(
        {
            "ds": ["2026-11-20", "2026-11-21", "2026-11-22"],
            "events": [0.0, 100.0, np.nan],
            "quarantined": [0.0, 7.0, np.nan],
            "model_ndcg": [np.nan, 0.3, 0.31],
            "popularity_ndcg": [np.nan, 0.2, 0.2],
            "model_gauc": [np.nan, np.nan, 0.62],
            "popularity_gauc": [np.nan, np.nan, 0.55],
            "model_watch_ndcg": [np.nan, np.nan, 0.7],
            "popularity_watch_ndcg": [np.nan, np.nan, 0.6],
            "ranker_gauc": [np.nan, np.nan, 0.7],
            "ranker_cf_score_gauc": [np.nan, np.nan, 0.6],
            "ranker_watch_ndcg": [np.nan, np.nan, 0.75],
            "ranker_cf_score_watch_ndcg": [np.nan, np.nan, 0.7],
            "catalog_coverage": [np.nan, np.nan, 0.5],
            "creator_exposure_gini": [np.nan, np.nan, 0.7],
            "new_creator_slot_share": [np.nan, np.nan, 0.05],
            "new_creator_reach": [np.nan, np.nan, 0.3],
        }
    )


@pytest.mark.parametrize("kind, title", CHARTS)
def test_every_chart_draws_with_missing_and_empty_days(kind, title):
    for rows in (history(), history().iloc[:1]):
        svg = chart_svg(rows, kind, title)
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    empty = "no values for these days yet" in chart_svg(history().iloc[:1], kind, title)
    assert empty == (kind != "volume"), "day one has events but no model yet"


def test_a_skipped_check_is_shown_as_skipped_not_failed():
    checks = [
        {
            "suite": "events",
            "check": "volume_vs_trailing_7d",
            "severity": "fail",
            "status": "skipped",
            "reason": "r1",
        },
        {
            "suite": "features",
            "check": "users_within_band",
            "severity": "warn",
            "status": "failed",
            "reason": "r2",
        },
        {"suite": "feeds", "check": "has_feed", "severity": "fail", "status": "failed", "reason": "r3"},
    ]
    region = {
        "region": "TT",
        "stages": [],
        "volumes": {"events": 1, "quarantined": 0, "items": 1, "items_quarantined": 0},
        "checks": checks,
        "quality_status": "failed",
        "model": {},
        "health": {},
        "history": history(),
    }
    page = render_night("2026-11-21", [region])
    rows = [row for row in page.split("<tr>") if "<td>events</td>" in row or "<td>f" in row]
    assert [row.split('class="badge ')[1].split('"')[0] for row in rows] == ["skipped", "warn", "failed"]


def night_region(model: dict, health: dict) -> dict:
    """One region of a night's page with no stages or checks, this model and these health metrics."""
    return {
        "region": "TT",
        "stages": [],
        "volumes": {"events": 1, "quarantined": 0, "items": 1, "items_quarantined": 0},
        "checks": [],
        "quality_status": "passed",
        "model": model,
        "health": health,
        "history": history(),
    }


def test_counts_are_whole_numbers_and_model_metrics_are_in_words():
    model = {
        "model_version": "2026-11-21.als.x",
        "model_type": "als",
        "metrics": {"model_gauc": 0.63, "popularity_gauc": 0.54, "model_watch_ndcg@10": 0.7},
        "change": {"model_gauc": 0.01},
    }
    region = night_region(model, {"users": 1874.0, "slots": 93700.0, "catalog_coverage": 0.5})
    page = render_night("2026-11-21", [region])
    assert ">1,874<" in page and ">93,700<" in page and "1,874.0000" not in page
    assert ">0.5000<" in page, "shares keep their decimals"
    assert "Tells the videos viewers played from those they skipped (GAUC" in page
    assert "Puts the most-watched videos first (watch-time nDCG@10" in page
    gauc_row = page.split("(GAUC")[1].split("</tr>")[0]
    assert [c.split("<")[0] for c in gauc_row.split("'num'>")[1:]] == ["0.6300", "+0.0100", "0.5400"]


def test_the_ranker_table_shows_its_heads_and_its_order_against_the_cf_score():
    health = {
        "users": 10.0,
        "source_share_covis": 0.1,
        "ranker_like_validation_gauc": 0.71,
        "ranker_skip_validation_gauc": 0.74,
        "ranker_validation_gauc": 0.69,
        "ranker_validation_gauc_change": 0.01,
        "ranker_gauc": 0.68,
        "ranker_cf_score_gauc": 0.61,
    }
    region = night_region({}, health)
    page = render_night("2026-11-21", [region])
    ranker = page.split("<h3>Ranker</h3>")[1].split("<h3>")[0]
    assert "<td>like</td><td class='num'>0.7100</td>" in ranker and "<td>skip</td>" in ranker
    gauc_row = ranker.split("(GAUC")[1].split("</tr>")[0]
    assert [c.split("<")[0] for c in gauc_row.split("'num'>")[1:]] == ["0.6800", "0.6100", "0.6900"]
    assert "co-watched with the viewer" in page, "every retriever's share of slots in words"
    assert "ranker_gauc" not in page.split("<h3>Feed health</h3>")[1], "ranker metrics stay in their table"


def test_a_charts_data_stays_below_its_legend():
    import matplotlib.pyplot as plt

    from nightfeed.reports.charts import HEADROOM, headroom

    fig, ax = plt.subplots()
    headroom(ax, [10.0, 250.0, np.nan])
    assert ax.get_ylim() == (0.0, 250.0 * (1 + HEADROOM))
    headroom(ax, [0.2], least=1.0)
    assert ax.get_ylim()[1] == 1 + HEADROOM
    plt.close(fig)
