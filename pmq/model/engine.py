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
  stock × removal weight.  Where that would take more from an age than it holds
  (a steep decline, a métier closing), those ages are emptied and the rest of the
  outflow is spread over the other ages in the same proportion (:func:`_fill`);
  cells where the proportional removal fits are computed exactly as before.  Only an
  outflow larger than every worker left after the year's departures (inflows arrive
  after it is taken) raises :class:`~pmq.errors.EngineError` — in particular any
  outflow from an empty cell, which can receive inflows but cannot lose any.  The
  error carries ``cells`` (indices), ``stock``, ``left``, ``outflow``, ``no_stock`` (per
  cell) and ``step`` (the year index); :func:`pmq.project` turns them into an
  :class:`~pmq.errors.InputError` naming territories and métiers.
* A cell with no employment and no flows stays at exactly 0 (no NaN anywhere).

The loop is over years only; every operation inside is on whole arrays of shape
``(..., age)`` and works on numpy or dask arrays — except the full accounts (``record="full"``), which run
each year by blocks of cells (sized from the processor's cache and the number of ages, :func:`_block_cells`), age
last, straight in the record's arrays: the same arithmetic, the same bits, with a block's arrays kept in cache.
"""
from __future__ import annotations

import functools
import glob
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from pmq.model.ages import AGES, AgeProfiles
from pmq.errors import ArgumentError, EngineError
from pmq.options import tr

__all__ = ["Profiles", "EngineInputs", "ScenarioHazards", "step", "simulate", "with_final_year"]


@dataclass(frozen=True)
class Profiles:
    """Age profiles as arrays over the age axis (each placement profile sums to 1)."""

    young: np.ndarray
    recruits: np.ndarray
    mobility: np.ndarray
    removal: np.ndarray

    @classmethod
    def from_spec(cls, spec: AgeProfiles | None = None, ages: np.ndarray = AGES) -> Profiles:
        spec = spec or AgeProfiles()
        return cls(spec.young(ages), spec.recruits(ages), spec.mobility(ages), spec.removal(ages))


@dataclass(frozen=True)
class ScenarioHazards:
    """Exit hazards of several scenarios run together (:func:`pmq.project_many`) when some vary by year:
    ``parts[i]`` is scenario ``i``'s hazard, ``(..., age)`` or, where ``by_year[i]``, ``(n, ..., age)``.

    :func:`simulate` reads it one flow year at a time into a buffer it reuses, rewriting only the scenarios
    whose hazard varies by year, instead of a ``(year, scenario, ..., age)`` copy of every scenario's hazard.
    ``np.asarray`` of it is that copy (``(n, scenario, ..., age)``), for code that wants the array."""

    parts: tuple[np.ndarray, ...]
    by_year: tuple[bool, ...]
    n_years: int

    @property
    def shape(self) -> tuple[int, ...]:
        one = self.parts[0].shape[1:] if self.by_year[0] else self.parts[0].shape
        return (self.n_years, len(self.parts), *one)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def at(self, t: int) -> np.ndarray:
        """The ``(scenario, ..., age)`` hazard of flow year ``t`` (a new array)."""
        return np.stack([p[t] if b else p for p, b in zip(self.parts, self.by_year)])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        full = np.stack([self.at(t) for t in range(self.n_years)])
        return full if dtype is None else full.astype(dtype, copy=False)


@dataclass(frozen=True)
class EngineInputs:
    """Every array the engine needs for one run (:func:`pmq.projection.run.scenario_inputs` builds it
    from a baseline and a scenario; :func:`simulate` accepts it).  Persons, floats.

    ``...`` stands for the cell axes: ``(territory, métier)`` for one scenario, ``(scenario, territory,
    métier)`` for several run together (:func:`pmq.project_many`).  ``n`` is the number of annual steps
    (the run's horizon).

    Attributes
    ----------
    employment0 : array (..., age)
        Stock at the start of the base year, by age.
    hazard : array (..., age), or (n, ..., age) with ``hazard_by_year``, or ScenarioHazards
        Annual end-of-career exit hazard by age, in [0, 1] (1 at the top age); several scenarios' hazards,
        some by year, as a :class:`ScenarioHazards` (with ``hazard_by_year``).
    net_creation : array (n, ...)
        Net job creation of each flow year (``employment[t + 1] − employment[t]``).
    young_entrants : array (n, ...)
        Young entrants of each flow year (≥ 0).
    net_mobility : array (n, ...)
        Net inflow from other territories of each flow year (signed).
    profiles : Profiles
        Age profiles placing the inflows and weighting the removals.
    hazard_by_year : bool
        ``hazard[t]`` is the hazard of flow year ``t`` (a scenario with exit levers).
    employment : array (n + 1, ...), optional
        The employment path the net creation is the difference of (after demand levers).
    employment_trend : array (n + 1, ...), optional
        The trend path before demand levers (young entrants and mobility follow it).

    Mapping-style reading (``inputs["hazard"]``, ``inputs.keys()``) is kept for code written when
    this was a dict.
    """

    employment0: np.ndarray
    hazard: np.ndarray | ScenarioHazards
    net_creation: np.ndarray
    young_entrants: np.ndarray
    net_mobility: np.ndarray
    profiles: Profiles
    hazard_by_year: bool = False
    employment: np.ndarray | None = None
    employment_trend: np.ndarray | None = None

    @property
    def n_years(self) -> int:
        """Number of annual steps."""
        return int(self.net_creation.shape[0])

    def keys(self) -> list[str]:
        return [f.name for f in fields(self)]

    def __getitem__(self, key: str) -> Any:
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self.keys()


def _age_first(a: npt.ArrayLike, ndim: int) -> np.ndarray:
    """``a`` (..., age), padded to ``ndim`` dims, with age moved to the front (contiguous)."""
    arr = np.asarray(a, dtype=float)
    arr = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape)
    return np.ascontiguousarray(np.moveaxis(arr, -1, 0))


class _Kernel:
    """The annual step on an **age-first** state ``X`` of shape ``(age, *cells)``.

    Age-first keeps every reduction over age a sequence of whole-slab additions (age 15, then
    16, …): each cell's result is the same bit for bit whatever the number of cells, the
    chunking or the scheduler — which ensembles rely on.  One year costs about a dozen passes
    over the state (``benchmarks/bench_engine.py``):

        departures D = X·h;  aged survivors S[a+1] = X[a] − D[a];
        B = S·removal;  f = (net outflows) / ΣB;  X' = S − f·B + y·P_young + m⁺·P_mob + r⁺·P_rec

    (plus, only in cells where S − f·B would go below zero at some age, the capped removal of
    :func:`_fill`).
    """

    def __init__(self, profiles: Profiles, ndim: int) -> None:
        self.py = _age_first(profiles.young, ndim)
        self.pm = _age_first(profiles.mobility, ndim)
        self.pr = _age_first(profiles.recruits, ndim)
        self.rm = _age_first(profiles.removal, ndim)
        self.rmax = self.rm.max(axis=0)

    @classmethod
    def from_age_first(cls, young: np.ndarray, mobility: np.ndarray, recruits: np.ndarray,
                       removal: np.ndarray) -> _Kernel:
        """The kernel of profiles already age-first (``(age, 1)`` or ``(age, n_cells)`` for a block of cells)."""
        k = cls.__new__(cls)
        k.py, k.pm, k.pr, k.rm = young, mobility, recruits, removal
        k.rmax = removal.max(axis=0)
        return k

    def year(self, X: np.ndarray, H: np.ndarray, nc: np.ndarray, ye: np.ndarray, nm: np.ndarray,
             want_ages: bool = False, check: bool = True, work: _Work | None = None,
             into: dict[str, np.ndarray] | None = None, out: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray] | None]:
        """One year.  ``work`` holds buffers reused from year to year (default: fresh ones); ``out``, if
        given, receives next year's state.  With ``want_ages`` the age-resolved flows are returned, age-first
        like the state: departures are the buffer ``D``; young entrants, net mobility and other recruits are
        computed into ``into`` (age-first arrays of the state's shape, keyed by flow) if given, else fresh
        arrays.  Next year's state adds the placed inflows to the survivors in the same order either way
        (young entrants, then mobility, then other recruits): the same bits with or without ``want_ages``."""
        w = work if work is not None else _Work(np.broadcast_shapes(X.shape, H.shape), fresh=True)
        D = np.multiply(X, H, out=w.D)
        dep = _age_sum(D)
        S = out if out is not None else w.state(X)
        S[0] = 0.0
        np.subtract(X[:-1], D[:-1], out=S[1:])
        other = nc + dep - ye - nm
        m_pos, m_neg = np.maximum(nm, 0.0), np.maximum(-nm, 0.0)
        r_pos, r_neg = np.maximum(other, 0.0), np.maximum(-other, 0.0)
        neg = m_neg + r_neg
        B = np.multiply(S, self.rm, out=w.B)
        bsum = _age_sum(B)
        pos = bsum > 0
        safe = np.where(pos, bsum, 1.0)
        f = np.where(pos, neg / safe, 0.0)
        T = np.multiply(B, f, out=w.T)
        np.subtract(S, T, out=S)
        ages: dict[str, np.ndarray] | None = None
        if want_ages:  # the age-resolved inflows, for the full accounts: placed, less removed
            if into is None:
                into = {k: np.empty(S.shape) for k in _INFLOWS}
            ages = {"departures": D, **{k: into[k] for k in _INFLOWS}}
        for k, coef, prof, out_neg in zip(_INFLOWS, (ye, m_pos, r_pos), (self.py, self.pm, self.pr),
                                          (None, m_neg, r_neg)):
            placed = np.multiply(coef, prof, out=ages[k] if ages is not None else T)
            np.add(S, placed, out=S)
            if ages is not None and out_neg is not None:
                removed = np.multiply(B, np.where(pos, out_neg / safe, 0.0), out=T)
                np.subtract(placed, removed, out=placed)
        if check:
            self._check(X, H, S, f, neg, pos, (ye, m_pos, m_neg, r_pos, r_neg), ages)
        return S, dep, other, ages

    def _check(self, X: np.ndarray, H: np.ndarray, nxt: np.ndarray, f: np.ndarray, neg: np.ndarray,
               pos: np.ndarray, flows: tuple[np.ndarray, ...], ages: dict[str, np.ndarray] | None) -> None:
        """Cells where the proportional removal would leave an age below zero get the capped
        removal of :func:`_fill`; an outflow larger than every worker left after departures raises."""
        # X' ≥ 0 unless the removal takes more than an age holds: f·removal > 1 somewhere
        # (cell-level test), or outflows with nothing to remove from.
        suspect = (f * self.rmax > 1.0) | ((neg > 0) & ~pos)
        if not suspect.any():
            return
        tol = 1e-9 * np.maximum(1.0, np.abs(X).max(axis=0))       # per cell: chunk-independent
        bad = (nxt < -tol).any(0) | ((neg > tol) & ~pos)
        if not bad.any():
            return
        shape = bad.shape
        Xb = np.broadcast_to(X, nxt.shape)[:, bad]
        Hb = np.broadcast_to(H, nxt.shape)[:, bad]
        S0 = np.zeros_like(Xb)                                      # survivors, aged one year
        S0[1:] = Xb[:-1] - Xb[:-1] * Hb[:-1]
        rm = np.broadcast_to(self.rm, nxt.shape)[:, bad]
        negb = np.broadcast_to(neg, shape)[bad]
        removable = _age_sum(np.where(rm > 0, S0, 0.0))
        tolb = np.broadcast_to(tol, shape)[bad]
        impossible = negb > removable + tolb
        if impossible.any():
            self._raise(X, bad, negb, removable, impossible)
        R = _fill(S0, rm, np.minimum(negb, removable))
        ye, m_pos, m_neg, r_pos, r_neg = (np.broadcast_to(v, shape)[bad] for v in flows)
        nxt[:, bad] = (S0 - R + ye * np.broadcast_to(self.py, nxt.shape)[:, bad]
                       + m_pos * np.broadcast_to(self.pm, nxt.shape)[:, bad]
                       + r_pos * np.broadcast_to(self.pr, nxt.shape)[:, bad])
        if ages is not None:
            ages["net_mobility"][:, bad] = (m_pos * np.broadcast_to(self.pm, nxt.shape)[:, bad]
                                            - R * (m_neg / negb))
            ages["other_recruits"][:, bad] = (r_pos * np.broadcast_to(self.pr, nxt.shape)[:, bad]
                                              - R * (r_neg / negb))

    @staticmethod
    def _raise(X: np.ndarray, bad: np.ndarray, negb: np.ndarray, removable: np.ndarray,
               impossible: np.ndarray) -> NoReturn:
        cells = [tuple(int(i) for i in c) for c in np.argwhere(bad)[impossible]]
        stock = np.broadcast_to(_age_sum(X), bad.shape)[bad][impossible]
        outflow = negb[impossible]
        left = removable[impossible]
        no_stock = left <= 0
        what = (tr("no worker is left after the year's departures to take it from",
                   "il ne reste aucun actif après les départs de l'année pour la prélever") if no_stock[0] else
                tr(f"only {left[0]:.6g} workers are left after the year's departures",
                   f"il ne reste que {left[0]:.6g} actifs après les départs de l'année"))
        n = len(cells)
        err = EngineError(tr(
            f"net outflows exceed the stock that can leave in {n} cell(s): first cell index "
            f"{cells[0]} (stock {stock[0]:.6g} at the start of the year, outflow {outflow[0]:.6g}: {what}); "
            "an outflow is negative other recruits (young entrants + net inflow above net creation + "
            "departures) or a negative net inflow, taken from the workers present at the start of the "
            "year; check the flows or the removal weights",
            f"les sorties nettes dépassent le stock qui peut partir dans {n} cellule{'s' if n > 1 else ''} : "
            f"première cellule d'indice {cells[0]} (stock {stock[0]:.6g} en début d'année, sortie "
            f"{outflow[0]:.6g} : {what}) ; une sortie est un solde négatif des autres recrutements (jeunes "
            "débutants + solde des mobilités au-delà des créations nettes + départs) ou un solde des mobilités "
            "négatif, prélevé sur les actifs présents en début d'année ; vérifiez les flux ou les poids de "
            "retrait"))
        err.cells = cells
        err.stock = [float(v) for v in stock]
        err.outflow = [float(v) for v in outflow]
        err.left = [float(v) for v in left]
        err.no_stock = [bool(v) for v in no_stock]
        err.step = None
        raise err


_INFLOWS = ("young_entrants", "net_mobility", "other_recruits")


class _Work:
    """Age-first buffers of the state's shape, allocated once per run and reused every year (a fresh
    buffer a year costs a page fault per page at large sizes).  ``state(X)`` is the buffer of next year's
    state: one that is not ``X`` (two alternate), or a fresh array with ``fresh`` (when the caller keeps
    every year's state, as ``record="totals"`` does)."""

    def __init__(self, shape: tuple[int, ...], fresh: bool = False) -> None:
        self.shape, self.fresh = shape, fresh
        self.D, self.B, self.T = np.empty(shape), np.empty(shape), np.empty(shape)
        self._states: list[np.ndarray] = []

    @classmethod
    def of(cls, D: np.ndarray, B: np.ndarray, T: np.ndarray) -> _Work:
        """Work buffers given (a block's, in :func:`_simulate_full`)."""
        w = cls.__new__(cls)
        w.shape, w.fresh, w.D, w.B, w.T, w._states = D.shape, False, D, B, T, []
        return w

    def state(self, X: np.ndarray) -> np.ndarray:
        if self.fresh:
            return np.empty(self.shape)
        for s in self._states:
            if not np.may_share_memory(s, X):
                return s
        s = np.empty(self.shape)
        self._states.append(s)
        return s


def _fill(S0: np.ndarray, rm: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Removal by age ``R = S0 · min(1, λ·rm)`` with ``Σ R = out``, for each column (cell) of the
    ``(age, k)`` arrays: in proportion to stock × removal weight, each age capped at its stock —
    ages whose weight would take more than they hold are emptied and the rest is spread over the
    others.  ``g(λ) = Σ S0·min(1, λ·rm)`` is piecewise linear and increasing; it is solved exactly
    on the segment between its breakpoints ``λ = 1/rm`` that contains ``out``."""
    with np.errstate(divide="ignore"):
        brk = np.where(rm > 0, 1.0 / np.where(rm > 0, rm, 1.0), np.inf)
    lam_b = np.concatenate([np.zeros_like(brk[:1]), np.sort(brk, axis=0)])      # (n_b, k), increasing
    last = np.where(np.isfinite(lam_b), lam_b, 0.0).max(0)
    lam_b = np.where(np.isfinite(lam_b), lam_b, last)  # ages of weight 0 are never removed
    g_b = np.minimum(1.0, lam_b[:, None] * rm[None]) * S0[None]                  # (n_b, age, k)
    g_b = np.moveaxis(g_b, 1, 0)
    g_b = _age_sum(g_b.reshape(g_b.shape[0], -1)).reshape(lam_b.shape)           # (n_b, k)
    j = np.maximum((g_b <= out).sum(0) - 1, 0)                                   # last breakpoint below
    lam_j = np.take_along_axis(lam_b, j[None], 0)[0]
    capped = (lam_j * rm >= 1.0) & (rm > 0)
    cap_sum = _age_sum(np.where(capped, S0, 0.0))
    lin = _age_sum(np.where(capped, 0.0, S0 * rm))
    lam = np.where(lin > 0, (out - cap_sum) / np.where(lin > 0, lin, 1.0), lam_j)
    removal: np.ndarray = S0 * np.minimum(1.0, lam * rm)
    return removal


def _age_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the (first) age axis, adding age slabs in order.  numpy does exactly that when
    there are at least two cells and the array is C-ordered; with a single cell the array is one contiguous
    column and numpy would switch to pairwise summation, so that case is summed in an explicit loop — and so
    would it on an array whose ages are contiguous (the cells picked by a boolean mask, in :meth:`_Kernel._check`),
    which is made C-ordered first: a cell's sum is then the same whatever the other cells summed with it."""
    a = np.ascontiguousarray(a)
    if a[0].size > 1:
        total: np.ndarray = a.sum(0)
        return total
    out: np.ndarray = a[0].copy()
    for i in range(1, a.shape[0]):
        out += a[i]
    return out


def step(employment: npt.ArrayLike, hazard: npt.ArrayLike, net_creation: npt.ArrayLike,
         young_entrants: npt.ArrayLike, net_mobility: npt.ArrayLike, profiles: Profiles,
         check: bool = True) -> dict[str, np.ndarray]:
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
    assert ages is not None, "the kernel returns the age-resolved flows when asked (want_ages=True)"
    back = {name: np.moveaxis(v, 0, -1) for name, v in ages.items()}
    return {"employment": np.moveaxis(nxt, 0, -1), **back, "other_recruits_total": other}


def _check_inputs(employment0: np.ndarray, hazard: npt.ArrayLike | ScenarioHazards,
                  young_entrants: npt.ArrayLike) -> None:
    """What the annual step assumes (the loaders check it for files; this guards direct calls)."""
    problems = []
    if not np.all(employment0 >= 0):
        problems.append(tr("negative or NaN employment", "emploi négatif ou NaN"))
    parts = hazard.parts if isinstance(hazard, ScenarioHazards) else (np.asarray(hazard),)
    if not all(np.all((h >= 0) & (h <= 1)) for h in parts):
        problems.append(tr("exit hazards outside [0, 1] or NaN", "taux de sortie hors de [0, 1] ou NaN"))
    if not np.all(np.asarray(young_entrants) >= 0):
        problems.append(tr("negative or NaN young entrants", "jeunes débutants négatifs ou NaN"))
    if problems:
        raise EngineError(tr("invalid engine input: " + "; ".join(problems),
                             "entrée du moteur invalide : " + " ; ".join(problems)))


def simulate(employment0: EngineInputs | npt.ArrayLike, hazard: npt.ArrayLike | None = None,
             net_creation: np.ndarray | None = None, young_entrants: np.ndarray | None = None,
             net_mobility: np.ndarray | None = None, profiles: Profiles | None = None, record: str = "full",
             progress: Callable[[int, int], object] | None = None,
             hazard_by_year: bool = False) -> dict[str, np.ndarray]:
    """Run the annual steps.

    Parameters
    ----------
    employment0 : array (..., age), or EngineInputs
        Base-year stock; or an :class:`EngineInputs` holding every input (then give no other
        array, nor ``profiles`` or ``hazard_by_year``: ``simulate(inputs, record="cells")``).
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
        raise ArgumentError(tr("record must be full, totals, cells or departures",
                               "record doit valoir full, totals, cells ou departures"), name="record", value=record)
    given = [hazard, net_creation, young_entrants, net_mobility, profiles]
    if isinstance(employment0, EngineInputs):
        if any(a is not None for a in given) or hazard_by_year:
            raise ArgumentError(tr("give either an EngineInputs or the arrays, not both",
                                   "donnez soit un EngineInputs, soit les tableaux, pas les deux"), name="employment0",
                                value=type(employment0).__name__)
        inp = employment0
        employment0, hazard, net_creation, young_entrants, net_mobility, profiles, hazard_by_year = (
            inp.employment0, inp.hazard, inp.net_creation, inp.young_entrants, inp.net_mobility, inp.profiles,
            inp.hazard_by_year)
    elif any(a is None for a in given):
        missing = [n for n, a in zip(("hazard", "net_creation", "young_entrants", "net_mobility", "profiles"),
                                     given) if a is None]
        raise ArgumentError(tr("simulate needs the hazard, the three flows and the profiles (or an EngineInputs)",
                               "simulate demande les taux de sortie, les trois flux et les profils (ou un "
                               "EngineInputs)"), name=missing[0], value=None)
    # both branches above leave every input given (narrowing for the type checker)
    assert (hazard is not None and net_creation is not None and young_entrants is not None
            and net_mobility is not None and profiles is not None), "simulate: an input is missing"
    employment0 = np.asarray(employment0, dtype=float)
    _check_inputs(employment0, hazard, young_entrants)
    n_years = net_creation.shape[0]
    hz = hazard if isinstance(hazard, ScenarioHazards) else np.asarray(hazard, dtype=float)
    if isinstance(hz, ScenarioHazards) and not hazard_by_year:
        raise ArgumentError(tr("ScenarioHazards vary by year: give hazard_by_year=True",
                               "des ScenarioHazards varient selon l'année : donnez hazard_by_year=True"),
                            name="hazard_by_year", value=hazard_by_year)
    nd = max(employment0.ndim, hz.ndim - (1 if hazard_by_year else 0))
    kernel = _Kernel(profiles, nd)
    hazard_of = _hazard_reader(hz, hazard_by_year, nd)
    X = _age_first(employment0, nd)
    shape = np.broadcast_shapes(X.shape, hazard_of(0).shape) if n_years else X.shape
    if record == "full":
        return _simulate_full(profiles, shape, employment0, hazard_of, hz, hazard_by_year, net_creation,
                              young_entrants, net_mobility, progress)
    work = _Work(shape, fresh=record == "totals")   # totals keeps every year's state
    # every year written straight into arrays allocated once (no list of years stacked at the end: a copy of
    # everything, and the broadcast inflows materialised twice)
    out: dict[str, np.ndarray] = {}

    def put(key: str, t: int, value: np.ndarray, n: int) -> None:
        arr = out.get(key)
        if arr is None:
            arr = out[key] = np.empty((n,) + np.shape(value), dtype=np.result_type(value))
        arr[t] = value

    if record == "totals":
        put("employment", 0, employment0 if employment0.shape == np.moveaxis(X, 0, -1).shape
            else np.moveaxis(X, 0, -1), n_years + 1)
    elif record == "cells":
        put("employment", 0, _age_sum(X), n_years + 1)
    for t in range(n_years):
        ye, nm = young_entrants[t], net_mobility[t]
        X, dep, other, _ = _year(kernel, t, X, hazard_of(t), net_creation[t], ye, nm, work)
        if record in ("totals", "cells"):
            put("employment", t + 1, np.moveaxis(X, 0, -1) if record == "totals" else _age_sum(X), n_years + 1)
            put("departures", t, dep, n_years)
            put("young_entrants", t, np.broadcast_to(ye, dep.shape), n_years)
            put("net_mobility", t, np.broadcast_to(nm, dep.shape), n_years)
            put("other_recruits", t, other, n_years)
        else:
            put("departures", t, dep, n_years)
        if progress is not None:
            progress(t + 1, n_years)
    if record == "departures" and not n_years:
        return {}
    return out


def _year(kernel: _Kernel, t: int, X: np.ndarray, H: np.ndarray, nc: np.ndarray, ye: np.ndarray, nm: np.ndarray,
          work: _Work, into: dict[str, np.ndarray] | None = None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray] | None]:
    """``kernel.year``, with an engine error saying which year."""
    try:
        return kernel.year(X, H, nc, ye, nm, want_ages=into is not None, work=work, into=into)
    except EngineError as exc:  # say which year (the projection names the cells)
        exc.step = t
        exc.args = (_year_prefix(t) + exc.args[0],)
        raise


#: Cells (territory × métier, every age) per block of the full-accounts engine (``record="full"``), or None for
#: the size :func:`_block_cells` chooses from the processor's cache and the number of ages.  Each year runs block by
#: block, so that a block's stock, flows and buffers stay in the processor's cache across the year's operations
#: instead of streaming each operation through memory.  Cells are independent and every sum over age adds the age
#: slabs in order, so the figures are the same bit for bit whatever the block size
#: (``tests/test_engine_blocks.py``).
FULL_BLOCK_CELLS: int | None = None

#: Arrays of a block's shape ``(cells, age)`` one year of :func:`_block_year` works on: the stock read, the hazard,
#: the five written to the record, four profiles, two scratch arrays and two age-first copies.
_BLOCK_ARRAYS = 15


@functools.cache
def _cache_bytes(level: int = 2, default: int = 1 << 20) -> int:
    """The size of one core's level-``level`` cache (Linux's sysfs), else ``default``."""
    for d in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*")):
        try:
            with open(f"{d}/level") as fl, open(f"{d}/type") as ft, open(f"{d}/size") as fs:
                if int(fl.read()) != level or ft.read().strip() == "Instruction":
                    continue
                size = fs.read().strip().upper()
        except (OSError, ValueError):
            continue
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1:], 1)
        try:
            return int(size.rstrip("KMG")) * mult
        except ValueError:
            continue
    return default


def _block_cells(n_cells: int, n_age: int) -> int:
    """Cells per block: :data:`FULL_BLOCK_CELLS` if set, else as many as fit a block's arrays
    (:data:`_BLOCK_ARRAYS` of ``cells × age`` floats) in :data:`_CACHE_SHARE` level-2 caches, and at least
    :data:`_MIN_BLOCK_VALUES` values an array; then evened out over the blocks (1079 cells in blocks of 1000 would
    leave a block of 79, with every call's overhead)."""
    if FULL_BLOCK_CELLS is not None:
        return max(1, min(int(FULL_BLOCK_CELLS), n_cells))
    target = max(1, int(_CACHE_SHARE * _cache_bytes()) // (8 * n_age * _BLOCK_ARRAYS), _MIN_BLOCK_VALUES // n_age)
    n_blocks = -(-n_cells // target)
    return max(1, -(-n_cells // n_blocks))


#: Level-2 caches' worth a block's arrays are sized for: 4 × 1 MiB is ≈ 580 cells of 60 ages (≈ 280 KB an array),
#: in the middle of the flat range measured (engine CPU time, memory already touched, 1× and 10×: 540 to 1100 cells
#: alike; 250 cells +10 %, 100 cells +45 %, 5000 cells +25 %).
_CACHE_SHARE = 4.0

#: The fewest values (cells × ages) an array of a block holds, whatever the cache: a block costs ≈ 35 numpy calls
#: on its ``(cells,)`` vectors and its slices besides the work on its arrays, which smaller blocks do not amortise
#: (measured on a 512 KiB level-2 cache, where the cache's share alone gives ≈ 290 cells of 60 ages: 270 cells
#: cost 15–30 % more than 540 or 1079 cells at 1× and 10×, and 540 to 1079 cells cost the same).
_MIN_BLOCK_VALUES = 1 << 15


def _cells_age_last(a: np.ndarray, nd: int, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` (..., age), padded to ``nd`` dims and broadcast to ``shape`` = ``(*cells, age)``, as
    ``(n_cells, age)`` (a view when ``a`` has that shape already and is C-ordered, else a copy)."""
    a = np.asarray(a, dtype=float)
    return np.broadcast_to(a.reshape((1,) * (nd - a.ndim) + a.shape), shape).reshape(-1, shape[-1])


#: Whether the full record may be advised for transparent huge pages, as numpy advises every large array.  The
#: record is written once, in order, by the engine, and its first touch is the system's cost, not the engine's:
#: with the advice and the kernel's usual ``defrag=madvise``, a 2 MiB fault waits for the kernel to compact memory
#: when no huge page is free (measured on a loaded VM, first write 0.2–0.9 GB/s, up to 4.7 GB/s when huge pages
#: were free; 4 KiB pages 0.8–2.6 GB/s).  Without the advice the first projection at 10–100× cost half as much when
#: memory was fragmented, but up to twice as much when huge pages were free, and always more at 1× (≈ 36 against
#: ≈ 16 ns per cell-year): so the advice is kept; ``benchmarks/bench_scaling.py`` prints the system's rates.  The
#: engine's own cost (memory already touched) is the same either way.
FULL_RECORD_HUGE_PAGES = True

_ADVICE_LOCK = threading.Lock()


def _record_empty(shape: tuple[int, ...]) -> np.ndarray:
    """``np.empty(shape)``, without numpy's huge-page advice unless :data:`FULL_RECORD_HUGE_PAGES` (numpy's
    switch is process-wide: set and restored under a lock; a numpy without it allocates as usual)."""
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    switch = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if FULL_RECORD_HUGE_PAGES or switch is None:
        return np.empty(shape)
    with _ADVICE_LOCK:
        before = switch(False)
        try:
            return np.empty(shape)
        finally:
            switch(before)


class _BlockWork:
    """Scratch arrays of :func:`_block_year`, allocated once per run for the largest block and reused by every
    block and year (views of the first ``n`` cells for a shorter block)."""

    def __init__(self, kb: int, n_age: int) -> None:
        self.kb, self.n_age = kb, n_age
        self._big = np.empty((4, kb * n_age))          # B, T (cells, age); Dt, Bt (age, cells)
        self._vec = np.empty((8, kb))                   # dep, bsum, other, r_pos, −other, and neg, m_neg, r_neg
        self._q = np.empty((3, kb))                     # neg, m_neg, r_neg over the removal weights' sum
        self._pos = np.empty((2, kb), dtype=bool)
        self.n = -1

    def resize(self, n: int) -> None:
        """Views for a block of ``n`` cells."""
        if n == self.n:
            return
        self.n, a = n, self.n_age
        self.B, self.T = (b[: a * n].reshape(n, a) for b in self._big[:2])
        self.Dt, self.Bt = (b[: a * n].reshape(a, n) for b in self._big[2:])
        self.dep, self.bsum, self.other, self.r_pos, self.minus = self._vec[:5, :n]
        self.V = self._vec[5:, :n]                      # rows: neg, m_neg, r_neg
        self.Q = self._q[:, :n]
        self.pos, self.npos = self._pos[:, :n]


def _simulate_full(profiles: Profiles, work_shape: tuple[int, ...], employment0: np.ndarray,
                   hazard_of: Callable[[int], np.ndarray], hz: np.ndarray | ScenarioHazards, hazard_by_year: bool,
                   net_creation: np.ndarray, young_entrants: np.ndarray, net_mobility: np.ndarray,
                   progress: Callable[[int, int], object] | None, block_cells: int | None = None
                   ) -> dict[str, np.ndarray]:
    """``record="full"``: every year computed in place in arrays allocated once, ``(n + 1, *cells, age)``
    (C order, age last), the flows' final year NaN in place.  The flows are returned as their first ``n`` years
    (views: :func:`with_final_year` gives back the whole array, without a copy).

    The cells are flattened and run in blocks of ``block_cells`` (default :func:`_block_cells`) by
    :func:`_block_year`, which reads the year's stock from the record and writes next year's stock and the four
    age-resolved flows straight into it, with the kernel's arithmetic (the same bits as :meth:`_Kernel.year`).
    An engine error in a block is raised by the unblocked step of that year, so that it names every failing
    cell of the year, by its index in the cell axes."""
    n_years = net_creation.shape[0]
    n_age, cells = work_shape[0], work_shape[1:]
    nd = len(work_shape)
    n_cells = int(np.prod(cells, dtype=np.int64))
    names = ("employment", "departures", *_INFLOWS)
    # one allocation for the five arrays
    whole = _record_empty((len(names), n_years + 1, *cells, n_age))
    rec = dict(zip(names, whole))
    rec["employment"][0] = employment0
    for k in names[1:]:
        rec[k][n_years] = np.nan
    flat = {k: v.reshape(n_years + 1, n_cells, n_age) for k, v in rec.items()}
    kb = max(1, min(block_cells or _block_cells(n_cells, n_age), n_cells))
    shape_al = (*cells, n_age)
    # age-last profiles (young, mobility, recruits, removal), contiguous: a block's rows of (n_cells, age) where
    # they vary by cell (several scenarios run together), else one profile repeated on kb rows (a product of two
    # contiguous arrays is one pass; broadcasting a row costs a loop per cell)
    specs = (profiles.young, profiles.mobility, profiles.recruits, profiles.removal)
    by_cell = [np.ndim(p) > 1 for p in specs]
    prof = [_cells_age_last(p, nd, shape_al).copy() if v
            else np.ascontiguousarray(np.broadcast_to(np.asarray(p, dtype=float), (kb, n_age)))
            for p, v in zip(specs, by_cell)]
    kernel = _Kernel.from_age_first(*(p[:1].T for p in prof))   # for the rare capped removal (_check)
    # the largest removal weight, for a test that no cell of a block can need the capped removal
    rmax = float(np.fmax.reduce(prof[3], axis=None)) if prof[3].size else 0.0
    w = _BlockWork(kb, n_age)
    H_all = None if hazard_by_year else _cells_age_last(hz, nd, shape_al)  # type: ignore[arg-type]

    def flows(v: np.ndarray, t: int) -> np.ndarray:
        return np.broadcast_to(v[t], cells).reshape(n_cells)

    for t in range(n_years):
        if H_all is not None:
            H = H_all
        elif isinstance(hz, ScenarioHazards):
            H = _cells_age_last(np.moveaxis(hazard_of(t), 0, -1), nd, shape_al)
        else:
            H = _cells_age_last(hz[t], nd, shape_al)
        nc, ye, nm = flows(net_creation, t), flows(young_entrants, t), flows(net_mobility, t)
        m_pos, m_neg = np.maximum(nm, 0.0), np.maximum(-nm, 0.0)      # the year's, for every cell
        X_t, S_t = flat["employment"][t], flat["employment"][t + 1]
        D_t, Y_t, M_t, R_t = (flat[key][t] for key in names[1:])
        for c0 in range(0, n_cells, kb):
            c1 = min(c0 + kb, n_cells)
            w.resize(c1 - c0)
            pb = [p[c0:c1] if v else p[: c1 - c0] for p, v in zip(prof, by_cell)]
            kern = kernel if not any(by_cell) else _Kernel.from_age_first(*(p.T for p in pb))
            try:
                _block_year(kern, pb, rmax, X_t[c0:c1], H[c0:c1], nc[c0:c1], ye[c0:c1], nm[c0:c1], m_pos[c0:c1],
                            m_neg[c0:c1], S_t[c0:c1], D_t[c0:c1], Y_t[c0:c1], M_t[c0:c1], R_t[c0:c1], w)
                continue
            except EngineError as exc:
                failed = exc
            # the unblocked step of the year names every failing cell
            _full_year_error(profiles, work_shape, rec["employment"][t], hazard_of(t), net_creation[t],
                             young_entrants[t], net_mobility[t], t, failed)
        if progress is not None:
            progress(t + 1, n_years)
    return {k: (v if k == "employment" else v[:n_years]) for k, v in rec.items()}


def _block_year(k: _Kernel, prof: list[np.ndarray], rmax: float, X: np.ndarray, H: np.ndarray, nc: np.ndarray,
                ye: np.ndarray, nm: np.ndarray, m_pos: np.ndarray, m_neg: np.ndarray, S: np.ndarray, D: np.ndarray,
                Y: np.ndarray, M: np.ndarray, R: np.ndarray, w: _BlockWork) -> None:
    """:meth:`_Kernel.year` with ``want_ages`` on a block of cells laid out **age last**, ``(cells, age)``, all
    C-contiguous: the stock ``X`` and the hazard ``H`` read where they are, next year's stock ``S`` and the four
    age-resolved flows (departures ``D``, young entrants ``Y``, net mobility ``M``, other recruits ``R``) written
    where they are (the record's arrays of the year); ``prof`` are the block's age-last profiles (young,
    mobility, recruits, removal), ``m_pos``/``m_neg`` the positive and negative parts of ``nm``, ``rmax`` at least
    the largest removal weight, ``w`` the scratch arrays (sized for this block).  Every elementwise operation is
    the kernel's, on the same values (the layout does not change a product or a difference, nor which operand
    comes first); the two sums over age (departures, removal weights) are taken on age-first copies
    (``Dt``, ``Bt``), adding the age slabs in order as the kernel does — the same bits."""
    py, pm, pr, rm = prof
    B, T, Dt, Bt = w.B, w.T, w.Dt, w.Bt
    np.multiply(X, H, out=D)
    np.copyto(Dt, D.T)
    dep = _age_sum_into(Dt, w.dep)
    # survivors aged one year, S[c, a + 1] = X[c, a] − D[c, a]: one contiguous pass over the block read flat
    # (it also writes X[c, top] − D[c, top] into S[c + 1, 0], which the line after sets to 0, as age 0 is)
    np.subtract(X.reshape(-1)[:-1], D.reshape(-1)[:-1], out=S.reshape(-1)[1:])
    S[:, 0] = 0.0
    other = np.add(nc, dep, out=w.other)                 # nc + dep − ye − nm, in that order
    np.subtract(other, ye, out=other)
    np.subtract(other, nm, out=other)
    r_pos = np.maximum(other, 0.0, out=w.r_pos)
    V = w.V                                              # neg = m_neg + r_neg, m_neg, r_neg
    np.maximum(np.negative(other, out=w.minus), 0.0, out=V[2])
    np.add(m_neg, V[2], out=V[0])
    np.copyto(V[1], m_neg)
    np.multiply(S, rm, out=B)
    np.copyto(Bt, B.T)
    bsum = _age_sum_into(Bt, w.bsum)
    pos = np.greater(bsum, 0.0, out=w.pos)
    # f, and the shares of the mobility and recruits outflows: where(pos, · / bsum, 0), the three in one call
    Q = w.Q
    Q.fill(0.0)
    np.divide(V, bsum, out=Q, where=pos)
    f = Q[0]
    np.multiply(B, f[:, None], out=T)
    np.subtract(S, T, out=S)
    np.multiply(ye[:, None], py, out=Y)
    np.add(S, Y, out=S)
    for placed, coef, p, q in ((M, m_pos, pm, Q[1]), (R, r_pos, pr, Q[2])):
        np.multiply(coef[:, None], p, out=placed)
        np.add(S, placed, out=S)
        np.multiply(B, q[:, None], out=T)
        np.subtract(placed, T, out=placed)
    # the kernel's test for the capped removal (f·removal > 1 in some cell, or an outflow with no removal weight),
    # first as a cheaper superset: the largest f × the largest weight, and the outflows where bsum ≤ 0
    npos = np.logical_not(pos, out=w.npos)
    if np.fmax.reduce(f) * rmax > 1.0 or np.max(V[0], initial=0.0, where=npos) > 0.0:
        k._check(X.T, H.T, S.T, f, V[0], pos, (ye, m_pos, m_neg, r_pos, V[2]),
                 {"departures": D.T, "young_entrants": Y.T, "net_mobility": M.T, "other_recruits": R.T})


def _age_sum_into(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """:func:`_age_sum` of the C-ordered ``a`` (age first) into ``out``: the age slabs added in order."""
    if a.shape[1] > 1:
        return np.add.reduce(a, axis=0, out=out)
    np.copyto(out, a[0])
    for i in range(1, a.shape[0]):
        np.add(out, a[i], out=out)
    return out


def _year_prefix(t: int) -> str:
    """What an engine error of year step ``t`` starts with."""
    return tr(f"year step {t} (flows of base + {t}): ", f"pas annuel {t} (flux de l'année de base + {t}) : ")


def _full_year_error(profiles: Profiles, work_shape: tuple[int, ...], employment: np.ndarray, H: np.ndarray,
                     nc: np.ndarray, ye: np.ndarray, nm: np.ndarray, t: int, exc: EngineError) -> NoReturn:
    """Year ``t`` run unblocked on every cell, for its error (every failing cell, indexed in the cell axes)."""
    nd = len(work_shape)
    _year(_Kernel(profiles, nd), t, _age_first(employment, nd), H, nc, ye, nm, _Work(work_shape))
    exc.step = t                      # not reached: the same cells fail unblocked
    exc.args = (_year_prefix(t) + exc.args[0],)
    raise exc


def _hazard_reader(hz: np.ndarray | ScenarioHazards, by_year: bool, nd: int) -> Callable[[int], np.ndarray]:
    """``t`` → the age-first hazard of flow year ``t``.  A hazard that varies by year is copied one year at a
    time into one buffer (no age-first copy of every year); with :class:`ScenarioHazards`, only the scenarios
    whose hazard varies by year are rewritten."""
    if not by_year:
        H = _age_first(hz, nd)
        return lambda t: H
    if isinstance(hz, ScenarioHazards):
        first = hz.at(0)                                    # (scenario, ..., age)
        buf = _age_first(first, nd)
        n_lead = 1 + nd - first.ndim                         # age, padding: then the scenario index

        def at(t: int) -> np.ndarray:
            if t > 0:
                for i, (part, b) in enumerate(zip(hz.parts, hz.by_year)):
                    if b:
                        idx: tuple[slice | int, ...] = (*(slice(None),) * n_lead, i)
                        buf[idx] = np.moveaxis(part[t], -1, 0)
            return buf
        return at
    arr = hz
    buf1 = np.empty(_age_first_view(arr[0], nd).shape)

    def year_t(t: int) -> np.ndarray:
        np.copyto(buf1, _age_first_view(arr[t], nd))
        return buf1
    return year_t


def _age_first_view(a: np.ndarray, ndim: int) -> np.ndarray:
    """``a`` (..., age) padded to ``ndim`` dims with age moved to the front, as a view."""
    return np.moveaxis(a.reshape((1,) * (ndim - a.ndim) + a.shape), -1, 0)


def with_final_year(flow: np.ndarray) -> np.ndarray:
    """The flow ``flow`` (n, ...) with a NaN final year appended, ``(n + 1, ...)``: the array of
    :func:`simulate`'s full record it is the first ``n`` years of, without a copy, when it is one (its base is
    C-ordered, one year longer and NaN in that year — or a stack of such arrays, the full record's single
    allocation); else a padded copy."""
    base = flow.base
    shape = (flow.shape[0] + 1, *flow.shape[1:])
    if (isinstance(base, np.ndarray) and base.dtype == flow.dtype and base.flags.c_contiguous
            and flow.flags.c_contiguous and flow.size and base.shape[-len(shape):] == shape
            and base.ndim in (len(shape), len(shape) + 1)):
        whole = base if base.ndim == len(shape) else None
        if whole is None:                                   # the record's stack: which of its arrays
            offset = flow.__array_interface__["data"][0] - base.__array_interface__["data"][0]
            i, rest = divmod(offset, base[0].nbytes)
            whole = base[i] if rest == 0 and 0 <= i < base.shape[0] else None
        if (whole is not None and whole.__array_interface__["data"][0] == flow.__array_interface__["data"][0]
                and bool(np.isnan(whole[-1]).all())):
            return whole
    return np.concatenate([flow, np.full((1,) + flow.shape[1:], np.nan, dtype=flow.dtype)], axis=0)


def simulate_dask(employment0: npt.ArrayLike, hazard: npt.ArrayLike, net_creation: npt.ArrayLike,
                  young_entrants: npt.ArrayLike, net_mobility: npt.ArrayLike,
                  profiles: Profiles) -> dict[str, Any]:
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

    def block(e: np.ndarray, h: np.ndarray, nc: np.ndarray, ye: np.ndarray, nm: np.ndarray) -> np.ndarray:
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
