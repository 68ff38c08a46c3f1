"""Reading and validating long tables: the user's own data and the packaged baseline.

Four templates (see ``docs/user_data.md`` and ``pmq/data/templates/``), in CSV,
Excel (``.xlsx``, first sheet or ``sheet=``) or Parquet, or as pandas DataFrames:

=============  ===========================================================  ==============
template       columns (optional in brackets)                               unit
=============  ===========================================================  ==============
employment     territory, metier, age, employment [, year, territory_name]  persons
hazards        [territory,] metier, age, hazard                             probability/yr
flows          territory, metier, period_start, period_end, net_creation,   persons over
               young_entrants [, net_mobility, departures, published_code]  the period
tension        territory, metier, tension (1–5 or « hors champ »)            level
=============  ===========================================================  ==============

The packaged baseline is read through exactly these functions.  Every problem
raises :class:`~pmq.errors.InputError` naming the file, the column and the
offending rows.  CSV files are read as French spreadsheets write them (« ; »
separators, decimal commas, Windows-1252 / Latin-1 or UTF-8 with a byte-order
mark); what cannot be read without guessing is refused, never misread.  Labels
holding control or invisible characters are refused (see ``docs/user_data.md``,
« Ce que pmq refuse / What pmq refuses »).
"""
from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pmq.errors import InputError, MissingDependencyError
from pmq.names import listing
from pmq.options import plural, tr

__all__ = ["TEMPLATES", "read_table", "read_employment", "read_hazards", "read_flows",
           "read_tension", "parse_numbers", "ParsedNumbers", "TEXT_COLUMNS", "bad_label_characters", "as_number",
           "as_str", "check_duplicates"]


@dataclass(frozen=True)
class Template:
    name: str
    keys: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    numeric: tuple[str, ...]
    integer: tuple[str, ...]


TEMPLATES = {
    "employment": Template("employment", ("territory", "metier", "age"),
                           ("territory", "metier", "age", "employment"),
                           ("year", "territory_name", "metier_label"),
                           ("employment",), ("age", "year")),
    "hazards": Template("hazards", ("territory", "metier", "age"),
                        ("metier", "age", "hazard"), ("territory", "metier_label"),
                        ("hazard",), ("age",)),
    "flows": Template("flows", ("territory", "metier"),
                      ("territory", "metier", "period_start", "period_end", "net_creation",
                       "young_entrants"),
                      ("net_mobility", "departures", "published_code", "territory_name",
                       "metier_label"),
                      ("net_creation", "young_entrants", "net_mobility", "departures"),
                      ("period_start", "period_end")),
    "tension": Template("tension", ("territory", "metier"), ("territory", "metier", "tension"),
                        ("territory_name", "metier_label"), (), ()),
}


# ------------------------------------------------------------------------------- reading files
#: Columns always read as text (codes such as « 01 » or « 2A » are not numbers).
TEXT_COLUMNS = ("territory", "metier", "published_code", "territory_name", "metier_label", "fap", "window",
                "band", "origin", "destination", "domain")
_MISSING = frozenset({"", "na", "n/a", "nan", "#n/a", "null", "none"})
#: Non-ASCII characters a Windows-1252 / Latin-1 French file holds; any other one (``Ž`` for a
#: Mac Roman « é », ``‚`` for a DOS « é », ``¤`` for an ISO-8859-15 « € »…) means a misread.
_CP1252_TEXT = ({chr(c) for c in range(0xA0, 0x100)} - set("¤¦¨´¸¼½¾")) | set("€…‘’“”–—ŒœŸ•")
_SEPARATORS = (",", ";", "\t", "|")
#: Characters refused in labels: control characters (tab and line feed excepted), invisible
#: format characters (zero-width, byte-order mark, bidirectional overrides that can disguise a
#: label), non-characters and lone surrogates.
_BAD_LABEL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064"
                              "\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]")


def _decode(raw: bytes, label: str) -> tuple[str, str]:
    """The text of a CSV file and the encoding used: UTF-8 (with or without byte-order mark),
    UTF-16 with a byte-order mark, else Windows-1252 (a superset of Latin-1 for text) when every
    non-ASCII character it gives is one French text uses; anything else is refused."""
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise InputError(tr(f"starts with a UTF-8 byte-order mark but is not valid UTF-8 (byte {exc.start}); "
                                "save it again as « CSV UTF-8 »",
                                f"commence par une marque d'ordre d'octets UTF-8 mais n'est pas de l'UTF-8 valide "
                                f"(octet {exc.start}) ; enregistrez-le de nouveau au format « CSV UTF-8 »"),
                             source=label) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise InputError(tr("starts with a UTF-16 byte-order mark but is not valid UTF-16; save it as "
                                "« CSV UTF-8 »",
                                "commence par une marque d'ordre d'octets UTF-16 mais n'est pas de l'UTF-16 valide ; "
                                "enregistrez-le au format « CSV UTF-8 »"), source=label) from None
    if raw.startswith(b"PK\x03\x04"):
        raise InputError(tr("is a zip archive — an Excel workbook (.xlsx) named .csv? Rename it .xlsx or save it "
                            "as « CSV UTF-8 »",
                            "est une archive zip — un classeur Excel (.xlsx) nommé .csv ? Renommez-le en .xlsx ou "
                            "enregistrez-le au format « CSV UTF-8 »"), source=label)
    if b"\x00" in raw[:65536]:
        raise InputError(tr("contains NUL bytes: a binary file, or UTF-16 text without byte-order mark; save it as "
                            "« CSV UTF-8 »",
                            "contient des octets NUL : un fichier binaire, ou du texte UTF-16 sans marque d'ordre "
                            "d'octets ; enregistrez-le au format « CSV UTF-8 »"), source=label)
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputError(tr(f"is neither UTF-8 nor Windows-1252 (Latin-1) text (byte 0x{raw[exc.start]:02x} at "
                            f"{exc.start}); save it as « CSV UTF-8 »",
                            f"n'est un texte ni UTF-8 ni Windows-1252 (Latin-1) (octet 0x{raw[exc.start]:02x} à la "
                            f"position {exc.start}) ; enregistrez-le au format « CSV UTF-8 »"), source=label) from None
    odd = sorted({ch for ch in text if ord(ch) > 127} - _CP1252_TEXT)
    if odd:
        raise InputError(tr("is not UTF-8, and read as Windows-1252 (Latin-1) it would hold unexpected characters "
                            f"{odd[:8]}: the encoding cannot be told (Mac Roman? DOS cp850?); save it as "
                            "« CSV UTF-8 »",
                            "n'est pas de l'UTF-8, et lu en Windows-1252 (Latin-1) il contiendrait des caractères "
                            f"inattendus {odd[:8]} : l'encodage ne peut être déterminé (Mac Roman ? DOS cp850 ?) ; "
                            "enregistrez-le au format « CSV UTF-8 »"), source=label)
    return text, "cp1252"


def _separator(header: str, label: str, expected) -> str:
    """The field separator, from the header line: the only candidate present, or the one whose
    fields are the most known column names."""
    found = [s for s in _SEPARATORS if s in header]
    if len(found) <= 1:
        return found[0] if found else ","
    score = {s: sum(f.strip().strip('"').strip().lower() in expected for f in next(csv.reader([header], delimiter=s)))
             for s in found}
    top = [s for s in found if score[s] > 0]
    if len(top) != 1:          # both give known column names: the header itself is mixed up
        raise InputError(tr(f"cannot tell the field separator: the header line holds {' and '.join(map(repr, found))}; "
                            "use one of them only (« ; » or « , »)",
                            "impossible de déterminer le séparateur de champs : la ligne d'en-tête contient "
                            f"{' et '.join(map(repr, found))} ; n'en utilisez qu'un seul (« ; » ou « , »)"),
                         source=label, column=tr("header", "en-tête"), rows=[header[:120]])
    return top[0]


def _read_csv(path: Path, label: str, name: str) -> pd.DataFrame:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(tr(f"the file is empty: the {name} table needs a header line and rows",
                            f"le fichier est vide : le tableau {name} demande une ligne d'en-tête et des lignes"),
                         source=label)
    text, encoding = _decode(raw, label)
    text = text.replace("\r\n", "\n")
    header = next((line for line in text.split("\n") if line.strip()), "")
    tpl = TEMPLATES.get(name)
    expected = set(TEXT_COLUMNS) | {c for t in TEMPLATES.values() for c in t.required + t.optional}
    if tpl is not None:
        expected |= set(tpl.required) | set(tpl.optional)
    sep = _separator(header, label, expected)
    fields = [f.strip() for f in next(csv.reader([header], delimiter=sep))]
    dup = sorted({f for f in fields if f and fields.count(f) > 1})
    if dup:
        raise InputError(tr(f"duplicated column name(s) {listing(dup)} in the header",
                            f"nom(s) de colonne en double dans la ligne d'en-tête : {listing(dup)}"),
                         source=label, column=", ".join(dup))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)   # extra fields would be dropped
            df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[],
                             index_col=False, skipinitialspace=False)
    except (pd.errors.ParserWarning, pd.errors.ParserError) as exc:
        try:
            long = [i for i, row in enumerate(csv.reader(io.StringIO(text), delimiter=sep), start=1)
                    if len(row) > len(fields)]
        except csv.Error:
            long = []
        if not long:          # unclosed quotes…: pandas names the line
            raise InputError(_cannot_read(name, exc), source=label) from None
        raise InputError(tr(f"cannot read the {name} table: line(s) with more fields than the header's {len(fields)} "
                            f"(separator {sep!r}) — a separator inside a label? Put the label in double quotes",
                            f"impossible de lire le tableau {name} : ligne(s) ayant plus de champs que les "
                            f"{len(fields)} de la ligne d'en-tête (séparateur {sep!r}) — un séparateur dans un "
                            "libellé ? Mettez le libellé entre guillemets doubles"),
                         source=label, column=tr("line", "ligne"), rows=long[:10]) from None
    except Exception as exc:  # unclosed quotes…: pandas names the line
        raise InputError(_cannot_read(name, exc), source=label) from exc
    df.attrs["pmq_read"] = {"sep": sep, "encoding": encoding}
    lines = _record_lines(text, sep, df)
    if lines is not None:
        df.attrs["pmq_lines"] = FileLines(dict(zip(df.index, lines)), df.index)
    return df


class FileLines(dict):
    """The line of the file (the header is line 1) of each row of a CSV table as read, by row label, and the index
    it holds for (``index``): a message shows the line a user sees in the file, not a row number counted from 0.
    pandas deep-copies ``attrs`` into every table it derives: this one is shared, not copied."""

    def __init__(self, lines: dict, index: pd.Index):
        super().__init__(lines)
        self.index = index

    def __deepcopy__(self, memo) -> FileLines:
        return self

    def on(self, df: pd.DataFrame, relabelled: bool = False) -> FileLines:
        """The lines of ``df``, a table derived from this one: with its rows' labels kept, or (``relabelled``)
        numbered again 0, 1, … in the same order."""
        if relabelled:
            return FileLines({i: self.get(k) for i, k in enumerate(df.index)}, pd.RangeIndex(len(df)))
        return FileLines(self, df.index)


def _record_lines(text: str, sep: str, df: pd.DataFrame) -> list[int] | None:
    """The line of the file where each row of ``df`` (as pandas read ``text``) starts, or None when it cannot be
    told for sure."""
    try:
        reader = csv.reader(io.StringIO(text), delimiter=sep)
        starts, firsts, prev = [], [], 0
        for rec in reader:
            start, prev = prev + 1, reader.line_num
            if rec and not (len(rec) == 1 and not rec[0].strip()):       # pandas skips blank lines
                starts.append(start)
                firsts.append(rec[0])
    except csv.Error:
        return None
    starts, firsts = starts[1:], firsts[1:]                                 # the header
    if len(starts) != len(df) or not len(df.columns):
        return None
    if [str(v) for v in df.iloc[:, 0]] != firsts:
        return None
    return starts


def offending(df: pd.DataFrame, mask) -> pd.DataFrame:
    """The rows of ``df`` under ``mask`` with their row label as column ``row`` (what callers read) and, for a
    table read from a CSV file, the file's line of each (``attrs["pmq_row_lines"]``: what messages show)."""
    rows = df.loc[mask].reset_index(names="row")
    lines = df.attrs.get("pmq_lines")
    rows.attrs.pop("pmq_lines", None)
    if isinstance(lines, FileLines) and lines.index.equals(df.index):
        shown = [lines.get(r) for r in rows["row"]]
        if all(isinstance(n, int) for n in shown):
            rows.attrs["pmq_row_lines"] = shown
    return rows


def _cannot_read(name: str, exc: Exception) -> str:
    """« cannot read the employment table: <the reader's own words> »."""
    return tr(f"cannot read the {name} table: {exc}", f"impossible de lire le tableau {name} : {exc}")


def _drop_empty(df: pd.DataFrame) -> pd.DataFrame:
    """Drop what spreadsheets leave around a table: rows with every cell empty, and columns
    without a header whose cells are all empty."""
    def empty(s: pd.Series) -> pd.Series:
        e = s.isna()
        if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
                or pd.api.types.is_datetime64_any_dtype(s.dtype)):
            e = e | (s.astype(str).str.strip() == "")
        return e

    attrs = dict(df.attrs)
    cells = df.apply(empty) if len(df.columns) else df
    blank = [c for c in df.columns if str(c).startswith("Unnamed:") and bool(cells[c].all())]
    if blank:
        df = df.drop(columns=blank)
        cells = cells.drop(columns=blank)
    if len(df.columns) and len(df):
        keep = ~cells.all(axis=1)
        if not keep.all():
            df = df.loc[keep]
    df.attrs.update(attrs)
    if isinstance(attrs.get("pmq_lines"), FileLines):
        df.attrs["pmq_lines"] = attrs["pmq_lines"].on(df)
    return df


def read_table(data, *, name: str, sheet: str | int | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV/Excel/Parquet file or take a DataFrame; return it with a source label.

    CSV files are read as French spreadsheets write them: the separator (``,``, ``;``, tab) is
    found from the header line, the encoding is UTF-8 (with or without byte-order mark), UTF-16
    with a byte-order mark or Windows-1252 / Latin-1, and numbers may use a decimal comma
    (``1,5``) and spaces between thousands (``1 234,5``) — see :func:`parse_numbers`.  A file
    that cannot be read without guessing is refused with an :class:`InputError` that says what
    to do.  Wholly empty rows, and wholly empty columns without a header, are dropped; row
    numbers in messages are those of the table as read (0 = first row under the header)."""
    if isinstance(data, pd.DataFrame):
        return _drop_empty(data.copy()), tr(f"{name} table", f"tableau {name}")
    path = Path(data)
    label = path.name
    if not path.exists():
        raise InputError(tr(f"file not found: {path}", f"fichier introuvable : {path}"), source=label)
    if path.is_dir():
        raise InputError(tr(f"is a folder, not a {name} table file",
                            f"est un dossier, pas un fichier de tableau {name}"), source=label)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            df = _read_csv(path, label, name)
        elif suffix in (".xlsx", ".xlsm"):   # cells as they are: pandas would turn TRUE into 1
            df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object)
            df.attrs["pmq_read"] = {"sep": None, "encoding": None}
        elif suffix == ".parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise MissingDependencyError(tr(
                    f"{label}: reading Parquet needs pyarrow, an optional dependency: install it with "
                    "`python -m pip install \".[parquet]\"` run in the pmq folder (or "
                    "`python -m pip install pyarrow`), or save the table as .csv",
                    f"{label} : lire un fichier Parquet demande pyarrow, une dépendance facultative : installez-la "
                    "avec `python -m pip install \".[parquet]\"` lancé dans le dossier de pmq (ou "
                    "`python -m pip install pyarrow`), ou enregistrez le tableau en .csv")) from exc
            df = pd.read_parquet(path)
        elif suffix in (".xls", ".ods", ".numbers"):
            raise InputError(tr(f"{suffix} files are not read: save the table as .xlsx or as « CSV UTF-8 »",
                                f"les fichiers {suffix} ne sont pas lus : enregistrez le tableau en .xlsx ou au "
                                "format « CSV UTF-8 »"), source=label)
        else:
            raise InputError(tr(f"unsupported file type {suffix!r} (use .csv, .xlsx or .parquet)",
                                f"type de fichier non pris en charge {suffix!r} (utilisez .csv, .xlsx ou .parquet)"),
                             source=label)
    except (InputError, MissingDependencyError):
        raise
    except Exception as exc:  # malformed file: say which one
        raise InputError(_cannot_read(name, exc), source=label) from exc
    df = _drop_empty(df)
    if "pmq_read" in df.attrs:  # CSV, Excel: numbers of columns that are not labels, as pandas would infer them
        sep = df.attrs["pmq_read"]["sep"]
        for col in df.columns:
            if str(col).replace("\ufeff", "").strip().lower() in TEXT_COLUMNS:
                continue
            parsed = parse_numbers(df[col], sep=sep)
            if parsed.numeric:
                if parsed.problem:
                    raise InputError(parsed.problem, source=label, column=str(col).strip(),
                                     rows=_shown(df, parsed.rows))
                whole = not parsed.missing.any() and all(
                    isinstance(v, (int, np.integer)) or (isinstance(v, str) and re.fullmatch(r"\s*[+-]?\d+\s*", v))
                    for v in pd.unique(df[col]))
                df[col] = parsed.values.astype("int64") if whole else parsed.values
    return df, label


@dataclass
class ParsedNumbers:
    """What :func:`parse_numbers` found in a column: ``values`` (float; NaN where missing or
    bad), the masks ``missing`` (empty cells, NA markers) and ``bad`` (not a number), and a
    ``problem`` that forbids reading the column at all (``rows``: the cells at fault), or None."""
    values: pd.Series
    missing: pd.Series
    bad: pd.Series
    problem: str | None = None
    rows: pd.Series | None = None
    decimal_text: bool = False

    @property
    def numeric(self) -> bool:
        return not bool(self.bad.any())


_RE_PLAIN = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf(?:inity)?"
_RE_COMMA = r"[+-]?(?:\d+,\d*|,\d+)(?:[eE][+-]?\d+)?"
_RE_AMBIGUOUS = r"[+-]?[1-9]\d{0,2},\d{3}"                          # 1,500: 1.5 or 1 500?
_RE_SPACED = r"[+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?"   # 1 234,5 (French thousands)


def parse_numbers(values: pd.Series, sep: str | None = None) -> ParsedNumbers:
    """Read a column of numbers as French and English spreadsheets write them, never guessing.

    Read: numbers; texts such as ``1234``, ``-1.5``, ``1e3``, ``1,5`` (decimal comma), ``1 234,5``
    or ``1 234.5`` (spaces — no-break ones too — between thousands), with ``−`` as minus sign.
    ``missing``: empty cells and NA markers (``NA``, ``NaN``, ``#N/A``, ``null``).  ``bad``: the
    rest — words, ``12 %``, ``1.234,5``, booleans (TRUE/FALSE), dates (a value Excel turned into a
    date).  ``problem``: a column that mixes decimal points and decimal commas, or holds ``1,500``
    with nothing to tell 1.5 from 1 500 (a column with other decimal commas, or a file separated by
    « ; » or tabs, reads it as 1.5)."""
    s = values
    index = s.index
    out = pd.Series(np.nan, index=index, dtype="float64")
    no = pd.Series(False, index=index)
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype) \
            or pd.api.types.is_timedelta64_dtype(s.dtype):
        return ParsedNumbers(out, s.isna().astype(bool), (~s.isna()).astype(bool))
    if pd.api.types.is_numeric_dtype(s.dtype):
        return ParsedNumbers(s.astype("float64"), s.isna().astype(bool), no.copy())
    if isinstance(s.dtype, pd.StringDtype) and not s.isna().any():   # fast path: texts of plain numbers only
        try:
            return ParsedNumbers(pd.to_numeric(s, errors="raise").astype("float64"), no.copy(), no.copy())
        except (ValueError, TypeError):
            pass
    obj = s.astype(object)
    isna = obj.isna().astype(bool)
    is_text = obj.map(lambda v: isinstance(v, str)).astype(bool)
    is_num = obj.map(lambda v: isinstance(v, (int, float, np.integer, np.floating))
                     and not isinstance(v, (bool, np.bool_))).astype(bool) & ~isna
    if is_num.any():
        out[is_num] = obj[is_num].astype("float64")
    missing = isna.copy()
    bad = ~(is_text | is_num | isna)                        # booleans, dates, other objects
    problem = rows = None
    decimal_text = False
    if is_text.any():
        t = pd.Series(obj[is_text].to_numpy(dtype=object), index=obj.index[is_text], dtype=object)
        t = t.str.strip().str.replace("\u2212", "-", regex=False)
        miss = t.str.lower().isin(_MISSING)
        missing[t.index[miss]] = True
        t = t[~miss]
        spaced = t.str.fullmatch(_RE_SPACED).astype(bool)
        u = t.where(~spaced, t.str.replace(r"[ \u00a0\u202f]", "", regex=True))
        plain = u.str.fullmatch(_RE_PLAIN, case=False).astype(bool)
        comma = u.str.fullmatch(_RE_COMMA).astype(bool)
        ok = plain | comma
        conv = pd.to_numeric(u.where(ok).str.replace(",", ".", regex=False), errors="coerce")
        out[t.index[ok]] = conv[ok].astype("float64")
        bad[t.index[~ok]] = True
        ambiguous = comma & ~spaced & t.str.fullmatch(_RE_AMBIGUOUS).astype(bool)
        dot = plain & u.str.contains(".", regex=False).astype(bool)
        comma_only = comma & ~ambiguous
        decimal_text = bool(comma.any())
        if dot.any() and comma.any():
            problem = tr(f"mixes decimal points and decimal commas (e.g. {t[dot].iloc[0]!r} and "
                         f"{t[comma].iloc[0]!r}): use one decimal mark in the whole column",
                         f"mélange points et virgules décimales (par exemple {t[dot].iloc[0]!r} et "
                         f"{t[comma].iloc[0]!r}) : utilisez une seule marque décimale dans toute la colonne")
            rows = no.copy()
            rows[t.index[comma]] = True
        elif ambiguous.any() and not comma_only.any() and sep not in (";", "\t"):
            problem = tr(f"{t[ambiguous].iloc[0]!r} could be a decimal comma (1.5) or a thousands separator "
                         "(1500): write 1.5 or 1500, or save the file with « ; » as separator and decimal commas",
                         f"{t[ambiguous].iloc[0]!r} peut se lire avec une virgule décimale (1.5) ou un séparateur "
                         "de milliers (1500) : écrivez 1.5 ou 1500, ou enregistrez le fichier avec « ; » comme "
                         "séparateur et des virgules décimales")
            rows = no.copy()
            rows[t.index[ambiguous]] = True
    return ParsedNumbers(out, missing & ~bad, bad, problem, rows, decimal_text)


def _shown(df: pd.DataFrame, mask: pd.Series, col=None) -> pd.DataFrame:
    """The offending rows, with their row number; cells of ``col`` shown escaped (a control
    character is never printed raw to the terminal)."""
    rows = offending(df, mask[mask].index)
    if col is not None and col in rows.columns:
        rows[col] = rows[col].map(lambda v: ascii(v) if isinstance(v, str) else v)
    return rows

def missing_columns(missing: list[str], found, name: str, template: bool = True) -> str:
    """« missing required column(s) … »: the columns a table lacks and those it has, as plain lists; French says the
    column names are the template's, in English (a column « emploi » is no « employment »)."""
    found = listing(map(str, found))
    what_en, what_fr = ("template", "modèle") if template else ("table", "tableau")
    fr_head = (f"colonne obligatoire absente : {missing[0]}" if len(missing) == 1
               else f"colonnes obligatoires absentes : {listing(missing)}")
    return tr(f"missing required column(s) {listing(missing)} for the {name} {what_en}; found {found}",
              f"{fr_head} (les noms de colonnes sont ceux du {what_fr} {name}, en anglais) ; colonnes trouvées : "
              f"{found}")


def _check_columns(df: pd.DataFrame, tpl: Template, source: str) -> pd.DataFrame:
    allowed = set(tpl.required) | set(tpl.optional)
    lower = {c.lower(): c for c in allowed}

    def clean(c):
        c = str(c).replace("\ufeff", "").strip()
        return lower.get(c.lower(), c)         # « Territory » is territory: no other reading exists

    df = df.rename(columns=clean)
    dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dup:
        raise InputError(tr(f"duplicated column(s) {listing(dup)}", f"colonne(s) en double : {listing(dup)}"),
                         source=source,
                         column=", ".join(map(str, dup)))
    missing = [c for c in tpl.required if c not in df.columns]
    if missing:
        raise InputError(missing_columns(missing, df.columns, tpl.name), source=source)
    extra = [c for c in df.columns if c not in allowed]
    if extra:
        raise InputError(tr(f"unexpected column(s) {listing(extra)} in the {tpl.name} template; allowed: "
                            f"{listing(sorted(allowed))}",
                            f"colonne(s) inattendue(s) {listing(extra)} dans le modèle {tpl.name} ; colonnes "
                            f"admises : {listing(sorted(allowed))}"), source=source)
    if df.empty:
        raise InputError(tr(f"the {tpl.name} table has no rows", f"le tableau {tpl.name} n'a aucune ligne"),
                         source=source)
    return df


def as_str(df: pd.DataFrame, col: str, source: str) -> pd.Series:
    s = df[col]
    bad = s.isna() | (s.astype(str).str.strip() == "")
    if bad.any():
        raise InputError(tr("missing labels (NaN or empty)", "libellés manquants (NaN ou vides)"),
                         source=source, column=col,
                         rows=offending(df, bad))
    s = s.astype(str)
    wrong = {v: bad_label_characters(v) for v in pd.unique(s)}
    wrong = {v: c for v, c in wrong.items() if c}
    if wrong:
        chars = sorted({c for cs in wrong.values() for c in cs})
        raise InputError(tr(f"control or invisible characters ({', '.join(chars[:6])}) in labels: they would "
                            "corrupt the outputs or disguise a label; remove them",
                            f"caractères de contrôle ou invisibles ({', '.join(chars[:6])}) dans des libellés : "
                            "ils corrompraient les sorties ou déguiseraient un libellé ; supprimez-les"),
                         source=source, column=col,
                         rows=_shown(df, s.isin(wrong), col))
    s = s.str.strip()
    # Integer-like codes read as floats by Excel/Parquet (e.g. 11.0) become "11".
    return s.str.replace(r"^(\d+)\.0$", r"\1", regex=True)


def bad_label_characters(text) -> list[str]:
    """The characters pmq refuses in a label, as ``U+XXXX`` (empty list: none): control
    characters other than tab and line feed, zero-width and other invisible format characters,
    bidirectional overrides, byte-order marks, non-characters and lone surrogates.  For every
    label read from the user: table cells here, scenario titles and lever names elsewhere."""
    return sorted({f"U+{ord(c):04X}" for c in _BAD_LABEL_CHARS.findall(str(text).replace("\r\n", "\n"))})


def as_number(df: pd.DataFrame, col: str, source: str, integer: bool = False) -> pd.Series:
    parsed = parse_numbers(df[col], sep=df.attrs.get("pmq_read", {}).get("sep"))
    if parsed.problem:
        raise InputError(parsed.problem, source=source, column=col, rows=_shown(df, parsed.rows))
    if parsed.bad.any():
        kinds = {type(v).__name__ for v in df[col][parsed.bad]}
        hint = (tr("; a date — did the spreadsheet turn the value into a date?",
                   " ; une date — le tableur a-t-il changé la valeur en date ?")
                if kinds & {"Timestamp", "datetime", "date", "time", "timedelta", "Timedelta"} else
                tr("; TRUE/FALSE is not a number", " ; TRUE/FALSE n'est pas un nombre")
                if kinds & {"bool", "bool_"} else
                tr("; write numbers such as 12, 1.5 or 1,5 — no unit, no % sign, no thousands separator but spaces",
                   " ; écrivez des nombres tels que 12, 1.5 ou 1,5 — sans unité, sans signe %, sans séparateur de "
                   "milliers autre que l'espace"))
        n = int(parsed.bad.sum())
        raise InputError(tr(f"not a number in {n} row(s){hint}",
                            f"valeur non numérique dans {plural(n, 'row', 'ligne')}{hint}"), source=source, column=col,
                         rows=_shown(df, parsed.bad, col))
    num = parsed.values
    if parsed.missing.any():
        n = int(parsed.missing.sum())
        raise InputError(tr(f"missing value (NaN) in {n} row(s)",
                            f"valeur manquante (NaN) dans {plural(n, 'row', 'ligne')}"), source=source, column=col,
                         rows=offending(df, parsed.missing))
    if not np.isfinite(num).all():
        bad = ~np.isfinite(num)
        raise InputError(tr("infinite values", "valeurs infinies"), source=source, column=col,
                         rows=offending(df, bad))
    if integer:
        frac = num != np.round(num)
        if frac.any():
            raise InputError(tr("values must be whole numbers", "les valeurs doivent être des nombres entiers"),
                             source=source, column=col,
                             rows=offending(df, frac))
        return num.round().astype("int64")
    return num.astype("float64")


def _check_labels(df: pd.DataFrame, code: str, name: str, source: str, both: bool = True) -> None:
    """One name per code (and, with ``both``, one code per name) within a table."""
    if code not in df.columns or name not in df.columns:
        return
    pairs = df[[code, name]].drop_duplicates()
    for key, other in ((code, name), (name, code)) if both else ((code, name),):
        n = pairs.groupby(key)[other].nunique()
        if (n > 1).any():
            bad = pairs[pairs[key].isin(n[n > 1].index)].sort_values([key, other])
            raise InputError(tr(f"several {other} values for one {key}: each {key} must have a single {other}",
                                f"plusieurs valeurs de {other} pour un même {key} : chaque {key} doit avoir un "
                                f"seul {other}"),
                             source=source, column=f"{key}, {other}", rows=bad)


def check_duplicates(df: pd.DataFrame, keys: list[str], source: str) -> None:
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        raise InputError(tr(f"duplicated rows for {listing(keys)}", f"lignes en double pour {listing(keys)}"),
                         source=source,
                         column=", ".join(keys),
                         rows=offending(df, dup))


def _standardise(data, tpl: Template, sheet=None) -> tuple[pd.DataFrame, str]:
    df, source = read_table(data, name=tpl.name, sheet=sheet)
    df = _check_columns(df, tpl, source)
    for col in ("territory", "metier", "published_code", "territory_name", "metier_label"):
        if col in df.columns:
            df[col] = as_str(df, col, source)
    for col in tpl.numeric:
        if col in df.columns:
            df[col] = as_number(df, col, source)
    for col in tpl.integer:
        if col in df.columns:
            df[col] = as_number(df, col, source, integer=True)
    _check_labels(df, "territory", "territory_name", source)
    _check_labels(df, "metier", "metier_label", source, both=False)
    keys = [k for k in tpl.keys if k in df.columns]
    check_duplicates(df, keys, source)
    lines = df.attrs.get("pmq_lines")
    out = df.reset_index(drop=True)
    if isinstance(lines, FileLines) and lines.index.equals(df.index):
        out.attrs["pmq_lines"] = lines.on(df, relabelled=True)
    return out, source


def _check_range(df, col, source, lo=None, hi=None, what=("", "")):
    """Refuse values of ``col`` outside [lo, hi]; ``what``: the problem in English and in French."""
    bad = pd.Series(False, index=df.index)
    if lo is not None:
        bad |= df[col] < lo
    if hi is not None:
        bad |= df[col] > hi
    if bad.any():
        n = int(bad.sum())
        raise InputError(tr(f"{what[0]} in {n} row(s)", f"{what[1]} dans {plural(n, 'row', 'ligne')}"),
                         source=source, column=col,
                         rows=offending(df, bad))


def read_employment(data, sheet=None) -> tuple[pd.DataFrame, str]:
    """Employment by territory × métier × single year of age (persons, base year)."""
    df, source = _standardise(data, TEMPLATES["employment"], sheet)
    _check_range(df, "employment", source, lo=0.0, what=("negative employment", "emploi négatif"))
    _check_range(df, "age", source, lo=0, hi=120, what=("age outside 0–120", "âge hors de 0–120"))
    if "year" in df.columns and df["year"].nunique() > 1:
        years = listing(sorted(df["year"].unique()))
        raise InputError(tr(f"several base years {years}: the employment table "
                            "holds the stock of one base year",
                            f"plusieurs années de base ({years}) : le tableau employment "
                            "donne l'emploi d'une seule année de base"), source=source, column="year")
    return df, source


def read_hazards(data, sheet=None) -> tuple[pd.DataFrame, str]:
    """Annual exit hazards by [territory ×] métier × age (probabilities in [0, 1])."""
    df, source = _standardise(data, TEMPLATES["hazards"], sheet)
    _check_range(df, "hazard", source, lo=0.0, hi=1.0,
                 what=("hazard outside [0, 1]", "probabilité de sortie hors de [0, 1]"))
    return df, source


def read_flows(data, sheet=None) -> tuple[pd.DataFrame, str]:
    """Flows of the base period by territory × métier (persons over the whole period)."""
    df, source = _standardise(data, TEMPLATES["flows"], sheet)
    _check_range(df, "young_entrants", source, lo=0.0,
                 what=("negative young entrants (give them as a positive inflow)",
                       "jeunes débutants négatifs (donnez-les comme une entrée positive)"))
    if "departures" in df.columns:
        _check_range(df, "departures", source, lo=0.0, what=("negative departures", "départs négatifs"))
    if "net_mobility" not in df.columns:
        df["net_mobility"] = 0.0
    if "published_code" not in df.columns:
        df["published_code"] = df["metier"]
    for col in ("period_start", "period_end"):
        if df[col].nunique() > 1:
            values = listing(sorted(df[col].unique()))
            raise InputError(tr(f"several values {values}: one base period per table",
                                f"plusieurs valeurs ({values}) : une seule période de base par "
                                "tableau"), source=source, column=col)
    start, end = int(df["period_start"].iloc[0]), int(df["period_end"].iloc[0])
    if end <= start:
        raise InputError(tr(f"period_end ({end}) must be after period_start ({start})",
                            f"period_end ({end}) doit être postérieur à period_start ({start})"), source=source,
                         column="period_end")
    return df, source


def read_tension(data, sheet=None) -> tuple[pd.DataFrame, str]:
    """Recruitment-tension level (1–5) by territory × métier; « hors champ » → NaN."""
    df, source = _standardise(data, TEMPLATES["tension"], sheet)
    raw = df["tension"]
    hors = raw.astype(str).str.strip().str.lower().isin(["hors champ", "hors_champ", "nan", ""]) | raw.isna()
    num = pd.to_numeric(raw.where(~hors), errors="coerce")
    bad = (~hors) & (num.isna() | ~num.isin([1, 2, 3, 4, 5]))
    if bad.any():
        raise InputError(tr("tension must be a level 1–5 or « hors champ »",
                            "la tension doit être un niveau 1–5 ou « hors champ »"), source=source,
                         column="tension", rows=offending(df, bad))
    df["tension"] = num.astype("float64")
    df["hors_champ"] = hors.to_numpy()
    return df, source
