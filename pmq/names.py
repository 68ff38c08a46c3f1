"""Matching of territory and métier names as users type them.

Matching ignores case, accents, apostrophe style (’ ' ʼ), hyphens and repeated
spaces: « nouvelle aquitaine », « Nouvelle-Aquitaine » and « NOUVELLE AQUITAINE »
are the same region.  An unknown name raises :class:`~pmq.errors.UnknownNameError`
listing the closest matches.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping

from pmq.errors import UnknownNameError

__all__ = ["normalise", "resolve", "resolve_many"]

_APOSTROPHES = "’‘ʼ`´′"


def normalise(text: str) -> str:
    """Lower-case, strip accents, unify apostrophes, turn hyphens/underscores into spaces."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae")
    for ch in _APOSTROPHES:
        text = text.replace(ch, "'")
    text = text.lower().replace("-", " ").replace("_", " ")
    return re.sub(r"\s+", " ", text).strip()


def resolve(name: str, choices: Mapping[str, Iterable[str]], *, kind: str = "name",
            source: str | None = None) -> str:
    """Return the key of ``choices`` whose aliases match ``name``.

    Parameters
    ----------
    name : str
        What the user typed (a code or a label).
    choices : mapping
        ``{key: [alias, alias, ...]}``; the key itself is always an alias.
    kind : str
        Word used in the error message (« territory », « métier »).
    """
    table: dict[str, str] = {}
    for key, aliases in choices.items():
        for alias in [key, *aliases]:
            table.setdefault(normalise(alias), key)
    norm = normalise(name)
    if norm in table:
        return table[norm]
    close = difflib.get_close_matches(norm, list(table), n=5, cutoff=0.5)
    # Also propose names that contain what was typed (e.g. « aquitaine »).
    close += [alias for alias in table if norm and norm in alias and alias not in close]
    suggestions = []
    for alias in close:
        key = table[alias]
        label = f"{key}" if normalise(key) == alias else f"{key} ({alias})"
        if label not in suggestions:
            suggestions.append(label)
    hint = ("; closest matches: " + ", ".join(suggestions[:5])) if suggestions else ""
    raise UnknownNameError(f"unknown {kind} {name!r}{hint}", source=source)


def resolve_many(names: Iterable[str], choices: Mapping[str, Iterable[str]], *,
                 kind: str = "name", source: str | None = None) -> list[str]:
    """Resolve several names; the first unknown one raises."""
    return [resolve(n, choices, kind=kind, source=source) for n in names]
