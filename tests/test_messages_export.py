"""One language at a time for the messages of :mod:`pmq.export` and :mod:`pmq.plots` (issue 20): the errors a user
meets exporting tables (IAMC, Excel, CSV), building a report or drawing a chart read in French by default, with no
English prose, and in English under ``pmq.set_options(lang="en")``; in both, the argument, column and value to fix."""
import pandas as pd
import xarray as xr

from pmq.errors import ArgumentError, InputError, PmqError
from pmq.export import figures
from pmq.export.iamc import check_iamc, iamc_table, write_iamc
from pmq.export.report import build_report
from pmq.export.tables import to_excel
from pmq.plots import charts, maps
from pmq.plots import skills as skill_plots
from test_one_language import assert_one_language, raised_in_both


def _both(make, error=PmqError, argument: str = "") -> tuple[str, str]:
    """The message of the error ``make()`` raises, in French and in English, each in one language."""
    fr, en = raised_in_both(make, error)
    assert_one_language(fr, en, argument=argument)
    return fr, en

def test_iamc_messages(tmp_path):
    fr, en = _both(lambda: iamc_table(xr.Dataset(), variables=["nope"]), ArgumentError, "variables")
    assert fr.startswith("variables : variables IAMC inconnues : utilisez [") and "'nope'" in fr
    assert en.startswith("variables: unknown IAMC variables; use [")
    fr, en = _both(lambda: check_iamc(pd.DataFrame({"a": [1]}), source="t.csv"), InputError)
    assert "les premières colonnes doivent être ['model', 'scenario', 'region', 'variable', 'unit']" in fr
    assert "the first columns must be ['model', 'scenario', 'region', 'variable', 'unit']" in en
    table = pd.DataFrame({"model": ["pmq"], "scenario": ["reference"], "region": ["France"],
                          "variable": ["Employment"], "unit": ["thousand persons"], 2025: [1.0]})
    fr, en = _both(lambda: write_iamc(table, tmp_path / "x.json"), ArgumentError, "path")
    assert "les tableaux IAMC s'écrivent en .csv ou .xlsx, pas en '.json'" in fr
    assert "IAMC tables are written as .csv or .xlsx, not '.json'" in en
    assert not (tmp_path / "x.json").exists()


def test_excel_and_figure_workers_messages(tmp_path, monkeypatch):
    fr, en = _both(lambda: to_excel({"a" * 40: pd.DataFrame({"x": [1]})}, tmp_path / "t.xlsx"), ArgumentError,
                   "tables")
    assert fr.startswith("tables : noms de feuilles Excel invalides (31 caractères au plus")
    assert en.startswith("tables: invalid Excel sheet names (at most 31 characters")
    monkeypatch.setenv("PMQ_FIGURE_WORKERS", "deux")
    if hasattr(__import__("os"), "fork"):
        fr, en = _both(figures.default_workers, ArgumentError, "PMQ_FIGURE_WORKERS")
        assert fr == "PMQ_FIGURE_WORKERS : PMQ_FIGURE_WORKERS doit être un nombre entier de processus (0 : aucun) " \
                     "(valeur : 'deux')"
        assert en == "PMQ_FIGURE_WORKERS: PMQ_FIGURE_WORKERS must be a whole number of processes (0: none) " \
                     "(value: 'deux')"


def test_report_and_chart_messages(tmp_path):
    fr, en = _both(lambda: build_report(["reference"], horizons=[0], out=tmp_path / "r", progress=False),
                   ArgumentError, "horizons")
    assert fr == "horizons : les horizons doivent être des nombres d'années positifs (valeur : [0])"
    assert en == "horizons: horizons must be positive numbers of years (value: [0])"
    assert not (tmp_path / "r").exists()
    fr, en = _both(lambda: maps.territory_geometry("commune"), ArgumentError, "level")
    assert fr.startswith("level : aucune géométrie pour ce niveau ; attendu l'un de ")
    assert en.startswith("level: no geometry for this level; expected one of ")
    fr, en = _both(lambda: skill_plots.skills_bars(pd.DataFrame(), top=0), ArgumentError, "top")
    assert fr == "top : top doit être un nombre de barres positif (valeur : 0)"
    assert en == "top: top must be a positive number of bars (value: 0)"
    fr, en = _both(lambda: charts.fan_chart(xr.DataArray([1.0, 2.0], dims=["year"])), ValueError)
    assert fr == "fan_chart a besoin d'une dimension 'draw' ou 'quantile'"
    assert en == "fan_chart needs a 'draw' or a 'quantile' dimension"
