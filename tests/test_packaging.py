"""What an installed nightfeed needs travels inside the package: the wheel and the --py-files zip
carry the default configuration, the table schemas and the quality suites."""

import subprocess
import sys
import zipfile

from helpers import ROOT
from nightfeed.configuration import config
from nightfeed.lake import schemas
from nightfeed.runtime import cluster

RESOURCES = {
    "nightfeed/resources/nightfeed.toml",
    "nightfeed/resources/schemas/feeds.json",
    "nightfeed/resources/schemas/quality/events.json",
    "nightfeed/resources/schemas/quality/features.json",
    "nightfeed/resources/schemas/quality/feeds.json",
    "nightfeed/jobs/__main__.py",
}


def test_the_wheel_carries_conf_schemas_and_suites(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("nightfeed-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert RESOURCES <= names
    shipped = {f"nightfeed/resources/schemas/{p.name}" for p in (ROOT / "schemas").glob("*.json")}
    assert shipped and shipped <= names


def test_the_py_files_zip_carries_them_too(tmp_path):
    names = set(zipfile.ZipFile(cluster.package_zip(tmp_path / "nightfeed.zip")).namelist())
    assert RESOURCES <= names


def test_defaults_are_read_from_the_package_unless_a_file_is_named(monkeypatch, tmp_path):
    monkeypatch.delenv("NIGHTFEED_CONF", raising=False)
    assert config.conf_path() == config.resource("nightfeed.toml")
    assert (ROOT / "conf" / "nightfeed.toml").resolve() == config.conf_path().resolve()
    assert (ROOT / "schemas").resolve() == schemas.schemas_dir().resolve()
    own = tmp_path / "mine.toml"
    own.write_text('nightly_regions = ["XX"]\n[defaults]\n')
    monkeypatch.setenv("NIGHTFEED_CONF", str(own))
    assert config.nightly_regions() == ["XX"]
