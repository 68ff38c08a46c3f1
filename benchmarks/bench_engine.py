"""Speed and memory of the reference projection (prints figures; asserts nothing).

    python benchmarks/bench_engine.py

* wall time and peak memory (RSS) of the full reference 20-year run
  (load + project + horizon sums), in a fresh subprocess;
* the cost of one projection year as a multiple of one numpy pass
  (``np.add(a, b, out=c)`` on arrays of the state's shape, median of 5 runs).
"""
import json
import statistics
import subprocess
import sys
import time

import numpy as np

CHILD = r"""
import json, resource, time
t0 = time.perf_counter()
import pmq
b = pmq.load_baseline()
t1 = time.perf_counter()
p = pmq.project(b, "reference", horizon=20)
h = p.horizons()
t2 = time.perf_counter()
print(json.dumps({"load_s": t1 - t0, "project_s": t2 - t1, "total_s": t2 - t0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    run = json.loads(out.stdout.strip().splitlines()[-1])
    print("reference run, 20 years, 13 regions × 83 métiers × 60 ages:")
    print(f"  import + load baseline  {run['load_s']:.2f} s")
    print(f"  project + horizon sums  {run['project_s']:.2f} s")
    print(f"  total wall time         {run['total_s']:.2f} s")
    print(f"  peak RSS                {run['peak_rss_mb']:.0f} MB")

    import pmq
    from pmq.model.engine import Profiles, _age_first, _Kernel, step

    b = pmq.load_baseline()
    E = b["employment"].values
    h = b["hazard"].broadcast_like(b["employment"]).transpose("territory", "metier", "age").values
    prof = Profiles.from_spec()
    nc = np.full(E.shape[:2], 10.0)
    y = np.full(E.shape[:2], 30.0)
    m = np.zeros(E.shape[:2])
    a, c = E.copy(), np.empty_like(E)

    def timeit(fn, n=5, inner=20):
        ts = []
        for _ in range(n):
            t = time.perf_counter()
            for _ in range(inner):
                fn()
            ts.append((time.perf_counter() - t) / inner)
        return statistics.median(ts)

    t_pass = timeit(lambda: np.add(a, E, out=c), inner=200)
    X, H, k = _age_first(E, 3), _age_first(h, 3), _Kernel(prof, 3)
    t_year = timeit(lambda: k.year(X, H, nc, y, m))
    t_step = timeit(lambda: step(E, h, nc, y, m, prof))
    print(f"one projection year (the kernel inside engine.simulate): {t_year * 1e3:.3f} ms")
    print(f"one numpy pass np.add on {E.shape} float64: {t_pass * 1e6:.1f} µs")
    print(f"cost of one projection year = {t_year / t_pass:.1f} numpy passes "
          f"(engine.step, which also converts layouts and keeps age-resolved flows: {t_step / t_pass:.0f})")
    print("ensembles (chunks of draws): python benchmarks/bench_ensemble.py")


if __name__ == "__main__":
    main()
