"""Checks and tables that document a scenario: sourced figures against what pmq applies.

:func:`source_check` answers « does the deviation from the reference, summed over métiers,
equal the source's figure at the source's horizon? » for every demand lever given in
persons: the levers are applied one after the other to the trend employment path and each
lever's contribution (employment after it minus before it, summed over every territory and
métier) is read at each anchor year.  The « Total » rows compare the sum of the sourced
figures with the difference between the scenario's and the reference's projected employment.

:func:`published_check` is the check that is not circular: the registry
``pmq/data/published/figures.toml`` holds, apart from the levers, the figures each built-in
scenario claims to reproduce (value, unit, year, quote, URL, confidence) and the comparisons it
does not claim to reproduce (with the reason); the function computes each from a projection.
:func:`plausibility_check` bounds how far a scenario moves any métier from the reference.

``python -m pmq.analysis.sources`` rewrites the generated sections of ``docs/scenarios/*.md``
(between ``<!-- generated:start -->`` and ``<!-- generated:end -->``); the test suite checks
that they are up to date.
"""
from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from pmq.errors import ScenarioError
from pmq.formatting import check_lang, format_number
from pmq.options import tr
from pmq.scenario.read import (LEVER_SECTIONS, PROVENANCE_KEYS, TEXT_LANGS, Scenario, builtin_scenarios, lever_status,
                               provenance_in, read_scenario, status_label, text_in)
from pmq.scenario import levers as lv
from pmq.scenario.sectors import sectors
from pmq.inputs.baseline import load_baseline
from pmq.model.paths import input_paths
from pmq.data import data_path
from pmq.projection.compare import project_many
from pmq.projection.prepare import employment_path
from pmq.testing import text_differences

__all__ = ["source_check", "lever_table", "lever_parameters", "SECTION_LABELS", "markdown_section",
           "published_figures", "published_check", "plausibility_check"]

START, END = "<!-- generated:start -->", "<!-- generated:end -->"


def source_check(scenario: Scenario | str, baseline=None, reference: str = "reference") -> pd.DataFrame:
    """Sourced demand figures against pmq's deviation from the reference, summed over métiers.

    Returns one row per (lever, anchor year) with ``source_value`` and ``pmq_value``
    (persons) and ``rel_diff``, plus « Total » rows per anchor year computed from the
    projected employment of the scenario and of ``reference``.
    """
    if baseline is None:
        baseline = load_baseline()
    if isinstance(scenario, str):
        scenario = read_scenario(scenario)
    ctx = lv.Context.from_baseline(baseline, source=scenario.source)
    dem = scenario.demand_levers()
    if not dem:
        return pd.DataFrame(columns=["lever", "label", "applies_to", "year", "source_value", "pmq_value",
                                     "rel_diff"])
    base = ctx.base_year
    n = max([scenario.horizon] + [lv.last_year(x) - base for x in dem])
    e0 = baseline["employment"].sum("age").transpose("territory", "metier").values
    emp, *_ = input_paths(e0, baseline["published_net_creation"].values,
                          baseline["published_young_entrants"].values,
                          baseline["published_net_mobility"].values, int(baseline.attrs["n_period"]), n,
                          scenario.rules, territory_axis=0)
    rows = []
    totals: dict[int, float] = {}
    ref = read_scenario(reference)
    ref_emp, *_ = input_paths(e0, baseline["published_net_creation"].values,
                              baseline["published_young_entrants"].values,
                              baseline["published_net_mobility"].values, int(baseline.attrs["n_period"]),
                              n, ref.rules, territory_axis=0)
    for lever in dem:
        after = lv.apply_demand(emp, [lever], ctx)
        contrib = (after - emp).sum((1, 2))
        emp = after
        if lever["kind"] != "deviation" or lever.get("unit", "persons") != "persons":
            continue
        applies = lever.get("sector") or ("weights" if "weights" in lever else None) or \
            ",".join(lever.get("metier", lever.get("domain", []))) or "all"
        for y, v in lever["anchors"].items():
            y = int(y)
            if v == 0 or not 0 <= y - base <= n:
                continue
            rows.append({"lever": lever["id"], "label": lever.get("label", ""), "applies_to": applies,
                         "year": y, "source_value": float(v), "pmq_value": float(contrib[y - base])})
            totals[y] = totals.get(y, 0.0) + float(v)
    for y, v in sorted(totals.items()):
        diff = float((emp[y - base] - ref_emp[y - base]).sum())
        rows.append({"lever": "Total", "label": "écart à la référence, tous métiers", "applies_to": "all",
                     "year": y, "source_value": v, "pmq_value": diff})
    df = pd.DataFrame(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        df["rel_diff"] = (df["pmq_value"] - df["source_value"]) / df["source_value"].abs()
    return df


def lever_table(scenario: Scenario, lang: str | None = None) -> pd.DataFrame:
    """Every lever of a scenario with its parameters and provenance, its texts in ``lang`` (default: pmq's
    option, French unless set; :func:`pmq.scenario.read.text_in`: a text the file gives in one language only
    is shown as it is): ``section``, ``section_label`` (:data:`SECTION_LABELS`), ``id``, ``label``,
    ``parameters`` (the table's keys as written, ``kind = deviation; anchors = …``), ``parameters_text``
    (the same in words, :func:`lever_parameters`), ``status`` (« sourced », « split_assumed », « assumed »,
    :func:`pmq.scenario.read.lever_status`), ``source``, ``assumption``, ``method``, ``basis``,
    ``weights_source``, ``weights_assumption``."""
    lang = check_lang(lang)
    rows = []
    for section in LEVER_SECTIONS:
        for lever in scenario.lever_list(section):
            params = {k: v for k, v in lever.items() if k not in ("id", "label") and k not in PROVENANCE_KEYS
                      and not _is_version(k)}
            prov = provenance_in(lever, lang)
            rows.append({"section": section, "section_label": SECTION_LABELS[section][lang], "id": lever["id"],
                         "label": text_in(lever, "label", lang),
                         "parameters": "; ".join(f"{k} = {v}" for k, v in params.items()),
                         "parameters_text": lever_parameters(section, lever, lang),
                         "status": lever_status(lever),
                         **{k: getattr(prov, k) for k in PROVENANCE_KEYS}})
    return pd.DataFrame(rows, columns=["section", "section_label", "id", "label", "parameters", "parameters_text",
                                       "status", *PROVENANCE_KEYS])


def _is_version(key: str) -> bool:
    """``assumption_fr``, ``label_en``…: a language version of a text, not a parameter."""
    base, sep, lang = key.rpartition("_")
    return bool(sep) and lang in TEXT_LANGS and base in ("label", *PROVENANCE_KEYS)


# ---------------------------------------------------------------- lever parameters in words
#: What each lever section acts on, as a reader names it: section → {lang: label}.
SECTION_LABELS = {
    "demand.adjust": {"fr": "Emploi (demande de travail)", "en": "Employment (labour demand)"},
    "young_entrants.adjust": {"fr": "Jeunes débutants", "en": "Young entrants"},
    "net_mobility.adjust": {"fr": "Mobilités interrégionales", "en": "Inter-regional mobility"},
    "exits.shift": {"fr": "Départs en fin de carrière (calendrier décalé)",
                    "en": "End-of-career departures (schedule shifted)"},
    "exits.cohort_shift": {"fr": "Départs en fin de carrière (décalage par génération)",
                           "en": "End-of-career departures (shift by birth cohort)"},
    "exits.multiplier": {"fr": "Départs en fin de carrière (taux multipliés)",
                         "en": "End-of-career departures (rates multiplied)"},
    "supply.leavers": {"fr": "Sortants de formation initiale", "en": "Leavers from initial education"},
    "supply.matrix": {"fr": "Passage de la formation au métier", "en": "Formation → occupation allocation"},
    "uncertainty.parameter": {"fr": "Incertitude (paramètre tiré)", "en": "Uncertainty (drawn parameter)"},
    "uncertainty.correlation": {"fr": "Incertitude (corrélation)", "en": "Uncertainty (correlation)"},
}
_AFTER = {
    "hold": ("maintenu ensuite", "held after"),
    "proportional": ("proportionnel au tendanciel ensuite", "proportional to the trend after"),
    "reference": ("ensuite, retour à la croissance tendancielle", "after, the trend's growth resumes"),
    "continue": ("ensuite, la même croissance se poursuit", "after, the same growth continues"),
    "constant_level": ("ensuite, niveau constant", "after, a constant level"),
}
_TARGET_AFTER = {"reference": ("ensuite, rapport au tendanciel maintenu", "after, the ratio to the trend is kept")}
_UNCERTAIN_KINDS = {
    "exit_age_shift": ("décalage de l'âge de fin de carrière (années)", "shift of the end-of-career exit age (years)"),
    "growth": ("écart de croissance annuelle de l'emploi, par domaine", "deviation of annual employment growth, by domain"),
    "young_entrants": ("jeunes débutants (écart relatif)", "young entrants (relative deviation)"),
    "mobility": ("intensité des mobilités interrégionales (écart relatif)",
                 "intensity of inter-regional mobility (relative deviation)"),
    "key_shares": ("parts de la clé de répartition infrarégionale", "shares of the sub-regional split key"),
}


def _num(v, lang: str, sign: bool = False) -> str:
    """A parameter's number as written in the file, in the reader's format: every decimal it has (up to 6),
    no more (``0.083333`` → « 0,083333 », ``450000`` → « 450 000 »)."""
    x = float(v)
    if x.is_integer():
        return format_number(x, 0, lang, sign=sign)
    decimals = len(f"{abs(x):.6f}".rstrip("0").split(".")[1])
    return format_number(x, decimals, lang, sign=sign)


def _pct(v, lang: str, sign: bool = False) -> str:
    """A share (0.104) as a percentage with the decimals it has (« 10,4 % »)."""
    s = _num(round(float(v) * 100, 6), lang, sign)
    return s + ("\u202f%" if lang == "fr" else "%")


def _years(a, b, lang: str) -> str:
    """« de 2025 à 2030 », « à partir de 2025 », « jusqu'en 2030 » ("from 2025 to 2030"…); "" when neither."""
    fr = lang == "fr"
    if a is not None and b is not None:
        return f"de {a} à {b}" if fr else f"from {a} to {b}"
    if a is not None:
        return f"à partir de {a}" if fr else f"from {a}"
    if b is not None:
        return f"jusqu'en {b}" if fr else f"until {b}"
    return ""


def _ages(lever: dict, lang: str) -> str:
    lo, hi = lever.get("min_age"), lever.get("max_age")
    fr = lang == "fr"
    if lo is not None and hi is not None:
        return f"de {lo} à {hi} ans" if fr else f"ages {lo} to {hi}"
    if lo is not None:
        return f"à partir de {lo} ans" if fr else f"from age {lo}"
    if hi is not None:
        return f"jusqu'à {hi} ans" if fr else f"up to age {hi}"
    return ""


def _selection(lever: dict, lang: str) -> list[str]:
    """The cells a lever acts on, in words (codes kept: they are the FAP's)."""
    fr = lang == "fr"
    out = []
    if "metier" in lever:
        out.append(("métiers : " if fr else "occupations: ") + ", ".join(lever["metier"]))
    if "domain" in lever:
        out.append(("domaines FAP : " if fr else "FAP domains: ") + ", ".join(lever["domain"]))
    if "sector" in lever:
        tab = sectors().set_index("sector")
        name = str(tab.loc[lever["sector"], "label_fr" if fr else "label_en"]) if lever["sector"] in tab.index \
            else lever["sector"]
        out.append(f"secteur « {name} », réparti entre métiers par la clé secteur × métier de la Dares" if fr else
                    f"sector “{name}”, split over occupations by the DARES sector × occupation key")
    if "weights" in lever:
        out.append(("répartition entre métiers : " if fr else "split over occupations: ")
                    + ", ".join(f"{m} {_pct(w, lang)}" for m, w in lever["weights"].items()))
    if "territory" in lever:
        out.append(("territoires : " if fr else "territories: ") + ", ".join(map(str, lever["territory"])))
    if "level" in lever:
        out.append(("formations : " if fr else "formations: ") + ", ".join(lever["level"]))
    return out


def lever_parameters(section: str, lever: dict, lang: str | None = None) -> str:
    """A lever's parameters in words, in ``lang``: « écart au tendanciel : 0 en 2020, +450 000 en 2050,
    maintenu ensuite » ("deviation from the trend: 0 in 2020, +450,000 in 2050, held after"); its selection
    (métiers, sector, weights, territories) follows."""
    lang = check_lang(lang)
    fr = lang == "fr"
    i = 0 if fr else 1
    parts: list[str] = []
    kind = lever.get("kind")
    if section == "demand.adjust" and kind == "deviation":
        pct = lever.get("unit", "persons") == "percent"
        fmt = (lambda v: _num(v, lang, sign=True) + ("\u202f%" if fr else "%")) if pct else \
            (lambda v: _num(v, lang, sign=True))
        what = ("écart au tendanciel, en % de chaque cellule" if pct else "écart au tendanciel") if fr else \
            ("deviation from the trend, in % of each cell" if pct else "deviation from the trend")
        anchors = ", ".join(f"{fmt(v)} {'en' if fr else 'in'} {y}" for y, v in lever["anchors"].items())
        parts.append(f"{what}{' :' if fr else ':'} {anchors}, {_AFTER[lever.get('after', 'hold')][i]}")
    elif section == "demand.adjust" and kind == "growth":
        y0, y1 = lever["period"][0], lever["period"][-1]
        parts.append((f"croissance de {_pct(lever['rate'], lang, sign=True)} par an {_years(y0, y1, lang)}" if fr else
                      f"growth of {_pct(lever['rate'], lang, sign=True)} a year {_years(y0, y1, lang)}")
                     + ", " + _AFTER[lever.get("after", "reference")][i])
    elif section == "demand.adjust" and kind == "target":
        after = lever.get("after", "reference")
        parts.append((f"cible : {_num(lever['value'], lang)} personnes en {lever['year']}, atteinte progressivement "
                       f"à partir de {lever['from_year']}" if fr else
                       f"target: {_num(lever['value'], lang)} persons in {lever['year']}, phased in from "
                       f"{lever['from_year']}") + ", " + _TARGET_AFTER.get(after, _AFTER[after])[i])
    elif section in ("young_entrants.adjust", "net_mobility.adjust", "supply.leavers", "supply.matrix"):
        what = {"young_entrants.adjust": ("jeunes débutants", "young entrants"),
                "net_mobility.adjust": ("solde des mobilités", "net mobility"),
                "supply.leavers": ("volumes de sortants", "leaver volumes"),
                "supply.matrix": ("part orientée vers ces métiers", "share allocated to these occupations")}[section][i]
        when = _years(lever.get("from_year"), lever.get("to_year"), lang)
        parts.append(f"{what} × {_num(lever['factor'], lang)}" + (f" {when}" if when else ""))
    elif section == "exits.shift":
        y0, y1 = lever["from_year"], lever.get("full_year")
        years = _num(lever["years"], lang, sign=True)
        unit = ("an" if abs(float(lever["years"])) <= 1 else "ans") if fr else \
            ("year" if abs(float(lever["years"])) == 1 else "years")
        phase = (f"progressivement de {y0} à {y1}" if fr else f"phased in from {y0} to {y1}") \
            if y1 is not None and y1 != y0 else (f"à partir de {y0}" if fr else f"from {y0}")
        parts.append(f"calendrier des départs décalé de {years} {unit}, {phase}" if fr else
                      f"exit schedule shifted by {years} {unit}, {phase}")
    elif section == "exits.cohort_shift":
        steps = [f"{c} : {_num(v, lang, sign=True)}" if fr else f"{c}: {_num(v, lang, sign=True)}"
                 for c, v in zip(lever["cohorts"], lever["shift"])]
        when = _years(lever.get("from_year"), lever.get("to_year"), lang)
        parts.append(("décalage du calendrier des départs selon l'année de naissance, en années (la dernière valeur "
                      "vaut pour les générations suivantes) — " if fr else
                      "shift of the exit schedule by year of birth, in years (the last value holds for later "
                      "cohorts) — ") + ", ".join(steps))
        if when:
            parts.append(f"appliqué {when}" if fr else f"applied {when}")
    elif section == "exits.multiplier":
        when = _years(lever.get("from_year"), lever.get("to_year"), lang)
        parts.append((f"taux de départ × {_num(lever['factor'], lang)}" if fr else
                      f"exit rates × {_num(lever['factor'], lang)}") + (f" {when}" if when else ""))
    elif section == "uncertainty.parameter":
        dist = lever["distribution"]
        name = _UNCERTAIN_KINDS.get(str(kind), (str(kind), str(kind)))[i]
        if dist == "normal":
            d = (f"loi normale, écart-type {_num(lever['sd'], lang)}" if fr else
                 f"normal distribution, standard deviation {_num(lever['sd'], lang)}")
            if "mean" in lever:
                d += (f", moyenne {_num(lever['mean'], lang)}" if fr else f", mean {_num(lever['mean'], lang)}")
        elif dist == "uniform":
            d = (f"loi uniforme de {_num(lever['low'], lang)} à {_num(lever['high'], lang)}" if fr else
                 f"uniform distribution from {_num(lever['low'], lang)} to {_num(lever['high'], lang)}")
        else:
            d = (f"loi triangulaire : minimum {_num(lever['low'], lang)}, mode {_num(lever['mode'], lang)}, "
                 f"maximum {_num(lever['high'], lang)}" if fr else
                 f"triangular distribution: minimum {_num(lever['low'], lang)}, mode {_num(lever['mode'], lang)}, "
                 f"maximum {_num(lever['high'], lang)}")
        parts.append(f"{name} : {d}" if fr else f"{name}: {d}")
        if "domain_correlation" in lever:
            parts.append(f"corrélation entre domaines {_num(lever['domain_correlation'], lang)}" if fr else
                          f"correlation between domains {_num(lever['domain_correlation'], lang)}")
        if "reference_employment" in lever:
            parts.append(f"écart-type donné pour {_num(lever['reference_employment'], lang)} emplois" if fr else
                          f"standard deviation given at {_num(lever['reference_employment'], lang)} jobs")
        if "max_sd" in lever:
            parts.append(f"écart-type au plus {_num(lever['max_sd'], lang)}" if fr else
                          f"standard deviation at most {_num(lever['max_sd'], lang)}")
        if "domain" in lever:
            parts.append(("domaines FAP : " if fr else "FAP domains: ") + ", ".join(lever["domain"]))
        return " ; ".join(parts) if fr else "; ".join(parts)
    elif section == "uncertainty.correlation":
        a, b = (list(lever["between"]) + ["", ""])[:2]
        parts.append(f"corrélation {_num(lever['rho'], lang)} entre {a} et {b}" if fr else
                      f"correlation {_num(lever['rho'], lang)} between {a} and {b}")
        return parts[0]
    else:                           # a key no rule above words: as written
        parts.append("; ".join(f"{k} = {v}" for k, v in lever.items() if k not in ("id", "kind") and
                               k not in PROVENANCE_KEYS and not _is_version(k) and k != "label"))
    if section.startswith("exits."):
        share = lever.get("share")
        extra = [x for x in (_ages(lever, lang), (f"part du taux de départ déplacée : {_pct(share, lang)}" if fr else
                                                  f"share of the exit rate moved: {_pct(share, lang)}")
                              if share is not None else "") if x]
        parts += extra
    parts += _selection(lever, lang)
    return " ; ".join(p for p in parts if p) if fr else "; ".join(p for p in parts if p)


# --------------------------------------------------------------------- published figures
#: Quantities a published figure can be compared with (see ``pmq/data/published/figures.toml``).
QUANTITIES = ("employment_deviation", "employment_deviation_share", "employment_change",
              "deviation_share_of_total", "departures_deviation", "lever_contribution")
_FIGURE_KEYS: dict[str, type | tuple[type, ...]] = {"scenario": str, "id": str, "quantity": str, "against": str, "year": int, "from_year": int,
                "metiers": list, "lever": str, "value": (int, float), "low": (int, float),
                "high": (int, float), "unit": str, "comparison": str, "tolerance": (int, float),
                "quote": str, "publisher": str, "url": str, "confidence": str, "reproduced": bool,
                "why": str, "note": str}
_REQUIRED = ("scenario", "id", "quantity", "year", "unit", "comparison", "quote", "publisher", "url",
             "confidence", "reproduced")


def published_figures(path=None) -> pd.DataFrame:
    """The registry of published figures (one row per figure), validated: unknown keys, missing
    keys, an unknown quantity, comparison or confidence, a figure without its numbers or a
    comparison not reproduced without ``why`` raise :class:`~pmq.errors.ScenarioError`."""
    path = data_path("published", "figures.toml") if path is None else path
    src = str(path)
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    rows, seen = [], set()
    for i, fig in enumerate(doc.get("figure", [])):
        where = f"figure[{fig.get('id', i)}]"
        for k, v in fig.items():
            if k not in _FIGURE_KEYS:
                raise ScenarioError(tr(f"unknown key; expected one of {list(_FIGURE_KEYS)}",
                                       f"clé inconnue ; clés possibles : {list(_FIGURE_KEYS)}"), source=src,
                                    key=f"{where}.{k}", value=v)
            if not isinstance(v, _FIGURE_KEYS[k]) or (isinstance(v, bool) and _FIGURE_KEYS[k] is not bool):
                raise ScenarioError(tr("wrong type", "type incorrect"), source=src, key=f"{where}.{k}", value=v)
        for k in _REQUIRED:
            if k not in fig:
                raise ScenarioError(tr(f"missing key '{k}'", f"clé '{k}' manquante"), source=src, key=where)
        checks = [("quantity", fig["quantity"] in QUANTITIES, list(QUANTITIES)),
                  ("comparison", fig["comparison"] in ("approx", "at_least", "at_most", "between"),
                   ["approx", "at_least", "at_most", "between"]),
                  ("confidence", fig["confidence"] in ("V", "S", "C"), ["V", "S", "C"]),
                  ("url", fig["url"].startswith(("https://", "http://")),
                   tr("an http(s) address", "une adresse http(s)")),
                  ("scenario", fig["scenario"] in builtin_scenarios(),
                   tr("a built-in scenario", "un scénario intégré"))]
        for key, ok, expected in checks:
            if not ok:
                raise ScenarioError(tr(f"invalid value; expected {expected}",
                                       f"valeur incorrecte ; attendu : {expected}"), source=src,
                                    key=f"{where}.{key}", value=fig[key])
        need: tuple[str, ...] = {"between": ("low", "high"), "approx": ("value", "tolerance")}.get(
            fig["comparison"], ("value",))
        if fig["quantity"] == "lever_contribution":
            need += ("lever",)
        for k in need:
            if k not in fig:
                raise ScenarioError(tr(f"missing key '{k}' (comparison {fig['comparison']!r})",
                                       f"clé '{k}' manquante (comparaison {fig['comparison']!r})"), source=src,
                                    key=where)
        if not fig["reproduced"] and not fig.get("why", "").strip():
            raise ScenarioError(tr("a figure pmq does not reproduce says why",
                                   "un chiffre que pmq ne reproduit pas dit pourquoi"), source=src,
                                key=f"{where}.why")
        if (fig["scenario"], fig["id"]) in seen:
            raise ScenarioError(tr("duplicate id for this scenario", "id en double pour ce scénario"), source=src,
                                key=where, value=fig["id"])
        seen.add((fig["scenario"], fig["id"]))
        rows.append({"against": "reference", "metiers": None, "from_year": None, "lever": None, "value": np.nan,
                     "low": np.nan, "high": np.nan, "tolerance": np.nan, "why": "", "note": "", **fig})
    return pd.DataFrame(rows)


def _measure(fig, red, names, base, lever_rows) -> float:
    """The pmq value of one registry figure from the reduced accounts of [against, scenario]
    (employment by scenario × year × métier, departures by scenario × year)."""
    s, a = names.index(fig["scenario"]), names.index(fig["against"])
    y = int(fig["year"])
    q = fig["quantity"]
    if q == "lever_contribution":
        row = lever_rows[(lever_rows["lever"] == fig["lever"]) & (lever_rows["year"] == y)]
        if row.empty:
            raise ScenarioError(tr("no such lever anchor in the scenario", "ancre de levier absente du scénario"),
                                source=fig["scenario"],
                                key=f"figure[{fig['id']}].lever", value=(fig["lever"], y))
        return float(row["pmq_value"].iloc[0])
    mets = fig["metiers"] if isinstance(fig["metiers"], list) else None
    y0 = int(fig["from_year"]) if isinstance(fig["from_year"], (int, float)) and fig["from_year"] == fig["from_year"] \
        else None
    if q == "departures_deviation":
        d = red["departures"].isel(scenario=s) - red["departures"].isel(scenario=a)
        return float(d.sel(year=slice(y if y0 is None else y0, y)).sum())
    emp = red["employment"]
    sel = emp.sel(metier=mets) if mets else emp
    dev = float((sel.isel(scenario=s) - sel.isel(scenario=a)).sel(year=y).sum())
    if q == "employment_deviation":
        return dev
    if q == "employment_deviation_share":
        return dev / float(sel.isel(scenario=a).sel(year=y).sum())
    if q == "deviation_share_of_total":
        return dev / float((emp.isel(scenario=s) - emp.isel(scenario=a)).sel(year=y).sum())
    y0 = base if y0 is None else y0
    return float(sel.isel(scenario=s).sel(year=y).sum() - sel.isel(scenario=s).sel(year=y0).sum())


#: Reduced accounts of (against, scenario) runs already made, by scenario hashes, horizon and baseline
#: fingerprint (the docs build and the test suite ask for the same runs).
_RUNS: dict = {}


def _fingerprint(baseline) -> str:
    h = hashlib.sha1()
    for k in ("employment", "hazard", "published_net_creation", "published_young_entrants", "published_net_mobility"):
        if k in baseline:
            h.update(np.ascontiguousarray(baseline[k].values, dtype=float).tobytes())
    return h.hexdigest()


def _reduced_run(scenarios: list, baseline, horizon: int):
    """Employment by scenario × year × métier and departures by scenario × year: each scenario projected on
    its own and cached (a run alone equals the same run among others, bit for bit), so the reference is
    projected once per horizon however many figures compare with it."""
    parts = []
    for sc in scenarios:
        # what the run depends on: the levers, rules and profiles as they are (an edited Scenario object
        # keeps the hash of its file)
        key = (json.dumps([sc.name, sc.hash, sc.levers, repr(sc.rules), repr(sc.profiles)], sort_keys=True,
                          default=str), horizon, _fingerprint(baseline))
        if key not in _RUNS:
            acc = project_many([sc], baseline, horizon=horizon).accounts
            _RUNS[key] = xr.Dataset({"employment": acc["employment"].sum(["territory", "age"]),
                                     "departures": acc["departures"].sum(["territory", "metier", "age"])})
        parts.append(_RUNS[key])
    return xr.concat(parts, dim="scenario", coords="minimal", compat="override")


def published_check(scenario: str | Scenario | None = None, baseline=None, registry=None) -> pd.DataFrame:
    """Each registry figure of ``scenario`` (default: every built-in) computed from a projection
    of the scenario and of the figure's ``against`` scenario: columns of the registry plus
    ``pmq_value`` and ``within`` (the comparison holds; for an ``approx`` figure
    |pmq − value| ≤ tolerance × |value|).  ``scenario`` may be a :class:`Scenario` object named as a
    built-in: its figures are then checked on it — so an edited lever that drifts from its source
    shows ``within = False``."""
    baseline = load_baseline() if baseline is None else baseline
    reg = published_figures() if registry is None else registry
    override = scenario if isinstance(scenario, Scenario) else None
    name = override.name if override is not None else scenario
    if name is not None:
        reg = reg[reg["scenario"] == name]
    base = int(baseline.attrs["base_year"])
    out = []
    for (scen, against), figs in reg.groupby(["scenario", "against"], sort=False):
        sc = override if override is not None else read_scenario(scen)
        H = max(int(figs["year"].max()) - base + 1, 1)
        if against == scen:          # a quantity of the scenario itself (employment_change)
            red, names = _reduced_run([sc], baseline, H), [scen]
        else:
            red, names = _reduced_run([read_scenario(against), sc], baseline, H), [against, scen]
        lever_rows = source_check(sc, baseline) if (figs["quantity"] == "lever_contribution").any() else None
        for _, fig in figs.iterrows():
            v = _measure(fig, red, names, base, lever_rows)
            c = fig["comparison"]
            if c == "approx":
                ok = abs(v - fig["value"]) <= fig["tolerance"] * abs(fig["value"])
            elif c == "at_least":
                ok = v >= fig["value"]
            elif c == "at_most":
                ok = v <= fig["value"]
            else:
                ok = fig["low"] <= v <= fig["high"]
            out.append({**fig.to_dict(), "pmq_value": v, "within": bool(ok)})
    return pd.DataFrame(out, columns=list(reg.columns) + ["pmq_value", "within"])


# ------------------------------------------------------------------------ plausibility
def plausibility_check(scenario: str | Scenario, baseline=None, reference: str = "reference") -> pd.DataFrame:
    """How far ``scenario`` moves each métier's national employment from ``reference``'s: one row per
    métier with ``max_relative_deviation`` (the largest |scenario − reference| / reference over the
    run's years), its ``year``, the scenario's ``bound`` (``max_metier_deviation``, default 0.25) and
    ``above`` (the deviation exceeds the bound).  Employment is the engine's input path (the
    accounts' employment equals it: :func:`pmq.projection.prepare.employment_path`, the trend and the demand
    levers only), so the check costs milliseconds."""
    baseline = load_baseline() if baseline is None else baseline
    sc = read_scenario(scenario) if not isinstance(scenario, Scenario) else scenario
    ref = read_scenario(reference).with_horizon(sc.horizon)
    emp_s = employment_path(baseline, sc)
    emp_r = employment_path(baseline, ref)
    e_s = emp_s.sum(1)
    e_r = emp_r.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(e_r > 0, np.abs(e_s - e_r) / e_r, np.where(np.abs(e_s - e_r) > 0.5, np.inf, 0.0))
    i = rel.argmax(0)
    m = np.asarray(baseline.metier.values).astype(str)
    top = rel[i, np.arange(rel.shape[1])]
    df = pd.DataFrame({"metier": m, "max_relative_deviation": top,
                       "year": int(baseline.attrs["base_year"]) + i,
                       "deviation": (e_s - e_r)[i, np.arange(rel.shape[1])],
                       "bound": sc.max_metier_deviation})
    df["above"] = df["max_relative_deviation"] > df["bound"]
    # ties (many métiers move by the same share, equal to the last bit or not depending on the machine's SIMD
    # paths) are ordered by métier code: the ranking is the same on every machine
    key = df["max_relative_deviation"].round(12)
    order = sorted(range(len(df)), key=lambda i: (-key.iat[i], df["metier"].iat[i]))
    return df.iloc[order].reset_index(drop=True)


def _fmt(x: float) -> str:
    return f"{x:,.0f}".replace(",", "\u202f")



def _fmt_share(x: float) -> str:
    return f"{x:.1%}"


def _fmt_rel(x: float) -> str:
    """A relative difference; below 1e-12 it is floating-point rounding, shown as such (printing
    it would make the page depend on the numpy release)."""
    return "< 1e-12" if abs(x) < 1e-12 else f"{x:.2e}"

def markdown_section(name: str, baseline=None) -> str:
    """The generated part of ``docs/scenarios/<name>.md``."""
    sc = read_scenario(name)
    out = [START, "", f"*Generated by `python -m pmq.analysis.sources` from `scenarios/{name}.toml` "
           f"(hash `{sc.hash}`); do not edit by hand.*", "",
           f"**{sc.title_fr}** — {sc.title_en}", "", sc.description_in("en"), ""]
    if sc.description_in("fr") != sc.description_in("en"):
        out += [f"> *Français* — {sc.description_in('fr')}", ""]
    levers = lever_table(sc, "en")
    if len(levers):
        out += [f"Figures: **{status_label(sc.status, 'en')}**" + (
                    f" ({', '.join(f'`{x}`' for x in sc.assumed_levers())})" if sc.assumed_levers() else "")
                + " — « " + status_label(sc.status, "fr") + " ».", ""]
        out += ["## Levers", "", "| section | id | parameters | status | source or assumption | method, basis, split |",
                "|---|---|---|---|---|---|"]
        for r in levers.itertuples():
            said = r.source or r.assumption
            how = " ".join(x for x in (r.method, r.basis, ("Split: " + (r.weights_source or r.weights_assumption))
                                       if (r.weights_source or r.weights_assumption) else "") if x)
            cell = [r.section, f"`{r.id}`", r.parameters, f"**{status_label(r.status, 'en')}**", said, how]
            out.append("| " + " | ".join(c.replace("|", "/") for c in cell) + " |")
        out.append("")
    chk = source_check(sc, baseline)
    if len(chk):
        out += ["## Sourced figures against the deviation from `reference`, summed over métiers", "",
                "| lever | applies to | year | source (persons) | pmq (persons) | relative difference |",
                "|---|---|---|---:|---:|---:|"]
        for r in chk.itertuples():
            out.append(f"| {r.lever} | {r.applies_to} | {r.year} | {_fmt(r.source_value)} | "
                       f"{_fmt(r.pmq_value)} | {_fmt_rel(r.rel_diff)} |")
        out.append("")
    if sc.has_exit_levers:
        out += exit_effects_markdown(sc, baseline)
    out += published_markdown(name, baseline)
    if name != "reference":
        pc = plausibility_check(sc, baseline)
        top = pc.iloc[0]
        if top.max_relative_deviation == 0:
            out += ["## Plausibility", "", "No métier's employment moves from the reference's: the scenario changes "
                    "flows, not the employment path.", ""]
        else:
            out += ["## Plausibility", "",
                    f"Largest move of a métier's national employment from the reference: **{top.metier}** "
                    f"{top.deviation:+,.0f} in {top.year} ({top.max_relative_deviation:.1%} of the reference's); "
                    f"bound {sc.max_metier_deviation:.0%}".replace(",", "\u202f")
                    + (f" — raised by the file: {sc.max_metier_deviation_reason}" if sc.max_metier_deviation_reason
                       else " (the default)") + ".", ""]
    out.append(END)
    return "\n".join(out)


def published_markdown(name: str, baseline=None) -> list[str]:
    """The docs table of a scenario's registry figures: published value, pmq's, whether it holds."""
    reg = published_figures()
    if not (reg["scenario"] == name).any():
        return []
    chk = published_check(name, baseline, registry=reg)
    out = ["## Published figures (registry `pmq/data/published/figures.toml`)", "",
           "| figure | published | pmq | check | source |", "|---|---|---|---|---|"]
    for r in chk.itertuples():
        share = r.quantity.endswith("share") or r.quantity == "deviation_share_of_total"
        fmt = _fmt_share if share else _fmt
        if r.comparison == "approx":
            pub = f"{fmt(r.value)} (± {r.tolerance:.1%})"
        elif r.comparison == "at_least":
            pub = f"≥ {fmt(r.value)}"
        elif r.comparison == "at_most":
            pub = f"≤ {fmt(r.value)}"
        else:
            pub = f"{fmt(r.low)} … {fmt(r.high)}"
        what = f"`{r.id}`: {r.quantity.replace('_', ' ')}" + (f" vs `{r.against}`" if r.against != "reference" else "") \
            + f", {r.year}"
        check = ("holds" if r.within else "**fails**") if r.reproduced else f"not reproduced: {r.why}"
        out.append("| " + " | ".join(c.replace("|", "/") for c in (
            what, pub, fmt(r.pmq_value), check, f"{r.publisher} ({r.confidence}): {r.quote} {r.url}")) + " |")
    out.append("")
    return out


def exit_effects(scenario: Scenario, baseline=None, reference: str = "reference",
                 years=range(2023, 2039)) -> pd.DataFrame:
    """Departures of each year and employed aged 60–66 on 1 January of the next year:
    scenario minus reference (persons)."""
    H = max(years) - (int(baseline.attrs["base_year"]) if baseline is not None else 2019) + 1
    comp = project_many([reference, scenario], baseline, horizon=H)
    acc = comp.accounts
    dep = acc["departures"].sum(["territory", "metier", "age"])
    emp = acc["employment"].sel(age=slice(60, 66)).sum(["territory", "metier", "age"])
    d = (dep.isel(scenario=1) - dep.isel(scenario=0)).to_series()
    e = (emp.isel(scenario=1) - emp.isel(scenario=0)).to_series()
    ref = dep.isel(scenario=0).to_series()
    yrs = [y for y in years if y in d.index]
    return pd.DataFrame({"departures_reference": ref[yrs], "departures_difference": d[yrs],
                         "employed_60_66_difference_next_year": e.reindex([y + 1 for y in yrs]).values})


def exit_effects_markdown(sc: Scenario, baseline=None) -> list[str]:
    baseline = load_baseline() if baseline is None else baseline
    t = exit_effects(sc, baseline)
    cum = t.loc[2023:2030, "departures_difference"].sum()
    ref = t.loc[2023:2030, "departures_reference"].sum()
    out = ["## Effect on end-of-career departures (scenario − reference)", "",
           f"Cumulated over 2023–2030: **{_fmt(cum)}** departures "
           f"({cum / ref:+.1%} of the reference's {_fmt(ref)}).", "",
           "| year | departures, reference | difference | employed aged 60–66, difference (1 January of next year) |",
           "|---|---:|---:|---:|"]
    for y, r in t.iterrows():
        out.append(f"| {y} | {_fmt(r.departures_reference)} | {_fmt(r.departures_difference)} | "
                   f"{_fmt(r.employed_60_66_difference_next_year)} |")
    out.append("")
    return out


def update_docs(docs_dir: Path, check: bool = False) -> list[str]:
    """Rewrite the generated sections; returns the names of the pages rewritten.  With ``check``,
    only compare — text exactly, numbers within their printed precision — and return
    ``"name: where it differs"`` for each stale page."""
    baseline = load_baseline()
    stale = []
    for name in builtin_scenarios():
        page = docs_dir / f"{name}.md"
        text = page.read_text(encoding="utf-8") if page.exists() else f"# {name}\n\n{START}\n{END}\n"
        if START not in text or END not in text:
            raise ValueError(f"{page}: no generated section markers")
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        new = head + markdown_section(name, baseline) + tail
        if check:
            # numbers within their printed precision (a last digit may move with numpy / scipy)
            diffs = text_differences(text, new)
            if diffs:
                stale.append(f"{name}: " + "; ".join(diffs[:3]))
        elif new != text:
            stale.append(name)
            page.write_text(new, encoding="utf-8")
    return stale


if __name__ == "__main__":  # pragma: no cover
    root = Path(__file__).resolve().parent.parent.parent / "docs" / "scenarios"
    stale = update_docs(root, check="--check" in sys.argv)
    print("stale: " + ", ".join(stale) if stale else "up to date")
