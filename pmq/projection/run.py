"""From a baseline and a scenario to the accounts Dataset.

:func:`project` builds the annual input paths (:mod:`pmq.model.demand`,
:mod:`pmq.model.entrants`, :mod:`pmq.model.mobility`), runs :func:`pmq.model.engine.simulate` and
returns a :class:`Projection` whose ``accounts`` Dataset stores every flow.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from pmq.model.engine import EngineInputs, simulate, with_final_year
from pmq.errors import EngineError, InputError
from pmq.options import plural, tr
from pmq.scenario.read import Scenario, read_scenario
from pmq.scenario.levers import Context
from pmq.inputs.baseline import load_baseline
from pmq._version import __version__
from pmq.labels import VARIABLE_REGISTRY
from pmq.projection.prepare import cell_rows, estimated_inputs, scenario_inputs
from pmq.projection.results import Deliverables, Projection
from pmq.projection.results import scenario_attrs as _scenario_attrs

__all__ = ["project", "Projection", "Deliverables", "VARIABLES", "scenario_inputs"]

#: Variables of the accounts Dataset: name → (French label, English label), from
#: :data:`pmq.labels.VARIABLE_REGISTRY`.
VARIABLES = {k: (v.fr, v.en) for k, v in VARIABLE_REGISTRY.items() if v.accounts}


def _resolve(scenario, baseline, horizon) -> Scenario:
    """``scenario`` (a Scenario, a file, a built-in name or None for « reference ») as a Scenario, at
    ``horizon`` if given."""
    if scenario is None or isinstance(scenario, (str,)) or hasattr(scenario, "__fspath__"):
        ctx = Context.from_baseline(baseline)
        scenario = read_scenario(scenario or "reference", territories=ctx.territory_aliases)
    if horizon is not None:
        scenario = scenario.with_horizon(int(horizon))
    return scenario


def _run(baseline, inp: EngineInputs | Mapping[str, Any], progress=None, record: str = "full"):
    if not isinstance(inp, EngineInputs):   # a mapping of the same fields
        inp = EngineInputs(**inp)
    try:
        return simulate(inp, record=record, progress=progress)
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

    rows = cell_rows(
        baseline, [(c[-2], c[-1]) for c in cells],
        year=[base_year + step if step is not None else np.nan] * n,
        employment_year_start=stock, workers_left=left, outflow=outflow,
        employment_base=[e_base[c[-2], c[-1]] for c in cells],
        net_creation_period=[baseline["published_net_creation"].values[c[-2], c[-1]] for c in cells],
        young_entrants_period=[baseline["published_young_entrants"].values[c[-2], c[-1]] for c in cells],
        net_mobility_period=[baseline["published_net_mobility"].values[c[-2], c[-1]] for c in cells])
    if cells and len(cells[0]) == 3:  # several scenarios run together (pmq.projection.compare): their index
        rows.insert(0, "scenario", [c[0] for c in cells])
    year = tr(f" in {base_year + step}", f" en {base_year + step}") if step is not None else ""
    if all(no_stock):
        why = tr(f"these cells have no worker left{year} (empty cells: no employment, or none left after the "
                 "year's departures), yet their flows of that year need an outflow — young entrants + net "
                 "inflow above net creation + departures (negative other recruits), or a negative net inflow; "
                 "nobody can leave a cell that holds no workers. Give such a cell zero flows, or net creation "
                 "≥ young entrants + net inflow and no negative net mobility",
                 f"ces cellules n'ont plus aucun actif{year} (cellules vides : aucun emploi, ou plus personne "
                 "après les départs de l'année), or leurs flux de cette année demandent une sortie — jeunes "
                 "débutants + solde des mobilités au-delà des créations nettes + départs (autres recrutements "
                 "négatifs), ou un solde des mobilités négatif ; personne ne peut quitter une cellule qui ne "
                 "compte aucun actif. Donnez à une telle cellule des flux nuls, ou des créations nettes "
                 "≥ jeunes débutants + solde des mobilités et aucun solde des mobilités négatif")
    else:
        why = tr(f"their outflow{year} — young entrants + net inflow above net creation + departures (negative "
                 "other recruits), or a negative net inflow — is larger than the workers left after the year's "
                 "departures (workers_left; 0 in an empty cell): entrants arrive after the outflow is taken, so "
                 "a cell cannot send away more workers than it holds",
                 f"leur sortie{year} — jeunes débutants + solde des mobilités au-delà des créations nettes "
                 "+ départs (autres recrutements négatifs), ou un solde des mobilités négatif — dépasse les "
                 "actifs restant après les départs de l'année (workers_left ; 0 dans une cellule vide) : les "
                 "entrants arrivent après la sortie, si bien qu'une cellule ne peut pas faire partir plus "
                 "d'actifs qu'elle n'en compte")
    return InputError(tr(f"the flows remove more workers than the stock can lose in {n} cell(s): {why} "
                         "(the year's stock and outflow, and the published period totals, below)",
                         f"les flux retirent plus d'actifs que le stock ne peut en perdre dans "
                         f"{plural(n, 'cell', 'cellule')} : {why} (ci-dessous : le stock et la sortie de "
                         "l'année, et les totaux publiés de la période)"),
                      source="flows", column="young_entrants, net_creation, net_mobility", rows=rows)


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


def _accounts(baseline, scenario, res, nc, base_year, H, scenarios=None, ages: bool = True) -> xr.Dataset:
    """Accounts Dataset; with ``scenarios`` (a list), arrays carry a scenario axis after year; without ``ages``
    (the engine's ``record="cells"``: age-summed stocks and flows) there is no age dimension."""
    years = np.arange(base_year, base_year + H + 1)
    lead = ("scenario",) if scenarios is not None else ()
    dims4 = ("year", *lead, "territory", "metier", *(("age",) if ages else ()))
    coords = {"year": years, "territory": baseline.territory.values, "metier": baseline.metier.values}
    if ages:
        coords["age"] = baseline.age.values
    if scenarios is not None:
        coords["scenario"] = [sc.name for sc in scenarios]

    # flows have no value at the final year: the engine's full record holds it (NaN) already, and the
    # accounts wrap its arrays without a copy (with_final_year pads anything else)
    ds = xr.Dataset(coords=coords)
    ds["employment"] = (dims4, res["employment"])
    for k in ("departures", "young_entrants", "net_mobility", "other_recruits"):
        ds[k] = (dims4, with_final_year(res[k]))
    ds["net_creation"] = (dims4[:-1] if ages else dims4, with_final_year(np.asarray(nc, dtype=float)))

    def total(k):
        return ds[k].sum("age", skipna=False) if ages else ds[k]

    ds["openings"] = ds["net_creation"] + total("departures")
    ds["imbalance"] = ds["openings"] - total("young_entrants") - total("net_mobility")
    for c in ("territory_name", "metier_label", "domain", "published_code",
              "territory_source_name", "region", "departement", "parent", "reliability", "key_basis", "key_weight",
              "tension_basis", "bmo_projects", "bmo_share_difficult", "bmo_basis", "mobility_closed",
              "estimated_territory"):
        if c in baseline.coords:     # (from "region" on: a downscaled baseline's, pmq.inputs.downscale)
            ds = ds.assign_coords({c: baseline[c]})
    for k, (fr, en) in VARIABLES.items():
        ds[k].attrs.update(long_name=fr, long_name_en=en, units="persons")
    ds["employment"].attrs["description"] = ("stock at the start of the year (1 January), by age" if ages else
                                             "stock at the start of the year (1 January), all ages")
    if not ages:
        ds.attrs["ages"] = "summed: the run kept age-summed stocks and flows only (project_many(ages=False))"
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
        **{k: baseline.attrs[k] for k in ("level", "parent_level", "key_source", "key_bases", "tension_level",
                                          "overseas") if k in baseline.attrs},
        "period_end": int(baseline.attrs["period_end"]),
    })
    return ds
