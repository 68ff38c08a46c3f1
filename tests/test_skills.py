"""Issue 19, compétences: the bridge métier → FAP-225 → ROME 4.0 fiches shipped in ``pmq/data/skills/`` and the
skills demand read from a projection (:mod:`pmq.analysis.skills`) — additive totals equal to the openings in
every territory and scenario, coverage, the green lens under ADEME S3 vs the reference, French labels, honest
attrs, bad input named; docs/skills.md's example runs; and, when ``../shared/data`` is beside the repository,
``python -m pmq.estimation.skills --check`` rebuilds the shipped tables."""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pmq
from pmq.analysis import skills as K
from pmq.data import data_path, metiers
from pmq.data import skills as S
from pmq.errors import ArgumentError, InputError
from pmq.estimation import skills as build

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = list(metiers().query("in_exercise == 'yes'")["code"])


@pytest.fixture(scope="module")
def proj2(baseline):
    return pmq.project_many(["reference", "ademe_s3"], baseline, horizon=11)


def _openings(proj, by_territory=True):
    o = proj.accounts["openings"].sum(["year", "metier"])
    return o.to_series() if by_territory else o.sum("territory").to_series()


# --------------------------------------------------------------------------------------------- the shipped data
def test_shipped_tables_are_compact_and_the_bridge_sums_to_one():
    sizes = {p.name: p.stat().st_size for p in data_path("skills").glob("*.csv")}
    assert set(sizes) == set(build.FILES)
    assert sum(sizes.values()) < 2_000_000
    assert (data_path("skills") / "SOURCE.md").is_file()
    b = S.bridge()
    assert set(b["metier"]) == set(metiers()["code"])                 # the 83 and the 8 FAP-87 of user data
    assert (b["weight"] >= 0).all()
    assert np.allclose(b.groupby("metier")["weight"].sum(), 1.0, rtol=0, atol=1e-12)
    assert set(b["basis"]) == set(S.BASES)
    assert (b.loc[b["basis"] == "aucun", "fiche"] == "").all() and (b.loc[b["basis"] != "aucun", "fiche"] != "").all()
    fiches = S.fiches()
    assert set(b.loc[b["fiche"] != "", "fiche"]) <= set(fiches["fiche"])
    parent = dict(zip(fiches["fiche"], fiches["rome"]))
    reached = b[b["fiche"] != ""]
    assert (reached["fiche"].map(parent) == reached["rome"]).all()    # a fiche hangs from its ROME V3 code
    f = S.fap225()
    assert len(f) == 225 and set(f["metier"]) == set(EXERCISE)
    assert f.loc[f["fap225"] == "X0Z00", "basis"].item() == "aucun"
    assert set(f.loc[f["basis"] == "appellation", "fap225"]) == set(build.APPELLATIONS)
    # special codes: merged families, T2A/T2B, XK_
    by = b.groupby("metier")["fap225"].apply(lambda s: sorted(set(s)))
    assert by["D0A"] == ["D0Z20", "D3Z20"] and by["T2A"] == ["T2A60"] and by["XK_"] == ["K0Z20", "K0Z40", "X0Z00",
                                                                                          "X0Z01"]
    mf = S.metier_fiche()
    assert not mf.duplicated(["metier", "fiche"]).any()
    assert np.allclose(mf.groupby("metier")["weight"].sum(), 1.0, atol=1e-12)


def test_fiche_contents_are_consistent():
    fm, mc = S.fiche_macro(), S.macro_competences()
    assert len(mc) == 507 and (mc["categorie"] == "Savoir-faire").sum() == 491
    assert set(fm["macro"]) <= set(mc["macro"]) and set(fm["coeur"]) <= {"P", "E", ""}
    assert set(fm["fiche"]) == set(S.fiches()["fiche"])
    assert set(S.fiche_savoir()["savoir_categorie"]) <= set(S.savoir_categories()["code"])
    gd = S.green_digital()
    assert ((gd["transition_eco"] == "O") | (gd["transition_num"] == "O")).all()
    assert set(S.fiche_green_digital()["item"]) == set(gd["item"])
    assert set(S.fiches()["transition_eco"]) == set(S.TRANSITION_ECO)
    assert set(S.fiches()["transition_num"]) <= set(S.TRANSITION_NUM)


def test_coverage_of_employment_and_openings(reference_2030):
    c = S.coverage()
    assert np.allclose(c[["dares", "appellation", "famille", "aucun"]].sum(axis=1), 1.0)
    cov = K.skills_coverage(reference_2030)
    assert cov.attrs["share_openings_reached"] >= 0.95
    assert cov.attrs["share_openings_reached"] == pytest.approx(0.9992, abs=5e-4)
    assert cov.attrs["metiers_below_95"] == ["XK_"]                    # the politicians of X0Z00
    assert set(cov["metier"]) == set(EXERCISE)
    direct = (cov["openings"] * cov["share_dares"]).sum() / cov["openings"].sum()
    assert direct == pytest.approx(0.959, abs=2e-3)
    assert np.allclose(cov["openings_reached"], cov["openings"] * cov["share_reached"])
    alone = K.skills_coverage()
    assert alone.attrs["share_employment_reached"] == pytest.approx(0.9989, abs=5e-4)
    one = K.skills_demand(reference_2030, by="savoir_sous_categorie")              # one scenario: no scenario column
    assert "scenario" not in one and "difference" not in one
    assert one["openings"].sum() == pytest.approx(float(reference_2030.accounts["openings"].sum()), rel=1e-10)
    assert one.attrs["share_reached"] == pytest.approx(cov.attrs["share_openings_reached"], rel=1e-12)


# --------------------------------------------------------------------------------------------- additive totals
@pytest.mark.parametrize("by", list(K.BY))
def test_additive_totals_equal_openings_in_every_territory_and_scenario(proj2, by):
    d = K.skills_demand(proj2, by=by, by_territory=True)
    tot = d.groupby(["scenario", "territory"])["openings"].sum()
    ref = _openings(proj2)
    assert len(tot) == len(ref) == 26
    np.testing.assert_allclose(tot.reindex(ref.index).to_numpy(), ref.to_numpy(), rtol=1e-10)
    assert np.allclose(d.groupby(["scenario", "territory"])["share"].sum(), 1.0, rtol=1e-10)
    assert (d["openings_core"].abs() <= d["openings"].abs() + 1e-6).all()   # openings < 0 where a métier shrinks
    assert d.attrs["view"] == "additive" and d.attrs["by"] == by and d.attrs["period"] == "2019–2030"


def test_additive_employment_and_windows(proj2):
    d = K.skills_demand(proj2, by="macro_competence", variable="employment_end", horizon=5, territory=["11", "93"])
    emp = proj2.accounts["employment"].sel(year=2024, territory=["11", "93"]).sum(["age", "metier", "territory"])
    np.testing.assert_allclose(d.groupby("scenario", sort=False)["employment_end"].sum().to_numpy(), emp.values,
                               rtol=1e-10)
    assert set(d["territory"]) == {"11+93"} and d.attrs["period"] == "2019–2024"


def test_reach_view_is_not_additive_and_bounds_the_additive_one(proj2):
    add = K.skills_demand(proj2, by="macro_competence").set_index(["scenario", "code"])
    reach = K.skills_demand(proj2, by="macro_competence", view="reach").set_index(["scenario", "code"])
    common = reach.index.intersection(add.index)
    assert (reach.loc[common, "openings"] >= add.loc[common, "openings"] - 1e-6).all()
    assert (reach["share"] <= 1 + 1e-12).all() and (reach["openings_core"] <= reach["openings"] + 1e-6).all()
    assert (reach["openings"] > 0).all()                                 # national totals: every métier opens
    total = _openings(proj2, by_territory=False)["reference"]
    assert reach.loc["reference", "openings"].sum() > 5 * total          # a job requires many macro-compétences
    assert reach.attrs["view"] == "reach" and "not additive" in reach.attrs["rule"]


def test_one_metier_and_user_weights_rule(proj2):
    d = K.skills_demand(proj2, by="fiche", metier="S1Z", top=3)
    assert len(d) == 6 and d.groupby("scenario").size().tolist() == [3, 3]
    w = K.skill_weights("macro_competence", core_weight=1.0)
    assert np.allclose(w.groupby("metier")["weight"].sum(), 1.0)
    w2 = K.skill_weights("macro_competence")
    assert not np.allclose(w.set_index(["metier", "code"])["weight"].sort_index(),
                           w2.set_index(["metier", "code"])["weight"].sort_index())
    r = K.skill_weights("macro_competence", "reach")
    assert r["weight"].between(0, 1 + 1e-12).all()


# --------------------------------------------------------------------------------------------- green lens
def test_more_green_openings_under_ademe_s3_than_the_reference(proj2):
    g = K.green_jobs(proj2, by_territory=True)
    assert list(pd.unique(g["code"])) == ["vert", "strategique", "brun", "blanc", "non_rattache"]
    vert = g[g["code"] == "vert"].pivot(index="territory", columns="scenario", values="openings")
    assert (vert["ademe_s3"] > vert["reference"]).all()                  # every région
    nat = K.green_jobs(proj2)
    ref = _openings(proj2, by_territory=False)
    for sc in ("reference", "ademe_s3"):
        assert nat.loc[nat["scenario"] == sc, "openings"].sum() == pytest.approx(ref[sc], rel=1e-10)
        emp = float(proj2.accounts["employment"].sel(scenario=sc, year=2030).sum())
        assert nat.loc[nat["scenario"] == sc, "employment_end"].sum() == pytest.approx(emp, rel=1e-10)
    row = nat[(nat["scenario"] == "ademe_s3") & (nat["code"] == "vert")].iloc[0]
    assert row["openings_difference"] > 0 and row["label"] == "Emploi vert"
    num = K.green_jobs(proj2, lens="transition_num")
    assert list(pd.unique(num["code"])) == ["oui", "non", "non_renseigne", "non_rattache"]


def test_green_and_digital_skills_most_demanded(proj2):
    g = K.green_skills(proj2, top=10)
    assert g.groupby("scenario").size().tolist() == [10, 10]
    ref = g[g["scenario"] == "reference"]
    assert ref["openings"].is_monotonic_decreasing
    macros = S.macro_competences().set_index("macro")
    items = S.green_digital().set_index("item")
    for kind, code in zip(g["kind"], g["code"]):
        flag = macros.at[code, "transition_eco"] if kind == "macro_competence" else items.at[code, "transition_eco"]
        assert flag == "O"
    s = K.green_skills(proj2, lens="transition_num", kind="savoir", top=None)
    assert set(s["kind"]) == {"savoir"} and (s["share"] <= 1).all()
    assert (g.loc[g["scenario"] == "ademe_s3", "difference"] > 0).all()


# --------------------------------------------------------------------------------------------- labels, attrs
def test_french_labels_by_default_english_on_request(proj2):
    d = K.skills_demand(proj2, by="transition_eco", territory="93")
    assert "Emploi vert" in set(d["label"]) and d["territory_name"].iloc[0] == "Provence-Alpes-Côte d'Azur"
    assert d.attrs["column_labels"]["openings"] == "Postes à pourvoir"
    assert "Postes à pourvoir" in K.labelled(d).columns
    assert any("pas dans quelle mesure" in n for n in d.attrs["notes"])
    notes = " ".join(d.attrs["notes"])
    assert "2024–2025" in notes and "2019" in notes and "2009" in notes
    assert any("Licence Ouverte" in s for s in d.attrs["sources"])
    en = K.skills_demand(proj2, by="transition_eco", lang="en")
    assert "Green job" in set(en["label"]) and en["territory_name"].iloc[0] == "Metropolitan France"
    assert en.attrs["column_labels"]["openings"] == "Job openings"
    assert any("not how much" in n for n in en.attrs["notes"])
    assert "Job openings" in K.labelled(d, lang="en").columns
    with pmq.set_options(lang="en"):
        assert "Green job" in set(K.green_jobs(proj2)["label"])


# --------------------------------------------------------------------------------------------- bad input
def test_a_users_bridge_reproduces_pmqs_and_bad_bridges_are_named(proj2, tmp_path):
    mf = S.metier_fiche()
    mf = mf[mf["metier"].isin(EXERCISE)]
    path = tmp_path / "pont.csv"
    mf.to_csv(path, index=False, float_format="%.17g")
    mine = K.skills_demand(proj2, by="savoir_categorie", bridge=path)
    theirs = K.skills_demand(proj2, by="savoir_categorie")
    np.testing.assert_allclose(mine["openings"], theirs["openings"], rtol=1e-9)
    assert mine.attrs["bridge"] == "pont.csv"

    def bad(df, match, column=None):
        p = tmp_path / "mauvais.csv"
        df.to_csv(p, index=False)
        with pytest.raises(InputError, match=match) as e:
            K.read_bridge(p)
        assert "mauvais.csv" in str(e.value)
        if column:
            assert e.value.column == column
        return str(e.value)

    bad(mf.drop(columns="weight"), r"colonne\(s\) obligatoire\(s\) absente\(s\) : weight pour", "weight")
    msg = bad(pd.concat([mf, mf.head(1)]), "lignes en double", "metier, fiche")
    assert "A0Z" in msg
    msg = bad(mf.assign(weight=mf["weight"] * np.where(mf["metier"] == "B1Z", 1.5, 1.0)), "n'ont pas pour somme 1",
              "weight")
    assert "B1Z" in msg and "1.5" in msg
    assert "ZZ9" in bad(mf.assign(metier=mf["metier"].replace({"A0Z": "ZZ9"})), r"code\(s\) de métier inconnu",
                        "metier")
    assert "X9999" in bad(mf.assign(fiche=mf["fiche"].replace({"A1101": "X9999"})),
                          r"code\(s\) de fiche ROME 4\.0 inconnu", "fiche")
    bad(mf.assign(weight=-mf["weight"]), "négatifs", "weight")
    bad(mf.assign(weight="beaucoup"), "valeur non numérique", "weight")
    # a projection whose métiers a bridge does not cover
    part = mf[mf["metier"] != "T2A"]
    with pytest.raises(InputError, match="sans ligne dans la table de passage") as e:
        K.skills_demand(proj2, bridge=K.read_bridge(part))
    assert "T2A" in str(e.value)


def test_bad_arguments_are_named(proj2):
    with pytest.raises(ArgumentError, match="by"):
        K.skills_demand(proj2, by="competences")
    with pytest.raises(ArgumentError, match="view"):
        K.skills_demand(proj2, view="both")
    with pytest.raises(ArgumentError, match="variable"):
        K.skills_demand(proj2, variable="imbalance")
    with pytest.raises(ArgumentError, match="lens"):
        K.green_jobs(proj2, lens="vert")
    with pytest.raises(ArgumentError, match="lang"):
        K.skills_demand(proj2, lang="de")
    with pytest.raises(InputError, match="métier"):
        K.skills_demand(proj2, metier="Z9Z")
    with pytest.raises(InputError, match="2045"):
        K.skills_demand(proj2, end_year=2045)
    # user data whose métier codes pmq does not know, without a bridge
    acc = proj2.accounts.assign_coords(metier=[("Q9Z" if m == "A0Z" else m) for m in proj2.accounts.metier.values])
    with pytest.raises(InputError, match="Q9Z"):
        K.skills_demand(acc)


# --------------------------------------------------------------------------------------------- levels, docs, build
@pytest.mark.background
def test_departement_level_adds_up_to_the_regional_tables(baseline):
    dep = pmq.project(pmq.load_baseline(level="departement"), "reference", horizon=3)
    reg = pmq.project(baseline, "reference", horizon=3)
    d = K.skills_demand(dep, by="macro_competence", by_territory=True)
    ref = _openings(dep)
    tot = d.groupby("territory")["openings"].sum()
    assert len(tot) >= 96
    np.testing.assert_allclose(tot.reindex(ref.index).to_numpy(), ref.to_numpy(), rtol=1e-10)
    nat_dep = K.skills_demand(dep, by="macro_competence").set_index("code")["openings"]
    nat_reg = K.skills_demand(reg, by="macro_competence").set_index("code")["openings"]
    np.testing.assert_allclose(nat_dep.reindex(nat_reg.index).to_numpy(), nat_reg.to_numpy(), rtol=1e-9)
    g = K.green_jobs(dep, territory="13")
    assert g["territory_name"].iloc[0] == "Bouches-du-Rhône" and g["openings"].sum() > 0


@pytest.mark.background
def test_docs_example_runs_as_written(capsys):
    text = (ROOT / "docs" / "skills.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 2
    ns: dict = {}
    for code in blocks:
        exec(compile(code, "docs/skills.md", "exec"), ns)
    out = capsys.readouterr().out
    assert "Respecter les règles de Qualité" in out and "Label (ROME, in French)" in out
    assert ns["couverture"].attrs["metiers_below_95"] == ["XK_"]
    verts = ns["verts"]
    v = verts[verts["code"] == "vert"].set_index("scenario")["openings"]
    assert v["ademe_s3"] > v["reference"]
    assert set(ns["top"]["kind"]) <= {"macro_competence", "competence", "savoir"}
    # the figures the page quotes
    assert "99,9 %" in text and "95,9 %" in text and "+5 200" in text
    assert round(float(verts.loc[verts["code"] == "vert", "openings_difference"].iloc[1]), -2) == 5200
    assert abs(ns["ref"]["openings"].sum() / ns["postes"] - 1) < 1e-10
    # the passerelles prior (second block): an estimate; in Bretagne the mobility flows sum to 0 over the métiers
    assert "prior, not data" in out and "net_occupational_mobility" in out
    net = ns["h"]["net_occupational_mobility"].sel(period="2019–2030", territory="53")
    assert float(abs(net.sum("metier")).max()) < 1e-6 * float(abs(net).max())


@pytest.mark.background
@pytest.mark.skipif(build.locate_shared() is None, reason="../shared/data absent (a clean clone)")
def test_check_rebuild_agrees_with_the_shipped_files():
    assert build.main(["--check"]) == 0
