"""Assertions on the accounting identities, for tests and for users who extend the engine."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import xarray as xr

from pmq.errors import ArgumentError
from pmq.options import tr

__all__ = ["assert_accounts", "assert_projection", "projection_hazard", "text_differences", "assert_text_close",
           "table_differences", "nested_differences"]


def projection_hazard(projection) -> xr.DataArray:
    """The exit hazard the engine applied in a :class:`~pmq.Projection` (one scenario or several): its
    :meth:`~pmq.Projection.hazard`, rebuilt from its baseline and scenario(s) — dims ``(territory, metier,
    age)``, a leading ``year`` when a scenario has exit levers, a ``scenario`` dim with several scenarios."""
    return projection.hazard()


def _hazard_array(acc: xr.Dataset, hazard) -> xr.DataArray:
    """``hazard`` as a DataArray that broadcasts against the accounts' flow years."""
    if isinstance(hazard, xr.DataArray):
        return hazard
    h = np.asarray(hazard, dtype=float)
    dims = acc["employment"].transpose("year", ..., "age").dims
    if h.ndim == len(dims):  # a leading year axis: the flow years (the final year may be included)
        n = acc.sizes["year"] - 1
        if h.shape[0] not in (n, n + 1):
            raise ArgumentError(tr(f"a per-year hazard needs {n} (or {n + 1}) flow years on its first axis, "
                                   f"got {h.shape[0]}",
                                   f"un risque de départ donné année par année demande {n} (ou {n + 1}) années "
                                   f"de flux sur son premier axe, reçu : {h.shape[0]}"), name="hazard",
                                value=h.shape)
        return xr.DataArray(h[:n], dims=dims, coords={"year": acc.year.values[:n]})
    return xr.DataArray(h, dims=dims[len(dims) - h.ndim:])


def _check_departures(acc: xr.Dataset, hazard, rtol: float, scale: float) -> None:
    """departures[a, t] = employment[a, t] × hazard[a(, t)] in every cell, age and flow year."""
    h = _hazard_array(acc, hazard)
    flow = acc.year.values[:-1]
    E = acc["employment"].sel(year=flow)
    D = acc["departures"].sel(year=flow)
    if "year" in h.dims:
        h = h.sel(year=flow)
    with xr.set_options(arithmetic_join="exact"):  # a hazard on other cells is an error, not a subset
        expected = E * h
    D, expected = xr.broadcast(D, expected)
    dims = D.dims
    d, e = D.values, expected.transpose(*dims).values
    err = np.abs(d - e)
    tol = rtol * np.abs(e) + 1e-12 * scale
    bad = ~(err <= tol)                    # NaN counts as a failure
    if bad.any():
        i = np.unravel_index(int(np.argmax(np.where(bad, err, -np.inf))), bad.shape)
        where = ", ".join(f"{k}={D[k].values[j]}" for k, j in zip(dims, i))
        raise AssertionError(f"departures = employment × hazard fails in {int(bad.sum())} value(s); worst at "
                             f"{where}: departures {float(d[i]):.12g}, employment × hazard {float(e[i]):.12g}")


def assert_accounts(acc, rtol: float = 1e-9, zero_sum_mobility: bool = True, hazard=None) -> None:
    """Raise AssertionError unless every identity of the accounts holds.

    * departures = stock × hazard: ``departures[a, t] = employment[a, t] · hazard[a(, t)]``
      when the hazard is known — ``hazard`` (a DataArray with named dims, e.g. from
      :func:`projection_hazard`, or an array broadcastable to the accounts' (…, age) cells, with a
      leading year axis when it varies by year) — or when ``acc`` is a Projection (one scenario or several),
      whose hazard is rebuilt from its baseline and scenario;
    * age by age: ``employment[a+1, t+1] = employment[a, t] − departures[a, t] + inflows[a+1, t]``
      (and the youngest age holds only the year's inflows);
    * no negative stock at any age; departures never exceed the stock;
    * total change = net creation; openings = net creation + departures;
      imbalance = openings − young entrants − net mobility;
    * net mobility sums to zero over territories for each métier and year (if asked).

    Without a hazard the departures are only bounded by the stock: accounts built with a wrong
    hazard satisfy every other identity.
    """
    if not isinstance(acc, xr.Dataset) and hasattr(acc, "accounts"):  # a Projection (one scenario or several)
        if hazard is None:
            hazard = projection_hazard(acc)
        acc = acc.accounts
    E = acc["employment"].transpose("year", ..., "age").values
    D = acc["departures"].transpose("year", ..., "age").values[:-1]
    inflow = sum(acc[k].transpose("year", ..., "age").values[:-1]
                 for k in ("young_entrants", "net_mobility", "other_recruits"))
    scale = max(1.0, float(np.abs(E).max()))
    atol = rtol * scale
    if hazard is not None:
        _check_departures(acc, hazard, rtol, scale)
    expected = np.concatenate([np.zeros_like(E[:-1, ..., :1]), (E[:-1] - D)[..., :-1]], axis=-1) + inflow
    np.testing.assert_allclose(E[1:], expected, rtol=0, atol=atol, err_msg="age-by-age identity")
    assert (E >= -atol).all(), f"negative stock: min {E.min()}"
    assert (D <= E[:-1] + atol).all(), "departures exceed the stock"
    nc = acc["net_creation"].transpose("year", ...).values[:-1]
    tot = E.sum(-1)
    np.testing.assert_allclose(np.diff(tot, axis=0), nc, rtol=0, atol=atol * 10, err_msg="total change")
    op = acc["openings"].transpose("year", ...).values[:-1]
    np.testing.assert_allclose(op, nc + D.sum(-1), rtol=0, atol=atol * 10, err_msg="openings")
    y = acc["young_entrants"].sum("age").transpose("year", ...).values[:-1]
    m = acc["net_mobility"].sum("age").transpose("year", ...).values[:-1]
    np.testing.assert_allclose(acc["imbalance"].transpose("year", ...).values[:-1], op - y - m, rtol=0,
                               atol=atol * 10, err_msg="imbalance")
    if zero_sum_mobility and "territory" in acc.dims and acc.sizes["territory"] > 1:
        s = acc["net_mobility"].sum(["territory", "age"]).transpose("year", ...).values[:-1]
        np.testing.assert_allclose(s, 0.0, rtol=0, atol=atol * 10, err_msg="net mobility sum")


def assert_projection(projection, rtol: float = 1e-9, zero_sum_mobility: bool = True) -> None:
    """:func:`assert_accounts` on a Projection (one scenario or several), departures = stock × hazard
    included (the hazard is rebuilt from the projection's baseline and scenario)."""
    assert_accounts(projection.accounts, rtol=rtol, zero_sum_mobility=zero_sum_mobility,
                    hazard=projection_hazard(projection))


# --- comparing generated tables and pages with a tolerance, never byte for byte -------------------

_NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:[ \u202f\u00a0]\d{3})*(?:[.,]\d+)?(?:[eE][-+]?\d+)?(?![\w])")


_YEAR = re.compile(r"(?:19|20)\d\d|2100")


def _parse_number(tok: str) -> tuple[float, float]:
    """``(value, unit of the last printed digit)`` of a number as pmq prints it (French or English)."""
    t = tok.replace("−", "-").replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    t = t.replace(",", ".")
    mant, _, exp = t.lower().partition("e")
    decimals = len(mant.split(".", 1)[1]) if "." in mant else 0
    return float(t), 10.0 ** (int(exp or 0) - decimals)


def text_differences(expected: str, actual: str, rtol: float = 0.0, ulps: float = 1.0,
                     limit: int = 10) -> list[str]:
    """Where two generated texts differ beyond the precision they print.

    The texts are split into numbers and the text between them.  The text must be identical; each
    number may differ by ``ulps`` units of its last printed digit (``14,4`` vs ``14,3``: a rounding
    that moved with a library version) or by ``rtol`` relative.  Integers that read as years
    (1900–2100, no decimals) must be equal.  Returns up to ``limit`` messages ``line N: expected
    x, got y`` (empty list: the texts agree).
    """
    diffs: list[str] = []
    e_parts, a_parts = _NUMBER.split(expected), _NUMBER.split(actual)
    e_nums, a_nums = _NUMBER.findall(expected), _NUMBER.findall(actual)
    if e_parts != a_parts or len(e_nums) != len(a_nums):
        el, al = expected.splitlines(), actual.splitlines()
        for i in range(max(len(el), len(al))):
            x = el[i] if i < len(el) else "<missing>"
            y = al[i] if i < len(al) else "<missing>"
            if _NUMBER.sub("#", x) != _NUMBER.sub("#", y):
                diffs.append(f"line {i + 1}: text differs: expected {x!r}, got {y!r}")
                if len(diffs) >= limit:
                    break
        return diffs or ["the texts differ in their number of numbers"]
    line = 1
    for part, x, y in zip(e_parts, e_nums, a_nums):
        line += part.count("\n")
        if x != y:
            (vx, ux), (vy, uy) = _parse_number(x), _parse_number(y)
            is_year = bool(_YEAR.fullmatch(x) or _YEAR.fullmatch(y))
            tol = 0.0 if is_year else max(ulps * max(ux, uy), rtol * abs(vx))
            if not abs(vx - vy) <= tol * (1 + 1e-9):
                diffs.append(f"line {line}: expected {x}, got {y} (difference {vy - vx:+.6g}, "
                             f"tolerance {tol:.3g})")
                if len(diffs) >= limit:
                    break
    return diffs


def assert_text_close(expected: str, actual: str, rtol: float = 0.0, ulps: float = 1.0,
                      name: str = "text") -> None:
    """Raise AssertionError naming the lines where two generated texts differ beyond their precision
    (:func:`text_differences`)."""
    diffs = text_differences(expected, actual, rtol=rtol, ulps=ulps)
    if diffs:
        raise AssertionError(f"{name} differs beyond its printed precision:\n  " + "\n  ".join(diffs))


def table_differences(expected: pd.DataFrame, actual: pd.DataFrame, rtol: float = 1e-6,
                      atol: float = 0.0, limit: int = 10) -> list[str]:
    """Cells where two tables differ: same columns, same rows (in order), text columns equal, numeric
    columns within ``|a − e| ≤ atol + rtol·|e|``.  Messages name the row, the column, both values
    and the relative difference."""
    if list(expected.columns) != list(actual.columns):
        return [f"columns differ: expected {list(expected.columns)}, got {list(actual.columns)}"]
    if len(expected) != len(actual):
        return [f"row count differs: expected {len(expected)}, got {len(actual)}"]
    diffs: list[str] = []
    for col in expected.columns:
        e, a = expected[col], actual[col]
        if pd.api.types.is_numeric_dtype(e) and pd.api.types.is_numeric_dtype(a):
            ev, av = e.to_numpy(float), a.to_numpy(float)
            with np.errstate(invalid="ignore"):
                bad = ~((np.abs(av - ev) <= atol + rtol * np.abs(ev)) | (np.isnan(ev) & np.isnan(av)))
        else:
            bad = (e.astype(str).to_numpy() != a.astype(str).to_numpy())
        for i in np.flatnonzero(bad)[: limit - len(diffs)]:
            row = expected.iloc[i]
            key = ", ".join(f"{c}={row[c]}" for c in expected.columns
                            if not pd.api.types.is_float_dtype(expected[c]))
            ev_, av_ = e.iloc[i], a.iloc[i]
            rel = ""
            if pd.api.types.is_numeric_dtype(e) and ev_ not in (0, None):
                rel = f", relative difference {(float(av_) - float(ev_)) / abs(float(ev_)):+.3g}"
            diffs.append(f"row {i} ({key}), column {col!r}: expected {ev_!r}, got {av_!r}{rel}")
        if len(diffs) >= limit:
            break
    return diffs


def nested_differences(expected, actual, rtol: float = 1e-6, atol: float = 0.0, path: str = "") -> list[str]:
    """Differences between two JSON-like structures; numbers within ``atol + rtol·|e|``."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            return [f"{path or '/'}: keys differ: {sorted(set(expected) ^ set(actual))}"]
        out: list[str] = []
        for k in expected:
            out += nested_differences(expected[k], actual[k], rtol, atol, f"{path}/{k}")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: length {len(expected)} vs {len(actual)}"]
        out = []
        for i, (x, y) in enumerate(zip(expected, actual)):
            out += nested_differences(x, y, rtol, atol, f"{path}[{i}]")
        return out
    num = (int, float)
    if isinstance(expected, num) and isinstance(actual, num) and not isinstance(expected, bool):
        if abs(actual - expected) <= atol + rtol * abs(expected):
            return []
        return [f"{path}: expected {expected!r}, got {actual!r}"]
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]
