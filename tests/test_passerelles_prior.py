"""The passerelles prior for the métier mobility matrix (pmq.analysis.occupational.transitions_from_passerelles):
a user's total rate of changing métier spread over ROME's passerelles in proportion to their strength — rows sum
to the total, destinations only where a passerelle exists, zero diagonal, labelled as an estimate, workers
conserved through occupational_mobility, bad input named."""
import numpy as np
import pandas as pd
import pytest

from pmq.analysis.occupational import (EXIT, MOBILITY_FQP, occupational_mobility, read_transitions,
                                       transitions_from_passerelles)
from pmq.data import skills as S
from pmq.errors import ArgumentError, InputError, PmqError


@pytest.fixture(scope="module")
def prior():
    return transitions_from_passerelles(0.05)


def _links(min_strength=S.MIN_STRENGTH):
    p = S.passerelles()
    return p[(p["metier"] != p["target"]) & (p["strength"] >= min_strength)]


def test_rows_sum_to_the_total_rate_with_zero_diagonal_and_no_exit(prior):
    assert prior.dims == ("origin", "destination", "age")
    assert list(prior.destination.values) == [*prior.origin.values, EXIT]
    assert prior.sizes["origin"] == 83 and (prior.age.values == np.arange(15, 75)).all()
    np.testing.assert_allclose(prior.sum("destination"), 0.05, rtol=1e-12, atol=0)
    codes = list(prior.origin.values)
    diag = prior.sel(destination=codes).values[np.arange(83), np.arange(83), :]
    assert (diag == 0).all() and (prior.sel(destination=EXIT) == 0).all()
    assert (prior >= 0).all()


@pytest.mark.parametrize("min_strength", [S.MIN_STRENGTH, 0.0])
def test_destinations_are_the_passerelles_in_proportion_to_their_strength(min_strength):
    r = transitions_from_passerelles(0.05, min_strength=min_strength).isel(age=0).drop_vars("age")
    got = r.drop_sel(destination=EXIT).to_series()
    got = got[got > 0]
    links = _links(min_strength).set_index(["metier", "target"])["strength"]
    assert set(got.index) == set(links.index)                  # exactly the passerelles kept, nothing else
    expected = 0.05 * links / links.groupby(level="metier").transform("sum")
    np.testing.assert_allclose(got.reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=1e-12)
    # 0 keeps every link to another métier: more destinations than the 1 % cut-off (12 per métier in the median)
    n = got.groupby(level=0).size()
    assert (n.median() == 12) if min_strength else (n.median() > 20)


def test_the_result_passes_read_transitions_checks_and_is_labelled_an_estimate(prior, tmp_path):
    # the same matrix written as a table and read back by read_transitions is the same array
    long = prior.isel(age=0, drop=True).drop_sel(destination=EXIT).to_series()
    long = long[long > 0].rename("rate").rename_axis(["origin", "destination"]).reset_index()
    back = read_transitions(long)
    np.testing.assert_allclose(back.values, prior.values, rtol=0, atol=1e-15)
    assert "prior, not data" in prior.attrs["estimated"] and "prior, not data" in prior.attrs["source"]
    assert "ROME 4.0" in prior.attrs["source"] and "0.05" in prior.attrs["total_rate"]
    assert prior.attrs["min_strength"] == S.MIN_STRENGTH and "strength" in prior.attrs["method"]
    assert "Dares Analyses n° 049" in prior.attrs["order_of_magnitude"]
    assert MOBILITY_FQP[0] == 0.22 and abs(MOBILITY_FQP[1] - 0.0485) < 5e-4   # 1 − 0.78^(1/5)


def test_flows_conserve_workers_and_the_outflow_is_the_total_rate(reference_2030, prior):
    acc = reference_2030.accounts
    f = occupational_mobility(reference_2030, prior).isel(year=slice(0, -1))
    assert "prior, not data" in f.attrs["rates_source"]
    stock = acc["employment"].isel(year=slice(0, -1)).sum("age")
    tol = 1e-12 * float(stock.sum("metier").max())
    np.testing.assert_allclose(f["net_occupational_mobility"].sum("metier"), 0.0, atol=tol)  # nobody lost
    np.testing.assert_allclose(f["occ_outflow"], 0.05 * stock, rtol=1e-12)       # 5 % of each stock leaves
    assert float(abs(f["occ_exit"]).max()) == 0.0
    # aides à domicile (T2A) leave towards the métiers ROME links them to, which gain them
    links = _links().query("metier == 'T2A'").set_index("target")["strength"]
    from_t2a = occupational_mobility(reference_2030, prior.where(prior.origin == "T2A", 0.0))
    gained = from_t2a["occ_inflow"].isel(year=0).sum("territory").to_series()
    assert set(gained[gained > 0].index) == set(links.index)


def test_rates_by_metier_and_by_age_band():
    r = transitions_from_passerelles({"*": 0.04, "Aides à domicile": 0.1}).sum("destination")
    assert float(r.sel(origin="T2A").min()) == pytest.approx(0.1, rel=1e-12)         # a label is accepted
    np.testing.assert_allclose(r.drop_sel(origin="T2A"), 0.04, rtol=1e-12)
    only = transitions_from_passerelles(pd.Series({"T2A": 0.1})).sum("destination")  # no "*": the others stay
    assert float(only.drop_sel(origin="T2A").max()) == 0.0
    table = pd.DataFrame({"metier": ["*", "*", "T2A"], "rate": [0.08, 0.04, 0.02],
                          "age_min": [None, 30, 50], "age_max": [29, None, 59]})
    t = transitions_from_passerelles(table).sum("destination")
    assert float(t.sel(origin="A0Z", age=29)) == pytest.approx(0.08) and float(t.sel(origin="A0Z", age=30)) == \
        pytest.approx(0.04)
    # T2A's own row overrides the every-métier rows at 50–59 only
    assert [round(float(t.sel(origin="T2A", age=a)), 12) for a in (20, 49, 50, 59, 60)] == [0.08, 0.04, 0.02,
                                                                                            0.02, 0.04]
    gap = transitions_from_passerelles(pd.DataFrame({"rate": [0.05], "age_max": [29]})).sum("destination")
    assert float(gap.sel(age=30).max()) == 0.0 and float(gap.sel(age=29).min()) == pytest.approx(0.05)


def test_a_smaller_nomenclature_renormalises_over_the_links_it_keeps():
    r = transitions_from_passerelles(0.05, ["A0Z", "A1Z", "A2Z"], ages=[20, 40])
    np.testing.assert_allclose(r.sum("destination"), 0.05, rtol=1e-12)
    p = _links().set_index(["metier", "target"])["strength"]
    ratio = float(r.sel(origin="A0Z", destination="A1Z", age=20) / r.sel(origin="A0Z", destination="A2Z", age=20))
    assert ratio == pytest.approx(p["A0Z", "A1Z"] / p["A0Z", "A2Z"], rel=1e-12)


@pytest.mark.parametrize("bad, error, shown", [
    (-0.1, ArgumentError, "-0.1"), (1, ArgumentError, "(valeur : 1)"), (5, ArgumentError, "(valeur : 5)"),
    (float("nan"), ArgumentError, "nan"), (True, ArgumentError, "True"), ([0.05], ArgumentError, "list"),
    ({"T2A": 1.0}, InputError, "T2A"), ({"T2A": -0.2}, InputError, "-0.2"),
    ({"ZZZ": 0.05}, InputError, "'ZZZ' (les plus proches"), ({"T2A": "cinq"}, InputError, "cinq"),
    (pd.DataFrame({"rate": [0.05, 0.06], "age_min": [15, 40]}), InputError, "aux âges 40–74"),
    (pd.DataFrame({"metier": ["T2A"], "taux": [0.05]}), InputError, "colonne obligatoire absente : rate ("),
])
def test_bad_total_rates_raise_pmq_errors_naming_the_value(bad, error, shown):
    with pytest.raises(error) as e:
        transitions_from_passerelles(bad)
    msg = str(e.value)
    assert shown in msg and ("total_rate" in msg or "taux totaux" in msg), msg


def test_bad_min_strength_and_metiers_without_passerelles_are_refused():
    for bad in (-0.01, 1.0, "0.1"):
        with pytest.raises(ArgumentError, match="min_strength"):
            transitions_from_passerelles(0.05, min_strength=bad)
    with pytest.raises(InputError, match=r"nulle part où aller[\s\S]*M1"):
        transitions_from_passerelles(0.05, ["T2A", "M1"])
    with pytest.raises(PmqError, match=r"T2A"):                 # T2A's passerelles all lead outside the list
        transitions_from_passerelles({"T2A": 0.05}, ["T2A", "A0Z"])
    ok = transitions_from_passerelles({"A0Z": 0.05}, ["T2A", "A0Z", "A1Z"])   # T2A at 0 may have nowhere to go
    assert float(ok.sel(origin="T2A").sum()) == 0.0
