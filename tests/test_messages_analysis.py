"""One language at a time for the messages of :mod:`pmq.analysis` (issue 20): the errors a user meets in the
analyses — imbalance typologies, occupational transitions, separation rates, compétences, reproduction of « Les
métiers en 2030 », the registry of published figures — read in French by default, with no English prose, and in
English under ``pmq.set_options(lang="en")``; in both, the file, key, column and value the user has to fix."""
import numpy as np
import pandas as pd
import xarray as xr

from pmq.analysis import imbalance as im
from pmq.analysis import skills as K
from pmq.analysis.occupational import occupational_mobility, read_transitions, transitions_from_passerelles
from pmq.analysis.reproduce import get_exercise
from pmq.analysis.separations import load_bls_table, separation_openings, separation_openings_path
from pmq.analysis.sources import published_figures
from pmq.errors import ArgumentError, InputError, PmqError, ScenarioError, UnknownNameError
from test_one_language import assert_one_language, raised_in_both


def _both(make, error=PmqError, argument: str = "") -> tuple[str, str]:
    """The message of the error ``make()`` raises, in French and in English, each in one language."""
    fr, en = raised_in_both(make, error)
    assert_one_language(fr, en, argument=argument)
    return fr, en

# ------------------------------------------------------------------------------------------------- imbalance
def test_unknown_typology_and_class_codes():
    fr, en = _both(lambda: im.classify(pd.DataFrame(), "oecd"), InputError)
    assert fr.startswith("colonne 'preset' : typologie inconnue 'oecd' ; typologies possibles : ")
    assert "'dares'" in fr and "'oecd'" in fr
    assert en.startswith("column 'preset': unknown typology 'oecd'; expected one of ")
    fr, en = _both(lambda: im.watch_list(pd.DataFrame(), classes=("shortage",)), InputError)
    assert "code(s) de classe inconnu(s) pour 'dares'" in fr and "'shortage'" in fr and "'accentuer'" in fr
    assert "unknown class code(s) for 'dares'" in en and "'shortage'" in en


# ------------------------------------------------------------------------------------ occupational mobility
def test_transition_table_errors_name_the_file_column_and_rows(tmp_path):
    path = tmp_path / "mes_transitions.csv"
    pd.DataFrame({"origin": ["V0Z", "V0Z"], "destination": ["V1Z", "V1Z"], "rate": [0.02, 0.01],
                  "age_min": [20, 40], "age_max": [44, 59]}).to_csv(path, index=False)
    fr, en = _both(lambda: read_transitions(path), InputError)
    assert fr.startswith("mes_transitions.csv, colonnes 'age_min', 'age_max' : tranches d'âge qui se chevauchent "
                         "pour une même origine et une même destination (lignes 0 et 1)")
    assert en.startswith("mes_transitions.csv, columns 'age_min', 'age_max': overlapping age bands for the same "
                         "origin and destination (rows 0 and 1)")
    pd.DataFrame({"origin": ["R0Z"], "destination": ["R0Z"], "rate": [0.03]}).to_csv(path, index=False)
    fr, en = _both(lambda: read_transitions(path), InputError)
    assert "colonne 'destination' : origine et destination sont le même métier" in fr and "R0Z" in fr
    assert "column 'destination': origin and destination are the same métier" in en


def test_prior_from_passerelles_refuses_bad_rates_in_the_readers_language():
    fr, en = _both(lambda: transitions_from_passerelles(1), ArgumentError)
    assert fr == ("total_rate : total_rate est la probabilité annuelle de changer de métier, de 0 à 1 (exclu ; "
                  "0.05 pour 5 %) (valeur : 1)")
    assert en == ("total_rate: total_rate is the annual probability of changing métier, from 0 to 1 (excluded; "
                  "0.05 for 5 %) (value: 1)")
    fr, en = _both(lambda: transitions_from_passerelles({"T2A": 1.0}), InputError)
    assert "colonne 'rate' : taux total hors de [0, 1) dans 1 ligne" in fr and "T2A" in fr
    assert "column 'rate': total rate outside [0, 1) in 1 row(s)" in en
    fr, en = _both(lambda: transitions_from_passerelles(0.05, ["T2A", "M1"]), InputError)
    assert "aucune passerelle ROME de force ≥ 0.01" in fr and "nulle part où aller" in fr and "M1" in fr
    assert "nowhere to go" in en
    fr, en = _both(lambda: occupational_mobility(None, None, stock="end"), ArgumentError)
    assert fr == "stock : stock doit valoir 'start' ou 'survivors' (valeur : 'end')"
    assert en == "stock: stock must be 'start' or 'survivors' (value: 'end')"


# ---------------------------------------------------------------------------------------- separation rates
def test_separation_inputs_out_of_range_name_the_column_and_rows():
    emp = pd.Series([10.0, 20.0], index=pd.Index(["11-1011", "11-1021"], name="soc"))
    proj = pd.Series([11.0, -3.0], index=emp.index)
    rate = pd.Series([5.0, 6.0], index=emp.index)
    fr, en = _both(lambda: separation_openings(emp, proj, rate, rate), InputError)
    assert fr.startswith("colonne 'emp_proj' : 1 valeur hors de [0, +inf) (l'emploi ne peut pas être négatif)")
    assert "11-1021" in fr and "-3.0" in fr
    assert en.startswith("column 'emp_proj': 1 value(s) outside [0, +inf) (employment cannot be negative)")
    fr, en = _both(lambda: separation_openings(emp, emp, rate, rate.where(rate < 6)), InputError)
    assert fr.startswith("colonne 'transfer_rate' : 1 valeur manquante (NaN)")
    assert en.startswith("column 'transfer_rate': 1 missing (NaN) value(s)")
    fr, en = _both(lambda: separation_openings(emp, emp, rate, rate, rate_base="middle"), InputError)
    assert fr == "colonne 'rate_base' : rate_base inconnu 'middle' ; valeurs possibles : average, start, end"
    assert en == "column 'rate_base': unknown rate_base 'middle'; expected one of average, start, end"


def test_separation_paths_and_the_bls_table(tmp_path):
    emp = xr.DataArray(np.full((3, 2), 10.0), dims=("year", "metier"),
                       coords={"year": [2020, 2021, 2022], "metier": ["M0", "M1"]})
    fr, en = _both(lambda: separation_openings_path(emp, xr.DataArray([0.1], dims="age")), InputError)
    assert fr == ("colonne 'exit_rate' : dimension(s) du taux ['age'] absente(s) de la trajectoire d'emploi "
                  "['year', 'metier']")
    assert en == "column 'exit_rate': rate dimension(s) ['age'] are not dimensions of the employment path " \
                 "['year', 'metier']"
    fr, en = _both(lambda: load_bls_table(tmp_path / "absent.csv"), InputError)
    assert fr.startswith("absent.csv : fichier introuvable : ") and en.startswith("absent.csv: file not found: ")
    f = tmp_path / "bls.csv"
    pd.DataFrame({"soc": ["1"], "title": ["x"]}).to_csv(f, index=False)
    fr, en = _both(lambda: load_bls_table(f), InputError)
    assert fr.startswith("bls.csv, colonne 'emp_base' : colonne(s) manquante(s) ['emp_base'")
    assert "dans le tableau des séparations du BLS" in fr
    assert en.startswith("bls.csv, column 'emp_base': missing column(s) ['emp_base'")


# ---------------------------------------------------------------------------------------------- compétences
def test_a_bad_bridge_is_named_in_the_readers_language(tmp_path):
    path = tmp_path / "pont.csv"
    pd.DataFrame({"metier": ["A0Z", "ZZ9"], "fiche": ["A1101", "A1101"], "weight": [1.0, 1.0]}).to_csv(path,
                                                                                                       index=False)
    fr, en = _both(lambda: K.read_bridge(path), InputError)
    assert fr.startswith("pont.csv, colonne 'metier' : code(s) de métier inconnu(s) 'ZZ9' (les plus proches : ")
    assert en.startswith("pont.csv, column 'metier': unknown métier code(s) 'ZZ9' (closest: ")
    pd.DataFrame({"metier": ["A0Z"], "fiche": ["A1101"]}).to_csv(path, index=False)
    fr, en = _both(lambda: K.read_bridge(path), InputError)
    assert "pont.csv, colonne 'weight' : colonne(s) obligatoire(s) absente(s) : weight pour" in fr
    assert "pont.csv, column 'weight': missing required column(s) weight for" in en
    assert "[" not in fr and "[" not in en
    pd.DataFrame({"metier": ["A0Z", "A0Z"], "fiche": ["A1101", "A1102"], "weight": [0.5, 0.7]}).to_csv(path,
                                                                                                       index=False)
    fr, en = _both(lambda: K.read_bridge(path), InputError)
    assert "les poids de 1 métier(s) n'ont pas pour somme 1" in fr and "somme des poids" in fr and "A0Z" in fr
    assert "the weights of 1 métier(s) do not sum to 1" in en and "sum of weights" in en


def test_bad_skill_arguments_name_the_argument_and_value():
    fr, en = _both(lambda: K.skill_weights(by="competences"), ArgumentError, "by")
    assert fr.startswith("by : découpage inconnu ; valeurs possibles : macro_competence")
    assert fr.endswith("(valeur : 'competences')")
    assert en.startswith("by: unknown breakdown; expected one of macro_competence")
    fr, en = _both(lambda: K.skill_weights(view="both"), ArgumentError)
    assert fr == "view : vue inconnue ; valeurs possibles : additive, reach (valeur : 'both')"
    assert en == "view: unknown view; expected one of additive, reach (value: 'both')"
    fr, en = _both(lambda: K.skill_weights(core_weight=0.5), ArgumentError)
    assert fr.startswith("core_weight : core_weight doit être ≥ 1 (les éléments « Principale » pèsent")
    assert en.startswith("core_weight: core_weight must be ≥ 1 (\"Principale\" items weigh")
    fr, en = _both(lambda: K.passerelles(None, "T2A", top=0), ArgumentError)
    assert fr == "top : top doit être un nombre de lignes positif (valeur : 0)"
    assert en == "top: top must be a positive number of rows (value: 0)"


# --------------------------------------------------------------------------------------------- reproduction
def test_an_unknown_reproduction_exercise_lists_the_available_ones():
    fr, en = _both(lambda: get_exercise("metiers2031"), UnknownNameError)
    assert fr == "exercice de reproduction inconnu 'metiers2031' ; exercices disponibles : metiers2030"
    assert en == "unknown reproduction exercise 'metiers2031'; available: metiers2030"


# ------------------------------------------------------------------------------------------ published figures
def test_a_bad_registry_of_published_figures_names_the_key(tmp_path):
    figure = ('[[figure]]\nscenario = "reference"\nid = "f1"\nquantity = "employment_change"\nyear = 2030\n'
              'unit = "persons"\ncomparison = "at_least"\nvalue = 1\nquote = "« un million »"\npublisher = "DARES"\n'
              'url = "https://dares.travail-emploi.gouv.fr"\nconfidence = "V"\nreproduced = true\n')
    path = tmp_path / "figures.toml"
    path.write_text(figure + 'colour = "blue"\n', encoding="utf-8")
    fr, en = _both(lambda: published_figures(path), ScenarioError)
    assert f"{path}, clé 'figure[f1].colour' : clé inconnue ; clés possibles : " in fr
    assert fr.endswith("(valeur : 'blue')")
    assert f"{path}, key 'figure[f1].colour': unknown key; expected one of " in en
    path.write_text(figure.replace('url = "https://', 'url = "ftp://'), encoding="utf-8")
    fr, en = _both(lambda: published_figures(path), ScenarioError)
    assert fr == (f"{path}, clé 'figure[f1].url' : valeur incorrecte ; attendu : une adresse http(s) "
                  "(valeur : 'ftp://dares.travail-emploi.gouv.fr')")
    assert en == (f"{path}, key 'figure[f1].url': invalid value; expected an http(s) address "
                  "(value: 'ftp://dares.travail-emploi.gouv.fr')")
    path.write_text(figure.replace("value = 1\n", ""), encoding="utf-8")
    fr, en = _both(lambda: published_figures(path), ScenarioError)
    assert fr == f"{path}, clé 'figure[f1]' : clé 'value' manquante (comparaison 'at_least')"
    assert en == f"{path}, key 'figure[f1]': missing key 'value' (comparison 'at_least')"
