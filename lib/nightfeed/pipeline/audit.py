"""Content-audit stages: risk features, the nightly classifier, the ranked review queue with its
safety holds. (Evaluation against the hidden truth: `audit_evaluate`.)"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from nightfeed.audit.features import reviews_before_history, risk_features
from nightfeed.audit.metrics import average_precision
from nightfeed.audit.model import MODEL_FEATURES, PRIOR, AuditModel
from nightfeed.audit.queue import rank_queue, reasons, selection_weights
from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import RegionConfig
from nightfeed.core.days import day_end, day_start
from nightfeed.core.errors import NightfeedError
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import artifact_dir, register, registered_model, replace_folder
from nightfeed.pipeline.inputs import catalog_snapshot, shift, window_events
from nightfeed.runtime.spark import task_slots

MIN_LABELS = 5  # fewer positive or negative labels than this: the `prior` model
UPLOAD_HISTORY_DAYS = 365


def build_audit_features(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    """silver/item_risk_features of ds: queued and reviewed videos, features as of their cut-off."""
    t = LakeTables(spark, lake.root)
    lookback = cfg.audit.lookback_days
    in_region = F.col("region") == region
    catalog = catalog_snapshot(t, region, ds).select("item_id")
    uploads = (
        t.read("bronze/items")
        .where(in_region & (F.col("ds") <= ds) & (F.col("ds") >= shift(ds, -UPLOAD_HISTORY_DAYS)))
        .groupBy("item_id")
        .agg(
            F.min_by("creator_id", "ds").alias("creator_id"),
            F.min("created_ts").alias("created_ts"),
            F.min_by("duration_ms", "ds").alias("duration_ms"),
        )
    )
    window = window_events(t, region, ds, cfg.audit.label_days + 32)
    history_start = day_start(window.agg(F.min("ds")).first()[0])
    events = window.select("item_id", "user_id", "event_type", "event_ts")
    decisions = t.read("bronze/moderation_decisions").where(in_region & (F.col("ds") <= ds))
    rows = risk_features(
        catalog, uploads, events, decisions, ds, lookback, cfg.audit.label_days, history_start
    )
    t.write_slice(
        "silver/item_risk_features",
        rows.withColumn("region", F.lit(region)).withColumn("ds", F.lit(ds)),
        region,
        ds,
    )
    counts = (
        t.read_slice("silver/item_risk_features", region, ds)
        .groupBy("reviewed")
        .agg(F.count("*").alias("n"), F.sum("label").alias("violating"))
        .collect()
    )
    by = {r["reviewed"]: r for r in counts}
    left_out = reviews_before_history(uploads, decisions, ds, cfg.audit.label_days, history_start)
    return {
        "queued": by[False]["n"] if False in by else 0,
        "reviewed": by[True]["n"] if True in by else 0,
        "reviewed_violating": int(by[True]["violating"] or 0) if True in by else 0,
        "reviewed_left_out": left_out.count(),
        "events_from": f"{history_start:%Y-%m-%d}",
    }


def train_audit_model(
    spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig, audit_model: str | None = None
) -> dict:
    """Fit the audit classifier on the reviewed videos (inverse-review-rate weights), validate on
    the most recent review days, version it under models/audit and register it."""
    t = LakeTables(spark, lake.root)
    requested = audit_model or cfg.audit.model
    rows = t.require_slice("silver/item_risk_features", region, ds, "build_audit_features")
    labeled = selection_weights(rows).persist()
    counts = {r["label"]: r["count"] for r in labeled.groupBy("label").count().collect()}
    valid_days = max(2, cfg.audit.lookback_days // 4)
    valid_from = day_end(ds) - dt.timedelta(days=valid_days)
    train = labeled.where(F.col("decided_ts") < F.lit(valid_from))
    valid = labeled.where(F.col("decided_ts") >= F.lit(valid_from))
    train_counts = {r["label"]: r["count"] for r in train.groupBy("label").count().collect()}
    enough = min(train_counts.get(0, 0), train_counts.get(1, 0)) >= MIN_LABELS
    kind = requested if enough else PRIOR
    workers = task_slots(spark)
    t0 = time.perf_counter()
    try:
        model = AuditModel(kind, cfg.model.seed, workers)
    except ValueError as exc:
        raise NightfeedError(f"configuration [audit] model: {exc}") from None
    model.fit(train, valid, population=rows)
    fit_s = time.perf_counter() - t0
    scored = (
        model.risk(valid).select("label", "risk_score").toPandas().sort_values("risk_score", ascending=False)
    )
    metrics = {
        "valid_rows": float(len(scored)),
        "valid_violating": float(scored["label"].sum()),
        "valid_pr_auc": average_precision(scored["label"].to_numpy()),
        "train_rows": float(sum(train_counts.values())),
    }
    labeled.unpersist()
    digest = hashlib.sha1(
        json.dumps([kind, counts, ds, region], sort_keys=True, default=str).encode()
    ).hexdigest()[:8]
    version = f"{ds}.audit-{kind}.{digest}"
    path = lake.root / "models" / "audit" / f"region={region}" / f"ds={ds}" / version
    replace_folder(path, model.save)
    note = (
        "" if enough else f"fewer than {MIN_LABELS} reviewed videos of a class before {valid_from:%Y-%m-%d}"
    )
    params = {"requested": requested, "weights": "inverse review rate per report bucket", "note": note}
    row = {
        "region": region,
        "ds": ds,
        "model_version": version,
        "model_type": f"audit-{kind}",
        "params": json.dumps(params, sort_keys=True),
        "validation_metrics": {k: (None if v != v else float(v)) for k, v in metrics.items()},
        "artifact_path": str(path.relative_to(lake.root)),
        "n_users": 0,
        "n_items": int(sum(counts.values())),
        "n_interactions": int(counts.get(1, 0)),
    }
    register(t, row, region, ds)
    return {
        "model_version": version,
        "model_type": row["model_type"],
        "fit_s": round(fit_s, 2),
        **metrics,
        **params,
    }


def score_audit_queue(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    """gold/audit_queue of ds: every queued video with risk, expected views, priority, rank,
    reasons, and whether it is held out of tonight's feeds."""
    t = LakeTables(spark, lake.root)
    reg = registered_model(t, region, ds, audit=True)
    path = artifact_dir(lake, reg["artifact_path"])
    if not (path / "audit_model.json").exists():
        raise NightfeedError(f"audit model artifact missing at {path}: rerun train_audit_model")
    try:
        model = AuditModel.load(path)
    except ValueError as exc:  # trained by an older version: a rerun of train_audit_model fixes it
        raise NightfeedError(f"score_audit_queue {region} {ds}: {exc}") from None
    queued = t.require_slice("silver/item_risk_features", region, ds, "build_audit_features").where(
        ~F.col("reviewed")
    )
    ranked = rank_queue(model.risk(queued), cfg.audit.hold_threshold).persist()
    columns = [c for c in MODEL_FEATURES if c in ranked.columns]
    quantiles = ranked.approxQuantile(columns, [0.5], 0.01) if ranked.head(1) else [[0.0]] * len(columns)
    medians = {c: (q[0] if q else 0.0) for c, q in zip(columns, quantiles, strict=True)}
    importances = model.importances
    schema = StructType(
        [
            *ranked.schema.fields,
            StructField("reasons", ArrayType(StringType(), containsNull=False), nullable=False),
        ]
    )

    def explain(batches):
        for batch in batches:
            yield batch.assign(reasons=reasons(batch, importances, medians))

    out = (
        ranked.mapInPandas(explain, schema)
        .withColumn("region", F.lit(region))
        .withColumn("ds", F.lit(ds))
        .withColumn("model_version", F.lit(reg["model_version"]))
    )
    t.write_slice("gold/audit_queue", out, region, ds)
    ranked.unpersist()
    written = t.read_slice("gold/audit_queue", region, ds)
    stats = written.agg(F.count("*").alias("n"), F.sum(F.col("held").cast("int")).alias("held")).first()
    return {"model_version": reg["model_version"], "queued": stats["n"], "held": int(stats["held"] or 0)}
