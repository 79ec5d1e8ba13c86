"""The audit-world suite's pooling of nightly metrics over nights."""

import pandas as pd

from nightfeed.audit.metrics import METHODS, evaluate
from nightfeed.bench.audit_world import pooled


def test_pooled_precision_counts_hits_over_the_reviews_each_night_could_fill():
    short = pd.DataFrame(  # 2 videos, 1 violating: every order reviews both
        {
            "item_id": ["a", "b"],
            "rank": [1, 2],
            "age_hours": [5.0, 1.0],
            "reports": [1.0, 0.0],
            "report_rate": [0.1, 0.0],
            "violating": [1, 0],
            "expected_views": [10.0, 1.0],
        }
    )
    long = pd.concat([short.assign(item_id=[f"{i}{n}" for i in "ab"]) for n in range(4)], ignore_index=True)
    long["rank"] = range(1, 9)
    long["violating"] = [1, 1, 1, 1, 0, 0, 0, 0]  # the model's top 4 all violate
    nights = [evaluate(short, 4).assign(ds="d1"), evaluate(long, 4).assign(ds="d2")]
    out = pooled(pd.concat(nights), capacity=4)
    assert out["model"]["precision_at_c"] == round((1 + 4) / (2 + 4), 4)
    assert out["model"]["views_prevented"] == 10.0 + (10.0 + 1.0) * 2  # the top 4 of the long queue
    assert out["violating_in_queues"] == 5 and set(METHODS) <= set(out)
    best = {"precision_ratio": out["precision_ratio"], "views_ratio": out["views_ratio"]}
    assert out["ceiling"] == best  # the model's order is the best possible here
    assert out["holds"] == {"held": 0, "held_benign": 0}  # hand-built nights record no holds
