"""The morning report: one page per night covering every region — how each stage went, volumes
and quarantine, failed or warned checks, the model and its metrics, feed health — with charts of
the last 14 days. Data in, HTML out (no I/O); charts are matplotlib SVG inlined in the page, so
it needs no network. Output is byte-identical for the same data (fixed SVG ids, no dates).
"""

from __future__ import annotations

import html
import io

import pandas as pd

from nightfeed.reports.quality_page import STYLE, badge

CHARTS = (
    ("volume", "Events ingested and quarantine share"),
    ("ndcg", "Offline nDCG: live model vs popularity"),
    ("coverage", "Catalog coverage and creator exposure Gini"),
    ("new_creators", "New creators: share of feed slots and reach"),
)
EXTRA_STYLE = (
    ".charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:1rem}"
    "figure{margin:0;border:1px solid #e4e7eb;border-radius:6px;padding:.4rem}"
    "figure svg{width:100%;height:auto}.num{text-align:right;font-variant-numeric:tabular-nums}"
    "@media (max-width:800px){.charts{grid-template-columns:1fr}}"
)


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


def chart_svg(history: pd.DataFrame, kind: str, title: str) -> str:
    """One 14-day chart of a region as inline SVG. `history`: one row per ds with columns events,
    quarantined, model_ndcg, popularity_ndcg, catalog_coverage, creator_exposure_gini,
    new_creator_slot_share, new_creator_reach (NaN where a day has no value)."""
    fig, ax = figure(5.6, 2.9)
    days = [d[5:] for d in history["ds"]]  # MM-DD
    x = range(len(days))
    if kind == "volume":
        ax.bar(x, history["events"], color="#93c5fd", label="events ingested")
        ax.set_ylabel("events per day")
        share = ax.twinx()
        total = history["events"] + history["quarantined"]
        share.plot(
            x,
            100 * history["quarantined"] / total.where(total > 0),
            "o-",
            color="#dc2626",
            label="quarantined (% of lines)",
        )
        share.set_ylabel("quarantined, % of lines")
        shares = (100 * history["quarantined"] / total.where(total > 0)).fillna(0.0)
        share.set_ylim(0, max(1.0, float(shares.max()) if len(shares) else 0.0) * 1.3)
        share.legend(loc="upper right", fontsize=8)
    elif kind == "ndcg":
        ax.plot(x, history["model_ndcg"], "o-", color="#2563eb", label="live model")
        ax.plot(x, history["popularity_ndcg"], "s--", color="#6b7280", label="popularity")
        ax.set_ylabel("nDCG@k, next-day holdout")
    elif kind == "coverage":
        ax.plot(x, history["catalog_coverage"], "o-", color="#059669", label="catalog coverage")
        ax.plot(x, history["creator_exposure_gini"], "s-", color="#d97706", label="creator exposure Gini")
        ax.set_ylabel("share (0–1)")
        ax.set_ylim(0, 1.05)
    else:
        ax.plot(x, 100 * history["new_creator_slot_share"], "o-", color="#7c3aed", label="share of slots")
        ax.plot(x, 100 * history["new_creator_reach"], "s--", color="#db2777", label="new creators reached")
        ax.set_ylabel("%")
        ax.set_ylim(bottom=0)
    if kind != "volume" and not any(pd.notna(line.get_ydata()).any() for line in ax.get_lines()):
        ax.text(
            0.5, 0.5, "no values for these days yet", transform=ax.transAxes, ha="center", color="#6b7280"
        )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("day (ds)")
    ax.set_xticks(list(x), days, rotation=45, ha="right", fontsize=7)
    ax.grid(axis="y", color="#e5e7eb")
    ax.legend(loc="upper left", fontsize=8)
    return to_svg(fig)


def render_night(ds: str, regions: list[dict]) -> str:
    """The page of one night. Each region dict: region, stages [{stage, status, seconds, error}],
    volumes {events, quarantined, items, items_quarantined}, checks [{suite, check, severity,
    status, reason}], quality_status, quality_page, model {...}, health {metric: value},
    history (DataFrame for `chart_svg`)."""
    parts = [
        f"<h1>nightfeed — night of {html.escape(ds)}</h1>",
        "<p class='meta'><a href='../../index.html'>all nights</a></p>",
    ]
    parts.append(
        "<table><tr><th>region</th><th>stages</th><th>wall s</th><th>events</th>"
        "<th>quarantined</th><th>quality</th></tr>"
    )
    for r in regions:
        failed = [s for s in r["stages"] if s["status"] != "ok"]
        state = "failed" if failed else ("passed" if r["stages"] else "missing")
        parts.append(
            f"<tr><td><a href='#{html.escape(r['region'])}'>{html.escape(r['region'])}</a></td>"
            f"<td>{badge(state)} {len(r['stages']) - len(failed)}/{len(r['stages'])} ok</td>"
            f"<td class='num'>{sum(s['seconds'] for s in r['stages']):.1f}</td>"
            f"<td class='num'>{r['volumes']['events']:,}</td>"
            f"<td class='num'>{r['volumes']['quarantined']:,}</td>"
            f"<td>{badge(r['quality_status'])}</td></tr>"
        )
    parts.append("</table>")
    for r in regions:
        parts.append(_region_section(r))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
        f"content='width=device-width, initial-scale=1'><title>nightfeed {html.escape(ds)}</title>"
        f"<style>{STYLE}{EXTRA_STYLE}</style></head><body>{''.join(parts)}</body></html>\n"
    )


def _region_section(r: dict) -> str:
    region = html.escape(r["region"])
    out = [f"<h2 id='{region}'>{region}</h2>"]
    out.append("<table><tr><th>stage</th><th>status</th><th class='num'>wall s</th><th>note</th></tr>")
    for s in r["stages"]:
        out.append(
            f"<tr><td>{html.escape(s['stage'])}</td>"
            f"<td>{badge('passed' if s['status'] == 'ok' else 'failed')}</td>"
            f"<td class='num'>{s['seconds']:.1f}</td><td>{html.escape(s.get('error') or '')}</td></tr>"
        )
    v = r["volumes"]
    out.append(
        f"</table><p>Read {v['events']:,} events and {v['items']:,} catalog rows; quarantined "
        f"{v['quarantined']:,} event lines and {v['items_quarantined']:,} catalog lines.</p>"
    )
    link = f" (<a href='{html.escape(r['quality_page'])}'>quality page</a>)" if r.get("quality_page") else ""
    bad = [c for c in r["checks"] if c["status"] != "passed"]
    out.append(f"<h3>Checks {badge(r['quality_status'])}{link}</h3>")
    if bad:
        out.append("<table><tr><th>suite</th><th>check</th><th>status</th><th>reason</th></tr>")
        out += [
            f"<tr><td>{html.escape(c['suite'])}</td><td>{html.escape(c['check'])}</td>"
            f"<td>{badge(_check_status(c))}</td>"
            f"<td>{html.escape(str(c.get('reason') or ''))}</td></tr>"
            for c in bad
        ]
        out.append("</table>")
    else:
        out.append("<p>No check failed or warned.</p>")
    out.append(_model_table(r["model"]))
    out.append(_health_table(r["health"]))
    history = r["history"]
    out.append("<div class='charts'>")
    for kind, title in CHARTS:
        out.append(f"<figure data-chart='{kind}'>{chart_svg(history, kind, title)}</figure>")
    out.append("</div>")
    return "".join(out)


def _check_status(check: dict) -> str:
    """skipped (nothing to check against yet), warn (a warn-severity check failed) or failed."""
    if check["status"] == "skipped":
        return "skipped"
    return "warn" if check["severity"] == "warn" else "failed"


def _model_table(model: dict) -> str:
    if not model.get("model_version"):
        return "<h3>Model</h3><p>No model registered for this night.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td class='num'>{value:.4f}</td>"
        f"<td class='num'>{_signed(model['change'].get(name))}</td></tr>"
        for name, value in sorted(model["metrics"].items())
    )
    note = f"<p>{html.escape(model['note'])}</p>" if model.get("note") else ""
    return (
        f"<h3>Model</h3><p><code>{html.escape(model['model_version'])}</code> "
        f"({html.escape(model['model_type'])}); gate: {html.escape(model.get('gate', 'n/a'))}.</p>{note}"
        "<table><tr><th>offline metric (next-day holdout)</th><th class='num'>value</th>"
        f"<th class='num'>vs previous day</th></tr>{rows}</table>"
    )


def _health_table(health: dict) -> str:
    if not health:
        return "<h3>Feed health</h3><p>No feed health metrics for this night.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(m)}</td><td class='num'>{v:,.4f}</td></tr>"
        for m, v in sorted(health.items())
        if not (m.startswith("model_") or m.startswith("popularity_"))
    )
    return f"<h3>Feed health</h3><table><tr><th>metric</th><th class='num'>value</th></tr>{rows}</table>"


def _signed(value) -> str:
    return "" if value is None or pd.isna(value) else f"{value:+.4f}"


def render_index(nights: list[tuple[str, list[str], str]]) -> str:
    """The list of nights, newest first: (ds, regions, overall status)."""
    rows = "".join(
        f"<tr><td><a href='runs/ds={html.escape(ds)}/index.html'>{html.escape(ds)}</a></td>"
        f"<td>{html.escape(', '.join(regions))}</td><td>{badge(status)}</td></tr>"
        for ds, regions, status in sorted(nights, reverse=True)
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>nightfeed reports</title>"
        f"<style>{STYLE}</style></head><body><h1>nightfeed — morning reports</h1>"
        "<p class='meta'><a href='quality/index.html'>data quality pages</a></p>"
        f"<table><tr><th>night</th><th>regions</th><th>stages</th></tr>{rows}</table></body></html>\n"
    )
