"""No look-ahead in the backtest (issue 22): from origin t the survey is known up to year t, so the
last usable DARES value is the one labelled t − 1 (the 3-year window t−2…t).  Changing any value
labelled t or later — employment by family, pyramids — must leave every forecast from origin t
unchanged; changing the value labelled t − 1 must move them (else the test would prove nothing)."""
import numpy as np
import pandas as pd
import pytest

from pmq.estimation import trends
from pmq.estimation.backtest import DEMAND_MODELS, backtest, ex_ante_fraction, read_employment_series
from pmq.estimation.exits import _raw

ORIGIN, END = 2012, 2018

#: the default backtest runs in the background process (tests/conftest.py): its trend fits warm this
#: process's cache (keyed by the series' values), as an in-process run would
PMQ_BACKGROUND = {"backtest_default": ("warm_fits", ["python:_background_jobs:backtest_default"])}


@pytest.fixture(scope="module")
def warm_fits(background):
    done = background.value("backtest_default")
    if done is not None:
        trends._FIT_CACHE.update(done[1])


def _long(wide: pd.DataFrame) -> pd.DataFrame:
    long = wide.stack().dropna().rename("employment_k").reset_index()
    long.columns = ["year", "fap", "employment_k"]
    return long[["fap", "year", "employment_k"]]


def _window_centre(window: pd.Series) -> pd.Series:
    return window.str[:4].astype(int) + 1


def _reshape_ages(pyr: pd.DataFrame, centres) -> pd.DataFrame:
    """The pyramids with the age structure of the windows centred on ``centres`` changed (more young,
    fewer old) and each family's total kept: the employment path the age part imposes stays the same."""
    t = pyr.copy()
    hit = _window_centre(t["window"]).isin(list(centres))
    before = t[hit].groupby(["fap", "window"])["employment_k"].transform("sum")
    t.loc[hit, "employment_k"] *= t.loc[hit, "band"].map({"15-24": 1.3, "25-29": 1.1, "60+": 0.6}).fillna(1.0)
    after = t[hit].groupby(["fap", "window"])["employment_k"].transform("sum")
    t.loc[hit, "employment_k"] *= before / after
    return t


def _forecasts(res) -> pd.DataFrame:
    d = res.demand.set_index(["model", "fap"])
    return d.loc[[m for m in DEMAND_MODELS if m != "naive_share"], ["start_k", "pred_k"]]


@pytest.fixture(scope="module")
def runs(warm_fits):
    """The backtest from origin 2012 on the shipped data, on data where every value labelled ≥ 2012 is
    changed (employment: each family × year by a random factor; pyramids: their age structure), and on
    data where only the values labelled 2011 are changed (a few families)."""
    rng = np.random.default_rng(22)
    wide = read_employment_series()
    pyr = _raw()
    late = wide.copy()
    late.loc[ORIGIN:] *= rng.uniform(0.6, 1.5, size=late.loc[ORIGIN:].shape)
    anchor = wide.copy()
    anchor.loc[ORIGIN - 1, ["A0Z", "B2Z", "T2A"]] *= [1.2, 0.8, 1.1]

    def run(emp, pyramids):
        return backtest(ORIGIN, END, employment=_long(emp), pyramids=pyramids, rolling=False, bootstrap=0)
    return {"shipped": run(wide, pyr),
            "late": run(late, _reshape_ages(pyr, range(ORIGIN, END + 1))),
            "anchor": run(anchor, _reshape_ages(pyr, [ORIGIN - 1]))}


def test_no_forecast_reads_a_value_labelled_at_or_after_the_origin(runs):
    a, b = runs["shipped"], runs["late"]
    # employment: every model's forecast (and its starting value) is the same to the last bit but
    # rounding; naive_share is left out — it takes the observed end total by definition (a benchmark)
    pd.testing.assert_frame_equal(_forecasts(a), _forecasts(b), rtol=1e-12, atol=0)
    assert not np.allclose(a.demand["obs_k"], b.demand["obs_k"])          # the outcomes did change
    # age structure: the projected pyramids (and departures) given the same employment path
    for x, y in ((a.bands, b.bands), (a.age, b.age)):
        col = "share_pred" if "share_pred" in x else "departures_k"
        mod = x["model"] != "constant_pyramid"
        np.testing.assert_allclose(x.loc[mod, col], y.loc[mod, col], rtol=1e-10)
    pa, pb = (r.bands[r.bands["model"] == "constant_pyramid"]["share_pred"] for r in (a, b))
    np.testing.assert_allclose(pa, pb, rtol=1e-12)
    assert not np.allclose(a.bands["share_obs"], b.bands["share_obs"])


def test_the_last_known_window_does_move_the_forecasts(runs):
    a, c = _forecasts(runs["shipped"]), _forecasts(runs["anchor"])
    for model in DEMAND_MODELS:
        if model == "naive_share":
            continue
        moved = pd.Series(~np.isclose(a.loc[model, "pred_k"], c.loc[model, "pred_k"], rtol=1e-9),
                          index=a.loc[model].index)
        # the changed families move under every model; the share models move every family's share
        assert moved.loc[["A0Z", "B2Z", "T2A"]].all(), model
        if model.startswith("shares"):
            assert moved.all(), model
    pa, pc = (r.bands[r.bands["model"] == "pmq"]["share_pred"] for r in (runs["shipped"], runs["anchor"]))
    assert not np.allclose(pa, pc, rtol=1e-6)


def test_the_ex_ante_fraction_reads_only_targets_known_at_the_origin():
    """The trend fraction « a forecaster could have chosen » at origin t is scored on targets labelled
    ≤ t − 1: changing the later values leaves the choice and its scores unchanged; 0.5 is the choice."""
    wide = read_employment_series()
    late = wide.copy()
    late.loc[ORIGIN:] *= np.random.default_rng(7).uniform(0.6, 1.5, size=late.loc[ORIGIN:].shape)
    a, b = ex_ante_fraction(wide, [ORIGIN]), ex_ante_fraction(late, [ORIGIN])
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)
    assert a.loc[a["chosen"], "trend_fraction"].tolist() == [0.5] and a["cases"].iloc[0] == 30
