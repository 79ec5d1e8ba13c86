"""The stages, in run order: the one list the CLI, `jobs/`, the Airflow DAGs and the tests share.

Deliberately free of dependencies (no Spark, numpy or nightfeed imports): the DAG file imports it
when Airflow parses DAGs. Adding a stage = one entry here, one module in `pipeline/` with a
function named like the stage, and a `jobs/<stage>.py` shim.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """An extra command-line option of a stage (beyond --region and --ds)."""

    flag: str
    dest: str
    type: type = str
    help: str = ""
    choices_from: str | None = None  # "models" | "audit_models": names the CLI resolves
    at_least: int | None = None  # an int option's lowest value (the CLI refuses less)


@dataclass(frozen=True)
class Stage:
    name: str  # also the function name in nightfeed.pipeline.<module> and the jobs/<name>.py shim
    module: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    nightly: bool = True  # part of `nightfeed run` and the DAGs
    options: tuple[Option, ...] = ()
    # Slow Python imports the stage needs, loaded while its Spark session starts (a job's
    # `import great_expectations` alone takes ~5 s here).
    preload: tuple[str, ...] = ("pandas", "pyarrow")


AUDIT_PREFIX = "audit-"  # gold/model_registry model_type of the content-audit classifiers
RANKER_PREFIX = "ranker-"  # ... and of the two-stage feeds' ranker
GX = ("great_expectations", "pandas", "pyarrow")
MODELS = ("nightfeed.models", "pandas", "pyarrow")
AUDIT = ("xgboost.spark", "pandas", "pyarrow")
RANKER = ("xgboost", "pandas", "pyarrow")


STAGES: tuple[Stage, ...] = (
    Stage(
        "generate_events",
        "generate_events",
        (),
        ("landing/events", "landing/items"),
        nightly=False,
        options=(
            Option("--days", "days", int, "days of history ending at --ds (default: conf)", at_least=1),
            Option("--seed", "seed", int, "generator seed (default: conf model.seed)", at_least=0),
        ),
    ),
    Stage(
        "ingest_events",
        "ingest",
        ("landing/events", "landing/items"),
        ("bronze/events", "bronze/events_quarantine", "bronze/items", "bronze/items_quarantine"),
    ),
    Stage(
        "ingest_moderation",
        "ingest",
        ("landing/moderation",),
        ("bronze/moderation_decisions", "bronze/moderation_quarantine"),
    ),
    Stage("validate_events", "validate", ("bronze/events", "bronze/items"), ("reports/quality",), preload=GX),
    Stage(
        "build_features",
        "build_features",
        ("bronze/events", "bronze/items"),
        ("silver/interactions", "silver/exclusions", "gold/user_features", "gold/item_features"),
    ),
    Stage("validate_features", "validate", ("silver/interactions",), ("reports/quality",), preload=GX),
    Stage(
        "train_model",
        "train_model",
        ("silver/interactions",),
        ("models", "gold/model_registry"),
        options=(Option("--model", "model_type", str, "model type (default: conf model.type)", "models"),),
        preload=MODELS,
    ),
    Stage(
        "evaluate_model",
        "evaluate_model",
        ("bronze/events", "bronze/items", "gold/model_registry"),
        ("gold/model_metrics",),
        preload=MODELS,
    ),
    Stage(
        "build_audit_features",
        "audit",
        ("bronze/events", "bronze/items", "bronze/moderation_decisions"),
        ("silver/item_risk_features",),
    ),
    Stage(
        "train_audit_model",
        "audit",
        ("silver/item_risk_features",),
        ("models/audit", "gold/model_registry"),
        options=(
            Option(
                "--audit-model", "audit_model", str, "classifier (default: conf audit.model)", "audit_models"
            ),
        ),
        preload=AUDIT,
    ),
    Stage(
        "score_audit_queue",
        "audit",
        ("silver/item_risk_features", "gold/model_registry", "models/audit"),
        ("gold/audit_queue",),
        preload=AUDIT,
    ),
    Stage(
        "evaluate_audit",
        "evaluate_audit",
        ("gold/audit_queue", "silver/item_risk_features", "landing/audit_truth"),
        ("gold/audit_metrics", "reports/audit"),
    ),
    Stage(
        "build_ranking_examples",
        "build_ranking_examples",
        ("bronze/events", "bronze/items", "gold/model_registry", "models", "silver/interactions"),
        ("silver/ranking_examples",),
        preload=MODELS,
    ),
    Stage(
        "train_ranker",
        "train_ranker",
        ("silver/ranking_examples", "gold/model_registry", "gold/feeds"),
        ("models/ranker", "gold/model_registry", "gold/model_metrics"),
        preload=RANKER,
    ),
    Stage(
        "score_feeds",
        "score_feeds",
        (
            "models",
            "models/ranker",
            "gold/model_registry",
            "bronze/events",
            "silver/interactions",
            "silver/exclusions",
            "gold/user_features",
            "gold/item_features",
            "gold/audit_queue",
        ),
        ("silver/feed_candidates", "silver/feed_slots_without_holds", "silver/ranking_candidates"),
        preload=(*MODELS, "xgboost"),
    ),
    Stage(
        "validate_feeds",
        "validate",
        (
            "silver/feed_candidates",
            "gold/user_features",
            "gold/item_features",
            "silver/exclusions",
            "silver/interactions",
        ),
        ("reports/quality",),
        preload=GX,
    ),
    Stage(
        "publish_feeds",
        "publish_feeds",
        ("silver/feed_candidates", "reports/quality", "gold/model_registry", "gold/feed_pointer"),
        ("gold/feeds", "gold/feed_pointer"),
    ),
    Stage(
        "feed_health",
        "feed_health",
        (
            "gold/feeds",
            "gold/item_features",
            "gold/model_metrics",
            "silver/feed_candidates",
            "silver/feed_slots_without_holds",
            "gold/audit_queue",
            "landing/audit_truth",
        ),
        ("gold/feed_metrics",),
    ),
    Stage(
        "quality_report",
        "quality_report",
        ("reports/quality", "bronze/events_quarantine", "bronze/items_quarantine"),
        ("reports/quality",),
        preload=GX,
    ),
)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
NIGHTLY: tuple[str, ...] = tuple(s.name for s in STAGES if s.nightly)
INGEST: tuple[str, ...] = ("ingest_events", "ingest_moderation")  # also run for the history's earlier days


def stage(name: str) -> Stage:
    """The stage called `name`; ValueError naming the known stages otherwise."""
    for s in STAGES:
        if s.name == name:
            return s
    raise ValueError(f"unknown stage {name!r}; choose from {', '.join(STAGE_NAMES)}")
