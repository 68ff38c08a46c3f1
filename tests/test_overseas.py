"""The five overseas régions as estimated territories (issue 18): their inputs are labelled estimated, and every
metropolitan figure is exactly the one of the run without them."""
import numpy as np
import pytest

import pmq
from pmq.cli import main
from pmq.data.territories import dom_employment
from pmq.inputs.downscale import downscale
from pmq.inputs.overseas import DOM_DEPARTEMENT, with_overseas
from pmq.projection.indicators import national, select

METIERS = ["A0Z", "B2Z", "J3Z", "T2A", "V0Z"]


@pytest.fixture(scope="module")
def small(baseline):
    return select(baseline, metier=METIERS)


@pytest.fixture(scope="module")
def small_dom(small):
    return with_overseas(small)


def _metropolitan_identical(without, with_dom, rtol: float = 0.0):
    for v in without.data_vars:
        mine = with_dom[v].sel(territory=without.territory.values).values
        if rtol:
            np.testing.assert_allclose(mine, without[v].values, rtol=rtol, err_msg=v)
        else:
            np.testing.assert_array_equal(mine, without[v].values, err_msg=v)


@pytest.mark.background
@pytest.mark.parametrize("scenario", ["reference", "retraites_2023"])
def test_metropolitan_figures_are_bit_for_bit_those_without_the_dom(baseline, scenario):
    without = pmq.project(baseline, scenario, horizon=20).accounts
    with_dom = pmq.project(pmq.load_baseline(dom=True), scenario, horizon=20).accounts
    assert with_dom.sizes["territory"] == 18
    _metropolitan_identical(without, with_dom)


def test_the_dom_inputs_are_the_documented_estimates(small, small_dom):
    dom = small_dom.sel(territory=list(DOM_DEPARTEMENT))
    table = dom_employment().pivot_table(index="region", columns="metier", values="employment")
    np.testing.assert_allclose(dom["employment"].sum("age").transpose("territory", "metier").values,
                               table.loc[list(DOM_DEPARTEMENT), METIERS].to_numpy(), rtol=1e-12)
    # the métier's metropolitan age structure and flow rates
    metro = small["employment"].sum("territory")
    shape = metro / metro.sum("age")
    np.testing.assert_allclose((dom["employment"] / dom["employment"].sum("age")).sel(territory="04").values,
                               shape.values, rtol=1e-12)
    rate = small["published_net_creation"].sum("territory") / metro.sum("age")
    np.testing.assert_allclose((dom["published_net_creation"] / dom["employment"].sum("age")).sel(territory="03")
                               .values, rate.values, rtol=1e-12)
    assert (dom["published_net_mobility"].values == 0).all()
    assert dom["mobility_closed"].values.all() and not small_dom["mobility_closed"].values[:13].any()
    assert "DOM régions" in small_dom.attrs["estimated"] and small_dom.attrs["overseas"].startswith("estimated")
    names = dict(zip(small_dom.territory.values, small_dom["territory_name"].values))
    assert names["04"] == "La Réunion" and names["06"] == "Mayotte"


def test_the_dom_have_no_net_mobility_and_scenario_levers_naming_regions_leave_them_alone(small, small_dom,
                                                                                          tmp_path):
    f = tmp_path / "l.toml"
    f.write_text('[scenario]\nname = "l"\ntitle_fr = "l"\ntitle_en = "l"\nextends = "reference"\n'
                 '[[demand.adjust]]\nid = "dev"\nkind = "deviation"\nterritory = ["Bretagne"]\nmetier = ["B2Z"]\n'
                 'anchors = {2025 = 500}\nassumption = "test"\n'
                 '[[demand.adjust]]\nid = "g"\nkind = "growth"\ndomain = ["V"]\nrate = 0.02\nperiod = [2021, 2028]\n'
                 'assumption = "test"\n', encoding="utf-8")
    without = pmq.project(small, f, horizon=25).accounts
    with_dom = pmq.project(small_dom, f, horizon=25).accounts
    # a deviation in persons sums the selected cells over (territory, métier): with five more (unselected, zero)
    # territories numpy adds in another order, so equal to rounding (measured 5e-16), not bit for bit
    _metropolitan_identical(without, with_dom, rtol=1e-12)
    mob = with_dom["net_mobility"].sel(territory=list(DOM_DEPARTEMENT)).isel(year=slice(0, -1))
    assert (mob.values == 0).all()


def test_departements_with_the_dom_add_up_and_the_total_says_france_with_estimated_dom(small_dom):
    deps = downscale(small_dom, "departement")
    assert deps.sizes["territory"] == 101 and set(DOM_DEPARTEMENT.values()) <= set(deps.territory.values)
    assert deps["mobility_closed"].sel(territory="974").item() and not deps["mobility_closed"].sel(territory="13")
    d = pmq.project(deps, horizon=12).accounts
    r = pmq.project(small_dom, horizon=12).accounts
    summed = d["openings"].groupby(d["region"].rename("_r")).sum(skipna=False).rename(_r="territory")
    np.testing.assert_allclose(summed.sel(territory=r.territory.values).transpose(*r["openings"].dims).values,
                               r["openings"].values, rtol=1e-9)
    assert national(d)[1] == "France (DOM estimés compris)" and national(r)[0] == "FR"


def test_cli_dom(tmp_path, capsys):
    out = tmp_path / "dom"
    assert main(["run", "reference", "--dom", "--horizon", "2", "--out", str(out)]) == 0
    import xarray as xr
    with xr.open_dataset(out / "accounts.nc") as ds:
        assert ds.sizes["territory"] == 18 and ds.attrs["overseas"].startswith("estimated")
    capsys.readouterr()
    data = tmp_path / "data"
    data.mkdir()
    assert main(["run", "reference", "--dom", "--data", str(data), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "--dom" in err and "Traceback" not in err and not (tmp_path / "x").exists()


def test_estimated_territories_are_never_reliable_and_the_total_says_so(small_dom):
    deps = downscale(small_dom, "departement")
    rel = deps["reliability"].sel(territory=list(DOM_DEPARTEMENT.values()))
    assert (rel.values >= 1).all()
    from pmq.analysis.imbalance import imbalance_table
    t = imbalance_table(pmq.project(small_dom, horizon=11))
    assert set(t.loc[t["territory"] == "FR", "territory_name"]) == {"France (DOM estimés compris)"}
