"""Configuration parsed once into typed settings: types converted, unknown keys named, defaults from
the key declarations."""

import subprocess
import sys

import pytest

from nightfeed.configuration import config, settings
from nightfeed.core.errors import NightfeedError


def test_the_shipped_configuration_parses_for_every_region():
    raw = config.load_raw()
    for region in [*config.nightly_regions(raw), "ZZ"]:
        cfg = config.region_settings(region, raw)
        assert isinstance(cfg.feed.n, int) and cfg.feed.eligible_moderation == ("approved",)
        assert isinstance(cfg.quality.volume_band, tuple) and cfg.quality.min_full_feed_share == 1.0
    assert config.region_settings("DE", raw).feed.max_per_creator == 2
    assert config.region_settings("ZZ", raw).feed.max_per_creator == 3


def test_values_are_converted_to_their_types():
    raw = config.load_raw()
    raw["defaults"]["feed"]["n"] = "20"
    raw["defaults"]["model"]["k"] = 5.0  # a whole number written as a float is still an int
    raw["defaults"]["model"]["als"] = {"factors": 16}
    cfg = config.region_settings("ZZ", raw)
    assert cfg.feed.n == 20 and cfg.model.k == 5 and isinstance(cfg.model.k, int)
    assert cfg.model.per_model == {"als": {"factors": 16}}


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("feed", "nn", 5, r"\[feed\]: unknown keys \['nn'\]"),
        ("feed", "n", "many", r"\[feed\] n = 'many': expected int"),
        ("feed", "n", -5, r"\[feed\] n = -5: must be at least 1"),
        ("feed", "max_per_creator", 0, r"\[feed\] max_per_creator = 0: must be at least 1"),
        ("feed", "fresh_share", 1.5, r"\[feed\] fresh_share = 1.5: must be between 0 and 1"),
        ("model", "k", 10.5, r"\[model\] k = 10.5: expected int"),
        ("feed", "n", True, r"\[feed\] n = True: expected int"),
        ("quality", "min_feed_coverage", -0.1, r"must be between 0 and 1"),
        ("audit", "model", "magic", r"\[audit\] model = 'magic': choose from xgboost, gbt"),
        ("feed", "eligible_moderation", [], r"\[feed\] eligible_moderation = \[\]: choose from approved"),
        ("feed", "eligible_moderation", ["aproved"], r"unknown \['aproved'\]; choose from approved, pending"),
        ("event_weights", None, None, r"event_weights = \{\}: nothing in it is more than 0"),
        ("synthetic", "false_report_share", 1.0, r"false_report_share = 1.0: must be between 0 and 0.999"),
        ("event_weights", "clap", 1.0, r"event_weights = .*: unknown \['clap'\]; choose from impression"),
        (
            "feed",
            "new_creator_share",
            0.95,
            r"\[feed\] fresh_share 0.1 \+ new_creator_share 0.95: together more",
        ),
        (
            "quality",
            "volume_band",
            [3.0, 0.3],
            r"volume_band = \[3.0, 0.3\]: must be \[low, high\] with 0 <=",
        ),
        ("quality", "volume_band", [1.0], r"volume_band = \[1.0\]: must be \[low, high\]"),
        ("quality", "trending_share_band", [0.0, 1.5], r"trending_share_band = \[0.0, 1.5\]: must be"),
        ("model", "retune_days", -1, r"\[model\] retune_days = -1: must be at least 0"),
        ("feed", "fresh_share", float("nan"), r"fresh_share = nan: expected float \(a finite number\)"),
        ("", "half_life_days", float("inf"), r"half_life_days = inf: expected float \(a finite number\)"),
        ("event_weights", "like", float("nan"), r"event_weights = .*: expected dict.* of finite numbers"),
        ("quality", "volume_band", [0.3, float("inf")], r"volume_band = .*: expected tuple.* of finite"),
    ],
)
def test_bad_keys_are_clear_errors(section, key, value, message):
    raw = config.load_raw()
    if key is None:
        raw["defaults"][section] = {}
    elif not section:
        raw["defaults"][key] = value
    else:
        raw["defaults"].setdefault(section, {})[key] = value
    with pytest.raises(NightfeedError, match=message):
        config.region_settings("ZZ", raw)


def test_a_key_not_given_takes_its_declared_default():
    raw = config.load_raw()
    raw["defaults"]["gate"] = {}
    del raw["defaults"]["feed"]
    cfg = config.region_settings("ZZ", raw)
    assert cfg.gate.max_ndcg_drop == settings.GateSettings().max_ndcg_drop == 0.02
    assert cfg.feed == settings.FeedSettings()
    assert config.region_settings("ZZ", {}).feed.n == 50  # an empty file: every default


def test_with_changes_copies_and_keeps_the_original():
    cfg = config.region_settings("ZZ")
    changed = settings.with_changes(cfg, gate={"max_ndcg_drop": 1.0})
    assert changed.gate.max_ndcg_drop == 1.0 and cfg.gate.max_ndcg_drop == 0.02
    with pytest.raises(AttributeError):
        cfg.feed.n = 3


@pytest.mark.parametrize(
    "section, message",
    [
        (
            "[regions.QQ.feed]\neligible_moderation = []",
            "[feed] eligible_moderation = []: choose from approved, pending, restricted, removed",
        ),
        ("[regions.QQ.model.als]\nfactors = -3", "[model.als]: als: factors = -3: must be above 0"),
        ("[regions.QQ.model.svd]\nfactors = 3", "[model.svd]: no such model; choose from popularity"),
        ("[regions.QQ.model.auto]\ntime_budget_s = 5", "[model.auto]: auto takes no table of its own"),
        ("[regions.QQ.model]\ntype = 'svd'", "[model] type = 'svd': choose from popularity"),
        ("[regions.QQ.feed]\nfresh_share = nan", "[feed] fresh_share = nan: expected float (a finite"),
    ],
)
def test_a_bad_configuration_stops_nightfeed_run_before_spark_starts(tmp_path, section, message):
    conf = tmp_path / "bad.toml"
    conf.write_text(config.conf_path().read_text() + f"\n{section}\n")
    code = (
        "import sys; from nightfeed.cli.main import main; rc = main(sys.argv[1:]); "
        "assert 'pyspark' not in sys.modules, 'Spark was loaded'; sys.exit(rc)"
    )
    env = {"NIGHTFEED_CONF": str(conf), "NIGHTFEED_LAKE": str(tmp_path / "lake"), "PATH": "/usr/bin:/bin"}
    argv = ["run", "--region", "QQ", "--ds", "2026-11-21"]
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env)
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1
    assert out.stderr.startswith(f"error: configuration {message}")
    assert not (tmp_path / "lake").exists()
