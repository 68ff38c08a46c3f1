"""Imbalance indicators, typology presets (DARES, COPS, ROA) and the watch list."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmq.analysis import imbalance as im
from pmq.inputs import training as tr
from pmq.errors import InputError

DARES = im.PRESETS["dares"].labels_fr


@pytest.fixture(scope="module")
def table(reference_2030):
    return im.imbalance_table(reference_2030)


@pytest.fixture(scope="module")
def national(table):
    fr = table[table.territory == "FR"].set_index("metier").copy()
    fr["dares"] = im.classify(fr, "dares")
    return fr


# ------------------------------------------------------------------ identities
@settings(max_examples=15, deadline=None)
@given(st.integers(2019, 2037), st.integers(1, 20))
def test_imbalance_identity_every_cell_and_window(reference_20, start, length):
    end = min(start + length, 2039)
    if end <= start:
        return
    t = im.imbalance_table(reference_20, start_year=start, end_year=end)
    lhs = t["imbalance"]
    rhs = t["openings"] - t["young_entrants"] - t["net_mobility"]
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(t["openings"], t["net_creation"] + t["departures"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(t["net_creation"], t["employment_end"] - t["employment_start"], rtol=1e-9,
                               atol=1e-6)
    assert t["period"].iloc[0] == f"{start}–{end}"


def test_national_row_is_the_sum_of_regions(table):
    reg = table[table.territory != "FR"].groupby("metier")[["openings", "imbalance", "young_entrants"]].sum()
    fr = table[table.territory == "FR"].set_index("metier")[["openings", "imbalance", "young_entrants"]]
    pd.testing.assert_frame_equal(reg.sort_index(), fr.sort_index(), rtol=1e-12)
    assert abs(float(fr["imbalance"].sum()) / 1e3 - 1333) < 1  # published ≈ 1.33 M


def test_ratio_to_openings_is_nan_and_flagged_when_openings_nonpositive(table):
    neg = table[table["openings"] <= 0]
    assert len(neg) >= 4  # L1Z, A3Z, Q1Z in Île-de-France; C0Z in Normandie
    assert neg["imbalance_pct_openings"].isna().all() and neg["supply_demand_ratio"].isna().all()
    assert neg["openings_nonpositive"].all()
    assert not table.loc[table["openings"] > 0, "openings_nonpositive"].any()
    num = table.select_dtypes("number")
    assert np.isfinite(num.fillna(0).to_numpy()).all()


def test_pct_is_divided_by_base_year_employment(table, baseline):
    row = table[(table.territory == "53") & (table.metier == "B2Z")].iloc[0]
    e2019 = float(baseline["employment"].sel(territory="53", metier="B2Z").sum())
    assert row["employment_base"] == pytest.approx(e2019)
    assert row["imbalance_pct"] == pytest.approx(row["imbalance"] / e2019)


def test_denominator_and_window_are_parameters(reference_20):
    t = im.imbalance_table(reference_20, start_year=2025, end_year=2035, denominator_year=2019, national=False)
    assert (t["period"] == "2025–2035").all() and (t["n_years"] == 10).all()
    np.testing.assert_allclose(t["imbalance_pct"], t["imbalance"] / t["employment_base"])
    assert not np.allclose(t["employment_base"], t["employment_start"])
    with pytest.raises(InputError, match="hors de la projection"):
        im.imbalance_table(reference_20, end_year=2050)
    with pytest.raises(InputError, match="doit suivre start_year"):
        im.imbalance_table(reference_20, start_year=2030, end_year=2025)


# ------------------------------------------------------------------ DARES typology
@pytest.mark.parametrize("metier,cls", [
    ("B2Z", "accentuer"), ("T0Z", "reduire"), ("S0Z", "maintenir"), ("F0A", "nouvelles"),
    ("S2Z", "reduire"), ("Q1Z", "reduire"), ("L1Z", "reduire"),
])
def test_dares_published_examples_national(national, metier, cls):
    assert national.loc[metier, "dares"] == DARES[cls]


def test_dares_hors_champ_and_residual(national):
    assert national.loc["W0Z", "dares"] == DARES["hors_champ"]   # enseignants: no tension measure
    assert national.loc["P0Z", "dares"] == DARES["hors_champ"]
    assert national.loc["R1Z", "dares"] == DARES["residuel"]     # vendeurs: medium tension, gap < 0
    assert set(national["dares"]) <= set(DARES.values())


def test_dares_rule_reproduces_published_regional_shares(reference_2030):
    """The thresholds come from the published shares of employment « s'accentuer » (regional report):
    Bretagne 42 %, Pays de la Loire 35 %, Île-de-France 11 %, national average 25.2 %."""
    t = im.imbalance_table(reference_2030, national=False)
    t["c"] = im.classify(t, "dares")
    t["e"] = t["employment_base"] * (t["c"] == DARES["accentuer"])
    g = t.groupby("territory")[["e", "employment_base"]].sum()
    share = 100 * g["e"] / g["employment_base"]
    assert share["53"] == pytest.approx(42, abs=1.5)
    assert share["52"] == pytest.approx(35, abs=1.5)
    assert share["11"] == pytest.approx(11, abs=1.5)
    assert share.drop("94").mean() == pytest.approx(25.2, abs=1.0)


def test_national_dares_indicator_contradicts_two_examples(reference_2030):
    """Documented: with the national DARES-Pôle emploi indicator F0A would be « s'accentuer » and
    L1Z (level 3) residual — so the default is the mean of the regional levels."""
    t = im.imbalance_table(reference_2030, national_tension_method="dares_national")
    fr = t[t.territory == "FR"].set_index("metier")
    c = im.classify(fr, "dares")
    assert c["F0A"] == DARES["accentuer"] and c["L1Z"] == DARES["residuel"]
    assert c["B2Z"] == DARES["accentuer"] and c["T0Z"] == DARES["reduire"]
    assert fr.loc["F0A", "tension"] == 5.0 and fr.loc["L1Z", "tension"] == 3.0


def test_dares_thresholds_are_parameters(national):
    strict = im.classify(national, "dares", gap_threshold=0.0)
    assert strict["S0Z"] == DARES["reduire"]  # −0.5 % is a reduction with no tolerance band
    assert im.PRESETS["dares"].params["high_tension"] == 3.5
    with pytest.raises(InputError, match=r"paramètre\(s\) inconnu\(s\) de la typologie 'dares'"):
        im.classify(national, "dares", gap_treshold=0.1)
    with pytest.raises(InputError, match="typologie inconnue"):
        im.classify(national, "oecd")


def test_dares_threshold_scales_with_window(reference_20):
    t = im.imbalance_table(reference_20, horizon=20)
    t1 = t[t.territory == "FR"].set_index("metier")
    a = im.classify(t1, "dares")
    b = im.classify(t1, "dares", scale_with_period=False)
    assert (a != b).any()  # a 20-year gap is read against a 20/11 larger band


# ------------------------------------------------------------------ COPS and ROA
def _synthetic(openings, supply, tension):
    return pd.DataFrame({"openings": openings, "supply": supply, "tension": tension,
                         "supply_demand_ratio": np.array(supply) / np.array(openings),
                         "hors_champ": False, "n_years": 10})


def test_cops_recent_conditions_adjust_projection():
    t = _synthetic([100, 100, 100, 100, 100, 100], [80, 120, 80, 120, 100, 80], [5, 5, 1, 1, 3, np.nan])
    c = im.classify(t, "cops", lang="en").tolist()
    assert c == ["Shortage", "Balance", "Balance", "Surplus", "Balance", "Shortage"]
    raw = im.classify(t, "cops", lang="en", use_recent=False).tolist()
    assert raw == ["Shortage", "Surplus", "Shortage", "Surplus", "Balance", "Shortage"]


@pytest.mark.parametrize("ratio,code", [(0.5, "very_good"), (0.85, "very_good"), (0.9, "good"), (1.0, "good"),
                                        (1.03, "fair"), (1.05, "fair"), (1.1, "moderate"), (1.15, "moderate"),
                                        (1.2, "poor")])
def test_roa_bands(ratio, code):
    t = _synthetic([100.0], [100.0 * ratio], [3])
    assert im.classify(t, "roa", lang="en").iloc[0] == im.PRESETS["roa"].labels_en[code]


def test_roa_reads_opposite_to_dares(national):
    """A positive DARES gap (too few entrants) is a ratio below 1 (good prospects for job seekers)."""
    roa = im.classify(national, "roa", lang="en")
    assert roa["B2Z"] == "Very good prospects" and roa["R1Z"] == "Poor prospects"


def test_roa_by_level_sums(reference_2030, baseline):
    alloc = tr.calibrate_training(baseline)
    r = im.roa_by_level(reference_2030, alloc)
    fr = r[r.territory == "FR"].set_index("formation")
    yt = float(reference_2030.accounts.young_entrants.sel(year=slice(2019, 2029)).sum())
    op = reference_2030.accounts.openings.sel(year=slice(2019, 2029)).sum("year").clip(min=0)
    assert float(fr["supply"].sum()) == pytest.approx(yt, rel=1e-9)
    assert float(fr["demand"].sum()) == pytest.approx(float(op.sum()), rel=1e-9)
    assert set(fr.index) == {"nodip", "cap_bep", "bac", "bac2", "bac3p"}
    assert fr["class"].notna().all()


# ------------------------------------------------------------------ watch list
def test_watch_list_ranked_per_territory(table):
    w = im.watch_list(table, n=5)
    assert set(w["territory"]) == set(table["territory"])
    assert (w.groupby("territory").size() <= 5).all()
    assert set(w["class"]) <= {DARES["accentuer"], DARES["nouvelles"]}
    for _, g in w.groupby("territory"):
        assert list(g["rank"]) == list(range(1, len(g) + 1))
        assert g["imbalance_pct"].is_monotonic_decreasing
    with pytest.raises(InputError, match=r"code\(s\) de classe inconnu"):
        im.watch_list(table, classes=("shortage",))


# ------------------------------------------------------------------ CLI
def test_cli_imbalance_writes_tables_matching_the_api(tmp_path, capsys, reference_2030):
    from pmq.cli import main
    out = tmp_path / "out"
    rc = main(["imbalance", "reference", "--horizon", "11", "--territory", "Bretagne", "--territory", "FR",
               "--top", "5", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Bretagne (53)" in text and "France métropolitaine (FR)" in text
    t = pd.read_csv(out / "imbalance.csv", dtype={"territory": str})
    assert set(t["territory"]) == {"53", "FR"}
    api = im.imbalance_table(reference_2030).set_index(["territory", "metier"])
    got = t.set_index(["territory", "metier"])
    # persons to 3 decimals in the CSV: within 5e-4 of the table (tests/test_tables_consistency.py)
    np.testing.assert_allclose(got["imbalance"], api.loc[got.index, "imbalance"], rtol=0, atol=5e-4)
    assert got.loc[("FR", "B2Z"), "class_dares"] == DARES["accentuer"]
    w = pd.read_csv(out / "watch_list.csv", dtype={"territory": str})
    assert (w.groupby("territory").size() == 5).all()


def test_cli_imbalance_bad_scenario_writes_nothing(tmp_path, capsys):
    from pmq.cli import main
    out = tmp_path / "out"
    rc = main(["imbalance", "no_such_scenario", "--out", str(out)])
    assert rc == 2
    assert "no_such_scenario" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_gap_after_occupational_mobility_beside_the_dares_gap(reference_2030):
    from pmq.analysis import occupational as transitions
    rates = transitions.read_transitions(transitions.template_path(), reference_2030.accounts)
    occ = transitions.occupational_mobility(reference_2030, rates)
    t = im.imbalance_table(reference_2030, occupational=occ)
    base = im.imbalance_table(reference_2030)
    np.testing.assert_allclose(t["imbalance"], base["imbalance"])  # the DARES gap is unchanged
    np.testing.assert_allclose(t["gap_after_mobility"], t["imbalance"] - t["net_occupational_mobility"],
                               rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(t["supply"], base["supply"] + t["net_occupational_mobility"], rtol=1e-12,
                               atol=1e-6)
    moved = t.set_index(["territory", "metier"]).loc["FR", "net_occupational_mobility"]
    assert moved["V1Z"] > 0  # the template moves aides-soignants to infirmiers
    assert abs(float(t.loc[t.territory == "FR", "net_occupational_mobility"].sum())) < 1e-6 * float(
        t.loc[t.territory == "FR", "employment_base"].sum())
