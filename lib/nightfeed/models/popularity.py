"""Most-popular items: the baseline every report compares against."""

from __future__ import annotations

import numpy as np

from nightfeed.models.base import Recommender


class PopularityModel(Recommender):
    """Scores every item by how many users interacted with it (the same list for everyone)."""

    name = "popularity"
    defaults = {"confidence": "binary"}

    def _fit(self, user_items):
        self.item_popularity = np.asarray((user_items > 0).sum(axis=0), dtype=np.float32).ravel()

    def score_block(self, userids, user_items, items=None):
        scores = self.item_popularity if items is None else self.item_popularity[items]
        return np.broadcast_to(scores, (len(userids), len(scores)))

    def arrays(self):
        return {"item_popularity": self.item_popularity}
