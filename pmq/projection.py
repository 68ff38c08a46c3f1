"""From a baseline and a scenario to the accounts Dataset.

:func:`project` builds the annual input paths (:mod:`pmq.demand`,
:mod:`pmq.supply`, :mod:`pmq.mobility`), runs :func:`pmq.engine.simulate` and
returns a :class:`Projection` whose ``accounts`` Dataset stores every flow.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from . import demand, mobility, supply
from .engine import Profiles, simulate
from .errors import EngineError, InputError
from .scenario import Rules, Scenario, read_scenario

__all__ = ["input_paths", "project", "Projection", "VARIABLES"]

#: Variables of the accounts Dataset: (French label, English label, dims note)
VARIABLES = {
    "employment": ("Emploi (début d'année)", "Employment (start of year)"),
    "net_creation": ("Créations nettes d'emploi", "Net job creation"),
    "departures": ("Départs en fin de carrière", "End-of-career departures"),
    "openings": ("Postes à pourvoir", "Job openings"),
    "young_entrants": ("Jeunes débutants", "Young entrants"),
    "net_mobility": ("Solde des mobilités interterritoriales (entrées nettes)",
                     "Net inflow from other territories"),
    "other_recruits": ("Autres recrutements (solde)", "Other recruits (balancing flow)"),
    "imbalance": ("Déséquilibre potentiel", "Potential imbalance"),
}


def input_paths(e_base, net_creation_total, young_total, mobility_total, n_period: int, n_years: int,
                rules: Rules, territory_axis: int = 0):
    """Annual paths of employment and of the exogenous flows for every cell.

    Returns ``employment`` (n_years + 1, ...) and ``net_creation``, ``young_entrants``,
    ``net_mobility`` (n_years, ...).  Paths are computed over at least the whole
    published period, so a short horizon sees the same years as a long one.
    """
    n = max(n_years, n_period)
    emp = demand.employment_path(e_base, e_base + net_creation_total, n_period, n,
                                 spreading=rules.demand_spreading,
                                 continuation=rules.demand_continuation,
                                 half_life=rules.demand_half_life)
    nc = np.diff(emp, axis=0)
    y = supply.annual_path(young_total, emp, n_period, spreading=rules.young_spreading,
                           continuation=rules.young_continuation)
    m = mobility.annual_path(mobility_total, emp, n_period, spreading=rules.mobility_spreading,
                             continuation=rules.mobility_continuation, territory_axis=territory_axis)
    return emp[: n_years + 1], nc[:n_years], y[:n_years], m[:n_years]


def _check_baseline(baseline: xr.Dataset, rules: Rules) -> None:
    pmob = baseline["published_net_mobility"]
    if rules.mobility_continuation == "ratio_recentred" and baseline.sizes["territory"] > 1:
        s = pmob.sum("territory")
        scale = float(abs(pmob).sum()) or 1.0
        if float(abs(s).max()) > 1e-9 * scale + 1e-6:
            worst = s.to_series().abs().sort_values(ascending=False).head(5)
            raise InputError("net mobility does not sum to zero over territories, so the "
                             "'ratio_recentred' continuation does not apply; use 'constant_ratio' or "
                             "'constant_level' for territories that exchange workers with the outside",
                             source="flows", column="net_mobility",
                             rows=worst.rename("sum_over_territories").reset_index())


def project(baseline: xr.Dataset | None = None, scenario: Scenario | str | None = None,
            horizon: int | None = None, progress=None) -> "Projection":
    """Project the stock-flow accounts year by year.

    Parameters
    ----------
    baseline : Dataset, optional
        From :func:`pmq.load_baseline` (default) or :func:`pmq.load_user_baseline`.
    scenario : Scenario or str, optional
        A :class:`~pmq.scenario.Scenario`, a scenario file or a built-in name
        (default ``"reference"``).
    horizon : int, optional
        Number of annual steps (default: the scenario's ``horizons.run``).
    progress : callable(i, n), optional
        Called after each projected year.
    """
    from .baseline import load_baseline

    if baseline is None:
        baseline = load_baseline()
    if scenario is None or isinstance(scenario, str):
        scenario = read_scenario(scenario or "reference")
    if horizon is not None:
        scenario = scenario.with_horizon(int(horizon))
    rules = scenario.rules
    _check_baseline(baseline, rules)
    n_period = int(baseline.attrs["n_period"])
    base_year = int(baseline.attrs["base_year"])
    H = scenario.horizon
    emp0 = baseline["employment"].transpose("territory", "metier", "age").values
    hazard = baseline["hazard"]
    hazard = hazard.broadcast_like(baseline["employment"]).transpose("territory", "metier", "age").values
    e_base = emp0.sum(-1)
    emp_path, nc, y, m = input_paths(
        e_base, baseline["published_net_creation"].values, baseline["published_young_entrants"].values,
        baseline["published_net_mobility"].values, n_period, H, rules, territory_axis=0)
    profiles = Profiles.from_spec(scenario.profiles, baseline.age.values)
    try:
        res = simulate(emp0, hazard, nc, y, m, profiles, record="full", progress=progress)
    except EngineError as exc:  # name the cells by their labels
        cells = getattr(exc, "cells", [])
        rows = pd.DataFrame([{"territory": baseline.territory.values[i], "metier": baseline.metier.values[j],
                              "employment_base": e_base[i, j],
                              "young_entrants_period": baseline["published_young_entrants"].values[i, j],
                              "net_creation_period": baseline["published_net_creation"].values[i, j]}
                             for i, j in cells])
        raise InputError("the flows remove more workers than the stock can lose (negative other recruits "
                         "or net mobility beyond what the removal profile allows) in these cells",
                         source="flows", column="young_entrants, net_creation, net_mobility",
                         rows=rows) from exc
    accounts = _accounts(baseline, scenario, res, nc, base_year, H)
    return Projection(accounts=accounts, baseline=baseline, scenario=scenario)


def _accounts(baseline, scenario, res, nc, base_year, H) -> xr.Dataset:
    years = np.arange(base_year, base_year + H + 1)
    dims4 = ("year", "territory", "metier", "age")
    coords = {"year": years, "territory": baseline.territory.values, "metier": baseline.metier.values,
              "age": baseline.age.values}

    def pad(a):  # flows have no value at the final year
        return np.concatenate([a, np.full((1,) + a.shape[1:], np.nan)], axis=0)

    ds = xr.Dataset(coords=coords)
    ds["employment"] = (dims4, res["employment"])
    for k in ("departures", "young_entrants", "net_mobility", "other_recruits"):
        ds[k] = (dims4, pad(res[k]))
    ds["net_creation"] = (dims4[:3], pad(nc))
    ds["openings"] = ds["net_creation"] + ds["departures"].sum("age", skipna=False)
    ds["imbalance"] = (ds["openings"] - ds["young_entrants"].sum("age", skipna=False)
                       - ds["net_mobility"].sum("age", skipna=False))
    for c in ("territory_name", "metier_label", "domain", "published_code",
              "territory_source_name"):
        if c in baseline.coords:
            ds = ds.assign_coords({c: baseline[c]})
    for k, (fr, en) in VARIABLES.items():
        ds[k].attrs.update(long_name=fr, long_name_en=en, units="persons")
    ds["employment"].attrs["description"] = "stock at the start of the year (1 January), by age"
    ds["departures"].attrs["description"] = "flow of the year; age at the start of the year"
    for k in ("young_entrants", "net_mobility", "other_recruits"):
        ds[k].attrs["description"] = "flow of the year; age at the end of the year (when counted in the stock)"
    ds["openings"].attrs["description"] = "net_creation + departures"
    ds["imbalance"].attrs["description"] = "openings − young_entrants − net_mobility"
    from . import __version__
    ds.attrs.update({
        "title": f"pmq accounts — {scenario.title_fr}",
        "conventions": ("employment[t] = stock at the start of year t; flows labelled t move the stock "
                        "from t to t+1 (NaN at the final year); "
                        "employment[a+1,t+1] = employment[a,t] - departures[a,t] + inflows[a+1,t]; "
                        "openings = net_creation + departures; "
                        "imbalance = openings - young_entrants - net_mobility; "
                        "net_mobility = net inflow from other territories"),
        "units": "persons",
        "base_year": int(base_year),
        "horizon_years": int(H),
        "pmq_version": __version__,
        "scenario": scenario.name,
        "scenario_title_fr": scenario.title_fr,
        "scenario_title_en": scenario.title_en,
        "scenario_source": scenario.source,
        "scenario_hash": scenario.hash,
        "scenario_resolved": json.dumps(scenario.resolved, ensure_ascii=False, sort_keys=True),
        "age_profiles": json.dumps(scenario.profiles.as_dict()),
        "data_sources": baseline.attrs.get("sources", ""),
        "estimated_inputs": baseline.attrs.get("estimated", "[]"),
        "baseline_title": baseline.attrs.get("title", ""),
        "period_end": int(baseline.attrs["period_end"]),
    })
    return ds


@dataclass
class Projection:
    """Results of :func:`project` (statsmodels-style results object).

    Attributes
    ----------
    accounts : Dataset
        Every stock and flow by year × territory × métier (× age).
    baseline : Dataset
    scenario : Scenario
    """

    accounts: xr.Dataset
    baseline: xr.Dataset
    scenario: Scenario

    def horizons(self, horizons=None, years=None) -> xr.Dataset:
        """Flows summed over each horizon (see :func:`pmq.indicators.horizon_sums`)."""
        from .indicators import default_end_years, horizon_sums
        if years is None:  # the scenario's years plus the baseline's published horizon
            years = (*self.scenario.summary_years, int(self.accounts.attrs["period_end"]))
        ends = default_end_years(self.accounts, horizons or self.scenario.summary_horizons, years)
        return horizon_sums(self.accounts, ends)

    def summary_table(self, horizons=None, years=None) -> pd.DataFrame:
        """Long table of headline flows per métier × territory × horizon."""
        from .indicators import summary_table
        return summary_table(self.horizons(horizons, years))

    def summary(self) -> str:
        """A short text summary of national totals at each default horizon."""
        h = self.horizons().sum(["territory", "metier"])
        lines = [f"pmq projection — {self.scenario.title_fr}",
                 f"base year {self.accounts.attrs['base_year']}, horizon "
                 f"{self.accounts.attrs['horizon_years']} years, "
                 f"{self.accounts.sizes['territory']} territories × {self.accounts.sizes['metier']} métiers",
                 f"{'period':<12}{'emploi début':>14}{'créations':>12}{'départs':>12}{'postes':>12}"
                 f"{'jeunes':>12}{'mobilité':>12}{'déséquilibre':>14}  (milliers)"]
        for i, per in enumerate(h.period.values):
            g = {k: float(h[k].values[i]) / 1e3 for k in h.data_vars}
            lines.append(f"{per:<12}{g['employment_start']:>14,.1f}{g['net_creation']:>12,.1f}"
                         f"{g['departures']:>12,.1f}{g['openings']:>12,.1f}{g['young_entrants']:>12,.1f}"
                         f"{g['net_mobility']:>12,.1f}{g['imbalance']:>14,.1f}")
        return "\n".join(lines)

    def to_netcdf(self, path) -> None:
        from .indicators import to_netcdf
        to_netcdf(self.accounts, path)
