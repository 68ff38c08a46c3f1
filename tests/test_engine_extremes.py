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
    from pmq.scenario import Rules, read_scenario

    sc = read_scenario("reference")
    flat = replace(sc, rules=Rules(demand_continuation="constant_level"))
    acc = pmq.project(baseline, flat, horizon=15).accounts
    tot = acc["employment"].sum(["territory", "metier", "age"]).values
    np.testing.assert_allclose(tot[11:], tot[11], rtol=1e-12)
    assert_accounts(acc)
    damped = replace(sc, rules=Rules(demand_continuation="damped_growth", mobility_continuation="constant_level"))
    assert_accounts(pmq.project(baseline, damped, horizon=15).accounts)
