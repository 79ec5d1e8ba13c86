"""The pipeline stages: each reads its inputs, calls the pure transforms and replaces only its
own (region, ds) slice. `run` dispatches by the stage registry (`registry.STAGES`); a stage is
the function `<module>.<stage name>(spark, lake, region, ds, cfg, **options)`.
"""

from __future__ import annotations

import importlib

from nightfeed.core.errors import NightfeedError
from nightfeed.pipeline import registry


def run(spark, lake, name: str, region: str, ds: str, cfg, **options) -> dict:
    """Run stage `name` for one (region, ds) with typed settings `cfg`; returns its summary."""
    try:
        stage = registry.stage(name)
    except ValueError as exc:
        raise NightfeedError(str(exc)) from None
    function = getattr(importlib.import_module(f"{__name__}.{stage.module}"), stage.name)
    return function(spark, lake, region, ds, cfg, **options)
