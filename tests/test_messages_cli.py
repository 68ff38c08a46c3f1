"""The command line speaks one language at a time: its help, argparse's own words and errors, its messages and
every library error raised during a command — French by default, English with ``--lang en`` (or ``PMQ_LANG=en``).
The French has no English prose and the English no French prose (:func:`test_one_language.foreign_words`);
names — options, metavars, files, keys, values — are the same in both."""
import re

import pytest

import pmq
from pmq.cli import argparse_message_fr, argv_lang, build_parser
from test_one_language import foreign_words
from test_hardening_cli import _cli  # main(argv) with its output captured, argparse's exit as its status

COMMANDS = ("run", "compare", "scenarios", "templates", "territories", "validate", "imbalance", "passerelles",
            "skills", "reproduce", "report", "export", "backtest")


def _prose(text: str) -> str:
    """``text`` without the identifiers a help holds: options (``--lang en``, ``--csv-sep``), metavars and other
    words in capitals (SCÉNARIO, N, README), choice sets ``{fr,en}``; what is left is the prose."""
    text = re.sub(r"--[\w-]+(?:[ =](?:fr|en)\b)?", " ", text)
    text = re.sub(r"\{[^{}]*\}", " ", text)
    return re.sub(r"\b[A-ZÉÈÀ][A-ZÉÈÀ0-9_]*\b", " ", text)


def _help(argv) -> str:
    code, out, err = _cli(argv)
    assert code == 0 and err == "", (argv, err)
    return out


# ----------------------------------------------------------------------------------------------- the help
@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_is_french_by_default_and_english_on_request(command):
    argv = [command] if command else []
    fr = _help([*argv, "--help"])
    en = _help([*argv, "--help", "--lang", "en"])
    assert fr.startswith("usage : pmq") and "options :" in fr and "afficher ce message d'aide et quitter" in fr
    assert en.startswith("usage: pmq") and "\noptions:" in en and "show this help message and exit" in en
    assert foreign_words(_prose(fr), "fr") == [], (command, foreign_words(_prose(fr), "fr"))
    assert foreign_words(_prose(en), "en") == [], (command, foreign_words(_prose(en), "en"))
    # the same options in both, the metavars in the reader's words
    assert re.findall(r"--[\w-]+", fr.split("\n\n")[0]) == re.findall(r"--[\w-]+", en.split("\n\n")[0])
    if command in ("run", "compare", "imbalance", "report", "export", "skills"):
        assert "SCÉNARIO" in fr and "SCENARIO" not in fr and "SCENARIO" in en
    if command == "run":
        assert "--horizon ANNÉES" in fr and "--out DOSSIER" in fr and "--horizon YEARS" in en and "--out DIR" in en
        assert "arguments positionnels :" in fr and "positional arguments:" in en


def test_the_help_is_wrapped_to_the_terminal_and_never_before_a_colon(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    for lang in ("fr", "en"):
        text = _help(["report", "--help", "--lang", lang])
        assert all(len(line) <= 60 for line in text.splitlines() if "{" not in line), lang   # but a choice set
        assert not any(line.lstrip().startswith((":", ";", "»")) for line in text.splitlines()), lang


def test_pmq_lang_sets_the_help_and_a_wrong_one_is_named(monkeypatch):
    monkeypatch.setenv("PMQ_LANG", "en")
    assert _help(["run", "--help"]).startswith("usage: pmq run")
    assert _help(["run", "--help", "--lang", "fr"]).startswith("usage : pmq run")      # --lang first
    assert build_parser().parse_args(["run", "reference"]).lang == "en"                # and the command's language
    monkeypatch.setenv("PMQ_LANG", "de")
    code, out, err = _cli(["run", "reference"])
    assert code == 2 and out == ""
    assert err.startswith("pmq : erreur : PMQ_LANG : ") and "'de'" in err and "'fr' ou 'en'" in err
    assert foreign_words(err, "fr") == []
    assert _cli(["run", "--help", "--lang", "en"])[0] == 0                              # --lang needs no PMQ_LANG


def test_the_language_is_read_from_the_command_line():
    assert argv_lang(["run", "x", "--lang", "en"]) == "en"
    assert argv_lang(["run", "x", "--lang=en"]) == "en"
    assert argv_lang(["--lang", "en", "run", "x", "--lang", "fr"]) == "fr"           # the last, as argparse
    assert argv_lang(["run", "x", "--lang", "de"]) is None                             # refused by the parser
    assert argv_lang(["run", "--", "--lang", "en"]) is None
    assert build_parser("en").format_help().startswith("usage: pmq")
    with pmq.set_options(lang="en"):                                                   # a program's choice
        assert build_parser().format_help().startswith("usage: pmq")
    assert build_parser().format_help().startswith("usage : pmq")


def test_the_docs_site_shows_the_english_help(monkeypatch):
    """docs/_ext/pmq_docs.py builds the English parser, whatever the build machine's PMQ_LANG."""
    from pathlib import Path
    source = (Path(__file__).resolve().parents[1] / "docs" / "_ext" / "pmq_docs.py").read_text(encoding="utf-8")
    assert 'build_parser("en")' in source
    monkeypatch.setenv("PMQ_LANG", "fr")
    assert build_parser("en").format_help().startswith("usage: pmq")


# ----------------------------------------------------------------------------------- argparse's own errors
@pytest.mark.parametrize("argv, fr_words, en_words", [
    (["run", "reference", "--bogus"], "arguments non reconnus : --bogus", "unrecognized arguments: --bogus"),
    (["run"], "arguments obligatoires manquants : SCÉNARIO", "the following arguments are required: SCENARIO"),
    (["run", "reference", "--level", "canton"], "argument --level : niveau inconnu", "argument --level: "),
    (["export", "reference", "--out", "x.xlsx", "--format", "pdf"],
     "argument --format : choix invalide : 'pdf' (choix possibles : 'xlsx', 'csv', 'nc', 'iamc')",
     "argument --format: invalid choice: 'pdf' (choose from 'xlsx', 'csv', 'nc', 'iamc')"),
    (["runn"], "argument COMMANDE : choix invalide : 'runn'", "argument COMMAND: invalid choice: 'runn'"),
    (["run", "reference", "--out"], "argument --out : une valeur est attendue", "argument --out: expected one argument"),
    (["run", "reference", "--l", "x"], "option ambiguë : --l peut désigner", "ambiguous option: --l could match"),
    (["run", "reference", "--horizon", "0"], "argument --horizon : doit être un nombre d'années de 1 à 60, reçu '0'",
     "argument --horizon: must be a number of years from 1 to 60, got '0'"),
    (["run", "reference", "--draws", "deux"], "argument --draws : un nombre entier est attendu, reçu 'deux'",
     "argument --draws: expected a whole number, got 'deux'"),
    (["run", "reference", "--csv-sep", "|"], "argument --csv-sep : doit valoir ','", "argument --csv-sep: must be ','"),
])
def test_syntax_errors_in_the_reader_language_exit_2(argv, fr_words, en_words):
    code, out, err = _cli(argv)
    assert code == 2 and out == ""
    usage, message = err.rstrip("\n").split("\n")[0], err.rstrip("\n").split("\n")[-1]
    assert usage.startswith("usage : pmq") and re.match(r"pmq( \w+)? : erreur : ", message), err
    assert fr_words in message, message
    assert foreign_words(_prose(message), "fr") == [], message
    code, out, err = _cli([*argv, "--lang", "en"] if argv[-1] != "--out" else [*argv[:-1], "--lang", "en", "--out"])
    assert code == 2
    message = err.rstrip("\n").split("\n")[-1]
    assert err.startswith("usage: pmq") and re.match(r"pmq( \w+)?: error: ", message) and en_words in message, err
    assert foreign_words(_prose(message), "en") == [], message


@pytest.mark.parametrize("argv", [["run", "reference", "--territory", "Bretagne"], ["report", "reference", "--horizn", "5"]])
def test_a_commands_unrecognized_arguments_show_that_commands_usage(argv):
    for lang, error in (("fr", " : erreur : "), ("en", ": error: ")):
        code, out, err = _cli([*argv, "--lang", lang])
        lines = err.rstrip("\n").split("\n")
        assert code == 2 and out == ""
        assert lines[0].startswith(f"usage{' :' if lang == 'fr' else ':'} pmq {argv[0]} "), err    # not pmq's own
        assert lines[-1].startswith(f"pmq {argv[0]}{error}") and argv[2] in lines[-1], err


def test_every_argparse_message_has_its_french():
    for en, fr in [
        ("the following arguments are required: --out", "arguments obligatoires manquants : --out"),
        ("one of the arguments --a --b is required", "l'un des arguments --a --b est obligatoire"),
        ("argument --x: expected at most one argument", "argument --x : une valeur au plus est attendue"),
        ("argument --x: expected at least one argument", "argument --x : une valeur au moins est attendue"),
        ("argument --x: expected 2 arguments", "argument --x : 2 valeurs sont attendues"),
        ("argument --x: invalid int value: 'a'", "argument --x : valeur invalide pour int : 'a'"),
        ("argument --x: not allowed with argument --y", "argument --x : incompatible avec l'argument --y"),
        ("argument --x: ignored explicit argument 'v'", "argument --x : valeur explicite ignorée : 'v'"),
    ]:
        assert argparse_message_fr(en) == fr
        assert foreign_words(_prose(fr), "fr") == [], fr
    assert argparse_message_fr("argument --x : déjà français") == "argument --x : déjà français"


# ------------------------------------------------------------------------------ the command's own messages
def _error(argv) -> str:
    code, out, err = _cli(argv)
    assert code == 2, (code, err)
    lines = [line for line in err.splitlines() if line.startswith(("pmq : erreur : ", "pmq: error: "))]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("make, named", [
    (lambda t: ["run", "reference", "--data", t / "nowhere"], ["--data", "nowhere"]),
    (lambda t: ["run", "reference", "--out", " "], ["--out", "' '"]),
    (lambda t: ["run", "reference", "--out", "a\nb"], ["--out", "'a\\nb'"]),
    (lambda t: ["run", "reference", "--out", t / "f.txt" / "sous"], ["f.txt"]),
    (lambda t: ["run", "reference", "--key", t / "nokey.csv"], ["--key", "nokey.csv"]),
    (lambda t: ["run", "reference", "--data", t, "--dom"], ["--dom"]),
    (lambda t: ["run", "reference", "--draws", "2", "--scheduler", "carrier-pigeon", "--out", t / "o"],
     ["--scheduler", "'carrier-pigeon'"]),
    (lambda t: ["imbalance", "--csv-sep", ";"], ["--csv-sep", "';'"]),
    (lambda t: ["export", "reference", "--out", t / "tables.csv"], ["--out", "tables.csv"]),
    (lambda t: ["export", "reference", "--out", t / "tables.docx"], ["--out", "'.docx'"]),
    (lambda t: ["export", "reference", "--out", t / "t.iamc.nc", "--format", "iamc"], ["--out", "t.iamc.nc"]),
    (lambda t: ["export", "reference", "--out", t / "t.xlsx", "--csv-sep", ";"], ["--csv-sep", "--format xlsx"]),
    (lambda t: ["scenarios", "--out", t / "x"], ["--out", "--copy"]),
    (lambda t: ["scenarios", "--copy", "reference"], ["--copy", "'reference'"]),
    (lambda t: ["scenarios", "--copy", "nothing", "--out", t / "x"], ["--copy", "'nothing'", "ademe_s3"]),
    (lambda t: ["compare", "reference", "reference", "--horizon", "1"], ["scenario.name", "'reference'"]),
    (lambda t: ["backtest", "--from", "2012,deux"], ["--from", "'2012,deux'"]),
    (lambda t: ["backtest", "--from", ","], ["--from", "','"]),
    (lambda t: ["passerelles", "ZZZ", "--horizon", "1"], ["'ZZZ'"]),      # MÉTIER / OCCUPATION: test_messages_review
    (lambda t: ["compare", "reference", "--territory", "Atlantis", "--horizon", "1"], ["--territory", "'Atlantis'"]),
])
def test_the_command_line_errors_in_each_language(make, named, tmp_path):
    (tmp_path / "f.txt").write_text("mine", encoding="utf-8")
    argv = make(tmp_path)
    fr = _error(argv)
    assert fr.startswith("pmq : erreur : ") and foreign_words(fr, "fr") == [], (fr, foreign_words(fr, "fr"))
    en = _error([*argv, "--lang", "en"])
    assert en.startswith("pmq: error: ") and foreign_words(en, "en") == [], (en, foreign_words(en, "en"))
    for name in named:
        assert name in fr and name in en, (name, fr, en)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]                  # nothing written


def test_a_library_error_during_a_command_is_in_the_command_language(tmp_path):
    """pmq.scenario's error, raised while ``pmq run`` works: in the language of ``--lang``."""
    bad = tmp_path / "mauvais.toml"
    bad.write_text("[scenario]\nname = \"x\"\nextends = \"referense\"\n", encoding="utf-8")
    fr = _error(["run", bad, "--out", tmp_path / "o"])
    en = _error(["run", bad, "--out", tmp_path / "o", "--lang", "en"])
    assert "mauvais.toml" in fr and "mauvais.toml" in en and "'referense'" in fr and "'referense'" in en
    assert foreign_words(fr, "fr") == [] and foreign_words(en, "en") == [], (fr, en)
    assert fr != en
    assert pmq.get_options()["lang"] == "fr"                                          # restored after the command


def test_warnings_and_notes_in_the_command_language(tmp_path):
    late = tmp_path / "tard.toml"
    late.write_text('[scenario]\nname = "tard"\nextends = "reference"\n\n[[young_entrants.adjust]]\nid = "late"\n'
                    'factor = 1.2\nfrom_year = 2040\nto_year = 2045\nassumption = "test"\n', encoding="utf-8")
    code, _, err = _cli(["run", late, "--horizon", "2", "--out", tmp_path / "fr"])
    assert code == 0, err
    line = next(ln for ln in err.splitlines() if "late" in ln)
    assert line.startswith("pmq : avertissement : ") and "tard.toml" in line and foreign_words(line, "fr") == []
    code, _, err = _cli(["run", late, "--horizon", "2", "--out", tmp_path / "en", "--lang", "en"])
    line = next(ln for ln in err.splitlines() if "late" in ln)
    assert code == 0 and line.startswith("pmq: warning: ") and foreign_words(line, "en") == []


def test_validate_counts_the_invalid_files_in_each_language(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario\n", encoding="utf-8")
    code, _, err = _cli(["validate", "reference", bad])
    assert code == 2 and err.splitlines()[-1] == "pmq : 1 fichier sur 2 invalide"
    code, _, err = _cli(["validate", "reference", bad, "--lang", "en"])
    assert code == 2 and err.splitlines()[-1] == "pmq: 1 of 2 file(s) invalid"


def test_an_unknown_territory_is_named_once_with_the_closest_names():
    for lang, start in (("fr", "pmq : erreur : --territory : territoire inconnu 'Bretagen' ; noms les plus proches : "),
                        ("en", "pmq: error: --territory: unknown territory 'Bretagen'; closest matches: ")):
        code, out, err = _cli(["report", "reference", "--territory", "Bretagen", "--lang", lang])
        assert code == 2 and out == "" and err.startswith(start), err
        assert err.count("Bretagen") == 1 and "Bretagne (53)" in err, err
