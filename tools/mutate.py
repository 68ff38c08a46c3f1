#!/usr/bin/env python3
"""Small mutation-testing harness for pmq (kept in the repo, not run in CI).

What it does
------------
1. Copies the project (``pmq/``, ``tests/``, ``docs/``, ``scenarios/``, ``examples/``,
   ``pyproject.toml`` … everything but ``.git`` and caches) from ``--src`` (default: the
   repository holding this file) into a private temporary folder — one copy per job.  The
   source tree is never written to.
2. Parses each target module with :mod:`ast` and lists *mutants*, each a one-token (or
   one-expression) edit of the source text:

   ===============  ==========================================================================
   kind             mutation
   ===============  ==========================================================================
   ``arith``        ``+``↔``-``, ``*``↔``/``, ``//``→``/``, ``**``→``*``, ``%``→``*``
                    (binary operators and augmented assignments)
   ``mask``         ``&``↔``|`` (boolean masks of numpy arrays)
   ``compare``      ``<``→``<=``/``>``, ``<=``→``<``, ``>``→``>=``/``<``, ``>=``→``>``,
                    ``==``↔``!=``, ``is``↔``is not``, ``in``↔``not in``
   ``boolop``       ``and``↔``or``
   ``unary``        drop a unary ``-``, ``not`` or ``~``
   ``const``        ints: 0→1, 1→0, n→n+1; floats: 0.0→1.0, x→1.1·x; ``True``↔``False``
   ``call``         ``np.maximum``↔``np.minimum``, ``max``↔``min``, ``np.any``↔``np.all``,
                    ``np.where(c, a, b)``→``np.where(c, b, a)``
   ``return``       ``return a ∘ b``→``return a`` (drop the returned expression's last term)
   ===============  ==========================================================================

   Not mutated: strings (so docstrings and messages), f-strings, ``raise`` statements
   (error messages), ``__all__``, annotations, calls to ``warnings``/``logging``/``print``,
   string concatenation, and any line carrying ``# pragma: no mutate``.  Mutants that do not
   compile or that give the same text as another mutant are dropped.
3. For each mutant (all of them, the first ``--max``, a reproducible pseudo-random
   ``--sample N`` per module ranked by ``--seed`` and the mutant's *key* — function, text of
   the line, position in it, mutation — so a larger sample contains a smaller one and an
   edit elsewhere in the module does not reshuffle it, or exactly the mutants of an earlier
   run with ``--same-as results.json``): writes the mutated module into the copy, runs
   ``python -m pytest -x -q -p no:cacheprovider <tests>`` there (cwd = the copy) with
   ``PYTHONPATH`` set to the copy; a small pytest plugin checks that ``pmq`` and the target
   module are imported from the copy, else the run is an ``error``.  The timeout is
   ``--timeout-factor`` (10) × the clean run's time (at least ``--min-timeout``).  Outcome:
   ``killed`` (tests failed or could not be collected), ``survived`` (tests passed),
   ``timeout`` or ``error``; then the module is restored and its ``.pyc`` removed.
   Hypothesis is derandomised (``--hypothesis-seed=0``) and its example database wiped
   before every run, so outcomes do not depend on the order of the mutants; pytest plugin
   autoloading is off (only hypothesis's plugin is loaded — zarr's costs ~2 s a run) and
   BLAS/OpenMP use one thread.
4. Writes ``results.json`` (updated after every mutant; ``--resume`` continues a run that
   was stopped) and ``report.md`` (score per module, every survivor with file:line and the
   original → mutated line) to ``--out`` (default: a new folder under the system temp dir,
   outside the repository).

Score = (killed + timeout) / (killed + survived + timeout); errors are left out and listed.

The modules and the test files that exercise them are in ``CONFIG`` below; ``--module``
(repeatable) picks some of them, and ``--tests`` overrides their tests.

How to run
----------
::

    source /tmp/venv/bin/activate          # any env where `pip install .[test]` works
    python tools/mutate.py --list --module pmq/model/demand.py           # just list the mutants
    python tools/mutate.py --module pmq/model/demand.py --max 5          # smoke test
    python tools/mutate.py --sample 30 --seed 1 --out /tmp/mut     # every CONFIG module
    python tools/mutate.py --module pmq/model/engine.py \\
        --tests tests/test_engine_extremes.py tests/test_properties.py --jobs 2
    git clone /path/to/repo /tmp/mut_head && \\
        python tools/mutate.py --src /tmp/mut_head ...              # measure a commit exactly
    python tools/mutate.py --src /tmp/mut_head \\
        --same-as /tmp/mutation_before/results.json --out /tmp/mut_same   # the same mutants again

``--sample``/``--max`` are per module; ``--tests`` applies to every selected module.

How long it takes
-----------------
One pytest run of the module's test selection per mutant (plus one clean run per module).
Killed mutants stop at the first failure (``-x``); survivors run the whole selection.  On the
2-core development box shared with other users (load 3–10), the CONFIG selections take ~30 s
clean; a killed mutant took 4–16 s on average by module, a survivor 12–26 s (pytest start-up
and ``import pmq`` are ~3–5 s of each).  The "before" measurement — 25 sampled mutants for each
of the six CONFIG modules, ``--jobs 1`` — took 39 min wall.  Each module yields 40–300
mutants (~900 in all): the full set would take several hours.

``--report --out DIR`` rewrites ``DIR/report.md`` from ``DIR/results.json``; ``--keep`` keeps the
private copies (printed at start) for debugging a mutant.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

# --------------------------------------------------------------------------- configuration
# module -> tests run for its mutants (pytest node ids or files, fastest killers first) and
# node ids to deselect.  Test files that take more than ~30 s on their own are left out
# (test_scenarios_library, test_estimated_inputs, test_backtest, test_ensemble, most of
# test_transitions); test_properties drops its strategy self-check (24 s, no pmq code under
# test beyond what the other properties run).
_PROPS_SLOW = "tests/test_properties.py::test_strategy_reaches_the_file_extremes"
_REPORT_SLOW = "tests/test_empty_cells.py::test_cli_report_on_user_files_with_empty_cells"
CONFIG: dict[str, dict] = {
    "pmq/model/engine.py": {
        "tests": ["tests/test_empty_cells.py", "tests/test_engine_extremes.py", "tests/test_reproduction.py",
                  "tests/test_properties.py", "tests/test_engine_record.py", "tests/test_engine_blocks.py",
                  "tests/test_inputs.py::test_infeasible_outflow_raises_engine_error"],
        "deselect": [_PROPS_SLOW, _REPORT_SLOW],
    },
    "pmq/model/demand.py": {
        "tests": ["tests/test_rules_semantics.py", "tests/test_levers_semantics.py", "tests/test_engine_extremes.py", "tests/test_reproduction.py",
                  "tests/test_levers.py",
                  "tests/test_transitions.py::test_period_net_mobility_replaces_the_published_balance"],
        "deselect": [],
    },
    "pmq/model/entrants.py": {
        "tests": ["tests/test_rules_semantics.py", "tests/test_engine_extremes.py", "tests/test_reproduction.py",
                  "tests/test_training.py", "tests/test_docs_supply_imbalance.py"],
        "deselect": [],
    },
    "pmq/model/mobility.py": {
        "tests": ["tests/test_rules_semantics.py", "tests/test_engine_extremes.py", "tests/test_reproduction.py",
                  "tests/test_inputs.py::test_partial_territories_need_a_non_recentred_rule",
                  "tests/test_properties.py::test_mobility_zero_sum_after_the_period",
                  "tests/test_transitions.py::test_interregional_net_inflow_sums_to_zero",
                  "tests/test_transitions.py::test_interregional_errors_name_column_and_value",
                  "tests/test_transitions.py::test_read_interregional_names_and_overrides",
                  "tests/test_transitions.py::test_period_net_mobility_replaces_the_published_balance"],
        "deselect": [],
    },
    "pmq/inputs/interregional.py": {
        "tests": ["tests/test_transitions.py::test_interregional_net_inflow_sums_to_zero",
                  "tests/test_transitions.py::test_interregional_errors_name_column_and_value",
                  "tests/test_transitions.py::test_read_interregional_names_and_overrides",
                  "tests/test_transitions.py::test_period_net_mobility_replaces_the_published_balance",
                  "tests/test_rules_semantics.py"],
        "deselect": [],
    },
    "pmq/scenario/levers.py": {
        "tests": ["tests/test_levers_semantics.py", "tests/test_levers.py", "tests/test_scenario.py", "tests/test_training.py"],
        "deselect": [],
    },
    "pmq/analysis/imbalance.py": {
        "tests": ["tests/test_analysis_semantics.py", "tests/test_empty_cells.py", "tests/test_imbalance.py", "tests/test_docs_supply_imbalance.py",
                  "tests/test_reproduction.py"],
        "deselect": [_REPORT_SLOW],
    },
}

PRAGMA = "pragma: no mutate"
COPY_IGNORE = shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", ".hypothesis", "*.egg-info",
                                     "build", "dist", ".venv", "venv", "*.pyc")
LOG_CALLS = {"warnings", "warn", "logging", "logger", "log", "LOG", "print"}

# --------------------------------------------------------------------------- mutants
_BINOP = {ast.Add: ("+", ["-"]), ast.Sub: ("-", ["+"]), ast.Mult: ("*", ["/"]), ast.Div: ("/", ["*"]),
          ast.FloorDiv: ("//", ["/"]), ast.Pow: ("**", ["*"]), ast.Mod: ("%", ["*"]),
          ast.BitAnd: ("&", ["|"]), ast.BitOr: ("|", ["&"])}
_CMP = {ast.Lt: ("<", ["<=", ">"]), ast.LtE: ("<=", ["<"]), ast.Gt: (">", [">=", "<"]),
        ast.GtE: (">=", [">"]), ast.Eq: ("==", ["!="]), ast.NotEq: ("!=", ["=="]),
        ast.Is: ("is", ["is not"]), ast.IsNot: ("is not", ["is"]), ast.In: ("in", ["not in"]),
        ast.NotIn: ("not in", ["in"])}
_SWAP_ATTR = {("np", "maximum"): "minimum", ("np", "minimum"): "maximum",
              ("np", "any"): "all", ("np", "all"): "any"}
_SWAP_NAME = {"max": "min", "min": "max"}


@dataclass
class Mutant:
    id: str            # module:line:col:kind:n — stable for a given source text
    module: str
    line: int
    col: int
    kind: str
    original: str      # the token / expression replaced
    replacement: str
    function: str      # enclosing def (Class.method) or <module>
    start: int         # byte offsets in the source
    end: int
    new: str
    before: str = ""   # the source line, and the same line mutated (for the report)
    after: str = ""
    key: str = ""      # module|function|line text|column in it|kind|new|n: survives edits elsewhere


class _Collector:
    def __init__(self, module: str, src: bytes):
        self.module, self.src = module, src
        self.line_start = [0]
        for i, b in enumerate(src):
            if b == 0x0A:
                self.line_start.append(i + 1)
        self.pragma = {i + 1 for i, ln in enumerate(src.decode("utf-8").splitlines()) if PRAGMA in ln}
        self.mutants: list[Mutant] = []

    # positions -------------------------------------------------------------------
    def off(self, line: int, col: int) -> int:
        return self.line_start[line - 1] + col

    def span(self, node) -> tuple[int, int]:
        return self.off(node.lineno, node.col_offset), self.off(node.end_lineno, node.end_col_offset)

    def text(self, a: int, b: int) -> str:
        return self.src[a:b].decode("utf-8")

    def line_of(self, off: int) -> int:
        lo, hi = 0, len(self.line_start) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_start[mid] <= off:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def add(self, kind, a, b, original, new, func, replacement=None):
        line = self.line_of(a)
        if line in self.pragma:
            return
        col = a - self.line_start[line - 1]
        n = sum(1 for m in self.mutants if m.line == line and m.col == col and m.kind == kind)
        self.mutants.append(Mutant(f"{self.module}:{line}:{col}:{kind}:{n}", self.module, line, col, kind,
                                   original, replacement if replacement is not None else new, func, a, b, new))

    def find_op(self, a: int, b: int, op: str) -> tuple[int, int] | None:
        """The operator token ``op`` between two operands (only parens, blanks, comments there)."""
        seg = self.text(a, b)
        clean = re.sub(r"#[^\n]*", lambda m: " " * len(m.group(0).encode()), seg)
        pat = {"is not": r"\bis\s+not\b", "not in": r"\bnot\s+in\b", "is": r"\bis\b", "in": r"\bin\b",
               "and": r"\band\b", "or": r"\bor\b"}.get(op, re.escape(op))
        hits = list(re.finditer(pat, clean))
        if op in ("<", ">", "*", "/", "&", "|", "=="):  # not part of <=, **, //, &=, …
            hits = [h for h in hits if not re.match(r"[=*/<>]", clean[h.end():h.end() + 1] or " ")
                    and not (h.start() and clean[h.start() - 1] in "*/<>!=")]
        if len(hits) != 1:
            return None
        pre = len(clean[:hits[0].start()].encode())
        return a + pre, a + pre + len(hits[0].group(0).encode())

    # traversal -------------------------------------------------------------------
    def skip(self, node) -> bool:
        if isinstance(node, (ast.Raise, ast.JoinedStr, ast.Import, ast.ImportFrom)):
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            f = node.value.func
            root = f
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in LOG_CALLS:
                return True
        return False

    def walk(self, node, func: str = "<module>", cls: str = ""):
        if self.skip(node):
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func = f"{cls}.{node.name}" if cls else node.name
        elif isinstance(node, ast.ClassDef):
            cls = node.name
        self.mutate(node, func)
        for field, value in ast.iter_fields(node):
            if field in ("annotation", "returns", "type_comment"):
                continue
            for child in (value if isinstance(value, list) else [value]):
                if isinstance(child, ast.AST):
                    self.walk(child, func, cls)

    @staticmethod
    def _is_text(n) -> bool:
        return isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, (str, bytes)))

    def mutate(self, node, func):
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOP:
            if self._is_text(node.left) or self._is_text(node.right):
                return
            tok, alts = _BINOP[type(node.op)]
            pos = self.find_op(self.span(node.left)[1], self.span(node.right)[0], tok)
            if pos:
                kind = "mask" if tok in "&|" else "arith"
                for alt in alts:
                    self.add(kind, *pos, tok, alt, func)
        elif isinstance(node, ast.AugAssign) and type(node.op) in _BINOP:
            tok, alts = _BINOP[type(node.op)]
            pos = self.find_op(self.span(node.target)[1], self.span(node.value)[0], tok + "=")
            if pos:
                for alt in alts:
                    self.add("mask" if tok in "&|" else "arith", *pos, tok + "=", alt + "=", func)
        elif isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators):
                tok, alts = _CMP[type(op)]
                pos = self.find_op(self.span(left)[1], self.span(right)[0], tok)
                if pos:
                    for alt in alts:
                        self.add("compare", *pos, tok, alt, func)
                left = right
        elif isinstance(node, ast.BoolOp):
            tok, alt = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            for x, y in zip(node.values, node.values[1:]):
                pos = self.find_op(self.span(x)[1], self.span(y)[0], tok)
                if pos:
                    self.add("boolop", *pos, tok, alt, func)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not, ast.Invert)):
            a, _ = self.span(node)
            tok = {ast.USub: "-", ast.Not: "not", ast.Invert: "~"}[type(node.op)]
            if self.text(a, a + len(tok)) == tok:
                self.add("unary", a, a + len(tok), tok, "", func, replacement=f"(drop {tok})")
        elif isinstance(node, ast.Constant) and not isinstance(node.value, (str, bytes)) \
                and node.value is not None and node.value is not Ellipsis:
            v = node.value
            if isinstance(v, bool):
                new = repr(not v)
            elif isinstance(v, int):
                new = {0: "1", 1: "0"}.get(v, repr(v + 1))
            elif isinstance(v, float):
                new = "1.0" if v == 0 else repr(float(f"{v * 1.1:.12g}"))
            else:
                return
            a, b = self.span(node)
            self.add("const", a, b, self.text(a, b), new, func)
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
                    and (f.value.id, f.attr) in _SWAP_ATTR:
                _, b = self.span(f)
                alt = _SWAP_ATTR[(f.value.id, f.attr)]
                self.add("call", b - len(f.attr), b, f"np.{f.attr}", alt, func, replacement=f"np.{alt}")
            elif isinstance(f, ast.Name) and f.id in _SWAP_NAME:
                a, b = self.span(f)
                self.add("call", a, b, f.id, _SWAP_NAME[f.id], func)
            if isinstance(f, ast.Attribute) and f.attr == "where" and isinstance(f.value, ast.Name) \
                    and f.value.id == "np" and len(node.args) == 3 and not node.keywords \
                    and not any(isinstance(x, ast.Starred) for x in node.args):
                (a1, e1), (a2, e2) = self.span(node.args[1]), self.span(node.args[2])
                new = self.text(a2, e2) + self.text(e1, a2) + self.text(a1, e1)
                self.add("call", a1, e2, self.text(a1, e2), new, func,
                         replacement="np.where(c, b, a)")
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.BinOp) \
                and type(node.value.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div) \
                and not (self._is_text(node.value.left) or self._is_text(node.value.right)):
            a, b = self.span(node.value)
            la, lb = self.span(node.value.left)
            self.add("return", a, b, self.text(a, b), "(" + self.text(la, lb) + ")", func)


def _line_text(src: bytes, off: int) -> str:
    a = src.rfind(b"\n", 0, off) + 1
    b = src.find(b"\n", off)
    return src[a:b if b >= 0 else len(src)].decode("utf-8").strip()


def generate(root: Path, module: str) -> list[Mutant]:
    """Every mutant of ``module`` (path relative to ``root``), deduplicated, each compiling."""
    src = (root / module).read_bytes()
    c = _Collector(module, src)
    c.walk(ast.parse(src, filename=module))
    seen, out, keys = set(), [], {}
    for m in sorted(c.mutants, key=lambda m: (m.start, m.end, m.kind, m.new)):
        mutated = src[:m.start] + m.new.encode() + src[m.end:]
        if mutated in seen:
            continue
        try:
            compile(mutated, module, "exec", dont_inherit=True)
        except SyntaxError:
            continue
        seen.add(mutated)
        m.before = _line_text(src, m.start)
        m.after = _line_text(mutated, m.start)
        raw = src[src.rfind(b"\n", 0, m.start) + 1:m.start].decode("utf-8")
        base = f"{module}|{m.function}|{m.before}|{len(raw) - len(raw.lstrip())}|{m.kind}|{m.new}"
        n = keys.get(base, 0)
        keys[base] = n + 1
        m.key = f"{base}|{n}"
        out.append(m)
    return out


def rank(mutants: list[Mutant], seed: int) -> list[Mutant]:
    """Mutants in a pseudo-random order set by ``seed`` and each mutant's key: the first N are the
    sample of size N, a larger sample contains a smaller one, and a mutant whose line did not
    change keeps its place when the module is edited elsewhere (so "before" and "after" samples
    overlap)."""
    return sorted(mutants, key=lambda m: hashlib.sha256(f"{seed}|{m.key}".encode()).hexdigest())


# --------------------------------------------------------------------------- running tests
GUARD = '''
import os, sys
import pytest

def pytest_sessionstart(session):
    root = os.environ["PMQ_MUT_ROOT"]
    import importlib
    import pmq
    mod = importlib.import_module(os.environ["PMQ_MUT_MODULE"])
    for m in (pmq, mod):
        if not os.path.realpath(m.__file__).startswith(os.path.realpath(root) + os.sep):
            sys.stderr.write(f"PMQ_MUT_GUARD: {m.__name__} imported from {m.__file__}, not {root}\\n")
            pytest.exit("PMQ_MUT_GUARD", returncode=4)
'''


class Workspace:
    """A private copy of the project in which one mutant at a time is written."""

    def __init__(self, src: Path, dest: Path):
        self.root = dest
        shutil.copytree(src, dest, ignore=COPY_IGNORE, symlinks=True)
        (dest / ".mutguard").mkdir()
        (dest / ".mutguard" / "pmq_mut_guard.py").write_text(GUARD)

    def env(self, module: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
        env.update(PYTHONPATH=os.pathsep.join([str(self.root), str(self.root / ".mutguard")]),
                   PMQ_MUT_ROOT=str(self.root), PMQ_MUT_MODULE=module[:-3].replace("/", "."),
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   NUMEXPR_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONHASHSEED="0",
                   # only the hypothesis plugin: zarr's autoloaded plugin alone costs ~2 s a run
                   PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        return env

    def _clear(self, module: str):
        shutil.rmtree(self.root / ".hypothesis", ignore_errors=True)
        path = self.root / module
        for pyc in (path.parent / "__pycache__").glob(path.stem + ".*.pyc"):
            pyc.unlink()

    def run(self, module: str, tests: list[str], deselect: list[str], timeout: float | None,
            source: bytes | None = None) -> dict:
        path = self.root / module
        original = path.read_bytes()
        if source is not None:
            path.write_bytes(source)
        self._clear(module)
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "pmq_mut_guard",
               "-p", "_hypothesis_pytestplugin", "--hypothesis-seed=0", "-o", "addopts=-ra", *tests]
        for d in deselect:
            cmd += ["--deselect", d]
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=self.root, env=self.env(module), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)  # the pytest process we started, and its children
            out, _ = proc.communicate()
            rc = None
        finally:
            if source is not None:
                path.write_bytes(original)
            self._clear(module)
        secs = time.monotonic() - t0
        text = out.decode("utf-8", "replace")
        if rc is None:
            status = "timeout"
        elif "PMQ_MUT_GUARD" in text:
            status = "error"
        elif rc == 0:
            status = "survived"
        elif rc in (1, 2):  # failed tests, or the mutant broke collection/import
            status = "killed"
        else:
            status = "error"
        failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", text, re.M)
        return {"status": status, "returncode": rc, "seconds": round(secs, 2),
                "killed_by": failed[0] if failed else None,
                "tail": "\n".join(text.strip().splitlines()[-6:]) if status != "survived" else ""}


# --------------------------------------------------------------------------- report
def summarise(results: dict) -> dict:
    per = {}
    for mod, data in results["modules"].items():
        st = [r["result"]["status"] for r in data["mutants"] if "result" in r]
        c = {k: st.count(k) for k in ("killed", "survived", "timeout", "error")}
        denom = c["killed"] + c["survived"] + c["timeout"]
        per[mod] = {**c, "run": len(st), "selected": len(data["mutants"]), "generated": data["generated"],
                    "score": round(100.0 * (c["killed"] + c["timeout"]) / denom, 1) if denom else None}
    return per


def write_report(out: Path, results: dict):
    results["summary"] = summarise(results)
    tmp = out / "results.json.tmp"
    tmp.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    tmp.replace(out / "results.json")
    r = results
    lines = [f"# Mutation testing — {r['label']}", "",
             f"* source: `{r['src']}` (commit `{r.get('commit') or '?'}`)",
             f"* started {r['started']}, {r.get('wall_seconds', 0) / 60:.1f} min wall, jobs={r['jobs']}, "
             f"sample={r['sample']}, seed={r['seed']}, max={r['max']}, timeout factor={r['timeout_factor']}",
             *[f"* run: `{x['command']}` ({x['started']})" for x in r.get("runs") or [r]], "",
             "| module | generated | run | killed | survived | timeout | error | score | clean run |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for mod, s in r["summary"].items():
        score = f"{s['score']:.1f} %" if s["score"] is not None else "–"
        lines.append(f"| `{mod}` | {s['generated']} | {s['run']} | {s['killed']} | {s['survived']} | "
                     f"{s['timeout']} | {s['error']} | {score} | {r['modules'][mod]['clean_seconds']:.1f} s |")
    tot = {k: sum(s[k] for s in r["summary"].values()) for k in ("killed", "survived", "timeout", "error", "run")}
    den = tot["killed"] + tot["survived"] + tot["timeout"]
    if den:
        lines.append(f"| **all** | | {tot['run']} | {tot['killed']} | {tot['survived']} | {tot['timeout']} | "
                     f"{tot['error']} | {100.0 * (tot['killed'] + tot['timeout']) / den:.1f} % | |")
    lines += ["", "Score = (killed + timeout) / (killed + survived + timeout).", ""]
    for mod, data in r["modules"].items():
        lines += [f"## `{mod}`", "", "Tests: " + ", ".join(f"`{t}`" for t in data["tests"])
                  + (" (deselected: " + ", ".join(f"`{d}`" for d in data["deselect"]) + ")"
                     if data["deselect"] else ""), ""]
        killers = {}
        for m in data["mutants"]:
            k = m.get("result", {}).get("killed_by")
            if k:
                killers[k.split("::")[0]] = killers.get(k.split("::")[0], 0) + 1
        if killers:
            lines += ["Killed by (first failing test file): " + ", ".join(
                f"`{k}` {v}" for k, v in sorted(killers.items(), key=lambda kv: -kv[1])), ""]
        surv = [m for m in data["mutants"] if m.get("result", {}).get("status") == "survived"]
        other = [m for m in data["mutants"] if m.get("result", {}).get("status") in ("timeout", "error")]
        if surv:
            lines += ["| survivor | function | kind | original → mutant |", "|---|---|---|---|"]
            for m in surv:
                lines.append(f"| `{m['module']}:{m['line']}` | `{m['function']}` | {m['kind']} | "
                             f"`{_md(m['before'])}` → `{_md(m['after'])}` |")
        else:
            lines.append("No survivor among the mutants run.")
        for m in other:
            lines.append(f"\n{m['result']['status']}: `{m['module']}:{m['line']}` `{_md(m['after'])}`")
        lines.append("")
    (out / "report.md").write_text("\n".join(lines))


def _md(s: str) -> str:
    s = s.replace("|", "\\|").replace("`", "'")
    return s if len(s) <= 140 else s[:137] + "…"


# --------------------------------------------------------------------------- main
def main(argv=None):
    here = Path(__file__).resolve().parents[1]
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--src", type=Path, default=here, help="project to test (default: this repository)")
    p.add_argument("--module", action="append", help="target module, e.g. pmq/model/engine.py (repeatable; "
                                                     "default: every module of CONFIG)")
    p.add_argument("--tests", nargs="+", help="pytest files / node ids for the selected module(s)")
    p.add_argument("--deselect", action="append", default=None, help="node id to deselect (repeatable)")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--max", type=int, default=None, help="run only the first N mutants of each module")
    p.add_argument("--sample", type=int, default=None, help="run a random sample of N mutants per module")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--same-as", metavar="RESULTS_JSON", help="run the mutants of an earlier results.json "
                   "(matched by key: same function, same line text), e.g. to score 'after' on 'before''s sample")
    p.add_argument("--kinds", nargs="+", help="only these mutation kinds (arith mask compare boolop unary "
                                              "const call return)")
    p.add_argument("--timeout-factor", type=float, default=10.0)
    p.add_argument("--min-timeout", type=float, default=60.0)
    p.add_argument("--out", type=Path, default=None, help="output folder (default: a new temp folder)")
    p.add_argument("--label", default="pmq mutation run")
    p.add_argument("--resume", action="store_true", help="keep the results already in --out")
    p.add_argument("--list", action="store_true", help="list the selected mutants and stop")
    p.add_argument("--keep", action="store_true", help="keep the private copies")
    p.add_argument("--report", action="store_true", help="only rewrite report.md from --out/results.json")
    a = p.parse_args(argv)
    if a.report:
        if a.out is None:
            p.error("--report needs --out")
        write_report(a.out, json.loads((a.out / "results.json").read_text()))
        print((a.out / "report.md").read_text())
        return 0

    src = a.src.resolve()
    same = json.loads(Path(a.same_as).read_text())["modules"] if a.same_as else {}
    modules = a.module or (list(same) if same else list(CONFIG))
    plan = {}
    for mod in modules:
        cfg = CONFIG.get(mod, {"tests": [], "deselect": []})
        tests = a.tests or cfg["tests"]
        if not tests:
            p.error(f"no tests for {mod}: give --tests")
        muts = generate(src, mod)
        if a.kinds:
            muts = [m for m in muts if m.kind in a.kinds]
        chosen = muts
        if a.same_as:
            keys = {m["key"] for m in same.get(mod, {}).get("mutants", [])}
            chosen = [m for m in muts if m.key in keys]
            gone = len(keys) - len(chosen)
            if gone:
                print(f"{mod}: {gone} mutant(s) of {a.same_as} no longer exist (their line changed)")
        elif a.sample is not None and a.sample < len(muts):
            pick = {id(m) for m in rank(muts, a.seed)[:a.sample]}
            chosen = [m for m in muts if id(m) in pick]
        if a.max is not None:
            chosen = chosen[:a.max]
        plan[mod] = {"tests": tests, "deselect": a.deselect if a.deselect is not None else cfg["deselect"],
                     "generated": len(muts), "mutants": chosen}

    if a.list:
        for mod, pl in plan.items():
            kinds = {}
            for m in pl["mutants"]:
                kinds[m.kind] = kinds.get(m.kind, 0) + 1
            print(f"# {mod}: {pl['generated']} mutants, {len(pl['mutants'])} selected {kinds}")
            for m in pl["mutants"]:
                print(f"{m.module}:{m.line}:{m.col} [{m.kind}] {m.function}: {m.before}  ->  {m.after}")
        return 0

    out = (a.out or Path(tempfile.mkdtemp(prefix="pmq-mutation-"))).resolve()
    if str(out).startswith(str(src) + os.sep):
        p.error("--out must be outside the project")
    out.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(src), "status", "--porcelain", "--", "pmq", "tests"],
                           capture_output=True, text=True).stdout.strip()
    prev, prev_wall, runs, started = {}, 0.0, [], time.strftime("%Y-%m-%d %H:%M:%S")
    if a.resume and (out / "results.json").exists():
        old = json.loads((out / "results.json").read_text())
        prev_wall = old.get("wall_seconds", 0.0)
        runs = old.get("runs") or [{"command": old.get("command"), "started": old.get("started")}]
        started = old.get("started", started)
        for mod, data in old["modules"].items():
            prev[mod] = {"clean_seconds": data.get("clean_seconds"),
                         "done": {m["id"]: m["result"] for m in data["mutants"] if "result" in m}}
    command = " ".join(["python", *sys.argv]) if argv is None else " ".join(argv)
    runs.append({"command": command, "started": time.strftime("%Y-%m-%d %H:%M:%S")})
    results = {"label": a.label, "src": str(src), "commit": commit + (" + uncommitted changes" if dirty else ""),
               "started": started, "jobs": a.jobs, "sample": a.sample, "seed": a.seed,
               "max": a.max, "timeout_factor": a.timeout_factor, "python": sys.version.split()[0],
               "command": command, "runs": runs, "modules": {}}
    if a.resume and prev:  # modules of the earlier run that this one does not touch are kept
        results["modules"].update({k: v for k, v in old["modules"].items() if k not in plan})
    t_start = time.monotonic() - prev_wall
    lock = threading.Lock()
    tmp = Path(tempfile.mkdtemp(prefix="pmq-mut-work-"))
    print(f"copies in {tmp}; results in {out}", flush=True)
    spaces = [Workspace(src, tmp / f"w{i}") for i in range(max(1, a.jobs))]
    free = list(spaces)
    try:
        for mod, pl in plan.items():
            entry = {"tests": pl["tests"], "deselect": pl["deselect"], "generated": pl["generated"],
                     "clean_seconds": None, "mutants": [asdict(m) for m in pl["mutants"]]}
            results["modules"][mod] = entry
            done = prev.get(mod, {}).get("done", {})
            clean = prev.get(mod, {}).get("clean_seconds")
            if clean is None:
                res = spaces[0].run(mod, pl["tests"], pl["deselect"], None)
                if res["status"] != "survived":
                    print(f"{mod}: the clean run does not pass ({res['status']}):\n{res['tail']}", flush=True)
                    entry["clean_error"] = res["tail"]
                    write_report(out, results)
                    continue
                clean = res["seconds"]
            entry["clean_seconds"] = clean
            timeout = max(a.min_timeout, a.timeout_factor * clean)
            print(f"{mod}: clean run {clean:.1f} s, {len(pl['mutants'])} of {pl['generated']} mutants, "
                  f"timeout {timeout:.0f} s", flush=True)
            for m in entry["mutants"]:
                if m["id"] in done:
                    m["result"] = done[m["id"]]
            todo = [m for m in entry["mutants"] if "result" not in m]
            src_bytes = (src / mod).read_bytes()

            def one(m):
                with lock:
                    ws = free.pop()
                try:
                    mutated = src_bytes[:m["start"]] + m["new"].encode() + src_bytes[m["end"]:]
                    res = ws.run(mod, pl["tests"], pl["deselect"], timeout, mutated)
                finally:
                    with lock:
                        free.append(ws)
                with lock:
                    m["result"] = res
                    n = sum(1 for x in entry["mutants"] if "result" in x)
                    print(f"  [{n}/{len(entry['mutants'])}] {res['status']:8s} {res['seconds']:6.1f}s "
                          f"{m['module']}:{m['line']} {m['kind']}: {m['after'][:90]}", flush=True)
                    results["wall_seconds"] = time.monotonic() - t_start
                    write_report(out, results)

            with ThreadPoolExecutor(max_workers=len(spaces)) as ex:
                list(ex.map(one, todo))
        results["wall_seconds"] = time.monotonic() - t_start
        write_report(out, results)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print((out / "report.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
