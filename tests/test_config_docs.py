"""The configuration reference comes from the key declarations: the packaged TOML's [defaults]
block and docs/configuration.md are what `make config-docs` writes from them."""

from helpers import ROOT
from nightfeed.configuration import config, settings
from nightfeed.configuration import reference as config_docs


def test_the_packaged_defaults_block_is_generated_and_current():
    text = config.resource("nightfeed.toml").read_text()
    assert config_docs.with_defaults(text) == text, "stale: run make config-docs"


def test_the_configuration_page_is_generated_and_current():
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert page == config_docs.render_page(), "stale: run make config-docs"


def test_the_file_and_the_declarations_give_the_same_settings():
    defaults_only = {"defaults": config.load_raw()["defaults"]}
    assert config.region_settings("ZZ", defaults_only) == config.region_settings("ZZ", {})
    assert (
        "| `rollback_days` | int | `7` | ≥ 1 | rollback must reach feeds this old |"
        in config_docs.render_page()
    )
    assert settings.FeedSettings().n == 50


def test_the_model_types_named_in_the_help_are_the_registered_models():
    import dataclasses

    from nightfeed.models import MODEL_NAMES

    (field,) = [f for f in dataclasses.fields(settings.ModelSettings) if f.name == "type"]
    named = {name.strip().split()[0] for name in field.metadata["help"].split("|")}
    assert named == set(MODEL_NAMES)
