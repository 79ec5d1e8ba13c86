"""A weighted blend of models' per-user standardised scores (e.g. EASE + ALS).

Item-item and factor models err differently; on MovieLens 100k their blend ranks better than
either alone, which is why `auto` tries it after the single models.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from nightfeed.models.base import BLOCK_USERS, Recommender, as_csr, create, exclusion_matrix, mask_excluded
from nightfeed.models.topk import NO_ITEM, select_topk


def standardise(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float32)
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.where(std > 0, std, 1.0)


class BlendModel(Recommender):
    name = "blend"
    defaults = {"members": [], "weights": []}
    user_facing = False
    transforms_input = False  # each member applies its own

    def __init__(self, **params):
        super().__init__(**params)
        if len(self.params["members"]) != len(self.params["weights"]) or not self.params["members"]:
            raise ValueError("blend: give as many weights as members (at least one)")
        self.members = [create(m["model"], **m["params"]) for m in self.params["members"]]

    def _fit(self, user_items):
        for member in self.members:
            member.fit(user_items)

    def score_block(self, userids, user_items, items=None):
        total = np.zeros((len(userids), self.n_items if items is None else len(items)), dtype=np.float32)
        for weight, member in zip(self.params["weights"], self.members):
            total += float(weight) * standardise(member.scores(userids, user_items, items))
        return total

    def path_recommend(
        self, user_items: sp.csr_matrix, userids: np.ndarray, first_weights: list[float], N: int
    ) -> Iterator[np.ndarray]:
        """Top-N unseen item ids of `userids` for each weight w of the first of two members (the
        second weighs round(1 − w, 3)), as `recommend` of each such blend would give them; the
        members are fitted and score each block once for all the weights."""
        if len(self.members) != 2:
            raise ValueError("blend: a weight path needs exactly two members")
        self.fit(user_items)
        userids, user_items = np.asarray(userids, np.int64), as_csr(user_items)
        seen = exclusion_matrix(user_items[userids], None, True)
        out = [np.full((len(userids), N), NO_ITEM, np.int64) for _ in first_weights]
        for start in range(0, len(userids), BLOCK_USERS):
            sl = slice(start, start + BLOCK_USERS)
            first, second = (
                standardise(m.scores(userids[sl], user_items[userids[sl]])) for m in self.members
            )
            for ids, w in zip(out, first_weights, strict=True):
                block = np.zeros_like(first)
                block += float(w) * first
                block += float(round(1 - w, 3)) * second
                mask_excluded(block, seen[sl])
                top = select_topk(block, N)[0]
                ids[sl, : top.shape[1]] = top
        yield from out

    def save(self, path):
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for i, member in enumerate(self.members):
            member.save(path / f"member-{i}")
        (path / "model.json").write_text(
            json.dumps({"type": self.name, "params": self.params, "n_items": self.n_items})
        )

    @classmethod
    def _restore(cls, path: Path, params: dict) -> BlendModel:
        model = cls(**params)
        model.members = [Recommender.load(path / f"member-{i}") for i in range(len(model.members))]
        return model
