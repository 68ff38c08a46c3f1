"""A French-speaking analyst's review of the command line's messages and help (French by default, English with
--lang en): each finding, tested for what the message says, in both languages where it applies."""
from __future__ import annotations

import re

import pytest

from pmq.cli import build_parser, main
from pmq.estimation.backtest import backtest
from test_one_language import foreign_words


def _run(capsys, argv):
    """(exit status, stdout, stderr) of ``pmq argv`` (argparse's refusals exit through SystemExit)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _error(capsys, argv) -> str:
    code, _, err = _run(capsys, argv)
    assert code == 2, err
    return err.strip().splitlines()[-1]


# ------------------------------------------------------------------------- 1. backtest's errors name the option
def test_an_origin_too_early_names_from_once(capsys):
    fr = _error(capsys, ["backtest", "--from", "1990"])
    assert fr == ("pmq : erreur : --from : origine 1990 trop ancienne : les modèles de tendance demandent au moins "
                  "8 années connues (séries depuis 1983) ; première origine possible : 1991")
    en = _error(capsys, ["backtest", "--from", "1990", "--lang", "en"])
    assert en == ("pmq: error: --from: origin 1990 too early: the trend models need at least 8 known years (series "
                  "from 1983); first possible origin: 1991")
    for msg in (fr, en):
        assert msg.count("1990") == 1 and "Dares" not in msg and "'from'" not in msg
    assert foreign_words(fr, "fr") == [] and foreign_words(en, "en") == []


def test_an_end_beyond_the_data_names_to(capsys):
    fr = _error(capsys, ["backtest", "--to", "2030"])
    assert fr.startswith("pmq : erreur : --to : fenêtre de fin 2030 au-delà") and "dernière fin possible : 2018" in fr
    assert fr.count("2030") == 1 and "[2030]" not in fr and "Dares" not in fr
    en = _error(capsys, ["backtest", "--to", "2030", "--lang", "en"])
    assert en.startswith("pmq: error: --to: end window 2030 beyond") and "last possible end: 2018" in en
    assert foreign_words(fr, "fr") == [] and foreign_words(en, "en") == []
    fr = _error(capsys, ["backtest", "--from", "2012", "--horizon", "9"])      # the end set by --horizon
    assert fr.startswith("pmq : erreur : --horizon : fenêtre de fin 2020 hors des pyramides")


def test_a_missing_input_file_is_named_once_with_its_option(capsys, tmp_path):
    fr = _error(capsys, ["backtest", "--pyramids", "nofile.csv"])
    assert fr == "pmq : erreur : --pyramids : fichier introuvable (valeur : 'nofile.csv')"
    en = _error(capsys, ["backtest", "--employment", "nofile.csv", "--lang", "en"])
    assert en == "pmq: error: --employment: no such file (value: 'nofile.csv')"
    fr = _error(capsys, ["backtest", "--pyramids", tmp_path])
    assert fr.startswith("pmq : erreur : --pyramids : est un dossier") and foreign_words(fr, "fr") == []


def test_the_library_names_its_own_arguments():
    from pmq.errors import ArgumentError
    with pytest.raises(ArgumentError, match="première origine possible : 1991") as e:
        backtest(1990, 2018)
    assert e.value.name == "start (--from)" and str(e.value).count("1990") == 1


# ------------------------------------------------------------------------- 2. a territory of another level
@pytest.mark.parametrize("typed, fr, en", [
    ("Finistère", "Finistère est un département (29) : ajoutez --level departement",
     "Finistère is a département (29): add --level departement"),
    ("29", "Finistère est un département (29) : ajoutez --level departement",
     "Finistère is a département (29): add --level departement"),
    ("Brest", "Brest est une zone d'emploi (5302) : ajoutez --level zone_emploi",
     "Brest is a zone d'emploi (5302): add --level zone_emploi"),
    ("Guadeloupe", "Guadeloupe est une région d'outre-mer (01), estimée par pmq : ajoutez --dom",
     "Guadeloupe is an overseas région (01), estimated by pmq: add --dom"),
])
def test_a_territory_of_another_level_says_which_level(capsys, typed, fr, en):
    got = _error(capsys, ["imbalance", "--territory", typed, "--horizon", "1"])
    assert got == f"pmq : erreur : --territory : {fr}"
    got = _error(capsys, ["imbalance", "--territory", typed, "--horizon", "1", "--lang", "en"])
    assert got == f"pmq: error: --territory: {en}"


def test_a_zone_at_the_departements_level_asks_for_zones(capsys):
    got = _error(capsys, ["imbalance", "--level", "departement", "--territory", "Brest", "--horizon", "1"])
    assert got.endswith("Brest est une zone d'emploi (5302) : ajoutez --level zone_emploi")


# ------------------------------------------------------------------------- 3. an option given twice
@pytest.mark.parametrize("argv, named", [
    (["report", "reference", "--territory", "Bretagne", "--territory", "Normandie"],
     ["--territory", "Bretagne", "Normandie"]),
    (["imbalance", "--top", "3", "--top", "4"], ["--top", "3", "4"]),
    (["run", "reference", "--horizon", "5", "--horizon", "6"], ["--horizon", "5", "6"]),
    (["backtest", "--from", "2012", "--from", "2013"], ["--from", "2012", "2013"]),
])
def test_an_option_given_twice_is_refused_naming_both_values(capsys, argv, named):
    fr = _error(capsys, argv)
    assert "donnée deux fois" in fr and foreign_words(fr, "fr") == []
    en = _error(capsys, [*argv, "--lang", "en"])
    assert "given twice" in en and foreign_words(en, "en") == []
    for name in named:
        assert name in fr and name in en


def test_repeatable_options_stay_repeatable_and_a_repeat_of_one_value_is_harmless():
    p = build_parser("fr")
    args = p.parse_args(["compare", "reference", "--territory", "Bretagne", "--territory", "Normandie"])
    assert args.territory == ["Bretagne", "Normandie"]
    assert p.parse_args(["imbalance", "--top", "3", "--top", "3"]).top == 3
    assert not hasattr(args, "_pmq_given")


# ------------------------------------------------------------------------- 4, 5, 7. the help texts
def _helps(lang: str) -> dict[str, str]:
    p = build_parser(lang)
    return {"pmq": p.format_help(), **{name: c.format_help() for name, c in p.commands.items()}}


def _option_help(text: str, option: str) -> str:
    """The help of ``option`` in a command's help, on one line."""
    m = re.search(rf"^  {re.escape(option)}\b.*?(?=^  -|\Z)", text, re.S | re.M)
    assert m, option
    return re.sub(r"\s+", " ", m.group(0))


def test_horizon_is_described_one_way():
    for lang, words in (("fr", "années depuis l'année de base, 1–60"), ("en", "years from the base year, 1–60")):
        helps = _helps(lang)
        for name in ("run", "compare", "imbalance", "passerelles", "skills", "report", "export", "validate"):
            assert words in _option_help(helps[name], "--horizon"), (lang, name)
        assert "pas annuels" not in helps["run"] and "durée de la projection" not in helps["export"]


def test_seed_bom_and_national_total_are_worded_one_way():
    for lang in ("fr", "en"):
        helps = _helps(lang)
        assert _option_help(helps["run"], "--seed").split(" ", 3)[3] == _option_help(helps["report"], "--seed").split(
            " ", 3)[3]
        text = " ".join(re.sub(r"\s+", " ", h) for h in helps.values())
        assert "indicateur d'ordre des octets" not in text and "byte-order mark" not in text
        assert ("UTF-8 avec BOM" if lang == "fr" else "UTF-8 with BOM") in text
        assert "lignes FR" not in text and "lignes « Ensemble »" not in text


def test_the_wording_asked_for():
    fr = " ".join(re.sub(r"\s+", " ", h) for h in _helps("fr").values())
    assert "que la version française d'Excel ouvre directement" in fr and "comme Excel en français" not in fr
    assert "Sont refusés :" in fr and "\nRefusés" not in fr
    assert "un dossier de sortie (figures, ensemble.zarr, export CSV) que pmq n'a pas écrit" in fr
    assert "« Errors and exit status » (en anglais)" in fr
    assert "au-delà de la borne" in fr and "de plus que la borne" not in fr


def test_the_english_help_has_no_french_quotes_nor_metier_metavar():
    helps = _helps("en")
    assert "OCCUPATION" in helps["passerelles"] and "MÉTIER" not in helps["passerelles"]
    for name, text in helps.items():
        assert "«" not in text and "»" not in text, name
    assert "MÉTIER" in _helps("fr")["passerelles"]


def test_the_horizon_range_is_worded_one_way(capsys):
    a = _error(capsys, ["run", "reference", "--horizon", "0"])
    b = _error(capsys, ["report", "reference", "--horizon", "0"])
    assert "doit être un nombre d'années de 1 à 60" in a and "doit être un nombre d'années de 1 à 60" in b
    assert b.count("--horizon") == 1


def test_an_unknown_metier_is_named_by_the_argument_of_the_help(capsys, tmp_path):
    fr = _error(capsys, ["passerelles", "ZZZ", "--horizon", "1"])
    en = _error(capsys, ["passerelles", "ZZZ", "--horizon", "1", "--lang", "en"])
    assert "MÉTIER" in fr and "'ZZZ'" in fr and "OCCUPATION" in en and "'ZZZ'" in en and "MÉTIER" not in en


# ------------------------------------------------------------------------- 6. small
def test_lang_ignores_case(capsys):
    code, out, _ = _run(capsys, ["--lang=EN", "territories", "--level", "region"])
    assert code == 0 and out.startswith("code") and "name" in out.splitlines()[0]
    code, out, _ = _run(capsys, ["territories", "--level", "region", "--lang", "FR"])
    assert code == 0 and "nom" in out.splitlines()[0]


@pytest.mark.parametrize("argv, fr, en", [
    (["comapre", "reference"], "vouliez-vous dire compare ?", "did you mean compare?"),
    (["skills", "reference", "--by", "grene", "--out", "x"], "vouliez-vous dire green ?", "did you mean green?"),
    (["run", "reference", "--horizn", "5"], "--horizn : vouliez-vous dire --horizon ?",
     "--horizn: did you mean --horizon?"),
    (["run", "reference", "--territory", "Bretagne"], "run ne prend pas --territory", "run does not take --territory"),
])
def test_a_mistyped_command_or_option_gets_a_suggestion(capsys, argv, fr, en):
    got = _error(capsys, argv)
    assert fr in got and foreign_words(got, "fr") == [], got
    got = _error(capsys, ["--lang", "en", *argv])
    assert en in got and foreign_words(got, "en") == [], got


def test_max_memory_takes_french_units():
    p = build_parser("fr")
    for typed, read in (("8Go", "8G"), ("500 Mo", "500M"), ("1,5 Go", "1.5G"), ("8G", "8G"), ("off", "off")):
        assert p.parse_args(["run", "reference", "--draws", "2", "--max-memory", typed]).max_memory == read


def test_max_memory_refusal_says_which_units(capsys):
    got = _error(capsys, ["run", "reference", "--draws", "2", "--max-memory", "8 gigas"])
    assert "Go" in got and "Mo" in got and foreign_words(got, "fr") == []


# ------------------------------------------------------------------------- 8. backtest's table
def test_backtest_table_names_models_in_french():
    r = backtest(2012, 2018, bootstrap=0, rolling=False)
    fr, en = r.summary("fr"), r.summary("en")
    for label in ("pyramide constante", "parts amorties", "naïf (emploi constant)", "naïf (part constante)",
                  "log-linéaire"):
        assert label in fr
    assert not re.search(r"\b(?:constant_pyramid|shares_damped|naive|naive_share|loglinear)\b", fr)
    assert "EAM" not in fr and "MAPE" in fr
    assert "constant_pyramid" in en and "naive_share" in en                  # English: the CSV files' codes
