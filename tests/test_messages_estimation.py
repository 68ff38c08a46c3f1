"""The errors and warnings of pmq.estimation and pmq.projection in one language at a time: French by default, with
no English prose and still naming the file, key, column and values; English under ``pmq.set_options(lang="en")``,
as it was written."""
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pmq
import pmq.projection  # noqa: F401  (registers the ds.pmq accessor)
from pmq.errors import ArgumentError, InputError, ScenarioError, UnknownNameError
from pmq.estimation.backtest import backtest, read_employment_series, read_pyramids
from pmq.estimation.exits import holdout
from pmq.estimation.trends import employment_series, fit_shares, fit_trend, forecast_families
from pmq.model.ages import AGES
from pmq.projection.compare import project_many
from pmq.projection.indicators import one_scenario
from pmq.projection.sensitivity import sobol_indices
from test_one_language import foreign_words, raised_in_both

#: The title of a DARES publication: a proper name, in French in both languages.
TITLE = "Portraits statistiques des métiers"



def _check(fr: str, en: str, *named: str, ids: tuple[str, ...] = ()) -> None:
    """Each message in one language, both naming ``named``; ``ids``: identifiers (an argument's name) that are no
    prose."""
    assert fr != en
    prose_fr, prose_en = fr.replace(TITLE, " "), en.replace(TITLE, " ")
    for name in ids:
        prose_fr, prose_en = prose_fr.replace(name, " "), prose_en.replace(name, " ")
    assert foreign_words(prose_fr, "fr") == [], fr
    assert foreign_words(prose_en, "en") == [], en
    for name in named:
        assert name in fr and name in en, (name, fr, en)


@pytest.fixture(scope="module")
def levels():
    return read_employment_series()


# ------------------------------------------------------------------------------------------- trends
def test_a_bad_series_is_refused_in_the_readers_language():
    bad = pd.Series([10.0, -1, 12, 13, 14, 15, 16, 17], index=range(2000, 2008))
    fr, en = raised_in_both(lambda: fit_trend(bad, name="B2Z", source="mine.csv"), InputError)
    _check(fr, en, "mine.csv", "B2Z", "2001")
    assert "l'emploi doit être positif et fini" in fr and "employment must be positive and finite" in en
    short = pd.Series([10.0, 11, 12], index=range(2000, 2003))
    fr, en = raised_in_both(lambda: fit_trend(short, name="X"), InputError)
    _check(fr, en, "X", "'year'", "2000, 2001, 2002")
    assert "au moins 8 années" in fr and "la série en a 3" in fr and "got 3" in en


def test_the_shipped_series_is_named_in_the_readers_language():
    fr, en = raised_in_both(lambda: employment_series("Z9Z"), InputError)
    _check(fr, en, "Z9Z", "'fap'", "FAP-87", TITLE)
    assert "colonne 'fap'" in fr and "(édition 2021)" in fr and "code FAP inconnu" in fr
    assert "column 'fap'" in en and "(2021 edition)" in en


def test_model_and_share_arguments(levels):
    fr, en = raised_in_both(lambda: fit_trend(employment_series("B2Z"), "prophet"), ArgumentError)
    _check(fr, en, "model", "'prophet'", "loglinear, damped, arima")
    assert fr.startswith("model : modèle de tendance inconnu") and en.startswith("model: unknown trend model")
    fr, en = raised_in_both(lambda: fit_shares(levels, trend_fraction=2), ArgumentError)
    _check(fr, en, "trend_fraction", "2")
    assert "(valeur : 2)" in fr and "(value: 2)" in en
    fr, en = raised_in_both(lambda: forecast_families(levels, "shares", 3, total=[1.0, 2.0]), ArgumentError)
    _check(fr, en, "total", "(3)")
    assert "un total par année de prévision (3), et non 2" in fr
    fr, en = raised_in_both(lambda: fit_shares(levels, anchor=2030), InputError)
    _check(fr, en, "2030", "'year'")
    assert "ancrage" in fr and "anchor" in en


# ----------------------------------------------------------------------------------------- backtest
@pytest.mark.parametrize("kwargs, named", [
    (dict(start=2012, end=2018, trend_years=5), ["trend_years (--trend-years)", "5"]),
    (dict(start=2012, end=2018, horizon=3), ["end (--to)", "(2018)", "(3)"]),
    (dict(start=2012, end=2011), ["end (--to)", "(2011)", "2012", "2010–2012"]),
    (dict(start=2012, end=2020), ["end (--to)", "2020", "2004–2018"]),
    (dict(start="soon"), ["start (--from)", "'soon'"]),
])
def test_backtest_windows(kwargs, named):
    fr, en = raised_in_both(lambda: backtest(**kwargs))
    _check(fr, en, *named)


def test_backtest_files_are_named(tmp_path):
    emp = employment_series(level="fap87").stack().dropna().rename("employment_k").reset_index()
    emp = emp[~((emp["fap"] == "B2Z") & (emp["year"] == 2005))]
    p = tmp_path / "emploi.csv"
    emp[["fap", "year", "employment_k"]].to_csv(p, index=False)
    fr, en = raised_in_both(lambda: read_employment_series(p), InputError)
    _check(fr, en, "emploi.csv", "'year'", "B2Z", "2005", "1 FAP")
    assert fr.startswith("emploi.csv, colonne 'year' : séries incomplètes pour 1 FAP")
    pyr = pd.DataFrame({"fap": "B2Z", "window": "2010-2012", "band": ["15-24", "60-64"], "employment_k": 1.0})
    q = tmp_path / "pyramides.csv"
    pyr.to_csv(q, index=False)
    fr, en = raised_in_both(lambda: read_pyramids(q), InputError)
    _check(fr, en, "pyramides.csv", "'band'", "'60-64'", "'60+'")
    assert "tranches d'âge inconnues" in fr and "unknown age bands" in en


def test_exit_fit_errors():
    fr, en = raised_in_both(lambda: holdout(2030), InputError)
    _check(fr, en, "2030", "'start'", "FAP-87")
    assert "la coupure 2030" in fr and "pyramides en 9 tranches" in fr and "9-band pyramids" in en


# --------------------------------------------------------------------------------------- projection
def test_periods_and_scenarios_of_results():
    sums = xr.Dataset({"openings": ("period", [1.0, 2.0])}, coords={"period": ["2019–2024", "2019–2030"]})
    fr, en = raised_in_both(lambda: pmq.select(sums, period="soon"), ArgumentError)
    _check(fr, en, "'soon'", "2019–2024, 2019–2030", "2024")
    assert fr.startswith("period : période attendue") and en.startswith("period: expected a period")
    fr, en = raised_in_both(lambda: pmq.select(sums, period=2031), ArgumentError)
    _check(fr, en, "2031", "2019–2024, 2019–2030", "2024, 2030")
    years = xr.Dataset({"openings": ("year", [1.0, 2.0])}, coords={"year": [2019, 2020]})
    fr, en = raised_in_both(lambda: pmq.select(years, period=2030), ArgumentError)
    _check(fr, en, "period", "proj.horizons()", "pmq.horizon_sums")
    fr, en = raised_in_both(lambda: pmq.Projection(xr.Dataset(), xr.Dataset()), ArgumentError)
    _check(fr, en, "scenario= (", "scenarios= (", ids=("scenario",))
    two = xr.Dataset({"x": ("scenario", [1.0, 2.0])}, coords={"scenario": ["a", "b"]})
    fr, en = raised_in_both(lambda: one_scenario(two, "nope"), UnknownNameError)
    _check(fr, en, "'nope'", "a, b")
    assert fr.startswith("scénario inconnu 'nope'") and en.startswith("unknown scenario 'nope'")
    fr, en = raised_in_both(lambda: xr.Dataset(attrs={"scenario": "reference"}).pmq["nope"], UnknownNameError)
    _check(fr, en, "'nope'", "reference")
    fr, en = raised_in_both(lambda: project_many([]), ScenarioError)
    assert fr == "aucun scénario donné" and en == "no scenario given"
    fr, en = raised_in_both(lambda: sobol_indices(None, {}, 1, n=4), ArgumentError)
    _check(fr, en, "n", "4")


def test_a_scenario_for_another_base_year_is_named(tmp_path, baseline):
    p = tmp_path / "mine.toml"
    p.write_text('[scenario]\nname = "mine"\nextends = "reference"\nbase_year = 2020\n', encoding="utf-8")
    fr, en = raised_in_both(lambda: pmq.project(baseline, p, horizon=2), ScenarioError)
    _check(fr, en, "mine.toml", "'scenario.base_year'", "2020", "2019")
    assert "clé 'scenario.base_year'" in fr and "l'année de base 2020" in fr


def _user_baseline(young_13: float, creation_13: float = 0.0):
    emp = pd.DataFrame([{"territory": t, "metier": "T4Z", "age": int(a), "employment": e, "territory_name": n}
                        for t, n, e in (("84", "Rhône", 10.0), ("13", "Bouches-du-Rhône", 0.0)) for a in AGES])
    haz = pd.DataFrame({"metier": "T4Z", "age": AGES, "hazard": np.where(AGES == AGES[-1], 1.0, 0.01)})
    flo = pd.DataFrame({"territory": ["84", "13"], "metier": "T4Z", "period_start": 2021, "period_end": 2031,
                        "net_creation": [10.0, creation_13], "young_entrants": [5.0, young_13], "net_mobility": 0.0})
    return pmq.load_user_baseline(emp, haz, flo)


def test_the_flows_an_empty_cell_cannot_run_are_refused_in_the_readers_language():
    b = _user_baseline(33.0)
    fr, en = raised_in_both(lambda: pmq.project(b, "reference", horizon=3), InputError)
    _check(fr, en, "flows", "'young_entrants', 'net_creation', 'net_mobility'", "Bouches-du-Rhône", "T4Z", "33")
    assert "dans 1 cellule : ces cellules n'ont plus aucun actif en 2021" in fr
    assert "in 1 cell(s): these cells have no worker left in 2021" in en


def test_the_warning_of_cells_from_zero_is_in_the_readers_language():
    b = _user_baseline(0.0, 5.0)         # 13 × T4Z: from 0 employment to 5, under a growth-rate demand rule

    def warned():
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            pmq.project(b, "reference", horizon=2)
        return [str(x.message) for x in w if "T4Z" in str(x.message)]

    fr = warned()
    with pmq.set_options(lang="en"):
        en = warned()
    assert len(fr) == len(en) == 1, (fr, en)
    _check(fr[0], en[0], "13 × T4Z (0 → 5)")
    assert fr[0].startswith("1 cellule part d'un emploi nul") and en[0].startswith("1 cell(s) start from")
