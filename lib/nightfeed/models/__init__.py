"""Model registry: every recommender by its name. Importing a model's module registers it
(`Recommender.__init_subclass__`), so the imports below are the registry's entries, in the order
users see them; every list of model names is derived from it."""

from __future__ import annotations

# The order of these imports is the order users see the models in.
from nightfeed.models import popularity, implicit_models, ease, neighbours, spark_als, auto, blend  # noqa: F401 - registers them
from nightfeed.models.base import REGISTRY, Recommender, create, seeded
from nightfeed.models.factors import FactorModel
from implicit.recommender_base import ModelFitError

# What a fit raises when the data cannot support the model (e.g. no positive weight, NaN factors).
FIT_ERRORS = (ValueError, ArithmeticError, ModelFitError)

MODELS: dict[str, type[Recommender]] = REGISTRY
MODEL_NAMES: tuple[str, ...] = tuple(name for name, cls in REGISTRY.items() if cls.user_facing)


def load(path) -> Recommender:
    """The model saved at `path` (its saved type decides the class)."""
    return Recommender.load(path)


__all__ = ["FIT_ERRORS", "MODELS", "MODEL_NAMES", "FactorModel", "Recommender", "create", "load", "seeded"]
