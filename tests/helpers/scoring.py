"""Hand-built scoring inputs shared by the scoring tests: feed rules, a factor model, a catalog."""

import numpy as np
import pandas as pd

from nightfeed.configuration.settings import FeedSettings
from nightfeed.models import create

FEED = FeedSettings(
    n=5,
    candidate_multiplier=4,
    max_per_creator=10,
    fresh_share=0.0,
    fresh_hours=24.0,
    fresh_max_interactions=5,
    min_user_interactions=1,
    eligible_moderation=("approved",),
    exclude_lookback_days=30,
    score_block_users=64,
)


def factor_model(user_factors, item_factors):
    model = create("als")
    model.user_factors = np.asarray(user_factors, dtype=np.float32)
    model.item_factors = np.asarray(item_factors, dtype=np.float32)
    model.n_items = len(item_factors)
    return model


def catalog(n_items, **columns):
    df = pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(n_items)],
            "creator_id": [f"c{k}" for k in range(n_items)],
            "moderation_status": "approved",
            "is_fresh": False,
            "n_users": 100,
            "trending_score": np.linspace(1.0, 0.1, n_items),
        }
    )
    for col, values in columns.items():
        df[col] = values
    return df
