"""Configuration parsed once into typed settings: types converted, unknown and missing keys named."""

import pytest

from nightfeed import config, settings
from nightfeed.errors import NightfeedError


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
        ("gate", None, None, r"\[gate\]: missing keys \['max_ndcg_drop'\]"),
        ("feed", "n", -5, r"\[feed\] n = -5: must be at least 1"),
        ("feed", "max_per_creator", 0, r"\[feed\] max_per_creator = 0: must be at least 1"),
        ("feed", "fresh_share", 1.5, r"\[feed\] fresh_share = 1.5: must be between 0 and 1"),
        ("model", "k", 10.5, r"\[model\] k = 10.5: expected int"),
        ("feed", "n", True, r"\[feed\] n = True: expected int"),
        ("quality", "min_feed_coverage", -0.1, r"must be between 0 and 1"),
        ("audit", "model", "magic", r"\[audit\] model = 'magic': choose from xgboost, gbt"),
    ],
)
def test_bad_keys_are_clear_errors(section, key, value, message):
    raw = config.load_raw()
    if key is None:
        raw["defaults"][section] = {}
    else:
        raw["defaults"].setdefault(section, {})[key] = value
    with pytest.raises(NightfeedError, match=message):
        config.region_settings("ZZ", raw)


def test_with_changes_copies_and_keeps_the_original():
    cfg = config.region_settings("ZZ")
    changed = settings.with_changes(cfg, gate={"max_ndcg_drop": 1.0})
    assert changed.gate.max_ndcg_drop == 1.0 and cfg.gate.max_ndcg_drop == 0.02
    with pytest.raises(AttributeError):
        cfg.feed.n = 3
