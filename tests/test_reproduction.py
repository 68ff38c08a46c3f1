"""The reference run reproduces « Les métiers en 2030 » for every row of the shipped raw file."""
import numpy as np
import pandas as pd
import pytest

import pmq
from pmq.data import data_path, regions

K = 1000.0


@pytest.fixture(scope="module")
def compared(reference_2030):
    raw = pd.read_csv(data_path("raw", "metiers2030_region_fap.csv"))  # the shipped raw file
    code = dict(zip(regions().source_name, regions().code))
    raw["territory"] = raw["region"].map(code)
    h = reference_2030.horizons(horizons=[11], years=[]).sel(period="2019–2030")
    df = h.drop_vars([c for c in ("metier_label", "domain", "territory_name",
                                  "territory_source_name") if c in h.coords]).to_dataframe().reset_index()
    # Re-aggregate to the published rows (Corse's groups).
    grp = df.groupby(["territory", "published_code"])[
        ["employment_start", "net_creation", "departures", "openings", "young_entrants", "net_mobility",
         "imbalance"]].sum().reset_index()
    m = raw.merge(grp, left_on=["territory", "code_fap"], right_on=["territory", "published_code"],
                  how="left", validate="one_to_one")
    return m


def test_every_row_is_matched(compared):
    assert len(compared) == 1049
    assert compared["net_creation"].notna().all(), compared.loc[compared["net_creation"].isna(), "code_fap"]


@pytest.mark.parametrize("col,src,sign", [
    ("employment_start", "effectifs_2019_milliers", 1),
    ("net_creation", "creations_destructions_milliers", 1),
    ("young_entrants", "jeunes_debutants_milliers", -1),   # stored negative in the source
    ("net_mobility", "solde_mobilites_inter_regions_milliers", -1),  # source: net outflow
])
def test_exogenous_flows_exact(compared, col, src, sign):
    err = (compared[col] / K - sign * compared[src]).abs()
    bad = compared.loc[err > 1e-6, ["code_fap", "region", col, src]]
    assert bad.empty, f"{col} differs from {src} by more than 1e-6 thousand:\n{bad}"


@pytest.mark.parametrize("col,src", [("departures", "departs_fin_carriere_milliers"),
                                     ("openings", "postes_a_pourvoir_milliers")])
def test_departures_and_openings_within_half_percent(compared, col, src):
    rel = (compared[col] / K - compared[src]).abs() / compared[src].abs()
    bad = compared.loc[rel > 0.005, ["code_fap", "region", col, src]]
    assert bad.empty, f"{col} off by more than 0.5 %:\n{bad}"


def test_imbalance_within_0_2_percent_of_employment(compared):
    err = (compared["imbalance"] / K - compared["desequilibre_milliers"]).abs()
    rel = err / compared["effectifs_2019_milliers"]
    bad = compared.loc[rel > 0.002, ["code_fap", "region", "imbalance", "desequilibre_milliers"]]
    assert bad.empty, bad


def test_negative_openings_rows_are_reproduced(compared):
    neg = compared[compared["postes_a_pourvoir_milliers"] < 0]
    assert set(zip(neg.code_fap, neg.territory)) == {("L1Z", "11"), ("A3Z", "11"), ("Q1Z", "11"),
                                                     ("C0Z", "28")}
    assert (neg["openings"] < 0).all()


def test_national_totals(reference_2030):
    h = reference_2030.horizons(horizons=[11], years=[]).sum(["territory", "metier"]) / K
    raw = pd.read_csv(data_path("raw", "metiers2030_region_fap.csv"))
    np.testing.assert_allclose(float(h["net_creation"][0]), raw.creations_destructions_milliers.sum(), atol=1e-6)
    np.testing.assert_allclose(float(h["departures"][0]), raw.departs_fin_carriere_milliers.sum(), rtol=1e-6)
    np.testing.assert_allclose(float(h["openings"][0]), raw.postes_a_pourvoir_milliers.sum(), rtol=1e-6)
    np.testing.assert_allclose(float(h["young_entrants"][0]), -raw.jeunes_debutants_milliers.sum(), atol=1e-6)
    np.testing.assert_allclose(float(h["imbalance"][0]), raw.desequilibre_milliers.sum(), rtol=1e-6)
    # The published round figures (report): 947 k, 7,404 k, 8,351 k, 7,018 k, 1,333 k.
    assert round(float(h["net_creation"][0])) == 947
    assert round(float(h["departures"][0])) == 7404
    assert round(float(h["openings"][0])) == 8351
    assert round(float(h["young_entrants"][0])) == 7018
    assert round(float(h["imbalance"][0])) == 1333


def test_calibration_reports_no_unfitted_cell(baseline):
    import json
    cal = json.loads(baseline.attrs["calibration"])
    assert cal["unfitted_cells"] == []
    assert cal["departures_max_rel_error"] < 1e-6


def test_extreme_cell_T1Z_fits(compared):
    row = compared[(compared.code_fap == "T1Z") & (compared.region == "Hauts-de-France")].iloc[0]
    assert row["departs_fin_carriere_pct"] > 0.68
    assert abs(row["departures"] / K / row["departs_fin_carriere_milliers"] - 1) < 1e-6


def test_aggregations(reference_2030):
    h = reference_2030.horizons(horizons=[11], years=[])
    fr = pmq.aggregate_territories(h)
    np.testing.assert_allclose(fr["openings"].sum().item(), h["openings"].sum().item(), rtol=1e-12)
    dom = pmq.aggregate_metiers(h, by="domain")
    # 22 FAP domains, but X (politics, clergy) only exists inside the source's residual XK_,
    # classified in K: 21 domains carry employment.
    assert dom.sizes["domain"] == 21 and "X" not in dom.domain.values and "K" in dom.domain.values
    assert dom.sel(domain="B")["domain_label"].item() == "Bâtiment, travaux publics"
    np.testing.assert_allclose(dom["departures"].sum().item(), h["departures"].sum().item(), rtol=1e-12)


def test_aggregate_to_published_groups(reference_2030):
    h = reference_2030.horizons(horizons=[11], years=[]).isel(period=0)
    g = pmq.aggregate_metiers(h, by="published_code")
    code = "C1Z;D1Z;D2Z;D4Z;E1Z;F0A;F2A;F4Z"
    members = code.split(";")
    np.testing.assert_allclose(float(g["departures"].sel(published_code=code, territory="94")),
                               float(h["departures"].sel(territory="94", metier=members).sum()), rtol=1e-12)
    raw = pd.read_csv(data_path("raw", "metiers2030_region_fap.csv"))
    pub = raw[(raw.region == "Corse") & (raw.code_fap == code)].iloc[0]
    np.testing.assert_allclose(float(g["net_creation"].sel(published_code=code, territory="94")) / K,
                               pub.creations_destructions_milliers, atol=1e-9)
    assert float(g["departures"].sel(published_code=code, territory="11")) == 0.0  # not a published row there
