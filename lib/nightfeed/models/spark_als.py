"""Spark MLlib ALS (implicitPrefs): for interaction matrices that do not fit on one node.

Training runs distributed on the caller's active SparkSession; the learned factors are then
collected so that scoring uses the same
blocked top-k as every other factor model.
"""

from __future__ import annotations

import numpy as np

from nightfeed.models.factors import FactorModel


class SparkALSModel(FactorModel):
    name = "spark-als"
    defaults = {"factors": 64, "regularization": 0.05, "alpha": 2.0, "iterations": 10, "seed": 42}
    positive = ("factors", "iterations")

    def _fit(self, user_items):
        from pyspark.ml.recommendation import ALS
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()
        if spark is None:
            raise ValueError(
                "spark-als trains on the active SparkSession: start one first (nightfeed jobs do)"
            )
        user_items = user_items.tocoo()
        n_users = user_items.shape[0]
        ratings = spark.createDataFrame(_frame(user_items.row, user_items.col, user_items.data))
        p = self.params
        als = ALS(
            rank=int(p["factors"]),
            maxIter=int(p["iterations"]),
            regParam=float(p["regularization"]),
            alpha=float(p["alpha"]),
            implicitPrefs=True,
            seed=int(p["seed"]),
            userCol="user",
            itemCol="item",
            ratingCol="rating",
            nonnegative=False,
            coldStartStrategy="drop",
        )
        model = als.fit(ratings)
        self.user_factors = _dense(model.userFactors.toPandas(), n_users, int(p["factors"]))
        self.item_factors = _dense(model.itemFactors.toPandas(), self.n_items, int(p["factors"]))


def _frame(rows, cols, vals):
    import pandas as pd

    return pd.DataFrame(
        {"user": rows.astype(np.int32), "item": cols.astype(np.int32), "rating": vals.astype(np.float32)}
    )


def _dense(factors_pdf, n: int, rank: int) -> np.ndarray:
    """MLlib factors (id, features) -> a dense (n, rank) array; ids it never saw stay zero."""
    out = np.zeros((n, rank), dtype=np.float32)
    if len(factors_pdf):
        out[factors_pdf["id"].to_numpy()] = np.stack(factors_pdf["features"].to_numpy()).astype(np.float32)
    return out
