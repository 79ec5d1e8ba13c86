"""`nightfeed evaluate`: every named model on one split of a user's own interactions file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nightfeed import models
from nightfeed.core.errors import NightfeedError
from nightfeed.evaluation.loaders import load_interactions
from nightfeed.evaluation.matrices import encode, relevant_sets
from nightfeed.evaluation.protocol import fit_and_score
from nightfeed.evaluation.splits import split


def model_params(name: str, k: int, seed: int, time_budget_s: float, transform: dict) -> dict:
    """Constructor parameters: `transform` (the confidence settings, {} for each model's own)."""
    if name == "auto":
        return {"k": k, "seed": seed, "time_budget_s": time_budget_s, **transform}
    return models.seeded(name, dict(transform), seed)


def compare(
    df: pd.DataFrame,
    names: list[str],
    split_method: str,
    test_fraction: float,
    seed: int,
    k: int,
    time_budget_s: float = 120.0,
    weighted: bool = False,
    transform: dict | None = None,
) -> list[dict]:
    """Split once, then fit and score every named model on the same split. Unweighted data is
    binary; `transform` fixes every model's confidence transform (None: each model's own)."""
    left_out = 0
    if (df["weight"] <= 0).any():
        left_out = int((df.groupby(["user", "item"], sort=False)["weight"].sum() <= 0).sum())
        if not (df["weight"] > 0).any():
            raise NightfeedError("every weight is 0 or less: no interaction to learn from")
    train, test = split(df, split_method, test_fraction, seed)
    enc = encode(train, binary=not weighted)
    users, relevant = relevant_sets(test, enc)
    if not len(users):
        raise NightfeedError("too few interactions to evaluate: no test user has training interactions")
    results = []
    for name in names:
        try:
            model = models.create(name, **model_params(name, k, seed, time_budget_s, transform or {}))
        except ValueError as exc:
            raise NightfeedError(str(exc)) from None
        try:
            res = fit_and_score(model, enc.train, users, relevant, k)
        except models.FIT_ERRORS as exc:
            raise NightfeedError(f"{name} could not be fitted on this data: {exc}") from None
        params = dict(model.params)
        if name == "auto":
            params = {
                "chosen": model.chosen["model"],
                "chosen_params": model.chosen["params"],
                "validation": model.chosen["metrics"],
                "tuning_s": model.tuning_s,
                "skipped": len(model.skipped),
                **params,
            }
        results.append(
            {
                "model": name,
                "params": params,
                "k": k,
                "metrics": res["metrics"],
                "timings": res["timings"],
                "n_users": int(enc.train.shape[0]),
                "n_items": int(enc.train.shape[1]),
                "n_train": int(len(train)),
                "n_test": int(len(test)),
                "n_not_interactions": left_out,
                "n_eval_users": int(len(users)),
                "split": split_method,
                "test_fraction": test_fraction,
                "seed": seed,
            }
        )
    return results


def format_table(results: list[dict], k: int) -> str:
    cols = [f"ndcg@{k}", f"map@{k}", f"precision@{k}", f"recall@{k}", "coverage", "gini", "novelty"]
    head = f"{'model':<18}" + "".join(f"{c:>13}" for c in cols) + f"{'fit_s':>10}{'recommend_s':>13}"
    lines = [head, "-" * len(head)]
    for r in results:
        label = r["model"] + (f"→{r['params']['chosen']}" if r["model"] == "auto" else "")
        lines.append(
            f"{label:<18}"
            + "".join(f"{r['metrics'][c]:>13.4f}" for c in cols)
            + f"{r['timings']['fit_s']:>10.2f}{r['timings']['recommend_s']:>13.3f}"
        )
    first = results[0]
    lines.append(
        f"users {first['n_users']}  items {first['n_items']}  train {first['n_train']}  test "
        f"{first['n_test']}"
        f"  ({first['split']} split, test fraction {first['test_fraction']}, seed {first['seed']})"
    )
    if first.get("n_not_interactions"):
        lines.append(
            f"{first['n_not_interactions']} (user, item) pairs weigh 0 or less: not interactions, "
            "left out of train and test"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class InteractionsFile:
    """Where a user's interactions are and how to read them (`nightfeed evaluate --input ...`)."""

    path: str
    fmt: str
    sep: str = ","
    user_col: str | None = None
    item_col: str | None = None
    weight_col: str | None = None
    time_col: str | None = None
    header: bool = True


@dataclass(frozen=True)
class Evaluation:
    """Which models to compare on the file, on which split, and where the JSON goes."""

    names: list[str]
    k: int
    seed: int
    split_method: str
    test_fraction: float
    time_budget_s: float
    output_json: str | None = None
    transform: dict | None = None


def evaluate_file(source: InteractionsFile, run: Evaluation) -> list[dict]:
    """Load a user's interactions file, compare the named models on one split, print the table
    (and write the JSON); bad options and bad files are NightfeedErrors naming the problem."""
    names = run.names
    if not names:
        raise NightfeedError(f"--model names no model; choose from {', '.join(models.MODEL_NAMES)}")
    unknown = [m for m in names if m not in models.MODEL_NAMES]
    if unknown:
        raise NightfeedError(f"unknown --model {unknown}; choose from {', '.join(models.MODEL_NAMES)}")
    if run.k < 1:
        raise NightfeedError("--k must be at least 1")
    if run.time_budget_s < 0:
        raise NightfeedError(f"--time-budget must be at least 0 seconds, got {run.time_budget_s:g}")
    df = load_interactions(
        source.path,
        source.fmt,
        source.sep,
        source.user_col,
        source.item_col,
        source.weight_col,
        source.time_col,
        header=source.header,
    )
    if run.split_method != "stratified" and source.fmt == "csv" and not source.time_col:
        raise NightfeedError(f"--split {run.split_method} needs --time-col")
    if "spark-als" in names:
        from nightfeed.runtime.spark import build_session

        build_session("nightfeed-evaluate")  # spark-als trains on the active session
    results = compare(
        df,
        names,
        run.split_method,
        run.test_fraction,
        run.seed,
        run.k,
        time_budget_s=run.time_budget_s,
        weighted=bool(source.weight_col),
        transform=run.transform,
    )
    print(format_table(results, run.k))
    if run.output_json:
        try:
            Path(run.output_json).write_text(json.dumps(results, indent=1))
        except OSError as exc:
            raise NightfeedError(
                f"cannot write --output-json {run.output_json}: {exc.strerror or exc} "
                "(the table above is the result)"
            ) from None
        print(f"wrote {run.output_json}")
    return results
