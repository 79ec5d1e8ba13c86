"""The per-region summary `nightfeed run --summary` prints after a night's stages."""

from __future__ import annotations


def print_summary(results: list[dict], lake) -> None:
    """One block per (region, ds): events, quarantine, users/items, model, metric vs baseline, feed."""
    by_night: dict[tuple[str, str], dict] = {}
    for r in results:
        by_night.setdefault((r["region"], r["ds"]), {})[r["stage"]] = r
    print("\n=== nightfeed summary ===")
    for (region, ds), st in by_night.items():
        ing, tr, ev, pub = st["ingest_events"], st["train_model"], st["evaluate_model"], st["publish_feeds"]
        print(f"[{region}] ds={ds}")
        print(
            f"  events read {ing['lines_read']:,}  valid {ing['valid']:,}  quarantined "
            f"{ing['quarantined']:,} "
            f"{dict(sorted(ing['quarantine_reasons'].items()))}"
        )
        print(f"  users {tr['n_users']:,}  items {tr['n_items']:,}  interactions {tr['n_interactions']:,}")
        print(f"  model {tr['model_version']} ({tr['model_type']})")
        print(f"  offline (last-day holdout): {_holdout_line(ev, tr['model_type'])}")
        print(f"  next day (impressions of {ds}): {_next_day_line(ev.get('next_day'))}")
        print(
            f"  feed rows written {pub['rows']:,} for {pub['users']:,} users "
            f"{st['score_feeds'].get('rows_by_source', {})}"
            + (f"; the later night {pub['live_ds']} stays live" if pub["live_ds"] != ds else "")
        )
    print(
        f"\nlake: {lake.root}\n  tables: {lake.root}/bronze, {lake.root}/silver, {lake.root}/gold "
        f"(feeds: {lake.table('gold/feeds')})\n  models: {lake.root}/models  reports: {lake.root}/reports"
    )


def _holdout_line(ev: dict, model_type: str) -> str:
    if ev.get("status") == "skipped":
        return f"skipped: {ev['reason']}"
    k, model_m, pop_m = ev["k"], ev["metrics"][model_type], ev["metrics"]["popularity"]
    return (
        f"{ev['test_users']} users, ndcg@{k} {model_m[f'ndcg@{k}']:.4f} vs popularity "
        f"{pop_m[f'ndcg@{k}']:.4f}; recall@{k} {model_m[f'recall@{k}']:.4f} vs {pop_m[f'recall@{k}']:.4f}"
    )


def _next_day_line(nd: dict | None) -> str:
    if not nd or nd.get("status") == "skipped":
        return f"skipped: {nd['reason']}" if nd else "not measured"
    live, pop = nd["metrics"][nd["model_type"]], nd["metrics"]["popularity"]

    def pair(metric: str) -> str:
        a, b = live.get(metric), pop.get(metric)
        return "n/a" if a is None or b is None else f"{a:.4f} vs popularity {b:.4f}"

    watch = next(m for m in live if m.startswith("watch_ndcg"))
    return (
        f"the feed of {nd['feed_of']} ({nd['model_type']}) on {nd['impressions']:,} impressions: "
        f"GAUC {pair('gauc')}; {watch} {pair(watch)}"
    )
