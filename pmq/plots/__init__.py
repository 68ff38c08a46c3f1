"""Publication charts (matplotlib, house style, French labels by default).

Each function takes a :class:`~pmq.Projection` (one scenario or several) or an accounts
Dataset, draws on ``ax=`` (a new figure when omitted) and returns the axes (the figure for
:func:`small_multiples`).  Same functions through the accessor, one method per chart:
``proj.plot.waterfall(...)``, ``comparison.plot.scenario_lines()``, ``ds.pmq.plot.imbalance_map()``
(:class:`PlotAccessor`).
"""
import pandas as pd
import xarray as xr

from pmq.formatting import check_lang
from pmq.plots.style import COLORS, DIVERGING_CMAP, PALETTE, SEQUENTIAL_CMAP, house_style
from pmq.plots.charts import (RANKINGS, age_pyramid, fan_chart, ranked_bars, ranked_values, scenario_bars,
                              scenario_lines, tornado, waterfall, waterfall_steps)
from pmq.plots.maps import (heatmap_values, imbalance_heatmap, imbalance_map, imbalance_territory_map,
                            region_geometry, region_map, region_values, small_multiples, territory_geometry,
                            territory_map, territory_values)
from pmq.options import tr

__all__ = ["PALETTE", "COLORS", "DIVERGING_CMAP", "SEQUENTIAL_CMAP", "house_style", "age_pyramid",
           "waterfall", "waterfall_steps", "ranked_bars", "ranked_values", "RANKINGS", "scenario_lines",
           "scenario_bars", "fan_chart", "tornado", "heatmap_values", "imbalance_heatmap", "small_multiples",
           "region_values", "region_map", "imbalance_map", "region_geometry", "territory_geometry",
           "territory_values", "territory_map", "imbalance_territory_map", "PlotAccessor"]


class PlotAccessor:
    """``proj.plot.<chart>(...)``: every chart of :mod:`pmq.plots` bound to one set of results.

    ``proj.plot``, ``comparison.plot`` and ``ds.pmq.plot`` (an accounts Dataset) hold the accounts; the charts
    of other data take theirs: ``PlotAccessor(ens.series("employment")).fan_chart()``,
    ``PlotAccessor(one_at_a_time(...)).tornado()``, ``PlotAccessor(region_values(proj)).region_map()``.
    Each method is the chart function of the same name, its data argument bound; ``proj.plot(...)`` is
    :meth:`waterfall`.  A name that is no chart raises ``AttributeError``.
    """

    #: The charts, one method each (the chart functions of :mod:`pmq.plots.charts` and :mod:`pmq.plots.maps`).
    CHARTS = ("age_pyramid", "waterfall", "ranked_bars", "scenario_lines", "scenario_bars", "fan_chart", "tornado",
              "imbalance_heatmap", "small_multiples", "region_map", "imbalance_map", "territory_map",
              "imbalance_territory_map")

    __slots__ = ("_obj",)

    def __init__(self, obj):
        self._obj = obj

    def __getattr__(self, name):   # only for names that are not methods: a helpful error
        raise AttributeError(tr(f"no chart {name!r}; available: {', '.join(self.CHARTS)}",
                                f"aucun graphique {name!r} ; disponibles : {', '.join(self.CHARTS)}"))

    def __dir__(self):
        return list(self.CHARTS)

    def __repr__(self) -> str:
        return f"<pmq.plots.PlotAccessor of {type(self._obj).__name__}: {', '.join(self.CHARTS)}>"

    # the most used chart as the accessor's call, as in pandas / pyam
    def __call__(self, *args, **kwargs):
        return waterfall(self._obj, *args, **kwargs)

    def _data(self, chart: str, kinds: tuple, what: str):
        if not isinstance(self._obj, kinds):
            raise TypeError(tr(f"{chart} draws {what}, not a {type(self._obj).__name__}: use "
                               f"pmq.plots.PlotAccessor(<{what}>).{chart}() or pmq.plots.{chart}(<{what}>)",
                               f"{chart} dessine {what}, pas un {type(self._obj).__name__} : utilisez "
                               f"pmq.plots.PlotAccessor(<{what}>).{chart}() ou pmq.plots.{chart}(<{what}>)"))
        return self._obj

    # --------------------------------------------------------------------- pmq.plots.charts
    def age_pyramid(self, territory=None, metier=None, years=None, band: int = 1, scenario=None,
                    lang: str | None = None, ax=None):
        """Age pyramid: :func:`pmq.plots.charts.age_pyramid`."""
        lang = check_lang(lang)
        return age_pyramid(self._obj, territory=territory, metier=metier, years=years, band=band,
                           scenario=scenario, lang=lang, ax=ax)

    def waterfall(self, territory=None, metier=None, start_year=None, end_year=None, mobility=None,
                  values: bool = True, compact: bool = False, scenario=None, lang: str | None = None, ax=None):
        """Employment from start to end through its flows: :func:`pmq.plots.charts.waterfall`."""
        lang = check_lang(lang)
        return waterfall(self._obj, territory=territory, metier=metier, start_year=start_year, end_year=end_year,
                         mobility=mobility, values=values, compact=compact, scenario=scenario, lang=lang, ax=ax)

    def ranked_bars(self, by: str = "openings", territory=None, n: int = 15, start_year=None, end_year=None,
                    ascending: bool = False, scenario=None, lang: str | None = None, ax=None):
        """The métiers ranked by a flow or a rate: :func:`pmq.plots.charts.ranked_bars`."""
        lang = check_lang(lang)
        return ranked_bars(self._obj, by=by, territory=territory, n=n, start_year=start_year, end_year=end_year,
                           ascending=ascending, scenario=scenario, lang=lang, ax=ax)

    def scenario_lines(self, variable: str = "employment", territory=None, metier=None, index: bool = False,
                       lang: str | None = None, ax=None):
        """One line per scenario over the years: :func:`pmq.plots.charts.scenario_lines`."""
        lang = check_lang(lang)
        return scenario_lines(self._obj, variable=variable, territory=territory, metier=metier, index=index,
                              lang=lang, ax=ax)

    def scenario_bars(self, variable: str = "openings", territory=None, metier=None, start_year=None,
                      end_year=None, lang: str | None = None, ax=None):
        """One bar per scenario over a window: :func:`pmq.plots.charts.scenario_bars`."""
        lang = check_lang(lang)
        return scenario_bars(self._obj, variable=variable, territory=territory, metier=metier,
                             start_year=start_year, end_year=end_year, lang=lang, ax=ax)

    def fan_chart(self, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95), scale: float = 1e-3, label=None, color=None,
                  lang: str | None = None, ax=None):
        """Fan chart of an ensemble's draws (the accessor holds a DataArray): :func:`pmq.plots.charts.fan_chart`."""
        lang = check_lang(lang)
        da = self._data("fan_chart", (xr.DataArray,), tr("a DataArray with a draw or quantile dimension",
                                                            "un DataArray à dimension draw ou quantile"))
        return fan_chart(da, quantiles=quantiles, scale=scale, label=label, color=color, lang=lang, ax=ax)

    def tornado(self, output: str = "openings", labels: dict | None = None, lang: str | None = None, ax=None):
        """Tornado of a sensitivity table (the accessor holds it): :func:`pmq.plots.charts.tornado`."""
        lang = check_lang(lang)
        table = self._data("tornado", (pd.DataFrame,), tr("the table of pmq.one_at_a_time",
                                                            "le tableau de pmq.one_at_a_time"))
        return tornado(table, output=output, labels=labels, lang=lang, ax=ax)

    # ----------------------------------------------------------------------- pmq.plots.maps
    def imbalance_heatmap(self, value: str = "imbalance_rate", by: str = "domain", start_year=None,
                          end_year=None, national: bool = True, annotate: bool = True, scenario=None,
                          lang: str | None = None, ax=None, territories=None, highlight=None):
        """Territory × domain (or métier) heatmap of a rate: :func:`pmq.plots.maps.imbalance_heatmap`."""
        lang = check_lang(lang)
        return imbalance_heatmap(self._obj, value=value, by=by, start_year=start_year, end_year=end_year,
                                 national=national, annotate=annotate, scenario=scenario, lang=lang, ax=ax,
                                 territories=territories, highlight=highlight)

    def small_multiples(self, chart="waterfall", territories=None, ncols: int = 4, lang: str | None = None,
                        panel_size=(3.2, 2.5), sharey: bool = False, one_ylabel: bool = False, **kwargs):
        """One panel per territory: :func:`pmq.plots.maps.small_multiples`."""
        lang = check_lang(lang)
        return small_multiples(self._obj, chart=chart, territories=territories, ncols=ncols, lang=lang,
                               panel_size=panel_size, sharey=sharey, one_ylabel=one_ylabel, **kwargs)

    def region_map(self, label: str | None = None, percent: bool = True, diverging: bool | None = None,
                   annotate: bool = True, highlight=None, lang: str | None = None, ax=None):
        """Choropleth of one value per region (the accessor holds them): :func:`pmq.plots.maps.region_map`."""
        lang = check_lang(lang)
        values = self._data("region_map", (pd.Series, xr.DataArray, dict),
                            tr("one value per region (pmq.plots.region_values)",
                               "une valeur par région (pmq.plots.region_values)"))
        return region_map(values, label=label, percent=percent, diverging=diverging, annotate=annotate,
                          highlight=highlight, lang=lang, ax=ax)

    def imbalance_map(self, value: str = "imbalance_rate", start_year=None, end_year=None, scenario=None,
                      highlight=None, lang: str | None = None, ax=None):
        """Map of a rate per region over a window: :func:`pmq.plots.maps.imbalance_map`."""
        lang = check_lang(lang)
        return imbalance_map(self._obj, value=value, start_year=start_year, end_year=end_year, scenario=scenario,
                             highlight=highlight, lang=lang, ax=ax)

    def territory_map(self, level: str = "departement", region=None, highlight=None, reliability=None,
                      label: str | None = None, title: str | None = None, percent: bool = True,
                      diverging: bool | None = None, annotate: bool | None = None, unreliable_from: int = 2,
                      min_span: float | None = None, note: str | None = None, lang: str | None = None, ax=None):
        """Choropleth of one value per département or zone (the accessor holds them): :func:`pmq.plots.maps.territory_map`."""
        lang = check_lang(lang)
        values = self._data("territory_map", (pd.Series, xr.DataArray, dict, pd.DataFrame),
                            tr("one value per territory (pmq.plots.territory_values)",
                               "une valeur par territoire (pmq.plots.territory_values)"))
        return territory_map(values, level=level, region=region, highlight=highlight, reliability=reliability,
                             label=label, title=title, percent=percent, diverging=diverging, annotate=annotate,
                             unreliable_from=unreliable_from, min_span=min_span, note=note, lang=lang, ax=ax)

    def imbalance_territory_map(self, value: str = "imbalance_rate", start_year=None, end_year=None, scenario=None,
                                territory=None, region=None, metier=None, lang: str | None = None, ax=None):
        """Map of a rate per département or zone of a région: :func:`pmq.plots.maps.imbalance_territory_map`."""
        lang = check_lang(lang)
        return imbalance_territory_map(self._obj, value=value, start_year=start_year, end_year=end_year,
                                       scenario=scenario, territory=territory, region=region, metier=metier,
                                       lang=lang, ax=ax)
