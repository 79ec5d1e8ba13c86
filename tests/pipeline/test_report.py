"""The model-evaluation part of the quality report: metrics vs popularity, or why there are none."""

from nightfeed.pipeline.quality_report import model_evaluation
from nightfeed.reports.quality_page import model_section


def _row(model, metric, value, status="ok", reason=None):
    return {
        "model": model,
        "metric": metric,
        "value": value,
        "n_users": 40,
        "status": status,
        "reason": reason,
    }


def test_ok_rows_become_a_metrics_table_and_old_rows_without_status_count_as_ok():
    rows = [
        _row("ease", "ndcg@10", 0.31234),
        _row("popularity", "ndcg@10", 0.2),
        _row("ease", "recall@10", 0.4, None),
    ]
    out = model_evaluation(rows)
    assert out == {
        "status": "ok",
        "test_users": 40,
        "metrics": {"ease": {"ndcg@10": 0.3123, "recall@10": 0.4}, "popularity": {"ndcg@10": 0.2}},
        "not_computed": [],
    }
    page = model_section(out, {"decision": "promote", "reason": "no other live feed to compare with"})
    assert "<td>ease</td><td>0.3123</td><td>0.4</td>" in page and "no other live feed" in page


def test_a_skipped_holdout_shows_its_reason():
    out = model_evaluation([_row("ease", "holdout_users", 0.0, "skipped", "need interactions on 2026-11-18")])
    assert out == {"status": "skipped", "reason": "need interactions on 2026-11-18", "model": "ease"}
    assert "No temporal holdout tonight: need interactions on 2026-11-18." in model_section(out, None)
    assert model_evaluation([]) == {"status": "missing"}


def test_metrics_not_computed_tonight_are_named_beside_those_that_were():
    out = model_evaluation(
        [_row("ease", "ndcg@10", 0.3), _row("live", "gauc", 0.0, "skipped", "no feed was published")]
    )
    assert out["status"] == "ok" and out["metrics"] == {"ease": {"ndcg@10": 0.3}}
    assert "Not computed: no feed was published." in model_section(out, None)
