"""One language at a time for the messages of the scenario language, the name matching, the options, the numbers,
the outputs and the test helpers (issue 20): French by default, with no English prose but every file, key, value
and name the English gives; English under ``pmq.set_options(lang="en")``, as it was written before."""
import re
import tomllib
import warnings

import numpy as np
import pytest

import pmq
from pmq.errors import ArgumentError, InactiveLeverWarning, OutputError, PmqWarning, ScenarioError, UnknownNameError
from pmq.formatting import format_number
from pmq.labels import variable
from pmq.names import resolve
from pmq.outputs import check_outputs, check_target, csv_dialect_of
from pmq.scenario import read_scenario, warn_inactive_levers
from pmq.scenario.levers import Context, apply_demand, lever_from_table
from pmq.scenario.sectors import sector_key
from pmq.testing import assert_accounts
from test_one_language import assert_one_language, raised_in_both

HEAD = '[scenario]\nname = "t"\nextends = "reference"\n'




def _file(tmp_path, text: str, name: str = "t.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ------------------------------------------------------------------------------------------ scenario files
@pytest.mark.parametrize("body, names, fr_words, en_words", [
    ('[demand]\nspreding = "linear"\n', ["demand.spreding", "'linear'"],
     "clé inconnue, vouliez-vous dire 'spreading' ? Clés possibles", "unknown key, did you mean 'spreading'? Expected one of"),
    ('[demand]\nzzqx = "linear"\n', ["demand.zzqx", "'linear'"], "clé inconnue ; clés possibles",
     "unknown key; expected one of"),
    (HEAD + '[[demand.adjust]]\nid = "d"\nkind = "deviation"\nanchor = {2030 = 1}\nassumption = "x"\n',
     ["demand.adjust[d].anchor", "{2030 = 1})"], "clé inconnue, vouliez-vous dire 'anchors' ?",
     "did you mean 'anchors'?"),
    ('[demnd]\nspreading = "linear"\n', ["demnd"], "section inconnue", "unknown section"),
    ('[horizons]\nrun = "twenty"\n', ["horizons.run", "'twenty'", "2030"],
     "mauvais type : un nombre entier (2030, sans guillemets) est attendu, reçu un texte",
     "wrong type: a whole number (2030, without quotes) is expected, got a text"),
    ('[horizons]\nrun = 400\n', ["horizons.run", "400", "60"], "valeur non valide ; attendu : entre 1 et 60",
     "invalid value; expected between 1 and 60"),
    ('[demand]\ntrend = "magic"\n', ["demand.trend", "'magic'", "'published'"], "l'une des valeurs", "one of"),
    (HEAD + '[[exits.multiplier]]\nid = "m"\nfactor = 1.1\n', ["exits.multiplier[m]", "1.1", "source", "assumption"],
     "les nombres demandent une source", "numbers need a source"),
    (HEAD + '[[demand.adjust]]\nid = "g"\nkind = "growth"\nrate = 0.1\nperiod = [2030, 2025]\nassumption = "a"\n',
     ["demand.adjust[g].period", "[2030, 2025]"], "period doit être", "period must be"),
    (HEAD + '[[demand.adjust]]\nid = "g"\nkind = "growth"\nrate = 0.1\nperiod = [2025, 2030]\nanchors = {2030 = 1}\n'
     'assumption = "a"\n', ["demand.adjust[g].anchors", "'growth'"], "non autorisée ici", "not allowed here"),
    (HEAD + '[[demand.adjust]]\nid = "g"\nkind = "target"\nyear = 2030\nvalue = 1\nassumption = "a"\n',
     ["demand.adjust[g].from_year", "'from_year'"], "manquante", "missing key"),
    (HEAD + '[[demand.adjust]]\nid = "d"\nkind = "deviation"\nanchors = { "20x5" = 100 }\nassumption = "x"\n',
     ["demand.adjust[d].anchors.20x5", "'20x5'"], "années civiles", "calendar years"),
    (HEAD + '[[demand.adjust]]\nid = "d"\nkind = "deviation"\nanchors = {2030 = 1}\nsource = "A, https://a"\n'
     'assumption = "mine"\n', ["demand.adjust[d].assumption", "'mine'", "source", "assumption", "basis"],
     "pas les deux", "not both"),
    (HEAD + '[[net_mobility.adjust]]\nid = "n"\nfactor = 2\nterritory = ["11"]\nassumption = "a"\n',
     ["net_mobility.adjust[n].territory", "['11']"], "somme nulle", "zero-sum"),
    (HEAD + '[[exits.cohort_shift]]\nid = "c"\ncohorts = [1960, 1961]\nshift = [1]\nassumption = "a"\n',
     ["exits.cohort_shift[c].shift", "(2 ≠ 1)"], "même longueur", "same length"),
    (HEAD + '[[uncertainty.parameter]]\nid = "u"\nkind = "growth"\ndistribution = "uniform"\nlow = 1\nhigh = 0\n'
     'assumption = "a"\n', ["uncertainty.parameter[u]", "low < high"], "demande low < high", "needs low < high"),
    (HEAD + '[[demand.adjust]]\nid = "g"\nkind = "growth"\nmetier = ["B4z"]\nrate = 0.01\nperiod = [2025, 2030]\n'
     'assumption = "a"\n', ["demand.adjust[g].metier", "'B4Z'", "'B4z'"], "vouliez-vous dire", "did you mean"),
    (HEAD + '[[demand.adjust]]\nid = "g"\nkind = "growth"\nmetier = ["Q9Z"]\nrate = 0.01\nperiod = [2025, 2030]\n'
     'assumption = "a"\n', ["demand.adjust[g].metier", "'Q9Z'"], "code métier inconnu", "unknown métier code"),
    (HEAD + '[[demand.adjust]]\nid = "g"\nkind = "growth"\nterritory = ["Bretagn"]\nrate = 0.01\n'
     'period = [2025, 2030]\nassumption = "a"\n', ["demand.adjust[g].territory", "'Bretagn'", "Bretagne"],
     "territoire inconnu", "unknown territory"),
    (HEAD + 'source_fr = "Une source"\n', ["scenario.source_fr", "source = ", "source_fr", "source_en"],
     "est la version française de source", "is the French version of source"),
    (HEAD + 'title_en = "A\\nB"\n', ["scenario.title_en", "U+000A"], "caractères de contrôle", "control"),
    ('[scenario]\nextends = "t.toml"\n', ["scenario.extends", "t.toml"], "cycle dans extends", "extends cycle"),
    ('[scenario]\nname = "x"\n[demand]\nassumption = "a"\nhalf_life = 0,5\n', ["0,5", "0.5", "demand.half_life"],
     "ressemble à un nombre écrit à la française", "looks like a number written the French way"),
])
def test_a_wrong_scenario_file_is_told_in_one_language(tmp_path, body, names, fr_words, en_words):
    path = _file(tmp_path, body)
    fr, en = raised_in_both(lambda: read_scenario(path), ScenarioError)
    assert_one_language(fr, en, "t.toml", *names)
    assert fr_words in fr and en_words in en
    assert fr.startswith(str(path)) and en.startswith(str(path))
    assert re.search(r"\w: ", fr) is None and ": " in en                    # French typography: « : »


def test_a_toml_error_quotes_the_parser_and_places_it_in_french(tmp_path):
    path = _file(tmp_path, "[scenario\nname = ")
    fr, en = raised_in_both(lambda: read_scenario(path), ScenarioError)
    assert_one_language(fr, en, "t.toml")
    assert "TOML non valide (ligne 1, colonne 10) : crochet fermant ']' manquant à la fin de l'en-tête" in fr
    assert "not valid TOML: " in en and "(at line 1, column " in en


def test_a_file_that_is_not_utf8_is_told_in_one_language(tmp_path):
    utf16 = tmp_path / "u.toml"
    utf16.write_text('[scenario]\nname = "x"\n', encoding="utf-16")
    fr, en = raised_in_both(lambda: read_scenario(utf16), ScenarioError)
    assert_one_language(fr, en, "u.toml", "UTF-16", "UTF-8", "« Unicode »")
    latin = tmp_path / "l.toml"
    latin.write_text('[scenario]\nname = "x"\ntitle_fr = "Scénario"\n', encoding="cp1252")
    fr, en = raised_in_both(lambda: read_scenario(latin), ScenarioError)
    assert_one_language(fr, en, "l.toml", "0xe9", "« é »", "Windows-1252", "UTF-8")
    assert "à la ligne 3, colonne 15" in fr and "at line 3, column 15" in en


def test_an_unknown_scenario_names_the_closest_in_one_language():
    fr, en = raised_in_both(lambda: read_scenario("referense"), ScenarioError)
    assert_one_language(fr, en, "referense", "reference, reference_incertain", "pmq scenarios")
    assert "ni un fichier ni un scénario intégré ; les plus proches : reference" in fr
    fr, en = raised_in_both(lambda: read_scenario("nowhere/absent.toml"), ScenarioError)
    assert_one_language(fr, en, "absent.toml")
    assert "fichier de scénario introuvable" in fr and "scenario file not found" in en


def test_a_renamed_scenario_and_an_idle_lever_warn_in_one_language(tmp_path):
    said = {}
    for lang in ("fr", "en"):
        with pmq.set_options(lang=lang), pytest.warns(PmqWarning) as caught:
            read_scenario("bas_carbone")
        said[lang] = " ".join(str(w.message) for w in caught)
    assert_one_language(said["fr"], said["en"], "'bas_carbone'", "'bas_carbone_dares2023'",
                  "docs/scenarios/bas_carbone_dares2023.md")
    sc = read_scenario(_file(tmp_path, HEAD + '[[demand.adjust]]\nid = "late"\nkind = "deviation"\nmetier = ["B4Z"]\n'
                                              'anchors = { 2090 = 0, 2095 = 1000 }\nassumption = "a"\n'
                                              '[[supply.leavers]]\nid = "s"\nfactor = 2\nfrom_year = 2080\n'
                                              'assumption = "a"\n'))
    for lang in ("fr", "en"):
        with pmq.set_options(lang=lang), pytest.warns(InactiveLeverWarning) as caught:
            warn_inactive_levers(sc, 2019, 5)
        said[lang] = str(caught[0].message)
    assert_one_language(said["fr"], said["en"], "t.toml", "demand.adjust[late]", "anchors 2090, 2095", "supply.leavers[s]",
                  "from_year 2080", "2019–2024", "--horizon", "horizons.run")
    assert "2 leviers dont toutes les années sont hors de la projection" in said["fr"]
    assert "jeunes débutants 3 ans plus tard" in said["fr"] and "(anchors 2090, 2095) ; supply" in said["fr"]


def test_a_wrong_horizon_is_told_in_one_language():
    sc = read_scenario("reference")
    fr, en = raised_in_both(lambda: sc.with_horizon(0), ArgumentError)
    assert_one_language(fr, en, "horizon", "60", "horizons.run = 20", "reference.toml")
    assert "(valeur : 0)" in fr and "(value: 0)" in en


# --------------------------------------------------------------------------------- levers applied to arrays
CTX = Context(2020, ("11", "24"), ("A0Z", "A1Z", "B0Z"), ("A", "A", "B"), np.arange(15, 76),
              {"11": ["Île-de-France"], "24": ["Centre"]}, source="f.toml")


def _lever(text: str):
    return lever_from_table("demand.adjust", tomllib.loads(text)["demand"]["adjust"][0])


@pytest.mark.parametrize("text, names, fr_words", [
    ('[[demand.adjust]]\nid = "t"\nkind = "target"\nyear = 2040\nvalue = 10\nfrom_year = 2021\n',
     ["demand.adjust[t].year", "(2024)", "2040"], "au-delà de l'horizon"),
    ('[[demand.adjust]]\nid = "g"\nkind = "growth"\nrate = 0.1\nperiod = [2010, 2022]\n',
     ["demand.adjust[g].period", "2020"], "avant l'année de base"),
    ('[[demand.adjust]]\nid = "d"\nkind = "deviation"\nanchors = { 2021 = -1e9 }\n',
     ["demand.adjust[d]", "(2021, '11', 'A0Z')"], "zéro ou en dessous"),
    ('[[demand.adjust]]\nid = "x"\nkind = "growth"\nrate = 0.1\nperiod = [2021, 2022]\nterritory = ["Bretagne"]\n',
     ["demand.adjust[x].territory", "'Bretagne'"], "territoire inconnu"),
])
def test_a_lever_that_cannot_apply_is_told_in_one_language(text, names, fr_words):
    lever = _lever(text)
    fr, en = raised_in_both(lambda: apply_demand(np.ones((5, 2, 3)) * 100, [lever], CTX), ScenarioError)
    assert_one_language(fr, en, "f.toml", *names)
    assert fr_words in fr


# ------------------------------------------------------------------------------- names, labels, sectors
def test_unknown_names_are_told_in_one_language():
    regions = {"75": ["Nouvelle-Aquitaine"], "53": ["Bretagne"]}
    fr, en = raised_in_both(lambda: resolve("Nouvelle Aquitane", regions, kind="territory"), UnknownNameError)
    assert_one_language(fr, en, "'Nouvelle Aquitane'", "75 (Nouvelle-Aquitaine)")
    assert fr == "territoire inconnu 'Nouvelle Aquitane' ; noms les plus proches : 75 (Nouvelle-Aquitaine)"
    assert en == "unknown territory 'Nouvelle Aquitane'; closest matches: 75 (Nouvelle-Aquitaine)"
    fr, en = raised_in_both(lambda: resolve("Bretagn", regions, kind="région"), UnknownNameError)
    assert fr.startswith("région inconnue 'Bretagn'") and en.startswith("unknown région 'Bretagn'")
    fr, en = raised_in_both(lambda: resolve("zzz", regions, kind=("format", "format inconnu")), UnknownNameError)
    assert (fr, en) == ("format inconnu 'zzz'", "unknown format 'zzz'")
    fr, en = raised_in_both(lambda: variable("employmnet"), UnknownNameError)
    assert_one_language(fr, en, "'employmnet'", "employment", "net_creation")
    assert "vouliez-vous dire employment" in fr
    fr, en = raised_in_both(lambda: sector_key("spatial"), UnknownNameError)
    assert_one_language(fr, en, "'spatial'")
    assert fr.startswith("secteur inconnu 'spatial' ; secteurs possibles : agriculture, ") and "[" not in fr


# ------------------------------------------------------------------------------------ options and numbers
def test_a_wrong_option_or_language_is_told_in_one_language():
    fr, en = raised_in_both(lambda: pmq.set_options(langue="en"), ArgumentError)
    assert_one_language(fr, en, "langue", "lang")
    assert fr.startswith("langue : option inconnue 'langue'")
    fr, en = raised_in_both(lambda: pmq.set_options(lang="de"), ArgumentError)
    assert_one_language(fr, en, "lang", "'de'", "'fr', 'en'")
    fr, en = raised_in_both(lambda: format_number(1.0, lang="de"), ArgumentError)
    assert_one_language(fr, en, "lang", "'fr'", "'en'", "'de'")
    assert fr == "lang : lang doit être 'fr' ou 'en' (valeur : 'de')"


# ------------------------------------------------------------------------------------------------ outputs
def test_a_wrong_csv_dialect_is_told_in_one_language():
    fr, en = raised_in_both(lambda: csv_dialect_of("|"), ArgumentError)
    assert_one_language(fr, en, "sep", "','", "';'", "Excel", "'|'")
    fr, en = raised_in_both(lambda: csv_dialect_of(";", ";"), ArgumentError)
    assert_one_language(fr, en, "decimal", "'.'", "','", "';'")


def test_an_output_in_the_way_is_told_in_one_language(tmp_path):
    (tmp_path / "afile").write_text("mine")
    fr, en = raised_in_both(lambda: check_outputs(tmp_path / "afile", ["summary.csv"]), OutputError)
    assert_one_language(fr, en, "afile", "--out")
    assert "n'est pas un dossier" in fr
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "summary.csv").write_text("mes notes")
    fr, en = raised_in_both(lambda: check_target(tmp_path / "out" / "summary.csv", False), OutputError)
    assert_one_language(fr, en, "summary.csv", ".pmq-files.json", "--out")
    (tmp_path / "out" / "figures").mkdir()
    (tmp_path / "out" / "figures" / "notes.txt").write_text("mine")
    fr, en = raised_in_both(lambda: check_target(tmp_path / "out" / "figures", True), OutputError)
    assert_one_language(fr, en, "figures", ".pmq-output", "--out")
    assert "que pmq n'a pas écrit" in fr
    assert (tmp_path / "out" / "summary.csv").read_text() == "mes notes"      # nothing replaced


# ------------------------------------------------------------------------------------------- test helpers
def test_a_wrong_hazard_for_the_identities_is_told_in_one_language():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acc = pmq.project(horizon=2).accounts
    hazard = np.zeros((7, *acc["employment"].isel(year=0).transpose(..., "age").shape))
    fr, en = raised_in_both(lambda: assert_accounts(acc, hazard=hazard), ArgumentError)
    assert_one_language(fr, en, "hazard", "(7,")
    assert "demande 2 (ou 3) années de flux" in fr and "needs 2 (or 3) flow years" in en
