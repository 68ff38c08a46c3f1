"""One language at a time for the messages of ensembles (pmq.projection.ensemble): French by default, with no
English prose but every key, value and name the English gives; English under ``pmq.set_options(lang="en")``."""
import warnings


import pmq
from pmq.errors import ArgumentError, InactiveLeverWarning, OutputError, ResourceError, ScenarioError
from pmq.projection.ensemble import (Parameter, _check_range, _check_store_target, _client, check_memory,
                                     key_share_spread, parse_size, run_ensemble)
from pmq.scenario import read_scenario
from test_one_language import assert_one_language, raised_in_both




def test_implausible_distributions_in_both_languages():
    sd = Parameter(id="jeunes", kind="young_entrants", sd=5.0)
    fr, en = raised_in_both(lambda: _check_range(sd, "s.toml"), ScenarioError)
    assert_one_language(fr, en, "0.5", "'young_entrants'", "s.toml", "uncertainty.parameter[jeunes].sd")
    assert "invraisemblable" in fr and "écart relatif des jeunes entrants" in fr
    assert "implausible" in en and "relative deviation of young entrants" in en
    wide = Parameter(id="m", kind="mobility", distribution="uniform", low=-3.0, high=1.0)
    fr, en = raised_in_both(lambda: _check_range(wide, "s.toml"), ScenarioError)
    assert_one_language(fr, en, "[-1.0, 3.0]", "'mobility'", "uncertainty.parameter[m]")
    assert "doivent rester dans" in fr and "must stay within" in en


def test_argument_and_size_messages_in_both_languages(baseline):
    fr, en = raised_in_both(lambda: parse_size("huit gigas"), ArgumentError)
    assert_one_language(fr, en, "8G", "max_memory", "huit gigas")
    assert "taille attendue" in fr
    fr, en = raised_in_both(lambda: run_ensemble("reference_incertain", baseline, draws=0, horizon=2), ArgumentError)
    assert_one_language(fr, en, "draws", "≥ 1")
    assert "nombre entier" in fr and "whole number" in en
    fr, en = raised_in_both(lambda: _client("lointain"), ArgumentError)
    assert_one_language(fr, en, "threads", "tcp://", "lointain")
    assert "ordonnanceur inconnu" in fr and "unknown scheduler" in en


def test_memory_refusal_in_both_languages(baseline):
    sc = read_scenario("reference_incertain")
    fr, en = raised_in_both(lambda: check_memory(baseline, sc, 1_000_000, horizon=5, max_memory="1G"), ResourceError)
    assert_one_language(fr, en, "--max-memory", "PMQ_MAX_MEMORY")
    assert "1\u202f000\u202f000 tirages" in fr and "1,0\u202fGo" in fr and "rien n'a été calculé" in fr
    assert "1,000,000 draws" in en and "1.0 GB" in en and "nothing was computed" in en


def test_store_of_someone_else_in_both_languages(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    fr, en = raised_in_both(lambda: _check_store_target(tmp_path), OutputError)
    assert_one_language(fr, en, ".pmq-output", str(tmp_path))
    assert "un dossier" in fr and "rien de vos fichiers n'est perdu" in fr and "a folder" in en


def test_key_shares_on_a_baseline_not_split_warns_in_both_languages(baseline):
    p = Parameter(id="parts", kind="key_shares", sd=0.1)
    texts = []
    for lang in ("fr", "en"):
        with pmq.set_options(lang=lang), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert key_share_spread(p, baseline, "s.toml") is None
        (w,) = [x for x in caught if issubclass(x.category, InactiveLeverWarning)]
        texts.append(str(w.message))
    fr, en = texts
    assert_one_language(fr, en, "s.toml", "uncertainty.parameter[parts]", "key_shares", "--level", "zone_emploi")
    assert "sans effet" in fr and "has no effect" in en
