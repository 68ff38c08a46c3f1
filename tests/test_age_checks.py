"""Checks on what the calibration did not fit: national age structure and the age of departures."""
import numpy as np
import pandas as pd

from pmq.data import data_path
from pmq.model.ages import BAND_LABELS, band_sums


def test_national_age_structure_within_1_5_points(baseline):
    # Official figure: DARES Portraits statistiques des métiers, ENSEMBLE, 2017–2019 (enquête Emploi).
    dares = pd.read_csv(data_path("raw", "dares_age9_fap87_2017_2019.csv"))
    ens = dares[dares.fap == "ENSEMBLE"].set_index("tr_age").loc[BAND_LABELS, "annee_2017_2019"]
    official = 100 * ens.to_numpy() / ens.sum()
    np.testing.assert_allclose(official[-1], 6.04, atol=0.01)  # 60+ = 6.0 % (facts_demography §1.1)
    model = band_sums(baseline["employment"].sum(["territory", "metier"]).values)
    model = 100 * model / model.sum()
    gap = np.abs(model - official)
    assert gap.max() <= 1.5, dict(zip(BAND_LABELS, gap.round(2)))
    share50 = model[6:].sum()
    assert abs(share50 - 30.57) < 1.5


def test_departures_mostly_at_50_plus(reference_20):
    d = reference_20.accounts["departures"].sum(["territory", "metier"])
    for years in (slice(2019, 2029), slice(2019, 2038)):
        by_age = d.sel(year=years).sum("year")
        share = float(by_age.sel(age=slice(50, None)).sum() / by_age.sum())
        assert share >= 0.95, share


def test_hazards_plausible(baseline):
    h = baseline["hazard"]
    assert float(h.sel(age=slice(15, 39)).max()) == 0.0
    assert float(h.sel(age=slice(40, 49)).max()) < 0.03
    nat = h.mean("metier")
    assert (np.diff(nat.sel(age=slice(45, 74)).values) >= -1e-12).all()  # rising with age
    assert (h.sel(age=74) == 1).all()


def test_estimated_inputs_are_labelled(baseline, reference_2030):
    assert "estimated" in baseline["employment"].attrs
    assert "estimated" in baseline["hazard"].attrs
    assert "pyramids" in reference_2030.accounts.attrs["estimated_inputs"]
