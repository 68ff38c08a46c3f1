"""What a worker needs to compute the draws of an ensemble, and nothing more: the uncertainty specification
(:class:`Parameter`, :class:`Uncertainty`), the :class:`Context` of a scenario on a baseline, the draws' inputs
and the engine run of a chunk of draws (:func:`run_latent`, :func:`run_chunk`).

This module imports numpy and :mod:`pmq.model.engine` only — not pandas, xarray, dask or the rest of pmq —
so that a ``dask.distributed`` worker, which unpickles the chunks' function and the context from here, starts
computing without importing them: 0.4 s of CPU and 90 MB less per worker, and as much for the scheduler's process,
which unpickles the graph too (``benchmarks/bench_all.py``; ``tests/test_ensemble_cluster.py`` checks the imports).
:mod:`pmq.projection.ensemble` imports its public names from here.
"""
from __future__ import annotations

import importlib
import math
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from pmq.errors import EngineError, InputError, ScenarioError
from pmq.model.engine import EngineInputs, Profiles, simulate
from pmq.options import tr

if TYPE_CHECKING:
    import pandas as pd

KINDS = {"exit_age_shift": "years added to end-of-career exit ages",
         "growth": "deviation of the annual employment growth rate, by FAP domain (compounded on the path)",
         "young_entrants": "relative deviation of young entrants",
         "mobility": "relative deviation of net inter-regional mobility",
         "key_shares": "spread of the log shares of the downscaling key at reference_employment jobs (larger "
                       "for smaller cells; the shares within each parent are renormalised to 1)"}
#: The same, in French (the messages of implausible distributions name them).
KINDS_FR = {"exit_age_shift": "années ajoutées aux âges de sortie de fin de carrière",
            "growth": "écart du taux de croissance annuel de l'emploi, par domaine FAP (composé sur la trajectoire)",
            "young_entrants": "écart relatif des jeunes entrants",
            "mobility": "écart relatif de la mobilité interrégionale nette",
            "key_shares": "dispersion du logarithme des parts de la clé de répartition à reference_employment emplois "
                          "(plus grande pour les petites cellules ; les parts de chaque parent sont renormalisées à 1)"}
#: key_shares defaults: the spread is ``sd`` at 10,000 jobs (Cedefop's threshold of caution), at most 1.
KEY_SHARES_REFERENCE, KEY_SHARES_MAX_SD = 10_000.0, 1.0


# ------------------------------------------------------------------------------ specification

def triangular_ppf(u: npt.ArrayLike, c: float, low: float, high: float) -> np.ndarray:
    """Quantiles ``u`` of the triangular distribution on [low, high] with mode at ``low + c·(high − low)``:
    SciPy's ``stats.triang.ppf(u, c, loc=low, scale=high - low)`` to the bit (the same expression), without
    importing ``scipy.stats`` (1 s, more than a run) for it."""
    u = np.asarray(u, dtype=float)
    return np.where(u < c, np.sqrt(c * u), 1.0 - np.sqrt((1.0 - c) * (1.0 - u))) * (high - low) + low


@dataclass(frozen=True)
class Parameter:
    """One uncertain parameter: a distribution around its neutral value 0."""

    id: str
    kind: str
    distribution: str = "normal"
    mean: float = 0.0
    sd: float = 0.0
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    domain: tuple[str, ...] = ()
    domain_correlation: float = 0.0
    source: str = ""
    reference_employment: float = KEY_SHARES_REFERENCE
    max_sd: float = KEY_SHARES_MAX_SD

    def value(self, z: npt.ArrayLike) -> np.ndarray:
        """Parameter values from standard-normal latents ``z`` (the copula's margins)."""
        z = np.asarray(z, dtype=float)
        if self.distribution == "normal":
            return self.mean + self.sd * z
        from scipy import special  # imported when a draw needs it (SciPy's import is as long as pmq's)
        u = special.ndtr(z)
        low, high = self.low, self.high
        assert low is not None and high is not None, "uniform and triangular parameters have low and high"
        if self.distribution == "uniform":
            return cast(np.ndarray, low + (high - low) * u)
        assert self.mode is not None, "a triangular parameter has a mode"
        c = (self.mode - low) / (high - low)
        return triangular_ppf(u, c, low, high)

    def quantile(self, q: float) -> float:
        from scipy import special
        return float(self.value(special.ndtri(q)))

    @property
    def zero_variance(self) -> bool:
        return (self.distribution == "normal" and self.sd == 0 and self.mean == 0)


@dataclass(frozen=True)
class Uncertainty:
    """The ``[uncertainty]`` section of a scenario, resolved."""

    parameters: tuple[Parameter, ...] = ()
    correlation: np.ndarray = field(default_factory=lambda: np.eye(0))
    seed: int | None = None
    source: str = ""
    #: the ``key_shares`` parameter (its draws have a random stream of their own, not latent columns)
    shares: Parameter | None = None

    @classmethod
    def from_scenario(cls, scenario: Any) -> Uncertainty:   # a pmq.scenario.Scenario (a layer above)
        params: list[Parameter] = []
        shares: list[Parameter] = []
        for lv in scenario.uncertain_parameters():
            p = Parameter(
                id=lv["id"], kind=lv["kind"], distribution=lv["distribution"], mean=float(lv.get("mean", 0.0)),
                sd=float(lv.get("sd", 0.0)), low=lv.get("low"), mode=lv.get("mode"), high=lv.get("high"),
                domain=tuple(lv.get("domain", ())), domain_correlation=float(lv.get("domain_correlation", 0.0)),
                source=lv.get("source", lv.get("assumption", "")),
                reference_employment=float(lv.get("reference_employment", KEY_SHARES_REFERENCE)),
                max_sd=float(lv.get("max_sd", KEY_SHARES_MAX_SD)))
            (shares if p.kind == "key_shares" else params).append(p)
        if len(shares) > 1:
            raise ScenarioError(tr("give one key_shares parameter (the spread of the key's shares)",
                                   "donnez un seul paramètre key_shares (la dispersion des parts de la clé)"),
                                source=scenario.source, key=f"uncertainty.parameter[{shares[1].id}].kind",
                                value="key_shares")
        for p in shares:
            check_range(p, scenario.source)
        ids = [p.id for p in params]
        for p in params:
            check_range(p, scenario.source)
        k = len(params)
        corr = np.eye(k)
        seen: dict[frozenset[str], str] = {}     # pair of parameter ids → id of the correlation lever
        for lv in scenario.lever_list("uncertainty.correlation"):
            a, b = lv["between"]
            pair = frozenset((a, b))
            if pair in seen:
                raise ScenarioError(tr(f"the correlation of {a} and {b} is already given by {seen[pair]!r}",
                                       f"la corrélation de {a} et {b} est déjà donnée par {seen[pair]!r}"),
                                    source=scenario.source, key=f"uncertainty.correlation[{lv['id']}].between",
                                    value=lv["between"])
            seen[pair] = lv["id"]
            independent = [x for x in (a, b) if shares and x == shares[0].id]
            if independent:
                raise ScenarioError(tr("the key_shares draws are independent of the other parameters: no correlation",
                                       "les tirages de key_shares sont indépendants des autres paramètres : pas de "
                                       "corrélation"),
                                    source=scenario.source, key=f"uncertainty.correlation[{lv['id']}].between",
                                    value=independent)
            missing = [x for x in (a, b) if x not in ids]
            if missing:
                raise ScenarioError(tr(f"correlation names unknown parameter(s); known: {ids}",
                                       f"la corrélation nomme des paramètres inconnus ; connus : {ids}"),
                                    source=scenario.source,
                                    key=f"uncertainty.correlation[{lv['id']}].between", value=missing)
            i, j = ids.index(a), ids.index(b)
            corr[i, j] = corr[j, i] = float(lv["rho"])
        if k and np.linalg.eigvalsh(corr).min() <= 1e-10:
            raise ScenarioError(tr("the correlations are not a valid correlation matrix (not positive definite)",
                                   "les corrélations ne forment pas une matrice de corrélation valide (non définie "
                                   "positive)"),
                                source=scenario.source, key="uncertainty.correlation",
                                value=np.round(corr, 3).tolist())
        seed = scenario.uncertainty_seed
        return cls(parameters=tuple(params), correlation=corr, seed=seed, source=scenario.source,
                   shares=shares[0] if shares else None)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.parameters]

    def n_latent(self, n_domains: int) -> int:
        """Latent normals per draw: one per parameter, plus one per domain for ``growth``."""
        return len(self.parameters) + n_domains * sum(p.kind == "growth" for p in self.parameters)

    def groups(self, n_domains: int) -> dict[str, list[int]]:
        """Latent columns of each parameter (a ``growth`` parameter owns its domain columns)."""
        out: dict[str, list[int]]
        out, extra = {}, len(self.parameters)
        for i, p in enumerate(self.parameters):
            cols = [i]
            if p.kind == "growth":
                cols += list(range(extra, extra + n_domains))
                extra += n_domains
            out[p.id] = cols
        return out

    def values(self, Z: np.ndarray, n_domains: int, correlated: bool = True) -> dict[str, np.ndarray]:
        """Parameter values of draws with latent rows ``Z``: ``(n,)`` per parameter, ``(n, n_domains)``
        for ``growth``.  Correlations act through the Cholesky factor L of the correlation matrix,
        applied in a fixed order (no BLAS: a draw's values never depend on the other rows);
        ``correlated=False`` ignores them (sensitivity analysis)."""
        k = len(self.parameters)
        zc = np.array(Z[:, :k], dtype=float)
        if correlated and k:
            L = np.linalg.cholesky(self.correlation)
            for i in range(k):
                acc = L[i, 0] * Z[:, 0]
                for j in range(1, i + 1):
                    acc = acc + L[i, j] * Z[:, j]
                zc[:, i] = acc
        out: dict[str, np.ndarray]
        out, extra = {}, k
        for i, p in enumerate(self.parameters):
            z = zc[:, i]
            if p.kind == "growth":
                rho = p.domain_correlation
                e = Z[:, extra:extra + n_domains]
                extra += n_domains
                z = math.sqrt(rho) * z[:, None] + math.sqrt(1.0 - rho) * e
            out[p.id] = p.value(z)
        return out


#: Plausibility bounds per kind: (largest sd, lowest and highest value a draw may reach).
_BOUNDS = {"exit_age_shift": (3.0, -5.0, 5.0), "growth": (0.05, -0.2, 0.2),
           "young_entrants": (0.5, -1.0, 2.0), "mobility": (1.0, -1.0, 3.0), "key_shares": (1.0, -4.0, 4.0)}


def check_range(p: Parameter, source: str) -> None:
    """Refuse distributions that are implausible for their kind (a growth sd of 2 = 200 points a
    year), or that reach values the model must clip (a factor 1 + v below 0)."""
    max_sd, lo, hi = _BOUNDS[p.kind]
    where = f"uncertainty.parameter[{p.id}]"
    if p.distribution == "normal":
        if p.sd > max_sd:
            raise ScenarioError(tr(f"sd above {max_sd} is implausible for kind {p.kind!r} ({KINDS[p.kind]})",
                                   f"un écart-type (sd) au-dessus de {max_sd} est invraisemblable pour le type "
                                   f"{p.kind!r} ({KINDS_FR[p.kind]})"),
                                source=source, key=f"{where}.sd", value=p.sd)
        if p.mean - 4 * p.sd < lo or p.mean + 4 * p.sd > hi:
            raise ScenarioError(tr(f"mean ± 4 sd must stay within [{lo}, {hi}] for kind {p.kind!r}",
                                   f"la moyenne (mean) ± 4 sd doit rester dans [{lo}, {hi}] pour le type {p.kind!r}"),
                                source=source, key=where, value={"mean": p.mean, "sd": p.sd})
    elif p.low is None or p.high is None:   # read_scenario requires them; guards a Parameter built by hand
        raise ScenarioError(tr(f"a {p.distribution} distribution needs low and high",
                               f"une loi {p.distribution} demande low et high"), source=source, key=where,
                            value={"low": p.low, "high": p.high})
    elif p.low < lo or p.high > hi:
        raise ScenarioError(tr(f"values must stay within [{lo}, {hi}] for kind {p.kind!r}",
                               f"les valeurs doivent rester dans [{lo}, {hi}] pour le type {p.kind!r}"), source=source,
                            key=where, value={"low": p.low, "high": p.high})


def latent_draws(seed: int, indices: Iterable[int], n_latent: int) -> np.ndarray:
    """Standard-normal latents of draws ``indices``: row ``i`` depends on ``(seed, i)`` only."""
    rows = [np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(i),))).standard_normal(n_latent)
            for i in indices]
    return np.array(rows).reshape(len(rows), n_latent)


# ---------------------------------------------------------------------------------- computing
@dataclass
class Context:
    """The deterministic inputs of a scenario on a baseline, ready to be perturbed per draw."""

    employment0: np.ndarray      # (territory, metier, age)
    employment: np.ndarray       # (year + 1, territory, metier): the scenario's employment path
    hazard: np.ndarray           # (metier, age) or (year, metier, age)
    hazard_by_year: bool
    net_creation: np.ndarray     # (year, territory, metier)
    young_entrants: np.ndarray
    net_mobility: np.ndarray
    profiles: Profiles
    ages: np.ndarray
    domains: list[Any]
    domain_index: np.ndarray     # (metier,) index into domains
    metier_domain: np.ndarray    # (metier,) domain codes
    spec: Uncertainty
    coords: dict[str, Any]
    #: the baseline's provenance attrs of a split or estimated run (level, key source…), written with the draws
    attrs: dict[str, Any] = field(default_factory=dict)
    #: the cells' flags (:func:`pmq.projection.indicators.cell_flags`) of a split or estimated run, else None
    flags: pd.DataFrame | None = field(default=None, compare=False)
    #: key_shares: the key's shares (territory, metier), their log-scale spread and each territory's
    #: parent group (index), or None (no key_shares parameter, or a baseline not split by a key)
    shares: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, compare=False)

    @property
    def n_domains(self) -> int:
        return len(self.domains)


def share_factors(ctx: Context, seed: int, draw_ids: Sequence[int]) -> np.ndarray | None:
    """Per draw, territory and métier, the factor that moves each cell from the key's share to the
    draw's: ``w̃ / w``, with ``log w̃ = log w + σ·z − σ²/2`` (z standard normal from a stream that depends
    on ``(seed, draw)`` only) and ``w̃`` renormalised to sum to 1 over the children of each parent, for
    every métier.  The engine is linear in the split (a child is its share of its parent in every
    age, flow and year, with the parent's rates), so scaling a draw's results by the factor is running
    it on the baseline split with the draw's shares; children still add up to their parent."""
    if ctx.shares is None:
        return None
    w, sigma, group = ctx.shares
    n_groups = int(group.max()) + 1 if group.size else 0
    out = np.empty((len(draw_ids),) + w.shape)
    for i, d in enumerate(draw_ids):
        z = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(d), 1))).standard_normal(w.shape)
        with np.errstate(divide="ignore"):
            drawn = np.where(w > 0, np.exp(np.log(np.where(w > 0, w, 1.0)) + sigma * z - 0.5 * sigma ** 2), 0.0)
        total = np.zeros((n_groups, w.shape[1]))
        np.add.at(total, group, drawn)
        drawn = drawn / np.where(total > 0, total, 1.0)[group]
        out[i] = np.where(w > 0, drawn / np.where(w > 0, w, 1.0), 1.0)
    return out


def _shift_hazard(h: np.ndarray, ages: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Hazard schedules ``h`` (..., metier, age) moved ``delta`` years later (``delta`` (n, metier)),
    linear in age, with a new leading draw axis; the top age keeps its forced exit.
    ``delta = 0`` gives ``h`` exactly."""
    a0, A = ages[0], ages.size
    n, M = delta.shape
    # the schedule below the top age only: an earlier exit never reads the forced exit at the top age
    x = np.clip(ages[None, None, :] - delta[..., None] - a0, 0.0, A - 2.0)        # (n, M, A) fractional index
    i0 = np.floor(x).astype(np.intp)
    w = x - i0
    i1 = np.minimum(i0 + 1, A - 2)
    lead = h.shape[:-2]
    shape = (n,) + lead + (M, A)
    pad = (slice(None),) + (None,) * len(lead)
    hb = np.broadcast_to(h[None], shape)
    w = w[pad]
    out: np.ndarray = (np.take_along_axis(hb, np.broadcast_to(i0[pad], shape), -1) * (1.0 - w)
           + np.take_along_axis(hb, np.broadcast_to(i1[pad], shape), -1) * w)
    out[..., -1] = hb[..., -1]
    return out


def draw_inputs(ctx: Context, Z: np.ndarray, correlated: bool = True) -> tuple[EngineInputs, dict[str, np.ndarray]]:
    """Inputs of the engine for draws with latent rows ``Z``, along a leading draw axis, and the
    drawn parameter values (:meth:`Uncertainty.values`)."""
    n = Z.shape[0]
    vals = ctx.spec.values(Z, ctx.n_domains, correlated)
    M = ctx.employment0.shape[1]
    delta = np.zeros((n, M))
    g = np.zeros((n, M))
    fy = np.zeros(n)
    fm = np.zeros(n)
    for p in ctx.spec.parameters:
        v = vals[p.id]
        if p.kind == "exit_age_shift":
            mask = np.isin(ctx.metier_domain, p.domain) if p.domain else np.ones(M, bool)
            delta = delta + v[:, None] * mask[None, :]
        elif p.kind == "growth":
            g = g + v[:, ctx.domain_index]
        elif p.kind == "young_entrants":
            fy = fy + v
        else:
            fm = fm + v
    if not any(p.kind == "exit_age_shift" for p in ctx.spec.parameters):
        hz = ctx.hazard                                           # (territory, M, A) or (year, territory, M, A)
    elif ctx.hazard_by_year:                                      # -> (year, n, territory, M, A)
        hz = np.moveaxis(_shift_hazard(ctx.hazard, ctx.ages, delta), 0, 1)
    else:                                                         # -> (n, territory, M, A)
        hz = _shift_hazard(ctx.hazard, ctx.ages, delta)
    # growth deviations compound on the trend path: E_draw(t) = E(t)·exp(g·t), never negative
    t = np.arange(ctx.employment.shape[0], dtype=float)[:, None, None, None]
    path = ctx.employment[:, None] * np.exp(g[None, :, None, :] * t)              # (year + 1, n, T, M)
    nc = np.diff(path, axis=0)
    ye = ctx.young_entrants[:, None] * np.maximum(1.0 + fy, 0.0)[None, :, None, None]
    nm = ctx.net_mobility[:, None] * np.maximum(1.0 + fm, 0.0)[None, :, None, None]
    emp0 = np.broadcast_to(ctx.employment0, (n,) + ctx.employment0.shape)
    return EngineInputs(employment0=emp0, hazard=hz, net_creation=nc, young_entrants=ye, net_mobility=nm,
                        profiles=ctx.profiles, hazard_by_year=ctx.hazard_by_year), vals


def run_latent(ctx: Context, Z: np.ndarray, correlated: bool = True, dtype: npt.DTypeLike = np.float32,
               draw_ids: Sequence[int] | None = None, factors: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Run the engine for draws ``Z``: age-summed stocks and flows per cell (float32 by default),
    each ``(n, year, territory, metier)`` (flows NaN in the final year), scaled by ``factors``
    (:func:`share_factors`, ``(n, territory, metier)``) when given.  A draw whose flows
    remove more workers than its cells hold raises :class:`~pmq.errors.InputError` naming the
    draw, the cells and the draw's parameter values."""
    inp, values = draw_inputs(ctx, Z, correlated)
    try:
        res = simulate(inp, record="cells")
    except EngineError as exc:
        raise _draw_error(ctx, exc, values, draw_ids) from exc
    H = inp.n_years
    f = None if factors is None else factors[:, None]                 # (n, 1, territory, metier)
    emp = np.moveaxis(res["employment"], 0, 1)
    out = {"employment": (emp if f is None else emp * f).astype(dtype)}
    flows = {"net_creation": inp.net_creation, "departures": res["departures"],
             "young_entrants": res["young_entrants"], "net_mobility": res["net_mobility"]}
    for k, v in flows.items():
        a = np.full((Z.shape[0], H + 1) + v.shape[2:], np.nan, dtype=dtype)
        v = np.moveaxis(v, 0, 1)
        a[:, :H] = v if f is None else v * f
        out[k] = a
    return out


def _draw_error(ctx: Context, exc: EngineError, values: dict[str, np.ndarray],
                draw_ids: Sequence[int] | None) -> InputError:
    # the error's table: pandas is imported for it only (a worker has not imported it: see the module's docstring)
    pd = importlib.import_module("pandas")
    cells = getattr(exc, "cells", [])
    terr, met = ctx.coords["territory"], ctx.coords["metier"]
    rows = []
    for c in cells[:20]:
        i = int(c[0])
        row = {"draw": int(draw_ids[i]) if draw_ids is not None else i,
               "territory": str(terr[c[-2]]), "metier": str(met[c[-1]])}
        for pid, v in values.items():
            row[pid] = (float(v[i]) if np.ndim(v) == 1 else
                        float(v[i, ctx.domain_index[c[-1]]]))
        rows.append(row)
    return InputError(tr("in these draws the flows remove more workers than the stock can lose (the drawn "
                         "parameters push a cell's outflows beyond what its ages hold); narrow the distributions",
                         "dans ces tirages, les flux retirent plus d'actifs que le stock ne peut en perdre (les "
                         "paramètres tirés poussent les sorties d'une cellule au-delà de ce que ses âges "
                         "contiennent) ; resserrez les lois"),
                      source=ctx.spec.source, column="uncertainty.parameter", rows=pd.DataFrame(rows))


#: The engine runs a chunk's draws this many age-resolved cells at a time (draws × territories × métiers ×
#: ages): its dozen arrays then stay in the processor's cache (≈ 2.5 MB each), where a chunk of 50 draws of the
#: 13 régions (26 MB each) streams through memory at every pass — 1.7 times slower.  The results are the same
#: whatever the blocks: a draw depends only on its own latent row (``test_same_seed_same_results…``).
ENGINE_BLOCK_CELLS = 320_000


#: glibc's malloc options (mallopt) that pmq sets while chunks run in a process where they are fixed.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: What glibc does by default, and with them fixed.  By default it adapts: an array freed after being mapped raises
#: the threshold above which arrays are mapped, so that the next ones of its size come from the heap.  An
#: environment setting MALLOC_TRIM_THRESHOLD_ (MALLOC_MMAP_THRESHOLD_, MALLOC_TOP_PAD_, MALLOC_MMAP_MAX_) fixes
#: them — dask.distributed's nanny sets MALLOC_TRIM_THRESHOLD_=65536 for every worker it starts, so that workers
#: give freed memory back — and then every array above 128 KiB is mapped afresh, its pages zeroed by the kernel
#: at first touch, and freed memory at the top of the heap is given back at once: the engine's arrays of
#: :data:`ENGINE_BLOCK_CELLS` cells (2.5 MB), allocated and freed thousands of times a chunk, cost a worker 1.6
#: times the CPU of a plain process (5 times the system time, 4.5 times the page faults; bench_all's LocalCluster).
_GLIBC_DEFAULT = 128 * 1024
_MALLOC_ENV = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
_malloc_state: dict[str, Any] = {"checked": False, "libc": None, "restore": {}, "active": 0}
_malloc_lock = threading.Lock()


def _fixed_malloc() -> tuple[Any, dict[int, int]]:
    """``(libc, {option: value})`` when this process's malloc thresholds were fixed by its environment at start
    (``/proc/self/environ``: what glibc read, not what Python changed since), with the values to restore; else
    ``(None, {})`` — a process whose glibc adapts its thresholds is left as it is."""
    if not _malloc_state["checked"]:
        found: tuple[Any, dict[int, int]] = (None, {})
        try:
            env = dict(x.split(b"=", 1) for x in Path("/proc/self/environ").read_bytes().split(b"\0") if b"=" in x)
            tunables = env.get(b"GLIBC_TUNABLES", b"")
            if (any(k.encode() in env for k in _MALLOC_ENV) and b"malloc.trim_threshold" not in tunables
                    and b"malloc.mmap_threshold" not in tunables):
                import ctypes
                if (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
                    libc = ctypes.CDLL("libc.so.6")
                    found = (libc, {_M_TRIM_THRESHOLD: int(env.get(b"MALLOC_TRIM_THRESHOLD_", _GLIBC_DEFAULT)),
                                    _M_MMAP_THRESHOLD: int(env.get(b"MALLOC_MMAP_THRESHOLD_", _GLIBC_DEFAULT))})
        except (OSError, ValueError, AttributeError):    # not Linux, an unreadable environ, no glibc
            pass
        _malloc_state["libc"], _malloc_state["restore"] = found
        _malloc_state["checked"] = True
    return _malloc_state["libc"], _malloc_state["restore"]


@contextmanager
def _chunk_malloc() -> Iterator[None]:
    """While chunks run in a process whose malloc thresholds are fixed (a dask.distributed worker), glibc's as it
    would adapt them: arrays up to twice an engine block's taken from the heap, freed memory kept in it; when the
    last chunk running is done, the process's own thresholds come back and the freed memory is given back to the
    system (``malloc_trim``), as the worker's setting wants.  Elsewhere nothing changes; results never depend
    on it."""
    libc, restore = _fixed_malloc()
    if libc is None:
        yield
        return
    with _malloc_lock:
        if _malloc_state["active"] == 0:
            libc.mallopt(_M_MMAP_THRESHOLD, 2 * ENGINE_BLOCK_CELLS * 8)
            libc.mallopt(_M_TRIM_THRESHOLD, 2**26)
        _malloc_state["active"] += 1
    try:
        yield
    finally:
        with _malloc_lock:
            _malloc_state["active"] -= 1
            if _malloc_state["active"] == 0:
                for option, value in restore.items():
                    libc.mallopt(option, value)
                libc.malloc_trim(0)


def run_chunk(ctx: Context, seed: int, start: int, stop: int) -> dict[str, np.ndarray]:
    with _chunk_malloc():
        return _chunk_draws(ctx, seed, start, stop)


def _chunk_draws(ctx: Context, seed: int, start: int, stop: int) -> dict[str, np.ndarray]:
    per_draw = max(1, int(np.prod(ctx.employment0.shape)))
    step = max(1, ENGINE_BLOCK_CELLS // per_draw)
    parts = []
    for a in range(start, stop, step):
        b = min(a + step, stop)
        Z = latent_draws(seed, range(a, b), ctx.spec.n_latent(ctx.n_domains))
        parts.append(run_latent(ctx, Z, draw_ids=range(a, b), factors=share_factors(ctx, seed, range(a, b))))
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def run_chunk_summed(ctx: Context, seed: int, start: int, stop: int
                     ) -> tuple[dict[str, np.ndarray], tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    """A chunk's draws (:func:`run_chunk`) and their sums (:func:`chunk_sums`), both computed where the chunk runs
    (a cluster's worker, dask's thread): the process that writes the store only writes."""
    res = run_chunk(ctx, seed, start, stop)
    return res, chunk_sums(res)


def chunk_sums(res: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The national and territory sums of a chunk's draws (:meth:`pmq.projection.ensemble.Ensemble._summed`), ``{variable: (draw, year)}``
    and ``{variable: (draw, year, territory)}`` in float64, computed as ``_summed`` computes them from the zarr store
    whose chunk this is: xarray's sum of float64 with NaN skipped is, on dask's block (C-ordered), a NaN-zeroed
    copy summed over the same axes by numpy — the same operations on the same values, so the same numbers to the bit
    (``test_ensemble_cluster``), without building dask graphs (0.1 s a chunk)."""
    national: dict[str, np.ndarray]
    territory: dict[str, np.ndarray]
    national, territory = {}, {}
    for k in res:
        x = np.ascontiguousarray(res[k]).astype(np.float64)
        np.copyto(x, 0.0, where=np.isnan(x))               # NaN → 0 in place: the values of xarray's where
        national[k] = cast(np.ndarray, np.sum(x, axis=(2, 3), dtype=np.float64))
        territory[k] = cast(np.ndarray, np.sum(x, axis=3, dtype=np.float64))
    return national, territory
