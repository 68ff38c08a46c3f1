"""Cost of the full-accounts path as the number of cells grows (prints figures; asserts nothing).

    python benchmarks/bench_scaling.py [MULTIPLES...]        (default 1 10 25 100)

The shipped baseline (13 regions × 83 métiers × 60 ages) is replicated along ``territory`` (×1, ×10, ×25,
×100: 100 départements or ≈ 300 zones d'emploi are 8–25× today's cells) and the reference scenario projected
with :func:`pmq.project` (the full accounts: every stock and flow by age), each size in a fresh subprocess.
A "cell-year" below is one cell × age × year (the state's element): 13 × 83 × 60 = 64 740 at 1×.

Two costs are reported for each size, because the system's first touch of fresh memory can cost more than the
engine's arithmetic at large sizes:

* **what a user pays** (``first run``): the first :func:`pmq.project` of a fresh process, as a user runs it.  The
  record's memory (five arrays of ``(year + 1, territory, métier, age)``, allocated once) is new to the process,
  so every page is faulted in as the engine first writes it — and numpy advises large arrays for transparent
  huge pages, which on a system with ``defrag=madvise`` can make the kernel compact memory on each fault;
* **the engine's own cost** (``touched``): a later :func:`pmq.project` in the same process whose record reuses
  memory the process already touched (glibc's ``mallopt`` is told to keep freed memory in the heap, a first
  projection warms it; ``minflt`` shows the page faults left, ≈ 0): the annual steps alone, without the system.

Columns, per run: **engine ns / cell-yr** — the annual steps (timed between the ``progress`` calls, first year
excluded), wall clock; **CPU** — the same in process CPU time (less sensitive to a loaded machine);
**passes** — one engine year as a multiple of one numpy pass over the state (``np.add(a, a, out=c)`` on arrays
of the state's shape, in the same process; the issue's target is ≤ 25; at 1× that pass runs in cache, so the
ratio is higher there); **floor** — merely writing the record (the five age-resolved arrays of a year copied
into memory allocated like the record's, in a fresh interpreter with numpy only), in ns / cell-yr and passes:
into fresh memory for the first run's floor (the page faults included), into the same memory a second time for
the touched floor.  The full accounts cannot cost less than their floor.  Then **project ns / cell-yr** (the
whole first :func:`pmq.project`: input paths, levers, engine, accounts), the accounts' size and the peak RSS.

The floor's interpreter also measures what the system charges for fresh memory, printed under the table: the
rate of a first write with numpy's huge-page advice (as the record is allocated), with 4 KiB pages
(``np._core.multiarray._set_madvise_hugepage(False)``) and of a second write to the same memory, with the
kernel's transparent-huge-page settings.

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
import ctypes, gc, json, resource, statistics, sys, time
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
    b = xr.concat(parts, dim="territory", data_vars="all", coords="minimal", compat="override",
                  combine_attrs="override")


def one_pass(shape):
    a, c = np.random.default_rng(0).random(shape), np.empty(shape)
    ts = []
    for _ in range(7):
        t = time.perf_counter(); np.add(a, a, out=c); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def run():
    marks = []
    t0 = time.perf_counter()
    proj = pmq.project(b, "reference", horizon=horizon, progress=lambda i, n: marks.append(
        (time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt)))
    t1 = time.perf_counter()
    n = len(marks) - 1
    return proj, {"wall": (marks[-1][0] - marks[0][0]) / n, "cpu": (marks[-1][1] - marks[0][1]) / n,
                  "project": t1 - t0, "minflt": (marks[-1][2] - marks[0][2]) / n}


proj, first = run()
acc = proj.accounts
cells = acc.sizes["territory"] * acc.sizes["metier"] * acc.sizes["age"]
size = sum(acc[k].nbytes for k in ("employment", "departures", "young_entrants", "net_mobility", "other_recruits"))
del proj, acc
gc.collect()
try:    # keep freed memory in the heap (no mmap, no trim): the next projections reuse touched pages
    libc = ctypes.CDLL("libc.so.6")
    kept = bool(libc.mallopt(-4, 0)) and bool(libc.mallopt(-1, 2 ** 31 - 1))  # M_MMAP_MAX, M_TRIM_THRESHOLD
except OSError:
    kept = False
proj, _ = run()                                       # warms the heap
del proj
gc.collect()
proj, touched = run()
del proj
p = one_pass((b.sizes["age"], b.sizes["territory"], b.sizes["metier"]))
print(json.dumps({"multiple": mult, "cells": cells, "years": horizon,
                  "engine_ns_per_cell_year": first["wall"] / cells * 1e9,
                  "engine_cpu_ns_per_cell_year": first["cpu"] / cells * 1e9,
                  "passes_per_year": first["wall"] / p, "first_minflt": first["minflt"],
                  "touched_ns_per_cell_year": touched["wall"] / cells * 1e9,
                  "touched_cpu_ns_per_cell_year": touched["cpu"] / cells * 1e9,
                  "touched_passes": touched["wall"] / p, "touched_minflt": touched["minflt"], "heap_kept": kept,
                  "project_ns_per_cell_year": first["project"] / (cells * horizon) * 1e9,
                  "project_s": first["project"], "accounts_mb": size / 2**20,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

#: The floor, in a fresh interpreter of its own (numpy only): the five record arrays of each year written into
#: memory allocated like the record's (one block, never touched before), timed as the engine is (first year left
#: out), then written again into the same memory; one numpy pass on the state's shape; and the rate of a first
#: write of fresh memory with and without numpy's huge-page advice.
FLOOR = r"""
import json, statistics, sys, time
import numpy as np

n_t, n_m, n_a, horizon = (int(v) for v in sys.argv[1:5])
src = np.random.default_rng(0).random((n_t, n_m, n_a))
rec = np.empty((5, horizon + 1, n_t, n_m, n_a))


def write_years():
    marks = []
    for y in range(horizon):
        for k in range(5):
            np.copyto(rec[k, y], src)
        marks.append(time.perf_counter())
    return (marks[-1] - marks[0]) / (len(marks) - 1)


fresh = write_years()
touched = min(write_years() for _ in range(2))
a, c = np.random.default_rng(1).random(src.shape), np.empty(src.shape)
ts = []
for _ in range(7):
    t = time.perf_counter(); np.add(a, a, out=c); ts.append(time.perf_counter() - t)
one = statistics.median(ts)


def first_write_gbs(huge):
    core = getattr(np, "_core", None) or np.core
    prev = core.multiarray._set_madvise_hugepage(huge)
    try:
        n = min(rec.size, 40 * 2 ** 20)                         # at most 320 MB
        t = time.perf_counter(); x = np.empty(n); x.fill(1.0); t = time.perf_counter() - t
        del x
        return n * 8 / t / 1e9
    finally:
        core.multiarray._set_madvise_hugepage(prev)


def thp(name):
    try:
        with open(f"/sys/kernel/mm/transparent_hugepage/{name}") as f:
            return f.read().split("[")[1].split("]")[0]
    except (OSError, IndexError):
        return "?"


print(json.dumps({"floor_ns_per_cell_year": fresh / src.size * 1e9, "floor_passes": fresh / one,
                  "touched_floor_ns_per_cell_year": touched / src.size * 1e9, "touched_floor_passes": touched / one,
                  "first_write_gbs_huge": first_write_gbs(True), "first_write_gbs_4k": first_write_gbs(False),
                  "rewrite_gbs": 5 * src.nbytes / touched / 1e9, "thp": f"enabled={thp('enabled')} "
                  f"defrag={thp('defrag')}"}))
"""

_MEDIANS = ("engine_ns_per_cell_year", "engine_cpu_ns_per_cell_year", "passes_per_year", "first_minflt",
            "touched_ns_per_cell_year", "touched_cpu_ns_per_cell_year", "touched_passes", "touched_minflt",
            "floor_ns_per_cell_year", "floor_passes", "touched_floor_ns_per_cell_year", "touched_floor_passes",
            "first_write_gbs_huge", "first_write_gbs_4k", "rewrite_gbs", "project_ns_per_cell_year", "project_s",
            "peak_rss_mb")


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
    """Rows (one per multiple of today's cells): the first run's and the touched run's engine ns per cell-year
    and passes per year, their floors, project ns per cell-year, peak RSS, the system's fresh-memory rates.
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
        for k in _MEDIANS:
            row[k] = statistics.median(r[k] for r in rs)
        rows.append(row)
    return rows


def print_table(rows, stream=None) -> None:
    stream = stream or sys.stdout
    print("full accounts (pmq.project, reference) by multiple of today's cells (13 × 83 × 60); ns per cell × age "
          "× year;\n  first run = what a user pays (fresh process, the record's pages faulted in as it is written),"
          "\n  touched = the engine's own cost (a later projection, its record in memory already touched):",
          file=stream)
    print(f"{'':>20} {'--------------- first run ---------------':>42} {'------------------ touched ------------------':>48}",
          file=stream)
    print(f"{'cells':>8} {'×':>4} {'years':>5} {'engine':>7} {'CPU':>6} {'passes':>7} {'floor':>6} {'f.passes':>8} "
          f"{'minflt':>7} {'engine':>7} {'CPU':>6} {'passes':>7} {'floor':>6} {'f.passes':>8} {'minflt':>7} "
          f"{'project':>8} {'acc. MB':>8} {'RSS MB':>7}", file=stream)
    for r in rows:
        print(f"{r['cells']:>8} {r['multiple']:>4} {r['years']:>5} {r['engine_ns_per_cell_year']:>7.1f} "
              f"{r['engine_cpu_ns_per_cell_year']:>6.1f} {r['passes_per_year']:>7.1f} "
              f"{r['floor_ns_per_cell_year']:>6.1f} {r['floor_passes']:>8.1f} {r['first_minflt']:>7.0f} "
              f"{r['touched_ns_per_cell_year']:>7.1f} {r['touched_cpu_ns_per_cell_year']:>6.1f} "
              f"{r['touched_passes']:>7.1f} {r['touched_floor_ns_per_cell_year']:>6.1f} "
              f"{r['touched_floor_passes']:>8.1f} {r['touched_minflt']:>7.0f} "
              f"{r['project_ns_per_cell_year']:>8.1f} {r['accounts_mb']:>8.0f} {r['peak_rss_mb']:>7.0f}", file=stream)
    if rows:
        r = rows[-1]
        print(f"fresh memory on this system ({r['thp']}; at {r['multiple']}×, up to 320 MB): first write "
              f"{r['first_write_gbs_huge']:.1f} GB/s with numpy's huge-page advice, {r['first_write_gbs_4k']:.1f} GB/s "
              f"with 4 KiB pages; a second write {r['rewrite_gbs']:.1f} GB/s (the record is 40 bytes per cell-year)",
              file=stream)
        if not all(x.get("heap_kept", True) for x in rows):
            print("(glibc's mallopt unavailable: the touched run may have paid page faults, see minflt)", file=stream)


if __name__ == "__main__":
    mults = tuple(int(a) for a in sys.argv[1:]) or MULTIPLES
    print_table(scaling_table(mults))
