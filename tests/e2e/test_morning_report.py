"""The morning report and the feed health metrics on the tiny lake."""

import re
from html.parser import HTMLParser

from helpers import DS
from nightfeed.lake import readonly
from nightfeed.pipeline import registry
from nightfeed.pipeline.morning import build_report
from nightfeed.reports.charts import CHARTS

from .conftest import REGIONS


class Page(HTMLParser):
    """Figures (data-chart) with the SVG text inside each, and the page's headings."""

    def __init__(self):
        super().__init__()
        self.figures, self.headings, self._in, self._heading = [], [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            self._in = {"chart": attrs.get("data-chart"), "svg": 0, "text": []}
        elif tag == "svg" and self._in is not None:
            self._in["svg"] += 1
        elif tag in ("h2", "h3"):
            self._heading = ""

    def handle_endtag(self, tag):
        if tag == "figure" and self._in is not None:
            self.figures.append(self._in)
            self._in = None
        elif tag in ("h2", "h3") and self._heading is not None:
            self.headings.append(self._heading.strip())
            self._heading = None

    def handle_data(self, data):
        if self._in is not None:
            self._in["text"].append(data)
        if self._heading is not None:
            self._heading += data


def test_feed_health_metrics_are_recorded_per_region(tiny_lake):
    lake, results = tiny_lake
    for region in REGIONS:
        assert results[region]["feed_health"]["metrics"]["catalog_coverage"] > 0
        rows = readonly.region_history(lake.root, "gold/feed_metrics", region, DS, DS, ["metric", "value"])
        metrics = dict(zip(rows["metric"], rows["value"]))
        for name in (
            "catalog_coverage",
            "item_exposure_gini",
            "creator_exposure_gini",
            "new_creator_slot_share",
            "new_creator_reach",
            "creators_per_feed",
            "source_share_cf",
            "cold_start_user_share",
        ):
            assert name in metrics
        assert 0 <= metrics["creator_exposure_gini"] <= 1 and metrics["users"] > 0


def test_report_has_every_stage_and_one_chart_per_series_and_rebuilds_identically(tiny_lake):
    lake, _ = tiny_lake
    page = build_report(lake, DS)
    text = page.read_text()
    parsed = Page()
    parsed.feed(text)
    assert [h for h in parsed.headings if h in REGIONS] == list(REGIONS)
    for stage in registry.NIGHTLY:
        assert text.count(f"<td>{stage}</td>") == len(REGIONS), stage
    assert [f["chart"] for f in parsed.figures] == [kind for kind, _ in CHARTS] * len(REGIONS)
    for figure, (_, title) in zip(parsed.figures, CHARTS * len(REGIONS)):
        words = " ".join(figure["text"])
        assert figure["svg"] == 1 and title in words and "day (ds)" in words, figure["chart"]
        assert re.search(r"\d\d-\d\d", words), "dated x axis"
    assert not re.search(r"<script|<link|src=|url\((?!#)", text), "nothing loaded from elsewhere"
    index = (lake.root / "reports" / "index.html").read_text()
    assert f"runs/ds={DS}/index.html" in index and "quality/index.html" in index
    assert build_report(lake, DS).read_text() == text, "rebuilding gives the same page"
