"""The days a `nightfeed run` covers, and clear refusals of ranges it cannot run."""

import pytest

from nightfeed.errors import NightfeedError
from nightfeed.pipeline.runner import night_dates


def test_a_range_is_every_day_in_order_across_a_month_end():
    assert night_dates(None, "2026-11-29", "2026-12-02") == [
        "2026-11-29",
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
    ]
    assert night_dates("2026-11-25", None, None) == ["2026-11-25"]
    assert night_dates(None, "2026-11-25", "2026-11-25") == ["2026-11-25"]


@pytest.mark.parametrize(
    ("ds", "first", "last", "message"),
    [
        ("2026-11-25", "2026-11-24", None, "either --ds or --from/--to"),
        (None, "2026-11-24", None, "both --from and --to"),
        (None, None, None, "give --ds"),
        (None, "2026-11-25", "2026-11-24", "--from 2026-11-25 is after --to 2026-11-24"),
    ],
)
def test_ranges_that_cannot_run_are_refused(ds, first, last, message):
    with pytest.raises(NightfeedError, match=message):
        night_dates(ds, first, last)
