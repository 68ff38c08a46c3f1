"""Estimation of the hazard schedule and calibration of pyramids on full engine runs.

Three steps, all vectorised over cells (see ``docs/engine.md``):

1. :func:`fit_national_hazard` — a logistic exit-hazard schedule by single year of
   age fitted (least squares) to the national pseudo-cohort continuation ratios
   of DARES's 9-band pyramids, five years apart (ages 40+).
2. :func:`fit_exit_age_offsets` — one bounded exit-age offset per métier
   (``|offset| ≤ bound``; hazards below 50 untouched) so that the engine's
   national departures of the métier over the period, starting from the métier's
   DARES pyramid, match the published national total.
3. :func:`fit_tilts` — one exponential tilt of the pyramid per cell so that the
   engine's own departures over the period match the published cell value.
   Every evaluation is a full engine run over the period (recruits who enter at
   older ages also exit), solved by vectorised bisection.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from pmq.model.ages import AGES, BAND_LABELS, band_sums, logistic_hazard, shift_exit_age, split_bands, tilt
from pmq.model.engine import Profiles, simulate
from pmq.errors import CalibrationError
from pmq.options import tr
from pmq.model.paths import input_paths
from pmq.model.rules import Rules

__all__ = ["fit_national_hazard", "period_departures", "bisect", "fit_exit_age_offsets", "fit_tilts",
           "BisectionReport"]


def _age5_closed(E: np.ndarray, h: np.ndarray, years: int = 5) -> np.ndarray:
    for _ in range(years):
        E = E * (1 - h)
        E = np.concatenate([np.zeros_like(E[..., :1]), E[..., :-1]], axis=-1)
    return E


def fit_national_hazard(series: pd.DataFrame, share_15_19: float, pairs: list[tuple[str, str]],
                        start_age: int = 40) -> dict:
    """Fit the logistic hazard to continuation ratios of the all-employment pyramid.

    ``series`` has columns ``annee`` (window label), ``age`` (DARES band label) and
    ``effectif``.  For each pair of windows five years apart the model ages the
    earlier pyramid five years under the hazard (closed cohorts) and compares, band
    by band, the ratios 40-44→45-49, 45-49→50-54, 50-54→55-59 and 55+→60+ with the
    observed ones.
    """
    pyr = series.pivot(index="annee", columns="age", values="effectif")[BAND_LABELS]

    def model(p, t0):
        h = logistic_hazard(AGES, p[0], p[1], p[2], p[3], start_age=start_age)
        E0 = split_bands(pyr.loc[t0].to_numpy(), h, share_15_19)
        b0 = band_sums(E0)
        b5 = band_sums(_age5_closed(E0, h))
        return np.array([b5[5] / b0[4], b5[6] / b0[5], b5[7] / b0[6], b5[8] / (b0[7] + b0[8])])

    def observed(t0, t1):
        a, b = pyr.loc[t0].to_numpy(), pyr.loc[t1].to_numpy()
        return np.array([b[5] / a[4], b[6] / a[5], b[7] / a[6], b[8] / (a[7] + a[8])])

    def resid(p):
        return np.concatenate([model(p, t0) - observed(t0, t1) for t0, t1 in pairs])

    fit = least_squares(resid, x0=[62.0, 2.0, 0.5, 0.005],
                        bounds=([55.0, 0.3, 0.05, 0.0], [70.0, 8.0, 1.0, 0.05]))
    params = dict(zip(["a50", "scale", "hmax", "h0"], map(float, fit.x)))
    table = []
    for t0, t1 in pairs:
        for lab, m, o in zip(["40-44→45-49", "45-49→50-54", "50-54→55-59", "55+→60+"],
                             model(fit.x, t0), observed(t0, t1)):
            table.append({"from": t0, "to": t1, "passage": lab, "model": float(m), "observed": float(o)})
    return {"params": params, "start_age": start_age, "rmse": float(np.sqrt(np.mean(fit.fun ** 2))),
            "ratios": table, "success": bool(fit.success)}


def period_departures(E0, hazard, N_tot, Y_tot, M_tot, n_period: int, profiles: Profiles,
                      rules: Rules) -> np.ndarray:
    """Departures summed over the published period from a full engine run (per cell)."""
    # Only the period matters here: continuation rules are irrelevant, set to the simplest.
    period_rules = replace(rules, demand_continuation="constant_level",
                           young_continuation="constant_level", mobility_continuation="constant_level")
    _, nc, y, m = input_paths(E0.sum(-1), N_tot, Y_tot, M_tot, n_period, n_period, period_rules)
    res = simulate(E0, hazard, nc, y, m, profiles, record="departures")
    return res["departures"].sum(0)


@dataclass
class BisectionReport:
    iterations: int
    max_abs_error: float
    max_rel_error: float
    at_lower_bound: np.ndarray
    at_upper_bound: np.ndarray


def bisect(f, target: np.ndarray, lo: float, hi: float, increasing: bool, n_iter: int = 60,
           tol: float = 1e-9) -> tuple[np.ndarray, BisectionReport]:
    """Vectorised bisection: find x (one per cell) with f(x) = target, f monotone.

    Cells whose target lies outside [f(lo), f(hi)] stay at the bound and are reported.
    """
    target = np.asarray(target, dtype=float)
    a = np.full(target.shape, lo)
    b = np.full(target.shape, hi)
    fa, fb = f(a), f(b)
    sign = 1.0 if increasing else -1.0
    below = sign * (fa - target) > 0  # even the lower bound overshoots
    above = sign * (fb - target) < 0  # even the upper bound undershoots
    it = 0
    for it in range(1, n_iter + 1):  # noqa: B007 (the count is reported after the loop)
        mid = 0.5 * (a + b)
        fm = f(mid)
        go_right = sign * (fm - target) < 0
        a = np.where(go_right, mid, a)
        b = np.where(go_right, b, mid)
        if np.all(b - a < tol):
            break
    x = 0.5 * (a + b)
    x = np.where(below, lo, np.where(above, hi, x))
    fx = f(x)
    err = fx - target
    scale = np.where(np.abs(target) > 0, np.abs(target), 1.0)
    ok = ~(below | above)
    rep = BisectionReport(it, float(np.abs(err[ok]).max(initial=0.0)),
                          float((np.abs(err) / scale)[ok].max(initial=0.0)), below, above)
    return x, rep


def fit_exit_age_offsets(counts: np.ndarray, hazard_nat: np.ndarray, E_tot: np.ndarray, N: np.ndarray,
                         Y: np.ndarray, M: np.ndarray, target: np.ndarray, n_period: int,
                         profiles: Profiles, rules: Rules, share_15_19: float, bound: float = 3.0):
    """Per-métier exit-age offset (years) so national departures match; arrays are (metier, ...)."""

    def f(delta):
        h = shift_exit_age(hazard_nat, delta)
        shape = split_bands(counts, h, share_15_19)
        E0 = tilt(shape, 0.0, E_tot)
        return period_departures(E0, h, N, Y, M, n_period, profiles, rules)

    return bisect(f, target, -bound, bound, increasing=False, n_iter=50, tol=1e-7)


def fit_tilts(shape: np.ndarray, hazard: np.ndarray, E_tot, N, Y, M, target, n_period: int,
              profiles: Profiles, rules: Rules, bound: float = 8.0):
    """Per-cell tilt of the pyramid so the engine's period departures match ``target``."""

    def f(theta):
        E0 = tilt(shape, theta, E_tot)
        return period_departures(E0, hazard, N, Y, M, n_period, profiles, rules)

    x, rep = bisect(f, target, -bound, bound, increasing=True, n_iter=60, tol=1e-10)
    if rep.max_rel_error > 1e-3:
        raise CalibrationError(tr(f"pyramid calibration did not converge: max relative error "
                                  f"{rep.max_rel_error:.2e}",
                                  f"le calage des pyramides n'a pas convergé : erreur relative maximale "
                                  f"{rep.max_rel_error:.2e}"))
    return x, rep
