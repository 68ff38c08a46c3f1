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


def test_a_territorys_name_is_resolved_once_inside_the_block(reference_2030, monkeypatch):
    acc = reference_2030.accounts
    plain = [indicators.territory_name(acc, t) for t in ("Normandie", "28", ["Bretagne", "Normandie"])]
    calls = []
    real = indicators.select
    monkeypatch.setattr(indicators, "select", lambda ds, **kw: calls.append(kw) or real(ds, **kw))
    with shared_age_sums():
        for _ in range(3):
            got = [indicators.territory_name(acc, t) for t in ("Normandie", "28", ["Bretagne", "Normandie"])]
            assert got == plain == ["Normandie", "Normandie", "Bretagne, Normandie"]
        assert len(calls) == 3                   # once per name asked for, not once per chart
        other = acc.copy()                       # another accounts object: resolved on its own
        assert indicators.territory_name(other, "Normandie") == "Normandie" and len(calls) == 4
    indicators.territory_name(acc, "Normandie")  # outside the block: no cache
    assert len(calls) == 5


def test_the_territory_choices_are_the_callers_to_change():
    from pmq import data
    first = data.territory_choices()
    first["28"].append("Neustrie")
    first.pop("84")
    again = data.territory_choices()
    assert "Neustrie" not in again["28"] and "84" in again and again["28"][0] == "Normandie"
