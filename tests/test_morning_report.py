"""The morning report's charts on hand-built histories: a day without data draws a gap, not an error."""

import numpy as np
import pandas as pd
import pytest

from nightfeed.morning_report import CHARTS, chart_svg


@pytest.mark.parametrize("kind, title", CHARTS)
def test_every_chart_draws_with_missing_and_empty_days(kind, title):
    history = pd.DataFrame(
        {
            "ds": ["2026-11-20", "2026-11-21", "2026-11-22"],
            "events": [0.0, 100.0, np.nan],
            "quarantined": [0.0, 7.0, np.nan],
            "model_ndcg": [np.nan, 0.3, 0.31],
            "popularity_ndcg": [np.nan, 0.2, 0.2],
            "catalog_coverage": [np.nan, np.nan, 0.5],
            "creator_exposure_gini": [np.nan, np.nan, 0.7],
            "new_creator_slot_share": [np.nan, np.nan, 0.05],
            "new_creator_reach": [np.nan, np.nan, 0.3],
        }
    )
    for rows in (history, history.iloc[:1]):
        svg = chart_svg(rows, kind, title)
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
