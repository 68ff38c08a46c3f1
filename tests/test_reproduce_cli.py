"""`pmq reproduce metiers2030`: the cell-by-cell comparison with « Les métiers en 2030 », its files
and its command line."""
import contextlib
import io

import numpy as np
import pandas as pd
import pytest

import pmq
from pmq.outputs import FILES_RECORD
from pmq.cli import main
from pmq.export import read_excel_tables
from pmq.data import raw_metiers2030
from pmq.errors import PmqError, UnknownNameError
from pmq.analysis.reproduce import (METIERS2030_COLUMNS, Reproduction, get_exercise, reproduce,
                                    reproduce_metiers2030)

ID = ["code_fap", "fap_libelle", "region", "territory"]
EXOGENOUS = ["effectifs_2019_milliers", "creations_destructions_milliers", "jeunes_debutants_milliers",
             "solde_mobilites_inter_regions_milliers"]
STEMS = ["creations_destructions", "departs_fin_carriere", "jeunes_debutants", "solde_mobilites_inter_regions",
         "desequilibre", "postes_a_pourvoir"]


@pytest.fixture(scope="module")
def rep(reference_2030):
    return reproduce_metiers2030(projection=reference_2030)


#: run at the start of the session by a background process when cli_run is used (tests/conftest.py)
PMQ_BACKGROUND = {"reproduce_metiers2030": ("cli_run", ["reproduce", "metiers2030", "--out", "{out}"])}


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, background):
    """One CLI run with --out, shared by the file tests: (exit status, stdout, folder)."""
    done = background.result("reproduce_metiers2030")
    if done is not None:
        status, printed, _, out = done
        return status, printed, out
    out = tmp_path_factory.mktemp("reproduce") / "out"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = main(["reproduce", "metiers2030", "--out", str(out)])
    return status, buf.getvalue(), out


def test_every_published_row_and_numeric_column(rep):
    raw = raw_metiers2030()
    numeric = [c for c in raw.columns if pd.api.types.is_numeric_dtype(raw[c])]
    assert list(rep.columns) == numeric == list(METIERS2030_COLUMNS)  # all 15, source order
    assert len(rep.cells) == 1049
    expected = ID + [f"{c}_{k}" for c in numeric for k in ("published", "pmq", "diff")]
    assert list(rep.cells.columns) == expected
    assert rep.cells[expected[len(ID):]].notna().all().all()
    assert rep.cells["territory"].nunique() == 13
    # Published values are the file's, row for row; diff = pmq − published.
    for c in numeric:
        np.testing.assert_array_equal(rep.cells[f"{c}_published"], raw[c])
        np.testing.assert_array_equal(rep.cells[f"{c}_diff"], rep.cells[f"{c}_pmq"] - raw[c])
    assert list(rep.summary["column"]) == numeric


def test_summary_is_the_max_and_median_of_the_cells(rep):
    for row in rep.summary.itertuples(index=False):
        d = rep.cells[f"{row.column}_diff"].abs()
        assert row.max_abs_diff == d.max() and row.median_abs_diff == d.median()
        at = rep.cells[(rep.cells.code_fap == row.max_code_fap) & (rep.cells.region == row.max_region)]
        assert len(at) == 1 and abs(at[f"{row.column}_diff"].iloc[0]) == row.max_abs_diff
        assert at[f"{row.column}_pmq"].iloc[0] == row.pmq_at_max


@pytest.mark.parametrize("col", EXOGENOUS)
def test_exogenous_columns_exact(rep, col):
    s = rep.summary.set_index("column")
    assert s.loc[col, "max_abs_diff"] <= 1e-6, s.loc[col]


@pytest.mark.parametrize("col", ["departs_fin_carriere_milliers", "postes_a_pourvoir_milliers"])
def test_departures_and_openings_within_half_percent(rep, col):
    # Same tolerance as tests/test_reproduction.py.
    rel = rep.cells[f"{col}_diff"].abs() / rep.cells[f"{col}_published"].abs()
    assert rel.max() <= 0.005, rep.cells.loc[rel.idxmax(), ID]


def test_imbalance_within_0_2_percent_of_employment(rep):
    rel = rep.cells["desequilibre_milliers_diff"].abs() / rep.cells["effectifs_2019_milliers_published"]
    assert rel.max() <= 0.002


@pytest.mark.parametrize("stem", STEMS)
def test_pct_is_milliers_over_2019_employment(rep, stem):
    c = rep.cells
    # pmq's share, and the source's own convention, checked on the file.
    np.testing.assert_allclose(c[f"{stem}_pct_pmq"], c[f"{stem}_milliers_pmq"] / c["effectifs_2019_milliers_pmq"],
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(c[f"{stem}_pct_published"],
                               c[f"{stem}_milliers_published"] / c["effectifs_2019_milliers_published"],
                               rtol=1e-12, atol=0)
    assert rep.summary.set_index("column").loc[f"{stem}_pct", "max_abs_diff"] < 1e-6


def test_signs_follow_the_source(rep, reference_2030):
    c = rep.cells
    assert (c["jeunes_debutants_milliers_pmq"] < 0).all()  # stored negative in the source
    # Île-de-France loses 186.8 thousand workers to the other regions: a positive source balance,
    # a negative net inflow in pmq.
    idf = c[c.territory == "11"]["solde_mobilites_inter_regions_milliers_pmq"].sum()
    assert idf == pytest.approx(186.847, abs=1e-3)
    h = reference_2030.horizons(horizons=[11], years=[]).sel(period="2019–2030", territory="11")
    assert float(h["net_mobility"].sum()) / 1e3 == pytest.approx(-idf, rel=1e-12)
    np.testing.assert_allclose(c["desequilibre_milliers_pmq"],
                               c["postes_a_pourvoir_milliers_pmq"] + c["jeunes_debutants_milliers_pmq"]
                               + c["solde_mobilites_inter_regions_milliers_pmq"], rtol=0, atol=1e-9)


def test_share_and_specificity(rep, reference_2030):
    c = rep.cells
    np.testing.assert_allclose(c.groupby("territory")["part_metier_region_pmq"].sum(), 1.0, rtol=1e-12)
    single = ~c["code_fap"].str.contains(";")
    assert single.sum() == 1034
    for col, median_rel in (("part_metier_region", 0.001), ("indice_specificite", 0.002)):
        rel = (c[f"{col}_pmq"] / c[f"{col}_published"] - 1).abs()[single]
        assert rel.median() < median_rel, (col, rel.median())
    # The index relative to the rest of France fits the published one much better than the index
    # relative to all 13 regions.
    nat = reproduce_metiers2030(projection=reference_2030, specificity="national").cells
    rel_nat = (nat["indice_specificite_pmq"] / nat["indice_specificite_published"] - 1).abs()[single]
    rel_rest = (c["indice_specificite_pmq"] / c["indice_specificite_published"] - 1).abs()[single]
    assert rel_rest.median() < rel_nat.median() / 5


def test_cli_prints_table_and_writes_files(cli_run, rep):
    status, printed, out = cli_run
    assert status == 0
    for c in rep.columns:
        assert c in printed
    assert "écart max" in printed and "écart médian" in printed          # French by default
    assert sorted(p.name for p in out.iterdir()) == [FILES_RECORD, "metiers2030_differences.csv",
                                                     "metiers2030_differences.xlsx"]
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # no temporary folder left


def _same_numbers(read: pd.DataFrame, api: pd.DataFrame):
    assert list(read.columns) == list(api.columns)
    for c in api.columns:
        if pd.api.types.is_float_dtype(api[c]):
            np.testing.assert_allclose(read[c].to_numpy(float), api[c].to_numpy(float), rtol=1e-14, atol=0,
                                       err_msg=c)
        else:
            assert (read[c].astype(str) == api[c].astype(str)).all(), c


def test_csv_round_trips(cli_run, rep):
    _, _, out = cli_run
    read = pd.read_csv(out / "metiers2030_differences.csv", dtype={"territory": str})
    assert len(read) == 1049
    _same_numbers(read, rep.cells)


def test_excel_round_trips(cli_run, rep):
    _, _, out = cli_run
    sheets = pd.read_excel(out / "metiers2030_differences.xlsx", sheet_name=None, dtype={"territory": str})
    assert list(sheets) == ["README", "summary", "cells"]
    assert "Écart absolu maximal" in list(sheets["summary"].columns)          # headers in French
    tables = read_excel_tables(out / "metiers2030_differences.xlsx")        # pmq's names, the same numbers
    _same_numbers(tables["cells"], rep.cells)
    _same_numbers(tables["summary"].drop(columns="column_label"), rep.summary)
    readme = " ".join(map(str, sheets["README"].to_numpy().ravel()))
    for text in ("metiers2030_region_fap.csv", "jeunes_debutants", "solde_mobilites_inter_regions",
                 "effectifs_2019_milliers", "Corse", "X_published", "X_diff"):
        assert text in readme, text


def test_api_writers(rep, tmp_path):
    assert rep.to_csv(tmp_path / "a").name == "metiers2030_differences.csv"
    xlsx = rep.to_excel(tmp_path / "b")
    assert xlsx == tmp_path / "b" / "metiers2030_differences.xlsx"
    back = read_excel_tables(xlsx)["summary"]
    np.testing.assert_allclose(back["max_abs_diff"], rep.summary["max_abs_diff"], rtol=1e-14)
    assert set(rep.writers()) == {"metiers2030_differences.csv", "metiers2030_differences.xlsx"}


def test_unknown_exercise_fails_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["reproduce", "metiers2031", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "exercice de reproduction inconnu 'metiers2031'" in err and "disponibles : metiers2030" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(UnknownNameError, match="disponibles : metiers2030"):
        get_exercise("metiers2020")


def test_failed_write_leaves_nothing(tmp_path, monkeypatch, capsys):
    def broken(self, path):
        path.write_bytes(b"half")
        raise PmqError("disk full")
    monkeypatch.setattr(Reproduction, "write_excel", broken)
    out = tmp_path / "out"
    assert main(["reproduce", "metiers2030", "--out", str(out)]) == 2
    assert "disk full" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_projection_shorter_than_the_published_period(baseline):
    short = pmq.project(baseline, "reference", horizon=5)
    with pytest.raises(PmqError, match="horizon d'au moins 11 ans"):
        reproduce("metiers2030", projection=short)
