"""Charts across territories: heatmap métier (or domain) × territory, small multiples by
region, and a choropleth map of the 13 regions."""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd
import xarray as xr

from pmq import data as _data
from pmq.formatting import check_lang, format_number, tick_formatter
from pmq.labels import domain_label, metier_label, text
from pmq.projection.indicators import national as national_label
from pmq.plots.style import (DIVERGING_CMAP, bottom_note, SEQUENTIAL_CMAP, house_style, new_axes,
                             source_note, styled)
from pmq.projection.indicators import (is_builtin_france, accounts_of, one_scenario, period_label,
                                       subset_sum, territory_name, window)
from pmq.plots import charts
from pmq.errors import InputError

__all__ = ["heatmap_values", "imbalance_heatmap", "small_multiples", "region_values", "region_map",
           "region_geometry"]

_RATES = {"imbalance_rate": ("imbalance", "employment_start"),
          "openings_rate": ("openings", "employment_start"),
          "departure_rate": ("departures", "employment_start"),
          "imbalance_share_of_openings": ("imbalance", "openings")}


def _short_territory(acc: xr.Dataset) -> list[str]:
    short = _data.regions().set_index("code")["short_name"]
    names = acc.territory_name.values if "territory_name" in acc.coords else acc.territory.values
    return [str(short.get(str(c), n)) for c, n in zip(acc.territory.values, names)]


def heatmap_values(data, value: str = "imbalance_rate", by: str = "domain", start_year=None, end_year=None,
                   national: bool = True, scenario=None) -> pd.DataFrame:
    """Rows = FAP domains (or métiers), columns = territories (+ « FR » when ``national``), values =
    ``value`` (:data:`_RATES`: a flow as a share of initial employment or of openings)."""
    if value not in _RATES:
        raise ValueError(f"unknown value {value!r}; use one of {', '.join(_RATES)}")
    if by not in ("domain", "metier"):
        raise ValueError(f"by must be 'domain' or 'metier', got {by!r}")
    acc = one_scenario(accounts_of(data), scenario)
    num, den = _RATES[value]
    w = window(acc, start_year, end_year)[[num, den]]
    if by == "domain":
        w = w.drop_vars([c for c in ("metier_label", "published_code") if c in w.coords]).groupby("domain").sum()
    row = "domain" if by == "domain" else "metier"
    cols = list(map(str, w.territory.values))
    num_t, den_t = w[num].transpose(row, "territory").values, w[den].transpose(row, "territory").values
    if national:
        num_t = np.column_stack([num_t, num_t.sum(1)])
        den_t = np.column_stack([den_t, den_t.sum(1)])
        cols = cols + [national_label(acc)[0]]
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(den_t > 0, num_t / den_t, np.nan)
    return pd.DataFrame(v, index=pd.Index(map(str, w[row].values), name=row),
                        columns=pd.Index(cols, name="territory"))


@styled
def imbalance_heatmap(data, value: str = "imbalance_rate", by: str = "domain", start_year=None, end_year=None,
                      national: bool = True, annotate: bool = True, scenario=None, lang: str | None = None, ax=None):
    """Heatmap of ``value`` (default: potential imbalance as % of initial employment) by FAP
    domain (or métier) × territory, on a diverging colour-blind-safe scale centred on 0.
    Positive (purple-brown side) = openings not covered by young entrants and mobility."""
    lang = check_lang(lang)
    acc = one_scenario(accounts_of(data), scenario)
    df = heatmap_values(acc, value, by, start_year, end_year, national)
    m = df.values * 100
    lim = np.nanmax(np.abs(m)) if np.isfinite(m).any() else 1.0
    rows = domain_label(df.index, lang) if by == "domain" else metier_label(df.index, lang, short=True)
    short = _short_territory(acc) + ([national_label(acc, lang)[2]] if national else [])
    fig, ax, created = new_axes(ax, (0.55 * len(short) + 3.6, 0.3 * len(rows) + 1.6))
    im = ax.imshow(m, cmap=DIVERGING_CMAP, vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.set_xticks(np.arange(len(short)), short, rotation=0)
    ax.set_yticks(np.arange(len(rows)), rows)
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    if national:
        ax.axvline(len(short) - 1.5, color="white", lw=2.5)
    if annotate and m.size <= 400:
        for (i, j), x in np.ndenumerate(m):
            if np.isfinite(x):
                ax.text(j, i, format_number(x, 0, lang), ha="center", va="center", fontsize=6.5,
                        color="white" if abs(x) > 0.6 * lim else "#222222")
    cb = ax.figure.colorbar(im, ax=ax, shrink=0.8, pad=0.02, format=tick_formatter(lang))
    label = text(value, lang) if value in ("imbalance_rate", "openings_rate", "departure_rate") else value
    cb.set_label(label.replace("(%", "(en %") if lang == "fr" else label, fontsize=8)
    period = period_label(acc, start_year, end_year)
    regions = is_builtin_france(acc)
    if lang == "fr":
        ttl = (f"{text(value, lang).split(' (')[0]} par {'domaine' if by == 'domain' else 'métier'} et "
               f"{'région' if regions else 'territoire'}")
    else:
        ttl = (f"{text(value, lang).split(' (')[0]} by {'domain' if by == 'domain' else 'occupation'} and "
               f"{'region' if regions else 'territory'}")
    ax.set_title(f"{ttl}, {period}")
    if created:
        source_note(fig, acc, lang)
    return ax


def small_multiples(data, chart="waterfall", territories=None, ncols: int = 4, lang: str | None = None,
                    panel_size=(3.2, 2.5), sharey: bool = False, **kwargs):
    """One panel per territory (default: all), drawn by ``chart``: ``"waterfall"``,
    ``"pyramid"``, ``"lines"`` (scenario lines), ``"ranked"`` or any function
    ``f(data, territory=..., lang=..., ax=..., **kwargs)``.  Returns the figure."""
    lang = check_lang(lang)
    import matplotlib.pyplot as plt

    funcs = {"waterfall": charts.waterfall, "pyramid": charts.age_pyramid, "lines": charts.scenario_lines,
             "ranked": charts.ranked_bars}
    f = funcs.get(chart, chart) if isinstance(chart, str) else chart
    if not callable(f):
        raise ValueError(f"unknown chart {chart!r}; use one of {', '.join(funcs)} or a function")
    acc = accounts_of(data)
    codes = list(map(str, acc.territory.values)) if territories is None else list(territories)
    n = len(codes)
    nrows = int(np.ceil(n / ncols))
    if chart == "waterfall":
        kwargs.setdefault("values", False)
        kwargs.setdefault("compact", True)
    with house_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                                 layout="constrained", sharey=sharey, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.set_visible(False)
            continue
        f(acc, territory=codes[k], lang=lang, ax=ax, **kwargs)
        with house_style():
            ax.set_title(territory_name(acc, codes[k], lang), fontsize=9, loc="left", fontweight="bold")
            if k % ncols:
                ax.set_ylabel("")
            if ax.get_legend() is not None and k:
                ax.get_legend().remove()
            ax.tick_params(labelsize=7)
    source_note(fig, one_scenario(acc), lang)
    return fig


# ------------------------------------------------------------------------------------------- map
#: Attribution of the shipped geometry (Licence Ouverte 2.0 asks for source and date).
MAP_ATTRIBUTION = {
    "fr": "Fond de carte : IGN – ADMIN EXPRESS COG (édition 2023) ; INSEE – COG. Licence Ouverte Etalab 2.0. "
          "Contours dissous par région et simplifiés par pmq.",
    "en": "Base map: IGN – ADMIN EXPRESS COG (2023 edition); INSEE – COG. Licence Ouverte / Open Licence 2.0 (Etalab). "
          "Dissolved to régions and simplified by pmq.",
}


@lru_cache(maxsize=1)
def region_geometry() -> dict:
    """The shipped light geometry of the 13 regions (GeoJSON dict; see ``data/geo/SOURCE.md``)."""
    with open(_data.data_path("geo", "regions_2016.geojson"), encoding="utf-8") as f:
        return json.load(f)


def region_values(data, value: str = "imbalance_rate", start_year=None, end_year=None, scenario=None) -> pd.Series:
    """One value per region over a window, for :func:`region_map` (shares for ``*_rate``)."""
    if value not in _RATES:
        raise ValueError(f"unknown value {value!r}; use one of {', '.join(_RATES)}")
    acc = one_scenario(accounts_of(data), scenario)
    num, den = _RATES[value]
    w = subset_sum(window(acc, start_year, end_year)[[num, den]], keep=("territory",))
    v = (w[num] / w[den].where(w[den] > 0)).to_series()
    v.index = v.index.astype(str)
    return v


def _rings(geom):
    if geom["type"] == "Polygon":
        return [geom["coordinates"]]
    if geom["type"] == "MultiPolygon":
        return geom["coordinates"]
    raise ValueError(f"unsupported geometry {geom['type']}")


@styled
def region_map(values, label: str | None = None, percent: bool = True, diverging: bool | None = None,
               annotate: bool = True, highlight=None, lang: str | None = None, ax=None):
    """Choropleth of one value per region (a Series or a DataArray indexed by INSEE region
    code).  ``percent`` shows shares as %; ``diverging`` (default: values of both signs)
    centres the colour scale on 0.  ``highlight`` outlines one region code."""
    lang = check_lang(lang)
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon

    s = values.to_series() if isinstance(values, xr.DataArray) else pd.Series(values)
    s.index = s.index.astype(str)
    geo = region_geometry()
    known = {f["properties"]["code"] for f in geo["features"]}
    unknown = sorted(set(s.index) - known)
    if unknown:
        raise InputError("region_map draws the 13 regions of metropolitan France; unknown codes",
                         column="territory", rows=unknown)
    v = s.astype(float) * (100 if percent else 1)
    finite = v[np.isfinite(v)]
    if diverging is None:
        diverging = bool(len(finite)) and finite.min() < 0 < finite.max()
    import matplotlib as mpl
    if diverging:
        lim = float(np.abs(finite).max()) if len(finite) else 1.0
        norm = mpl.colors.Normalize(-lim, lim)
        cmap = mpl.colormaps[DIVERGING_CMAP]
    else:
        norm = mpl.colors.Normalize(float(finite.min()), float(finite.max()))
        cmap = mpl.colormaps[SEQUENTIAL_CMAP]
    fig, ax, created = new_axes(ax, (5.6, 5.4))
    k = np.cos(np.radians(46.5))
    patches, colors, codes = [], [], []
    for feat in geo["features"]:
        code = feat["properties"]["code"]
        for poly in _rings(feat["geometry"]):
            ring = np.asarray(poly[0], dtype=float)
            patches.append(Polygon(np.column_stack([ring[:, 0] * k, ring[:, 1]]), closed=True))
            x = v.get(code, np.nan)
            colors.append(cmap(norm(x)) if np.isfinite(x) else (0.9, 0.9, 0.9, 1))
            codes.append(code)
    pc = PatchCollection(patches, facecolors=colors, edgecolors="white", linewidths=0.8)
    pc.set_gid("regions")
    ax.add_collection(pc)
    # extra attributes set on the artist for tests and callers (not in matplotlib's stubs)
    pc.codes = codes  # type: ignore[attr-defined]  # region code of each polygon
    pc.values = [float(v.get(c, np.nan)) for c in codes]  # type: ignore[attr-defined]
    if highlight is not None:
        for p, c in zip(patches, codes):
            if c == str(highlight):
                ax.add_patch(Polygon(p.get_xy(), closed=True, fill=False, edgecolor="black", lw=1.6))
    if annotate:
        for feat in geo["features"]:
            code = feat["properties"]["code"]
            if code in v.index and np.isfinite(v[code]):
                big = max(_rings(feat["geometry"]), key=lambda p: len(p[0]))
                ring = np.asarray(big[0], dtype=float)
                cx, cy = ring[:, 0].mean() * k, ring[:, 1].mean()
                lx, ly = feat["properties"].get("label_lon"), feat["properties"].get("label_lat")
                if lx is not None:
                    cx, cy = lx * k, ly
                ax.text(cx, cy, format_number(v[code], 1, lang), ha="center", va="center", fontsize=7.5,
                        color="black", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7))
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=ax, shrink=0.7, pad=0.01, format=tick_formatter(lang))
    if label:
        cb.set_label(label, fontsize=8)
        ax.set_title(label)
    if created:
        bottom_note(fig, MAP_ATTRIBUTION[lang])
    return ax


def imbalance_map(data, value: str = "imbalance_rate", start_year=None, end_year=None, scenario=None,
                  highlight=None, lang: str | None = None, ax=None):
    """:func:`region_map` of a rate per region over a window (default: potential imbalance as
    % of initial employment)."""
    lang = check_lang(lang)
    acc = one_scenario(accounts_of(data), scenario)
    v = region_values(acc, value, start_year, end_year)
    period = period_label(acc, start_year, end_year)
    label = (text(value, lang) if value in ("imbalance_rate", "openings_rate", "departure_rate") else value)
    ax = region_map(v, label=f"{label}, {period}", highlight=highlight, lang=lang, ax=ax)
    return ax


__all__ += ["imbalance_map", "MAP_ATTRIBUTION"]
