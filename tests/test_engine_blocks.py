"""The full accounts run by blocks of cells, age last, in place in the record (issue [performance] item 1): the
same bits as the unblocked annual step, whatever the block size — what it means, not how fast
(``benchmarks/bench_scaling.py`` prints the speed).

* every block size (one cell, a few, a block boundary inside a territory, all cells) gives the full record of
  :func:`step` run year by year on every cell, bit for bit — with steep outflows (the capped removal), empty
  cells, a hazard by year, several scenarios with their own profiles;
* an infeasible outflow is raised as by the unblocked step: every failing cell of the year, by its index;
* the block size chosen by default (from the cache and the number of ages) evens the blocks out, and gives the
  same bits; the record's allocation leaves numpy's process-wide huge-page switch as it found it.
"""
from __future__ import annotations

import numpy as np
import pytest

import pmq.model.engine as engine
from pmq.errors import EngineError
from pmq.model.engine import Profiles, ScenarioHazards, simulate, step

A, N = 60, 4
FLOWS = ("departures", "young_entrants", "net_mobility", "other_recruits")


def _inputs(cells=(3, 5), seed=0, by_year=False):
    rng = np.random.default_rng(seed)
    E0 = rng.uniform(0, 100, cells + (A,))
    E0[..., 0, 0, :] = 0.0                                             # an empty cell, with no flows
    h = rng.uniform(0, 0.1, ((N,) if by_year else ()) + cells + (A,))
    h[..., -1] = 1.0
    nc = rng.normal(0, 200, (N,) + cells)
    ye = rng.uniform(0, 80, (N,) + cells)
    nm = rng.normal(0, 30, (N,) + cells)
    for v in (nc, ye, nm):
        v[..., 0, 0] = 0.0
    ye[0, ..., 1, 2] = 2000.0  # steep outflows: negative other recruits the proportional removal cannot take
    nc[0, ..., 1, 2] = -400.0
    return E0, h, nc, ye, nm


def _step_by_step(E0, h, nc, ye, nm, prof, by_year=False):
    """The unblocked kernel, one fresh step a year."""
    out = {k: [] for k in ("employment", *FLOWS)}
    E = E0
    out["employment"].append(E0)
    for t in range(nc.shape[0]):
        r = step(E, h[t] if by_year else h, nc[t], ye[t], nm[t], prof)
        for k in FLOWS:
            out[k].append(r[k])
        E = r["employment"]
        out["employment"].append(E)
    return {k: np.stack(v) for k, v in out.items()}


def _assert_same(res, ref):
    for k, v in ref.items():
        assert res[k].shape == v.shape, k
        np.testing.assert_array_equal(res[k], v, err_msg=k)


@pytest.mark.parametrize("block", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("by_year", [False, True])
def test_every_block_size_gives_the_unblocked_step_bit_for_bit(monkeypatch, block, by_year):
    E0, h, nc, ye, nm = _inputs(by_year=by_year)
    prof = Profiles.from_spec()
    monkeypatch.setattr(engine, "FULL_BLOCK_CELLS", block)
    res = simulate(E0, h, nc, ye, nm, prof, record="full", hazard_by_year=by_year)
    _assert_same(res, _step_by_step(E0, h, nc, ye, nm, prof, by_year))
    assert (res["employment"] >= -1e-9).all() and (res["employment"][..., 0, 0, :] == 0).all()
    totals = simulate(E0, h, nc, ye, nm, prof, record="totals", hazard_by_year=by_year)
    np.testing.assert_array_equal(res["employment"], totals["employment"])


@pytest.mark.parametrize("block", [1, 4, 1000])
def test_scenarios_with_their_own_profiles_and_hazards_by_year(monkeypatch, block):
    """Several scenarios run together (:func:`pmq.project_many`): profiles by scenario, hazards read one year
    at a time, one of them by year."""
    E0, h, nc, ye, nm = _inputs(cells=(2, 3, 4))
    specs = [Profiles.from_spec(), Profiles(*(np.roll(p, 3) for p in (Profiles.from_spec().young,
                                                                       Profiles.from_spec().recruits,
                                                                       Profiles.from_spec().mobility,
                                                                       Profiles.from_spec().removal)))]
    prof = Profiles(*(np.stack([getattr(s, f)[None, None, :] for s in specs])
                      for f in ("young", "recruits", "mobility", "removal")))
    h_year = np.stack([h[1]] * N) * np.linspace(1.0, 0.5, N)[:, None, None, None]
    h_year[..., -1] = 1.0
    hz = ScenarioHazards((h[0], h_year), (False, True), N)
    monkeypatch.setattr(engine, "FULL_BLOCK_CELLS", block)
    res = simulate(E0[0], hz, nc, ye, nm, prof, record="full", hazard_by_year=True)
    ref = _step_by_step(np.broadcast_to(E0[0], (2, 3, 4, A)), np.asarray(hz), nc, ye, nm, prof, by_year=True)
    _assert_same(res, ref)


def test_an_infeasible_outflow_names_every_failing_cell_of_the_year(monkeypatch):
    E0, h, nc, ye, nm = _inputs()
    for cell in ((0, 0), (2, 4)):                                      # two cells, far apart (other blocks)
        E0[cell] = 0.0
        ye[(slice(None), *cell)] = 30.0
        nc[(slice(None), *cell)] = 0.0
        nm[(slice(None), *cell)] = 0.0
    prof = Profiles.from_spec()
    errors = []
    for block in (1, 1000):
        monkeypatch.setattr(engine, "FULL_BLOCK_CELLS", block)
        with pytest.raises(EngineError) as info:
            simulate(E0, h, nc, ye, nm, prof, record="full")
        errors.append(info.value)
    for e in errors:
        assert e.cells == [(0, 0), (2, 4)] and e.step == 0 and e.no_stock == [True, True]
    assert str(errors[0]) == str(errors[1])


@pytest.mark.parametrize("by_year", [False, True])
def test_the_default_block_size_gives_the_same_bits(monkeypatch, by_year):
    E0, h, nc, ye, nm = _inputs(cells=(7, 11), by_year=by_year)
    prof = Profiles.from_spec()
    monkeypatch.setattr(engine, "FULL_BLOCK_CELLS", None)
    monkeypatch.setattr(engine, "_CACHE_SHARE", 0.05)                # small blocks: several of them, a short last
    monkeypatch.setattr(engine, "_MIN_BLOCK_VALUES", 1)
    assert 1 < engine._block_cells(77, A) < 77
    res = simulate(E0, h, nc, ye, nm, prof, record="full", hazard_by_year=by_year)
    _assert_same(res, _step_by_step(E0, h, nc, ye, nm, prof, by_year))


def test_default_blocks_are_even_and_sized_from_the_cache(monkeypatch):
    monkeypatch.setattr(engine, "FULL_BLOCK_CELLS", None)
    assert engine._cache_bytes() > 0
    monkeypatch.setattr(engine, "_cache_bytes", lambda *a, **k: 1 << 20)
    per_block = max(int(engine._CACHE_SHARE * (1 << 20)) // (8 * 60 * engine._BLOCK_ARRAYS),
                    engine._MIN_BLOCK_VALUES // 60)
    for n in (1, 50, per_block, per_block + 1, 10 * per_block + 3, 107_900):
        kb = engine._block_cells(n, 60)
        n_blocks = -(-n // kb)
        assert 1 <= kb <= max(per_block, 1) and kb <= n
        assert n - (n_blocks - 1) * kb > kb - n_blocks               # the last block about as long as the others
    assert engine._block_cells(10, 60) == 10                          # a small run is one block
    monkeypatch.setattr(engine, "_cache_bytes", lambda *a, **k: 1 << 10)      # a tiny cache: blocks of the floor
    floor = engine._MIN_BLOCK_VALUES // 60
    assert engine._block_cells(107_900, 60) == -(-107_900 // -(-107_900 // floor))   # the floor, evened out
    assert floor * 0.99 < engine._block_cells(107_900, 60) <= floor
    monkeypatch.setattr(engine, "FULL_BLOCK_CELLS", 4)
    assert engine._block_cells(10, 60) == 4 and engine._block_cells(3, 60) == 3


def test_the_record_leaves_numpys_huge_page_switch_as_it_was(monkeypatch):
    monkeypatch.setattr(engine, "FULL_RECORD_HUGE_PAGES", False)       # the record allocated without the advice
    core = getattr(np, "_core", None) or np.core
    switch = core.multiarray._set_madvise_hugepage
    E0, h, nc, ye, nm = _inputs()
    original = switch(True)
    try:
        for state in (True, False):
            switch(state)
            simulate(E0, h, nc, ye, nm, Profiles.from_spec(), record="full")
            assert switch(state) is state
    finally:
        switch(original)
    rec = engine._record_empty((5, 3, 4))
    assert rec.shape == (5, 3, 4) and rec.dtype == np.float64 and rec.flags.c_contiguous
