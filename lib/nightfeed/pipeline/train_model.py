"""Stage train_model: fit the configured model on the region's interactions, version the
artifact and record it (with validation metrics for the promotion gate) in gold/model_registry."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time

import numpy as np
from pyspark.sql import SparkSession

from nightfeed import __version__, models
from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import ModelSettings, RegionConfig
from nightfeed.core.errors import NightfeedError
from nightfeed.evaluation.matrices import encode
from nightfeed.evaluation.protocol import fit_and_score_folds
from nightfeed.evaluation.splits import holdout
from nightfeed.lake.tables import LakeTables
from nightfeed.models.configured import model_params
from nightfeed.pipeline.artifacts import (
    latest_meta,
    register,
    registered_meta,
    registered_params,
    registry_row,
    save_atomically,
)
from nightfeed.pipeline.inputs import shift

VALIDATION_FRACTION = 0.1
RETUNE_GROWTH = 1.5  # `auto` searches again once users or items grew this much since its search


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
    fingerprint = inputs_fingerprint(enc, model_type, cfg.model)
    kept = _registered_fit(t, lake, region, ds, fingerprint)
    if kept is not None:
        return kept
    params = model_params(cfg.model, model_type)
    search = None
    if model_type == "auto":
        search, params["reuse"] = _search_record(t, lake, region, ds, cfg.model, mat)
    t0 = time.perf_counter()
    try:
        model = models.create(model_type, **params)
    except ValueError as exc:
        raise NightfeedError(f"configuration [model]: {exc}") from None
    try:
        model.fit(mat)
    except models.FIT_ERRORS as exc:
        raise NightfeedError(f"train_model {region} {ds}: {model_type} could not be fitted: {exc}") from None
    fit_s = time.perf_counter() - t0
    if model_type == "auto":
        chosen_type, chosen_params, val = (
            model.chosen["model"],
            model.chosen["params"],
            model.validation_metrics,
        )
        score, trials = model.score_on_folds, model.trials
    else:
        folds = [holdout(mat, VALIDATION_FRACTION, cfg.model.seed)]

        def score(make_model):
            return fit_and_score_folds(make_model, folds, cfg.model.k)

        chosen_type, chosen_params, trials = model_type, model.params, []
        val = score(lambda: models.create(model_type, **params))
    baseline = live_baseline(t, region, ds, (chosen_type, chosen_params), val, score, trials)
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
            "inputs_fingerprint": fingerprint,
            **({"gate_baseline": baseline} if baseline else {}),
            **({"search": search} if search else {}),
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
    summary = _summary(row, fit_s)
    if search:
        summary["search"] = "reused" if search["ds"] != ds else "ran"
        summary["searched_ds"] = search["ds"]
    return summary


def live_baseline(
    t: LakeTables, region: str, ds: str, chosen: tuple, val: dict, score, trials
) -> dict | None:
    """The live model's type and parameters scored on tonight's validation folds, for the promotion
    gate: two nights' validation splits differ by their noise (on a small region a model lost to
    itself), so the gate compares both models on the same held-out interactions. None while no
    earlier night is live.

    chosen: tonight's (model type, params) and `val` its metrics; score(make_model) -> metrics on
    tonight's folds; trials: tonight's search trials (a matching one is reused, not refitted).
    """
    live = t.pointer(region)
    if live is None or live["live_ds"] >= ds:
        return None
    reg = registry_row(t, region, live["model_version"])
    if reg is None:
        return None
    live_model = (reg["model_type"], registered_params(reg["params"]))
    found = {"model_version": live["model_version"], "model_type": reg["model_type"]}
    if _same(live_model, chosen):
        return {**found, "metrics": val, "how": "same model and parameters as tonight's"}
    for trial in trials:
        if _same(live_model, (trial["model"], trial["params"])):
            return {**found, "metrics": trial["metrics"], "how": "a trial of tonight's search"}
    try:
        metrics = score(lambda: models.create(live_model[0], **live_model[1]))
    except models.FIT_ERRORS as exc:
        return {**found, "metrics": {}, "how": f"could not be refitted: {exc}"}
    return {**found, "metrics": metrics, "how": "refitted on tonight's validation folds"}


def _same(a: tuple, b: tuple) -> bool:
    """The same (model type, params), compared as the registry stores them (JSON)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _search_record(t: LakeTables, lake: Lake, region: str, ds: str, m: ModelSettings, mat):
    """(the search record, the choice to reuse or None) for tonight's `auto` fit.

    The last search of the region is reused (its choice validated and refitted, no search) while
    it is younger than `retune_days`, was run under the same [model] settings and code, and the
    users and items have not grown by RETUNE_GROWTH since; otherwise tonight searches.
    """
    settings = _settings_digest(m)
    fresh = {"ds": ds, "n_users": int(mat.shape[0]), "n_items": int(mat.shape[1]), "settings": settings}
    if m.retune_days == 0:
        return fresh, None
    meta = latest_meta(t, lake, region, shift(ds, -m.retune_days), ds) or {}
    last = meta.get("search")
    if (
        last is None
        or last["settings"] != settings
        or shift(last["ds"], m.retune_days) <= ds
        or mat.shape[0] > RETUNE_GROWTH * last["n_users"]
        or mat.shape[1] > RETUNE_GROWTH * last["n_items"]
    ):
        return fresh, None
    return last, {"model": meta["model_type"], "params": meta["params"]}


def _settings_digest(m: ModelSettings) -> str:
    """The [model] settings (but retune_days) and the code version a search ran under."""
    described = {**dataclasses.asdict(m), "retune_days": None, "version": __version__}
    return hashlib.sha1(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:12]


def inputs_fingerprint(enc, model_type: str, settings: ModelSettings) -> str:
    """What a fit depends on: the interactions (ids and confidences), the requested model, the
    [model] settings and the code version. The same fingerprint means the same training task."""
    digest = hashlib.sha1()
    for part in (enc.train.indptr, enc.train.indices, enc.train.data):
        digest.update(np.ascontiguousarray(part).tobytes())
    described = [
        [str(u) for u in enc.user_ids],
        [str(i) for i in enc.item_ids],
        model_type,
        dataclasses.asdict(settings),
        __version__,
    ]
    digest.update(json.dumps(described, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _registered_fit(t: LakeTables, lake: Lake, region: str, ds: str, fingerprint: str) -> dict | None:
    """The summary of the model already registered for (region, ds) from the same inputs, if any.

    Reruns are idempotent: a time-budgeted search (`auto`) can pick another model under another
    machine load, so a rerun of the same task keeps the registered model instead of refitting.
    """
    found = registered_meta(t, lake, region, ds)
    if found is None or found[1].get("inputs_fingerprint") != fingerprint:
        return None
    row, meta = found
    return {**_summary(row, float(meta.get("fit_s", 0.0))), "reused": "same inputs as the registered model"}


def _summary(row: dict, fit_s: float) -> dict:
    return {
        "model_version": row["model_version"],
        "model_type": row["model_type"],
        "validation": {k: round(v, 4) for k, v in row["validation_metrics"].items()},
        "n_users": row["n_users"],
        "n_items": row["n_items"],
        "n_interactions": row["n_interactions"],
        "fit_s": round(fit_s, 2),
    }
