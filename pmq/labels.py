"""French and English labels for variables, métiers, domains and territories.

French is the default everywhere; English labels of métiers are pmq's own translation (no
official English version of the FAP exists), shipped in ``data/nomenclature/metiers_en.csv``.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache

import pandas as pd

from pmq import data as _data
from pmq.errors import UnknownNameError
from pmq.formatting import check_lang
from pmq.names import register_labels
from pmq.options import tr

__all__ = ["Variable", "VARIABLE_REGISTRY", "variable", "TEXT", "text", "variable_label", "metier_label",
           "short_labels", "SHORT_WIDTH", "domain_label", "territory_label"]


@dataclass(frozen=True)
class Variable:
    """One variable of pmq: its labels, the unit of its standard-table column and its IAMC name.

    ``unit_fr`` / ``unit_en`` are the unit of the variable as the standard tables show it (flows
    summed over a period, rates as ratios); ``iamc`` / ``iamc_unit`` its IAMC variable root and
    unit (thousands, flows per year), ``None`` when pmq does not export it to IAMC.  ``accounts``:
    a variable of the accounts Dataset (:func:`pmq.project`); ``column``: a numeric column of the
    standard tables (:data:`pmq.export.tables.COLUMNS`)."""

    name: str
    fr: str
    en: str
    unit_fr: str = ""
    unit_en: str = ""
    iamc: str | None = None
    iamc_unit: str | None = None
    accounts: bool = False
    column: bool = False

    def label(self, lang: str | None = None) -> str:
        """The French or English label."""
        lang = check_lang(lang)
        return self.fr if lang == "fr" else self.en

    @property
    def unit(self) -> str:
        """The bilingual unit of the standard tables (« personnes / persons », « ratio »)."""
        return self.unit_fr if self.unit_fr == self.unit_en else f"{self.unit_fr} / {self.unit_en}"


def _flow(name: str, fr: str, en: str, iamc: str | None) -> Variable:
    """An accounts flow: persons over the period in the standard tables, thousands a year in IAMC."""
    return Variable(name, fr, en, "personnes sur la période", "persons over the period", iamc,
                    "thousand persons/yr" if iamc is not None else None, accounts=True, column=True)


def _rate(name: str, fr: str, en: str) -> Variable:
    """A flow over the period divided by the employment at its start (a ratio in the tables)."""
    return Variable(name, fr, en, "ratio", "ratio", column=True)


#: Every variable pmq labels: accounts variables and flows, and the derived table columns.
VARIABLE_REGISTRY: dict[str, Variable] = {v.name: v for v in (
    Variable("employment", "Emploi", "Employment", "personnes", "persons", "Employment", "thousand persons",
             accounts=True),
    Variable("employment_start", "Emploi en début de période", "Employment at the start", "personnes", "persons",
             column=True),
    Variable("employment_end", "Emploi en fin de période", "Employment at the end", "personnes", "persons",
             column=True),
    _flow("net_creation", "Créations nettes d'emploi", "Net job creation", "Net Job Creation"),
    _flow("departures", "Départs en fin de carrière", "End-of-career departures", "End-of-career Departures"),
    _flow("openings", "Postes à pourvoir", "Job openings", "Job Openings"),
    _flow("young_entrants", "Jeunes débutants", "Young entrants", "Young Entrants"),
    _flow("net_mobility", "Solde des mobilités interrégionales", "Net inflow from other regions",
          "Net Inflow from Other Regions"),
    _flow("other_recruits", "Autres recrutements (solde)", "Other recruits (balancing flow)", None),
    _flow("imbalance", "Déséquilibre potentiel", "Potential imbalance", "Potential Imbalance"),
    _rate("departure_rate", "Départs (% de l'emploi initial)", "Departures (% of initial employment)"),
    _rate("openings_rate", "Postes à pourvoir (% de l'emploi initial)", "Job openings (% of initial employment)"),
    _rate("imbalance_rate", "Déséquilibre potentiel (% de l'emploi initial)",
          "Potential imbalance (% of initial employment)"),
    Variable("employment_change", "Évolution de l'emploi (%)", "Employment change (%)", "%", "%"),
)}


def variable(name: str) -> Variable:
    """The :class:`Variable` called ``name``; an unknown name raises
    :class:`~pmq.errors.UnknownNameError` naming the closest ones."""
    try:
        return VARIABLE_REGISTRY[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), list(VARIABLE_REGISTRY), n=3, cutoff=0.5)
        hint_en = f"; did you mean {', '.join(close)}?" if close else ""
        hint_fr = f" ; vouliez-vous dire {', '.join(close)} ?" if close else ""
        known = ", ".join(VARIABLE_REGISTRY)
        raise UnknownNameError(tr(f"unknown variable {name!r}{hint_en} Known: {known}",
                                  f"variable inconnue {name!r}{hint_fr} Variables connues : {known}")) from None


# Words that charts, tables and the report use besides the variables: key -> (fr, en).
_WORDS: dict[str, tuple[str, str]] = {
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
    "france_dom": ("France (DOM estimés compris)", "France (overseas régions estimated)"),
    "all_metiers": ("Ensemble des métiers", "All occupations"),
    "median": ("Médiane", "Median"),
    "source": ("Source", "Source"),
}

# Variables (from the registry) and words that charts, tables and the report use: key -> (fr, en).
TEXT: dict[str, tuple[str, str]] = {**{k: (v.fr, v.en) for k, v in VARIABLE_REGISTRY.items()}, **_WORDS}


def text(key: str, lang: str | None = None) -> str:
    """The French or English text of ``key`` (a variable name or a word of :data:`TEXT`)."""
    lang = check_lang(lang)
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


def _bilingual_metier_labels() -> dict[str, tuple[str, str]]:
    """pmq's métier labels, ``code → (French, English)``: the suggestions of an unknown métier show them in the
    reader's language (:func:`pmq.names.register_labels`)."""
    t = _metier_table()
    return {str(c): (str(fr), str(en) if isinstance(en, str) and en else str(fr))
            for c, fr, en in zip(t.index, t["label_fr"], t["label_en"])}


register_labels(_bilingual_metier_labels)

#: The most characters of a short métier label (:func:`metier_label` with ``short=True``).
SHORT_WIDTH = 36
# words a shortened label does not end on (« Ouvriers qualifiés de la… » → « Ouvriers qualifiés… »)
_LINK_WORDS = {"de", "du", "des", "la", "le", "les", "et", "ou", "à", "au", "aux", "en", "par", "pour", "sur",
               "of", "and", "or", "the", "in", "for", "by", "to", "with", "a", "an", "&"}


def _linking(word: str) -> bool:
    w = word.lower()
    return w in _LINK_WORDS or w.endswith(("d'", "l'", "d’", "l’"))


def _head(words: list[str], room: int) -> str:
    """The first words of a label that fit ``room`` characters, not ending on a linking word or a comma."""
    out: list[str] = []
    for w in words:
        if len(" ".join([*out, w])) > room:
            break
        out.append(w)
    while out and _linking(out[-1]):
        out.pop()
    return " ".join(out).rstrip(",;:")


def _shortened(label: str, width: int, middle: bool = False) -> str:
    """``label`` cut at a word boundary to at most ``width`` characters, marked « … »: its first words, or
    (``middle``) its first and last words around the « … » (the kind of worker and the field: « Techniciens …
    industries de process »)."""
    words = label.split(" ")
    head = _head(words, width - 1)
    if not middle:
        return (head or label[: width - 1]) + "…"
    best = ""
    for k in range(1, len(words)):
        first = _head(words[:k], width)
        tail: list[str] = []
        for w in reversed(words[k:]):
            if len(first) + 3 + len(" ".join([w, *tail])) > width:
                break
            tail.insert(0, w)
        while tail and tail[0].lower() in ("et", "ou", "and", "or"):
            tail.pop(0)
        if first and tail and len(first) + len(" ".join(tail)) >= len(best):
            best = f"{first} … {' '.join(tail)}"
    return best or (head or label[: width - 1]) + "…"


def short_labels(labels, width: int = SHORT_WIDTH, among=()) -> list[str]:
    """Readable short forms of full labels, no abbreviation: a label of at most ``width`` characters as it is,
    a longer one cut at a word boundary and marked « … »; where two cuts would read the same (among ``labels``
    and ``among``), their first and last words around the « … », so that each stays distinct."""
    full = [" ".join(str(s).split()) for s in labels]
    others = [" ".join(str(s).split()) for s in among]
    cut = {s: s if len(s) <= width else _shortened(s, width) for s in dict.fromkeys([*full, *others])}
    seen: dict[str, set] = {}
    for s, c in cut.items():
        seen.setdefault(c, set()).add(s)
    return [cut[s] if len(seen[cut[s]]) == 1 else _shortened(s, width, middle=True) for s in full]


def metier_label(codes, lang: str | None = None, short: bool = False, labels=None,
                 width: int = SHORT_WIDTH) -> list[str]:
    """Labels of métier codes: the full DARES labels (« Ouvriers qualifiés de la manutention »), what charts
    and tables show by default.  ``short=True`` gives readable short forms of them (:func:`short_labels`: at most
    ``width`` characters, cut at a word boundary with « … », never abbreviations such as « OQ manutention »),
    only for where space demands them — with the full label beside, in a legend, a table or a tooltip.
    ``labels`` (the ``metier_label`` coordinate of a user's data) is used for codes the built-in nomenclature
    does not know."""
    lang = check_lang(lang)
    t = _metier_table()
    col = "label_fr" if lang == "fr" else "label_en"
    out = []
    for i, c in enumerate(map(str, codes)):
        if c in t.index and t.at[c, col]:
            out.append(str(t.at[c, col]))
        elif labels is not None:
            out.append(str(labels[i]))
        else:
            out.append(c)
    if short:       # distinct among the nomenclature's labels too, whichever métiers a chart shows
        return short_labels(out, width, among=[s for s in t[col] if s])
    return out


def domain_label(codes, lang: str | None = None) -> list[str]:
    """Labels of FAP domain codes (A … X)."""
    lang = check_lang(lang)
    d = _data.domains().set_index("code")["label_fr" if lang == "fr" else "label_en"]
    return [str(d.get(str(c), c)) for c in codes]


def territory_label(code: str, names=None, lang: str | None = None) -> str:
    """Name of a territory code (``"FR"`` → « France métropolitaine »)."""
    if str(code) == "FR":
        return text("france", lang)
    r = _data.regions().set_index("code")["name"]
    if names is not None:
        return str(names)
    return str(r.get(str(code), code))
