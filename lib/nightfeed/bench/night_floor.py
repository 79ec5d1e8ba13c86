"""What one night asks of Spark and Delta, counted: the root SQL executions in Spark's event log
and the Delta commits in the lake's logs. Priced at the warm costs `delta_floor.py --warm`
measures, they give the part of a night no stage code removes without running fewer queries."""

from __future__ import annotations

import json
from pathlib import Path

from nightfeed.lake import readonly
from nightfeed.lake.table_registry import TABLES
from nightfeed.pipeline.runner import tagged_stage

EXECUTION_START = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart"


def event_log_settings(folder: Path) -> str:
    """spark-defaults.conf lines that write an uncompressed event log into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    return (
        "spark.eventLog.enabled true\n"
        f"spark.eventLog.dir {folder.resolve().as_uri()}\n"
        "spark.eventLog.compress false\n"
    )


def count_queries(folder: Path) -> dict:
    """Root SQL executions in the event logs under folder: Delta's own (its file listings and
    snapshot reconstructions, described "Delta: ...") and the rest (the stages' actions and
    writes), in all and per stage (the `nightfeed:<stage>:<region>:<ds>` job tag `run_stage` sets)."""
    totals = {"delta_internal_queries": 0, "stage_queries": 0}
    by_stage: dict[str, dict[str, int]] = {}
    for log in sorted(p for p in folder.rglob("events*") if p.is_file()):
        if log.suffix in (".zstd", ".lz4", ".snappy", ".lzf"):
            raise ValueError(f"{log} is compressed; write the event log with spark.eventLog.compress false")
        with log.open() as lines:
            for line in lines:
                if EXECUTION_START not in line:
                    continue
                event = json.loads(line)
                if event.get("rootExecutionId", event["executionId"]) != event["executionId"]:
                    continue
                kind = (
                    "delta_internal_queries"
                    if event.get("description", "").startswith("Delta:")
                    else "stage_queries"
                )
                totals[kind] += 1
                stage = tagged_stage(event.get("jobTags") or []) or "outside stages"
                counts = by_stage.setdefault(stage, {"delta_internal_queries": 0, "stage_queries": 0})
                counts[kind] += 1
    return {**totals, "by_stage": by_stage}


def table_versions(lake: Path) -> dict[str, int]:
    """The latest version of each table of the registry that exists under lake (read with delta-rs)."""
    versions = {name: readonly.table_version(lake / name) for name in TABLES}
    return {name: v for name, v in versions.items() if v is not None}


def commits_between(before: dict[str, int], after: dict[str, int]) -> int:
    """Delta commits made between two `table_versions` readings (a new table counts from version 0)."""
    return sum(v - before.get(name, -1) for name, v in after.items())


def implied_floor(queries: dict, commits: int, warm: dict) -> dict:
    """Commits at the warm commit cost, the stages' other queries at the warm read cost."""
    reads = max(queries["stage_queries"] - commits, 0)
    floor = commits * warm["warm_commit_s"] + reads * warm["warm_read_s"]
    return {**queries, "commits": commits, "reads": reads, **warm, "floor_s": round(floor, 1)}
