"""The tables a user reads say, row by row, which figures are estimated and how (issue 18).

Below the région each figure is an estimate (a région split by a share key) and the DOM are estimated
territories: the summary table, the standard tables (xlsx, CSV), the comparison table, the imbalance table, the
watch list and the ensemble outputs carry ``reliability`` (the accounts' class of the cell), its label,
``estimated`` and ``key_basis``, and the file-level provenance (level, key source, estimated DOM) where the format
allows.  A metropolitan run at région level keeps exactly its columns.

Runs are small (a few métiers, 5 years): a subset of métiers is a valid baseline, net mobility summing to zero
over territories métier by métier.
"""
from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

import pmq
from pmq.analysis.imbalance import imbalance_table, watch_list
from pmq.export.tables import read_excel_tables, standard_tables, to_csv, to_excel
from pmq.inputs.downscale import RELIABILITY
from pmq.inputs.overseas import DOM_DEPARTEMENT
from pmq.projection.ensemble import ensemble_files, run_ensemble
from pmq.projection.indicators import FLAG_COLUMNS, territory_table_name

METIERS = ["T2A", "J1Z", "W0Z", "D0A", "A0Z", "S1Z"]
FRENCH = {v[0] for v in RELIABILITY.values()}
ENGLISH = {v[1] for v in RELIABILITY.values()}


@pytest.fixture(scope="module")
def dep():
    """Départements with the estimated DOM, a few métiers, 5 years."""
    return pmq.project(pmq.load_baseline("departement", dom=True).sel(metier=METIERS), "reference", horizon=5)


@pytest.fixture(scope="module")
def reg():
    """The metropolitan régions (published): no labels."""
    return pmq.project(pmq.load_baseline().sel(metier=METIERS), "reference", horizon=5)


@pytest.fixture(scope="module")
def reg_dom():
    """The régions with the estimated DOM (no key, no reliability coordinate in the accounts)."""
    return pmq.project(pmq.load_baseline(dom=True).sel(metier=METIERS), "reference", horizon=5)


def cell_truth(acc) -> pd.DataFrame:
    """The accounts' own labels by territory × métier (what every table must repeat)."""
    rel = acc["reliability"].to_series().rename("rel_acc")
    basis = acc["key_basis"].to_series().rename("basis_acc")
    est_t = acc["estimated_territory"].to_series()
    out = pd.concat([rel, basis], axis=1).reset_index()
    split = ~out["basis_acc"].isin(["not_split", "single_child"])          # a share of its parent: an estimate
    out["est_acc"] = out["territory"].map(est_t).astype(bool) | split | (out["rel_acc"] >= 1)
    return out


def check_cells(table: pd.DataFrame, acc) -> pd.DataFrame:
    """Rows of ``table`` (territory × métier) joined to the accounts' labels, checked equal."""
    cells = table[table["territory"].isin([str(t) for t in acc.territory.values])]
    got = cells.merge(cell_truth(acc), on=["territory", "metier"], how="left", validate="many_to_one")
    assert len(got) == len(cells) and got["rel_acc"].notna().all()
    assert (got["reliability"] == got["rel_acc"]).all()
    assert (got["estimated"] == got["est_acc"]).all()
    assert (got["key_basis"] == got["basis_acc"]).all()
    return got


def test_summary_table_row_by_row(dep):
    acc = dep.accounts
    st = dep.summary_table()
    assert list(st.columns[-4:]) == list(FLAG_COLUMNS)
    got = check_cells(st, acc)
    # an estimated territory (the DOM) is estimated in every row, whatever its class
    dom = got["territory"].isin(list(DOM_DEPARTEMENT.values()))
    assert dom.any() and got.loc[dom, "estimated"].all() and (got.loc[dom, "reliability"] >= 1).all()
    # the label is the class's, in French by default
    assert (got["reliability_label"] == got["reliability"].map(lambda c: RELIABILITY[c][0])).all()
    assert got["estimated"].dtype == bool and got["reliability"].dtype == np.int8
    # the flags add columns only: the figures and the rows are those of the same accounts without the labels
    bare = dep.accounts.drop_vars(["reliability", "estimated_territory", "key_basis"]).pmq.summary_table()
    pd.testing.assert_frame_equal(st[bare.columns], bare)


def test_english_labels_have_no_french(dep):
    st = dep.summary_table(lang="en")
    assert set(st["reliability_label"]) <= ENGLISH and not set(st["reliability_label"]) & FRENCH
    tables = standard_tables(dep, lang="en")
    assert list(tables) == ["departments", "domains", "occupations"]
    for t in tables.values():
        assert set(t["reliability_label"]) <= ENGLISH
    w = watch_list(imbalance_table(dep), n=3, lang="en")       # the table's labels are French: relabelled
    assert len(w) and set(w["reliability_label"]) <= ENGLISH
    readme = [" ".join(map(str, r)) for r in tables["departments"].attrs["pmq_provenance"]]
    assert any(r.startswith("reliability Reliability: 0 reliable") for r in readme)
    assert not any(word in " ".join(readme) for word in FRENCH | {"estimés", "territoire"})


def test_sums_of_cells_are_estimated_if_any_cell_is(dep):
    acc = dep.accounts
    truth = cell_truth(acc)
    any_t = truth.groupby("territory")["est_acc"].any()
    tables = standard_tables(dep)
    terr = tables["departements"]
    rows = terr[terr["territory"] != "FR"].set_index("territory")
    assert (rows["estimated"] == any_t.reindex(rows.index)).all()
    assert (rows.loc[~rows["estimated"], "reliability"] == 0).all()
    # an estimated sum's class is its size's (a département of 50,000 jobs or more is « fiable »), at least 1 for
    # an estimated territory
    dom_rows = rows.index.isin(list(DOM_DEPARTEMENT.values()))
    assert (rows.loc[dom_rows, "reliability"] >= 1).all()
    metro = rows[~dom_rows & rows["estimated"]]
    assert len(metro) and (metro.loc[metro["employment_start"] >= 10_000, "reliability"] == 0).all()
    fr = terr[terr["territory"] == "FR"]
    assert fr["estimated"].all() and (fr["territory_name"] == "France (DOM estimés compris)").all()
    check_cells(tables["metiers"], acc)
    dom = tables["domaines"].merge(
        truth.assign(domain=truth["metier"].map(dict(zip(acc.metier.values, acc["domain"].values))))
        .groupby(["territory", "domain"], as_index=False)["est_acc"].any(), on=["territory", "domain"])
    assert (dom["estimated"] == dom["est_acc"]).all()
    # the imbalance table: cells as the accounts, France estimated if one of its cells is
    imb = imbalance_table(dep)
    check_cells(imb, acc)
    nat = imb[imb["territory"] == "FR"].set_index("metier")
    assert (nat["estimated"] == truth.groupby("metier")["est_acc"].any().reindex(nat.index)).all()
    # the comparison table: cells, « Total » and « Ensemble » rows
    ct = dep.table(horizon=5, by="metier")
    check_cells(ct[~ct["territory"].eq("Ensemble") & ~ct["metier"].eq("Total")], acc)
    tot = ct[ct["metier"] == "Total"].set_index("territory")["estimated"]
    assert (tot.drop("Ensemble") == any_t.reindex(tot.drop("Ensemble").index)).all() and tot["Ensemble"]


def test_estimated_dom_at_region_level(reg_dom):
    """Régions with the estimated DOM: the published régions are reliable (0), the DOM estimated, with the class
    their département gets at département level; France is estimated."""
    st = reg_dom.summary_table()
    dom = st["territory"].isin(list(DOM_DEPARTEMENT))
    assert st.loc[dom, "estimated"].all() and (st.loc[dom, "reliability"] >= 1).all()
    assert not st.loc[~dom, "estimated"].any() and (st.loc[~dom, "reliability"] == 0).all()
    assert "key_basis" not in st.columns                 # no key at région level
    dep = pmq.load_baseline("departement", dom=True).sel(metier=METIERS)
    for r, d in DOM_DEPARTEMENT.items():
        own = st[st["territory"] == r].set_index("metier")["reliability"]
        assert (own == dep["reliability"].sel(territory=d).to_series().reindex(own.index)).all()
    regions = standard_tables(reg_dom)["regions"]             # région level: the sheet keeps its name
    assert regions.set_index("territory")["estimated"].to_dict() == {
        **{t: False for t in regions["territory"] if t not in DOM_DEPARTEMENT and t != "FR"},
        **{t: True for t in DOM_DEPARTEMENT}, "FR": True}
    assert reg_dom.summary().table["estimated"].all()        # the national totals include the DOM


def test_region_level_metropolitan_tables_keep_their_columns(reg, tmp_path):
    flags = set(FLAG_COLUMNS)
    assert not flags & set(reg.summary_table().columns)
    assert not flags & set(reg.summary().table.columns)
    tables = standard_tables(reg)
    assert list(tables) == ["regions", "domaines", "metiers"]
    assert not any(flags & set(t.columns) or t.attrs.get("pmq_provenance") for t in tables.values())
    assert not flags & set(reg.table(horizon=5).columns)
    imb = imbalance_table(reg)
    assert not flags & set(imb.columns) and not flags & set(watch_list(imb).columns)
    to_csv(tables, tmp_path / "csv")
    assert sorted(p.name for p in (tmp_path / "csv").glob("*.csv")) == ["domaines.csv", "metiers.csv", "regions.csv"]
    assert ensemble_files("region")[1] == ensemble_files()[1] == "quantiles_regions.csv"


def test_workbook_named_by_level_with_provenance(dep, tmp_path):
    acc = dep.accounts
    path = to_excel(standard_tables(acc, territory=["13", "971"]), tmp_path / "t.xlsx", accounts=acc)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:4] == ["README", "Départements", "Domaines", "Métiers"]     # then the wide sheets
    readme = {str(r[0].value): [c.value for c in r[1:]] for r in wb["README"].iter_rows() if r[0].value}
    assert readme["level"][0] == "departement" and readme["key_source"][0] == acc.attrs["key_source"]
    assert readme["DOM"][0].startswith("DOM estimés")
    assert readme["fiabilité"][0].startswith("Fiabilité (reliability) : 0 fiable")
    back = read_excel_tables(path)["departements"]
    assert back["estimated"].dtype == bool and set(back["reliability_label"]) <= FRENCH
    z = acc.assign_attrs(level="zone_emploi")
    assert list(standard_tables(z, lang="en"))[0] == "employment_zones" == territory_table_name("zone_emploi", "en")
    assert territory_table_name("zone_emploi") == "zones_emploi"
    assert ensemble_files("departement")[1] == "quantiles_departements.csv"


def test_csv_provenance_and_no_formula_from_a_key_basis(dep, tmp_path):
    acc = dep.accounts
    basis = acc["key_basis"].values.copy()
    basis[0, 0] = "=HYPERLINK(\"http://x\",\"clic\")"             # a user's key may name its basis anything
    acc = acc.assign_coords(key_basis=(("territory", "metier"), basis))
    tables = standard_tables(acc, territory=["75", "976"])
    to_csv(tables, tmp_path / "csv")
    readme = pd.read_csv(tmp_path / "csv" / "README.csv", dtype=str, keep_default_na=False)
    assert list(readme.columns) == ["name", "value"]
    values = readme.set_index("name")["value"]
    assert values["level"] == "departement" and values["overseas"].startswith("estimated")
    met = pd.read_csv(tmp_path / "csv" / "metiers.csv", dtype={"territory": str}, keep_default_na=False)
    bad = met[(met["territory"] == str(acc.territory.values[0])) & (met["metier"] == str(acc.metier.values[0]))]
    assert len(bad) and bad["key_basis"].str.startswith("'=").all()
    path = to_excel(tables, tmp_path / "t.xlsx", accounts=acc)
    cells = [c.value for r in openpyxl.load_workbook(path)["Métiers"].iter_rows() for c in r]
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)


def test_ensemble_says_its_level_and_flags(dep):
    base = dep.baseline.sel(metier=METIERS[:3])
    ens = run_ensemble("reference_incertain", base, draws=3, horizon=3)
    assert ens.flows.attrs["level"] == "departement"
    assert ens.flows.attrs["key_source"] == base.attrs["key_source"] and "overseas" in ens.flows.attrs
    assert ens.files[1] == "quantiles_departements.csv"
    np.testing.assert_array_equal(ens.flows["reliability"].values, base["reliability"].values)
    q = ens.quantiles(by="territory", lang="en").to_dataframe().reset_index()
    truth = cell_truth(base).groupby("territory")["est_acc"].any()
    assert (q["estimated"] == q["territory"].map(truth)).all() and set(q["reliability_label"]) <= ENGLISH
    assert q.loc[q["territory"] == "13", "territory_name"].eq("Bouches-du-Rhône").all()
    qn = ens.quantiles().to_dataframe().reset_index()
    assert qn["estimated"].all() and ens.quantiles().attrs["level"] == "departement"
