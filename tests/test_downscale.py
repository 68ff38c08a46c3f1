"""Territories below the région: a baseline split by a downscaling key projects into accounts whose children add
up to their parent exactly — every stock, flow, age and year, in every scenario (issue 18)."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pmq
from pmq.cli import main
from pmq.errors import ArgumentError, InputError
from pmq.inputs.downscale import RELIABILITY, check_key, downscale, read_key, reliability_classes
from pmq.projection.indicators import select

VARIABLES = ("employment", "departures", "young_entrants", "net_mobility", "other_recruits", "net_creation",
             "openings", "imbalance")
#: a few métiers keep the projections small; mobility sums to zero over territories métier by métier, so any
#: subset of métiers is a valid baseline
METIERS = ["A0Z", "B2Z", "J3Z", "T2A", "V0Z"]


def _by_parent(acc, coord: str = "parent", variables=VARIABLES):
    """Children's accounts summed to their parent (territory = the parent code), NaN kept (np.add.at: xarray's
    groupby loops over the groups, slow with 500 zones)."""
    import xarray as xr
    parents, idx = np.unique(acc[coord].values.astype(str), return_inverse=True)
    out = {}
    for v in variables:
        a = acc[v].transpose("territory", ...)
        total = np.zeros((len(parents),) + a.shape[1:])
        np.add.at(total, idx, a.values)
        out[v] = xr.DataArray(total, dims=a.dims, coords={"territory": parents,
                                                         **{d: a[d].values for d in a.dims[1:] if d in a.coords}})
    return xr.Dataset(out)


def assert_adds_up(children, parents, rtol: float = 1e-9) -> None:
    summed = _by_parent(children)
    for v in VARIABLES:
        p = parents[v].transpose("territory", ...)
        c = summed[v].sel(territory=p.territory.values).transpose(*p.dims)
        scale = max(1.0, float(np.nanmax(np.abs(p.values))))
        np.testing.assert_allclose(c.values, p.values, rtol=0, atol=rtol * scale, err_msg=v)
        assert np.isnan(c.values).sum() == np.isnan(p.values).sum(), v       # the NaN final year, nothing else


#: every kind of lever, on the métiers of METIERS (a built-in scenario names others)
LEVERS = """[scenario]
name = "levers"
title_fr = "leviers"
title_en = "levers"
extends = "reference"
[[demand.adjust]]
id = "dev"
kind = "deviation"
metier = ["B2Z", "J3Z"]
territory = ["Bretagne", "Occitanie"]
anchors = {2024 = 2000, 2030 = -1500}
assumption = "test"
[[demand.adjust]]
id = "growth"
kind = "growth"
domain = ["V"]
rate = 0.02
period = [2021, 2028]
assumption = "test"
[[young_entrants.adjust]]
id = "young"
metier = ["A0Z"]
factor = 1.3
from_year = 2022
assumption = "test"
[[exits.shift]]
id = "later"
years = 1.5
from_year = 2023
full_year = 2027
assumption = "test"
"""


@pytest.fixture(scope="module")
def levers_file(tmp_path_factory):
    f = tmp_path_factory.mktemp("levers") / "levers.toml"
    f.write_text(LEVERS, encoding="utf-8")
    return f


@pytest.fixture(scope="module")
def small(baseline):
    return select(baseline, metier=METIERS)


@pytest.fixture(scope="module")
def departements(small):
    return downscale(small, "departement")


@pytest.mark.parametrize("scenario", ["reference", "levers", "retraites_2023"])
def test_departements_add_up_to_their_region_in_every_variable_and_year(small, departements, scenario,
                                                                         levers_file):
    scenario = levers_file if scenario == "levers" else scenario
    regions = pmq.project(small, scenario, horizon=20).accounts
    deps = pmq.project(departements, scenario, horizon=20).accounts
    assert deps.sizes["territory"] == 96 and set(deps["region"].values) == set(regions.territory.values)
    assert_adds_up(deps, regions)


def test_zones_d_emploi_add_up_to_their_departement(departements):
    zones = downscale(departements, "zone_emploi")
    assert zones.sizes["territory"] >= 280 and {"region", "departement", "parent"} <= set(zones.coords)
    assert (zones["departement"].values == zones["parent"].values).all()
    z = pmq.project(zones, horizon=12).accounts
    d = pmq.project(departements, horizon=12).accounts
    assert_adds_up(z, d)
    # and their régions, through the département
    r = _by_parent(z, "region", ["employment"])["employment"]
    rd = _by_parent(d, "region", ["employment"])["employment"]
    np.testing.assert_allclose(r.values, rd.sel(territory=r.territory.values).values, rtol=1e-9)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), zero_share=st.floats(0.0, 0.4))
def test_any_key_adds_up(small, levers_file, seed, zero_share):
    """Random keys: 1–4 children per parent, random weights, some cells of weight 0 (a child without the métier)."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in small.territory.values:
        n = int(rng.integers(1, 5))
        for m in METIERS:
            w = rng.random(n) * (rng.random(n) >= zero_share)
            if w.sum() == 0:
                w[0] = 1.0
            rows += [(str(p), f"{p}-{i}", m, x) for i, x in enumerate(w / w.sum())]
    key = pd.DataFrame(rows, columns=["parent", "child", "metier", "weight"])
    down = downscale(small, key, level="custom")
    acc = pmq.project(down, levers_file, horizon=15).accounts
    assert_adds_up(acc, pmq.project(small, levers_file, horizon=15).accounts)


def test_the_split_is_labelled_and_each_cell_has_a_reliability_class(departements):
    acc = pmq.project(departements, horizon=5).accounts
    assert acc.attrs["level"] == "departement" and "departement split" in acc.attrs["estimated_inputs"]
    assert "SOURCE.md" in acc.attrs["key_source"]
    rel = acc["reliability"]
    assert rel.dims == ("territory", "metier") and set(np.unique(rel.values)) <= set(RELIABILITY)
    emp = departements["employment"].sum("age").transpose("territory", "metier").values
    basis = departements["key_basis"].transpose("territory", "metier").values
    assert (rel.values[emp < 1_000] == 2).all()
    assert (rel.values[(emp >= 10_000) & (basis == "emploi_moyen_fap87")] == 0).all()
    assert (rel.values[(emp >= 10_000) & (basis == "fallback_all_metiers")] == 1).all()   # a proxy split: caution
    np.testing.assert_array_equal(reliability_classes([999.0, 1_000.0, 9_999.0, 10_000.0]), [2, 1, 1, 0])
    # names and parents: Bouches-du-Rhône is 13, in Provence-Alpes-Côte d'Azur (93); Aude 11 is not the région 11
    names = dict(zip(acc.territory.values, acc["territory_name"].values))
    assert names["13"] == "Bouches-du-Rhône" and names["11"] == "Aude"
    assert str(acc["region"].sel(territory="13").values) == "93"


def test_a_lever_that_names_a_region_acts_on_its_departements(small, departements, tmp_path):
    f = tmp_path / "lever.toml"
    f.write_text('[scenario]\nname = "t"\ntitle_fr = "t"\ntitle_en = "t"\nextends = "reference"\n'
                 '[[demand.adjust]]\nid = "x"\nkind = "deviation"\nterritory = ["Normandie", "Bouches-du-Rhône"]\n'
                 'metier = ["B2Z"]\nanchors = {2025 = 1000}\nassumption = "test"\n', encoding="utf-8")
    lever = pmq.project(departements, f, horizon=8).accounts
    ref = pmq.project(departements, "reference", horizon=8).accounts
    dev = (lever["employment"] - ref["employment"]).sum("age").sel(year=2025, metier="B2Z")
    by_region = dev.groupby(dev["region"].rename("_r")).sum().to_series()
    assert by_region.sum() == pytest.approx(1000.0, rel=1e-9)
    assert set(by_region[by_region.abs() > 1e-9].index) == {"28", "93"}        # Normandie and PACA only
    moved = dev.where(dev["region"] == "93", drop=True)
    assert float(moved.sel(territory="13")) == pytest.approx(float(moved.sum()), rel=1e-9)   # only the 13 in PACA


def _key(rows):
    return pd.DataFrame(rows, columns=["parent", "child", "metier", "weight"])


@pytest.mark.parametrize("rows, column, words", [
    ([("11", "a", "all", 0.5), ("11", "b", "all", 0.6)], "weight", "pour somme 1"),
    ([("11", "a", "all", -0.5), ("11", "b", "all", 1.5)], "weight", "≥ 0"),
    ([("11", "a", "all", 1.0), ("24", "a", "all", 1.0)], "child", "un seul parent"),
    ([("11", "a", "A0Z", 1.0), ("11", "a", "A0Z", 1.0)], "parent, child, metier", "deux fois"),
])
def test_a_bad_key_is_refused_naming_the_column(rows, column, words):
    with pytest.raises(InputError, match=words) as exc:
        check_key(_key(rows), source="ma_cle.csv", metiers=["A0Z"])
    assert exc.value.column == column and "ma_cle.csv" in str(exc.value)


def test_a_key_splits_some_territories_and_the_others_stay_as_they_are(small):
    down = downscale(small, _key([("93", "93-ouest", "all", 0.4), ("93", "93-est", "all", 0.6)]))
    assert down.sizes["territory"] == 14 and "13" not in down.territory.values
    names = dict(zip(down.territory.values, down["territory_name"].values))
    assert names["28"] == "Normandie" and names["93-est"] == "93-est"
    np.testing.assert_array_equal(down["employment"].sel(territory="28").values,
                                  small["employment"].sel(territory="28").values)
    assert (down["key_basis"].sel(territory="28").values == "not_split").all()
    with pytest.raises(InputError, match="code d'un territoire que la clé ne répartit pas"):
        downscale(small, _key([("93", "28", "all", 1.0)]))


def test_a_key_must_split_every_metier_of_its_territories(small):
    rows = [(str(p), f"{p}x", "A0Z", 1.0) for p in small.territory.values]
    with pytest.raises(InputError, match="chaque métier"):
        downscale(small, _key(rows))


def test_a_french_key_file(small, tmp_path):
    f = tmp_path / "cle.csv"
    lines = ["parent;child;metier;weight;child_name"]
    for p in small.territory.values:
        lines += [f"{p};{p}-n;all;0,25;Nord de {p}", f"{p};{p}-s;all;0,75;Sud de {p}"]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    key = read_key(f, metiers=METIERS)
    down = downscale(small, key, level="bassin")
    assert down.sizes["territory"] == 26 and down.attrs["level"] == "bassin"
    assert str(down["territory_name"].sel(territory="28-s").values) == "Sud de 28"
    np.testing.assert_allclose(down["employment"].sel(territory="28-s").values,
                               0.75 * small["employment"].sel(territory="28").values, rtol=1e-12)


def test_load_baseline_by_level():
    assert pmq.load_baseline("departement").sizes["territory"] == 96
    with pytest.raises(ArgumentError, match="level"):
        pmq.load_baseline("commune")


@pytest.mark.background
def test_cli_level_and_key(tmp_path, capsys):
    out = tmp_path / "dep"
    assert main(["run", "reference", "--level", "departement", "--horizon", "2", "--out", str(out)]) == 0
    import xarray as xr
    with xr.open_dataset(out / "accounts.nc") as ds:
        assert ds.sizes["territory"] == 96 and "region" in ds.coords and "reliability" in ds.coords
    capsys.readouterr()
    assert main(["territories", "--region", "Normandie"]) == 0
    text = capsys.readouterr().out
    assert "Calvados" in text and "5 départements" in text
    with pytest.raises(SystemExit) as exc:                       # argparse: exit 2 naming the option
        main(["run", "reference", "--level", "commune", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2
    assert main(["run", "reference", "--key", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert "--key" in err and "nope.csv" in err and not (tmp_path / "y").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("parent,child,metier,weight\n11,a,all,0.5\n", encoding="utf-8")
    assert main(["run", "reference", "--key", str(bad), "--out", str(tmp_path / "z")]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "weight" in err and "Traceback" not in err and not (tmp_path / "z").exists()


@pytest.mark.background
def test_the_territories_doc_example_runs_and_says_what_it_prints(capsys):
    import re
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "docs" / "territories.md").read_text(encoding="utf-8")
    code = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    exec(compile(code, "docs/territories.md", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "Bouches-du-Rhône" in out and "postes à pourvoir" in out
    gap = float(re.search(r"écart relatif à la région : ([0-9.e+-]+)", out).group(1))
    assert gap < 1e-9
    assert "departement — pmq shipped key" in out


def test_charts_name_the_departement_and_say_its_split_is_estimated(departements):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    proj = pmq.project(departements, horizon=5)
    ax = proj.plot.waterfall(territory="Bouches-du-Rhône")
    texts = " ".join(t.get_text() for t in ax.figure.texts) + ax.get_title(loc="left")
    assert "Bouches-du-Rhône" in texts and "France" not in ax.get_title(loc="left")
    assert "réparti par département par pmq (valeurs estimées" in texts.replace("\n", " ")
    plt.close("all")


def test_cli_compare_at_departement_level_names_the_departement(capsys):
    assert main(["compare", "reference", "--level", "departement", "--territory", "13", "--horizon", "2"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert "Bouches-du-Rhône (13)" in head


def test_the_departements_of_every_region_are_france(departements, small):
    from pmq.projection.indicators import national
    acc = pmq.project(departements, horizon=2).accounts
    assert national(acc)[1] == "France métropolitaine"
    one_region = pmq.select(acc, territory=["14", "27", "50", "61", "76"])          # Normandie's départements only
    assert national(one_region)[0] == "ALL"
    custom = downscale(small, _key([(str(p), f"{p}x", "all", 1.0) for p in small.territory.values]))
    assert national(pmq.project(custom, horizon=2).accounts)[0] == "ALL"   # a user's key: pmq does not vouch for it


@pytest.mark.background
def test_cli_key_splits_the_territories_of_the_level_and_level_refuses_other_data(tmp_path, capsys):
    key = tmp_path / "cle_13.csv"
    key.write_text("parent;child;metier;weight;child_name\n13;13-ouest;all;0,4;Ouest\n13;13-est;all;0,6;Est\n",
                   encoding="utf-8")
    out = tmp_path / "k"
    assert main(["run", "reference", "--level", "departement", "--key", str(key), "--horizon", "2",
                 "--out", str(out)]) == 0
    import xarray as xr
    with xr.open_dataset(out / "accounts.nc") as ds:
        assert ds.sizes["territory"] == 97 and {"13-ouest", "13-est"} <= set(ds.territory.values)
        assert "13" not in ds.territory.values and str(ds["region"].sel(territory="13-est").values) == "93"
    data = tmp_path / "data"
    data.mkdir()
    templates = Path(pmq.__file__).parent / "data" / "templates"
    for f in templates.glob("*.csv"):
        (data / f.name).write_bytes(f.read_bytes())
    capsys.readouterr()
    assert main(["run", "reference", "--level", "departement", "--data", str(data), "--out", str(tmp_path / "z")]) == 2
    err = capsys.readouterr().err
    assert "--level" in err and "--key" in err and "Traceback" not in err and not (tmp_path / "z").exists()


def test_territories_lists_in_french_and_in_english(capsys):
    assert main(["territories", "--region", "Corse", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["code", "name", "region"] and out.rstrip().endswith("2 départements")
    assert main(["territories", "--region", "Corse"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["code", "nom", "région"]
