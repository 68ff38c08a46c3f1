"""The house: sub-packages in data-flow order, checked — the import-linter layers contract, no private name
across sub-packages, imports at the top of files except the declared lazy ones, the README's map complete,
the module paths of pmq 0.1 still answering, and the causes of a slow cold start kept out (what ``import pmq``
and ``pmq --help`` import; their times are measured by ``benchmarks/bench_cold_start.py``, never asserted)."""
import ast
import fnmatch
import importlib
import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

import pmq

PKG = Path(pmq.__file__).resolve().parent
ROOT = Path(__file__).resolve().parent.parent
SUBPACKAGES = sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").exists())

#: Libraries imported inside functions on purpose: heavy or optional (cold start, extras).  psutil is not a
#: dependency of pmq (it comes with distributed): ``available_memory`` tries it and falls back on /proc.
LAZY_LIBRARIES = ("matplotlib", "scipy", "statsmodels", "dask", "distributed", "zarr", "openpyxl", "pyarrow",
                  "pyam", "PIL", "playwright", "h5netcdf", "h5py", "numcodecs", "psutil")
#: pmq imports allowed inside functions: the declared upward hooks (results objects offer their charts and
#: exports), and the command line, which imports the library only for the command it runs (`pmq --help`
#: starts in a fraction of a second).
LAZY_PMQ = {
    "pmq.projection.results": ("pmq.plots", "pmq.export"),
    "pmq.projection.ensemble": ("pmq.plots",),
    "pmq.estimation.backtest": ("pmq.plots",),
    "pmq.cli": ("pmq",),
    "pmq": ("pmq",),
    "pmq.errors": ("pmq.options",),  # the messages' language: pmq.options imports pmq.errors
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


def test_ruff_passes():
    """The lint rules of pyproject.toml ([tool.ruff]) hold on the package, the tests, examples, benchmarks and
    tools (ruff is capped below its next minor release in the test extra: a new release may add rules)."""
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr


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


def test_imports_at_the_top_except_the_declared_lazy_ones():
    bad = []
    for name, f in modules():
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    mods = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    mods = [node.module or ""]
                else:
                    continue
                for m in mods:
                    if m.split(".")[0] in LAZY_LIBRARIES:
                        continue
                    if m == "pmq" or m.startswith("pmq."):
                        allowed = LAZY_PMQ.get(name, ())
                        if any(m == a or m.startswith(a + ".") for a in allowed):
                            continue
                        bad.append(f"{name}:{node.lineno} imports {m} inside {fn.name}()")
                    elif m.split(".")[0] not in ("importlib", "errno", "textwrap", "signal", "ctypes", "gc",
                                                 "resource", "faulthandler", "traceback", "warnings", "contextlib"):
                        bad.append(f"{name}:{node.lineno} imports {m} inside {fn.name}()")
    assert bad == [], "\n".join(bad)


#: What ``import pmq`` and the library's face (every name of ``pmq.__all__``) must not import: each is
#: imported by the function that needs it (scipy alone costs ~0.3 s, matplotlib ~0.5 s).
HEAVY = {"scipy", "matplotlib", "statsmodels", "dask", "distributed", "zarr", "openpyxl"}
#: What ``import pmq`` alone and ``pmq --help`` must not import either: ``python -m pmq`` and the ``pmq``
#: script import the package first, and the command line imports the library only for the command it runs.
ARRAYS = {"numpy", "pandas", "xarray"}


def _imported(args: list[str]) -> tuple[int, set[str]]:
    """Exit status of ``python -X importtime <args>`` and the top-level packages it imported."""
    res = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True, timeout=300)
    mods = {m.group(1).split(".")[0] for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$",
                                                        res.stderr, re.MULTILINE)}
    assert "pmq" in mods, res.stderr[-2000:]
    return res.returncode, mods


def test_import_pmq_imports_neither_the_arrays_nor_the_heavy_libraries():
    code, mods = _imported(["-c", "import pmq"])
    assert code == 0
    assert not mods & (ARRAYS | HEAVY), sorted(mods & (ARRAYS | HEAVY))


#: Names of the face whose modules need scipy or matplotlib as soon as they load (draws, fits, charts).
HEAVY_FACE = {"backtest", "build_report", "run_ensemble", "Ensemble", "one_at_a_time", "sobol"}


def test_the_library_face_imports_no_heavy_library():
    light = sorted(set(__import__("pmq").__all__) - HEAVY_FACE)
    code, mods = _imported(["-c", f"import pmq\nfor name in {light!r}: getattr(pmq, name)"])
    assert code == 0 and ARRAYS <= mods
    assert not mods & HEAVY, sorted(mods & HEAVY)


def test_the_face_is_listed_and_answers_lazily():
    code = ("import sys, pmq\n"
            "assert set(pmq.__all__) <= set(dir(pmq)), set(pmq.__all__) - set(dir(pmq))\n"
            "assert 'pandas' not in sys.modules\n"
            "from pmq import project, load_baseline\n"
            "assert pmq.project is project and pmq.load_baseline is load_baseline\n"
            "assert pmq.projection.run.Projection is pmq.Projection\n"
            "try:\n    pmq.no_such_name\nexcept AttributeError as e:\n    print(e)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "no attribute 'no_such_name'" in res.stdout


@pytest.mark.parametrize("args", [
    ["-m", "pmq", "--help"],                                                   # python -m pmq --help
    ["-c", "import sys; from pmq.cli import main; sys.exit(main(['--help']))"],  # the pmq script's entry point
    ["-m", "pmq", "run", "--help"],
    ["-m", "pmq", "--version"],
], ids=["python -m pmq --help", "pmq --help", "pmq run --help", "pmq --version"])
def test_help_imports_argparse_not_the_library(args):
    code, mods = _imported(args)
    assert code == 0
    assert not mods & (ARRAYS | HEAVY), sorted(mods & (ARRAYS | HEAVY))


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


def test_every_data_file_is_shipped_in_the_package():
    """A file under pmq/data/ that no pattern of pyproject.toml's package data names would be missing from an installed
    pmq (pip install builds a wheel from those patterns): the command that reads it would fail there only."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"]["pmq.data"]
    data = ROOT / "pmq" / "data"
    files = [p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file() and p.suffix != ".py"
             and "__pycache__" not in p.parts and not p.name.startswith(".")]
    assert files and "templates/fr/README.md" in files
    # setuptools' globs: « * » stops at a « / » (fnmatch's does not: the parts are compared one by one)
    missing = [f for f in files if not any(len(f.split("/")) == len(pat.split("/")) and all(
        fnmatch.fnmatchcase(a, b) for a, b in zip(f.split("/"), pat.split("/"))) for pat in patterns)]
    assert missing == []
