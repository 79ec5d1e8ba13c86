import pytest

from nightfeed.configuration import config
from nightfeed.core.errors import NightfeedError


def test_region_overrides_merge_over_defaults():
    raw = {
        "defaults": {"feed": {"n": 50, "max_per_creator": 3}, "lookback_days": 30},
        "regions": {"DE": {"feed": {"max_per_creator": 2}}},
    }
    de = config.region_config("DE", raw)
    assert de["feed"] == {"n": 50, "max_per_creator": 2}
    assert de["lookback_days"] == 30


def test_unknown_region_runs_with_defaults():
    raw = config.load_raw()
    assert config.region_config("ZZ", raw) == raw["defaults"]


@pytest.mark.parametrize("bad", ["", "1US", "U S", "x" * 40, "US;drop", "US\n", "US\r\n", None])
def test_invalid_region_codes_are_rejected(bad):
    with pytest.raises(NightfeedError):
        config.validate_region(bad)


@pytest.mark.parametrize("bad", ["2026-13-01", "20261125", "yesterday", "2026-11-5"])
def test_invalid_ds_is_rejected(bad):
    with pytest.raises(NightfeedError):
        config.validate_ds(bad)


def test_lake_root_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NIGHTFEED_LAKE", str(tmp_path))
    lake = config.Lake.default()
    assert lake.table("gold/feeds") == str(tmp_path / "gold" / "feeds")
    assert lake.landing("events", "US", "2026-11-25") == tmp_path / "landing/events/region=US/ds=2026-11-25"


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        ("US", "nightly_regions = 'US': expected a list of region codes"),
        (["US", "BR", "US"], r"nightly_regions lists \['US'\] more than once"),
        (["U S"], "nightly_regions: invalid region code 'U S'"),
    ],
)
def test_bad_nightly_regions_are_clear_errors(regions, message):
    with pytest.raises(NightfeedError, match=message):
        config.nightly_regions({"nightly_regions": regions})


def test_an_empty_nightly_list_stops_run_instead_of_doing_nothing(tmp_path, monkeypatch, capsys):
    from nightfeed.cli.main import main

    conf = tmp_path / "empty.toml"
    conf.write_text(
        config.conf_path().read_text().replace('nightly_regions = ["US", "BR", "DE"]', "nightly_regions = []")
    )
    monkeypatch.setenv("NIGHTFEED_CONF", str(conf))
    assert main(["run", "--all-regions", "--ds", "2026-11-25"]) == 2
    assert "nightly_regions in" in capsys.readouterr().err
