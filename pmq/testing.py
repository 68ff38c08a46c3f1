"""Assertions on the accounting identities, for tests and for users who extend the engine."""
from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["assert_accounts"]


def assert_accounts(acc: xr.Dataset, rtol: float = 1e-9, zero_sum_mobility: bool = True) -> None:
    """Raise AssertionError unless every identity of the accounts holds.

    * age by age: ``employment[a+1, t+1] = employment[a, t] − departures[a, t] + inflows[a+1, t]``
      (and the youngest age holds only the year's inflows);
    * no negative stock at any age; departures never exceed the stock;
    * total change = net creation; openings = net creation + departures;
      imbalance = openings − young entrants − net mobility;
    * net mobility sums to zero over territories for each métier and year (if asked).
    """
    E = acc["employment"].transpose("year", ..., "age").values
    D = acc["departures"].transpose("year", ..., "age").values[:-1]
    inflow = sum(acc[k].transpose("year", ..., "age").values[:-1]
                 for k in ("young_entrants", "net_mobility", "other_recruits"))
    scale = max(1.0, float(np.abs(E).max()))
    atol = rtol * scale
    expected = np.concatenate([np.zeros_like(E[:-1, ..., :1]), (E[:-1] - D)[..., :-1]], axis=-1) + inflow
    np.testing.assert_allclose(E[1:], expected, rtol=0, atol=atol, err_msg="age-by-age identity")
    assert (E >= -atol).all(), f"negative stock: min {E.min()}"
    assert (D <= E[:-1] + atol).all(), "departures exceed the stock"
    nc = acc["net_creation"].values[:-1]
    tot = E.sum(-1)
    np.testing.assert_allclose(np.diff(tot, axis=0), nc, rtol=0, atol=atol * 10, err_msg="total change")
    op = acc["openings"].values[:-1]
    np.testing.assert_allclose(op, nc + D.sum(-1), rtol=0, atol=atol * 10, err_msg="openings")
    y = acc["young_entrants"].sum("age").values[:-1]
    m = acc["net_mobility"].sum("age").values[:-1]
    np.testing.assert_allclose(acc["imbalance"].values[:-1], op - y - m, rtol=0, atol=atol * 10,
                               err_msg="imbalance")
    if zero_sum_mobility and "territory" in acc.dims and acc.sizes["territory"] > 1:
        s = acc["net_mobility"].sum(["territory", "age"]).values[:-1]
        np.testing.assert_allclose(s, 0.0, rtol=0, atol=atol * 10, err_msg="net mobility sum")
