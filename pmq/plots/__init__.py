"""Publication charts (matplotlib, house style, French labels by default).

Each function takes a :class:`~pmq.Projection`, a :class:`~pmq.projection.compare.Comparison` or an accounts
Dataset, draws on ``ax=`` (a new figure when omitted) and returns the axes (the figure for
:func:`small_multiples`).  Same functions through the accessor: ``proj.plot.waterfall(...)``.
"""
from pmq.plots.style import COLORS, DIVERGING_CMAP, PALETTE, SEQUENTIAL_CMAP, house_style
from pmq.plots.charts import (RANKINGS, age_pyramid, fan_chart, ranked_bars, ranked_values, scenario_bars,
                              scenario_lines, tornado, waterfall, waterfall_steps)
from pmq.plots.maps import (heatmap_values, imbalance_heatmap, imbalance_map, region_geometry, region_map,
                            region_values, small_multiples)

__all__ = ["PALETTE", "COLORS", "DIVERGING_CMAP", "SEQUENTIAL_CMAP", "house_style", "age_pyramid",
           "waterfall", "waterfall_steps", "ranked_bars", "ranked_values", "RANKINGS", "scenario_lines",
           "scenario_bars", "fan_chart", "tornado", "heatmap_values", "imbalance_heatmap", "small_multiples",
           "region_values", "region_map", "imbalance_map", "region_geometry", "PlotAccessor"]


class PlotAccessor:
    """``proj.plot.<chart>(...)``: the chart functions bound to one projection or comparison."""

    _charts = ("age_pyramid", "waterfall", "ranked_bars", "scenario_lines", "scenario_bars",
               "imbalance_heatmap", "imbalance_map", "small_multiples")

    def __init__(self, obj):
        self._obj = obj

    def __getattr__(self, name):
        if name not in self._charts:
            raise AttributeError(f"no chart {name!r}; available: {', '.join(self._charts)}")
        func = globals()[name]

        def bound(*args, **kwargs):
            return func(self._obj, *args, **kwargs)
        bound.__doc__ = func.__doc__
        bound.__name__ = name
        return bound

    def __dir__(self):
        return list(self._charts)

    # the most used chart as the accessor's call, as in pandas / pyam
    def __call__(self, *args, **kwargs):
        return waterfall(self._obj, *args, **kwargs)
