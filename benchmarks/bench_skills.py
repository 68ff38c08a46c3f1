"""The skills layer (issue 19) as ratios to the floor (prints figures; asserts nothing).

    python benchmarks/bench_skills.py [--rounds N]

The floor is ``python -c "import numpy, pandas, xarray"``, as in ``benchmarks/bench_all.py``; every command runs
in a fresh interpreter, one of each per round (interleaved, so that a slow moment of the machine weighs on every
case alike); the figures are medians of wall time and of peak RSS (the child's ``ru_maxrss``):

* the bridge build from the raw files (ROME 4.0, DARES tables in ``../shared/data``):
  ``python -m pmq.estimation.skills --out TMP`` (build and write the ten tables) and ``--check`` (build in
  memory and compare with the shipped files) — left out when the shared data are absent (a clean clone);
* ``pmq skills reference --territory Bretagne --out DIR`` (projection to 2030, macro-compétences, CSV and Excel);
* ``pmq passerelles T2A --territory Bretagne`` (projection, imbalance classes, the ranked passerelles).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_all import FLOOR, PY, _child, _pmq  # noqa: E402


def _cases(tmp: str) -> dict:
    """name → function giving the command (a fresh output folder where one is written)."""
    def out(name):
        p = os.path.join(tmp, name)
        shutil.rmtree(p, ignore_errors=True)
        return p

    cases = {"floor": lambda: FLOOR}
    from pmq.estimation.skills import locate_shared
    if locate_shared(None) is not None:
        cases["bridge build (--out TMP)"] = lambda: [PY, "-m", "pmq.estimation.skills", "--out", out("bridge")]
        cases["bridge build --check"] = lambda: [PY, "-m", "pmq.estimation.skills", "--check"]
    else:
        print("../shared/data not found: the bridge build is left out", file=sys.stderr)
    cases["pmq skills reference --territory Bretagne"] = lambda: _pmq(
        "skills", "reference", "--territory", "Bretagne", "--out", out("skills"))
    cases["pmq passerelles T2A --territory Bretagne"] = lambda: _pmq("passerelles", "T2A", "--territory", "Bretagne")
    return cases


def measure(rounds: int) -> dict:
    """``{name: {"wall", "rss", "min", "max"}}``: medians over ``rounds`` interleaved rounds (after one warm-up)."""
    tmp = tempfile.mkdtemp(prefix="pmq-bench-skills-")
    cases = _cases(tmp)
    runs: dict = {n: [] for n in cases}
    try:
        for cmd in cases.values():                 # warm the file cache
            _child(cmd())
        for r in range(rounds):
            for name, cmd in cases.items():
                w, m, _ = _child(cmd())
                runs[name].append((w, m))
            print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {n: {"wall": statistics.median(w for w, _ in rs), "rss": statistics.median(m for _, m in rs),
                "min": min(w for w, _ in rs), "max": max(w for w, _ in rs)} for n, rs in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print(f"pmq skills benchmarks — {time.strftime('%Y-%m-%d %H:%M')} — {os.cpu_count()} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start; {args.rounds} rounds")
    res = measure(args.rounds)
    floor = res["floor"]["wall"]
    print("commands (median wall; ratio to the floor of the same rounds; min–max wall; peak RSS):")
    for n, v in res.items():
        print(f"  {n:<44} {v['wall']:6.2f} s {v['wall'] / floor:5.1f}×  ({v['min']:.2f}–{v['max']:.2f} s)"
              f" {v['rss']:6.0f} MB")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
