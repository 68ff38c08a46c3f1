"""House style of every chart: palette, colour maps, figure layout, source lines."""
from __future__ import annotations

import contextlib
import functools
import json
from typing import Any, cast

import numpy as np
import xarray as xr

from pmq.projection.indicators import is_builtin_france
from pmq.formatting import check_lang, tick_formatter
from pmq.labels import text

__all__ = ["PALETTE", "COLORS", "DIVERGING_CMAP", "SEQUENTIAL_CMAP", "house_style", "new_axes", "styled",
           "source_note", "source_text", "bottom_note", "as_float", "axis_formatter", "persons_axis", "MILLIONS_FROM",
           "wrap_labels", "estimated_inputs", "age_estimated", "AGE_ESTIMATED", "grouped_territories", "GROUPED_MARK",
           "grouped_note", "departures_note", "estimate_notes"]

#: Okabe & Ito (2008) palette: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
COLORS = {"up": "#0072B2", "down": "#D55E00", "total": "#3C3C3C", "base": "#56B4E9", "horizon": "#000000",
          "highlight": "#E69F00", "muted": "#BBBBBB"}
#: Diverging and sequential colour maps safe for colour-vision deficiencies (ColorBrewer PuOr, cividis).
DIVERGING_CMAP = "PuOr_r"
SEQUENTIAL_CMAP = "cividis"

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    # titles at the top of their axes (+ axes.titlepad): pmq's charts put no tick labels, axis label or offset text
    # above an axes, so matplotlib's search for what a title must clear — every tick label of the y axis measured
    # for every title at every draw and layout: a fifth of a report's figures' time — would leave them there
    "axes.titley": 1.0,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.prop_cycle": __import__("cycler").cycler(color=PALETTE),
    "axes.grid": False,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "axes.unicode_minus": True,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",
}


@contextlib.contextmanager
def house_style():
    """Context manager applying pmq's house style to the figures created inside it."""
    import matplotlib as mpl
    with mpl.rc_context(cast(Any, _RC)):     # matplotlib types its keys as a Literal of every rc name
        yield


def new_axes(ax=None, figsize=(7.0, 4.2)):
    """``(figure, axes, created)``: the given axes, or a new figure in house style."""
    import matplotlib.pyplot as plt
    if ax is not None:
        return ax.figure, ax, False
    with house_style():
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax, True


def styled(func):
    """Run a chart function under the house style (so fonts and spines apply to its artists)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        check_lang(kwargs.get("lang"))
        with house_style():
            return func(*args, **kwargs)
    return wrapper


#: How a downscaled baseline's split is named in source lines: level → (French, English)
SPLIT_WORDS = {"departement": ("par département", "by département"),
               "zone_emploi": ("par zone d'emploi", "by zone d'emploi")}


#: What the source line of a figure drawn from the estimated age structure adds (French, English).
AGE_ESTIMATED = {"fr": "structure par âge estimée par pmq (formes nationales DARES, portraits statistiques)",
                 "en": "age structure estimated by pmq (DARES national shapes, « Portraits statistiques »)"}
#: The mark of a territory whose published groups of métiers pmq split into FAP families (Corse), after its name.
GROUPED_MARK = "*"


def estimated_inputs(acc) -> list[str]:
    """The inputs of the accounts pmq estimated (``attrs["estimated_inputs"]``, a JSON list, or a baseline's
    ``attrs["estimated"]``), as texts; [] when none is said."""
    attrs = getattr(acc, "attrs", {}) or {}
    raw = attrs.get("estimated_inputs", attrs.get("estimated"))
    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return [raw]
    return [str(x) for x in (raw if isinstance(raw, (list, tuple)) else [raw])]


def age_estimated(acc) -> bool:
    """True when the accounts' employment by age is pmq's estimate (the built-in baseline: pyramids by métier ×
    région, DARES national shapes tilted per cell), as their ``estimated_inputs`` say."""
    return any(s.startswith("employment by age") for s in estimated_inputs(acc))


def grouped_territories(acc) -> list[str]:
    """The territories whose figures by métier rest on pmq's split of published groups of métiers into FAP
    families (Corse publishes some métiers only as groups: its ``published_code`` is a group for them; split
    below the régions, its départements 2A and 2B). A group's total is published; how it divides between
    families, hence between domains, is estimated."""
    coords = getattr(acc, "coords", {})
    if "published_code" not in coords or "metier" not in coords or "territory" not in acc["published_code"].dims:
        return []
    pc = acc["published_code"]
    grouped = (pc != acc["metier"]).any([d for d in pc.dims if d != "territory"])
    return [str(t) for t, g in zip(grouped.territory.values, np.atleast_1d(grouped.values)) if bool(g)]


def grouped_note(names, lang: str | None = None, mark: bool = True, totals: bool = False) -> str:
    """The note of a figure showing a territory of :func:`grouped_territories` (« Corse »): occupations published
    in groups, split into FAP families by pmq — values by métier and by domain estimated (``totals``: a figure of
    all métiers, whose published totals the split keeps); ``mark``: the figure marks the name with
    :data:`GROUPED_MARK`."""
    lang = check_lang(lang)
    names = list(dict.fromkeys(map(str, names)))
    who = " et ".join(names) if lang == "fr" else " and ".join(names)
    star = GROUPED_MARK + " " if mark else ""
    if lang == "fr":
        what = ("les totaux publiés sont conservés" if totals else "valeurs par métier et par domaine en partie "
                "estimées")
        return f"{star}{who} : métiers publiés par groupes, répartis entre familles professionnelles par pmq ({what})"
    what = "the published totals are kept" if totals else "values by occupation and by domain partly estimated"
    return f"{star}{who}: occupations published in groups, split into FAP families by pmq ({what})"


def departures_note(acc, end_year, lang: str | None = None) -> str | None:
    """The note of a figure whose window ends after the published period (``attrs["period_end"]``) of accounts
    whose exit hazards pmq estimated: the departures after it come from pmq's pyramids and hazards (within it
    they match the published departures); None otherwise."""
    lang = check_lang(lang)
    last = acc.attrs.get("period_end") if hasattr(acc, "attrs") else None
    if end_year is None or last is None or int(end_year) <= int(last) or not any(
            s.startswith("hazard") for s in estimated_inputs(acc)):
        return None
    return (f"départs en fin de carrière après {int(last)} estimés par pmq (pyramides des âges et probabilités de "
            "départ)" if lang == "fr" else
            f"end-of-career departures after {int(last)} estimated by pmq (age pyramids and exit hazards)")


def estimate_notes(acc, lang: str | None = None, age: bool = False, territories=None, mark: bool = True,
                   totals: bool = False, end_year=None) -> list[str]:
    """What the source line of a figure of ``acc`` drawn from estimated inputs adds: the estimated age structure
    (``age``: the figure shows employment by age, :data:`AGE_ESTIMATED`), the territories among ``territories``
    (a code or codes; None: every territory of ``acc``) whose groups of métiers pmq split (:func:`grouped_note`,
    ``mark`` and ``totals``), the departures after the published period (a window ending at ``end_year``,
    :func:`departures_note`)."""
    lang = check_lang(lang)
    notes = [AGE_ESTIMATED[lang]] if age and age_estimated(acc) else []
    grouped = grouped_territories(acc)
    if territories is not None:
        shown = {str(t) for t in (territories if isinstance(territories, (list, tuple, set)) else [territories])}
        grouped = [t for t in grouped if t in shown]
    if grouped:
        names = (dict(zip(map(str, acc.territory.values), map(str, acc["territory_name"].values)))
                 if "territory_name" in acc.coords else {})
        notes.append(grouped_note([names.get(t, t) for t in grouped], lang, mark, totals))
    dep = departures_note(acc, end_year, lang)
    return notes + ([dep] if dep else [])


def _scenario_titles(acc: xr.Dataset, lang: str) -> list[str]:
    """The titles of the scenarios of a comparison's accounts (their ``scenario`` dimension)."""
    coord = "scenario_title_fr" if lang == "fr" else "scenario_title_en"
    if coord in acc.coords:
        return [str(t) for t in np.atleast_1d(acc[coord].values)]
    return [str(s) for s in np.atleast_1d(acc.scenario.values)]


def source_text(acc: xr.Dataset, lang: str | None = None, detail: str | None = None, notes=()) -> str:
    """The source line of a chart of ``acc``: the data (DARES – France Stratégie for the built-in baseline, the
    split said when pmq split it below the régions) and the projection, with the scenario's title (several
    scenarios: « scénarios : A ; B »; or ``detail``) in brackets, then each of ``notes`` (what is estimated:
    :func:`estimate_notes`) after « ; »."""
    lang = check_lang(lang)
    scen = acc.attrs.get("scenario_title_fr" if lang == "fr" else "scenario_title_en", acc.attrs.get("scenario", ""))
    if "scenario" in acc.dims:
        titles = _scenario_titles(acc, lang)
        scen = (titles[0] if len(titles) == 1 else
                ("scénarios : " + " ; ".join(titles)) if lang == "fr" else ("scenarios: " + "; ".join(titles)))
    if detail is not None:
        scen = detail
    base = ("Source : DARES – France Stratégie, « Les métiers en 2030 » ; projection pmq"
            if lang == "fr" else "Source: DARES – France Stratégie, « Les métiers en 2030 »; pmq projection")
    level = acc.attrs.get("level", "region")
    if (level in SPLIT_WORDS and "pmq shipped key" in str(acc.attrs.get("key_source", ""))
            and str(acc.attrs.get("baseline_title", "")).startswith("Les métiers en 2030")):
        base = (f"Source : DARES – France Stratégie, « Les métiers en 2030 », réparti {SPLIT_WORDS[level][0]} par "
                f"pmq (valeurs estimées) ; projection pmq" if lang == "fr" else
                f"Source: DARES – France Stratégie, « Les métiers en 2030 », split {SPLIT_WORDS[level][1]} by pmq "
                f"(estimated values); pmq projection")
    elif not is_builtin_france(acc):
        base = "Source : projection pmq" if lang == "fr" else "Source: pmq projection"
    sep = " ; " if lang == "fr" else "; "
    return base + (f" ({scen})" if scen else "") + "".join(sep + n for n in notes if n) + "."


def source_note(fig, acc: xr.Dataset, lang: str | None = None, detail: str | None = None, notes=(),
                fontsize: float = 7.0) -> None:
    """Source line (:func:`source_text`) at the bottom of a figure, as reports print it."""
    bottom_note(fig, source_text(acc, lang, detail, notes), fontsize=fontsize)


def bottom_note(fig, note: str, fontsize: float = 7.0) -> None:
    """A line of small text at the bottom of ``fig``, inside it (constrained layout keeps a band
    free for it), so it survives any ``savefig`` setting.  ``fontsize`` (points; 7 on the 7-inch charts): a
    wider figure shown at the same width as the others takes a larger one, so that its line reads the same."""
    import textwrap
    width_in, height_in = fig.get_size_inches()
    k = fontsize / 7.0
    lines = textwrap.wrap(note, max(40, int(width_in * 17 / k)))    # 7-pt text: about 17 characters per inch
    note = "\n".join(lines)
    band = (0.06 + 0.13 * k * len(lines)) / height_in
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set") and "rect" in getattr(engine, "get", lambda: {})():
        rect = engine.get()["rect"]
        engine.set(rect=(rect[0], rect[1] + band, rect[2], rect[3] - band))
    up = min(0.012 * height_in, 0.06)       # inches: inside the band however tall the figure
    fig.text(0.01, up / height_in, note, ha="left", va="bottom", fontsize=fontsize, color="#555555",
             transform=fig.transFigure)


def as_float(a) -> np.ndarray:
    return np.asarray(a, dtype=float)


def axis_formatter(lang: str | None = None, scale: float = 1.0, percent: bool = False):
    """A matplotlib tick formatter writing numbers the French (or English) way with the same decimals on every
    tick of the axis (« 1 ; 1,5 ; 2 » becomes « 1,0 ; 1,5 ; 2,0 »): the decimals are those the axis' ticks need.
    ``scale`` multiplies the values (1e-3: thousands to millions); ``percent`` writes shares as %.
    The same as :func:`pmq.formatting.tick_formatter` (one implementation for every chart)."""
    return tick_formatter(lang, scale=scale, percent=percent)


#: An axis of persons in thousands whose ticks reach this many thousands is written in millions: « 2 020 »
#: (thousands) next to an axis of years reads as the year 2020, « 2,02 » (millions) does not.
MILLIONS_FROM = 1000.0


def persons_axis(ax, axis: str = "y", lang: str | None = None, name: str | None = None) -> str:
    """Write an axis of persons plotted in thousands: in thousands, or in millions (« 1,95 ») when its range
    reaches :data:`MILLIONS_FROM` thousands, with the same decimals on every tick.  ``name`` labels the axis
    « name (milliers) » or « name (millions) ».  Returns the unit word used."""
    lang = check_lang(lang)
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    millions = max(abs(lo), abs(hi)) >= MILLIONS_FROM
    word = "millions" if millions else text("thousands", lang)
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(axis_formatter(lang, scale=1e-3 if millions else 1.0))
    if name is not None:
        target.set_label_text(f"{name} ({word})")
    return word


def wrap_labels(labels, width: int) -> list[str]:
    """Each label wrapped over lines of at most ``width`` characters (words kept whole)."""
    import textwrap
    return [textwrap.fill(str(s), width, break_long_words=False, break_on_hyphens=False) for s in labels]
