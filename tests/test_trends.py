"""Employment trend models (statsmodels) on the DARES FAP series."""
import numpy as np
import pandas as pd
import pytest

from pmq.errors import InputError
from pmq.estimation.trends import MODELS, employment_series, fit_trend, fit_trends


def test_shipped_series_match_the_source_totals():
    ens = employment_series(level="ensemble")["ENS"]
    fap = employment_series(level="fap87")
    assert ens.index.min() == 1983 and ens.index.max() == 2018
    # the families add up to all employment: T2Z is T2A + T2B from 1995 (counted once), before 1995 T2Z alone
    np.testing.assert_allclose(fap["T2Z"].loc[1995:], fap[["T2A", "T2B"]].sum(axis=1).loc[1995:], rtol=1e-6)
    np.testing.assert_allclose(fap.drop(columns=["T2Z"]).sum(axis=1).loc[1995:], ens.loc[1995:], rtol=1e-6)
    np.testing.assert_allclose(fap.drop(columns=["T2A", "T2B"]).sum(axis=1).loc[:1994], ens.loc[:1994], rtol=3e-2)
    assert employment_series("T2A").index.min() == 1995


def test_loglinear_recovers_a_known_growth_rate():
    years = np.arange(1990, 2019)
    rng = np.random.default_rng(0)
    s = pd.Series(100 * np.exp(0.02 * (years - 1990) + rng.normal(0, 0.005, years.size)), index=years)
    r = fit_trend(s, "loglinear", name="synthetic")
    assert r.growth == pytest.approx(np.expm1(0.02), abs=5e-4)
    f = r.forecast(10)
    assert list(f.index) == list(range(2019, 2029))
    assert f.iloc[-1] == pytest.approx(100 * np.exp(0.02 * 38), rel=0.03)
    assert "HAC" in r.summary() and r.mape() < 1


@pytest.mark.parametrize("model", list(MODELS))
def test_every_model_fits_and_forecasts_the_real_series(model):
    s = employment_series("B2Z")
    r = fit_trend(s, model)
    f = r.forecast(12)
    assert f.index[0] == 2019 and len(f) == 12 and (f > 0).all() and np.isfinite(f).all()
    assert r.mape() < 10 and np.isfinite(r.aic) or model == "loglinear"
    assert model in r.summary() and "B2Z" in r.summary()
    # the fitted path is close to the data
    assert float((r.fitted / r.series - 1).abs().median()) < 0.1


def test_damped_trend_flattens():
    s = employment_series("T2A")
    d = fit_trend(s, "damped").forecast(20)
    steps = np.diff(np.log(d.values))
    assert abs(steps[-1]) <= abs(steps[0]) + 1e-12


def test_fit_trends_table():
    t = fit_trends("loglinear", start_year=2004, horizon=5)
    assert set(t["kind"]) == {"observed", "forecast"}
    fc = t[t["kind"] == "forecast"]
    assert fc.groupby("fap").size().eq(5).all() and fc["year"].min() == 2019
    assert t.attrs["model"] == "loglinear"


@pytest.mark.parametrize("series, match", [
    (pd.Series([10.0, -1, 12, 13, 14, 15, 16, 17], index=range(2000, 2008)), "positif"),
    (pd.Series([10.0, np.inf, 12, 13, 14, 15, 16, 17], index=range(2000, 2008)), "positif"),
    (pd.Series([10.0, 11, 12], index=range(2000, 2003)), "au moins 8"),
    (pd.Series(np.arange(10, 19.0), index=[2000, 2001, 2003, 2004, 2005, 2006, 2007, 2008, 2009]), "se suivre"),
])
def test_bad_series(series, match):
    with pytest.raises(InputError, match=match):
        fit_trend(series, "loglinear", name="X")


def test_unknown_model_and_code():
    with pytest.raises(ValueError, match="modèle de tendance inconnu"):
        fit_trend(employment_series("B2Z"), "prophet")
    with pytest.raises(InputError) as e:
        employment_series("Z9Z")
    assert "Z9Z" in str(e.value)


def test_docs_trends_example_runs(capsys):
    import re
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "docs" / "trends.md").read_text(encoding="utf-8")
    for code in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        exec(compile(code, "docs/trends.md", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "MAPE" in out and "2030" in out
