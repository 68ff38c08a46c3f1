"""The deliverables read alike (a newcomer's review): the workbook's sheets named in the reader's language
(« Régions », « Métiers », « Compétences »…) and read back under pmq's table names; the key columns headed alike
in every sheet; codes shown in words (oui / non, « département », the scenario's title beside its code); no
differences from a first scenario when there is one; a README in one language; CSV numbers with the decimals of
summary.csv (persons 3, shares 6); the compare CSVs naming their territories.

Checked by meaning — sheet names, headers, values — never files byte for byte; numbers read back within a stated
tolerance (persons 5e-4, shares 5e-7: the CSV's rounding)."""
from __future__ import annotations

import csv
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pmq.analysis import skills as S
from pmq.analysis.imbalance import imbalance_table, watch_list
from pmq.cli import main
from pmq.data.skills import UNREACHED
from pmq.export import read_excel_tables, standard_tables, to_csv, to_excel
from pmq.export import tables as T
from pmq.export.report import key_figures
from pmq.labels import text
from pmq.projection.compare import project_many

METIERS = ["A0Z", "B4Z", "D1Z", "J3Z", "L2Z", "R4Z", "T1Z", "T2A", "V1Z", "W0Z"]
PERSONS_TOL, SHARE_TOL = 5e-4, 5e-7
#: What the review found in English in the French workbook's README.
ENGLISH = ["9 age bands by FAP-87", "estimated by pmq from DARES pseudo-cohort continuation ratios",
           "employment by age (pyramids", "DARES national shapes tilted per cell", "Corse: split of the published",
           "baseline 2019", "flows", "age_structure", "hazard_schedule"]


def _report_like(comp, lang: str = "fr", tension_basis: str | None = None):
    """The tables, key figures, watch list and skills sheet that pmq report puts in tables.xlsx (Provence-Alpes-Côte
    d'Azur, 2019–2022)."""
    acc = comp.accounts
    tables = standard_tables(acc, [2022], territory="93", lang=lang)
    demand = S.skills_demand(comp, by="macro_competence", end_year=2022, territory="93", lang=lang)
    tables["competences"] = demand[[c for c in demand.columns if c not in ("share", "share_core", "categorie",
                                                                          "sous_categorie", "transition_num")]].copy()
    watch = watch_list(imbalance_table(comp, end_year=2022), n=5, lang=lang)
    watch = watch[watch["territory"] == "93"]
    if tension_basis is not None:
        watch = watch.assign(tension_basis=tension_basis)
    return acc, tables, [key_figures(comp, "93", 2022)], watch


@pytest.fixture(scope="module")
def one(baseline):
    return project_many(["reference"], baseline.sel(metier=METIERS), horizon=3, ages=False)


@pytest.fixture(scope="module")
def two(baseline):
    return project_many(["reference", "ademe_s3"], baseline.sel(metier=METIERS), horizon=3, ages=False)


def _sheet(ws) -> pd.DataFrame:
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


@pytest.fixture(scope="module")
def french_one(one, tmp_path_factory):
    acc, tables, keys, watch = _report_like(one, tension_basis="departement")
    path = to_excel(tables, tmp_path_factory.mktemp("fr1") / "tables.xlsx", accounts=acc, key_figures=keys,
                    watch=watch)
    return tables, path, openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def french_two(two, tmp_path_factory):
    acc, tables, keys, watch = _report_like(two)
    path = to_excel(tables, tmp_path_factory.mktemp("fr2") / "tables.xlsx", accounts=acc, key_figures=keys,
                    watch=watch)
    return tables, path, openpyxl.load_workbook(path)


# ------------------------------------------------------------------------------------- 1. sheet names
def test_sheets_have_french_names_and_read_back_under_pmq_names(french_two):
    tables, path, wb = french_two
    assert wb.sheetnames[:7] == ["README", "Chiffres clés", "Métiers à surveiller", "Régions", "Domaines",
                                 "Métiers", "Compétences"]
    assert not {"regions", "domaines", "metiers", "competences"} & set(wb.sheetnames)
    listed: dict = {}                       # the README's list of sheets (first mention of each)
    for r in wb["README"].iter_rows(values_only=True):
        if r[0] in wb.sheetnames:
            listed.setdefault(r[0], r[1:3])
    assert listed["Compétences"][1] == "competences" and "macro-compétences" in listed["Compétences"][0]
    back = read_excel_tables(path)
    assert list(back) == ["regions", "domaines", "metiers", "competences"]
    for name in ("regions", "domaines", "metiers"):
        pd.testing.assert_frame_equal(back[name], tables[name], check_dtype=False, check_exact=False, rtol=1e-12)
    # the skills table: the same rows and numbers, its flags given back as the codes they are
    comp = back["competences"]
    assert list(comp.columns) == list(tables["competences"].columns)
    np.testing.assert_allclose(comp["openings"], tables["competences"]["openings"], rtol=1e-12)
    assert comp["transition_eco"].fillna("").tolist() == tables["competences"]["transition_eco"].tolist()


def test_english_sheets_and_read_back(two, tmp_path):
    acc, tables, keys, watch = _report_like(two, lang="en")
    path = to_excel(tables, tmp_path / "en.xlsx", accounts=acc, lang="en", key_figures=keys, watch=watch)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:7] == ["README", "Key figures", "Occupations to watch", "Regions", "Domains",
                                 "Occupations", "Skills"]
    back = read_excel_tables(path)
    assert list(back) == ["regions", "domains", "occupations", "competences"]
    pd.testing.assert_frame_equal(back["occupations"], tables["occupations"], check_dtype=False, check_exact=False,
                                  rtol=1e-12)
    heads = [c.value for c in wb["Skills"][1]]
    assert heads[:4] == ["Scenario code", "Scenario", "Territory code", "Territory"]
    flags = set(_sheet(wb["Skills"])["Ecological transition (ROME)"].dropna())
    assert flags <= {"yes", "no"} and "yes" in flags
    readme = " ".join(str(c.value) for r in wb["README"].iter_rows() for c in r if c.value is not None)
    assert "9 age bands by FAP-87" in readme and "9 tranches d'âge" not in readme


def test_two_tables_may_not_take_one_sheet(one, tmp_path):
    t = standard_tables(one.accounts, [2022], territory="93")
    with pytest.raises(ValueError, match="noms de feuilles"):
        to_excel({"metiers": t["metiers"], "occupations": t["metiers"]}, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


# ------------------------------------------------------------------ 2. the same headers for the same keys
def test_every_sheet_heads_the_territory_alike(french_two):
    _, _, wb = french_two
    for ws in wb.worksheets[1:]:
        heads = [c.value for c in ws[1]]
        assert "Nom du territoire" not in heads, ws.title
        if "Territoire" in heads:
            assert "Code territoire" in heads and heads.index("Code territoire") + 1 == heads.index("Territoire"), \
                ws.title
    comp = _sheet(wb["Compétences"])
    assert set(comp["Code territoire"]) == {"93"} and set(comp["Territoire"]) == {"Provence-Alpes-Côte d'Azur"}


# ----------------------------------------------------------------------- 3. ROME flags in words
def test_transition_flag_is_oui_non_in_the_workbook_and_O_in_the_table(french_one):
    tables, _, wb = french_one
    table = tables["competences"]
    sheet = _sheet(wb["Compétences"])
    shown = sheet["Transition écologique (ROME)"]
    assert set(shown.dropna()) == {"oui", "non"}
    assert (shown == "oui").sum() == (table["transition_eco"] == "O").sum() > 0
    unlinked = sheet["Code"] == UNREACHED[0]
    assert unlinked.sum() == 1 and shown[unlinked].isna().all()          # no item: no flag
    assert set(table["transition_eco"]) == {"O", ""}                     # the table (and its CSV) keep the code


# ----------------------------------------------------------------- 4. one scenario: no differences
def test_one_scenario_writes_no_differences(french_one, french_two):
    tables, _, wb = french_one
    assert "difference" in tables["competences"].columns                  # zeros in the table …
    assert "Écarts entre scénarios" not in wb.sheetnames                 # … not in the workbook
    for ws in wb.worksheets[1:]:
        assert not any(str(c.value).startswith(("Écart", "Difference")) for c in ws[1]), ws.title
    _, _, wb2 = french_two                                               # two scenarios: the differences
    assert "Écarts entre scénarios" in wb2.sheetnames
    diff = _sheet(wb2["Compétences"])["Écart au premier scénario"]
    assert diff.abs().max() > 0


# ------------------------------------------------------- 5. words for codes: scenario titles, tension level
def test_scenario_title_beside_its_code_and_tension_level_in_words(french_one, one):
    tables, path, wb = french_one
    title = str(one.accounts["scenario_title_fr"].values[0])
    assert title and title != "reference"
    for name in ("Régions", "Métiers", "Compétences", "Métiers à surveiller", "Postes à pourvoir"):
        sheet = _sheet(wb[name])
        cols = list(sheet.columns)
        assert cols.index("Scénario") == cols.index("Code scénario") + 1, name
        assert set(sheet["Code scénario"]) == {"reference"} and set(sheet["Scénario"]) == {title}, name
    watch = _sheet(wb["Métiers à surveiller"])
    assert set(watch["Niveau de la classe de tension"]) == {"département"}
    back = read_excel_tables(path)
    assert "scenario_label" not in back["regions"].columns and set(back["regions"]["scenario"]) == {"reference"}


def test_differences_sheet_names_the_first_scenario_by_its_title(french_two, two):
    _, _, wb = french_two
    titles = dict(zip(map(str, two.accounts.scenario.values), map(str, two.accounts["scenario_title_fr"].values)))
    diff = _sheet(wb["Écarts entre scénarios"])
    assert set(diff["Code scénario"]) == {"ademe_s3"} and set(diff["Scénario"]) == {titles["ademe_s3"]}
    assert set(diff["Comparé à"]) == {titles["reference"]}


# ------------------------------------------------------------------------------ 6. one language README
def _readme_text(wb) -> str:
    return " ".join(str(c.value) for r in wb["README"].iter_rows() for c in r if c.value is not None)


def test_french_readme_has_no_english_provenance(french_one):
    _, _, wb = french_one
    readme = _readme_text(wb)
    found = [phrase for phrase in ENGLISH if phrase in readme]
    assert not found
    assert "9 tranches d'âge par famille professionnelle" in readme and "Flux de la période publiée" in readme
    assert "année de base 2019" in readme and "Corse : répartition des groupes de métiers" in readme


def test_readme_words_are_the_report_pages(baseline):
    """One place for the provenance's words: the report's page uses the workbook's texts (pmq.export.tables), so the
    README sheet and the page name every known source, estimated input and pattern alike."""
    from pmq.export import report as R
    assert R.provenance_text is T.provenance_text and R.SOURCE_NAMES is T.SOURCE_NAMES
    samples = [*T.PROVENANCE_TEXTS,
               "exit hazards estimated from DARES pseudo-cohorts 2003–2019 (pmq.estimation.exits, partially pooled)",
               "employment trend by métier: damped model fitted to the DARES FAP-87 series (last 10 years to 2019), "
               "pmq.estimation.trends",
               "pmq shipped key (departement), see pmq/data/territories/SOURCE.md"]
    for s in samples:
        fr, en = T.provenance_text(s, "fr"), T.provenance_text(s, "en")
        assert fr and en and fr != en, s                  # known, and said in each language
    assert T.provenance_text("a user's own source", "fr") is None       # shown as the user wrote it


# ------------------------------------------------------------------------------------ 7. CSV decimals
def _decimals(field: str) -> int:
    return len(field.partition(".")[2])


def test_export_csv_has_the_decimals_of_summary_csv(one, tmp_path):
    tables = standard_tables(one.accounts, [2022])
    to_csv(tables, tmp_path / "csv")
    raw = (tmp_path / "csv" / "metiers.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw)))
    for col in ("employment_start", "openings", "imbalance"):
        assert {_decimals(r[col]) for r in rows} == {3}, col
    for col in ("departure_rate", "openings_rate", "imbalance_rate"):
        assert {_decimals(r[col]) for r in rows if r[col]} == {6}, col
    back = pd.read_csv(tmp_path / "csv" / "metiers.csv", dtype={"territory": str})
    met = tables["metiers"]
    for col in ("employment_start", "employment_end", "openings", "departures", "imbalance"):
        np.testing.assert_allclose(back[col], met[col], rtol=0, atol=PERSONS_TOL)
    for col in ("departure_rate", "openings_rate", "imbalance_rate"):
        np.testing.assert_allclose(back[col], met[col], rtol=0, atol=SHARE_TOL)
    # « ; » and decimal commas: the same numbers
    to_csv(tables, tmp_path / "semi", sep=";")
    semi = pd.read_csv(tmp_path / "semi" / "metiers.csv", sep=";", decimal=",", dtype={"territory": str})
    pd.testing.assert_frame_equal(semi, back)


def test_imbalance_csv_has_the_same_decimals(tmp_path, capsys, reference_2030):
    assert main(["imbalance", "reference", "--horizon", "11", "--territory", "Bretagne", "--top", "3",
                 "--out", str(tmp_path / "imb")]) == 0
    capsys.readouterr()
    raw = (tmp_path / "imb" / "imbalance.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw)))
    for col in ("employment_base", "openings", "supply", "imbalance"):
        assert {_decimals(r[col]) for r in rows} == {3}, col
    for col in ("imbalance_pct", "supply_demand_ratio"):
        assert {_decimals(r[col]) for r in rows if r[col]} == {6}, col
    t = pd.read_csv(tmp_path / "imb" / "imbalance.csv", dtype={"territory": str}).set_index(["territory", "metier"])
    api = imbalance_table(reference_2030).set_index(["territory", "metier"]).loc[t.index]
    np.testing.assert_allclose(t["imbalance"], api["imbalance"], rtol=0, atol=PERSONS_TOL)
    np.testing.assert_allclose(t["imbalance_pct"], api["imbalance_pct"], rtol=0, atol=SHARE_TOL)


# ---------------------------------------------------------------------------- 8. compare CSVs named
def test_compare_csvs_name_territories_and_metiers(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "reference", "ademe_s3", "--horizon", "2", "--territory", "Bretagne", "--territory",
                 "Normandie", "--out", str(out)]) == 0
    capsys.readouterr()
    met = pd.read_csv(out / "compare_metiers.csv", dtype={"territory": str})
    assert list(met.columns[:5]) == ["horizon", "territory", "territory_name", "metier", "metier_label"]
    names = met.drop_duplicates("territory").set_index("territory")["territory_name"].to_dict()
    assert names == {"53": "Bretagne", "28": "Normandie", "Ensemble": "Ensemble des territoires choisis"}
    assert met.loc[met["metier"] == "T2A", "metier_label"].str.len().gt(0).all()
    dom = pd.read_csv(out / "compare_domains.csv", dtype={"territory": str})
    assert list(dom.columns[:5]) == ["horizon", "territory", "territory_name", "domain", "domain_label"]
    # the national total and English labels (--lang en)
    en = tmp_path / "en"
    assert main(["compare", "reference", "--horizon", "2", "--territory", "FR", "--territory", "Bretagne",
                 "--lang", "en", "--out", str(en)]) == 0
    capsys.readouterr()
    met = pd.read_csv(en / "compare_metiers.csv", dtype={"territory": str})
    names = met.drop_duplicates("territory").set_index("territory")["territory_name"].to_dict()
    assert names == {"53": "Bretagne", "Ensemble": text("france", "en")}
    assert met.loc[met["metier"] == "A0Z", "metier_label"].iloc[0].startswith("Farmers")
