"""The BLS separation-rate method: reproduction of Table 1.10 (2024–34), validation, properties."""
import inspect

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from pmq.errors import InputError
from pmq.analysis.separations import (BLS_2024_34, CANDIDATES, DECLINE_RULES, RATE_BASES, convention_fit,
                                      load_bls_table, reproduce_bls, separation_openings,
                                      separation_openings_path, summarise_reproduction)


@pytest.fixture(scope="module")
def table():
    return load_bls_table()


@pytest.fixture(scope="module")
def summary():
    return summarise_reproduction(reproduce_bls())


@pytest.fixture(scope="module")
def fit():
    return convention_fit()


# ---------------------------------------------------------------------------- the packaged table

def test_packaged_table(table):
    assert len(table) == 832
    assert table["soc"].is_unique
    assert (table["occ_type"] == "Line item").all()
    assert set(table["base_year"]) == {2024} and set(table["proj_year"]) == {2034}
    assert not table.drop(columns=["title"]).isna().any().any()


def test_published_openings_are_separations_plus_annual_change_even_when_declining(table):
    """Direct evidence from the published figures: the full decline is subtracted."""
    diff = table["openings"] - table["separations"] - (table["emp_proj"] - table["emp_base"]) / 10
    declining = table["emp_proj"] < table["emp_base"]
    assert declining.sum() == 227
    # two values rounded to 0.1 and a change of rounded employments: |diff| ≤ 0.05 + 0.05 + 0.01
    assert diff.abs().max() <= 0.1 + 1e-9
    assert diff[declining].abs().max() <= 0.1 + 1e-9
    # ignoring the decline would be off by up to 31 thousand
    assert (table["separations"] - table["openings"])[declining].max() > 30


# ---------------------------------------------------------------------------- reproduction

def test_preset_reproduces_openings_of_every_line(summary):
    o = summary.loc["openings"]
    assert o["n"] == 832
    assert o["max_abs_error"] <= 2.0
    assert o["median_abs_error"] <= 0.05
    # the measured values, as stated in docs/separations.md
    assert o["max_abs_error"] == pytest.approx(1.6672, abs=1e-4)
    assert o["median_abs_error"] == pytest.approx(0.03075, abs=1e-5)


@pytest.mark.parametrize("flow, max_err, median_err", [
    ("exits", 1.8136, 0.0320), ("transfers", 1.6825, 0.0329), ("separations", 1.5872, 0.0330)])
def test_preset_reproduces_exits_transfers_separations(summary, flow, max_err, median_err):
    row = summary.loc[flow]
    assert row["max_abs_error"] <= 2.0 and row["median_abs_error"] <= 0.05
    assert row["max_abs_error"] == pytest.approx(max_err, abs=1e-4)
    assert row["median_abs_error"] == pytest.approx(median_err, abs=1e-4)


def test_every_line_is_within_the_rounding_of_the_published_figures(fit):
    chosen = fit.loc["average, net, total rate (BLS_2024_34)"]
    assert (chosen["lines_outside_rounding"] == 0).all()


@pytest.mark.parametrize("candidate, min_outside", [
    ("start (base year), net, total rate", 400),
    ("end (projected year), net, total rate", 400),
    ("average, growth only, total rate", 150),
    ("linear path 2025–34 (end-of-year stocks), net", 30),
    ("linear path 2024–33 (start-of-year stocks), net", 30),
    ("constant-growth path mean 2024–34, net", 1),
    ("geometric mean sqrt(base × proj), net", 1),
])
def test_rejected_conventions_cannot_produce_some_lines(fit, candidate, min_outside):
    worst = fit.loc[candidate]["lines_outside_rounding"].max()
    assert worst >= min_outside


def test_floor_at_zero_is_not_identified_by_the_table(fit):
    """No occupation declines by more than its separations, so a zero floor never binds."""
    net = fit.loc["average, net, total rate (BLS_2024_34)"]
    floor = fit.loc["average, floor at 0, total rate"]
    pd.testing.assert_frame_equal(net, floor)


def test_total_rate_beats_sum_of_rounded_component_rates(fit):
    total = fit.loc["average, net, total rate (BLS_2024_34)"].loc["openings", "max_abs_error"]
    summed = fit.loc["average, net, exits + transfers"].loc["openings", "max_abs_error"]
    assert total < 2.0 < summed


def test_reproduction_columns_and_worst_line():
    rep = reproduce_bls()
    assert rep.index.name == "soc" and len(rep) == 832
    for flow in ("exits", "transfers", "separations", "openings"):
        np.testing.assert_allclose(rep[f"{flow}_error"],
                                   rep[f"{flow}_computed"] - rep[f"{flow}_published"])
    # the largest occupation carries the largest rounding error
    assert rep["openings_error"].abs().idxmax() == "31-1120"


def test_preset_matches_function_defaults():
    assert BLS_2024_34.years == 10
    sig = inspect.signature(separation_openings).parameters
    for k, v in BLS_2024_34.kwargs().items():
        assert sig[k].default == v, k
    sig_path = inspect.signature(separation_openings_path).parameters
    assert sig_path["rate_base"].default == BLS_2024_34.rate_base
    assert sig_path["decline"].default == BLS_2024_34.decline
    assert BLS_2024_34.to_dict()["years"] == 10
    from dataclasses import FrozenInstanceError
    with pytest.raises(FrozenInstanceError):
        BLS_2024_34.decline = "floor"  # frozen


def test_candidates_use_known_rules():
    for rate_base, decline, _ in CANDIDATES.values():
        assert callable(rate_base) or rate_base in RATE_BASES
        assert decline in DECLINE_RULES


# ---------------------------------------------------------------------------- the function

def test_worked_example_and_totals():
    out = separation_openings(100.0, 120.0, 5.0, 3.0, years=10, totals=True)
    row = out.iloc[0]
    assert row["rate_employment"] == pytest.approx(110.0)
    assert row["exits"] == pytest.approx(5.5)
    assert row["transfers"] == pytest.approx(3.3)
    assert row["separations"] == pytest.approx(8.8)
    assert row["employment_change"] == pytest.approx(2.0)
    assert row["openings"] == pytest.approx(10.8)
    assert row["openings_total"] == pytest.approx(108.0)
    assert row["separations_total"] == pytest.approx(88.0)


def test_decline_rules_on_a_steep_decline():
    args = (100.0, 20.0, 2.0, 2.0)  # S = 0.04 * 60 = 2.4; change = -8 per year
    assert separation_openings(*args, decline="net")["openings"].iloc[0] == pytest.approx(-5.6)
    assert separation_openings(*args, decline="floor")["openings"].iloc[0] == 0.0
    assert separation_openings(*args, decline="growth_only")["openings"].iloc[0] == pytest.approx(2.4)


def test_rate_bases_and_fractions():
    kw = dict(emp_base=100.0, emp_proj=200.0, exit_rate=0.1, transfer_rate=0.0, percent=False)
    assert separation_openings(**kw, rate_base="start")["exits"].iloc[0] == pytest.approx(10.0)
    assert separation_openings(**kw, rate_base="end")["exits"].iloc[0] == pytest.approx(20.0)
    assert separation_openings(**kw, rate_base="average")["exits"].iloc[0] == pytest.approx(15.0)


def test_index_follows_series_input(table):
    t = table.set_index("soc").head(3)
    out = separation_openings(t["emp_base"], t["emp_proj"], t["exit_rate_pct"], 5.0)
    assert list(out.index) == list(t.index)


# ---------------------------------------------------------------------------- validation

def _bls_inputs(table):
    t = table.set_index("soc")
    return t["emp_base"].copy(), t["emp_proj"].copy(), t["exit_rate_pct"].copy(), \
        t["transfer_rate_pct"].copy()


def test_rate_above_100_percent_names_column_and_rows(table):
    b, p, x, tr = _bls_inputs(table)
    tr.loc[["11-1011", "53-7081"]] = [101.0, -0.5]
    with pytest.raises(InputError) as exc:
        separation_openings(b, p, x, tr, source="bls.csv")
    err = exc.value
    assert err.column == "transfer_rate" and err.source == "bls.csv"
    assert list(err.rows["soc"]) == ["11-1011", "53-7081"]
    msg = str(err)
    assert "transfer_rate" in msg and "[0, 100] (en pourcentage)" in msg
    assert "11-1011" in msg and "101.0" in msg and "53-7081" in msg


def test_fraction_rate_above_one():
    with pytest.raises(InputError) as exc:
        separation_openings([10.0, 20.0], [10.0, 20.0], [0.02, 1.5], 0.01, percent=False)
    assert exc.value.column == "exit_rate"
    assert list(exc.value.rows["row"]) == [1]
    assert "[0, 1]" in str(exc.value)


def test_nan_names_column_and_rows(table):
    b, p, x, tr = _bls_inputs(table)
    x.loc["15-1252"] = np.nan
    with pytest.raises(InputError) as exc:
        separation_openings(b, p, x, tr)
    assert exc.value.column == "exit_rate"
    assert list(exc.value.rows["soc"]) == ["15-1252"]
    assert "NaN" in str(exc.value) and "15-1252" in str(exc.value)


def test_negative_employment_names_column_and_rows(table):
    b, p, x, tr = _bls_inputs(table)
    p.loc["11-1021"] = -3.0
    with pytest.raises(InputError) as exc:
        separation_openings(b, p, x, tr)
    assert exc.value.column == "emp_proj"
    assert list(exc.value.rows["soc"]) == ["11-1021"]
    assert "-3.0" in str(exc.value) and "négatif" in str(exc.value)


def test_unknown_rules_and_bad_years():
    with pytest.raises(InputError, match="rate_base"):
        separation_openings(1.0, 1.0, 1.0, 1.0, rate_base="median")
    with pytest.raises(InputError, match="decline"):
        separation_openings(1.0, 1.0, 1.0, 1.0, decline="zero")
    with pytest.raises(InputError, match="years"):
        separation_openings(1.0, 1.0, 1.0, 1.0, years=0)


def test_table_validation_through_reproduce(table):
    bad = table.copy()
    bad.loc[bad["soc"] == "11-1031", "sep_rate_pct"] = 250.0
    with pytest.raises(InputError) as exc:
        reproduce_bls(bad)
    assert exc.value.column == "separation_rate"
    assert list(exc.value.rows["soc"]) == ["11-1031"]
    assert "bls_separations_2024_34.csv" in str(exc.value)


def test_loader_reports_missing_file_and_columns(tmp_path):
    with pytest.raises(InputError, match="fichier introuvable"):
        load_bls_table(tmp_path / "nope.csv")
    f = tmp_path / "t.csv"
    pd.DataFrame({"soc": ["1"], "title": ["x"]}).to_csv(f, index=False)
    with pytest.raises(InputError) as exc:
        load_bls_table(f)
    assert exc.value.column == "emp_base"


# ---------------------------------------------------------------------------- path form

def _path(emp_base, emp_end, n, metiers=("M0", "M1"), territories=("T0",)):
    """Linear employment path (year, territory, metier)."""
    years = np.arange(2019, 2019 + n + 1)
    frac = (years - years[0]) / n
    e0 = np.asarray(emp_base, dtype=float).reshape(len(territories), len(metiers))
    e1 = np.asarray(emp_end, dtype=float).reshape(len(territories), len(metiers))
    data = e0[None] + (e1 - e0)[None] * frac[:, None, None]
    return xr.DataArray(data, dims=("year", "territory", "metier"),
                        coords={"year": years, "territory": list(territories),
                                "metier": list(metiers)})


def _rate(values, metiers=("M0", "M1")):
    return xr.DataArray(np.asarray(values, dtype=float), dims="metier", coords={"metier": list(metiers)})


def test_path_flows_are_labelled_by_start_year():
    emp = _path([100.0, 50.0], [120.0, 40.0], 10)
    ds = separation_openings_path(emp, _rate([0.05, 0.02]), _rate([0.03, 0.01]))
    assert list(ds.year.values) == list(range(2019, 2029))
    assert ds["openings"].dims == ("year", "territory", "metier")
    first = ds.sel(year=2019, territory="T0", metier="M0")
    assert float(first["rate_employment"]) == pytest.approx(101.0)
    assert float(first["separations"]) == pytest.approx(0.08 * 101.0)
    assert float(first["openings"]) == pytest.approx(0.08 * 101.0 + 2.0)


def test_path_time_varying_rates_and_metier_order():
    emp = _path([100.0, 50.0], [100.0, 50.0], 3)
    rate = xr.DataArray([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], dims=("year", "metier"),
                        coords={"year": [2019, 2020, 2021], "metier": ["M1", "M0"]})
    ds = separation_openings_path(emp, rate)
    np.testing.assert_allclose(ds["exits"].sel(territory="T0", metier="M0").values, [20.0, 40.0, 60.0])
    np.testing.assert_allclose(ds["exits"].sel(territory="T0", metier="M1").values, [5.0, 15.0, 25.0])


def test_path_validation_names_cells():
    emp = _path([100.0, 50.0], [120.0, 40.0], 4)
    with pytest.raises(InputError) as exc:
        separation_openings_path(emp, _rate([0.05, 1.2]))
    assert exc.value.column == "exit_rate" and list(exc.value.rows["metier"]) == ["M1"]
    with pytest.raises(InputError) as exc:
        separation_openings_path(emp, _rate([0.05, 0.02]), _rate([np.nan, 0.02]))
    assert exc.value.column == "transfer_rate" and list(exc.value.rows["metier"]) == ["M0"]
    bad = emp.copy()
    bad.loc[dict(year=2021, metier="M1")] = -1.0
    with pytest.raises(InputError) as exc:
        separation_openings_path(bad, 0.02)
    assert exc.value.column == "employment"
    assert exc.value.rows[["year", "territory", "metier"]].values.tolist() == [[2021, "T0", "M1"]]
    with pytest.raises(InputError) as exc:
        separation_openings_path(emp, _rate([0.05], metiers=("M0",)))
    assert list(exc.value.rows["metier"]) == ["M1"]
    with pytest.raises(InputError, match=r"absente\(s\) de la trajectoire d'emploi"):
        separation_openings_path(emp, xr.DataArray([0.1], dims="age"))
    with pytest.raises(InputError, match="year"):
        separation_openings_path(emp.isel(year=0), 0.02)


def test_path_on_pmq_accounts(reference_2030, baseline):
    """The method on pmq's own data: exit rates implied by the published departures."""
    emp = reference_2030.accounts["employment"].sum("age")
    n = baseline.attrs["n_period"]
    e0 = baseline["employment"].sum("age")
    e1 = e0 + baseline["published_net_creation"]
    exit_rate = baseline["published_departures"].sum("territory") / (n * (0.5 * (e0 + e1)).sum("territory"))
    ds = separation_openings_path(emp, exit_rate)
    assert ds.sizes["year"] == n
    total = ds["exits"].sum(["year", "territory"])
    published = baseline["published_departures"].sum("territory")
    # national totals by métier within 1 % (the reference path grows at a constant rate, the
    # implied rates assume the BLS average-of-ends employment)
    assert float(abs(total / published - 1).max()) < 0.01
    np.testing.assert_allclose(ds["openings"], ds["separations"] + ds["employment_change"])


# ---------------------------------------------------------------------------- properties

emp_values = st.floats(0.0, 1e5, allow_nan=False)
pct = st.floats(0.0, 100.0, allow_nan=False)
rows = st.lists(st.tuples(emp_values, emp_values, pct, pct), min_size=1, max_size=20)


def _frame(data):
    return pd.DataFrame(data, columns=["b", "p", "x", "t"])


@settings(max_examples=100, deadline=None)
@given(data=rows, years=st.integers(1, 30), rate_base=st.sampled_from(RATE_BASES),
       decline=st.sampled_from(DECLINE_RULES))
def test_property_identities(data, years, rate_base, decline):
    d = _frame(data)
    out = separation_openings(d["b"], d["p"], d["x"], d["t"], years=years, rate_base=rate_base,
                              decline=decline, totals=True)
    np.testing.assert_allclose(out["separations"], out["exits"] + out["transfers"], rtol=1e-12)
    np.testing.assert_allclose(out["employment_change"], (d["p"] - d["b"]) / years, rtol=1e-12)
    growing = (d["p"] >= d["b"]).to_numpy()
    # growing occupations: openings = change / years + separations, whatever the decline rule
    np.testing.assert_allclose(out["openings"][growing],
                               ((d["p"] - d["b"]) / years + out["separations"])[growing],
                               rtol=1e-12, atol=1e-9)
    if decline == "net":
        np.testing.assert_allclose(out["openings"], out["separations"] + out["employment_change"],
                                   rtol=1e-12, atol=1e-9)
    else:
        assert (out["openings"] >= -1e-12).all()
    assert (out["separations"] >= 0).all()
    np.testing.assert_allclose(out["openings_total"], out["openings"] * years, rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(data=rows, k=st.floats(0.0, 50.0, allow_nan=False), rate_base=st.sampled_from(RATE_BASES),
       decline=st.sampled_from(DECLINE_RULES))
def test_property_flows_scale_linearly_with_employment(data, k, rate_base, decline):
    d = _frame(data)
    one = separation_openings(d["b"], d["p"], d["x"], d["t"], rate_base=rate_base, decline=decline)
    scaled = separation_openings(k * d["b"], k * d["p"], d["x"], d["t"], rate_base=rate_base,
                                 decline=decline)
    for col in ("exits", "transfers", "separations", "openings", "employment_change"):
        np.testing.assert_allclose(scaled[col], k * one[col], rtol=1e-9, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(data=rows, s=pct)
def test_property_separations_from_the_total_rate(data, s):
    d = _frame(data)
    with_total = separation_openings(d["b"], d["p"], d["x"], d["t"], separation_rate=s)
    np.testing.assert_allclose(with_total["separations"], s / 100 * (d["b"] + d["p"]) / 2,
                               rtol=1e-12, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(b=st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=2, max_size=2),
       e=st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=2, max_size=2),
       x=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=2, max_size=2),
       t=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=2, max_size=2),
       n=st.integers(1, 15), decline=st.sampled_from(["net", "growth_only"]))
def test_property_path_mean_equals_two_point_on_a_linear_path(b, e, x, t, n, decline):
    """Annual flows on a linear path average to the BLS two-point figures."""
    ds = separation_openings_path(_path(b, e, n), _rate(x), _rate(t), decline=decline)
    two = separation_openings(b, e, x, t, years=n, percent=False, decline=decline)
    for col in ("exits", "transfers", "separations", "openings"):
        np.testing.assert_allclose(ds[col].mean("year").sel(territory="T0").values,
                                   two[col].values, rtol=1e-9, atol=1e-7)
