"""The nightly stages. Each reads its inputs, calls the pure transforms, and replaces only its own
(region, ds) slice. Jobs in `jobs/` and `nightfeed run` both call these.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import events as ev
from . import features, models, quality, reports, scoring, synthetic, tables
from .config import Lake
from .errors import NightfeedError
from .evaluation import ranking_metrics

STAGES = ("generate_events", "ingest_events", "validate_events", "build_features", "validate_features",
          "train_model", "evaluate_model", "score_feeds", "validate_feeds", "publish_feeds", "quality_report")
NIGHTLY = STAGES[1:]


def _shift(ds: str, days: int) -> str:
    return (dt.date.fromisoformat(ds) + dt.timedelta(days=days)).isoformat()


# ---------------------------------------------------------------- generate

def generate_events(spark, lake: Lake, region: str, ds: str, cfg: dict, days: int | None = None,
                    seed: int | None = None) -> dict:
    """Land `days` days of synthetic events and catalogs ending at ds."""
    days = int(days or cfg["synthetic"]["history_days"])
    seed = int(cfg["model"]["seed"] if seed is None else seed)
    landed = [synthetic.write_day(lake.root, cfg["synthetic"], seed, region, _shift(ds, -d))
              for d in range(days - 1, -1, -1)]
    return {"days": days, "event_lines": sum(x["event_lines"] for x in landed), "items": landed[-1]["items"]}


# ---------------------------------------------------------------- ingest

def ingest_events(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: dict) -> dict:
    """Landing JSONL -> bronze/events + bronze/events_quarantine (and the item catalog likewise)."""
    lines = ev.read_lines(spark, lake.landing("events", region, ds))
    prior = tables.read(spark, lake.table("bronze/events"), "bronze/events").where(
        (F.col("region") == region) & (F.col("ds") >= _shift(ds, -int(cfg["dedupe_lookback_days"])))
        & (F.col("ds") < ds))
    result = ev.classify_events(lines, region, ds, float(cfg["late_arrival_tolerance_hours"]), prior)
    result.frame.persist()
    reasons = {r["reason"] or "": r["count"] for r in result.frame.groupBy("reason").count().collect()}
    n_valid = reasons.pop("", 0)
    n_quarantined = sum(reasons.values())
    n_read = n_valid + n_quarantined
    tables.write_slice(spark, result.quarantine, lake.table("bronze/events_quarantine"), "bronze/events_quarantine", region, ds)
    share = n_quarantined / n_read if n_read else 0.0
    summary = {"lines_read": n_read, "valid": n_valid, "quarantined": n_quarantined, "quarantine_reasons": reasons,
               "quarantine_share": round(share, 6)}
    if share > float(cfg["max_quarantine_share"]):
        result.frame.unpersist()
        raise NightfeedError(f"ingest {region} {ds}: {n_quarantined} of {n_read} lines quarantined "
                             f"({share:.1%} > max_quarantine_share {float(cfg['max_quarantine_share']):.1%}); "
                             f"bronze/events not updated, see bronze/events_quarantine")
    tables.write_slice(spark, result.valid, lake.table("bronze/events"), "bronze/events", region, ds)
    result.frame.unpersist()
    item_dir = lake.landing("items", region, ds)
    if item_dir.is_dir():
        items = ev.classify_items(ev.read_lines(spark, item_dir), region, ds)
        items.frame.persist()
        item_counts = {r["ok"]: r["count"] for r in
                       items.frame.groupBy(F.col("reason").isNull().alias("ok")).count().collect()}
        tables.write_slice(spark, items.valid, lake.table("bronze/items"), "bronze/items", region, ds)
        tables.write_slice(spark, items.quarantine, lake.table("bronze/items_quarantine"), "bronze/items_quarantine", region, ds)
        items.frame.unpersist()
        summary["items"] = item_counts.get(True, 0)
        summary["items_quarantined"] = item_counts.get(False, 0)
    return summary


# ---------------------------------------------------------------- features

def catalog_snapshot(spark: SparkSession, lake: Lake, region: str, ds: str) -> DataFrame:
    """The region's newest item catalog delivered on or before ds."""
    items = tables.read(spark, lake.table("bronze/items"), "bronze/items").where(
        (F.col("region") == region) & (F.col("ds") <= ds))
    latest = items.agg(F.max("ds")).first()[0]
    if latest is None:
        raise NightfeedError(f"no item catalog for region={region} on or before {ds}: "
                             f"land it under landing/items/region={region}/ds=<date>/ and run ingest_events")
    return items.where(F.col("ds") == latest).drop("ds", "region")


def window_events(spark: SparkSession, lake: Lake, region: str, ds: str, days: int) -> DataFrame:
    tables.require_slice(spark, lake.table("bronze/events"), region, ds, "ingest_events")
    return tables.read(spark, lake.table("bronze/events")).where(
        (F.col("region") == region) & (F.col("ds") >= features.window_start(ds, days)) & (F.col("ds") <= ds))


def build_features(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: dict) -> dict:
    lookback = int(cfg["lookback_days"])
    events = window_events(spark, lake, region, ds, max(lookback, int(cfg["feed"]["exclude_lookback_days"])))
    events = events.persist()
    items = catalog_snapshot(spark, lake, region, ds).persist()
    in_window = events.where(F.col("ds") >= features.window_start(ds, lookback))
    inter = features.interactions(in_window, items, region, ds, cfg)
    tables.write_slice(spark, inter, lake.table("silver/interactions"), "silver/interactions", region, ds)
    inter = tables.read_slice(spark, lake.table("silver/interactions"), region, ds)
    excl_events = events.where(F.col("ds") >= features.window_start(ds, int(cfg["feed"]["exclude_lookback_days"])))
    tables.write_slice(spark, features.exclusions(excl_events, items, region, ds, cfg),
                       lake.table("silver/exclusions"), "silver/exclusions", region, ds)
    tables.write_slice(spark, features.user_features(in_window, inter, region, ds),
                       lake.table("gold/user_features"), "gold/user_features", region, ds)
    tables.write_slice(spark, features.item_features(in_window, items, inter, region, ds, cfg),
                       lake.table("gold/item_features"), "gold/item_features", region, ds)
    events.unpersist()
    items.unpersist()
    counts = {t: tables.read_slice(spark, lake.table(t), region, ds).count()
              for t in ("silver/interactions", "silver/exclusions", "gold/user_features", "gold/item_features")}
    return {"rows": counts}


# ---------------------------------------------------------------- train

def interaction_matrix(pdf: pd.DataFrame) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """(user, item, confidence) rows -> CSR plus the id arrays that map indices back to ids."""
    users, u = np.unique(pdf["user_id"].to_numpy(), return_inverse=True)
    items, i = np.unique(pdf["item_id"].to_numpy(), return_inverse=True)
    mat = sp.csr_matrix((pdf["confidence"].to_numpy(np.float32), (u, i)), shape=(len(users), len(items)))
    mat.sum_duplicates()
    return mat, users, items


def _model_params(cfg: dict, model_type: str) -> dict:
    m = cfg["model"]
    if model_type == "auto":
        return {"k": int(m["k"]), "seed": int(m["seed"]), "time_budget_s": float(m["time_budget_s"]),
                "ease_max_items": int(m["ease_max_items"])}
    params = dict(m.get(model_type.replace("-", "_"), {}))
    if model_type == "ease":
        params.setdefault("max_items", int(m["ease_max_items"]))
    if "seed" in models.MODELS[model_type].defaults:
        params.setdefault("seed", int(m["seed"]))
    return params


def validation_metrics(model_type: str, params: dict, mat: sp.csr_matrix, k: int, seed: int) -> dict:
    """nDCG/MAP/P/R@k on a holdout carved out of the training matrix (for non-auto models)."""
    from .tuning import holdout

    train, val = holdout(mat, 0.1, seed)
    users = np.flatnonzero(np.diff(val.indptr) > 0)
    if not len(users):
        return {}
    model = models.create(model_type, **params).fit(train)
    recs, _ = model.recommend(users, train[users], N=k)
    relevant = [set(val.indices[val.indptr[u]:val.indptr[u + 1]]) for u in users]
    return ranking_metrics(recs, relevant, k, mat.shape[1])


def train_model(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: dict, model_type: str | None = None) -> dict:
    """Fit the configured model on the region's interactions; version it; record it in the registry."""
    model_type = model_type or cfg["model"]["type"]
    if model_type not in models.MODEL_NAMES:
        raise NightfeedError(f"unknown model {model_type!r}; choose from {', '.join(models.MODEL_NAMES)}")
    inter = tables.require_slice(spark, lake.table("silver/interactions"), region, ds, "build_features")
    pdf = inter.select("user_id", "item_id", "confidence").toPandas()
    mat, users, items = interaction_matrix(pdf)
    params = _model_params(cfg, model_type)
    k, seed = int(cfg["model"]["k"]), int(cfg["model"]["seed"])
    t0 = time.perf_counter()
    model = models.create(model_type, **params).fit(mat)
    fit_s = time.perf_counter() - t0
    if model_type == "auto":
        chosen_type, chosen_params, val = model.chosen["model"], model.chosen["params"], model.validation_metrics
    else:
        chosen_type, chosen_params = model_type, model.params
        val = validation_metrics(model_type, params, mat, k, seed)
    digest = hashlib.sha1(json.dumps([chosen_type, chosen_params, mat.nnz, float(mat.sum())], sort_keys=True,
                                     default=str).encode()).hexdigest()[:8]
    version = f"{ds}.{chosen_type}.{digest}"
    artifact = lake.models(region) / f"ds={ds}" / version
    _save_atomically(model, artifact, users, items, {"region": region, "ds": ds, "model_version": version,
                                                       "requested": model_type, "model_type": chosen_type,
                                                       "params": chosen_params, "validation_metrics": val,
                                                       "fit_s": round(fit_s, 3)})
    row = {"region": region, "ds": ds, "model_version": version, "model_type": chosen_type,
           "params": json.dumps({"requested": model_type, **({"selected_by": "auto"} if model_type == "auto" else {}),
                                 **chosen_params}, sort_keys=True, default=str),
           "validation_metrics": {k2: float(v) for k2, v in val.items()},
           "artifact_path": str(artifact.relative_to(lake.root)),
           "n_users": int(mat.shape[0]), "n_items": int(mat.shape[1]), "n_interactions": int(mat.nnz)}
    reg = spark.createDataFrame([row], tables.schemas.load("gold_model_registry"))
    tables.write_slice(spark, reg, lake.table("gold/model_registry"), "gold/model_registry", region, ds)
    return {"model_version": version, "model_type": chosen_type, "validation": {k2: round(v, 4) for k2, v in val.items()},
            "n_users": row["n_users"], "n_items": row["n_items"], "n_interactions": row["n_interactions"],
            "fit_s": round(fit_s, 2)}


def _save_atomically(model, path: Path, users, items, meta: dict) -> None:
    """Write into a temp folder then rename, so a killed run never leaves a half-written model."""
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(tmp)
    np.save(tmp / "users.npy", np.asarray(users, dtype=object), allow_pickle=True)
    np.save(tmp / "items.npy", np.asarray(items, dtype=object), allow_pickle=True)
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


def registered_model(spark: SparkSession, lake: Lake, region: str, ds: str) -> dict:
    reg = tables.require_slice(spark, lake.table("gold/model_registry"), region, ds, "train_model").first()
    return reg.asDict()


def load_artifact(lake: Lake, path: str):
    """A registered model and its id maps; `path` is relative to the lake root."""
    p = lake.root / path
    if not (p / "model.json").exists():
        raise NightfeedError(f"model artifact missing at {p}: rerun train_model")
    return (models.load(p), np.load(p / "users.npy", allow_pickle=True), np.load(p / "items.npy", allow_pickle=True))


# ---------------------------------------------------------------- evaluate

def evaluate_model(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: dict) -> dict:
    """Temporal holdout: train on the window ending the day before ds, test on ds's new interactions.

    Reports the registered model's type/params and the popularity baseline on the same split.
    """
    reg = registered_model(spark, lake, region, ds)
    items = catalog_snapshot(spark, lake, region, ds)
    lookback = int(cfg["lookback_days"])
    events = window_events(spark, lake, region, ds, lookback + 1)
    prev = _shift(ds, -1)
    train_events = events.where(F.col("ds") <= prev).where(F.col("ds") >= features.window_start(prev, lookback))
    train = features.interactions(train_events, items, region, prev, cfg).select("user_id", "item_id", "confidence").toPandas()
    test = (features.interactions(events.where(F.col("ds") == ds), items, region, ds, cfg)
            .select("user_id", "item_id").toPandas())
    if train.empty or test.empty:
        raise NightfeedError(f"evaluate {region} {ds}: need events on {ds} and before it (train {len(train)}, test {len(test)} pairs)")
    mat, users, item_ids = interaction_matrix(train)
    u_index = {u: k for k, u in enumerate(users)}
    i_index = {i: k for k, i in enumerate(item_ids)}
    seen = set(zip(train["user_id"], train["item_id"]))
    rel: dict[int, set] = {}
    for row, (u, i) in enumerate(zip(test["user_id"], test["item_id"])):
        if u in u_index and (u, i) not in seen:
            rel.setdefault(u_index[u], set()).add(i_index.get(i, -2 - row))
    test_users = np.array(sorted(rel), dtype=np.int64)
    if not len(test_users):
        raise NightfeedError(f"evaluate {region} {ds}: no returning user interacted with a new item on {ds}")
    relevant = [rel[u] for u in test_users]
    k = int(cfg["model"]["k"])
    params = json.loads(reg["params"])
    params = {p: v for p, v in params.items() if p not in ("requested", "selected_by")}
    results = {}
    rows = []
    for name, model in ((reg["model_type"], models.create(reg["model_type"], **params)),
                        ("popularity", models.create("popularity"))):
        model.fit(mat)
        recs, _ = model.recommend(test_users, mat[test_users], N=k)
        metrics = ranking_metrics(recs, relevant, k, mat.shape[1])
        results[name] = {m: round(v, 4) for m, v in metrics.items()}
        rows += [{"region": region, "ds": ds, "model_version": reg["model_version"], "model": name, "k": k,
                  "metric": m, "value": float(v), "n_users": int(len(test_users))} for m, v in metrics.items()]
    tables.write_slice(spark, spark.createDataFrame(rows, tables.schemas.load("gold_model_metrics")),
                       lake.table("gold/model_metrics"), "gold/model_metrics", region, ds)
    return {"model_version": reg["model_version"], "k": k, "test_users": int(len(test_users)), "metrics": results}


# ---------------------------------------------------------------- score

def score_feeds(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: dict) -> dict:
    """Top-N for every active user of the region -> silver/feed_candidates."""
    reg = registered_model(spark, lake, region, ds)
    model, model_users, model_items = load_artifact(lake, reg["artifact_path"])
    catalog = tables.require_slice(spark, lake.table("gold/item_features"), region, ds, "build_features").select(
        "item_id", "creator_id", "moderation_status", "is_fresh", "n_users", "trending_score").toPandas()
    ctx = scoring.build_context(model, model_items, catalog, cfg["feed"])
    codes = spark.createDataFrame(pd.DataFrame({"item_id": ctx.item_ids, "code": np.arange(ctx.n_codes)}))
    user_index = spark.createDataFrame(pd.DataFrame({"user_id": model_users, "user_idx": np.arange(len(model_users))}))
    batch = scoring.user_blocks(
        tables.require_slice(spark, lake.table("gold/user_features"), region, ds, "build_features").select("user_id"),
        tables.read_slice(spark, lake.table("silver/interactions"), region, ds),
        tables.read_slice(spark, lake.table("silver/exclusions"), region, ds),
        codes, user_index, ctx.n_model_items)
    block = int(cfg["feed"]["score_block_users"])
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(block))
    bc = spark.sparkContext.broadcast(ctx)
    feeds = (scoring.score_users(batch, bc)
             .withColumn("region", F.lit(region)).withColumn("ds", F.lit(ds))
             .withColumn("model_version", F.lit(reg["model_version"])))
    tables.write_slice(spark, feeds, lake.table("silver/feed_candidates"), "silver/feed_candidates", region, ds)
    bc.unpersist()
    written = tables.read_slice(spark, lake.table("silver/feed_candidates"), region, ds)
    by_source = {r["source"]: r["count"] for r in written.groupBy("source").count().collect()}
    return {"model_version": reg["model_version"], "users": written.select("user_id").distinct().count(),
            "rows": sum(by_source.values()), "rows_by_source": by_source}


# ---------------------------------------------------------------- quality

def _checks_dir(lake: Lake, region: str, ds: str) -> Path:
    return lake.reports("quality", region, ds) / "checks"


def fingerprint(df: DataFrame) -> str:
    """Order-independent content hash of a DataFrame: proves what was validated is what is published."""
    row = df.agg(F.count(F.lit(1)).alias("n"), F.sum(F.xxhash64(*df.columns).cast("decimal(38,0)")).alias("h")).first()
    return f"{row['n']}:{row['h']}"


def _validate(spark, lake: Lake, region: str, ds: str, suite: str, frames: dict, params: dict, fp: str | None = None,
              extra: dict | None = None) -> dict:
    """Run a suite, save its results (always, before failing), raise if a `fail` check failed."""
    project = lake.reports("quality", region, ds) / "gx"
    result = quality.run_suite(suite, frames, params, project, run_name=f"{region}-{ds}-{suite}")
    result.update({"region": region, "ds": ds, "fingerprint": fp, **(extra or {})})
    out = _checks_dir(lake, region, ds)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{suite}.json.tmp"
    tmp.write_text(json.dumps(result, indent=1, default=str))
    tmp.replace(out / f"{suite}.json")
    if result["status"] == quality.STATUS_FAILED:
        raise NightfeedError(f"{suite} checks failed for {region} {ds}: {', '.join(result['failed'])} "
                             f"(details: {out / f'{suite}.json'})")
    return {"status": result["status"], "warnings": result["warnings"], "checks": len(result["checks"]),
            "validation_s": result["seconds"]}


def _trailing_mean(spark, lake: Lake, table: str, region: str, ds: str, days: int, agg) -> float | None:
    """Mean over the previous `days` days of a per-ds aggregate; None without history."""
    if not tables.exists(spark, lake.table(table)):
        return None
    rows = (tables.read(spark, lake.table(table)).where(
        (F.col("region") == region) & (F.col("ds") < ds) & (F.col("ds") >= _shift(ds, -days)))
        .groupBy("ds").agg(agg.alias("v")).collect())
    return float(np.mean([r["v"] for r in rows])) if rows else None


def validate_events(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: dict) -> dict:
    events = tables.require_slice(spark, lake.table("bronze/events"), region, ds, "ingest_events")
    items = catalog_snapshot(spark, lake, region, ds)
    q = cfg["quality"]
    tol = float(cfg["late_arrival_tolerance_hours"])
    mean = _trailing_mean(spark, lake, "bronze/events", region, ds, 7, F.count(F.lit(1)))
    lo, hi = quality.band(mean, q["volume_band"])
    params = {"region": region, "event_types": list(ev.EVENT_TYPES), "ts_min_hours": -tol, "ts_max_hours": 24 + tol,
              "watch_max_ratio": float(q["watch_ms_max_duration_factor"]), "volume_min": lo, "volume_max": hi}
    return _validate(spark, lake, region, ds, "events", {"events": quality.events_frame(events, items, ds)}, params)


def validate_features(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: dict) -> dict:
    inter = tables.require_slice(spark, lake.table("silver/interactions"), region, ds, "build_features")
    band = cfg["quality"]["volume_band"]
    users_lo, users_hi = quality.band(_trailing_mean(spark, lake, "silver/interactions", region, ds, 7,
                                                     F.countDistinct("user_id")), band)
    items_lo, items_hi = quality.band(_trailing_mean(spark, lake, "silver/interactions", region, ds, 7,
                                                     F.countDistinct("item_id")), band)
    params = {"users_min": users_lo, "users_max": users_hi, "items_min": items_lo, "items_max": items_hi}
    return _validate(spark, lake, region, ds, "features", {"interactions": inter}, params)


def validate_feeds(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: dict) -> dict:
    cand = tables.require_slice(spark, lake.table("silver/feed_candidates"), region, ds, "score_feeds")
    users = tables.require_slice(spark, lake.table("gold/user_features"), region, ds, "build_features")
    catalog = tables.read_slice(spark, lake.table("gold/item_features"), region, ds)
    excl = tables.read_slice(spark, lake.table("silver/exclusions"), region, ds)
    inter = tables.read_slice(spark, lake.table("silver/interactions"), region, ds)
    q, feed = cfg["quality"], cfg["feed"]
    params = {"min_feed_coverage": float(q["min_feed_coverage"]), "eligible_moderation": list(feed["eligible_moderation"]),
              "min_full_feed_share": float(q.get("min_full_feed_share", 1.0)),
              "trending_min": float(q["trending_share_band"][0]), "trending_max": float(q["trending_share_band"][1])}
    frames = quality.feed_frames(cand, users, catalog, excl, inter, int(feed["n"]), int(feed["max_per_creator"]),
                                 list(feed["eligible_moderation"]))
    frames["feed_users"] = frames["feed_users"].persist()
    exhausted = frames["feed_users"].where("catalog_exhausted").count()
    try:
        out = _validate(spark, lake, region, ds, "feeds", frames, params, fp=fingerprint(cand.drop("region", "ds")),
                        extra={"users_catalog_exhausted": exhausted})
    finally:
        frames["feed_users"].unpersist()
    return {**out, "users_catalog_exhausted": exhausted}


def quality_report(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: dict) -> dict:
    """GX Data Docs plus a self-contained summary page and summary.json for the (region, ds)."""
    quarantine = {}
    for table in ("bronze/events_quarantine", "bronze/items_quarantine"):
        df = tables.read_slice(spark, lake.table(table), region, ds, table)
        quarantine[table] = {r["reason"]: r["count"] for r in df.groupBy("reason").count().collect()}
    return reports.write_quality_report(lake, region, ds, quarantine)


# ---------------------------------------------------------------- publish

def _require_validated(lake: Lake, region: str, ds: str, fp: str) -> dict:
    path = _checks_dir(lake, region, ds) / "feeds.json"
    if not path.exists():
        raise NightfeedError(f"publish {region} {ds} refused: feeds were not validated (run validate_feeds); "
                             f"the previous feed stays live")
    result = json.loads(path.read_text())
    if result["status"] == quality.STATUS_FAILED:
        raise NightfeedError(f"publish {region} {ds} refused: feed checks failed ({', '.join(result['failed'])}); "
                             f"the previous feed stays live")
    if result.get("fingerprint") != fp:
        raise NightfeedError(f"publish {region} {ds} refused: feed candidates changed since validate_feeds; rerun it")
    return result


def promotion_gate(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: dict) -> dict:
    """New model vs the live one on validation nDCG@k: may be worse by at most `gate.max_ndcg_drop`."""
    new = registered_model(spark, lake, region, ds)
    live = tables.pointer(spark, lake.table("gold/feed_pointer"), region)
    metric = f"ndcg@{int(cfg['model']['k'])}"
    new_score = (new["validation_metrics"] or {}).get(metric)
    if live is None or live["live_ds"] == ds:
        return {"decision": "promote", "reason": "no other live feed to compare with", "new": new_score}
    reg = tables.read(spark, lake.table("gold/model_registry")).where(
        (F.col("region") == region) & (F.col("model_version") == live["model_version"])).first()
    live_score = (reg["validation_metrics"] or {}).get(metric) if reg else None
    if new_score is None or live_score is None:
        return {"decision": "promote", "reason": f"no {metric} to compare", "new": new_score, "live": live_score}
    margin = float(cfg["gate"]["max_ndcg_drop"])
    decision = "promote" if new_score >= live_score - margin else "reject"
    return {"decision": decision, "metric": metric, "new": round(new_score, 4), "live": round(live_score, 4),
            "live_model_version": live["model_version"], "max_drop": margin}


def publish_feeds(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: dict) -> dict:
    """Make the validated feed of (region, ds) the region's live feed, if the new model is good enough."""
    cand = tables.require_slice(spark, lake.table("silver/feed_candidates"), region, ds, "score_feeds")
    _require_validated(lake, region, ds, fingerprint(cand.drop("region", "ds")))
    gate = promotion_gate(spark, lake, region, ds, cfg)
    if gate["decision"] == "reject":
        raise NightfeedError(f"publish {region} {ds} refused by the promotion gate: validation {gate['metric']} "
                             f"{gate['new']} is more than {gate['max_drop']} below the live model's {gate['live']} "
                             f"({gate['live_model_version']}); the previous feed stays live")
    tables.write_slice(spark, cand, lake.table("gold/feeds"), "gold/feeds", region, ds)
    published = tables.read_slice(spark, lake.table("gold/feeds"), region, ds)
    version = tables.latest_version(spark, lake.table("gold/feeds"))
    model_version = published.select("model_version").first()[0]
    tables.set_pointer(spark, lake.table("gold/feed_pointer"), region, ds, model_version, version)
    return {"rows": published.count(), "users": published.select("user_id").distinct().count(),
            "table": lake.table("gold/feeds"), "live_ds": ds, "feeds_table_version": version, "gate": gate}


def run(spark: SparkSession, lake: Lake, stage: str, region: str, ds: str, cfg: dict, **options) -> dict:
    if stage not in STAGES:
        raise NightfeedError(f"unknown stage {stage!r}; choose from {', '.join(STAGES)}")
    return globals()[stage](spark, lake, region, ds, cfg, **options)
