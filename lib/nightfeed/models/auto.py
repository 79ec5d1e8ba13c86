"""`auto`: pick the confidence transform, the model and its hyperparameters by nDCG@k on
validation splits of the training data only, within a time budget.

The test data is never seen: validation interactions are carved out of `user_items` itself.
First each candidate transform is tried with EASE's whole regularisation path (one
factorisation per fold), then the other families under the best transform, strongest first,
then blends. Before every trial its cost is estimated (`cost`); what would not fit in the
budget, with the final refit, is skipped and recorded with the reason. Above `search_max_users`
users the search sees a seeded sample of them and only the winner is fitted on all: the budget
buys the same search at any size. `reuse` skips the search: an earlier choice is scored on the
same validation folds and refitted, as a nightly job does between its weekly retunes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from nightfeed.evaluation.protocol import fit_and_score_folds, path_metrics
from nightfeed.evaluation.splits import holdout_folds, user_sample
from nightfeed.models import confidence
from nightfeed.models.base import Recommender, create, seeded
from nightfeed.models.cost import CostModel, DataShape

EASE_L2 = (500.0, 250.0, 1000.0, 100.0, 2000.0, 50.0)


# (model type, params) tried after the EASE path, in this order, under the chosen transform.
def _als(f: int, r: float, a: float) -> tuple[str, dict]:
    return "als", {"factors": f, "regularization": r, "alpha": a, "iterations": 15}


SEARCH_SPACE: list[tuple[str, dict]] = (
    [_als(64, 5.0, 2.0), _als(32, 1.0, 1.0)]
    + [("rp3beta", {"alpha": a, "beta": b, "neighbors": k}) for a, b, k in ((0.8, 0.2, 50), (0.5, 0.3, 100))]
    + [("itemknn", {"neighbors": k, "shrink": s}) for k, s in ((200, 50.0), (100, 10.0))]
    + [_als(*p) for p in ((64, 5.0, 1.0), (128, 10.0, 2.0), (48, 3.0, 1.0), (16, 5.0, 1.0), (64, 1.0, 10.0))]
    + [("rp3beta", {"alpha": a, "beta": b, "neighbors": k}) for a, b, k in ((0.7, 0.4, 30), (1.0, 0.1, 200))]
    + [("bpr", {"factors": 200, "learning_rate": 0.01, "regularization": 0.001, "iterations": 100})]
    + [("popularity", {})]
)
ITEM_ITEM = ("ease", "rp3beta", "itemknn")
BLEND_WEIGHTS = (0.6, 0.7, 0.8)  # weight of the item-item model in an item-item + ALS blend
N_FOLDS = 3  # validation folds averaged per candidate: one fold's noise picked worse models
MAX_EVAL_USERS = 5000  # validation users scored per fold


class AutoModel(Recommender):
    """Tunes transform, model and parameters within `time_budget_s`, then refits the winner."""

    name = "auto"
    transforms_input = False  # it chooses the transform of the model it builds
    defaults = {
        "k": 10,
        "seed": 42,
        "time_budget_s": 120.0,
        "validation_fraction": 0.1,
        "ease_max_items": 20000,
        "search_max_users": 30000,
        "candidates": ["ease", "rp3beta", "itemknn", "als", "bpr", "popularity"],
        "confidence": None,  # None: choose among confidence.candidates(data); else fixed
        "confidence_alpha": 1.0,
        "confidence_eps": 1.0,
        "reuse": None,  # {"model", "params"} chosen by an earlier search: validate and refit only
    }
    positive = ("k", "validation_fraction", "ease_max_items", "search_max_users")

    def _fit(self, user_items):
        p = self.params
        self.started = time.perf_counter()
        searched = user_sample(user_items, int(p["search_max_users"]), int(p["seed"]))
        self.folds = holdout_folds(searched, float(p["validation_fraction"]), int(p["seed"]), N_FOLDS)
        eval_users = min(MAX_EVAL_USERS, int((self.folds[0][1].getnnz(axis=1) > 0).sum()))
        self.fold_shape = DataShape.of(self.folds[0][0], eval_users)
        self.full_shape = DataShape.of(user_items, 0)
        self.costs = CostModel.probe()
        self.trials, self.skipped = [], []
        if p["reuse"] is not None:
            self._try(p["reuse"]["model"], p["reuse"]["params"], force=True)
        else:
            self._search(user_items)
        self.chosen = self._best()
        self.inner = create(self.chosen["model"], **self.chosen["params"]).fit(user_items)
        self.tuning_s = round(time.perf_counter() - self.started, 3)

    def _search(self, user_items) -> None:
        p = self.params
        for transform in self._transforms(user_items):
            if "ease" in p["candidates"]:
                self._ease_path(transform)
            else:  # the transform is chosen on the first candidate of the search space
                mtype, params = next(
                    ((m, q) for m, q in SEARCH_SPACE if m in p["candidates"]), ("popularity", {})
                )
                self._try(mtype, {**params, **transform})
        best_transform = self._transform_of(self._best()) if self.trials else {}
        for mtype, params in SEARCH_SPACE:
            if mtype in p["candidates"]:
                self._try(mtype, {**params, **best_transform})
        if not self.trials:
            self._try("popularity", {}, force=True)
        for members in self._blend_pairs():
            self._blend_path(members)

    @property
    def metric(self) -> str:
        return f"ndcg@{int(self.params['k'])}"

    def _transforms(self, user_items) -> list[dict]:
        p = self.params
        if p["confidence"] is None:
            return confidence.candidates(user_items)
        confidence.check(p["confidence"], float(p["confidence_alpha"]), float(p["confidence_eps"]))
        return [{k: p[k] for k in confidence.PARAMS}]

    @staticmethod
    def _transform_of(trial: dict) -> dict:
        return {k: v for k, v in trial["params"].items() if k in confidence.PARAMS}

    def _best(self) -> dict:
        return max(self.trials, key=lambda t: t["metrics"].get(self.metric, 0.0))

    def _fits(self, mtype: str, params: dict) -> tuple[bool, float, str]:
        """Whether a trial fits in what is left of the budget, with the refit of the best model."""
        estimate = self.costs.seconds(mtype, params, self.fold_shape, self.fold_shape.eval_users, N_FOLDS)
        refits = [self.costs.seconds(mtype if mtype != "ease-path" else "ease", params, self.full_shape, 0)]
        if self.trials:
            best = self._best()
            refits.append(self.costs.seconds(best["model"], best["params"], self.full_shape, 0))
        left = float(self.params["time_budget_s"]) - (time.perf_counter() - self.started)
        need = estimate + max(refits)
        reason = f"estimated {estimate:.1f} s + refit {max(refits):.1f} s > {left:.1f} s left of the budget"
        return need <= left, estimate, reason

    def _try(self, mtype: str, params: dict, force: bool = False) -> None:
        params = seeded(mtype, params, int(self.params["seed"]))
        ok, estimate, reason = self._fits(mtype, params)
        if not (ok or force):
            self.skipped.append(
                {"model": mtype, "params": params, "estimated_s": round(estimate, 2), "reason": reason}
            )
            return
        t0 = time.perf_counter()
        metrics = self.score_on_folds(lambda: create(mtype, **params))
        seconds = time.perf_counter() - t0
        self.costs.learn(mtype, params, self.fold_shape, self.fold_shape.eval_users, N_FOLDS, seconds)
        self.trials.append(
            {
                "model": mtype,
                "params": params,
                "metrics": metrics or {self.metric: 0.0},
                "seconds": round(seconds, 3),
                "estimated_s": round(estimate, 3),
            }
        )

    def score_on_folds(self, make_model) -> dict:
        """Mean metrics of make_model() on the search's validation folds, as every trial is scored."""
        return fit_and_score_folds(
            make_model, self.folds, int(self.params["k"]), MAX_EVAL_USERS, int(self.params["seed"])
        )

    def _ease_path(self, transform: dict) -> None:
        """Every EASE_L2 value under `transform`, from one factorisation per fold."""
        base = {"max_items": int(self.params["ease_max_items"]), **transform}
        path = {**base, "l2_values": list(EASE_L2)}
        ok, estimate, reason = self._fits("ease-path", path)
        if not ok:
            self.skipped.append(
                {"model": "ease", "params": path, "estimated_s": round(estimate, 2), "reason": reason}
            )
            return
        t0 = time.perf_counter()
        results = path_metrics(
            create("ease", **base),
            EASE_L2,
            self.folds,
            int(self.params["k"]),
            MAX_EVAL_USERS,
            int(self.params["seed"]),
        )
        seconds = time.perf_counter() - t0
        self.costs.learn("ease-path", path, self.fold_shape, self.fold_shape.eval_users, N_FOLDS, seconds)
        for l2, metrics in zip(EASE_L2, results):
            self.trials.append(
                {
                    "model": "ease",
                    "params": {**base, "l2": l2},
                    "metrics": metrics or {self.metric: 0.0},
                    "seconds": round(seconds / len(EASE_L2), 3),
                    "estimated_s": round(estimate / len(EASE_L2), 3),
                    "path": True,
                }
            )

    def _blend_pairs(self):
        """Member pairs to blend: the best item-item model with the best ALS, and the best two
        families of the search (e.g. BPR and ALS on a listening log), each pair once."""
        best = {}  # family -> its best trial, best family first
        for t in sorted(self.trials, key=lambda t: -t["metrics"].get(self.metric, 0.0)):
            if t["model"] not in ("blend", "popularity"):
                best.setdefault(t["model"], t)
        item_item = [m for m in best if m in ITEM_ITEM]
        pairs = ([(item_item[0], "als")] if item_item and "als" in best else []) + [tuple(best)[:2]]
        seen = set()
        for pair in pairs:
            if len(pair) == 2 and frozenset(pair) not in seen:
                seen.add(frozenset(pair))
                yield [{"model": m, "params": best[m]["params"]} for m in pair]

    def _blend_path(self, members: list[dict]) -> None:
        """Blends of `members` at every BLEND_WEIGHTS value, the members fitted once per fold."""
        base = {"members": members, "weights": [0.5, 0.5]}
        ok, estimate, reason = self._fits("blend", base)
        if not ok:
            self.skipped.append(
                {"model": "blend", "params": base, "estimated_s": round(estimate, 2), "reason": reason}
            )
            return
        t0 = time.perf_counter()
        k, seed = int(self.params["k"]), int(self.params["seed"])
        results = path_metrics(create("blend", **base), BLEND_WEIGHTS, self.folds, k, MAX_EVAL_USERS, seed)
        seconds = time.perf_counter() - t0
        for w, metrics in zip(BLEND_WEIGHTS, results, strict=True):
            self.trials.append(
                {
                    "model": "blend",
                    "params": {"members": members, "weights": [w, round(1 - w, 3)]},
                    "metrics": metrics or {self.metric: 0.0},
                    "seconds": round(seconds / len(BLEND_WEIGHTS), 3),
                    "estimated_s": round(estimate / len(BLEND_WEIGHTS), 3),
                    "path": True,
                }
            )

    @property
    def validation_metrics(self) -> dict:
        return self.chosen["metrics"]

    def score_block(self, userids, user_items, items=None):
        return self.inner.scores(userids, user_items, items)

    def recommend(
        self, userids, user_items, N=10, filter_already_liked_items=True, filter_items=None, exclude=None
    ):
        return self.inner.recommend(userids, user_items, N, filter_already_liked_items, filter_items, exclude)

    def save(self, path):
        """Saves the chosen model itself (loading gives that model) plus the search record."""
        self.inner.save(path)
        record = {
            "chosen": self.chosen,
            "trials": self.trials,
            "skipped": self.skipped,
            "tuning_s": self.tuning_s,
            "search_users": self.folds[0][0].shape[0],
            "reused": self.params["reuse"] is not None,
        }
        (Path(path) / "tuning.json").write_text(json.dumps(record, indent=1))
