"""The scenario language's levers: validation, resolution and what each lever does to arrays."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pmq
from pmq.scenario import levers
from pmq.errors import ScenarioError
from pmq.scenario import read_scenario
from pmq.testing import assert_accounts


def write(tmp_path, body, name="s.toml"):
    p = tmp_path / name
    p.write_text(f'[scenario]\nextends = "reference"\nname = "{p.stem}"\n' + body, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def ctx(baseline):
    return levers.Context.from_baseline(baseline)


@pytest.fixture(scope="module")
def trend(baseline):
    sc = read_scenario("reference")
    e0 = baseline["employment"].sum("age").transpose("territory", "metier").values
    emp, *_ = pmq.model.paths.input_paths(
        e0, baseline["published_net_creation"].values, baseline["published_young_entrants"].values,
        baseline["published_net_mobility"].values, 11, 31, sc.rules)
    return emp


@pytest.mark.parametrize("body,key,value", [
    ('[[demand.adjust]]\nid="a"\nkind="growth"\nmetier=["ZZZ"]\nrate=0.01\nperiod=[2020,2025]\nassumption="x"\n',
     "demand.adjust[a].metier", "ZZZ"),
    ('[[demand.adjust]]\nid="a"\nkind="growth"\nmetier=["B2Z"]\nrat=0.01\nperiod=[2020,2025]\nassumption="x"\n',
     "demand.adjust[a].rat", "0.01"),
    ('[[exits.multiplier]]\nid="m"\nfactor=-0.5\nassumption="x"\n', "exits.multiplier[m].factor", "-0.5"),
    ('[[demand.adjust]]\nid="a"\nkind="growth"\nmetier=["B2Z"]\nrate=0.01\nperiod=[2020,2025]\n',
     "demand.adjust[a]", "rate"),
    ('[[demand.adjust]]\nid="a"\nkind="deviation"\nweights={B2Z=0.5, B4Z=0.4}\nanchors={2020=0,2030=10}\nassumption="x"\n',
     "demand.adjust[a].weights", "0.9"),
    ('[[demand.adjust]]\nid="a"\nkind="deviation"\nterritory=["Atlantis"]\nanchors={2020=0,2030=10}\nassumption="x"\n',
     "demand.adjust[a].territory", "Atlantis"),
    ('[[demand.adjust]]\nid="a"\nkind="deviation"\nsector="mining"\nanchors={2020=0,2030=10}\nassumption="x"\n',
     "demand.adjust[a].sector", "mining"),
    ('[[demand.adjust]]\nid="a"\nkind="deviation"\nanchors={twenty=0}\nassumption="x"\n',
     "demand.adjust[a].anchors.twenty", "twenty"),
    ('[[net_mobility.adjust]]\nid="n"\nfactor=2\nterritory=["93"]\nassumption="x"\n',
     "net_mobility.adjust[n].territory", "93"),
    ('[[exits.cohort_shift]]\nid="c"\ncohorts=[1960,1962]\nshift=[1]\nassumption="x"\n',
     "exits.cohort_shift[c].shift", "[1]"),
    ('[[exits.cohort_shift]]\nid="c"\ncohorts=[1962,1960]\nshift=[1,2]\nassumption="x"\n',
     "exits.cohort_shift[c].cohorts", "1962"),
    ('[[demand.adjust]]\nid="a"\nkind="growth"\nrate=0.01\nperiod=[2020,2025]\nassumption="x"\n'
     '[[demand.adjust]]\nid="a"\nkind="growth"\nrate=0.02\nperiod=[2020,2025]\nassumption="x"\n',
     "demand.adjust[a]", "a"),
    ('[exits]\nremove = ["nothing"]\n', "exits.remove", "nothing"),
])
def test_bad_levers_name_file_key_value(tmp_path, body, key, value):
    p = write(tmp_path, body)
    with pytest.raises(ScenarioError) as info:
        read_scenario(p)
    msg = str(info.value)
    assert "s.toml" in msg and key in msg and value in msg, msg


def test_unknown_metier_suggests_closest(tmp_path):
    p = write(tmp_path, '[[demand.adjust]]\nid="a"\nkind="growth"\nmetier=["b2z"]\nrate=0.01\n'
                        'period=[2020,2025]\nassumption="x"\n')
    with pytest.raises(ScenarioError, match="vouliez-vous dire 'B2Z'"):
        read_scenario(p)


def test_growth_lever(tmp_path, baseline, ctx, trend):
    sc = read_scenario(write(tmp_path, '[[demand.adjust]]\nid="g"\nkind="growth"\nmetier=["V1Z"]\n'
                                       'territory=["Bretagne"]\nrate=0.03\nperiod=[2024,2030]\n'
                                       'assumption="test"\n'))
    new = levers.apply_demand(trend, sc.lever_list("demand.adjust"), ctx)
    t, m = ctx.territories.index("53"), ctx.metiers.index("V1Z")
    np.testing.assert_allclose(new[11, t, m], trend[5, t, m] * 1.03 ** 6, rtol=1e-12)
    np.testing.assert_array_equal(new[:6, t, m], trend[:6, t, m])
    # after the period the trend's growth resumes from the new level
    np.testing.assert_allclose(new[15, t, m] / new[11, t, m], trend[15, t, m] / trend[11, t, m], rtol=1e-12)
    other = np.ones(trend.shape, bool)
    other[:, t, m] = False
    np.testing.assert_array_equal(new[other], trend[other])


def test_target_lever(tmp_path, ctx, trend):
    sc = read_scenario(write(tmp_path, '[[demand.adjust]]\nid="t"\nkind="target"\ndomain=["M"]\n'
                                       'value=1500000\nyear=2030\nfrom_year=2022\nassumption="test"\n'))
    new = levers.apply_demand(trend, sc.lever_list("demand.adjust"), ctx)
    sel = np.isin(np.array(ctx.domains), ["M"])
    assert new[11][:, sel].sum() == pytest.approx(1.5e6, rel=1e-12)
    np.testing.assert_array_equal(new[:4], trend[:4])
    ratio = new[11][:, sel] / trend[11][:, sel]
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-12)  # each cell keeps its share


def test_deviation_percent_and_persons(tmp_path, ctx, trend):
    sc = read_scenario(write(tmp_path, '[[demand.adjust]]\nid="p"\nkind="deviation"\nunit="percent"\n'
                                       'metier=["A0Z"]\nanchors={2020=0, 2030=-10}\nafter="proportional"\n'
                                       'assumption="test"\n'
                                       '[[demand.adjust]]\nid="q"\nkind="deviation"\nweights={B2Z=0.25, B4Z=0.75}\n'
                                       'territory=["93","Occitanie"]\nanchors={2021=0, 2031=4000}\nassumption="test"\n'))
    new = levers.apply_demand(trend, sc.lever_list("demand.adjust"), ctx)
    m = ctx.metiers.index("A0Z")
    np.testing.assert_allclose(new[11, :, m], 0.9 * trend[11, :, m], rtol=1e-12)
    np.testing.assert_allclose(new[6, :, m], 0.95 * trend[6, :, m], rtol=1e-12)
    d = new - trend
    b2, b4 = ctx.metiers.index("B2Z"), ctx.metiers.index("B4Z")
    assert d[12, :, b2].sum() == pytest.approx(1000) and d[12, :, b4].sum() == pytest.approx(3000)
    rows = [ctx.territories.index(c) for c in ("93", "76")]
    assert d[12][rows][:, [b2, b4]].sum() == pytest.approx(4000)  # only the selected territories
    assert d[7, :, b4].sum() == pytest.approx(1500)  # 2026: halfway between the anchors
    assert d[25, :, b4].sum() == pytest.approx(3000)  # held after 2031


def test_deviation_to_zero_employment_is_an_error(tmp_path, baseline):
    p = write(tmp_path, '[[demand.adjust]]\nid="crash"\nkind="deviation"\nmetier=["A3Z"]\n'
                        'anchors={2020=0, 2030=-10000000}\nassumption="test"\n')
    with pytest.raises(ScenarioError, match=r"demand.adjust\[crash\].*zéro ou en dessous"):
        pmq.project(baseline, read_scenario(p), horizon=12)


def test_cohort_shift_acts_by_cohort(tmp_path, baseline, ctx):
    sc = read_scenario(write(tmp_path, '[[exits.cohort_shift]]\nid="c"\ncohorts=[1961, 1963]\n'
                                       'shift=[1.0, 2.0]\nfrom_year=2023\nmin_age=60\nmax_age=66\nshare=0.5\n'
                                       'assumption="test"\n'))
    h = baseline["hazard"].transpose("metier", "age").values
    hp = levers.hazard_path(h, sc, ctx, 20)
    ages = list(ctx.ages)
    m = 5
    # 2023 (index 4), age 62: cohort 1961 → shift 1 → 0.5·h(62) + 0.5·h(61)
    a = ages.index(62)
    assert hp[4, 0, m, a] == pytest.approx(0.5 * h[m, a] + 0.5 * h[m, a - 1])
    # 2025, age 62: cohort 1963 → shift 2
    assert hp[6, 0, m, a] == pytest.approx(0.5 * h[m, a] + 0.5 * h[m, a - 2])
    # 2022: before the law; age 62 in 2025 for cohort 1963 but age 67 is outside the window
    np.testing.assert_array_equal(hp[3, 0, m], h[m])
    assert hp[6, 0, m, ages.index(67)] == h[m, ages.index(67)]
    # cohorts born before 1961 are untouched
    assert hp[4, 0, m, ages.index(63)] == h[m, ages.index(63)]
    assert (hp[..., -1] == 1).all()


def test_exit_shift_phase_and_multiplier(tmp_path, baseline, ctx):
    sc = read_scenario(write(tmp_path, '[[exits.shift]]\nid="s"\nyears=2\nfrom_year=2021\nfull_year=2024\n'
                                       'min_age=55\nassumption="test"\n'
                                       '[[exits.multiplier]]\nid="m"\nfactor=1.2\nmin_age=50\nmax_age=54\n'
                                       'domain=["B"]\nfrom_year=2025\nassumption="test"\n'))
    h = baseline["hazard"].transpose("metier", "age").values
    hp = levers.hazard_path(h, sc, ctx, 10)
    ages = list(ctx.ages)
    a = ages.index(60)
    np.testing.assert_array_equal(hp[1, 0, :, a], h[:, a])                       # 2020
    np.testing.assert_array_equal(hp[2, 0, :, a], h[:, a])                       # 2021: s = 0 (from_year)
    np.testing.assert_allclose(hp[3, 0, :, a], h[:, a] / 3 + 2 / 3 * h[:, a - 1])  # 2022: s = 2/3
    np.testing.assert_allclose(hp[5, 0, :, a], h[:, a - 2])                      # 2024: s = 2
    b = [i for i, d in enumerate(ctx.domains) if d == "B"]
    np.testing.assert_allclose(hp[6, 3, b, ages.index(52)], 1.2 * h[b, ages.index(52)])
    np.testing.assert_array_equal(hp[5, 3, b, ages.index(52)], h[b, ages.index(52)])


def test_multiplier_above_one_is_an_error(tmp_path, baseline):
    p = write(tmp_path, '[[exits.multiplier]]\nid="big"\nfactor=50\nmin_age=70\nassumption="test"\n')
    with pytest.raises(ScenarioError, match=r"exits.multiplier\[big\].factor.*au-dessus de 1"):
        pmq.project(baseline, read_scenario(p), horizon=3)


def test_inflow_factors(tmp_path, baseline):
    p = write(tmp_path, '[[young_entrants.adjust]]\nid="y"\nfactor=1.5\nlevel="x"\nassumption="t"\n')
    with pytest.raises(ScenarioError, match="young_entrants.adjust"):
        read_scenario(p)
    p = write(tmp_path, '[[young_entrants.adjust]]\nid="y"\nfactor=1.5\ndomain=["V"]\nfrom_year=2022\n'
                        'assumption="t"\n[[net_mobility.adjust]]\nid="m"\nfactor=0\nassumption="t"\n')
    ref = pmq.project(baseline, "reference", horizon=6).accounts
    proj = pmq.project(baseline, read_scenario(p), horizon=6)
    acc = proj.accounts
    y0 = ref["young_entrants"].sum("age")
    y1 = acc["young_entrants"].sum("age")
    v = acc.domain == "V"
    np.testing.assert_allclose(y1.sel(year=slice(2022, 2024)).where(v, drop=True),
                               1.5 * y0.sel(year=slice(2022, 2024)).where(v, drop=True), rtol=1e-12)
    np.testing.assert_array_equal(y1.sel(year=2021).values, y0.sel(year=2021).values)
    assert float(abs(acc["net_mobility"].sum("age").sel(year=slice(2019, 2024))).max()) == 0.0
    assert_accounts(proj)


def test_extends_replaces_and_removes_levers(tmp_path):
    write(tmp_path, '[[demand.adjust]]\nid="a"\nkind="growth"\nrate=0.01\nperiod=[2020,2025]\nassumption="x"\n'
                    '[[demand.adjust]]\nid="b"\nkind="growth"\nrate=0.02\nperiod=[2020,2025]\nassumption="x"\n',
          name="parent.toml")
    child = tmp_path / "child.toml"
    child.write_text('[scenario]\nextends = "parent.toml"\nname = "child"\n'
                     '[demand]\nremove = ["b"]\n'
                     '[[demand.adjust]]\nid="a"\nkind="growth"\nrate=0.05\nperiod=[2020,2025]\nassumption="y"\n'
                     '[[demand.adjust]]\nid="c"\nkind="growth"\nrate=0.03\nperiod=[2021,2025]\nassumption="z"\n')
    sc = read_scenario(child)
    ids = [(lv["id"], lv["rate"]) for lv in sc.lever_list("demand.adjust")]
    assert ids == [("a", 0.05), ("c", 0.03)]
    parent = read_scenario(tmp_path / "parent.toml")
    assert sc.hash != parent.hash


def test_base_year_mismatch(tmp_path, baseline):
    p = tmp_path / "b.toml"
    p.write_text('[scenario]\nextends = "reference"\nbase_year = 2022\n')
    with pytest.raises(ScenarioError, match="scenario.base_year"):
        pmq.project(baseline, read_scenario(p), horizon=2)


def test_resolved_scenario_and_hash_in_attrs(baseline):
    proj = pmq.project(baseline, "retraites_2023", horizon=5)
    import json
    res = json.loads(proj.accounts.attrs["scenario_resolved"])
    assert res["exits"]["cohort_shift"][0]["id"] == "age_legal"
    assert res["demand"]["spreading"] == "constant_growth"  # inherited from reference
    assert proj.accounts.attrs["scenario_hash"] == read_scenario("retraites_2023").with_horizon(5).hash


@pytest.fixture(scope="module")
def reference_8(baseline):
    """The reference to 2027, the same for every example below (computed once)."""
    return pmq.project(baseline, "reference", horizon=8).accounts


@settings(max_examples=15, deadline=None)
@given(rate=st.floats(-0.05, 0.08), dev=st.floats(-20000, 60000), shift=st.floats(-1.5, 3.0),
       share=st.floats(0, 1), factor=st.floats(0.5, 1.5), yfac=st.floats(0.5, 2.0))
def test_identities_hold_under_any_levers(tmp_path_factory, baseline, reference_8, rate, dev, shift, share, factor,
                                          yfac):
    p = tmp_path_factory.mktemp("h") / "h.toml"
    p.write_text('[scenario]\nextends = "reference"\n'
                 f'[[demand.adjust]]\nid="g"\nkind="growth"\ndomain=["M"]\nrate={rate}\nperiod=[2020,2026]\nassumption="h"\n'
                 f'[[demand.adjust]]\nid="d"\nkind="deviation"\nsector="construction"\nanchors={{2019=0, 2027={dev}}}\nassumption="h"\n'
                 f'[[exits.shift]]\nid="s"\nyears={shift}\nfrom_year=2021\nfull_year=2025\nshare={share}\nassumption="h"\n'
                 f'[[exits.multiplier]]\nid="m"\nfactor={factor}\nmax_age=60\nassumption="h"\n'
                 f'[[young_entrants.adjust]]\nid="y"\nfactor={yfac}\nassumption="h"\n')
    proj = pmq.project(baseline, read_scenario(p), horizon=8)
    assert_accounts(proj)                      # with departures = stock × hazard (exit levers: by year)
    acc = proj.accounts
    ref = reference_8
    # the construction deviation is exactly the anchor in 2027, net of the growth lever on domain M
    sel = acc.domain != "M"
    diff = (acc.employment.sum("age") - ref.employment.sum("age")).where(sel).sum(["territory", "metier"])
    assert float(diff.sel(year=2027)) == pytest.approx(dev, abs=1e-6 * max(1.0, abs(dev)) + 1e-6)
