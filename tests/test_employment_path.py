"""The employment path the plausibility check compares (``pmq.projection.prepare.employment_path``: the trend and the
demand levers only, what ``pmq compare`` and ``pmq run`` check each scenario with before projecting) is the
engine's employment input, bit for bit, for every built-in scenario and for a shorter horizon; the check itself
finds the same moves."""
import numpy as np
import pytest

from pmq.analysis.sources import plausibility_check
from pmq.cli import main
from pmq.projection import prepare
from pmq.projection.prepare import employment_path, scenario_inputs
from pmq.scenario.read import builtin_scenarios, read_scenario


@pytest.mark.filterwarnings("ignore::pmq.errors.InactiveLeverWarning")   # levers past a 5-year horizon
@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_the_employment_path_is_the_engines_employment_input(baseline, name):
    for sc in (read_scenario(name), read_scenario(name).with_horizon(5)):
        got = employment_path(baseline, sc)
        want = scenario_inputs(baseline, sc).employment
        assert got.shape == want.shape == (sc.horizon + 1, baseline.sizes["territory"], baseline.sizes["metier"])
        assert got.tobytes() == want.tobytes()


def test_the_plausibility_check_measures_the_moves_of_the_engines_employment(baseline):
    sc = read_scenario("ademe_s1")
    pc = plausibility_check(sc, baseline).set_index("metier")
    e_s = scenario_inputs(baseline, sc).employment.sum(1)
    e_r = scenario_inputs(baseline, read_scenario("reference").with_horizon(sc.horizon)).employment.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(e_s - e_r) / e_r
    codes = [str(m) for m in baseline.metier.values]
    np.testing.assert_allclose(pc.loc[codes, "max_relative_deviation"].to_numpy(), np.nanmax(rel, axis=0),
                               rtol=0, atol=0)
    assert rel.max() > 0                                # the scenario moves some métier: the check is not vacuous


@pytest.fixture
def made(monkeypatch):
    """The names of the scenarios whose trend and employment paths are made, in order."""
    names = []
    real = prepare._make_demand_paths
    monkeypatch.setattr(prepare, "_make_demand_paths", lambda b, sc, *a: names.append(sc.name) or real(b, sc, *a))
    return names


def test_inside_shared_paths_a_scenarios_paths_are_made_once_and_each_caller_gets_the_same_numbers(baseline, made):
    sc = read_scenario("ademe_s1")
    plain = scenario_inputs(baseline, sc)
    with prepare.shared_paths():
        path = employment_path(baseline, sc)
        path[:] = -1.0                                   # a caller's copy: changing it changes nothing shared
        inputs = scenario_inputs(baseline, sc)
        again = scenario_inputs(baseline, read_scenario("ademe_s1"))      # read again: an equal scenario
        scenario_inputs(baseline, sc.with_horizon(5))                    # another horizon: its own paths
    assert made == ["ademe_s1"] * 3            # the plain run, the shared paths (made once), the shorter horizon
    for got in (inputs, again):
        for k in ("employment", "employment_trend", "net_creation", "young_entrants", "net_mobility"):
            assert getattr(got, k).tobytes() == getattr(plain, k).tobytes(), k
    scenario_inputs(baseline, sc)                        # outside the block: made again
    assert len(made) == 4


def test_pmq_compare_makes_each_scenarios_paths_once(made, tmp_path, capsys):
    assert main(["compare", "reference", "ademe_s1", "--horizon", "11", "--out", str(tmp_path / "c")]) == 0
    # ademe_s1 checked against the reference (both paths), then both projected: each made once
    assert sorted(made) == ["ademe_s1", "reference"]
    assert (tmp_path / "c" / "compare_domains.csv").exists()
