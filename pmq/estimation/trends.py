"""Employment trends by FAP: log-linear trend, damped-trend exponential smoothing and a simple
ARIMA fitted with statsmodels; the share model (« half-trend shares », :func:`fit_shares`), the one
that beats the naive forecast in the backtest; forecast combinations (:func:`forecast_families`) —
alternative "trend" demand paths and benchmarks for scenarios.

Data: DARES « Portraits statistiques des métiers », employment by FAP-87 (thousands), one value
per year 1983–2018 (the centre of a 3-year moving average: 2018 = 2017–2019), shipped in
``pmq/data/raw/dares_employment_fap87_1983_2018.csv``.  The smoothing makes successive values
autocorrelated: standard errors of the log-linear fit are therefore optimistic (HAC errors are
reported beside them).

>>> from pmq.estimation.trends import employment_series, fit_trend
>>> res = fit_trend(employment_series("T2A"), "damped")     # doctest: +SKIP
>>> print(res.summary())                                     # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from pmq import data as _data
from pmq.errors import ArgumentError, InputError
from pmq.estimation.exits import NOT_FAMILIES, _metier_weights
from pmq.options import tr

__all__ = ["MODELS", "FORECAST_MODELS", "SHARE_MODELS", "TREND_FRACTION", "FIT_YEARS", "DAMPING",
           "VALIDATED_HORIZON", "employment_series", "fit_trend", "TrendResults", "fit_trends", "metier_trend_index",
           "metier_share_index", "fit_shares", "ShareTrend", "forecast_families", "one_blas_thread"]

#: Trend models: name -> description.
MODELS = {
    "loglinear": "OLS of log employment on the year (constant growth rate)",
    "damped": "exponential smoothing of log employment with a damped additive trend (Gardner–McKenzie)",
    "arima": "ARIMA(1,1,0) with drift on log employment",
}
SOURCE = ("Dares, Portraits statistiques des métiers (2021 edition), employment by FAP-87, 3-year moving "
          "averages; Insee enquête Emploi")
SOURCE_FR = ("Dares, Portraits statistiques des métiers (édition 2021), emploi par FAP-87, moyennes mobiles sur "
             "3 ans ; Insee, enquête Emploi")


def _src(source: str | None) -> str | None:
    """``source`` as the messages name it: the shipped DARES series in the reader's language."""
    return tr(SOURCE, SOURCE_FR) if source == SOURCE else source


_LIMITED = threading.local()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS (numpy's and scipy's OpenBLAS, MKL…) limited to one thread inside the block
    (``threadpoolctl``).  The statsmodels fits are many small problems: BLAS threads only spin
    against each other and against the other processes of the machine (on 2 cores, 33 s of CPU
    for 17 s of work).  Re-entrant: an inner block costs nothing (entering the limit scans the
    loaded libraries, ≈ 1–3 ms).  Results do not depend on it."""
    if getattr(_LIMITED, "depth", 0):
        _LIMITED.depth += 1
        try:
            yield
        finally:
            _LIMITED.depth -= 1
        return
    import scipy.linalg  # noqa: F401  - load scipy's BLAS before the limit is set: it limits loaded libraries only
    with threadpool_limits(limits=1, user_api="blas"):
        _LIMITED.depth = 1
        try:
            yield
        finally:
            _LIMITED.depth = 0


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    return pd.read_csv(_data.data_path("raw", "dares_employment_fap87_1983_2018.csv"), dtype={"fap": str})


def employment_series(fap: str | None = None, level: str = "fap87") -> pd.Series | pd.DataFrame:
    """Employment (thousands) by year: one FAP-87 family or domain (``fap``), or a wide table of
    every series of ``level`` (``"fap87"``, ``"domain"`` or ``"ensemble"``)."""
    t = _table()
    if fap is not None:
        s = t[t["fap"] == fap]
        if s.empty:
            raise InputError(tr("unknown FAP code in the DARES employment series",
                                "code FAP inconnu dans la série d'emploi de la DARES"), source=_src(SOURCE),
                             column="fap", rows=[fap])
        return s.set_index("year")["employment_k"].rename(fap)
    if level not in ("fap87", "domain", "ensemble"):
        raise ArgumentError(tr("level must be fap87, domain or ensemble",
                               "level doit valoir fap87, domain ou ensemble"),
                            name="level", value=level)
    return t[t["level"] == level].pivot(index="year", columns="fap", values="employment_k")


def _check(series: pd.Series, name: str, source: str | None = SOURCE) -> pd.Series:
    """``series`` as floats, or an :class:`InputError` naming ``source`` (the file or table the
    series comes from: the shipped DARES file by default, the user's file for a user's series)."""
    try:
        s = pd.Series(series).astype(float)
    except (TypeError, ValueError):
        raise InputError(tr(f"{name}: employment must be numbers to fit a trend",
                            f"{name} : l'emploi doit être numérique pour ajuster une tendance"), source=_src(source),
                         column=str(name), rows=pd.Series(series).head(10).tolist()) from None
    v, years = s.to_numpy(), np.asarray(s.index, dtype=int)
    if len(v) >= 8 and np.isfinite(v).all() and (v > 0).all() and (np.diff(years) == 1).all():
        return s                                  # the usual case, without the pandas of the messages
    bad = s[~np.isfinite(s) | (s <= 0)]
    if len(bad):
        raise InputError(tr(f"{name}: employment must be positive and finite to fit a trend",
                            f"{name} : l'emploi doit être positif et fini pour ajuster une tendance"),
                         source=_src(source),
                         column=str(name), rows=[int(y) for y in bad.index[:10]])
    years = np.asarray(s.index, dtype=int)
    if len(years) and (np.diff(years) != 1).any():
        raise InputError(tr(f"{name}: the years must be consecutive", f"{name} : les années doivent se suivre"),
                         source=_src(source), column="year",
                         rows=[int(y) for y in years[1:][np.diff(years) != 1][:10]])
    if len(s) < 8:
        raise InputError(tr(f"{name}: at least 8 years are needed to fit a trend, got {len(s)}",
                            f"{name} : il faut au moins 8 années pour ajuster une tendance ; la série en a {len(s)}"),
                         source=_src(source),
                         column="year", rows=[int(y) for y in years])
    return s


@dataclass
class TrendResults:
    """A fitted trend (statsmodels-style results): ``forecast(years)``, ``summary()``, ``aic``."""

    name: str
    model: str
    series: pd.Series
    fit: Any  # statsmodels OLS or ARIMA results (untyped)

    @property
    def years(self) -> np.ndarray:
        return np.asarray(self.series.index, dtype=int)

    @property
    def aic(self) -> float:
        return float(getattr(self.fit, "aic", np.nan))

    @property
    def growth(self) -> float:
        """Annual growth rate of the trend just after the sample (exp(slope) − 1 for the
        log-linear model; the first forecast step otherwise)."""
        if self.model == "loglinear":
            return float(np.expm1(self.fit.params[1]))
        f = self.forecast(2)
        return float(f.iloc[1] / f.iloc[0] - 1.0)

    @property
    def fitted(self) -> pd.Series:
        values = np.asarray(self.fit.fittedvalues, dtype=float)
        if self.model == "arima":
            values = values.copy()
            values[0] = np.log(self.series.iloc[0])        # ARIMA's first fitted value is undefined
        return pd.Series(np.exp(values), index=self.series.index, name=self.name)

    def mape(self) -> float:
        """In-sample mean absolute percentage error (%)."""
        f = self.fitted
        return float(np.mean(np.abs(f.values[1:] / self.series.values[1:] - 1.0)) * 100)

    def forecast(self, horizon: int) -> pd.Series:
        """Employment (thousands) for the ``horizon`` years after the sample (median path)."""
        try:
            h = int(horizon)
        except (TypeError, ValueError):
            raise ArgumentError(tr("horizon must be a whole number of years ≥ 1",
                                   "horizon doit être un nombre entier d'années ≥ 1"), name="horizon",
                                value=horizon) from None
        if h < 1:
            raise ArgumentError(tr("horizon must be ≥ 1", "horizon doit être ≥ 1"), name="horizon", value=horizon)
        last = int(self.years[-1])
        if self.model == "loglinear":
            x = np.column_stack([np.ones(h), np.arange(last + 1, last + h + 1) - self.years[0]])
            logv = x @ np.asarray(self.fit.params)
        elif self.model == "damped":     # statsmodels' forecast, without its pandas overhead (same numbers)
            p = self.fit.params
            phi = p["damping_trend"] ** np.arange(1, h + 1)
            logv = self.fit.level[-1] + np.cumsum(phi) * self.fit.trend[-1]
        else:
            logv = np.asarray(self.fit.forecast(h), dtype=float)
        return pd.Series(np.exp(logv), index=pd.Index(range(last + 1, last + h + 1), name="year"), name=self.name)

    def summary(self) -> str:
        head = (f"pmq trend — {self.name}: {self.model} ({MODELS[self.model]}), "
                f"{self.years[0]}–{self.years[-1]}, {len(self.series)} years\n"
                f"growth at the end of the sample {100 * self.growth:+.2f} %/yr; in-sample MAPE "
                f"{self.mape():.2f} %; AIC {self.aic:.1f}\n")
        extra = ""
        if self.model == "loglinear":
            hac = self.fit.get_robustcov_results(cov_type="HAC", maxlags=2)
            extra = (f"slope {self.fit.params[1]:.5f}; OLS s.e. {self.fit.bse[1]:.5f}; HAC s.e. (Newey–West, "
                     f"2 lags, for the 3-year smoothing) {hac.bse[1]:.5f}\n")
        return head + extra + str(self.fit.summary())


def fit_trend(series: pd.Series, model: str = "loglinear", start_year: int | None = None,
              end_year: int | None = None, name: str | None = None, source: str | None = None) -> TrendResults:
    """Fit ``model`` (:data:`MODELS`) to employment ``series`` (index = years) over
    ``start_year``–``end_year`` (default: all).  ``source``: the file or table the series comes
    from, named by the errors about its values (default: none, the series argument)."""
    import statsmodels.api as sm
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    if model not in MODELS:
        raise ArgumentError(tr(f"unknown trend model; use one of {', '.join(MODELS)}",
                                f"modèle de tendance inconnu ; modèles possibles : {', '.join(MODELS)}"),
                            name="model", value=model)
    s = pd.Series(series).copy()
    s.index = s.index.astype(int)
    s = s.loc[(start_year or s.index.min()):(end_year or s.index.max())].dropna()
    name = name or str(getattr(series, "name", "series"))
    s = _check(s, name, source)
    y = np.log(s.values)
    t = np.asarray(s.index, dtype=float) - s.index[0]
    with warnings.catch_warnings(), one_blas_thread():
        warnings.simplefilter("ignore")
        if model == "loglinear":
            fit = sm.OLS(y, sm.add_constant(t)).fit()
        elif model == "damped":
            fit = ExponentialSmoothing(y, trend="add", damped_trend=True, initialization_method="estimated").fit()
        else:       # started from the exact maximum (see _arima_mle): the optimiser only confirms it
            mu, phi, s2 = (float(v[0]) for v in _arima_mle(y[None, :]))
            fit = ARIMA(y, order=(1, 1, 0), trend="t").fit(start_params=[mu, phi, s2])
    return TrendResults(name=name, model=model, series=s.rename(name), fit=fit)


#: Fits of the shipped series, by content: the backtest windows and the trend paths of
#: estimated-trend scenarios refit the same (series, model) pairs; a fit is deterministic, so
#: reusing it gives the same forecasts.  Bounded; private (the results are never handed out).
_FIT_CACHE: dict = {}
_FIT_CACHE_SIZE = 2048


def _fit_cached(series: pd.Series, model: str, name: str, source: str | None = SOURCE) -> TrendResults:
    """:func:`fit_trend` (``series`` clean: no NaN, consecutive years), memoised on the series'
    content; callers must not mutate the result.  ``source`` is only named by errors (which are
    not cached)."""
    s = pd.Series(series)
    key = (model, str(name), s.index.name, tuple(int(y) for y in s.index), s.to_numpy(dtype=float).tobytes())
    res = _FIT_CACHE.get(key)
    if res is None:
        res = fit_trend(series, model, name=name, source=source)
        if len(_FIT_CACHE) >= _FIT_CACHE_SIZE:
            _FIT_CACHE.pop(next(iter(_FIT_CACHE)))
        _FIT_CACHE[key] = res
    return res


def fit_trends(model: str = "loglinear", start_year: int | None = None, end_year: int | None = None,
               horizon: int = 12, level: str = "fap87") -> pd.DataFrame:
    """Fit ``model`` to every series of ``level`` and forecast ``horizon`` years: a long table
    (fap, year, employment_k, kind = observed | forecast) with the end growth and MAPE per FAP."""
    wide = employment_series(level=level)
    rows = []
    with one_blas_thread():
        for fap in wide.columns:
            s = wide[fap].dropna()
            s = s.loc[(start_year or s.index.min()):(end_year or s.index.max())]
            if len(s) < 8 or (s <= 0).any():
                continue
            r = fit_trend(s, model, name=fap, source=SOURCE)
            f = r.forecast(horizon)
            rows.append(pd.DataFrame({"fap": fap, "year": s.index, "employment_k": s.values, "kind": "observed"}))
            rows.append(pd.DataFrame({"fap": fap, "year": f.index, "employment_k": f.values, "kind": "forecast",
                                      "growth": r.growth, "mape_in_sample": r.mape()}))
    out = pd.concat(rows, ignore_index=True)
    out.attrs.update(model=model, source=SOURCE)
    return out


def metier_trend_index(codes, model: str, base_year: int, n_years: int, fit_years: int = 15) -> np.ndarray:
    """Employment path of pmq métiers ``codes`` relative to ``base_year`` from a trend ``model``
    (:data:`MODELS`, ``"naive"`` or ``"combination"``) fitted to each FAP-87 family over its last
    ``fit_years`` observed years: an array (n_years + 1, métier) equal to 1 in ``base_year``.  A
    métier's path is the sum of its families' paths (observed values up to the last observed year,
    forecasts after).  For the share models (:data:`SHARE_MODELS`) it is :func:`metier_share_index`:
    the index of the métier's *share*, which the caller scales to its own total."""
    if model in SHARE_MODELS:
        return metier_share_index(codes, model, base_year, n_years, fit_years)
    if model not in MODELS and model not in ("naive", "combination"):
        models = f"{', '.join(MODELS)}, naive, combination, {', '.join(SHARE_MODELS)}"
        raise ArgumentError(tr(f"unknown trend model; use one of {models}",
                               f"modèle de tendance inconnu ; modèles possibles : {models}"), name="model", value=model)
    wide = employment_series(level="fap87").drop(columns=list(NOT_FAMILIES), errors="ignore")
    last = int(wide.index.max())
    end = base_year + n_years
    if base_year < int(wide.index.min()) + fit_years - 1:
        raise InputError(tr(f"a trend path needs {fit_years} observed years before the base year",
                            f"une trajectoire tendancielle demande {fit_years} années observées avant l'année de base"),
                         source=_src(SOURCE),
                         column="year", rows=[base_year])
    years = np.arange(base_year, end + 1)
    W = _metier_weights(codes, pd.Series(1.0, index=wide.columns))   # sums, not means: weights of 1
    W = (W > 0).astype(float)
    used = W.any(axis=0)                         # only the families of these métiers are fitted
    P = np.zeros((len(years), len(wide.columns)))
    with one_blas_thread():
        for j in np.flatnonzero(used):           # statsmodels fits one series at a time (cached on its values)
            fap = wide.columns[j]
            s = wide[fap].dropna()
            obs = s.loc[:min(last, end)]
            fut = _family_forecast(s.iloc[-fit_years:], model, end - last, fap) if end > last else None
            full = obs if fut is None else pd.concat([obs, fut])
            P[:, j] = full.reindex(years).to_numpy()
    level = P @ W.T                                                # (year, métier)
    return level / level[0]


def _family_forecast(s: pd.Series, model: str, h: int, name: str) -> pd.Series:
    """The ``h`` years after ``s`` (a clean series of one family) by ``model``: a trend of
    :data:`MODELS` (cached fit), ``naive`` (the last value) or ``combination`` (the mean of the
    naive, damped and ARIMA forecasts)."""
    if model in MODELS:
        return _fit_cached(s, model, name=name).forecast(h)
    naive = pd.Series(float(s.iloc[-1]), index=_future(int(s.index[-1]), h), name=name)
    if model == "naive":
        return naive
    return (naive + _fit_cached(s, "damped", name=name).forecast(h) + _fit_cached(s, "arima", name=name).forecast(h)) / 3


# ----------------------------------------------------------------------------------------------
# Every family at once: batch fits, the share model, forecast combinations
# ----------------------------------------------------------------------------------------------
#: Documented defaults of the share model, chosen ex ante (not estimated per family): half the
#: fitted trend of the log shares, fitted on the last 15 labels.  The backtest checks how much its
#: result depends on them (pmq.estimation.backtest.share_sensitivity, docs/accuracy.md).
TREND_FRACTION = 0.5
FIT_YEARS = 15
#: Damping factor of the bounded variant ``shares_damped``: the slope is summed with weights
#: φ + φ² + … + φᵏ, which tend to φ / (1 − φ) ≈ 5.7 years of slope (the half trend reaches that at
#: 11 years and keeps growing).
DAMPING = 0.85
#: The longest horizon (label steps) of the backtest windows: the half-trend shares are validated
#: up to it; beyond it the bounded variant ``shares_damped`` is offered (docs/trends.md).
VALIDATED_HORIZON = 9

#: Every model that forecasts employment by family: name -> description.
FORECAST_MODELS = {
    "naive": "employment stays at its last known level",
    **MODELS,
    "shares": f"half-trend shares: the log share of each family in total employment moves by "
              f"{TREND_FRACTION} × its OLS slope per year (theta method on log shares), times the total "
              f"(the last total, or a given path)",
    "shares_damped": f"the share model with a damped slope (φ = {DAMPING}: bounded, for horizons beyond "
                     f"{VALIDATED_HORIZON} years)",
    "combination": "equal-weight mean of the naive, damped and ARIMA forecasts",
}
#: The models that forecast shares of a total (the total comes from elsewhere).
SHARE_MODELS = ("shares", "shares_damped")


def _whole(value, name: str, low: int) -> int:
    try:
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise ValueError
        out = int(float(value))
    except (TypeError, ValueError, OverflowError):
        raise ArgumentError(tr(f"must be a whole number ≥ {low}", f"doit être un nombre entier ≥ {low}"), name=name,
                            value=value) from None
    if out < low:
        raise ArgumentError(tr(f"must be ≥ {low}", f"doit être ≥ {low}"), name=name, value=value)
    return out


def _arima_mle(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact Gaussian maximum likelihood of ARIMA(1,1,0) with drift for each row of ``y`` (logs,
    (series, years), no NaN): the differences d follow a stationary AR(1) around the drift μ.

    For a given φ the likelihood is maximised in μ and σ² in closed form; the profile is then
    maximised over φ ∈ (−1, 1) (a grid, then golden-section search), every series at once.  It is
    the likelihood of statsmodels' ``ARIMA(order=(1, 1, 0), trend="t")`` (diffuse first value: its
    ``llf`` at its own estimates is this likelihood there), maximised to the end: statsmodels'
    optimiser stops earlier on these flat likelihoods, 1e-3 apart on a 9-year forecast
    (tests/test_share_model.py).  Returns μ, φ, σ²: one value per series."""
    d = np.diff(np.asarray(y, dtype=float), axis=1)
    n = d.shape[1]
    d0, cur, prev = d[:, :1], d[:, 1:], d[:, :-1]
    sc, sp = cur.sum(1, keepdims=True), prev.sum(1, keepdims=True)
    scc, spp, scp = (cur * cur).sum(1, keepdims=True), (prev * prev).sum(1, keepdims=True), \
        (cur * prev).sum(1, keepdims=True)

    def profile(phi):            # −log-likelihood (up to constants), μ̂ and the sum of squares, per φ
        a, om = 1.0 - phi ** 2, 1.0 - phi
        se = sc - phi * sp                                   # Σ (d_t − φ d_{t−1}), t ≥ 2
        mu = (a * d0 + om * se) / (a + (n - 1) * om ** 2)
        c = mu * om
        ssq = a * (d0 - mu) ** 2 + scc - 2 * phi * scp + phi ** 2 * spp - 2 * c * se + (n - 1) * c ** 2
        ssq = np.maximum(ssq, 1e-300)
        return 0.5 * n * np.log(ssq / n) - 0.5 * np.log(a), mu, ssq

    grid = np.linspace(-0.998, 0.998, 200)
    i = np.argmin(profile(np.broadcast_to(grid, (len(d), grid.size)))[0], axis=1)
    step = grid[1] - grid[0]
    lo, hi = np.maximum(grid[i] - step, -0.9999)[:, None], np.minimum(grid[i] + step, 0.9999)[:, None]
    g = (np.sqrt(5.0) - 1) / 2
    for _ in range(40):                          # the bracket shrinks to 1e-10
        x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
        left = profile(x1)[0] < profile(x2)[0]
        lo, hi = np.where(left, lo, x1), np.where(left, x2, hi)
    phi = (lo + hi) / 2
    _, mu, ssq = profile(phi)
    return mu[:, 0], phi[:, 0], ssq[:, 0] / n


def _batch_forecast(model: str, y: np.ndarray, h: int) -> np.ndarray:
    """Log forecasts (series, h) of ``loglinear`` (OLS, closed form) or ``arima`` (:func:`_arima_mle`)
    for each row of ``y`` (logs, (series, years), no NaN)."""
    T = y.shape[1]
    if model == "loglinear":
        t = np.arange(T) - (T - 1) / 2
        mean = y.mean(1, keepdims=True)
        b = (y - mean) @ t / (t @ t)
        return mean + b[:, None] * (np.arange(T, T + h) - (T - 1) / 2)
    mu, phi, _ = _arima_mle(y)
    d_last = y[:, -1] - y[:, -2]
    steps = mu[:, None] + phi[:, None] ** np.arange(1, h + 1) * (d_last - mu)[:, None]
    return y[:, -1:] + np.cumsum(steps, axis=1)


def _wide_levels(levels, source: str | None) -> pd.DataFrame:
    """``levels`` (years × families) as floats with whole-number years."""
    if not isinstance(levels, pd.DataFrame):
        raise ArgumentError(tr("must be a DataFrame of employment, years (rows) × families (columns)",
                               "doit être un DataFrame d'emploi, années (lignes) × familles (colonnes)"), name="levels",
                            value=type(levels).__name__)
    try:
        values = levels.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise InputError(tr("employment must be numbers", "l'emploi doit être numérique"), source=_src(source),
                         column="employment_k") from None
    try:
        years = np.asarray(levels.index, dtype=float)
        if not np.all(years == np.round(years)):
            raise ValueError
    except (TypeError, ValueError):
        raise InputError(tr("the years (the rows) must be whole numbers",
                            "les années (les lignes) doivent être des nombres entiers"), source=_src(source),
                         column="year",
                         rows=list(levels.index[:10])) from None
    order = np.argsort(years, kind="stable")     # one block of floats: column-wise operations stay fast
    return pd.DataFrame(values[order], index=pd.Index(years[order].astype(int), name="year"),
                        columns=[str(c) for c in levels.columns])


def _fit_window(levels: pd.DataFrame, anchor, fit_years, source) -> tuple[pd.DataFrame, int, int]:
    """The values labelled ``anchor − fit_years + 1 … anchor`` (default anchor: the last year), every
    family with a value at the anchor; each family's window checked as :func:`fit_trend` does."""
    fit_years = _whole(fit_years, "fit_years", 8)
    a = int(levels.index.max()) if anchor is None else _whole(anchor, "anchor", 0)
    if a not in levels.index:
        raise InputError(tr(f"no employment labelled {a} (the anchor: the last year known)",
                            f"aucun emploi pour l'année {a} (l'année d'ancrage : la dernière année connue)"),
                         source=_src(source),
                         column="year", rows=[a])
    win = levels.loc[a - fit_years + 1:a]
    absent = list(win.columns[~np.isfinite(win.loc[a].to_numpy())])
    if absent:
        raise InputError(tr(f"no value in {a} (the anchor) for some families: forecasts start from it",
                            f"aucune valeur en {a} (l'année d'ancrage) pour certaines familles : les prévisions "
                            f"partent de cette année"), source=_src(source),
                         column="employment_k", rows=absent)
    v = win.to_numpy()
    present = ~np.isnan(v)
    started = np.maximum.accumulate(present, axis=0)
    bad = (present & ~(np.isfinite(v) & (v > 0))).any(axis=0) | (started & ~present).any(axis=0) | \
        (present.sum(axis=0) < 8)
    for f in win.columns[bad]:                  # the checks of one series, for their message
        _check(win[f].dropna(), f, source)
    return win, a, fit_years


def _future(a: int, h: int) -> pd.Index:
    return pd.Index(range(a + 1, a + h + 1), name="year")


@dataclass
class ShareTrend:
    """The share model fitted at an anchor year (:func:`fit_shares`).

    ``level``: employment at the anchor (thousands; its sum is the last total); ``log_share``: ℓ[a, i],
    the log of each family's share of that total; ``slope``: bᵢ, the OLS slope of the family's log
    share on the year over the fit window (per year).  The forecast k years after the anchor is
    ℓ̂ᵢ(a + k) = ℓ[a, i] + m(k)·bᵢ, shares = softmax(ℓ̂), employment = shares × the total, with
    m(k) = ``trend_fraction``·k (``shares``) or φ + φ² + … + φᵏ with φ = ``damping`` (``shares_damped``)."""

    anchor: int
    fit_years: int
    level: pd.Series
    log_share: pd.Series
    slope: pd.Series
    trend_fraction: float = TREND_FRACTION
    damping: float | None = None

    @property
    def model(self) -> str:
        return "shares" if self.damping is None else "shares_damped"

    def multiplier(self, k) -> np.ndarray:
        """m(k): the number of years of slope added to the anchor's log share after k years."""
        k = np.asarray(k, dtype=float)
        if self.damping is None:
            return self.trend_fraction * k
        phi = self.damping
        return phi * (1 - phi ** k) / (1 - phi)

    def shares(self, horizon: int) -> pd.DataFrame:
        """Forecast shares (years after the anchor × families); each row sums to 1."""
        h = _whole(horizon, "horizon", 1)
        lhat = self.log_share.to_numpy()[None, :] + self.multiplier(np.arange(1, h + 1))[:, None] * \
            self.slope.to_numpy()[None, :]
        e = np.exp(lhat - lhat.max(axis=1, keepdims=True))
        return pd.DataFrame(e / e.sum(axis=1, keepdims=True), index=_future(self.anchor, h),
                            columns=self.level.index)

    def forecast(self, horizon: int, total=None) -> pd.DataFrame:
        """Employment (years after the anchor × families): the shares times ``total`` — by default
        the last total (the anchor's); a number; or a path, one value per forecast year (a sequence,
        or a Series indexed by year, e.g. a scenario's macro path)."""
        s = self.shares(horizon)
        return s.mul(_total_path(total, float(self.level.sum()), s.index), axis=0)

    def summary(self, top: int = 5) -> str:
        m = (f"{self.trend_fraction} × the slope per year" if self.damping is None else
             f"the slope summed with weights {self.damping}^j (bounded: at most "
             f"{self.damping / (1 - self.damping):.1f} years of slope)")
        g = np.expm1(self.slope).sort_values()
        lines = [f"pmq share trend — {self.model}: anchor {self.anchor}, {len(self.level)} families, fit on "
                 f"{self.anchor - self.fit_years + 1}–{self.anchor}; the log shares move by {m}",
                 "fastest falling shares (%/yr of fitted trend): " +
                 ", ".join(f"{f} {100 * v:+.1f}" for f, v in g.head(top).items()),
                 "fastest rising shares (%/yr of fitted trend): " +
                 ", ".join(f"{f} {100 * v:+.1f}" for f, v in g.tail(top)[::-1].items())]
        return "\n".join(lines)


def _total_path(total, last: float, years: pd.Index) -> np.ndarray:
    if total is None:
        return np.full(len(years), last)
    if np.ndim(total) == 0:
        try:
            v = float(total)
        except (TypeError, ValueError):
            raise ArgumentError(tr("must be a number or one number per forecast year",
                                   "doit être un nombre, ou un nombre par année de prévision"), name="total",
                                value=total) from None
        out = np.full(len(years), v)
    elif isinstance(total, pd.Series):
        missing = [int(y) for y in years if y not in total.index]
        if missing:
            raise ArgumentError(tr(f"the total path has no value for the forecast years {missing[:10]}",
                                   f"la trajectoire du total n'a pas de valeur pour les années de prévision "
                                   f"{missing[:10]}"), name="total",
                                value=list(total.index[:10]))
        out = total.reindex(years).to_numpy(dtype=float)
    else:
        out = np.asarray(total, dtype=float).ravel()
        if out.size != len(years):
            raise ArgumentError(tr(f"one total per forecast year is needed ({len(years)}), got {out.size}",
                                   f"il faut un total par année de prévision ({len(years)}), et non {out.size}"),
                                name="total", value=out.size)
    if not (np.isfinite(out).all() and (out >= 0).all()):
        raise ArgumentError(tr("the total must be finite and ≥ 0", "le total doit être fini et ≥ 0"), name="total",
                            value=out[:10].tolist())
    return out


def fit_shares(levels: pd.DataFrame, anchor: int | None = None, fit_years: int = FIT_YEARS,
               trend_fraction: float = TREND_FRACTION, damping: float | None = None,
               source: str | None = None) -> ShareTrend:
    """Fit the share model to employment ``levels`` (years × families, thousands) at ``anchor``
    (default: the last year), on the ``fit_years`` labels ``anchor − fit_years + 1 … anchor``.

    ℓ[y, i] = ln(E[y, i] / T[y]) with T the total of the families; bᵢ = the OLS slope of ℓ[·, i]
    on the year.  A family with fewer years in the window (at least 8: one that starts inside it)
    gets the slope of its share of the families complete in the window, over its own years.

    This is the theta method (Assimakopoulos & Nikolopoulos, 2000) applied to each log share with
    θ = 1 / (1 − ``trend_fraction``) (θ = 2: half the trend) and the level of the simple exponential
    smoothing at the last value (α = 1): statsmodels' ``ThetaModel`` forecast with those parameters
    is ℓ[a] + ``trend_fraction``·k·bᵢ (checked in tests/test_share_model.py).  ``damping`` (0 < φ < 1)
    gives the bounded variant: ℓ[a] + bᵢ·(φ + … + φᵏ)."""
    try:
        f = float(trend_fraction)
    except (TypeError, ValueError):
        f = np.nan
    if not 0 <= f <= 1:
        raise ArgumentError(tr("must be between 0 (no trend: constant shares) and 1 (the whole trend)",
                               "doit être compris entre 0 (aucune tendance : parts constantes) et 1 (toute la "
                               "tendance)"),
                            name="trend_fraction", value=trend_fraction)
    if damping is not None:
        try:
            phi = float(damping)
        except (TypeError, ValueError):
            phi = np.nan
        if not 0 < phi < 1:
            raise ArgumentError(tr("must be strictly between 0 and 1", "doit être strictement compris entre 0 et 1"),
                                name="damping", value=damping)
        damping = phi
    win, a, fy = _fit_window(_wide_levels(levels, source), anchor, fit_years, source)
    v = win.to_numpy()
    mask = ~np.isnan(v)
    complete = mask.all(axis=0)
    if not complete.any():
        raise InputError(tr("no family has a value in every year of the fit window",
                            "aucune famille n'a de valeur pour chaque année de la fenêtre d'ajustement"),
                         source=_src(source), column="year",
                         rows=[a - fy + 1, a])
    x = np.asarray(win.index, dtype=float)[:, None]
    Lv = np.where(mask, np.log(np.where(mask, v, 1.0) / v[:, complete].sum(axis=1, keepdims=True)), 0.0)
    n = mask.sum(axis=0)
    xm = (x * mask).sum(axis=0) / n
    lm = Lv.sum(axis=0) / n
    dx = (x - xm) * mask
    slope = (dx * (Lv - lm)).sum(axis=0) / (dx ** 2).sum(axis=0)
    level = win.loc[a]
    return ShareTrend(anchor=a, fit_years=fy, level=level, log_share=np.log(level / level.sum()),
                      slope=pd.Series(slope, index=win.columns), trend_fraction=f, damping=damping)


def forecast_families(levels: pd.DataFrame, model: str, horizon: int, *, anchor: int | None = None,
                      fit_years: int = FIT_YEARS, total=None, source: str | None = None) -> pd.DataFrame:
    """Forecast employment of every family (columns of ``levels``, years as rows) ``horizon`` years
    after ``anchor`` (default: the last year) with ``model`` (:data:`FORECAST_MODELS`), fitted on the
    ``fit_years`` labels up to the anchor.  Returns years × families (thousands).

    ``total``: for the share models, the total employment (number or path, default: the anchor's);
    the other models forecast each family on its own.  ``loglinear`` and ``arima`` are fitted to
    every family at once (the same estimates as :func:`fit_trend`: OLS in closed form, the exact
    maximum likelihood of :func:`_arima_mle`); ``damped`` one family at a time (statsmodels,
    cached on the values)."""
    if model not in FORECAST_MODELS:
        raise ArgumentError(tr(f"unknown model; use one of {', '.join(FORECAST_MODELS)}",
                                f"modèle inconnu ; modèles possibles : {', '.join(FORECAST_MODELS)}"),
                            name="model", value=model)
    h = _whole(horizon, "horizon", 1)
    if model in SHARE_MODELS:
        return fit_shares(levels, anchor, fit_years, damping=DAMPING if model == "shares_damped" else None,
                          source=source).forecast(h, total)
    if total is not None:
        raise ArgumentError(tr(f"a total applies to the share models ({', '.join(SHARE_MODELS)}) only",
                                f"un total ne s'applique qu'aux modèles de parts ({', '.join(SHARE_MODELS)})"),
                            name="total",
                            value=model)
    win, a, _ = _fit_window(_wide_levels(levels, source), anchor, fit_years, source)
    years = _future(a, h)
    if model == "naive":
        return pd.DataFrame(np.broadcast_to(win.loc[a].to_numpy(), (h, win.shape[1])).copy(), index=years,
                            columns=win.columns)
    if model == "combination":
        parts = [forecast_families(win, m, h, anchor=a, fit_years=len(win), source=source)
                 for m in ("naive", "damped", "arima")]
        return sum(parts[1:], parts[0]) / len(parts)
    out = np.full((h, win.shape[1]), np.nan)
    if model == "damped":
        with one_blas_thread():
            for j, f in enumerate(win.columns):
                out[:, j] = _fit_cached(win[f].dropna(), "damped", name=f, source=source).forecast(h).to_numpy()
        return pd.DataFrame(out, index=years, columns=win.columns)
    v = win.to_numpy()
    first = np.argmax(~np.isnan(v), axis=0)     # each family's first year (no gap up to the anchor)
    for i0 in np.unique(first):                 # families with the same years fit together
        cols = first == i0
        out[:, cols] = np.exp(_batch_forecast(model, np.log(v[i0:, cols].T), h)).T
    return pd.DataFrame(out, index=years, columns=win.columns)


def metier_share_index(codes, model: str, base_year: int, n_years: int, fit_years: int = FIT_YEARS) -> np.ndarray:
    """Share of pmq métiers ``codes`` in the employment of the FAP-87 families relative to
    ``base_year``, from a share ``model`` (:data:`SHARE_MODELS`) fitted at the last observed year
    on its last ``fit_years`` years: an array (n_years + 1, métier) equal to 1 in ``base_year``
    (observed shares up to the last observed year, forecasts after).  A métier's share is the sum
    of its families' shares.  A scenario multiplies its base employment by this index and scales
    the result to its own total path (:mod:`pmq.projection.prepare`)."""
    if model not in SHARE_MODELS:
        raise ArgumentError(tr(f"unknown share model; use one of {', '.join(SHARE_MODELS)}",
                                f"modèle de parts inconnu ; modèles possibles : {', '.join(SHARE_MODELS)}"),
                            name="model", value=model)
    wide = employment_series(level="fap87").drop(columns=list(NOT_FAMILIES), errors="ignore")
    last, first = int(wide.index.max()), int(wide.index.min())
    end = base_year + n_years
    if base_year < first + fit_years - 1:
        raise InputError(tr(f"a share path needs {fit_years} observed years before the base year",
                            f"une trajectoire des parts demande {fit_years} années observées avant l'année de base"),
                         source=_src(SOURCE),
                         column="year", rows=[base_year])
    years = np.arange(base_year, end + 1)
    observed = wide.div(wide.sum(axis=1), axis=0)
    if end > last:
        fit = fit_shares(wide, last, fit_years, damping=DAMPING if model == "shares_damped" else None, source=SOURCE)
        observed = pd.concat([observed, fit.shares(end - last)])
    P = observed.reindex(years).fillna(0.0)         # a family absent in a year has no share of it
    W = (_metier_weights(codes, pd.Series(1.0, index=P.columns)) > 0).astype(float)
    share = P.to_numpy() @ W.T                       # (year, métier)
    return share / share[0]
