"""The check that is not circular: the figures each built-in scenario claims to reproduce are kept in a
registry apart from the levers (pmq/data/published/figures.toml) and computed from projections; and no
built-in scenario moves a métier further from the reference than a stated bound unless it says why."""
from dataclasses import replace

import pandas as pd
import pytest

from pmq.errors import ScenarioError
from pmq.scenario import builtin_scenarios, read_scenario
from pmq.analysis.sources import plausibility_check, published_check, published_figures

NAMES = list(builtin_scenarios())


#: the check runs in the background process from the start of the session (tests/conftest.py)
PMQ_BACKGROUND = {"published_check": ("checked", ["python:_background_jobs:published_check_default"])}


@pytest.fixture(scope="module")
def checked(baseline, background):
    done = background.value("published_check")
    return done if done is not None else published_check(baseline=baseline)


def test_registry_is_complete_and_well_formed():
    reg = published_figures()
    assert len(reg) >= 20 and reg["url"].str.startswith("http").all()
    assert set(reg["confidence"]) <= {"V", "S", "C"} and reg["quote"].str.len().min() > 20
    # every built-in scenario with sourced demand or exit levers claims at least one published figure
    claimed = set(reg["scenario"])
    for name in NAMES:
        sc = read_scenario(name)
        if any(sc.lever_list(k) for k in ("demand.adjust", "exits.cohort_shift", "exits.shift")):
            assert name in claimed, name
    # a comparison pmq does not reproduce says why
    assert (reg.loc[~reg["reproduced"], "why"].str.len() > 50).all()


def test_every_reproduced_figure_holds(checked):
    rep = checked[checked["reproduced"]]
    assert len(rep) >= 18
    bad = rep[~rep["within"]]
    assert bad.empty, bad[["scenario", "id", "value", "low", "high", "pmq_value"]].to_string()


def test_the_check_measures_the_projection_not_the_lever(checked):
    """The low-carbon total is no lever: the DARES 2023 sector figures add to +199 000, which lands within
    1 % of the +200 000 reported for the Métiers 2030 variant; the reference reproduces « un million »."""
    row = checked.set_index(["scenario", "id"])
    total = row.loc[("bas_carbone_dares2023", "total_2030"), "pmq_value"]
    assert total == pytest.approx(199_000, rel=1e-6)
    assert row.loc[("reference", "un_million_2019_2030"), "pmq_value"] == pytest.approx(1e6, rel=0.1)
    h0z = row.loc[("reindustrialisation", "ingenieurs_plus_de_30_pct"), "pmq_value"]
    assert 0.30 <= h0z < 0.6


def test_pension_comparisons_are_shown_not_claimed(checked):
    """pmq's first-year pension effects are far below the published counts of retirements: the registry
    records them with the reason rather than tuning a lever to them."""
    row = checked.set_index(["scenario", "id"])
    first = row.loc[("retraites_2023", "hcfp_2023")]
    assert not first["reproduced"] and -50_000 < first["pmq_value"] < 0
    susp = row.loc[("retraites_2023_suspendue", "cnav_2026")]
    assert not susp["reproduced"] and 0 < susp["pmq_value"] < 70_000


def test_a_lever_edit_that_drifts_from_its_source_fails(baseline):
    sc = read_scenario("reindustrialisation")
    lever = dict(sc.lever_list("demand.adjust")[0], anchors={"2022": 0, "2035": 700_000})
    drifted = replace(sc, levers={**sc.levers, "demand.adjust": (lever,)})
    out = published_check(drifted, baseline).set_index("id")
    assert not out.loc["emplois_2035", "within"]
    assert out.loc["emplois_2035", "pmq_value"] == pytest.approx(700_000, rel=1e-6)


@pytest.mark.parametrize("text, key", [
    ('[[figure]]\nscenario = "reference"\nid = "a"\nquantity = "jobs"\nyear = 2030\nunit = "p"\n'
     'comparison = "approx"\nvalue = 1\ntolerance = 0.1\nquote = "q"\npublisher = "p"\nurl = "https://x"\n'
     'confidence = "S"\nreproduced = true\n', "figure[a].quantity"),
    ('[[figure]]\nscenario = "nowhere"\nid = "a"\nquantity = "employment_deviation"\nyear = 2030\nunit = "p"\n'
     'comparison = "approx"\nvalue = 1\ntolerance = 0.1\nquote = "q"\npublisher = "p"\nurl = "https://x"\n'
     'confidence = "S"\nreproduced = true\n', "figure[a].scenario"),
    ('[[figure]]\nscenario = "reference"\nid = "a"\nquantity = "employment_deviation"\nyear = 2030\nunit = "p"\n'
     'comparison = "approx"\nvalue = 1\nquote = "q"\npublisher = "p"\nurl = "https://x"\n'
     'confidence = "S"\nreproduced = true\n', "figure[a]"),
    ('[[figure]]\nscenario = "reference"\nid = "a"\nquantity = "employment_deviation"\nyear = 2030\nunit = "p"\n'
     'comparison = "approx"\nvalue = 1\ntolerance = 0.1\nquote = "q"\npublisher = "p"\nurl = "https://x"\n'
     'confidence = "S"\nreproduced = false\n', "figure[a].why"),
])
def test_registry_mistakes_are_named(tmp_path, text, key):
    p = tmp_path / "figures.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        published_figures(p)
    assert exc.value.key == key


# ------------------------------------------------------------------------------ plausibility
@pytest.mark.parametrize("name", [n for n in NAMES if n != "reference"])
def test_no_builtin_scenario_moves_a_metier_beyond_its_bound(baseline, name):
    sc = read_scenario(name)
    pc = plausibility_check(sc, baseline)
    above = pc[pc["above"]]
    assert above.empty, f"{name}: {above.head().to_string()}"
    if sc.max_metier_deviation != 0.25:
        # a raised bound is needed (otherwise the default would do) and explained
        assert pc["max_relative_deviation"].max() > 0.25 and len(sc.max_metier_deviation_reason) > 40


def test_plausibility_catches_bakers_from_reindustrialisation(baseline):
    """The guard would have caught the 0.1 library: +740 000 manufacturing jobs spread by the sector key
    gave bakers and butchers (S0Z) about +68 000."""
    sc = read_scenario("reindustrialisation")
    lever = {k: v for k, v in sc.lever_list("demand.adjust")[0].items()
             if k not in ("weights", "weights_assumption", "weights_source")}
    old = replace(sc, levers={**sc.levers, "demand.adjust": ({**lever, "sector": "manufacturing"},)},
                  max_metier_deviation=0.25, max_metier_deviation_reason="")
    pc = plausibility_check(old, baseline).set_index("metier")
    assert pc.loc["S0Z", "above"] and pc.loc["S0Z", "deviation"] > 60_000
    # under the rebuilt weights, bakers and sellers get nothing
    new = plausibility_check(sc, baseline).set_index("metier")
    assert new.loc["S0Z", "max_relative_deviation"] == 0 and new.loc["R1Z", "max_relative_deviation"] == 0


def test_plausibility_reads_every_year_and_both_directions(baseline):
    pc = plausibility_check("ademe_s1", baseline)
    # a proportional −1.5 M on ≈ 29 M: every métier ≈ −5 % at the end
    assert pc["max_relative_deviation"].between(0.03, 0.08).all()
    assert (pc["deviation"] < 0).all() and (pc["year"] == 2050).all()
    assert isinstance(pc, pd.DataFrame) and not pc["above"].any()


def test_plausibility_ties_are_ordered_by_metier_code(baseline):
    """A proportional scenario moves many métiers by the same share (equal or not to the last bit,
    depending on the machine): the ranking, and the docs pages written from its first row, must not
    depend on that — ties at 1e-12 come in métier order, larger moves first."""
    pc = plausibility_check("ademe_s1", baseline)
    key = list(zip(-pc["max_relative_deviation"].round(12), pc["metier"]))
    assert key == sorted(key)
    assert (pc["max_relative_deviation"].round(12) == pc["max_relative_deviation"].round(12).iloc[0]).sum() > 1
