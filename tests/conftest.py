import numpy as np
import pytest
import xarray as xr

import pmq
from pmq.demography import AGES


@pytest.fixture(scope="session")
def baseline():
    return pmq.load_baseline()


@pytest.fixture(scope="session")
def reference_2030(baseline):
    return pmq.project(baseline, "reference", horizon=11)


@pytest.fixture(scope="session")
def reference_20(baseline):
    return pmq.project(baseline, "reference", horizon=20)


def make_baseline(E, h, N, Y, M, base_year=2019, n_period=11):
    """A baseline Dataset from arrays (territory, metier, age) / (metier, age) / (territory, metier)."""
    nt, nm, na = E.shape
    ds = xr.Dataset(
        {"employment": (("territory", "metier", "age"), E),
         "hazard": (("metier", "age"), h),
         "published_net_creation": (("territory", "metier"), N),
         "published_young_entrants": (("territory", "metier"), Y),
         "published_net_mobility": (("territory", "metier"), M),
         "published_departures": (("territory", "metier"), np.full((nt, nm), np.nan))},
        coords={"territory": [f"T{i}" for i in range(nt)], "metier": [f"M{j}" for j in range(nm)],
                "age": AGES[:na]})
    ds.attrs.update(base_year=base_year, period_end=base_year + n_period, n_period=n_period)
    return ds
