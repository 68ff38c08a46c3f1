"""Ensembles: Monte Carlo over the uncertain parameters of a scenario file.

A scenario's ``[uncertainty]`` section gives distributions for four kinds of parameter — the
end-of-career exit age (``exit_age_shift``, years), employment growth by FAP domain
(``growth``, a deviation of the annual growth rate, with a correlation between domains),
the volume of young entrants (``young_entrants``, relative) and the intensity of
inter-regional mobility (``mobility``, relative) — and correlations between them (Gaussian
copula).  Every parameter's neutral value is 0: a zero-variance specification reproduces the
deterministic projection.

Draw ``i`` depends only on ``(seed, i)``: its standard-normal latent vector comes from
``numpy.random.SeedSequence(seed, spawn_key=(i,))``, never from the chunking or the number of
workers.  The engine is the same as for one projection (:func:`pmq.model.engine.simulate`, age-first,
whose reductions over age are whole-slab additions), so results are identical bit for bit in
memory, on dask's threaded scheduler, on a ``dask.distributed`` cluster and for any chunk size.

Per draw, pmq keeps age-summed annual stocks and flows per cell in float32
(``draw × year × territory × metier``): in memory, or streamed chunk by chunk to a zarr store
(``store=``) so that memory stays bounded whatever the number of draws.

An ensemble of a split or estimated baseline (départements, zones d'emploi, estimated DOM) says so: its draws
carry the baseline's ``level``, ``key_source`` (…) in attrs and the cells' ``reliability``, ``key_basis`` and
``estimated_territory`` as coordinates; its quantiles carry each row's flags (``reliability``,
``reliability_label``, ``estimated``, ``key_basis``), and the CSV of its territories is named by the level
(:func:`ensemble_files`: ``quantiles_regions.csv`` at région level, ``quantiles_departements.csv``…).

The draws' specification (:class:`Parameter`, :class:`Uncertainty`), their :class:`Context` and the engine runs of a
chunk of draws live in :mod:`pmq.model.ensemble_draws` (importable from here too): what a ``dask.distributed``
worker unpickles and imports — numpy and the engine, not pandas, xarray or the rest of pmq.  On a cluster each
chunk's national and territory sums are computed beside it, on the worker: this process receives and writes.
"""
from __future__ import annotations

import math
import os
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from pmq.formatting import check_lang, format_number
from pmq.options import tr
from pmq.outputs import (ENSEMBLE_VARIABLES, remove_temporary, replace_folder, temporary_folder, write_marker,
                         written_by_pmq)
from pmq.errors import (ArgumentError, EngineError, InactiveLeverWarning, InputError, MissingDependencyError,
                        OutputError, PmqError, ResourceError, ScenarioError)
from pmq.inputs.baseline import load_baseline
from pmq.projection.run import _resolve, scenario_inputs
# the computing of the draws lives in a module that a cluster's workers import without pandas and xarray
from pmq.model.ensemble_draws import (ENGINE_BLOCK_CELLS, KEY_SHARES_MAX_SD, KEY_SHARES_REFERENCE, KINDS,  # noqa: F401
                                      KINDS_FR, Context, Parameter, Uncertainty, draw_inputs, latent_draws, run_latent,
                                      share_factors, triangular_ppf)
from pmq.model.ensemble_draws import check_range as _check_range  # noqa: F401  (its messages' tests)
from pmq.model.ensemble_draws import run_chunk as _chunk, run_chunk_summed as _chunk_summed
from pmq.projection.indicators import (PROVENANCE_ATTRS, aggregate_flags, cell_flags, default_end_years,
                                       reliability_label, reliability_note, select, territory_table_name)
from pmq.labels import text

__all__ = ["QUANTILES", "STORED", "Parameter", "Uncertainty", "run_ensemble", "Ensemble", "latent_draws",
           "prepare", "run_latent", "check_uncertainty", "memory_estimate", "memory_limit", "check_memory",
           "parse_size", "DASK_INSTALL", "DASK_INSTALL_FR", "dask_install", "ensemble_files", "key_share_spread", "share_factors"]

#: A command that installs the dask extra from the repository (pmq is not on PyPI).
DASK_INSTALL = 'python -m pip install ".[dask]"  (run in the pmq folder, the one holding pyproject.toml)'
#: The same, in French.
DASK_INSTALL_FR = 'python -m pip install ".[dask]"  (dans le dossier de pmq, celui qui contient pyproject.toml)'


def dask_install() -> str:
    """:data:`DASK_INSTALL` in the messages' language."""
    return tr(DASK_INSTALL, DASK_INSTALL_FR)

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Variables stored per draw (age-summed, per cell); openings and imbalance are derived.
STORED = ENSEMBLE_VARIABLES


# ---------------------------------------------------------------------------------- computing
def _metier_domains(baseline) -> np.ndarray:
    return (baseline["domain"].values.astype(str) if "domain" in baseline.coords
            else np.array(["?"] * baseline.sizes["metier"]))


def check_uncertainty(scenario, baseline=None) -> Uncertainty:
    """Every check ``pmq run --draws`` makes on a scenario's ``[uncertainty]`` section before
    drawing — distributions within their plausible ranges, correlations naming known parameters
    once and forming a valid (positive-definite) matrix, domains present in ``baseline`` — so
    that ``pmq validate`` makes the same ones.  Returns the resolved :class:`Uncertainty`."""
    spec = Uncertainty.from_scenario(scenario)
    if baseline is not None:
        domains = sorted(set(_metier_domains(baseline)))
        for p in spec.parameters:
            bad = [d for d in p.domain if d not in domains]
            if bad:
                raise ScenarioError(tr(f"unknown FAP domain for this baseline; expected some of {domains}",
                                       f"domaine FAP inconnu de cette base ; attendus parmi {domains}"),
                                    source=scenario.source, key=f"uncertainty.parameter[{p.id}].domain", value=bad)
    return spec


def prepare(scenario, baseline=None, horizon: int | None = None) -> Context:
    """Resolve ``scenario`` on ``baseline`` into a :class:`Context`."""
    baseline = load_baseline() if baseline is None else baseline
    sc = _resolve(scenario, baseline, horizon)
    spec = check_uncertainty(sc, baseline)
    inp = scenario_inputs(baseline, sc)
    dom = _metier_domains(baseline)
    domains = sorted(set(dom))
    base = int(baseline.attrs["base_year"])
    H = inp.n_years
    coords = {"territory": baseline.territory.values, "metier": baseline.metier.values,
              "year": np.arange(base, base + H + 1)}
    for c in ("territory_name", "metier_label", "domain"):
        if c in baseline.coords:
            coords[c] = (baseline[c].dims[0], baseline[c].values)
    for c in ("estimated_territory", "reliability", "key_basis"):      # a split or estimated run's labels
        if c in baseline.coords:
            coords[c] = (baseline[c].dims, baseline[c].values)
    attrs = {k: str(baseline.attrs[k]) for k in PROVENANCE_ATTRS if k in baseline.attrs}
    if attrs or "estimated_territory" in baseline.coords:
        attrs["reliability_note"] = reliability_note("en")
    shares = key_share_spread(spec.shares, baseline, spec.source) if spec.shares is not None else None
    if spec.shares is not None:
        attrs["key_shares"] = (f"shares of the key drawn per draw: log-normal, sd {spec.shares.sd:g} at "
                               f"{spec.shares.reference_employment:g} jobs, × √(that / the cell's jobs), at most "
                               f"{spec.shares.max_sd:g}; renormalised within each parent"
                               if shares is not None else "no effect: the baseline is not split by a key")
    return Context(employment0=inp.employment0, employment=np.asarray(inp.employment, float),
                   hazard=np.asarray(inp.hazard, float), hazard_by_year=bool(inp.hazard_by_year),
                   net_creation=inp.net_creation, young_entrants=inp.young_entrants, net_mobility=inp.net_mobility,
                   profiles=inp.profiles, ages=baseline.age.values.astype(float), domains=domains,
                   domain_index=np.array([domains.index(d) for d in dom]), metier_domain=dom, spec=spec,
                   coords=coords, attrs=attrs, flags=cell_flags(baseline), shares=shares)


def key_share_spread(p: Parameter, baseline, source: str = "") -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(weights, sigma, group)`` of a ``key_shares`` parameter on a baseline split by a key: the key's
    share of each territory × métier within its parent (``key_weight``), the spread of its log share —
    ``sd × √(reference_employment / jobs)``, at most ``max_sd``, where jobs are the cell's base-year
    employment (a cell with none does not move) — and the index of each territory's parent.  None (with a
    warning) on a baseline that no key split: the shares have nothing to vary."""
    if "key_weight" not in baseline.coords or "parent" not in baseline.coords:
        warnings.warn(tr(f"{source or 'scenario'}: uncertainty.parameter[{p.id}] (kind key_shares) has no effect: the "
                         "baseline is not split by a key (use --level departement or zone_emploi, or --key)",
                         f"{source or 'scénario'} : uncertainty.parameter[{p.id}] (type key_shares) est sans effet : "
                         "la base n'est pas répartie par une clé (utilisez --level departement ou zone_emploi, ou "
                         "--key)"),
                      InactiveLeverWarning, stacklevel=3)
        return None
    w = np.asarray(baseline["key_weight"].values, dtype=float)
    if w.ndim == 1:
        w = np.broadcast_to(w[:, None], (baseline.sizes["territory"], baseline.sizes["metier"])).copy()
    jobs = np.asarray(baseline["employment"].sum("age").values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.where(jobs > 0, p.sd * np.sqrt(p.reference_employment / np.maximum(jobs, 1e-300)), 0.0)
    sigma = np.minimum(sigma, p.max_sd)
    sigma[~(w > 0)] = 0.0
    _, group = np.unique(baseline["parent"].values.astype(str), return_inverse=True)
    return w, sigma, group.ravel()



def _dataset(ctx: Context, arrays: dict, draws) -> xr.Dataset:
    dims = ("draw", "year", "territory", "metier")
    ds = xr.Dataset({k: (dims, arrays[k]) for k in STORED},
                    coords={"draw": np.asarray(draws), **ctx.coords})
    for k in STORED:
        ds[k].attrs["units"] = "persons"
    ds.attrs.update(ctx.attrs)
    return ds


def ensemble_files(level: str | None = None) -> tuple[str, str, str]:
    """The CSV files of an ensemble (``pmq run --draws``) at ``level``: ``quantiles_national.csv``, the
    quantiles of the territories — ``quantiles_regions.csv`` at région level, ``quantiles_departements.csv``,
    ``quantiles_zones_emploi.csv``, ``quantiles_territoires.csv`` for a user's key — and ``parameters.csv``."""
    return ("quantiles_national.csv", f"quantiles_{territory_table_name(level, 'fr')}.csv", "parameters.csv")


# ------------------------------------------------------------------------------------- memory
#: Share of the machine's available memory an ensemble may use unless told otherwise
#: (``max_memory=``, ``--max-memory``, or the environment variable ``PMQ_MAX_MEMORY``).
MEMORY_SHARE = 0.5
_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20,
          "g": 2**30, "gb": 2**30, "gib": 2**30, "t": 2**40, "tb": 2**40, "tib": 2**40}


def parse_size(text, name: str = "max_memory") -> float:
    """Bytes from ``8G``, ``500 MB``, ``1.5 GiB``, ``123456`` (bytes) — units are powers of 1024 —
    or ``off`` / ``none`` (no limit: ``inf``)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if not text > 0:
            raise ArgumentError(tr("must be a positive number of bytes", "doit être un nombre d'octets positif"),
                                name=name, value=text)
        return float(text)
    t = str(text).strip().lower().replace(" ", "")
    if t in ("off", "none", "inf", "unlimited"):
        return math.inf
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([a-z]*)", t)
    if not m or m[2] not in _UNITS or not float(m[1]) > 0:
        raise ArgumentError(tr("expected a size such as 8G, 500M or 2.5GB (or off)",
                               "taille attendue telle que 8G, 500M ou 2.5GB (ou off)"), name=name, value=str(text))
    return float(m[1]) * _UNITS[m[2]]


def _fmt_bytes(n: float) -> str:
    """« 1.5 GB » in English, « 1,5 Go » in French (the messages' language)."""
    for unit, unit_fr, size in (("TB", "To", 2**40), ("GB", "Go", 2**30), ("MB", "Mo", 2**20)):
        if n >= size:
            return tr(f"{n / size:,.1f} {unit}", f"{_fmt_int(n / size, 1)}\u202f{unit_fr}")
    return tr(f"{n / 2**10:,.0f} KB", f"{_fmt_int(n / 2**10, 0)}\u202fKo")


def _fmt_int(x: float, decimals: int = 0) -> str:
    """``x`` with thousands separated as the messages' language writes them: 10,000,000 or 10 000 000."""
    s = f"{x:,.{decimals}f}"
    return tr(s, s.replace(",", "\u202f").replace(".", ","))


def available_memory() -> int | None:
    """Memory available to new work, in bytes: psutil if installed, else ``MemAvailable`` of
    ``/proc/meminfo``; None when neither tells."""
    try:
        import psutil
        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - psutil absent or unusable
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def memory_limit(max_memory=None) -> tuple[float | None, str]:
    """The memory an ensemble may use, in bytes, and where the figure comes from: ``max_memory``
    (bytes or a size such as ``"8G"``), else ``PMQ_MAX_MEMORY``, else half the available
    memory (:data:`MEMORY_SHARE`); ``(None, …)`` when nothing tells."""
    if max_memory is not None:
        return parse_size(max_memory), tr("the limit given (max_memory / --max-memory)",
                                          "la limite donnée (max_memory / --max-memory)")
    env = os.environ.get("PMQ_MAX_MEMORY", "").strip()
    if env:
        return parse_size(env, name="PMQ_MAX_MEMORY"), tr("the limit set by PMQ_MAX_MEMORY",
                                                          "la limite fixée par PMQ_MAX_MEMORY")
    avail = available_memory()
    if avail is None:
        return None, tr("unknown (the available memory cannot be read)",
                        "inconnue (la mémoire disponible ne peut être lue)")
    return avail * MEMORY_SHARE, tr(f"half the memory available now ({_fmt_bytes(avail)})",
                                    f"la moitié de la mémoire disponible maintenant ({_fmt_bytes(avail)})")


def memory_estimate(baseline, scenario, draws: int, horizon: int | None = None, chunk: int = 50,
                    streamed: bool = False, workers: int | None = None) -> dict:
    """Memory an ensemble of ``draws`` holds, in bytes, from the baseline's dimensions, the horizon
    and the scenario's ``[uncertainty]`` (nothing is computed): ``per_draw`` (kept for every
    draw), ``fixed`` (the chunks being computed, ``workers`` at a time, and the inputs) and
    ``total``.

    In memory (``streamed=False``) every draw keeps its stocks and flows (5 float32 arrays of
    year × territory × métier) and the quantiles make a float64 copy of them: 60 bytes per
    cell-year.  Streamed to a zarr store, a draw keeps 5 bytes per cell-year (the store's
    completeness check) but dask holds ``2 × workers`` chunks of results at a time.  Measured
    peaks are within a third of the estimate, which errs high (``benchmarks/bench_ensemble.py`` sizes)."""
    T, M, A = (int(baseline.sizes[d]) for d in ("territory", "metier", "age"))
    H = int(scenario.horizon if horizon is None else horizon)
    C = T * M
    params = [p for p in scenario.uncertain_parameters() if p.get("kind") != "key_shares"]
    n_dom = len(set(_metier_domains(baseline)))
    n_growth = sum(p.get("kind") == "growth" for p in params)
    n_latent = len(params) + n_dom * n_growth
    n_cols = len(params) + (n_dom - 1) * n_growth
    exit_levers = scenario.has_exit_levers
    shift = any(p.get("kind") == "exit_age_shift" for p in params)
    chunk = max(1, min(int(chunk), int(draws)))
    if exit_levers and shift:                       # as run_ensemble: a chunk's hazards under ~400 MB
        chunk = max(1, min(chunk, int(4e8 // (H * C * A * 8 * 3))))
    cells = (H + 1) * C
    per_draw = (5 if streamed else 60) * cells + 16 * n_latent + 16 * n_cols + 250
    work = C * A * 8 * 7 + cells * 8 * 6 + (H * C * A * 8 * 3 if exit_levers and shift else 0)
    workers = max(1, int(workers or 1))
    inputs = C * A * 8 * (2 + (H if exit_levers else 0)) + 4 * cells * 8
    fixed = chunk * work * (workers if streamed else 1) + inputs
    if streamed:
        fixed += 2 * workers * chunk * cells * 20
    return {"per_draw": float(per_draw), "fixed": float(fixed), "total": float(per_draw * int(draws) + fixed),
            "chunk": chunk, "draws": int(draws), "streamed": bool(streamed)}


def check_memory(baseline, scenario, draws: int, horizon: int | None = None, chunk: int = 50,
                 streamed: bool = False, workers: int | None = None, max_memory=None, name: str = "draws") -> dict:
    """Refuse (:class:`~pmq.errors.ResourceError`) an ensemble whose :func:`memory_estimate`
    exceeds :func:`memory_limit`, before anything is computed; the message gives the estimate,
    the limit, how many draws would fit and what to do.  Returns the estimate."""
    est = memory_estimate(baseline, scenario, draws, horizon, chunk, streamed, workers)
    limit, why = memory_limit(max_memory)
    if limit is None or est["total"] <= limit:
        return est
    fit = int(max(0.0, (limit - est["fixed"]) // est["per_draw"]))
    where = (tr("streamed to a zarr store", "écrits au fil de l'eau dans un stockage zarr") if streamed
             else tr("held in memory", "gardés en mémoire"))
    todo = [tr(f"run at most about {fit:,} draws", f"lancez au plus environ {_fmt_int(fit)} tirages") if fit
            else tr("run far fewer draws", "lancez bien moins de tirages")]
    if not streamed:
        todo.append(tr("stream the draws to disk, which keeps 12 times less per draw: store= in Python; pmq run "
                       "streams them to ensemble.zarr when the dask extra is installed — " + DASK_INSTALL,
                       "écrivez les tirages sur disque au fil de l'eau, ce qui garde 12 fois moins par tirage : "
                       "store= en Python ; pmq run les écrit dans ensemble.zarr quand l'extra dask est installé — "
                       + DASK_INSTALL_FR))
    if est["fixed"] > 0.2 * limit:
        todo.append(tr(f"compute smaller chunks of draws (--chunk, chunk=; now {est['chunk']})",
                       f"calculez les tirages par paquets plus petits (--chunk, chunk= ; aujourd'hui {est['chunk']})"))
    todo.append(tr("or raise the limit (--max-memory SIZE, max_memory=, or PMQ_MAX_MEMORY=SIZE) if the machine has "
                   "the memory",
                   "ou relevez la limite (--max-memory TAILLE, max_memory=, ou PMQ_MAX_MEMORY=TAILLE) si la machine "
                   "a la mémoire"))
    n = int(draws)
    raise ResourceError(tr(
        f"{name} {n:,}: the ensemble would need about {_fmt_bytes(est['total'])} of memory ({where}: "
        f"{_fmt_bytes(est['per_draw'])} per draw × {n:,} draws + {_fmt_bytes(est['fixed'])} to compute "
        f"the chunks), above the limit of {_fmt_bytes(limit)}, {why}; nothing was computed. To do: "
        + "; ".join(todo) + ".",
        f"{name} {_fmt_int(n)} : l'ensemble demanderait environ {_fmt_bytes(est['total'])} de mémoire ({where} : "
        f"{_fmt_bytes(est['per_draw'])} par tirage × {_fmt_int(n)} tirages + {_fmt_bytes(est['fixed'])} pour "
        f"calculer les paquets), au-delà de la limite de {_fmt_bytes(limit)}, {why} ; rien n'a été calculé. À faire : "
        + " ; ".join(todo) + "."))


# ------------------------------------------------------------------------------------ running
def run_ensemble(scenario="reference", baseline=None, draws: int = 100, seed: int | None = None,
                 horizon: int | None = None, chunk: int = 50, store=None, scheduler=None,
                 progress=None, max_memory=None) -> Ensemble:
    """Run ``draws`` members of ``scenario``'s ensemble.

    Parameters
    ----------
    seed : int, optional
        Default: the scenario's ``uncertainty.seed``, else 0.
    chunk : int
        Draws computed together (memory ≈ chunk × cells × ages × 8 bytes × a few).
    store : path, optional
        A zarr store: draws are streamed to disk chunk by chunk (bounded memory) and the
        result is opened lazily (dask-backed).  Needs the ``dask`` extra.
    scheduler : None, "sync", "threads", "processes", a ``dask.distributed.Client`` or an address
        None with no store: a plain numpy loop over chunks.  Otherwise dask computes the chunks
        (``"threads"`` by default with a store); an address such as ``"tcp://127.0.0.1:8786"``
        connects to a cluster.
    progress : callable(done, total), optional
        Called after each chunk (numpy loop) or by dask's progress callbacks.
    max_memory : int, float or str, optional
        Memory the run may use (bytes, or a size such as ``"8G"``; ``"off"``: no limit).  Default:
        ``PMQ_MAX_MEMORY`` if set, else half the memory available.  An ensemble whose
        :func:`memory_estimate` is above it raises :class:`~pmq.errors.ResourceError` before
        anything is computed.
    """
    for name, v in (("draws", draws), ("chunk", chunk)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ArgumentError(tr("must be a whole number ≥ 1", "doit être un nombre entier ≥ 1"), name=name, value=v)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or not 0 <= seed < 2**63):
        raise ArgumentError(tr("the seed must be a whole number from 0 to 2**63 − 1",
                               "la graine doit être un nombre entier de 0 à 2**63 − 1"), name="seed", value=seed)
    baseline = load_baseline() if baseline is None else baseline
    scenario = _resolve(scenario, baseline, horizon)
    sync = store is None and scheduler is None or (isinstance(scheduler, str) and scheduler in ("sync", "synchronous"))
    check_memory(baseline, scenario, draws, None, chunk, streamed=store is not None,
                 workers=1 if sync else (os.cpu_count() or 2), max_memory=max_memory)   # before any work
    ctx = prepare(scenario, baseline)
    seed = int(ctx.spec.seed if seed is None and ctx.spec.seed is not None else (seed or 0))
    if ctx.hazard_by_year and any(p.kind == "exit_age_shift" for p in ctx.spec.parameters):
        # a hazard per year and draw: keep a chunk's hazards under ~400 MB (results do not depend on it)
        per_draw = ctx.hazard.size * 8 * 3
        chunk = max(1, min(chunk, int(4e8 // per_draw)))
    bounds = [(i, min(i + chunk, draws)) for i in range(0, draws, chunk)]
    if store is None and scheduler is None:
        arrays: dict[str, np.ndarray | None] = {k: None for k in STORED}
        for j, (a, b) in enumerate(bounds):
            res = _chunk(ctx, seed, a, b)
            for k in STORED:
                store_k = arrays[k]
                if store_k is None:
                    store_k = arrays[k] = np.empty((draws,) + res[k].shape[1:], np.float32)
                store_k[a:b] = res[k]
            if progress is not None:
                progress(j + 1, len(bounds))
        flows, sums = _dataset(ctx, arrays, range(draws)), None
    else:
        flows, sums = _run_dask(ctx, seed, bounds, draws, store, scheduler, progress)
    Z = latent_draws(seed, range(draws), ctx.spec.n_latent(ctx.n_domains))
    ens = Ensemble(flows=flows, parameters=_parameter_table(ctx, Z), context=ctx, seed=seed)
    if sums:
        ens._sums.update(sums, flows=flows)
    return ens


def _scheduler_function(name: str):
    """dask's own function for a local scheduler's name (``"threads"``…), or the name: ``dask.compute``
    given a name imports ``dask.distributed`` (≈ 0.3 s) only to look for a running cluster."""
    import dask.base
    return getattr(dask.base, "named_schedulers", {}).get(name, name)


@contextmanager
def local_scheduler(name: str | None = "threads"):
    """Within the block, dask computes on the local scheduler ``name`` (``threads``, ``sync``,
    ``processes``) given as its function, so that reading a streamed ensemble does not import
    ``dask.distributed`` to look for a cluster; a name that is not a local scheduler (an address)
    changes nothing."""
    fn = _scheduler_function(name or "threads")
    if isinstance(fn, str):
        yield
        return
    import dask
    with dask.config.set(scheduler=fn):
        yield


def _client(scheduler):
    """``(client or scheduler name, owned)``: an address (``tcp://host:port`` or ``host:port``)
    connects a ``distributed.Client`` (closed afterwards)."""
    if isinstance(scheduler, str):
        if scheduler in ("threads", "sync", "synchronous", "processes"):
            return scheduler, False
        if "://" in scheduler or re.fullmatch(r"[\w.-]+:\d+", scheduler):
            try:
                from distributed import Client
            except ImportError:
                raise MissingDependencyError(tr("a dask.distributed scheduler address needs the optional dask extra "
                                                "(dask, distributed, zarr), not installed: " + DASK_INSTALL,
                                                "une adresse d'ordonnanceur dask.distributed demande l'extra "
                                                "optionnel dask (dask, distributed, zarr), non installé : "
                                                + DASK_INSTALL_FR)) from None
            address = scheduler if "://" in scheduler else "tcp://" + scheduler
            try:
                return Client(address, timeout="10s"), True
            except OSError as exc:
                raise PmqError(tr(f"cannot reach the dask scheduler at {address}: {exc}",
                                  f"impossible de joindre l'ordonnanceur dask à {address} : {exc}")) from None
        raise ArgumentError(tr("unknown scheduler: use threads, sync, processes or a dask.distributed address "
                               "(tcp://host:port)",
                               "ordonnanceur inconnu : utilisez threads, sync, processes ou une adresse "
                               "dask.distributed (tcp://hôte:port)"), name="scheduler", value=scheduler)
    return scheduler, False


def _is_store(path: Path) -> bool:
    return (path / ".zgroup").exists() or (path / "zarr.json").exists()


def _check_store_target(target: Path) -> None:
    """The store may replace only a store pmq wrote (its marker, or pmq's ensemble arrays) or an
    empty folder: a folder of the user's is never overwritten."""
    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_dir() or not written_by_pmq(target):
        kind = ("a symbolic link" if target.is_symlink() else "a folder" if target.is_dir() else "a file")
        kind_fr = ("un lien symbolique" if target.is_symlink() else "un dossier" if target.is_dir() else "un fichier")
        raise OutputError(tr(f"the ensemble store exists and is not a zarr store written by pmq (it is {kind} "
                             "without pmq's .pmq-output marker), nor an empty folder: not overwritten, so nothing "
                             "of yours is lost; move it away or choose another path",
                             f"le stockage de l'ensemble existe et n'est ni un stockage zarr écrit par pmq (c'est "
                             f"{kind_fr} sans le marqueur .pmq-output de pmq), ni un dossier vide : il n'est pas "
                             "écrasé, rien de vos fichiers n'est perdu ; déplacez-le ou choisissez un autre chemin"),
                          path=target)


def _stored_sums(flows: xr.Dataset, sums: list) -> dict:
    """``{"national": …, "territory": …}`` as :meth:`Ensemble._summed` reads them from ``flows`` (a store just
    written): its lazy sums (coordinates, attributes, order: nothing is computed) holding the chunks' sums
    (:func:`pmq.model.ensemble_draws.chunk_sums`, in the order of the draws)."""
    plain = flows.drop_vars([c for c in flows.coords if c not in ("draw", "year", "territory", "metier")])
    lazy = plain.astype(np.float64)
    return {name: lazy.sum(dims).copy(data={k: np.concatenate([s[i][k] for s in sums]) for k in STORED})
            for i, (name, dims) in enumerate(_AGGREGATES.items())}


def _run_dask(ctx, seed, bounds, draws, store, scheduler, progress):
    """Chunks computed by dask (threads, or a distributed cluster); results come back to this
    process, which writes them — so a cluster needs no shared file system — into a fresh zarr
    store beside ``store``, moved into place once complete and checked.  Returns the draws and, for a store,
    their national and territory sums (:meth:`Ensemble._summed`), added up as the chunks come: the quantiles
    then read the store no more (neither this process nor a cluster's workers, which may not see its files)."""
    try:
        import dask
        import dask.array as da
        if store is not None:
            import zarr  # noqa: F401
    except ImportError:
        raise MissingDependencyError(tr("ensembles on dask (store=, scheduler=; pmq run --scheduler) need the "
                                        "optional dask extra (dask, distributed, zarr), not installed: " + DASK_INSTALL
                                        + "; without it, run_ensemble(store=None, scheduler=None) computes the draws "
                                        "in memory",
                                        "les ensembles sur dask (store=, scheduler= ; pmq run --scheduler) demandent "
                                        "l'extra optionnel dask (dask, distributed, zarr), non installé : "
                                        + DASK_INSTALL_FR + " ; sans lui, run_ensemble(store=None, scheduler=None) "
                                        "calcule les tirages en mémoire")) from None

    # the workers' copy: without the cells' flags (a pandas table, which a worker would import pandas to unpickle)
    ctx_d = dask.delayed(replace(ctx, flags=None), pure=True)
    tail = (ctx.coords["year"].size, ctx.employment0.shape[0], ctx.employment0.shape[1])
    task = _chunk_summed if store is not None else _chunk        # a store's sums are computed beside the chunk
    blocks = [dask.delayed(task, pure=True)(ctx_d, seed, a, b) for a, b in bounds]
    target = tmp = None
    if store is not None:
        target = Path(store).resolve()
        _check_store_target(target)                     # before any work: never someone else's folder
    client, owned = _client(scheduler)
    distributed = client is not None and hasattr(client, "submit")
    sched = None if distributed else (client if client is not None else "threads")
    if isinstance(sched, str):
        sched = _scheduler_function(sched)
    dims = ("draw", "year", "territory", "metier")
    parts = {}                      # chunk index → its results {variable: array} (in memory)
    sums: list = []                 # per chunk, its national and territory sums (a store)

    def take(j, res):
        a, b = bounds[j]
        if tmp is not None:
            res, chunk_sums = res
            region = xr.Dataset({k: (dims, res[k]) for k in STORED})
            region.to_zarr(str(tmp), region={"draw": slice(a, b), "year": slice(None),
                                             "territory": slice(None), "metier": slice(None)})
            sums.append(chunk_sums)
        else:
            parts[j] = res
        done[0] += 1
        if progress is not None:
            progress(done[0], len(bounds))
    done = [0]                      # chunks taken so far
    try:
        if store is not None:
            tmp = temporary_folder(target) / "store.zarr"   # removes what a killed run left beside it
            size = bounds[0][1] - bounds[0][0]
            template = _dataset(ctx, {k: da.zeros((draws,) + tail, chunks=(size,) + tail, dtype=np.float32)
                                      for k in STORED}, range(draws))
            template.to_zarr(str(tmp), mode="w-", compute=False, zarr_format=2)
        if distributed:
            futures = client.compute(blocks)
            for j, fut in enumerate(futures):        # gathered in order; the workers keep computing
                take(j, fut.result())
                fut.release()
        else:
            width = 2 * (dask.system.CPU_COUNT or 2)            # bounded memory: a few chunks at a time
            for i in range(0, len(blocks), width):
                for j, res in enumerate(dask.compute(*blocks[i:i + width], scheduler=sched), start=i):
                    take(j, res)
    except BaseException:            # Ctrl-C included: the temporary folder goes, the interrupt goes on
        if tmp is not None:
            remove_temporary(tmp.parent)
        raise
    finally:
        if owned:
            client.close()
    if tmp is None:
        arrays = {k: np.concatenate([parts[j][k] for j in range(len(bounds))]) for k in STORED}
        return _dataset(ctx, arrays, range(draws)), None
    try:
        written = xr.open_zarr(str(tmp))
        with local_scheduler("threads"):            # this process's files: not a cluster's work
            missing = int(np.isnan(written["employment"].values).sum())
        written.close()
        if missing:
            raise EngineError(tr(f"{missing} stored employment values are missing: a chunk was not written",
                                 f"{missing} valeurs d'emploi stockées manquent : un paquet de tirages n'a pas été "
                                 "écrit"))
        assert target is not None, "a store is written to a target folder"
        _check_store_target(target)                     # still nobody else's folder
        replace_folder(tmp, target)                     # with pmq's marker; replaces only pmq's store
    finally:
        remove_temporary(tmp.parent)
    flows = xr.open_zarr(str(target))
    return flows, _stored_sums(flows, sums)


def _parameter_table(ctx: Context, Z: np.ndarray) -> pd.DataFrame:
    vals = ctx.spec.values(Z, ctx.n_domains)
    cols = {}
    for p in ctx.spec.parameters:
        v = vals[p.id]
        if v.ndim == 2:
            for j, d in enumerate(ctx.domains):
                cols[f"{p.id}[{d}]"] = v[:, j]
        else:
            cols[p.id] = v
    return pd.DataFrame(cols, index=pd.Index(range(Z.shape[0]), name="draw"))


# ------------------------------------------------------------------------------------ results
#: Dimensions summed for each ``by`` of :meth:`Ensemble.window` ("cell": none, never cached).
_BY = {"national": ["territory", "metier"], "territory": ["metier"], "cell": []}
_AGGREGATES = {k: v for k, v in _BY.items() if v}
#: Bytes of float64 per slab of draws when in-memory draws are summed (bounds the temporaries).
_SLAB_BYTES = 2**27


@dataclass
class Ensemble:
    """Draws of a scenario: ``flows`` (draw × year × territory × métier, float32, persons), the
    drawn ``parameters`` (one row per draw) and summaries."""

    flows: xr.Dataset
    parameters: pd.DataFrame
    context: Context
    seed: int
    #: the float64 sums of :meth:`_summed`, read once from ``flows``
    _sums: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def n_draws(self) -> int:
        return int(self.flows.sizes["draw"])

    @property
    def level(self) -> str:
        """The territorial level of the draws (``"region"`` unless the baseline was split)."""
        return str(self.context.attrs.get("level", "region"))

    @property
    def files(self) -> tuple[str, str, str]:
        """The CSV files ``pmq run --draws`` writes for this ensemble (:func:`ensemble_files`)."""
        return ensemble_files(self.level)

    def window(self, start_year=None, end_year=None, by: str = "national") -> xr.Dataset:
        """Per draw: flows summed over ``start_year ≤ year < end_year`` (float64) and employment
        at both ends, summed to ``by`` = ``"national"``, ``"territory"`` or ``"cell"``.

        The national and territory sums are read from :attr:`flows` once (one pass over the draws,
        chunk by chunk, for both) and kept on the ensemble: further windows and quantiles slice
        them instead of re-reading a zarr store."""
        years = self.flows.year.values
        start = int(years[0]) if start_year is None else int(start_year)
        end = int(years[-1]) if end_year is None else int(end_year)
        if start not in years or end not in years or end <= start:
            raise InputError(tr(f"window {start}–{end} is not inside the ensemble's years ({years[0]}–{years[-1]})",
                                f"la fenêtre {start}–{end} n'est pas dans les années de l'ensemble "
                                f"({years[0]}–{years[-1]})"),
                             column="year", rows=[start, end])
        if by not in _BY:
            raise KeyError(by)
        sub = self._summed(by) if _BY[by] else self._plain_flows().astype(np.float64)
        w = xr.Dataset({k: sub[k].sel(year=slice(start, end - 1)).sum("year")
                        for k in ("net_creation", "departures", "young_entrants", "net_mobility")})
        w["employment_start"] = sub["employment"].sel(year=start, drop=True)
        w["employment_end"] = sub["employment"].sel(year=end, drop=True)
        w["openings"] = w["net_creation"] + w["departures"]
        w["imbalance"] = w["openings"] - w["young_entrants"] - w["net_mobility"]
        w.attrs.update(start_year=start, end_year=end, period=f"{start}–{end}")
        return w

    def _plain_flows(self) -> xr.Dataset:
        """:attr:`flows` with only the dimension coordinates (labels dropped)."""
        f = self.flows
        return f.drop_vars([c for c in f.coords if c not in ("draw", "year", "territory", "metier")])

    def _summed(self, by: str) -> xr.Dataset:
        """Per draw and year, the stored variables in float64 summed over ``by``'s dimensions, in
        memory.  Both aggregates (national, territory) come from one read of :attr:`flows`: one
        dask computation sharing the reads when the draws are dask-backed (a zarr store), else
        slabs of draws (bounded float64 temporaries).  Cached until :attr:`flows` is replaced."""
        cache = self._sums
        if cache.get("flows") is not self.flows:
            cache.clear()
            cache["flows"] = self.flows
        if by not in cache:
            f = self._plain_flows()
            lazy = any(hasattr(f[k].data, "dask") for k in f.data_vars)
            if lazy:
                import dask
                sub = f.astype(np.float64)
                done = dask.compute(*(sub.sum(dims) for dims in _AGGREGATES.values()))
            else:
                n = f.sizes["draw"]
                per_draw = 8 * sum(f[k].size for k in f.data_vars) // max(n, 1)
                step = max(1, _SLAB_BYTES // max(per_draw, 1))
                parts: list[list[xr.Dataset]] = [[] for _ in _AGGREGATES]
                for a in range(0, n, step):
                    sub = f.isel(draw=slice(a, a + step)).astype(np.float64)
                    for p, dims in zip(parts, _AGGREGATES.values(), strict=True):
                        p.append(sub.sum(dims))
                done = tuple(p[0] if len(p) == 1 else xr.concat(p, dim="draw") for p in parts)
            cache.update(zip(_AGGREGATES, done, strict=True))
        return cache[by]

    def quantiles(self, end_years=None, q=QUANTILES, by: str = "national", lang: str | None = None) -> xr.Dataset:
        """Quantiles across draws of each window from the base year to each end year
        (default: 5, 10, 20 years and 2030 where reached), with a ``period`` dimension.

        For a split or estimated baseline, the result carries the flags of each row as coordinates
        (``reliability``, ``reliability_label`` in ``lang``, ``estimated``, ``key_basis``; a territory's and the
        national row's are those of the sum of their cells, :func:`pmq.projection.indicators.aggregate_flags`),
        the territories' names (``by="territory"``) and the provenance attrs (``level``, ``key_source``…)."""
        base = int(self.flows.year.values[0])
        if end_years is None:
            end_years = default_end_years(xr.Dataset(coords={"year": self.flows.year.values}))
        out = []
        for e in end_years:
            w = self.window(base, e, by).compute()          # a no-op but for by="cell"
            qs = w.quantile(list(q), dim="draw")
            out.append(qs.expand_dims(period=[f"{base}–{e}"]))
        res = xr.concat(out, dim="period")
        res.attrs.update(n_draws=self.n_draws, seed=self.seed, scenario=self.context.spec.source)
        return self._flagged(res, by, lang)

    def _flagged(self, res: xr.Dataset, by: str, lang: str | None) -> xr.Dataset:
        """``res`` with the flags of its rows (split or estimated runs; else as it is)."""
        cells = self.context.flags
        if cells is None:
            return res
        lang = check_lang(lang)
        res.attrs.update(self.context.attrs)
        if by == "national":
            f = aggregate_flags(cells, []).iloc[0]
            coords = {"reliability": np.int8(f["reliability"]),
                      "reliability_label": reliability_label([f["reliability"]], lang)[0],
                      "estimated": bool(f["estimated"])}
            if "key_basis" in f.index:
                coords["key_basis"] = str(f["key_basis"])
            return res.assign_coords(coords)
        keys = ["territory"] if by == "territory" else ["territory", "metier"]
        f = (aggregate_flags(cells, keys) if by == "territory" else cells).set_index(keys)
        terr = [str(t) for t in res.territory.values]
        if by == "territory":
            f = f.reindex(terr)
            dims: tuple = ("territory",)
            if "territory_name" in self.flows.coords:
                names = dict(zip(map(str, self.flows.territory.values), map(str, self.flows["territory_name"].values)))
                res = res.assign_coords(territory_name=("territory", [names.get(t, t) for t in terr]))
        else:
            met = [str(m) for m in res.metier.values]
            f = f.reindex(pd.MultiIndex.from_product([terr, met]))
            dims = ("territory", "metier")
        shape = tuple(res.sizes[d] for d in dims)
        rel = f["reliability"].to_numpy().astype(np.int8)
        coords = {"reliability": (dims, rel.reshape(shape)),
                  "reliability_label": (dims, np.array(reliability_label(rel, lang)).reshape(shape)),
                  "estimated": (dims, f["estimated"].to_numpy().astype(bool).reshape(shape))}
        if "key_basis" in f.columns:
            coords["key_basis"] = (dims, f["key_basis"].to_numpy().astype(str).reshape(shape))
        return res.assign_coords(coords)

    def summary(self, end_years=None, lang: str | None = None) -> str:
        """National quantiles of the headline flows, in thousands, in ``lang`` (French words and numbers
        « 26 147,0 » by default, English with ``"en"``)."""
        lang = check_lang(lang)
        fr = lang == "fr"
        qs = self.quantiles(end_years)
        draws = f"{self.n_draws} tirage{'s' if self.n_draws > 1 else ''}" if fr else \
            f"{self.n_draws} draw{'s' if self.n_draws > 1 else ''}"
        head = (f"ensemble pmq — {draws}, graine {self.seed} — totaux nationaux, milliers" if fr else
                f"pmq ensemble — {draws}, seed {self.seed} — national totals, thousands")
        names = {k: text(k, lang) for k in ("openings", "departures", "imbalance", "employment_end")}
        width = max(len(n) for n in names.values()) + 2
        lines = [head, f"{'période' if fr else 'period':<11}{'variable':<{width}}"
                 + "".join(f"{f'q{int(x * 100):02d}':>10}" for x in qs["quantile"].values)]
        for per in qs.period.values:
            for k, name in names.items():
                v = qs[k].sel(period=per).values
                lines.append(f"{per:<11}{name:<{width}}" + "".join(f"{format_number(x, 1, lang, scale=1e-3):>10}"
                                                                   for x in v))
        return "\n".join(lines)

    def series(self, variable: str = "employment", territory=None) -> xr.DataArray:
        """Per draw and year: ``variable`` summed over métiers and territories (or one territory)."""
        f = self.flows
        if territory is not None:
            f = select(f, territory=territory)
        da = f[variable].astype(np.float64).sum(["territory", "metier"], min_count=1)
        return da.compute() if hasattr(da.data, "compute") else da

    def fan(self, variable: str = "employment", territory=None, lang: str | None = None, ax=None):
        """Fan chart (5–95 %, 25–75 %, median) of ``variable`` over the years, titled with the territory's
        name (« Bretagne » for ``"53"``), in thousands (millions from a million persons); a figure the fan
        draws itself gets the source line at its bottom."""
        lang = check_lang(lang)
        from pmq.plots import fan_chart
        da = self.series(variable, territory)
        if variable != "employment":
            da = da.isel(year=slice(0, -1))
        da = da.assign_attrs(long_name=text(variable, "fr"), long_name_en=text(variable, "en"),
                             provenance={**self.context.attrs, "territory": list(map(str, self.flows.territory.values))})
        ax = fan_chart(da, lang=lang, ax=ax)
        ax.set_title(f"{self._fan_where(territory, lang)}\n{text(variable, lang)} — {self.n_draws} "
                     f"{'tirages' if lang == 'fr' else 'draws'}", loc="left")
        return ax

    def _fan_where(self, territory, lang: str) -> str:
        """The name of ``territory`` (codes or names; None: France) in the fan's title."""
        if territory is None:
            return text("france", lang)
        sel = select(self.flows, territory=territory)
        names = sel.territory_name.values if "territory_name" in sel.coords else sel.territory.values
        return ", ".join(map(str, names))

    def to_zarr(self, path) -> None:
        """Write the draws to a new zarr store (refuses an existing path), marked as pmq's."""
        if os.path.lexists(path):
            raise OutputError(tr("exists: Ensemble.to_zarr writes a new store only; choose another path",
                                 "existe déjà : Ensemble.to_zarr n'écrit qu'un nouveau stockage ; choisissez un autre "
                                 "chemin"), path=path)
        self.flows.to_zarr(str(path), mode="w-", zarr_format=2)
        write_marker(Path(path), "output")

