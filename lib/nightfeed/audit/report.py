"""The audit page of a (region, ds): the top of the review queue with scores and reasons, how
each review order does at the capacity, and charts of precision and recall from C/4 to 4C.
Data in, HTML out (no I/O); the charts are inline SVG, so the page needs no network."""

from __future__ import annotations

import html

import pandas as pd

from nightfeed.audit.metrics import METHODS
from nightfeed.reports.charts import figure, to_svg
from nightfeed.reports.morning import EXTRA_STYLE
from nightfeed.reports.quality_page import STYLE

LABELS = {
    "model": "model (risk × expected views)",
    "fifo": "fifo (oldest first)",
    "reports": "reports (most reported first)",
    "report_rate": "report_rate (reports per view)",
}
STYLES = {
    "model": ("o-", "#2563eb"),
    "fifo": ("s--", "#6b7280"),
    "reports": ("^--", "#d97706"),
    "report_rate": ("v--", "#059669"),
}
METRIC_NAMES = ("precision_at_c", "recall_at_c", "pr_auc", "violating_views_prevented")


def curve_svg(curves: dict, what: str, capacity: int) -> str:
    fig, ax = figure(5.6, 3.0)
    for method in METHODS:
        style, color = STYLES[method]
        ax.plot(curves[method]["capacity"], curves[method][what], style, color=color, label=LABELS[method])
    ax.axvline(capacity, color="#9ca3af", linewidth=0.8, linestyle=":")
    ax.set_xlabel(f"videos reviewed (capacity C = {capacity})")
    ax.set_ylabel(what)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{what.capitalize()} at capacities C/4 .. 4C", fontsize=10)
    ax.grid(axis="y", color="#e5e7eb")
    ax.legend(fontsize=7, loc="best")
    return to_svg(fig)


def _fmt(value) -> str:
    if value is None or value != value:
        return "n/a"
    return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"


def render(
    region: str, ds: str, queue: pd.DataFrame, metrics: pd.DataFrame, curves: dict, truth: str, top: int = 50
) -> str:
    """queue: gold/audit_queue rows; metrics: method, metric, value; truth: what labels were used."""
    capacity = int(metrics.query("method == 'queue' and metric == 'capacity'")["value"].iloc[0])
    value = {(r.method, r.metric): r.value for r in metrics.itertuples()}
    head = "".join(f"<th class='num'>{m}</th>" for m in METRIC_NAMES)
    rows = "".join(
        f"<tr><td>{html.escape(LABELS[m])}</td>"
        + "".join(f"<td class='num'>{_fmt(value.get((m, k)))}</td>" for k in METRIC_NAMES)
        + "</tr>"
        for m in METHODS
    )
    rows += (
        "<tr class='ceiling'><td>best possible (knows the truth: violating first, most viewed first)</td>"
        + "".join(f"<td class='num'>{_fmt(value.get(('queue', f'best_{k}')))}</td>" for k in METRIC_NAMES)
        + "</tr>"
    )
    holds = ", ".join(
        f"{k.replace('_', ' ')}: {int(value.get(('holds', k), 0))}"
        for k in ("held", "held_violating", "held_benign")
    )
    queue = queue.sort_values("rank").head(top)
    items = "".join(
        f"<tr><td class='num'>{r.rank}</td><td>{html.escape(r.item_id)}</td>"
        f"<td class='num'>{r.risk_score:.3f}</td>"
        f"<td class='num'>{r.expected_views:,.1f}</td><td class='num'>{r.priority:,.2f}</td>"
        f"<td>{'held' if r.held else ''}</td><td>{html.escape('; '.join(r.reasons))}</td></tr>"
        for r in queue.itertuples()
    )
    charts = "".join(
        f"<figure>{curve_svg(curves, what, capacity)}</figure>" for what in ("precision", "recall")
    )
    body = (
        f"<h1>Audit queue — {html.escape(region)}, {html.escape(ds)}</h1>"
        f"<p>{int(value.get(('queue', 'videos'), 0))} videos wait for review; "
        f"capacity C = {capacity} per day. "
        f"Labels: {html.escape(truth)}. Safety holds — {holds}.</p>"
        f"<h2>Review orders at capacity C</h2><table><tr><th>order</th>{head}</tr>{rows}</table>"
        f"<div class='charts'>{charts}</div>"
        f"<h2>Top {len(queue)} of the queue</h2><table><tr><th>rank</th><th>video</th><th>risk</th>"
        f"<th>expected views (24 h)</th><th>priority</th><th>hold</th><th>reasons</th></tr>{items}</table>"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>nightfeed audit {html.escape(region)} {html.escape(ds)}</title>"
        f"<style>{STYLE}{EXTRA_STYLE}</style></head><body>{body}</body></html>"
    )
