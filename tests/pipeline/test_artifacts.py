"""The model artifact store holds data, never code, and a save never loses the registered model."""

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import RunsCode, write_interactions
from nightfeed.configuration import config, settings
from nightfeed.core.errors import NightfeedError
from nightfeed.pipeline import artifacts
from nightfeed.pipeline.train_model import train_model

REGION, DS = "US", "2026-11-25"


@pytest.fixture
def trained(spark, lake):
    """A lake with one popularity model trained and registered for (US, DS); its registry row."""
    cfg = settings.with_changes(config.region_settings(REGION), model={"type": "popularity"})
    write_interactions(spark, lake, REGION, DS)
    train_model(spark, lake, REGION, DS, cfg)
    from nightfeed.lake.tables import LakeTables

    return artifacts.registered_model(LakeTables(spark, lake.root), REGION, DS)


def test_ids_are_stored_without_pickle_and_load_back(trained, lake):
    model, users, items = artifacts.load_artifact(lake, trained["artifact_path"])
    assert users.dtype.kind == "U" and items.dtype.kind == "U"
    assert "u0" in set(users) and model.n_items == len(items)


def test_a_pickled_id_file_is_refused_and_runs_nothing(trained, lake, tmp_path):
    marker = tmp_path / "pwned"
    folder = lake.root / trained["artifact_path"]
    np.save(folder / "users.npy", np.array([RunsCode(marker), "u1"], dtype=object), allow_pickle=True)
    with pytest.raises(NightfeedError, match=r"refused .*users\.npy"):
        artifacts.load_artifact(lake, trained["artifact_path"])
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink", "models root"])
def test_an_artifact_path_leaving_the_models_folder_is_refused(trained, lake, tmp_path, kind):
    outside = tmp_path / "outside" / "model"
    shutil.copytree(lake.root / trained["artifact_path"], outside)
    if kind == "absolute":
        path = str(outside)
    elif kind == "dotdot":
        path = "models/../../outside/model"
    elif kind == "symlink":
        (lake.root / "models" / "link").symlink_to(outside)
        path = "models/link"
    else:
        path = "models"
    with pytest.raises(NightfeedError, match="refused model artifact path"):
        artifacts.load_artifact(lake, path)


def test_a_save_that_dies_while_swapping_keeps_the_previous_artifact(trained, lake, monkeypatch):
    """Killed after the old folder moved aside and before the new one moved in: the registered
    artifact is still found (today's code deleted the old folder first)."""
    folder = artifacts.artifact_dir(lake, trained["artifact_path"])
    before = (folder / "meta.json").read_text()
    real_rename = Path.rename

    def dies_moving_the_new_folder_in(self, target):
        if self.name.endswith(".tmp"):
            raise KeyboardInterrupt("killed")
        return real_rename(self, target)

    model, users, items = artifacts.load_artifact(lake, trained["artifact_path"])
    monkeypatch.setattr(Path, "rename", dies_moving_the_new_folder_in)
    with pytest.raises(KeyboardInterrupt):
        artifacts.save_atomically(model, folder, users, items, {})
    monkeypatch.setattr(Path, "rename", real_rename)
    model, users, _ = artifacts.load_artifact(lake, trained["artifact_path"])
    assert (folder / "meta.json").read_text() == before and len(users) == trained["n_users"]


def test_pickle_payload_helper_really_runs_code(tmp_path):
    """The payload used above does run when unpickled, so the refusals above are meaningful."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(RunsCode(marker)))
    assert marker.exists()
