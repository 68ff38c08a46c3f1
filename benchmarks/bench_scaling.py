"""Cost of the full-accounts path as the number of cells grows (prints figures; asserts nothing).

    python benchmarks/bench_scaling.py [MULTIPLES...]        (default 1 10 25 100)

The shipped baseline (13 regions × 83 métiers × 60 ages) is replicated along ``territory`` (×1, ×10, ×25,
×100: 100 départements or ≈ 300 zones d'emploi are 8–25× today's cells) and the reference scenario projected
with :func:`pmq.project` (the full accounts: every stock and flow by age), each size in a fresh subprocess.
For each size:

* **engine ns / cell-year** — the annual steps alone (timed between the ``progress`` calls, first year
  excluded), per cell × age × year; flat in size means the engine stays near memory bandwidth;
* **passes / year** — one year of the engine as a multiple of one numpy pass over the state
  (``np.add(a, b, out=c)`` on arrays of the state's shape, in the same process): the issue's target is ≤ 25;
* **floor ns / cell-year** — what merely writing the record costs, in a fresh interpreter of its own: the five
  age-resolved arrays of a year (employment and four flows) copied into fresh memory allocated like the
  record's, per cell × age × year, and as passes (**floor passes**).  The full accounts cannot cost less than
  writing them; in fresh memory that includes the system's first touch of every page, which a hot ``np.add``
  does not pay;
* **project ns / cell-year** — the whole :func:`pmq.project` call (input paths, levers, engine, accounts);
* **peak RSS** of the subprocess, and the accounts' own size (employment + 4 age-resolved flows, float64).

Larger sizes run fewer years (the cost is per cell-year; the accounts of 100× over 20 years would not fit a
shared machine).  :func:`scaling_table` returns the rows (``benchmarks/bench_all.py`` prints them too).
"""
from __future__ import annotations

import json
import subprocess
import sys

MULTIPLES = (1, 10, 25, 100)
#: years projected at each multiple (at least 3: the first year is left out of the engine's figure)
HORIZON = {1: 20, 10: 10, 25: 6, 100: 3}

CHILD = r"""
import json, resource, statistics, sys, time
import numpy as np
import xarray as xr
import pmq

mult, horizon = int(sys.argv[1]), int(sys.argv[2])
b = pmq.load_baseline()
if mult > 1:
    parts = []
    for k in range(mult):
        p = b.assign_coords(territory=[f"{t}x{k}" for t in b.territory.values])
        if "territory_name" in p.coords:
            p = p.assign_coords(territory_name=("territory", [f"{n} {k}" for n in b.territory_name.values]))
        parts.append(p)
    b = xr.concat(parts, dim="territory", coords="minimal", compat="override", combine_attrs="override")
marks = []
t0 = time.perf_counter()
proj = pmq.project(b, "reference", horizon=horizon, progress=lambda i, n: marks.append(time.perf_counter()))
t1 = time.perf_counter()
acc = proj.accounts
cells = acc.sizes["territory"] * acc.sizes["metier"] * acc.sizes["age"]
engine_year = (marks[-1] - marks[0]) / (len(marks) - 1)
shape = (acc.sizes["age"], acc.sizes["territory"], acc.sizes["metier"])
a, c = np.random.default_rng(0).random(shape), np.empty(shape)
ts = []
for _ in range(7):
    t = time.perf_counter(); np.add(a, a, out=c); ts.append(time.perf_counter() - t)
one_pass = statistics.median(ts)
size = sum(acc[k].nbytes for k in ("employment", "departures", "young_entrants", "net_mobility", "other_recruits"))
print(json.dumps({"multiple": mult, "cells": cells, "years": horizon,
                  "engine_ns_per_cell_year": engine_year / cells * 1e9,
                  "passes_per_year": engine_year / one_pass,
                  "project_ns_per_cell_year": (t1 - t0) / (cells * horizon) * 1e9,
                  "project_s": t1 - t0, "accounts_mb": size / 2**20,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

#: The floor, in a fresh interpreter of its own (numpy only): the five record arrays of each year written into
#: memory allocated like the record's (one block, never touched before), timed as the engine is (first year left
#: out), and one numpy pass on the state's shape.
FLOOR = r"""
import json, statistics, sys, time
import numpy as np

n_t, n_m, n_a, horizon = (int(v) for v in sys.argv[1:5])
src = np.random.default_rng(0).random((n_t, n_m, n_a))
rec = np.empty((5, horizon + 1, n_t, n_m, n_a))
marks = []
for y in range(horizon):
    for k in range(5):
        np.copyto(rec[k, y], src)
    marks.append(time.perf_counter())
year = (marks[-1] - marks[0]) / (len(marks) - 1)
a, c = np.random.default_rng(1).random(src.shape), np.empty(src.shape)
ts = []
for _ in range(7):
    t = time.perf_counter(); np.add(a, a, out=c); ts.append(time.perf_counter() - t)
print(json.dumps({"floor_ns_per_cell_year": year / src.size * 1e9, "floor_passes": year / statistics.median(ts)}))
"""


def measure(multiple: int, horizon: int | None = None, python: str = sys.executable, env=None) -> dict:
    """One size, in a fresh interpreter: the row of :func:`scaling_table`."""
    h = HORIZON.get(multiple, 3) if horizon is None else horizon
    out = subprocess.run([python, "-c", CHILD, str(multiple), str(h)], capture_output=True, text=True, check=True,
                         env=env)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    n_t, n_m, n_a = 13 * multiple, 83, 60
    assert row["cells"] == n_t * n_m * n_a, "the floor is measured on the baseline's shape"
    out = subprocess.run([python, "-c", FLOOR, str(n_t), str(n_m), str(n_a), str(h)], capture_output=True,
                         text=True, check=True, env=env)
    row.update(json.loads(out.stdout.strip().splitlines()[-1]))
    return row


def scaling_table(multiples=MULTIPLES, repeat: int = 1, env=None) -> list[dict]:
    """Rows (one per multiple of today's cells): engine and project ns per cell-year, passes per year, peak RSS.
    With ``repeat`` > 1 each size runs that many times (interleaved with the others) and the median is kept."""
    import statistics

    runs: dict[int, list[dict]] = {m: [] for m in multiples}
    for _ in range(repeat):
        for m in multiples:
            runs[m].append(measure(m, env=env))
    rows = []
    for m in multiples:
        rs = runs[m]
        row = dict(rs[0])
        for k in ("engine_ns_per_cell_year", "passes_per_year", "floor_ns_per_cell_year", "floor_passes",
                  "project_ns_per_cell_year", "project_s", "peak_rss_mb"):
            row[k] = statistics.median(r[k] for r in rs)
        rows.append(row)
    return rows


def print_table(rows, stream=None) -> None:
    stream = stream or sys.stdout
    print("full accounts (pmq.project, reference) by multiple of today's cells (13 × 83 × 60):", file=stream)
    print(f"{'cells':>8} {'×':>4} {'years':>5} {'engine ns/cell-yr':>18} {'passes/yr':>10} {'floor ns':>9} "
          f"{'floor passes':>12} {'project ns/cell-yr':>19} {'accounts MB':>12} {'peak RSS MB':>12}", file=stream)
    for r in rows:
        print(f"{r['cells']:>8} {r['multiple']:>4} {r['years']:>5} {r['engine_ns_per_cell_year']:>18.1f} "
              f"{r['passes_per_year']:>10.1f} {r['floor_ns_per_cell_year']:>9.1f} {r['floor_passes']:>12.1f} "
              f"{r['project_ns_per_cell_year']:>19.1f} {r['accounts_mb']:>12.0f} {r['peak_rss_mb']:>12.0f}",
              file=stream)


if __name__ == "__main__":
    mults = tuple(int(a) for a in sys.argv[1:]) or MULTIPLES
    print_table(scaling_table(mults))
