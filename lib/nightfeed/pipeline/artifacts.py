"""The model artifact store: versioned folders under <lake>/models, written atomically, and the
registry row that names the model of each (region, ds).

Artifacts are data, never code: arrays load with `allow_pickle=False`, models from JSON and
numeric arrays, and a registry row's path is followed only while it stays under <lake>/models."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pyspark.sql import functions as F

from nightfeed import models
from nightfeed.configuration.config import Lake
from nightfeed.core.errors import NightfeedError
from nightfeed.lake import schemas
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.registry import AUDIT_PREFIX, RANKER_PREFIX

BACKUP_SUFFIX = ".old"


def replace_folder(path: Path, write: Callable[[Path], None]) -> None:
    """Write a folder's new content beside it, then swap it in: the old folder is renamed aside,
    the new one renamed in, the old one deleted. A run killed at any point leaves the previous
    complete folder at `path` or at its backup, which `artifact_dir` puts back."""
    restore_backup(path)
    tmp = path.with_name(path.name + ".tmp")
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    shutil.rmtree(tmp, ignore_errors=True)
    write(tmp)
    if path.exists():
        shutil.rmtree(backup, ignore_errors=True)
        path.rename(backup)
    tmp.rename(path)
    shutil.rmtree(backup, ignore_errors=True)


def restore_backup(path: Path) -> None:
    """Put back the previous folder when a swap died after moving it aside."""
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    if not path.exists() and backup.is_dir():
        backup.rename(path)


def save_ids(path: Path, ids) -> None:
    """Ids as a unicode array (`<U`), which loads without pickle."""
    np.save(path, np.asarray([str(i) for i in ids], dtype=str), allow_pickle=False)


def load_ids(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:  # an object array (pickled), as older versions saved it
        raise NightfeedError(f"refused {path}: {exc}; rerun the stage that trained it") from None


def save_atomically(model, path: Path, users, items, meta: dict) -> None:
    """The model, its id maps and meta.json, swapped in whole (`replace_folder`)."""

    def write(tmp: Path) -> None:
        model.save(tmp)
        save_ids(tmp / "users.npy", users)
        save_ids(tmp / "items.npy", items)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1, default=str))

    replace_folder(path, write)


def artifact_dir(lake: Lake, artifact_path: str) -> Path:
    """The folder a registry row's `artifact_path` names (relative to the lake root). Anything
    that leaves <lake>/models, by an absolute path, `..` or a symbolic link, is refused."""
    models_root = (lake.root / "models").resolve()
    relative = Path(artifact_path or "")
    path = (lake.root / relative).resolve()
    if relative.is_absolute() or not path.is_relative_to(models_root) or path == models_root:
        raise NightfeedError(
            f"refused model artifact path {artifact_path!r}: a registered artifact must be a folder "
            f"under {models_root}"
        )
    restore_backup(path)
    return path


def registered_model(t: LakeTables, region: str, ds: str, audit: bool = False) -> dict:
    """The gold/model_registry row of (region, ds): the feed's model, or the audit classifier."""
    stage = "train_audit_model" if audit else "train_model"
    row = _of_family(t.require_slice("gold/model_registry", region, ds, stage), audit).first()
    if row is None:
        raise NightfeedError(
            f"no {'audit' if audit else 'feed'} model registered for {region} {ds}: run {stage} first"
        )
    return row.asDict()


def registry_row(t: LakeTables, region: str, model_version: str):
    """The gold/model_registry row of one model version of the region, or None."""
    return (
        t.read("gold/model_registry")
        .where((F.col("region") == region) & (F.col("model_version") == model_version))
        .first()
    )


def registered_params(stored: str) -> dict:
    """A registry row's model parameters: its `params` JSON without the bookkeeping keys."""
    return {p: v for p, v in json.loads(stored).items() if p not in ("requested", "selected_by")}


def _of_family(registry_rows, audit: bool):
    """The rows of the audit classifier (audit=True) or of the feed's model."""
    kind = F.col("model_type")
    if audit:
        return registry_rows.where(kind.startswith(AUDIT_PREFIX))
    return registry_rows.where(~kind.startswith(AUDIT_PREFIX) & ~kind.startswith(RANKER_PREFIX))


def registered_meta(t: LakeTables, lake: Lake, region: str, ds: str) -> tuple[dict, dict] | None:
    """The feed model's registry row of (region, ds) and its artifact's meta.json; None when there
    is no such row or its artifact is gone."""
    row = _of_family(t.read_slice("gold/model_registry", region, ds), audit=False).first()
    meta = artifact_dir(lake, row["artifact_path"]) / "meta.json" if row is not None else None
    if meta is None or not meta.exists() or not (meta.parent / "model.json").exists():
        return None
    return row.asDict(), json.loads(meta.read_text())


def latest_meta(t: LakeTables, lake: Lake, region: str, first_ds: str, before_ds: str) -> dict | None:
    """meta.json of the newest feed model registered for the region on a day from first_ds up to
    (not including) before_ds; None when there is none or its artifact is gone."""
    rows = (
        _of_family(t.read("gold/model_registry"), audit=False)
        .where((F.col("region") == region) & (F.col("ds") >= first_ds) & (F.col("ds") < before_ds))
        .orderBy(F.col("ds").desc())
        .select("artifact_path")
        .limit(1)
        .collect()
    )
    meta = artifact_dir(lake, rows[0]["artifact_path"]) / "meta.json" if rows else None
    return json.loads(meta.read_text()) if meta is not None and meta.exists() else None


def register(t: LakeTables, row: dict, region: str, ds: str) -> None:
    """Replace this model family's row of the (region, ds) registry slice, keeping the other
    families' rows (the feed's model, the audit classifier and the ranker share the slice)."""
    frame = t.spark.createDataFrame(
        [{**row, "validation_metrics": _sorted(row["validation_metrics"])}],
        schemas.load("gold_model_registry"),
    )
    family = " AND ".join(
        f"startswith(t.model_type, '{p}') = startswith(s.model_type, '{p}')"
        for p in (AUDIT_PREFIX, RANKER_PREFIX)
    )
    t.replace_rows("gold/model_registry", frame, region, ds, family)


def _sorted(metrics: dict | None) -> dict | None:
    return None if metrics is None else dict(sorted(metrics.items()))


def load_artifact(lake: Lake, path: str):
    """A registered model and its id maps; `path` is the registry row's `artifact_path`."""
    p = artifact_dir(lake, path)
    if not (p / "model.json").exists():
        raise NightfeedError(f"model artifact missing at {p}: rerun train_model")
    return models.load(p), load_ids(p / "users.npy"), load_ids(p / "items.npy")
