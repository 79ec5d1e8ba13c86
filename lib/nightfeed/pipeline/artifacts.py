"""The model artifact store: versioned folders under <lake>/models, written atomically, and the
registry row that names the model of each (region, ds)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from .. import models
from ..config import Lake
from ..errors import NightfeedError
from ..tables import LakeTables


def save_atomically(model, path: Path, users, items, meta: dict) -> None:
    """Write into a temp folder then rename, so a killed run never leaves a half-written model."""
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(tmp)
    np.save(tmp / "users.npy", np.asarray(users, dtype=object), allow_pickle=True)
    np.save(tmp / "items.npy", np.asarray(items, dtype=object), allow_pickle=True)
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


def registered_model(t: LakeTables, region: str, ds: str) -> dict:
    """The gold/model_registry row of (region, ds)."""
    return t.require_slice("gold/model_registry", region, ds, "train_model").first().asDict()


def load_artifact(lake: Lake, path: str):
    """A registered model and its id maps; `path` is relative to the lake root."""
    p = lake.root / path
    if not (p / "model.json").exists():
        raise NightfeedError(f"model artifact missing at {p}: rerun train_model")
    return (
        models.load(p),
        np.load(p / "users.npy", allow_pickle=True),
        np.load(p / "items.npy", allow_pickle=True),
    )
