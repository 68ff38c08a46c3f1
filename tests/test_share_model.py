"""The share model (« half-trend shares », issue 22), the batch fits behind the backtest, forecast
combinations, and `[demand] trend = "shares"` in scenarios."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from pmq import project
from pmq.errors import ArgumentError, InputError, ScenarioError
from pmq.estimation import trends
from pmq.estimation.backtest import read_employment_series
from pmq.estimation.trends import (DAMPING, FIT_YEARS, TREND_FRACTION, _arima_mle, fit_shares, fit_trend,
                                   forecast_families, metier_share_index)
from pmq.scenario import read_scenario


@pytest.fixture(scope="module")
def series():
    return read_employment_series()                  # 87 FAP-87 families, 1983–2018


def test_documented_defaults():
    assert (TREND_FRACTION, FIT_YEARS, DAMPING) == (0.5, 15, 0.85)


def test_the_rule_written_out(series):
    """ℓ[y, i] = ln(E[y, i] / T[y]) on the 15 labels up to the anchor, bᵢ its OLS slope on the year,
    ℓ̂ᵢ(a + k) = ℓ[a, i] + 0.5·k·bᵢ, shares = softmax(ℓ̂), employment = shares × the last total."""
    a, h = 2011, 7
    win = series.loc[a - 14:a]
    L = np.log(win.div(win.sum(axis=1), axis=0))
    x = np.arange(a - 14, a + 1, dtype=float)
    b = np.polyfit(x, L.to_numpy(), 1)[0]
    lhat = L.loc[a].to_numpy() + 0.5 * h * b
    expect = np.exp(lhat) / np.exp(lhat).sum() * win.loc[a].sum()
    got = forecast_families(series.loc[:a], "shares", h)
    assert list(got.index) == list(range(a + 1, a + h + 1))
    np.testing.assert_allclose(got.loc[a + h].to_numpy(), expect, rtol=1e-10)
    np.testing.assert_allclose(got.sum(axis=1), win.loc[a].sum(), rtol=1e-12)     # the last total by default
    fit = fit_shares(series, anchor=a)
    np.testing.assert_allclose(fit.slope.to_numpy(), b, rtol=1e-9)
    assert fit.model == "shares" and "anchor 2011" in fit.summary()


def test_it_is_the_theta_method_on_log_shares(series):
    """statsmodels' ThetaModel with θ = 2 and the smoothing level at the last value (α = 1) gives
    ℓ[a] + 0.5·k·b0, b0 its own OLS slope: the share model's log shares before the softmax."""
    from statsmodels.tsa.forecasting.theta import ThetaModel, ThetaModelResults
    a, h = 2018, 9
    win = series.loc[a - 14:]
    L = np.log(win.div(win.sum(axis=1), axis=0))
    fit = fit_shares(series)
    for fap in ("A0Z", "T2A", "X0Z", "F0Z"):
        y = L[fap].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mod = ThetaModel(y, deseasonalize=False)
            b0 = float(mod.fit(use_mle=False).params["b0"])
        theta = ThetaModelResults(b0, 1.0, None, y[-1], np.empty(0), False, mod).forecast(h, theta=2)
        assert fit.log_share[fap] == pytest.approx(y[-1], abs=1e-12)
        ours = fit.log_share[fap] + fit.multiplier(np.arange(1, h + 1)) * fit.slope[fap]
        np.testing.assert_allclose(np.asarray(theta), ours, rtol=0, atol=1e-10)


def test_the_damped_variant_is_bounded(series):
    fit = fit_shares(series, damping=DAMPING)
    k = np.arange(1, 61)
    m = fit.multiplier(k)
    np.testing.assert_allclose(m[:3], [0.85, 0.85 + 0.85 ** 2, 0.85 + 0.85 ** 2 + 0.85 ** 3], rtol=1e-12)
    assert (np.diff(m) > 0).all() and m[-1] < DAMPING / (1 - DAMPING) + 1e-9
    half = fit_shares(series).multiplier(k)
    assert abs(m[8] - half[8]) < 0.2 and half[-1] > 5 * m[-1]      # close at 9 years (4.35, 4.5), apart at 60
    far = fit.shares(60)
    assert np.allclose(far.sum(axis=1), 1.0) and (far.loc[2078] - far.loc[2077]).abs().max() < 1e-5


def test_total_path_and_bad_totals(series):
    fit = fit_shares(series)
    path = pd.Series([30_000.0, 30_500.0, 31_000.0], index=[2019, 2020, 2021])
    got = fit.forecast(3, total=path)
    np.testing.assert_allclose(got.sum(axis=1), path.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(got.div(got.sum(axis=1), axis=0), fit.shares(3), rtol=1e-12)
    for bad in (pd.Series([1.0], index=[2019]), [1.0, 2.0], -5.0, "many"):
        with pytest.raises(ArgumentError, match="total"):
            fit.forecast(3, total=bad)
    with pytest.raises(ArgumentError, match="total"):
        forecast_families(series, "arima", 3, total=1.0)


@pytest.mark.parametrize("kwargs, name", [(dict(trend_fraction=1.5), "trend_fraction"), (dict(damping=1.0), "damping"),
                                          (dict(fit_years=5), "fit_years"), (dict(anchor="x"), "anchor")])
def test_bad_parameters_name_the_argument(series, kwargs, name):
    with pytest.raises(ArgumentError) as e:
        fit_shares(series, **kwargs)
    assert e.value.name == name


def test_families_with_short_or_bad_series(series):
    # T2A and T2B start in 1995: at the anchor 2002 they have 8 labels and a slope against the others
    fit = fit_shares(series.loc[:2002])
    assert np.isfinite(fit.slope).all() and len(fit.slope) == 87
    # at 2001 they have 7: refused, naming the family and the file
    with pytest.raises(InputError, match="au moins 8 années") as e:
        fit_shares(series.loc[:2001], source="my.csv")
    assert "T2A" in str(e.value) and e.value.source == "my.csv"
    bad = series.copy()
    bad.loc[2010, "B2Z"] = 0.0
    with pytest.raises(InputError, match="positif et fini") as e:
        forecast_families(bad, "shares", 3, source="my.csv")
    assert "B2Z" in str(e.value) and "2010" in str(e.value)
    with pytest.raises(InputError, match="ancrage"):
        fit_shares(series, anchor=2030)
    with pytest.raises(ArgumentError, match="model"):
        forecast_families(series, "prophet", 3)


def test_batch_fits_agree_with_statsmodels(series):
    """loglinear: OLS in closed form; arima: the exact maximum likelihood — the likelihood of
    statsmodels' ARIMA(1,1,0) with drift (its llf at its own estimates), at least as high, and
    fit_trend (started there) gives the same forecasts."""
    from statsmodels.tsa.arima.model import ARIMA
    a, h = 2011, 7
    hist = series.loc[a - 14:a, ["A0Z", "B2Z", "R1Z", "T2A", "W0Z"]]
    ll = forecast_families(hist, "loglinear", h)
    ar = forecast_families(hist, "arima", h)
    y = np.log(hist.to_numpy().T)
    mu, phi, s2 = _arima_mle(y)
    for i, fap in enumerate(hist.columns):
        np.testing.assert_allclose(ll[fap], fit_trend(hist[fap], "loglinear").forecast(h), rtol=1e-10)
        np.testing.assert_allclose(ar[fap], fit_trend(hist[fap], "arima").forecast(h), rtol=1e-5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sm = ARIMA(y[i], order=(1, 1, 0), trend="t").fit()      # statsmodels from its own start
            mod = ARIMA(y[i], order=(1, 1, 0), trend="t")
        assert mod.loglike(np.array([mu[i], phi[i], s2[i]])) >= sm.llf - 1e-7
        np.testing.assert_allclose(ar[fap], np.exp(np.asarray(sm.forecast(h))), rtol=2e-3)


def test_combination_is_the_mean_of_naive_damped_and_arima(series):
    hist = series.loc[1999:2013, ["A0Z", "R1Z", "W0Z"]]
    parts = [forecast_families(hist, m, 5) for m in ("naive", "damped", "arima")]
    np.testing.assert_allclose(forecast_families(hist, "combination", 5), sum(parts) / 3, rtol=1e-12)


def test_metier_share_index(series):
    idx = metier_share_index(["R1Z", "F0A"], "shares", base_year=2010, n_years=12)
    sh = series.div(series.sum(axis=1), axis=0)
    np.testing.assert_allclose(idx[:9, 0], (sh.loc[2010:2018, "R1Z"] / sh.loc[2010, "R1Z"]).to_numpy(), rtol=1e-12)
    both = sh[["F0Z", "F1Z"]].sum(axis=1)
    np.testing.assert_allclose(idx[:9, 1], (both.loc[2010:2018] / both.loc[2010]).to_numpy(), rtol=1e-12)
    fc = fit_shares(series).shares(4)
    np.testing.assert_allclose(idx[9:, 0], fc["R1Z"].to_numpy() / sh.loc[2010, "R1Z"], rtol=1e-12)
    with pytest.raises(ArgumentError):
        metier_share_index(["R1Z"], "damped", 2019, 3)


# ------------------------------------------------------------------------------------------ scenarios
def _scenario(tmp_path, trend, name="parts"):
    f = tmp_path / f"{name}.toml"
    f.write_text(f'[scenario]\nextends = "reference"\nname = "{name}"\ntitle_fr = "x"\ntitle_en = "x"\n'
                 f'[demand]\ntrend = "{trend}"\nsource = "pmq.estimation.trends"\n', encoding="utf-8")
    return f


def test_shares_scenario_keeps_the_scenarios_totals_and_moves_the_shares(baseline, reference_2030, tmp_path):
    p = project(baseline, read_scenario(_scenario(tmp_path, "shares")), horizon=11)
    emp = p.accounts["employment"].sum("age").transpose("year", "territory", "metier").values
    ref = reference_2030.accounts["employment"].sum("age").transpose("year", "territory", "metier").values
    np.testing.assert_allclose(emp.sum(-1), ref.sum(-1), rtol=1e-12)            # each territory's total path
    idx = metier_share_index(baseline.metier.values, "shares", 2019, 11)
    w = emp[:1] * idx[:, None, :]
    np.testing.assert_allclose(emp, ref.sum(-1, keepdims=True) * w / w.sum(-1, keepdims=True), rtol=1e-9)
    assert not np.allclose(emp[-1], ref[-1], rtol=1e-3)
    est = json.loads(p.accounts.attrs["estimated_inputs"])
    assert any("shares model of occupational shares" in e for e in est)


def test_national_user_baseline_and_combination(tmp_path):
    """A user's baseline (one national territory, three métiers of pmq's nomenclature): the share
    models keep the published total path and move the shares; the combination follows the families."""
    from conftest import make_baseline
    h = np.zeros((3, 60))
    h[:, -1] = 1.0
    b = make_baseline(np.full((1, 3, 60), 10.0), h, np.full((1, 3), 6.0), np.zeros((1, 3)), np.zeros((1, 3)))
    b = b.assign_coords(metier=["A0Z", "T2A", "F0A"], territory=["France"])
    emp = {}
    for trend in ("published", "shares", "shares_damped", "combination"):
        sc = read_scenario(_scenario(tmp_path, trend, name=f"u_{trend}"), territories=["France"])
        e = project(b, sc, horizon=5).accounts["employment"].sum("age").transpose("year", "territory", "metier")
        assert np.isfinite(e.values).all() and (e.values > 0).all()
        emp[trend] = e.values[:, 0, :]
    for trend in ("shares", "shares_damped"):
        np.testing.assert_allclose(emp[trend].sum(-1), emp["published"].sum(-1), rtol=1e-12)
        sh = emp[trend] / emp[trend].sum(-1, keepdims=True)
        assert sh[-1, 1] > sh[0, 1] and sh[-1, 2] < sh[0, 2]      # aides à domicile up, ouvriers du BTP down
    idx = trends.metier_trend_index(["A0Z", "T2A", "F0A"], "combination", 2019, 5)
    np.testing.assert_allclose(emp["combination"], emp["combination"][:1] * idx, rtol=1e-9)


def test_bad_trend_is_refused_with_the_key(tmp_path):
    with pytest.raises(ScenarioError) as e:
        read_scenario(_scenario(tmp_path, "share"))
    assert "demand.trend" in str(e.value) and "shares" in str(e.value)
