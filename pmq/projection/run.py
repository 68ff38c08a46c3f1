"""From a baseline and a scenario to the accounts Dataset.

:func:`project` builds the annual input paths (:mod:`pmq.model.demand`,
:mod:`pmq.model.entrants`, :mod:`pmq.model.mobility`), runs :func:`pmq.model.engine.simulate` and
returns a :class:`Projection` whose ``accounts`` Dataset stores every flow.
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from pmq.formatting import check_lang
from pmq.model import demand
from pmq.model.engine import EngineInputs, Profiles, simulate
from pmq.errors import EngineError, InputError, ScenarioError, UnknownNameError
from pmq.model.rules import Rules
from pmq.scenario.read import Scenario, read_scenario, warn_inactive_levers
from pmq.model.paths import input_paths
from pmq.scenario.levers import Context
from pmq.scenario import levers
from pmq.inputs.training import calibrate_training, supply_factors
from pmq.estimation.exits import metier_hazards
from pmq.estimation.trends import metier_trend_index
from pmq.inputs.baseline import load_baseline
from pmq._version import __version__
from pmq.labels import VARIABLE_REGISTRY
from pmq.projection.indicators import accounts_of, default_end_years, horizon_sums, summary_table, to_netcdf
from pmq.projection.summary import Summary, summarize

__all__ = ["project", "Projection", "Deliverables", "VARIABLES", "scenario_inputs"]

#: Variables of the accounts Dataset: name → (French label, English label), from
#: :data:`pmq.labels.VARIABLE_REGISTRY`.
VARIABLES = {k: (v.fr, v.en) for k, v in VARIABLE_REGISTRY.items() if v.accounts}


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


def _cell_rows(baseline, cells, **cols) -> pd.DataFrame:
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
            f"net creation removes more jobs than the cell has in {len(cells)} cell(s) (employment would "
            "end the period below zero; a cell with no employment can only gain jobs): give net_creation "
            "≥ −employment in every cell",
            source="flows", column="net_creation",
            rows=_cell_rows(baseline, cells, employment_base=[e_base[c] for c in cells],
                            net_creation=[nc[c] for c in cells], employment_end=[e_end[c] for c in cells]))
    if not demand.uses_growth_rate(rules.demand_spreading, rules.demand_continuation):
        return
    e_end = np.where(np.abs(e_end) <= tol, 0.0, e_end)  # as input_paths: zero up to rounding
    und = demand.growth_undefined(e_base, e_end)
    if und.any():
        cells = [tuple(c) for c in np.argwhere(und)]
        shown = ", ".join(f"{baseline.territory.values[i]} × {baseline.metier.values[j]} "
                          f"({e_base[i, j]:.6g} → {e_end[i, j]:.6g})" for i, j in cells[:10])
        more = f", … ({len(cells) - 10} more)" if len(cells) > 10 else ""
        warnings.warn(
            f"{len(cells)} cell(s) start from or end at zero employment, where the demand rule "
            f"'{rules.demand_spreading}' / '{rules.demand_continuation}' has no growth rate: they are spread "
            f"linearly over the period and held at their end-of-period level afterwards "
            f"(territory × métier, employment base → end): {shown}{more}", UserWarning, stacklevel=4)


def _resolve(scenario, baseline, horizon) -> Scenario:
    """``scenario`` (a Scenario, a file, a built-in name or None for « reference ») as a Scenario, at
    ``horizon`` if given."""
    if scenario is None or isinstance(scenario, (str,)) or hasattr(scenario, "__fspath__"):
        ctx = Context.from_baseline(baseline)
        scenario = read_scenario(scenario or "reference", territories=ctx.territory_aliases)
    if horizon is not None:
        scenario = scenario.with_horizon(int(horizon))
    return scenario


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
    rules = scenario.rules
    _check_baseline(baseline, rules)
    _check_cells(baseline, rules)
    n_period = int(baseline.attrs["n_period"])
    base_year = int(baseline.attrs["base_year"])
    if scenario.base_year is not None and scenario.base_year != base_year:
        raise ScenarioError(f"the scenario is written for base year {scenario.base_year} but the "
                            f"baseline's base year is {base_year}", source=scenario.source,
                            key="scenario.base_year", value=scenario.base_year)
    H = scenario.horizon
    warn_inactive_levers(scenario, base_year)      # a lever whose years all fall outside the run
    emp0 = baseline["employment"].transpose("territory", "metier", "age").values
    hazard = baseline["hazard"].broadcast_like(baseline["employment"]).transpose("territory", "metier", "age").values
    hazard = _estimated_hazard(baseline, scenario, hazard)
    # Paths run at least to the last year a demand lever names, so a short horizon sees the
    # same years as a long one (levers are then cut at the horizon).
    n_path = max([H] + [levers.last_year(lv) - base_year for lv in scenario.demand_levers()])
    trend, _, y, m = input_paths(
        emp0.sum(-1), baseline["published_net_creation"].values,
        baseline["published_young_entrants"].values, baseline["published_net_mobility"].values,
        n_period, n_path, rules, territory_axis=0)
    trend = _trend_path(baseline, scenario, trend, base_year, n_path)
    ctx = levers.Context.from_baseline(baseline, source=scenario.source)
    emp = levers.apply_demand(trend, scenario.demand_levers(), ctx)[: H + 1]
    trend, y, m = trend[: H + 1], y[:H], m[:H]
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


def _run(baseline, inp: EngineInputs | Mapping[str, Any], progress=None):
    if not isinstance(inp, EngineInputs):   # a mapping of the same fields
        inp = EngineInputs(**inp)
    try:
        return simulate(inp, record="full", progress=progress)
    except EngineError as exc:  # name the cells by their labels
        raise _engine_error(baseline, exc) from exc


def _engine_error(baseline, exc) -> InputError:
    """The engine's infeasible-outflow error, with its cells named by territory and métier, the
    year, the stock and the outflow of that year and the published period totals."""
    cells = getattr(exc, "cells", [])
    step = getattr(exc, "step", None)
    n = len(cells)
    stock = getattr(exc, "stock", None) or [np.nan] * n
    outflow = getattr(exc, "outflow", None) or [np.nan] * n
    no_stock = getattr(exc, "no_stock", None) or [False] * n
    left = getattr(exc, "left", None) or [np.nan] * n
    base_year = int(baseline.attrs["base_year"])
    e_base = baseline["employment"].sum("age").transpose("territory", "metier").values

    rows = _cell_rows(
        baseline, [(c[-2], c[-1]) for c in cells],
        year=[base_year + step if step is not None else np.nan] * n,
        employment_year_start=stock, workers_left=left, outflow=outflow,
        employment_base=[e_base[c[-2], c[-1]] for c in cells],
        net_creation_period=[baseline["published_net_creation"].values[c[-2], c[-1]] for c in cells],
        young_entrants_period=[baseline["published_young_entrants"].values[c[-2], c[-1]] for c in cells],
        net_mobility_period=[baseline["published_net_mobility"].values[c[-2], c[-1]] for c in cells])
    if cells and len(cells[0]) == 3:  # several scenarios run together (pmq.projection.compare): their index
        rows.insert(0, "scenario", [c[0] for c in cells])
    year = f" in {base_year + step}" if step is not None else ""
    if all(no_stock):
        why = (f"these cells have no worker left{year} (empty cells: no employment, or none left after the "
               "year's departures), yet their flows of that year need an outflow — young entrants + net "
               "inflow above net creation + departures (negative other recruits), or a negative net inflow; "
               "nobody can leave a cell that holds no workers. Give such a cell zero flows, or net creation "
               "≥ young entrants + net inflow and no negative net mobility")
    else:
        why = (f"their outflow{year} — young entrants + net inflow above net creation + departures (negative "
               "other recruits), or a negative net inflow — is larger than the workers left after the year's "
               "departures (workers_left; 0 in an empty cell): entrants arrive after the outflow is taken, so "
               "a cell cannot send away more workers than it holds")
    return InputError(f"the flows remove more workers than the stock can lose in {n} cell(s): {why} "
                      "(the year's stock and outflow, and the published period totals, below)",
                      source="flows", column="young_entrants, net_creation, net_mobility", rows=rows)


def estimated_inputs(scenario) -> list[str]:
    """The scenario's inputs estimated by pmq from data (for the accounts' provenance)."""
    out = []
    sched = scenario.exit_schedule
    if sched != "baseline":
        out.append(f"exit hazards estimated from DARES pseudo-cohorts 2003–2019 (pmq.estimation.exits, "
                   f"{'partially pooled' if sched == 'estimated' else 'per FAP, unpooled'})")
    model = scenario.trend_model
    if model != "published":
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
        raise ScenarioError("estimated exit hazards are defined for ages 15–74", source=scenario.source,
                            key="exits.schedule", value=sched)
    try:
        h, _ = metier_hazards(baseline.metier.values, pooled=(sched == "estimated"))
    except InputError as exc:
        raise ScenarioError(f"cannot use estimated hazards with this baseline: {exc}", source=scenario.source,
                            key="exits.schedule", value=sched) from None
    return np.broadcast_to(h, hazard.shape).copy()


def _trend_path(baseline, scenario, trend, base_year, n_path):
    model = scenario.trend_model
    if model == "published":
        return trend
    years = scenario.trend_years
    try:
        idx = metier_trend_index(baseline.metier.values, model, base_year, n_path, fit_years=years)
    except InputError as exc:
        raise ScenarioError(f"cannot build a {model} trend for this baseline: {exc}", source=scenario.source,
                            key="demand.trend", value=model) from None
    return trend[:1] * idx[:, None, :]


def project(baseline: xr.Dataset | None = None, scenario: Scenario | str | None = None,
            horizon: int | None = None, progress=None) -> Projection:
    """Project the stock-flow accounts year by year.

    Parameters
    ----------
    baseline : Dataset, optional
        From :func:`pmq.load_baseline` (default) or :func:`pmq.load_user_baseline`.
    scenario : Scenario or str, optional
        A :class:`~pmq.scenario.read.Scenario`, a scenario file or a built-in name
        (default ``"reference"``).
    horizon : int, optional
        Number of annual steps (default: the scenario's ``horizons.run``).
    progress : callable(i, n), optional
        Called after each projected year.
    """
    if baseline is None:
        baseline = load_baseline()
    scenario = _resolve(scenario, baseline, horizon)
    inp = scenario_inputs(baseline, scenario)
    res = _run(baseline, inp, progress)
    accounts = _accounts(baseline, scenario, res, inp.net_creation, int(baseline.attrs["base_year"]),
                         scenario.horizon)
    return Projection(accounts=accounts, baseline=baseline, scenario=scenario)


def _accounts(baseline, scenario, res, nc, base_year, H, scenarios=None) -> xr.Dataset:
    """Accounts Dataset; with ``scenarios`` (a list), arrays carry a scenario axis after year."""
    years = np.arange(base_year, base_year + H + 1)
    lead = ("scenario",) if scenarios is not None else ()
    dims4 = ("year", *lead, "territory", "metier", "age")
    coords = {"year": years, "territory": baseline.territory.values, "metier": baseline.metier.values,
              "age": baseline.age.values}
    if scenarios is not None:
        coords["scenario"] = [sc.name for sc in scenarios]

    def pad(a):  # flows have no value at the final year
        return np.concatenate([a, np.full((1,) + a.shape[1:], np.nan)], axis=0)

    ds = xr.Dataset(coords=coords)
    ds["employment"] = (dims4, res["employment"])
    for k in ("departures", "young_entrants", "net_mobility", "other_recruits"):
        ds[k] = (dims4, pad(res[k]))
    ds["net_creation"] = (dims4[:-1], pad(nc))
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
    if scenarios is not None:
        ds = ds.transpose("scenario", "year", ...)
        ds = ds.assign_coords(scenario_title_fr=("scenario", [sc.title_fr for sc in scenarios]),
                              scenario_title_en=("scenario", [sc.title_en for sc in scenarios]),
                              scenario_hash=("scenario", [sc.hash for sc in scenarios]))
    ds.attrs.update(_scenario_attrs(scenario, scenarios))
    ds.attrs.update({
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
        "data_sources": baseline.attrs.get("sources", ""),
        "estimated_inputs": json.dumps(json.loads(baseline.attrs.get("estimated", "[]"))
                                       + [e for sc in (scenarios or [scenario]) for e in estimated_inputs(sc)],
                                       ensure_ascii=False),
        "baseline_title": baseline.attrs.get("title", ""),
        "period_end": int(baseline.attrs["period_end"]),
    })
    return ds


def _scenario_attrs(scenario, scenarios=None) -> dict:
    if scenarios is None:
        return {
            "title": f"pmq accounts — {scenario.title_fr}",
            "scenario": scenario.name,
            "scenario_title_fr": scenario.title_fr,
            "scenario_title_en": scenario.title_en,
            "scenario_source": scenario.source,
            "scenario_hash": scenario.hash,
            "scenario_status": scenario.status,
            "scenario_assumed_levers": json.dumps(scenario.assumed_levers(), ensure_ascii=False),
            "scenario_resolved": json.dumps(scenario.resolved, ensure_ascii=False, sort_keys=True),
            "age_profiles": json.dumps(scenario.profiles.as_dict()),
        }
    return {
        "title": "pmq accounts — " + " | ".join(sc.title_fr for sc in scenarios),
        "scenarios": json.dumps([sc.name for sc in scenarios], ensure_ascii=False),
        "scenario_sources": json.dumps({sc.name: sc.source for sc in scenarios}, ensure_ascii=False),
        "scenario_status": json.dumps({sc.name: sc.status for sc in scenarios}, ensure_ascii=False),
        "scenario_assumed_levers": json.dumps({sc.name: sc.assumed_levers() for sc in scenarios},
                                              ensure_ascii=False),
        "scenario_resolved": json.dumps({sc.name: sc.resolved for sc in scenarios}, ensure_ascii=False,
                                        sort_keys=True),
        "age_profiles": json.dumps({sc.name: sc.profiles.as_dict() for sc in scenarios}),
    }


class Deliverables:
    """Charts and exports of a set of accounts, the same on a :class:`Projection`, a
    :class:`~pmq.projection.compare.Comparison` and ``ds.pmq``: the one place of the declared upward hooks
    (``plot`` → :mod:`pmq.plots`; ``tables``, ``to_excel``, ``to_iamc`` → :mod:`pmq.export`), imported lazily."""

    def to_netcdf(self, path) -> None:
        """Write the accounts to netCDF as pmq does (compressed)."""
        to_netcdf(accounts_of(self), path)

    @property
    def plot(self):
        """Charts of these accounts: ``proj.plot.waterfall(territory="Normandie")`` etc. (see
        :class:`pmq.plots.PlotAccessor`)."""
        from pmq.plots import PlotAccessor
        return PlotAccessor(accounts_of(self))

    def tables(self, end_years=None, territory=None, lang: str | None = None) -> dict:
        """Report tables (regions, domains, métiers; one row per scenario × … for several) — see
        :func:`pmq.export.tables.standard_tables`."""
        lang = check_lang(lang)
        from pmq.export.tables import standard_tables
        return standard_tables(accounts_of(self), end_years, territory, lang)

    def to_excel(self, path, end_years=None, territory=None, lang: str | None = None):
        """Excel workbook of :meth:`tables` with a README sheet (units, sources)."""
        lang = check_lang(lang)
        from pmq.export.tables import standard_tables, to_excel
        acc = accounts_of(self)
        return to_excel(standard_tables(acc, end_years, territory, lang), path, accounts=acc, lang=lang)

    def to_iamc(self, **kwargs):
        """IAMC-format table (see :func:`pmq.export.iamc.iamc_table`)."""
        from pmq.export.iamc import iamc_table
        return iamc_table(accounts_of(self), **kwargs)


@dataclass
class Projection(Deliverables):
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
        """Flows summed over each horizon (see :func:`pmq.projection.indicators.horizon_sums`)."""
        if years is None:  # the scenario's years plus the baseline's published horizon
            years = (*self.scenario.summary_years, int(self.accounts.attrs["period_end"]))
        ends = default_end_years(self.accounts, horizons or self.scenario.summary_horizons, years)
        return horizon_sums(self.accounts, ends)

    def summary_table(self, horizons=None, years=None) -> pd.DataFrame:
        """Long table of headline flows per métier × territory × horizon."""
        return summary_table(self.horizons(horizons, years))

    def summary(self, horizons=None, years=None, lang: str | None = None) -> Summary:
        """National totals at each horizon (default: the scenario's): a :class:`~pmq.projection.summary.Summary`,
        text to ``print`` (in thousands), an HTML table in Jupyter, ``.table`` a DataFrame (persons)."""
        lang = check_lang(lang)
        return summarize(self.accounts, self.horizons(horizons, years), lang=lang)

    # ------------------------------------------------- the results protocol shared with Comparison
    @property
    def names(self) -> list[str]:
        """The scenario names of these results: one (as :attr:`Comparison.names` lists several)."""
        return [self.scenario.name]

    def __getitem__(self, name: str) -> Projection:
        """This projection, for its one scenario (as ``comparison[name]``): code can treat both alike."""
        if name != self.scenario.name:
            raise UnknownNameError(f"unknown scenario {name!r}; this projection has: {self.scenario.name}")
        return self

    def __repr__(self) -> str:
        acc = self.accounts
        years = acc.year.values
        return (f"<pmq.Projection {self.scenario.name!r} {int(years[0])}–{int(years[-1])}: "
                f"{acc.sizes['territory']} territories × {acc.sizes['metier']} métiers × {acc.sizes['age']} ages>")

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def to_pyam(self, **kwargs):
        """``pyam.IamDataFrame`` (optional extra ``pmq[pyam]``)."""
        from pmq.export.iamc import to_pyam
        return to_pyam(self, **kwargs)
