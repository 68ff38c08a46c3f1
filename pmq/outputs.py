"""Outputs on the file system: what pmq may replace, and atomic writes.

Every folder pmq writes carries a marker file (:data:`MARKER`), and every folder it writes files into a record
of those files (:data:`FILES_RECORD`); an output replaces only a file or a folder pmq wrote (and a file only as
pmq left it), never a user's.  Files are written to a temporary name beside the target and moved
into place only once complete (:func:`write_atomically`, :func:`atomic_file`,
:func:`replace_folder`), so a failure or a Ctrl-C leaves no half-written output; temporaries of
dead runs are cleaned (:func:`clean_stale`).  Used by the CLI, the exports, the report and the
ensembles' stores.

Every CSV file moved into place is UTF-8 with a byte-order mark (French Excel shows « Île-de-France »),
its text fields cannot be formulas (:func:`safe_text`), and it uses the separator and decimal mark of the
current :func:`csv_dialect` (``,`` and ``.`` unless set; ``--csv-sep ';'`` on the command line):
:func:`finish_csv`, applied by :func:`write_atomically` and :func:`atomic_file` whatever wrote the file.
"""
from __future__ import annotations

import csv as _csv
import datetime as _dt
import hashlib
import io as _io
import json
import os
import re
import shutil
import signal
import sys
import socket
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from pmq._version import __version__
from pmq.errors import ArgumentError, OutputError, OutputNotice
from pmq.options import tr


__all__ = ["ENSEMBLE_VARIABLES", "FORMULA_STARTS", "safe_text", "neutralise", "neutralise_csv", "BOM", "CSV_SEPARATORS",
           "CsvDialect", "csv_dialect", "csv_dialect_of", "current_csv_dialect", "finish_csv", "write_csv", "MARKER",
           "FILES_RECORD", "record_written", "written_file_by_pmq",
           "written_by_pmq", "check_outputs", "check_target", "clean_stale", "temporary_folder",
           "remove_temporary", "replace_folder", "write_atomically", "atomic_file", "temp_prefix", "write_marker"]


# ------------------------------------------------------------------------- safe text in cells
#: A cell whose text starts with one of these is a formula for Excel / LibreOffice (OWASP
#: « CSV injection »): ``=``, ``+``, ``-``, ``@``, tab, carriage return.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_TEXT = re.compile(r"[+-]?(?:(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?\s?%?|inf|infinity|nan)\Z",
                          re.IGNORECASE)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
_AFTER_SEPARATOR = re.compile(r"([,;\t\r\n])([=+\-@])")
#: A CSV field that :func:`safe_text` may change (``csv=True``) matches this; the others are left unread.
_MAY_CHANGE = re.compile("\\A[=+\\-@\t\r#]|[,;\t\r\n][=+\\-@]|[\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def safe_text(value, csv: bool = False):
    """``value`` made safe for a spreadsheet cell; anything but a ``str`` is returned unchanged
    (numbers stay numbers).

    * a text that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
      single quote ``'`` (the OWASP rule), so that Excel and LibreOffice show it as text instead
      of evaluating it — unless the whole text is a number (``-0.25``, ``+12,5``), which no
      spreadsheet evaluates as a formula; Excel's error literals (``#N/A``…) are quoted too;
    * characters that an ``.xlsx`` file cannot hold (control characters other than tab, line
      feed and carriage return) are replaced by U+FFFD, so a label never makes the writer fail;
    * with ``csv=True``, a formula start right after ``,``, ``;``, tab or a line break is quoted
      as well (French Excel splits a comma-separated file on semicolons, which would make it a
      cell's start), and carriage returns become line feeds (which the CSV writer quotes).
    """
    if not isinstance(value, str):
        return value
    s = _XML_ILLEGAL.sub("\ufffd", value)
    if not s or _NUMBER_TEXT.match(s):
        return s
    if csv:
        s = _AFTER_SEPARATOR.sub(r"\1'\2", s)
    if s[0] in FORMULA_STARTS or s in _EXCEL_ERRORS:
        s = "'" + s
    if csv:   # a bare carriage return is not quoted by Python's csv writer: it would cut the row
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s


def neutralise(df: pd.DataFrame, csv: bool = False) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names went through :func:`safe_text`: what
    every table pmq writes to ``.xlsx`` or ``.csv`` goes through.  Numeric columns are left as
    they are (a negative number stays a number)."""
    out = df.copy()
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col) \
                or pd.api.types.is_datetime64_any_dtype(col):
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        new = col.map(lambda v: safe_text(v, csv), na_action="ignore")
        if not new.equals(col):
            out.isetitem(j, new)
    if not isinstance(out.columns, pd.MultiIndex):
        cols = [safe_text(c, csv) for c in out.columns]
        if cols != list(out.columns):
            out.columns = cols
    return out


def neutralise_csv(path, sep: str | None = None) -> bool:
    """Rewrite the CSV file ``path`` in place with every field through :func:`safe_text`
    (``csv=True``) if any needs it; returns whether it did.  Encoding (UTF-8 with or without
    byte-order mark), separator (``sep``, else found from the header line: ``,`` or ``;``), line
    ends and quoting are kept.  :func:`write_atomically` and :func:`atomic_file` apply it to every
    ``.csv`` they move into place, whatever wrote it (through :func:`finish_csv`)."""
    return _rewrite_csv(Path(path), sep=sep, target=None)


# ------------------------------------------------------------- CSV files: BOM, separator, decimal
#: The UTF-8 byte-order mark: French Excel reads a CSV file as UTF-8 only when it starts with it
#: (otherwise « Île-de-France » shows as « ÃŽle-de-France »).  pandas, Python's ``csv`` with
#: ``encoding="utf-8-sig"``, LibreOffice and pmq's own readers skip it.
BOM = b"\xef\xbb\xbf"
#: The separators pmq writes CSV files with: separator → default decimal mark.  ``,`` with a decimal
#: point is the default (every tool reads it); ``;`` with a decimal comma is what French Excel opens
#: by a double-click.
CSV_SEPARATORS = {",": ".", ";": ","}
_SEPARATOR_NAMES = {"comma": ",", "virgule": ",", "semicolon": ";", "point-virgule": ";", "pointvirgule": ";",
                    "point_virgule": ";"}
_DECIMAL_NAMES = {"point": ".", "dot": ".", "virgule": ",", "comma": ","}


class CsvDialect(NamedTuple):
    """How pmq writes its CSV files: the field separator and the decimal mark (always UTF-8 with a BOM)."""

    sep: str = ","
    decimal: str = "."


_DIALECT: ContextVar[CsvDialect] = ContextVar("pmq_csv_dialect", default=CsvDialect())  # noqa: B039 - a tuple


def csv_dialect_of(sep: str | None = ",", decimal: str | None = None, *, name: str = "sep") -> CsvDialect:
    """The :class:`CsvDialect` of a separator (``","``, ``";"``, or ``"comma"``, ``"semicolon"``,
    ``"virgule"``, ``"point-virgule"``) and a decimal mark (default: ``.`` after ``,``, ``,`` after
    ``;``).  Anything else raises :class:`~pmq.errors.ArgumentError` naming ``name`` and the value; a
    decimal comma with the comma separator too."""
    raw = "," if sep is None else sep
    key = raw.strip().lower() if isinstance(raw, str) else raw
    s = _SEPARATOR_NAMES.get(key, key) if isinstance(key, str) else None
    if s not in CSV_SEPARATORS:
        raise ArgumentError(tr("the CSV separator must be ',' (comma, with a decimal point: the default) or ';' "
                               "(semicolon, with a decimal comma, as French Excel reads)",
                               "le séparateur CSV doit être ',' (virgule, avec un point décimal : par défaut) ou ';' "
                               "(point-virgule, avec une virgule décimale, comme le lit Excel en français)"),
                            name=name, value=raw)
    if decimal is None:
        return CsvDialect(s, CSV_SEPARATORS[s])
    d = _DECIMAL_NAMES.get(decimal.strip().lower(), decimal.strip()) if isinstance(decimal, str) else None
    if d not in (".", ",") or d == s:
        raise ArgumentError(tr(f"the decimal mark must be '.' or ',' and differ from the separator {s!r}",
                               f"le séparateur décimal doit être '.' ou ',' et différer du séparateur de colonnes "
                               f"{s!r}"), name="decimal", value=decimal)
    return CsvDialect(s, d)


@contextmanager
def csv_dialect(sep: str | None = ",", decimal: str | None = None):
    """Within the block, every CSV file pmq writes (:func:`write_atomically`, :func:`atomic_file`:
    the command line's outputs, :func:`pmq.export.to_csv`, :func:`write_csv`) uses this separator and
    decimal mark (see :func:`csv_dialect_of`); the command line's ``--csv-sep ';'`` sets it.  IAMC
    tables keep the comma and the decimal point that pyam reads.

    >>> from pmq.outputs import csv_dialect
    >>> with csv_dialect(";"):          # doctest: +SKIP
    ...     pmq.export.export(proj, "tables", fmt="csv")
    """
    token = _DIALECT.set(csv_dialect_of(sep, decimal))
    try:
        yield _DIALECT.get()
    finally:
        _DIALECT.reset(token)


def current_csv_dialect() -> CsvDialect:
    """The :class:`CsvDialect` CSV files are written with here (default: comma and decimal point)."""
    return _DIALECT.get()


#: A field that is a number with a decimal point (as pandas and ``%``-formats write floats).
_DECIMAL_NUMBER = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


def _sniff_sep(text: str) -> str:
    """The separator of a CSV text pmq's writers made: ``;`` if its header line splits into more fields
    on ``;`` than on ``,``, else ``,``."""
    first = text[:text.find("\n") if "\n" in text else len(text)]
    counts = {s: len(next(_csv.reader([first], delimiter=s), [])) for s in (",", ";")}
    return ";" if counts[";"] > counts[","] else ","


def _rewrite_csv(path: Path, sep: str | None, target: CsvDialect | None) -> bool:
    """Neutralise the fields of the CSV file ``path`` (:func:`safe_text`), and with ``target`` write it
    with the BOM and ``target``'s separator and decimal mark (numbers written with a decimal point by
    a comma-separated writer get ``target.decimal``).  Returns whether a field changed."""
    raw = path.read_bytes()
    bom = raw.startswith(BOM)
    try:
        text = raw[3 if bom else 0:].decode("utf-8")
    except UnicodeDecodeError:
        return False  # not a CSV pmq wrote; left as it is
    src = sep or _sniff_sep(text)
    out_sep = src if target is None else target.sep
    # a comma-separated writer wrote decimal points; a ';' writer wrote what it was asked (left as it is)
    mark = target.decimal if target is not None and src == "," else "."
    convert = mark != "."
    eol = "\r\n" if "\r\n" in text[:4096] else "\n"
    rows = list(_csv.reader(_io.StringIO(text, newline=""), delimiter=src))
    changed = False
    number = _DECIMAL_NUMBER.match
    for row in rows:
        for i, field in enumerate(row):
            new = _finished_field(field, convert, mark)
            if new != field:
                row[i] = new
                changed = changed or not (convert and number(field) is not None)   # safe_text changed it
    add_bom = target is not None and not bom
    if changed or convert or out_sep != src:
        buf = _io.StringIO(newline="")
        _csv.writer(buf, delimiter=out_sep, lineterminator=eol).writerows(rows)
        path.write_bytes((BOM if bom or target is not None else b"") + buf.getvalue().encode("utf-8"))
    elif add_bom:
        path.write_bytes(BOM + raw)
    return changed


def finish_csv(path, dialect: CsvDialect | None = None) -> None:
    """Make the CSV file ``path`` (as any writer made it: pandas' ``to_csv`` with its defaults, or with
    ``encoding="utf-8-sig"``) what pmq delivers: UTF-8 with a byte-order mark, every field through
    :func:`safe_text`, and the separator and decimal mark of ``dialect`` (default: the current one,
    :func:`csv_dialect`).  :func:`write_atomically` and :func:`atomic_file` apply it to every ``.csv``
    they move into place; a file that is not UTF-8 is left as it is.  A file :func:`write_frame_csv` wrote
    with that dialect (and not changed since) is already finished: it is not read again."""
    path = Path(path)
    target = dialect or _DIALECT.get()
    done = _FINISHED.pop(str(path), None)
    if done is not None and done == (target, _stat_key(path)):
        return
    _rewrite_csv(path, sep=None, target=target)


#: The CSV files :func:`write_frame_csv` wrote finished: path → (dialect, (size, mtime_ns)).
_FINISHED: dict[str, tuple] = {}


def _stat_key(path: Path):
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


_FIXED_FLOAT = re.compile(r"%\.\d+f\Z")


def _finished_field(field: str, convert: bool, mark: str) -> str:
    """One field as :func:`_rewrite_csv` leaves it (decimal mark, :func:`safe_text`)."""
    if convert and _DECIMAL_NUMBER.match(field) is not None:
        return field.replace(".", mark)
    if _MAY_CHANGE.search(field) is None:
        return field
    return safe_text(field, csv=True)


def _csv_column(col: pd.Series, float_format: str | None, convert: bool, mark: str) -> list[str]:
    """The fields of one column as pandas' ``to_csv`` writes them (``na_rep=""``), then finished."""
    values = col.tolist()
    if col.dtype == "float64":
        if float_format is None:
            text = ["" if v != v else repr(v) for v in values]
        else:
            text = ["" if v != v else float_format % v for v in values]
            if _FIXED_FLOAT.match(float_format):        # "-1.500", "inf": safe_text never changes them
                return [t.replace(".", mark) if convert and "." in t else t for t in text]
    elif pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_integer_dtype(col.dtype):
        text = ["" if v is pd.NA else str(v) for v in values]
    else:
        text = ["" if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v) for v in values]
    cache: dict[str, str] = {}
    out = []
    for t in text:
        got = cache.get(t)
        if got is None:
            got = cache[t] = _finished_field(t, convert, mark)
        out.append(got)
    return out


def _plain_csv_dtype(dtype) -> bool:
    """Column types :func:`_csv_column` writes as pandas does: float64, integers, booleans, text."""
    return (dtype == "float64" or pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
            or pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)) \
        and not isinstance(dtype, pd.CategoricalDtype)


def write_frame_csv(df: pd.DataFrame, path, *, float_format: str | None = None,
                    dialect: CsvDialect | None = None) -> Path:
    """Write ``df`` (no index; a flat header) to ``path`` as ``df.to_csv(path, index=False,
    float_format=float_format)`` followed by :func:`finish_csv` would (the same text, to the byte), in one
    pass: pandas' float formatting and the re-reading of the whole file cost ≈ 0.3 s for the 4,300 rows of
    ``summary.csv``; this ≈ 0.05 s.  The file is registered as finished, so :func:`write_atomically` does not
    read it again."""
    path = Path(path)
    target = dialect or _DIALECT.get()
    if isinstance(df.columns, pd.MultiIndex) or not df.columns.is_unique or not df.shape[1] \
            or not all(_plain_csv_dtype(t) for t in df.dtypes):          # pandas' own writer, then finished
        df.to_csv(path, index=False, float_format=float_format)
        _rewrite_csv(path, sep=None, target=target)
        return path
    mark = target.decimal
    convert = mark != "."
    header = [_finished_field("" if c is None else str(c), convert, mark) for c in df.columns]
    columns = [_csv_column(df.iloc[:, j], float_format, convert, mark) for j in range(df.shape[1])]
    buf = _io.StringIO(newline="")
    w = _csv.writer(buf, delimiter=target.sep, lineterminator="\n")
    w.writerow(header)
    w.writerows(zip(*columns))
    path.write_bytes(BOM + buf.getvalue().encode("utf-8"))
    _FINISHED[str(path)] = (target, _stat_key(path))
    return path


def write_csv(df: pd.DataFrame, path, *, float_format: str | None = None, sep: str | None = None,
              decimal: str | None = None, index: bool = False) -> Path:
    """Write ``df`` to the CSV file ``path`` as pmq writes every CSV: atomically, UTF-8 with a byte-order
    mark (French Excel shows the accents), text cells through :func:`safe_text` (no formula from a label),
    separated by ``sep`` with the decimal mark ``decimal`` (default: the current :func:`csv_dialect`,
    comma and decimal point unless set; ``sep=";"`` gives a decimal comma).  Read it back with
    ``pandas.read_csv(path, encoding="utf-8-sig", sep=sep, decimal=decimal)`` or
    :func:`pmq.inputs.tables.read_table`."""
    dialect = _DIALECT.get() if sep is None and decimal is None else csv_dialect_of(sep, decimal)
    safe = neutralise(df, csv=True)
    return atomic_file(Path(path), lambda p: safe.to_csv(p, index=index, float_format=float_format,
                                                         encoding="utf-8-sig"), dialect=dialect)


# ----------------------------------------------------------------- outputs on the file system
#: The variables of an ensemble's zarr store (:mod:`pmq.projection.ensemble` writes them).
ENSEMBLE_VARIABLES = ("employment", "net_creation", "departures", "young_entrants", "net_mobility")
#: The marker file pmq puts in every folder it writes (folder outputs such as ``figures`` or
#: ``ensemble.zarr``, and its temporary folders).  A folder without it is never replaced.
MARKER = ".pmq-output"
_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]
_TEMP_NAME = r"\.(?P<kind>tmp|ens)-(?P<pid>\d+)-(?P<host>[0-9a-f]{6})-[a-z0-9_]{8}(?:\.[A-Za-z0-9]+)?\Z"
_OLD_TEMP_NAME = r"\.(?:tmp|ens)-[a-z0-9_]{8}(?:\.[A-Za-z0-9]+)?\Z"   # pmq ≤ 0.1.0: no pid, no marker
_FIGURE_FILE = re.compile(r"\d{2}_[a-z0-9_]+\.(?:png|svg)\Z")


def _process_start(pid="self") -> float | None:
    """Start time (seconds since the epoch) of a process, read from /proc; None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat[stat.rindex(")") + 2:].split()[19])
        btime = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                     if line.startswith("btime"))
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration, AttributeError):
        return None


_STARTED = _process_start() or time.time()
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def temp_prefix(name: str, kind: str = "tmp") -> str:
    return f".{name}.{kind}-{os.getpid()}-{_HOST}-"


def write_marker(folder: Path, kind: str, name: str | None = None) -> None:
    info = {"pmq": __version__, "kind": kind, "name": name or folder.name, "pid": os.getpid(), "host": _HOST,
            "created": time.time(),
            "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    (folder / MARKER).write_text(json.dumps(info) + "\n", encoding="utf-8")


def _read_marker(folder: Path) -> dict | None:
    try:
        info = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return info if isinstance(info, dict) and "pmq" in info else None


def _is_pmq_store(folder: Path) -> bool:
    """A zarr store holding exactly pmq's ensemble variables (written before pmq marked its
    folders): zarr metadata files and array folders only."""
    meta = {".zgroup", ".zattrs", ".zmetadata", "zarr.json"}
    if not ((folder / ".zgroup").is_file() or (folder / "zarr.json").is_file()):
        return False
    arrays = set()
    for p in folder.iterdir():
        if p.name in meta and p.is_file() and not p.is_symlink():
            continue
        if p.is_dir() and not p.is_symlink() and ((p / ".zarray").is_file() or (p / "zarr.json").is_file()):
            arrays.add(p.name)
            continue
        return False
    return set(ENSEMBLE_VARIABLES) | {"draw"} <= arrays


def written_by_pmq(folder) -> bool:
    """Whether pmq may replace the folder ``folder``: it holds pmq's marker (:data:`MARKER`), or
    it is empty, or it is recognisably an output of an earlier pmq without the marker — a
    ``figures`` folder holding only ``NN_name.png/.svg`` files, or a zarr store holding only
    pmq's ensemble arrays."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return False
    if _read_marker(folder) is not None:
        return True
    entries = list(folder.iterdir())
    if not entries:
        return True
    if all(p.is_file() and not p.is_symlink() and _FIGURE_FILE.match(p.name) for p in entries):
        return True
    return _is_pmq_store(folder)


#: The record pmq keeps, in a folder where it writes files, of the files it wrote there: name → size and
#: modification time (ns) right after writing.  A file output replaces an existing file only if this record
#: holds it unchanged (or the file lies in a folder pmq wrote whole, with its :data:`MARKER`): a file of the
#: user's of the same name, or one pmq wrote and the user edited since, is never replaced.
FILES_RECORD = ".pmq-files.json"


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _read_record(folder: Path) -> dict:
    try:
        rec = json.loads((folder / FILES_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    files = rec.get("files") if isinstance(rec, dict) else None
    return files if isinstance(files, dict) else {}


def record_written(paths) -> None:
    """Add the files pmq has just written (``paths``) to their folder's :data:`FILES_RECORD`, so that a later
    run may replace them (and only them).  Best effort: a record that cannot be written only means that the
    next run refuses to replace those files, naming them."""
    folders: dict[Path, list[Path]] = {}
    for p in map(Path, paths):
        if p.is_file() and not p.is_symlink() and p.name != FILES_RECORD:
            folders.setdefault(p.parent, []).append(p)
    for folder, files in folders.items():
        rec = _read_record(folder)
        for p in files:
            rec[p.name] = _stamp(p)
        tmp = folder / f"{FILES_RECORD}.tmp-{os.getpid()}"
        try:
            tmp.write_text(json.dumps({"pmq": __version__, "files": rec}, ensure_ascii=False, sort_keys=True)
                           + "\n", encoding="utf-8")
            os.replace(tmp, folder / FILES_RECORD)
        except OSError:
            try:
                tmp.unlink()
            except OSError:
                pass


def written_file_by_pmq(path) -> bool:
    """Whether pmq wrote the file ``path`` and it is unchanged since: recorded in its folder's
    :data:`FILES_RECORD` with the same size and modification time, or inside a folder pmq wrote whole."""
    path = Path(path)
    if _read_marker(path.parent) is not None:
        return True
    stamp = _read_record(path.parent).get(path.name)
    try:
        return isinstance(stamp, list) and stamp == _stamp(path)
    except OSError:
        return False


def check_target(target: Path, new_is_dir: bool | None) -> None:
    """Raise :class:`~pmq.errors.OutputError` unless ``target`` may be replaced by a new file
    (``new_is_dir=False``), a new folder (True) or either (None: before it is written)."""
    if not os.path.lexists(target):
        return
    hint = tr("move it away or choose another --out", "déplacez-le ou choisissez un autre --out")
    if target.is_symlink():
        raise OutputError(tr(f"is a symbolic link where pmq writes its output: pmq does not replace links; {hint}",
                             f"est un lien symbolique là où pmq écrit sa sortie : pmq ne remplace pas les liens ; "
                             f"{hint}"), path=target)
    if target.is_dir():
        if new_is_dir is False:
            raise OutputError(tr(f"is a folder where pmq writes a file: not replaced (pmq never replaces a folder "
                                 f"by a file); {hint}",
                                 f"est un dossier là où pmq écrit un fichier : non remplacé (pmq ne remplace jamais "
                                 f"un dossier par un fichier) ; {hint}"), path=target)
        if not written_by_pmq(target):
            raise OutputError(tr(f"is a folder that pmq did not write (no {MARKER} marker inside): not replaced, so "
                                 f"nothing of yours is lost; {hint}",
                                 f"est un dossier que pmq n'a pas écrit (aucun marqueur {MARKER} à l'intérieur) : "
                                 f"non remplacé, rien de ce qui vous appartient n'est perdu ; {hint}"), path=target)
        return
    if not target.is_file():
        raise OutputError(tr(f"is not a regular file (device, pipe or socket): not replaced; {hint}",
                             f"n'est pas un fichier ordinaire (périphérique, tube ou socket) : non remplacé ; "
                             f"{hint}"), path=target)
    if new_is_dir:
        raise OutputError(tr(f"is a file where pmq writes a folder: not replaced (pmq never replaces a file by a "
                             f"folder); {hint}",
                             f"est un fichier là où pmq écrit un dossier : non remplacé (pmq ne remplace jamais un "
                             f"fichier par un dossier) ; {hint}"), path=target)
    if not written_file_by_pmq(target):
        raise OutputError(tr(f"exists and pmq did not write it, or it was changed since pmq wrote it (pmq keeps the "
                             f"list of the files it writes in {FILES_RECORD}): not replaced, so nothing of yours is "
                             f"lost; {hint}",
                             f"existe et pmq ne l'a pas écrit, ou il a été modifié depuis que pmq l'a écrit (pmq "
                             f"tient la liste des fichiers qu'il écrit dans {FILES_RECORD}) : non remplacé, rien de "
                             f"ce qui vous appartient n'est perdu ; {hint}"), path=target)


def check_outputs(out, names) -> None:
    """Check before any work that the outputs ``names`` can be written in the folder ``out``
    (see :func:`write_atomically`); raise :class:`~pmq.errors.OutputError` naming the path
    otherwise.  Cheap: the CLI can call it before projecting."""
    out = Path(out)
    if os.path.lexists(out) and not out.is_dir():
        raise OutputError(tr("exists and is not a folder: pmq writes its outputs into a folder there; choose "
                             "another --out",
                             "existe et n'est pas un dossier : pmq y écrit ses sorties dans un dossier ; choisissez "
                             "un autre --out"), path=out)
    for name in names:
        check_target(out / name, None)


def _alive(pid: int, since: float) -> bool:
    """Whether the process ``pid`` may still be using something it created at ``since``."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    start = _process_start(pid)
    return start is None or start <= since + 2.0   # started after the folder was made: the pid was reused


def _remove_temporary(path: Path) -> None:
    """Remove one of pmq's temporary files or folders; the marker goes last, so that a removal
    cut short is still recognised as pmq's by the next run."""
    if path.is_symlink() or not path.is_dir():
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        return
    for p in list(path.iterdir()) if path.exists() else []:
        if p.name == MARKER:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            try:
                p.unlink()
            except FileNotFoundError:
                pass
    try:
        (path / MARKER).unlink()
    except FileNotFoundError:
        pass
    shutil.rmtree(path, ignore_errors=True)


def clean_stale(folder, name: str, notify: bool = True) -> list[Path]:
    """Remove, in ``folder``, the temporary files and folders that an interrupted (killed) pmq run
    left while writing ``name`` — and only those: names of pmq's own pattern
    (``.NAME.tmp-PID-HOST-XXXXXXXX``, ``.NAME.ens-…``) made on this machine by a process that no
    longer runs, and holding pmq's marker or older than the current process.  Look-alikes of an
    older pmq (no pid, no marker) and temporaries of another machine are left alone.  Both are
    named in an :class:`~pmq.errors.OutputNotice`; returns the removed paths."""
    folder = Path(folder)
    prefix = f".{name}."
    removed, left = [], []
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix)]
    except OSError:
        return []
    pattern = re.compile(re.escape(prefix[:-1]) + _TEMP_NAME)
    old = re.compile(re.escape(prefix[:-1]) + _OLD_TEMP_NAME)
    for e in entries:
        m = pattern.match(e.name)
        path = Path(e.path)
        try:
            st = path.lstat()
        except OSError:
            continue
        if m is None or m["host"] != _HOST:    # an older pmq's, or another machine's: not ours to judge
            if (m is not None or old.match(e.name)) and st.st_mtime < _STARTED:
                left.append(path)
            continue
        marker = _read_marker(path) if e.is_dir(follow_symlinks=False) else None
        created = float(marker.get("created", st.st_mtime)) if marker else st.st_mtime
        if _alive(int(m["pid"]), created):
            continue
        if marker is None and st.st_mtime >= _STARTED:
            continue
        _remove_temporary(path)
        removed.append(path)
    if notify and removed:
        warnings.warn(tr(f"pmq: removed what interrupted runs left in {folder}: ",
                         f"pmq : suppression de ce que des exécutions interrompues ont laissé dans {folder} : ")
                      + ", ".join(p.name for p in removed), OutputNotice, stacklevel=3)
    if notify and left:
        names = ", ".join(p.name for p in left)
        warnings.warn(tr(f"pmq: left alone in {folder}: {names} — they look like temporary files of an interrupted "
                         "pmq run (an older version, or another machine) but pmq cannot tell they are its own; "
                         "delete them if you do not need them",
                         f"pmq : laissés en place dans {folder} : {names} — ils ressemblent à des fichiers "
                         "temporaires d'une exécution interrompue de pmq (une version plus ancienne, ou une autre "
                         "machine) mais pmq ne peut pas s'assurer qu'ils sont les siens ; supprimez-les si vous n'en "
                         "avez pas besoin"), OutputNotice, stacklevel=3)
    return removed


def temporary_folder(target, kind: str = "tmp") -> Path:
    """A new hidden folder beside ``target`` to build it in: ``.NAME.KIND-PID-HOST-XXXXXXXX``
    holding pmq's marker, after removing what killed runs left there (:func:`clean_stale`).
    Remove it with :func:`remove_temporary`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target.parent, target.name)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(target.name, kind), dir=target.parent))
    try:
        write_marker(tmp, "temporary", target.name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def remove_temporary(path) -> None:
    """Remove a folder made by :func:`temporary_folder` (and whatever is in it)."""
    _remove_temporary(Path(path))


class _Interrupts:
    """While writing: Ctrl-C (SIGINT) and SIGTERM raise :class:`KeyboardInterrupt` — also when a
    library swallowed the first one (:meth:`check`) — except while outputs are being moved into
    place (``defer``), where the interrupt waits until the move is over.  Installed only in the
    main thread and only over Python's default handlers."""

    def __init__(self):
        self.hit = None
        self.defer = False
        self._prev = {}
        self._hook = None

    def _unraisable(self, unraisable):
        """A KeyboardInterrupt raised while Python ran a destructor or a weakref callback cannot propagate:
        Python would print it as « Exception ignored in … » with a traceback.  It is not lost — :meth:`check`
        raises it again at the next step — so it is not printed; anything else goes to the previous hook."""
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and self.hit is not None:
            return
        (self._hook or sys.__unraisablehook__)(unraisable)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
            for sig, default in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL)):
                try:
                    if signal.getsignal(sig) is default:
                        self._prev[sig] = signal.signal(sig, self._handler)
                except (ValueError, OSError):  # pragma: no cover - e.g. embedded interpreters
                    pass
        return self

    def _handler(self, signum, frame):
        self.hit = signum
        if not self.defer:
            raise KeyboardInterrupt

    def check(self):
        if self.hit is not None:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        for sig, prev in self._prev.items():
            signal.signal(sig, prev)
        if self._hook is not None:
            sys.unraisablehook = self._hook
        return False


def write_atomically(out: Path, writers: dict, *, dialect: CsvDialect | None = None) -> list[Path]:
    """Write every ``{name: writer(path)}`` into a temporary folder beside ``out`` (a folder),
    then move the results — files or folders — into ``out``: a failure or an interrupt (Ctrl-C)
    leaves nothing half-written and the previous outputs untouched.

    Nothing pmq did not write is ever removed: a folder output (``figures``, ``ensemble.zarr``)
    replaces only a folder that holds pmq's marker (:data:`MARKER`, written in every folder
    output) or that :func:`written_by_pmq` recognises; a file output replaces only a file of the
    same name; links are never replaced.  Otherwise :class:`~pmq.errors.OutputError` names the
    path and nothing is written.  CSV files are passed through :func:`finish_csv` (UTF-8 with a
    byte-order mark, no formula from a text field, the separator and decimal mark of ``dialect``,
    default: the current :func:`csv_dialect`).  What a killed run left beside ``out`` is removed
    first (:func:`clean_stale`).  When ``out`` does not exist yet, it appears in one rename, complete."""
    out = Path(out).resolve()
    dialect = dialect or _DIALECT.get()
    check_outputs(out, writers)
    with _Interrupts() as sig:
        tmp = temporary_folder(out)
        try:
            for name, write in writers.items():
                write(tmp / name)
                sig.check()
            produced = sorted(p for p in tmp.iterdir() if p.name != MARKER)
            for p in produced:
                if p.is_dir() and not p.is_symlink():
                    write_marker(p, "output")
                elif p.suffix.lower() == ".csv" and p.is_file():
                    finish_csv(p, dialect)
            check_outputs(out, [])
            for p in produced:
                check_target(out / p.name, p.is_dir())
            sig.check()
            sig.defer = True
            written = _commit(tmp, out, produced)
            record_written(written)
        finally:
            if tmp.exists():
                _remove_temporary(tmp)
        sig.check()
    return written


def _commit(tmp: Path, out: Path, produced: list[Path]) -> list[Path]:
    if not out.exists():       # a new folder: one rename, complete or absent
        (tmp / MARKER).unlink()
        os.chmod(tmp, 0o777 & ~_UMASK)
        try:
            os.rename(tmp, out)
            return [out / p.name for p in produced]
        except OSError:        # made meanwhile by someone else: move entry by entry
            write_marker(tmp, "temporary", out.name)
    out.mkdir(exist_ok=True)
    written = []
    for p in produced:
        target = out / p.name
        if p.is_dir() and not p.is_symlink() and target.is_dir():
            old = tmp / f".old-{p.name}"
            os.rename(target, old)
            os.rename(p, target)
        else:
            os.replace(p, target)
        written.append(target)
    return written


def replace_folder(new, target) -> Path:
    """Move the finished folder ``new`` to ``target``, replacing only a folder pmq wrote
    (:func:`written_by_pmq`); pmq's marker is put in it.  Raises
    :class:`~pmq.errors.OutputError` otherwise (``new`` is then left where it is)."""
    new, target = Path(new), Path(target)
    write_marker(new, "output", target.name)
    check_target(target, True)
    if target.is_dir():
        old = new.parent / f".old-{target.name}"
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)
    return target


def atomic_file(path: Path, write, *, dialect: CsvDialect | None = None) -> Path:
    """Write the file ``path`` through a temporary file beside it; an existing file is replaced,
    a folder, a link or a special file never (:class:`~pmq.errors.OutputError`).  A ``.csv`` goes
    through :func:`finish_csv` with ``dialect`` (default: the current :func:`csv_dialect`)."""
    path = Path(path)
    dialect = dialect or _DIALECT.get()
    check_target(path, False)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path.parent, path.name)
    with _Interrupts() as sig:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=path.suffix, dir=path.parent)
        os.close(fd)
        try:
            write(Path(tmp))
            sig.check()
            if path.suffix.lower() == ".csv":
                finish_csv(tmp, dialect)
            os.chmod(tmp, 0o666 & ~_UMASK)
            check_target(path, False)
            sig.defer = True
            os.replace(tmp, path)
            record_written([path])
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        sig.check()
    return path
