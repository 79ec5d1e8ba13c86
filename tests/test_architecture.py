"""The layering the README describes, checked: no import cycles, imports point inward only,
short modules, and the stage registry is the one stage list (jobs/, DAGs, CLI)."""

import ast
from pathlib import Path

from helpers import ROOT
from nightfeed.pipeline import registry

PACKAGE = ROOT / "lib" / "nightfeed"
# The layers by package, outermost first; a module may import only from its own layer or layers
# after it.
LAYERS = [
    {"cli", "jobs", "bench"},  # entry points: argument parsing, the benchmarks
    {"pipeline"},  # stages: read inputs, call the domain, write one slice
    {
        "ingest",
        "feeds",
        "ranking",
        "models",
        "evaluation",
        "audit",
        "quality",
        "reports",
        "synthetic",
    },  # domain
    {"lake", "runtime", "configuration", "core"},  # foundations
]


def test_the_package_is_its_subpackages():
    """No top-level module but __init__: every module lives in the package of its domain, and every
    package says what it is for."""
    assert [p.name for p in PACKAGE.glob("*.py")] == ["__init__.py"]
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages == set().union(*LAYERS)
    for package in packages:
        assert ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text())), package


def test_the_runtime_never_imports_the_benchmarks():
    for module, deps in graph().items():
        if not module.startswith(("nightfeed.bench", "nightfeed.cli")):
            assert not any(d.startswith("nightfeed.bench") for d in deps), module


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """nightfeed modules imported anywhere in the file (also inside functions)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if base.startswith("nightfeed"):
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    out.add(
                        candidate
                        if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists()
                        or (PACKAGE.parent / candidate.replace(".", "/")).is_dir()
                        else base
                    )
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("nightfeed")}
    return out - {name}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_no_import_cycles():
    g = graph()
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in g.get(node, ()):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(nxt) :] + [nxt]))
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in g:
        if node not in state:
            visit(node, [node])


def layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_imports_point_inward_only():
    for module, deps in graph().items():
        if module == "nightfeed":
            continue
        for dep in deps:
            if dep != "nightfeed":
                assert layer(dep) >= layer(module), f"{module} (layer {layer(module)}) imports outer {dep}"


# Modules that are one concept and longer than most, with why (split by concept, not by length).
ONE_CONCEPT = {"nightfeed.configuration.settings": "every configuration key, declared once, and its parsing"}


def test_modules_stay_short():
    long = {
        module_name(p): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > (400 if module_name(p) in ONE_CONCEPT else 260)
    }
    assert not long, long


def test_jobs_are_exactly_the_registry_stages():
    shims = {p.stem for p in (ROOT / "jobs").glob("*.py")} - {"evaluate_dataset"}
    assert shims == set(registry.STAGE_NAMES)
    for stage in registry.STAGES:
        module = PACKAGE / "pipeline" / f"{stage.module}.py"
        assert f"def {stage.name}(" in module.read_text(), stage


def test_registry_order_and_lookup():
    assert registry.NIGHTLY[0] == "ingest_events" and registry.NIGHTLY[-1] == "quality_report"
    assert "generate_events" in registry.STAGE_NAMES and "generate_events" not in registry.NIGHTLY
    assert registry.stage("train_model").options[0].flag == "--model"
    try:
        registry.stage("nope")
    except ValueError as exc:
        assert "ingest_events" in str(exc)
    else:
        raise AssertionError("unknown stage accepted")


def test_only_the_simulator_and_the_benchmarks_read_the_synthetic_worlds_truth():
    """The nightly pipeline learns from the lake alone: the synthetic platform (its hidden taste,
    quality and policy) is imported only by itself, the benchmarks, and the stage that lands its
    days as files (the platform's producer)."""
    allowed = ("nightfeed.synthetic", "nightfeed.bench", "nightfeed.pipeline.generate_events")
    for module, deps in graph().items():
        if any(d.startswith("nightfeed.synthetic") for d in deps):
            assert module.startswith(allowed), module
