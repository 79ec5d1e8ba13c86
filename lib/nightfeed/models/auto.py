"""`auto`: pick model and hyperparameters by nDCG@k on a validation split of the training data only.

The test data is never seen: validation interactions are carved out of `user_items` itself.
Candidates are tried strongest-first so a tight time budget still ends with a good model.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..evaluation.protocol import fit_and_score_folds
from ..evaluation.splits import holdout_folds
from .base import Recommender, as_csr, create, seeded

# (model type, params), in the order they are tried.
SEARCH_SPACE: list[tuple[str, dict]] = (
    [("ease", {"l2": l2}) for l2 in (500.0, 250.0, 1000.0, 100.0, 2000.0)]
    + [
        ("als", {"factors": f, "regularization": r, "alpha": a, "iterations": 15})
        for f, r, a in (
            (32, 1.0, 1.0),
            (16, 5.0, 1.0),
            (64, 5.0, 1.0),
            (32, 5.0, 5.0),
            (128, 10.0, 2.0),
            (64, 1.0, 10.0),
        )
    ]
    + [("bpr", {"factors": 200, "learning_rate": 0.01, "regularization": 0.001, "iterations": 100})]
    + [("popularity", {})]
)
BLEND_WEIGHTS = (0.5, 0.65, 0.8)  # weight of the item-item model in an EASE + ALS blend
N_FOLDS = 3  # validation folds averaged per candidate: one fold's noise picked worse models


class AutoModel(Recommender):
    """Tunes over SEARCH_SPACE within `time_budget_s`, then refits the winner on all data."""

    name = "auto"
    defaults = {
        "k": 10,
        "seed": 42,
        "time_budget_s": 120.0,
        "validation_fraction": 0.1,
        "ease_max_items": 20000,
        "candidates": ["ease", "als", "bpr", "popularity"],
    }

    def fit(self, user_items):
        user_items = as_csr(user_items)
        self.n_items = user_items.shape[1]
        p = self.params
        started = time.perf_counter()
        deadline = started + float(p["time_budget_s"]) * 0.7  # leave time for the final refit
        folds = holdout_folds(user_items, float(p["validation_fraction"]), int(p["seed"]), N_FOLDS)
        self.trials = []
        for mtype, params in self._candidates():
            if self.trials and time.perf_counter() > deadline:
                break
            self.trials.append(self._trial(mtype, params, folds))
        if not self.trials:
            raise ValueError("auto: no candidate model is allowed for this data")
        for mtype, params in self._blends():
            if time.perf_counter() > deadline:
                break
            self.trials.append(self._trial(mtype, params, folds))
        best = max(self.trials, key=lambda t: t["metrics"][self.metric])
        self.chosen = best
        self.inner = create(best["model"], **best["params"]).fit(user_items)
        self.tuning_s = round(time.perf_counter() - started, 3)
        return self

    @property
    def metric(self) -> str:
        return f"ndcg@{int(self.params['k'])}"

    def _candidates(self):
        for mtype, params in SEARCH_SPACE:
            if mtype not in self.params["candidates"]:
                continue
            if mtype == "ease" and self.n_items > int(self.params["ease_max_items"]):
                continue
            yield mtype, seeded(mtype, params, int(self.params["seed"]))

    def _blends(self):
        """Blends of the best item-item and the best factor model found so far."""
        best = {}
        for t in self.trials:
            if t["model"] in ("ease", "als") and (
                t["model"] not in best or t["metrics"][self.metric] > best[t["model"]]["metrics"][self.metric]
            ):
                best[t["model"]] = t
        if len(best) < 2:
            return
        members = [{"model": best[m]["model"], "params": best[m]["params"]} for m in ("ease", "als")]
        for w in BLEND_WEIGHTS:
            yield "blend", {"members": members, "weights": [w, round(1 - w, 3)]}

    def _trial(self, mtype: str, params: dict, folds) -> dict:
        t0 = time.perf_counter()
        metrics = fit_and_score_folds(lambda: create(mtype, **params), folds, int(self.params["k"]))
        return {
            "model": mtype,
            "params": params,
            "metrics": metrics or {self.metric: 0.0},
            "seconds": round(time.perf_counter() - t0, 3),
        }

    @property
    def validation_metrics(self) -> dict:
        return self.chosen["metrics"]

    def score_block(self, userids, user_items, items=None):
        return self.inner.score_block(userids, user_items, items)

    def recommend(
        self, userids, user_items, N=10, filter_already_liked_items=True, filter_items=None, exclude=None
    ):
        return self.inner.recommend(userids, user_items, N, filter_already_liked_items, filter_items, exclude)

    def save(self, path):
        """Saves the chosen model itself (loading gives that model) plus the search record."""
        self.inner.save(path)
        (Path(path) / "tuning.json").write_text(
            json.dumps({"chosen": self.chosen, "trials": self.trials, "tuning_s": self.tuning_s}, indent=1)
        )
