import dataclasses
import datetime as dt
import json
import shutil

import pytest

from helpers import write_interactions
from nightfeed import models
from nightfeed.configuration import config, settings
from nightfeed.models.configured import model_params
from nightfeed.pipeline.artifacts import register
from nightfeed.pipeline.train_model import train_model


def test_model_config_sets_the_confidence_transform_of_every_model():
    m = config.region_settings("US").model
    assert m.confidence == "auto"
    assert "confidence" not in model_params(m, "als") and "confidence" not in model_params(m, "auto")
    fixed = dataclasses.replace(m, confidence="log", confidence_alpha=2.0, confidence_eps=30.0)
    for name in ("als", "ease", "rp3beta", "auto"):
        params = model_params(fixed, name)
        assert (params["confidence"], params["confidence_alpha"], params["confidence_eps"]) == (
            "log",
            2.0,
            30.0,
        )
        assert models.create(name, **params).params["confidence"] == "log"
    with pytest.raises(ValueError, match="unknown confidence"):
        models.create("als", **model_params(dataclasses.replace(m, confidence="sqrt"), "als"))


def test_ease_keeps_no_more_items_than_the_memory_budget_allows():
    import numpy as np
    import scipy.sparse as sp

    from nightfeed.models.ease import items_within

    m = dataclasses.replace(config.region_settings("US").model, memory_budget_mb=1)
    assert items_within(1) == 295 and items_within(4096) == 18918  # a 3 × items² float32 solve
    assert model_params(m, "ease")["max_items"] == 295 == model_params(m, "auto")["ease_max_items"]
    wide = dataclasses.replace(m, memory_budget_mb=4096, ease_max_items=100)
    assert model_params(wide, "ease")["max_items"] == 100
    rng = np.random.default_rng(0)
    data = sp.csr_matrix((rng.random((400, 600)) < 0.05).astype(np.float32))
    assert len(models.create("ease", **model_params(m, "ease")).fit(data).kept_items) == 295


def test_a_rerun_on_the_same_inputs_keeps_the_registered_model(spark, lake):
    """A time-budgeted search may choose differently under another load: reruns keep the model."""
    region, ds = "US", "2026-11-25"
    cfg = settings.with_changes(config.region_settings(region), model={"type": "popularity"})
    write_interactions(spark, lake, region, ds)
    first = train_model(spark, lake, region, ds, cfg)
    artifact = next((lake.models(region) / f"ds={ds}").iterdir())
    written = (artifact / "meta.json").stat().st_mtime_ns
    again = train_model(spark, lake, region, ds, cfg)
    assert again["reused"] and again["model_version"] == first["model_version"]
    assert (artifact / "meta.json").stat().st_mtime_ns == written
    shutil.rmtree(artifact)
    assert "reused" not in train_model(spark, lake, region, ds, cfg)
    assert (artifact / "model.json").exists()
    changed = settings.with_changes(cfg, model={"k": 20})
    assert "reused" not in train_model(spark, lake, region, ds, changed)


def test_auto_searches_once_per_retune_period_and_refits_the_choice_between(spark, lake):
    """Nights between searches validate and refit the last search's choice; a search runs again
    when it is retune_days old, the [model] settings change or the users grew by half."""
    region, day0 = "BR", "2026-11-10"
    cfg = settings.with_changes(
        config.region_settings(region), model={"time_budget_s": 10.0, "retune_days": 3}
    )

    def night(offset, users=12, cfg=cfg):
        ds = (dt.date.fromisoformat(day0) + dt.timedelta(days=offset)).isoformat()
        write_interactions(spark, lake, region, ds, users)
        out = train_model(spark, lake, region, ds, cfg)
        folder = lake.root / "models" / f"region={region}" / f"ds={ds}"
        return out, json.loads(next(folder.glob("*/tuning.json")).read_text())

    first, searched = night(0)
    assert (first["search"], first["searched_ds"]) == ("ran", day0) and not searched["reused"]
    assert len(searched["trials"]) > 1
    second, reused = night(1)
    assert (second["search"], second["searched_ds"]) == ("reused", day0) and reused["reused"]
    assert len(reused["trials"]) == 1 and reused["chosen"]["model"] == searched["chosen"]["model"]
    assert reused["chosen"]["params"] == searched["chosen"]["params"]
    assert second["validation"]["ndcg@10"] == round(reused["chosen"]["metrics"]["ndcg@10"], 4)
    assert night(2)[0]["search"] == "reused"
    assert night(3)[0]["search"] == "ran"  # three days old
    assert night(4, users=20)[0]["search"] == "ran"  # users grew from 12 to 20
    assert night(5, users=20)[0]["search"] == "reused"
    assert night(6, users=20, cfg=settings.with_changes(cfg, model={"k": 5}))[0]["search"] == "ran"
    every_night = settings.with_changes(cfg, model={"retune_days": 0})
    assert night(7, users=20, cfg=every_night)[0]["search"] == "ran"


def test_registering_one_family_stores_the_others_row_unchanged(spark, lake):
    from nightfeed.lake.tables import LakeTables

    t = LakeTables(spark, lake.root)
    metrics = {
        "ndcg@10": 0.3,
        "precision@10": 0.1,
        "recall@10": 0.5,
        "map@10": 0.2,
        "coverage": 0.5,
        "gini": 0.7,
    }
    base = {"region": "US", "ds": "2026-11-25", "params": "{}", "artifact_path": "x", "n_users": 1}
    base |= {"n_items": 1, "n_interactions": 1}
    register(
        t,
        {**base, "model_version": "v1", "model_type": "ease", "validation_metrics": metrics},
        "US",
        "2026-11-25",
    )

    def feed_row():
        rows = t.read_slice("gold/model_registry", "US", "2026-11-25").where("model_type = 'ease'").collect()
        return [str(v) for v in rows[0]]

    first = feed_row()
    for version in ("a1", "a2", "a3"):
        audit = {**base, "model_version": version, "model_type": "audit-prior", "validation_metrics": None}
        register(t, audit, "US", "2026-11-25")
        assert feed_row() == first


def test_two_families_registered_at_once_both_stay(spark, lake):
    """A nightly and an ad-hoc run registering the two families of one slice concurrently: each
    update is checked against the other and retried on the fresh slice, so neither row is lost."""
    from concurrent.futures import ThreadPoolExecutor

    from nightfeed.lake.tables import LakeTables

    t = LakeTables(spark, lake.root)
    base = {"region": "US", "ds": "2026-11-25", "params": "{}", "artifact_path": "x", "n_users": 1}
    base |= {"n_items": 1, "n_interactions": 1, "validation_metrics": None}

    def register_family(model_type):
        for k in range(3):
            register(
                t, {**base, "model_version": f"{model_type}-{k}", "model_type": model_type}, "US", base["ds"]
            )

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(register_family, ["ease", "audit-prior"]))
    rows = t.read_slice("gold/model_registry", "US", base["ds"]).collect()
    assert sorted(r.model_version for r in rows) == ["audit-prior-2", "ease-2"]
