"""The chart catalogue: pyramid, waterfall, ranked bars, scenario comparisons, fan chart.

Every function takes a :class:`~pmq.Projection` (one scenario or several) or an
accounts Dataset, draws on ``ax`` (a new figure in house style when ``ax`` is None, with the
source line) and returns the axes.  Labels follow ``lang`` (default: ``pmq.get_options()["lang"]``, French unless set); numbers are
in thousands of persons, written the way of that language.
"""
from __future__ import annotations

import textwrap

import numpy as np
import xarray as xr
from matplotlib.ticker import FuncFormatter, MaxNLocator

from pmq.formatting import check_lang, format_number, format_thousands
from pmq.labels import metier_label, text
from pmq.plots.style import (COLORS, PALETTE, axis_formatter, bottom_note, estimate_notes, new_axes, persons_axis,
                              source_note, styled, wrap_labels)
from pmq.projection.indicators import (accounts_of, one_scenario, period_label, scenario_names, select,
                                       selection_title, subset_sum, window_of)
from pmq.errors import InputError
from pmq.options import tr

__all__ = ["age_pyramid", "waterfall", "waterfall_steps", "ranked_bars", "ranked_values", "RANKINGS",
           "scenario_lines", "scenario_bars", "fan_chart", "PYRAMID_VISIBLE", "RANKED_WRAP"]


def _notes(acc, territory=None, by_metier: bool = False, end_year=None, lang: str = "fr", age: bool = False):
    """What the source line of a chart of ``territory`` (None: every territory summed, for which no territory's
    split is said) adds about estimated inputs (:func:`pmq.plots.style.estimate_notes`): the age structure
    (``age``), a territory whose groups of métiers pmq split (values by métier or domain when ``by_metier``, else
    its kept totals), the departures after the published period (the window ends at ``end_year``, default the
    projection's last year)."""
    shown = [] if territory is None else list(map(str, select(acc, territory=territory).territory.values))
    last = int(acc.year.values[-1]) if end_year is None else int(end_year)
    return estimate_notes(acc, lang, age=age, territories=shown, mark=False, totals=not by_metier, end_year=last)


# ----------------------------------------------------------------------------------------- pyramid
@styled
def age_pyramid(data, territory=None, metier=None, years=None, band: int = 1, scenario=None,
                lang: str | None = None, ax=None):
    """Age pyramid of employment in a territory (all: France) and métier (all: every métier):
    bars for the first year, a step outline for the second (default: base year and last year).

    ``band`` groups single years of age (5 → 15–19, 20–24 …).  Thousands of persons.  The youngest and
    oldest ages (bands) of which neither year reaches :data:`PYRAMID_VISIBLE` of the largest are left out:
    a bar or step that thin would draw a line along the age axis, not a value.
    """
    lang = check_lang(lang)
    acc = one_scenario(accounts_of(data), scenario)
    emp = subset_sum(acc[["employment"]], territory, metier)["employment"]
    yrs = [int(acc.year.values[0]), int(acc.year.values[-1])] if years is None else [int(y) for y in years]
    if len(yrs) != 2:
        raise ValueError(tr(f"years must be two years (base, horizon), got {years!r}",
                            f"years doit contenir deux années (base, horizon), reçu {years!r}"))
    missing = [y for y in yrs if y not in acc.year.values]
    if missing:
        raise InputError(tr(f"years {missing} are outside the projection "
                            f"({int(acc.year.values[0])}–{int(acc.year.values[-1])})",
                            f"les années {missing} sont hors de la projection "
                            f"({int(acc.year.values[0])}–{int(acc.year.values[-1])})"), column="year", rows=missing)
    e = emp.sel(year=yrs)
    if band > 1:
        a0 = int(acc.age.values[0])
        e = e.groupby(((e.age - a0) // band) * band + a0).sum().rename({"age": "age"})
    ages = e.age.values.astype(float)
    v0 = e.sel(year=yrs[0]).values / 1e3
    v1 = e.sel(year=yrs[1]).values / 1e3
    shown = np.flatnonzero(np.fmax(np.abs(v0), np.abs(v1)) >= PYRAMID_VISIBLE * np.nanmax(np.abs([v0, v1]), initial=0))
    if shown.size:              # the ages from the first to the last band that shows
        keep = slice(int(shown[0]), int(shown[-1]) + 1)
        ages, v0, v1 = ages[keep], v0[keep], v1[keep]
    # as wide as the other charts (7 in: a report shows them all at one width, hence one text size), as tall
    # as its bars need: 5-year bands are about as tall as a waterfall, single years up to 5.6 in
    fig, ax, created = new_axes(ax, (7.0, float(np.clip(2.6 + 0.16 * len(ages), PYRAMID_HEIGHT[0],
                                                        PYRAMID_HEIGHT[1]))))
    y = ages + (band - 1) / 2
    ax.barh(y, v0, height=0.9 * band, color=COLORS["base"], label=str(yrs[0]), zorder=2)
    edges = np.append(ages, ages[-1] + band) - 0.5        # each age (band) spans [a − ½, a + band − ½]
    ax.stairs(v1, edges, orientation="horizontal", baseline=None, color=COLORS["horizon"], lw=1.4,
              label=str(yrs[1]), zorder=3)
    ax.set_ylabel(text("age", lang))
    ax.set_xlabel(text("persons_k", lang))
    ax.xaxis.set_major_formatter(axis_formatter(lang))
    ax.grid(axis="x", zorder=0)
    ax.set_ylim(ages[0] - 1, ages[-1] + band)
    ax.legend(loc="upper right")
    title = "Pyramide des âges" if lang == "fr" else "Age pyramid"
    ax.set_title(f"{selection_title(acc, territory, metier, lang)}\n{title}, {yrs[0]} et {yrs[1]}"
                 if lang == "fr" else f"{selection_title(acc, territory, metier, lang)}\n{title}, {yrs[0]} and {yrs[1]}")
    if created:     # the ages are pmq's estimate (DARES national shapes tilted per cell): said after the source
        source_note(fig, acc, lang, notes=_notes(acc, territory, metier is not None, max(yrs), lang, age=True))
    return ax


#: The share of the largest age (band) below which the youngest and oldest ages are left out of a pyramid.
PYRAMID_VISIBLE = 0.005
#: The height of a pyramid's figure (inches; 7 wide): least (a few age bands) and most (single years of age).
PYRAMID_HEIGHT = (4.2, 5.6)


# --------------------------------------------------------------------------------------- waterfall
def waterfall_steps(data, territory=None, metier=None, start_year=None, end_year=None, mobility=None,
                    scenario=None) -> list[tuple[str, float, str, float]]:
    """The waterfall's steps ``(variable, step, operation, value)``: ``step`` moves the running
    total (persons), ``operation`` is ``"+"``, ``"−"`` or ``"="`` and ``value`` is the variable
    itself, as the key-figure tables show it.  Net creation + departures = openings; openings
    − young entrants − net inflow from other territories = potential imbalance.
    ``mobility=None`` shows the inflow step when it is not zero (regional reports); hiding a
    non-zero inflow raises ``ValueError`` since the steps would not add up."""
    acc = one_scenario(accounts_of(data), scenario)
    w = window_of(acc, territory, metier, start_year, end_year)
    g = {k: float(w[k]) for k in ("net_creation", "departures", "openings", "young_entrants", "net_mobility",
                                  "imbalance")}
    show_mob = abs(g["net_mobility"]) >= 0.5 if mobility is None else bool(mobility)
    if not show_mob and abs(g["net_mobility"]) >= 0.5:
        raise ValueError(tr(f"mobility=False would hide a net inflow of {g['net_mobility']:,.0f} persons: "
                            "the steps would not add up to the imbalance",
                            f"mobility=False masquerait un solde des mobilités de {g['net_mobility']:,.0f} personnes : "
                            "les étapes ne donneraient plus le déséquilibre"))
    steps = [("net_creation", g["net_creation"], "+", g["net_creation"]),
             ("departures", g["departures"], "+", g["departures"]),
             ("openings", g["openings"], "=", g["openings"]),
             ("young_entrants", -g["young_entrants"], "−", g["young_entrants"])]
    if show_mob:
        steps.append(("net_mobility", -g["net_mobility"], "−", g["net_mobility"]))
    steps.append(("imbalance", g["imbalance"], "=", g["imbalance"]))
    return steps


_SHORT = {"net_creation": ("Créations\nnettes", "Net job\ncreation"),
          "departures": ("+ Départs en fin\nde carrière", "+ End-of-career\ndepartures"),
          "openings": ("= Postes à\npourvoir", "= Job\nopenings"),
          "young_entrants": ("− Jeunes\ndébutants", "− Young\nentrants"),
          "net_mobility": ("− Solde des\nmobilités", "− Net inflow,\nother regions"),
          "imbalance": ("= Déséquilibre\npotentiel", "= Potential\nimbalance")}


#: One word per bar (small multiples), written slanted so that neighbours do not collide.
_COMPACT = {"net_creation": ("Créations", "Creation"), "departures": ("+ Départs", "+ Departures"),
            "openings": ("= Postes", "= Openings"), "young_entrants": ("− Jeunes", "− Young"),
            "net_mobility": ("− Mobilités", "− Mobility"), "imbalance": ("= Déséquilibre", "= Imbalance")}


@styled
def waterfall(data, territory=None, metier=None, start_year=None, end_year=None, mobility=None,
              values: bool = True, compact: bool = False, scenario=None, lang: str | None = None, ax=None):
    """« Postes à pourvoir » waterfall over a window (default: the whole projection):
    net creation + departures = openings, minus young entrants and (regions) minus the net
    inflow from other regions = potential imbalance.  Each bar is labelled with the variable's
    own value (as in the key-figure tables: a net outflow is a negative inflow, and subtracting
    it raises the imbalance).  Thousands of persons; ``values=False`` drops the labels;
    ``compact=True`` uses one-word bar names, slanted (small multiples)."""
    lang = check_lang(lang)
    acc = one_scenario(accounts_of(data), scenario)
    steps = waterfall_steps(acc, territory, metier, start_year, end_year, mobility)
    fig, ax, created = new_axes(ax, (7.0, 4.2))
    run = 0.0
    bottoms, heights, colors = [], [], []
    for _, v, op, _ in steps:
        if op == "=":
            bottoms.append(0.0)
            heights.append(v)
            run = v
            colors.append(COLORS["total"])
        else:
            bottoms.append(run)
            heights.append(v)
            run += v
            colors.append(COLORS["up"] if v >= 0 else COLORS["down"])
    b = np.array(bottoms) / 1e3
    h = np.array(heights) / 1e3
    x = np.arange(len(steps))
    bars = ax.bar(x, h, bottom=b, color=colors, width=0.62, zorder=2)
    for i in range(len(steps) - 1):  # connectors
        level = b[i] + h[i]
        ax.plot([x[i] + 0.31, x[i + 1] - 0.31], [level, level], color="#888888", lw=0.7, ls=":", zorder=1)
    if values:
        for bar, (k, _, _, value) in zip(bars, steps):
            top = bar.get_y() + max(bar.get_height(), 0)
            signed = k in ("net_creation", "net_mobility", "imbalance")
            ax.annotate(format_thousands(value, 1, lang, sign=signed), (bar.get_x() + bar.get_width() / 2, top),
                        xytext=(0, 3), textcoords="offset points", ha="center", va="bottom", fontsize=8)
    i = 0 if lang == "fr" else 1
    if compact:
        ax.set_xticks(x, [_COMPACT[k][i] for k, _, _, _ in steps], rotation=40, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(x, [_SHORT[k][i] for k, _, _, _ in steps])
    ends = np.concatenate([b, b + h, [0.0]])
    lo, hi = float(ends.min()), float(ends.max())
    pad = 0.12 * (hi - lo or 1.0)
    ax.set_ylim(lo - (pad if lo < 0 else 0), hi + pad)
    ax.axhline(0, color="#555555", lw=0.8)
    ax.set_ylabel(text("persons_k", lang))
    ax.yaxis.set_major_formatter(axis_formatter(lang))
    ax.grid(axis="y", zorder=0)
    period = period_label(acc, start_year, end_year)
    title = "Postes à pourvoir et déséquilibre potentiel" if lang == "fr" else "Job openings and potential imbalance"
    ax.set_title(f"{selection_title(acc, territory, metier, lang)}\n{title}, {period}")
    if created:
        source_note(fig, acc, lang, notes=_notes(acc, territory, metier is not None, end_year, lang))
    return ax


# ------------------------------------------------------------------------------------- ranked bars
#: Characters per line of the métier labels of :func:`ranked_bars` (the full DARES labels, wrapped).
RANKED_WRAP = 42
#: Rankings: name -> (numerator, denominator or None).  Rates are shares of initial employment.
RANKINGS = {"openings": ("openings", None), "departures": ("departures", None),
            "net_creation": ("net_creation", None), "imbalance": ("imbalance", None),
            "young_entrants": ("young_entrants", None),
            "departure_rate": ("departures", "employment_start"),
            "openings_rate": ("openings", "employment_start"),
            "imbalance_rate": ("imbalance", "employment_start")}


def ranked_values(data, by: str = "openings", territory=None, start_year=None, end_year=None,
                  scenario=None) -> xr.DataArray:
    """Per-métier values behind :func:`ranked_bars`: persons, or shares for ``*_rate``."""
    if by not in RANKINGS:
        raise ValueError(tr(f"unknown ranking {by!r}; use one of {', '.join(RANKINGS)}",
                            f"classement inconnu {by!r} ; utilisez l'un de {', '.join(RANKINGS)}"))
    acc = one_scenario(accounts_of(data), scenario)
    w = window_of(acc, territory, None, start_year, end_year, keep=("metier",))
    num, den = RANKINGS[by]
    v = w[num]
    if den is not None:
        v = v / w[den].where(w[den] > 0)
    return v


@styled
def ranked_bars(data, by: str = "openings", territory=None, n: int = 15, start_year=None, end_year=None,
                ascending: bool = False, scenario=None, lang: str | None = None, ax=None):
    """The ``n`` métiers with the largest (``ascending=True``: smallest) values of ``by``
    (:data:`RANKINGS`: openings, departures, net creation, imbalance, young entrants, or their
    rate as a share of initial employment), as horizontal bars, the first at the top.  Each métier is named by
    its full DARES label (:func:`pmq.labels.metier_label`), wrapped over lines of :data:`RANKED_WRAP`
    characters rather than abbreviated."""
    lang = check_lang(lang)
    acc = one_scenario(accounts_of(data), scenario)
    v = ranked_values(acc, by, territory, start_year, end_year).dropna("metier")
    s = v.to_series().sort_values(ascending=ascending).head(int(n))
    rate = RANKINGS[by][1] is not None
    vals = s.values * (100 if rate else 1e-3)
    full = metier_label(s.index, lang, labels=[str(acc.metier_label.sel(metier=c).values) for c in s.index]
                        if "metier_label" in acc.coords else None)
    labs = wrap_labels(full, RANKED_WRAP)
    lines = max((lab.count("\n") + 1 for lab in labs), default=1)
    given = ax is not None
    fig, ax, created = new_axes(ax, (7.0, max(0.28, 0.13 * lines + 0.13) * len(s) + 1.5))
    if given and len(s):        # axes of a given size: longer lines where the bars leave room for fewer of them
        h_in = fig.get_size_inches()[1]
        room = max(1, int(ax.get_position().height * h_in / len(s) / 0.118))    # 8.5-pt lines a bar
        width = RANKED_WRAP
        while max(lab.count("\n") + 1 for lab in labs) > room and width < 90:
            width += 6
            labs = wrap_labels(full, width)
    y = np.arange(len(s))[::-1]
    colors = [COLORS["down"] if x < 0 else COLORS["up"] for x in vals]
    ax.barh(y, vals, color=colors, height=0.7, zorder=2)
    ax.set_yticks(y, labs, linespacing=1.0)
    for yi, x in zip(y, vals):
        lab = format_number(x, 1, lang) + ("\u202f%" if rate and lang == "fr" else "%" if rate else "")
        ax.annotate(lab, (x, yi), xytext=(3 if x >= 0 else -3, 0), textcoords="offset points",
                    ha="left" if x >= 0 else "right", va="center", fontsize=7.5)
    ax.axvline(0, color="#555555", lw=0.8)
    ax.set_ylim(-0.6, len(s) - 0.4)
    period = period_label(acc, start_year, end_year)
    if rate:
        ax.set_xlabel(text(by, lang) if by in ("departure_rate", "imbalance_rate", "openings_rate") else by)
        ax.xaxis.set_major_formatter(axis_formatter(lang, percent=True, scale=0.01))
    else:
        ax.set_xlabel(f"{text(by, lang)} ({text('thousands', lang)})")
        ax.xaxis.set_major_formatter(axis_formatter(lang))
    ax.grid(axis="x", zorder=0)
    ax.margins(x=0.16)                  # room for the value beside the longest bar
    head = text(RANKINGS[by][0], lang) if not rate else text(by, lang)
    ax.set_title(f"{selection_title(acc, territory, None, lang)}\n{head}, {period}")
    if created:
        source_note(fig, acc, lang, notes=_notes(acc, territory, True, end_year, lang))
    return ax


# ------------------------------------------------------------------------------ scenario comparison
def _scenario_series(acc, variable, territory, metier):
    if variable not in acc.data_vars:
        raise ValueError(tr(f"unknown variable {variable!r}; use one of {', '.join(acc.data_vars)}",
                            f"variable inconnue {variable!r} ; utilisez l'une de {', '.join(acc.data_vars)}"))
    da = subset_sum(acc[[variable]], territory, metier)[variable]
    if "age" in da.dims:
        da = da.sum("age", min_count=1)
    if "scenario" not in da.dims:
        da = da.expand_dims(scenario=[str(acc.attrs.get("scenario", "scenario"))])
    return da


@styled
def scenario_lines(data, variable: str = "employment", territory=None, metier=None, index: bool = False,
                   lang: str | None = None, ax=None):
    """One line per scenario over the years: a stock (employment, persons on 1 January) or an
    annual flow, in thousands (in millions from :data:`pmq.plots.style.MILLIONS_FROM` thousands: « 2 020 »
    thousands beside the years would read as 2020).  ``index=True`` rebases each line to 100 in the base year."""
    lang = check_lang(lang)
    acc = accounts_of(data)
    da = _scenario_series(acc, variable, territory, metier)
    names = scenario_names(acc, lang) if "scenario" in acc.dims else [
        acc.attrs.get("scenario_title_fr" if lang == "fr" else "scenario_title_en", da.scenario.values[0])]
    fig, ax, created = new_axes(ax, (7.0, 4.0))
    years = da.year.values
    for i, name in enumerate(names):
        y = da.isel(scenario=i).values.astype(float)
        y = y / y[0] * 100 if index else y / 1e3
        ax.plot(years, y, color=PALETTE[i % len(PALETTE)], lw=1.6, label=textwrap.fill(str(name), 46),
                marker="o" if len(years) < 8 else None, ms=3)
    ax.set_xlabel(text("year", lang))
    ylab = text(variable, lang)
    if index:
        ax.set_ylabel(f"{ylab} (base 100)")
        ax.yaxis.set_major_formatter(axis_formatter(lang))
    else:               # thousands, or millions where « 2 020 » (thousands) would read as a year
        persons_axis(ax, "y", lang, ylab)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, pos=None: str(int(round(v)))))
    ax.grid(axis="y")
    ax.legend(loc="best", fontsize="small")
    ax.set_title(f"{selection_title(acc, territory, metier, lang)}\n{ylab}")
    if created:         # the scenario(s) drawn, as the other charts say theirs
        source_note(fig, acc, lang, notes=_notes(acc, territory, metier is not None, None, lang)
                    if variable != "employment" or metier is not None else ())
    return ax


@styled
def scenario_bars(data, variable: str = "openings", territory=None, metier=None, start_year=None,
                  end_year=None, lang: str | None = None, ax=None):
    """One bar per scenario: a flow summed over the window (default: the whole projection), or
    employment at its end (``variable="employment"``).  Thousands of persons."""
    lang = check_lang(lang)
    acc = accounts_of(data)
    var = "employment_end" if variable == "employment" else variable
    w = window_of(acc, territory, metier, start_year, end_year)
    if var not in w.data_vars:
        raise ValueError(tr(f"unknown variable {variable!r}", f"variable inconnue {variable!r}"))
    da = w[var]
    if "scenario" not in da.dims:
        da = da.expand_dims(scenario=[str(acc.attrs.get("scenario", "scenario"))])
    names = scenario_names(acc, lang) if "scenario" in acc.dims else [
        acc.attrs.get("scenario_title_fr" if lang == "fr" else "scenario_title_en", da.scenario.values[0])]
    vals = da.values.astype(float) / 1e3
    fig, ax, created = new_axes(ax, (6.4, 0.5 * len(vals) + 1.5))
    y = np.arange(len(vals))[::-1]
    ax.barh(y, vals, color=[PALETTE[i % len(PALETTE)] for i in range(len(vals))], height=0.65, zorder=2)
    ax.set_yticks(y, [textwrap.fill(n, 32) for n in names])
    for yi, x in zip(y, vals):
        ax.annotate(format_number(x, 1, lang), (x, yi), xytext=(3, 0), textcoords="offset points", va="center",
                    fontsize=8)
    ax.set_xlabel(f"{text(variable, lang)} ({text('thousands', lang)})")
    ax.xaxis.set_major_formatter(axis_formatter(lang))
    ax.grid(axis="x", zorder=0)
    ax.margins(x=0.12)
    when = str(w.attrs["end_year"]) if variable == "employment" else w.attrs["period"]
    ax.set_title(_wrap_title(selection_title(acc, territory, metier, lang), 38) + f"\n{text(variable, lang)}, {when}")
    if created:
        source_note(fig, acc, lang, notes=_notes(acc, territory, metier is not None, end_year, lang))
    return ax


def _wrap_title(title: str, width: int) -> str:
    """A selection title on lines of ``width`` characters, broken first at its « — » (« Hauts-de-France » above
    « 8 métiers (B0Z, B1Z, B2Z…) », not a list of codes cut in two)."""
    if len(title) <= width:
        return title
    return "\n".join(textwrap.fill(part, width, break_long_words=False) for part in title.split(" — "))


# ------------------------------------------------------------------------------------------- fans
@styled
def fan_chart(da: xr.DataArray, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95), scale: float = 1e-3, label=None,
              color=None, lang: str | None = None, ax=None):
    """Fan chart of an ensemble over years: the outer band spans the first and last quantile
    (5–95 %), the inner band the second and second-to-last (25–75 %), the line the median.

    ``da`` has a ``year`` dimension and either ``draw`` (quantiles are computed) or
    ``quantile`` (already computed, containing ``quantiles``).  Values × ``scale``
    (thousands by default; then the axis is written in thousands, or in millions from
    :data:`pmq.plots.style.MILLIONS_FROM` thousands, so that no tick reads as a year).

    ``da.attrs``: ``long_name`` (``long_name_en``) names the y axis and titles a figure the chart creates;
    ``provenance`` (the attrs of the accounts the draws come from, with their ``territory`` codes, as
    :meth:`pmq.Ensemble.fan` gives them) writes the source line under a figure the chart creates.
    """
    lang = check_lang(lang)
    q = list(quantiles)
    if len(q) != 5 or q != sorted(q) or q[2] != 0.5:
        raise ValueError(tr(f"quantiles must be five increasing values with the median in the middle, got {q}",
                            f"quantiles doit contenir cinq valeurs croissantes, la médiane au milieu, reçu {q}"))
    if "draw" in da.dims:
        qd = da.quantile(q, dim="draw")
    elif "quantile" in da.dims:
        qd = da.sel(quantile=q)
    else:
        raise ValueError(tr("fan_chart needs a 'draw' or a 'quantile' dimension",
                            "fan_chart a besoin d'une dimension 'draw' ou 'quantile'"))
    extra = [d for d in qd.dims if d not in ("quantile", "year")]
    if extra:
        raise ValueError(tr(f"select one series first: dimensions {extra} remain",
                            f"sélectionnez d'abord une seule série : il reste les dimensions {extra}"))
    qd = qd.transpose("quantile", "year")
    v = qd.values.astype(float) * scale
    years = qd.year.values
    fig, ax, created = new_axes(ax, (7.0, 4.0))
    c = color or PALETTE[0]
    pct = [format_number(x * 100, 0, lang) for x in q]
    sp = "\u202f" if lang == "fr" else ""
    ax.fill_between(years, v[0], v[4], color=c, alpha=0.18, lw=0, label=f"{pct[0]}–{pct[4]}{sp}%")
    ax.fill_between(years, v[1], v[3], color=c, alpha=0.38, lw=0, label=f"{pct[1]}–{pct[3]}{sp}%")
    ax.plot(years, v[2], color=c, lw=1.8, label=label or text("median", lang))
    ax.set_xlabel(text("year", lang))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, pos=None: str(int(round(x)))))
    name = (da.attrs.get("long_name") if lang == "fr" else da.attrs.get("long_name_en", da.attrs.get("long_name")))
    if scale == 1e-3:       # persons in thousands: « milliers » or « millions »
        word = persons_axis(ax, "y", lang, name)
        if not name:
            ax.set_ylabel(word[0].upper() + word[1:])
    else:
        ax.yaxis.set_major_formatter(axis_formatter(lang))
    ax.grid(axis="y")
    ax.legend(loc="best")
    if created and name:
        ax.set_title(name)
    prov = da.attrs.get("provenance")
    if created and isinstance(prov, dict) and "territory" in prov:
        origin = xr.Dataset(coords={"territory": list(map(str, prov["territory"]))},
                            attrs={k: v for k, v in prov.items() if k != "territory"})
        n = da.sizes.get("draw")
        detail = (f"ensemble de {n} tirages" if lang == "fr" else f"ensemble of {n} draws") if n else None
        source_note(fig, origin, lang, detail)
    return ax



# ---------------------------------------------------------------------------------------- tornado
@styled
def tornado(table, output: str = "openings", labels: dict | None = None, lang: str | None = None, ax=None):
    """Tornado chart of :func:`pmq.projection.sensitivity.one_at_a_time`: for each parameter, the output at
    its low and high quantile as a bar around the central value (all parameters neutral), the
    widest swing at the top.  Thousands of persons."""
    lang = check_lang(lang)
    t = table[table["output"] == output]
    if t.empty:
        raise ValueError(tr(f"no rows for output {output!r}; outputs: {sorted(set(table['output']))}",
                            f"aucune ligne pour la sortie {output!r} ; sorties : {sorted(set(table['output']))}"))
    t = t.sort_values("swing", ascending=False, kind="stable")
    central = float(t["central"].iloc[0]) / 1e3
    lo = t["low"].to_numpy(float) / 1e3
    hi = t["high"].to_numpy(float) / 1e3
    names = [(labels or {}).get(p, p) for p in t["parameter"]]
    fig, ax, created = new_axes(ax, (6.4, 0.45 * len(t) + 1.5))
    y = np.arange(len(t))[::-1]
    q = table.attrs.get("q", (0.05, 0.95))
    pl, ph = (format_number(100 * q[0], 0, lang), format_number(100 * q[1], 0, lang))
    word = "quantile" if lang == "en" else "quantile à"
    ax.barh(y, lo - central, left=central, color=COLORS["down"], height=0.6, zorder=2,
            label=f"{word} {pl}\u202f%" if lang == "fr" else f"{word} {pl}%")
    ax.barh(y, hi - central, left=central, color=COLORS["up"], height=0.6, zorder=2,
            label=f"{word} {ph}\u202f%" if lang == "fr" else f"{word} {ph}%")
    ax.axvline(central, color="#333333", lw=1)
    widest = float(np.max(np.abs(hi - lo))) if len(t) else 0.0
    for yi, a, b in zip(y, lo, hi):         # a bar too thin to see (mobility, nationally): its range written
        if abs(b - a) < 0.01 * widest:
            said = format_thousands(abs(b - a) * 1e3, 1, lang)
            ax.annotate(f"écart : {said}" if lang == "fr" else f"range: {said}", (max(a, b, central), yi),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=7.5, color="#555555")
    ax.set_yticks(y, names)
    ax.set_xlabel(f"{text(output, lang)} ({text('thousands', lang)})")
    ax.xaxis.set_major_formatter(axis_formatter(lang))
    ax.grid(axis="x", zorder=0)
    ax.legend(loc="lower right")
    head = "Sensibilité" if lang == "fr" else "Sensitivity"
    ax.set_title(f"{head} : {text(output, lang)}" if lang == "fr" else f"{head}: {text(output, lang)}")
    if created:             # what the bars are, and the central value the vertical line marks
        mid = format_thousands(central * 1e3, 1, lang)
        bottom_note(fig, f"Source : projection pmq. Chaque paramètre seul à ses quantiles {pl}\u202f% et {ph}\u202f%, "
                         f"les autres à leur médiane ; trait vertical : tous à leur médiane ({mid})."
                    if lang == "fr" else
                    f"Source: pmq projection. Each parameter alone at its {pl}% and {ph}% quantiles, the others at "
                    f"their median; vertical line: all at their median ({mid}).")
    return ax
