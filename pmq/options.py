"""Library-wide options, xarray's pattern: ``pmq.set_options(lang="en")`` sets them for the session,
``with pmq.set_options(lang="en"): ...`` for a block only (restored on exit, even on error).

>>> import pmq
>>> pmq.get_options()["lang"]
'fr'
>>> with pmq.set_options(lang="en"):
...     pmq.get_options()["lang"]
'en'
>>> pmq.get_options()["lang"]
'fr'
"""
from __future__ import annotations

from typing import Any

from pmq.errors import ArgumentError

__all__ = ["OPTIONS", "set_options", "get_options", "resolve_lang", "tr", "plural"]

#: The current options; change them with :func:`set_options`, never in place.
OPTIONS: dict[str, Any] = {"lang": "fr"}

_VALID = {"lang": ("fr", "en")}


def _validate(name: str, value: Any) -> None:
    if name not in _VALID:
        options = ", ".join(sorted(_VALID))
        raise ArgumentError(tr(f"unknown option {name!r} (options: {options})",
                               f"option inconnue {name!r} (options possibles : {options})"),
                            name=name, value=value)
    if value not in _VALID[name]:
        choices = ", ".join(map(repr, _VALID[name]))
        raise ArgumentError(tr(f"option {name!r} must be one of {choices}",
                               f"l'option {name!r} prend l'une des valeurs {choices}"),
                            name=name, value=value)


class set_options:  # a function to its callers, a class to hold the previous values
    """Set pmq's options: ``lang`` (``"fr"`` or ``"en"``, the language of labels, titles and
    numbers when a function is not given ``lang=``).  A plain call sets them for the session; used
    as a context manager, they hold inside the ``with`` block only.  An unknown option or value
    raises :class:`pmq.errors.ArgumentError` naming it, and changes nothing."""

    def __init__(self, **kwargs: Any) -> None:
        for name, value in kwargs.items():
            _validate(name, value)
        self.old = {name: OPTIONS[name] for name in kwargs}
        OPTIONS.update(kwargs)

    def __enter__(self) -> set_options:
        return self

    def __exit__(self, *exc: object) -> None:
        OPTIONS.update(self.old)


def get_options() -> dict[str, Any]:
    """A copy of the current options."""
    return dict(OPTIONS)


def resolve_lang(lang: str | None = None) -> str:
    """``lang`` if given (checked: ``"fr"`` or ``"en"``), else the ``lang`` option."""
    if lang is None:
        return OPTIONS["lang"]
    _validate("lang", lang)
    return lang

# ------------------------------------------------------------------------------ messages in the reader's language
#: Every error, warning and notice pmq shows is written in French and in English at the place it is raised,
#: and shown in the language of the ``lang`` option (French by default; the command line sets it from
#: ``--lang``).  The two texts sit side by side where the message is raised (a catalogue kept apart drifts
#: from the code that raises): both f-strings with the same names, numbers and values; only the words differ.
#: Names a user typed or pmq reads — files, keys, columns, codes, options — are quoted as they are, in both
#: languages.  French typography: a space before « : », « ; », « ? », « ! ».


def tr(en: str, fr: str) -> str:
    """``fr`` or ``en``, as the ``lang`` option says (French unless set to English).

    >>> tr("no such file", "fichier introuvable")
    'fichier introuvable'
    >>> with set_options(lang="en"):
    ...     tr("no such file", "fichier introuvable")
    'no such file'
    """
    return en if OPTIONS["lang"] == "en" else fr


def plural(n: int, en: str, fr: str, en_plural: str | None = None, fr_plural: str | None = None) -> str:
    """``n`` and the noun in the reader's language, singular or plural: ``plural(2, "row", "ligne")`` is
    « 2 lignes ».  French takes the singular for 0 and 1, English for 1 only."""
    if OPTIONS["lang"] == "en":
        return f"{n} {en if n == 1 else (en_plural or en + 's')}"
    return f"{n} {fr if abs(n) < 2 else (fr_plural or fr + 's')}"
