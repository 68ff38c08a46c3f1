"""Annual paths of every cell from the published period totals: employment (:mod:`pmq.model.demand`),
young entrants (:mod:`pmq.model.entrants`) and net mobility (:mod:`pmq.model.mobility`), under the
:class:`~pmq.model.rules.Rules` of a scenario."""
from __future__ import annotations

import numpy as np

from pmq.model import demand, entrants, mobility
from pmq.model.rules import Rules

__all__ = ["input_paths"]


def input_paths(e_base: np.ndarray, net_creation_total: np.ndarray, young_total: np.ndarray,
                mobility_total: np.ndarray, n_period: int, n_years: int, rules: Rules, territory_axis: int = 0,
                recentred: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Annual paths of employment and of the exogenous flows for every cell.

    Returns ``employment`` (n_years + 1, ...) and ``net_creation``, ``young_entrants``,
    ``net_mobility`` (n_years, ...).  Paths are computed over at least the whole
    published period, so a short horizon sees the same years as a long one.  ``recentred``: the territories
    whose net mobility is recentred together (:func:`pmq.model.mobility.annual_path`; default all).
    """
    n = max(n_years, n_period)
    e_end = e_base + net_creation_total
    # A cell emptied by its net creation misses zero by rounding (ages summed vs a published total).
    e_end = np.where(np.abs(e_end) <= 1e-9 * np.maximum(1.0, np.abs(e_base)), 0.0, e_end)
    emp = demand.employment_path(e_base, e_end, n_period, n,
                                 spreading=rules.demand_spreading,
                                 continuation=rules.demand_continuation,
                                 half_life=rules.demand_half_life)
    nc = np.diff(emp, axis=0)
    y = entrants.annual_path(young_total, emp, n_period, spreading=rules.young_spreading,
                           continuation=rules.young_continuation)
    m = mobility.annual_path(mobility_total, emp, n_period, spreading=rules.mobility_spreading,
                             continuation=rules.mobility_continuation, territory_axis=territory_axis,
                             recentred=recentred)
    return emp[: n_years + 1], nc[:n_years], y[:n_years], m[:n_years]
