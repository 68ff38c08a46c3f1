"""French and English labels for variables, métiers, domains and territories.

French is the default everywhere; English labels of métiers are pmq's own translation (no
official English version of the FAP exists), shipped in ``data/nomenclature/metiers_en.csv``.
"""
from __future__ import annotations

from functools import cache

import pandas as pd

from pmq import data as _data
from pmq.formatting import check_lang

__all__ = ["TEXT", "text", "variable_label", "metier_label", "domain_label", "territory_label"]

# Variables and words that charts, tables and the report use: key -> (fr, en).
TEXT: dict[str, tuple[str, str]] = {
    "employment": ("Emploi", "Employment"),
    "employment_start": ("Emploi en début de période", "Employment at the start"),
    "employment_end": ("Emploi en fin de période", "Employment at the end"),
    "net_creation": ("Créations nettes d'emploi", "Net job creation"),
    "departures": ("Départs en fin de carrière", "End-of-career departures"),
    "openings": ("Postes à pourvoir", "Job openings"),
    "young_entrants": ("Jeunes débutants", "Young entrants"),
    "net_mobility": ("Solde des mobilités interrégionales", "Net inflow from other regions"),
    "other_recruits": ("Autres recrutements (solde)", "Other recruits (balance)"),
    "imbalance": ("Déséquilibre potentiel", "Potential imbalance"),
    "departure_rate": ("Départs (% de l'emploi initial)", "Departures (% of initial employment)"),
    "imbalance_rate": ("Déséquilibre potentiel (% de l'emploi initial)",
                       "Potential imbalance (% of initial employment)"),
    "openings_rate": ("Postes à pourvoir (% de l'emploi initial)", "Job openings (% of initial employment)"),
    "employment_change": ("Évolution de l'emploi (%)", "Employment change (%)"),
    "age": ("Âge", "Age"),
    "year": ("Année", "Year"),
    "thousands": ("milliers", "thousands"),
    "persons_k": ("Effectifs (milliers)", "Persons (thousands)"),
    "scenario": ("Scénario", "Scenario"),
    "metier": ("Métier", "Occupation"),
    "domain": ("Domaine professionnel", "Occupational domain"),
    "territory": ("Territoire", "Territory"),
    "region": ("Région", "Region"),
    "france": ("France métropolitaine", "Metropolitan France"),
    "all_metiers": ("Ensemble des métiers", "All occupations"),
    "median": ("Médiane", "Median"),
    "source": ("Source", "Source"),
}


def text(key: str, lang: str = "fr") -> str:
    """The French or English text of ``key`` (a variable name or a word of :data:`TEXT`)."""
    check_lang(lang)
    if key not in TEXT:
        raise KeyError(f"no label for {key!r}; known: {', '.join(sorted(TEXT))}")
    return TEXT[key][0 if lang == "fr" else 1]


variable_label = text


@cache
def _metier_table() -> pd.DataFrame:
    m = _data.metiers().set_index("code")
    en = pd.read_csv(_data.data_path("nomenclature", "metiers_en.csv"), dtype=str,
                     keep_default_na=False).set_index("code")
    return m.join(en, how="left")


def metier_label(codes, lang: str = "fr", short: bool = False, labels=None) -> list[str]:
    """Labels of métier codes.  ``labels`` (the ``metier_label`` coordinate of a user's data)
    is used for codes the built-in nomenclature does not know."""
    check_lang(lang)
    t = _metier_table()
    col = ("short_fr" if lang == "fr" else "short_en") if short else ("label_fr" if lang == "fr" else "label_en")
    out = []
    for i, c in enumerate(map(str, codes)):
        if c in t.index and t.at[c, col]:
            out.append(str(t.at[c, col]))
        elif labels is not None:
            out.append(str(labels[i]))
        else:
            out.append(c)
    return out


def domain_label(codes, lang: str = "fr") -> list[str]:
    """Labels of FAP domain codes (A … X)."""
    check_lang(lang)
    d = _data.domains().set_index("code")["label_fr" if lang == "fr" else "label_en"]
    return [str(d.get(str(c), c)) for c in codes]


def territory_label(code: str, names=None, lang: str = "fr") -> str:
    """Name of a territory code (``"FR"`` → « France métropolitaine »)."""
    if str(code) == "FR":
        return text("france", lang)
    r = _data.regions().set_index("code")["name"]
    if names is not None:
        return str(names)
    return str(r.get(str(code), code))
