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

import functools
import math

from pmq.errors import ArgumentError
from pmq.options import OPTIONS, tr

__all__ = ["NNBSP", "MINUS", "format_number", "format_thousands", "format_percent", "tick_formatter",
           "tick_decimals", "check_lang"]

NNBSP = "\u202f"   # narrow no-break space: French thousands separator and unit space
MINUS = "\u2212"   # minus sign


def check_lang(lang: str | None = None) -> str:
    """The language to write in: ``lang`` if given, else ``pmq.get_options()["lang"]`` (French
    unless set).  Anything but ``"fr"``, ``"en"`` or ``None`` raises :class:`pmq.errors.ArgumentError`
    (a ``ValueError``) naming the argument, the choices and the value."""
    if lang is None:
        return OPTIONS["lang"]
    if lang not in ("fr", "en"):
        raise ArgumentError(tr("lang must be 'fr' or 'en'", "lang doit être 'fr' ou 'en'"), name="lang", value=lang)
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


def tick_decimals(values, percent: bool = False, scale: float = 1.0, most: int = 6) -> int:
    """The fewest decimals (0 to ``most``) that write every value of ``values`` (an axis' ticks, multiplied by
    ``scale`` and, with ``percent``, by 100) exactly, hence every tick distinctly and at the axis' step:
    0 ; 0,5 ; 1 → 1 (« 0,0 ; 0,5 ; 1,0 »); 2 ; 2,25 ; 2,5 → 2; 0 ; 1 000 ; 2 000 → 0."""
    v = [abs(float(x) * scale * (100 if percent else 1)) for x in values]
    v = [x for x in v if math.isfinite(x)]
    for d in range(most + 1):
        # relative to the value: a tick of 0.30000000000000004 is 0.3; an absolute floor for the ticks near 0
        if all(abs(x * 10 ** d - round(x * 10 ** d)) < 1e-6 * max(1.0, x * 10 ** d) for x in v):
            break
    else:
        return most
    if d < most and len(v) > 1:
        # exact but not distinct (huge values written with too few digits): one more until they differ
        while d < most and len({round(x, d) for x in v}) < len(set(v)):
            d += 1
    return d


@functools.cache
def _tick_formatter_class():
    """:class:`TickFormatter`, made on first use (importing matplotlib only when a chart is drawn)."""
    from matplotlib.ticker import Formatter

    class TickFormatter(Formatter):
        """Ticks written the French (or English) way (:func:`format_number`, :func:`format_percent`), with the same
        number of decimals on every tick of the axis: matplotlib gives the formatter all the axis' ticks
        (:meth:`set_locs`) before it writes them, and the decimals are decided once, for all of them
        (:func:`tick_decimals`), unless ``decimals`` fixes them."""

        def __init__(self, lang: str | None = None, scale: float = 1.0, decimals: int | None = None,
                     percent: bool = False):
            self.lang = check_lang(lang)
            self.scale = float(scale)
            self.decimals = None if decimals is None else int(decimals)
            self.percent = bool(percent)
            self.ticks: list[float] = []     # (not ``locs``: matplotlib 3.11 deprecates that attribute)
            self._digits: int | None = None

        def set_locs(self, locs):
            self.ticks = [float(x) for x in locs if math.isfinite(float(x))]
            self._digits = tick_decimals(self.ticks, self.percent, self.scale) if self.ticks else None

        def digits(self, v=None) -> int:
            """The decimals written: ``decimals``, else those of the axis' ticks (of ``v`` alone before any)."""
            if self.decimals is not None:
                return self.decimals
            if self._digits is not None:
                return self._digits
            return tick_decimals([] if v is None else [v], self.percent, self.scale)

        def __call__(self, v, pos=None):
            d = self.digits(v)
            if self.percent:
                return format_percent(v * self.scale, d, self.lang)
            return format_number(v, d, self.lang, scale=self.scale)

    TickFormatter.__module__ = __name__
    TickFormatter.__qualname__ = "TickFormatter"
    return TickFormatter


def __getattr__(name):
    if name == "TickFormatter":
        return _tick_formatter_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def tick_formatter(lang: str | None = None, scale: float = 1.0, decimals: int | None = None, percent: bool = False):
    """A matplotlib tick formatter (a :class:`matplotlib.ticker.Formatter`, :class:`TickFormatter`) writing ticks
    the French (or English) way: ``scale`` multiplies the values, ``percent`` writes them as percentages.

    ``decimals=None`` decides the decimals once for all the axis' ticks: the fewest that write every tick
    exactly at the axis' step, the same on each (« 0,0 ; 0,5 ; 1,0 ; 1,5 », « 2,00 ; 2,25 ; 2,50 »,
    « 0 ; 1 000 ; 2 000 »)."""
    return _tick_formatter_class()(lang, scale, decimals, percent)
