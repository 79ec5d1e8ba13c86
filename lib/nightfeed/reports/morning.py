"""The morning report: one page per night covering every region — how each stage went, volumes
and quarantine, failed or warned checks, the model and its metrics, feed health — with charts of
the last 14 days. Data in, HTML out (no I/O); charts are matplotlib SVG inlined in the page, so
it needs no network. Output is byte-identical for the same data (fixed SVG ids, no dates).
"""

from __future__ import annotations

import html

import pandas as pd

from nightfeed.reports.charts import CHARTS, chart_svg
from nightfeed.reports.quality_page import STYLE, badge

EXTRA_STYLE = (
    ".charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:1rem}"
    "figure{margin:0;border:1px solid #e4e7eb;border-radius:6px;padding:.4rem}"
    "figure svg{width:100%;height:auto}.num{text-align:right;font-variant-numeric:tabular-nums}"
    "@media (max-width:800px){.charts{grid-template-columns:1fr}}"
)
# What each model metric (gold/model_metrics, without its @k) says, in the words of a reader.
METRIC_WORDS = {
    "gauc": "Tells the videos viewers played from those they skipped (GAUC, next-day impressions)",
    "xauc": "Orders played videos by how much of them was watched (XAUC, next-day impressions)",
    "watch_ndcg": "Puts the most-watched videos first (watch-time nDCG@{k}, next-day impressions)",
    "ndcg": "Finds the videos viewers engaged with the next day (nDCG@{k}, holdout)",
    "recall": "Share of the next day's videos found in the top {k} (recall@{k}, holdout)",
    "precision": "Share of the top {k} engaged with the next day (precision@{k}, holdout)",
    "map": "Mean average precision of the top {k} (MAP@{k}, holdout)",
    "coverage": "Share of the catalog it recommends to anyone (coverage)",
    "gini": "How unequally it spreads slots over videos (Gini, 0 = evenly)",
    "novelty": "How unusual its picks are (novelty, bits)",
}
# The feed health metrics (gold/feed_metrics) in plain words; counts are shown as whole numbers.
HEALTH_WORDS = {
    "users": "Viewers with a feed",
    "slots": "Feed slots written",
    "cold_start_user_share": "Share of viewers new to the model (trending feeds)",
    "catalog_coverage": "Share of the eligible catalog in any feed",
    "item_exposure_gini": "How unequally slots go to videos (Gini)",
    "creator_exposure_gini": "How unequally slots go to creators (Gini)",
    "creators_per_feed": "Distinct creators per feed, on average",
    "fresh_slot_share": "Share of slots for fresh videos",
    "new_creator_slot_share": "Share of slots for new creators",
    "new_creator_reach": "Share of new creators shown to anyone",
    "source_share_cf": "Share of slots from the CF model",
    "source_share_covis": "Share of slots from videos co-watched with the viewer's history",
    "source_share_creator": "Share of slots from creators the viewer follows or watches most",
    "source_share_fresh": "Share of slots from the fresh pass",
    "source_share_trending": "Share of slots from trending",
    "source_share_new_creator": "Share of slots from the new-creator pass",
    "audit_held_videos": "Videos held out of the feeds by the audit",
    "audit_held_benign_videos": "…of which benign (by the truth available)",
    "audit_violating_slots": "Slots of violating videos",
    "audit_violating_slots_without_holds": "Slots of violating videos without the holds",
    "audit_held_benign_slots_without_holds": "Slots benign held videos would have had",
}
COUNTS = ("users", "slots", "audit_held_videos", "audit_held_benign_videos")


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
    out.append(_ranker_table(r["health"]))
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
    metrics, change = model["metrics"], model["change"]
    names = sorted(
        {n.split("_", 1)[1] for n in metrics},
        key=lambda n: (
            list(METRIC_WORDS).index(_stem(n)) if _stem(n) in METRIC_WORDS else len(METRIC_WORDS),
            n,
        ),
    )
    rows = "".join(
        f"<tr><td>{html.escape(_words(n))}</td><td class='num'>{_value(metrics.get('model_' + n))}</td>"
        f"<td class='num'>{_signed(change.get('model_' + n))}</td>"
        f"<td class='num'>{_value(metrics.get('popularity_' + n))}</td></tr>"
        for n in names
    )
    note = f"<p>{html.escape(model['note'])}</p>" if model.get("note") else ""
    return (
        f"<h3>Model</h3><p><code>{html.escape(model['model_version'])}</code> "
        f"({html.escape(model['model_type'])}); gate: {html.escape(model.get('gate', 'n/a'))}.</p>{note}"
        "<table><tr><th>what the model does</th><th class='num'>live model</th>"
        f"<th class='num'>vs previous day</th><th class='num'>popularity</th></tr>{rows}</table>"
    )


HEADS = ("watch", "finish", "like", "share", "follow", "skip")


def _ranker_table(health: dict) -> str:
    """The ranker: each head's GAUC for its own outcome on the judged day, and the order value's
    GAUC and watch nDCG against the CF score's (next day: the ranker the live feed used)."""
    if not any(m.startswith("ranker") for m in health):
        return (
            "<h3>Ranker</h3><p>No ranker tonight: the feeds are the CF model's "
            "(ranker = none, or none trained yet).</p>"
        )
    heads = "".join(
        f"<tr><td>{head}</td><td class='num'>{_value(health.get(f'ranker_{head}_validation_gauc'))}</td></tr>"
        for head in HEADS
        if f"ranker_{head}_validation_gauc" in health
    )
    judged = sorted(
        n.removeprefix("ranker_validation_")
        for n in health
        if n.startswith("ranker_validation_") and not n.endswith("_change")
    )
    value = "".join(
        f"<tr><td>{html.escape(_words(m))}</td>"
        f"<td class='num'>{_value(health.get(f'ranker_{m}'))}</td>"
        f"<td class='num'>{_value(health.get(f'ranker_cf_score_{m}'))}</td>"
        f"<td class='num'>{_value(health.get(f'ranker_validation_{m}'))}</td></tr>"
        for m in judged
    )
    return (
        "<h3>Ranker</h3><table><tr><th>head</th>"
        "<th class='num'>GAUC for its own outcome (tonight's held-out day)</th></tr>"
        f"{heads}</table><table><tr><th>what the order does</th>"
        "<th class='num'>live ranker, next day</th><th class='num'>CF score, same impressions</th>"
        f"<th class='num'>tonight's ranker, held-out day</th></tr>{value}</table>"
    )


def _stem(name: str) -> str:
    return name.split("@", 1)[0]


def _words(name: str) -> str:
    """A metric's plain words, e.g. watch_ndcg@10 -> 'Puts the most-watched videos first (…@10 …)'."""
    k = name.split("@", 1)[1] if "@" in name else "k"
    return METRIC_WORDS.get(_stem(name), name).format(k=k)


def _value(value) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.4f}"


def _health_table(health: dict) -> str:
    if not health:
        return "<h3>Feed health</h3><p>No feed health metrics for this night.</p>"
    order = {m: k for k, m in enumerate(HEALTH_WORDS)}
    rows = "".join(
        f"<tr><td>{html.escape(HEALTH_WORDS.get(m, m))}</td><td><code>{html.escape(m)}</code></td>"
        f"<td class='num'>{_health_value(m, v)}</td></tr>"
        for m, v in sorted(health.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        if not m.startswith(("model_", "popularity_", "ranker"))
    )
    return (
        "<h3>Feed health</h3><table><tr><th>what</th><th>metric</th><th class='num'>value</th></tr>"
        f"{rows}</table>"
    )


def _health_value(name: str, value: float) -> str:
    """Counts as whole numbers (1,874), everything else with four decimals."""
    if name in COUNTS or name.endswith(("_slots", "_slots_without_holds")):
        return f"{value:,.0f}"
    return f"{value:,.4f}"


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
