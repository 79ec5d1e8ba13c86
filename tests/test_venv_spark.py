"""The venv's Spark set-up: the env defaults, conf/ kept empty, and the JVM class archive in use."""

import os
import subprocess
import sys
from pathlib import Path

from nightfeed.runtime import venv_spark


def _opts_after_env(archive, opts):
    """SPARK_SUBMIT_OPTS as a Spark launch sees it after sourcing the env script."""
    script = venv_spark.env_script(archive) + 'printf %s "$SPARK_SUBMIT_OPTS"'
    env = {**os.environ, "SPARK_SUBMIT_OPTS": opts}
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, check=True).stdout


def test_env_script_adds_the_archive_unless_the_caller_chose_one(tmp_path):
    jsa = tmp_path / "a.jsa"
    assert _opts_after_env(jsa, "") == f"-XX:SharedArchiveFile={jsa} {venv_spark.QUIET_CDS}"
    assert _opts_after_env(jsa, "-XX:TieredStopAtLevel=1").startswith("-XX:TieredStopAtLevel=1 -XX:Shared")
    for own in ("-XX:ArchiveClassesAtExit=/x.jsa", "-XX:SharedArchiveFile=/y.jsa", "-Xshare:off"):
        assert _opts_after_env(jsa, own) == own
    assert _opts_after_env(None, "-Xmx1g") == "-Xmx1g"


def test_only_files_an_earlier_setup_wrote_leave_conf(tmp_path):
    (tmp_path / "spark-env.sh").write_text("# Written by `nightfeed setup-spark` (make install)\nX=1\n")
    (tmp_path / "log4j2.properties").write_text("# Written by `nightfeed setup-spark`: WARN\n")
    assert venv_spark.empty_conf_dir(tmp_path) == []
    (tmp_path / "spark-defaults.conf").write_text("spark.executor.memory 2g\n")
    (tmp_path / "spark-env.sh").write_text("export MINE=1\n")
    assert venv_spark.empty_conf_dir(tmp_path) == ["spark-defaults.conf", "spark-env.sh"]


def test_the_installed_spark_submit_maps_the_class_archive(tmp_path):
    """`make install` wrote an archive this venv's JVM accepts: -Xshare:on fails if it cannot map
    it, and the class-loading log shows where Spark's classes came from."""
    log = tmp_path / "classes.txt"
    env = {**os.environ, "SPARK_SUBMIT_OPTS": f"-Xshare:on -Xlog:class+load:file={log}"}
    env.pop("SPARK_HOME", None)
    res = subprocess.run(
        [str(Path(sys.executable).parent / "spark-submit"), "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    loaded = log.read_text().splitlines()
    from_archive = [line for line in loaded if "shared objects file (top)" in line]
    assert len(from_archive) > len(loaded) / 2, (len(from_archive), len(loaded))
    assert list((venv_spark.SPARK_HOME / "conf").iterdir()) == []
