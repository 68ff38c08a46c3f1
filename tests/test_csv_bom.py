"""Every CSV pmq writes is UTF-8 with a byte-order mark (French Excel shows « Île-de-France »), and
``--csv-sep ';'`` writes semicolons and decimal commas: the central step (pmq.outputs.finish_csv, applied by
write_atomically and atomic_file to every .csv moved into place), the helpers, and the outputs of every command
that writes CSV files — read back by pandas and by pmq's own reader with the same numbers."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pmq.cli import main
from pmq.errors import ArgumentError
from pmq.inputs.tables import read_table
from pmq.outputs import (BOM, CsvDialect, atomic_file, csv_dialect, csv_dialect_of, current_csv_dialect, finish_csv,
                         neutralise_csv, write_atomically, write_csv)

#: the commands that write CSV files, run with small horizons by the background process from the start of the
#: session (tests/conftest.py); each job's output folder is checked below.  reproduce, backtest and the IAMC
#: export reuse the runs of tests/test_reproduce_cli.py, test_backtest.py and test_export.py.
SEMICOLON = ["--csv-sep", ";"]
RUNS = {
    "csv_run": ["run", "reference", "--horizon", "2", "--out", "{out}", *SEMICOLON],
    "csv_ensemble": ["run", "reference_incertain", "--draws", "3", "--chunk", "3", "--horizon", "2", "--out", "{out}"],
    "csv_compare": ["compare", "reference", "ademe_s3", "--horizon", "2", "--out", "{out}"],
    "csv_imbalance": ["imbalance", "--horizon", "2", "--out", "{out}", *SEMICOLON],
    "csv_export_comma": ["export", "reference", "--horizon", "2", "--format", "csv", "--out", "{out}"],
    "csv_export_semicolon": ["export", "reference", "--horizon", "2", "--format", "csv", "--out", "{out}",
                             *SEMICOLON],
    "csv_skills": ["skills", "reference", "--horizon", "2", "--out", "{out}", *SEMICOLON],
    "csv_passerelles": ["passerelles", "T2A", "--horizon", "2", "--out", "{out}"],
}
SHARED = {"reproduce_metiers2030": ["reproduce", "metiers2030", "--out", "{out}"],
          "export_iamc": ["export", "reference", "--horizon", "5", "--out", "{out}.iamc.csv"]}
PMQ_BACKGROUND = {**{name: ("command_outputs", argv) for name, argv in {**RUNS, **SHARED}.items()},
                  "backtest_default": ("backtest_result", ["python:_background_jobs:backtest_default"])}
#: a number with a decimal point: none may be left in a file written with --csv-sep ';'
POINT_NUMBER = re.compile(r"-?\d+\.\d+(?:[eE][+-]?\d+)?\Z")


@pytest.fixture(scope="module")
def command_outputs(background, tmp_path_factory):
    """{job: (output path, separator)} of RUNS and SHARED, after checking each exited with status 0."""
    out = {}
    for name, argv in {**RUNS, **SHARED}.items():
        done = background.result(name)
        if done is None:                        # no background process: run it here
            path = tmp_path_factory.mktemp(name) / "out"
            code, err = main([a.replace("{out}", str(path)) for a in argv]), ""
        else:
            code, _, err, path = done
        assert code == 0, (name, err)
        if name == "export_iamc":
            path = Path(str(path) + ".iamc.csv")
        out[name] = (Path(path), ";" if "--csv-sep" in argv else ",")
    return out


@pytest.fixture(scope="module")
def backtest_result(background):
    done = background.value("backtest_default")
    if done is not None:
        return done[0]
    from pmq.estimation.backtest import backtest
    return backtest([2012], 2014)


def _check_csv(path: Path, sep: str) -> pd.DataFrame:
    """The file starts with one BOM, is UTF-8 without mojibake, and pandas (utf-8-sig) and pmq's reader give the
    same table; with ';' every number has a decimal comma.  Returns the table as pandas reads it."""
    raw = path.read_bytes()
    assert raw.startswith(BOM) and not raw[3:].startswith(BOM), path.name
    text = raw[3:].decode("utf-8")                                   # strict: fails on anything but UTF-8
    assert "\ufeff" not in text and "Ã" not in text and "â€" not in text, path.name
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    assert len({len(r) for r in rows}) == 1, f"{path.name}: ragged rows with {sep!r}"
    if sep == ";":
        assert not any(POINT_NUMBER.match(f) for r in rows[1:] for f in r), path.name
    df = pd.read_csv(path, encoding="utf-8-sig", sep=sep, decimal="," if sep == ";" else ".")
    assert list(df.columns) == rows[0] and not str(df.columns[0]).startswith("\ufeff")
    assert any(pd.api.types.is_float_dtype(df[c]) for c in df.columns), f"{path.name}: no number read"
    if len(raw) < 64_000:          # pmq's reader (BOM, ';', decimal commas) on the small files: it is slower
        ours, _ = read_table(path, name="output")
        assert ours.shape == df.shape and [str(c).strip() for c in ours.columns] == list(df.columns)
    return df


def _files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(path.glob("*.csv"))


def test_every_command_writes_csv_with_a_bom_that_round_trips(command_outputs, backtest_result, tmp_path):
    """run (summary, ensemble quantiles and parameters), compare, imbalance, export (both separators), skills,
    passerelles, reproduce, IAMC and backtest: every CSV file has the BOM and reads back, accents included."""
    names = {}
    for job, (path, sep) in command_outputs.items():
        files = _files(path)
        assert files, job
        for f in files:
            df = _check_csv(f, sep)
            names[f"{job}/{f.name}"] = df
    # backtest: its CSV writers through write_atomically, as `pmq backtest --out` does (not its chart: slow)
    writers = {k: w for k, w in backtest_result.writers(lang="fr").items() if k.endswith(".csv")}
    csvs = write_atomically(tmp_path / "bt", writers)
    assert len(csvs) >= 4
    for f in csvs:
        names[f"backtest/{f.name}"] = _check_csv(f, ",")
    # the accents read back as pmq wrote them
    for key in ("csv_run/summary.csv", "csv_imbalance/imbalance.csv", "csv_export_comma/regions.csv",
                "csv_export_semicolon/regions.csv", "csv_compare/compare_domains.csv"):
        table = names[key]
        assert "Île-de-France" in set(table.get("territory_name", table.get("domain_label"))) or \
            "Agriculture, marine, pêche" in set(table.get("domain_label", [])), key
        assert table["period" if "period" in table else "horizon"].eq("2019–2021").all(), key
    assert names["csv_ensemble/quantiles_regions.csv"]["period"].eq("2019–2021").all()
    assert len(names["csv_ensemble/parameters.csv"]) == 3                        # one row per draw
    assert "France métropolitaine" in set(names["export_iamc/" + command_outputs["export_iamc"][0].name]["region"])
    assert names["csv_passerelles/passerelles.csv"]["metier_label"].eq("Aides à domicile").all()
    assert names["csv_skills/skills.csv"]["territory_name"].eq("France métropolitaine").all()
    assert names["backtest/backtest_metrics.csv"]["model"].notna().all()


def test_semicolon_and_comma_files_hold_the_same_numbers(command_outputs):
    comma = {f.name: f for f in _files(command_outputs["csv_export_comma"][0])}
    semi = {f.name: f for f in _files(command_outputs["csv_export_semicolon"][0])}
    assert sorted(comma) == sorted(semi) == ["domaines.csv", "metiers.csv", "regions.csv"]
    for name in comma:
        a = pd.read_csv(comma[name], encoding="utf-8-sig", dtype={"territory": str})
        b = pd.read_csv(semi[name], encoding="utf-8-sig", sep=";", decimal=",", dtype={"territory": str})
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
    # pmq's reader agrees (« ; » and decimal commas are how French Excel saves a CSV)
    ours, _ = read_table(semi["regions.csv"], name="regions")
    ref = pd.read_csv(comma["regions.csv"], encoding="utf-8-sig")
    np.testing.assert_allclose(ours["openings"].astype(float), ref["openings"], rtol=1e-12)
    # the IAMC file keeps the IAMC convention and reads with pandas' defaults (the BOM is skipped)
    iamc = pd.read_csv(command_outputs["export_iamc"][0])
    assert list(iamc.columns[:5]) == ["model", "scenario", "region", "variable", "unit"]


# ----------------------------------------------------------------------------- the central step
TABLE = pd.DataFrame({"territory_name": ["Île-de-France", "=HYPERLINK(\"x\")", "a;b", "Nord, Pas-de-Calais"],
                      "period": ["2019–2030"] * 4, "v": [1.5, -2.25, 3e-7, 1234567.0], "n": [1, -2, 3, 4]})


@pytest.mark.parametrize("sep, decimal", [(",", "."), (";", ","), (";", ".")])
def test_finish_csv_adds_the_bom_and_converts_the_separator(tmp_path, sep, decimal):
    with csv_dialect(sep, decimal) as d:
        assert current_csv_dialect() == d == CsvDialect(sep, decimal)
        write_atomically(tmp_path / "o", {"t.csv": lambda p: TABLE.to_csv(p, index=False)})
    assert current_csv_dialect() == CsvDialect()                  # the block's setting does not leak
    path = tmp_path / "o" / "t.csv"
    back = pd.read_csv(path, encoding="utf-8-sig", sep=sep, decimal=decimal)
    assert path.read_bytes().startswith(BOM)
    assert back["territory_name"].tolist() == ["Île-de-France", "'=HYPERLINK(\"x\")", "a;b", "Nord, Pas-de-Calais"]
    np.testing.assert_allclose(back["v"], TABLE["v"], rtol=1e-15)
    assert back["n"].tolist() == [1, -2, 3, 4] and back["period"].eq("2019–2030").all()
    assert neutralise_csv(path) is False                          # idempotent, whatever the separator
    before = path.read_bytes()
    finish_csv(path, CsvDialect(sep, decimal))                    # and so is the whole step
    assert path.read_bytes() == before


def test_write_csv_and_atomic_file(tmp_path):
    p = write_csv(TABLE, tmp_path / "w.csv", sep="point-virgule")       # names work too
    back = pd.read_csv(p, encoding="utf-8-sig", sep=";", decimal=",")
    np.testing.assert_allclose(back["v"], TABLE["v"])
    assert back["territory_name"].iloc[1] == "'=HYPERLINK(\"x\")"
    # a writer that already wrote a BOM gets no second one; an explicit dialect wins over the block's
    with csv_dialect(";"):
        atomic_file(tmp_path / "a.csv", lambda q: TABLE.to_csv(q, index=False, encoding="utf-8-sig"),
                    dialect=CsvDialect())
    raw = (tmp_path / "a.csv").read_bytes()
    assert raw.startswith(BOM) and not raw[3:].startswith(BOM) and b";" not in raw.split(b"\n")[0]
    # a file that is not UTF-8 is not pmq's table: left as it is
    (tmp_path / "x.csv").write_bytes("é;1\n".encode("latin-1"))
    finish_csv(tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes() == "é;1\n".encode("latin-1")


@pytest.mark.parametrize("sep, decimal, name, value", [("|", None, "sep", "|"), ("\t", None, "sep", "\t"),
                                                       (",", ",", "decimal", ","), (";", ";", "decimal", ";"),
                                                       (None, "x", "decimal", "x")])
def test_bad_separators_are_refused(sep, decimal, name, value):
    with pytest.raises(ArgumentError) as e:
        csv_dialect_of(sep, decimal)
    assert e.value.name == name and e.value.value == value and repr(value) in str(e.value)


def test_cli_csv_sep_mistakes_exit_2_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:                               # argparse: the option and the value
        main(["export", "reference", "--out", str(tmp_path / "t"), "--csv-sep", "|"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--csv-sep" in err and "'|'" in err
    for argv, words in [
        (["export", "reference", "--out", str(tmp_path / "t.xlsx"), "--csv-sep", ";"], ["--csv-sep", "xlsx"]),
        (["export", "reference", "--out", str(tmp_path / "t.iamc.csv"), "--csv-sep", ";"], ["--csv-sep", "IAMC"]),
        (["compare", "reference", "ademe_s3", "--csv-sep", ";"], ["--csv-sep", "--out"]),
        (["imbalance", "--csv-sep", "semicolon"], ["--csv-sep", "--out"]),
    ]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert all(w in err for w in words), (argv, err)
    assert list(tmp_path.iterdir()) == []                            # nothing written
