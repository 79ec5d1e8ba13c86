"""How much the jobs print. Quiet by default, so each job's stdout ends with its one-line JSON
summary: Spark and third-party INFO chatter and GX's progress bars are off. `--verbose` (which
sets NIGHTFEED_VERBOSE=1) brings them back."""

from __future__ import annotations

import logging
import os

CHATTY_LOGGERS = ("py4j", "great_expectations", "urllib3", "matplotlib", "numba", "XGBoost-PySpark")
# Written into the venv's Spark conf by `nightfeed setup-spark`: without a file Spark logs every
# start-up step at INFO under spark-submit.
LOG4J2_PROPERTIES = """\
# Written by `nightfeed setup-spark`: WARN by default; jobs lower it further unless --verbose.
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.hadoop_native.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoop_native.level = error
# the standalone master and worker (nightfeed cluster up) report readiness at INFO
logger.master.name = org.apache.spark.deploy.master
logger.master.level = info
logger.worker.name = org.apache.spark.deploy.worker
logger.worker.level = info
"""


def verbose() -> bool:
    return os.environ.get("NIGHTFEED_VERBOSE", "") not in ("", "0")


def set_verbose(on: bool) -> None:
    """Called by the CLI before anything starts; child processes (spark-submit workers) inherit it."""
    os.environ["NIGHTFEED_VERBOSE"] = "1" if on else "0"
    configure_python_logging()


def configure_python_logging() -> None:
    level = logging.INFO if verbose() else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(level)


def spark_log_level() -> str:
    return "INFO" if verbose() else os.environ.get("NIGHTFEED_SPARK_LOG_LEVEL", "ERROR")


# Where Spark logs a failed task's whole Java stack trace (the executor, in local mode the
# driver's own JVM) and the job it aborts. The jobs turn the failure into one `error:` line (and
# the exception they catch carries the trace): unless --verbose, these stay off stderr.
TASK_FAILURE_LOGGERS = ("org.apache.spark.executor.Executor", "org.apache.spark.scheduler.TaskSetManager")


def quiet_task_failures(spark) -> None:
    if verbose():
        return
    log4j = spark.sparkContext._jvm.org.apache.logging.log4j
    for name in TASK_FAILURE_LOGGERS:
        log4j.core.config.Configurator.setLevel(name, log4j.Level.OFF)
