"""Speed and memory of the supply, imbalance and separation-rate computations (prints figures).

    python benchmarks/bench_supply.py

* IPF calibration of the formation × métier allocation (13 regions × 5 levels × 83 métiers);
* a reference projection to 2030 with a `[supply]` lever (calibration included);
* imbalance_table + the three typologies + watch list on the reference projection;
* the BLS table 1.10 reproduction (832 occupations);
* peak RSS of the process.
"""
import resource
import statistics
import tempfile
import time
from pathlib import Path

import pmq
from pmq.analysis import imbalance, separations
from pmq.inputs import training


def timed(fn, n=5):
    out, ts = None, []
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return out, statistics.median(ts)


b = pmq.load_baseline()
alloc, t_ipf = timed(lambda: training.calibrate_training(b))
print(f"IPF calibration: {t_ipf * 1e3:.0f} ms (median of 5), {alloc.report['iterations']} iterations, "
      f"max margin errors {alloc.report['max_rel_error_rows']:.1e} (rows) / "
      f"{alloc.report['max_rel_error_formations']:.1e} (formations), "
      f"rescale factor {alloc.report['rescale_factor']:.4f}")

ref, t_ref = timed(lambda: pmq.project(b, "reference", horizon=11), n=3)
toml = """[scenario]
name = "bench"
extends = "reference"
[[supply.leavers]]
id = "bts"
level = ["bac2"]
factor = 1.2
from_year = 2022
assumption = "benchmark"
"""
with tempfile.TemporaryDirectory() as d:
    p = Path(d) / "bench.toml"
    p.write_text(toml, encoding="utf-8")
    _, t_sup = timed(lambda: pmq.project(b, p, horizon=11), n=3)
print(f"projection to 2030: reference {t_ref:.2f} s, with a supply lever {t_sup:.2f} s")


def imb():
    t = imbalance.imbalance_table(ref)
    for name in ("dares", "cops", "roa"):
        t[name] = imbalance.classify(t, name)
    return imbalance.watch_list(t)


w, t_imb = timed(imb)
print(f"imbalance table (1,162 rows) + 3 typologies + watch list: {t_imb * 1e3:.0f} ms")
rep, t_bls = timed(lambda: separations.reproduce_bls())
print(f"BLS table 1.10 reproduction (832 occupations): {t_bls * 1e3:.0f} ms")
print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
