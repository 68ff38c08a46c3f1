"""Several scenarios in one run, along a ``scenario`` dimension, and side-by-side tables.

:func:`project_many` stacks the inputs of every scenario on a leading axis and runs the
engine once: every operation of the annual step is elementwise over cells, so each
scenario's accounts are identical, cell by cell, to a separate :func:`pmq.project` run
(tested with ``assert_array_equal``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from pmq.formatting import check_lang
from pmq.model.engine import EngineInputs, Profiles
from pmq.projection.run import Deliverables, Projection, _accounts, _resolve, _run, _scenario_attrs, scenario_inputs
from pmq.inputs.baseline import load_baseline
from pmq.errors import InputError, ScenarioError, UnknownNameError
from pmq.projection.indicators import aggregate_metiers, default_end_years, horizon_sums, select
from pmq.projection.summary import Summary, scenario_summary_table, summarize
from pmq.data import domains

__all__ = ["project_many", "Comparison", "compare_table", "HEADLINE"]

#: Headline variables of comparison tables: (column, French label)
HEADLINE = {
    "employment_end": "Emploi en fin de période",
    "net_creation": "Créations nettes",
    "departures": "Départs en fin de carrière",
    "openings": "Postes à pourvoir",
    "young_entrants": "Jeunes débutants",
    "imbalance": "Déséquilibre potentiel",
}


def _stack(inputs: list[EngineInputs]) -> dict[str, Any]:
    by_year = any(i["hazard_by_year"] for i in inputs)
    if by_year:
        n = inputs[0]["net_creation"].shape[0]
        hz = np.stack([i["hazard"] if i["hazard_by_year"]
                       else np.broadcast_to(i["hazard"], (n,) + i["hazard"].shape) for i in inputs], axis=1)
    else:
        hz = np.stack([i["hazard"] for i in inputs])
    prof = Profiles(*(np.stack([getattr(i["profiles"], f)[None, None, :] for i in inputs])
                      for f in ("young", "recruits", "mobility", "removal")))
    return {
        "employment0": np.stack([i["employment0"] for i in inputs]),
        "hazard": hz, "hazard_by_year": by_year,
        "net_creation": np.stack([i["net_creation"] for i in inputs], axis=1),
        "young_entrants": np.stack([i["young_entrants"] for i in inputs], axis=1),
        "net_mobility": np.stack([i["net_mobility"] for i in inputs], axis=1),
        "profiles": prof,
    }


def project_many(scenarios, baseline: xr.Dataset | None = None, horizon: int | None = None,
                 progress=None) -> Comparison:
    """Project several scenarios on one baseline in one vectorised run.

    Parameters
    ----------
    scenarios : list of str, Path or Scenario
        Built-in names, files or resolved scenarios; names must be distinct.
    horizon : int, optional
        Common horizon (default: the longest of the scenarios' ``horizons.run``).
    """
    if baseline is None:
        baseline = load_baseline()
    resolved = [_resolve(s, baseline, None) for s in scenarios]
    if not resolved:
        raise ScenarioError("no scenario given")
    names = [s.name for s in resolved]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ScenarioError("scenario names must be distinct in one run", key="scenario.name", value=dup)
    H = int(horizon) if horizon is not None else max(s.horizon for s in resolved)
    resolved = [s.with_horizon(H) for s in resolved]
    inputs = [scenario_inputs(baseline, s) for s in resolved]
    stacked = _stack(inputs)
    res = _run(baseline, stacked, progress)
    acc = _accounts(baseline, resolved[0], res, stacked["net_creation"], int(baseline.attrs["base_year"]),
                    H, scenarios=resolved)
    return Comparison(accounts=acc, baseline=baseline, scenarios=resolved)


@dataclass
class Comparison(Deliverables):
    """Accounts of several scenarios along a ``scenario`` dimension."""

    accounts: xr.Dataset
    baseline: xr.Dataset
    scenarios: list

    @property
    def names(self) -> list[str]:
        """The scenario names, in the order of the ``scenario`` dimension."""
        return [s.name for s in self.scenarios]

    def __getitem__(self, name: str) -> Projection:
        """One scenario's results, as :func:`pmq.project` returns them."""
        if name not in self.names:
            raise UnknownNameError(f"unknown scenario {name!r}; this comparison has: {', '.join(self.names)}")
        i = self.names.index(name)
        sc = self.scenarios[i]
        acc = self.accounts.isel(scenario=i, drop=True).drop_vars(
            [c for c in ("scenario_title_fr", "scenario_title_en", "scenario_hash")
             if c in self.accounts.coords], errors="ignore")
        for k in ("scenarios", "scenario_sources"):
            acc.attrs.pop(k, None)
        acc.attrs.update(_scenario_attrs(sc))
        return Projection(accounts=acc, baseline=self.baseline, scenario=sc)

    def horizons(self, horizons=None, years=None) -> xr.Dataset:
        """Flows summed over each horizon, per scenario (see :meth:`Projection.horizons`; default: the first
        scenario's horizons plus the baseline's published horizon)."""
        first = self.scenarios[0]
        if years is None:
            years = (*first.summary_years, int(self.accounts.attrs["period_end"]))
        return horizon_sums(self.accounts, default_end_years(self.accounts, horizons or first.summary_horizons, years))

    def summary_table(self, horizons=None, years=None) -> pd.DataFrame:
        """Long table of headline flows per scenario × métier × territory × horizon (as
        :meth:`Projection.summary_table`, with a first ``scenario`` column)."""
        return scenario_summary_table(self.horizons(horizons, years))

    def summary(self, horizons=None, years=None, lang: str | None = None) -> Summary:
        """National totals at each horizon, one block per scenario (see :meth:`Projection.summary`)."""
        lang = check_lang(lang)
        return summarize(self.accounts, self.horizons(horizons, years), lang=lang)

    def __repr__(self) -> str:
        acc = self.accounts
        years = acc.year.values
        return (f"<pmq.Comparison {', '.join(map(repr, self.names))} {int(years[0])}–{int(years[-1])}: "
                f"{acc.sizes['territory']} territories × {acc.sizes['metier']} métiers × {acc.sizes['age']} ages>")

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def table(self, horizon: int = 10, territory=None, by: str = "domain") -> pd.DataFrame:
        """Side-by-side headline flows at ``horizon`` years (see :func:`compare_table`)."""
        return compare_table(self.accounts, horizon, territory=territory, by=by)



def compare_table(accounts: xr.Dataset, horizon: int = 10, territory=None,
                  by: str = "domain") -> pd.DataFrame:
    """Headline flows per ``by`` group (FAP domain or métier) and territory, one column per
    scenario and one column of difference from the first scenario per other scenario.

    Flows are summed over the ``horizon`` years from the base year; ``employment_end`` is the
    stock at base + horizon.  Rows include a « Total » group per territory and, when several
    territories are shown, an « Ensemble » territory.  Persons.
    """
    base = int(accounts.year.values[0])
    end = base + int(horizon)
    if end > int(accounts.year.values[-1]):
        raise InputError(f"horizon {horizon} years goes beyond the projection ({int(accounts.year.values[-1])})",
                         column="horizon", rows=[horizon])
    ds = select(accounts, territory=territory) if territory is not None else accounts
    h = horizon_sums(ds, [end]).isel(period=0, drop=True)
    h = h[list(HEADLINE)]
    if by == "domain":
        h = aggregate_metiers(h, by="domain")
        group = "domain"
    elif by == "metier":
        group = "metier"
        h = h.drop_vars([c for c in ("published_code", "domain") if c in h.coords])
    else:
        raise InputError(f"unknown grouping {by!r}; use 'domain' or 'metier'", column="by")
    keep_coords = [c for c in ("territory_name",) if c in h.coords]
    df = h.drop_vars([c for c in h.coords if c not in (group, "territory", "scenario", *keep_coords)])
    long = df.to_dataframe().reset_index()
    total = long.groupby(["scenario", "territory"], as_index=False)[list(HEADLINE)].sum()
    total[group] = "Total"
    parts = [long, total]
    if long["territory"].nunique() > 1:
        ens = long.groupby(["scenario", group], as_index=False)[list(HEADLINE)].sum()
        ens["territory"] = "Ensemble"
        ens_t = total.groupby("scenario", as_index=False)[list(HEADLINE)].sum()
        ens_t["territory"], ens_t[group] = "Ensemble", "Total"
        parts += [ens, ens_t]
    long = pd.concat(parts, ignore_index=True)
    order = list(accounts.scenario.values)
    wide = long.pivot_table(index=["territory", group], columns="scenario", values=list(HEADLINE),
                            sort=False)
    cols = []
    for var in HEADLINE:
        for sc in order:
            cols.append((var, sc))
        for sc in order[1:]:
            wide[(var, f"Δ {sc} − {order[0]}")] = wide[(var, sc)] - wide[(var, order[0])]
            cols.append((var, f"Δ {sc} − {order[0]}"))
    wide = wide[cols]
    wide.columns = [f"{v} | {s}" for v, s in wide.columns]
    wide = wide.reset_index()
    wide.insert(0, "horizon", f"{base}–{end}")
    if by == "domain":
        lab = domains().set_index("code")["label_fr"].to_dict()
        wide.insert(3, "domain_label", wide["domain"].map(lab).fillna(""))
    return wide
