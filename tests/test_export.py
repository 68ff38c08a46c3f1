"""Exports: Excel round trip, CSV, netCDF, and the IAMC format rules."""
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pmq
from pmq.outputs import FILES_RECORD
from pmq.cli import main
from pmq.projection.compare import project_many
from pmq.errors import InputError
from pmq.export.iamc import IAMC_COLUMNS, check_iamc, iamc_table, to_pyam, write_iamc
from pmq.export import export, read_excel_tables, standard_tables, to_excel
from pmq.projection.indicators import window_sums


from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: the slowest command lines and doc example of this module, run as written by the background process from
#: the start of the session (tests/conftest.py); the tests run them themselves when it does not
CLI_EXPORTS = {"export_xlsx": ["export", "reference", "bas_carbone_dares2023", "--horizon", "5", "--out", "{out}.xlsx"],
               "export_iamc": ["export", "reference", "--horizon", "5", "--out", "{out}.iamc.csv"]}
PMQ_BACKGROUND = {**{name: ("cli_exports", argv) for name, argv in CLI_EXPORTS.items()},
                  "docs_reports": ("docs_reports_run", ["python:_background_jobs:run_doc_blocks",
                                                        str(ROOT / "docs" / "reports.md"), "{out}"])}


@pytest.fixture(scope="module")
def cli_exports(background, tmp_path_factory):
    """{job: path written} of CLI_EXPORTS, after checking that each exited with status 0."""
    written = {}
    for name, argv in CLI_EXPORTS.items():
        done = background.result(name)
        if done is None:
            out = tmp_path_factory.mktemp(name) / "out"
            code = main([a.replace("{out}", str(out)) for a in argv])
            err = ""
        else:
            code, _, err, out = done
        assert code == 0, err
        written[name] = Path(str(out) + argv[-1].replace("{out}", ""))
    return written


@pytest.fixture(scope="module")
def docs_reports_run(background):
    return background.result("docs_reports")


@pytest.fixture(scope="module")
def comparison(baseline):
    return project_many(["reference", "ademe_s3"], baseline, horizon=11)


@pytest.fixture(scope="module")
def tables(reference_2030):
    return standard_tables(reference_2030, [2024, 2030])


def test_standard_tables_match_the_accounts(reference_2030, tables):
    reg = tables["regions"].set_index(["period", "territory"])
    w = window_sums(reference_2030.accounts, 2019, 2030)
    assert reg.loc[("2019–2030", "93"), "openings"] == pytest.approx(float(w.openings.sel(territory="93").sum()))
    assert round(reg.loc[("2019–2030", "93"), "openings"] / 1e3, 1) == 636.1
    assert round(reg.loc[("2019–2030", "28"), "employment_start"] / 1e3, 1) == 1271.6
    fr = reg.loc[("2019–2030", "FR")]
    assert fr["openings"] == pytest.approx(float(w.openings.sum()))
    assert fr["territory_name"] == "France métropolitaine"
    met = tables["metiers"]
    assert len(met) == 2 * 13 * 83
    assert met["metier_label"].str.len().gt(0).all()
    dom = tables["domaines"].query("period == '2019–2030' and territory == '28'")
    assert dom["openings"].sum() == pytest.approx(reg.loc[("2019–2030", "28"), "openings"])
    np.testing.assert_allclose(met["imbalance_rate"], met["imbalance"] / met["employment_start"])


def test_excel_round_trips_with_the_same_numbers(reference_2030, tmp_path):
    # the three tables of one region (every region is in the « regions » sheet): a twelfth of the rows
    tables = standard_tables(reference_2030, [2024, 2030], territory="Normandie")
    path = to_excel(tables, tmp_path / "t.xlsx", accounts=reference_2030.accounts)
    back = read_excel_tables(path)
    assert list(back) == ["regions", "domaines", "metiers"]
    for name, df in tables.items():
        pd.testing.assert_frame_equal(back[name], df, check_dtype=False, check_exact=False, rtol=1e-12)
    # the README sheet names the source, the scenario and every column with its unit
    readme = pd.read_excel(path, sheet_name="README", header=None).fillna("").astype(str)
    flat = " ".join(readme.values.ravel())
    assert "DARES" in flat and "reference" in flat and "Postes à pourvoir" in flat and "personnes" in flat
    units = readme[readme[1] == "openings"]         # the table of columns: sheet, column, header, unit
    assert len(units) == 3 and units[2].eq("Postes à pourvoir").all() and units[3].str.contains("personnes").all()


def test_excel_number_formats_and_sheet_name_checks(tables, tmp_path):
    import openpyxl
    path = to_excel({"regions": tables["regions"]}, tmp_path / "t.xlsx")   # the sheet read below: quicker
    ws = openpyxl.load_workbook(path)["Régions"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("Postes à pourvoir") + 1).number_format == "#,##0.0"
    assert ws.cell(2, header.index("Déséquilibre potentiel (% de l'emploi initial)") + 1).number_format == "0.0%"
    with pytest.raises(ValueError, match="noms de feuilles"):
        to_excel({"a/b": tables["regions"]}, tmp_path / "bad.xlsx")
    assert not (tmp_path / "bad.xlsx").exists()


def test_failed_excel_write_leaves_previous_file(tables, tmp_path, monkeypatch):
    path = tmp_path / "t.xlsx"
    to_excel({"regions": tables["regions"].head(2)}, path)          # the previous workbook, pmq's
    previous = path.read_bytes()

    def fails(self, *args, **kwargs):
        raise OSError("disk full")

    import openpyxl
    with monkeypatch.context() as m:
        m.setattr(openpyxl.Workbook, "save", fails)
        with pytest.raises(Exception):  # noqa: B017 — the OSError, or what pandas raises closing the half-made workbook
            to_excel({"regions": tables["regions"]}, path)
    assert path.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILES_RECORD, "t.xlsx"]   # no temporary left behind
    # a control character no longer makes the write fail: it is replaced (tests/test_hardening_outputs.py)
    ok = tables["regions"].head(3).assign(territory_name="bad \x01 control character")
    to_excel({"regions": ok}, path)
    assert read_excel_tables(path)["regions"]["territory_name"].iloc[0] == "bad \ufffd control character"


def test_iamc_follows_the_format(reference_2030):
    df = iamc_table(reference_2030)
    check_iamc(df)
    assert list(df.columns[:5]) == IAMC_COLUMNS
    years = list(df.columns[5:])
    assert years == list(range(2019, 2031)) and all(isinstance(y, int) for y in years)
    assert not df[IAMC_COLUMNS].isna().any().any()
    assert not df.duplicated(IAMC_COLUMNS[:4]).any()
    assert set(df["model"]) == {"pmq"} and set(df["scenario"]) == {"reference"}
    assert "France métropolitaine" in set(df["region"]) and "Provence-Alpes-Côte d'Azur" in set(df["region"])
    assert df.groupby("variable")["unit"].nunique().max() == 1
    emp = df[df["variable"] == "Employment"].set_index("region")
    assert round(emp.loc["Provence-Alpes-Côte d'Azur", 2019], 1) == 1924.0
    assert df[df["variable"].str.startswith("Employment")]["unit"].eq("thousand persons").all()
    # flows are not defined in the final year: empty there, filled before
    op = df[df["variable"] == "Job Openings"]
    assert op[2030].isna().all() and op[2029].notna().all()
    assert op.set_index("region").loc["Provence-Alpes-Côte d'Azur", list(range(2019, 2030))].sum() == \
        pytest.approx(636.101, abs=1e-3)


def test_iamc_hierarchy_children_sum_to_parents(reference_2030):
    df = iamc_table(reference_2030, variables=["employment", "openings"]).set_index(IAMC_COLUMNS)
    parts = df.index.get_level_values("variable").str.split("|")
    depth = parts.map(len)
    for region in ["Normandie", "France métropolitaine"]:
        sub = df.xs(region, level="region")
        v = sub.index.get_level_values("variable")
        for root in ["Employment", "Job Openings"]:
            total = sub[v == root].iloc[0]
            domains = sub[v.str.match(rf"^{root}\|[A-Z]$")]
            metiers = sub[v.str.match(rf"^{root}\|[A-Z]\|\w{{3}}$")]
            assert len(domains) == 21 and len(metiers) == 83
            np.testing.assert_allclose(domains.sum(min_count=1).values, total.values, rtol=1e-12, equal_nan=True)
            np.testing.assert_allclose(metiers.sum(min_count=1).values, total.values, rtol=1e-12, equal_nan=True)
    assert depth.max() == 3


def test_iamc_several_scenarios_and_levels(comparison):
    df = iamc_table(comparison, by="domain")
    check_iamc(df)
    assert set(df["scenario"]) == {"reference", "ademe_s3"}
    assert df["variable"].str.count(r"\|").max() == 1
    tot = iamc_table(comparison, by=None, national=False)
    assert set(tot["variable"]) == {"Employment", "Net Job Creation", "End-of-career Departures", "Job Openings",
                                    "Young Entrants", "Net Inflow from Other Regions", "Potential Imbalance"}
    assert len(tot) == 2 * 13 * 7


@pytest.mark.parametrize("mutate, column", [
    (lambda d: d.rename(columns={"region": "Region"}), "columns"),
    (lambda d: d[IAMC_COLUMNS + [2020, 2019]], "columns"),
    (lambda d: d.assign(variable=d["variable"].where(d.index != 3, "Employment||A")), "variable"),
    (lambda d: d.assign(variable=d["variable"].where(d.index != 3, "Employment |A")), "variable"),
    (lambda d: d.assign(region=d["region"].where(d.index != 2, "")), "region"),
    (lambda d: pd.concat([d, d.iloc[[0]]], ignore_index=True), "variable"),
    (lambda d: d.assign(unit=d["unit"].where(d.index != 1, "persons")), "unit"),
])
def test_check_iamc_rejects_broken_tables(reference_2030, mutate, column):
    df = iamc_table(reference_2030, by="domain", variables=["employment"])
    with pytest.raises(InputError) as e:
        check_iamc(mutate(df), source="t.csv")
    assert e.value.column == column and "t.csv" in str(e.value)


def test_write_iamc_csv_and_xlsx(reference_2030, tmp_path):
    df = iamc_table(reference_2030, by="domain")
    write_iamc(df, tmp_path / "x.iamc.csv")
    back = pd.read_csv(tmp_path / "x.iamc.csv")
    back.columns = [int(c) if c.isdigit() else c for c in back.columns]
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    write_iamc(df, tmp_path / "x.xlsx")
    back = pd.read_excel(tmp_path / "x.xlsx", sheet_name="data")
    np.testing.assert_allclose(back[2025].values, df[2025].values)
    with pytest.raises(ValueError, match=".csv ou .xlsx"):
        write_iamc(df, tmp_path / "x.json")


def test_to_pyam_is_optional(reference_2030):
    try:
        import pyam  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pmq\[pyam\]"):
            to_pyam(reference_2030)
    else:  # pragma: no cover - only where the optional extra is installed
        idf = to_pyam(reference_2030, by=None)
        assert "Job Openings" in idf.variable


def test_export_formats(reference_2030, tmp_path):
    (p,) = export(reference_2030, tmp_path / "acc.nc")
    ds = xr.open_dataset(p, engine="h5netcdf")
    np.testing.assert_allclose(ds["employment"].values, reference_2030.accounts["employment"].values)
    ds.close()
    files = export(reference_2030, tmp_path / "csv")
    assert sorted(f.name for f in files) == ["domaines.csv", "metiers.csv", "regions.csv"]
    reg = pd.read_csv(tmp_path / "csv" / "regions.csv", dtype={"territory": str})
    assert round(reg.query("territory == '28' and period == '2019–2030'")["openings"].iloc[0] / 1e3, 1) == 382.5
    with pytest.raises(ValueError, match="format d'export inconnu"):
        export(reference_2030, tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="un fichier par tableau"):
        export(reference_2030, tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
    assert (tmp_path / "csv" / "regions.csv").read_bytes().startswith(b"\xef\xbb\xbf")   # BOM for Excel


def test_cli_export(tmp_path, capsys, cli_exports):
    # 5 years: one period per table (11 years write three, 2.5 times the rows, for the same check)
    # pmq export reference bas_carbone_dares2023 --horizon 5 --out ….xlsx  (CLI_EXPORTS: exit status 0)
    back = read_excel_tables(cli_exports["export_xlsx"])
    assert set(back["regions"]["scenario"]) == {"reference", "bas_carbone_dares2023"}
    # pmq export reference --horizon 5 --out ….iamc.csv
    check_iamc(pd.read_csv(cli_exports["export_iamc"]).rename(columns=lambda c: int(c) if c.isdigit() else c))
    assert main(["export", "nonexistent_scenario", "--out", str(tmp_path / "u.xlsx")]) == 2
    assert not (tmp_path / "u.xlsx").exists()
    assert "nonexistent_scenario" in capsys.readouterr().err


def test_projection_methods(reference_2030, tmp_path):
    p = reference_2030.to_excel(tmp_path / "m.xlsx", end_years=[2030], territory="Normandie")
    back = read_excel_tables(p)
    assert set(back["metiers"]["territory"]) == {"28"}
    assert reference_2030.to_iamc(by=None).shape[0] == 14 * 7
    assert set(reference_2030.tables(lang="en")) == {"regions", "domains", "occupations"}
    assert pmq.__version__


def test_docs_reports_python_example_runs(tmp_path, monkeypatch, capsys, docs_reports_run):
    import re
    text = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    if docs_reports_run is not None:         # the blocks, run in a folder of their own by the background process
        code, out, err, folder = docs_reports_run
        assert code == 0, err
    else:
        from _background_jobs import run_doc_blocks
        folder = tmp_path / "docs"
        run_doc_blocks(str(ROOT / "docs" / "reports.md"), str(folder))
        out = capsys.readouterr().out
    assert "Job Openings" in out
    assert (folder / "resultats.xlsx").exists()


def test_exports_of_a_user_baseline_are_not_called_france():
    from conftest import make_baseline
    rng = np.random.default_rng(0)
    b = make_baseline(rng.uniform(50, 200, (2, 3, 60)), np.tile(np.linspace(0, 1, 60), (3, 1)),
                      rng.uniform(-500, 500, (2, 3)), rng.uniform(100, 900, (2, 3)),
                      np.array([[100.0, -50, 20], [-100, 50, -20]]))
    b = b.assign_coords(territory_name=("territory", ["Bouches-du-Rhône", "Zone Un"]),
                        metier_label=("metier", ["Un", "Deux", "Trois"]), domain=("metier", ["A", "A", "B"]))
    proj = pmq.project(b, "reference", horizon=11)
    iamc = iamc_table(proj)
    check_iamc(iamc)
    assert set(iamc["region"]) == {"Bouches-du-Rhône", "Zone Un", "Ensemble des territoires"}
    reg = standard_tables(proj)["regions"]
    assert set(reg["territory"]) == {"T0", "T1", "ALL"} and "France métropolitaine" not in set(reg["territory_name"])
    tot = iamc[iamc["variable"] == "Employment"].set_index("region")[2019]
    assert tot["Ensemble des territoires"] == pytest.approx(tot["Bouches-du-Rhône"] + tot["Zone Un"])
