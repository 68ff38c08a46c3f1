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
offending rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = ["TEMPLATES", "read_table", "read_employment", "read_hazards", "read_flows",
           "read_tension"]


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


def read_table(data, *, name: str, sheet: str | int | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV/Excel/Parquet file or take a DataFrame; return it with a source label."""
    if isinstance(data, pd.DataFrame):
        return data.copy(), f"{name} table"
    path = Path(data)
    label = path.name
    if not path.exists():
        raise InputError(f"file not found: {path}", source=label)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            df = pd.read_csv(path, dtype={"territory": str, "metier": str, "published_code": str},
                             keep_default_na=True)
        elif suffix in (".xlsx", ".xlsm"):
            df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet,
                               dtype={"territory": str, "metier": str, "published_code": str})
        elif suffix == ".parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise InputError("reading Parquet needs pyarrow: pip install 'pmq[parquet]'",
                                 source=label) from exc
            df = pd.read_parquet(path)
        else:
            raise InputError(f"unsupported file type {suffix!r} (use .csv, .xlsx or .parquet)",
                             source=label)
    except InputError:
        raise
    except Exception as exc:  # malformed file: say which one
        raise InputError(f"cannot read the {name} table: {exc}", source=label) from exc
    return df, label


def _check_columns(df: pd.DataFrame, tpl: Template, source: str) -> pd.DataFrame:
    df = df.rename(columns=lambda c: str(c).strip())
    missing = [c for c in tpl.required if c not in df.columns]
    if missing:
        raise InputError(f"missing required column(s) {missing} for the {tpl.name} template; "
                         f"found {list(df.columns)}", source=source)
    allowed = set(tpl.required) | set(tpl.optional)
    extra = [c for c in df.columns if c not in allowed]
    if extra:
        raise InputError(f"unexpected column(s) {extra} in the {tpl.name} template; allowed: "
                         f"{sorted(allowed)}", source=source)
    if df.empty:
        raise InputError(f"the {tpl.name} table has no rows", source=source)
    return df


def _as_str(df: pd.DataFrame, col: str, source: str) -> pd.Series:
    s = df[col]
    bad = s.isna() | (s.astype(str).str.strip() == "")
    if bad.any():
        raise InputError("missing labels (NaN or empty)", source=source, column=col,
                         rows=df.loc[bad].reset_index(names="row"))
    s = s.astype(str).str.strip()
    # Integer-like codes read as floats by Excel/Parquet (e.g. 11.0) become "11".
    return s.str.replace(r"^(\d+)\.0$", r"\1", regex=True)


def _as_number(df: pd.DataFrame, col: str, source: str, integer: bool = False) -> pd.Series:
    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna()
    if bad.any():
        what = "not a number" if raw[bad].notna().any() else "missing value (NaN)"
        raise InputError(f"{what} in {int(bad.sum())} row(s)", source=source, column=col,
                         rows=df.loc[bad].reset_index(names="row"))
    if not np.isfinite(num).all():
        bad = ~np.isfinite(num)
        raise InputError("infinite values", source=source, column=col,
                         rows=df.loc[bad].reset_index(names="row"))
    if integer:
        frac = num != np.round(num)
        if frac.any():
            raise InputError("values must be whole numbers", source=source, column=col,
                             rows=df.loc[frac].reset_index(names="row"))
        return num.round().astype("int64")
    return num.astype("float64")


def _check_duplicates(df: pd.DataFrame, keys: list[str], source: str) -> None:
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        raise InputError(f"duplicated rows for {keys}", source=source, column=", ".join(keys),
                         rows=df.loc[dup].reset_index(names="row"))


def _standardise(data, tpl: Template, sheet=None) -> tuple[pd.DataFrame, str]:
    df, source = read_table(data, name=tpl.name, sheet=sheet)
    df = _check_columns(df, tpl, source)
    for col in ("territory", "metier", "published_code", "territory_name", "metier_label"):
        if col in df.columns:
            df[col] = _as_str(df, col, source)
    for col in tpl.numeric:
        if col in df.columns:
            df[col] = _as_number(df, col, source)
    for col in tpl.integer:
        if col in df.columns:
            df[col] = _as_number(df, col, source, integer=True)
    keys = [k for k in tpl.keys if k in df.columns]
    _check_duplicates(df, keys, source)
    return df.reset_index(drop=True), source


def _check_range(df, col, source, lo=None, hi=None, what=""):
    bad = pd.Series(False, index=df.index)
    if lo is not None:
        bad |= df[col] < lo
    if hi is not None:
        bad |= df[col] > hi
    if bad.any():
        raise InputError(f"{what} in {int(bad.sum())} row(s)", source=source, column=col,
                         rows=df.loc[bad].reset_index(names="row"))


def read_employment(data, sheet=None) -> tuple[pd.DataFrame, str]:
    """Employment by territory × métier × single year of age (persons, base year)."""
    df, source = _standardise(data, TEMPLATES["employment"], sheet)
    _check_range(df, "employment", source, lo=0.0, what="negative employment")
    _check_range(df, "age", source, lo=0, hi=120, what="age outside 0–120")
    if "year" in df.columns and df["year"].nunique() > 1:
        raise InputError(f"several base years {sorted(df['year'].unique())}: the employment table "
                         "holds the stock of one base year", source=source, column="year")
    return df, source


def read_hazards(data, sheet=None) -> tuple[pd.DataFrame, str]:
    """Annual exit hazards by [territory ×] métier × age (probabilities in [0, 1])."""
    df, source = _standardise(data, TEMPLATES["hazards"], sheet)
    _check_range(df, "hazard", source, lo=0.0, hi=1.0, what="hazard outside [0, 1]")
    return df, source


def read_flows(data, sheet=None) -> tuple[pd.DataFrame, str]:
    """Flows of the base period by territory × métier (persons over the whole period)."""
    df, source = _standardise(data, TEMPLATES["flows"], sheet)
    _check_range(df, "young_entrants", source, lo=0.0,
                 what="negative young entrants (give them as a positive inflow)")
    if "departures" in df.columns:
        _check_range(df, "departures", source, lo=0.0, what="negative departures")
    if "net_mobility" not in df.columns:
        df["net_mobility"] = 0.0
    if "published_code" not in df.columns:
        df["published_code"] = df["metier"]
    for col in ("period_start", "period_end"):
        if df[col].nunique() > 1:
            raise InputError(f"several values {sorted(df[col].unique())}: one base period per table",
                             source=source, column=col)
    start, end = int(df["period_start"].iloc[0]), int(df["period_end"].iloc[0])
    if end <= start:
        raise InputError(f"period_end ({end}) must be after period_start ({start})", source=source,
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
        raise InputError("tension must be a level 1–5 or « hors champ »", source=source,
                         column="tension", rows=df.loc[bad].reset_index(names="row"))
    df["tension"] = num.astype("float64")
    df["hors_champ"] = hors.to_numpy()
    return df, source
