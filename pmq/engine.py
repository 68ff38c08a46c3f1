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


def _split_sign(x):
    return np.maximum(x, 0.0), np.maximum(-x, 0.0)


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
    departures = employment * hazard
    survivors = employment - departures
    zeros = np.zeros_like(survivors[..., :1])
    aged = np.concatenate([zeros, survivors[..., :-1]], axis=-1)
    other = net_creation + departures.sum(-1) - young_entrants - net_mobility

    base = aged * profiles.removal
    base_sum = base.sum(-1, keepdims=True)
    share = np.where(base_sum > 0, base / np.where(base_sum > 0, base_sum, 1.0), 0.0)

    y_in = young_entrants[..., None] * profiles.young
    m_pos, m_neg = _split_sign(net_mobility)
    r_pos, r_neg = _split_sign(other)
    m_in = m_pos[..., None] * profiles.mobility - m_neg[..., None] * share
    r_in = r_pos[..., None] * profiles.recruits - r_neg[..., None] * share
    nxt = aged + y_in + m_in + r_in
    if check and isinstance(nxt, np.ndarray):
        tol = 1e-9 * max(1.0, float(np.abs(employment).max(initial=0.0)))
        bad = nxt < -tol
        if bad.any():
            cells = [tuple(int(i) for i in c) for c in np.argwhere(bad.any(-1))]
            err = EngineError(
                f"net outflows exceed the stock that can leave in {len(cells)} cell(s) "
                f"(first cell index {cells[0]}): outflow (negative other recruits or net "
                "mobility) larger than the removal profile allows; check the flows or the "
                "removal weights")
            err.cells = cells
            raise err
    return {
        "employment": nxt,
        "departures": departures,
        "young_entrants": y_in,
        "net_mobility": m_in,
        "other_recruits": r_in,
        "other_recruits_total": other,
    }


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
        the age-resolved employment; ``departures`` keeps only the departures total
        (for calibration).
    progress : callable(i, n), optional
        Called after each year.
    hazard_by_year : bool
        ``hazard[t]`` is the hazard of flow year ``t`` (scenario exit levers).

    Returns
    -------
    dict of arrays with a leading year axis.  ``employment`` has n_years + 1 entries.
    """
    n_years = net_creation.shape[0]
    emp = employment0
    out: dict[str, list] = {"employment": [emp]} if record != "departures" else {}
    keys_age = ("departures", "young_entrants", "net_mobility", "other_recruits")
    for k in keys_age:
        out[k] = []
    for t in range(n_years):
        res = step(emp, hazard[t] if hazard_by_year else hazard, net_creation[t], young_entrants[t], net_mobility[t], profiles)
        emp = res["employment"]
        if record == "full":
            out["employment"].append(emp)
            for k in keys_age:
                out[k].append(res[k])
        elif record == "totals":
            out["employment"].append(emp)
            for k in keys_age:
                out[k].append(res[k].sum(-1))
        else:
            out["departures"].append(res["departures"].sum(-1))
        if progress is not None:
            progress(t + 1, n_years)
    return {k: np.stack(v) for k, v in out.items() if v}
