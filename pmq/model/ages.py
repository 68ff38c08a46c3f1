"""Age pyramids, exit hazards and age profiles of inflows.

Everything here is a pure, vectorised function of numpy arrays whose **last
axis is age** (single years).  Leading axes (territory, métier, draw, …) are
broadcast, so the same functions serve one cell or a whole ensemble.

What is estimated (see ``docs/engine.md``, section « Pyramids and hazards »):

* the national exit-hazard schedule :func:`logistic_hazard`, fitted in
  :mod:`pmq.estimation.build` to DARES pseudo-cohort continuation ratios;
* per-métier exit-age offsets, :func:`shift_exit_age` (bounded, never below 50);
* single-year pyramids, :func:`split_bands` (DARES 9-band shapes) then
  :func:`tilt` (one parameter per cell, calibrated on the engine).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "AGES",
    "BAND_EDGES",
    "BAND_LABELS",
    "AgeProfiles",
    "logistic_hazard",
    "shift_exit_age",
    "split_bands",
    "tilt",
    "band_sums",
]

#: Single years of age modelled by default: 15 … 74; exit is forced at 74 (hazard 1).
AGES = np.arange(15, 75)

#: DARES « Portraits statistiques des métiers » age bands (lower edges; last band open).
BAND_LABELS = ["15-24 ans", "25-29 ans", "30-34 ans", "35-39 ans", "40-44 ans",
               "45-49 ans", "50-54 ans", "55-59 ans", "60 ans ou plus"]
BAND_EDGES = [15, 25, 30, 35, 40, 45, 50, 55, 60]


def logistic_hazard(ages: np.ndarray, a50: float, scale: float, hmax: float, h0: float,
                    start_age: int = 40) -> np.ndarray:
    """Annual end-of-career exit hazard by single year of age.

    ``h(a) = h0 + (hmax - h0) / (1 + exp(-(a - a50) / scale))`` for ``a >= start_age``,
    0 below, and 1 at the top age (forced exit).
    """
    ages = np.asarray(ages, dtype=float)
    h = h0 + (hmax - h0) / (1.0 + np.exp(-(ages - a50) / scale))
    h = np.where(ages < start_age, 0.0, h)
    h = np.clip(h, 0.0, 1.0)
    h[..., -1] = 1.0
    return h


def shift_exit_age(hazard: np.ndarray, offset: np.ndarray | float, ages: np.ndarray = AGES,
                   min_age: int = 50) -> np.ndarray:
    """Shift the late-career part of a hazard schedule by ``offset`` years.

    ``h_m(a) = h(a - offset)`` for ``a >= min_age`` (linear interpolation between
    single years), unchanged below ``min_age``; the top age keeps hazard 1.
    A positive offset means later exits.  ``offset`` broadcasts over leading axes.
    """
    hazard = np.asarray(hazard, dtype=float)
    offset = np.asarray(offset, dtype=float)[..., None]
    src = ages - offset  # (..., age)
    lo = np.clip(np.floor(src - ages[0]).astype(int), 0, len(ages) - 1)
    hi = np.clip(lo + 1, 0, len(ages) - 1)
    frac = np.clip(src - ages[0] - lo, 0.0, 1.0)
    h = np.broadcast_to(hazard, np.broadcast_shapes(hazard.shape, src.shape))
    shifted = (np.take_along_axis(h, np.broadcast_to(lo, h.shape), -1) * (1 - frac)
               + np.take_along_axis(h, np.broadcast_to(hi, h.shape), -1) * frac)
    # Below the youngest age the schedule is its value at the youngest age.
    out = np.where(ages >= min_age, shifted, h)
    out = np.clip(out, 0.0, 1.0)
    out[..., -1] = 1.0
    return out


def split_bands(counts: np.ndarray, hazard: np.ndarray, share_15_19: float,
                ages: np.ndarray = AGES) -> np.ndarray:
    """Split DARES 9-band counts (last axis) into single years of age.

    * 15-24 is first cut into 15-19 and 20-24 with the national share ``share_15_19``
      (cited in ``pmq/data/raw/age_facts.csv``);
    * bands 15-19 … 55-59 are spread by a monotone (PCHIP) interpolation of the
      cumulative count through the band edges, which keeps every band total exactly
      and never goes negative;
    * the open band 60+ is spread in proportion to survival under ``hazard`` from
      age 60 (stationary-cohort assumption): ``E(60+k) ∝ Π_{j<k} (1 - h(60+j))``.
    """
    from scipy.interpolate import PchipInterpolator  # scipy is slow to import: only when bands are split

    counts = np.asarray(counts, dtype=float)
    lead = counts.shape[:-1]
    c1519 = counts[..., 0] * share_15_19
    c2024 = counts[..., 0] - c1519
    inner = np.concatenate([c1519[..., None], c2024[..., None], counts[..., 1:8]], axis=-1)
    knots = np.array([15, 20, 25, 30, 35, 40, 45, 50, 55, 60], dtype=float)
    cum = np.concatenate([np.zeros(lead + (1,)), np.cumsum(inner, axis=-1)], axis=-1)
    interp = PchipInterpolator(knots, cum, axis=-1)
    young_ages = ages[ages < 60]
    edges = np.append(young_ages, 60).astype(float)
    cum_at = interp(edges)
    young = np.diff(cum_at, axis=-1)
    young = np.maximum(young, 0.0)
    old_mask = ages >= 60
    h_old = np.broadcast_to(hazard, lead + (len(ages),))[..., old_mask]
    surv = np.cumprod(np.concatenate([np.ones(lead + (1,)), 1.0 - h_old[..., :-1]], axis=-1), -1)
    old = counts[..., 8:9] * surv / surv.sum(-1, keepdims=True)
    return np.concatenate([young, old], axis=-1)


def tilt(shape: np.ndarray, theta: np.ndarray | float, total: np.ndarray | float,
         ages: np.ndarray = AGES, pivot: float = 45.0, width: float = 10.0) -> np.ndarray:
    """Exponential tilt of an age shape, rescaled to ``total``.

    ``E(a) ∝ shape(a) · exp(theta · (a - pivot) / width)``: ``theta > 0`` ages the
    pyramid, ``theta < 0`` rejuvenates it, ``theta = 0`` keeps the shape.
    """
    shape = np.asarray(shape, dtype=float)
    theta = np.asarray(theta, dtype=float)[..., None]
    x = (ages - pivot) / width
    logw = theta * x
    logw = logw - logw.max(axis=-1, keepdims=True)  # avoid overflow
    w = shape * np.exp(logw)
    s = w.sum(-1, keepdims=True)
    s = np.where(s > 0, s, 1.0)
    out: np.ndarray = w / s * np.asarray(total, dtype=float)[..., None]
    return out


def band_sums(values: np.ndarray, ages: np.ndarray = AGES,
              edges: list[int] | None = None) -> np.ndarray:
    """Sum the last (age) axis into bands starting at ``edges`` (default: 5-year DARES bands)."""
    edges = BAND_EDGES if edges is None else edges
    idx = np.searchsorted(np.asarray(edges), ages, side="right") - 1
    out = np.zeros(values.shape[:-1] + (len(edges),))
    for b in range(len(edges)):  # loop over bands (≤ 12), not cells
        out[..., b] = values[..., idx == b].sum(-1)
    return out


def _truncated_normal(ages: np.ndarray, mean: float, sd: float, lo: int, hi: int) -> np.ndarray:
    w = np.exp(-0.5 * ((ages - mean) / sd) ** 2)
    w = np.where((ages >= lo) & (ages <= hi), w, 0.0)
    out: np.ndarray = w / w.sum()
    return out


@dataclass(frozen=True)
class AgeProfiles:
    """Age profiles that place inflows and remove negative flows (assumptions, documented).

    Inflows labelled year t are placed at the age they have at the end of the year.

    young_mean, young_sd, young_min, young_max
        Young entrants (leavers of initial education, counted when in a job about
        three years after leaving): truncated normal.  Default mean 22.5: average
        age at leaving initial education ≈ 21 (see ``age_facts.csv``) plus the
        lag to a stable job, spread over 16–30.
    recruit_mean, recruit_sd, recruit_min, recruit_max
        Positive « other recruits » (from other métiers, unemployment, inactivity,
        immigration): prime ages, truncated normal mean 37, sd 10 over 20–59.
    mobility_mean, mobility_sd, mobility_min, mobility_max
        Positive net inflows from other territories: inter-regional migration of
        workers peaks in the late twenties; truncated normal mean 30, sd 8, 18–59.
    removal_flat_until, removal_floor_age, removal_floor
        Weights for removing negative flows (net outflows), applied to the stock:
        1 up to ``removal_flat_until``, falling linearly to ``removal_floor`` at
        ``removal_floor_age`` and flat after — mobility out of a métier declines
        with age.
    """

    young_mean: float = 22.5
    young_sd: float = 3.0
    young_min: int = 16
    young_max: int = 30
    recruit_mean: float = 37.0
    recruit_sd: float = 10.0
    recruit_min: int = 20
    recruit_max: int = 59
    mobility_mean: float = 30.0
    mobility_sd: float = 8.0
    mobility_min: int = 18
    mobility_max: int = 59
    removal_flat_until: int = 30
    removal_floor_age: int = 60
    removal_floor: float = 0.3
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def young(self, ages: np.ndarray = AGES) -> np.ndarray:
        return _truncated_normal(ages, self.young_mean, self.young_sd, self.young_min, self.young_max)

    def recruits(self, ages: np.ndarray = AGES) -> np.ndarray:
        return _truncated_normal(ages, self.recruit_mean, self.recruit_sd, self.recruit_min,
                                 self.recruit_max)

    def mobility(self, ages: np.ndarray = AGES) -> np.ndarray:
        return _truncated_normal(ages, self.mobility_mean, self.mobility_sd, self.mobility_min,
                                 self.mobility_max)

    def removal(self, ages: np.ndarray = AGES) -> np.ndarray:
        a0, a1, f = self.removal_flat_until, self.removal_floor_age, self.removal_floor
        w = 1.0 - (1.0 - f) * np.clip((ages - a0) / (a1 - a0), 0.0, 1.0)
        return w

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("extra")
        return d
