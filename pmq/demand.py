"""Employment path (labour demand) of each cell, year by year.

The reference path reproduces the published total change over the base period
(e.g. 2019–2030) in every cell; how that total is spread over the years and how
the path continues afterwards are *named rules*:

spreading (within the published period)
    ``constant_growth`` (default): constant annual growth rate
    ``g = (E_end / E_base) ** (1 / n) - 1``;
    ``linear``: the same number of jobs each year, ``(E_end - E_base) / n``.
continuation (after the published period)
    ``constant_growth`` (default): keep the cell's period growth rate;
    ``constant_level``: employment stays at its end-of-period level;
    ``damped_growth``: the period growth rate decays by half every ``half_life`` years.
"""
from __future__ import annotations

import numpy as np

from ._rules import check_rules
from .errors import InputError

__all__ = ["SPREADING_RULES", "CONTINUATION_RULES", "employment_path"]

SPREADING_RULES = ("constant_growth", "linear")
CONTINUATION_RULES = ("constant_growth", "constant_level", "damped_growth")


def employment_path(e_base: np.ndarray, e_end: np.ndarray, n_period: int, n_years: int, *,
                    spreading: str = "constant_growth", continuation: str = "constant_growth",
                    half_life: float = 10.0) -> np.ndarray:
    """Total employment of each cell at the start of each year.

    Parameters
    ----------
    e_base, e_end : array (...)
        Employment at the base year and at the end of the published period.
    n_period : int
        Number of annual steps of the published period (11 for 2019–2030).
    n_years : int
        Number of annual steps to project (the horizon).

    Returns
    -------
    array (n_years + 1, ...)
        Employment at the start of years base … base + n_years.
    """
    e_base = np.asarray(e_base, dtype=float)
    e_end = np.asarray(e_end, dtype=float)
    check_rules("demand", spreading, SPREADING_RULES, continuation, CONTINUATION_RULES)
    t = np.arange(n_years + 1).reshape((-1,) + (1,) * e_base.ndim)
    needs_ratio = spreading == "constant_growth" or continuation != "constant_level"
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(e_base > 0, e_end / np.where(e_base > 0, e_base, 1.0), 1.0)
    if needs_ratio and np.any(ratio <= 0):
        raise InputError("the published period ends with zero or negative employment in some cells: "
                         "a growth-rate rule cannot reach it; use spreading='linear' and "
                         "continuation='constant_level'")
    g = np.where(ratio > 0, ratio, 1.0) ** (1.0 / n_period)  # gross annual growth factor
    tin = np.minimum(t, n_period)
    if spreading == "constant_growth":
        within = e_base * g ** tin
        within = np.where(tin == n_period, e_end, within)  # exact end point
    else:
        within = e_base + (e_end - e_base) * tin / n_period
    after = np.maximum(t - n_period, 0)
    if continuation == "constant_growth":
        cont = g ** after
    elif continuation == "constant_level":
        cont = np.ones_like(g * after)
    else:  # damped_growth: log growth decays by half every half_life years
        lam = np.log(2.0) / half_life
        cum = (1.0 - np.exp(-lam * after)) / lam  # ∫ exp(-lam s) ds, in years
        cont = np.exp(np.log(g) * cum)
    return within * cont
