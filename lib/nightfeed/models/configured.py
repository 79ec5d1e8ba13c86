"""Model constructor parameters from a region's [model] settings, and their check at config read
(no Spark: `nightfeed run` refuses a bad value before a JVM starts)."""

from __future__ import annotations

from nightfeed.configuration.settings import ModelSettings
from nightfeed.core.errors import NightfeedError
from nightfeed.models import MODEL_NAMES
from nightfeed.models.base import create, seeded
from nightfeed.models.ease import items_within


def model_params(m: ModelSettings, model_type: str) -> dict:
    """Constructor parameters of `model_type` from the [model] settings (EASE keeps no more items
    than `memory_budget_mb` allows)."""
    ease_items = min(m.ease_max_items, items_within(m.memory_budget_mb))
    transform = (
        {}
        if m.confidence == "auto"
        else {
            "confidence": m.confidence,
            "confidence_alpha": m.confidence_alpha,
            "confidence_eps": m.confidence_eps,
        }
    )
    if model_type == "auto":
        return {
            "k": m.k,
            "seed": m.seed,
            "time_budget_s": m.time_budget_s,
            "ease_max_items": ease_items,
            **transform,
        }
    params = {**transform, **m.per_model.get(model_type.replace("-", "_"), {})}
    if model_type == "ease":
        params["max_items"] = min(params.get("max_items", ease_items), ease_items)
    return seeded(model_type, params, m.seed)


def check_model_settings(m: ModelSettings) -> None:
    """Raises NightfeedError naming a bad model type or [model.<type>] parameter, so a nightly run
    refuses it before any Spark work instead of failing at train_model."""
    if m.type not in MODEL_NAMES:
        raise NightfeedError(f"configuration [model] type = {m.type!r}: choose from {', '.join(MODEL_NAMES)}")
    for name in m.per_model:
        model_type = name.replace("_", "-")
        if model_type not in MODEL_NAMES:
            raise NightfeedError(
                f"configuration [model.{name}]: no such model; choose from {', '.join(MODEL_NAMES)}"
            )
        if model_type == "auto":  # model_params would ignore the table: refuse it rather than drop it
            raise NightfeedError(
                "configuration [model.auto]: auto takes no table of its own; it is set by the [model] keys "
                "k, seed, time_budget_s, ease_max_items, memory_budget_mb and confidence, confidence_alpha, "
                "confidence_eps"
            )
        try:
            create(model_type, **model_params(m, model_type))
        except ValueError as exc:
            raise NightfeedError(f"configuration [model.{name}]: {exc}") from None
