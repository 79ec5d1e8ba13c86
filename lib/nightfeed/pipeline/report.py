"""Stage quality_report: GX Data Docs plus a self-contained summary page and summary.json."""

from __future__ import annotations

from pyspark.sql import SparkSession

from .. import reports
from ..config import Lake
from ..settings import RegionConfig
from ..tables import LakeTables

QUARANTINES = ("bronze/events_quarantine", "bronze/items_quarantine")


def quality_report(spark: SparkSession, lake: Lake, region: str, ds: str, cfg: RegionConfig) -> dict:
    t = LakeTables(spark, lake.root)
    quarantine = {
        name: {
            r["reason"]: r["count"]
            for r in t.read_slice(name, region, ds).groupBy("reason").count().collect()
        }
        for name in QUARANTINES
    }
    return reports.write_quality_report(lake, region, ds, quarantine)
