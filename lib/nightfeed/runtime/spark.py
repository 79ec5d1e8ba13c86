"""The SparkSession with Delta Lake, for spark-submit runs and for in-process runs alike.

Under `spark-submit` the launcher already chose master and jars; `make install` puts the Delta
jars into the venv's pyspark so plain `spark-submit jobs/<stage>.py` needs no `--packages`.
In-process (the `nightfeed` CLI, tests) we pick `local[*]` and fall back to `spark.jars.packages`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyspark
from pyspark.sql import SparkSession

from nightfeed.runtime.logs import quiet_task_failures, spark_log_level

# The pip package delta-spark==4.4.1 is the Python API; its JVM jar 4.4.1 is not published on
# Maven Central (404), so we resolve the newest published jar built for Spark 4.1.
DELTA_JAR_VERSION = "4.4.0"
DELTA_ARTIFACT = "delta-spark_4.1_2.13"
DELTA_PACKAGE = f"io.delta:{DELTA_ARTIFACT}:{DELTA_JAR_VERSION}"


def pyspark_jars_dir() -> Path:
    return Path(pyspark.__file__).parent / "jars"


def delta_jars_installed() -> bool:
    return (pyspark_jars_dir() / f"{DELTA_ARTIFACT}-{DELTA_JAR_VERSION}.jar").exists()


def ivy_dir() -> str:
    return os.environ.get("NIGHTFEED_IVY", str(Path.home() / ".cache" / "nightfeed" / "ivy"))


def find_java_home() -> str:
    """The JDK to use when JAVA_HOME is unset: Debian's 17, else its 21; "" when neither exists."""
    for candidate in ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-21-openjdk-amd64"):
        if Path(candidate).exists():
            return candidate
    return ""


def prepare_environment() -> None:
    """Environment the JVM and Python workers need; must run before the JVM starts."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    if "JAVA_HOME" not in os.environ and (java_home := find_java_home()):
        os.environ["JAVA_HOME"] = java_home
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def under_spark_submit() -> bool:
    return "PYSPARK_GATEWAY_PORT" in os.environ


def build_session(
    app_name: str = "nightfeed", master: str | None = None, extra_conf: dict[str, str] | None = None
) -> SparkSession:
    """A SparkSession with Delta enabled, UTC session time and modest defaults.

    Defaults never override what the user passed to spark-submit (`--conf`, spark-defaults.conf).
    """
    prepare_environment()
    builder = SparkSession.builder.appName(app_name)
    preset = None
    if under_spark_submit():
        from pyspark import SparkConf

        preset = SparkConf()  # spark-submit's own settings, read from the running JVM
    else:
        builder = builder.master(master or os.environ.get("NIGHTFEED_SPARK_MASTER", "local[*]"))
        builder = builder.config("spark.driver.memory", os.environ.get("NIGHTFEED_DRIVER_MEMORY", "4g"))
        builder = builder.config("spark.ui.enabled", "false")
        if not delta_jars_installed():
            builder = builder.config("spark.jars.packages", DELTA_PACKAGE).config("spark.jars.ivy", ivy_dir())
    required = {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.sources.partitionOverwriteMode": "static",
        # Parquet's standard timestamp type (Spark's default is the legacy INT96, which readers
        # such as delta-rs read as nanoseconds: a timestamp before 1677 then fails to read).
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    }
    defaults = {
        # 200 shuffle partitions doubled the wall time of a small job here; AQE (on unless a
        # stage's night is small, see `night_settings`) coalesces further.
        "spark.sql.shuffle.partitions": os.environ.get(
            "NIGHTFEED_SHUFFLE_PARTITIONS", str(2 * (os.cpu_count() or 2))
        ),
        "spark.ui.showConsoleProgress": "false",
        # Delta replays its log with this many partitions (default 50): far too many for a
        # small lake, where it dominated the cost of every small read.
        "spark.databricks.delta.snapshotPartitions": os.environ.get(
            "NIGHTFEED_DELTA_SNAPSHOT_PARTITIONS", "2"
        ),
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
    }
    for key, value in {**defaults, **(extra_conf or {})}.items():
        if preset is None or not preset.contains(key) or key in (extra_conf or {}):
            builder = builder.config(key, value)
    for key, value in required.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(spark_log_level())
    quiet_task_failures(spark)
    return spark


# A night with fewer events than this runs without generated code and without adaptive query
# execution. Generating and compiling code (Janino, then the JIT) for every new query, and
# re-planning each query at every shuffle, cost more than they save on slices this small: a second
# night of the three demo regions (8k-41k events each) in one process took 145.7 and 137.8 s
# before, 119.6 and 123.3 s interpreted; a night of 163k events took 120.3 s interpreted vs
# 116.9 s with generated code.
SMALL_NIGHT_EVENTS = 100_000


def night_settings(night_events: int, set_at_launch=lambda key: False) -> dict[str, str]:
    """Spark's code-generation and adaptive-execution settings for a night of `night_events`
    events, without the keys `set_at_launch` says the user chose (--conf, spark-defaults.conf)."""
    small = night_events < SMALL_NIGHT_EVENTS
    chosen = {
        "spark.sql.codegen.wholeStage": "false" if small else "true",
        # Spark marks this key internal; its interpreted path is the one Spark falls back to
        # whenever generated code fails to compile, and its own test suites run both.
        "spark.sql.codegen.factoryMode": "NO_CODEGEN" if small else "FALLBACK",
        "spark.sql.adaptive.enabled": "false" if small else "true",
    }
    return {key: value for key, value in chosen.items() if not set_at_launch(key)}


def size_to_night(spark: SparkSession, night_events: int) -> dict[str, str]:
    """Apply `night_settings` to the session; returns what it set."""
    chosen = night_settings(night_events, spark.sparkContext.getConf().contains)
    for key, value in chosen.items():
        spark.conf.set(key, value)
    return chosen


def task_slots(spark) -> int:
    """Tasks the session can run at once: what a barrier stage (xgboost's workers) may ask for.
    local[n] -> n, local[*] -> the machine's cores; a cluster -> spark.cores.max, or executors ×
    executor cores when both are set; else 1 (a barrier stage asking for more would wait)."""
    conf = spark.sparkContext.getConf()
    master = spark.sparkContext.master
    if master.startswith("local"):
        inside = master[master.find("[") + 1 : master.find("]")] if "[" in master else "1"
        count = inside.split(",")[0]
        return (os.cpu_count() or 1) if count == "*" else max(1, int(count))
    if conf.get("spark.cores.max"):
        return max(1, int(conf.get("spark.cores.max")) // int(conf.get("spark.task.cpus", "1")))
    if conf.get("spark.executor.instances") and conf.get("spark.executor.cores"):
        return max(1, int(conf.get("spark.executor.instances")) * int(conf.get("spark.executor.cores")))
    return 1
