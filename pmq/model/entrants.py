"""Young entrants (jeunes débutants) year by year.

By default young entrants come from the published flows of the base period
(leavers of initial education who hold a job about three years after leaving),
spread by a named rule and continued after the period by another:

spreading
    ``proportional`` (default): in proportion to the cell's employment at the
    start of each year (the published total is kept exactly);
    ``uniform``: the same number each year.
continuation
    ``constant_ratio`` (default): the period's ratio of entrants to employment
    (total entrants ÷ Σ employment over the period) times the cell's employment;
    ``constant_level``: the period's annual average.

The supply-side issue (formation × métier matrix) extends this module.
"""
from __future__ import annotations

import numpy as np

from pmq.model.rules import check_rules, flow_years

__all__ = ["SPREADING_RULES", "CONTINUATION_RULES", "annual_path"]

SPREADING_RULES = ("proportional", "uniform")
CONTINUATION_RULES = ("constant_ratio", "constant_level")


def annual_path(total: np.ndarray, employment: np.ndarray, n_period: int, *,
                spreading: str = "proportional", continuation: str = "constant_ratio",
                name: str = "young_entrants") -> np.ndarray:
    """Spread a period total over years and continue it after the period.

    Parameters
    ----------
    total : array (...)
        Published total over the period (persons).
    employment : array (n_years + 1, ...)
        Employment path at the start of each year (from :func:`pmq.model.demand.employment_path`).
    n_period : int
        Number of annual steps in the published period.

    Returns
    -------
    array (n_years, ...)
        The flow labelled with each projected year.
    """
    check_rules(name, spreading, SPREADING_RULES, continuation, CONTINUATION_RULES)
    total, emp, n_years, t = flow_years(total, employment, n_period)
    emp_period = emp[:n_period].sum(0)
    safe = np.where(emp_period > 0, emp_period, 1.0)
    ratio = np.where(emp_period > 0, total / safe, 0.0)
    if spreading == "proportional":
        within = ratio * emp
        within = np.where(emp_period > 0, within, total / n_period)
    else:
        within = np.broadcast_to(total / n_period, emp.shape)
    if continuation == "constant_ratio":
        after = ratio * emp
    else:
        after = np.broadcast_to(total / n_period, emp.shape)
    return np.where(t < n_period, within, after)
