"""The Excel export as ratios to the floor (prints figures; asserts nothing).

    python benchmarks/bench_excel.py [--rounds N] [--against SRC]

The floor is ``python -c "import numpy, pandas, xarray"``, as in ``benchmarks/bench_all.py``.  Every case runs in
a fresh interpreter, one of each per round (interleaved, so that a slow moment of the machine weighs on every case
alike); the child projects first (not timed), then times the export itself, which the figures give as medians and
as ratios to the floor of the same rounds:

* ``national``: ``Projection.to_excel`` of the reference run to 2030 at région level (every région and métier:
  some 160,000 cells) — ``standard_tables`` then ``to_excel``;
* ``report Normandie``: the workbook of ``pmq report reference --territory Normandie`` (``tables.xlsx``: the key
  figures, the watch list, the tables of the territory, the skills sheet), built with the same calls as
  ``pmq.export.report`` — ``standard_tables(…, territory=…)`` then ``to_excel(…, key_figures=…, watch=…)``;
* ``report Normandie, 2 scenarios``: the same with ``reference ademe_s3`` (adds the differences sheet).

Each line gives the time of ``standard_tables`` (tables), of ``to_excel`` (writing) and of both (export).
``--against SRC`` also runs each case with ``PYTHONPATH=SRC`` — e.g. the committed version unpacked by
``git -C . archive HEAD | tar -x -C SRC`` — interleaved with this tree, and prints both (before → after).
Figures from a shared machine are noisy: compare ratios from the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_all import FLOOR, PY, _child, compile_bytecode  # noqa: E402

#: The child: project (not timed), then time standard_tables and to_excel; prints their times as JSON.
CHILD = r"""
import json, sys, time
import pmq
assert pmq.__file__.startswith(sys.argv[3]), (pmq.__file__, sys.argv[3])    # the tree measured
from pmq.export.tables import standard_tables, to_excel
case, path = sys.argv[1], sys.argv[2]
baseline = pmq.load_baseline()
if case == "national":
    proj = pmq.project(baseline, "reference", horizon=11)
    acc = proj.accounts
    t0 = time.perf_counter()
    tables = standard_tables(acc)
    t1 = time.perf_counter()
    to_excel(tables, path, accounts=acc)
else:
    from pmq.analysis import skills
    from pmq.analysis.imbalance import imbalance_table, watch_list
    from pmq.export.report import key_figures
    from pmq.projection.compare import project_many
    from pmq.projection.indicators import select
    names = ["reference", "ademe_s3"] if case == "report2" else ["reference"]
    comp = project_many(names, baseline, horizon=11)
    acc = comp.accounts
    code = str(select(baseline, territory="Normandie").territory.values[0])
    base = int(acc.year.values[0])
    end = base + 11
    keys = [key_figures(comp, code, end)]
    watch = watch_list(imbalance_table(comp, end_year=end), n=10, lang="fr")
    watch = watch[watch["territory"] == code]
    demand = skills.skills_demand(comp, by="macro_competence", end_year=end, territory=code, lang="fr")
    sheet = demand[[c for c in demand.columns if c not in ("share", "share_core", "categorie", "sous_categorie",
                                                           "transition_num")]].copy()
    t0 = time.perf_counter()
    tables = standard_tables(acc, [end], territory=code, lang="fr")
    tables["competences"] = sheet
    t1 = time.perf_counter()
    to_excel(tables, path, accounts=acc, lang="fr", key_figures=keys, watch=watch)
t2 = time.perf_counter()
print(json.dumps({"tables": t1 - t0, "write": t2 - t1, "export": t2 - t0}))
"""

CASES = {"national": "national", "report Normandie": "report", "report Normandie, 2 scenarios": "report2"}


def measure(rounds: int, against: str | None) -> dict:
    """``{(name, tree): {"wall": [...], "tables": [...], …}}`` over ``rounds`` interleaved rounds (after one warm-up);
    tree is ``"after"`` (this tree) or ``"before"`` (``PYTHONPATH=against``)."""
    tmp = tempfile.mkdtemp(prefix="pmq-bench-excel-")
    trees = {}
    for tree, src in (("before", against), ("after", str(HERE.parent))):
        if src:
            env = dict(os.environ)
            env["PYTHONPATH"] = str(Path(src).resolve())
            trees[tree] = env
    runs: dict = {("floor", None): []} | {(n, t): [] for n in CASES for t in trees}

    def one(name, tree):
        if name == "floor":
            return {"wall": _child(FLOOR)[0]}
        path = os.path.join(tmp, f"{CASES[name]}-{tree}.xlsx")
        # -P: the current directory (this tree, when run from it) does not come before PYTHONPATH
        wall, _, out = _child([PY, "-P", "-c", CHILD, CASES[name], path, trees[tree]["PYTHONPATH"]], trees[tree])
        return {"wall": wall, **json.loads(out.strip().splitlines()[-1])}

    try:
        for key in runs:                            # warm the file cache and the baseline caches
            one(*key)
        for r in range(rounds):
            for key in runs:
                runs[key].append(one(*key))
            print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {k: {m: statistics.median(x[m] for x in v) for m in v[0]} for k, v in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--against", help="a source tree to compare with (PYTHONPATH), e.g. the previous commit unpacked")
    args = ap.parse_args()
    compile_bytecode(*(t for t in (HERE.parent, args.against) if t))
    print(f"pmq Excel export — {time.strftime('%Y-%m-%d %H:%M')} — {os.cpu_count()} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start; {args.rounds} rounds")
    res = measure(args.rounds, args.against)
    floor = res[("floor", None)]["wall"]
    print(f"floor (import numpy, pandas, xarray): {floor:.2f} s (median)")
    print("medians in seconds, (×) ratio to the floor; tables = standard_tables, write = to_excel, "
          "export = both; child = the whole process (projection included)")
    for name in CASES:
        for tree in ("before", "after"):
            v = res.get((name, tree))
            if v is None:
                continue
            print(f"  {name:<31} {tree:<6} " + "  ".join(
                f"{m} {v[m]:5.2f} s ({v[m] / floor:4.1f}×)" for m in ("tables", "write", "export"))
                + f"  child {v['wall']:5.2f} s")
        if ("before" in {t for _, t in res if t}) and (name, "before") in res:
            b, a = res[(name, "before")], res[(name, "after")]
            print(f"  {'':<31} ratio  " + "  ".join(f"{m} {b[m] / a[m]:4.1f}× faster" for m in
                                                    ("tables", "write", "export")))
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
