"""The configuration's reference, made from the key declarations in `settings`: the [defaults]
block of the packaged TOML and docs/configuration.md. `make config-docs` (python -m
nightfeed.configuration.reference) rewrites both; a test fails when either is stale."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from nightfeed.configuration import settings
from nightfeed.configuration.config import PROJECT_ROOT, resource

BEGIN, END = (
    "# >>> [defaults]: generated from lib/nightfeed/configuration/settings.py (make config-docs)",
    "# <<< [defaults]",
)
COMMENT_COLUMN = 37
INTRO = """\
# Configuration

<!-- generated from the key declarations in lib/nightfeed/configuration/settings.py by
`make config-docs`: edit those, not this page -->

Every key below has a default. The defaults ship inside the package
(`nightfeed/resources/nightfeed.toml`, which the checkout's `conf/nightfeed.toml` links to); `--conf
FILE` on any command or job, or `NIGHTFEED_CONF`, names your own file, which needs only the keys
you change. In it, `[defaults]` applies to every region and `[regions.<CODE>]` overrides single
keys for one region, so any region code works (a region missing from the file runs with the
defaults). `nightly_regions` is the list the nightly run covers (distinct region codes; an empty
list stops `nightfeed run` with an error rather than doing nothing). `NIGHTFEED_LAKE` names the
lake root and `NIGHTFEED_SPARK_MASTER` the master of in-process runs (spark-submit runs use
spark-submit's `--master`).

Every key is checked when the file is read: an unknown key, a value of the wrong type (a
fraction or a boolean where a whole number is due, `nan` or `inf` anywhere), a value out of its
range or its vocabulary, or keys of one section that contradict each other (`fresh_share` +
`new_creator_share` more than the whole feed, a band that is not `[low, high]` in order) stops the
command with one `error:` line naming the key and the value; `nightfeed run` checks every region
before it starts Spark. `[model] type` must name a model, and each `[model.<type>]` table (fixed
parameters of that model, e.g. `[model.als] factors = 64`) may hold only that model's
parameters, of the default's kind and range.
"""


def _sections():
    """(TOML table under [defaults], settings class) in file order; ingest and features share [defaults]."""
    classes = {f.name: f.type for f in dataclasses.fields(settings.RegionConfig) if f.name != "region"}
    return [(table, getattr(settings, classes[name])) for name, table in settings.SECTIONS.items()]


def _keys(cls):
    return [f for f in dataclasses.fields(cls) if "help" in f.metadata]


def _default(f):
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def _toml(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | tuple | list):
        return json.dumps(list(value) if isinstance(value, tuple) else value)
    return repr(value)


def _nested(table: str, name: str) -> str:
    """The TOML table of a dict-valued key: [defaults.<name>] at the top, else [defaults.<table>.<name>]."""
    return f"{table}.{name}" if table else name


def render_defaults() -> str:
    """The [defaults] block of the TOML: every key with its default and its help as a comment."""
    blocks: dict[str, list[str]] = {}
    for table, cls in _sections():
        for f in _keys(cls):
            value = _default(f)
            if isinstance(value, dict):
                name = _nested(table, f.name)
                blocks.setdefault(name, [f"# {f.metadata['help']}"])
                blocks[name] += [f"{k} = {_toml(v)}" for k, v in value.items()]
                continue
            line = f"{f.name} = {_toml(value)}"
            blocks.setdefault(table, []).append(f"{line.ljust(COMMENT_COLUMN - 1)} # {f.metadata['help']}")
    out = [BEGIN, "[defaults]", *blocks.pop("")]
    for table, lines in blocks.items():
        out += ["", f"[defaults.{table}]", *lines]
    return "\n".join([*out, END]) + "\n"


def render_page() -> str:
    """docs/configuration.md: one table of keys per section."""
    out = [INTRO]
    for table, cls in _sections():
        keys = _keys(cls)
        nested = [f for f in keys if isinstance(_default(f), dict)]
        plain = [f for f in keys if f not in nested]
        if plain:
            title = f"[defaults.{table}]" if table else "[defaults] (ingest and features)"
            out += [f"## `{title}`", "", "| key | type | default | allowed | what |", "|---|---|---|---|---|"]
            out += [
                f"| `{f.name}` | {f.type} | `{_toml(_default(f))}` | {_allowed(f)} | {f.metadata['help']} |"
                for f in plain
            ]
            out.append("")
        for f in nested:
            out += [
                f"## `[defaults.{_nested(table, f.name)}]`",
                "",
                f"{f.metadata['help']}; keys: {_allowed(f)}.",
                "",
            ]
            out += [
                "| key | default |",
                "|---|---|",
                *(f"| `{k}` | `{v}` |" for k, v in _default(f).items()),
                "",
            ]
    return "\n".join(out).rstrip() + "\n"


def _allowed(f) -> str:
    if f.metadata.get("choices"):
        return ", ".join(f.metadata["choices"])
    lo, hi = f.metadata.get("range") or (None, None)
    if lo is None and hi is None:
        return "any"
    return f"≥ {lo:g}" if hi is None else f"{lo:g} – {hi:g}"


def with_defaults(toml_text: str) -> str:
    """`toml_text` with its generated [defaults] block replaced by `render_defaults()`."""
    head, rest = toml_text.split(BEGIN, 1)
    return head + render_defaults() + rest.split(END + "\n", 1)[1]


def write() -> list[Path]:
    """Rewrite the packaged TOML's [defaults] block and docs/configuration.md (in a checkout)."""
    toml = Path(str(resource("nightfeed.toml")))
    toml.write_text(with_defaults(toml.read_text()))
    page = PROJECT_ROOT / "docs" / "configuration.md"
    page.write_text(render_page())
    return [toml, page]


if __name__ == "__main__":
    for written in write():
        print(f"wrote {written}")
    sys.exit(0)
