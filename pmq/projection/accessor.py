"""``ds.pmq``: the reading methods of a :class:`~pmq.Projection` on an accounts Dataset read back from disk.

>>> import pmq, xarray as xr
>>> pmq.project(horizon=11).to_netcdf("accounts.nc")            # doctest: +SKIP
>>> ds = xr.open_dataset("accounts.nc")                          # doctest: +SKIP
>>> print(ds.pmq.summary())                                      # doctest: +SKIP
>>> ds.pmq.plot.waterfall(territory="Normandie")                 # doctest: +SKIP

The accessor is registered with xarray when :mod:`pmq.projection` is imported: by ``import pmq.projection``
or the first use of a name from it (``pmq.project``, ``pmq.project_many``, ``pmq.select``,
``pmq.horizon_sums``…).  A bare ``import pmq`` stays light (it imports neither numpy nor xarray), so it does
not register it.

The same protocol as :class:`~pmq.Projection` (one scenario or several): ``names``,
``[name]``, ``horizons``, ``summary_table``, ``summary``, ``select``, ``plot``, ``tables``, ``to_excel``,
``to_netcdf``; accounts with a ``scenario`` dimension (from :func:`pmq.project_many`) are read like a
``Projection`` of several scenarios.
"""
from __future__ import annotations

import pandas as pd
import xarray as xr

from pmq.formatting import check_lang
from pmq.errors import UnknownNameError
from pmq.options import tr
from pmq.projection.indicators import horizon_sums, one_scenario, select
from pmq.projection.results import Deliverables
from pmq.projection.summary import Summary, scenario_summary_table, summarize, summary_end_years

__all__ = ["PmqAccessor"]


@xr.register_dataset_accessor("pmq")
class PmqAccessor(Deliverables):
    """``ds.pmq``: reading an accounts Dataset as pmq's results objects do."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    @property
    def accounts(self) -> xr.Dataset:
        """The accounts Dataset itself (as ``proj.accounts``)."""
        return self._ds

    @property
    def names(self) -> list[str]:
        """The scenario names: the ``scenario`` dimension's, or the one of the ``scenario`` attribute."""
        ds = self._ds
        if "scenario" in ds.dims:
            return [str(s) for s in ds.scenario.values]
        return [str(ds.attrs.get("scenario", ""))]

    def __getitem__(self, name: str) -> xr.Dataset:
        """One scenario's accounts (the Dataset itself when it holds one scenario)."""
        if name not in self.names:
            raise UnknownNameError(tr(f"unknown scenario {name!r}; these accounts have: {', '.join(self.names)}",
                                  f"scénario inconnu {name!r} ; ces comptes contiennent : {', '.join(self.names)}"))
        return one_scenario(self._ds, name)

    def horizons(self, horizons=None, years=None) -> xr.Dataset:
        """Flows summed over each horizon (default: the scenario's summary horizons and years, read from the
        accounts' attributes, plus the baseline's published horizon) — as :meth:`pmq.Projection.horizons`."""
        return horizon_sums(self._ds, summary_end_years(self._ds, horizons, years))

    def summary_table(self, horizons=None, years=None) -> pd.DataFrame:
        """Long table of headline flows per (scenario ×) métier × territory × horizon."""
        return scenario_summary_table(self.horizons(horizons, years))

    def summary(self, horizons=None, years=None, lang: str | None = None) -> Summary:
        """National totals at each horizon (see :meth:`pmq.Projection.summary`)."""
        lang = check_lang(lang)
        return summarize(self._ds, self.horizons(horizons, years), lang=lang)

    def select(self, territory=None, metier=None, period=None) -> xr.Dataset:
        """Territories and métiers by code or name, and periods of horizon sums (« 2019-2030 », 2030) — see
        :func:`pmq.select`."""
        return select(self._ds, territory=territory, metier=metier, period=period)

