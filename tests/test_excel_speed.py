"""The fast Excel export holds what the workbook held before: the rows of every table sheet are written as XML by
pmq.export.tables (no openpyxl cell objects) and spliced into the file openpyxl saved (README, headers, styles,
widths, frozen panes, autofilters); the domain sums and labels of standard_tables are computed with numpy and once
per distinct code.  Checked here against the previous implementation's semantics, in the same run:

* the same workbook written through openpyxl's cells (what to_excel did before, kept for values of other types)
  holds, cell by cell, the same values (numbers within 1e-12 relative; text exactly), types, number formats and
  fonts, and every sheet the same name, header row, column widths, autofilter and frozen pane;
* read back, the long tables are the tables' numbers, the sheet per indicator, the differences and the key figures
  theirs; every numeric cell of a table sheet has a number format;
* the numpy domain sums are xarray's groupby sums bit for bit, the labels those of pmq.labels row by row.

Numbers are compared with a stated tolerance, never files byte for byte."""
from __future__ import annotations

import math

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from pmq.analysis.imbalance import imbalance_table, watch_list
from pmq.export import read_excel_tables, standard_tables, to_excel
from pmq.export import tables as T
from pmq.export.report import key_figures
from pmq.labels import domain_label, metier_label
from pmq.projection.compare import project_many
from pmq.projection.indicators import aggregate_metiers, window_sums

REL = 1e-12
METIERS = ["A0Z", "B4Z", "D1Z", "J3Z", "L2Z", "R4Z", "T1Z", "T2A", "V1Z", "W0Z", "W1Z"]
NUMBER_FORMATS = {T.PERSONS_FORMAT, T.SHARE_FORMAT, T.PERSONS_DIFF_FORMAT, T.SHARE_DIFF_FORMAT}


@pytest.fixture(scope="module")
def two(baseline):
    """Two scenarios over 6 years (eleven métiers, every région), the tables of two periods in
    Provence-Alpes-Côte d'Azur, the key figures of both periods and the watch list: what pmq report writes."""
    comp = project_many(["reference", "ademe_s3"], baseline.sel(metier=METIERS), horizon=6, ages=False)
    acc = comp.accounts
    tables = standard_tables(acc, [2022, 2025], territory="93")
    keys = [key_figures(comp, "93", 2022), key_figures(comp, "93", 2025)]
    watch = watch_list(imbalance_table(comp, end_year=2025), n=5)
    watch = watch[watch["territory"] == "93"]
    return acc, tables, keys, watch


def _facts(path) -> dict:
    """Everything the workbook shows: per sheet, every cell's value, type, number format, boldness and wrapping,
    the column widths, the autofilter and the frozen pane."""
    wb = openpyxl.load_workbook(path)
    out = {"sheets": wb.sheetnames}
    for ws in wb.worksheets:
        out[ws.title] = {
            "cells": [[(c.value, c.data_type, c.number_format, bool(c.font.bold), bool(c.alignment.wrap_text))
                       for c in row] for row in ws.iter_rows()],
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "filter": ws.auto_filter.ref, "freeze": ws.freeze_panes}
    return out


def _same_cell(a, b) -> bool:
    if a[1:] != b[1:]:
        return False
    x, y = a[0], b[0]
    if isinstance(x, float) and isinstance(y, (int, float)) or isinstance(y, float) and isinstance(x, (int, float)):
        return math.isclose(x, y, rel_tol=REL, abs_tol=0.0) or (math.isnan(x) and math.isnan(y))
    return x == y and type(x) is type(y)


def _assert_same_workbook(fast, slow) -> None:
    a, b = _facts(fast), _facts(slow)
    assert a["sheets"] == b["sheets"]
    for name in a["sheets"]:
        x, y = a[name], b[name]
        assert (x["widths"], x["filter"], x["freeze"]) == (y["widths"], y["filter"], y["freeze"]), name
        assert len(x["cells"]) == len(y["cells"]), name
        assert x["cells"][:1] == y["cells"][:1], name                      # the header row, exactly
        for i, (rx, ry) in enumerate(zip(x["cells"], y["cells"])):
            assert len(rx) == len(ry), (name, i)
            bad = [(j, cx, cy) for j, (cx, cy) in enumerate(zip(rx, ry)) if not _same_cell(cx, cy)]
            assert not bad, (name, i + 1, bad[:3])


def _through_openpyxl_cells(monkeypatch):
    """to_excel as it wrote every row before: through openpyxl's cells (the path kept for other types)."""
    monkeypatch.setattr(T, "_plain_columns", lambda df: None)


def test_report_workbook_is_the_one_openpyxl_cells_write(two, tmp_path, monkeypatch):
    acc, tables, keys, watch = two
    fast = to_excel(tables, tmp_path / "fast.xlsx", accounts=acc, key_figures=keys, watch=watch)
    with monkeypatch.context() as m:
        _through_openpyxl_cells(m)
        slow = to_excel(tables, tmp_path / "slow.xlsx", accounts=acc, key_figures=keys, watch=watch)
    _assert_same_workbook(fast, slow)


def test_english_national_workbook_is_the_one_openpyxl_cells_write(two, tmp_path, monkeypatch):
    acc = two[0]
    en = standard_tables(acc, [2025], lang="en")
    fast = to_excel(en, tmp_path / "fast.xlsx", accounts=acc, lang="en")
    with monkeypatch.context() as m:
        _through_openpyxl_cells(m)
        slow = to_excel(en, tmp_path / "slow.xlsx", accounts=acc, lang="en")
    _assert_same_workbook(fast, slow)


#: Texts an XML writer must get right: markup characters, spaces at the ends, empty, line breaks, a carriage
#: return, a control character, a text longer than a cell holds, non-ASCII, formula starts, error literals.
TEXTS = ["a & b <c> \"d\" 'e'", " lead", "trail ", "", "   ", "line\nfeed", "cr\rhere", "tab\there", "ctl\x01x",
         "x" * 40000, "émoji 😀 « ok »", "=1+1", "#N/A", "-3", "+33 1 23"]


def test_odd_values_are_written_as_openpyxl_cells_wrote_them(tmp_path, monkeypatch):
    n = len(TEXTS)
    cycle = [1, 2.5, "t", True, None, np.nan, np.int64(3), np.float32(1.5), np.bool_(False), pd.NA, 7, "u", 0.0,
             -2, 1e-300]
    tables = {
        "strings": pd.DataFrame({"territory_name": TEXTS, "openings": np.linspace(-1, 1, n),
                                 "departure_rate": np.linspace(0, 0.1, n)}),
        "mixed": pd.DataFrame({
            "x": cycle[:n],
            "openings": [1.0, np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300, 5e-324, 1 / 3, 2 / 3, 1e16, 1e-7, 12.5,
                         -7.25, 123456.789][:n],
            "imbalance": pd.array([1, None] + list(range(3, n + 1)), dtype="Int64"),
            "flag": ([True, False] * n)[:n],
            "nullable_flag": pd.array(([True, None, False] * n)[:n], dtype="boolean"),
            "category": pd.Categorical((["a", "b"] * n)[:n]),
            "text": pd.array((["a", None] * n)[:n], dtype="str"),
            "rank": np.arange(n), "net_creation": np.arange(n) * 10**17}),
        "dates": pd.DataFrame({"d": pd.date_range("2020-01-01", periods=3), "openings": [1.0, 2.0, 3.0]}),
        "empty": pd.DataFrame({"territory": pd.Series([], dtype=str), "openings": pd.Series([], dtype=float)}),
    }
    readme = [["titre", "x & <y>", " espaces "], ["n", 1.5, True]]
    for name, df in tables.items():
        fast = to_excel({name: df}, tmp_path / f"fast_{name}.xlsx", readme=readme)
        with monkeypatch.context() as m:
            _through_openpyxl_cells(m)
            slow = to_excel({name: df}, tmp_path / f"slow_{name}.xlsx", readme=readme)
        _assert_same_workbook(fast, slow)
    cells = openpyxl.load_workbook(tmp_path / "fast_strings.xlsx")["strings"]
    texts = [cells.cell(i + 2, 1).value for i in range(n)]
    assert texts[0] == TEXTS[0] and texts[1:3] == [" lead", "trail "] and texts[9] == "x" * 32767
    assert texts[8] == "ctl\ufffdx" and texts[11] == "'=1+1" and texts[12] == "'#N/A"
    assert all(c.data_type != "f" for row in cells.iter_rows() for c in row)


def test_round_trip_and_invariants(two, tmp_path):
    """Independent of any earlier writer: the numbers read back are the tables', every numeric cell of a table
    sheet is formatted, every sheet has its autofilter over the table and a frozen header."""
    acc, tables, keys, watch = two
    path = to_excel(tables, tmp_path / "t.xlsx", accounts=acc, key_figures=keys, watch=watch)
    back = read_excel_tables(path)
    assert list(back) == list(tables)
    for name, df in tables.items():
        pd.testing.assert_frame_equal(back[name], df, check_dtype=False, check_exact=False, rtol=REL)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:4] == ["README", "Chiffres clés", "Métiers à surveiller", "Régions"]
    for ws in wb.worksheets[1:]:
        assert ws.auto_filter.ref == f"A1:{get_column_letter(ws.max_column)}{ws.max_row}", ws.title
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), ws.title
        head = next(ws.iter_rows(max_row=1))
        assert all(c.font.bold and c.data_type == "s" for c in head), ws.title
        for row in ws.iter_rows(min_row=2):
            for c in row:
                if isinstance(c.value, float):
                    assert c.number_format in NUMBER_FORMATS, (ws.title, c.coordinate)
    # the sheet per indicator and the differences: the long table's numbers
    met = tables["metiers"].set_index(["scenario", "metier", "period"])
    rows = list(wb["Postes à pourvoir"].iter_rows(values_only=True))
    head = list(rows[0])
    for r in rows[1:]:
        rec = dict(zip(head, r))
        for p in ("2019–2022", "2019–2025"):
            assert rec[p] == pytest.approx(met.loc[(rec["Code scénario"], rec["Code métier (FAP)"], p), "openings"],
                                           rel=REL)
    rows = list(wb["Écarts entre scénarios"].iter_rows(values_only=True))
    head = list(rows[0])
    for r in rows[1:]:
        rec = dict(zip(head, r))
        k = (rec["Code métier (FAP)"], rec["Période"])
        want = met.loc[("ademe_s3", *k), "openings"] - met.loc[("reference", *k), "openings"]
        assert rec["Postes à pourvoir"] == pytest.approx(want, rel=REL, abs=1e-9)
    kf = {(r[0], r[1]): r for r in wb["Chiffres clés"].iter_rows(min_row=2, values_only=True)}
    for kfr in keys:
        period = kfr.attrs.get("period") or f"{kfr.attrs['start_year']}–{kfr.attrs['end_year']}"
        for ind in kfr.index:
            assert kf[(period, str(ind))][3] == pytest.approx(float(kfr.at[ind, "reference"]), rel=REL)


def test_standard_tables_are_written_without_openpyxl_cells(two):
    """The rows of every sheet of the standard workbook are of the types the XML writer takes: none falls back to
    openpyxl's cells (the slow path), which would make the export several times slower."""
    acc, tables, keys, watch = two
    safe = {n: T.neutralise(df) for n, df in tables.items()}
    sheets = [T._key_figures_sheet(keys, {}, "fr")]
    sheets += [T._Sheet(n, df, "table", "", "fr") for n, df in safe.items()]
    src = T._source_table(safe)
    sheets += [T._differences_sheet(src, "fr", {})] + T._wide_sheets(src, "fr")
    sheets.append(T._Sheet("w", T.neutralise(watch.reset_index(drop=True)), "watch_list", "", "fr"))
    assert all(T._plain_columns(s.df) is not None for s in sheets)


def test_domain_sums_are_xarray_groupby_sums_bit_for_bit(two):
    acc = two[0]
    for territory in (None, "93"):
        w = window_sums(acc, 2019, 2025).drop_vars("employment_base")
        w = w.drop_vars([c for c in w.coords if c not in w.dims and c not in ("territory_name", "metier_label",
                                                                                 "domain")])
        if territory is not None:
            w = w.sel(territory=[territory])
        keys = ["scenario", "territory", "territory_name", "domain"]
        new = T._window_frame(T._domain_sums(w), keys)
        old = T._window_frame(aggregate_metiers(w, by="domain"), keys)
        pd.testing.assert_frame_equal(new, old, check_exact=True)


def test_labels_once_per_code_are_the_labels_row_by_row(two):
    met = two[1]["metiers"]
    for lang in ("fr", "en"):
        assert T._labels(met["metier"], metier_label, lang) == metier_label(met["metier"], lang)
        assert T._labels(met["domain"], domain_label, lang) == domain_label(met["domain"], lang)
