"""A region's first nights: with no earlier day (or too few returning users) evaluate_model records
why there is no holdout instead of failing, and `nightfeed run --from/--to` publishes every landed
day of a new region, in date order, in one session, with quiet logs."""

import json

import pytest

from helpers import DS, ROOT, land_tiny, shift
from nightfeed.cli import main as cli
from nightfeed.configuration.config import Lake
from nightfeed.lake import readonly, tables

pytestmark = pytest.mark.e2e
REGION = "FN"


def test_backfill_of_a_new_region_publishes_every_day(spark, tmp_path, monkeypatch, capfd):
    conf = tmp_path / "nightfeed.toml"
    conf.write_text(
        (ROOT / "conf" / "nightfeed.toml").read_text() + "\n[regions.FN.model]\ntime_budget_s = 20\n"
    )
    monkeypatch.setenv("NIGHTFEED_CONF", str(conf))
    monkeypatch.setenv("NIGHTFEED_LAKE", str(tmp_path / "lake"))
    lake = Lake(tmp_path / "lake")
    land_tiny(lake.root, REGION, DS, days=2, seed=5)
    first = shift(DS, -1)

    shuffle = spark.conf.get("spark.sql.shuffle.partitions")
    try:
        assert cli.main(["run", "--region", REGION, "--from", first, "--to", DS]) == 0
    finally:  # the CLI's session settings apply to the shared test session: restore them
        spark.conf.set("spark.sql.shuffle.partitions", shuffle)

    out, err = capfd.readouterr()
    summaries = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [s["ds"] for s in summaries if s["stage"] == "publish_feeds"] == [first, DS]
    evaluated = {s["ds"]: s for s in summaries if s["stage"] == "evaluate_model"}
    assert evaluated[DS]["next_day"]["feed_of"] == first and evaluated[DS]["next_day"]["impressions"] > 0
    assert "Calculating Metrics" not in out + err, "GX progress bars are off unless --verbose"
    feeds = tables.read(spark, lake.table("gold/feeds")).where(f"region = '{REGION}'")
    assert sorted(r.ds for r in feeds.select("ds").distinct().collect()) == [first, DS]
    skipped = (
        tables.read_slice(spark, lake.table("gold/model_metrics"), REGION, first)
        .where("model NOT LIKE 'ranker%'")
        .collect()
    )
    assert sorted((r.status, r.metric, r.value) for r in skipped) == [
        ("skipped", "gauc", 0.0),
        ("skipped", "holdout_users", 0.0),
    ]
    reasons = {r.metric: r.reason for r in skipped}
    assert reasons["holdout_users"].startswith(f"need interactions on {first} and in the window before it")
    assert reasons["gauc"].startswith(f"no feed was published on or before {shift(first, -1)}")
    next_day = tables.read_slice(spark, lake.table("gold/model_metrics"), REGION, DS).where(
        "model_version < ds AND model NOT LIKE 'ranker%'"
    )
    assert {(r.model == "popularity", r.metric, r.status) for r in next_day.collect()} == {
        (baseline, metric, "ok") for baseline in (False, True) for metric in ("gauc", "xauc", "watch_ndcg@10")
    }, "the second night judges the first night's live model on its impressions"
    report = json.loads((lake.reports("quality", REGION, first) / "summary.json").read_text())
    assert report["model_evaluation"]["status"] == "skipped"
    assert report["promotion_gate"]["reason"] == "no other live feed to compare with"
    assert (
        "No temporal holdout tonight" in (lake.reports("quality", REGION, first) / "summary.html").read_text()
    )
    assert readonly.live_pointer(lake.root, REGION)["live_ds"] == DS


def test_run_refuses_a_backwards_or_mixed_range(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NIGHTFEED_LAKE", str(tmp_path))
    assert cli.main(["run", "--region", REGION, "--from", DS, "--to", shift(DS, -1)]) == 2
    assert capsys.readouterr().err.strip() == f"error: --from {DS} is after --to {shift(DS, -1)}"
    assert cli.main(["run", "--region", REGION, "--ds", DS, "--from", DS, "--to", DS]) == 2
    assert "either --ds or --from/--to" in capsys.readouterr().err
