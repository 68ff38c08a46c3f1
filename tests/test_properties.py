"""Hypothesis property tests of the engine's accounting identities, including the file's extremes."""
import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import pmq
from pmq.demography import AGES, logistic_hazard, shift_exit_age, tilt
from pmq.testing import assert_accounts
from conftest import make_baseline

H_NAT = logistic_hazard(AGES, 65.0, 2.9, 1.0, 0.0025)


@st.composite
def baselines(draw):
    nt = draw(st.integers(1, 3))
    nm = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shape = rng.gamma(2.0, 1.0, size=(nm, len(AGES)))
    shape[:, rng.random(len(AGES)) < 0.1] = 0.0  # some empty ages
    theta = draw(st.floats(-3, 4))  # old pyramids reach the file's 68 % departures
    total = rng.lognormal(8, 1.5, size=(nt, nm))
    E = tilt(shape[None], theta, total)
    offset = draw(st.floats(-3, 3))
    h = shift_exit_age(H_NAT, np.full(nm, offset))
    # Flow shares of base employment over 11 years, within the file's range and beyond.
    creation = draw(st.floats(-0.6, 0.55))
    young = draw(st.floats(0.0, 0.9))  # young entrants > openings: other recruits down to −60 %
    mob = rng.uniform(-0.1, 0.1, size=(nt, nm)) * total
    mob = mob - total * mob.sum(0, keepdims=True) / total.sum(0, keepdims=True)  # zero sum
    N = total * rng.uniform(creation - 0.05, creation + 0.05, size=(nt, nm)).clip(-0.6, 0.55)
    Y = total * young * rng.uniform(0.5, 1.0, size=(nt, nm))
    return make_baseline(E, h, N, Y, mob)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(b=baselines(), horizon=st.integers(1, 25))
def test_identities_hold_in_every_cell_and_year(b, horizon):
    proj = pmq.project(b, "reference", horizon=horizon)
    assert_accounts(proj.accounts)


@settings(max_examples=30, deadline=None)
@given(b=baselines())
def test_departures_never_exceed_stock_and_top_age_exits(b):
    acc = pmq.project(b, "reference", horizon=12).accounts
    E = acc["employment"].values[:-1]
    D = acc["departures"].values[:-1]
    assert (D <= E + 1e-9).all()
    np.testing.assert_array_equal(D[..., -1], E[..., -1])  # forced exit at the top age


@settings(max_examples=30, deadline=None)
@given(b=baselines(), horizon=st.integers(12, 25))
def test_mobility_zero_sum_after_the_period(b, horizon):
    acc = pmq.project(b, "reference", horizon=horizon).accounts
    s = acc["net_mobility"].sum(["territory", "age"]).values[:-1]
    np.testing.assert_allclose(s, 0.0, atol=1e-6 * max(1.0, float(acc["employment"].sum("age").max())))


def test_identities_on_the_embedded_baseline(reference_20):
    assert_accounts(reference_20.accounts)


def test_assert_accounts_detects_a_broken_identity(reference_2030):
    acc = reference_2030.accounts.copy(deep=True)
    acc["departures"][3, 0, 0, 40] += 1.0
    try:
        assert_accounts(acc)
    except AssertionError:
        return
    raise AssertionError("assert_accounts missed a broken identity")


def test_short_horizon_is_a_prefix_of_the_long_one(baseline, reference_20):
    short = pmq.project(baseline, "reference", horizon=5).accounts
    long = reference_20.accounts.sel(year=slice(2019, 2024))
    np.testing.assert_allclose(short["employment"].values, long["employment"].values, rtol=1e-12)


def _period_shares(b):
    acc = pmq.project(b, "reference", horizon=11).accounts
    e0 = acc["employment"].isel(year=0).sum("age")
    s = acc[["openings", "other_recruits", "departures"]].sum("year")
    return (s["openings"].values, (s["other_recruits"].sum("age") / e0).values,
            (s["departures"].sum("age") / e0).values)


@pytest.mark.parametrize("name,cond", [
    ("negative openings", lambda o, r, d: (o < 0).any()),
    ("imbalance below −60 % of employment", lambda o, r, d: (r < -0.6).any()),
    ("departures above 68 % of employment", lambda o, r, d: (d > 0.68).any()),
])
def test_strategy_reaches_the_file_extremes(name, cond):
    """The strategy above covers the published extremes (so the properties are tested there)."""
    found = find(baselines(), lambda b: cond(*_period_shares(b)),
                 settings=settings(max_examples=2000, deadline=None, database=None))
    assert cond(*_period_shares(found)), name


def test_simulate_totals_record_matches_full(baseline):
    from pmq.engine import Profiles, simulate
    from pmq.projection import input_paths
    from pmq.scenario import Rules

    E0 = baseline["employment"].values
    h = baseline["hazard"].values[None]
    _, nc, y, m = input_paths(E0.sum(-1), baseline["published_net_creation"].values,
                              baseline["published_young_entrants"].values,
                              baseline["published_net_mobility"].values, 11, 14, Rules())
    full = simulate(E0, h, nc, y, m, Profiles.from_spec(), record="full")
    tot = simulate(E0, h, nc, y, m, Profiles.from_spec(), record="totals")
    dep = simulate(E0, h, nc, y, m, Profiles.from_spec(), record="departures")
    np.testing.assert_array_equal(tot["employment"], full["employment"])
    for k in ("departures", "young_entrants", "net_mobility", "other_recruits"):
        np.testing.assert_allclose(tot[k], full[k].sum(-1), rtol=1e-13)
    np.testing.assert_allclose(dep["departures"], full["departures"].sum(-1), rtol=1e-13)
