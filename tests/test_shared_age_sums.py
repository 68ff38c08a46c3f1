"""Inside ``shared_age_sums()`` (the report's build) the accounts are summed over age once per accounts object
and every window of a selection is cut from those sums: the same numbers, bit for bit, as without it."""
import numpy as np
import pytest
import xarray as xr

from pmq.projection import indicators
from pmq.projection.indicators import shared_age_sums, window_of, window_sums

CASES = [dict(territory="Normandie"), dict(territory=["Bretagne", "Normandie"], keep=("metier",)),
         dict(metier="A0Z"), dict(territory="Normandie", metier=["A0Z", "B0Z"], keep=("territory", "metier")),
         dict(territory="Normandie", start_year=2024, end_year=2030), dict()]


@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "all")
def test_windows_cut_from_the_shared_sums_are_the_same_numbers(reference_2030, case):
    acc = reference_2030.accounts
    plain = window_of(acc, **case)
    with shared_age_sums():
        first, again = window_of(acc, **case), window_of(acc, **case)
    for got in (first, again):
        xr.testing.assert_identical(got, plain)
        for k in plain.data_vars:
            assert got[k].values.tobytes() == plain[k].values.tobytes(), k


def test_the_accounts_are_summed_once_per_object_and_only_inside_the_block(reference_2030, monkeypatch):
    acc = reference_2030.accounts
    calls = []
    real = indicators._age_sum
    monkeypatch.setattr(indicators, "_age_sum", lambda da: calls.append(da.name) or real(da))
    with shared_age_sums():
        for case in CASES:
            window_of(acc, **case)
        window_sums(acc, 2019, 2025)
        assert calls.count("employment") == 1
        other = acc.copy()                       # another accounts object: summed on its own
        window_sums(other)
        assert calls.count("employment") == 2
    window_sums(acc)                             # outside the block: no cache
    assert calls.count("employment") == 3
    # the numbers inside and outside agree
    np.testing.assert_array_equal(window_sums(acc)["openings"].values, window_sums(other)["openings"].values)
