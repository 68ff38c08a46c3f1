"""Ensembles at scale: throughput, per-year cost in numpy passes, peak memory, and the same
one-year step written as a pandas long-table computation (prints figures).

    python benchmarks/bench_ensemble.py [--draws 1000] [--chunk 50]

1. A ``--draws``-member ensemble of ``reference_incertain`` on the full embedded baseline
   (13 regions × 83 métiers × 60 single-year ages × 20 years), streamed chunk by chunk to a
   zarr store on dask's threaded scheduler: wall time, throughput, peak RSS of the process; the
   quantiles (the store read once, then windows sliced from the per-draw sums kept on the Ensemble).
2. One projection year (pmq.model.engine's kernel) as a multiple of one numpy pass
   ``np.add(a, b, out=c)`` on arrays of the state's shape (median of 5), for one run and for a
   chunk of draws.
3. The same year written the way a competent analyst would in pandas — one long table
   (territory, métier, age), vectorised merges and groupbys, no ``apply`` or row loop — timed
   on the one-run state and checked to give the same stocks.
"""
import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import pmq
from pmq.model.engine import Profiles, _age_first, _Kernel
from pmq.projection.ensemble import run_ensemble


def median_time(fn, reps=5, inner=3):
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        ts.append((time.perf_counter() - t) / inner)
    return statistics.median(ts)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pandas_year(long, cells, prof):
    """One annual step on a long table: long = (territory, metier, age, employment, hazard);
    cells = (territory, metier, net_creation, young_entrants, net_mobility); prof = age profiles."""
    keys = ["territory", "metier"]
    d = long.assign(departures=long["employment"] * long["hazard"])
    d["survivors"] = d["employment"] - d["departures"]
    dep = d.groupby(keys, sort=False, as_index=False)["departures"].sum()
    aged = d.loc[d["age"] < 74, keys + ["age", "survivors"]].assign(age=lambda x: x["age"] + 1)
    nxt = long[keys + ["age"]].merge(aged, on=keys + ["age"], how="left").fillna({"survivors": 0.0})
    nxt = nxt.merge(prof, on="age", how="left")
    c = cells.merge(dep, on=keys, how="left")
    c["other"] = c["net_creation"] + c["departures"] - c["young_entrants"] - c["net_mobility"]
    c["m_pos"] = c["net_mobility"].clip(lower=0)
    c["r_pos"] = c["other"].clip(lower=0)
    c["neg"] = (-c["net_mobility"]).clip(lower=0) + (-c["other"]).clip(lower=0)
    nxt["B"] = nxt["survivors"] * nxt["removal"]
    bsum = nxt.groupby(keys, sort=False, as_index=False)["B"].sum().rename(columns={"B": "bsum"})
    c = c.merge(bsum, on=keys, how="left")
    c["f"] = np.where(c["bsum"] > 0, c["neg"] / c["bsum"].where(c["bsum"] > 0, 1.0), 0.0)
    nxt = nxt.merge(c[keys + ["f", "young_entrants", "m_pos", "r_pos"]], on=keys, how="left")
    nxt["employment"] = (nxt["survivors"] - nxt["B"] * nxt["f"] + nxt["young_entrants"] * nxt["young"]
                         + nxt["m_pos"] * nxt["mobility"] + nxt["r_pos"] * nxt["recruits"])
    return nxt[keys + ["age", "employment"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=50)
    ap.add_argument("--horizon", type=int, default=20)
    args = ap.parse_args()
    b = pmq.load_baseline()
    rss0 = rss_mb()

    # 1. the ensemble, streamed to zarr
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        ens = run_ensemble("reference_incertain", b, draws=args.draws, chunk=args.chunk, horizon=args.horizon,
                           store=Path(d) / "e.zarr", scheduler="threads")
        wall = time.perf_counter() - t0
        t1 = time.perf_counter()
        q = ens.quantiles([2030, 2019 + args.horizon])
        t_first = time.perf_counter() - t1
        t1 = time.perf_counter()
        ens.quantiles()                          # what pmq run --draws computes: 12 windows in all
        ens.quantiles(by="territory")
        ens.summary()
        t_rest = time.perf_counter() - t1
        size = sum(f.stat().st_size for f in (Path(d) / "e.zarr").rglob("*") if f.is_file())
    T, M, A = b.sizes["territory"], b.sizes["metier"], b.sizes["age"]
    cell_years = args.draws * T * M * A * args.horizon
    print(f"ensemble: {args.draws} draws × {T} regions × {M} métiers × {A} ages × {args.horizon} years, "
          f"chunks of {args.chunk}, dask threads, streamed to zarr ({size / 1e6:.0f} MB on disk)")
    print(f"  wall time {wall:.1f} s; {cell_years / wall / 1e6:.1f} M cell-years/s (cell = region × métier × age); "
          f"{args.draws * T * M * args.horizon / wall / 1e6:.2f} M region × métier-years/s")
    print(f"  quantiles: first call {t_first:.2f} s (reads the store once, national and territory sums); "
          f"the 12 windows of pmq run --draws after it {t_rest:.2f} s (sliced from those sums)")
    print(f"  peak RSS {rss_mb():.0f} MB (before the ensemble: {rss0:.0f} MB)")
    op = q["openings"].sel(period="2019–2030").values / 1e3
    print("  national openings 2019–2030, thousands, quantiles 5/25/50/75/95 %: "
          + " / ".join(f"{x:,.0f}" for x in op))

    # 2. one year in numpy passes
    E = b["employment"].transpose("territory", "metier", "age").values
    h = b["hazard"].broadcast_like(b["employment"]).transpose("territory", "metier", "age").values
    prof = Profiles.from_spec()
    for n in (1, args.chunk):
        X = _age_first(np.broadcast_to(E, (n,) + E.shape).copy(), 4)
        H = _age_first(h, 4)
        k = _Kernel(prof, 4)
        nc = np.full(X.shape[1:], 10.0)
        ye = np.full(X.shape[1:], 30.0)
        nm = np.zeros(X.shape[1:])
        a, c = X.copy(), np.empty_like(X)
        t_pass = median_time(lambda: np.add(a, X, out=c), inner=20)
        t_year = median_time(lambda: k.year(X, H, nc, ye, nm))
        print(f"one projection year, state {n} × {T} × {M} × {A}: {t_year * 1e3:.2f} ms = "
              f"{t_year / t_pass:.1f} numpy passes (np.add on the state: {t_pass * 1e3:.3f} ms)")

    # 3. the pandas long-table step, on the one-run state
    tt, mm, aa = np.meshgrid(b.territory.values, b.metier.values, b.age.values, indexing="ij")
    long = pd.DataFrame({"territory": tt.ravel(), "metier": mm.ravel(), "age": aa.ravel(),
                         "employment": E.ravel(), "hazard": h.ravel()})
    t2, m2 = np.meshgrid(b.territory.values, b.metier.values, indexing="ij")
    from pmq.projection.run import _resolve, scenario_inputs
    inp = scenario_inputs(b, _resolve("reference", b, 1))      # the first year's flows of the reference
    ncv, yev, nmv = (inp[k][0].ravel() for k in ("net_creation", "young_entrants", "net_mobility"))
    cells = pd.DataFrame({"territory": t2.ravel(), "metier": m2.ravel(), "net_creation": ncv,
                          "young_entrants": yev, "net_mobility": nmv})
    ages = b.age.values
    profd = pd.DataFrame({"age": ages, "young": prof.young, "mobility": prof.mobility, "recruits": prof.recruits,
                          "removal": prof.removal})
    t_pd = median_time(lambda: pandas_year(long, cells, profd), reps=5, inner=1)
    X1 = _age_first(E, 3)
    k1 = _Kernel(prof, 3)
    args1 = (X1, _age_first(h, 3), ncv.reshape(T, M), yev.reshape(T, M), nmv.reshape(T, M))
    t_np = median_time(lambda: k1.year(*args1), inner=20)
    nxt_np = np.moveaxis(k1.year(*args1)[0], 0, -1).ravel()
    nxt_pd = pandas_year(long, cells, profd)["employment"].to_numpy()
    err = float(np.max(np.abs(nxt_pd - nxt_np)) / np.abs(nxt_np).max())
    print(f"pandas long-table step ({len(long):,} rows): {t_pd * 1e3:.1f} ms; pmq kernel: {t_np * 1e3:.2f} ms; "
          f"speed-up ×{t_pd / t_np:.0f}; same stocks (max relative difference {err:.1e})")


if __name__ == "__main__":
    main()
