"""Sensitivity of projected openings and imbalance to each uncertain parameter.

* :func:`one_at_a_time` — every parameter at its low and high quantile (5 % and 95 % by
  default), the others at their median (0 for a centred distribution): the tornado chart's bars.
* :func:`sobol` — variance-based first-order and total indices (Saltelli 2010 estimator for
  first order, Jansen 1999 for total), from a scrambled Sobol' sequence, with bootstrap
  confidence intervals.  Parameters are sampled **independently** (the correlations of the
  ``[uncertainty]`` section are ignored here, as the classical indices assume), and a
  ``growth`` parameter is one group (its common and per-domain latents vary together).
* :func:`sobol_indices` — the estimator itself, on any model ``f(U) -> outputs``; tested on
  the Ishigami function, whose indices are known analytically.

Outputs are national (or one territory's) flows summed over a window, by default openings,
departures and imbalance from the base year to the baseline's published horizon.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special
from scipy.stats import qmc

from pmq.projection.ensemble import Context, prepare, run_latent
from pmq.errors import ArgumentError, ScenarioError
from pmq.options import tr

__all__ = ["one_at_a_time", "sobol", "sobol_indices", "OUTPUTS"]

OUTPUTS = ("openings", "departures", "imbalance")


def _outputs(ctx: Context, Z: np.ndarray, start_year, end_year, territory) -> pd.DataFrame:
    res = run_latent(ctx, Z, correlated=False, dtype=np.float64)
    years = ctx.coords["year"]
    start = int(years[0]) if start_year is None else int(start_year)
    end = start + int(ctx.net_creation.shape[0]) if end_year is None else int(end_year)
    i0, i1 = int(np.searchsorted(years, start)), int(np.searchsorted(years, end))
    sel: slice | int = slice(None)     # every territory, or one
    if territory is not None:
        codes = list(map(str, ctx.coords["territory"]))
        sel = codes.index(str(territory))
    tot = {k: res[k][:, i0:i1].astype(np.float64)[:, :, sel].reshape(Z.shape[0], i1 - i0, -1).sum((1, 2))
           for k in ("net_creation", "departures", "young_entrants", "net_mobility")}
    out = pd.DataFrame({"openings": tot["net_creation"] + tot["departures"], "departures": tot["departures"]})
    out["imbalance"] = out["openings"] - tot["young_entrants"] - tot["net_mobility"]
    return out


def _setup(scenario, baseline, horizon):
    ctx = prepare(scenario, baseline, horizon)
    if not ctx.spec.parameters:
        raise ScenarioError(tr("the scenario has no [[uncertainty.parameter]]: nothing to analyse",
                               "le scénario n'a aucun [[uncertainty.parameter]] : rien à analyser"),
                            source=ctx.spec.source, key="uncertainty.parameter")
    return ctx, ctx.spec.groups(ctx.n_domains), ctx.spec.n_latent(ctx.n_domains)


def one_at_a_time(scenario, baseline=None, q=(0.05, 0.95), start_year=None, end_year=None, territory=None,
                  horizon: int | None = None) -> pd.DataFrame:
    """Each parameter alone at quantiles ``q`` (a growth parameter: every domain at that quantile),
    the others at their median, correlations ignored.  One row per parameter × output: ``low``, ``central`` (all at the median) and
    ``high`` output values (persons), the parameter values, and ``swing = |high − low|``,
    sorted by decreasing swing within each output."""
    ctx, groups, n_lat = _setup(scenario, baseline, horizon)
    ids = list(groups)
    Z = np.zeros((1 + 2 * len(ids), n_lat))
    zlo, zhi = special.ndtri(q[0]), special.ndtri(q[1])
    for j, p in enumerate(ctx.spec.parameters):
        # a growth group: common and per-domain latents set so that every domain sits at quantile q
        scale = 1.0 if p.kind != "growth" else np.sqrt(p.domain_correlation) + np.sqrt(1 - p.domain_correlation)
        Z[1 + 2 * j, groups[p.id]] = zlo / scale
        Z[2 + 2 * j, groups[p.id]] = zhi / scale
    out = _outputs(ctx, Z, start_year, end_year, territory)
    rows = []
    for j, p in enumerate(ctx.spec.parameters):
        for k in out.columns:
            rows.append({"parameter": p.id, "kind": p.kind, "output": k,
                         "value_low": p.quantile(q[0]), "value_high": p.quantile(q[1]),
                         "low": out[k].iloc[1 + 2 * j], "central": out[k].iloc[0], "high": out[k].iloc[2 + 2 * j]})
    df = pd.DataFrame(rows)
    df["swing"] = (df["high"] - df["low"]).abs()
    df = df.sort_values(["output", "swing"], ascending=[True, False], kind="stable").reset_index(drop=True)
    df.attrs.update(q=q, window=(start_year, end_year), territory=territory)
    return df


def sobol_indices(f, groups: dict[str, list[int]], d: int, n: int = 512, seed: int = 0,
                  n_boot: int = 200) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices of the outputs of ``f`` for input ``groups``.

    ``f(U)`` takes an ``(m, d)`` array of points of the unit hypercube and returns a DataFrame
    (or an ``(m, k)`` array) of outputs.  Saltelli's scheme: base matrices A, B (``n`` rows each,
    from one scrambled Sobol' sequence of dimension 2d) and, per group g, A with g's columns
    taken from B — ``n × (2 + G)`` model runs.  S1 = mean(f(B)·(f(A_B) − f(A))) / V (Saltelli
    2010); ST = mean((f(A) − f(A_B))²) / 2V (Jansen 1999); 95 % intervals by bootstrap over rows.
    """
    if n < 8:
        raise ArgumentError(tr("n must be at least 8", "n doit valoir au moins 8"), name="n", value=n)
    base = qmc.Sobol(2 * d, scramble=True, seed=seed).random(n)
    A, B = base[:, :d], base[:, d:]
    names = list(groups)
    mats = [A, B]
    for g in names:
        ab = A.copy()
        ab[:, groups[g]] = B[:, groups[g]]
        mats.append(ab)
    Y = f(np.vstack(mats))
    cols = list(Y.columns) if isinstance(Y, pd.DataFrame) else [f"y{i}" for i in range(np.shape(Y)[1])]
    Y = np.asarray(Y, dtype=float).reshape(len(mats), n, len(cols))
    fA, fB = Y[0], Y[1]
    rng = np.random.default_rng(seed)
    boot = rng.integers(0, n, (n_boot, n))

    def est(idx):
        a, b = fA[idx], fB[idx]
        var = np.var(np.concatenate([a, b]), axis=0)
        var = np.where(var > 0, var, np.nan)
        s1, st = [], []
        for i in range(len(names)):
            ab = Y[2 + i][idx]
            s1.append(np.mean(b * (ab - a), axis=0) / var)
            st.append(0.5 * np.mean((a - ab) ** 2, axis=0) / var)
        return np.array(s1), np.array(st)

    s1, st = est(np.arange(n))
    b1 = np.array([est(ix)[0] for ix in boot])
    bt = np.array([est(ix)[1] for ix in boot])
    rows = []
    for i, g in enumerate(names):
        for j, c in enumerate(cols):
            rows.append({"parameter": g, "output": c, "S1": s1[i, j], "ST": st[i, j],
                         "S1_low": np.nanpercentile(b1[:, i, j], 2.5), "S1_high": np.nanpercentile(b1[:, i, j], 97.5),
                         "ST_low": np.nanpercentile(bt[:, i, j], 2.5), "ST_high": np.nanpercentile(bt[:, i, j], 97.5)})
    df = pd.DataFrame(rows).sort_values(["output", "ST"], ascending=[True, False], kind="stable")
    df.attrs.update(n=n, runs=n * (2 + len(names)), seed=seed)
    return df.reset_index(drop=True)


def sobol(scenario, baseline=None, n: int = 256, seed: int = 0, start_year=None, end_year=None, territory=None,
          horizon: int | None = None, chunk: int = 64) -> pd.DataFrame:
    """Sobol indices of openings, departures and imbalance (national, or one ``territory``) over
    a window, for each ``[[uncertainty.parameter]]`` of ``scenario``; ``n × (2 + k)`` engine runs."""
    ctx, groups, n_lat = _setup(scenario, baseline, horizon)

    def model(U):
        Z = special.ndtri(np.clip(U, 1e-12, 1 - 1e-12))
        parts = [_outputs(ctx, Z[i:i + chunk], start_year, end_year, territory) for i in range(0, len(Z), chunk)]
        return pd.concat(parts, ignore_index=True)

    return sobol_indices(model, groups, n_lat, n=n, seed=seed)
