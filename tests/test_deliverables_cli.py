"""What analysts take away: a period named with a plain hyphen (``pmq.select(…, period="2019-2030")``), the
terminal tables and workbooks of ``pmq backtest``, ``pmq reproduce`` and ``pmq skills`` in the reader's language,
the built-in scenarios and the data templates copied out of the installed package (``pmq scenarios --copy``,
``pmq templates``), and the reliability note in French words."""
import re
import tomllib

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pmq
from pmq.outputs import FILES_RECORD
from pmq.cli import main
from pmq.data import data_path
from pmq.errors import ArgumentError
from pmq.export import read_excel_tables
from pmq.scenario.read import builtin_scenarios

#: English words that French prose never has (function words, and the English identifiers of the CSV columns).
ENGLISH = ("the", "of", "and", "is", "from", "with", "by", "which", "to", "for", "are", "not", "in", "window",
           "model", "better", "rows", "column", "written", "reliability", "estimated", "reliable", "class", "jobs")


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-zà-ÿ]+", text.lower()))


def _run(capsys, argv, status=0):
    assert main([str(a) for a in argv]) == status
    return capsys.readouterr()


# --------------------------------------------------------------------------------- period with a plain hyphen
@pytest.fixture(scope="module")
def horizons(reference_2030):
    return reference_2030.horizons()


@pytest.mark.parametrize("period", ["2019–2030", "2019-2030", "2019—2030", " 2019 - 2030 ", "2019\u202f–\u202f2030",
                                    2030, np.int64(2030), "2030"])
def test_a_period_is_named_with_any_dash_or_by_its_end_year(horizons, period):
    got = pmq.select(horizons, territory="PACA", period=period)
    assert list(got.period.values) == ["2019–2030"]
    expected = float(horizons["openings"].sel(period="2019–2030", territory="93").sum())
    assert float(got["openings"].sum()) == pytest.approx(expected, rel=1e-12)
    assert float(got["openings"].sum()) / 1e3 == pytest.approx(636.1, abs=0.05)      # the README's figure


def test_several_periods_and_the_accessor(horizons):
    both = pmq.select(horizons, period=["2019-2024", 2030])
    assert list(both.period.values) == ["2019–2024", "2019–2030"]
    assert list(horizons.pmq.select(period="2019-2030").period.values) == ["2019–2030"]


@pytest.mark.parametrize("period", ["2019-2031", 2031, "2019/2030", "soon", 2030.5, True, []])
def test_a_period_not_in_the_data_is_refused_listing_those_it_holds(horizons, period):
    with pytest.raises(ArgumentError) as exc:
        pmq.select(horizons, period=period)
    text = str(exc.value)
    assert text.startswith("period : ") and repr(period) in text
    assert "2019–2030" in text and "2019–2024" in text


def test_accounts_without_periods_say_where_periods_are(reference_2030):
    with pytest.raises(ArgumentError, match=r"period : .*pas de dimension period.*horizons\(\)"):
        reference_2030.accounts.pmq.select(period="2019-2030")


# ------------------------------------------------------------------------------------- the reliability note
def test_the_french_reliability_note_speaks_french():
    from pmq.projection.indicators import reliability_note
    fr = reliability_note("fr")
    prose = re.sub(r"\([a-z_]+\)", " ", fr)          # the CSV identifiers, in brackets after their French word
    assert not _words(prose) & set(ENGLISH), _words(prose) & set(ENGLISH)
    assert "Fiabilité (reliability)" in fr and "Chiffre estimé (estimated)" in fr
    assert "10\u202f000 emplois" in fr
    en = reliability_note("en")
    assert en.startswith("Reliability: 0 reliable") and not _words(en) & {"fiabilité", "emplois", "estimé"}


# ---------------------------------------------------------------------------------------------- pmq backtest
@pytest.fixture(scope="module")
def backtest_result():
    from pmq.estimation.backtest import backtest
    return backtest([2010, 2012], 2018, bootstrap=100)     # 2010: the age part is not evaluated


def test_backtest_summary_in_each_language(backtest_result):
    fr, en = backtest_result.summary("fr"), backtest_result.summary("en")
    assert "fenêtre" in fr and "modèle" in fr and "origine glissante" in fr and "dissimilarité" in fr
    assert "structure par âge non évaluée depuis l'origine 2010" in fr and "première origine possible : 2011" in fr
    row = next(line for line in fr.splitlines() if line.startswith("2012→2018  parts (demi-tendance) "))
    assert re.fullmatch(r"2012→2018  parts \(demi-tendance\) +\d+,\d +\d+,\d +\d+,\d +\d+,\d\d", row), row
    assert re.search(r"\d\.\d", fr) is None                                      # no decimal point
    assert re.search(r"[−+]\d+,\d\d \[[−+]\d+,\d\d ; [−+]\d+,\d\d\]", fr)         # a bootstrap interval
    codes = r"\b(?:shares|shares_damped|naive|naive_share|combination|loglinear|damped|arima|constant_pyramid)\b"
    assert re.search(codes, fr) is None, re.search(codes, fr)   # the models by their French names (CSV: codes)
    assert "naïf (emploi constant)" in fr and "pyramide constante" in fr and "EAM" not in fr
    assert not _words(fr) & set(ENGLISH), _words(fr) & set(ENGLISH)
    assert "band MAE" in en and "rolling origin" in en and "age structure not evaluated" in en
    assert re.search(r"2012→2018  shares +\d+\.\d +\d+\.\d", en) and "fenêtre" not in en and "," not in \
        next(line for line in en.splitlines() if line.startswith("2012→2018  shares "))
    assert backtest_result.summary() == fr                                        # French unless asked


def test_pmq_backtest_prints_in_the_reader_language(backtest_result, monkeypatch, capsys, tmp_path):
    import pmq.estimation.backtest as bt
    monkeypatch.setattr(bt, "backtest", lambda *a, **k: backtest_result)          # the fits are the fixture's
    fr = _run(capsys, ["backtest", "--from", "2010,2012", "--to", "2018", "--out", tmp_path / "b"]).out
    assert fr.startswith("pmq backtest — DARES, Portraits statistiques des métiers (FAP-87, milliers)")
    assert "écrit : " in fr and "written" not in fr and "band MAE" not in fr
    en = _run(capsys, ["backtest", "--from", "2010,2012", "--to", "2018", "--lang", "en"]).out
    assert "band MAE" in en and "fenêtre" not in en
    m = pd.read_csv(tmp_path / "b" / "demand_metrics.csv", encoding="utf-8-sig")
    assert list(m.columns) == ["window", "model", "mape", "wmape", "dissimilarity", "direction_share"]  # identifiers


# --------------------------------------------------------------------------------------------- pmq reproduce
@pytest.fixture(scope="module")
def reproduction(reference_2030):
    from pmq.analysis.reproduce import reproduce_metiers2030
    return reproduce_metiers2030(projection=reference_2030)


def test_reproduce_table_in_each_language(reproduction):
    fr, en = reproduction.table("fr"), reproduction.table("en")
    assert "1\u202f049 lignes publiées" in fr and "écart max" in fr and "écart médian" in fr and "note : " in fr
    row = next(line for line in fr.splitlines() if line.startswith("effectifs_2019_milliers "))
    assert re.search(r"\d,\d+e−\d\d", row) and not re.search(r"\d\.\d|e-\d", row)
    prose = re.sub(r"\b\w+_\w+\b", " ", fr)            # the source's columns keep their identifiers
    assert not _words(prose) & set(ENGLISH), _words(prose) & set(ENGLISH)
    assert "1,049 published rows" in en and "max |diff|" in en and "écart" not in en
    for c in reproduction.columns:
        assert c in fr and c in en


def test_pmq_reproduce_workbook_headers_follow_the_language(reproduction, monkeypatch, capsys, tmp_path):
    from pmq.analysis import reproduce
    monkeypatch.setitem(reproduce.EXERCISES, "metiers2030", lambda **kw: reproduction)
    for lang, max_head, cell_head, word in (("fr", "Écart absolu maximal", "Effectifs 2019 (milliers) — publié",
                                             "écrit : "),
                                            ("en", "Largest absolute difference",
                                             "Employment 2019 (thousands) — published", "written: ")):
        out = tmp_path / lang
        printed = _run(capsys, ["reproduce", "metiers2030", "--out", out, "--lang", lang]).out
        assert printed.count(word) == 2
        book = out / "metiers2030_differences.xlsx"
        sheets = pd.read_excel(book, sheet_name=None, dtype=str)
        assert list(sheets) == ["README", "summary", "cells"]
        summary, cells = sheets["summary"], sheets["cells"]
        assert max_head in summary.columns and cell_head in cells.columns
        assert not {"max_abs_diff", "territory", "effectifs_2019_milliers_published"} & \
            (set(summary.columns) | set(cells.columns))
        # the codes keep columns of their own: source columns, FAP codes, INSEE codes
        assert list(summary.iloc[:, 0]) == list(reproduction.columns)
        assert set(cells.iloc[:, 3]) == set(reproduction.cells["territory"])
        # read back under the identifiers of the CSV file, the same numbers
        back = read_excel_tables(book)
        assert list(back["cells"].columns) == list(reproduction.cells.columns)
        for c in ("max_abs_diff", "median_abs_diff", "pmq_at_max"):
            np.testing.assert_allclose(back["summary"][c], reproduction.summary[c], rtol=1e-14)
        np.testing.assert_allclose(back["cells"]["postes_a_pourvoir_milliers_pmq"],
                                   reproduction.cells["postes_a_pourvoir_milliers_pmq"], rtol=1e-14)
        readme = " ".join(map(str, pd.read_excel(book, sheet_name="README", header=None).fillna("").to_numpy().ravel()))
        if lang == "fr":
            assert "feuille cells" in readme and "milliers" in set(summary.iloc[:, 2])
        else:
            assert "sheet cells" in readme and "Une ligne" not in readme and "thousands" in set(summary.iloc[:, 2])
        csv = pd.read_csv(out / "metiers2030_differences.csv", encoding="utf-8-sig", nrows=2)
        assert list(csv.columns) == list(reproduction.cells.columns)                      # identifiers


# ------------------------------------------------------------------------------------------------ pmq skills
@pytest.mark.parametrize("lang, heads", [("fr", {"Scénario", "Postes à pourvoir", "Part du total"}),
                                         ("en", {"Scenario", "Job openings", "Share of the total"})])
def test_skills_workbook_headers_follow_the_language(lang, heads, capsys, tmp_path):
    _run(capsys, ["skills", "reference", "--horizon", "2", "--top", "1", "--out", tmp_path / "s", "--lang", lang])
    with pd.ExcelFile(tmp_path / "s" / "skills.xlsx") as book:
        table = pd.read_excel(book, sheet_name="skills")
    assert heads <= set(table.columns) and not {"scenario", "openings", "share"} & set(table.columns)
    assert "non_rattache" in set(table["Code"])                         # codes in a column of their own
    share = "Part du total" if lang == "fr" else "Share of the total"
    assert table[share].dropna().between(0, 1).all()                    # a share, not persons
    csv = pd.read_csv(tmp_path / "s" / "skills.csv", encoding="utf-8-sig", nrows=1)
    assert {"scenario", "code", "openings", "share"} <= set(csv.columns)              # identifiers


# ------------------------------------------------------------------------------ copies of pmq's own files
def test_scenarios_alone_still_lists_them(capsys):
    out = _run(capsys, ["scenarios"]).out
    assert re.search(r"^reference +Scénario de référence", out, re.M) and "ademe_s3" in out


def test_copied_scenarios_validate_and_run_as_the_builtins(capsys, tmp_path):
    folder = tmp_path / "mes scénarios" / "neuf"                   # made, parents included
    printed = _run(capsys, ["scenarios", "--copy", "ademe_s3", "Reference.toml", "--out", folder]).out
    assert printed.count("écrit : ") == 2 and "étend le scénario intégré « reference »" in printed
    assert sorted(p.name for p in folder.iterdir()) == [FILES_RECORD, "ademe_s3.toml", "reference.toml"]
    for name in ("ademe_s3", "reference"):
        copy = tomllib.loads((folder / f"{name}.toml").read_text(encoding="utf-8"))
        assert copy == tomllib.loads(builtin_scenarios()[name].read_text(encoding="utf-8"))
        _run(capsys, ["validate", folder / f"{name}.toml"])
    _run(capsys, ["run", folder / "ademe_s3.toml", "--horizon", "3", "--out", tmp_path / "copy"])
    _run(capsys, ["run", "ademe_s3", "--horizon", "3", "--out", tmp_path / "builtin"])
    with xr.open_dataset(tmp_path / "copy" / "accounts.nc") as a, xr.open_dataset(tmp_path / "builtin" /
                                                                                  "accounts.nc") as b:
        for var in ("employment", "openings", "departures", "imbalance"):
            np.testing.assert_allclose(a[var].values, b[var].values, rtol=1e-12, atol=1e-9, err_msg=var)
        assert a.attrs["scenario"] == b.attrs["scenario"] == "ademe_s3"
        assert a.attrs["scenario_hash"] == b.attrs["scenario_hash"]          # the same resolved scenario
    en = _run(capsys, ["scenarios", "--copy", "bas_carbone_dares2023", "--out", folder, "--lang", "en"]).out
    assert "written: " in en and "extends the built-in scenario" in en and "écrit" not in en


def test_a_copy_never_replaces_a_file_and_writes_nothing(capsys, tmp_path):
    mine = tmp_path / "reference.toml"
    mine.write_text("# my own scenario\n", encoding="utf-8")
    err = _run(capsys, ["scenarios", "--copy", "ademe_s3", "reference", "--out", tmp_path], 2).err
    assert str(mine) in err and "existe déjà" in err and "--out" in err and "Traceback" not in err
    assert mine.read_text(encoding="utf-8") == "# my own scenario\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reference.toml"]          # no ademe_s3.toml either


@pytest.mark.parametrize("argv, named, shown", [
    (["scenarios", "--copy", "refrence", "--out", "{t}/x"], "--copy", ["'refrence'", "reference", "ademe_s3"]),
    (["scenarios", "--copy", "reference", "nothing", "--out", "{t}/x"], "--copy", ["'nothing'", "tendances_estimees"]),
    (["scenarios", "--out", "{t}/x"], "--out", ["--copy"]),
    (["scenarios", "--copy", "reference"], "--copy", ["--out"]),
    (["scenarios", "--copy", "reference", "--out", "{t}/file.txt"], "file.txt", ["n'est pas un dossier"]),
    (["templates", "--out", "{t}/file.txt"], "file.txt", ["n'est pas un dossier"]),
])
def test_copy_mistakes_exit_2_naming_the_option_and_value(argv, named, shown, capsys, tmp_path):
    (tmp_path / "file.txt").write_text("mine", encoding="utf-8")
    err = _run(capsys, [a.format(t=tmp_path) for a in argv], 2).err
    assert err.startswith("pmq : erreur : ") and named in err and "Traceback" not in err
    for word in shown:
        assert word in err, word
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_templates_are_copied_and_run(capsys, tmp_path):
    out = tmp_path / "mes données"
    printed = _run(capsys, ["templates", "--out", out]).out
    shipped = sorted(p.name for p in data_path("templates").iterdir() if p.is_file() and not p.name.startswith("."))
    assert sorted(p.name for p in out.iterdir()) == [FILES_RECORD, *shipped] and {"employment.csv", "hazards.csv"} <= set(shipped)
    assert printed.count("écrit : ") == len(shipped) and "pmq run reference --data" in printed
    for name in shipped:
        if name.endswith(".csv"):
            got = pd.read_csv(out / name, encoding="utf-8-sig", dtype=str)
            french = data_path("templates", "fr", name)             # its French notes, where it has some
            pd.testing.assert_frame_equal(got, pd.read_csv(french if french.is_file() else data_path("templates", name),
                                                           dtype=str))
    assert (out / "employment.csv").read_bytes().startswith(b"\xef\xbb\xbf")     # opens in French Excel
    _run(capsys, ["run", "reference", "--data", out, "--horizon", "2", "--out", tmp_path / "res"])
    en = _run(capsys, ["templates", "--out", tmp_path / "en", "--lang", "en"]).out
    assert "written: " in en and "fill them in" in en and "écrit" not in en


def test_templates_say_what_they_are_in_the_commands_language_only(capsys, tmp_path):
    for lang in ("fr", "en"):
        _run(capsys, ["templates", "--out", tmp_path / lang, "--lang", lang])
    fr, en = ((tmp_path / lang / "README.md").read_text(encoding="utf-8") for lang in ("fr", "en"))
    assert fr.startswith("# Modèles pour vos propres données") and "Copiez ces fichiers" in fr
    assert en.startswith("# Templates for your own data") and "Copy these files" in en
    assert "Copy" not in fr and "Copiez" not in en                              # one language at a time
    for f in ("employment.csv", "hazards.csv", "flows.csv", "tension.csv"):      # every table said, in both
        assert f"`{f}`" in fr and f"`{f}`" in en
    notes = {lang: (tmp_path / lang / "transitions_example.md").read_text(encoding="utf-8") for lang in ("fr", "en")}
    assert "MODÈLE ILLUSTRATIF, PAS DES DONNÉES" in notes["fr"] and "ILLUSTRATIVE TEMPLATE, NOT DATA" in notes["en"]
    rates = {lang: pd.read_csv(tmp_path / lang / "transitions_example.csv", encoding="utf-8-sig") for lang in ("fr", "en")}
    assert rates["fr"]["note"].str.startswith("ILLUSTRATIF - pas des données : ").all()
    assert rates["en"]["note"].str.startswith("ILLUSTRATIVE - not data: ").all()
    keys = ["origin", "destination", "rate", "age_min", "age_max"]             # the same template, its notes translated
    pd.testing.assert_frame_equal(rates["fr"][keys], rates["en"][keys])
    for lang in ("fr", "en"):                 # the example of each note runs as written
        code = re.search(r"```python\n(.*?)```", notes[lang], re.S).group(1)
        scope: dict = {}
        exec(compile(code, f"transitions_example.md ({lang})", "exec"), scope)
        assert float(abs(scope["flows"]["occ_inflow"]).sum()) > 0


def test_templates_never_replace_a_file(capsys, tmp_path):
    (tmp_path / "README.md").write_text("# my project\n", encoding="utf-8")
    err = _run(capsys, ["templates", "--out", tmp_path], 2).err
    assert str(tmp_path / "README.md") in err and "rien n'a été écrit" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]            # nothing written
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "# my project\n"


def test_the_help_names_the_new_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    text = re.sub(r"\s+", " ", text)                 # the help is wrapped to the terminal's width
    assert "templates" in text and "pmq scenarios --copy NOM --out DOSSIER" in text and "pmq templates --out DOSSIER" in text
