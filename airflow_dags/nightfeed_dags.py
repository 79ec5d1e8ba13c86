"""nightfeed DAGs: `nightfeed_nightly` (every configured region, daily) and `nightfeed_adhoc` (one region).

Each region runs the stages in order as spark-submit jobs on the `spark_default` connection
(local[*] or a cluster). The file does no I/O and imports nothing heavy at parse time: regions
are read from conf/ by a task at run time, and the run date comes from the data interval
(nightly) or the validated `ds` param (ad hoc), never from now().

Environment (read by the DAG processor, all optional):
- NIGHTFEED_HOME: project checkout holding jobs/ (default: this file's parent folder)
- NIGHTFEED_SPARK_CONN (spark_default), NIGHTFEED_SPARK_POOL (spark), NIGHTFEED_SPARK_SUBMIT
  (spark-submit on PATH), NIGHTFEED_PY_FILES / NIGHTFEED_ARCHIVES (for clusters, see README)
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import sys
from pathlib import Path

import pendulum
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import DAG, Param, get_current_context, task, task_group
from airflow.timetables.interval import CronDataIntervalTimetable

HOME = Path(os.environ.get("NIGHTFEED_HOME", Path(__file__).resolve().parents[1]))


def _stage_registry():
    """nightfeed's stage registry, loaded from its file: dependency-free, so parsing stays light,
    and it works whether or not nightfeed is installed where the DAG processor runs."""
    name = "nightfeed_stage_registry"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, HOME / "lib" / "nightfeed" / "pipeline" / "registry.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


STAGES = _stage_registry().NIGHTLY
SPARK_CONN = os.environ.get("NIGHTFEED_SPARK_CONN", "spark_default")
SPARK_POOL = os.environ.get("NIGHTFEED_SPARK_POOL", "spark")
DEFAULT_ARGS = {
    "owner": "nightfeed",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=30),
    "execution_timeout": dt.timedelta(hours=2),
}


@task
def configured_regions() -> list[str]:
    """Regions of the nightly run, read from conf/ when the run starts (not at parse time)."""
    import tomllib

    conf = Path(os.environ.get("NIGHTFEED_CONF", HOME / "conf" / "nightfeed.toml"))
    return list(tomllib.loads(conf.read_text())["nightly_regions"])


@task
def slice_args(region: str | None = None) -> list[str]:
    """`--region R --ds D` for every stage: ds from the `ds` param, else the data interval start."""
    context = get_current_context()
    params = context["params"]
    region = region or params["region"]
    ds = params.get("ds") or context["data_interval_start"].strftime("%Y-%m-%d")
    return ["--region", region, "--ds", ds]


def _spark_stage(stage: str, args) -> SparkSubmitOperator:
    extra = {}
    if os.environ.get("NIGHTFEED_PY_FILES"):
        extra["py_files"] = os.environ["NIGHTFEED_PY_FILES"]
    if os.environ.get("NIGHTFEED_ARCHIVES"):
        extra["archives"] = os.environ["NIGHTFEED_ARCHIVES"]
    return SparkSubmitOperator(
        task_id=stage,
        application=str(HOME / "jobs" / f"{stage}.py"),
        application_args=args,
        conn_id=SPARK_CONN,
        name=f"nightfeed-{stage}",
        pool=SPARK_POOL,
        spark_binary=os.environ.get("NIGHTFEED_SPARK_SUBMIT", "spark-submit"),
        env_vars={"SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1")},
        **extra,
    )


def region_stages(region=None) -> None:
    """The stages of one region, chained in order."""
    args = slice_args(region)
    previous = args
    for stage in STAGES:
        op = _spark_stage(stage, args)
        previous >> op
        previous = op


@task_group(group_id="region")
def nightly_region(region: str) -> None:
    region_stages(region)


with DAG(
    dag_id="nightfeed_nightly",
    description="Nightly For-You feeds for every region in conf/",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=True,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["nightfeed"],
):
    nightly_region.expand(region=configured_regions())


with DAG(
    dag_id="nightfeed_adhoc",
    description="The nightly stages for one region and date, triggered by hand",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    default_args={**DEFAULT_ARGS, "retries": 0},
    params={
        "region": Param(
            "US",
            type="string",
            # the whole value: `$` alone would also accept a trailing newline ("US\n")
            pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,31}(?![\s\S])",
            description="region code; regions missing from conf/ run with the defaults",
        ),
        "ds": Param(
            None,
            type=["null", "string"],
            format="date",
            description="run date YYYY-MM-DD (empty: the date of the run's data interval)",
        ),
    },
    tags=["nightfeed"],
):
    region_stages()
