"""Speed and memory of scenario runs (prints figures; asserts nothing).

    python benchmarks/bench_scenarios.py

* the 11 built-in scenarios in one multi-scenario run to 2050 (31 years), and the same
  scenarios run one by one, each in a fresh subprocess (wall time, peak RSS);
* the cost of building the inputs of a scenario with levers (demand path, hazards by year).
"""
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import pmq
from pmq.projection.compare import project_many
from pmq.scenario import builtin_scenarios
b = pmq.load_baseline()
names = list(builtin_scenarios())
t1 = time.perf_counter()
if sys.argv[1] == "many":
    c = project_many(names, b, horizon=31)
    t = c.table(horizon=10)
else:
    for n in names:
        p = pmq.project(b, n, horizon=31)
        p.horizons()
t2 = time.perf_counter()
from pmq.projection.run import scenario_inputs
from pmq.scenario import read_scenario
sc = read_scenario("ademe_s1_illustratif").with_horizon(31)
t3 = time.perf_counter()
for _ in range(5):
    scenario_inputs(b, sc)
t4 = time.perf_counter()
print(json.dumps({"n": len(names), "load_s": t1 - t0, "run_s": t2 - t1, "inputs_s": (t4 - t3) / 5,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main():
    for mode in ("many", "separate"):
        out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        label = "one multi-scenario run" if mode == "many" else "separate runs"
        print(f"{r['n']} built-in scenarios to 2050 (31 years), {label}:")
        print(f"  projection           {r['run_s']:.2f} s")
        print(f"  peak RSS             {r['peak_rss_mb']:.0f} MB")
    print(f"inputs of one scenario with 7 demand levers (ademe_s1_illustratif): {r['inputs_s'] * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
