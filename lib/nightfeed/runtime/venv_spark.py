"""Set up this venv's pip-installed Spark once (`nightfeed setup-spark`, run by `make install`).

After it, the venv's `spark-submit` needs no activated venv, no `--packages` and no flags: the
Delta jars sit in pyspark's jars folder, and `nightfeed-env.sh` (sourced by Spark's own
`load-spark-env.sh` for every launch) points Spark at this interpreter, loopback and Java 17.

Every spark-submit stage starts a fresh JVM that loads and verifies thousands of classes. A
class-data-sharing archive of those classes, written once here by a warm-up run, makes every
later start map them instead (publish_feeds: 40 s → 29 s on this machine). The JVM refuses an
archive whose class path holds a non-empty folder, and Spark always puts its `conf/` folder
first on it, so `conf/` stays empty: log4j2's settings travel in a jar instead. A JVM that
cannot use the archive (another JDK, changed jars) starts as before, silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pyspark
from pyspark.sql import SparkSession

from nightfeed.core.errors import NightfeedError
from nightfeed.runtime.logs import LOG4J2_PROPERTIES
from nightfeed.runtime.spark import (
    DELTA_PACKAGE,
    delta_jars_installed,
    find_java_home,
    ivy_dir,
    prepare_environment,
)

SPARK_HOME = Path(pyspark.__file__).parent
ARCHIVE = SPARK_HOME / "nightfeed-jvm.jsa"
ENV_FILE = SPARK_HOME / "nightfeed-env.sh"
LOG4J2_JAR = SPARK_HOME / "jars" / "nightfeed-log4j2.jar"
# The JVM's CDS messages go to stdout, where a job's last line must be its JSON summary.
QUIET_CDS = "-Xlog:cds=off -Xlog:cds+dynamic=off"
HOOK = """
# nightfeed setup-spark: this venv's defaults, kept out of conf/ (see nightfeed/venv_spark.py)
if [ -f "${SPARK_HOME}/nightfeed-env.sh" ]; then
  set -a; . "${SPARK_HOME}/nightfeed-env.sh"; set +a
fi
"""
OUR_CONF_FILES = {
    "spark-env.sh": "# Written by `nightfeed setup-spark`",
    "log4j2.properties": "# Written by `nightfeed setup-spark`",
}


def install_delta_jars() -> list[Path]:
    """Resolve Delta and its dependencies with Ivy and copy them into pyspark's jars folder."""
    if delta_jars_installed():
        return []
    prepare_environment()
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("nightfeed-install-jars")
        .config("spark.jars.packages", DELTA_PACKAGE)
        .config("spark.jars.ivy", ivy_dir())
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.stop()
    target = SPARK_HOME / "jars"
    present = {re.sub(r"-[0-9][^-]*\.jar$", "", j.name) for j in target.glob("*.jar")}
    copied = []
    for jar in sorted((Path(ivy_dir()) / "jars").glob("*.jar")):
        name = jar.name.split("_", 1)[1]  # Ivy names files <organisation>_<artifact>-<version>.jar
        if re.sub(r"-[0-9][^-]*\.jar$", "", name) not in present:
            shutil.copy2(jar, target / name)
            copied.append(target / name)
    return copied


def env_script(archive: Path | None) -> str:
    """The defaults every launch of this venv's Spark gets; values already set win."""
    lines = [
        "# Written by `nightfeed setup-spark` (make install): defaults for this venv's Spark.",
        f'PYSPARK_PYTHON="${{PYSPARK_PYTHON:-{sys.executable}}}"',
        'SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"',
        'OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"',
    ]
    if java_home := find_java_home():
        lines.append(f'JAVA_HOME="${{JAVA_HOME:-{java_home}}}"')
    if archive is not None:
        flags = f"-XX:SharedArchiveFile={archive} {QUIET_CDS}"
        lines += [
            "# the JVM class archive, unless the caller chose one (or is writing one)",
            'case "$SPARK_SUBMIT_OPTS" in',
            "  *SharedArchiveFile*|*ArchiveClassesAtExit*|*Xshare:off*) ;;",
            f'  *) SPARK_SUBMIT_OPTS="${{SPARK_SUBMIT_OPTS:+$SPARK_SUBMIT_OPTS }}{flags}" ;;',
            "esac",
        ]
    return "\n".join(lines) + "\n"


def empty_conf_dir(conf: Path) -> list[str]:
    """Remove the conf/ files earlier setups wrote; returns the files left there (the user's)."""
    conf.mkdir(exist_ok=True)
    for name, header in OUR_CONF_FILES.items():
        path = conf / name
        if path.exists() and path.read_text(errors="replace").startswith(header):
            path.unlink()
    return sorted(p.name for p in conf.iterdir())


def dump_archive() -> Path:
    """Run the warm-up job once under spark-submit and keep the classes it loaded as ARCHIVE."""
    with tempfile.TemporaryDirectory(prefix="nightfeed-cds-") as tmp:
        staged = Path(tmp) / "archive.jsa"
        env = {**os.environ, "SPARK_SUBMIT_OPTS": f"-XX:ArchiveClassesAtExit={staged} {QUIET_CDS}"}
        env.pop("PYSPARK_GATEWAY_PORT", None)
        proc = subprocess.run(
            [str(SPARK_HOME / "bin" / "spark-submit"), str(Path(__file__).with_name("jvm_warmup.py")), tmp],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
        if proc.returncode != 0 or not staged.exists():
            raise NightfeedError(
                f"the JVM class archive was not written: {(proc.stdout + proc.stderr)[-1500:]}"
            )
        shutil.move(staged, ARCHIVE)
    return ARCHIVE


def _write_log4j2_jar() -> None:
    if LOG4J2_JAR.exists():
        with zipfile.ZipFile(LOG4J2_JAR) as jar:
            if jar.read("log4j2.properties").decode() == LOG4J2_PROPERTIES:
                return  # a rewritten jar would invalidate the archive
    with zipfile.ZipFile(LOG4J2_JAR, "w") as jar:
        jar.writestr("log4j2.properties", LOG4J2_PROPERTIES)


def configure_venv_spark() -> list[str]:
    """Delta jars, log4j2 settings, the env hook and the JVM class archive; returns what changed."""
    prepare_environment()
    done = [str(p) for p in install_delta_jars()]
    _write_log4j2_jar()
    done.append(str(LOG4J2_JAR))
    ARCHIVE.unlink(missing_ok=True)
    ENV_FILE.write_text(env_script(None))
    loader = SPARK_HOME / "bin" / "load-spark-env.sh"
    if HOOK not in loader.read_text():
        loader.write_text(loader.read_text() + HOOK)
    done += [str(ENV_FILE), str(loader)]
    finder = Path(sys.executable).parent / "find-spark-home"
    if finder.exists():
        text = finder.read_text()
        patched = text.replace('${PYSPARK_PYTHON:-"python3"}', f'${{PYSPARK_PYTHON:-"{sys.executable}"}}')
        if patched != text:
            finder.write_text(patched)
            done.append(str(finder))
    left = empty_conf_dir(SPARK_HOME / "conf")
    if left:
        print(f"no JVM class archive: {SPARK_HOME / 'conf'} holds {', '.join(left)}", file=sys.stderr)
        return done
    ENV_FILE.write_text(env_script(dump_archive()))
    return done + [str(ARCHIVE)]
