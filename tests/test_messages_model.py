"""The messages of pmq.model (engine, rules, demand paths) in the reader's language: French by default, English
with ``lang="en"`` — the same numbers and names in both, no prose of the other language."""
import numpy as np
import pytest

import pmq
from pmq.errors import ArgumentError, EngineError, InputError
from pmq.model.demand import employment_path
from pmq.model.engine import Profiles, simulate
from pmq.model.rules import check_rules, flow_years
from test_one_language import foreign_words

A = 60


def _engine_inputs():
    E0 = np.zeros((2, A))
    E0[0, 10:40] = 50.0
    h = np.full((2, A), 0.02)
    h[:, -1] = 1.0
    z = np.zeros((2, 2))
    return E0, h, z, Profiles.from_spec()


def _message(fn, error):
    with pytest.raises(error) as info:
        fn()
    return str(info.value)


def _both(fn, error):
    fr = _message(fn, error)
    with pmq.set_options(lang="en"):
        en = _message(fn, error)
    return fr, en


def test_engine_outflow_error_in_both_languages():
    E0, h, z, prof = _engine_inputs()
    ye = z.copy()
    ye[1:, 1] = 7.0                      # entrants into the empty cell in the second year, no jobs
    fr, en = _both(lambda: simulate(E0, h, z, ye, z, prof), EngineError)
    assert fr.startswith("pas annuel 1 (flux de l'année de base + 1) : les sorties nettes dépassent")
    assert "il ne reste aucun actif" in fr and "(1,)" in fr and "sortie 7" in fr
    assert en.startswith("year step 1 (flows of base + 1): net outflows exceed")
    assert "no worker is left" in en and "(1,)" in en and "outflow 7" in en
    assert foreign_words(fr, "fr") == [] and foreign_words(en, "en") == []


def test_engine_arguments_and_inputs_in_both_languages():
    E0, h, z, prof = _engine_inputs()
    fr, en = _both(lambda: simulate(E0, h, z, z, z, prof, record="ages"), ArgumentError)
    assert fr == "record : record doit valoir full, totals, cells ou departures (valeur : 'ages')"
    assert en == "record: record must be full, totals, cells or departures (value: 'ages')"
    fr, en = _both(lambda: simulate(-E0, h, z, z, z, prof), EngineError)
    assert fr == "entrée du moteur invalide : emploi négatif ou NaN"
    assert en == "invalid engine input: negative or NaN employment"
    fr, en = _both(lambda: simulate(E0, h, z, z, z, None), ArgumentError)
    assert "simulate demande les taux de sortie" in fr and "simulate needs the hazard" in en
    for msg, lang in ((fr, "fr"), (en, "en")):
        assert foreign_words(msg, lang) == []


def test_rules_and_paths_in_both_languages():
    fr, en = _both(lambda: check_rules("demand", "steady", ("linear",), "constant_level", ("constant_level",)),
                   InputError)
    assert fr == "règle de répartition demand inconnue : 'steady' ; valeurs possibles : ('linear',)"
    assert en == "unknown demand spreading rule 'steady'; expected one of ('linear',)"
    fr, en = _both(lambda: flow_years(np.ones(3), np.ones((4, 3)), 11), ArgumentError)
    assert "n_period = 11 années de flux ; reçu 3, soit 4 lignes d'emploi" in fr
    assert "n_period = 11 flow years; got 3, i.e. 4 employment rows" in en
    fr, en = _both(lambda: employment_path(np.array([0.0, 5.0]), np.array([-1.0, 5.0]), 11, 11, spreading="linear",
                                           continuation="constant_level"), InputError)
    assert "l'emploi serait négatif ou NaN dans 1 cellule :" in fr and "cellule (0,) : 0 → -1" in fr
    assert "employment would be negative or NaN in 1 cell(s):" in en and "cell (0,): 0 → -1" in en
    for msg, lang in ((fr, "fr"), (en, "en")):
        assert foreign_words(msg, lang) == []
