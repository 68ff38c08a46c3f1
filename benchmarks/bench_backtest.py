"""Time and memory of the backtest and of the estimations behind it (prints figures, asserts nothing).

The fits run with BLAS on one thread (``pmq.estimation.trends.one_blas_thread``); ``pmq backtest`` end to
end against the floor is in ``benchmarks/bench_all.py`` (``--skip`` the other cases to time it alone).

    python benchmarks/bench_backtest.py
"""
import resource
import time


def timed(label, f):
    t = time.perf_counter()
    out = f()
    print(f"{label:<66} {time.perf_counter() - t:6.2f} s")
    return out


def main():
    from pmq.estimation.backtest import backtest, read_employment_series, rolling_origin
    from pmq.estimation.exits import fit_exits, holdout
    from pmq.estimation.trends import fit_trends, forecast_families, one_blas_thread

    timed("exit-hazard fit (GLM + pooling, 87 FAP × 3 transitions)", fit_exits)
    timed("held-out comparison (split 2008)", lambda: holdout(2008))
    for model in ("loglinear", "damped", "arima"):
        timed(f"trend fits, {model}, every FAP-87 (1995–2018), statsmodels", lambda: fit_trends(model, start_year=1995))
    history = read_employment_series().loc[2004:2018]
    with one_blas_thread():
        for model in ("shares", "loglinear", "arima"):
            timed(f"{model}: every family at once (forecast_families, 15 labels)",
                  lambda: forecast_families(history, model, 12))
    timed("rolling origin (anchors 1997–2012, horizons 6–9, 6 models)", rolling_origin)
    timed("backtest, origin 2012 → 2018 (one window)", lambda: backtest(2012, 2018))
    timed("the same again (trend and exit fits cached on their inputs)", lambda: backtest(2012, 2018))
    res = timed("backtest, origins 2010–2013 → 2018", backtest)
    timed("chart (six panels)", res.plot)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
