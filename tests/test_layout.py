"""The house: sub-packages in data-flow order, checked — the import-linter layers contract, no private name
across sub-packages, imports at the top of files except the declared lazy ones, the README's map complete,
and the module paths of pmq 0.1 still answering."""
import ast
import importlib
import re
import warnings
from pathlib import Path

import pytest

import pmq

PKG = Path(pmq.__file__).resolve().parent
ROOT = Path(__file__).resolve().parent.parent
SUBPACKAGES = sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").exists())

#: Libraries imported inside functions on purpose: heavy or optional (cold start, extras).
LAZY_LIBRARIES = ("matplotlib", "scipy", "statsmodels", "dask", "distributed", "zarr", "openpyxl", "pyarrow",
                  "pyam", "PIL", "playwright", "h5netcdf", "h5py", "numcodecs")
#: pmq imports allowed inside functions: the declared upward hooks (results objects offer their charts and
#: exports), and the command line, which imports the library only for the command it runs (`pmq --help`
#: starts in a fraction of a second).
LAZY_PMQ = {
    "pmq.projection.run": ("pmq.plots", "pmq.export"),
    "pmq.projection.compare": ("pmq.plots", "pmq.export"),
    "pmq.projection.ensemble": ("pmq.plots",),
    "pmq.estimation.backtest": ("pmq.plots",),
    "pmq.cli": ("pmq",),
    "pmq": ("pmq",),
}


def modules():
    for f in sorted(PKG.rglob("*.py")):
        rel = f.relative_to(PKG.parent).with_suffix("")
        name = ".".join(rel.parts)
        yield (name[: -len(".__init__")] if name.endswith(".__init__") else name), f


def unit(module: str) -> str:
    """The unit a module belongs to: its sub-package, or itself for a top-level module."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or parts[-1] in SUBPACKAGES else module


def test_import_linter_layers_contract():
    from importlinter.cli import lint_imports
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_at_most_twelve_modules_at_the_top():
    top = [p.name for p in PKG.glob("*.py")]
    assert len(top) <= 12, top
    assert set(SUBPACKAGES) == {"data", "model", "inputs", "scenario", "estimation", "projection", "analysis",
                                "plots", "export"}


def test_no_private_name_crosses_a_subpackage():
    bad = []
    for name, f in modules():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pmq") and not node.level:
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    private = alias.name.startswith("_") and alias.name != "__version__" or any(
                        part.startswith("_") and part not in ("__init__", "_version", "_compat")
                        for part in node.module.split("."))
                    if private and unit(node.module) != unit(name) and unit(target) != unit(name):
                        bad.append(f"{name}: from {node.module} import {alias.name}")
            assert not (isinstance(node, ast.ImportFrom) and node.level), f"{name}: relative import"
    assert bad == []


def _readme_map() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1]
    return re.search(r"```text\n(.*?)```", section, re.S).group(1)


def test_readme_layout_lists_every_module_and_nothing_else():
    tree = _readme_map()
    lines = tree.splitlines()
    listed, current = set(), None
    for line in lines[1:]:
        m = re.match(r"  (\w+)/\s+(.*)", line)
        if m:
            current = m.group(1)
            listed.add(current + "/")
            for inline in re.findall(r"(\w+)\.py", m.group(2)):
                listed.add(f"{current}/{inline}.py")
            continue
        m = re.match(r"    (\w+\.py)\b", line)
        if m:
            listed.add(f"{current}/{m.group(1)}")
            continue
        m = re.match(r"  (\w+\.py)\b", line)
        if m:
            current = None
            listed.add(m.group(1))
    actual = {p.name for p in PKG.glob("*.py")} | {f"{d}/" for d in SUBPACKAGES}
    for d in SUBPACKAGES:
        if d != "data":
            actual |= {f"{d}/{p.name}" for p in (PKG / d).glob("*.py") if p.name != "__init__.py"}
    assert listed == actual, (sorted(listed - actual), sorted(actual - listed))


@pytest.mark.parametrize("old, new, name", [
    ("pmq.compare", "pmq.projection.compare", "project_many"),
    ("pmq.levers", "pmq.scenario.levers", "apply_demand"),
    ("pmq.io", "pmq.inputs.tables", "read_table"),
    ("pmq.transitions", "pmq.analysis.occupational", "read_transitions"),
    ("pmq.mobility", "pmq.inputs.interregional", "read_interregional"),
    ("pmq.mobility", "pmq.model.mobility", "annual_path"),
    ("pmq.scenario_tables", "pmq.analysis.sources", "source_check"),
    ("pmq.report", "pmq.export.report", "build_report"),
])
def test_the_module_paths_of_pmq_0_1_still_answer(old, new, name):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        mod = importlib.import_module(old)
    assert getattr(mod, name) is getattr(importlib.import_module(new), name)
    assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in seen) or \
        old in __import__("sys").modules
    # the public names of 0.1's packages-to-be still import from them
    from pmq.export import to_excel  # noqa: F401
    from pmq.projection import input_paths, project  # noqa: F401
    from pmq.scenario import Rules, read_scenario  # noqa: F401
