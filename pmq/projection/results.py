"""The results of a run: one :class:`Projection` for one scenario or several, and the deliverables every set of
accounts gives.

A :class:`Projection` holds the accounts ``xarray.Dataset``, the baseline and the scenarios.  Its accounts
carry a ``scenario`` dimension when it holds several scenarios (:func:`pmq.project_many`): a comparison is the
same object, with the same methods (``names``, ``[name]``, ``horizons``, ``summary_table``, ``summary``,
``table``, ``plot``, ``tables``, ``to_excel``, ``to_netcdf``, ``to_iamc``, ``to_pyam``), and
``results[name]`` is that scenario's own :class:`Projection`, equal cell by cell to a separate
:func:`pmq.project` run.  ``Comparison`` is another name of :class:`Projection` (pmq ≤ 0.5 had two classes).

A one-scenario projection has no ``scenario`` dimension (its name is in the accounts' attrs), so that
``proj.accounts["employment"].sel(year=2030)`` reads as it always did; :meth:`Projection.table` and the
charts that compare scenarios add the dimension where they need it.

:class:`Deliverables` — the charts and exports of a set of accounts — is shared with the ``ds.pmq`` accessor
(:mod:`pmq.projection.accessor`); it is the one place of the declared upward hooks (``plot`` →
:mod:`pmq.plots`; ``tables``, ``to_excel``, ``to_iamc``, ``to_pyam`` → :mod:`pmq.export`), imported lazily.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

import pandas as pd
import xarray as xr

from pmq.data import domains
from pmq.errors import ArgumentError, InputError, UnknownNameError
from pmq.formatting import check_lang
from pmq.labels import metier_label
from pmq.options import tr
from pmq.projection.indicators import (accounts_of, aggregate_flags, aggregate_metiers, cell_flags, default_end_years,
                                       horizon_sums, select, to_netcdf, with_flags)
from pmq.projection.prepare import scenario_inputs
from pmq.projection.summary import Summary, scenario_summary_table, summarize
from pmq.scenario.read import Scenario

__all__ = ["Projection", "Comparison", "Deliverables", "compare_table", "scenario_attrs", "HEADLINE"]

#: Headline variables of comparison tables: (column, French label)
HEADLINE = {
    "employment_end": "Emploi en fin de période",
    "net_creation": "Créations nettes",
    "departures": "Départs en fin de carrière",
    "openings": "Postes à pourvoir",
    "young_entrants": "Jeunes débutants",
    "imbalance": "Déséquilibre potentiel",
}

#: Coordinates along ``scenario`` that describe each scenario (dropped when one scenario is taken out).
SCENARIO_COORDS = ("scenario_title_fr", "scenario_title_en", "scenario_hash")


def scenario_attrs(scenario: Scenario | None, scenarios: list[Scenario] | None = None) -> dict:
    """The accounts' attrs that describe the scenario (or, with ``scenarios``, each of several, as JSON
    mappings name → value)."""
    if scenarios is None:
        assert scenario is not None
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
    """Charts and exports of a set of accounts, the same on a :class:`Projection` (one scenario or several)
    and on ``ds.pmq``: the one place of the declared upward hooks, imported lazily."""

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

    def to_pyam(self, **kwargs):
        """``pyam.IamDataFrame`` of :meth:`to_iamc` (optional extra ``pmq[pyam]``)."""
        from pmq.export.iamc import to_pyam
        return to_pyam(accounts_of(self), **kwargs)


@dataclass(init=False, repr=False, eq=False)
class Projection(Deliverables):
    """Results of :func:`pmq.project` (one scenario) and :func:`pmq.project_many` (several, along a
    ``scenario`` dimension): a statsmodels-style results object.

    Attributes
    ----------
    accounts : Dataset
        Every stock and flow by year × territory × métier (× age); with several scenarios, by scenario first.
    baseline : Dataset
    scenarios : list of Scenario
        In the order of the ``scenario`` dimension; :attr:`scenario` is the one scenario of a one-scenario
        projection.
    """

    accounts: xr.Dataset
    baseline: xr.Dataset
    scenarios: list[Scenario]

    def __init__(self, accounts: xr.Dataset, baseline: xr.Dataset, scenario: Scenario | None = None,
                 scenarios: list[Scenario] | None = None) -> None:
        if (scenario is None) == (scenarios is None):
            raise ArgumentError(tr("give a Projection either scenario= (one) or scenarios= (several)",
                                   "donnez à une Projection soit scenario= (un seul), soit scenarios= (plusieurs)"),
                                name="scenario")
        self.accounts, self.baseline = accounts, baseline
        self.scenarios = [scenario] if scenario is not None else list(scenarios or [])
        if "scenario" in accounts.dims:
            dim = [str(s) for s in accounts.scenario.values]
            if dim != [s.name for s in self.scenarios]:
                raise ArgumentError(tr("the accounts' scenario dimension does not list these scenarios",
                                       "la dimension scenario des comptes ne liste pas ces scénarios"),
                                    name="scenarios", value=dim)
        elif len(self.scenarios) != 1:
            raise ArgumentError(tr("accounts without a scenario dimension hold one scenario",
                                   "des comptes sans dimension scenario contiennent un seul scénario"),
                                name="scenarios", value=[s.name for s in self.scenarios])

    # ------------------------------------------------------------------------ scenarios
    @property
    def scenario(self) -> Scenario:
        """The scenario of a one-scenario projection (with several: take one with ``results[name]``)."""
        if len(self.scenarios) != 1:
            raise AttributeError(tr(f"these results hold {len(self.scenarios)} scenarios "
                                    f"({', '.join(self.names)}): take one with results[name]",
                                    f"ces résultats contiennent {len(self.scenarios)} scénarios "
                                    f"({', '.join(self.names)}) : prenez-en un avec results[name]"))
        return self.scenarios[0]

    @property
    def names(self) -> list[str]:
        """The scenario names, in the order of the ``scenario`` dimension (one for one scenario)."""
        return [s.name for s in self.scenarios]

    @property
    def several(self) -> bool:
        """True when the accounts carry a ``scenario`` dimension."""
        return "scenario" in self.accounts.dims

    def __len__(self) -> int:
        return len(self.scenarios)

    def __iter__(self):
        """The one-scenario projections, in order (``for proj in results``)."""
        return (self[name] for name in self.names)

    def __getitem__(self, name: str) -> Projection:
        """One scenario's results, as :func:`pmq.project` returns them (a one-scenario projection is its own
        ``[name]``)."""
        if name not in self.names:
            raise UnknownNameError(tr(f"unknown scenario {name!r}; these results have: {', '.join(self.names)}",
                                      f"scénario inconnu {name!r} ; ces résultats contiennent : "
                                      f"{', '.join(self.names)}"))
        if not self.several:
            return self
        i = self.names.index(name)
        sc = self.scenarios[i]
        acc = self.accounts.isel(scenario=i, drop=True).drop_vars(
            [c for c in SCENARIO_COORDS if c in self.accounts.coords], errors="ignore")
        for k in ("scenarios", "scenario_sources"):
            acc.attrs.pop(k, None)
        acc.attrs.update(scenario_attrs(sc))
        return Projection(accounts=acc, baseline=self.baseline, scenario=sc)

    def hazard(self) -> xr.DataArray:
        """The end-of-career exit hazard the engine applied, rebuilt from the baseline and the scenario(s).

        Dims ``(territory, metier, age)``, with a leading ``year`` (the flow years) when a scenario has exit
        levers (the hazard then varies by year), and a ``scenario`` dim with several scenarios.  Departures
        are ``employment × hazard`` in every cell, age and flow year (:func:`pmq.testing.assert_projection`)."""
        acc = self.accounts
        flow_years = acc.year.values[:-1]
        cells = {"territory": acc.territory.values, "metier": acc.metier.values, "age": acc.age.values}

        def one(scenario: Scenario) -> xr.DataArray:
            with warnings.catch_warnings():      # the checks of the inputs warned when the projection ran
                warnings.simplefilter("ignore")
                inp = scenario_inputs(self.baseline, scenario)
            if inp.hazard_by_year:
                return xr.DataArray(inp.hazard, dims=("year", "territory", "metier", "age"),
                                    coords={"year": flow_years, **cells})
            return xr.DataArray(inp.hazard, dims=("territory", "metier", "age"), coords=cells)

        if not self.several:
            return one(self.scenarios[0])
        parts = [one(sc) for sc in self.scenarios]
        if any("year" in p.dims for p in parts):
            yr = xr.DataArray(flow_years, dims="year", coords={"year": flow_years})
            parts = [p if "year" in p.dims else p.broadcast_like(yr) for p in parts]
        return xr.concat(parts, dim="scenario").assign_coords(scenario=acc.scenario.values)

    # ------------------------------------------------------------------------ reading
    def horizons(self, horizons=None, years=None) -> xr.Dataset:
        """Flows summed over each horizon (see :func:`pmq.projection.indicators.horizon_sums`; default: the
        (first) scenario's summary horizons and years plus the baseline's published horizon), per scenario."""
        first = self.scenarios[0]
        if years is None:
            years = (*first.summary_years, int(self.accounts.attrs["period_end"]))
        ends = default_end_years(self.accounts, horizons or first.summary_horizons, years)
        return horizon_sums(self.accounts, ends)

    def summary_table(self, horizons=None, years=None, lang: str | None = None) -> pd.DataFrame:
        """Long table of headline flows per métier × territory × horizon (with several scenarios, a first
        ``scenario`` column and each scenario's rows in turn; a split or estimated run adds ``reliability``,
        ``reliability_label`` in ``lang``, ``estimated``, ``key_basis``)."""
        return scenario_summary_table(self.horizons(horizons, years), lang)

    def summary(self, horizons=None, years=None, lang: str | None = None) -> Summary:
        """National totals at each horizon (default: the scenario's): a :class:`~pmq.projection.summary.Summary`,
        text to ``print`` (in thousands; one block per scenario), an HTML table in Jupyter, ``.table`` a
        DataFrame (persons)."""
        lang = check_lang(lang)
        return summarize(self.accounts, self.horizons(horizons, years), lang=lang)

    def table(self, horizon: int = 10, territory=None, by: str = "domain", lang: str | None = None) -> pd.DataFrame:
        """Side-by-side headline flows at ``horizon`` years, one column per scenario and one of difference
        from the first per other scenario (see :func:`compare_table`)."""
        return compare_table(self.accounts, horizon, territory=territory, by=by, lang=lang)

    def __repr__(self) -> str:
        acc = self.accounts
        years = acc.year.values
        what = (f"{len(self.names)} scenarios {', '.join(map(repr, self.names))}" if self.several
                else repr(self.names[0]))
        return (f"<pmq.Projection {what} {int(years[0])}–{int(years[-1])}: "
                f"{acc.sizes['territory']} territories × {acc.sizes['metier']} métiers × {acc.sizes['age']} ages>")

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


#: The results of several scenarios are a :class:`Projection` with a ``scenario`` dimension (the name of
#: pmq ≤ 0.5's separate class, kept: ``isinstance(pmq.project_many(...), pmq.Comparison)`` holds).
Comparison = Projection


def _with_scenario_dim(accounts: xr.Dataset) -> xr.Dataset:
    """The accounts with a ``scenario`` dimension (a one-scenario Dataset gets one of length 1)."""
    if "scenario" in accounts.dims:
        return accounts
    name = str(accounts.attrs.get("scenario", "scenario"))
    return accounts.expand_dims(scenario=[name])


def compare_table(accounts: xr.Dataset, horizon: int = 10, territory=None,
                  by: str = "domain", lang: str | None = None) -> pd.DataFrame:
    """Headline flows per ``by`` group (FAP domain or métier) and territory, one column per
    scenario and one column of difference from the first scenario per other scenario.

    Flows are summed over the ``horizon`` years from the base year; ``employment_end`` is the
    stock at base + horizon.  Rows include a « Total » group per territory and, when several
    territories are shown, an « Ensemble » territory.  Persons.  Accounts of one scenario give one column per
    variable.

    Accounts of a split or estimated run (départements, zones d'emploi, estimated DOM) add, last, the columns
    ``reliability``, ``reliability_label`` (in ``lang``), ``estimated`` and ``key_basis`` of each row: a cell's,
    or for a domain, a « Total » or the « Ensemble » the flags of the sum of its cells
    (:func:`pmq.projection.indicators.aggregate_flags`: estimated if any of its cells is).
    """
    accounts = _with_scenario_dim(accounts)
    base = int(accounts.year.values[0])
    end = base + int(horizon)
    if end > int(accounts.year.values[-1]):
        last = int(accounts.year.values[-1])
        raise InputError(tr(f"horizon {horizon} years goes beyond the projection ({last})",
                            f"l'horizon de {horizon} ans dépasse la projection ({last})"),
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
        raise InputError(tr(f"unknown grouping {by!r}; use 'domain' or 'metier'",
                            f"regroupement inconnu {by!r} ; utilisez 'domain' ou 'metier'"), column="by")
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
    fr = check_lang(lang) == "fr"
    if by == "domain":
        lab = domains().set_index("code")["label_fr" if fr else "label_en"].to_dict()
        wide.insert(3, "domain_label", wide["domain"].map(lab).fillna(""))
    else:                                   # the métier's label beside its code (the accounts', else pmq's)
        codes = [str(m) for m in accounts.metier.values]
        lab = dict(zip(codes, (metier_label(codes, "fr" if fr else "en") if "metier_label" not in accounts.coords
                               or not fr else map(str, accounts["metier_label"].values))))
        wide.insert(3, "metier_label", wide["metier"].map(lab).fillna(""))
    return with_flags(wide, _compare_flags(ds, group, long["territory"].nunique() > 1), ["territory", group], lang)


def _compare_flags(ds: xr.Dataset, group: str, ensemble: bool) -> pd.DataFrame | None:
    """Flags of the rows of :func:`compare_table` (territory × group, « Total », « Ensemble »)."""
    cells = cell_flags(ds)
    if cells is None:
        return None
    parts = [cells if group == "metier" else aggregate_flags(cells, ["territory", group]),
             aggregate_flags(cells, ["territory"], **{group: "Total"})]
    if ensemble:
        parts += [aggregate_flags(cells, [group], territory="Ensemble"),
                  aggregate_flags(cells, [], territory="Ensemble", **{group: "Total"})]
    return pd.concat(parts, ignore_index=True)
