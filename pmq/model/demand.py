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

Empty cells
    A cell with no employment at either end of the period (``E_base = E_end = 0``) stays at 0
    under every rule.  A growth rate is not defined for a cell that **starts from zero**
    (``E_base = 0 < E_end``: a métier appearing in a territory) or **ends at zero**
    (``E_base > 0 = E_end``: a métier disappearing); such a cell is spread ``linear`` within the
    period whatever the spreading rule, and held at its end-of-period level afterwards under the
    growth-rate continuations (``constant_growth``, ``damped_growth``) — see
    :func:`growth_undefined` and ``docs/engine.md``.  A period that ends below zero
    (net creation larger than the stock, e.g. job losses in an empty cell) is refused.
"""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pmq.model.rules import check_rules
from pmq.errors import InputError
from pmq.options import tr

__all__ = ["SPREADING_RULES", "CONTINUATION_RULES", "employment_path", "growth_undefined",
           "uses_growth_rate"]

SPREADING_RULES = ("constant_growth", "linear")
CONTINUATION_RULES = ("constant_growth", "constant_level", "damped_growth")


def growth_undefined(e_base: npt.ArrayLike, e_end: npt.ArrayLike) -> np.ndarray:
    """Cells whose period growth rate is not defined: one end of the period is zero, the other
    positive.  :func:`employment_path` spreads them linearly and holds them level afterwards."""
    base = np.asarray(e_base, dtype=float)
    end = np.asarray(e_end, dtype=float)
    undefined: np.ndarray = ((base == 0) & (end > 0)) | ((base > 0) & (end == 0))
    return undefined


def uses_growth_rate(spreading: str, continuation: str) -> bool:
    """Whether the rules need each cell's period growth rate (and so fall back for the cells of
    :func:`growth_undefined`)."""
    return spreading == "constant_growth" or continuation in ("constant_growth", "damped_growth")


def employment_path(e_base: np.ndarray, e_end: np.ndarray, n_period: int, n_years: int, *,
                    spreading: str = "constant_growth", continuation: str = "constant_growth",
                    half_life: float = 10.0) -> np.ndarray:
    """Total employment of each cell at the start of each year.

    Parameters
    ----------
    e_base, e_end : array (...)
        Employment at the base year and at the end of the published period (≥ 0).
    n_period : int
        Number of annual steps of the published period (11 for 2019–2030).
    n_years : int
        Number of annual steps to project (the horizon).

    Returns
    -------
    array (n_years + 1, ...)
        Employment at the start of years base … base + n_years.  Cells of
        :func:`growth_undefined` are spread linearly and held level after the period.

    Raises
    ------
    InputError
        If a cell's employment is negative or NaN at either end of the period (the error lists
        the cells' indices; :func:`pmq.project` names them by territory and métier first).
    """
    e_base = np.asarray(e_base, dtype=float)
    e_end = np.asarray(e_end, dtype=float)
    check_rules("demand", spreading, SPREADING_RULES, continuation, CONTINUATION_RULES)
    bad = ~((e_base >= 0) & (np.broadcast_to(e_end, np.broadcast_shapes(e_base.shape, e_end.shape)) >= 0))
    if np.any(bad):
        idx = np.argwhere(bad)
        eb, ee = np.broadcast_arrays(e_base, e_end)
        rows = [tr(f"cell {tuple(int(i) for i in c)}: {eb[tuple(c)]:g} → {ee[tuple(c)]:g}",
                   f"cellule {tuple(int(i) for i in c)} : {eb[tuple(c)]:g} → {ee[tuple(c)]:g}") for c in idx[:10]]
        n = len(idx)
        raise InputError(tr(f"employment would be negative or NaN in {n} cell(s): the net creation of "
                            "the period removes more jobs than the cell has",
                            f"l'emploi serait négatif ou NaN dans {n} cellule{'s' if n > 1 else ''} : les "
                            "créations nettes de la période suppriment plus d'emplois que la cellule n'en compte"),
                         column="net_creation", rows=rows)
    t = np.arange(n_years + 1).reshape((-1,) + (1,) * max(e_base.ndim, e_end.ndim))
    undefined = growth_undefined(e_base, e_end)
    both = (e_base > 0) & (e_end > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(both, e_end / np.where(both, e_base, 1.0), 1.0)
    g = ratio ** (1.0 / n_period)  # gross annual growth factor (1 where undefined or empty)
    tin = np.minimum(t, n_period)
    linear = e_base + (e_end - e_base) * tin / n_period
    if spreading == "constant_growth":
        within = e_base * g ** tin
        within = np.where(tin == n_period, e_end, within)  # exact end point
        within = np.where(undefined, linear, within)        # no growth rate from or to zero
    else:
        within = linear
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
