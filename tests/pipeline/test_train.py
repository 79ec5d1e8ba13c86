import dataclasses

import pytest

from nightfeed import config, models
from nightfeed.pipeline.train import model_params


def test_model_config_sets_the_confidence_transform_of_every_model():
    m = config.region_settings("US").model
    assert m.confidence == "auto"
    assert "confidence" not in model_params(m, "als") and "confidence" not in model_params(m, "auto")
    fixed = dataclasses.replace(m, confidence="log", confidence_alpha=2.0, confidence_eps=30.0)
    for name in ("als", "ease", "rp3beta", "auto"):
        params = model_params(fixed, name)
        assert (params["confidence"], params["confidence_alpha"], params["confidence_eps"]) == (
            "log",
            2.0,
            30.0,
        )
        assert models.create(name, **params).params["confidence"] == "log"
    with pytest.raises(ValueError, match="unknown confidence"):
        models.create("als", **model_params(dataclasses.replace(m, confidence="sqrt"), "als"))
