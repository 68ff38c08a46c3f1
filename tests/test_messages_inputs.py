"""One language at a time for the messages of :mod:`pmq.inputs` and :mod:`pmq.data` (issue 20): the errors and
warnings a user meets when pmq reads their tables — the four templates, downscaling keys, training margins,
inter-territorial rates, the DOM, territorial levels — read in French by default, with no English prose, and in
English under ``pmq.set_options(lang="en")``; in both, the file, column, key and value the user has to fix."""
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pmq
from pmq.data.territories import canonical_level, key as shipped_key, territories
from pmq.errors import ArgumentError, CalibrationError, InputError, PmqError
from pmq.inputs import training as T
from pmq.inputs.baseline import check_period_end
from pmq.inputs.downscale import check_key, load_key, read_key
from pmq.inputs.interregional import net_inflow_from_matrix, period_net_mobility, read_interregional
from pmq.inputs.overseas import with_overseas
from pmq.inputs.tables import read_table
from test_inputs import tables
from test_one_language import assert_one_language, foreign_words, raised_in_both


def _both(make, error=PmqError, argument: str = "") -> tuple[str, str]:
    """The message of the error ``make()`` raises, in French and in English, each in one language."""
    fr, en = raised_in_both(make, error)
    assert_one_language(fr, en, argument=argument)
    return fr, en

def _write(path, text: str, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


# --------------------------------------------------------------------------------------------- reading tables
def test_a_file_that_cannot_be_read_is_named_in_the_readers_language(tmp_path):
    fr, en = _both(lambda: read_table(tmp_path / "emploi.csv", name="employment"), InputError)
    assert fr.startswith("emploi.csv : fichier introuvable : ") and en.startswith("emploi.csv: file not found: ")
    p = _write(tmp_path / "emploi.csv", b"territory,metier\x00,age\n")
    fr, en = _both(lambda: read_table(p, name="employment"), InputError)
    assert fr.startswith("emploi.csv : contient des octets NUL") and "« CSV UTF-8 »" in fr
    assert en.startswith("emploi.csv: contains NUL bytes")
    x = _write(tmp_path / "emploi.ods", b"\xd0\xcf")
    fr, en = _both(lambda: read_table(x, name="employment"), InputError)
    assert fr == "emploi.ods : les fichiers .ods ne sont pas lus : enregistrez le tableau en .xlsx ou au format « CSV UTF-8 »"
    assert en == "emploi.ods: .ods files are not read: save the table as .xlsx or as « CSV UTF-8 »"


def test_a_header_and_a_column_of_numbers_that_cannot_be_read(tmp_path):
    p = _write(tmp_path / "emploi.csv", "territory;metier;age,employment\n13;T4Z;15;100\n")
    fr, en = _both(lambda: read_table(p, name="employment"), InputError)
    assert fr.startswith("emploi.csv, colonne 'en-tête' : impossible de déterminer le séparateur de champs : "
                         "la ligne d'en-tête contient ',' et ';'")
    assert en.startswith("emploi.csv, column 'header': cannot tell the field separator: the header line holds "
                         "',' and ';'")
    q = _write(tmp_path / "emploi2.csv", "territory;metier;age;employment\n13;T4Z;15;100,5\n13;T4Z;16;100.5\n")
    fr, en = _both(lambda: read_table(q, name="employment"), InputError)
    assert fr.startswith("emploi2.csv, colonne 'employment' : mélange points et virgules décimales (par exemple "
                         "'100.5' et '100,5')")
    assert en.startswith("emploi2.csv, column 'employment': mixes decimal points and decimal commas")


def test_template_checks_name_the_table_column_and_rows():
    emp, haz, flo = tables()
    bad = emp.copy()
    bad.loc[5, "employment"] = -3.0
    fr, en = _both(lambda: pmq.load_user_baseline(bad, haz, flo), InputError)
    assert fr.startswith("tableau employment, colonne 'employment' : emploi négatif dans 1 ligne\n") and "-3.0" in fr
    assert en.startswith("employment table, column 'employment': negative employment in 1 row(s)\n")
    two = emp.copy()
    two.loc[[3, 4], "employment"] = [-1.0, -2.0]
    fr, _ = _both(lambda: pmq.load_user_baseline(two, haz, flo), InputError)
    assert "emploi négatif dans 2 lignes" in fr
    pct = emp.astype({"employment": object}).assign(employment="12 %")
    fr, en = _both(lambda: pmq.load_user_baseline(pct, haz, flo), InputError)
    assert "colonne 'employment' : valeur non numérique dans " in fr and "sans signe %" in fr and "'12 %'" in fr
    assert "not a number in " in en and "no % sign" in en
    fr, en = _both(lambda: pmq.load_user_baseline(emp, haz, flo.drop(columns="period_start")), InputError)
    assert ("colonne obligatoire absente : period_start (les noms de colonnes sont ceux du modèle flows, en anglais)"
            in fr)
    assert "missing required column(s) period_start for the flows template" in en


def test_baseline_checks_across_tables():
    emp, haz, flo = tables()
    wrong = emp.assign(metier=emp["metier"].replace("T4Z", "T4X"))
    fr, en = _both(lambda: pmq.load_user_baseline(wrong, haz, flo), InputError)
    assert fr.startswith("tableau employment, colonne 'metier' : code(s) de métier inconnu(s) 'T4X' (les plus "
                         "proches : T4Z") and "passez metiers= pour utiliser une autre nomenclature" in fr
    assert en.startswith("employment table, column 'metier': unknown métier code(s) 'T4X' (closest: T4Z")
    fr, en = _both(lambda: pmq.load_user_baseline(emp.assign(year=2019), haz, flo), InputError)
    assert "les années de base ne concordent pas : " in fr and "2019" in fr and "2022" in fr
    assert "base years do not agree: " in en
    fr, en = _both(lambda: pmq.load_user_baseline(emp[emp.age != 30], haz, flo), InputError)
    assert fr == ("tableau employment, colonne 'age' : les âges doivent être des années consécutives ; "
                  "âges manquants : 30")
    assert en == "employment table, column 'age': ages must be consecutive single years; missing ages 30"
    flo2 = flo.assign(net_creation=-1e6)
    fr, en = _both(lambda: check_period_end(pmq.load_user_baseline(emp, haz, flo2), source="flux.csv"), InputError)
    assert fr.startswith("flux.csv, colonne 'net_creation' : ")
    assert "colonne 'net_creation' : les créations nettes d'emploi retirent plus d'emplois" in fr and "T4Z" in fr
    assert "net creation removes more jobs than the cell has" in en


def test_the_top_age_warning_reads_in_the_readers_language():
    emp, haz, flo = tables()
    haz.loc[haz.age == haz.age.max(), "hazard"] = 0.5
    with pytest.warns(UserWarning) as fr:
        pmq.load_user_baseline(emp, haz, flo)
    with pmq.set_options(lang="en"), pytest.warns(UserWarning) as en:
        pmq.load_user_baseline(emp, haz, flo)
    fr, en = str(fr[0].message), str(en[0].message)
    top = int(haz.age.max())
    assert fr == (f"tableau hazards : probabilité de sortie (hazard) mise à 1 à l'âge maximal {top} (la sortie est "
                  "forcée à l'âge maximal)")
    assert en == f"hazards table: hazard at the top age {top} set to 1 (exit is forced at the top age)"
    assert foreign_words(fr, "fr") == [] and foreign_words(en, "en") == []


# ----------------------------------------------------------------------------------------- downscaling keys
def _key(rows):
    return pd.DataFrame(rows, columns=["parent", "child", "metier", "weight"])


def test_key_errors_name_the_file_column_lines_and_values(tmp_path):
    rows = "".join(f"93;A;Q{i}X;1\n" for i in range(8))
    p = _write(tmp_path / "cle.csv", "parent;child;metier;weight\n93;A;all;1\n" + rows)
    fr, en = _both(lambda: read_key(p, metiers=["A0Z", "B2Z"]), InputError)
    assert fr.startswith("cle.csv, colonne 'metier' : 8 code(s) de métier inconnu(s) : 'Q0X' (ligne 3)")
    assert "… et 3 autres — attendu : l'un des 2 codes de métier" in fr and "« all »" in fr
    assert en.startswith("cle.csv, column 'metier': 8 unknown métier code(s): 'Q0X' (line 3)")
    assert "… and 3 others — expected one of the 2 métier codes" in en
    s = _write(tmp_path / "somme.csv", "parent;child;metier;weight\n93;A;all;0,5\n93;B;all;0,6\n")
    fr, en = _both(lambda: read_key(s, metiers=["A0Z"]), InputError)
    assert fr.startswith("somme.csv, colonne 'weight' : les poids de chaque parent × métier doivent avoir pour "
                         "somme 1 (à 1e-6 près)") and "lignes" in fr.split("\n")[1]
    assert en.startswith("somme.csv, column 'weight': the weights of each parent × métier must sum to 1")
    w = _write(tmp_path / "poids.csv", "parent;child;metier;weight\n93;A;all;abc\n93;B;all;1\n")
    fr, en = _both(lambda: read_key(w, metiers=["A0Z"]), InputError)
    assert "les poids doivent être des nombres ≥ 0 (parts de l'emploi du parent) : 1 ligne ne l'est pas" in fr
    assert "non numérique" in fr and "'abc'" in fr
    assert "1 row(s) are not" in en and "not a number" in en


def test_a_parent_code_that_lost_its_zero_is_explained():
    k = pd.DataFrame({"parent": [1], "child": ["a"], "metier": ["all"], "weight": [1.0]})
    fr, en = _both(lambda: check_key(k, source="cle.xlsx", parents=["01", "02"]), InputError)
    assert fr.startswith("cle.xlsx, colonne 'parent' : 1 code(s) parent qui ne sont pas des territoires de la "
                         "situation de départ à répartir : '1' (ligne 0)")
    assert fr.endswith(" ; '1' est peut-être '01' dont le zéro initial a été perdu (enregistrez les codes comme du "
                       "texte)")
    assert en.endswith("; '1' may be '01' with its leading zero lost (store the codes as text)")


def test_a_key_that_does_not_fit_the_baseline(baseline):
    small = baseline.isel(metier=[0, 1])
    rows = [(str(p), f"{p}x", str(small.metier.values[0]), 1.0) for p in small.territory.values]
    fr, en = _both(lambda: pmq.inputs.downscale.downscale(small, _key(rows)), InputError)
    assert fr.startswith("clé, colonne 'metier' : la clé ne répartit pas chaque métier de ces territoires")
    assert en.startswith("key, column 'metier': the key does not split every métier of these territories")
    fr, en = _both(lambda: load_key("commune"), ArgumentError, "level")
    assert fr.startswith("level : pmq ne fournit aucune clé de répartition pour ce niveau ; niveaux possibles : ")
    assert fr.endswith("(valeur : 'commune')") and en.endswith("(value: 'commune')")


# ---------------------------------------------------------------------------------------- levels and the DOM
def test_levels_and_the_dom(baseline):
    with pytest.raises(ValueError) as fr:
        canonical_level("commune")
    with pmq.set_options(lang="en"), pytest.raises(ValueError) as en:
        canonical_level("commune")
    fr, en = str(fr.value), str(en.value)
    assert fr.startswith("niveau inconnu 'commune' : niveaux possibles : region, departement, zone_emploi")
    assert "« zone d'emploi » sont acceptés" in fr and foreign_words(fr, "fr") == []
    assert en.startswith("unknown level 'commune': expected one of region") and foreign_words(en, "en") == []
    for call in (lambda: territories("commune"), lambda: shipped_key("commune")):
        with pytest.raises(ValueError) as fr:
            call()
        assert "'commune' : niveaux possibles : " in str(fr.value) and foreign_words(str(fr.value), "fr") == []
    fr, en = _both(lambda: pmq.load_baseline("commune"), ArgumentError, "level")
    assert fr.startswith("level : niveau territorial inconnu ; niveaux possibles : region, departement")
    assert en.startswith("level: unknown territorial level; expected one of region, departement")
    dom = with_overseas(baseline)
    fr, en = _both(lambda: with_overseas(dom), InputError)
    assert fr.startswith("situation de départ, colonne 'territory' : les DOM s'ajoutent à une situation de départ "
                         "régionale")
    assert en.startswith("baseline, column 'territory': the DOM are added to a regional baseline without them")


# ------------------------------------------------------------------------------------- inter-territorial rates
TERR = pd.DataFrame({"origin": ["11", "11", "53"], "destination": ["53", "93", "11"],
                     "rate": [0.004, 0.003, 0.002], "metier": ["", "V1Z", "all"]})


def test_interregional_rates_name_the_column_and_value(baseline, tmp_path):
    df = TERR.copy()
    df.loc[2, "destination"] = "Bretange"
    p = tmp_path / "taux.csv"
    df.to_csv(p, index=False)
    fr, en = _both(lambda: read_interregional(p, baseline), InputError)
    assert fr.startswith("taux.csv, colonne 'destination' : code(s) de territoire inconnu(s) 'Bretange' (les plus "
                         "proches : 53") and "attendu : l'un des 13 codes de territoire" in fr
    assert en.startswith("taux.csv, column 'destination': unknown territory code(s) 'Bretange' (closest: 53")
    same = TERR.assign(destination=["11", "93", "11"])
    fr, en = _both(lambda: read_interregional(same, baseline), InputError)
    assert "colonne 'destination' : origin et destination sont le même territoire" in fr
    assert "column 'destination': origin and destination are the same territory" in en
    high = TERR.assign(rate=[0.004, 2.0, 0.002])
    fr, en = _both(lambda: read_interregional(high, baseline), InputError)
    assert "colonne 'rate' : taux hors de [0, 1] dans 1 ligne (probabilités annuelles)" in fr and "2.0" in fr
    assert "column 'rate': rate outside [0, 1] in 1 row(s) (annual probabilities)" in en
    fr, en = _both(lambda: read_interregional(TERR.drop(columns="rate"), baseline), InputError)
    assert "colonne obligatoire absente : rate (les noms de colonnes sont ceux du tableau interregional" in fr
    assert "missing required column(s) rate for the interregional table" in en


def test_rate_arrays_and_arguments(baseline):
    rates = read_interregional(TERR, baseline)
    emp = baseline["employment"].sum("age")
    fr, en = _both(lambda: net_inflow_from_matrix(rates.rename(origin="o"), emp), InputError)
    assert fr.startswith("taux entre territoires : le tableau des taux demande les dimensions 'origin' et "
                         "'destination' ; dimensions reçues : ")
    assert en.startswith("inter-territorial rates: the rate array needs dims 'origin' and 'destination'; got ")
    fr, en = _both(lambda: period_net_mobility(baseline, rates, path="spline"), ArgumentError, "path")
    assert fr == "path : path doit valoir 'linear', 'constant' ou 'trend' (valeur : 'spline')"
    assert en == "path: path must be 'linear', 'constant' or 'trend' (value: 'spline')"
    fr, en = _both(lambda: period_net_mobility(baseline, rates, n_years=0), ArgumentError, "n_years")
    assert fr == "n_years : n_years doit valoir au moins 1 (valeur : 0)"


# ------------------------------------------------------------------------------------------- training margins
def test_training_inputs_name_the_file_and_pairs(baseline):
    pairs = pd.DataFrame({"territory": ["11", "11", "53"], "formation": ["bac", "bac3p", "bac"],
                          "leavers": [10.0, 20.0, 5.0]})
    fr, en = _both(lambda: T.read_leavers(pairs, source="sortants.csv"), InputError)
    assert fr.startswith("sortants.csv, colonnes 'territory', 'formation' : 1 couple(s) (territory, formation) sans "
                         "ligne : chaque territoire demande une ligne pour chaque formation") and "bac3p" in fr
    assert en.startswith("sortants.csv, columns 'territory', 'formation': 1 (territory, formation) pair(s) have no "
                         "row")
    rate = pd.DataFrame({"formation": ["bac", "bac2"], "leavers": [10.0, 20.0], "employment_rate": [0.5, 1.5]})
    fr, en = _both(lambda: T.read_leavers(rate, source="sortants.csv"), InputError)
    assert fr.startswith("sortants.csv, colonne 'employment_rate' : les valeurs doivent être des nombres dans "
                         "[0.0, 1.0] (sans NaN)") and "1.5" in fr
    assert en.startswith("sortants.csv, column 'employment_rate': values must be numbers in [0.0, 1.0] (no NaN)")
    seed = pd.DataFrame({"formation": ["x", "y"], "metier": ["S0Z", "Q9Z"], "value": [1.0, 2.0]})
    fr, en = _both(lambda: T.read_seed(seed, list(baseline.metier.values), source="matrice.csv"), InputError)
    assert fr.startswith("matrice.csv, colonne 'metier' : code(s) de métier inconnu(s)") and "Q9Z" in fr
    assert en.startswith("matrice.csv, column 'metier': unknown métier code(s)")
    few = pd.DataFrame({"formation": ["bac", "bac2"], "leavers": [100000.0, 50000.0], "employment_rate": [0.7, 0.8]})
    fr, en = _both(lambda: T.calibrate_training(baseline, T.read_leavers(few)), InputError)
    assert fr.startswith("tableau des sortants, colonne 'leavers' : marges incohérentes : les sortants en emploi sur "
                         "11 ans totalisent 1,210,000 mais les jeunes débutants ")
    assert "passez rescale=True" in fr and "sortants en emploi (période)" in fr
    assert en.startswith("leavers table, column 'leavers': inconsistent margins: employed leavers over 11 years "
                         "total 1,210,000 but young entrants total ")


def test_training_calibration_and_summary(baseline):
    b = baseline.isel(territory=[0], metier=[0, 1])
    b = b.assign(published_young_entrants=b["published_young_entrants"] * 0 + 100.0)
    seed = xr.DataArray([[1.0, 0.0], [0.0, 1.0]], dims=("formation", "metier"),
                        coords={"formation": ["a", "b"], "metier": list(b.metier.values)})
    lv = xr.DataArray([10.0, 30.0], dims="formation", coords={"formation": ["a", "b"]})
    lv = lv * 200 / 40 / int(b.attrs["n_period"])
    fr, en = _both(lambda: T.calibrate_training(b, lv, seed=seed, max_iter=50), CalibrationError)
    assert fr.startswith("la matrice formation × métier n'a pas convergé en 50 itérations")
    assert en.startswith("the formation × métier matrix did not converge in 50 iterations")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alloc = T.calibrate_training(baseline)
    fr = alloc.summary()
    with pmq.set_options(lang="en"):
        en = alloc.summary()
    assert fr.startswith("Allocation des sortants de formation initiale aux métiers (IPF)\n  itérations : ")
    assert "convergé : oui" in fr and "jeunes débutants par formation (période, milliers) :" in fr
    assert en.startswith("Allocation of initial-education leavers to métiers (IPF)\n  iterations: ")
    assert foreign_words(fr, "fr") == [] and foreign_words(en, "en") == []
    assert np.isfinite(alloc.report["rescale_factor"])
