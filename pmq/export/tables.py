"""The standard tables (regions, domains, métiers by period) in the formats report authors use:
Excel (one sheet per table, a README sheet with units and sources) and CSV.

Every writer is atomic: files are written to a temporary name beside the target and moved into
place only once complete, so a failure or a Ctrl-C leaves no half-written output.  Deliverables
are safe to share: every text cell written to ``.xlsx`` or ``.csv`` goes through
:func:`safe_text` (no formula from a label), and an output replaces only what pmq wrote
(:func:`write_atomically`).
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from pmq.formatting import check_lang
from pmq._version import __version__
from pmq.errors import ArgumentError, InputError
from pmq.projection.indicators import (FLOWS, accounts_of, aggregate_territories, default_end_years, select,
                                       window_sums)
from pmq.scenario.read import STATUS_LABELS, is_builtin, status_label
from pmq.labels import TEXT, VARIABLE_REGISTRY, domain_label, metier_label, text
from pmq.projection.indicators import (FLAG_COLUMNS, FLAG_LABELS, aggregate_flags, cell_flags, national,
                                       territory_provenance, territory_table_name, with_flags)
from pmq.outputs import atomic_file, csv_dialect_of, neutralise, safe_text, write_atomically, write_frame_csv
from pmq.analysis.skills import COLUMN_LABELS as SKILLS_LABELS
from pmq.data.skills import UNREACHED
from pmq.inputs.baseline import BUILTIN_SOURCES
from pmq.inputs.overseas import OVERSEAS_METHOD
from pmq.options import tr

__all__ = ["standard_tables", "COLUMNS", "to_excel", "read_excel_tables", "TEXT_COLUMNS", "to_csv", "provenance",
           "scenario_status", "column_header", "HEADERS", "SHEET_NAMES", "TABLE_SHEETS", "WIDE_INDICATORS",
           "provenance_text", "SOURCE_NAMES", "PROVENANCE_TEXTS", "write_table_csv", "csv_decimals",
           "PERSONS_DECIMALS", "SHARE_DECIMALS"]

#: Column → (French label, English label, unit) for every numeric column of the standard tables,
#: from :data:`pmq.labels.VARIABLE_REGISTRY`.
COLUMNS = {k: (v.fr, v.en, v.unit) for k, v in VARIABLE_REGISTRY.items() if v.column}
_RATIO = {"departure_rate": "departures", "openings_rate": "openings", "imbalance_rate": "imbalance"}



def provenance(attrs) -> tuple[dict, list]:
    """The accounts' data sources ``{input: source}`` and estimated inputs ``[text, …]``, read from
    their attrs (``data_sources``, ``estimated_inputs``, JSON).  Missing or empty attributes give
    empty ones; a malformed attribute raises :class:`~pmq.errors.InputError` naming it — a
    deliverable must never drop its « estimated » rows without a word."""
    out: list[Any] = []   # [the dict, the list]
    for key, kind, default in (("data_sources", dict, "{}"), ("estimated_inputs", list, "[]")):
        raw = attrs.get(key, default)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raw = default
        try:
            val = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
        except ValueError:
            val = None
        if not isinstance(val, kind):
            raise InputError(tr(f"is not a JSON {kind.__name__}: {str(raw)[:80]!r} (was the file written by pmq?)",
                                f"n'est pas un {kind.__name__} JSON : {str(raw)[:80]!r} (le fichier a-t-il été "
                                "écrit par pmq ?)"),
                             source="accounts attrs", column=key)
        out.append(val)
    return out[0], out[1]


# ------------------------------------------------------ the data's provenance, in the reader's language
# The texts of pmq.export.report (its _SOURCE_NAMES, _KNOWN_TEXTS, _KNOWN_PATTERNS, provenance_text), keyed the
# same way, here so that the workbooks need not import the report (matplotlib, the plots): the README sheet of
# every workbook names the sources and estimated inputs as the report's page does (tests/test_tables_consistency.py
# checks that both give the same words).
#: The inputs of the accounts' ``data_sources`` (attrs), as a reader names them: key → (French, English).
SOURCE_NAMES = {
    "flows": ("Flux de la période publiée (créations nettes, jeunes débutants, mobilités)",
              "Flows of the published period (net creation, young entrants, mobility)"),
    "age_structure": ("Structure par âge de l'emploi", "Age structure of employment"),
    "hazard_schedule": ("Calendrier des départs en fin de carrière", "End-of-career exit schedule"),
    "employment": ("Emploi par âge", "Employment by age"),
    "hazards": ("Probabilités de départ en fin de carrière", "End-of-career exit hazards"),
    "tension": ("Tensions sur le recrutement", "Recruitment tension"),
}
_M2030 = "https://dares.travail-emploi.gouv.fr/publication/les-metiers-en-2030-quelles-perspectives-de-recrutement-en-region"
_PORTRAITS = "https://dares.travail-emploi.gouv.fr/donnees/portraits-statistiques-des-metiers"
#: The built-in baseline's texts (:data:`pmq.inputs.baseline.BUILTIN_SOURCES`, its ``estimated`` list,
#: :data:`pmq.inputs.overseas.OVERSEAS_METHOD`) as the report writes them: English text → (French, English), the
#: publications' addresses added.
PROVENANCE_TEXTS = {
    BUILTIN_SOURCES["flows"]:
        (f"DARES – France Stratégie (2023), « Les métiers en 2030 », déclinaison régionale, scénario de référence, "
         f"{_M2030} (Licence Ouverte / Etalab 2.0)",
         f"DARES – France Stratégie (2023), « Les métiers en 2030 », déclinaison régionale (regional results), "
         f"reference scenario, {_M2030} (Licence Ouverte / Etalab 2.0)"),
    BUILTIN_SOURCES["age_structure"]:
        (f"Dares, « Portraits statistiques des métiers » (2021), enquête Emploi 2017–2019 de l'Insee, 9 tranches d'âge "
         f"par famille professionnelle (FAP-87), {_PORTRAITS} (Licence Ouverte / Etalab 2.0)",
         f"DARES, « Portraits statistiques des métiers » (2021), Insee enquête Emploi 2017–2019, 9 age bands by FAP-87, "
         f"{_PORTRAITS} (Licence Ouverte / Etalab 2.0)"),
    BUILTIN_SOURCES["hazard_schedule"]:
        (f"estimé par pmq à partir des taux de maintien dans l'emploi des pseudo-cohortes de la Dares (« Portraits "
         f"statistiques des métiers », fenêtres 2010–2019), {_PORTRAITS}",
         f"estimated by pmq from DARES pseudo-cohort continuation ratios (« Portraits statistiques des métiers », "
         f"2010–2019 windows), {_PORTRAITS}"),
    "employment by age (pyramids by métier × region: DARES national shapes tilted per cell to match published "
    "departures)":
        ("emploi par âge (pyramides par métier × région : profils nationaux de la Dares inclinés cellule par cellule "
         "pour retrouver les départs en fin de carrière publiés)",
         "employment by age (pyramids by occupation × region: DARES national shapes tilted per cell to match the "
         "published departures)"),
    "hazard (national schedule fitted to DARES pseudo-cohorts, per-métier exit-age offsets)":
        ("probabilités de départ en fin de carrière (calendrier national ajusté aux pseudo-cohortes de la Dares, âge "
         "de départ décalé par métier)",
         "end-of-career exit hazards (national schedule fitted to DARES pseudo-cohorts, exit-age offsets by "
         "occupation)"),
    "Corse: split of the published groups of métiers into FAP families":
        ("Corse : répartition des groupes de métiers publiés entre les familles professionnelles (FAP)",
         "Corse: split of the published groups of occupations into FAP families"),
    OVERSEAS_METHOD:
        ("régions d'outre-mer (01 Guadeloupe, 02 Martinique, 03 Guyane, 04 La Réunion, 06 Mayotte) estimées par pmq : "
         "emploi de l'année de base par métier tiré du recensement de 2017 et recalé par métier (Mayotte : un ordre de "
         "grandeur), structure par âge et taux de flux par métier de la métropole, probabilités de départ nationales, "
         "sans solde de mobilités (hors du recentrage métropolitain)",
         "overseas régions (01 Guadeloupe, 02 Martinique, 03 Guyane, 04 La Réunion, 06 Mayotte) estimated by pmq: "
         "base-year employment by occupation from the 2017 census rescaled per occupation (Mayotte: an order of "
         "magnitude), metropolitan age structure and flow rates by occupation, national hazards, no net mobility "
         "(outside the metropolitan recentring)"),
}
#: The shipped downscaling keys (``pmq/data/territories/SOURCE.md``), as the report names them.
_KEY_SOURCES = {
    "departement": ("celle livrée avec pmq, part du département dans l'emploi moyen 2019 du métier "
                    f"(Dares – Pôle emploi, « Portraits statistiques des métiers », {_PORTRAITS})",
                    "pmq's shipped one, the département's share of the occupation's average 2019 employment "
                    f"(DARES – Pôle emploi, « Portraits statistiques des métiers », {_PORTRAITS})"),
    "zone_emploi": ("celles livrées avec pmq, part du département dans l'emploi moyen 2019 du métier "
                    f"(Dares – Pôle emploi, « Portraits statistiques des métiers », {_PORTRAITS}), puis part de la "
                    "zone d'emploi dans la population municipale du département (Insee, zones d'emploi 2020)",
                    "pmq's shipped ones, the département's share of the occupation's average 2019 employment "
                    f"(DARES – Pôle emploi, « Portraits statistiques des métiers », {_PORTRAITS}), then the employment "
                    "zone's share of the département's municipal population (Insee, zones d'emploi 2020)"),
}
_LEVEL_WORDS = {"region": ("région", "région"), "departement": ("département", "département"),
                "zone_emploi": ("zone d'emploi", "employment zone")}
_TREND_MODELS = {"shares": ("des parts de métiers", "occupational shares"),
                 "shares_damped": ("des parts de métiers, amorti", "occupational shares, damped"),
                 "combination": ("combiné (moyenne de l'emploi constant, du tendanciel amorti et d'un ARIMA)",
                                 "combined (mean of constant employment, damped trend and ARIMA)"),
                 "loglinear": ("log-linéaire", "log-linear"), "damped": ("de tendance amortie", "damped-trend"),
                 "arima": ("ARIMA", "ARIMA")}
#: The texts that name their own values (:func:`pmq.projection.prepare.estimated_inputs`, the split of
#: :func:`pmq.inputs.downscale.downscale`): a pattern and its French and English wording.
_PROVENANCE_PATTERNS = [
    (re.compile(r"exit hazards estimated from DARES pseudo-cohorts 2003–2019 \(pmq\.estimation\.exits, "
                r"(partially pooled|per FAP, unpooled)\)"),
     lambda m, i: (("probabilités de départ en fin de carrière estimées sur les pseudo-cohortes de la Dares 2003–2019 "
                    "(" + ("partiellement mutualisées entre familles" if m[1] == "partially pooled" else
                           "par famille professionnelle, sans mutualisation") + ")"),
                   ("end-of-career exit hazards estimated from DARES pseudo-cohorts 2003–2019 ("
                    + ("partially pooled across families" if m[1] == "partially pooled" else "per FAP family, "
                       "unpooled") + ")"))[i]),
    (re.compile(r"employment by métier: the scenario's total employment of each territory distributed by the "
                r"(\w+) model of occupational shares fitted to the DARES FAP-87 series \(last (\d+) years to "
                r"(\d{4})\), pmq\.estimation\.trends"),
     lambda m, i: ((f"emploi par métier : l'emploi total du scénario dans chaque territoire réparti selon le modèle "
                    f"{_TREND_MODELS.get(m[1], (m[1], m[1]))[0]} ajusté aux séries FAP-87 de la Dares ({m[2]} "
                    f"dernières années jusqu'en {m[3]})"),
                   (f"employment by occupation: the scenario's total employment of each territory distributed by the "
                    f"{_TREND_MODELS.get(m[1], (m[1], m[1]))[1]} model fitted to the DARES FAP-87 series (last {m[2]} "
                    f"years to {m[3]})"))[i]),
    (re.compile(r"employment trend by métier: (\w+) model fitted to the DARES FAP-87 series \(last (\d+) years to "
                r"(\d{4})\), pmq\.estimation\.trends"),
     lambda m, i: ((f"tendance de l'emploi par métier : modèle {_TREND_MODELS.get(m[1], (m[1], m[1]))[0]} ajusté "
                    f"aux séries FAP-87 de la Dares ({m[2]} dernières années jusqu'en {m[3]})"),
                   (f"employment trend by occupation: {_TREND_MODELS.get(m[1], (m[1], m[1]))[1]} model fitted to the "
                    f"DARES FAP-87 series (last {m[2]} years to {m[3]})"))[i]),
    (re.compile(r"(\w+) split of the (\w+) baseline by a downscaling key \(bases: ([^)]*)\): children have their "
                r"parent's age structure, hazards and flow ratios; net mobility is their share of the parent's net "
                r"inflow \(moves between children of one parent not modelled\)"),
     lambda m, i: ((f"répartition par {_LEVEL_WORDS.get(m[1], (m[1], m[1]))[0]} des chiffres de chaque "
                    f"{_LEVEL_WORDS.get(m[2], (m[2], m[2]))[0]} selon une clé de répartition (fondements : {m[3]}) : "
                    f"chaque territoire reprend la structure par âge, les probabilités de départ et les taux de flux "
                    f"de son territoire parent ; son solde des mobilités est sa part de celui du parent (les mobilités "
                    f"entre territoires d'un même parent ne sont pas modélisées)"),
                   (f"{_LEVEL_WORDS.get(m[1], (m[1], m[1]))[1]} split of the {_LEVEL_WORDS.get(m[2], (m[2], m[2]))[1]} "
                    f"figures by a share key (bases: {m[3]}): each territory has its parent's age structure, hazards "
                    f"and flow ratios; its net mobility is its share of the parent's (moves between territories of one "
                    f"parent are not modelled)"))[i]),
    (re.compile(r"pmq shipped key \((departement|zone_emploi)\), see pmq/data/territories/SOURCE\.md"),
     lambda m, i: _KEY_SOURCES[m[1]][i]),
]


def provenance_text(text_: str, lang: str) -> str | None:
    """A provenance text pmq writes in the accounts' attrs (a data source, an estimated input, the key of a
    split) in the reader's language, with the publication's address; None for a text pmq does not know (a
    user's source, shown as it is)."""
    i = 0 if lang == "fr" else 1
    if text_ in PROVENANCE_TEXTS:
        return PROVENANCE_TEXTS[text_][i]
    for pattern, words in _PROVENANCE_PATTERNS:
        m = pattern.fullmatch(text_)
        if m:
            return words(m, i)
    return None


#: The built-in baseline's title (:func:`pmq.inputs.baseline.load_baseline`): « Les métiers en 2030 — baseline 2019 … ».
_BUILTIN_TITLE = re.compile(r"(Les métiers en 2030 — )baseline (\d{4})( .*)?")


def baseline_title(title: str, lang: str) -> str:
    """The baseline's title (the accounts' ``baseline_title``) in the reader's language: the built-in's
    « Les métiers en 2030 — baseline 2019 (…) » says « année de base 2019 » in French; a user's title as it is."""
    title = str(title)
    m = _BUILTIN_TITLE.fullmatch(title) if lang == "fr" else None
    return f"{m[1]}année de base {m[2]}{m[3] or ''}" if m else title



def scenario_status(attrs) -> list[tuple[str, str, list]]:
    """``(scenario, status, assumed levers)`` for each scenario of the accounts, from the attrs
    ``scenario_status`` / ``scenario_assumed_levers`` (:func:`pmq.scenario.read.lever_status`); accounts
    written before these attrs existed give an empty list.  A malformed attribute raises
    :class:`~pmq.errors.InputError` naming it."""
    raw, levers = attrs.get("scenario_status"), attrs.get("scenario_assumed_levers", "[]")
    if raw is None or raw == "":
        return []
    try:
        if raw in STATUS_LABELS:
            pairs, lev = {attrs.get("scenario", ""): raw}, {attrs.get("scenario", ""): json.loads(levers)}
        else:
            pairs, lev = json.loads(raw), json.loads(levers)
        out = [(str(k), v, list(lev.get(k, []))) for k, v in pairs.items()]
    except (ValueError, TypeError, AttributeError):
        out = None
    if out is None or any(v not in STATUS_LABELS for _, v, _ in out):
        raise InputError(tr(f"is not a scenario status pmq writes: {str(raw)[:80]!r}",
                            f"n'est pas un statut de scénario que pmq écrit : {str(raw)[:80]!r}"), source="accounts attrs",
                         column="scenario_status")
    return out


# ---------------------------------------------------------------------------------------- tables
def _accounts(data) -> xr.Dataset:
    return accounts_of(data)


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        for col, num in _RATIO.items():
            df[col] = np.where(df["employment_start"] > 0, df[num] / df["employment_start"], np.nan)
    return df


def _window_frame(w: xr.Dataset, keys: list[str]) -> pd.DataFrame:
    cols = ["employment_start", "employment_end", *FLOWS]
    df = w[cols].to_dataframe().reset_index()
    return df[[c for c in keys if c in df.columns] + cols]


def _labels(codes: pd.Series, label, lang: str) -> list[str]:
    """``label(codes, lang)`` (:func:`~pmq.labels.metier_label`, :func:`~pmq.labels.domain_label`: a code's label
    depends on the code alone), looked up once per distinct code instead of once per row."""
    keys = [str(c) for c in codes]
    distinct = list(dict.fromkeys(keys))
    found = dict(zip(distinct, label(distinct, lang)))
    return [found[k] for k in keys]


def _domain_sums(ws: xr.Dataset) -> xr.Dataset:
    """The métiers of ``ws`` summed into their FAP domains (its ``domain`` coordinate), as
    :func:`~pmq.projection.indicators.aggregate_metiers` (``by="domain"``) gives them to :func:`_window_frame`: the
    domains sorted, first dimension, then each variable's other dimensions, missing values summed as 0 — the same
    numbers bit for bit (each domain's métiers gathered as ``isel`` gathers them, summed along the same axis by numpy),
    without xarray's groupby (a Dataset per domain, then a concatenation)."""
    cols = ["employment_start", "employment_end", *FLOWS]
    group, domains = pd.factorize(pd.Series(ws["domain"].values), sort=True)     # -1: no domain, left out
    members = [np.flatnonzero(group == g) for g in range(len(domains))]
    data_vars = {}
    for c in cols:
        var = ws[c]
        axis = var.dims.index("metier")
        values = var.values
        values = np.where(np.isnan(values), 0, values) if values.dtype.kind == "f" else values
        lead: tuple[Any, ...] = (slice(None),) * axis     # indexed as xarray's isel: the same layout, the same sums
        parts = [values[(*lead, idx)].sum(axis=axis) for idx in members]
        dims = ("domain", *(d for d in var.dims if d != "metier"))
        data_vars[c] = (dims, np.stack(parts) if parts else np.zeros((0, *(ws.sizes[d] for d in dims[1:]))))
    coords: dict[Any, Any] = {"domain": np.asarray(domains, dtype=object)}
    coords |= {k: v for k, v in ws.coords.items() if k != "domain" and "metier" not in v.dims}
    return xr.Dataset(data_vars, coords=coords)


def standard_tables(data, end_years=None, territory=None, lang: str | None = None) -> dict[str, pd.DataFrame]:
    """The tables of a report: ``regions`` (territories + France), ``domaines`` and ``metiers``
    (per territory), each per scenario and window from the base year to each end year (default:
    5, 10, 20 years and 2030 where the projection reaches them).  Persons; ``*_rate`` are
    shares of initial employment.  ``territory`` restricts the domain and métier tables.

    The table of territories is named by the accounts' level (``level`` attr): ``regions`` at région level,
    ``departements`` / ``departments``, ``zones_emploi`` / ``employment_zones``, ``territoires`` /
    ``territories`` for a user's key.  Accounts of a split or estimated run (départements, zones d'emploi,
    estimated DOM) add, last, ``reliability``, ``reliability_label``, ``estimated`` and ``key_basis`` to every
    row (a sum of cells — a territory, a domain, France — is estimated if any of its cells is:
    :func:`pmq.projection.indicators.aggregate_flags`), and each table carries the run's provenance in
    ``attrs["pmq_provenance"]`` (rows that :func:`to_csv` writes to ``README.csv``)."""
    lang = check_lang(lang)
    acc = _accounts(data)
    cells = cell_flags(acc)
    base = int(acc.year.values[0])
    ends = default_end_years(acc) if end_years is None else [int(e) for e in end_years]
    keep_coords = ("territory_name", "metier_label", "domain")
    reg, dom, met = [], [], []
    for end in ends:
        w = window_sums(acc, base, end).drop_vars("employment_base")
        w = w.drop_vars([c for c in w.coords if c not in w.dims and c not in keep_coords])
        wt = w.sum("metier")
        code, name, _ = national(acc, lang)
        fr = aggregate_territories(wt.drop_vars([c for c in wt.coords if c not in wt.dims and c != "territory_name"]),
                                   code=code, name=name)
        both = xr.concat([wt, fr.drop_vars([c for c in fr.coords if c not in fr.dims and c != "territory_name"])],
                         dim="territory")
        period = f"{base}–{end}"
        r = _window_frame(both, ["scenario", "territory", "territory_name"])
        r.insert(0, "period", period)
        reg.append(r)
        ws = select(w, territory=territory) if territory is not None else w
        d = _domain_sums(ws)
        dd = _window_frame(d, ["scenario", "territory", "territory_name", "domain"])
        dd.insert(dd.columns.get_loc("domain") + 1, "domain_label", _labels(dd["domain"], domain_label, lang))
        dd.insert(0, "period", period)
        dom.append(dd)
        m = _window_frame(ws, ["scenario", "territory", "territory_name", "metier", "domain"])
        m.insert(m.columns.get_loc("metier") + 1, "metier_label", _labels(m["metier"], metier_label, lang))
        m.insert(0, "period", period)
        met.append(m)
    names = ((territory_table_name(acc.attrs.get("level"), lang), "domaines", "metiers") if lang == "fr" else
             (territory_table_name(acc.attrs.get("level"), lang), "domains", "occupations"))
    out = {n: _rates(pd.concat(t, ignore_index=True)) for n, t in zip(names, (reg, dom, met))}
    if cells is None:
        return out
    code = national(acc, lang)[0]
    flags = (pd.concat([aggregate_flags(cells, ["territory"]), aggregate_flags(cells, [], territory=code)]),
             aggregate_flags(cells, ["territory", "domain"]), cells)
    keys = (["territory"], ["territory", "domain"], ["territory", "metier"])
    prov = territory_provenance(acc.attrs, lang)
    for (n, t), f, k in zip(out.items(), flags, keys):
        out[n] = with_flags(t, f, k, lang)
        out[n].attrs["pmq_provenance"] = prov
    return out


def _scenario_titles(acc: xr.Dataset | None, lang: str) -> dict[str, str]:
    """``{scenario code: title}`` of the accounts in ``lang`` (the French title, else the code, when the
    accounts have none in that language); empty without accounts."""
    if acc is None:
        return {}
    var = "scenario_title_fr" if lang == "fr" else "scenario_title_en"
    if "scenario" in acc.dims:
        codes = [str(s) for s in acc.scenario.values]
        for v in (var, "scenario_title_fr"):
            if v in acc.coords:
                return {c: str(t) or c for c, t in zip(codes, acc[v].values)}
        return {c: c for c in codes}
    code = str(acc.attrs.get("scenario", ""))
    return {code: str(acc.attrs.get(var) or acc.attrs.get("scenario_title_fr") or code)}


def _readme_rows(acc: xr.Dataset, lang: str) -> list[list]:
    attrs = acc.attrs
    fr = lang == "fr"
    rows = [["pmq — " + ("tableaux de résultats" if fr else "result tables")], [],
            ["version de pmq" if fr else "pmq version", __version__],
            ["date", _dt.date.today().isoformat()]]
    for s, t in _scenario_titles(acc, lang).items():
        rows.append(["scénario" if fr else "scenario", s, t])
    if "scenario" not in acc.dims:
        rows.append(["empreinte (hash)" if fr else "hash", attrs.get("scenario_hash", "")])
    try:
        files = json.loads(attrs["scenario_sources"]) if "scenario_sources" in attrs else \
            {attrs.get("scenario", ""): attrs.get("scenario_source", "")}
    except ValueError:
        files = {}
    for name, status, assumed in scenario_status(attrs):
        label = status_label(status, lang, is_builtin(files.get(name, "")))
        rows.append(["statut des chiffres" if fr else "figures", name,
                     label + ((" : " if fr else ": ") + ", ".join(assumed) if assumed else "")])
    rows.append(["base", baseline_title(attrs.get("baseline_title", ""), lang)])
    sources, estimated = provenance(attrs)      # in the reader's language, as the report's page names them
    for k, v in sources.items():
        rows.append(["source", SOURCE_NAMES.get(k, (k, k))[0 if fr else 1], provenance_text(str(v), lang) or v])
    for v in estimated:
        rows.append(["estimé" if fr else "estimated", provenance_text(str(v), lang) or v])
    territorial = territory_provenance(attrs, lang)      # split or estimated run: level, key, DOM, reliability
    if territorial:
        rows += [[], ["territoires" if fr else "territories"]] + territorial
    rows += [[], ["Conventions", "Flux d'une période = somme des flux annuels de l'année de début (incluse) à l'année "
                  "de fin (exclue) ; emploi au 1er janvier." if fr else
                  "Flows of a period = sum of annual flows from the start year (included) to the end year "
                  "(excluded); employment on 1 January."]]
    return rows


# ----------------------------------------------------------------------------------- Excel sheets
#: Headers of the key and text columns of pmq's workbooks: column → (French, English).  Codes keep a column
#: of their own, their labels (:mod:`pmq.labels`) the next one; the indicators' headers are their labels
#: in :data:`pmq.labels.VARIABLE_REGISTRY`, the flags' those of :data:`pmq.projection.indicators.FLAG_LABELS`,
#: scenario, territory, domain and métier the words of :data:`pmq.labels.TEXT`.
HEADERS = {
    "period": ("Période", "Period"),
    "territory": ("Code territoire", "Territory code"),
    "domain": ("Code domaine", "Domain code"),
    "metier": ("Code métier (FAP)", "Occupation code (FAP)"),
    "indicator": ("Code indicateur", "Indicator code"),
    "indicator_label": ("Indicateur", "Indicator"),
    "compared_to": ("Comparé à", "Compared with"),
    "tension_basis": ("Niveau de la classe de tension", "Level of the tension class"),
    "bmo_projects": ("Projets de recrutement (BMO)", "Recruitment projects (BMO)"),
    "bmo_share_difficult": ("Part des projets jugés difficiles (BMO)", "Share of the projects deemed difficult (BMO)"),
}
#: Columns headed by a word of :data:`pmq.labels.TEXT`, or by another variable's label.
_TEXT_KEYS = {"scenario": "scenario", "scenario_label": "scenario", "territory_name": "territory",
              "domain_label": "domain", "metier_label": "metier", "imbalance_pct": "imbalance_rate"}
#: The key columns: headed by pmq's words in every sheet (« Code territoire », « Territoire »…), whatever headers a
#: table's ``attrs["column_labels"]`` give them (the skills tables' « Territoire » for the code).
_KEY_HEADERS = ("period", "scenario", "scenario_label", "territory", "territory_name", "domain", "domain_label",
                "metier", "metier_label")
#: The header of the scenario's code when its title is beside it (:func:`_for_reader`: « Scénario »).
SCENARIO_CODE = ("Code scénario", "Scenario code")
#: Columns headed by the labels of :data:`pmq.analysis.skills.COLUMN_LABELS` (the watch list's).
_SKILLS_KEYS = {"rank": "rank", "tension": "tension", "class": "class_dares"}
#: Excel number formats: persons (thousands separator, one decimal), shares (percent, one decimal), and the
#: same with an explicit sign for differences.  Excel shows them with the reader's separators (« 26 147,0 »).
PERSONS_FORMAT, SHARE_FORMAT = "#,##0.0", "0.0%"
PERSONS_DIFF_FORMAT, SHARE_DIFF_FORMAT = "+#,##0.0;-#,##0.0;0.0", "+0.0%;-0.0%;0.0%"
#: Numeric columns shown as they are (classes, ranks, codes).
_PLAIN = {"rank", "tension", "reliability", "class", "year"}
#: Sheets of the standard tables: pmq's table name (the key of :func:`standard_tables`, the name of its CSV file,
#: what :func:`read_excel_tables` gives back) → (French, English) sheet name; a table of another name keeps its own.
TABLE_SHEETS = {
    "regions": ("Régions", "Regions"),
    **dict.fromkeys(("departements", "departments"), ("Départements", "Departments")),
    **dict.fromkeys(("zones_emploi", "employment_zones"), ("Zones d'emploi", "Employment zones")),
    **dict.fromkeys(("territoires", "territories"), ("Territoires", "Territories")),
    **dict.fromkeys(("domaines", "domains"), ("Domaines", "Domains")),
    **dict.fromkeys(("metiers", "occupations"), ("Métiers", "Occupations")),
    **dict.fromkeys(("competences", "skills"), ("Compétences", "Skills")),
}
#: Sheets pmq adds to the tables: key → (French, English) name.
SHEET_NAMES = {"key_figures": ("Chiffres clés", "Key figures"),
               "watch_list": ("Métiers à surveiller", "Occupations to watch"),
               "differences": ("Écarts entre scénarios", "Scenario differences")}
#: Values of code columns that the workbooks show in words: column → {value: (French, English)}.  The tables and
#: their CSV files keep the values; :func:`read_excel_tables` gives them back.
READER_VALUES = {
    "tension_basis": {"departement": ("département", "département"), "region": ("région", "région"),
                      "zone_emploi": ("zone d'emploi", "employment zone"),
                      "national (regional_mean)": ("national (moyenne des niveaux régionaux)",
                                                   "national (mean of the regional levels)"),
                      "national (dares_national)": ("national (indicateur national DARES)",
                                                    "national (DARES national indicator)")},
}
#: The ROME transition flags of an item (``O`` or empty, :mod:`pmq.analysis.skills`): « oui » / « non » in the
#: workbooks (the « non rattaché » row, no item, left empty).
_ROME_FLAGS = ("transition_eco", "transition_num")
_YES_NO = {"O": ("oui", "yes"), "": ("non", "no")}


def _is_text(s: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)


def _for_reader(df: pd.DataFrame, lang: str, titles: dict) -> pd.DataFrame:
    """``df`` as a workbook shows it (the values of its CSV file stay codes): the scenario's title beside its code
    (``scenario_label``, when the titles are known), the level of the tension class in words
    (:data:`READER_VALUES`), the ROME transition flags as « oui » / « non », and without the differences from the
    first scenario (``difference``, ``*_difference``: zeros) when there is one scenario.  :func:`read_excel_tables`
    undoes each."""
    fr = lang == "fr"
    out = df.copy()
    if "scenario" in out.columns and titles and "scenario_label" not in out.columns:
        codes = out["scenario"].astype(str)
        out.insert(out.columns.get_loc("scenario") + 1, "scenario_label",
                   codes.map({c: str(titles.get(c, c)) for c in codes.unique()}))
    for col, words in READER_VALUES.items():
        if col in out.columns and _is_text(out[col]):
            out[col] = out[col].map(lambda v, w=words: w[v][0 if fr else 1] if isinstance(v, str) and v in w else v)
    for col in _ROME_FLAGS:
        if col not in out.columns or not _is_text(out[col]):
            continue
        values = out[col]
        if not values.dropna().isin(list(_YES_NO)).all():       # a fiche's class (vert, brun…): shown as it is
            continue
        none = out["code"].eq(UNREACHED[0]) if "code" in out.columns else pd.Series(False, index=out.index)
        out[col] = [v if miss or not isinstance(v, str) else _YES_NO[v][0 if fr else 1]
                    for v, miss in zip(values, none)]
    one = "scenario" not in out.columns or out["scenario"].nunique() <= 1
    zeros = [c for c in out.columns if str(c) == "difference" or str(c).endswith("_difference")]
    zeros = [c for c in zeros if pd.api.types.is_numeric_dtype(out[c]) and not out[c].fillna(0).astype(bool).any()]
    if one and zeros:
        out = out.drop(columns=zeros)
    out.attrs = dict(df.attrs)
    return out


def _from_reader(df: pd.DataFrame) -> pd.DataFrame:
    """A table read back from a workbook with pmq's column names, its values as :func:`_for_reader` found them."""
    if "scenario_label" in df.columns and "scenario" in df.columns:
        df = df.drop(columns="scenario_label")
    for col, words in READER_VALUES.items():
        if col in df.columns:
            back = {w: v for v, pair in words.items() for w in pair}
            df[col] = df[col].map(lambda v, b=back: b.get(v, v) if isinstance(v, str) else v)
    for col in _ROME_FLAGS:
        if col in df.columns:
            back = {w: v for v, pair in _YES_NO.items() for w in pair}
            values = df[col]
            if values.dropna().isin(list(back)).all():
                df[col] = values.map(lambda v, b=back: b.get(v, v) if isinstance(v, str) else v)
    return df


#: The indicators that get a sheet of their own with the periods as columns (``employment``: the years).
#: ``other_recruits`` (the balancing flow) is the potential imbalance itself: its sheet would repeat that one.
WIDE_INDICATORS = ("employment", "net_creation", "departures", "openings", "young_entrants", "net_mobility",
                   "imbalance", "departure_rate", "openings_rate", "imbalance_rate")
_LONG_SHEET_NAMES = {"net_mobility": ("Solde mobilités interrégionales", "Net inflow from other regions")}


def column_header(col, lang: str | None = None, labels: dict | None = None) -> str:
    """The header of the column ``col`` in pmq's workbooks, in ``lang``: ``labels[col]`` if given (a table's
    ``attrs["column_labels"]``), else :data:`HEADERS`, the words and variables of :mod:`pmq.labels`, the flags'
    labels; the column name itself for a column pmq does not know.  The key columns (period, scenario, territory,
    domain, métier: codes and names) are headed alike in every sheet, by pmq's words whatever ``labels`` say."""
    lang = check_lang(lang)
    i = 0 if lang == "fr" else 1
    if labels and col in labels and col not in _KEY_HEADERS:
        return str(labels[col])
    if col in HEADERS:
        return HEADERS[col][i]
    key = _TEXT_KEYS.get(col, col)
    if key in TEXT:
        return text(key, lang)
    if col in FLAG_LABELS:
        lab = FLAG_LABELS[col][i]
        return lab[:1].upper() + lab[1:]
    if col in _SKILLS_KEYS:
        return SKILLS_LABELS[_SKILLS_KEYS[col]][i]
    return str(col)


def _key_header(col, lang: str, columns, labels: dict | None = None) -> str:
    """:func:`column_header`, but « Code scénario » for the scenario's code when its title is in ``columns``."""
    if col == "scenario" and "scenario_label" in columns:
        return SCENARIO_CODE[0 if lang == "fr" else 1]
    return column_header(col, lang, labels)


def _headers(df: pd.DataFrame, lang: str) -> list[str]:
    """Headers of ``df``'s columns, each once (a repeated one gets its column name in brackets)."""
    labels = df.attrs.get("column_labels") if isinstance(df.attrs.get("column_labels"), dict) else None
    heads = [str(safe_text(_key_header(c, lang, df.columns, labels))) for c in df.columns]
    seen = {h for h in heads if heads.count(h) == 1}
    return [h if h in seen else f"{h} ({c})" for h, c in zip(heads, df.columns)]


def _is_share(col) -> bool:
    c = str(col)
    return c.endswith(("_rate", "_pct")) or c.startswith("share") or "_share" in c


def _number_format(col, s: pd.Series, diff: bool = False) -> str | None:
    """The Excel number format of a column: shares as percentages, persons with a thousands separator and one
    decimal, ranks, classes and whole counts as they are; None for text and booleans."""
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s) or str(col) in _PLAIN:
        return None
    if _is_share(col):
        return SHARE_DIFF_FORMAT if diff else SHARE_FORMAT
    if pd.api.types.is_float_dtype(s) or col in COLUMNS:
        return PERSONS_DIFF_FORMAT if diff else PERSONS_FORMAT
    return None


class _Sheet:
    """One sheet of a workbook: its table (columns: pmq's names), headers, number formats (per column, or per
    row with ``row_formats``), kind, the line the README gives it and, for a table, pmq's name of it."""

    def __init__(self, name: str, df: pd.DataFrame, kind: str, description: str, lang: str, headers=None,
                 formats=None, row_formats=None, diff: bool = False, table: str | None = None):
        self.name, self.df, self.kind, self.description = name, df, kind, description
        self.table = name if table is None else table       # pmq's name of the table (kind "table"): its CSV file's
        self.headers = list(headers) if headers is not None else _headers(df, lang)
        self.formats = list(formats) if formats is not None else \
            [_number_format(c, df.iloc[:, j], diff) for j, c in enumerate(df.columns)]
        self.row_formats = row_formats


def _grain(keys, lang: str) -> str:
    """What a row is, from its key columns: « scénario × territoire × métier »."""
    fr = lang == "fr"
    keys = [c for c in keys if c != "domain"] if "metier" in keys else keys
    parts = [w for c, w in (("scenario", "scénario" if fr else "scenario"),
                            ("territory", "territoire" if fr else "territory"),
                            ("domain", "domaine" if fr else "domain"),
                            ("metier", "métier" if fr else "occupation")) if c in keys]
    return (" × ".join(parts)) or ("ligne" if fr else "row")


def _source_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame | None:
    """The finest of the standard tables given (most key columns, then most rows): the one the sheets per
    indicator and of differences are made from; None if none has periods and indicators."""
    best, rank = None, None
    for df in tables.values():
        if "period" not in df.columns or not any(c in COLUMNS for c in df.columns):
            continue
        r = (sum(c in TEXT_COLUMNS for c in df.columns), len(df))
        if rank is None or r > rank:
            best, rank = df, r
    return best


def _key_columns(src: pd.DataFrame) -> list[str]:
    """The key and label columns of the sheets derived from ``src`` (no period; the domain's label is left to
    the long table when the rows are métiers)."""
    keys = [c for c in TEXT_COLUMNS if c in src.columns and c != "period"]     # codes, each before its label
    if "metier_label" in keys:
        keys = [c for c in keys if c != "domain_label"]
    if "scenario" in keys and "scenario_label" in src.columns:                  # the title after the code
        keys.insert(keys.index("scenario") + 1, "scenario_label")
    return keys


def _sheet_name(var: str, lang: str) -> str:
    i = 0 if lang == "fr" else 1
    if var in _LONG_SHEET_NAMES:
        return _LONG_SHEET_NAMES[var][i]
    label = text(var, lang)
    if _is_share(var):
        label = label.split(" (")[0] + " (%)"
    return label[:31]


def _wide_sheets(src: pd.DataFrame, lang: str) -> list[_Sheet]:
    """One sheet per indicator of ``src`` (:data:`WIDE_INDICATORS`): a row per key (scenario, territory, métier…),
    the periods as columns — the years for the employment (1 January of the start year, then of each end year)."""
    fr = lang == "fr"
    keys = _key_columns(src)
    flags = [c for c in FLAG_COLUMNS if c in src.columns]
    if not keys or src.duplicated(keys + ["period"]).any():
        return []
    periods = list(dict.fromkeys(src["period"].astype(str)))
    rows = src.drop_duplicates(keys)[keys + flags].reset_index(drop=True)
    index = pd.MultiIndex.from_frame(rows[keys])
    table = src.assign(period=src["period"].astype(str)).set_index(keys + ["period"])
    shown = [c for c in ("employment_start", "employment_end", *WIDE_INDICATORS) if c in src.columns]
    wide = table[shown].unstack("period").reindex(index)      # every indicator's periods as columns, at once
    grain = _grain(keys, lang)
    out = []
    for var in WIDE_INDICATORS:
        if var == "employment":
            if not {"employment_start", "employment_end"} <= set(src.columns):
                continue
            start = wide["employment_start"][periods[0]]
            ends = wide["employment_end"][periods]
            years = [periods[0].partition("–")[0] or periods[0]] + [p.partition("–")[2] or p for p in periods]
            if len(set(years)) < len(years):
                years = [f"{periods[0]} (début)" if fr else f"{periods[0]} (start)"] + periods
            values = pd.concat([start, ends], axis=1)
            values.columns = years
            what = ("une colonne par année (emploi au 1er janvier)" if fr else
                    "one column per year (employment on 1 January)")
        elif var in src.columns:
            values = wide[var][periods]
            what = "une colonne par période" if fr else "one column per period"
        else:
            continue
        df = pd.concat([rows[keys], values.reset_index(drop=True), rows[flags]], axis=1)
        fmt = SHARE_FORMAT if _is_share(var) else PERSONS_FORMAT
        formats = [None] * len(keys) + [fmt] * values.shape[1] + [None] * len(flags)
        heads = ([_key_header(c, lang, keys) for c in keys] + [str(c) for c in values.columns]
                 + [column_header(c, lang) for c in flags])
        unit = VARIABLE_REGISTRY[var].unit_fr if fr else VARIABLE_REGISTRY[var].unit_en
        out.append(_Sheet(_sheet_name(var, lang), df, "wide",
                          f"{text(var, lang)} par {grain}, {what} ; {unit}" if fr else
                          f"{text(var, lang)} by {grain}, {what}; {unit}", lang, headers=heads, formats=formats))
    return out


def _differences_sheet(src: pd.DataFrame, lang: str, titles: dict) -> _Sheet | None:
    """Each scenario minus the first, for every indicator of ``src`` (persons; shares in points), by period and
    key; None with one scenario."""
    fr = lang == "fr"
    if "scenario" not in src.columns:
        return None
    scen = list(dict.fromkeys(src["scenario"].astype(str)))
    if len(scen) < 2:
        return None
    keys = _key_columns(src)
    on = ["period"] + [c for c in keys if c not in ("scenario", "scenario_label")]
    if src.duplicated(["scenario"] + on).any():
        return None
    values = [c for c in src.columns if c in COLUMNS]
    flags = [c for c in FLAG_COLUMNS if c in src.columns]
    code = src["scenario"].astype(str)
    ref = src[code == scen[0]].set_index(on)[values]
    # the first scenario by its title when the sheets show the titles (:func:`_for_reader`), else its code
    against = src.loc[code == scen[0], "scenario_label"].iloc[0] if "scenario_label" in keys else scen[0]
    parts = []
    for s in scen[1:]:
        cur = src[code == s]
        diff = cur.set_index(on)[values] - ref.reindex(cur.set_index(on).index)
        part = cur[["period"] + keys].reset_index(drop=True)
        part.insert(keys.index("scenario_label") + 2 if "scenario_label" in keys else 2, "compared_to", against)
        parts.append(pd.concat([part, diff.reset_index(drop=True), cur[flags].reset_index(drop=True)], axis=1))
    df = pd.concat(parts, ignore_index=True)
    first = titles.get(scen[0], scen[0])
    first = first if "«" in first else f"« {first} »"
    grain = _grain([c for c in keys if c != "scenario"], lang)
    name = SHEET_NAMES["differences"][0 if fr else 1]
    return _Sheet(name, df, "differences",
                  f"Écart de chaque scénario au premier, {scen[0]} {first} : valeur du scénario − valeur de "
                  f"{scen[0]}, par période × {grain} (personnes ; taux : écart en points de %)" if fr else
                  f"Each scenario minus the first, {scen[0]} {first}, by period × {grain} (persons; rates: "
                  f"difference in percentage points)", lang, diff=True)


def _key_figures_sheet(frames, titles: dict, lang: str) -> _Sheet:
    """The report's key figures (:func:`pmq.export.report.key_figures`: rows indicators, a column per scenario)
    as one sheet: period, indicator code and label, a column per scenario (headed by its title), then each
    scenario's difference from the first."""
    fr = lang == "fr"
    frames = list(frames.values()) if isinstance(frames, dict) else \
        [frames] if isinstance(frames, pd.DataFrame) else list(frames)
    scen = [str(s) for s in frames[0].columns]
    rows, row_formats = [], []
    for kf in frames:
        a = kf.attrs
        period = a.get("period") or (f"{a['start_year']}–{a['end_year']}" if "start_year" in a else "")
        for k in kf.index:
            v = [float(kf.at[k, s]) for s in kf.columns]
            label = text(str(k), lang) if str(k) in TEXT else str(k)
            rows.append([period, str(k), label, *v, *[x - v[0] for x in v[1:]]])
            share = _is_share(k)
            row_formats.append([None, None, None] + [SHARE_FORMAT if share else PERSONS_FORMAT] * len(v)
                               + [SHARE_DIFF_FORMAT if share else PERSONS_DIFF_FORMAT] * (len(v) - 1))
    cols = ["period", "indicator", "indicator_label"] + [f"value:{s}" for s in scen] + [f"diff:{s}" for s in scen[1:]]
    df = pd.DataFrame(rows, columns=cols)
    t = [titles.get(s, s) for s in scen]
    heads = [column_header(c, lang) for c in cols[:3]] + t + [
        (f"Écart : {x} − {t[0]}" if fr else f"Difference: {x} − {t[0]}") for x in t[1:]]
    return _Sheet(SHEET_NAMES["key_figures"][0 if fr else 1], df, "key_figures",
                  "Chiffres clés du territoire du rapport, par période et scénario (personnes ; taux en % de l'emploi "
                  "initial)" if fr else "Key figures of the report's territory, by period and scenario (persons; rates "
                  "as % of initial employment)", lang, headers=[str(safe_text(h)) for h in heads],
                  formats=[None] * len(cols), row_formats=row_formats)


#: The header of the README's column of pmq's table names (the list of sheets).
_TABLE_HEAD = (("table (fichier CSV)",), ("table (CSV file)",))


def _readme_sheets(sheets: list[_Sheet], lang: str) -> list[list]:
    """The README's list of sheets (sheet, contents, and for a table pmq's name of it: its CSV file's), then its
    table of the long tables' columns (sheet, column, header, unit): what :func:`read_excel_tables` reads to give
    the tables and columns their names back."""
    fr = lang == "fr"
    rows = [[], ["feuille" if fr else "sheet", "contenu" if fr else "contents", *_TABLE_HEAD[0 if fr else 1]]]
    rows += [[s.name, s.description, *([s.table] if s.kind == "table" else [])] for s in sheets]
    rows += [[], ["feuille" if fr else "sheet", "colonne" if fr else "column", "en-tête" if fr else "header",
                  "unité" if fr else "unit"]]
    for s in sheets:
        if s.kind != "table":
            continue
        for col, head in zip(s.df.columns, s.headers):
            v = VARIABLE_REGISTRY.get(col) if col in COLUMNS else None
            rows.append([s.name, str(col), head, "" if v is None else v.unit_fr if fr else v.unit_en])
    return rows


def _table_description(name: str, df: pd.DataFrame, lang: str) -> str:
    fr = lang == "fr"
    if "period" in df.columns and any(c in COLUMNS for c in df.columns):
        grain = _grain([c for c in df.columns if c in TEXT_COLUMNS], lang)
        item = df.attrs.get("by_label")          # a skills table (pmq.analysis.skills): a row per item too
        if "code" in df.columns and isinstance(item, str) and item:
            grain += f" × {item[:1].lower()}{item[1:]}"
        return (f"Table complète : une ligne par période × {grain} ; codes et libellés dans des colonnes distinctes"
                if fr else f"Full table: one row per period × {grain}; codes and labels in columns of their own")
    return "Table" if fr else "Table"


def _write_sheet(wb, sheet: _Sheet):
    """Write ``sheet`` into the write-only workbook ``wb``: bold wrapped headers, widths from the contents (at
    most 45 characters), frozen header row — and the key columns before the first number when they take at most
    120 characters (some 900 pixels at 100 %), autofilter over the table, number formats.

    The header goes through openpyxl; the rows, when their values are text, numbers and booleans (every table
    pmq writes), are returned as ``(worksheet, their XML)`` for :func:`_splice_rows` to put into the saved file —
    the cells openpyxl would write (inline strings, ``%.16g`` numbers, the number formats' styles registered
    here), to the byte, without its cell objects and XML tree: several times faster (benchmarks/bench_excel.py).
    None when openpyxl wrote them (values of other types) or there are none."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    ws = wb.create_sheet(sheet.name)
    df = sheet.df
    n, m = df.shape
    columns = _plain_columns(df) if n else None
    widths = []
    for j, head in enumerate(sheet.headers):
        dtype = df.dtypes.iloc[j]
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            size = 11
        elif columns is not None:            # the longest text of the values, as below without pandas
            _, values, mask = columns[j]
            shown = values if mask is None else [v for v, miss in zip(values, mask) if not miss]
            size = max(map(len, map(str, shown)), default=0)
        else:
            s = df.iloc[:, j]
            size = int(s.dropna().astype(str).str.len().max()) if s.notna().any() else 0
        word = max((len(w) for w in head.split()), default=0)
        widths.append(min(max(size, word, min(len(head), 10)) + 2, 45))
        ws.column_dimensions[get_column_letter(j + 1)].width = widths[-1]
    numeric = [j for j, f in enumerate(sheet.formats) if f] or ([3] if sheet.row_formats else [])
    k = numeric[0] if numeric else 0
    ws.freeze_panes = f"{get_column_letter(k + 1)}2" if 0 < k and sum(widths[:k]) <= 120 else "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(m, 1))}{n + 1}"
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    head_cells = []
    for h in sheet.headers:
        c = WriteOnlyCell(ws, value=h)
        c.font, c.alignment = bold, wrap
        head_cells.append(c)
    ws.append(head_cells)
    if n == 0:
        return None
    if columns is not None:       # the rows' XML, written into the saved file by _splice_rows
        styles: dict = {}

        def style(fmt) -> str:    # the cell style of a number format, registered in the workbook before it is saved
            if fmt not in styles:
                c = WriteOnlyCell(ws)
                c.number_format = fmt
                styles[fmt] = f' s="{c.style_id}"'
            return styles[fmt]
        cell_styles = [[style(f) if f else "" for f in fmts] for fmts in
                       ([sheet.formats] if sheet.row_formats is None else sheet.row_formats)]
        return ws, _rows_xml(n, columns, cell_styles)
    values = df.astype(object).where(df.notna(), None)   # values of other types (dates…): openpyxl's cells
    fixed = [(j, f) for j, f in enumerate(sheet.formats) if f]
    for i, row in enumerate(values.itertuples(index=False, name=None)):
        cells = list(row)
        formats = fixed if sheet.row_formats is None else [(j, f) for j, f in enumerate(sheet.row_formats[i]) if f]
        for j, f in formats:
            if isinstance(cells[j], (int, float)) and not isinstance(cells[j], bool):
                c = WriteOnlyCell(ws, value=cells[j])
                c.number_format = f
                cells[j] = c
        ws.append(cells)
    return None


#: Types of the values the sheet writer turns into XML itself (:func:`_rows_xml`); a table holding any other
#: (dates, decimals…) is written through openpyxl's cells.
_PLAIN_TYPES = (str, bool, int, float, np.integer, np.floating, np.bool_)
#: What an .xlsx cannot hold (as :func:`pmq.outputs.safe_text` replaces it: control characters, non-characters,
#: lone surrogates), and the longest text a cell holds (openpyxl's limit).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_MAX_TEXT = 32767
#: Rows of XML put together at a time.
_ROWS_CHUNK = 4096


def _plain_columns(df: pd.DataFrame) -> list[tuple[str, list, list | None]] | None:
    """``df``'s columns as ``(kind, Python values, missing-value mask or None)``, the values as openpyxl's cells would
    take them from ``df.astype(object)`` (numpy scalars of numeric columns made ``int``, ``float``, ``bool``); kind
    ``"number"`` (finite numbers and missing values), ``"bool"`` or ``"mixed"``.  None when a column holds a value
    of a type :func:`_cells_xml` does not write (dates, decimals…)."""
    out: list[tuple[str, list, list | None]] = []
    for j in range(df.shape[1]):
        s = df.iloc[:, j]
        na = s.isna().to_numpy()
        mask = na.tolist() if na.any() else None
        if isinstance(s.dtype, np.dtype) and s.dtype.kind in "biuf":
            arr = s.to_numpy()
            kind = "bool" if s.dtype.kind == "b" else \
                "number" if s.dtype.kind in "iu" or np.isfinite(arr[~na]).all() else "mixed"
            out.append((kind, arr.tolist(), mask))
            continue
        values = s.astype(object).tolist()
        kinds = {type(v) for v, miss in zip(values, mask or [False] * len(values)) if not miss}
        if not all(issubclass(t, _PLAIN_TYPES) for t in kinds):
            return None
        out.append(("mixed", values, mask))
    return out


def _text_xml(value: str, lxml: bool = False) -> str:
    """An inline-string cell after its reference, as openpyxl writes one — but never a formula nor an error: every
    text cell is text, what cannot be in XML replaced.  Spaces at the ends are kept when there is text between them,
    a carriage return is read back as a line feed; with ``lxml`` (openpyxl writing through lxml, when installed)
    spaces are kept always and a carriage return is kept, as openpyxl's lxml writer does."""
    value = value[:_MAX_TEXT]
    if _XML_ILLEGAL.search(value):
        value = _XML_ILLEGAL.sub("\ufffd", value)
    if not value:
        return ' t="inlineStr" />'
    stripped = value.strip()
    space = ' xml:space="preserve"' if (lxml or stripped) and value != stripped else ""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if lxml:
        value = value.replace("\r", "&#13;")
    return f' t="inlineStr"><is><t{space}>{value}</t></is></c>'


def _number_xml(value, style: str) -> str:
    """A number cell after its reference, the value written as openpyxl writes it (``%.16g``; none for an infinite
    one)."""
    text = f"{float(value):.16g}"
    if text in ("inf", "-inf", "nan"):
        return f'{style} t="n"><v /></c>'
    return f'{style} t="n"><v>{text}</v></c>'


def _cells_xml(kind: str, values: list, mask: list | None, letter: str, first: int, style,
               lxml: bool = False) -> list[str]:
    """The XML of one column's cells, rows ``first``…: a missing value gives no cell (``""``); text, booleans and
    numbers their cells; the number format (``style``: the ``s`` attribute, one for the column or one per row) only
    on ``int`` and ``float`` values — the cells the sheets wrote through openpyxl."""
    rows = range(first, first + len(values))
    if kind == "number" and isinstance(style, str):
        out = [f'<c r="{letter}{i}"{style} t="n"><v>{v:.16g}</v></c>' for i, v in zip(rows, values)]
    elif kind == "bool":
        out = [f'<c r="{letter}{i}" t="b"><v>{int(v)}</v></c>' for i, v in zip(rows, values)]
    else:
        styles = [style] * len(values) if isinstance(style, str) else style
        texts: dict[str, str] = {}              # labels repeat down a column: each made once
        out = []
        for i, v, st, miss in zip(rows, values, styles, mask or [False] * len(values)):
            if miss:
                out.append("")
                continue
            if isinstance(v, str):
                body = texts.get(v)
                if body is None:
                    body = texts[v] = _text_xml(v, lxml)
            elif isinstance(v, bool):
                body = f' t="b"><v>{int(v)}</v></c>'
            elif isinstance(v, (int, float)):
                body = _number_xml(v, st)
            else:                               # numpy scalars of an object column: numbers, unformatted
                body = _number_xml(v, "")
            out.append(f'<c r="{letter}{i}"{body}')
        return out
    if mask is not None:
        out = ["" if miss else x for x, miss in zip(out, mask)]
    return out


def _rows_xml(n: int, columns: list[tuple[str, list, list | None]], styles: list[list[str]]):
    """The ``<row>`` elements of a table's ``n`` rows (from row 2, below the header), a chunk at a time: ``columns``
    from :func:`_plain_columns`, ``styles`` the ``s`` attribute of each column's cells (one list for every row,
    or one per row).  The XML openpyxl writes for the same cells, to the byte."""
    from openpyxl import LXML
    from openpyxl.utils import get_column_letter
    letters = [get_column_letter(j + 1) for j in range(len(columns))]
    for start in range(0, n, _ROWS_CHUNK):
        stop = min(start + _ROWS_CHUNK, n)
        cols = []
        for j, ((kind, values, mask), letter) in enumerate(zip(columns, letters)):
            style = styles[0][j] if len(styles) == 1 else [r[j] for r in styles[start:stop]]
            cols.append(_cells_xml(kind, values[start:stop], None if mask is None else mask[start:stop], letter,
                                   start + 2, style, LXML))
        cells = zip(*cols) if cols else [()] * (stop - start)
        yield "".join(f'<row r="{i}">{"".join(row)}</row>' for i, row in enumerate(cells, start=start + 2))


def _splice_rows(book, path: Path, rows: dict) -> None:
    """Write the workbook ``book`` (the bytes openpyxl saved) to ``path``, each sheet of ``rows`` (its file in the
    package → the XML of its rows below the header) with those rows put at the end of its ``<sheetData>``; every
    other part as openpyxl wrote it."""
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            body = rows.get(info.filename)
            if body is None:
                zout.writestr(info, data)
                continue
            end = data.rfind(b"</sheetData>")
            if end < 0:
                raise RuntimeError(f"no </sheetData> in {info.filename} as openpyxl wrote it")
            with tempfile.TemporaryFile() as tmp:      # a sheet of any size, not held in memory
                tmp.write(data[:end])
                for chunk in body:
                    tmp.write(chunk.encode("utf-8"))
                tmp.write(data[end:])
                size = tmp.tell()
                tmp.seek(0)
                part = zipfile.ZipInfo(info.filename, info.date_time)
                part.compress_type, part.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
                with zout.open(part, "w", force_zip64=size > (1 << 31) - 1) as f:
                    shutil.copyfileobj(tmp, f, 1 << 20)


def to_excel(tables: dict[str, pd.DataFrame], path, accounts: xr.Dataset | None = None, lang: str | None = None,
             readme: list[list] | None = None, *, key_figures=None, watch: pd.DataFrame | None = None,
             wide: bool = True) -> Path:
    """A workbook for analysts: a first ``README`` sheet (version, scenarios, sources, estimated inputs,
    conventions, what each sheet holds, the header and unit of every column), then:

    * ``key_figures`` (the report's :func:`~pmq.export.report.key_figures`, one frame per horizon): « Chiffres
      clés », a column per scenario and each one's difference from the first; ``watch`` (a
      :func:`pmq.analysis.imbalance.watch_list`): « Métiers à surveiller »;
    * every table of ``tables`` (long format), the standard ones under a name in ``lang`` (:data:`TABLE_SHEETS`:
      « Régions », « Domaines », « Métiers », « Compétences »…; another table under its own name);
    * with two scenarios or more, « Écarts entre scénarios »: each scenario minus the first;
    * with ``wide``, one sheet per indicator (« Postes à pourvoir »…) with the periods as columns — the years
      for « Emploi » — a row per scenario × territory × métier (the finest of the tables).

    Headers are in ``lang`` (:func:`column_header`: « Code territoire », « Territoire », « Postes à
    pourvoir »…), codes and labels in columns of their own; every table sheet has its header row frozen
    (with the key columns when they fit), an autofilter, persons with a thousands separator and one decimal,
    shares as percentages.  The sheets show words where the tables hold codes (:func:`_for_reader`): the scenario's
    title (« Scénario ») beside its code (« Code scénario »), the level of the tension class (« département »), the
    ROME transition flags (« oui » / « non »); a table of one scenario leaves out its differences from the first
    (zeros).  :func:`read_excel_tables` gives the long tables back with pmq's names and values.
    Every text cell, README included, goes through :func:`safe_text`: a label that would be a formula
    (``=…``, ``+…``, ``-…``, ``@…``) is written as text with a leading ``'``; numbers stay numbers.  Written
    atomically (openpyxl's write-only mode)."""
    lang = check_lang(lang)
    fr = lang == "fr"
    i = 0 if fr else 1
    reserved = {"README", *(v[i] for v in SHEET_NAMES.values())}
    if wide:
        reserved |= {_sheet_name(v, lang) for v in WIDE_INDICATORS}
    names = {n: TABLE_SHEETS[n][i] if n in TABLE_SHEETS else n for n in tables}     # table → its sheet
    taken = list(names.values())
    bad = [n for n, sheet in names.items() if len(sheet) > 31 or any(ch in sheet for ch in "[]:*?/\\")
           or sheet in reserved or taken.count(sheet) > 1]
    if bad:
        raise ArgumentError(tr("invalid Excel sheet names (at most 31 characters, none of []:*?/\\, not README nor "
                               "the name of a sheet pmq adds, one sheet per table)",
                               "noms de feuilles Excel invalides (31 caractères au plus, aucun de []:*?/\\, ni README "
                               "ni le nom d'une feuille que pmq ajoute, une feuille par tableau)"), name="tables", value=bad)
    rows = readme if readme is not None else (_readme_rows(accounts, lang) if accounts is not None else [])
    titles = _scenario_titles(accounts, lang)
    safe = {name: neutralise(_for_reader(df, lang, titles)) for name, df in tables.items()}
    sheets: list[_Sheet] = []
    if key_figures is not None and len(key_figures):
        sheets.append(_key_figures_sheet(key_figures, titles, lang))
    if watch is not None:
        sheets.append(_Sheet(SHEET_NAMES["watch_list"][i], neutralise(_for_reader(watch.reset_index(drop=True),
                                                                                  lang, titles)), "watch_list",
                             "Métiers à surveiller (typologie DARES : tensions qui pourraient s'accentuer, nouvelles "
                             "difficultés potentielles de recrutement), classés par déséquilibre potentiel" if fr else
                             "Occupations to watch (DARES typology: tensions that could worsen, new potential hiring "
                             "difficulties), ranked by potential imbalance", lang))
    sheets += [_Sheet(names[name], df, "table", _table_description(name, df, lang), lang, table=name)
               for name, df in safe.items()]
    src = _source_table(safe)
    if src is not None:
        diff = _differences_sheet(src, lang, titles)
        if diff is not None:
            sheets.append(diff)
        if wide:
            sheets += _wide_sheets(src, lang)
    # Labels come from user data and scenario files: no text cell may become a formula.
    rows = [[safe_text(v) for v in r] for r in [*rows, *_readme_sheets(sheets, lang)]]

    def write(tmp: Path):
        from openpyxl import Workbook
        wb = Workbook(write_only=True)
        try:
            ws = wb.create_sheet("README")
            for letter, width in zip("ABCD", (22, 40, 60, 30)):
                ws.column_dimensions[letter].width = width
            for r in rows:
                ws.append(list(r))
            bodies = [body for body in (_write_sheet(wb, sheet) for sheet in sheets) if body is not None]
            book = io.BytesIO()
            wb.save(book)
        except BaseException:
            _close_sheets(wb)
            raise
        _splice_rows(book, tmp, {ws.path.lstrip("/"): body for ws, body in bodies})
    return atomic_file(Path(path), write)


def _close_sheets(wb) -> None:
    """Close the sheets of a write-only workbook whose writing failed: left open, each would print an
    « Exception ignored » traceback when Python collects it (the file is removed by :func:`atomic_file`)."""
    for ws in wb.worksheets:
        try:
            if not ws.closed:
                ws.close()
        except Exception:  # noqa: BLE001 - already failing: the first error is the one to show
            pass


#: Text columns of the standard tables (codes such as « 11 » or « 93 » must stay text).
TEXT_COLUMNS = ("period", "scenario", "territory", "territory_name", "domain", "domain_label", "metier",
                "metier_label")


def _column_table(readme: pd.DataFrame) -> dict[str, dict[str, str]]:
    """``{sheet: {header: column}}`` from the README's table of columns (:func:`_readme_sheets`); empty for a
    workbook without it."""
    out: dict[str, dict[str, str]] = {}
    start = None
    for k, row in enumerate(readme.itertuples(index=False, name=None)):
        cells = ["" if v is None or v != v else str(v) for v in row[:3]] + [""] * 3
        if start is None:
            if (cells[0], cells[1]) in (("feuille", "colonne"), ("sheet", "column")):
                start = k
            continue
        if cells[0] and cells[1]:
            out.setdefault(cells[0], {})[cells[2] or cells[1]] = cells[1]
    return out


def _sheet_tables(readme: pd.DataFrame) -> dict[str, str]:
    """``{sheet: pmq's table name}`` from the README's list of sheets (:func:`_readme_sheets`, third column); empty
    for a workbook without it (an earlier pmq's: its sheets were named as the tables)."""
    out: dict[str, str] = {}
    started = False
    for row in readme.itertuples(index=False, name=None):
        cells = ["" if v is None or v != v else str(v) for v in row[:3]] + [""] * 3
        if not started:
            started = (cells[0], cells[1]) in (("feuille", "contenu"), ("sheet", "contents"))
            continue
        if not cells[0]:
            break
        if cells[2]:
            out[cells[0]] = cells[2]
    return out


def read_excel_tables(path) -> dict[str, pd.DataFrame]:
    """Read back the tables of a workbook of :func:`to_excel` — the long tables, under pmq's table names
    (``regions``, ``metiers``…, whatever the sheets are called: « Régions », « Métiers »…) and column names
    (``territory``, ``openings``…) whatever the language of the headers, codes kept as text, the values the sheets
    show in words given back as codes (scenario titles left out; « département » → ``departement``; « oui » /
    « non » → ``O`` / empty).  The differences from the first scenario that a one-scenario sheet leaves out are not
    given back.  The sheets pmq derives from the tables (key figures, watch list, differences, one per indicator)
    are left out; a workbook of an earlier pmq (sheets named as the tables, or headers that are pmq's names) gives
    every table sheet (every sheet but README) under its sheet's name."""
    with pd.ExcelFile(path) as xl:
        names = xl.sheet_names
        readme = pd.read_excel(xl, sheet_name="README", header=None) if "README" in names else None
        columns = _column_table(readme) if readme is not None else {}
        tables = _sheet_tables(readme) if readme is not None else {}
        wanted = [n for n in columns if n in names] or [n for n in names if n != "README"]
        out = {}
        for n in wanted:
            mapping = columns.get(n, {})
            dtype = {c: str for c in TEXT_COLUMNS} | {h: str for h, c in mapping.items() if c in TEXT_COLUMNS}
            df = pd.read_excel(xl, sheet_name=n, dtype=dtype)
            df = df.rename(columns={h: c for h, c in mapping.items() if h in df.columns})
            out[tables.get(n, n)] = _from_reader(df) if mapping else df
    return out


#: Decimals of the numbers of pmq's CSV tables (as ``summary.csv``): persons to the thousandth, shares, rates and
#: ratios to 6 decimals (3 would round a rate to 0.1 point).  Read back, a number is within 5e-4 (persons) or
#: 5e-7 (shares) of the table's.
PERSONS_DECIMALS, SHARE_DECIMALS = 3, 6


def _is_ratio(col) -> bool:
    """A column of shares, rates or ratios (not persons): ``*_rate``, ``*_pct*``, ``share*``, ``*_share*``,
    ``*ratio*``.  Other numbers (persons, a tension level) take 3 decimals."""
    c = str(col)
    return _is_share(c) or "_pct" in c or "ratio" in c


def csv_decimals(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its float columns of shares, rates and ratios (:func:`_is_ratio`) as text with
    :data:`SHARE_DECIMALS` decimals (a missing value empty): written with ``float_format="%.3f"``
    (:data:`PERSONS_DECIMALS`, the persons), every number of the file has the decimals of pmq's CSV tables."""
    out = df.copy()
    for j, col in enumerate(df.columns):
        s = df.iloc[:, j]
        if pd.api.types.is_float_dtype(s.dtype) and _is_ratio(col):
            out.isetitem(j, pd.Series([f"{v:.{SHARE_DECIMALS}f}" if v == v else "" for v in s.tolist()],
                                      index=s.index, dtype=object))
    return out


def write_table_csv(df: pd.DataFrame, path, *, dialect=None) -> Path:
    """Write the table ``df`` to the CSV file ``path`` as pmq's CSV tables are (``pmq export``'s, ``imbalance.csv``):
    persons to :data:`PERSONS_DECIMALS` decimals, shares, rates and ratios to :data:`SHARE_DECIMALS`
    (:func:`csv_decimals`), UTF-8 with a byte-order mark, text fields through :func:`safe_text`, the separator and
    decimal mark of ``dialect`` (default: the current :func:`pmq.outputs.csv_dialect`)."""
    return write_frame_csv(csv_decimals(df), path, float_format=f"%.{PERSONS_DECIMALS}f", dialect=dialect)


def to_csv(tables: dict[str, pd.DataFrame], folder, *, sep: str | None = None, decimal: str | None = None) -> list[Path]:
    """One CSV per table (``<name>.csv``) in ``folder``, written atomically (:func:`write_table_csv`): persons to 3
    decimals, shares and rates to 6 (:data:`PERSONS_DECIMALS`, :data:`SHARE_DECIMALS`, as ``summary.csv``), UTF-8
    with a byte-order mark so that Excel opens accents correctly, text cells through :func:`safe_text` (no formula
    from a label), pmq's column names as headers.  ``sep`` (``","`` or ``";"``) and ``decimal`` default to the
    current :func:`pmq.outputs.csv_dialect` (comma and decimal point unless set; ``sep=";"`` gives a decimal
    comma, as French Excel reads).

    Tables of a split or estimated run (:func:`standard_tables` of départements, zones d'emploi, estimated DOM)
    carry their provenance (level, key source, estimated DOM, the reliability classes) in
    ``attrs["pmq_provenance"]``: it is written to ``README.csv`` beside them (two columns, ``name, value``)."""
    dialect = None if sep is None and decimal is None else csv_dialect_of(sep, decimal)
    files = {f"{n}.csv": (lambda p, df=df: write_table_csv(df, p, dialect=dialect)) for n, df in tables.items()}
    prov = next((df.attrs["pmq_provenance"] for df in tables.values() if df.attrs.get("pmq_provenance")), None)
    if prov and "README.csv" not in files:
        readme = neutralise(pd.DataFrame([list(r) + [""] * (2 - len(r)) for r in prov], columns=["name", "value"]),
                            csv=True)
        files["README.csv"] = lambda p, df=readme: df.to_csv(p, index=False, encoding="utf-8-sig")
    return write_atomically(Path(folder), files, dialect=dialect)
