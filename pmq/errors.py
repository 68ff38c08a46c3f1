"""Exceptions raised by pmq.

Every pmq error derives from :class:`PmqError`.  Errors about user input name
the file (or table), the column or key, and show the offending labels and
values, in the spirit of pyam's errors that print the offending rows.
"""
from __future__ import annotations

import sys
import unicodedata
from typing import Any

__all__ = [
    "PmqError",
    "InputError",
    "ScenarioError",
    "CalibrationError",
    "EngineError",
    "UnknownNameError",
    "OutputError",
    "OutputNotice",
    "ArgumentError",
    "ResourceError",
    "MissingDependencyError",
    "PmqWarning",
    "InactiveLeverWarning",
]

_MAX_ROWS = 10


def _format_rows(rows: Any) -> str:
    if rows is None:
        return ""
    # pandas objects only exist once pandas is imported: looked up, not imported (`pmq --help` stays light)
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(rows, pd.Series):
        rows = rows.to_frame()
    if pd is not None and isinstance(rows, pd.DataFrame):
        n = len(rows)
        shown = _headers(rows.head(_MAX_ROWS)).to_string(index=False)
        more = "\n  … " + _tr(f"and {n - _MAX_ROWS} more row(s)",
                             f"et {n - _MAX_ROWS} autre{'s' if n - _MAX_ROWS > 1 else ''} ligne"
                             f"{'s' if n - _MAX_ROWS > 1 else ''}") if n > _MAX_ROWS else ""
        return "\n" + "\n".join("  " + line for line in shown.splitlines()) + more
    values = list(rows)
    more = (", … (" + _tr(f"{len(values) - _MAX_ROWS} more", f"{len(values) - _MAX_ROWS} de plus") + ")"
            if len(values) > _MAX_ROWS else "")
    return " " + ", ".join(repr(v) for v in values[:_MAX_ROWS]) + more


def _headers(rows: Any) -> Any:
    """The offending rows as a message shows them: the row label ``row`` as the line of the file when the rows
    came from a CSV file (``attrs["pmq_row_lines"]``, the header being line 1: « line » / « ligne »), else as
    « row » / « ligne »; the words pmq adds (``only_in``) in the reader's language."""
    lines = rows.attrs.get("pmq_row_lines")
    if "row" in rows.columns and isinstance(lines, list) and len(lines) >= len(rows):
        rows = rows.assign(row=lines[:len(rows)]).rename(columns={"row": _tr("line", "ligne")})
    elif "row" in rows.columns:
        rows = rows.rename(columns={"row": _tr("row", "ligne")})
    return rows.rename(columns={"only_in": _tr("only_in", "uniquement dans")})


def _tr(en: str, fr: str) -> str:
    """:func:`pmq.options.tr`, imported when a message is made (pmq.options imports this module)."""
    from pmq.options import tr
    return tr(en, fr)


def _columns(column: str) -> str:
    """« column 'x' », or for several columns given as « a, b » « columns 'a', 'b' » (never « column 'a, b' »)."""
    names = [c.strip() for c in column.split(",") if c.strip()] if ", " in column else [column]
    if len(names) == 1:
        return _tr(f"column '{column}'", f"colonne '{column}'")
    quoted = ", ".join(f"'{c}'" for c in names)
    return _tr(f"columns {quoted}", f"colonnes {quoted}")


def _colon() -> str:
    """« : » as the reader's typography writes it after a place: ``": "`` in English, ``" : "`` in French."""
    return _tr(": ", " : ")


def _escape(text: Any) -> str:
    """``text`` with control and invisible characters shown as escapes (``\\x07``), never raw:
    a message must not ring the terminal's bell or hide part of a key."""
    return "".join(c if c.isprintable() and unicodedata.category(c) != "Cf" else repr(c)[1:-1]
                   for c in str(text))


class PmqError(Exception):
    """Base class of every error raised by pmq."""


class InputError(PmqError, ValueError):
    """Bad input data: the message names the source, the column and the offending rows.

    Parameters
    ----------
    problem : str
        What is wrong, in one sentence.
    source : str, optional
        File name or table name the data came from.
    column : str, optional
        Column (or key) at fault.
    rows : DataFrame, Series or iterable, optional
        The offending rows or values (at most 10 are shown).
    """

    def __init__(self, problem: str, *, source: str | None = None, column: str | None = None,
                 rows: Any = None):
        self.problem = problem
        self.source = source
        self.column = column
        self.rows = rows
        where = []
        if source:
            where.append(str(source))
        if column:
            where.append(_columns(str(column)))
        prefix = (", ".join(where) + _colon()) if where else ""
        super().__init__(prefix + problem + _format_rows(rows))


class UnknownNameError(InputError, KeyError):
    """A territory or métier name/code that pmq does not know; lists the closest matches."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0] if self.args else ""


class ScenarioError(PmqError, ValueError):
    """Invalid scenario file: names the file, the key path and the value."""

    def __init__(self, problem: str, *, source: str | None = None, key: str | None = None,
                 value: Any = None):
        self.problem = problem
        self.source = source
        self.key = key
        self.value = value
        where = []
        if source:
            where.append(str(source))
        if key:
            where.append(_tr(f"key '{_escape(key)}'", f"clé '{_escape(key)}'"))
        prefix = (", ".join(where) + _colon()) if where else ""
        shown = _as_written(value)
        suffix = _tr(f" (value: {shown})", f" (valeur : {shown})") if value is not None else ""
        super().__init__(prefix + problem + suffix)


def _as_written(value: Any) -> str:
    """A scenario file's value as the file writes it: a table inline as TOML writes it (``{2030 = 1}``, not Python's
    ``{'2030': 1}``), anything else as Python quotes it (``'linear'``, ``3``)."""
    if isinstance(value, dict):
        def key(k: Any) -> str:
            text = str(k)
            return text if text and all(c.isascii() and (c.isalnum() or c in "_-") for c in text) else repr(text)
        return "{" + ", ".join(f"{key(k)} = {_as_written(v)}" for k, v in value.items()) + "}"
    return repr(value)


class CalibrationError(PmqError, RuntimeError):
    """A calibration did not converge or a target cannot be reached."""


class EngineError(PmqError, RuntimeError):
    """The projection cannot proceed (e.g. flows would remove more workers than exist).

    When raised by the annual step for impossible outflows it carries ``cells``, ``stock``,
    ``outflow``, ``left``, ``no_stock`` (per cell) and ``step`` (the year index, or None); these
    are declared here for type checkers only (unset on other EngineErrors: read with getattr)."""

    cells: list[tuple[int, ...]]
    stock: list[float]
    outflow: list[float]
    left: list[float]
    no_stock: list[bool]
    step: int | None


class OutputError(InputError):
    """An output cannot be written without damaging something pmq did not write: a folder of
    the user's where an output folder goes, a folder where a file goes (or the reverse), a
    symbolic link.  The message names the path and says why; nothing is written.

    It derives from :class:`InputError` (the ``--out`` argument is the bad input), so the CLI
    exits with status 2."""

    def __init__(self, problem: str, *, path=None):
        self.path = path
        super().__init__(problem, source=str(path) if path is not None else None)


class OutputNotice(UserWarning):
    """Something pmq did to the output folder that the user should know about (e.g. removed the
    temporary folder of an interrupted run), or chose not to do (left a look-alike alone)."""


class ArgumentError(PmqError, ValueError):
    """A bad argument of a public function or a bad command-line option: the message names the
    argument (``draws``, ``--top``) and the offending value."""

    def __init__(self, problem: str, *, name: str | None = None, value: Any = None):
        self.problem = problem
        self.name = name
        self.value = value
        prefix = f"{name}{_colon()}" if name else ""
        suffix = _tr(f" (value: {value!r})", f" (valeur : {value!r})") if value is not None else ""
        super().__init__(prefix + problem + suffix)


class ResourceError(PmqError, RuntimeError):
    """The run needs more than the machine allows (memory above the limit): the message gives
    the estimate, the limit and what to do.  Nothing is computed or written."""


class MissingDependencyError(PmqError, ImportError):
    """An optional dependency (dask, zarr, pyarrow…) is needed for what was asked and is not
    installed: the message names it and gives a command that installs it."""


class PmqWarning(UserWarning):
    """Something in the input that pmq accepts but that is probably not what the user meant."""


class InactiveLeverWarning(PmqWarning):
    """A scenario lever whose years all fall outside the years of the run: it has no effect."""
