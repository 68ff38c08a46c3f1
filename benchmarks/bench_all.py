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
  distributed is installed: wall, and the peak RSS and CPU seconds of every process (the client's, which holds
  the scheduler and the nannies of a LocalCluster, and each worker's) — the cluster's start-up and close are
  inside the timing;
* the same 1,000 draws from the CLI, ``pmq run reference_incertain --draws 1000 --scheduler tcp://…``, on a
  LocalCluster started (in a process of its own) before the timing and closed after it, as a user with a cluster
  running pays them: wall, and the peak RSS and CPU of the CLI, of the cluster's process (scheduler and nannies;
  CPU during the run) and of each worker (CPU during the run);
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
#: the peak RSS and the CPU seconds of every process as JSON on its last line.  The imports are under
#: ``if __name__ == "__main__"``: a LocalCluster's workers are spawned, and each would run this script's top level
#: again (importing pandas, xarray and pmq that a worker does not need: 0.6 s of CPU and 60 MB each).
DISTRIBUTED = r"""
import json, resource, sys, tempfile
from pathlib import Path

def usage():
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_maxrss / 1024, r.ru_utime + r.ru_stime

if __name__ == "__main__":
    from distributed import Client, LocalCluster
    import pmq
    from pmq.projection.ensemble import run_ensemble
    draws = int(sys.argv[1])
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client, tempfile.TemporaryDirectory() as d:
        ens = run_ensemble("reference_incertain", pmq.load_baseline(), draws=draws, horizon=20,
                           store=Path(d) / "e.zarr", scheduler=client)
        ens.quantiles(); ens.quantiles(by="territory"); ens.summary()
        ens.flows.close()
        workers = sorted(client.run(usage).values())
    # the scheduler and the nannies of a LocalCluster live in this process, beside the client
    rss, cpu = usage()
    print(json.dumps({"processes": {"client + scheduler + nannies": [rss, cpu],
                                    **{f"worker {i + 1}": w for i, w in enumerate(workers)}}}))
"""

#: A LocalCluster in a process of its own for the CLI case: prints its address (JSON), then, when a line comes
#: on its standard input, the peak RSS of every process and the CPU seconds each spent since the address was
#: printed (JSON), and closes the cluster.
CLUSTER = r"""
import json, sys

def usage():
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_maxrss / 1024, r.ru_utime + r.ru_stime

if __name__ == "__main__":
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(2)
        before = {"cluster": usage()[1], **{a: w[1] for a, w in client.run(usage).items()}}
        print(json.dumps({"address": cluster.scheduler_address}), flush=True)
        sys.stdin.readline()
        workers = sorted(client.run(usage).items())
        rss, cpu = usage()
        out = {"scheduler + nannies (running)": [rss, cpu - before["cluster"]],
               **{f"worker {i + 1}": [w[0], w[1] - before[a]] for i, (a, w) in enumerate(workers)}}
    print(json.dumps({"processes": out}), flush=True)
"""


def _child(cmd, env=None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of one fresh process (wait4's rusage: this child only)."""
    wall, rss, _, text = _child_usage(cmd, env)
    return wall, rss, text


def _child_usage(cmd, env=None) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS (MB), CPU seconds (user + system, with the children it waited for) and stdout of one
    fresh process."""
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
    return wall, ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime, text


def _on_running_cluster(cmd, env=None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and a JSON line of every process's figures of ``cmd(address)`` run against a
    LocalCluster started before the timing (in a process of its own, with ``env``) and closed after it."""
    host = subprocess.Popen([PY, "-c", CLUSTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, cwd=tempfile.gettempdir(), text=True)
    try:
        line = host.stdout.readline()
        if not line:
            raise RuntimeError("the LocalCluster did not start")
        address = json.loads(line)["address"]
        wall, rss, cpu, _ = _child_usage(cmd(address), env)
        host.stdin.write("done\n")
        host.stdin.flush()
        figures = json.loads(host.stdout.readline())
        host.wait(60)
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
    figures["processes"] = {"pmq run (CLI)": [rss, cpu], **figures["processes"]}
    return wall, rss, json.dumps(figures)


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
        cases["ensemble 1000, CLI on a running cluster"] = ("cluster", lambda address: _pmq(
            "run", "reference_incertain", "--draws", "1000", "--horizon", "20", "--scheduler", address,
            "--out", out("ens_cluster")))
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
                    if isinstance(cmd, tuple):          # ("cluster", command of the address)
                        w, m, text = _on_running_cluster(cmd[1], env)
                    else:
                        w, m, text = _child(cmd(), env)
                    extra = None
                    if "cluster" in name.lower():
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
           "ensemble 1000 on LocalCluster": "≤ 18×, < 1.5 GB", "ensemble 1000, CLI on a running cluster": "≤ 18×",
           "backtest": "≤ 8×", "pmq --help": "≤ 4× numpy"}


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
                procs = extra["processes"]
                total = sum(cpu for _, cpu in procs.values())
                print(f"    {t}: peak RSS, CPU s — " + "; ".join(f"{p} {rss:.0f} MB, {cpu:.1f} s"
                                                              for p, (rss, cpu) in procs.items())
                      + f"; CPU of all {total:.1f} s", file=stream)


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
