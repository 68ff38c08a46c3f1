"""Bad arguments of the public API raise pmq errors (PmqError) that name the argument and the value.

Every case is cheap: the checks run before any heavy work (the one projection is the session
fixture ``reference_2030`` shared with the other test modules)."""
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pmq
import pmq.analysis.occupational
import pmq.analysis.reproduce
import pmq.estimation.backtest
import pmq.estimation.trends
import pmq.export
import pmq.export.report
import pmq.formatting
import pmq.inputs.interregional
import pmq.model.engine
import pmq.model.entrants
import pmq.model.mobility
import pmq.projection.indicators
import pmq.projection.sensitivity
import pmq.testing
from pmq.errors import ArgumentError, InputError, MissingDependencyError, PmqError


def _projection(request):
    return request.getfixturevalue("reference_2030")


def _baseline(request):
    return request.getfixturevalue("baseline")


def _fitted(request):
    from pmq.estimation.trends import fit_trend
    s = pd.Series(np.linspace(100.0, 120.0, 10), index=range(2000, 2010))
    return fit_trend(s, "loglinear", name="X")


# (id, call(request, tmp_path), argument name, value as shown in the message)
CASES = [
    ("export.to_excel-sheet", lambda r, p: pmq.export.to_excel({"x" * 40: pd.DataFrame({"a": [1]})}, p / "t.xlsx"),
     "tables", "x" * 40),
    ("export.iamc_table-variables", lambda r, p: pmq.export.iamc.iamc_table(_projection(r), variables=["Jobs"]),
     "variables", "Jobs"),
    ("export.iamc_table-by", lambda r, p: pmq.export.iamc.iamc_table(_projection(r), by="region"), "by", "region"),
    ("export.write_iamc-suffix", lambda r, p: pmq.export.iamc.write_iamc(pmq.export.iamc.iamc_table(_projection(r), by=None),
                                                                    p / "x.json"), "path", "x.json"),
    ("export.export-csv-file", lambda r, p: pmq.export.export(None, p / "x.csv"), "path", "x.csv"),
    ("export.export-fmt", lambda r, p: pmq.export.export(_projection(r), p / "x.nc", fmt="parquet"), "fmt", "parquet"),
    ("engine.simulate-record", lambda r, p: pmq.model.engine.simulate(None, None, None, None, None, None, record="all"),
     "record", "all"),
    ("supply.annual_path-short", lambda r, p: pmq.model.entrants.annual_path(np.ones(2), np.ones((4, 2)), 11),
     "employment", "(4, 2)"),
    ("mobility.annual_path-short", lambda r, p: pmq.model.mobility.annual_path(np.ones(2), np.ones((4, 2)), 11),
     "employment", "(4, 2)"),
    ("mobility.period_net_mobility-n_years", lambda r, p: pmq.inputs.interregional.period_net_mobility(_baseline(r), None, 0),
     "n_years", "0"),
    ("mobility.period_net_mobility-n_years-text",
     lambda r, p: pmq.inputs.interregional.period_net_mobility(_baseline(r), None, "ten"), "n_years", "ten"),
    ("mobility.period_net_mobility-path",
     lambda r, p: pmq.inputs.interregional.period_net_mobility(_baseline(r), None, 3, path="cubic"), "path", "cubic"),
    ("report.build_report-horizons", lambda r, p: pmq.export.report.build_report(
        "reference", horizons=[11, -2], out=p / "rep", baseline=_baseline(r), progress=False), "horizons", "-2"),
    ("report.build_report-horizons-text", lambda r, p: pmq.export.report.build_report(
        "reference", horizons=["x"], out=p / "rep", baseline=_baseline(r), progress=False), "horizons", "x"),
    ("formatting.check_lang", lambda r, p: pmq.formatting.check_lang("de"), "lang", "de"),
    ("indicators.aggregate_metiers", lambda r, p: pmq.projection.indicators.aggregate_metiers(xr.Dataset(), by="region"),
     "by", "region"),
    ("reproduce.reproduce_metiers2030", lambda r, p: pmq.analysis.reproduce.reproduce_metiers2030(specificity="local"),
     "specificity", "local"),
    ("sensitivity.sobol_indices", lambda r, p: pmq.projection.sensitivity.sobol_indices(None, {"a": [0]}, 1, n=4), "n", "4"),
    ("transitions.occupational_mobility", lambda r, p: pmq.analysis.occupational.occupational_mobility(
        xr.Dataset(), None, stock="end"), "stock", "end"),
    ("trends.employment_series-level", lambda r, p: pmq.estimation.trends.employment_series(level="region"),
     "level", "region"),
    ("trends.fit_trend-model", lambda r, p: pmq.estimation.trends.fit_trend(pd.Series(np.ones(10), index=range(2000, 2010)),
                                                                "prophet"), "model", "prophet"),
    ("trends.forecast-horizon", lambda r, p: _fitted(r).forecast(0), "horizon", "0"),
    ("testing.assert_accounts-hazard", lambda r, p: pmq.testing.assert_accounts(
        _projection(r).accounts, hazard=np.zeros((3,) + _projection(r).accounts["employment"].isel(year=0).shape)),
     "hazard", "3"),
    ("backtest-start", lambda r, p: pmq.estimation.backtest.backtest("x"), "start", "x"),
    ("backtest-start-list", lambda r, p: pmq.estimation.backtest.backtest([2012, "2013b"]), "start", "2013b"),
    ("backtest-end", lambda r, p: pmq.estimation.backtest.backtest(2012, 2018.5), "end", "2018.5"),
]


@pytest.mark.parametrize("call, name, value", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_argument_names_argument_and_value(request, tmp_path, call, name, value):
    with pytest.raises(PmqError) as e:
        call(request, tmp_path)
    assert isinstance(e.value, ArgumentError) and isinstance(e.value, ValueError)
    msg = str(e.value)
    assert name in msg and value in msg, msg
    assert e.value.name.startswith(name)


def test_to_pyam_without_pyam_says_how_to_install(reference_2030, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyam", None)          # import pyam → ImportError
    with pytest.raises(MissingDependencyError, match=r"python -m pip install pyam-iamc") as e:
        pmq.export.iamc.to_pyam(reference_2030)
    assert isinstance(e.value, PmqError) and isinstance(e.value, ImportError)


def test_parquet_without_pyarrow_says_how_to_install(tmp_path, monkeypatch):
    from pmq.inputs.tables import read_table
    p = tmp_path / "emploi.parquet"
    p.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingDependencyError) as e:
        read_table(p, name="employment")
    msg = str(e.value)
    assert 'python -m pip install ".[parquet]"' in msg and "dossier de pmq" in msg and "emploi.parquet" in msg
    assert isinstance(e.value, PmqError)


# ---------------------------------------------------------------------------------------------- sources named
def _employment_csv(tmp_path, mutate):
    from pmq.estimation.trends import _table
    t = _table()
    t = t[t["level"] == "fap87"][["fap", "year", "employment_k"]].reset_index(drop=True)
    p = tmp_path / "emploi_utilisateur.csv"
    mutate(t).to_csv(p, index=False)
    return p


def test_trend_errors_name_the_given_source():
    from pmq.estimation.trends import SOURCE, SOURCE_FR, fit_trend
    bad = pd.Series([10.0, 0, 12, 13, 14, 15, 16, 17], index=range(2000, 2008))
    with pytest.raises(InputError) as e:
        fit_trend(bad, name="X", source="mine.csv")
    assert e.value.source == "mine.csv" and "mine.csv" in str(e.value)
    with pytest.raises(InputError) as e:                    # a user's series: not the shipped file
        fit_trend(bad, name="X")
    assert SOURCE not in str(e.value) and SOURCE_FR not in str(e.value)


def test_backtest_window_error_names_the_users_employment_file(tmp_path):
    p = _employment_csv(tmp_path, lambda t: t[t["year"] != 2018])
    with pytest.raises(InputError) as e:
        pmq.estimation.backtest.backtest(2012, 2018, employment=p)
    assert e.value.source == p.name and e.value.column == "year" and "2018" in str(e.value)


def test_backtest_trend_error_names_the_users_employment_file(tmp_path, monkeypatch):
    # a zero in the trend window (zeros pass the file checks, not the log-trend fit); the
    # replacement-model part is stubbed out: only the demand part reads the series
    import pmq.estimation.backtest as bt
    monkeypatch.setattr(bt, "_age_part", lambda *a, **k: (pd.DataFrame({"fap": []}), pd.DataFrame()))

    def zero(t):
        t = t.copy()
        t.loc[(t["fap"] == t["fap"].iloc[0]) & (t["year"] == 2005), "employment_k"] = 0.0
        return t
    p = _employment_csv(tmp_path, zero)
    with pytest.raises(InputError, match="positif et fini") as e:
        bt.backtest(2012, 2018, employment=p)
    assert e.value.source == p.name and p.name in str(e.value)
