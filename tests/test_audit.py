"""The review orders, their metrics, the queue's invariants and the training weights, on hand-built data."""

import numpy as np
import pandas as pd
import pytest

from nightfeed.audit import metrics as audit_eval
from nightfeed.audit import queue as audit_queue


def queue():
    """Five queued videos; b and d violate."""
    return pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d", "e"],
            "rank": [3, 1, 5, 2, 4],
            "age_hours": [100.0, 10.0, 50.0, 30.0, 200.0],
            "reports": [0.0, 2.0, 5.0, 2.0, 0.0],
            "report_rate": [0.0, 0.5, 0.05, 0.2, 0.0],
            "violating": [0, 1, 0, 1, 0],
            "expected_views": [1.0, 40.0, 10.0, 5.0, 2.0],
        }
    )


@pytest.mark.parametrize(
    "method, expected",
    [
        ("model", ["b", "d", "a", "e", "c"]),
        ("fifo", ["e", "a", "c", "d", "b"]),
        ("reports", ["c", "d", "b", "e", "a"]),  # ties on reports: oldest first
        ("report_rate", ["b", "d", "c", "e", "a"]),
    ],
)
def test_each_review_order(method, expected):
    q = queue()
    assert q["item_id"].to_numpy()[audit_eval.order(q, method)].tolist() == expected


def test_metrics_at_the_capacity():
    m = audit_eval.evaluate(queue(), capacity=2).set_index(["method", "metric"])["value"]
    assert m["model", "precision_at_c"] == 1.0 and m["model", "recall_at_c"] == 1.0
    assert m["model", "violating_views_prevented"] == 45.0
    assert m["fifo", "precision_at_c"] == 0.0 and m["fifo", "violating_views_prevented"] == 0.0
    assert m["reports", "precision_at_c"] == 0.5 and m["reports", "violating_views_prevented"] == 5.0
    assert m["model", "pr_auc"] == 1.0
    assert m["fifo", "pr_auc"] == pytest.approx((1 / 4 + 2 / 5) / 2)
    assert m["queue", "violating"] == 2


def test_the_best_possible_order_knows_the_truth():
    """Violating videos first, the most viewed of them first: the ceiling every order is held to."""
    q = queue().assign(rank=[1, 5, 2, 4, 3])  # a model ranking both violating videos last
    m = audit_eval.evaluate(q, capacity=1).set_index(["method", "metric"])["value"]
    assert m["model", "precision_at_c"] == 0.0
    assert (m["queue", "best_precision_at_c"], m["queue", "best_violating_views_prevented"]) == (1.0, 40.0)
    best = audit_eval.best_possible(q, capacity=3)
    assert best == {"precision_at_c": 2 / 3, "violating_views_prevented": 45.0}


def test_curves_cover_a_quarter_to_four_times_the_capacity():
    c = audit_eval.curves(queue(), capacity=2)
    assert c["model"]["capacity"] == [1, 2, 4, 6, 8]
    assert c["model"]["precision"][:2] == [1.0, 1.0] and c["model"]["recall"][-1] == 1.0
    assert c["model"]["precision"][-1] == 2 / 5, "a queue shorter than the capacity is reviewed whole"


def test_a_capacity_above_the_queue_length_counts_the_videos_there_are():
    m = audit_eval.evaluate(queue(), capacity=1000).set_index(["method", "metric"])["value"]
    assert all(m[method, "precision_at_c"] == 2 / 5 for method in audit_eval.METHODS)
    assert m["model", "recall_at_c"] == 1.0


def test_average_precision_without_positives_is_nan():
    assert np.isnan(audit_eval.average_precision(np.zeros(3)))


def test_queue_ranks_by_risk_times_expected_views_without_gaps(spark):
    rows = [
        ("a", 0.9, 1.0, 0.0, 72.0),  # risky, nobody watches it
        ("b", 0.2, 100.0, 100.0, 72.0),  # less risky, many views
        ("c", 0.6, 12.0, 0.0, 12.0),  # half a day old: 12 views -> 24 a day
        ("d", 0.2, 100.0, 100.0, 72.0),  # tie with b: by item_id
    ]
    df = spark.createDataFrame(
        rows,
        "item_id string, risk_score double, impressions_24h double, views_prev_24h double, age_hours double",
    )
    out = {r.item_id: r for r in audit_queue.rank_queue(df, hold_threshold=0.5).collect()}
    assert sorted(r.rank for r in out.values()) == [1, 2, 3, 4]
    assert [i for i, _ in sorted(out.items(), key=lambda kv: kv[1].rank)] == ["b", "d", "c", "a"]
    assert out["c"].expected_views == pytest.approx(24 * 0.8)
    assert out["b"].priority == pytest.approx(0.2 * 100.0)
    assert {i for i, r in out.items() if r.held} == {"a", "c"}


def test_training_weights_undo_the_reviewers_preference_for_reported_videos(spark):
    rows = [(0.0, False), (0.0, False), (0.0, False), (0.0, True), (3.0, True), (3.0, True)]
    df = spark.createDataFrame(
        [(f"v{k}", r, rev, 1 if r else 0) for k, (r, rev) in enumerate(rows)],
        "item_id string, reports double, reviewed boolean, label int",
    )
    weights = {r.item_id: r.weight for r in audit_queue.selection_weights(df).collect()}
    assert weights == {"v3": 4.0, "v4": 1.0, "v5": 1.0}


def test_reasons_name_what_is_far_from_the_region_median():
    row = pd.DataFrame(
        [
            {
                "report_rate": 0.08,
                "reports": 4.0,
                "distinct_reporters": 3.0,
                "reports_6h": 0.0,
                "skip_rate": 0.4,
                "creator_prior_removals": 2.0,
                "creator_prior_restrictions": 0.0,
                "impressions_24h": 10.0,
                "completion_rate": 0.3,
                "creator_account_age_days": 100.0,
                "like_rate": 0.05,
            }
        ]
    )
    medians = {
        "report_rate": 0.01,
        "reports": 0.0,
        "skip_rate": 0.4,
        "completion_rate": 0.3,
        "creator_account_age_days": 100.0,
        "like_rate": 0.05,
        "impressions_24h": 10.0,
    }
    importances = {"report_rate": 0.5, "creator_prior_removals": 0.3, "reports": 0.1}
    got = audit_queue.reasons(row, importances, medians)[0]
    assert got == [
        "creator's prior removals 2 (region median 0)",  # 0.3 × (4 + 2)
        "report rate 8.0× region median",  # 0.5 × log2(8)
        "reports 4 (region median 0)",  # 0.1 × (4 + 4)
    ]
    strong = row.assign(evidence=3.0)
    got = audit_queue.reasons(strong, {**importances, "evidence": 1.0}, medians)[0]
    assert got[0] == "skips, completions and likes 20× likelier from a violating video"  # e³
    assert audit_queue.reasons(row.assign(evidence=1.9), importances, medians)[0] == [
        "creator's prior removals 2 (region median 0)",
        "report rate 8.0× region median",
        "reports 4 (region median 0)",
    ]
    odd = row.assign(completion_rate=0.0, report_rate=0.3611111)
    words = audit_queue.reasons(
        odd, {**importances, "completion_rate": 1.0}, {**medians, "report_rate": 0.0}
    )[0]
    assert words[:2] == ["completion rate 0 (region median 0.3)", "report rate 0.361 (region median 0)"]


def test_the_audit_page_shows_every_order_and_the_ceiling():
    import re

    from nightfeed.audit import report as audit_report

    q = queue().assign(risk_score=0.5, priority=1.0, held=False, reasons=[["reports"]] * 5)
    metrics = audit_eval.evaluate(q, capacity=2)
    page = audit_report.render("US", "2026-11-25", q, metrics, audit_eval.curves(q, 2), "hidden truth")
    rows = re.findall(
        r"<tr(?: class='ceiling')?><td>([^<]*)</td>((?:<td class='num'>[^<]*</td>){4})</tr>", page
    )
    cells = {label.split(" ")[0]: re.findall(r">([^<]*)</td>", nums) for label, nums in rows}
    assert list(cells) == ["model", "fifo", "reports", "report_rate", "best"]
    assert cells["best"] == ["1.000", "n/a", "n/a", "45.000"]  # precision@C, -, -, views prevented
    assert cells["reports"][0] == "0.500" and page.count("<svg") == 2
