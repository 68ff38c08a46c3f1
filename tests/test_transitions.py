"""Mobility between métiers (pmq.analysis.occupational) and inter-regional rate matrices (pmq.model.mobility)."""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pmq
from pmq.errors import InputError
from pmq.inputs.interregional import net_inflow_from_matrix, period_net_mobility, read_interregional
from pmq.analysis.occupational import (EXIT, MOBILITY_FLOWS, mobility_horizons, occupational_mobility,
                                       read_transitions, template_path)

ROOT = Path(__file__).resolve().parents[1]
CODES = list(pmq.load_baseline().metier.values)


# ----------------------------------------------------------------------------- strategies
def _accounts(rng, ny, nt, nm, na, scenario=False):
    """Minimal accounts: employment by age and the flows the diagnostic reads."""
    lead = (2,) if scenario else ()
    E = rng.gamma(1.0, 50.0, size=lead + (ny, nt, nm, na)) * (rng.random(lead + (ny, nt, nm, na)) > 0.2)
    dims = (("scenario",) if scenario else ()) + ("year", "territory", "metier", "age")
    coords = {"year": 2019 + np.arange(ny), "territory": [f"T{i}" for i in range(nt)],
              "metier": [f"M{j}" for j in range(nm)], "age": 15 + np.arange(na)}
    if scenario:
        coords["scenario"] = ["a", "b"]
    acc = xr.Dataset({"employment": (dims, E)}, coords=coords)
    last = acc.year == acc.year[-1]
    acc["departures"] = (acc["employment"] * 0.03).where(~last)
    acc["other_recruits"] = xr.DataArray(rng.normal(0, 10, size=E.shape), dims=dims).where(~last)
    acc["imbalance"] = acc["other_recruits"].sum("age", skipna=False)
    return acc


def _rates(rng, nm, na, with_exit=True):
    """Valid rates: non-negative, zero diagonal, out-rates of each origin and age ≤ 1."""
    dests = [f"M{j}" for j in range(nm)] + ([EXIT] if with_exit else [])
    r = rng.gamma(0.5, 1.0, size=(nm, len(dests), na)) * (rng.random((nm, len(dests), na)) > 0.3)
    r[np.arange(nm), np.arange(nm), :] = 0.0
    tot = r.sum(1, keepdims=True)
    r = np.where(tot > 0, r / np.where(tot > 0, tot, 1.0), 0.0) * rng.uniform(0, 1, size=(nm, 1, na))
    return xr.DataArray(r, dims=("origin", "destination", "age"),
                        coords={"origin": [f"M{j}" for j in range(nm)], "destination": dests,
                                "age": 15 + np.arange(na)})


cases = st.tuples(st.integers(0, 2**32 - 1), st.integers(2, 4), st.integers(1, 3), st.integers(1, 6),
                  st.integers(1, 5), st.booleans(), st.booleans())


# ----------------------------------------------------------------------------- properties
@pytest.mark.background
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases)
def test_workers_are_conserved_between_metiers(case):
    seed, ny, nt, nm, na, with_exit, scenario = case
    rng = np.random.default_rng(seed)
    acc = _accounts(rng, ny, nt, nm, na, scenario)
    rates = _rates(rng, nm, na, with_exit)
    f = occupational_mobility(acc, rates).isel(year=slice(0, -1))
    scale = max(1.0, float(acc["employment"].sum("age").max()))
    tol = 1e-12 * scale * nm
    out, inn, ext = (f[k].sum("metier") for k in ("occ_outflow", "occ_inflow", "occ_exit"))
    np.testing.assert_allclose(out, inn + ext, rtol=0, atol=tol)  # Σ outflow = Σ inflow + exit
    np.testing.assert_allclose(f["net_occupational_mobility"].sum("metier"), -ext, rtol=0, atol=tol)
    stock = acc["employment"].isel(year=slice(0, -1)).sum("age")
    assert (f["occ_outflow"] <= stock + tol).all()  # outflows never exceed the stock
    assert (f["occ_inflow"] >= 0).all() and (f["occ_exit"] >= 0).all()
    if not with_exit:
        assert float(abs(f["occ_exit"]).max()) == 0.0


@pytest.mark.background
@settings(max_examples=30, deadline=None)
@given(case=cases)
def test_flows_match_a_cell_by_cell_reference(case):
    seed, ny, nt, nm, na, with_exit, _ = case
    rng = np.random.default_rng(seed)
    acc = _accounts(rng, ny, nt, nm, na)
    rates = _rates(rng, nm, na, with_exit)
    f = occupational_mobility(acc, rates)
    E = acc["employment"].values
    R = rates.values
    inflow = np.zeros((ny, nt, nm))
    outflow = np.zeros((ny, nt, nm))
    for y in range(ny):  # a slow, obvious loop as the reference
        for t in range(nt):
            for o in range(nm):
                for d in range(R.shape[1]):
                    flow = (E[y, t, o] * R[o, d]).sum()
                    outflow[y, t, o] += flow
                    if d < nm:
                        inflow[y, t, d] += flow
    np.testing.assert_allclose(f["occ_inflow"].values[:-1], inflow[:-1], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(f["occ_outflow"].values[:-1], outflow[:-1], rtol=1e-12, atol=1e-9)
    for k in MOBILITY_FLOWS:
        assert np.isnan(f[k].values[-1]).all(), k  # NaN at the final year, like the accounts


@pytest.mark.background
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), nt=st.integers(2, 6), nm=st.integers(1, 4), extra=st.integers(1, 3))
def test_interregional_net_inflow_sums_to_zero(seed, nt, nm, extra):
    rng = np.random.default_rng(seed)
    terr = [f"R{i}" for i in range(nt)]
    r = rng.gamma(0.5, 1.0, size=(nt, nt, nm)) * (rng.random((nt, nt, nm)) > 0.3)
    r[np.arange(nt), np.arange(nt)] = 0.0
    tot = r.sum(1, keepdims=True)
    r = np.where(tot > 0, r / np.where(tot > 0, tot, 1.0), 0.0) * rng.uniform(0, 1, size=(nt, 1, nm))
    rates = xr.DataArray(r, dims=("origin", "destination", "metier"),
                         coords={"origin": terr, "destination": terr, "metier": [f"M{j}" for j in range(nm)]})
    E = xr.DataArray(rng.gamma(1.0, 100.0, size=(extra, nt, nm)), dims=("year", "territory", "metier"),
                     coords={"territory": terr, "metier": [f"M{j}" for j in range(nm)]})
    net = net_inflow_from_matrix(rates, E)
    assert net.dims == E.dims
    tol = 1e-12 * max(1.0, float(E.max())) * nt
    np.testing.assert_allclose(net.sum("territory"), 0.0, rtol=0, atol=tol)  # zero sum, every métier
    out = E * rates.sum("destination").rename(origin="territory")
    assert (out <= E + tol).all()  # outflows never exceed the stock
    ref = np.einsum("yom,odm->ydm", E.values, r) - E.values * r.sum(1)[None]
    np.testing.assert_allclose(net.values, ref, rtol=1e-12, atol=tol)


@pytest.mark.background
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 25))
def test_read_transitions_builds_the_table(seed, n):
    """Random valid tables (real codes, bands, open bounds) are read back exactly."""
    rng = np.random.default_rng(seed)
    o = rng.choice(CODES, n)
    d = np.array([rng.choice([c for c in CODES if c != x] + [EXIT]) for x in o])
    lo = rng.integers(15, 75, n)
    hi = np.minimum(lo + rng.integers(0, 30, n), 74)
    df = pd.DataFrame({"origin": o, "destination": d, "rate": rng.uniform(0, 1, n) / n,
                       "age_min": np.where(rng.random(n) < 0.2, np.nan, lo),
                       "age_max": np.where(rng.random(n) < 0.2, np.nan, hi)})
    df = df.drop_duplicates(["origin", "destination"])  # one band per pair: no overlap
    r = read_transitions(df)
    assert r.dims == ("origin", "destination", "age") and r.sizes["destination"] == len(CODES) + 1
    assert float(r.sum("destination").max()) <= 1.0
    for row in df.itertuples():
        a0 = 15 if np.isnan(row.age_min) else int(row.age_min)
        a1 = 74 if np.isnan(row.age_max) else int(row.age_max)
        band = r.sel(origin=row.origin, destination=row.destination)
        np.testing.assert_array_equal(band.sel(age=slice(a0, a1)), row.rate)
        assert float(band.sum()) == pytest.approx(row.rate * (a1 - a0 + 1))  # 0 outside the band


# ----------------------------------------------------------------------------- the reference projection
@pytest.fixture(scope="module")
def example_rates():
    return read_transitions(template_path())


def test_reference_accounts_unchanged_and_identities(reference_2030, example_rates):
    acc = reference_2030.accounts
    before = acc.copy(deep=True)
    f = occupational_mobility(reference_2030, example_rates)
    xr.testing.assert_identical(acc, before)  # the input is not mutated
    assert set(MOBILITY_FLOWS) <= set(f.data_vars)
    assert f["net_occupational_mobility"].dims == acc["imbalance"].dims
    assert float(abs(f["net_occupational_mobility"]).sum()) > 0  # the example moves workers
    other = acc["other_recruits"].sum("age", skipna=False)
    scale = float(acc["employment"].sum("age").max())
    np.testing.assert_allclose(f["other_recruits_residual"] + f["net_occupational_mobility"], other,
                               rtol=0, atol=1e-12 * scale)
    np.testing.assert_array_equal(f["gap_after_mobility"], acc["imbalance"] - f["net_occupational_mobility"])
    np.testing.assert_array_equal(np.isnan(f["gap_after_mobility"]), np.isnan(acc["imbalance"]))
    # No 'exit' in the example: Σ over métiers of the net flows is 0 in every territory and year.
    np.testing.assert_allclose(f["net_occupational_mobility"].sum("metier").values[:-1], 0.0,
                               atol=1e-9 * scale)
    # Rows of the template in the outflow: caissiers (every age) lose 3 % of their stock a year.
    e = acc["employment"].sel(metier="R0Z").sum("age").values[:-1]
    np.testing.assert_allclose(f["occ_outflow"].sel(metier="R0Z").values[:-1], 0.03 * e, rtol=1e-12)


def test_survivors_stock(reference_2030, example_rates):
    acc = reference_2030.accounts
    start = occupational_mobility(acc, example_rates)
    surv = occupational_mobility(acc, example_rates, stock="survivors")
    assert (surv["occ_outflow"].values[:-1] <= start["occ_outflow"].values[:-1] + 1e-9).all()
    e = (acc["employment"] - acc["departures"]).sel(metier="R0Z").sum("age").values[:-1]
    np.testing.assert_allclose(surv["occ_outflow"].sel(metier="R0Z").values[:-1], 0.03 * e, rtol=1e-12)
    with pytest.raises(ValueError, match="stock"):
        occupational_mobility(acc, example_rates, stock="end")


def test_leading_scenario_dim(reference_2030, example_rates):
    acc = reference_2030.accounts
    two = xr.concat([acc, acc * 2.0], dim=pd.Index(["ref", "double"], name="scenario"),
                    coords="minimal", compat="override").transpose("scenario", "year", ...)
    f2 = occupational_mobility(two, example_rates)
    f1 = occupational_mobility(acc, example_rates)
    assert f2["net_occupational_mobility"].dims == ("scenario", "year", "territory", "metier")
    for k in MOBILITY_FLOWS:
        xr.testing.assert_allclose(f2[k].sel(scenario="ref", drop=True).reset_coords(drop=True),
                                   f1[k].reset_coords(drop=True))
        xr.testing.assert_allclose(f2[k].sel(scenario="double", drop=True).reset_coords(drop=True),
                                   2.0 * f1[k].reset_coords(drop=True))


def test_horizon_sums_beside_the_dares_gap(reference_2030, example_rates):
    f = occupational_mobility(reference_2030, example_rates)
    h = mobility_horizons(reference_2030, f)
    h2 = mobility_horizons(reference_2030.accounts, example_rates, [2024, 2030])
    assert "2019–2030" in h.period.values and list(h2.end_year.values) == [2024, 2030]
    p = h.sel(period="2019–2030")
    np.testing.assert_allclose(p["net_occupational_mobility"],
                               f["net_occupational_mobility"].sel(year=slice(2019, 2029)).sum("year"))
    np.testing.assert_allclose(p["gap_after_mobility"], p["imbalance"] - p["net_occupational_mobility"],
                               atol=1e-6)
    xr.testing.assert_allclose(h2.sel(period="2019–2030")[["imbalance", "gap_after_mobility"]]
                               .reset_coords(drop=True),
                               p[["imbalance", "gap_after_mobility"]].reset_coords(drop=True))


def test_rates_towards_a_metier_absent_from_the_accounts(reference_2030):
    rates = read_transitions(pd.DataFrame({"origin": ["V0Z"], "destination": ["V1Z"], "rate": [0.1]}))
    acc = reference_2030.accounts.sel(metier=[m for m in CODES if m != "V1Z"])
    with pytest.raises(InputError, match=r"colonne 'destination'[\s\S]*V1Z"):
        occupational_mobility(acc, rates)
    # Origins absent from the accounts simply have no stock.
    f = occupational_mobility(reference_2030.accounts.sel(metier=[m for m in CODES if m != "V0Z"]), rates)
    assert float(abs(f["occ_inflow"]).sum()) == 0.0


def test_template_is_labelled_illustrative():
    df = pd.read_csv(template_path())
    assert df["note"].str.startswith("ILLUSTRATIVE - not data").all()
    md = (template_path().with_suffix(".md")).read_text(encoding="utf-8")
    assert "ILLUSTRATIVE" in md and "not data" in md.lower()


# ----------------------------------------------------------------------------- validation messages
GOOD = pd.DataFrame({"origin": ["V0Z", "V0Z", "R0Z"], "destination": ["V1Z", "V1Z", "R1Z"],
                     "rate": [0.02, 0.01, 0.03], "age_min": [20, 45, np.nan], "age_max": [44, 59, np.nan]})


def _with(changes):
    df = GOOD.copy()
    for (col, i), v in changes.items():
        df.loc[i, col] = v
    return df


@pytest.mark.parametrize("df,column,value", [
    (_with({("origin", 2): "R9Z"}), "origin", "R9Z"),
    (_with({("destination", 0): "exitt"}), "destination", "exitt"),
    (_with({("rate", 1): 1.5}), "rate", "1.5"),
    (_with({("rate", 1): -0.2}), "rate", "-0.2"),
    (_with({("rate", 0): np.nan}), "rate", "NaN"),
    (_with({("destination", 2): "R0Z"}), "destination", "R0Z"),
    (_with({("age_min", 1): 20, ("age_max", 1): 44}), "origin, destination, age_min, age_max",
     "V0Z"),                                                                       # duplicate
    (_with({("age_min", 1): 40}), "age_min, age_max", "40"),                        # overlap
    (_with({("rate", 2): 0.7}).assign(destination=["V1Z", "V1Z", "R1Z"])
     .pipe(lambda d: pd.concat([d, pd.DataFrame({"origin": ["R0Z"], "destination": ["R2Z"],
                                                  "rate": [0.6]})])), "rate", "1.3"),  # out-rates > 1
    (_with({("age_min", 0): 50}), "age_min", "50"),                                 # min > max
    (_with({("age_min", 0): 80, ("age_max", 0): 90}), "age_min, age_max", "80"),    # outside ages
])
def test_transition_errors_name_column_and_value(df, column, value):
    with pytest.raises(InputError) as err:
        read_transitions(df.reset_index(drop=True))
    msg = str(err.value)
    named = "colonnes " + ", ".join(f"'{c}'" for c in column.split(", ")) if ", " in column else f"colonne '{column}'"
    assert named in msg and value in msg, msg


def test_unknown_code_lists_closest_and_file(tmp_path):
    path = tmp_path / "my_matrix.csv"
    _with({("origin", 2): "R0"}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"my_matrix\.csv, colonne 'origin' : code\(s\) de métier inconnu\(s\) "
                                         r"'R0' \(les plus proches : R0Z"):
        read_transitions(path)


def test_hand_built_rate_arrays_are_checked(reference_2030, example_rates):
    bad = example_rates.copy()
    bad.loc[dict(origin="R0Z", destination="R1Z")] = 1.2
    with pytest.raises(InputError, match=r"colonne 'rate'[\s\S]*1\.2"):
        occupational_mobility(reference_2030, bad)
    diag = example_rates.copy()
    diag.loc[dict(origin="R0Z", destination="R0Z")] = 0.1
    with pytest.raises(InputError, match=r"colonne 'destination'[\s\S]*R0Z"):
        occupational_mobility(reference_2030, diag)


TERR = pd.DataFrame({"origin": ["11", "11", "53"], "destination": ["53", "93", "11"],
                     "rate": [0.004, 0.003, 0.002], "metier": ["", "V1Z", "all"]})


def _terr(changes):
    df = TERR.copy()
    for (col, i), v in changes.items():
        df.loc[i, col] = v
    return df


@pytest.mark.parametrize("df,column,value", [
    (_terr({("origin", 0): "99"}), "origin", "99"),
    (_terr({("destination", 2): "Bretange"}), "destination", "Bretange"),
    (_terr({("rate", 1): 2.0}), "rate", "2.0"),
    (_terr({("rate", 1): np.nan}), "rate", "NaN"),
    (_terr({("destination", 0): "11"}), "destination", "11"),
    (_terr({("metier", 1): "V9Z"}), "metier", "V9Z"),
    (_terr({("destination", 1): "53", ("metier", 1): ""}), "origin, destination, metier", "53"),  # dup
    (_terr({("rate", 0): 0.6, ("rate", 1): 0.5}), "rate", "1.1"),         # out-rates > 1 for V1Z
])
def test_interregional_errors_name_column_and_value(baseline, df, column, value):
    with pytest.raises(InputError) as err:
        read_interregional(df, baseline)
    msg = str(err.value)
    named = "colonnes " + ", ".join(f"'{c}'" for c in column.split(", ")) if ", " in column else f"colonne '{column}'"
    assert named in msg and value in msg, msg


def test_read_interregional_names_and_overrides(baseline):
    r = read_interregional(TERR.assign(origin=["Île-de-France", "idf", "BRETAGNE"]), baseline)
    assert r.dims == ("origin", "destination", "metier") and r.sizes["metier"] == 83
    assert float(r.sel(origin="11", destination="53", metier="A0Z")) == 0.004
    assert float(r.sel(origin="11", destination="93", metier="V1Z")) == 0.003
    assert float(r.sel(origin="11", destination="93", metier="V0Z")) == 0.0
    over = pd.concat([TERR, pd.DataFrame({"origin": ["11"], "destination": ["53"], "rate": [0.01],
                                          "metier": ["V0Z"]})], ignore_index=True)
    r2 = read_interregional(over, list(baseline.territory.values))
    assert float(r2.sel(origin="11", destination="53", metier="V0Z")) == 0.01  # overrides the all-row
    assert float(r2.sel(origin="11", destination="53", metier="V1Z")) == 0.004


# ----------------------------------------------------------------------------- Task B in the engine
def test_period_net_mobility_replaces_the_published_balance(baseline):
    rates = read_interregional(TERR, baseline)
    pm = period_net_mobility(baseline, rates)
    assert pm.dims == ("territory", "metier")
    np.testing.assert_allclose(pm.sum("territory"), 0.0, atol=1e-6)
    b2 = baseline.copy()
    b2["published_net_mobility"] = pm
    acc = pmq.project(b2, "reference", horizon=11).accounts
    national = acc["net_mobility"].sum(["territory", "metier", "age"], skipna=False).values
    np.testing.assert_allclose(national[:-1], 0.0, atol=1e-6)
    assert np.isnan(national[-1])
    # The engine spreads the period total uniformly: 1/11 of it in each year.
    np.testing.assert_allclose(acc["net_mobility"].sum("age").isel(year=0), pm / 11, atol=1e-9)
    # Île-de-France loses workers to Bretagne and PACA, who gain them.
    terr = pm.sum("metier")
    assert float(terr.sel(territory="11")) < 0 < float(terr.sel(territory="53"))
    # Paths: constant < linear (employment grows overall) and the three stay close.
    tot = {p: float(abs(period_net_mobility(baseline, rates, path=p)).sum())
           for p in ("constant", "linear", "trend")}
    assert tot["constant"] < tot["linear"] and abs(tot["trend"] / tot["linear"] - 1) < 0.02, tot
    e0 = baseline["employment"].sum("age")
    np.testing.assert_allclose(period_net_mobility(baseline, rates, 1, path="constant"),
                               net_inflow_from_matrix(rates, e0).transpose("territory", "metier"))


# ----------------------------------------------------------------------------- the docs
def test_docs_python_blocks_run(capsys):
    text = (ROOT / "docs" / "mobility.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 3
    ns = {"__name__": "__main__"}
    for code in blocks:
        exec(compile(code, "docs/mobility.md", "exec"), ns)
    out = capsys.readouterr().out
    assert "gap_after_mobility" in out and "V1Z" in out
    f, acc = ns["flows"], ns["proj"].accounts
    np.testing.assert_allclose(f["gap_after_mobility"], acc["imbalance"] - f["net_occupational_mobility"])
    # the passerelles prior: labelled an estimate, 5 % of each stock leaves, nobody is lost; by age: 8 % then 4 %
    assert "prior, not data" in out and "prior, not data" in ns["flows_p"].attrs["rates_source"]
    fp = ns["flows_p"].isel(year=slice(0, -1))
    np.testing.assert_allclose(fp["occ_outflow"], 0.05 * acc["employment"].isel(year=slice(0, -1)).sum("age"),
                               rtol=1e-12)
    out_rate = ns["prior_age"].sum("destination")
    assert float(out_rate.sel(age=29).min()) == pytest.approx(0.08) and float(out_rate.sel(age=30).max()) == \
        pytest.approx(0.04)
    assert "0.0\n" in out                                            # the printed conservation check
    np.testing.assert_allclose(ns["national"].values[:-1], 0.0, atol=1e-6)
