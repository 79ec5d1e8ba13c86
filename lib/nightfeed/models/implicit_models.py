"""implicit's ALS (confidence-weighted) and BPR, on one node: the nightly default family."""

from __future__ import annotations

import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from nightfeed.models.base import as_csr
from nightfeed.models.factors import FactorModel


class ALSModel(FactorModel):
    """Implicit ALS (Hu, Koren, Volinsky): confidence = 1 + alpha × transformed weight."""

    name = "als"
    defaults = {
        "factors": 32,
        "regularization": 1.0,
        "alpha": 1.0,
        "iterations": 15,
        "seed": 42,
        "bm25": False,
        "bm25_k1": 100.0,
        "bm25_b": 0.8,
        "cg_steps": 1,
        "confidence": "log",
    }
    positive = ("factors", "iterations", "cg_steps")

    def _fit(self, user_items):
        from implicit.als import AlternatingLeastSquares
        from implicit.nearest_neighbours import bm25_weight

        p = self.params
        weights = user_items
        if p["bm25"]:
            weights = as_csr(bm25_weight(user_items, K1=p["bm25_k1"], B=p["bm25_b"]))
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            # implicit warns from the env var alone; threadpool_limits already pins BLAS to 1 thread.
            warnings.filterwarnings("ignore", message="OpenBLAS is configured")
            model = AlternatingLeastSquares(
                factors=int(p["factors"]),
                regularization=float(p["regularization"]),
                alpha=float(p["alpha"]),
                iterations=int(p["iterations"]),
                random_state=int(p["seed"]),
                use_gpu=False,
            )
            model.cg_steps = int(
                p["cg_steps"]
            )  # conjugate-gradient steps per solve: implicit's knob, not an argument
            model.fit(weights, show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)


class BPRModel(FactorModel):
    """Bayesian Personalized Ranking with implicit's sampler."""

    name = "bpr"
    defaults = {
        "factors": 200,
        "learning_rate": 0.01,
        "regularization": 0.001,
        "iterations": 100,
        "seed": 42,
        "confidence": "binary",
    }
    positive = ("factors", "learning_rate", "iterations")

    def _fit(self, user_items):
        from implicit.bpr import BayesianPersonalizedRanking

        p = self.params
        model = BayesianPersonalizedRanking(
            factors=int(p["factors"]),
            learning_rate=float(p["learning_rate"]),
            regularization=float(p["regularization"]),
            iterations=int(p["iterations"]),
            random_state=int(p["seed"]),
            use_gpu=False,
        )
        model.fit(user_items, show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)
