"""Tables in the formats report authors use: Excel (one sheet per table, a README sheet with
units and sources), CSV, netCDF, and the IAMC long format that pyam and the scenario databases
of the IPCC / IAMC community read.

Every writer is atomic: files are written to a temporary name beside the target and moved into
place only once complete, so a failure or a Ctrl-C leaves no half-written output.  Deliverables
are safe to share: every text cell written to ``.xlsx`` or ``.csv`` goes through
:func:`safe_text` (no formula from a label), and an output replaces only what pmq wrote
(:func:`write_atomically`).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import __version__
from .errors import ArgumentError, MissingDependencyError
from .indicators import FLOWS, aggregate_territories, window_sums
from .scenario import STATUS_LABELS, is_builtin, status_label
from .labels import TEXT, domain_label, metier_label
from .plots._common import national

__all__ = ["standard_tables", "COLUMNS", "to_excel", "read_excel_tables", "TEXT_COLUMNS", "to_csv", "write_atomically", "iamc_table", "IAMC_COLUMNS",
           "IAMC_VARIABLES", "check_iamc", "write_iamc", "to_pyam", "export", "safe_text", "neutralise",
           "neutralise_csv", "MARKER", "written_by_pmq", "check_outputs", "clean_stale", "temporary_folder",
           "remove_temporary", "replace_folder"]

#: Column → (French label, English label, unit) for every numeric column of the standard tables.
COLUMNS = {
    "employment_start": (*TEXT["employment_start"], "personnes / persons"),
    "employment_end": (*TEXT["employment_end"], "personnes / persons"),
    **{k: (*TEXT[k], "personnes sur la période / persons over the period") for k in FLOWS if k in TEXT},
    "departure_rate": ("Départs / emploi initial", "Departures / initial employment", "ratio"),
    "openings_rate": ("Postes à pourvoir / emploi initial", "Openings / initial employment", "ratio"),
    "imbalance_rate": ("Déséquilibre / emploi initial", "Imbalance / initial employment", "ratio"),
}
_RATIO = {"departure_rate": "departures", "openings_rate": "openings", "imbalance_rate": "imbalance"}



def provenance(attrs) -> tuple[dict, list]:
    """The accounts' data sources ``{input: source}`` and estimated inputs ``[text, …]``, read from
    their attrs (``data_sources``, ``estimated_inputs``, JSON).  Missing or empty attributes give
    empty ones; a malformed attribute raises :class:`~pmq.errors.InputError` naming it — a
    deliverable must never drop its « estimated » rows without a word."""
    from .errors import InputError

    out = []
    for key, kind, default in (("data_sources", dict, "{}"), ("estimated_inputs", list, "[]")):
        raw = attrs.get(key, default)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raw = default
        try:
            val = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
        except ValueError:
            val = None
        if not isinstance(val, kind):
            raise InputError(f"is not a JSON {kind.__name__}: {str(raw)[:80]!r} (was the file written by pmq?)",
                             source="accounts attrs", column=key)
        out.append(val)
    return out[0], out[1]

def scenario_status(attrs) -> list[tuple[str, str, list]]:
    """``(scenario, status, assumed levers)`` for each scenario of the accounts, from the attrs
    ``scenario_status`` / ``scenario_assumed_levers`` (:func:`pmq.scenario.lever_status`); accounts
    written before these attrs existed give an empty list.  A malformed attribute raises
    :class:`~pmq.errors.InputError` naming it."""
    from .errors import InputError

    raw, levers = attrs.get("scenario_status"), attrs.get("scenario_assumed_levers", "[]")
    if raw is None or raw == "":
        return []
    try:
        if raw in STATUS_LABELS:
            pairs, lev = {attrs.get("scenario", ""): raw}, {attrs.get("scenario", ""): json.loads(levers)}
        else:
            pairs, lev = json.loads(raw), json.loads(levers)
        out = [(str(k), v, list(lev.get(k, []))) for k, v in pairs.items()]
    except (ValueError, TypeError, AttributeError):
        out = None
    if out is None or any(v not in STATUS_LABELS for _, v, _ in out):
        raise InputError(f"is not a scenario status pmq writes: {str(raw)[:80]!r}", source="accounts attrs",
                         column="scenario_status")
    return out


# ------------------------------------------------------------------------- safe text in cells
#: A cell whose text starts with one of these is a formula for Excel / LibreOffice (OWASP
#: « CSV injection »): ``=``, ``+``, ``-``, ``@``, tab, carriage return.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_TEXT = re.compile(r"[+-]?(?:(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?\s?%?|inf|infinity|nan)\Z",
                          re.IGNORECASE)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
_AFTER_SEPARATOR = re.compile(r"([,;\t\r\n])([=+\-@])")


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


def neutralise_csv(path) -> bool:
    """Rewrite the CSV file ``path`` in place with every field through :func:`safe_text`
    (``csv=True``) if any needs it; returns whether it did.  Encoding (UTF-8 with or without
    byte-order mark), line ends and quoting are kept.  :func:`write_atomically` applies it to
    every ``.csv`` it moves into place, whatever wrote it."""
    import csv as _csv
    import io as _io
    path = Path(path)
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw[3 if bom else 0:].decode("utf-8")
    except UnicodeDecodeError:
        return False  # not a CSV pmq wrote; left as it is
    eol = "\r\n" if "\r\n" in text[:4096] else "\n"
    rows = list(_csv.reader(_io.StringIO(text, newline="")))
    changed = False
    for row in rows:
        for i, field in enumerate(row):
            new = safe_text(field, csv=True)
            if new != field:
                row[i] = new
                changed = True
    if changed:
        buf = _io.StringIO(newline="")
        _csv.writer(buf, lineterminator=eol).writerows(rows)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))
    return changed


# ----------------------------------------------------------------- outputs on the file system
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


def _temp_prefix(name: str, kind: str = "tmp") -> str:
    return f".{name}.{kind}-{os.getpid()}-{_HOST}-"


def _write_marker(folder: Path, kind: str, name: str | None = None) -> None:
    info = {"pmq": __version__, "kind": kind, "name": name or folder.name, "pid": os.getpid(), "host": _HOST,
            "created": time.time(),
            "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
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
    from .ensemble import STORED
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
    return set(STORED) | {"draw"} <= arrays


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


def _check_target(target: Path, new_is_dir: bool | None) -> None:
    """Raise :class:`~pmq.errors.OutputError` unless ``target`` may be replaced by a new file
    (``new_is_dir=False``), a new folder (True) or either (None: before it is written)."""
    from .errors import OutputError
    if not os.path.lexists(target):
        return
    hint = "move it away or choose another --out"
    if target.is_symlink():
        raise OutputError(f"is a symbolic link where pmq writes its output: pmq does not replace links; {hint}",
                          path=target)
    if target.is_dir():
        if new_is_dir is False:
            raise OutputError(f"is a folder where pmq writes a file: not replaced (pmq never replaces a folder "
                              f"by a file); {hint}", path=target)
        if not written_by_pmq(target):
            raise OutputError(f"is a folder that pmq did not write (no {MARKER} marker inside): not replaced, so "
                              f"nothing of yours is lost; {hint}", path=target)
        return
    if not target.is_file():
        raise OutputError(f"is not a regular file (device, pipe or socket): not replaced; {hint}", path=target)
    if new_is_dir:
        raise OutputError(f"is a file where pmq writes a folder: not replaced (pmq never replaces a file by a "
                          f"folder); {hint}", path=target)


def check_outputs(out, names) -> None:
    """Check before any work that the outputs ``names`` can be written in the folder ``out``
    (see :func:`write_atomically`); raise :class:`~pmq.errors.OutputError` naming the path
    otherwise.  Cheap: the CLI can call it before projecting."""
    from .errors import OutputError
    out = Path(out)
    if os.path.lexists(out) and not out.is_dir():
        raise OutputError("exists and is not a folder: pmq writes its outputs into a folder there; choose "
                          "another --out", path=out)
    for name in names:
        _check_target(out / name, None)


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
    from .errors import OutputNotice
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
        warnings.warn(f"pmq: removed what interrupted runs left in {folder}: "
                      + ", ".join(p.name for p in removed), OutputNotice, stacklevel=3)
    if notify and left:
        warnings.warn(f"pmq: left alone in {folder}: " + ", ".join(p.name for p in left)
                      + " — they look like temporary files of an interrupted pmq run (an older version, or "
                        "another machine) but pmq cannot tell they are its own; delete them if you do not "
                        "need them", OutputNotice, stacklevel=3)
    return removed


def temporary_folder(target, kind: str = "tmp") -> Path:
    """A new hidden folder beside ``target`` to build it in: ``.NAME.KIND-PID-HOST-XXXXXXXX``
    holding pmq's marker, after removing what killed runs left there (:func:`clean_stale`).
    Remove it with :func:`remove_temporary`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target.parent, target.name)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(target.name, kind), dir=target.parent))
    try:
        _write_marker(tmp, "temporary", target.name)
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

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
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
        return False


def write_atomically(out: Path, writers: dict) -> list[Path]:
    """Write every ``{name: writer(path)}`` into a temporary folder beside ``out`` (a folder),
    then move the results — files or folders — into ``out``: a failure or an interrupt (Ctrl-C)
    leaves nothing half-written and the previous outputs untouched.

    Nothing pmq did not write is ever removed: a folder output (``figures``, ``ensemble.zarr``)
    replaces only a folder that holds pmq's marker (:data:`MARKER`, written in every folder
    output) or that :func:`written_by_pmq` recognises; a file output replaces only a file of the
    same name; links are never replaced.  Otherwise :class:`~pmq.errors.OutputError` names the
    path and nothing is written.  CSV files are passed through :func:`neutralise_csv`.  What a
    killed run left beside ``out`` is removed first (:func:`clean_stale`).  When ``out`` does not
    exist yet, it appears in one rename, complete."""
    out = Path(out).resolve()
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
                    _write_marker(p, "output")
                elif p.suffix.lower() == ".csv" and p.is_file():
                    neutralise_csv(p)
            check_outputs(out, [])
            for p in produced:
                _check_target(out / p.name, p.is_dir())
            sig.check()
            sig.defer = True
            written = _commit(tmp, out, produced)
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
            _write_marker(tmp, "temporary", out.name)
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
    _write_marker(new, "output", target.name)
    _check_target(target, True)
    if target.is_dir():
        old = new.parent / f".old-{target.name}"
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)
    return target


def _atomic_file(path: Path, write) -> Path:
    """Write the file ``path`` through a temporary file beside it; an existing file is replaced,
    a folder, a link or a special file never (:class:`~pmq.errors.OutputError`)."""
    path = Path(path)
    _check_target(path, False)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path.parent, path.name)
    with _Interrupts() as sig:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path.name), suffix=path.suffix, dir=path.parent)
        os.close(fd)
        try:
            write(Path(tmp))
            sig.check()
            if path.suffix.lower() == ".csv":
                neutralise_csv(tmp)
            os.chmod(tmp, 0o666 & ~_UMASK)
            _check_target(path, False)
            sig.defer = True
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        sig.check()
    return path


# ---------------------------------------------------------------------------------------- tables
def _accounts(data) -> xr.Dataset:
    from .plots._common import accounts_of
    return accounts_of(data)


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        for col, num in _RATIO.items():
            df[col] = np.where(df["employment_start"] > 0, df[num] / df["employment_start"], np.nan)
    return df


def _window_frame(w: xr.Dataset, keys: list[str]) -> pd.DataFrame:
    cols = ["employment_start", "employment_end", *FLOWS]
    df = w[cols].to_dataframe().reset_index()
    return df[[c for c in keys if c in df.columns] + cols]


def standard_tables(data, end_years=None, territory=None, lang: str = "fr") -> dict[str, pd.DataFrame]:
    """The tables of a report: ``regions`` (territories + France), ``domaines`` and ``metiers``
    (per territory), each per scenario and window from the base year to each end year (default:
    5, 10, 20 years and 2030 where the projection reaches them).  Persons; ``*_rate`` are
    shares of initial employment.  ``territory`` restricts the domain and métier tables."""
    from .indicators import aggregate_metiers, default_end_years, select
    acc = _accounts(data)
    base = int(acc.year.values[0])
    ends = default_end_years(acc) if end_years is None else [int(e) for e in end_years]
    keep_coords = ("territory_name", "metier_label", "domain")
    reg, dom, met = [], [], []
    for end in ends:
        w = window_sums(acc, base, end).drop_vars("employment_base")
        w = w.drop_vars([c for c in w.coords if c not in w.dims and c not in keep_coords])
        wt = w.sum("metier")
        code, name, _ = national(acc, lang)
        fr = aggregate_territories(wt.drop_vars([c for c in wt.coords if c not in wt.dims and c != "territory_name"]),
                                   code=code, name=name)
        both = xr.concat([wt, fr.drop_vars([c for c in fr.coords if c not in fr.dims and c != "territory_name"])],
                         dim="territory")
        period = f"{base}–{end}"
        r = _window_frame(both, ["scenario", "territory", "territory_name"])
        r.insert(0, "period", period)
        reg.append(r)
        ws = select(w, territory=territory) if territory is not None else w
        d = aggregate_metiers(ws, by="domain")
        dd = _window_frame(d, ["scenario", "territory", "territory_name", "domain"])
        dd.insert(dd.columns.get_loc("domain") + 1, "domain_label", domain_label(dd["domain"], lang))
        dd.insert(0, "period", period)
        dom.append(dd)
        m = _window_frame(ws, ["scenario", "territory", "territory_name", "metier", "domain"])
        m.insert(m.columns.get_loc("metier") + 1, "metier_label", metier_label(m["metier"], lang))
        m.insert(0, "period", period)
        met.append(m)
    names = ("regions", "domaines", "metiers") if lang == "fr" else ("regions", "domains", "occupations")
    return {n: _rates(pd.concat(t, ignore_index=True)) for n, t in zip(names, (reg, dom, met))}


def _readme_rows(acc: xr.Dataset, tables: dict, lang: str) -> list[list]:
    attrs = acc.attrs
    fr = lang == "fr"
    rows = [["pmq — " + ("tableaux de résultats" if fr else "result tables")], [],
            ["pmq version", __version__],
            ["date", _dt.date.today().isoformat()]]
    if "scenario" in acc.dims:
        for s, t in zip(acc.scenario.values, acc.get("scenario_title_fr", acc.scenario).values):
            rows.append(["scénario" if fr else "scenario", str(s), str(t)])
    else:
        rows.append(["scénario" if fr else "scenario", attrs.get("scenario", ""), attrs.get("scenario_title_fr", "")])
        rows.append(["hash", attrs.get("scenario_hash", "")])
    try:
        files = json.loads(attrs["scenario_sources"]) if "scenario_sources" in attrs else \
            {attrs.get("scenario", ""): attrs.get("scenario_source", "")}
    except ValueError:
        files = {}
    for name, status, assumed in scenario_status(attrs):
        label = status_label(status, lang, is_builtin(files.get(name, "")))
        rows.append(["statut des chiffres" if fr else "figures", name,
                     label + ((" : " if fr else ": ") + ", ".join(assumed) if assumed else "")])
    rows.append(["base", attrs.get("baseline_title", "")])
    sources, estimated = provenance(attrs)
    for k, v in sources.items():
        rows.append(["source", k, v])
    for v in estimated:
        rows.append(["estimé" if fr else "estimated", v])
    rows += [[], ["Conventions", "Flux d'une période = somme des flux annuels de l'année de début (incluse) à l'année "
                  "de fin (exclue) ; emploi au 1er janvier." if fr else
                  "Flows of a period = sum of annual flows from the start year (included) to the end year "
                  "(excluded); employment on 1 January."],
             [], ["feuille" if fr else "sheet", "colonne" if fr else "column", "libellé" if fr else "label",
                  "unité" if fr else "unit"]]
    for name, df in tables.items():
        for col in df.columns:
            if col in COLUMNS:
                lab = COLUMNS[col][0 if fr else 1]
                rows.append([name, col, lab, COLUMNS[col][2]])
            else:
                rows.append([name, col, "", ""])
    return rows


def to_excel(tables: dict[str, pd.DataFrame], path, accounts: xr.Dataset | None = None, lang: str = "fr",
             readme: list[list] | None = None) -> Path:
    """One sheet per table plus a first ``README`` sheet (version, scenario, sources, estimated
    inputs, conventions, and the label and unit of every column).  Header on the first row of
    each sheet, so ``pandas.read_excel(path, sheet_name=name)`` gives the table back; persons
    are shown with a thousands separator and ratios as percentages.  Every text cell, README
    included, goes through :func:`safe_text`: a label that would be a formula (``=…``, ``+…``,
    ``-…``, ``@…``) is written as text with a leading ``'``; numbers stay numbers."""
    from openpyxl.utils import get_column_letter
    bad = [n for n in tables if len(n) > 31 or any(ch in n for ch in "[]:*?/\\") or n == "README"]
    if bad:
        raise ArgumentError("invalid Excel sheet names (at most 31 characters, none of []:*?/\\, "
                            "not README)", name="tables", value=bad)
    rows = readme if readme is not None else (_readme_rows(accounts, tables, lang) if accounts is not None else [])
    # Labels come from user data and scenario files: no text cell may become a formula.
    rows = [[safe_text(v) for v in r] for r in rows]
    tables = {name: neutralise(df) for name, df in tables.items()}

    def write(tmp: Path):
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            width = max((len(r) for r in rows), default=1)
            pd.DataFrame([list(r) + [None] * (width - len(r)) for r in rows] or [[""]]).to_excel(
                xw, sheet_name="README", index=False, header=False)
            for name, df in tables.items():
                df.to_excel(xw, sheet_name=name, index=False)
                ws = xw.sheets[name]
                ws.freeze_panes = "A2"
                for j, col in enumerate(df.columns, start=1):
                    letter = get_column_letter(j)
                    width = min(max(len(str(col)), *(len(str(v)) for v in df.iloc[:50, j - 1])) + 2, 60)
                    ws.column_dimensions[letter].width = width
                    fmt = ("0.0%" if str(col).endswith("_rate") else
                           "#,##0" if pd.api.types.is_float_dtype(df.iloc[:, j - 1]) else None)
                    if fmt:
                        for cell in ws[letter][1:]:
                            cell.number_format = fmt
            xw.sheets["README"].column_dimensions["A"].width = 18
            xw.sheets["README"].column_dimensions["B"].width = 40
            xw.sheets["README"].column_dimensions["C"].width = 60
    return _atomic_file(Path(path), write)


#: Text columns of the standard tables (codes such as « 11 » or « 93 » must stay text).
TEXT_COLUMNS = ("period", "scenario", "territory", "territory_name", "domain", "domain_label", "metier",
                "metier_label")


def read_excel_tables(path) -> dict[str, pd.DataFrame]:
    """Read back a workbook of :func:`to_excel` (every sheet but README), codes kept as text."""
    sheets = pd.read_excel(path, sheet_name=None, dtype={c: str for c in TEXT_COLUMNS})
    sheets.pop("README", None)
    return sheets


def to_csv(tables: dict[str, pd.DataFrame], folder) -> list[Path]:
    """One CSV per table (``<name>.csv``) in ``folder``, full precision, UTF-8 with a byte-order
    mark so that Excel opens accents correctly, written atomically; text cells through
    :func:`safe_text` (no formula from a label)."""
    return write_atomically(Path(folder), {f"{n}.csv": (lambda p, df=neutralise(df, csv=True): df.to_csv(
                                               p, index=False, encoding="utf-8-sig"))
                                           for n, df in tables.items()})


# ----------------------------------------------------------------------------------------- IAMC
IAMC_COLUMNS = ["model", "scenario", "region", "variable", "unit"]
#: pmq variable → (IAMC variable root, unit).  Stocks on 1 January; flows over the year.
IAMC_VARIABLES = {
    "employment": ("Employment", "thousand persons"),
    "net_creation": ("Net Job Creation", "thousand persons/yr"),
    "departures": ("End-of-career Departures", "thousand persons/yr"),
    "openings": ("Job Openings", "thousand persons/yr"),
    "young_entrants": ("Young Entrants", "thousand persons/yr"),
    "net_mobility": ("Net Inflow from Other Regions", "thousand persons/yr"),
    "imbalance": ("Potential Imbalance", "thousand persons/yr"),
}


def iamc_table(data, model: str = "pmq", variables=None, by: str | None = "metier", national: bool = True,
               years=None) -> pd.DataFrame:
    """Accounts as an IAMC table: columns ``model, scenario, region, variable, unit`` then one
    column per year (int, ascending); values in thousands.

    Variables are ``|``-separated hierarchies: ``Employment`` (all métiers), ``Employment|B``
    (FAP domain), ``Employment|B|B2Z`` (métier) with ``by="metier"``; ``by="domain"`` stops at
    domains, ``by=None`` at totals.  Children sum to their parent.  Regions are territory names
    plus « France métropolitaine » (``national``).  Flows of the final year (not defined) are
    left empty, as IAMC tables allow.
    """
    acc = _accounts(data)
    variables = list(IAMC_VARIABLES) if variables is None else list(variables)
    unknown = [v for v in variables if v not in IAMC_VARIABLES]
    if unknown:
        raise ArgumentError(f"unknown IAMC variables; use {list(IAMC_VARIABLES)}",
                            name="variables", value=unknown)
    if by not in (None, "domain", "metier"):
        raise ArgumentError("by must be None, 'domain' or 'metier'", name="by", value=by)
    ds = xr.Dataset({v: acc[v].sum("age") if "age" in acc[v].dims else acc[v] for v in variables})
    ds = ds.drop_vars([c for c in ds.coords if c not in ds.dims and c not in ("territory_name", "domain")])
    if "scenario" not in ds.dims:
        ds = ds.expand_dims(scenario=[str(acc.attrs.get("scenario", "scenario"))])
    if national:  # min_count: a flow undefined in every region stays undefined in France
        from .plots._common import national as national_label
        code, name, _ = national_label(acc)
        fr = ds.drop_vars("territory_name").sum("territory", min_count=1).expand_dims(territory=[code])
        fr = fr.assign_coords(territory_name=("territory", [name]))
        ds = xr.concat([ds, fr.transpose(*ds[variables[0]].dims)], dim="territory")
    if years is not None:
        ds = ds.sel(year=list(years))
    region = pd.Series([str(n) for n in ds.territory_name.values], index=[str(t) for t in ds.territory.values])
    frames = []
    for v in variables:
        root, unit = IAMC_VARIABLES[v]
        da = ds[v] / 1e3
        levels = [(root, da.sum("metier", min_count=1))]
        if by in ("domain", "metier"):
            g = da.drop_vars([c for c in da.coords if c not in da.dims and c != "domain"]).groupby("domain").sum(
                min_count=1)
            levels.append((None, g.rename({"domain": "key"}).assign_coords(key=[f"{root}|{k}" for k in g.domain.values])))
        if by == "metier":
            keys = [f"{root}|{d}|{m}" for d, m in zip(da.domain.values, da.metier.values)]
            levels.append((None, da.drop_vars([c for c in da.coords if c not in da.dims])
                           .rename({"metier": "key"}).assign_coords(key=keys)))
        for name, lv in levels:
            if name is not None:
                lv = lv.drop_vars([c for c in lv.coords if c not in lv.dims]).expand_dims(key=[name])
            lv = lv.drop_vars([c for c in lv.coords if c not in lv.dims])
            df = lv.transpose("scenario", "territory", "key", "year").to_series().unstack("year").reset_index()
            df.insert(3, "unit", unit)
            frames.append(df)
    out = pd.concat(frames, ignore_index=True).rename(columns={"key": "variable"})
    out["region"] = out.pop("territory").astype(str).map(region)
    out.insert(0, "model", model)
    out["scenario"] = out["scenario"].astype(str)
    year_cols = sorted(int(c) for c in out.columns if c not in IAMC_COLUMNS)
    out.columns = [int(c) if c not in IAMC_COLUMNS else c for c in out.columns]
    out = out[IAMC_COLUMNS + year_cols]
    return out.sort_values(["model", "scenario", "region", "variable"], kind="stable").reset_index(drop=True)


def check_iamc(df: pd.DataFrame, source: str = "IAMC table") -> None:
    """Raise :class:`~pmq.errors.InputError` unless ``df`` follows the IAMC wide format: the
    columns ``model, scenario, region, variable, unit`` in that order, then integer years in
    ascending order; non-empty strings in the first five; ``|``-separated variables without
    empty segments or surrounding spaces; one row per (model, scenario, region, variable);
    numeric year values; one unit per variable."""
    from .errors import InputError
    cols = list(df.columns)
    if cols[:5] != IAMC_COLUMNS:
        raise InputError(f"the first columns must be {IAMC_COLUMNS}", source=source, column="columns",
                         rows=cols[:5])
    years = cols[5:]
    if not years or not all(isinstance(y, (int, np.integer)) for y in years) or years != sorted(years):
        raise InputError("year columns must be integers in ascending order", source=source, column="columns",
                         rows=years[:10])
    for c in IAMC_COLUMNS:
        bad = df[~df[c].map(lambda x: isinstance(x, str) and x.strip() == x and x != "")]
        if len(bad):
            raise InputError("empty, non-text or space-padded values", source=source, column=c,
                             rows=bad.index[:10].tolist())
    seg = df["variable"].str.split("|")
    bad = df[seg.map(lambda parts: any(p == "" or p.strip() != p for p in parts))]
    if len(bad):
        raise InputError("variables must be '|'-separated names without empty segments or padding",
                         source=source, column="variable", rows=bad["variable"].head(10).tolist())
    dup = df[df.duplicated(IAMC_COLUMNS[:4], keep=False)]
    if len(dup):
        raise InputError("duplicate (model, scenario, region, variable) rows", source=source,
                         column="variable", rows=dup.index[:10].tolist())
    units = df.groupby("variable")["unit"].nunique()
    if (units > 1).any():
        raise InputError("a variable has several units", source=source, column="unit",
                         rows=units[units > 1].index[:10].tolist())
    nonnum = [y for y in years if not pd.api.types.is_numeric_dtype(df[y])]
    if nonnum:
        raise InputError("year columns must be numeric", source=source, column=str(nonnum[0]), rows=nonnum[:10])


def write_iamc(df: pd.DataFrame, path) -> Path:
    """Write an IAMC table to ``.csv`` or ``.xlsx`` (sheet ``data``, as pyam reads it), atomically."""
    check_iamc(df)
    path = Path(path)
    df = neutralise(df, csv=path.suffix == ".csv")
    if path.suffix == ".csv":
        return _atomic_file(path, lambda p: df.to_csv(p, index=False))
    if path.suffix == ".xlsx":
        return _atomic_file(path, lambda p: df.to_excel(p, sheet_name="data", index=False))
    raise ArgumentError(f"IAMC tables are written as .csv or .xlsx, not {path.suffix!r}",
                        name="path", value=str(path))


def to_pyam(data, **kwargs):
    """A ``pyam.IamDataFrame`` of :func:`iamc_table` (needs the optional package pyam:
    ``python -m pip install pyam-iamc``)."""
    try:
        import pyam
    except ImportError as exc:
        raise MissingDependencyError("to_pyam needs pyam (the optional extra pmq[pyam]): install it "
                                     "with `python -m pip install pyam-iamc` (or use iamc_table(), "
                                     "which pyam reads)") from exc
    return pyam.IamDataFrame(iamc_table(data, **kwargs))


def export(data, path, fmt: str | None = None, end_years=None, territory=None, lang: str = "fr") -> list[Path]:
    """Write a projection or comparison: ``xlsx`` (standard tables), ``csv`` (a folder of
    tables), ``nc`` (the accounts), ``iamc`` (``.csv`` or ``.xlsx``).  ``fmt`` defaults to the
    path's suffix (``.iamc.csv`` → IAMC)."""
    from .indicators import to_netcdf
    path = Path(path)
    name = path.name.lower()
    if fmt is None:
        if name.endswith(".csv") and ".iamc." not in name:
            raise ArgumentError("the CSV export writes one file per table; give a folder "
                                "(e.g. --out results/) or an IAMC file (.iamc.csv)",
                                name="path", value=str(path))
        fmt = ("iamc" if ".iamc." in name else "xlsx" if name.endswith(".xlsx") else
               "nc" if name.endswith(".nc") else "csv" if not path.suffix else None)
    acc = _accounts(data)
    if fmt == "xlsx":
        return [to_excel(standard_tables(acc, end_years, territory, lang), path, accounts=acc, lang=lang)]
    if fmt == "csv":
        return to_csv(standard_tables(acc, end_years, territory, lang), path)
    if fmt in ("nc", "netcdf"):
        return [_atomic_file(path, lambda p: to_netcdf(acc, p))]
    if fmt == "iamc":
        return [write_iamc(iamc_table(acc), path)]
    raise ArgumentError(f"unknown export format for {path}; use xlsx, csv, nc or iamc",
                        name="fmt", value=fmt)
