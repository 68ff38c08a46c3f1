"""The annual stock-flow step, vectorised over every cell.

Conventions (see ``docs/engine.md``)
------------------------------------
* ``employment[a, t]`` is the stock aged ``a`` at the start of year ``t``; flows
  labelled ``t`` move the stock from ``t`` to ``t + 1``.  A horizon of H years =
  flows labelled base … base+H−1 and the stock at base+H.
* ``departures[a, t] = employment[a, t] × hazard[a]``; the hazard is 1 at the top
  age, so nobody survives beyond it (and that exit counts as a departure).
* Inflows labelled ``t`` (young entrants, net inflow from other territories,
  other recruits) are indexed by the age they have at the end of the year, when
  they are counted in the stock:

      employment[a+1, t+1] = employment[a, t] − departures[a, t] + inflows[a+1, t]

* ``other_recruits = net_creation + departures − young_entrants − net_mobility``
  (signed).  Positive inflows are placed by age profiles; negative ones
  (net outflows) are removed from the aged survivors in proportion to
  stock × removal weight, so no age can go negative unless the outflow exceeds
  what the weights allow — that raises :class:`~pmq.errors.EngineError`.

The loop is over years only; every operation inside is on whole arrays of shape
``(..., age)`` and works on numpy or dask arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .demography import AGES, AgeProfiles
from .errors import EngineError

__all__ = ["Profiles", "step", "simulate"]


@dataclass(frozen=True)
class Profiles:
    """Age profiles as arrays over the age axis (each placement profile sums to 1)."""

    young: np.ndarray
    recruits: np.ndarray
    mobility: np.ndarray
    removal: np.ndarray

    @classmethod
    def from_spec(cls, spec: AgeProfiles | None = None, ages: np.ndarray = AGES) -> "Profiles":
        spec = spec or AgeProfiles()
        return cls(spec.young(ages), spec.recruits(ages), spec.mobility(ages), spec.removal(ages))


def _age_first(a: np.ndarray, ndim: int) -> np.ndarray:
    """``a`` (..., age), padded to ``ndim`` dims, with age moved to the front (contiguous)."""
    a = np.asarray(a, dtype=float)
    a = a.reshape((1,) * (ndim - a.ndim) + a.shape)
    return np.ascontiguousarray(np.moveaxis(a, -1, 0))


class _Kernel:
    """The annual step on an **age-first** state ``X`` of shape ``(age, *cells)``.

    Age-first keeps every reduction over age a sequence of whole-slab additions (age 15, then
    16, …): each cell's result is the same bit for bit whatever the number of cells, the
    chunking or the scheduler — which ensembles rely on.  One year costs about a dozen passes
    over the state (``benchmarks/bench_engine.py``):

        departures D = X·h;  aged survivors S[a+1] = X[a] − D[a];
        B = S·removal;  f = (net outflows) / ΣB;  X' = S − f·B + y·P_young + m⁺·P_mob + r⁺·P_rec
    """

    def __init__(self, profiles: Profiles, ndim: int):
        self.py = _age_first(profiles.young, ndim)
        self.pm = _age_first(profiles.mobility, ndim)
        self.pr = _age_first(profiles.recruits, ndim)
        self.rm = _age_first(profiles.removal, ndim)
        self.rmax = self.rm.max(axis=0)

    def year(self, X, H, nc, ye, nm, want_ages: bool = False, check: bool = True):
        D = X * H
        dep = _age_sum(D)
        S = np.empty(np.broadcast_shapes(X.shape, H.shape))
        S[0] = 0.0
        np.subtract(X[:-1], D[:-1], out=S[1:])
        other = nc + dep - ye - nm
        m_pos, m_neg = np.maximum(nm, 0.0), np.maximum(-nm, 0.0)
        r_pos, r_neg = np.maximum(other, 0.0), np.maximum(-other, 0.0)
        neg = m_neg + r_neg
        B = S * self.rm
        bsum = _age_sum(B)
        pos = bsum > 0
        safe = np.where(pos, bsum, 1.0)
        f = np.where(pos, neg / safe, 0.0)
        ages = None
        if want_ages:  # the age-resolved inflows, for the full accounts
            ages = {"departures": D, "young_entrants": ye * self.py,
                    "net_mobility": m_pos * self.pm - B * np.where(pos, m_neg / safe, 0.0),
                    "other_recruits": r_pos * self.pr - B * np.where(pos, r_neg / safe, 0.0)}
        np.multiply(B, f, out=B)
        np.subtract(S, B, out=S)
        for coef, prof in ((ye, self.py), (m_pos, self.pm), (r_pos, self.pr)):
            np.multiply(coef, prof, out=B)
            np.add(S, B, out=S)
        if check:
            self._check(X, S, f, neg, pos)
        return S, dep, other, ages

    def _check(self, X, nxt, f, neg, pos):
        # X' ≥ 0 unless the removal takes more than an age holds: f·removal > 1 somewhere
        # (cell-level test), or outflows with nothing to remove from.
        suspect = (f * self.rmax > 1.0) | ((neg > 0) & ~pos)
        if not suspect.any():
            return
        tol = 1e-9 * np.maximum(1.0, np.abs(X).max(axis=0))       # per cell: chunk-independent
        bad = (nxt < -tol).any(0) | ((neg > tol) & ~pos)
        if bad.any():
            cells = [tuple(int(i) for i in c) for c in np.argwhere(bad)]
            err = EngineError(
                f"net outflows exceed the stock that can leave in {len(cells)} cell(s) "
                f"(first cell index {cells[0]}): outflow (negative other recruits or net "
                "mobility) larger than the removal profile allows; check the flows or the "
                "removal weights")
            err.cells = cells
            raise err


def _age_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the (first) age axis, adding age slabs in order.  numpy does exactly that when
    there are at least two cells; with a single cell the array is one contiguous column and numpy
    would switch to pairwise summation, so that case is summed in an explicit loop."""
    if a[0].size > 1:
        return a.sum(0)
    out = a[0].copy()
    for i in range(1, a.shape[0]):
        out += a[i]
    return out


def step(employment, hazard, net_creation, young_entrants, net_mobility, profiles: Profiles,
         check: bool = True):
    """One annual step for every cell.

    Parameters
    ----------
    employment : array (..., age)
        Stock at the start of the year.
    hazard : array broadcastable to (..., age)
        Annual exit hazard by age (1 at the top age).
    net_creation, young_entrants, net_mobility : arrays (...)
        Cell totals of the year's flows (persons).

    Returns
    -------
    dict of arrays: ``employment`` (next year, ..., age), ``departures`` (..., age,
    age at the start), ``young_entrants``, ``net_mobility``, ``other_recruits``
    (..., age, age at the end of the year) and ``other_recruits_total`` (...).
    """
    employment = np.asarray(employment, dtype=float)
    nd = max(employment.ndim, np.ndim(hazard))
    k = _Kernel(profiles, nd)
    X = _age_first(employment, nd)
    nxt, _, other, ages = k.year(X, _age_first(hazard, nd), np.asarray(net_creation, float),
                                 np.asarray(young_entrants, float), np.asarray(net_mobility, float),
                                 want_ages=True, check=check)
    back = {name: np.moveaxis(v, 0, -1) for name, v in ages.items()}
    return {"employment": np.moveaxis(nxt, 0, -1), **back, "other_recruits_total": other}


def _check_inputs(employment0, hazard, young_entrants) -> None:
    """What the annual step assumes (the loaders check it for files; this guards direct calls)."""
    problems = []
    if not np.all(employment0 >= 0):
        problems.append("negative or NaN employment")
    h = np.asarray(hazard)
    if not np.all((h >= 0) & (h <= 1)):
        problems.append("exit hazards outside [0, 1] or NaN")
    if not np.all(np.asarray(young_entrants) >= 0):
        problems.append("negative or NaN young entrants")
    if problems:
        raise EngineError("invalid engine input: " + "; ".join(problems))


def simulate(employment0, hazard, net_creation, young_entrants, net_mobility, profiles: Profiles,
             record: str = "full", progress=None, hazard_by_year: bool = False):
    """Run the annual steps.

    Parameters
    ----------
    employment0 : array (..., age)
        Base-year stock.
    hazard : array broadcastable to (..., age), or (n_years, ...) with ``hazard_by_year``
    net_creation, young_entrants, net_mobility : arrays (n_years, ...)
    record : {"full", "totals", "departures"}
        ``full`` keeps every age-resolved flow; ``totals`` keeps age-summed flows and
        the age-resolved employment; ``cells`` keeps age-summed flows and age-summed
        employment only (ensembles); ``departures`` keeps only the departures total
        (for calibration).  The stocks are the same bit for bit in every mode.
    progress : callable(i, n), optional
        Called after each year.
    hazard_by_year : bool
        ``hazard[t]`` is the hazard of flow year ``t`` (scenario exit levers).

    Returns
    -------
    dict of arrays with a leading year axis.  ``employment`` has n_years + 1 entries.
    """
    if record not in ("full", "totals", "cells", "departures"):
        raise ValueError(f"record must be full, totals, cells or departures, got {record!r}")
    employment0 = np.asarray(employment0, dtype=float)
    _check_inputs(employment0, hazard, young_entrants)
    n_years = net_creation.shape[0]
    hz = np.asarray(hazard, dtype=float)
    nd = max(employment0.ndim, hz.ndim - (1 if hazard_by_year else 0))
    kernel = _Kernel(profiles, nd)
    H = (np.stack([_age_first(hz[t], nd) for t in range(hz.shape[0])]) if hazard_by_year
         else _age_first(hz, nd))
    X = _age_first(employment0, nd)
    keys_age = ("departures", "young_entrants", "net_mobility", "other_recruits")
    out: dict[str, list] = {k: [] for k in ("employment", *keys_age)}
    if record in ("full", "totals"):
        out["employment"].append(employment0 if employment0.shape == np.moveaxis(X, 0, -1).shape
                                 else np.moveaxis(X, 0, -1))
    elif record == "cells":
        out["employment"].append(_age_sum(X))
    for t in range(n_years):
        ye, nm = young_entrants[t], net_mobility[t]
        X, dep, other, ages = kernel.year(X, H[t] if hazard_by_year else H, net_creation[t], ye, nm,
                                          want_ages=record == "full")
        if record == "full":
            out["employment"].append(np.moveaxis(X, 0, -1))
            for k in keys_age:
                out[k].append(np.moveaxis(ages[k], 0, -1))
        elif record in ("totals", "cells"):
            out["employment"].append(np.moveaxis(X, 0, -1) if record == "totals" else _age_sum(X))
            out["departures"].append(dep)
            out["young_entrants"].append(np.broadcast_to(ye, dep.shape))
            out["net_mobility"].append(np.broadcast_to(nm, dep.shape))
            out["other_recruits"].append(other)
        else:
            out["departures"].append(dep)
        if progress is not None:
            progress(t + 1, n_years)
    return {k: np.stack(v) for k, v in out.items() if v}


def simulate_dask(employment0, hazard, net_creation, young_entrants, net_mobility, profiles: Profiles):
    """:func:`simulate` (``record="cells"``) on dask arrays chunked along any cell axis —
    territory, métier, scenario or draw — but not along age or year.  Each block runs the
    unchanged engine; cells are independent, so the result equals the in-memory run bit for bit.

    ``employment0`` is (..., age); ``hazard`` broadcastable to it (no per-year hazard here);
    ``net_creation``, ``young_entrants``, ``net_mobility`` are (year, ...).  Returns dask arrays:
    ``employment`` (year + 1, ...) and ``departures``, ``young_entrants``, ``net_mobility``,
    ``other_recruits`` (year, ...), age-summed, float64.
    """
    import dask.array as da

    E = da.asarray(employment0)
    k = E.ndim - 1
    cells = "bcdefghijk"[:k]
    E = E.rechunk({k: -1})
    H = da.broadcast_to(da.asarray(hazard), E.shape).rechunk(E.chunks)
    flows = [da.asarray(f).rechunk((-1,) + E.chunks[:k]) for f in (net_creation, young_entrants, net_mobility)]
    n_years = flows[0].shape[0]

    def block(e, h, nc, ye, nm):
        res = simulate(e, h, nc, ye, nm, profiles, record="cells")
        out = np.full((5, n_years + 1) + e.shape[:-1], np.nan)
        out[0] = res["employment"]
        for i, name in enumerate(("departures", "young_entrants", "net_mobility", "other_recruits"), start=1):
            out[i, :n_years] = res[name]
        return out

    stacked = da.blockwise(block, "vy" + cells, E, cells + "a", H, cells + "a", flows[0], "y" + cells,
                           flows[1], "y" + cells, flows[2], "y" + cells, new_axes={"v": 5},
                           adjust_chunks={"y": n_years + 1}, concatenate=True, dtype=float)
    names = ("employment", "departures", "young_entrants", "net_mobility", "other_recruits")
    return {name: (stacked[i] if name == "employment" else stacked[i, :n_years]) for i, name in enumerate(names)}
