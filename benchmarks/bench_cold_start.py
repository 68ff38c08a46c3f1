"""Cold start: ``import pmq`` and ``pmq --help`` against their floors (prints figures; asserts nothing).

    python benchmarks/bench_cold_start.py [N]

Wall time of fresh interpreters, median of N runs (default 7), all measured in this one run so that
the ratios compare like with like on the same machine and load:

* ``python -c "import numpy"`` — the floor of ``pmq --help``;
* ``python -c "import numpy, pandas, xarray"`` — the floor of ``import pmq``;
* ``python -c "import pmq"`` — target: at most 1.25 × its floor (the package's face is imported on first
  use, so this is mostly the interpreter's start);
* ``python -c "import pmq; pmq.project"`` — the library loaded (what a script pays before its first
  projection), against the same floor and target;
* ``python -m pmq --help`` — target: at most 4 × its floor (argparse only, the library is imported
  when a command runs).

The runs are interleaved (one of each per round) so that a slow moment of the machine weighs on every
case alike.  ``python -X importtime -c "import pmq" 2> imports.txt`` shows where the time goes.
"""
import statistics
import subprocess
import sys
import time

CASES = [
    ("numpy", [sys.executable, "-c", "import numpy"]),
    ("numpy, pandas, xarray", [sys.executable, "-c", "import numpy, pandas, xarray"]),
    ("import pmq", [sys.executable, "-c", "import pmq"]),
    ("import pmq; pmq.project", [sys.executable, "-c", "import pmq; pmq.project"]),
    ("pmq --help", [sys.executable, "-m", "pmq", "--help"]),
]
#: (measured, floor, target ratio)
RATIOS = [("import pmq", "numpy, pandas, xarray", 1.25), ("import pmq; pmq.project", "numpy, pandas, xarray", 1.25),
          ("pmq --help", "numpy", 4.0)]


def wall(cmd) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(n: int = 7):
    for _, cmd in CASES:  # warm the file cache (the first interpreter reads every .py / .pyc from disk)
        wall(cmd)
    times = {name: [] for name, _ in CASES}
    for _ in range(n):
        for name, cmd in CASES:
            times[name].append(wall(cmd))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"cold start, wall time of a fresh interpreter, median of {n} (min–max):")
    for name, _ in CASES:
        print(f"  {name:<24} {med[name] * 1e3:6.0f} ms  ({min(times[name]) * 1e3:.0f}–{max(times[name]) * 1e3:.0f})")
    for name, floor, target in RATIOS:
        ratio = med[name] / med[floor]
        verdict = "ok" if ratio <= target else "OVER"
        print(f"{name:<24} = {ratio:.2f} × python -c \"import {floor}\"  (target ≤ {target:g}: {verdict})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
