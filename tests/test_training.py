"""Supply from initial training: IPF calibration, margins, errors, scenario levers."""
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import pmq
from pmq.inputs import training as tr
from pmq.errors import CalibrationError, InputError, ScenarioError


@pytest.fixture(scope="module")
def alloc(baseline):
    return tr.calibrate_training(baseline)


def test_margins_match_targets_within_0_1_percent(baseline, alloc):
    ent = alloc.entrants
    rows = baseline["published_young_entrants"]
    rel = abs(ent.sum("formation") - rows) / rows.where(rows > 0)
    assert float(rel.max()) < 1e-3
    # formation margin: employed leavers × 11 years × the reported rescale factor
    lv = tr.default_leavers()
    target = lv * 11 * alloc.report["rescale_factor"]
    got = ent.sum(["territory", "metier"])
    np.testing.assert_allclose(got.values, target.values, rtol=1e-3)
    assert alloc.report["converged"] and alloc.report["max_rel_error_rows"] < 1e-6


def test_default_margins_are_rescaled_and_the_factor_reported(baseline, alloc):
    r = alloc.report
    # 746 000 leavers × Insee shares × employment rates ≈ 543.6 k a year, × 11 years
    assert r["supply_total"] == pytest.approx(746000 * 11 * (0.10 * 0.328 + 0.09 * 0.668 + 0.29 * 0.668
                                                            + 0.11 * 0.85 + 0.41 * 0.85), rel=1e-9)
    assert r["target_total"] == pytest.approx(float(baseline["published_young_entrants"].sum()))
    assert r["rescale_factor"] == pytest.approx(r["target_total"] / r["supply_total"])
    assert 1.1 < r["rescale_factor"] < 1.25
    assert "facteur d'ajustement" in alloc.summary()


def test_starting_matrix_is_observed_not_uniform(alloc):
    """A uniform start would give every métier the national formation mix."""
    mix = alloc.entrants.sum("territory")
    mix = mix / mix.sum("formation")
    nat = alloc.entrants.sum(["territory", "metier"]) / alloc.entrants.sum()
    # Teachers and nurses are recruited at bac+3 or more, far above the national share
    for m in ("W0Z", "V1Z", "M2Z"):
        assert float(mix.sel(metier=m, formation="bac3p")) > 0.95 > float(nat.sel(formation="bac3p"))
    assert float(mix.sel(metier="S0Z", formation="bac3p")) < 0.2
    assert tr.default_seed().attrs["source"].startswith("DARES")


def test_seed_groups_fap87_families():
    seed = tr.default_seed()
    raw = pd.read_csv(pmq.data.data_path("raw", "dares_under30_fap87_x_diploma_2017_2019.csv")).set_index("Fap")
    col = "CAP, BEP ou autre diplôme équivalent"
    assert float(seed.sel(metier="F0A", formation="cap_bep")) == pytest.approx(
        1000 * (raw.loc["F0Z", col] + raw.loc["F1Z", col]))


def test_user_margins_inconsistent_totals_fail(baseline):
    lv = pd.DataFrame({"formation": ["bac", "bac2"], "leavers": [100000.0, 50000.0],
                       "employment_rate": [0.7, 0.8]})
    with pytest.raises(InputError, match="marges incohérentes") as e:
        tr.calibrate_training(baseline, tr.read_leavers(lv))
    assert "jeunes débutants" in str(e.value) and "leavers" in str(e.value)
    ok = tr.calibrate_training(baseline, tr.read_leavers(lv), rescale=True)
    assert ok.report["rescaled"]
    assert float(ok.entrants.sel(formation="nodip").sum()) == 0.0


def test_user_margins_consistent_within_tolerance_pass(baseline):
    total = float(baseline["published_young_entrants"].sum()) / 11
    lv = pd.DataFrame({"formation": ["cap_bep", "bac", "bac3p"], "leavers": [0.2, 0.3, 0.5]})
    lv["leavers"] = lv["leavers"] * total * 1.005  # 0.5 % off, tolerance 1 %
    a = tr.calibrate_training(baseline, tr.read_leavers(lv))
    assert not a.report["rescaled"]
    got = a.entrants.sum(["territory", "metier"]).sel(formation=["cap_bep", "bac", "bac3p"]).values
    np.testing.assert_allclose(got / got.sum(), [0.2, 0.3, 0.5], rtol=1e-6)


def test_user_margins_by_territory_name_the_territories(baseline):
    yt = baseline["published_young_entrants"].sum("metier").to_series() / 11
    rows = [{"territory": t, "formation": f, "leavers": v * s}
            for t, v in yt.items() for f, s in (("bac", 0.5), ("bac3p", 0.5))]
    df = pd.DataFrame(rows)
    df.loc[df.territory == "53", "leavers"] *= 1.2  # Bretagne 20 % too many
    with pytest.raises(InputError, match="marges incohérentes") as e:
        tr.calibrate_training(baseline, tr.read_leavers(df, territories=list(baseline.territory.values)))
    assert "53" in str(e.value) and "11 " not in str(e.value).split("\n", 1)[1]
    df.loc[df.territory == "53", "leavers"] /= 1.2
    a = tr.calibrate_training(baseline, tr.read_leavers(df))
    by_t = a.entrants.sum("metier").sel(territory="53")
    np.testing.assert_allclose(float(by_t.sel(formation="bac")), float(yt["53"]) * 11 * 0.5, rtol=1e-6)


def test_row_without_support_is_named(baseline):
    seed = tr.default_seed(list(baseline.metier.values))
    seed.loc[dict(metier="T0Z")] = 0.0
    with pytest.raises(InputError, match="ligne sans appui") as e:
        tr.calibrate_training(baseline, seed=seed)
    assert "T0Z" in str(e.value)


def test_column_without_support_is_named(baseline):
    seed = tr.default_seed(list(baseline.metier.values))
    seed = xr.concat([seed, seed.isel(formation=[0]).assign_coords(formation=["bts_new"]) * 0],
                     dim="formation")
    lv = tr.default_leavers()
    lv = xr.concat([lv.drop_vars(["leavers", "employment_rate"]),
                    xr.DataArray([1000.0], dims="formation", coords={"formation": ["bts_new"]})], "formation")
    with pytest.raises(InputError, match="colonne sans appui") as e:
        tr.calibrate_training(baseline, lv, seed=seed, rescale=True)
    assert "bts_new" in str(e.value)


def test_unknown_formation_in_leavers(baseline):
    lv = pd.DataFrame({"formation": ["bac", "doctorat_x"], "leavers": [1.0, 2.0]})
    with pytest.raises(InputError, match="absentes de la matrice de départ") as e:
        tr.calibrate_training(baseline, tr.read_leavers(lv), rescale=True)
    assert "doctorat_x" in str(e.value)


@pytest.mark.parametrize("col,val,match", [("leavers", -5.0, "leavers"), ("leavers", np.nan, "leavers"),
                                           ("employment_rate", 1.5, "employment_rate")])
def test_read_leavers_rejects_bad_values(col, val, match):
    df = pd.DataFrame({"formation": ["bac", "bac2"], "leavers": [10.0, 20.0], "employment_rate": [0.5, 0.6]})
    df.loc[1, col] = val
    with pytest.raises(InputError) as e:
        tr.read_leavers(df, source="leavers.csv")
    msg = str(e.value)
    assert "leavers.csv" in msg and match in msg and "bac2" in msg


def test_read_leavers_refuses_missing_territory_formation_pairs():
    """A missing (territory, formation) row was silently read as 0 leavers: now it is named."""
    df = pd.DataFrame({"territory": ["11", "11", "53"], "formation": ["bac", "bac3p", "bac"],
                       "leavers": [10.0, 20.0, 5.0]})
    with pytest.raises(InputError, match="sans ligne") as e:
        tr.read_leavers(df, source="sortants.csv")
    msg = str(e.value)
    assert "sortants.csv" in msg and "53" in msg and "bac3p" in msg
    df.loc[len(df)] = ["53", "bac3p", 0.0]                  # an explicit zero is accepted
    da = tr.read_leavers(df, source="sortants.csv")
    assert float(da.sel(territory="53", formation="bac3p")) == 0.0
    assert float(da.sel(territory="11", formation="bac3p")) == 20.0


def test_read_seed_user_specialties(baseline):
    metiers = list(baseline.metier.values)
    df = pd.DataFrame({"formation": ["nsf_221", "nsf_221", "nsf_330"], "metier": ["S0Z", "S1Z", "V0Z"],
                       "value": [30.0, 70.0, 100.0]})
    seed = tr.read_seed(df, metiers)
    assert seed.sel(formation="nsf_221", metier="S1Z") == 70.0
    bad = df.assign(metier=["S0Z", "Q9Z", "V0Z"])
    with pytest.raises(InputError, match="de métier inconnu") as e:
        tr.read_seed(bad, metiers, source="seed.csv")
    assert "Q9Z" in str(e.value) and "seed.csv" in str(e.value)


def test_non_convergence_raises(baseline):
    # Two formations whose métiers are disjoint cannot meet arbitrary formation margins.
    b = baseline.isel(territory=[0], metier=[0, 1])
    b = b.assign(published_young_entrants=b["published_young_entrants"] * 0 + 100.0)
    seed = xr.DataArray([[1.0, 0.0], [0.0, 1.0]], dims=("formation", "metier"),
                        coords={"formation": ["a", "b"], "metier": list(b.metier.values)})
    lv = xr.DataArray([10.0, 30.0], dims="formation", coords={"formation": ["a", "b"]})
    with pytest.raises(CalibrationError, match="n'a pas convergé"):
        tr.calibrate_training(b, lv * 200 / 40 / int(b.attrs["n_period"]), seed=seed, max_iter=50)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(2, 6), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_ipf_property_margins_reached(nf, nm, nt, seed_int):
    rng = np.random.default_rng(seed_int)
    seed = rng.uniform(0.1, 10.0, (nt, nf, nm))
    rows = rng.uniform(1.0, 100.0, (nt, nm))
    cols = rng.dirichlet(np.ones(nf)) * rows.sum()
    x, rep = tr.ipf(seed, [((0, 2), rows), ((1,), cols)], tol=1e-10, max_iter=5000)
    assert rep["converged"]
    np.testing.assert_allclose(x.sum(1), rows, rtol=1e-8)
    np.testing.assert_allclose(x.sum((0, 2)), cols, rtol=1e-8)
    assert (x >= 0).all()
    # IPF keeps the seed's cross-product ratios (odds ratios) in every territory
    t = 0
    r0 = (x[t, 0, 0] * x[t, 1, 1]) / (x[t, 0, 1] * x[t, 1, 0])
    s0 = (seed[t, 0, 0] * seed[t, 1, 1]) / (seed[t, 0, 1] * seed[t, 1, 0])
    assert r0 == pytest.approx(s0, rel=1e-6)


# ------------------------------------------------------------------ scenario levers
SC = """
[scenario]
name = "{name}"
extends = "reference"

[supply]
lag = {lag}
source = "DARES – France Stratégie: young entrants counted about three years after leaving"

[[supply.leavers]]
id = "bts"
level = ["bac2"]
factor = 1.2
from_year = 2022
assumption = "test"
{extra}
"""


def _write(tmp_path, name="s", lag=3, extra=""):
    p = tmp_path / f"{name}.toml"
    p.write_text(SC.format(name=name, lag=lag, extra=extra), encoding="utf-8")
    return p


def test_leaver_lever_acts_after_the_lag(tmp_path, baseline, reference_2030, alloc):
    p = pmq.project(baseline, _write(tmp_path), horizon=11)
    d = (p.accounts.young_entrants - reference_2030.accounts.young_entrants).sum(["territory", "metier", "age"])
    d = d.sel(year=slice(2019, 2029)).to_series()
    assert (d.loc[:2024].abs() < 1e-6).all()          # leavers of 2022 arrive in 2025
    assert (d.loc[2025:] > 0).all()
    # + 20 % of the bac+2 share of each cell's entrants
    y = reference_2030.accounts.young_entrants.sum("age").sel(year=2025)
    expected = float((y * alloc.share_formation.sel(formation="bac2") * 0.2).sum())
    assert float(d.loc[2025]) == pytest.approx(expected, rel=1e-9)
    # supply levers move supply only: employment path unchanged
    np.testing.assert_allclose(p.accounts.employment.sum("age"), reference_2030.accounts.employment.sum("age"),
                               rtol=1e-12)
    assert p.scenario.supply_lag == 3


def test_lag_is_a_parameter(tmp_path, baseline, reference_2030):
    p = pmq.project(baseline, _write(tmp_path, "lag0", lag=0), horizon=11)
    d = (p.accounts.young_entrants - reference_2030.accounts.young_entrants).sum(["territory", "metier", "age"])
    assert float(d.sel(year=2021)) == pytest.approx(0.0, abs=1e-6)
    assert float(d.sel(year=2022)) > 0


def test_matrix_lever_moves_entrants_between_metiers(tmp_path, baseline, reference_2030):
    extra = """
[[supply.matrix]]
id = "info"
level = ["bac3p"]
metier = ["M2Z"]
factor = 1.5
assumption = "test"
"""
    p = pmq.project(baseline, _write(tmp_path, "mx", extra=extra), horizon=11)
    d = (p.accounts.young_entrants - reference_2030.accounts.young_entrants).sum(["territory", "age", "year"])
    assert float(d.sel(metier="M2Z")) > 50_000
    assert float(d.sel(metier="W0Z")) < 0  # other bac+3 métiers give way


def test_unknown_level_in_lever_is_named(tmp_path, baseline):
    p = tmp_path / "bad.toml"
    p.write_text(SC.format(name="bad", lag=3, extra="").replace('["bac2"]', '["bac9"]'), encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        pmq.project(baseline, p, horizon=11)      # the lever within the run: no warning of an idle one
    assert "supply.leavers[bts].level" in str(e.value) and "bac9" in str(e.value)


def test_supply_section_needs_a_source(tmp_path, baseline):
    p = tmp_path / "nosrc.toml"
    p.write_text('[scenario]\nname = "x"\n[supply]\nlag = 2\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="source"):
        pmq.read_scenario(p)


def test_no_levers_means_factor_one(baseline, alloc):
    from pmq.scenario.levers import Context
    ctx = Context.from_baseline(baseline)
    y = np.ones((5, baseline.sizes["territory"], baseline.sizes["metier"]))
    f = tr.supply_factors(y, alloc, (), (), ctx, 5)
    np.testing.assert_allclose(f, 1.0, rtol=1e-12)
