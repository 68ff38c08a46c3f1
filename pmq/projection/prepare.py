"""A scenario's engine inputs: the annual paths of every flow, with the levers applied, checked against the
baseline.

:func:`scenario_inputs` builds the trend paths (:func:`pmq.model.paths.input_paths`, or an estimated trend
model), applies the demand, inflow, supply and exit levers (:mod:`pmq.scenario.levers`) and returns the
:class:`~pmq.model.engine.EngineInputs` that :func:`pmq.model.engine.simulate` runs; :func:`estimated_inputs`
names what pmq estimated for the accounts' provenance.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd
import xarray as xr

from pmq.errors import InputError, ScenarioError
from pmq.estimation.exits import metier_hazards
from pmq.estimation.trends import metier_trend_index
from pmq.inputs.training import calibrate_training, supply_factors
from pmq.model import demand
from pmq.model.engine import EngineInputs, Profiles
from pmq.model.paths import input_paths
from pmq.model.rules import Rules
from pmq.options import plural, tr
from pmq.scenario import levers
from pmq.scenario.read import Scenario, warn_inactive_levers

__all__ = ["scenario_inputs", "employment_path", "shared_paths", "estimated_inputs", "cell_rows"]


def _check_baseline(baseline: xr.Dataset, rules: Rules) -> None:
    pmob = baseline["published_net_mobility"]
    if rules.mobility_continuation == "ratio_recentred" and baseline.sizes["territory"] > 1:
        s = pmob.sum("territory")
        scale = float(abs(pmob).sum()) or 1.0
        if float(abs(s).max()) > 1e-9 * scale + 1e-6:
            worst = s.to_series().abs().sort_values(ascending=False).head(5)
            raise InputError(tr("net mobility does not sum to zero over territories, so the "
                                "'ratio_recentred' continuation does not apply; use 'constant_ratio' or "
                                "'constant_level' for territories that exchange workers with the outside",
                                "le solde des mobilités n'est pas nul sur l'ensemble des territoires : le "
                                "prolongement 'ratio_recentred' ne s'applique pas ; utilisez 'constant_ratio' ou "
                                "'constant_level' pour des territoires qui échangent des actifs avec l'extérieur"),
                             source="flows", column="net_mobility",
                             rows=worst.rename("sum_over_territories").reset_index())


def cell_rows(baseline, cells, **cols) -> pd.DataFrame:
    """Rows naming cells ``(territory index, métier index)`` by code (and name), with ``cols``."""
    terr, met = baseline.territory.values, baseline.metier.values
    names = baseline["territory_name"].values if "territory_name" in baseline.coords else None
    rows = []
    for k, (i, j) in enumerate(cells):
        row = {"territory": str(terr[i])}
        if names is not None and str(names[i]) != str(terr[i]):
            row["territory_name"] = str(names[i])
        row["metier"] = str(met[j])
        row.update({c: v[k] for c, v in cols.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def _check_cells(baseline: xr.Dataset, rules: Rules) -> None:
    """Cells the demand rules cannot follow: an error for a period that ends below zero, a warning
    for cells that start from (or end at) zero under a growth-rate rule (spread linearly instead)."""
    e_base = baseline["employment"].sum("age").transpose("territory", "metier").values
    nc = baseline["published_net_creation"].transpose("territory", "metier").values
    e_end = e_base + nc
    tol = 1e-9 * np.maximum(1.0, np.abs(e_base))
    neg = e_end < -tol
    if neg.any():
        cells = [tuple(c) for c in np.argwhere(neg)]
        raise InputError(
            tr(f"net creation removes more jobs than the cell has in {len(cells)} cell(s) (employment would "
               "end the period below zero; a cell with no employment can only gain jobs): give net_creation "
               "≥ −employment in every cell",
               f"dans {plural(len(cells), 'cell', 'cellule')}, les créations nettes d'emploi retirent plus "
               "d'emplois que la cellule n'en compte (l'emploi finirait la période sous zéro ; une cellule sans "
               "emploi ne peut que gagner des emplois) : donnez net_creation ≥ −employment dans chaque cellule"),
            source="flows", column="net_creation",
            rows=cell_rows(baseline, cells, employment_base=[e_base[c] for c in cells],
                            net_creation=[nc[c] for c in cells], employment_end=[e_end[c] for c in cells]))
    if not demand.uses_growth_rate(rules.demand_spreading, rules.demand_continuation):
        return
    e_end = np.where(np.abs(e_end) <= tol, 0.0, e_end)  # as input_paths: zero up to rounding
    und = demand.growth_undefined(e_base, e_end)
    if und.any():
        cells = [tuple(c) for c in np.argwhere(und)]
        shown = ", ".join(f"{baseline.territory.values[i]} × {baseline.metier.values[j]} "
                          f"({e_base[i, j]:.6g} → {e_end[i, j]:.6g})" for i, j in cells[:10])
        more = (", … (" + tr(f"{len(cells) - 10} more", f"{len(cells) - 10} de plus") + ")"
                if len(cells) > 10 else "")
        warnings.warn(tr(
            f"{len(cells)} cell(s) start from or end at zero employment, where the demand rule "
            f"'{rules.demand_spreading}' / '{rules.demand_continuation}' has no growth rate: they are spread "
            f"linearly over the period and held at their end-of-period level afterwards "
            f"(territory × métier, employment base → end): {shown}{more}",
            f"{plural(len(cells), 'cell', 'cellule')} part{'ent' if len(cells) > 1 else ''} d'un emploi nul ou "
            f"y about{'issent' if len(cells) > 1 else 'it'}, où la règle de demande "
            f"'{rules.demand_spreading}' / '{rules.demand_continuation}' n'a pas de taux de croissance : "
            f"l'évolution y est répartie linéairement sur la période, puis maintenue à son niveau de fin de "
            f"période (territoire × métier, emploi de base → fin) : {shown}{more}"), UserWarning, stacklevel=4)


def scenario_inputs(baseline: xr.Dataset, scenario: Scenario) -> EngineInputs:
    """Every array the engine needs for one scenario (trend paths with the levers applied).

    Returns an :class:`~pmq.model.engine.EngineInputs`: ``employment0`` (territory, métier, age),
    ``hazard`` (territory, métier, age) or, with exit levers, (year, territory, métier, age) and
    ``hazard_by_year``, ``employment`` and ``employment_trend`` (year + 1, territory, métier),
    ``net_creation``, ``young_entrants``, ``net_mobility`` (year, territory, métier) and ``profiles``.

    Demand levers move the employment path only: young entrants and inter-territorial
    mobility follow the *trend* employment path (before demand levers), and move only with
    their own levers — so a demand scenario changes openings and the imbalance, not supply.
    """
    base_year = _checked_base_year(baseline, scenario)
    H = scenario.horizon
    warn_inactive_levers(scenario, base_year)      # a lever whose years all fall outside the run
    emp0 = baseline["employment"].transpose("territory", "metier", "age").values
    hazard = baseline["hazard"].broadcast_like(baseline["employment"]).transpose("territory", "metier", "age").values
    hazard = _estimated_hazard(baseline, scenario, hazard)
    trend, y, m, emp, ctx = _demand_paths(baseline, scenario, emp0, base_year)
    fy = levers.flow_factors("young_entrants.adjust", scenario.lever_list("young_entrants.adjust"), ctx, H)
    fm = levers.flow_factors("net_mobility.adjust", scenario.lever_list("net_mobility.adjust"), ctx, H)
    if fy is not None:
        y = y * fy
    sl, sm = scenario.lever_list("supply.leavers"), scenario.lever_list("supply.matrix")
    if sl or sm:
        alloc = calibrate_training(baseline, lag=scenario.supply_lag)
        y = y * supply_factors(y, alloc, sl, sm, ctx, H)
    if fm is not None:
        m = m * fm
    hz = levers.hazard_path(hazard, scenario, ctx, H)
    return EngineInputs(employment0=emp0, hazard=hazard if hz is None else hz, hazard_by_year=hz is not None,
                        employment=emp, net_creation=np.diff(emp, axis=0), young_entrants=y, net_mobility=m,
                        profiles=Profiles.from_spec(scenario.profiles, baseline.age.values),
                        employment_trend=trend)


def employment_path(baseline: xr.Dataset, scenario: Scenario) -> np.ndarray:
    """The employment path of ``scenario`` (year + 1, territory, métier): its trend with the demand levers
    applied, as :func:`scenario_inputs` makes it for the engine (the accounts' employment), without the other
    inputs (hazards, inflows, supply) nor the warning of inactive levers — what
    :func:`pmq.analysis.sources.plausibility_check` compares with the reference's."""
    base_year = _checked_base_year(baseline, scenario)
    emp0 = baseline["employment"].transpose("territory", "metier", "age").values
    return _demand_paths(baseline, scenario, emp0, base_year)[3]


def _checked_base_year(baseline: xr.Dataset, scenario: Scenario) -> int:
    """The baseline's base year, once the baseline is checked against the scenario's rules and the scenario's
    base year (when it names one) against it."""
    rules = scenario.rules
    _check_baseline(baseline, rules)
    _check_cells(baseline, rules)
    base_year = int(baseline.attrs["base_year"])
    if scenario.base_year is not None and scenario.base_year != base_year:
        raise ScenarioError(tr(f"the scenario is written for base year {scenario.base_year} but the "
                               f"baseline's base year is {base_year}",
                               f"le scénario est écrit pour l'année de base {scenario.base_year}, mais l'année "
                               f"de base de la situation de départ est {base_year}"), source=scenario.source,
                            key="scenario.base_year", value=scenario.base_year)
    return base_year


_PATHS: ContextVar[dict | None] = ContextVar("pmq_shared_paths", default=None)


@contextmanager
def shared_paths():
    """Within the block, a scenario's trend and employment paths are made once per baseline and scenario (the
    frozen :class:`~pmq.scenario.read.Scenario`, its horizon included): the command line's plausibility check of
    each scenario (:func:`employment_path`) and the projection that follows it (:func:`scenario_inputs`) share
    them — each gets its own copy of the same numbers.  For code that does not change the baseline in place
    within the block (a command's run)."""
    token = _PATHS.set({})
    try:
        yield
    finally:
        _PATHS.reset(token)


def _demand_paths(baseline: xr.Dataset, scenario: Scenario, emp0: np.ndarray, base_year: int):
    """``(trend, young_entrants, net_mobility, employment, context)``: the trend paths to the horizon and the
    employment path with the demand levers applied (inside :func:`shared_paths`: made once, copies given)."""
    cache = _PATHS.get()
    if cache is None:
        return _make_demand_paths(baseline, scenario, emp0, base_year)
    key = (id(baseline), scenario)
    hit = cache.get(key)
    if hit is None or hit[0] is not baseline:
        hit = cache[key] = (baseline, _make_demand_paths(baseline, scenario, emp0, base_year))
    trend, y, m, emp, ctx = hit[1]
    return trend.copy(), y.copy(), m.copy(), emp.copy(), ctx


def _make_demand_paths(baseline: xr.Dataset, scenario: Scenario, emp0: np.ndarray, base_year: int):
    H = scenario.horizon
    # Paths run at least to the last year a demand lever names, so a short horizon sees the
    # same years as a long one (levers are then cut at the horizon).
    n_path = max([H] + [levers.last_year(lv) - base_year for lv in scenario.demand_levers()])
    trend, _, y, m = input_paths(
        emp0.sum(-1), baseline["published_net_creation"].values,
        baseline["published_young_entrants"].values, baseline["published_net_mobility"].values,
        int(baseline.attrs["n_period"]), n_path, scenario.rules, territory_axis=0,
        recentred=(~baseline["mobility_closed"].values.astype(bool) if "mobility_closed" in baseline.coords
                   else None))
    trend = _trend_path(baseline, scenario, trend, base_year, n_path)
    ctx = levers.Context.from_baseline(baseline, source=scenario.source)
    emp = levers.apply_demand(trend, scenario.demand_levers(), ctx)[: H + 1]
    return trend[: H + 1], y[:H], m[:H], emp, ctx


def estimated_inputs(scenario) -> list[str]:
    """The scenario's inputs estimated by pmq from data (for the accounts' provenance)."""
    out = []
    sched = scenario.exit_schedule
    if sched != "baseline":
        out.append(f"exit hazards estimated from DARES pseudo-cohorts 2003–2019 (pmq.estimation.exits, "
                   f"{'partially pooled' if sched == 'estimated' else 'per FAP, unpooled'})")
    model = scenario.trend_model
    if model in ("shares", "shares_damped"):
        years = scenario.trend_years
        out.append(f"employment by métier: the scenario's total employment of each territory distributed by the "
                   f"{model} model of occupational shares fitted to the DARES FAP-87 series (last {years} years to "
                   f"2018), pmq.estimation.trends")
    elif model != "published":
        years = scenario.trend_years
        out.append(f"employment trend by métier: {model} model fitted to the DARES FAP-87 series "
                   f"(last {years} years to 2018), pmq.estimation.trends")
    return out


def _estimated_hazard(baseline, scenario, hazard):
    sched = scenario.exit_schedule
    if sched == "baseline":
        return hazard
    ages = baseline.age.values
    if ages[0] != 15 or ages[-1] != 74 or len(ages) != 60:
        raise ScenarioError(tr("estimated exit hazards are defined for ages 15–74",
                               "les taux de sortie estimés sont définis pour les âges 15–74"), source=scenario.source,
                            key="exits.schedule", value=sched)
    try:
        h, _ = metier_hazards(baseline.metier.values, pooled=(sched == "estimated"))
    except InputError as exc:
        raise ScenarioError(tr(f"cannot use estimated hazards with this baseline: {exc}",
                               f"impossible d'utiliser les taux de sortie estimés avec cette situation de départ : "
                               f"{exc}"), source=scenario.source,
                            key="exits.schedule", value=sched) from None
    return np.broadcast_to(h, hazard.shape).copy()


def _trend_path(baseline, scenario, trend, base_year, n_path):
    """The employment path of ``[demand] trend``: the published path, a trend model's national growth
    index by métier applied to every territory's base employment, or — for the share models
    (``shares``, ``shares_damped``) — the scenario's own total path of each territory (the published
    path's sum over métiers) distributed over métiers as their national shares move: base employment
    × the métier's share index, rescaled to the territory's total each year."""
    model = scenario.trend_model
    if model == "published":
        return trend
    years = scenario.trend_years
    try:                       # for the share models: the index of the métier's share (metier_share_index)
        idx = metier_trend_index(baseline.metier.values, model, base_year, n_path, fit_years=years)
    except InputError as exc:
        raise ScenarioError(tr(f"cannot build a {model} trend for this baseline: {exc}",
                               f"impossible de construire la tendance {model} pour cette situation de départ : "
                               f"{exc}"), source=scenario.source,
                            key="demand.trend", value=model) from None
    if model not in ("shares", "shares_damped"):
        return trend[:1] * idx[:, None, :]
    weights = trend[:1] * idx[:, None, :]                              # (year, territory, métier)
    total, norm = trend.sum(-1, keepdims=True), weights.sum(-1, keepdims=True)
    return total * np.divide(weights, norm, out=np.zeros_like(weights), where=norm > 0)
