"""The file's extreme rows, one by one, through the engine."""
import numpy as np

import pmq
from pmq.testing import assert_accounts


def test_negative_other_recruits_never_make_negative_ages(reference_20):
    acc = reference_20.accounts
    cell = acc.sel(territory="11", metier="A3Z")  # young entrants far above openings in IDF
    rec = cell["other_recruits"].sum("age").values[:-1]
    emp0 = float(cell["employment"].sel(year=2019).sum())
    assert rec[:11].sum() / emp0 < -0.5
    assert float(cell["employment"].min()) >= -1e-9


def test_negative_openings_cells(reference_2030):
    h = reference_2030.horizons(horizons=[11], years=[]).isel(period=0)
    for t, m in (("11", "L1Z"), ("11", "A3Z"), ("11", "Q1Z"), ("28", "C0Z")):
        assert float(h["openings"].sel(territory=t, metier=m)) < 0


def test_ageing_changes_departures_after_2030(reference_20):
    d = reference_20.accounts["departures"].sum(["territory", "metier", "age"]).values[:-1]
    # Departures respond to the ageing pyramid: not constant across years.
    assert np.std(d) / np.mean(d) > 0.005


def test_continuation_rules(baseline):
    from dataclasses import replace
    from pmq.model.rules import Rules
    from pmq.scenario import read_scenario

    sc = read_scenario("reference")
    flat = replace(sc, rules=Rules(demand_continuation="constant_level"))
    proj = pmq.project(baseline, flat, horizon=15)
    tot = proj.accounts["employment"].sum(["territory", "metier", "age"]).values
    np.testing.assert_allclose(tot[11:], tot[11], rtol=1e-12)
    assert_accounts(proj)
    damped = replace(sc, rules=Rules(demand_continuation="damped_growth", mobility_continuation="constant_level"))
    assert_accounts(pmq.project(baseline, damped, horizon=15))


# ------------------------------------------------------------------ empty cells in the engine
def _engine_inputs(n_years=3):
    from pmq.model.ages import AGES, logistic_hazard
    from pmq.model.engine import Profiles
    h = logistic_hazard(AGES, 65.0, 2.9, 1.0, 0.0025)
    E0 = np.zeros((2, len(AGES)))
    E0[0, 10:40] = 50.0                       # cell 0: 1,500 workers; cell 1: empty
    z = np.zeros((n_years, 2))
    return E0, h, z, Profiles.from_spec()


def test_engine_keeps_an_empty_cell_at_exactly_zero_in_every_record_mode():
    from pmq.model.engine import simulate
    E0, h, z, prof = _engine_inputs()
    nc = z.copy()
    nc[:, 0] = 20.0
    full = simulate(E0, h, nc, z + [5.0, 0.0], z, prof, record="full")
    for k, v in full.items():
        assert np.isfinite(v).all(), k
        assert (v[:, 1] == 0).all(), k       # the empty cell: stock and every flow exactly 0
    for mode in ("totals", "cells"):
        res = simulate(E0, h, nc, z + [5.0, 0.0], z, prof, record=mode)
        for k, v in res.items():
            assert np.isfinite(v).all() and (v[:, 1] == 0).all(), (mode, k)
    grow = simulate(E0, h, z + [0.0, 30.0], z + [0.0, 10.0], z, prof, record="full")  # inflows into it
    np.testing.assert_allclose(grow["employment"][:, 1].sum(-1), [0.0, 30.0, 60.0, 90.0], rtol=1e-12)
    assert (grow["employment"] >= 0).all()


def test_engine_error_on_outflows_from_an_empty_cell_says_which_cell_year_and_values():
    import pytest
    from pmq.model.engine import simulate
    from pmq.errors import EngineError, PmqError
    E0, h, z, prof = _engine_inputs()
    ye = z.copy()
    ye[1:, 1] = 7.0                          # entrants into the empty cell from the second year, no jobs
    with pytest.raises(EngineError) as info:
        simulate(E0, h, z, ye, z, prof)
    err = info.value
    assert isinstance(err, PmqError)
    assert err.cells == [(1,)] and err.step == 1 and err.no_stock == [True]
    assert err.stock == [0.0] and err.outflow == pytest.approx([7.0])
    assert str(err).startswith("pas annuel 1") and "il ne reste aucun actif" in str(err)
    ye = z.copy()
    ye[:, 0] = 1600.0                        # entrants push out more workers than the cell holds
    with pytest.raises(EngineError) as info:
        simulate(E0, h, z, ye, z, prof)
    assert info.value.cells == [(0,)] and info.value.no_stock == [False] and info.value.step == 0
    assert 1400 < info.value.left[0] < 1500 and info.value.outflow[0] > 1500
    assert "actifs après les départs de l'année" in str(info.value)
    E0[1, 5] = 0.5                           # less than one worker left is still some: said as such, not « aucun »
    ye = z.copy()
    ye[0, 1] = 3.0
    with pytest.raises(EngineError) as info:
        simulate(E0, h, z, ye, z, prof)
    assert info.value.cells == [(1,)] and info.value.no_stock == [False] and 0.49 < info.value.left[0] <= 0.5
    assert "il ne reste que 0.5 actifs" in str(info.value)


def test_steep_outflows_empty_the_ages_the_weights_favour_and_keep_the_totals():
    """An outflow the proportional removal cannot take (it would leave young ages below zero) is
    taken with each age capped at its survivors, the rest spread over the others (docs/engine.md)."""
    from pmq.model.engine import _Kernel, _age_first, simulate
    E0, h, z, prof = _engine_inputs()
    for out in (1400.0, 1480.0):             # 1,500 workers at 25–54; default removal weights 1 → 0.3
        ye = z.copy()
        ye[:, 0] = out
        k = _Kernel(prof, 2)
        X = _age_first(E0, 2)
        S = np.zeros_like(X)
        S[1:] = X[:-1] * (1 - _age_first(h, 2)[:-1])
        B = S * k.rm
        assert (S[:, 0] - B[:, 0] * out / B[:, 0].sum() < -1e-9).any()  # proportional removal: ages < 0
        res = simulate(E0, h, z, ye, z, prof, record="full")
        acc_e = res["employment"]
        assert (acc_e >= -1e-12).all()
        np.testing.assert_allclose(acc_e[1:].sum(-1), acc_e[:-1].sum(-1), rtol=1e-12)  # net creation 0
        inflow = res["young_entrants"] + res["net_mobility"] + res["other_recruits"]
        np.testing.assert_allclose(acc_e[1:, :, 1:], acc_e[:-1, :, :-1] - res["departures"][:, :, :-1]
                                   + inflow[:, :, 1:], atol=1e-9)
        np.testing.assert_allclose(res["other_recruits"][0, 0].sum(), -(out - res["departures"][0, 0].sum()),
                                   rtol=1e-12)
        removed = S[:, 0] - (acc_e[1, 0] - res["young_entrants"][0, 0])  # what left each age
        young_ages = (S[:, 0] > 0) & (k.rm[:, 0] == k.rm.max())
        np.testing.assert_allclose(removed[young_ages], S[young_ages, 0], atol=1e-9)  # emptied first


def test_compare_names_the_failing_cell_and_scenario_index():
    import pandas as pd
    import pytest
    from pmq.projection.compare import project_many
    from pmq.model.ages import AGES
    from pmq.errors import InputError

    emp = pd.DataFrame([{"territory": t, "metier": "T4Z", "age": int(a), "employment": e, "territory_name": n}
                        for t, n, e in (("84", "Rhône", 10.0), ("13", "Bouches-du-Rhône", 0.0)) for a in AGES])
    haz = pd.DataFrame({"metier": "T4Z", "age": AGES, "hazard": np.where(AGES == AGES[-1], 1.0, 0.01)})
    flo = pd.DataFrame({"territory": ["84", "13"], "metier": "T4Z", "period_start": 2021, "period_end": 2031,
                        "net_creation": [10.0, 0.0], "young_entrants": [5.0, 33.0], "net_mobility": 0.0})
    b = pmq.load_user_baseline(emp, haz, flo)
    with pytest.raises(InputError, match="n'ont plus aucun actif en 2021") as info:
        project_many(["reference", "reference_incertain"], b, horizon=5)
    rows = info.value.rows
    assert rows[["scenario", "territory", "territory_name", "metier"]].values.tolist() == [
        [0, "13", "Bouches-du-Rhône", "T4Z"], [1, "13", "Bouches-du-Rhône", "T4Z"]]
    assert rows["young_entrants_period"].tolist() == [33.0, 33.0]
