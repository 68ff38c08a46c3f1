"""Typed core objects (issue 16): the engine's inputs as one dataclass, the horizon as a run
parameter (not part of the scenario's hash), and what a scenario says read through its methods."""
import dataclasses
import json

import numpy as np
import pytest

import pmq
from pmq.errors import ArgumentError
from pmq.model.engine import EngineInputs, Profiles, simulate
from pmq.projection.run import scenario_inputs
from pmq.scenario import EXIT_SECTIONS, read_scenario


def _small_inputs(n=3):
    E0 = np.full((2, 60), 10.0)
    h = np.full((2, 60), 0.02)
    h[:, -1] = 1.0
    z = np.zeros((n, 2))
    return EngineInputs(employment0=E0, hazard=h, net_creation=z + 1.0, young_entrants=z + 2.0,
                        net_mobility=z, profiles=Profiles.from_spec())


def test_engine_inputs_is_frozen_and_reads_like_the_old_dict():
    inp = _small_inputs()
    assert inp.n_years == 3 and not inp.hazard_by_year
    with pytest.raises(dataclasses.FrozenInstanceError):
        inp.hazard = None
    assert inp["net_creation"] is inp.net_creation and "profiles" in inp
    assert set(inp.keys()) >= {"employment0", "hazard", "hazard_by_year", "net_creation", "young_entrants",
                               "net_mobility", "profiles", "employment", "employment_trend"}
    with pytest.raises(KeyError):
        inp["values"]


def test_simulate_takes_engine_inputs_or_the_arrays_the_same():
    inp = _small_inputs()
    a = simulate(inp, record="full")
    b = simulate(inp.employment0, inp.hazard, inp.net_creation, inp.young_entrants, inp.net_mobility,
                 inp.profiles, record="full")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    with pytest.raises(ArgumentError, match="pas les deux"):
        simulate(inp, inp.hazard)
    with pytest.raises(ArgumentError, match="hazard"):
        simulate(inp.employment0)


def test_scenario_inputs_returns_engine_inputs(baseline):
    sc = read_scenario("retraites_2023").with_horizon(6)
    inp = scenario_inputs(baseline, sc)
    assert isinstance(inp, EngineInputs) and inp.hazard_by_year and inp.n_years == 6
    T, M, A = (baseline.sizes[d] for d in ("territory", "metier", "age"))
    assert inp.employment0.shape == (T, M, A) and inp.hazard.shape == (6, T, M, A)
    assert inp.employment.shape == inp.employment_trend.shape == (7, T, M)
    np.testing.assert_array_equal(inp.net_creation, np.diff(inp.employment, axis=0))
    # the projection's accounts are the engine's run of these inputs
    res = simulate(inp, record="full")
    acc = pmq.project(baseline, sc).accounts
    np.testing.assert_array_equal(acc["employment"].values, res["employment"])


def test_the_horizon_does_not_change_the_hash(baseline):
    sc = read_scenario("reference")
    s11, s20 = sc.with_horizon(11), sc.with_horizon(20)
    assert s11.hash == s20.hash == sc.hash
    assert s11.resolved == sc.resolved and s11.declared_horizon == sc.declared_horizon == 20
    assert (s11.horizon, s20.horizon) == (11, 20)
    a11 = pmq.project(baseline, "reference", horizon=11).accounts
    a3 = pmq.project(baseline, "reference", horizon=3).accounts
    assert a11.attrs["scenario_hash"] == a3.attrs["scenario_hash"] == sc.hash
    assert (a11.attrs["horizon_years"], a3.attrs["horizon_years"]) == (11, 3)
    assert json.loads(a3.attrs["scenario_resolved"])["horizons"].get("run", 20) == 20   # the file's
    # the file's own content still changes the hash
    assert read_scenario("retraites_2023").hash != sc.hash


def test_the_declared_horizon_is_part_of_the_file(tmp_path):
    p = tmp_path / "short.toml"
    p.write_text('[scenario]\nextends = "reference"\nname = "short"\n[horizons]\nrun = 11\nassumption = "test"\n', encoding="utf-8")
    q = tmp_path / "long.toml"
    q.write_text('[scenario]\nextends = "reference"\nname = "short"\n[horizons]\nrun = 20\nassumption = "test"\n', encoding="utf-8")
    short, long = read_scenario(p), read_scenario(q)
    assert short.horizon == short.declared_horizon == 11
    assert short.hash != long.hash                     # two files that say different things
    assert short.with_horizon(20).hash == short.hash   # one file, two runs


def test_scenario_settings_through_methods(tmp_path):
    ref = read_scenario("reference")
    assert ref.exit_schedule == "baseline" and ref.trend_model == "published" and ref.trend_years == 15
    assert not ref.has_exit_levers and ref.exit_levers() == () and ref.uncertain_parameters() == ()
    ret = read_scenario("retraites_2023")
    assert ret.has_exit_levers
    assert ret.exit_levers() == tuple(lv for s in EXIT_SECTIONS for lv in ret.lever_list(s))
    low = read_scenario("bas_carbone_dares2023")
    assert low.demand_levers() == low.lever_list("demand.adjust") and low.demand_levers()
    assert read_scenario("reference_incertain").uncertain_parameters()
    p = tmp_path / "est.toml"
    p.write_text('[scenario]\nextends = "reference"\nname = "est"\n[exits]\nschedule = "estimated"\n'
                 'assumption = "test"\n[demand]\ntrend = "damped"\ntrend_years = 12\nassumption = "test"\n'
                 '[uncertainty]\nseed = 7\nassumption = "test"\n', encoding="utf-8")
    est = read_scenario(p)
    assert (est.exit_schedule, est.trend_model, est.trend_years, est.uncertainty_seed) == ("estimated", "damped",
                                                                                            12, 7)


def test_provenance_of_a_lever():
    from pmq.scenario import Provenance, lever_status
    low = read_scenario("bas_carbone_dares2023")
    for lv in low.demand_levers():
        p = Provenance.of(lv)
        assert p.status == lever_status(lv) and p.said == (lv.get("source") or lv.get("assumption"))
    assert Provenance(assumption="a").status == "assumed"
    assert Provenance(source="s", weights_assumption="w").status == "split_assumed"
    assert Provenance(source="s", weights_assumption="w").split == "w"
    assert Provenance(source="s").status == "sourced" and Provenance(source="s").split == ""
