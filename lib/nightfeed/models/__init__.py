"""Model registry: every recommender by its configured name."""
from __future__ import annotations

from .base import FactorModel, NO_ITEM, Recommender
from .blend import BlendModel
from .ease import EASEModel
from .implicit_models import ALSModel, BPRModel
from .popularity import PopularityModel
from .spark_als import SparkALSModel

MODELS: dict[str, type[Recommender]] = {
    cls.name: cls for cls in (PopularityModel, ALSModel, BPRModel, EASEModel, SparkALSModel, BlendModel)
}
MODEL_NAMES = ("popularity", "als", "bpr", "ease", "spark-als", "auto")  # user-facing; blend is built by auto


def create(name: str, **params) -> Recommender:
    """A model by name (`auto` lives in `nightfeed.tuning`, which builds on these)."""
    if name == "auto":
        from ..tuning import AutoModel

        return AutoModel(**params)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
    return MODELS[name](**params)


def load(path) -> Recommender:
    return Recommender.load(path)


__all__ = ["MODELS", "MODEL_NAMES", "NO_ITEM", "FactorModel", "Recommender", "create", "load"]
