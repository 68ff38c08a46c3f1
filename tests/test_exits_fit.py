"""Exit hazards estimated from successive DARES pyramids (issue 7, first part)."""
import numpy as np
import pytest

from pmq.errors import InputError
from pmq.estimation.exits import TRANSITIONS, _full_fit, _raw, continuation_table, holdout, pyramids


@pytest.fixture(scope="module")
def fit():
    return _full_fit()      # fit_exits() on the shipped pyramids, computed once for the session


def test_continuation_ratios_follow_the_cohorts():
    wide = pyramids()
    t = continuation_table(wide)
    assert set(t["transition"]) == set(TRANSITIONS) and (t["n"] > 0).all()
    assert t["q"].between(0, 1).all()
    row = t[(t["fap"] == "B2Z") & (t["start"] == 2004) & (t["transition"] == "50-54")].iloc[0]
    a, z = wide.loc[("B2Z", 2004)], wide.loc[("B2Z", 2009)]
    assert row["r"] == pytest.approx(z["55-59"] / a["50-54"])
    assert row["r_ref"] == pytest.approx((z["40-44"] + z["45-49"]) / (a["35-39"] + a["40-44"]))
    assert row["q"] == pytest.approx(max(0.0, 1 - row["r"] / row["r_ref"]))
    assert sorted(t["start"].unique()) == list(range(2004, 2014))


def test_fitted_hazards_are_plausible(fit):
    h = fit.hazards()
    assert (h.loc[:, 15:47] == 0).all().all() and (h[74] == 1).all()
    w = fit.cells.pivot(index="fap", columns="transition", values="n")
    nat = {a: np.average(h[a], weights=w["55+"].reindex(h.index)) for a in (48, 53, 60)}
    assert nat[48] < 0.03 < nat[53] < nat[60]                     # low before 50, rising after
    assert fit.share_of_exits_from_50() >= 0.95
    se = h.attrs["se"]
    assert np.isfinite(se.values).all() and (se.loc[:, 48:73] > 0).all().all()
    assert np.isfinite(fit.cells["se"]).all() and (fit.cells["se"] > 0).all()
    assert "dispersion" in fit.summary()


def test_pooling_shrinks_towards_the_domain(fit):
    c = fit.cells
    assert ((c["weight"] > 0) & (c["weight"] < 1)).all()
    moved = (c["theta_pooled"] - c["prior"]).abs() <= (c["theta"] - c["prior"]).abs() + 1e-12
    assert moved.all()
    assert (c["se_pooled"] <= c["se"]).all()


@pytest.mark.parametrize("split", [2007, 2008, 2009])
def test_pooled_fit_predicts_held_out_windows_better(split):
    h = holdout(split)
    assert h.loc["pooled", "loglik"] > h.loc["unpooled", "loglik"]
    assert h.loc["pooled", "mse"] <= h.loc["unpooled", "mse"]
    assert h.loc["pooled", "pairs"] == h.loc["unpooled", "pairs"] > 1000


@pytest.mark.parametrize("mutate, column", [
    (lambda t: t.assign(band=t["band"].replace("60+", "60-64")), "band"),
    (lambda t: t.assign(employment_k=t["employment_k"].where(t.index != 5, -1.0)), "employment_k"),
    (lambda t: t.assign(window=t["window"].replace("2003-2005", "2003-2006")), "window"),
    (lambda t: t[t["band"] != "15-24"], "band"),
])
def test_bad_pyramids(mutate, column):
    with pytest.raises(InputError) as e:
        pyramids(mutate(_raw().copy()), source="my_pyramids.csv")
    assert e.value.column == column and "my_pyramids.csv" in str(e.value)


def test_window_outside_the_data():
    with pytest.raises(InputError, match="5 ans plus tard"):
        continuation_table(starts=[2016])
    with pytest.raises(InputError):
        holdout(2020)


def test_only_families_enter_the_fit(fit):
    """ENS (all employment), T2Z (= T2A + T2B) and ZZZ would be counted twice or are not métiers."""
    assert not set(fit.cells["fap"]) & {"ENS", "T2Z", "ZZZ"}
    assert {"T2A", "T2B"} <= set(fit.cells["fap"]) and fit.cells["fap"].nunique() == 87
    with_all = pyramids(families=False)
    assert {"ENS", "T2Z"} <= set(with_all.index.get_level_values("fap"))


def test_domain_means_are_shrunk_towards_the_national_mean(fit):
    c = fit.cells.drop_duplicates(["domain", "transition"])
    gap_prior = (c["prior"] - c["national"]).abs()
    gap_domain = (c["domain_mean"] - c["national"]).abs()
    assert (gap_prior <= gap_domain + 1e-12).all() and (gap_prior < gap_domain).any()
    # the national mean lies between the smallest and largest domain means
    for _, g in c.groupby("transition"):
        assert g["domain_mean"].min() < g["national"].iloc[0] < g["domain_mean"].max()
