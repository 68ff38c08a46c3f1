"""Charts across territories: heatmap métier (or domain) × territory, small multiples by
region, a choropleth map of the 13 regions, and maps of the départements or zones d'emploi of a
région (accounts split below the régions, issue 18: :func:`territory_map`, :func:`imbalance_territory_map`)."""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd
import xarray as xr

from pmq import data as _data
from pmq.data.territories import region_aliases
from pmq.names import resolve_many
from pmq.formatting import check_lang, format_number
from pmq.labels import domain_label, metier_label, text
from pmq.projection.indicators import national as national_label
from pmq.plots.style import (DIVERGING_CMAP, GROUPED_MARK, bottom_note, SEQUENTIAL_CMAP, axis_formatter,
                             estimate_notes, grouped_territories, house_style, new_axes, persons_axis, source_note,
                             source_text, styled, wrap_labels)
from pmq.projection.indicators import (is_builtin_france, accounts_of, one_scenario, period_label,
                                       subset_sum, territory_name, window, select, cell_flags, aggregate_flags)
from pmq.inputs.downscale import RELIABILITY
from pmq.plots import charts
from pmq.errors import ArgumentError, InputError
from pmq.options import tr

__all__ = ["heatmap_values", "imbalance_heatmap", "small_multiples", "region_values", "region_map",
           "region_geometry", "territory_geometry", "territory_values", "territory_map", "imbalance_territory_map",
           "LEVEL_CAPTIONS", "LEVEL_NOUNS", "map_level", "HEATMAP_TEXT", "HEATMAP_CELL", "colour_limits",
           "NARROW_SHARE", "NARROW_POINTS", "PANEL_TEXT"]

_RATES = {"imbalance_rate": ("imbalance", "employment_start"),
          "openings_rate": ("openings", "employment_start"),
          "departure_rate": ("departures", "employment_start"),
          "imbalance_share_of_openings": ("imbalance", "openings")}


def _short_territory(acc: xr.Dataset) -> list[str]:
    names = acc.territory_name.values if "territory_name" in acc.coords else acc.territory.values
    if map_level(acc):          # départements 11, 24… are not the régions of the same codes
        return [str(n) for n in names]
    short = _data.regions().set_index("code")["short_name"]
    return [str(short.get(str(c), n)) for c, n in zip(acc.territory.values, names)]


#: « par département », « by département »…: the level of a map or chart in titles and captions (French, English).
LEVEL_CAPTIONS = {"region": ("par région", "by region"), "departement": ("par département", "by département"),
                  "zone_emploi": ("par zone d'emploi", "by employment zone")}
#: One territory of each level, in titles (French, English).
LEVEL_NOUNS = {"region": ("région", "region"), "departement": ("département", "département"),
               "zone_emploi": ("zone d'emploi", "employment zone")}


def map_level(acc: xr.Dataset) -> str | None:
    """``"departement"`` or ``"zone_emploi"`` for accounts split below the régions (``attrs["level"]``), else
    None (régions, a user's own territories)."""
    level = str(acc.attrs.get("level", "region"))
    return level if level in ("departement", "zone_emploi") else None


def heatmap_values(data, value: str = "imbalance_rate", by: str = "domain", start_year=None, end_year=None,
                   national: bool = True, scenario=None, territories=None) -> pd.DataFrame:
    """Rows = FAP domains (or métiers), columns = territories (+ « FR » when ``national``), values =
    ``value`` (:data:`_RATES`: a flow as a share of initial employment or of openings).  ``territories``
    (codes or names) keeps only those columns; the national column still sums every territory."""
    if value not in _RATES:
        raise ValueError(tr(f"unknown value {value!r}; use one of {', '.join(_RATES)}",
                            f"valeur inconnue {value!r} ; utilisez l'une de {', '.join(_RATES)}"))
    if by not in ("domain", "metier"):
        raise ValueError(tr(f"by must be 'domain' or 'metier', got {by!r}", f"by doit valoir 'domain' ou 'metier', reçu {by!r}"))
    acc = one_scenario(accounts_of(data), scenario)
    num, den = _RATES[value]
    w = window(acc, start_year, end_year)[[num, den]]
    if by == "domain":
        w = w.drop_vars([c for c in ("metier_label", "published_code") if c in w.coords]).groupby("domain").sum()
    row = "domain" if by == "domain" else "metier"
    cols = list(map(str, w.territory.values))
    num_t, den_t = w[num].transpose(row, "territory").values, w[den].transpose(row, "territory").values
    keep = np.arange(len(cols))
    if territories is not None:
        wanted = set(map(str, select(acc, territory=territories).territory.values))
        keep = np.array([j for j, c in enumerate(cols) if c in wanted], dtype=int)
    if national:
        num_t = np.column_stack([num_t[:, keep], num_t.sum(1)])
        den_t = np.column_stack([den_t[:, keep], den_t.sum(1)])
        cols = [cols[j] for j in keep] + [national_label(acc)[0]]
    else:
        num_t, den_t, cols = num_t[:, keep], den_t[:, keep], [cols[j] for j in keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(den_t > 0, num_t / den_t, np.nan)
    return pd.DataFrame(v, index=pd.Index(map(str, w[row].values), name=row),
                        columns=pd.Index(cols, name="territory"))


#: Size of the annotations of :func:`imbalance_heatmap` (points) and least width of its cells (inches): once the
#: figure is scaled to a 16-cm page column its numbers stay about 6 points or more.
HEATMAP_TEXT, HEATMAP_CELL = 8.5, 0.4


@styled
def imbalance_heatmap(data, value: str = "imbalance_rate", by: str = "domain", start_year=None, end_year=None,
                      national: bool = True, annotate: bool = True, scenario=None, lang: str | None = None, ax=None,
                      territories=None, highlight=None):
    """Heatmap of ``value`` (default: potential imbalance as % of initial employment) by FAP
    domain (or métier) × territory, on a diverging colour-blind-safe scale centred on 0.
    Positive (purple-brown side) = openings not covered by young entrants and mobility.
    ``territories`` (codes or names) keeps only those columns (e.g. the départements of one région);
    ``highlight`` (a code or name) outlines one territory's column and sets its name in bold (a report's own
    territory, as :func:`imbalance_map` outlines it).
    Rows are named by the full domain or DARES métier labels, wrapped; the figure is sized so that its text
    stays legible once the chart fills a page's width (:data:`HEATMAP_TEXT` points in cells of
    :data:`HEATMAP_CELL` inches)."""
    lang = check_lang(lang)
    acc = one_scenario(accounts_of(data), scenario)
    df = heatmap_values(acc, value, by, start_year, end_year, national, territories=territories)
    m = df.values * 100
    lim = np.nanmax(np.abs(m)) if np.isfinite(m).any() else 1.0
    own = (dict(zip(map(str, acc.metier.values), map(str, acc.metier_label.values)))
           if by == "metier" and "metier_label" in acc.coords else None)
    rows = wrap_labels(domain_label(df.index, lang) if by == "domain" else
                       metier_label(df.index, lang, labels=[own[c] for c in df.index] if own else None),
                       36 if by == "domain" else 46)
    level = map_level(acc)
    shown = list(df.columns[:-1] if national else df.columns)
    short_of = dict(zip(map(str, acc.territory.values), _short_territory(acc)))
    grouped = [c for c in grouped_territories(acc) if c in shown]   # Corse: its groups of métiers split by pmq
    short = ([short_of[c] + (GROUPED_MARK if c in grouped else "") for c in shown]
             + ([national_label(acc, lang)[2]] if national else []))
    period = period_label(acc, start_year, end_year)
    regions = is_builtin_france(acc)
    if lang == "fr":
        ttl = (f"{text(value, lang).split(' (')[0]} par {'domaine' if by == 'domain' else 'métier'} et "
               f"{LEVEL_NOUNS[level][0] if level else 'région' if regions else 'territoire'}")
    else:
        ttl = (f"{text(value, lang).split(' (')[0]} by {'domain' if by == 'domain' else 'occupation'} and "
               f"{LEVEL_NOUNS[level][1] if level else 'region' if regions else 'territory'}")
    title = f"{ttl}, {period}"
    # inches: the row labels, the cells (wider for long column names set straight), the colour bar
    inch = 0.56 / 72                                      # DejaVu Sans: about 0.56 em per character
    label_w = max((len(line) for r in rows for line in r.split("\n")), default=1) * 8.5 * inch + 0.15
    cell = max(HEATMAP_CELL, (max(map(len, short), default=1) * 8.5 * inch + 0.08) if not level else 0)
    lines = max((r.count("\n") + 1 for r in rows), default=1)
    width = max(label_w + cell * len(short) + 1.05, label_w + len(title) * 10.5 * 0.62 / 72 + 0.3)
    height = max(0.3, 0.15 * lines + 0.07) * len(rows) + 1.5 + (0.6 if level else 0)
    fig, ax, created = new_axes(ax, (width, height))
    # the cells as a mesh of quadrilaterals, as an image of them shows them (a cell per value, centred on its row and
    # column, the first row at the top; an undefined value left blank): drawn as shapes, not as an image
    # resampled to the 300-dpi canvas (a quarter of the figure's time), and as shapes in the SVG
    n_rows, n_cols = m.shape
    im = ax.pcolormesh(np.arange(n_cols + 1) - 0.5, np.arange(n_rows + 1) - 0.5, np.ma.masked_invalid(m),
                       cmap=DIVERGING_CMAP, vmin=-lim, vmax=lim)
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    if level:        # département and zone names are long: slanted
        ax.set_xticks(np.arange(len(short)), short, rotation=40, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(np.arange(len(short)), short, rotation=0)
    ax.set_yticks(np.arange(len(rows)), rows, linespacing=1.0)
    ax.tick_params(length=0, labelsize=8.5)
    for s in ax.spines.values():
        s.set_visible(False)
    if national:
        ax.axvline(len(short) - 1.5, color="white", lw=2.5)
    if highlight is not None:
        focus = str(select(acc, territory=highlight).territory.values[0])
        if focus in shown:
            from matplotlib.patches import Rectangle
            j = shown.index(focus)
            ax.get_xticklabels()[j].set_fontweight("bold")
            frame = Rectangle((j - 0.5, -0.5), 1.0, n_rows, fill=False, edgecolor="#222222", lw=1.6, zorder=3,
                              clip_on=False, gid="highlight")
            ax.add_patch(frame)
    if annotate and m.size <= 400:
        # in a figure sized here the numbers stay inside their cells: the layout need not measure them (the same
        # layout, a third of its time)
        for (i, j), x in np.ndenumerate(m):
            if np.isfinite(x):
                ax.text(j, i, format_number(x, 0, lang), ha="center", va="center", fontsize=HEATMAP_TEXT,
                        color="white" if abs(x) > 0.6 * lim else "#222222", in_layout=not created)
    cb = ax.figure.colorbar(im, ax=ax, shrink=min(0.8, 4.5 / max(height - 1.5, 1e-9)), pad=0.02, fraction=0.04,
                            aspect=25, format=axis_formatter(lang))
    cb.ax.tick_params(labelsize=8)
    label = text(value, lang) if value in ("imbalance_rate", "openings_rate", "departure_rate") else value
    cb.set_label(label.replace("(%", "(en %") if lang == "fr" else label, fontsize=8)
    ax.set_title(title)
    if created:
        source_note(fig, acc, lang, notes=estimate_notes(acc, lang, territories=grouped, end_year=end_year
                                                         if end_year is not None else int(acc.year.values[-1])))
    return ax


def small_multiples(data, chart="waterfall", territories=None, ncols: int = 4, lang: str | None = None,
                    panel_size=(3.2, 2.5), sharey: bool = False, one_ylabel: bool = False, **kwargs):
    """One panel per territory (default: all), drawn by ``chart``: ``"waterfall"``,
    ``"pyramid"``, ``"lines"`` (scenario lines), ``"ranked"`` or any function
    ``f(data, territory=..., lang=..., ax=..., **kwargs)``.  Returns the figure.

    The figure is titled with what the panels show (« Postes à pourvoir et déséquilibre potentiel par région,
    2019–2030 »: the panels' own title without the territory), each panel with its territory; one legend for
    all panels (the first panel's); the waterfalls' bar names slanted, on the bottom panels only.  Ranked bars
    name the métiers by their full labels: with the default ``panel_size`` their panels are 6.4 inches wide and
    as tall as their bars need.  Text is :data:`PANEL_TEXT` points (ticks) at least; the axes' label is written
    once a row, or (``one_ylabel``) once for the figure when every panel has the same; the source line grows
    with the figure's width beyond the 7 inches of the other charts (:func:`pmq.plots.style.bottom_note`), so
    that it reads as theirs once the figure is shown as wide.  A territory whose groups of métiers pmq split
    (Corse) is marked « * » and said in the source line."""
    lang = check_lang(lang)
    import matplotlib.pyplot as plt

    funcs = {"waterfall": charts.waterfall, "pyramid": charts.age_pyramid, "lines": charts.scenario_lines,
             "ranked": charts.ranked_bars}
    f = funcs.get(chart, chart) if isinstance(chart, str) else chart
    if not callable(f):
        raise ValueError(tr(f"unknown chart {chart!r}; use one of {', '.join(funcs)} or a function",
                            f"graphique inconnu {chart!r} ; utilisez l'un de {', '.join(funcs)} ou une fonction"))
    acc = accounts_of(data)
    codes = list(map(str, acc.territory.values)) if territories is None else list(territories)
    n = len(codes)
    nrows = int(np.ceil(n / ncols))
    if chart == "waterfall":
        kwargs.setdefault("values", False)
        kwargs.setdefault("compact", True)
    if chart == "ranked" and tuple(panel_size) == (3.2, 2.5):     # room for the full labels of the métiers
        panel_size = (6.4, 0.36 * int(kwargs.get("n", 15)) + 1.0)
    # slanted bar names under the bottom row, the title and the source line: room of their own, not the panels'
    extra = 1.2 if chart == "waterfall" and kwargs.get("compact") else 0.0
    with house_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows + extra),
                                 layout="constrained", sharey=sharey, squeeze=False)
    first_title, legend = "", None
    grouped = set(grouped_territories(acc)) & {str(c) for c in select(acc, territory=codes).territory.values}
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.set_visible(False)
            continue
        f(acc, territory=codes[k], lang=lang, ax=ax, **kwargs)
        first_title = first_title or ax.get_title(loc="left") or ax.get_title()
        with house_style():
            ax.set_title("", loc="center")
            mark = GROUPED_MARK if str(codes[k]) in grouped else ""
            ax.set_title(territory_name(acc, codes[k], lang) + mark, fontsize=PANEL_TEXT + 1.5, loc="left",
                         fontweight="bold")
            if ax.get_legend() is not None:
                if legend is None:
                    legend = ax.get_legend_handles_labels()
                ax.get_legend().remove()
            if chart == "waterfall" and k + ncols < n:      # the same bars below: their names once, at the bottom
                ax.tick_params(labelbottom=False)
            ax.tick_params(labelsize=PANEL_TEXT)
            ax.xaxis.label.set_fontsize(PANEL_TEXT + 0.5)
            ax.yaxis.label.set_fontsize(PANEL_TEXT + 0.5)
    shown = list(axes.flat)[:n]
    words = (text("thousands", lang), "millions")
    if sharey:          # the shared limits decide between thousands and millions (pmq.plots.style.persons_axis)
        for ax in shown:
            label = ax.get_ylabel()
            unit = next((w for w in words if label.endswith(f" ({w})")), None)
            if unit is not None:
                persons_axis(ax, "y", lang, label[: -len(unit) - 3])
    ylabels = {ax.get_ylabel() for ax in shown}
    if one_ylabel and len(ylabels) == 1 and "" not in ylabels:    # one label for the figure: every panel's
        for ax in shown:
            ax.set_ylabel("")
        with house_style():
            fig.supylabel(ylabels.pop(), fontsize=PANEL_TEXT + 1)
    for k, ax in enumerate(shown):      # one y label a row, unless a panel's unit differs from the first's
        if k % ncols and ax.get_ylabel() == shown[k - k % ncols].get_ylabel():
            ax.set_ylabel("")
    wide = max(1.0, fig.get_size_inches()[0] / 7.0)        # shown as wide as a 7-inch chart: its text reads as theirs
    with house_style():
        if legend is not None and legend[0]:
            fig.legend(*legend, loc="outside upper right", ncols=min(len(legend[0]), 3), fontsize=PANEL_TEXT)
        title = _panels_title(first_title, acc, lang)
        if title:       # on lines as wide as the figure (bold DejaVu Sans: about 0.65 em a character)
            size = min(11 * wide, 13)
            room = max(20, int(fig.get_size_inches()[0] * 72 / (size * 0.65)))
            fig.suptitle(wrap_labels([title], room)[0], x=0.01, ha="left", fontsize=size, fontweight="bold")
    last = kwargs.get("end_year")
    notes = estimate_notes(acc, lang, territories=sorted(grouped), totals=chart != "ranked" and
                           kwargs.get("metier") is None,
                           end_year=int(acc.year.values[-1]) if last is None else int(last))
    source_note(fig, acc if "scenario" in acc.dims else one_scenario(acc), lang, notes=notes,
                fontsize=min(7.0 * wide, 9.5))
    return fig


#: The size (points) of the ticks of :func:`small_multiples`' panels; their titles and labels are a little larger.
PANEL_TEXT = 8.0


def _panels_title(panel_title: str, acc: xr.Dataset, lang: str) -> str:
    """The title of small multiples from one panel's title « Bretagne — Aides à domicile\nPyramide des âges, 2019
    et 2030 »: « Aides à domicile — Pyramide des âges par région, 2019 et 2030 »."""
    head, _, subject = panel_title.partition("\n")
    if not subject:
        return ""
    level = map_level(acc)
    fr = lang == "fr"
    by = (LEVEL_CAPTIONS[level or "region"][0 if fr else 1] if level or is_builtin_france(acc) else
          "par territoire" if fr else "by territory")
    what, comma, when = subject.rpartition(", ")
    title = f"{what} {by}, {when}" if comma else f"{subject} {by}"
    return f"{head.split(' — ', 1)[1]} — {title}" if " — " in head else title


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
        raise ValueError(tr(f"unknown value {value!r}; use one of {', '.join(_RATES)}",
                            f"valeur inconnue {value!r} ; utilisez l'une de {', '.join(_RATES)}"))
    acc = one_scenario(accounts_of(data), scenario)
    num, den = _RATES[value]
    w = subset_sum(window(acc, start_year, end_year)[[num, den]], keep=("territory",))
    v = (w[num] / w[den].where(w[den] > 0)).to_series()
    v.index = v.index.astype(str)
    return v


#: A sequential colour scale is widened when its values' range is narrow: below this share of their mean absolute
#: value, or (percentages) below :data:`NARROW_POINTS` points; it then spans at least ± this share of that mean
#: and ± :data:`NARROW_POINTS` points around the values' middle (:func:`colour_limits`).
NARROW_SHARE = 0.2
#: Percentage points: a narrower range of percentages is widened (:data:`NARROW_SHARE`).
NARROW_POINTS = 1.0


def colour_limits(values, percent: bool = True, diverging: bool | None = None,
                  min_span: float | None = None) -> tuple[float, float, bool, bool]:
    """``(vmin, vmax, diverging, widened)``: the colour scale of a map of ``values`` (already × 100 for
    percentages).  ``diverging`` (default: values of both signs): symmetric around 0, at least ``min_span`` wide.
    Otherwise from the least to the largest value, at least ``min_span`` wide (default: 1 point for percentages)
    — but when the range is narrow for the values' level (less than :data:`NARROW_SHARE` of their mean absolute
    value, or less than :data:`NARROW_POINTS` points of percentages) the scale is ``widened`` to at least
    ± :data:`NARROW_SHARE` of that mean and ± :data:`NARROW_POINTS` points around their middle (never crossing 0
    when they do not), so that near-identical values — an estimated split's 7,6 to 8,4 % — keep close colours
    instead of spanning the whole colour map."""
    v = np.asarray(pd.Series(values, dtype=float).dropna(), dtype=float)
    v = v[np.isfinite(v)]
    span = (1.0 if percent else 0.0) if min_span is None else float(min_span)
    if diverging is None:
        diverging = bool(v.size) and v.min() < 0 < v.max()
    if diverging:
        lim = max(float(np.abs(v).max()) if v.size else 1.0, span / 2, 1e-12)
        return -lim, lim, True, False
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    level = float(np.abs(v).mean()) if v.size else 0.0
    narrow = v.size > 0 and ((hi - lo) < NARROW_SHARE * level or (percent and hi - lo < NARROW_POINTS))
    if not narrow and hi - lo >= span:
        return lo, hi, False, False
    mid, half = (lo + hi) / 2, max(hi - lo, span, 1e-12) / 2
    if narrow:
        half = max(half, NARROW_SHARE * level, NARROW_POINTS if percent else 0.0)
        if lo >= 0 > mid - half:           # positive values: the scale starts at 0, not below
            return 0.0, 2 * half, False, True
        if hi <= 0 < mid + half:
            return -2 * half, 0.0, False, True
    return mid - half, mid + half, False, bool(narrow)


def _rings(geom):
    if geom["type"] == "Polygon":
        return [geom["coordinates"]]
    if geom["type"] == "MultiPolygon":
        return geom["coordinates"]
    raise ValueError(tr(f"unsupported geometry {geom['type']}", f"géométrie non prise en charge {geom['type']}"))


@styled
def region_map(values, label: str | None = None, percent: bool = True, diverging: bool | None = None,
               annotate: bool = True, highlight=None, lang: str | None = None, ax=None):
    """Choropleth of one value per region (a Series or a DataArray indexed by INSEE region
    code).  ``percent`` shows shares as %; ``diverging`` (default: values of both signs)
    centres the colour scale on 0.  ``highlight`` outlines one region code."""
    return _region_map(values, label, percent, diverging, annotate, highlight, lang, ax)


@styled
def _region_map(values, label=None, percent=True, diverging=None, annotate=True, highlight=None, lang=None, ax=None,
                source: str | None = None, marked=()):
    """:func:`region_map`, with the data's ``source`` line before the base map's attribution; the values of the
    ``marked`` codes are written with :data:`pmq.plots.style.GROUPED_MARK` (the source line says why)."""
    lang = check_lang(lang)
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon

    s = values.to_series() if isinstance(values, xr.DataArray) else pd.Series(values)
    s.index = s.index.astype(str)
    geo = region_geometry()
    known = {f["properties"]["code"] for f in geo["features"]}
    unknown = sorted(set(s.index) - known)
    if unknown:
        raise InputError(tr("region_map draws the 13 regions of metropolitan France; unknown codes",
                            "region_map dessine les 13 régions de France métropolitaine ; codes inconnus"),
                         column="territory", rows=unknown)
    v = s.astype(float) * (100 if percent else 1)
    import matplotlib as mpl
    vmin, vmax, diverging, _ = colour_limits(v, percent, diverging, min_span=0.0)
    norm = mpl.colors.Normalize(vmin, vmax)
    cmap = mpl.colormaps[DIVERGING_CMAP if diverging else SEQUENTIAL_CMAP]
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
                mark = GROUPED_MARK if code in set(map(str, marked)) else ""
                ax.text(cx, cy, format_number(v[code], 1, lang) + mark, ha="center", va="center", fontsize=7.5,
                        color="black", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7))
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=ax, shrink=0.7, pad=0.01, format=axis_formatter(lang))
    if label:
        cb.set_label(label, fontsize=8)
        ax.set_title(label)
    if created:
        bottom_note(fig, f"{source} {MAP_ATTRIBUTION[lang]}" if source else MAP_ATTRIBUTION[lang])
    return ax


def imbalance_map(data, value: str = "imbalance_rate", start_year=None, end_year=None, scenario=None,
                  highlight=None, lang: str | None = None, ax=None):
    """:func:`region_map` of a rate per region over a window (default: potential imbalance as
    % of initial employment), the source of the data and the base map's attribution at the bottom.  Accounts
    split by département or zone d'emploi get :func:`imbalance_territory_map` instead (the région of
    ``highlight``, which is outlined)."""
    lang = check_lang(lang)
    acc = one_scenario(accounts_of(data), scenario)
    if map_level(acc):          # départements or zones d'emploi: the map of the focus territory's région
        return imbalance_territory_map(acc, value, start_year, end_year, territory=highlight, lang=lang, ax=ax)
    v = region_values(acc, value, start_year, end_year)
    period = period_label(acc, start_year, end_year)
    label = (text(value, lang) if value in ("imbalance_rate", "openings_rate", "departure_rate") else value)
    grouped = grouped_territories(acc)          # Corse: « * », its split of published groups said
    notes = estimate_notes(acc, lang, territories=grouped, totals=True,
                           end_year=int(acc.year.values[-1]) if end_year is None else int(end_year))
    return _region_map(v, label=f"{label}, {period}", highlight=highlight, lang=lang, ax=ax,
                       source=source_text(acc, lang, notes=notes), marked=grouped)




__all__ += ["imbalance_map", "MAP_ATTRIBUTION", "TERRITORY_MAP_ATTRIBUTION", "GEOMETRY_FILES"]


# ---------------------------------------------------------------- maps below the région (issue 18)
#: The shipped light geometry of each level (``data/geo/SOURCE.md``); metropolitan France only.
GEOMETRY_FILES = {"region": "regions_2016.geojson", "departement": "departements.geojson",
                  "zone_emploi": "zones_emploi.geojson"}
#: Attribution of the département and zone d'emploi outlines (Licence Ouverte 2.0 asks for source and date).
TERRITORY_MAP_ATTRIBUTION = {
    "fr": {"departement": "Fond de carte : IGN – ADMIN EXPRESS COG (édition 2023) ; INSEE – COG. Licence Ouverte "
                          "Etalab 2.0. Contours dissous par département et simplifiés par pmq.",
           "zone_emploi": "Fond de carte : IGN – ADMIN EXPRESS COG (édition 2023) ; INSEE – COG, zones d'emploi 2020. "
                          "Licence Ouverte Etalab 2.0. Contours dissous par zone d'emploi et département et simplifiés "
                          "par pmq."},
    "en": {"departement": "Base map: IGN – ADMIN EXPRESS COG (2023 edition); INSEE – COG. Licence Ouverte / Open "
                          "Licence 2.0 (Etalab). Dissolved to départements and simplified by pmq.",
           "zone_emploi": "Base map: IGN – ADMIN EXPRESS COG (2023 edition); INSEE – COG, zones d'emploi 2020. Licence "
                          "Ouverte / Open Licence 2.0 (Etalab). Dissolved to employment zone × département and "
                          "simplified by pmq."},
}
_HATCH = "/////"
_CONTEXT_GREY = "#ECECEC"
_NO_DATA = (0.86, 0.86, 0.86, 1.0)


@lru_cache(maxsize=3)
def _geometry(level: str) -> dict:
    with open(_data.data_path("geo", GEOMETRY_FILES[level]), encoding="utf-8") as f:
        return json.load(f)


def territory_geometry(level: str = "departement") -> dict:
    """The shipped light geometry of ``level`` (``"region"``, ``"departement"``: 96 metropolitan
    départements, ``"zone_emploi"``: 508 metropolitan zone d'emploi ∩ département parts), a GeoJSON dict
    whose features carry ``code``, ``name``, ``region`` (and ``departement`` for zones) and a label point
    ``label_lon``/``label_lat``; see ``data/geo/SOURCE.md``.  The DOM have no outline."""
    if level not in GEOMETRY_FILES:
        raise ArgumentError(tr(f"no geometry for this level; expected one of {', '.join(GEOMETRY_FILES)}",
                               f"aucune géométrie pour ce niveau ; attendu l'un de {', '.join(GEOMETRY_FILES)}"),
                            name="level", value=level)
    return _geometry(level)


def territory_values(data, value: str = "imbalance_rate", start_year=None, end_year=None, scenario=None,
                     metier=None) -> pd.DataFrame:
    """One row per territory, for :func:`territory_map`: ``value`` (a rate of :data:`_RATES` over a window, all
    métiers or those of ``metier``), ``reliability`` (class of :data:`pmq.inputs.downscale.RELIABILITY` of the
    territory's sum of cells, 0 for accounts without the labels) and ``estimated`` (the figure rests on an
    estimated split or territory)."""
    if value not in _RATES:
        raise ValueError(tr(f"unknown value {value!r}; use one of {', '.join(_RATES)}",
                            f"valeur inconnue {value!r} ; utilisez l'une de {', '.join(_RATES)}"))
    acc = one_scenario(accounts_of(data), scenario)
    num, den = _RATES[value]
    w = subset_sum(window(acc, start_year, end_year)[[num, den]], metier=metier, keep=("territory",))
    v = (w[num] / w[den].where(w[den] > 0)).to_series()
    out = pd.DataFrame({"value": v.values}, index=pd.Index(v.index.astype(str), name="territory"))
    cells = cell_flags(acc)
    if cells is None:
        out["reliability"], out["estimated"] = np.int8(0), False
        return out
    if metier is not None:
        cells = cells[cells["metier"].isin(set(map(str, select(acc, metier=metier).metier.values)))]
    flags = aggregate_flags(cells, ["territory"]).set_index("territory")
    out["reliability"] = flags["reliability"].reindex(out.index).astype(np.int8)
    out["estimated"] = flags["estimated"].reindex(out.index).astype(bool)
    return out


def _feature_path(geom, k: float):
    """One compound matplotlib Path of every ring of a (Multi)Polygon, x = lon × k (holes stay holes)."""
    from matplotlib.path import Path
    verts, codes = [], []
    for poly in _rings(geom):
        for ring in poly:
            r = np.asarray(ring, dtype=float)
            verts.append(np.column_stack([r[:, 0] * k, r[:, 1]]))
            codes.append(np.r_[Path.MOVETO, np.full(len(r) - 2, Path.LINETO), Path.CLOSEPOLY])
    return Path(np.concatenate(verts), np.concatenate(codes).astype(Path.code_type))


def _boundary_segments(features, group, k: float) -> tuple[list, list]:
    """Segments of the shown territories' rings: (outline: on one territory only — the coast and the border
    with what is not shown; inner: between territories of different ``group``, e.g. départements in a zone
    map).  The shipped coverage shares its borders vertex for vertex, so shared segments match exactly."""
    seen: dict[tuple, set] = {}
    for f in features:
        for poly in _rings(f["geometry"]):
            for ring in poly:
                for a, b in zip(ring[:-1], ring[1:]):
                    key = (tuple(a), tuple(b)) if tuple(a) <= tuple(b) else (tuple(b), tuple(a))
                    seen.setdefault(key, set()).add((f["properties"]["code"], group(f)))
    outline, inner = [], []
    for (a, b), owners in seen.items():
        seg = [(a[0] * k, a[1]), (b[0] * k, b[1])]
        if len(owners) == 1:
            outline.append(seg)
        elif len({g for _, g in owners}) > 1:
            inner.append(seg)
    return outline, inner


@styled
def territory_map(values, level: str = "departement", region=None, highlight=None, reliability=None,
                  label: str | None = None, title: str | None = None, percent: bool = True,
                  diverging: bool | None = None, annotate: bool | None = None, unreliable_from: int = 2,
                  min_span: float | None = None, note: str | None = None, lang: str | None = None, ax=None):
    """Choropleth of one value per département or zone d'emploi part (a Series or DataArray indexed by code),
    drawn for the territories of ``region`` (an INSEE région code; default: those with a value), the
    neighbouring ones in light grey for context.

    ``highlight`` outlines one territory (black, in the legend); ``reliability`` (a Series of classes by code,
    :data:`pmq.inputs.downscale.RELIABILITY`) hatches the territories whose class is ``unreliable_from`` or
    more, with a legend entry saying so.  ``annotate`` writes each name and value (default: up to 15
    territories; else only the highlighted one).  The colour scale spans at least ``min_span`` (default: 1
    percentage point for ``percent``), and is widened around values close for their level
    (:func:`colour_limits`), so that small differences keep close colours.
    ``note`` replaces the bottom line (default: the base map's attribution).  The artists carry what they draw
    for callers and tests: the colour collection (gid ``territories``) has ``codes``, ``values`` and
    ``reliability``; the hatched overlay (gid ``unreliable``) ``codes``; the outline (gid ``focus``) ``code``."""
    lang = check_lang(lang)
    import matplotlib as mpl
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, PathPatch

    if level not in ("departement", "zone_emploi"):
        raise ArgumentError(tr("territory_map draws départements or zones d'emploi (region_map draws the régions)",
                               "territory_map dessine des départements ou des zones d'emploi (region_map dessine les "
                               "régions)"),
                            name="level", value=level)
    fr = lang == "fr"
    s = values.to_series() if isinstance(values, xr.DataArray) else pd.Series(values)
    s.index = s.index.astype(str)
    geo = territory_geometry(level)
    feats = geo["features"]
    by_code = {f["properties"]["code"]: f for f in feats}
    unknown = sorted(set(s.index) - set(by_code))
    if unknown:
        raise InputError(tr(f"territory_map draws the metropolitan {'départements' if level == 'departement' else 'zones d’emploi'}"
                            "; no outline for codes",
                            f"territory_map dessine les {'départements' if level == 'departement' else 'zones d’emploi'}"
                            " de métropole ; aucun contour pour les codes"), column="territory", rows=unknown)
    if region is not None:
        region = str(region)
        shown = [f for f in feats if f["properties"]["region"] == region]
        if not shown:
            raise ArgumentError(tr("no metropolitan région with this code", "aucune région métropolitaine avec ce code"),
                                name="region", value=region)
    else:
        shown = [f for f in feats if f["properties"]["code"] in s.index] or list(feats)
    codes = [f["properties"]["code"] for f in shown]
    if highlight is not None and str(highlight) not in by_code:
        raise InputError(tr("no outline for the territory to highlight", "aucun contour pour le territoire à mettre en évidence"),
                         column="territory", rows=[str(highlight)])
    rel = (pd.Series(reliability).rename(index=str) if reliability is not None else pd.Series(dtype=float))
    v = s.astype(float) * (100 if percent else 1)
    # a scale at least ``min_span`` wide, widened around values close for their level (colour_limits), so that
    # differences of a few tenths are not dark against light
    vmin, vmax, diverging, _ = colour_limits(v.reindex(codes), percent, diverging, min_span)
    norm = mpl.colors.Normalize(vmin, vmax)
    cmap = mpl.colormaps[DIVERGING_CMAP if diverging else SEQUENTIAL_CMAP]

    # view: the shown territories' box, x = lon × cos(mid latitude)
    pts = np.concatenate([np.asarray(p[0], float) for f in shown for p in _rings(f["geometry"])])
    (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    k = float(np.cos(np.radians((y0 + y1) / 2)))
    wx, wy = (x1 - x0) * k, y1 - y0
    pad = 0.06 * max(wx, wy)
    fig, ax, created = new_axes(ax, (6.6, float(np.clip(6.6 * wy / max(wx, 1e-9) * 0.8 + 1.4, 4.2, 7.4))))
    if created:
        fig.set_layout_engine("compressed")     # constrained layout made for fixed-aspect axes

    # context: the other territories of the view, light grey
    view = (x0 * k - pad, x1 * k + pad, y0 - pad, y1 + pad)
    context = []
    for f in feats:
        if f["properties"]["code"] in codes:
            continue
        r = np.concatenate([np.asarray(p[0], float) for p in _rings(f["geometry"])])
        if r[:, 0].max() * k >= view[0] and r[:, 0].min() * k <= view[1] and r[:, 1].max() >= view[2] \
                and r[:, 1].min() <= view[3]:
            context.append(PathPatch(_feature_path(f["geometry"], k)))
    if context:
        cc = PatchCollection(context, facecolors=_CONTEXT_GREY, edgecolors="white", linewidths=0.6, zorder=1)
        cc.set_gid("context")
        ax.add_collection(cc)

    patches = [PathPatch(_feature_path(f["geometry"], k)) for f in shown]
    colors = [cmap(norm(v[c])) if c in v.index and np.isfinite(v[c]) else _NO_DATA for c in codes]
    pc = PatchCollection(patches, facecolors=colors, edgecolors="white", linewidths=0.6 if len(codes) <= 150 else 0.25,
                         zorder=2)
    pc.set_gid("territories")
    ax.add_collection(pc)
    pc.codes = codes  # type: ignore[attr-defined]
    pc.values = [float(v.get(c, np.nan)) for c in codes]  # type: ignore[attr-defined]
    pc.reliability = [int(rel[c]) if c in rel.index and pd.notna(rel[c]) else None  # type: ignore[attr-defined]
                      for c in codes]

    # borders: the région's outline; the départements of a zone map, the régions of a map of France
    # all of France: the régions' borders; one région's zones: the départements' borders
    prop = "region" if region is None else "departement" if level == "zone_emploi" else None
    outline, inner = _boundary_segments(shown, lambda f: f["properties"][prop] if prop else None, k)
    if inner:
        ax.add_collection(LineCollection(inner, colors="#2A2A2A", linewidths=1.0 if region else 0.8, zorder=3,
                                         gid="departements" if region else "regions"))
    ax.add_collection(LineCollection(outline, colors="#444444", linewidths=0.8, zorder=3, gid="outline"))

    handles: list = []                  # legend entries: patches and the focus outline's line
    weak = [c for c in codes if c in rel.index and pd.notna(rel[c]) and int(rel[c]) >= unreliable_from]
    if weak:
        hp = PatchCollection([PathPatch(patches[codes.index(c)].get_path()) for c in weak], facecolors="none",
                             edgecolors="white", linewidths=0.6, hatch=_HATCH, zorder=2.5)
        if hasattr(hp, "set_hatchcolor"):     # matplotlib >= 3.10: grey hatch, the borders stay white
            hp.set_hatchcolor("#555555")
        else:                                 # older: the hatch takes the edge colour
            hp.set_edgecolor("#555555")
            hp.set_linewidth(0)
        hp.set_gid("unreliable")
        hp.codes = weak  # type: ignore[attr-defined]
        ax.add_collection(hp)
        lab = RELIABILITY[min(unreliable_from, max(RELIABILITY))][0 if fr else 1]
        handles.append(Patch(facecolor="white", edgecolor="#555555", hatch=_HATCH, linewidth=0.5,
                             label=(f"Hachuré : {lab} (fiabilité ≥ {unreliable_from})" if fr else
                                    f"Hatched: {lab} (reliability ≥ {unreliable_from})")))
    if highlight is not None:
        f = by_code[str(highlight)]
        focus = PathPatch(_feature_path(f["geometry"], k), fill=False, edgecolor="black", linewidth=1.8, zorder=5)
        focus.set_gid("focus")
        focus.code = str(highlight)  # type: ignore[attr-defined]
        ax.add_patch(focus)
        handles.insert(0, Line2D([], [], color="black", linewidth=1.8, label=f["properties"]["name"]))
    if any(c not in v.index or not np.isfinite(v[c]) for c in codes):
        handles.append(Patch(facecolor=_NO_DATA, edgecolor="white", label="pas de valeur" if fr else "no value"))

    if annotate is None:
        annotate = len(codes) <= 15
    labelled = [c for c in codes if annotate or c == str(highlight)]
    _annotate(ax, fig, [by_code[c] for c in labelled], v, k, view, highlight, lang)
    ax.set_xlim(view[0], view[1])
    ax.set_ylim(view[2], view[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=ax, shrink=0.7, pad=0.01, format=axis_formatter(lang))
    if label:
        cb.set_label(label, fontsize=8)
    if title or label:
        ax.set_title(title or label)
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.0), ncol=min(len(handles), 2),
                  fontsize=7.5, handlelength=1.8, borderaxespad=0.2)
    if created:
        bottom_note(fig, note if note is not None else TERRITORY_MAP_ATTRIBUTION[lang][level])
    return ax


def _annotate(ax, fig, features, v: pd.Series, k: float, view, highlight, lang: str) -> None:
    """Name (or code, when the name is wider than the territory) and value at each territory's label point;
    the focus first, then the largest territories; a label that would overlap one already placed is moved
    just above or below, else left out (the colour still says it)."""
    w_in, h_in = fig.get_size_inches()
    per_pt = max((view[1] - view[0]) / (w_in - 1.4), (view[3] - view[2]) / (h_in - 1.6)) / 72  # data units per pt

    def extent(f):
        p = np.concatenate([np.asarray(q[0], float) for q in _rings(f["geometry"])])
        return (p[:, 0].max() - p[:, 0].min()) * k, p[:, 1].max() - p[:, 1].min()
    order = sorted(features, key=lambda f: (f["properties"]["code"] != str(highlight), -np.prod(extent(f))))
    placed: list[tuple[float, float, float, float]] = []
    for f in order:
        c = f["properties"]["code"]
        if c not in v.index or not np.isfinite(v[c]):
            continue
        full = f["properties"]["name"]
        fw, _ = extent(f)
        for name in (full, full.split(" (")[0], c):    # « Marseille (Bouches-du-Rhône) », « Marseille », the code
            if len(name) * 6.5 * 0.58 * per_pt <= 0.95 * fw:
                break
        value = format_number(v[c], 1, lang)
        w = max(len(name) * 6.5 * 0.58, len(value) * 7.5 * 0.62) * per_pt + 4 * per_pt
        h = (6.5 + 7.5) * 1.25 * per_pt + 3 * per_pt
        x, y = f["properties"]["label_lon"] * k, f["properties"]["label_lat"]
        for dy in (0.0, 1.05 * h, -1.05 * h):
            box = (x - w / 2, y + dy - h / 2, x + w / 2, y + dy + h / 2)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                break
        else:
            continue
        placed.append(box)
        ax.text(x, y + dy, f"{name}\n{value}", ha="center", va="center", fontsize=6.5, zorder=6, color="black",
                linespacing=1.15, gid=f"label-{c}",
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.78))


def _region_code(region) -> str:
    """An INSEE région code from a code or a name (« PACA », « Provence-Alpes-Côte d'Azur »)."""
    return resolve_many([str(region)], region_aliases(), kind="région")[0]


def imbalance_territory_map(data, value: str = "imbalance_rate", start_year=None, end_year=None, scenario=None,
                            territory=None, region=None, metier=None, lang: str | None = None, ax=None):
    """:func:`territory_map` of a rate (default: potential imbalance as % of initial employment) over a window,
    for accounts split by département or zone d'emploi (``load_baseline(level=...)``): the territories of the
    région of ``territory`` (a code or name, outlined) or of ``region``, all métiers or those of ``metier``;
    territories whose figure is only an order of magnitude (reliability class 2) are hatched.  The bottom line
    says that the split below the région is estimated and gives the base map's attribution."""
    lang = check_lang(lang)
    fr = lang == "fr"
    acc = one_scenario(accounts_of(data), scenario)
    level = map_level(acc)
    if level is None:
        raise ArgumentError(tr("the accounts are not split by département or zone d'emploi: use imbalance_map",
                               "les comptes ne sont pas ventilés par département ou zone d'emploi : utilisez "
                               "imbalance_map"),
                            name="level", value=str(acc.attrs.get("level", "region")))
    code = None if territory is None else str(select(acc, territory=territory).territory.values[0])
    if region is None and code is not None:
        region = str(acc["region"].sel(territory=code).values) if "region" in acc.coords else None
    elif region is not None:
        region = _region_code(region)
    df = territory_values(acc, value, start_year, end_year, metier=metier)
    known = {f["properties"]["code"] for f in territory_geometry(level)["features"]}
    if code is not None and code not in known:
        raise InputError(tr("no map outline for this territory (the overseas DOM and a user's own territories have "
                            "none)",
                            "aucun contour de carte pour ce territoire (les DOM et les territoires propres à "
                            "l'utilisateur n'en ont pas)"), column="territory", rows=[code])
    df = df[df.index.isin(known)]                        # the estimated DOM have no outline
    if region is not None:
        df = df[df.index.isin(acc.territory.values[acc["region"].values == region])]
    period = period_label(acc, start_year, end_year)
    what = text(value, lang) if value in ("imbalance_rate", "openings_rate", "departure_rate") else value
    head = what.split(" (")[0]
    cap = LEVEL_CAPTIONS[level][0 if fr else 1]
    where = ""
    if region is not None:
        where = str(dict(zip(_data.regions()["code"], _data.regions()["name"])).get(region, region))
    if metier is not None:      # the métiers' full labels (the first three), the line wrapped
        codes = list(map(str, select(acc, metier=metier).metier.values))
        named = ", ".join(metier_label(codes[:3], lang)) + (" …" if len(codes) > 3 else "")
        where = f"{where} — {named}" if where else named
    title = f"{head} {cap}, {period}" + ("\n" + wrap_labels([where], 75)[0] if where else "")
    split = LEVEL_CAPTIONS[level][0 if fr else 1]
    shipped = "pmq shipped key" in str(acc.attrs.get("key_source", ""))
    dares = str(acc.attrs.get("baseline_title", "")).startswith("Les métiers en 2030")
    by = "par pmq " if shipped else ""
    if fr:
        split_note = (f"Valeurs estimées : « Les métiers en 2030 » réparti {split} {by}selon une clé de répartition."
                      if dares else f"Valeurs estimées : données réparties {split} {by}selon une clé de répartition.")
    else:
        split_note = (f"Estimated values: « Les métiers en 2030 » split {split} {'by pmq ' if shipped else ''}with a "
                      "share key." if dares else f"Estimated values: data split {split} {'by pmq ' if shipped else ''}"
                      "with a share key.")
    scen = acc.attrs.get("scenario_title_fr" if fr else "scenario_title_en", acc.attrs.get("scenario", ""))
    data_words = (("DARES – France Stratégie, « Les métiers en 2030 »" if dares else "données de l'utilisateur")
                  if fr else ("DARES – France Stratégie, « Les métiers en 2030 »" if dares else "the user's data"))
    more = estimate_notes(acc, lang, territories=list(df.index), mark=False, totals=metier is None,
                          end_year=int(acc.year.values[-1]) if end_year is None else int(end_year))
    source = (f"Source : {data_words} ; projection pmq" if fr else f"Source: {data_words}; pmq projection") + \
        (f" ({scen})" if scen else "") + "".join((" ; " if fr else "; ") + n for n in more) + "."
    note = f"{source} {split_note} {TERRITORY_MAP_ATTRIBUTION[lang][level]}"
    # below the région every value is estimated (a split by a key): the colour bar says it too
    label = f"{what}\n" + ("valeurs estimées (clé de répartition)" if fr else "estimated values (share key)")
    return territory_map(df["value"], level, region=region, highlight=code, reliability=df["reliability"],
                         label=label, title=title, note=note, lang=lang, ax=ax)
