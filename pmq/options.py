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

__all__ = ["OPTIONS", "set_options", "get_options", "resolve_lang"]

#: The current options; change them with :func:`set_options`, never in place.
OPTIONS: dict[str, Any] = {"lang": "fr"}

_VALID = {"lang": ("fr", "en")}


def _validate(name: str, value: Any) -> None:
    if name not in _VALID:
        raise ArgumentError(f"unknown option {name!r} (options: {', '.join(sorted(_VALID))})",
                            name=name, value=value)
    if value not in _VALID[name]:
        raise ArgumentError(f"option {name!r} must be one of {', '.join(map(repr, _VALID[name]))}",
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
