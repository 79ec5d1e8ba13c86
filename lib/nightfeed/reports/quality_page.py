"""Quality reports a person reads the next morning: GX Data Docs, a summary page per run, an index.

Our pages are self-contained (inline CSS, no scripts, no CDN) so they read the same offline.
GX's own Data Docs load their styles from CDNs; we add an inline fallback stylesheet to them so
their layout holds without internet too.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from nightfeed.configuration.config import Lake

SUITES = ("events", "features", "feeds")
STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1100px;color:#1f2933;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid
#d9e2ec;padding-bottom:.3rem}
.meta{color:#52606d;margin-bottom:1.5rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.92rem}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{background:#f5f7fa;font-weight:600}
code{font-size:.85rem;word-break:break-all}
.badge{display:inline-block;padding:.15rem .6rem;border-radius:1rem;font-size:.85rem;
font-weight:600;white-space:nowrap}
.passed{background:#e3f9e5;color:#1f7a2c}.failed{background:#ffe3e3;color:#a61b1b}
.passed_with_warnings,.warn{background:#fff3c4;color:#8d6708}.skipped,.missing{background:#e4e7eb;color:#52606d}
a{color:#2563eb}
"""
GX_FALLBACK_STYLE = (
    "<style>/* nightfeed offline fallback */"
    + STYLE
    + ".container{max-width:1200px;margin:auto}.row{display:flex;flex-wrap:wrap}"
    ".col-md-2,.col-md-3{flex:0 0 22%;max-width:22%;padding-right:1rem}"
    ".col-md-9,.col-md-10{flex:1 1 70%;max-width:75%}.card{border:1px solid #e4e7eb;border-radius:6px;"
    "padding:.8rem;margin-bottom:1rem}.d-none{display:none}img{max-width:100%}</style>"
)


def badge(status: str) -> str:
    return f'<span class="badge {html.escape(status)}">{html.escape(status.replace("_", " "))}</span>'


def _page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
        f"content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def overall_status(suites: dict) -> str:
    statuses = [s.get("status", "missing") for s in suites.values()]
    if "failed" in statuses:
        return "failed"
    if "missing" in statuses:
        return "incomplete"
    if "passed_with_warnings" in statuses:
        return "passed_with_warnings"
    return "passed"


def build_data_docs(project: Path) -> Path | None:
    """Render GX Data Docs for the run's GX project (the folder the validations used), then add the
    offline stylesheet. GX keeps its files in `<project>/gx/`."""
    if not (project / "gx").exists():
        return None
    from nightfeed.quality.suites import _gx_context

    context = _gx_context(project)
    context.build_data_docs()
    site = project / "gx" / "uncommitted" / "data_docs" / "local_site"
    for page in site.rglob("*.html"):
        text = page.read_text()
        if "nightfeed offline fallback" not in text:
            page.write_text(re.sub(r"</head>", GX_FALLBACK_STYLE + "</head>", text, count=1))
    index = site / "index.html"
    return index if index.exists() else None


def _check_row(c: dict) -> str:
    """One table row of the summary page for a check result."""
    shown = "warn" if c["status"] == "failed" and c["severity"] == "warn" else c["status"]
    reason = f"<br><i>{html.escape(c['reason'])}</i>" if c.get("reason") else ""
    return (
        f"<tr><td>{html.escape(c['check'])}</td><td>{html.escape(c['severity'])}</td>"
        f"<td>{badge(shown)}</td><td>{_observed(c.get('observed'))}{reason}</td></tr>"
    )


def write_quality_report(
    lake: Lake, region: str, ds: str, quarantine: dict[str, dict[str, int]], evaluation: dict
) -> dict:
    """summary.json and summary.html of (region, ds); `evaluation` is the evaluate_model outcome."""
    base = lake.reports("quality", region, ds)
    gate_file = base / "checks" / "gate.json"
    suites = {}
    for name in SUITES:
        path = base / "checks" / f"{name}.json"
        suites[name] = json.loads(path.read_text()) if path.exists() else {"status": "missing", "checks": []}
    docs = build_data_docs(base / "gx")
    summary = {
        "region": region,
        "ds": ds,
        "status": overall_status(suites),
        "suites": {
            n: {
                "status": s["status"],
                "failed": s.get("failed", []),
                "warnings": s.get("warnings", []),
                "validation_s": s.get("seconds"),
                "checks": s.get("checks", []),
            }
            for n, s in suites.items()
        },
        "model_evaluation": evaluation,
        "promotion_gate": json.loads(gate_file.read_text()) if gate_file.exists() else None,
        "quarantine": quarantine,
        "quarantined_total": sum(sum(v.values()) for v in quarantine.values()),
        "data_docs": str(docs) if docs else None,
        "summary_html": str(base / "summary.html"),
    }
    base.mkdir(parents=True, exist_ok=True)
    (base / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    (base / "summary.html").write_text(render_summary(summary, docs, base))
    write_index(lake)
    return {
        "status": summary["status"],
        "summary_json": str(base / "summary.json"),
        "summary_html": str(base / "summary.html"),
        "data_docs": summary["data_docs"],
    }


def _observed(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, dict):
        parts = [
            f"{k}: {v if not isinstance(v, float) else round(v, 4)}"
            for k, v in value.items()
            if v not in (None, [])
        ]
        return "<code>" + html.escape("; ".join(parts)) + "</code>"
    return html.escape(str(value))


def render_summary(summary: dict, docs: Path | None, base: Path) -> str:
    region, ds = summary["region"], summary["ds"]
    body = [
        f"<h1>nightfeed data quality — {html.escape(region)} {html.escape(ds)} "
        f"{badge(summary['status'])}</h1>",
        "<p class='meta'>A <b>fail</b> check that fails stops the run before publishing (the "
        "previous feed stays live); "
        "a <b>warn</b> check is only reported.</p>",
    ]
    for name, suite in summary["suites"].items():
        body.append(f"<h2>{html.escape(name)} {badge(suite['status'])}</h2>")
        if not suite["checks"]:
            body.append("<p>Not validated in this run.</p>")
            continue
        rows = "".join(_check_row(c) for c in suite["checks"])
        body.append(
            f"<table><tr><th>check</th><th>severity</th><th>result</th><th>observed</th></tr>{rows}</table>"
        )
        if suite.get("validation_s") is not None:
            body.append(f"<p class='meta'>validated in {suite['validation_s']} s</p>")
    body.append(model_section(summary["model_evaluation"], summary["promotion_gate"]))
    body.append("<h2>Quarantine</h2>")
    for table, reasons in summary["quarantine"].items():
        rows = (
            "".join(f"<tr><td>{html.escape(r)}</td><td>{n:,}</td></tr>" for r, n in sorted(reasons.items()))
            or "<tr><td colspan='2'>nothing quarantined</td></tr>"
        )
        body.append(
            f"<p><b>{html.escape(table)}</b></p><table><tr><th>reason</th><th>lines</th></tr>{rows}</table>"
        )
    if docs:
        rel = docs.relative_to(base)
        pages = sorted(p.relative_to(base) for p in (docs.parent / "validations").rglob("*.html"))
        links = "".join(
            f"<li><a href='{html.escape(str(p))}'>{html.escape(p.parts[-4] if len(p.parts) > 4 else p.name)}"
            f" — {html.escape(p.name)}</a></li>"
            for p in pages
        )
        body.append(
            f"<h2>Great Expectations Data Docs</h2><p><a href='{html.escape(str(rel))}'>Data Docs index</a>"
            f" (its run list needs JavaScript from a CDN; the validation pages below are "
            f"static)</p><ul>{links}</ul>"
        )
    body.append("<p><a href='../../index.html'>all runs</a> · <a href='summary.json'>summary.json</a></p>")
    return _page(f"nightfeed quality {region} {ds}", "".join(body))


def model_section(evaluation: dict, gate: dict | None) -> str:
    """Temporal-holdout metrics of the model vs popularity (or why there are none) and the gate."""
    out = [f"<h2>Model evaluation {badge(evaluation['status'])}</h2>"]
    if evaluation["status"] == "skipped":
        out.append(f"<p>No temporal holdout tonight: {html.escape(evaluation['reason'])}.</p>")
    elif evaluation["status"] == "ok":
        names = sorted({m for ms in evaluation["metrics"].values() for m in ms})
        head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
        rows = "".join(
            f"<tr><td>{html.escape(model)}</td>"
            + "".join(f"<td>{_observed(ms.get(n))}</td>" for n in names)
            + "</tr>"
            for model, ms in evaluation["metrics"].items()
        )
        out.append(
            f"<table><tr><th>model</th>{head}</tr>{rows}</table>"
            f"<p class='meta'>{evaluation['test_users']:,} returning test users</p>"
        )
        out += [
            f"<p class='meta'>Not computed: {html.escape(r)}.</p>" for r in evaluation.get("not_computed", [])
        ]
    if gate:
        out.append(f"<p><b>Promotion gate:</b> {_observed(gate)}</p>")
    return "".join(out)


def write_index(lake: Lake) -> Path:
    root = lake.root / "reports" / "quality"
    runs = []
    for path in root.glob("region=*/ds=*/summary.json"):
        s = json.loads(path.read_text())
        runs.append(
            (s["ds"], s["region"], s["status"], path.parent.relative_to(root), s.get("quarantined_total", 0))
        )
    rows = "".join(
        f"<tr><td>{html.escape(ds)}</td><td>{html.escape(region)}</td><td>{badge(status)}</td>"
        f"<td>{q:,}</td><td><a href='{html.escape(str(rel))}/summary.html'>summary</a></td></tr>"
        for ds, region, status, rel, q in sorted(runs, key=lambda r: (r[0], r[1]), reverse=True)
    )
    audits = sorted(
        (lake.root / "reports" / "audit").glob("region=*/ds=*/queue.html"),
        key=lambda p: (p.parent.name, p.parent.parent.name),
        reverse=True,
    )
    audit_root = lake.root / "reports" / "audit"
    audit_rows = "".join(
        f"<tr><td>{html.escape(p.parent.name[3:])}</td><td>{html.escape(p.parent.parent.name[7:])}</td>"
        f"<td><a href='../audit/{html.escape(str(p.relative_to(audit_root)))}'>audit queue</a></td></tr>"
        for p in audits
    )
    page = _page(
        "nightfeed data quality",
        "<h1>nightfeed data quality</h1><table><tr><th>ds</th><th>region</th>"
        f"<th>status</th><th>quarantined lines</th><th></th></tr>{rows}</table>"
        "<h2>Content audit</h2><table><tr><th>ds</th><th>region</th><th></th></tr>"
        f"{audit_rows}</table>",
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text(page)
    return root / "index.html"
