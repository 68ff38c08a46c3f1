"""Tests of meaning for the analysis outputs: every number is recomputed by hand from the accounts.

* ``imbalance_table`` cell by cell (territory × métier) on regions with non-zero net mobility:
  supply = young entrants + net mobility, openings = change of employment + departures,
  imbalance, the ratios, and the DARES / COPS / ROA classes from their documented thresholds
  (``docs/imbalance.md``), re-implemented here; cells where the mobility term decides the class.
* The ensemble's window imbalance, from the stored draws.
* ``summary.csv``'s ``departures_rate`` and ``imbalance_rate`` (``pmq run``), from ``accounts.nc``.
* ``pmq.testing.assert_accounts``'s departures = stock × hazard check.
"""
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pmq
from pmq.analysis import imbalance as im
from pmq.model.ages import AGES
from pmq.testing import assert_accounts, assert_projection, projection_hazard
from conftest import make_baseline

# ------------------------------------------------------------------ documented parameters
# docs/imbalance.md, « Typology presets » (rows whose gap or ratio is undefined: « non classé »)
DARES_HIGH_TENSION = 3.5          # level 4 or 5 after rounding
DARES_THETA = 0.115               # gap threshold for an 11-year window, scaled with the window
DARES_REFERENCE_YEARS = 11
COPS_THRESHOLD = 0.05             # 5 % of openings
COPS_RECENT_SHORTAGE = 4
COPS_RECENT_SURPLUS = 2
ROA_BANDS = (0.85, 1.00, 1.05, 1.15)


def dares_class(tension, hors_champ, gap, n_years):
    if hors_champ or math.isnan(tension):
        return "hors_champ"
    if math.isnan(gap):                                     # no employment in the denominator year
        return "non_classe"
    theta = DARES_THETA * n_years / DARES_REFERENCE_YEARS
    if tension >= DARES_HIGH_TENSION:
        return "accentuer" if gap > theta else "reduire" if gap < -theta else "maintenir"
    return "nouvelles" if gap > theta else "residuel"


def cops_class(openings, supply, tension):
    if openings > 0:
        pressure = (openings - supply) / openings          # job seekers = supply
        projected = ("shortage" if pressure > COPS_THRESHOLD else
                     "surplus" if pressure < -COPS_THRESHOLD else "balance")
    elif openings < 0 or supply > 0:
        projected = "surplus"                               # no demand for new workers
    else:
        return "non_classe"                                 # an empty cell: recent conditions alone do not class it
    if math.isnan(tension):
        return projected                                    # no recent assessment
    if tension >= COPS_RECENT_SHORTAGE:                     # recent shortage
        return "balance" if projected == "surplus" else "shortage"
    if tension <= COPS_RECENT_SURPLUS:                      # recent surplus
        return "balance" if projected == "shortage" else "surplus"
    return projected


def roa_class(ratio):
    if math.isnan(ratio):                                   # openings ≤ 0
        return "non_classe"
    for bound, code in zip(ROA_BANDS, ("very_good", "good", "fair", "moderate")):
        if ratio <= bound:
            return code
    return "poor"


def hand_classes(t: pd.DataFrame, supply=None, gap=None) -> pd.DataFrame:
    """Classes of the rows of a hand-made table (``supply`` / ``gap`` columns may be replaced)."""
    supply = t["supply"] if supply is None else supply
    gap = t["imbalance_pct"] if gap is None else gap
    ratio = np.where(t["openings"] > 0, supply / t["openings"].where(t["openings"] > 0), np.nan)
    return pd.DataFrame({
        "dares": [dares_class(tn, hc, g, n) for tn, hc, g, n in
                  zip(t["tension"], t["hors_champ"], gap, t["n_years"])],
        "cops": [cops_class(o, s, tn) for o, s, tn in zip(t["openings"], supply, t["tension"])],
        "roa": [roa_class(r) for r in ratio]}, index=t.index)


def pmq_codes(table: pd.DataFrame, preset: str) -> pd.Series:
    """pmq's class codes (its English labels mapped back to the preset's codes)."""
    back = {v: k for k, v in im.PRESETS[preset].labels_en.items()}
    return im.classify(table, preset, lang="en").map(back)


def hand_table(acc: xr.Dataset, baseline: xr.Dataset, start: int, end: int, den: int | None = None,
               national: bool = True) -> pd.DataFrame:
    """imbalance_table recomputed with numpy from the age-resolved accounts, indexed by
    (territory, metier); openings from the change of the stock, not from net_creation."""
    den = start if den is None else den
    years = acc.year.values
    w = (years >= start) & (years < end)

    def flow(k):  # Σ over the window's years and over age, (territory, metier)
        return acc[k].transpose("year", "territory", "metier", "age").values[w].sum(axis=(0, 3))

    emp = acc["employment"].transpose("year", "territory", "metier", "age").values.sum(-1)
    yi = {int(y): i for i, y in enumerate(years)}
    E0, E1, Eden = emp[yi[start]], emp[yi[end]], emp[yi[den]]
    Y, M, D = flow("young_entrants"), flow("net_mobility"), flow("departures")
    tension = baseline["tension"].transpose("territory", "metier").values.astype(float)
    hors = baseline["hors_champ"].transpose("territory", "metier").values.astype(bool) | np.isnan(tension)
    terr = [str(t) for t in acc.territory.values]
    if national:
        E0b = baseline["employment"].sum("age").transpose("territory", "metier").values
        has = ~np.isnan(tension)
        wsum = np.where(has, E0b, 0.0).sum(0)
        with warnings.catch_warnings():                     # nanmean of an all-NaN column
            warnings.simplefilter("ignore", RuntimeWarning)
            plain = np.nanmean(tension, 0)                  # no employment where there are levels
        nat_t = np.where(wsum > 0, np.nansum(np.where(has, tension * E0b, 0.0), 0) / np.where(wsum > 0, wsum, 1),
                         plain)
        stack = lambda a, nat: np.concatenate([a, nat[None]], 0)  # noqa: E731
        E0, E1, Eden, Y, M, D = (stack(a, a.sum(0)) for a in (E0, E1, Eden, Y, M, D))
        tension, hors = stack(tension, nat_t), stack(hors, np.isnan(nat_t))
        terr = terr + ["FR"]
    idx = pd.MultiIndex.from_product([terr, [str(m) for m in acc.metier.values]], names=["territory", "metier"])
    t = pd.DataFrame({"employment_base": Eden.ravel(), "employment_start": E0.ravel(),
                      "employment_end": E1.ravel(), "young_entrants": Y.ravel(), "net_mobility": M.ravel(),
                      "departures": D.ravel(), "tension": tension.ravel(), "hors_champ": hors.ravel()}, index=idx)
    t["openings"] = (t["employment_end"] - t["employment_start"]) + t["departures"]
    t["supply"] = t["young_entrants"] + t["net_mobility"]
    t["imbalance"] = t["openings"] - t["supply"]
    t["imbalance_pct"] = t["imbalance"] / t["employment_base"]
    pos = t["openings"] > 0
    t["supply_demand_ratio"] = np.where(pos, t["supply"] / t["openings"].where(pos), np.nan)
    t["openings_nonpositive"] = ~pos
    t["n_years"] = end - start
    return t


COLUMNS = ("employment_base", "young_entrants", "net_mobility", "supply", "departures", "openings",
           "imbalance", "imbalance_pct", "supply_demand_ratio")


def compare_tables(table: pd.DataFrame, hand: pd.DataFrame) -> pd.DataFrame:
    """Assert pmq's table equals the hand-made one in every row and column; returns pmq's table
    indexed like ``hand``."""
    got = table.set_index(["territory", "metier"]).loc[hand.index]
    assert len(table) == len(hand)
    scale = float(hand["openings"].abs().max())
    for c in COLUMNS:
        atol = 1e-12 if c in ("imbalance_pct", "supply_demand_ratio") else 1e-9 * scale
        np.testing.assert_allclose(got[c].to_numpy(float), hand[c].to_numpy(float), rtol=1e-9, atol=atol,
                                   err_msg=c)
    np.testing.assert_array_equal(got["openings_nonpositive"].to_numpy(), hand["openings_nonpositive"].to_numpy())
    np.testing.assert_array_equal(got["hors_champ"].to_numpy(), hand["hors_champ"].to_numpy())
    np.testing.assert_allclose(got["tension"].to_numpy(float), hand["tension"].to_numpy(float), rtol=1e-12)
    return got


def compare_classes(got: pd.DataFrame, hand: pd.DataFrame) -> None:
    cls = hand_classes(hand)
    g = got.reset_index()
    for preset in ("dares", "cops", "roa"):
        mine = pmq_codes(g, preset).to_numpy()
        bad = np.flatnonzero(mine != cls[preset].to_numpy())
        assert bad.size == 0, (f"{preset}: {bad.size} rows differ from the documented rule, e.g. "
                               f"{hand.index[bad[0]]}: pmq {mine[bad[0]]!r}, rule {cls[preset].iloc[bad[0]]!r}")


# ------------------------------------------------------------------ the shipped baseline
@pytest.fixture(scope="module")
def ref_table(reference_2030):
    return im.imbalance_table(reference_2030)


@pytest.fixture(scope="module")
def ref_hand(reference_2030):
    return hand_table(reference_2030.accounts, reference_2030.baseline, 2019, 2030)


def test_documented_typology_parameters():
    assert im.PRESETS["dares"].params == {"high_tension": DARES_HIGH_TENSION, "gap_threshold": DARES_THETA,
                                          "reference_years": DARES_REFERENCE_YEARS, "scale_with_period": True,
                                          "gap": "imbalance_pct"}
    assert im.PRESETS["cops"].params == {"threshold": COPS_THRESHOLD, "recent_shortage": COPS_RECENT_SHORTAGE,
                                         "recent_surplus": COPS_RECENT_SURPLUS, "use_recent": True}
    assert tuple(im.PRESETS["roa"].params["bands"]) == ROA_BANDS


def test_reference_cells_recomputed_from_the_accounts(ref_table, ref_hand, reference_2030):
    regional = ref_hand.drop(index="FR", level="territory")
    # the regions exchange workers: mobility is a real part of the supply almost everywhere
    assert (regional["net_mobility"].abs() > 1.0).mean() > 0.9
    assert (regional["net_mobility"].abs() / regional["young_entrants"] > 0.05).sum() > 200
    compare_tables(ref_table, ref_hand)
    # the accounts' net_creation agrees with the change of the stock the hand table uses
    acc = reference_2030.accounts
    nc = acc["net_creation"].sel(year=slice(2019, 2029)).sum("year").transpose("territory", "metier").values
    np.testing.assert_allclose(nc.ravel(), (regional["employment_end"] - regional["employment_start"]).to_numpy(),
                               rtol=1e-9, atol=1e-6)


def test_reference_france_row_sums_the_regions(ref_hand):
    fr = ref_hand.xs("FR", level="territory")
    reg = ref_hand.drop(index="FR", level="territory").groupby(level="metier").sum()
    np.testing.assert_allclose(fr["supply"], reg["supply"].loc[fr.index], rtol=1e-12)
    # net mobility cancels nationally: the French supply is its young entrants
    np.testing.assert_allclose(fr["supply"], fr["young_entrants"], rtol=1e-9)


def test_reference_classes_follow_the_documented_rules(ref_table, ref_hand):
    got = compare_tables(ref_table, ref_hand)
    compare_classes(got, ref_hand)


# Cells of the shipped reference run (2019–2030) where the mobility term decides the class:
# (territory, métier, typology, class with mobility, class without it).
MOBILITY_DECIDES = [
    ("11", "A0Z", "cops", "shortage", "balance"),       # Île-de-France, agriculteurs: net outflow −921
    ("11", "A0Z", "roa", "very_good", "moderate"),
    ("11", "A1Z", "cops", "balance", "surplus"),
    ("11", "B7Z", "dares", "accentuer", "maintenir"),   # net outflow −3 375 deepens the gap past +θ
    ("24", "B7Z", "dares", "reduire", "maintenir"),     # Centre-Val de Loire: net inflow +348
    ("27", "A0Z", "dares", "residuel", "nouvelles"),    # Bourgogne-Franche-Comté: inflow +188
]


def test_mobility_decides_the_class_of_named_cells(ref_table, ref_hand):
    got = compare_tables(ref_table, ref_hand).reset_index()
    with_m = hand_classes(ref_hand)
    no_gap = (ref_hand["openings"] - ref_hand["young_entrants"]) / ref_hand["employment_base"]
    without_m = hand_classes(ref_hand, supply=ref_hand["young_entrants"], gap=no_gap)
    codes = {p: pmq_codes(got, p).set_axis(ref_hand.index) for p in ("dares", "cops", "roa")}
    for terr, met, preset, cls, cls_no_mobility in MOBILITY_DECIDES:
        cell = (terr, met)
        assert ref_hand.loc[cell, "net_mobility"] != 0
        assert with_m.loc[cell, preset] == cls, (cell, preset)
        assert without_m.loc[cell, preset] == cls_no_mobility, (cell, preset)
        assert codes[preset].loc[cell] == cls, f"{cell} {preset}: pmq says {codes[preset].loc[cell]!r}"
    # and not a handful of cells: the mobility term decides dozens of classes
    reg = ref_hand.index.get_level_values("territory") != "FR"
    for preset in ("dares", "cops", "roa"):
        assert (with_m[preset] != without_m[preset])[reg].sum() >= 30, preset


def test_sub_window_and_denominator_year(reference_2030):
    """A window that starts after the base year, with the DARES 2019 denominator: flows of
    2021 ≤ year < 2027 only, gaps ÷ 2019 employment, the DARES threshold scaled to 6 years."""
    table = im.imbalance_table(reference_2030, start_year=2021, end_year=2027, denominator_year=2019)
    hand = hand_table(reference_2030.accounts, reference_2030.baseline, 2021, 2027, den=2019)
    assert (table["n_years"] == 6).all() and (table["denominator_year"] == 2019).all()
    got = compare_tables(table, hand)
    compare_classes(got, hand)


# ------------------------------------------------------------------ a synthetic baseline
# 3 regions × 2 métiers, flat pyramids of 1 000 (ages 15–73), hazard 2 %/year, net creation
# +100 each over 2019–2030.  Mobility sums to zero per métier.  Openings ≈ 478 in every cell.
SYN_Y = np.array([[320.0, 520.0], [580.0, 300.0], [200.0, 200.0]])
SYN_M = np.array([[150.0, -100.0], [-150.0, 100.0], [0.0, 0.0]])
SYN_TENSION = np.array([[4.0, 2.0], [3.0, 5.0], [np.nan, 3.0]])
# (territory, métier): {typology: (class with mobility, class without)}, derived by hand from
# openings ≈ 478 and employment 1 000
SYN_EXPECTED = {
    ("T0", "M0"): {"dares": ("maintenir", "accentuer"), "roa": ("good", "very_good")},    # gap +0.01 | +0.16
    ("T0", "M1"): {"cops": ("balance", "surplus"), "roa": ("good", "moderate")},         # recent surplus
    ("T1", "M0"): {"cops": ("shortage", "surplus"), "roa": ("good", "poor")},            # no recent class
    ("T1", "M1"): {"dares": ("maintenir", "accentuer")},
}


@pytest.fixture(scope="module")
def synthetic():
    na = len(AGES)
    E = np.zeros((3, 2, na))
    E[..., :-1] = 1000.0 / (na - 1)
    h = np.full((2, na), 0.02)
    h[:, -1] = 1.0
    b = make_baseline(E, h, np.full((3, 2), 100.0), SYN_Y, SYN_M)
    b = b.assign_coords(territory_name=("territory", ["Un", "Deux", "Trois"]))
    b["tension"] = (("territory", "metier"), SYN_TENSION)
    b["hors_champ"] = b["tension"].isnull()
    return pmq.project(b, "reference", horizon=11)


def test_synthetic_cells_by_hand(synthetic):
    table = im.imbalance_table(synthetic)
    hand = hand_table(synthetic.accounts, synthetic.baseline, 2019, 2030)
    got = compare_tables(table, hand)
    reg = hand.drop(index="FR", level="territory")
    # over the published period the window sums are the published totals, exactly
    np.testing.assert_allclose(reg["young_entrants"].to_numpy().reshape(3, 2), SYN_Y, rtol=1e-12)
    np.testing.assert_allclose(reg["net_mobility"].to_numpy().reshape(3, 2), SYN_M, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(got.drop(index="FR", level="territory")["supply"].to_numpy().reshape(3, 2),
                               SYN_Y + SYN_M, rtol=1e-12)
    # departures = Σ_years Σ_ages stock × hazard, with the baseline's hazard
    acc = synthetic.accounts
    dep = (acc["employment"] * synthetic.baseline["hazard"]).sel(year=slice(2019, 2029)).sum(["year", "age"])
    np.testing.assert_allclose(reg["departures"].to_numpy(), dep.transpose("territory", "metier").values.ravel(),
                               rtol=1e-12)
    np.testing.assert_allclose(reg["openings"].to_numpy(), 100.0 + reg["departures"].to_numpy(), rtol=1e-12)
    compare_classes(got, hand)
    with_m = hand_classes(hand)
    no_gap = (hand["openings"] - hand["young_entrants"]) / hand["employment_base"]
    without_m = hand_classes(hand, supply=hand["young_entrants"], gap=no_gap)
    codes = {p: pmq_codes(got.reset_index(), p).set_axis(hand.index) for p in ("dares", "cops", "roa")}
    for cell, exp in SYN_EXPECTED.items():
        for preset, (cls, cls_no_mobility) in exp.items():
            assert codes[preset].loc[cell] == cls == with_m.loc[cell, preset], (cell, preset)
            assert without_m.loc[cell, preset] == cls_no_mobility, (cell, preset)
    assert codes["dares"].loc[("T2", "M0")] == "hors_champ"


def test_france_row_without_territory_names():
    """A baseline built from arrays, without territory names, still gets its France row (this
    raised « coordinate 'territory_name' not present in all datasets » before the fix in
    pmq/analysis/imbalance.py)."""
    na = len(AGES)
    E = np.full((2, 1, na), 10.0)
    h = np.full((1, na), 0.02)
    h[:, -1] = 1.0
    b = make_baseline(E, h, np.full((2, 1), 10.0), np.full((2, 1), 50.0), np.array([[5.0], [-5.0]]))
    b["tension"] = (("territory", "metier"), np.array([[4.0], [2.0]]))
    b["hors_champ"] = b["tension"].isnull()
    proj = pmq.project(b, "reference", horizon=11)
    table = im.imbalance_table(proj)
    assert list(table["territory"]) == ["T0", "T1", "FR"]
    compare_classes(compare_tables(table, hand_table(proj.accounts, proj.baseline, 2019, 2030)),
                    hand_table(proj.accounts, proj.baseline, 2019, 2030))


# ------------------------------------------------------------------ the ensemble
@pytest.fixture(scope="module")
def ensemble(baseline):
    from pmq.projection.ensemble import run_ensemble
    return run_ensemble("reference_incertain", baseline, draws=4, chunk=2, horizon=11)


def hand_window(flows: xr.Dataset, start: int, end: int, by: str) -> dict:
    """Per draw: window sums and imbalance from the stored float32 draws, in float64 numpy."""
    years = flows.year.values
    w = (years >= start) & (years < end)
    axes = {"national": (2, 3), "territory": (3,), "cell": ()}[by]

    def arr(k):
        return flows[k].transpose("draw", "year", "territory", "metier").values.astype(np.float64)

    def flow(k):
        a = arr(k)[:, w].sum(1)
        return a.sum(tuple(x - 1 for x in axes)) if axes else a

    emp = arr("employment")
    emp = emp.sum(axes) if axes else emp
    yi = {int(y): i for i, y in enumerate(years)}
    out = {k: flow(k) for k in ("net_creation", "departures", "young_entrants", "net_mobility")}
    out["employment_start"], out["employment_end"] = emp[:, yi[start]], emp[:, yi[end]]
    out["openings"] = out["net_creation"] + out["departures"]
    out["supply"] = out["young_entrants"] + out["net_mobility"]
    out["imbalance"] = out["openings"] - out["supply"]
    return out


@pytest.mark.parametrize("by", ["cell", "territory", "national"])
def test_ensemble_window_imbalance_from_the_draws(ensemble, by):
    f = ensemble.flows
    nm = f["net_mobility"].sel(year=slice(2019, 2029)).astype(np.float64).sum("year")
    assert float(abs(nm).max()) > 1e3 and int((nm != 0).sum()) > 0.9 * nm.size   # mobility matters here
    for start, end in ((2019, 2030), (2021, 2026)):
        hand = hand_window(f, start, end, by)
        w = ensemble.window(start, end, by=by)
        for k in ("openings", "departures", "young_entrants", "net_mobility", "imbalance",
                  "employment_start", "employment_end"):
            got = w[k].transpose("draw", ...).values
            scale = float(np.abs(hand["openings"]).max())
            np.testing.assert_allclose(got, hand[k], rtol=1e-9, atol=1e-9 * scale, err_msg=f"{by} {k} {start}")
        # and the imbalance is the openings minus the supply, mobility included
        np.testing.assert_allclose(w["imbalance"].transpose("draw", ...).values,
                                   hand["openings"] - hand["young_entrants"] - hand["net_mobility"],
                                   rtol=1e-9, atol=1e-9 * float(np.abs(hand["openings"]).max()))


def test_ensemble_quantiles_from_the_draws(ensemble):
    q = ensemble.quantiles([2024, 2030], by="territory")
    for end in (2024, 2030):
        hand = hand_window(ensemble.flows, 2019, end, "territory")["imbalance"]
        expected = np.quantile(hand, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        got = q["imbalance"].sel(period=f"2019–{end}").transpose("quantile", "territory").values
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-6)


def test_central_draw_is_the_deterministic_imbalance(ensemble, reference_2030, ref_hand):
    """A draw at the latent origin (every parameter at its median, 0) is the reference run, so
    its window imbalance per cell is ``imbalance_table``'s, with mobility."""
    from pmq.projection.ensemble import STORED, Ensemble, run_latent
    ctx = ensemble.context
    arrays = run_latent(ctx, np.zeros((1, ctx.spec.n_latent(ctx.n_domains))), dtype=np.float64)
    flows = xr.Dataset({k: (("draw", "year", "territory", "metier"), arrays[k]) for k in STORED},
                       coords={"draw": [0], "year": ctx.coords["year"], "territory": ctx.coords["territory"],
                               "metier": ctx.coords["metier"]})
    w = Ensemble(flows=flows, parameters=pd.DataFrame(), context=ctx, seed=0).window(2019, 2030, by="cell")
    reg = ref_hand.drop(index="FR", level="territory")
    scale = float(reg["openings"].abs().max())
    for k in ("imbalance", "openings", "net_mobility", "young_entrants"):
        np.testing.assert_allclose(w[k].isel(draw=0).transpose("territory", "metier").values.ravel(),
                                   reg[k].to_numpy(), rtol=1e-9, atol=1e-9 * scale, err_msg=k)


# ------------------------------------------------------------------ summary.csv rates
def hand_rates(acc: xr.Dataset, end: int) -> pd.DataFrame:
    """Documented definition (pmq.projection.indicators.summary_table): flows of base ≤ year < end ÷
    employment of 1 January of the base year (initial employment), per territory × métier."""
    base = int(acc.year.values[0])
    win = acc.sel(year=slice(base, end - 1))
    E0 = acc["employment"].sel(year=base).sum("age")
    E1 = acc["employment"].sel(year=end).sum("age")
    D = win["departures"].sum(["year", "age"])
    Y = win["young_entrants"].sum(["year", "age"])
    M = win["net_mobility"].sum(["year", "age"])
    imb = (E1 - E0) + D - Y - M
    df = xr.Dataset({"employment_start": E0, "departures": D, "imbalance": imb,
                     "departures_rate": D / E0, "imbalance_rate": imb / E0}).drop_vars(
        [c for c in acc.coords if c not in ("territory", "metier")], errors="ignore").to_dataframe()
    return df


def test_summary_csv_rates_from_accounts_nc(tmp_path):
    from pmq.cli import main
    out = tmp_path / "run"
    assert main(["run", "reference", "--horizon", "11", "--out", str(out)]) == 0
    acc = xr.open_dataset(out / "accounts.nc", engine="h5netcdf").load()
    s = pd.read_csv(out / "summary.csv", dtype={"territory": str})
    assert set(s["period"]) == {"2019–2024", "2019–2029", "2019–2030"}
    for end in (2024, 2029, 2030):
        hand = hand_rates(acc, end)
        got = s[s["period"] == f"2019–{end}"].set_index(["territory", "metier"]).loc[hand.index]
        assert (got["end_year"] == end).all()
        # rates are written to 6 decimals (persons to 3)
        for c in ("departures_rate", "imbalance_rate"):
            np.testing.assert_allclose(got[c], hand[c], rtol=0, atol=6e-7, err_msg=f"{c} {end}")
        np.testing.assert_allclose(got["departures"], hand["departures"], rtol=0, atol=6e-4)
        # the rate's denominator is the initial employment, not the end of the window
        assert (np.abs(hand["departures"] / got["employment_end"] - got["departures_rate"]) > 1e-3).sum() > 100


def test_summary_table_rates_full_precision(reference_2030):
    s = reference_2030.summary_table()
    for end in (2024, 2029, 2030):
        hand = hand_rates(reference_2030.accounts, end)
        got = s[s["period"] == f"2019–{end}"].set_index(["territory", "metier"]).loc[hand.index]
        np.testing.assert_allclose(got["departures_rate"], hand["departures_rate"], rtol=1e-10)
        np.testing.assert_allclose(got["imbalance_rate"], hand["imbalance_rate"], rtol=1e-9, atol=1e-12)


def test_summary_rates_with_zero_initial_employment(tmp_path):
    """A new métier (no one in the base year, hired afterwards): its rates are undefined, NaN
    (not ±inf), with no warning; summary.csv leaves the field empty."""
    from pmq.cli import _write_outputs
    na = len(AGES)
    E = np.zeros((2, 2, na))
    E[..., :-1] = 1000.0 / (na - 1)
    E[1, 1] = 0.0
    h = np.full((2, na), 0.02)
    h[:, -1] = 1.0
    b = make_baseline(E, h, np.array([[100.0, 100.0], [100.0, 300.0]]), np.full((2, 2), 200.0), np.zeros((2, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the projection may warn about the zero-employment cell
        proj = pmq.project(b, "reference", horizon=11)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = proj.summary_table()
    new = s[(s.territory == "T1") & (s.metier == "M1")]
    assert (new["employment_start"] == 0).all() and (new["departures"] > 0).all() and (new["imbalance"] != 0).all()
    assert new["departures_rate"].isna().all() and new["imbalance_rate"].isna().all()
    rest = s.drop(new.index)
    assert np.isfinite(rest[["departures_rate", "imbalance_rate"]].to_numpy()).all()
    np.testing.assert_allclose(rest["departures_rate"], rest["departures"] / rest["employment_start"], rtol=1e-12)
    _write_outputs(proj, tmp_path / "out")
    csv = pd.read_csv(tmp_path / "out" / "summary.csv")
    row = csv[(csv.territory == "T1") & (csv.metier == "M1")]
    assert row["departures_rate"].isna().all() and row["imbalance_rate"].isna().all()
    assert np.isfinite(csv.drop(row.index)[["departures_rate", "imbalance_rate"]].to_numpy()).all()


# ------------------------------------------------------------------ assert_accounts: departures = stock × hazard
@pytest.fixture(scope="module")
def pension_reform(baseline):
    return pmq.project(baseline, "retraites_2023", horizon=11)


def test_assert_accounts_checks_the_hazard_on_real_projections(reference_2030, pension_reform, baseline):
    assert_accounts(reference_2030)                                   # hazard rebuilt from the projection
    assert_accounts(reference_2030.accounts, hazard=baseline["hazard"])
    assert_accounts(reference_2030.accounts, hazard=baseline["hazard"].values)   # (metier, age) array
    hz = projection_hazard(pension_reform)
    assert hz.dims == ("year", "territory", "metier", "age")
    assert float(abs(hz.sel(year=2029) - hz.sel(year=2019)).max()) > 0.01        # varies by year
    assert_accounts(pension_reform)
    assert_projection(pension_reform)
    assert_accounts(pension_reform.accounts, hazard=hz.values)                    # (year, …) array
    # the reference's hazard does not describe the reform's departures
    with pytest.raises(AssertionError, match="departures = employment × hazard"):
        assert_accounts(pension_reform.accounts, hazard=baseline["hazard"])


def test_assert_accounts_on_a_comparison(baseline):
    from pmq.projection.compare import project_many
    comp = project_many(["reference", "retraites_2023"], baseline, horizon=6)
    assert projection_hazard(comp).dims == ("scenario", "year", "territory", "metier", "age")
    assert_accounts(comp)
    assert_accounts(comp["retraites_2023"])


def test_assert_accounts_detects_tampered_departures(reference_2030):
    acc = reference_2030.accounts.copy(deep=True)
    i = dict(year=3, territory=0, metier=0, age=50)                    # 2022, age 65: ≈ 29 departures
    assert float(acc["departures"][i]) > 1.0
    acc["departures"][i] = acc["departures"][i] * 1.01
    with pytest.raises(AssertionError, match="departures = employment × hazard fails in 1 value"):
        assert_accounts(acc, hazard=projection_hazard(reference_2030))


def test_assert_accounts_detects_a_consistent_run_with_the_wrong_hazard(baseline, reference_2030):
    """Accounts from an engine run whose hazard is 1 % too high at age 60 satisfy every stock-flow
    identity; only departures = stock × hazard tells them from the reference."""
    wrong = baseline.copy(deep=True)
    wrong["hazard"] = wrong["hazard"].where(wrong.age != 60, wrong["hazard"] * 1.01)
    acc = pmq.project(wrong, "reference", horizon=11).accounts
    assert_accounts(acc)                                               # blind without the hazard
    with pytest.raises(AssertionError, match="departures = employment × hazard"):
        assert_accounts(acc, hazard=projection_hazard(reference_2030))


# ------------------------------------------------------------------ columns the mutation run found untested
def test_imbalance_share_of_openings_and_hors_champ(ref_table):
    t = ref_table
    pos = t["openings"] > 0
    np.testing.assert_allclose(t.loc[pos, "imbalance_pct_openings"], (t["imbalance"] / t["openings"])[pos],
                               rtol=1e-12)
    assert t.loc[~pos, "imbalance_pct_openings"].isna().all()
    # a cell without a tension level is out of scope whatever the baseline's flag says
    assert t.loc[t["tension"].isna(), "hors_champ"].all()


def test_hors_champ_follows_a_missing_tension(reference_2030):
    proj = reference_2030
    b = proj.baseline.copy()
    b["tension"] = b["tension"].where(~((b.territory == "53") & (b.metier == "B2Z")))
    b["hors_champ"] = b["hors_champ"] & False
    t = im.imbalance_table(type(proj)(accounts=proj.accounts, baseline=b, scenario=proj.scenario),
                           national=False).set_index(["territory", "metier"])
    assert bool(t.loc[("53", "B2Z"), "hors_champ"]) and not bool(t.loc[("53", "B3Z"), "hors_champ"])
    assert im.classify(t.reset_index(), "dares").set_axis(t.index)[("53", "B2Z")] == \
        im.PRESETS["dares"].labels_fr["hors_champ"]


def test_roa_by_level_ratio_classes_and_window(reference_2030, baseline):
    from pmq.inputs import training as tr
    alloc = tr.calibrate_training(baseline)
    r = im.roa_by_level(reference_2030, alloc)
    assert set(r["period"]) == {"2019–2030"}
    pos = r["demand"] > 0
    np.testing.assert_allclose(r.loc[pos, "ratio"], (r["supply"] / r["demand"])[pos], rtol=1e-12)
    labels = im.PRESETS["roa"].labels_fr
    expected = [labels[roa_class(x)] for x in r["ratio"]]
    assert list(r["class"]) == expected
    short = im.roa_by_level(reference_2030, alloc, horizon=5)
    assert set(short["period"]) == {"2019–2024"}


def test_watch_list_keeps_ten_per_territory_by_default(ref_table):
    w = im.watch_list(ref_table)
    sizes = w.groupby("territory").size()
    assert sizes.max() == 10
