"""Real Airflow 3: the DAG files load, have the expected shape, and run end to end with spark-submit."""

import os
import sys
from pathlib import Path

import pytest

from helpers import land_tiny
from nightfeed.pipeline import registry

pytestmark = pytest.mark.airflow
ROOT = Path(__file__).resolve().parents[2]
DS = "2026-11-25"
STAGES = list(registry.NIGHTLY)


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow_home")
    lake = tmp_path_factory.mktemp("airflow_lake")
    conf = home / "nightfeed.toml"
    text = (ROOT / "conf" / "nightfeed.toml").read_text()
    # One region: every spark-submit task pays ~45 s of JVM and Delta warm-up on this machine, and
    # the DAG runs twice; the mapping over regions is the same code for one region or many.
    conf.write_text(
        text.replace('nightly_regions = ["US", "BR", "DE"]', 'nightly_regions = ["AA"]').replace(
            "time_budget_s = 120", "time_budget_s = 20"
        )
    )
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "airflow_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW_CONN_SPARK_DEFAULT": '{"conn_type": "spark", "host": "local[2]"}',
        "NIGHTFEED_LAKE": str(lake),
        "NIGHTFEED_CONF": str(conf),
        "NIGHTFEED_SPARK_SUBMIT": str(Path(sys.executable).parent / "spark-submit"),
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    os.environ.pop("PYSPARK_GATEWAY_PORT", None)
    from airflow.utils import db

    db.initdb()
    yield {"home": home, "lake": lake}
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def dagbag():
    from airflow.models import DagBag

    return DagBag(dag_folder=str(ROOT / "airflow_dags"))


def test_dag_files_load_without_errors(airflow_env):
    bag = dagbag()
    assert bag.import_errors == {}
    assert {"nightfeed_nightly", "nightfeed_adhoc"} <= set(bag.dag_ids)


def _chain(dag, prefix):
    return [
        t.task_id
        for t in sorted(
            (t for t in dag.tasks if t.task_id.startswith(prefix)),
            key=lambda t: STAGES.index(t.task_id.split(".")[-1]),
        )
    ]


def test_both_dags_run_the_stages_in_order(airflow_env):
    bag = dagbag()
    for dag_id, prefix in (("nightfeed_nightly", "region."), ("nightfeed_adhoc", "")):
        dag = bag.get_dag(dag_id)
        ids = [f"{prefix}{s}" for s in STAGES]
        assert {t.task_id for t in dag.tasks if t.task_type == "SparkSubmitOperator"} == set(ids), dag_id
        for up, down in zip(ids, ids[1:]):
            assert down in dag.get_task(up).downstream_task_ids, (dag_id, up, down)
        for stage in ids:
            task = dag.get_task(stage)
            assert task.task_type == "SparkSubmitOperator" and task.pool == "spark" and task.retries >= 0
    nightly = bag.get_dag("nightfeed_nightly")
    assert nightly.max_active_runs == 1 and nightly.catchup
    adhoc = bag.get_dag("nightfeed_adhoc")
    assert set(adhoc.params.keys()) == {"region", "ds"}


def test_adhoc_params_are_validated(airflow_env):
    from airflow.sdk.definitions.param import ParamsDict

    adhoc = dagbag().get_dag("nightfeed_adhoc")
    params = ParamsDict(adhoc.params)
    params["region"] = "FR"
    params["ds"] = "2026-11-25"
    params.validate()
    for wrong in ("not a region!", "US\n"):  # a trailing newline would make a partition of its own
        with pytest.raises(Exception, match="region|pattern|not a region"):  # noqa: B017 - Airflow's own error types vary
            bad = ParamsDict(adhoc.params)
            bad["region"] = wrong
            bad.validate()


def _tables(spark, lake):
    from nightfeed.lake import tables

    out = {}
    for t in (
        "bronze/events",
        "silver/interactions",
        "gold/model_registry",
        "silver/feed_candidates",
        "gold/feeds",
    ):
        df = tables.read(spark, str(lake / t))
        out[t] = sorted(tuple(str(v) for v in r) for r in df.collect())
    return out


def _resubmit(stage: str, region: str, ds: str):
    """The command the DAG's task runs (same application and arguments), run once more."""
    import subprocess

    env = {**os.environ}
    env.pop("PYSPARK_GATEWAY_PORT", None)  # never attach to the test session's JVM
    return subprocess.run(
        [
            os.environ["NIGHTFEED_SPARK_SUBMIT"],
            str(ROOT / "jobs" / f"{stage}.py"),
            "--region",
            region,
            "--ds",
            ds,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def test_nightly_dag_runs_end_to_end_and_reruns_identically(airflow_env, spark):
    """One dag.test() of every stage as spark-submit; then the stages whose reruns could duplicate
    or move data (ingest appends to bronze, publish moves the pointer) run again: same tables.
    Every stage's own rerun is covered in-process by tests/e2e."""
    import pendulum

    from nightfeed.lake import readonly

    lake = airflow_env["lake"]
    land_tiny(lake, "AA", DS, days=3, seed=21)
    dag = dagbag().get_dag("nightfeed_nightly")
    run = dag.test(logical_date=pendulum.datetime(2026, 11, 25, tz="UTC"))
    assert str(run.state) in ("success", "DagRunState.SUCCESS"), run.state
    spark.catalog.clearCache()
    first = _tables(spark, lake)
    assert {row[0] for row in first["gold/feeds"]} == {"AA"}
    ran = {row[1] for row in first["gold/feeds"]}
    assert ran == {"2026-11-24"}, "a daily run processes its data interval: the day before the logical date"
    pointer = readonly.live_pointer(lake, "AA")
    for stage in ("ingest_events", "publish_feeds"):
        res = _resubmit(stage, "AA", "2026-11-24")
        assert res.returncode == 0, (res.stdout + res.stderr)[-2000:]
    spark.catalog.clearCache()
    assert _tables(spark, lake) == first
    again = readonly.live_pointer(lake, "AA")
    assert (again["live_ds"], again["model_version"]) == (pointer["live_ds"], pointer["model_version"])
