"""Net mobility of employed workers between territories, year by year.

``net_mobility`` is the net **inflow** of employed workers into a cell from the
other territories (same métier).  It must sum to zero over territories for each
métier and year when the territories cover the whole country; the rules keep
that property:

spreading (within the published period)
    ``uniform`` (default): the published total divided evenly over the years —
    a zero-sum total stays zero-sum every year.
continuation
    ``ratio_recentred`` (default): the period's ratio to employment times the
    cell's employment, minus the employment-weighted mean over territories of the
    same métier, so the sum over territories stays exactly zero (use it when the
    territories cover the whole country);
    ``constant_ratio``: the period's ratio to employment, not recentred (for a set of
    territories that exchanges workers with the outside);
    ``constant_level``: the period's annual average; ``zero``: no mobility.

From a matrix of inter-territorial rates instead of the published balance: see
:mod:`pmq.inputs.interregional`.  Mobility between métiers (a transition matrix) is in
:mod:`pmq.analysis.occupational`.
"""
from __future__ import annotations

import numpy as np

from pmq.model.rules import check_rules, flow_years

__all__ = ["SPREADING_RULES", "CONTINUATION_RULES", "annual_path"]

SPREADING_RULES = ("uniform",)
CONTINUATION_RULES = ("ratio_recentred", "constant_ratio", "constant_level", "zero")


def annual_path(total: np.ndarray, employment: np.ndarray, n_period: int, *,
                spreading: str = "uniform", continuation: str = "ratio_recentred",
                territory_axis: int = 0, recentred: np.ndarray | None = None) -> np.ndarray:
    """Net inflow by year.

    Parameters
    ----------
    total : array (territory, ...)
        Published net inflow over the period (persons).
    employment : array (n_years + 1, territory, ...)
        Employment path.
    territory_axis : int
        Axis of ``total`` that holds territories (for the recentring).
    recentred : bool array (territory,), optional
        The territories that exchange workers with one another (default: all).  The others keep their
        ratio path, not recentred, and take no share of the others' recentring: territories outside the
        published exchange (the overseas régions, estimated with zero net mobility) leave the recentred
        territories' paths exactly as they are without them.
    """
    check_rules("net_mobility", spreading, SPREADING_RULES, continuation, CONTINUATION_RULES)
    total, emp, n_years, t = flow_years(total, employment, n_period)
    within = np.broadcast_to(total / n_period, emp.shape)
    if continuation in ("ratio_recentred", "constant_ratio"):
        emp_period = emp[:n_period].sum(0)
        ratio = np.where(emp_period > 0, total / np.where(emp_period > 0, emp_period, 1.0), 0.0)
        raw = ratio * emp
    if continuation == "constant_ratio":
        after = raw
    elif continuation == "ratio_recentred" and recentred is None:
        ax = territory_axis + 1
        emp_sum = emp.sum(ax, keepdims=True)
        share = np.where(emp_sum > 0, emp / np.where(emp_sum > 0, emp_sum, 1.0), 0.0)
        after = raw - share * raw.sum(ax, keepdims=True)
    elif continuation == "ratio_recentred":
        ax = territory_axis + 1
        shape = [1] * emp.ndim
        shape[ax] = emp.shape[ax]
        inside = np.asarray(recentred, dtype=bool).reshape(shape)
        emp_in, raw_in = np.where(inside, emp, 0.0), np.where(inside, raw, 0.0)
        emp_sum = emp_in.sum(ax, keepdims=True)
        share = np.where(emp_sum > 0, emp_in / np.where(emp_sum > 0, emp_sum, 1.0), 0.0)
        after = np.where(inside, raw - share * raw_in.sum(ax, keepdims=True), raw)
    elif continuation == "constant_level":
        after = within
    else:
        after = np.zeros_like(emp)
    return np.where(t < n_period, within, after)
