"""Charts of the skills layer (:mod:`pmq.analysis.skills`), in house style.

* :func:`skills_bars` — the items of a :func:`~pmq.analysis.skills.skills_demand` table that take the most job
  openings, as horizontal bars (thousands of persons);
* :func:`green_share` — from :func:`~pmq.analysis.skills.green_jobs`: the openings in « emplois verts » and
  « emplois stratégiques pour la transition écologique », one bar per scenario, with their values.

Both take the table (its ``attrs`` give the period, the language and the notes), draw on ``ax=`` (a new figure
when omitted, with the source line) and return the axes. The ROME labels exist in French only.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from pmq.errors import ArgumentError
from pmq.formatting import check_lang, format_percent, format_thousands, tick_formatter
from pmq.plots.style import PALETTE, bottom_note, new_axes, styled
from pmq.options import tr

__all__ = ["skills_bars", "green_share", "skills_source", "SHORT_NOTE"]

#: The short form of the first note of every skills table: what a ROME link means.
SHORT_NOTE = {"fr": "le ROME dit qu'un métier mobilise une compétence, pas dans quelle mesure",
              "en": "ROME says that an occupation uses a skill, not to what extent"}
#: The green classes drawn by :func:`green_share` (codes of :data:`pmq.data.skills.TRANSITION_ECO`).
GREEN_CLASSES = ("vert", "strategique")
_GREEN_LABELS = {"vert": ("Emplois verts", "Green jobs"),
                 "strategique": ("Emplois stratégiques pour\nla transition écologique",
                                 "Jobs strategic for the\necological transition")}
_UNREACHED = "non_rattache"


def skills_source(lang: str | None = None) -> str:
    """The source line of the skills charts: ROME 4.0 (France Travail), pmq's bridge, and what a link means."""
    lang = check_lang(lang)
    if lang == "fr":
        return ("Source : France Travail, ROME 4.0 (v460) ; rattachement métiers → fiches de pmq (table DARES "
                f"FAP-2009 → ROME) ; projection pmq. Attention : {SHORT_NOTE['fr']}.")
    return ("Source: France Travail, ROME 4.0 (v460); pmq's bridge occupations → fiches (DARES FAP-2009 → ROME "
            f"table); pmq projection. Caution: {SHORT_NOTE['en']}.")


#: Characters per line of the ROME labels of :func:`skills_bars`: two lines hold most labels, the longest take three.
LABEL_WIDTH = 34


def _wrapped(label: str, width: int = LABEL_WIDTH) -> str:
    """A ROME label whole, wrapped over lines of ``width`` characters, words never cut and nothing left out
    (« Respecter les règles de Qualité, Hygiène, Sécurité, Santé et Environnement (QHSSE) » on three lines, not
    « Respecter les règles de Qualité, Hygiène, Sécurité, Santé et… »)."""
    return "\n".join(textwrap.wrap(" ".join(str(label).split()), width, break_long_words=False,
                                    break_on_hyphens=False))


def _fit_title(ax, title: str) -> None:
    """``title`` on one line if it fits in the figure, else broken at its « — » (the place on a second line):
    the title starts at the axes' left edge, which long category labels push to the right."""
    text = ax.set_title(title)                      # the Text drawn (the left title in house style)
    if " — " not in title:
        return
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    fig = ax.figure
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.execute(fig)             # the axes placed as a draw places them, without the draw (a third of its time)
    else:
        fig.draw_without_rendering()
    if text.get_window_extent().x1 > fig.bbox.x1 - 2:
        head, _, place = title.rpartition(" — ")
        ax.set_title(f"{head}\n{place}")


def _one_scenario(table: pd.DataFrame, scenario) -> tuple[pd.DataFrame, str | None]:
    if "scenario" not in table.columns:
        return table, None
    names = list(pd.unique(table["scenario"]))
    if scenario is None:
        scenario = names[0]
    if scenario not in names:
        raise ArgumentError(tr(f"unknown scenario; the table has {', '.join(map(str, names))}",
                               f"scénario inconnu ; le tableau contient {', '.join(map(str, names))}"), name="scenario",
                            value=scenario)
    return table[table["scenario"] == scenario], str(scenario)


def _where(table: pd.DataFrame) -> str:
    names = list(pd.unique(table["territory_name"])) if "territory_name" in table.columns else []
    return ", ".join(map(str, names))


@styled
def skills_bars(table: pd.DataFrame, top: int = 12, scenario=None, lang: str | None = None, ax=None):
    """The ``top`` items of a :func:`~pmq.analysis.skills.skills_demand` table (one scenario: ``scenario``, default
    the first) with the most job openings, as horizontal bars in thousands, the largest at the top; the
    « non rattaché » row is left out. Labels are ROME's (French), whole, wrapped (:func:`_wrapped`).
    The source line names the scenario (``attrs["scenario_titles"]``); a title too long for the figure is broken at
    its « — »."""
    lang = check_lang(lang)
    if int(top) < 1:
        raise ArgumentError(tr("top must be a positive number of bars", "top doit être un nombre de barres positif"),
                            name="top", value=top)
    variable = str(table.attrs.get("variable", "openings"))
    if variable not in table.columns:
        raise ArgumentError(tr("expected a table of pmq.analysis.skills.skills_demand",
                               "un tableau de pmq.analysis.skills.skills_demand est attendu"), name="table",
                            value=list(table.columns))
    df, shown = _one_scenario(table, scenario)
    df = df[df["code"] != _UNREACHED].sort_values(variable, ascending=False, kind="stable").head(int(top))
    vals = df[variable].to_numpy(dtype=float) / 1e3
    labels = [_wrapped(s) for s in df["label"]]
    n = len(df)
    most = max((lab.count("\n") + 1 for lab in labels), default=1)       # 7.5-pt lines a bar
    fig, ax, created = new_axes(ax, (7.2, max(0.42, 0.14 * most + 0.14) * n + 1.6))
    y = np.arange(n)[::-1]
    ax.barh(y, vals, color=PALETTE[0], height=0.7, zorder=2)
    ax.set_yticks(y, labels, fontsize=7.5, linespacing=1.0)
    for yi, x, share in zip(y, vals, df["share"].to_numpy(dtype=float)):
        ax.annotate(f"{format_thousands(x * 1e3, 1, lang)} ({format_percent(share, 1, lang)})", (x, yi),
                    xytext=(3, 0), textcoords="offset points", ha="left", va="center", fontsize=7)
    ax.axvline(0, color="#555555", lw=0.8)
    ax.xaxis.set_major_formatter(tick_formatter(lang))
    ax.grid(axis="x", zorder=0)
    ax.margins(x=0.22, y=0.02)
    period = str(table.attrs.get("period", df["period"].iloc[0] if n else ""))
    view = table.attrs.get("view", "additive")
    if lang == "fr":
        ax.set_xlabel("Postes à pourvoir (milliers)" + (" — vue « portée »" if view == "reach" else ""))
        _fit_title(ax, f"Compétences des postes à pourvoir, {period} — {_where(df)}")
    else:
        ax.set_xlabel("Job openings (thousands)" + (" — reach view" if view == "reach" else "")
                      + " — ROME labels in French")
        _fit_title(ax, f"Skills of the job openings, {period} — {_where(df)}")
    if created:
        name = table.attrs.get("scenario_titles", {}).get(shown) if shown is not None else None
        if name is None and len(table.attrs.get("scenario_titles", {})) == 1:
            (name,) = table.attrs["scenario_titles"].values()
        said = (f" Scénario : {name}." if lang == "fr" else f" Scenario: {name}.") if name else ""
        bottom_note(fig, skills_source(lang) + said)
    return ax


@styled
def green_share(table: pd.DataFrame, lang: str | None = None, ax=None, titles: dict | None = None):
    """From a :func:`~pmq.analysis.skills.green_jobs` table (``lens="transition_eco"``): the job openings in
    « emplois verts » and in « emplois stratégiques pour la transition écologique », one bar per scenario in each
    class, labelled with the openings (thousands) and their share of all openings. ``titles``: scenario → name
    shown in the legend (default: the scenario titles the table carries, ``attrs["scenario_titles"]``, else the
    codes), wrapped. A title too long for the figure is broken at its « — »."""
    lang = check_lang(lang)
    if table.attrs.get("by") not in (None, "transition_eco") or "share_openings" not in table.columns:
        raise ArgumentError(tr("expected a table of pmq.analysis.skills.green_jobs (lens='transition_eco')",
                               "un tableau de pmq.analysis.skills.green_jobs (lens='transition_eco') est attendu"),
                            name="table", value=table.attrs.get("by"))
    df = table if "scenario" in table.columns else table.assign(scenario="")
    scen = list(pd.unique(df["scenario"]))
    titles = {**table.attrs.get("scenario_titles", {}), **(titles or {})}
    names = {s: textwrap.fill(str(titles.get(s, s)), 46) for s in scen}
    lines = sum(n.count("\n") + 1 for n in names.values())
    fig, ax, created = new_axes(ax, (7.0, 4.0 + 0.12 * max(lines - len(scen), 0)))
    width = 0.8 / max(len(scen), 1)
    x = np.arange(len(GREEN_CLASSES))
    top = 0.0
    for j, s in enumerate(scen):
        g = df[df["scenario"] == s].set_index("code")
        vals = np.array([float(g.at[c, "openings"]) if c in g.index else np.nan for c in GREEN_CLASSES]) / 1e3
        shares = [float(g.at[c, "share_openings"]) if c in g.index else np.nan for c in GREEN_CLASSES]
        xs = x - 0.4 + width * (j + 0.5)
        ax.bar(xs, vals, width=width * 0.92, color=PALETTE[j % len(PALETTE)], zorder=2,
               label=names[s] if s != "" else None)
        for xi, v, sh in zip(xs, vals, shares):
            ax.annotate(f"{format_thousands(v * 1e3, 1, lang)}\n({format_percent(sh, 1, lang)})", (xi, v),
                        xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=7)
        top = max(top, float(np.nanmax(vals)) if len(vals) else 0.0)
    ax.set_xticks(x, [_GREEN_LABELS[c][0 if lang == "fr" else 1] for c in GREEN_CLASSES])
    ax.yaxis.set_major_formatter(tick_formatter(lang))
    # room above the bars for their two-line labels and the legend (its lines), so neither hides them
    ax.set_ylim(0, top * (1.3 + 0.1 * lines) if top > 0 else 1)
    ax.grid(axis="y", zorder=0)
    period = str(table.attrs.get("period", df["period"].iloc[0] if len(df) else ""))
    if lang == "fr":
        ax.set_ylabel("Postes à pourvoir (milliers)")
        _fit_title(ax, f"Postes à pourvoir dans des emplois verts, {period} — {_where(df)}")
    else:
        ax.set_ylabel("Job openings (thousands)")
        _fit_title(ax, f"Job openings in green jobs, {period} — {_where(df)}")
    if len(scen) > 1 or scen != [""]:
        ax.legend(loc="upper left", fontsize=8)
    if created:
        bottom_note(fig, skills_source(lang) + (" Classes de transition écologique des fiches ROME."
                                                if lang == "fr" else
                                                " Ecological-transition classes of the ROME fiches."))
    return ax
