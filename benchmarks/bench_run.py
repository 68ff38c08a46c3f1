"""End to end, as users wait: ``pmq run`` and ``pmq compare`` against the floor (prints figures; asserts nothing).

    python benchmarks/bench_run.py [N]

Fresh interpreters, N rounds (default 5), one run of each case per round (A/B interleaved, so that a slow
moment of the machine weighs on every case alike), medians of wall time and of peak RSS (the child's
``ru_maxrss``):

* the floor — ``python -c "import numpy, pandas, xarray"``;
* ``pmq run reference --out DIR`` — target ≤ 2 × the floor;
* ``pmq compare`` of every built-in scenario to 2050 — target < 1 GB peak and not slower than the same
  scenarios projected one by one in one process (``one_by_one``).

:func:`measure_run` and :func:`measure_compare` return dicts (``benchmarks/bench_all.py`` prints them too).
Figures taken on a shared machine are noisy: compare ratios measured in the same run, not seconds.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PY = sys.executable
FLOOR = [PY, "-c", "import numpy, pandas, xarray"]
HORIZON_2050 = "31"   # base year 2019


def _builtins() -> list[str]:
    from pmq.scenario import builtin_scenarios
    return list(builtin_scenarios())


def _child(cmd, env=None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh process (wait4's rusage: this child only)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return wall, ru.ru_maxrss / 1024


def _pmq(*args) -> list[str]:
    return [PY, "-m", "pmq", *args]


def _measure(cases: dict, n: int, env=None) -> dict:
    for cmd in cases.values():  # warm the file cache
        _child(cmd() if callable(cmd) else cmd, env)
    walls: dict[str, list[float]] = {k: [] for k in cases}
    rss: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(n):
        for k, cmd in cases.items():
            w, m = _child(cmd() if callable(cmd) else cmd, env)
            walls[k].append(w)
            rss[k].append(m)
    out = {k: {"wall_s": statistics.median(walls[k]), "peak_rss_mb": statistics.median(rss[k]),
               "min_s": min(walls[k]), "max_s": max(walls[k])} for k in cases}
    floor = out["floor"]["wall_s"]
    for v in out.values():
        v["ratio_to_floor"] = v["wall_s"] / floor
    return out


def measure_run(n: int = 5, env=None) -> dict:
    """``pmq run reference --out DIR`` against the floor: ``{"floor": {...}, "run": {...}}``, each with
    ``wall_s``, ``peak_rss_mb``, ``ratio_to_floor`` (medians of ``n`` interleaved rounds)."""
    tmp = tempfile.mkdtemp(prefix="pmq-bench-run-")
    try:
        def run():
            out = os.path.join(tmp, "out")
            shutil.rmtree(out, ignore_errors=True)
            return _pmq("run", "reference", "--out", out)
        return _measure({"floor": FLOOR, "run": run}, n, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


ONE_BY_ONE = r"""
import sys, pmq
b = pmq.load_baseline()
for name in sys.argv[2:]:
    p = pmq.project(b, name, horizon=int(sys.argv[1]))
    p.horizons()
    del p
"""


def measure_compare(n: int = 3, env=None, names: list[str] | None = None) -> dict:
    """``pmq compare`` of every built-in scenario to 2050 against the floor and against the same scenarios
    projected one by one in one process: ``{"floor", "compare", "one_by_one"}`` as :func:`measure_run`."""
    names = names or _builtins()
    return _measure({"floor": FLOOR, "compare": _pmq("compare", *names, "--horizon", HORIZON_2050),
                     "one_by_one": [PY, "-c", ONE_BY_ONE, HORIZON_2050, *names]}, n, env)


def print_results(res: dict, title: str, stream=None) -> None:
    stream = stream or sys.stdout
    print(title, file=stream)
    for k, v in res.items():
        print(f"  {k:<12} {v['wall_s']:6.2f} s ({v['min_s']:.2f}–{v['max_s']:.2f})  {v['ratio_to_floor']:5.2f} × floor  "
              f"peak RSS {v['peak_rss_mb']:6.0f} MB", file=stream)


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print_results(measure_run(rounds), f"pmq run reference --out DIR, median of {rounds} (interleaved):")
    print_results(measure_compare(max(1, rounds // 2)), "pmq compare <every built-in> --horizon 31 (to 2050):")
