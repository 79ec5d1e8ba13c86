"""Stage train_model: fit the configured model on the region's interactions, version the
artifact and record it (with validation metrics for the promotion gate) in gold/model_registry."""

from __future__ import annotations

import hashlib
import json
import time

from pyspark.sql import SparkSession

from .. import models
from ..config import Lake
from ..errors import NightfeedError
from ..evaluation.matrices import encode
from ..evaluation.protocol import fit_and_score_folds
from ..evaluation.splits import holdout
from ..settings import ModelSettings, RegionConfig
from ..tables import LakeTables
from .artifacts import register, save_atomically

VALIDATION_FRACTION = 0.1


def model_params(m: ModelSettings, model_type: str) -> dict:
    """Constructor parameters of `model_type` from the [model] settings."""
    transform = (
        {}
        if m.confidence == "auto"
        else {
            "confidence": m.confidence,
            "confidence_alpha": m.confidence_alpha,
            "confidence_eps": m.confidence_eps,
        }
    )
    if model_type == "auto":
        return {
            "k": m.k,
            "seed": m.seed,
            "time_budget_s": m.time_budget_s,
            "ease_max_items": m.ease_max_items,
            **transform,
        }
    params = {**transform, **m.per_model.get(model_type.replace("-", "_"), {})}
    if model_type == "ease":
        params.setdefault("max_items", m.ease_max_items)
    return models.seeded(model_type, params, m.seed)


def train_model(
    spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig, model_type: str | None = None
) -> dict:
    """Fit the configured model on the region's interactions; version it; record it in the registry."""
    t = LakeTables(spark, lake.root)
    model_type = model_type or cfg.model.type
    if model_type not in models.MODEL_NAMES:
        raise NightfeedError(f"unknown model {model_type!r}; choose from {', '.join(models.MODEL_NAMES)}")
    inter = t.require_slice("silver/interactions", region, ds, "build_features")
    enc = encode(
        inter.select("user_id", "item_id", "confidence").toPandas(),
        user="user_id",
        item="item_id",
        weight="confidence",
    )
    mat = enc.train
    params = model_params(cfg.model, model_type)
    t0 = time.perf_counter()
    try:
        model = models.create(model_type, **params)
    except ValueError as exc:
        raise NightfeedError(f"configuration [model]: {exc}") from None
    model.fit(mat)
    fit_s = time.perf_counter() - t0
    if model_type == "auto":
        chosen_type, chosen_params, val = (
            model.chosen["model"],
            model.chosen["params"],
            model.validation_metrics,
        )
    else:
        chosen_type, chosen_params = model_type, model.params
        val = fit_and_score_folds(
            lambda: models.create(model_type, **params),
            [holdout(mat, VALIDATION_FRACTION, cfg.model.seed)],
            cfg.model.k,
        )
    digest = hashlib.sha1(
        json.dumps(
            [chosen_type, chosen_params, mat.nnz, float(mat.sum())], sort_keys=True, default=str
        ).encode()
    ).hexdigest()[:8]
    version = f"{ds}.{chosen_type}.{digest}"
    artifact = lake.models(region) / f"ds={ds}" / version
    save_atomically(
        model,
        artifact,
        enc.user_ids,
        enc.item_ids,
        {
            "region": region,
            "ds": ds,
            "model_version": version,
            "requested": model_type,
            "model_type": chosen_type,
            "params": chosen_params,
            "validation_metrics": val,
            "fit_s": round(fit_s, 3),
        },
    )
    row = {
        "region": region,
        "ds": ds,
        "model_version": version,
        "model_type": chosen_type,
        "params": json.dumps(
            {
                "requested": model_type,
                **({"selected_by": "auto"} if model_type == "auto" else {}),
                **chosen_params,
            },
            sort_keys=True,
            default=str,
        ),
        "validation_metrics": {k: float(v) for k, v in val.items()},
        "artifact_path": str(artifact.relative_to(lake.root)),
        "n_users": int(mat.shape[0]),
        "n_items": int(mat.shape[1]),
        "n_interactions": int(mat.nnz),
    }
    register(t, row, region, ds)
    return {
        "model_version": version,
        "model_type": chosen_type,
        "validation": {k: round(v, 4) for k, v in val.items()},
        "n_users": row["n_users"],
        "n_items": row["n_items"],
        "n_interactions": row["n_interactions"],
        "fit_s": round(fit_s, 2),
    }
