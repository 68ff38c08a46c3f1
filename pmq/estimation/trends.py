"""Employment trends by FAP fitted with statsmodels: log-linear trend, damped-trend exponential
smoothing, and a simple ARIMA — an alternative "trend" demand path and a benchmark for scenarios.

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

__all__ = ["MODELS", "employment_series", "fit_trend", "TrendResults", "fit_trends", "metier_trend_index",
           "one_blas_thread"]

#: Trend models: name -> description.
MODELS = {
    "loglinear": "OLS of log employment on the year (constant growth rate)",
    "damped": "exponential smoothing of log employment with a damped additive trend (Gardner–McKenzie)",
    "arima": "ARIMA(1,1,0) with drift on log employment",
}
SOURCE = ("Dares, Portraits statistiques des métiers (2021 edition), employment by FAP-87, 3-year moving "
          "averages; Insee enquête Emploi")


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
            raise InputError("unknown FAP code in the DARES employment series", source=SOURCE, column="fap",
                             rows=[fap])
        return s.set_index("year")["employment_k"].rename(fap)
    if level not in ("fap87", "domain", "ensemble"):
        raise ArgumentError("level must be fap87, domain or ensemble", name="level", value=level)
    return t[t["level"] == level].pivot(index="year", columns="fap", values="employment_k")


def _check(series: pd.Series, name: str, source: str | None = SOURCE) -> pd.Series:
    """``series`` as floats, or an :class:`InputError` naming ``source`` (the file or table the
    series comes from: the shipped DARES file by default, the user's file for a user's series)."""
    try:
        s = pd.Series(series).astype(float)
    except (TypeError, ValueError):
        raise InputError(f"{name}: employment must be numbers to fit a trend", source=source,
                         column=str(name), rows=pd.Series(series).head(10).tolist()) from None
    bad = s[~np.isfinite(s) | (s <= 0)]
    if len(bad):
        raise InputError(f"{name}: employment must be positive and finite to fit a trend", source=source,
                         column=str(name), rows=[int(y) for y in bad.index[:10]])
    years = np.asarray(s.index, dtype=int)
    if len(years) and (np.diff(years) != 1).any():
        raise InputError(f"{name}: the years must be consecutive", source=source, column="year",
                         rows=[int(y) for y in years[1:][np.diff(years) != 1][:10]])
    if len(s) < 8:
        raise InputError(f"{name}: at least 8 years are needed to fit a trend, got {len(s)}", source=source,
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
            raise ArgumentError("horizon must be a whole number of years ≥ 1", name="horizon",
                                value=horizon) from None
        if h < 1:
            raise ArgumentError("horizon must be ≥ 1", name="horizon", value=horizon)
        last = int(self.years[-1])
        if self.model == "loglinear":
            x = np.column_stack([np.ones(h), np.arange(last + 1, last + h + 1) - self.years[0]])
            logv = x @ np.asarray(self.fit.params)
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
        raise ArgumentError(f"unknown trend model; use one of {', '.join(MODELS)}", name="model", value=model)
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
        else:
            fit = ARIMA(y, order=(1, 1, 0), trend="t").fit()
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
    fitted to each FAP-87 family over its last ``fit_years`` observed years: an array
    (n_years + 1, métier) equal to 1 in ``base_year``.  A métier's path is the sum of its
    families' paths (observed values up to the last observed year, forecasts after)."""
    wide = employment_series(level="fap87").drop(columns=list(NOT_FAMILIES), errors="ignore")
    last = int(wide.index.max())
    end = base_year + n_years
    if base_year < int(wide.index.min()) + fit_years - 1:
        raise InputError(f"a trend path needs {fit_years} observed years before the base year", source=SOURCE,
                         column="year", rows=[base_year])
    years = np.arange(base_year, end + 1)
    paths = {}
    with one_blas_thread():
        for fap in wide.columns:                 # statsmodels fits one series at a time (cached on its values)
            s = wide[fap].dropna()
            obs = s.loc[:min(last, end)]
            fut = _fit_cached(s.iloc[-fit_years:], model, name=fap).forecast(end - last) if end > last else None
            full = obs if fut is None else pd.concat([obs, fut])
            paths[fap] = full.reindex(years).to_numpy()
    P = pd.DataFrame(paths, index=years)
    W = _metier_weights(codes, pd.Series(1.0, index=P.columns))   # sums, not means: weights of 1
    W = (W > 0).astype(float)
    level = P.to_numpy() @ W.T                                     # (year, métier)
    return level / level[0]
