"""A French analyst's review of the messages (names, scenario files, data checks): what each message says, in
French by default and in English on request — métier names in the reader's language, TOML errors in French,
no Python lists or types in a message, the file's line numbers under a bad-data message."""
from __future__ import annotations

import re

import pandas as pd
import pytest

import pmq
from pmq.data import metiers
from pmq.errors import InputError, ScenarioError, UnknownNameError
from pmq.inputs.tables import read_employment, read_hazards
from pmq.labels import metier_label
from pmq.names import closest, listing, quoted, resolve, stem
from pmq.scenario.read import read_scenario
from test_inputs import tables
from test_one_language import foreign_words, raised_in_both



def _metier_choices():
    codes = list(metiers()["code"])
    return {c: [fr, en] for c, fr, en in zip(codes, metier_label(codes, "fr"), metier_label(codes, "en"))}


# ------------------------------------------------------------------------------ 1. métier names
@pytest.mark.parametrize("typed, code", [
    ("aide-soignant", "V0Z"), ("aide-soignante", "V0Z"), ("aides-soignantes", "V0Z"), ("Aides soignants", "V0Z"),
    ("infirmière", "V1Z"), ("infirmier", "V1Z"), ("sage-femme", "V1Z"), ("cuisinier", "S1Z"), ("vendeuse", "R1Z"),
    ("coiffeuse", "T0Z"), ("formatrice", "W1Z"), ("enseignante", "W0Z"), ("nursing assistant", "V0Z"),
    ("V0Z", "V0Z"), ("Agents d'entretien", "T4Z"),
])
def test_ordinary_singular_and_feminine_forms_find_the_metier(typed, code):
    assert resolve(typed, _metier_choices(), kind="métier") == code
    assert stem("Aides-soignantes") == stem("aide soignant")


def test_an_ambiguous_word_still_lists_the_metiers_it_names():
    with pytest.raises(UnknownNameError) as exc:
        resolve("ouvrière", _metier_choices(), kind="métier")
    assert str(exc.value).startswith("métier inconnu 'ouvrière' ; noms les plus proches : ")
    assert "Ouvriers" in str(exc.value)


@pytest.mark.parametrize("typed", ["aides-soigantes", "vendeus", "cuisiner"])
def test_suggestions_show_the_labels_in_the_readers_language(typed):
    choices = _metier_choices()
    fr, en = raised_in_both(lambda: resolve(typed, choices, kind="métier"), UnknownNameError)
    fr_labels = set(metier_label(list(choices), "fr"))
    en_labels = set(metier_label(list(choices), "en"))
    shown_fr = re.findall(r"[A-Z]\d[A-Z_] \(([^)]*)\)", fr)
    shown_en = re.findall(r"[A-Z]\d[A-Z_] \(([^)]*)\)", en)
    assert shown_fr and all(s in fr_labels for s in shown_fr), fr
    assert shown_en and all(s in en_labels for s in shown_en), en
    assert f"'{typed}'" in fr and f"'{typed}'" in en
    assert foreign_words(fr, "fr") == [] and foreign_words(en, "en") == []


def test_no_suggestion_comes_from_the_other_languages_labels():
    choices = _metier_choices()
    shown = " ".join(closest("aides soignantes", choices))
    assert "V0Z (Aides-soignants)" in shown and "Sales assistants" not in shown and "Vendeurs" not in shown
    with pmq.set_options(lang="en"):
        assert closest("aides soigantes", choices)[0] == "V0Z (Nursing assistants)"


# ------------------------------------------------------------------------------ 2. TOML errors in French
@pytest.mark.parametrize("text, fr_words, line", [
    ('[scenario]\nname = "x"\n!!!\n', "instruction non valide", 3),
    ('[scenario]\nname = "x"\nname = "y"\n', "clé définie deux fois", 3),
    ('[scenario]\nname = "x\n', "guillemet fermant manquant", 2),
    ('[scenario]\nname = "x"\n[horizons]\nt = { a = 1\n', "accolade fermante '}' manquante", 4),
    ('[scenario]\nname = "x"\n[scenario]\n', "section 'scenario' déclarée deux fois", 3),
])
def test_toml_errors_are_told_in_french_with_their_place(tmp_path, text, fr_words, line):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    fr, en = raised_in_both(lambda: read_scenario(path), ScenarioError)
    assert fr.startswith(f"{path} : TOML non valide (ligne {line}, colonne ") and fr_words in fr, fr
    assert foreign_words(fr, "fr") == [], fr
    assert en.startswith(f"{path}: not valid TOML: ") and f"(at line {line}, column " in en


def test_a_csv_given_as_a_scenario_is_told_so(tmp_path):
    path = tmp_path / "employment.csv"
    path.write_text("territory,metier,age,employment\n53,T4Z,30,12\n", encoding="utf-8")
    fr, en = raised_in_both(lambda: read_scenario(path), ScenarioError)
    assert "ce fichier n'est pas un scénario TOML (il ressemble à un tableau CSV)" in fr and "employment.csv" in fr
    assert "this file is not a TOML scenario" in en
    assert foreign_words(fr, "fr") == [] and foreign_words(en, "en") == []


# ------------------------------------------------------------------------------ 3. no Python in messages
@pytest.mark.parametrize("text, key, fr_words, en_words", [
    ('[demnd]\nx = 1\n', "demnd", "sections possibles : 'scenario', 'horizons', ", "one of 'scenario', 'horizons', "),
    ('[horizons]\nrunn = 3\n', "horizons.runn", "vouliez-vous dire 'run' ? Clés possibles : 'run', ",
     "did you mean 'run'? Expected one of 'run', "),
    ('[demand]\ntrend = "magic"\n', "demand.trend", "l'une des valeurs : 'published', ", "one of 'published', "),
    ('[horizons]\nrun = "20"\n', "horizons.run", "un nombre entier (2030, sans guillemets) est attendu, reçu un texte",
     "a whole number (2030, without quotes) is expected, got a text"),
])
def test_lists_and_types_are_written_in_words(tmp_path, text, key, fr_words, en_words):
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\nname = "s"\n' + text, encoding="utf-8")
    fr, en = raised_in_both(lambda: read_scenario(path), ScenarioError)
    assert fr_words in fr and en_words in en
    assert f"'{key}'" in fr and f"'{key}'" in en
    assert "[" not in fr.split(" : ", 1)[1] and "(str)" not in fr and " int" not in fr
    assert foreign_words(fr, "fr") == [] and foreign_words(en, "en") == []


def test_an_age_window_upside_down_names_both_ages(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\nname = "s"\n[[exits.multiplier]]\nid = "m"\nfactor = 2\nmin_age = 60\nmax_age = 50\n'
                    'assumption = "a"\n', encoding="utf-8")
    fr, en = raised_in_both(lambda: read_scenario(path), ScenarioError)
    assert "min_age (60) est supérieur à max_age (50)" in fr and "(60, 50)" not in fr
    assert "min_age (60) is above max_age (50)" in en


def test_listing_and_quoting():
    assert listing(["a", "b"]) == "a, b" and listing(["a", "b"], quote=True) == "'a', 'b'"
    title = "Scénario de référence (tendanciel « Les métiers en 2030 »)"
    assert quoted(title) == "« Scénario de référence (tendanciel “Les métiers en 2030”) »"


# ------------------------------------------------------------------------------ 4. data-check tables
def _hazards_csv(folder):
    lines = ["territory,metier,age,hazard"] + [f"53,T4Z,{a},0.1" for a in range(50, 60)]
    lines[9] = "53,T4Z,58,1.7"                       # line 10 of the file
    path = folder / "hazards.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_bad_value_in_a_csv_file_is_shown_with_its_line(tmp_path):
    path = _hazards_csv(tmp_path)
    fr, en = raised_in_both(lambda: read_hazards(path), InputError)
    head_fr, row_fr = fr.splitlines()[1:3]
    assert head_fr.split()[0] == "ligne" and row_fr.split()[0] == "10" and "1.7" in row_fr
    head_en, row_en = en.splitlines()[1:3]
    assert head_en.split()[0] == "line" and row_en.split()[0] == "10"
    assert fr.startswith("hazards.csv, colonne 'hazard' : probabilité de sortie hors de [0, 1] dans 1 ligne")
    with pytest.raises(InputError) as exc:
        read_hazards(path)
    assert list(exc.value.rows["row"]) == [8]                # the table's row, for code that reads it


def test_a_blank_line_does_not_shift_the_line_numbers(tmp_path):
    path = tmp_path / "hazards.csv"
    path.write_text("territory,metier,age,hazard\n\n53,T4Z,50,0.1\n\n53,T4Z,51,-2\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_hazards(path)
    assert str(exc.value).splitlines()[2].split()[0] == "5"


def test_rows_of_a_dataframe_are_rows_in_french_and_english():
    df = pd.DataFrame({"territory": ["53", "53"], "metier": ["T4Z", "T4Z"], "age": [50, 51], "hazard": [0.1, 1.5]})
    fr, en = raised_in_both(lambda: read_hazards(df), InputError)
    assert fr.splitlines()[1].split()[0] == "ligne" and en.splitlines()[1].split()[0] == "row"


def test_a_renamed_column_says_the_names_are_the_templates_in_english(tmp_path):
    path = tmp_path / "emploi.csv"
    path.write_text("territory,metier,age,emploi\n53,T4Z,30,12\n", encoding="utf-8")
    fr, en = raised_in_both(lambda: read_employment(path), InputError)
    assert fr == ("emploi.csv : colonne obligatoire absente : employment (les noms de colonnes sont ceux du modèle "
                  "employment, en anglais) ; colonnes trouvées : territory, metier, age, emploi")
    assert en == ("emploi.csv: missing required column(s) employment for the employment template; found territory, "
                  "metier, age, emploi")


def test_several_columns_are_named_as_columns_and_codes_as_codes():
    emp, haz, flo = tables()
    flo.loc[flo.territory == "83", "territory"] = "84"
    fr, en = raised_in_both(lambda: pmq.load_user_baseline(emp, haz, flo), InputError)
    assert "colonnes 'territory', 'metier' : les codes ne concordent pas entre " in fr
    assert "uniquement dans" in fr and "only_in" not in fr and "83" in fr and "84" in fr
    assert "columns 'territory', 'metier': codes do not match between " in en
    assert foreign_words(fr.splitlines()[0], "fr") == [] and foreign_words(en.splitlines()[0], "en") == []
