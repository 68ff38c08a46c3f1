"""The engine's full record, written into arrays allocated once (issue 17): what it means, not how fast.

* every year of ``simulate(record="full")`` equals the annual step run on its own (:func:`step`, fresh arrays),
  bit for bit, and satisfies the stock-flow identity;
* the flows' final year is NaN, in place: the accounts wrap the engine's arrays without a copy;
* several scenarios' hazards read one year at a time (:class:`ScenarioHazards`) give the same run as the
  materialised ``(year, scenario, …)`` array;
* the horizon sums, with the accounts summed over age once, are the per-window sums.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from pmq.model.engine import Profiles, ScenarioHazards, simulate, step, with_final_year

A, N = 60, 4


def _inputs(seed=0, cells=(2, 3)):
    rng = np.random.default_rng(seed)
    E0 = rng.uniform(0, 100, cells + (A,))
    h = rng.uniform(0, 0.1, cells + (A,))
    h[..., -1] = 1.0
    nc = rng.normal(0, 200, (N,) + cells)
    ye = rng.uniform(0, 80, (N,) + cells)
    nm = rng.normal(0, 30, (N,) + cells)
    return E0, h, nc, ye, nm, Profiles.from_spec()


def test_full_record_equals_step_by_step_and_the_identity():
    E0, h, nc, ye, nm, prof = _inputs()
    res = simulate(E0, h, nc, ye, nm, prof, record="full")
    assert res["employment"].shape == (N + 1, 2, 3, A) and res["departures"].shape == (N, 2, 3, A)
    np.testing.assert_array_equal(res["employment"][0], E0)
    E = E0
    for t in range(N):
        ref = step(E, h, nc[t], ye[t], nm[t], prof)
        for k in ("departures", "young_entrants", "net_mobility", "other_recruits"):
            np.testing.assert_array_equal(res[k][t], ref[k], err_msg=f"{k} {t}")
        np.testing.assert_array_equal(res["employment"][t + 1], ref["employment"])
        # employment[a+1, t+1] = employment[a, t] − departures[a, t] + inflows[a+1, t]
        inflow = res["young_entrants"][t] + res["net_mobility"][t] + res["other_recruits"][t]
        survivors = np.zeros_like(E)
        survivors[..., 1:] = res["employment"][t][..., :-1] - res["departures"][t][..., :-1]
        np.testing.assert_allclose(res["employment"][t + 1], survivors + inflow, rtol=1e-12, atol=1e-9)
        E = ref["employment"]


def test_final_year_nan_in_place_and_no_copy():
    E0, h, nc, ye, nm, prof = _inputs(1)
    res = simulate(E0, h, nc, ye, nm, prof, record="full")
    for k in ("departures", "young_entrants", "net_mobility", "other_recruits"):
        full = with_final_year(res[k])
        assert full.shape == (N + 1, 2, 3, A) and np.isnan(full[-1]).all() and not np.isnan(full[:-1]).any()
        assert np.shares_memory(full, res[k]) and full.flags.c_contiguous
    plain = np.ones((2, 3))
    padded = with_final_year(plain)                                       # anything else: a padded copy
    assert padded.shape == (3, 3) and np.isnan(padded[-1]).all() and not np.shares_memory(padded, plain)


def test_accounts_wrap_the_engine_arrays():
    import pmq
    from pmq.projection.run import _accounts, _resolve, scenario_inputs

    b = pmq.load_baseline()
    sc = _resolve("reference", b, 2)
    inp = scenario_inputs(b, sc)
    res = simulate(inp, record="full")
    acc = _accounts(b, sc, res, inp.net_creation, int(b.attrs["base_year"]), 2)
    assert np.shares_memory(acc["employment"].values, res["employment"])
    for k in ("departures", "young_entrants", "net_mobility", "other_recruits"):
        assert np.shares_memory(acc[k].values, res[k]), k
        assert acc[k].dims == ("year", "territory", "metier", "age") and acc[k].dtype == np.float64
        assert np.isnan(acc[k].values[-1]).all() and not np.isnan(acc[k].values[:-1]).any()
    assert np.isnan(acc["net_creation"].values[-1]).all()


def test_scenario_hazards_read_by_year_equal_the_stacked_array():
    E0, h, nc, ye, nm, prof = _inputs(2)
    rng = np.random.default_rng(3)
    by_year = np.clip(h[None] * rng.uniform(0.5, 1.5, (N,) + h.shape), 0, 1)
    by_year[..., -1] = 1.0
    hz = ScenarioHazards((h, by_year, h), (False, True, False), N)
    stacked = np.asarray(hz)
    assert stacked.shape == hz.shape == (N, 3, 2, 3, A)
    args = (np.stack([E0] * 3), np.stack([nc] * 3, axis=1), np.stack([ye] * 3, axis=1), np.stack([nm] * 3, axis=1))
    lazy = simulate(args[0], hz, *args[1:], prof, record="full", hazard_by_year=True)
    eager = simulate(args[0], stacked, *args[1:], prof, record="full", hazard_by_year=True)
    for k in lazy:
        np.testing.assert_array_equal(lazy[k], eager[k], err_msg=k)
    one = simulate(E0, by_year, nc, ye, nm, prof, record="full", hazard_by_year=True)   # scenario 1 alone
    np.testing.assert_array_equal(lazy["employment"][:, 1], one["employment"])


def test_horizon_sums_summed_over_age_once_equal_the_windows():
    import pmq
    from pmq.projection.indicators import horizon_sums, window_sums
    from pmq.projection.summary import scenario_summary_table, summarize

    proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
    acc = proj.accounts
    for ends in ([2024, 2029], [2030]):
        h = horizon_sums(acc, ends)
        for i, end in enumerate(ends):
            w = window_sums(acc, int(acc.year.values[0]), end)
            for k in ("employment_start", "employment_end", "departures", "openings", "imbalance", "net_mobility"):
                np.testing.assert_array_equal(h[k].isel(period=i).values, w[k].values, err_msg=f"{k} {end}")
    # what `pmq run` prints and writes from one computation of the horizons is what the methods give
    once = proj.horizons()
    xr.testing.assert_identical(once, proj.horizons())
    assert str(summarize(acc, once)) == str(proj.summary())
    assert scenario_summary_table(once).equals(proj.summary_table())
