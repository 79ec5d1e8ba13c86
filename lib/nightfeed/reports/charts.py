"""The reports' charts: matplotlib figures saved as deterministic, text-preserving inline SVG
(fixed ids, no dates), and the morning report's 14-day charts of a region.

Every chart keeps its data clear of its legend: the y axis gets headroom above the highest value
and the legend sits in that band, inside the axes.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

CHARTS = (
    ("volume", "Events ingested and quarantine share"),
    ("ndcg", "Offline nDCG: live model vs popularity"),
    ("next_day", "Next-day impressions: live model vs popularity"),
    ("feed_value", "Feed value: the live ranker's order vs the CF score, next day"),
    ("coverage", "Catalog coverage and creator exposure Gini"),
    ("new_creators", "New creators: share of feed slots and reach"),
)
HEADROOM = 0.45  # of the data's range, above it: the legend's band


def figure(width: float, height: float):
    """A matplotlib (figure, axes) set up for deterministic, text-preserving SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "nightfeed", "svg.fonttype": "none", "font.size": 9})
    return plt.subplots(figsize=(width, height))


def to_svg(fig) -> str:
    """The figure as an inline <svg> element (no XML prolog, no date), and closed."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = out.getvalue()
    return svg[svg.index("<svg") :]


def headroom(ax, values, floor: float = 0.0, least: float = 1.0) -> None:
    """y from `floor` to the highest value (at least `least`) plus HEADROOM of the range."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    top = max(float(finite.max()) if len(finite) else least, least)
    ax.set_ylim(floor, top + HEADROOM * (top - floor))


def chart_svg(history: pd.DataFrame, kind: str, title: str) -> str:
    """One 14-day chart of a region as inline SVG. `history`: one row per ds with columns events,
    quarantined, model_ndcg, popularity_ndcg, model_gauc, popularity_gauc, model_watch_ndcg,
    popularity_watch_ndcg, catalog_coverage, creator_exposure_gini, new_creator_slot_share,
    new_creator_reach (NaN where a day has no value)."""
    fig, ax = figure(5.6, 3.0)
    days = [d[5:] for d in history["ds"]]  # MM-DD
    x = range(len(days))
    handles = []
    if kind == "volume":
        handles.append(ax.bar(x, history["events"], color="#93c5fd", label="events ingested"))
        ax.set_ylabel("events per day")
        headroom(ax, history["events"])
        share = ax.twinx()
        total = history["events"] + history["quarantined"]
        shares = 100 * history["quarantined"] / total.where(total > 0)
        handles += share.plot(x, shares, "o-", color="#dc2626", label="quarantined (% of lines)")
        share.set_ylabel("quarantined, % of lines")
        headroom(share, shares, least=1.0)
    else:
        for column, style, color, label in LINES[kind]:
            values = history[column] * (100 if kind == "new_creators" else 1)
            handles += ax.plot(x, values, style, color=color, label=label)
        ax.set_ylabel(Y_LABELS[kind])
        columns = [c for c, *_ in LINES[kind]]
        scale = 100 if kind == "new_creators" else 1
        headroom(ax, history[columns].to_numpy() * scale, FLOOR.get(kind, 0.0), LEAST[kind])
        if not any(pd.notna(line.get_ydata()).any() for line in ax.get_lines()):
            ax.text(
                0.5, 0.4, "no values for these days yet", transform=ax.transAxes, ha="center", color="#6b7280"
            )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("day (ds)")
    ax.set_xticks(list(x), days, rotation=45, ha="right", fontsize=7)
    ax.set_xlim(-0.6, len(days) - 0.4)  # the first and last markers whole
    ax.grid(axis="y", color="#e5e7eb")
    ax.legend(handles=handles, loc="upper center", ncol=2, fontsize=7.5, frameon=False)
    return to_svg(fig)


LINES = {  # kind -> (history column, style, color, label) per line
    "ndcg": (
        ("model_ndcg", "o-", "#2563eb", "live model"),
        ("popularity_ndcg", "s--", "#6b7280", "popularity"),
    ),
    "next_day": (
        ("model_gauc", "o-", "#2563eb", "GAUC, live model"),
        ("popularity_gauc", "o--", "#93c5fd", "GAUC, popularity"),
        ("model_watch_ndcg", "s-", "#059669", "watch nDCG, live model"),
        ("popularity_watch_ndcg", "s--", "#6ee7b7", "watch nDCG, popularity"),
    ),
    "feed_value": (
        ("ranker_gauc", "o-", "#7c3aed", "GAUC, ranker"),
        ("ranker_cf_score_gauc", "o--", "#c4b5fd", "GAUC, CF score"),
        ("ranker_watch_ndcg", "s-", "#059669", "watch nDCG, ranker"),
        ("ranker_cf_score_watch_ndcg", "s--", "#6ee7b7", "watch nDCG, CF score"),
    ),
    "coverage": (
        ("catalog_coverage", "o-", "#059669", "catalog coverage"),
        ("creator_exposure_gini", "s-", "#d97706", "creator exposure Gini"),
    ),
    "new_creators": (
        ("new_creator_slot_share", "o-", "#7c3aed", "share of slots"),
        ("new_creator_reach", "s--", "#db2777", "new creators reached"),
    ),
}
FLOOR = {"next_day": 0.4, "feed_value": 0.4}  # GAUC and watch nDCG live above it (0.5 = a random order)
LEAST = {
    "ndcg": 0.1,
    "next_day": 0.9,
    "feed_value": 0.9,
    "coverage": 1.0,
    "new_creators": 5.0,
}  # the y axis reaches at least
Y_LABELS = {
    "ndcg": "nDCG@k, next-day holdout",
    "next_day": "score agreement (0.5 = random)",
    "feed_value": "score agreement (0.5 = random)",
    "coverage": "share (0–1)",
    "new_creators": "%",
}
