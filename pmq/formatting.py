"""Numbers written the way French (or English) reports write them.

French typography (Imprimerie nationale; CLDR ``fr``): decimal comma, a narrow no-break space
(U+202F) between groups of three digits and before a unit or ``%``, the true minus sign (U+2212).

>>> format_number(1924016.7, scale=1e-3, unit="k")
'1\u202f924,0\u202fk'
>>> format_number(1924016.7, scale=1e-3, unit="k", lang="en")
'1,924.0 k'
>>> format_percent(0.115)
'11,5\u202f%'
"""
from __future__ import annotations

import math

from pmq.errors import ArgumentError
from pmq.options import OPTIONS

__all__ = ["NNBSP", "MINUS", "format_number", "format_thousands", "format_percent", "tick_formatter",
           "check_lang"]

NNBSP = "\u202f"   # narrow no-break space: French thousands separator and unit space
MINUS = "\u2212"   # minus sign


def check_lang(lang: str | None = None) -> str:
    """The language to write in: ``lang`` if given, else ``pmq.get_options()["lang"]`` (French
    unless set).  Anything but ``"fr"``, ``"en"`` or ``None`` raises :class:`pmq.errors.ArgumentError`
    (a ``ValueError``) naming the argument, the choices and the value."""
    if lang is None:
        return OPTIONS["lang"]
    if lang not in ("fr", "en"):
        raise ArgumentError("lang must be 'fr' or 'en'", name="lang", value=lang)
    return lang


def format_number(x, decimals: int = 1, lang: str | None = None, unit: str | None = None, scale: float = 1.0,
                  sign: bool = False) -> str:
    """Format one number: ``scale`` multiplies it first (``1e-3`` for thousands), ``unit`` is
    appended after a (narrow no-break, in French) space, ``sign=True`` writes ``+`` on positives.
    NaN gives an en dash (« – »)."""
    lang = check_lang(lang)
    if x is None or math.isnan(float(x)):
        return "–"
    v = float(x) * scale
    s = f"{abs(v):,.{decimals}f}"
    if round(abs(v), decimals) == 0:
        v = 0.0
    if lang == "fr":
        s = s.replace(",", NNBSP).replace(".", ",")
    neg = v < 0
    prefix = MINUS if neg else ("+" if sign and v > 0 else "")
    out = prefix + s
    if unit:
        out += (NNBSP if lang == "fr" else " ") + unit
    return out


def format_thousands(persons, decimals: int = 1, lang: str | None = None, sign: bool = False) -> str:
    """Persons written in thousands with the ``k`` unit: ``636101`` → ``636,1 k``."""
    lang = check_lang(lang)
    return format_number(persons, decimals, lang, unit="k", scale=1e-3, sign=sign)


def format_percent(share, decimals: int = 1, lang: str | None = None, sign: bool = False) -> str:
    """A share (0.115) written as a percentage: ``11,5 %`` (fr) or ``11.5%`` (en)."""
    lang = check_lang(lang)
    s = format_number(share, decimals, lang, scale=100.0, sign=sign)
    if s == "–":
        return s
    return s + (NNBSP + "%" if lang == "fr" else "%")


def tick_formatter(lang: str | None = None, scale: float = 1.0, decimals: int | None = None, percent: bool = False):
    """A matplotlib ``FuncFormatter`` writing ticks the French (or English) way.

    ``decimals=None`` shows decimals only where the ticks need them.
    """
    lang = check_lang(lang)
    from matplotlib.ticker import FuncFormatter


    def fmt(v, pos=None):
        d = decimals
        if d is None:
            w = abs(v * scale * (100 if percent else 1))
            d = 0 if abs(w - round(w)) < 1e-9 else (1 if abs(w * 10 - round(w * 10)) < 1e-6 else 2)
        if percent:
            return format_percent(v * scale, d, lang)
        return format_number(v, d, lang, scale=scale)

    return FuncFormatter(fmt)
