"""The two-stage feed on the tiny lake: point-in-time examples, the ranker's gate and rollback,
and `ranker = "none"` leaving the CF model's feeds as they were."""

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest

from helpers import DS, nightly_cfg, shift
from nightfeed import pipeline
from nightfeed.core.errors import NightfeedError
from nightfeed.feeds import scoring
from nightfeed.lake import schemas
from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.artifacts import artifact_dir, load_artifact, register, registered_model
from nightfeed.pipeline.build_ranking_examples import day_examples
from nightfeed.pipeline.feed_passes import scoring_catalog, scoring_rows
from nightfeed.pipeline.ranking_inputs import registered_rankers, serving_ranker, state_at
from nightfeed.pipeline.train_ranker import _gate
from nightfeed.ranking.features import FEATURES

pytestmark = pytest.mark.e2e
REGION = "AA"


def _append_events(spark, lake, rows):
    frame = spark.createDataFrame(rows, schemas.load("bronze_events"))
    frame.write.format("delta").mode("append").save(str(lake.table("bronze/events")))


def test_a_later_event_changes_no_feature_of_the_days_examples(spark, lake_copy):
    t = LakeTables(spark, lake_copy.root)
    cfg = nightly_cfg(REGION)
    before = day_examples(t, lake_copy, REGION, DS, cfg)
    user, item = before.iloc[0][["user_id", "item_id"]]
    noon = dt.datetime.fromisoformat(DS) + dt.timedelta(hours=12)
    later = [  # the viewer likes, finishes and follows from the very video that day and the next
        (
            f"late-{k}",
            user,
            item,
            kind,
            noon + dt.timedelta(days=k // 3),
            60_000 if kind == "finish" else None,
            REGION,
            shift(DS, k // 3),
            "test",
        )
        for k, kind in enumerate(["like", "finish", "follow", "like", "finish", "follow"])
    ]
    _append_events(spark, lake_copy, later)
    after = day_examples(t, lake_copy, REGION, DS, cfg)
    cols = list(FEATURES)
    pd.testing.assert_frame_equal(before[cols], after[cols])
    # ...while the state at the start of the next day does see them (the check above can fail):
    users, items = [user], [item]
    old = state_at(t, REGION, shift(DS, 1), cfg, users, items, known=_outcomes_without(t, later))
    new = state_at(t, REGION, shift(DS, 1), cfg, users, items)
    assert new.likes_by_creator.sum() > old.likes_by_creator.sum()


def _outcomes_without(t, rows):
    from nightfeed.pipeline.ranking_inputs import outcomes

    known = outcomes(t, REGION, shift(DS, -40), DS)
    late = {(r[1], r[2], r[7]) for r in rows}
    return known[[(u, i, d) not in late for u, i, d in zip(known.user_id, known.item_id, known.ds)]]


def test_the_gate_promotes_only_an_order_no_worse_than_its_baseline():
    judged = {
        "value": {"gauc": 0.66, "watch_ndcg@10": 0.70},
        "baseline": {"gauc": 0.65, "watch_ndcg@10": 0.71},
    }
    assert _gate(judged, 0.02, 10)
    judged["baseline"]["gauc"] = 0.70
    assert not _gate(judged, 0.02, 10)


def test_a_rejected_ranker_rolls_back_to_the_last_promoted_one(spark, lake_copy):
    t = LakeTables(spark, lake_copy.root)
    tonight = registered_rankers(t, REGION, DS).iloc[0].to_dict()
    assert tonight["validation_metrics"]["promoted"] == 1.0
    # An earlier night's ranker (a copy of tonight's artifact), promoted; tonight's, rejected.
    earlier = shift(DS, -1)
    shutil.copytree(
        artifact_dir(lake_copy, tonight["artifact_path"]), artifact_dir(lake_copy, "models/ranker/AA/e")
    )
    row = {
        **tonight,
        "ds": earlier,
        "model_version": "AA-earlier-ranker",
        "artifact_path": "models/ranker/AA/e",
    }
    register(t, row, REGION, earlier)
    register(
        t, {**tonight, "validation_metrics": {**tonight["validation_metrics"], "promoted": 0.0}}, REGION, DS
    )
    assert serving_ranker(t, lake_copy, REGION, DS)[1] == "AA-earlier-ranker"
    cfg = nightly_cfg(REGION)
    result = pipeline.run(spark, lake_copy, "score_feeds", REGION, DS, cfg)
    assert result["ranker_version"] == "AA-earlier-ranker"
    for table in ("silver/feed_candidates", "silver/ranking_candidates"):
        versions = t.read_slice(table, REGION, DS).select("ranker_version").distinct().collect()
        assert {r[0] for r in versions} == {"AA-earlier-ranker"}, table
    # ...and with no promoted ranker at all, the CF model's feeds.
    register(
        t, {**row, "validation_metrics": {**row["validation_metrics"], "promoted": 0.0}}, REGION, earlier
    )
    result = pipeline.run(spark, lake_copy, "score_feeds", REGION, DS, nightly_cfg(REGION))
    assert result["ranker_version"] is None
    assert set(result["rows_by_source"]) <= {"cf", "fresh", "trending", "new_creator"}


def test_ranker_none_keeps_the_cf_models_feeds(spark, lake_copy):
    t = LakeTables(spark, lake_copy.root)
    cfg = nightly_cfg(REGION, ranker={"type": "none"})
    for stage in ("build_ranking_examples", "train_ranker"):
        assert "skipped" in pipeline.run(spark, lake_copy, stage, REGION, DS, cfg)
    pipeline.run(spark, lake_copy, "score_feeds", REGION, DS, cfg)
    got = t.read_slice("silver/feed_candidates", REGION, DS).toPandas()
    assert got["ranker_version"].isna().all() and got["value"].isna().all()
    # The feeds the rules compose from the CF model alone (`scoring.compose_feeds`), as before.
    reg = registered_model(t, REGION, DS)
    model, model_users, model_items = load_artifact(lake_copy, reg["artifact_path"])
    ctx = scoring.build_context(model, model_items, scoring_catalog(t, REGION, DS), cfg.feed, DS)
    users = t.read_slice("gold/user_features", REGION, DS).select("user_id")
    index = spark.createDataFrame(
        pd.DataFrame({"user_id": model_users, "user_idx": np.arange(len(model_users))})
    )
    table = scoring_rows(t, REGION, DS, ctx, users, index).toArrow()
    want = pd.concat([scoring.compose_feeds(ctx, b).to_pandas() for b in table.to_batches() if b.num_rows])
    key = ["user_id", "rank"]
    got = got.sort_values(key, ignore_index=True)[["user_id", "rank", "item_id", "source"]]
    want = want.sort_values(key, ignore_index=True)[["user_id", "rank", "item_id", "source"]]
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_a_missing_ranker_artifact_is_one_clear_error(spark, lake_copy):
    t = LakeTables(spark, lake_copy.root)
    row = registered_rankers(t, REGION, DS).iloc[0]
    shutil.rmtree(artifact_dir(lake_copy, row["artifact_path"]))
    with pytest.raises(NightfeedError, match="cannot be read .*rerun train_ranker --region AA"):
        serving_ranker(t, lake_copy, REGION, DS)
