"""Everything issue 17 measures, as ratios to the floor, in one run (prints figures; asserts nothing).

    python benchmarks/bench_all.py [--rounds N] [--against SRC] [--skip NAME,...]

The floor is ``python -c "import numpy, pandas, xarray"`` (what any pmq command pays before it starts).
pmq's bytecode is compiled first, as an installed pmq has it (:func:`compile_bytecode`).
Every command runs in a fresh interpreter, one of each per round (A/B interleaved, so that a slow moment
of the machine weighs on every case alike); the figures are medians of wall time and of peak RSS
(the child's ``ru_maxrss``), and ratios are to the floor measured in the same rounds:

* cold start: ``import pmq`` and ``pmq --help``;
* ``pmq report reference --territory Normandie`` — target ≤ 8 × the floor;
* ``pmq run reference_incertain --draws 1000`` (20 years; streamed to zarr on dask's threads when dask is
  installed) — target ≤ 18 × the floor and < 1.5 GB;
* the same 1,000 draws on a ``dask.distributed`` LocalCluster (2 worker processes, 1 thread each), when
  distributed is installed: wall, and the peak RSS of every process (the client's, which holds the
  scheduler and the nannies of a LocalCluster, and each worker's);
* ``pmq backtest --from 2012 --to 2018`` — target ≤ 8 × the floor;
* ``pmq run reference`` (≤ 2 × the floor) and ``pmq compare`` of every built-in to 2050 (< 1 GB), from
  ``benchmarks/bench_run.py`` (its own interleaved rounds and floor);
* the scaling table of the full accounts at 1×, 10×, 25×, 100× today's cells (``benchmarks/bench_scaling.py``).

``--against SRC`` also runs each command of the first group with ``PYTHONPATH=SRC`` — e.g. the previous
commit unpacked by ``git archive HEAD | tar -x -C SRC`` — interleaved with the current tree, and prints
both (before → after).  Figures from a shared machine are noisy: compare ratios from the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PY = sys.executable
FLOOR = [PY, "-c", "import numpy, pandas, xarray"]

#: A LocalCluster run of the ensemble as ``pmq run --draws`` does it (store, quantiles, summary); prints
#: the peak RSS of every process as JSON on its last line.
DISTRIBUTED = r"""
import json, resource, sys, tempfile
from pathlib import Path
from distributed import Client, LocalCluster
import pmq
from pmq.projection.ensemble import run_ensemble

def peak():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

if __name__ == "__main__":
    draws = int(sys.argv[1])
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client, tempfile.TemporaryDirectory() as d:
        ens = run_ensemble("reference_incertain", pmq.load_baseline(), draws=draws, horizon=20,
                           store=Path(d) / "e.zarr", scheduler=client)
        ens.quantiles(); ens.quantiles(by="territory"); ens.summary()
        ens.flows.close()
        workers = sorted(client.run(peak).values())
    # the scheduler and the nannies of a LocalCluster live in this process, beside the client
    print(json.dumps({"client_scheduler_mb": peak(), "workers_mb": workers}))
"""


def _child(cmd, env=None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of one fresh process (wait4's rusage: this child only)."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        # from a neutral folder: ``python -m pmq`` puts the working directory first on sys.path, so a run from the
        # repository's root would import this tree's pmq for the --against tree too
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env, cwd=tempfile.gettempdir())
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if code != 0:
        raise subprocess.CalledProcessError(code, cmd, text[-2000:])
    return wall, ru.ru_maxrss / 1024, text


def _pmq(*args) -> list[str]:
    return [PY, "-m", "pmq", *args]


def _cases(tmp: str, skip: set[str]) -> dict:
    """name → (function giving the command, with a fresh --out where needed)."""
    def out(name):
        p = os.path.join(tmp, name)
        shutil.rmtree(p, ignore_errors=True)
        return p

    cases = {
        "floor": lambda: FLOOR,
        "import pmq": lambda: [PY, "-c", "import pmq"],
        "pmq --help": lambda: _pmq("--help"),
        "report": lambda: _pmq("report", "reference", "--territory", "Normandie", "--out", out("report")),
        "ensemble 1000": lambda: _pmq("run", "reference_incertain", "--draws", "1000", "--horizon", "20",
                                      "--out", out("ens")),
        "backtest": lambda: _pmq("backtest", "--from", "2012", "--to", "2018"),
    }
    try:
        import distributed  # noqa: F401
        cases["ensemble 1000 on LocalCluster"] = lambda: [PY, "-c", DISTRIBUTED, "1000"]
    except ImportError:
        print("dask.distributed is not installed: the LocalCluster case is left out", file=sys.stderr)
    return {k: v for k, v in cases.items() if k == "floor" or k not in skip}


def compile_bytecode(*trees) -> None:
    """Write each tree's pmq bytecode (``__pycache__``, ignored by git), as ``pip install`` does for a user: with
    ``PYTHONDONTWRITEBYTECODE`` set (this machine) every command would otherwise compile pmq's ~80 modules from
    source, 0.3–0.6 s that no installed pmq pays."""
    import compileall
    for tree in trees:
        compileall.compile_dir(str(Path(tree) / "pmq"), quiet=1)


def measure(rounds: int, against: str | None, skip: set[str]) -> dict:
    """``{(name, tree): {"wall", "rss", "extra"}}`` medians over ``rounds`` interleaved rounds; tree is
    ``"after"`` (this tree) or ``"before"`` (``PYTHONPATH=against``)."""
    tmp = tempfile.mkdtemp(prefix="pmq-bench-all-")
    trees = {"after": None}
    if against:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(Path(against).resolve())
        trees = {"before": env, "after": None}
    cases = _cases(tmp, skip)
    runs: dict = {(n, t): [] for n in cases for t in trees}
    try:
        for name, cmd in cases.items():          # warm the file cache and the baseline caches
            if name in ("floor", "import pmq", "pmq --help"):
                for env in trees.values():
                    _child(cmd(), env)
        for r in range(rounds):
            for name, cmd in cases.items():
                for tree, env in trees.items():
                    w, m, text = _child(cmd(), env)
                    extra = None
                    if name.endswith("LocalCluster"):
                        extra = json.loads(text.strip().splitlines()[-1])
                    runs[(name, tree)].append({"wall": w, "rss": m, "extra": extra})
            print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res = {}
    for key, rs in runs.items():
        res[key] = {"wall": statistics.median(x["wall"] for x in rs), "rss": statistics.median(x["rss"] for x in rs),
                    "min": min(x["wall"] for x in rs), "max": max(x["wall"] for x in rs),
                    "extra": rs[len(rs) // 2]["extra"]}
    return res


TARGETS = {"import pmq": "≤ 1.25×", "report": "≤ 8×", "ensemble 1000": "≤ 18×, < 1.5 GB",
           "ensemble 1000 on LocalCluster": "≤ 18×, < 1.5 GB", "backtest": "≤ 8×", "pmq --help": "≤ 4× numpy"}


def print_group(res: dict, against: str | None, stream=None) -> None:
    stream = stream or sys.stdout
    trees = ["before", "after"] if against else ["after"]
    names = list(dict.fromkeys(n for n, _ in res))
    floor = {t: res[("floor", t)]["wall"] for t in trees}
    print(f"commands (median wall; ratio to the floor of the same tree and rounds; peak RSS){' — before → after' if against else ''}:",
          file=stream)
    for n in names:
        cols = []
        for t in trees:
            v = res[(n, t)]
            cols.append(f"{v['wall']:6.2f} s {v['wall'] / floor[t]:5.1f}× {v['rss']:6.0f} MB")
        print(f"  {n:<30} " + "  →  ".join(cols) + f"   {TARGETS.get(n, '')}", file=stream)
        for t in trees:
            extra = res[(n, t)]["extra"]
            if extra:
                print(f"    {t}: peak RSS of the client + scheduler + nannies process {extra['client_scheduler_mb']:.0f} MB;"
                      " of each worker process " + ", ".join(f"{x:.0f}" for x in extra["workers_mb"]) + " MB",
                      file=stream)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--against", help="a source tree (PYTHONPATH) to compare with, interleaved")
    ap.add_argument("--skip", default="", help="comma-separated case names or groups (run, compare, scaling)")
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    print(f"pmq benchmarks — {time.strftime('%Y-%m-%d %H:%M')} — {os.cpu_count()} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start; {args.rounds} rounds")
    compile_bytecode(HERE.parent, *([args.against] if args.against else []))
    res = measure(args.rounds, args.against, skip)
    print_group(res, args.against)
    sys.stdout.flush()

    import bench_run
    if "run" not in skip:
        bench_run.print_results(bench_run.measure_run(args.rounds),
                                f"pmq run reference --out DIR (≤ 2×), median of {args.rounds}:")
    if "compare" not in skip:
        n = max(1, args.rounds // 2)
        bench_run.print_results(bench_run.measure_compare(n),
                                f"pmq compare <every built-in> to 2050 (< 1 GB; not slower than one_by_one), "
                                f"median of {n}:")
    if "scaling" not in skip:
        import bench_scaling
        bench_scaling.print_table(bench_scaling.scaling_table())
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
