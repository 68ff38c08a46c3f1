"""Matching of territory and métier names as users type them.

Matching ignores case, accents, hyphens, underscores, apostrophes (any style: ’ ' ʼ) and
repeated spaces, which all count as one space: « nouvelle aquitaine », « Nouvelle-Aquitaine » and
« NOUVELLE AQUITAINE » are the same region, and « provence alpes cote d azur » is
Provence-Alpes-Côte d'Azur.  An unknown name raises :class:`~pmq.errors.UnknownNameError`
listing the closest matches, as they are spelt, the best first (:func:`closest`).
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping

from pmq.errors import UnknownNameError
from pmq.options import tr

__all__ = ["normalise", "resolve", "resolve_many", "closest", "unknown_message"]

_APOSTROPHES = "’‘ʼ`´′"


def normalise(text: str) -> str:
    """Lower-case, strip accents, turn apostrophes (any style), hyphens and underscores into spaces, collapse
    spaces: ``normalise("Provence-Alpes-Côte d’Azur") == normalise("provence alpes cote d azur")``."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    for ch in _APOSTROPHES + "'":
        text = text.replace(ch, " ")
    text = text.lower().replace("-", " ").replace("_", " ")
    return re.sub(r"\s+", " ", text).strip()


def _word_ratio(typed: str, alias: str) -> float:
    """How close ``typed`` is to the closest run of as many words of ``alias`` (difflib's ratio)."""
    n, words = len(typed.split()), alias.split()
    if not n or len(words) <= n:
        return 0.0
    return max(difflib.SequenceMatcher(None, typed, " ".join(words[i:i + n])).ratio()
               for i in range(len(words) - n + 1))


def _table(choices: Mapping[str, Iterable[str]]) -> tuple[dict[str, str], dict[str, str]]:
    """``(normalised alias → key, normalised alias → the alias as written)``; the first key listed wins an alias."""
    table: dict[str, str] = {}
    spelt: dict[str, str] = {}          # normalised alias → the alias as written, for the suggestions
    for key, aliases in choices.items():
        for alias in [key, *aliases]:
            norm_alias = normalise(alias)
            if norm_alias not in table:
                table[norm_alias], spelt[norm_alias] = key, str(alias)
    return table, spelt


def resolve(name: str, choices: Mapping[str, Iterable[str]], *, kind: str | tuple[str, str] = "name",
            source: str | None = None, display: Mapping[str, str] | None = None) -> str:
    """Return the key of ``choices`` whose aliases match ``name``.

    Parameters
    ----------
    name : str
        What the user typed (a code or a label).
    choices : mapping
        ``{key: [alias, alias, ...]}``; the key itself is always an alias.  When two keys share an alias,
        the first one listed wins.
    kind : str or (str, str)
        Word used in the error message (« territory », « métier »; its French is known), or the English word
        and the French « … inconnu(e) » (:func:`unknown_message`).
    display : mapping, optional
        How a key is shown in the suggestions of the error message (default: the key itself).
    """
    table, spelt = _table(choices)
    norm = normalise(name)
    if norm in table:
        return table[norm]
    suggestions = _suggest(norm, table, spelt, display)
    raise UnknownNameError(unknown_message(name, kind, suggestions[:5]), source=source)


#: « unknown <kind> » in French, by the ``kind`` callers name (the noun's gender sets the adjective's ending).
_UNKNOWN_FR = {
    "name": "nom inconnu", "territory": "territoire inconnu", "métier": "métier inconnu", "metier": "métier inconnu",
    "région": "région inconnue", "region": "région inconnue", "département": "département inconnu",
    "departement": "département inconnu", "scenario": "scénario inconnu", "built-in scenario": "scénario intégré inconnu",
    "sector": "secteur inconnu", "variable": "variable inconnue", "domain": "domaine professionnel inconnu",
}


def unknown_message(name: str, kind: str | tuple[str, str], suggestions: Iterable[str] = ()) -> str:
    """« unknown territory 'x'; closest matches: a, b » in the reader's language.  ``kind`` is the English word
    (« territory », « métier », « région », « built-in scenario »…: its French is known) or a pair
    ``(english, french)`` where the French says « … inconnu(e) » itself (``("format", "format inconnu")``)."""
    en_kind, fr_unknown = (kind if isinstance(kind, tuple)
                           else (kind, _UNKNOWN_FR.get(kind, _UNKNOWN_FR.get(normalise(kind), "nom inconnu"))))
    shown = ", ".join(suggestions)
    return tr(f"unknown {en_kind} {name!r}" + (f"; closest matches: {shown}" if shown else ""),
              f"{fr_unknown} {name!r}" + (f" ; noms les plus proches : {shown}" if shown else ""))


def _similarity(norm: str, alias: str) -> float:
    """How close ``norm`` is to ``alias``: difflib's ratio to the whole alias or to its closest run of as many
    words (« provense » is as close to « alpes de haute provence » as to « provence »)."""
    return max(difflib.SequenceMatcher(None, norm, alias).ratio(), _word_ratio(norm, alias))


def _suggest(norm: str, table: Mapping[str, str], spelt: Mapping[str, str],
             display: Mapping[str, str] | None) -> list[str]:
    """The names closest to ``norm`` (normalised), best first, as they are shown in a message."""
    # the candidates: names that contain what was typed as words (« aquitaine », « provence »), names with words
    # spelt nearly so (« provense »), the closest whole names, names that contain it; the best first (difflib's
    # ratio, to the whole name or to its closest words), ties by length then alphabetically
    words = re.compile(rf"\b{re.escape(norm)}\b") if norm else None
    close = {alias for alias in table if words is not None and words.search(alias)}
    close |= {a for a in table if _word_ratio(norm, a) >= 0.8}
    close |= set(difflib.get_close_matches(norm, list(table), n=5, cutoff=0.5))
    close |= {alias for alias in table if norm and norm in alias}
    ranked = sorted(close, key=lambda a: (-round(_similarity(norm, a), 9), len(a), a))
    suggestions: list[str] = []
    keys: set[str] = set()
    for alias in ranked:
        key = table[alias]
        if display is not None and key in keys:           # one suggestion per territory
            continue
        keys.add(key)
        if display is None:
            label = key if normalise(key) == alias else f"{key} ({spelt[alias]})"
        else:                      # « Provence-Alpes-Côte d'Azur (93) », « PACA: Provence-Alpes-Côte d'Azur (93) »
            shown = display.get(key, key)
            label = shown if alias in normalise(shown) or alias == normalise(key) else f"{spelt[alias]}: {shown}"
        if label not in suggestions:
            suggestions.append(label)
    return suggestions


def closest(name: str, choices: Mapping[str, Iterable[str]], *, n: int = 5,
            display: Mapping[str, str] | None = None) -> list[str]:
    """The (at most ``n``) keys of ``choices`` closest to ``name``, best first, as :func:`resolve`'s message lists
    them (« reference » before « reference_incertain » for « referense »); empty when none is close."""
    table, spelt = _table(choices)
    return _suggest(normalise(name), table, spelt, display)[:n]


def resolve_many(names: Iterable[str], choices: Mapping[str, Iterable[str]], *,
                 kind: str | tuple[str, str] = "name", source: str | None = None) -> list[str]:
    """Resolve several names; the first unknown one raises."""
    return [resolve(n, choices, kind=kind, source=source) for n in names]
