"""Readers of rate tables shared by the inter-territorial matrix (:mod:`pmq.inputs.interregional`) and
the occupational transitions (:mod:`pmq.analysis.occupational`): columns checked, rates in [0, 1],
codes or names matched with the closest suggestions."""
from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd
import xarray as xr

from pmq import data as _data
from pmq.errors import InputError
from pmq.inputs.tables import FileLines, _cannot_read, as_number, as_str, missing_columns, offending, read_table
from pmq.options import plural, tr
from pmq.names import listing, normalise

__all__ = ["read_rate_table", "check_columns", "rate_column", "match_codes", "metier_codes"]


def read_rate_table(data, name: str) -> tuple[pd.DataFrame, str]:
    """Read a table; CSV codes stay strings (a territory « 01 » is not 1)."""
    if not isinstance(data, pd.DataFrame):
        path = Path(data)
        if path.suffix.lower() in (".csv", ".txt") and path.exists():
            try:
                df = pd.read_csv(path, dtype={c: str for c in ("origin", "destination", "metier")})
            except Exception as exc:
                raise InputError(_cannot_read(name, exc), source=path.name) from exc
            return df, path.name
    return read_table(data, name=name)


def check_columns(df: pd.DataFrame, required, allowed, source: str, name: str) -> pd.DataFrame:
    df = df.rename(columns=lambda c: str(c).strip())
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(missing_columns(missing, df.columns, name, template=False), source=source)
    extra = [c for c in df.columns if c not in allowed]
    if extra:
        raise InputError(tr(f"unexpected column(s) {listing(extra)} in the {name} table; allowed: "
                            f"{listing(sorted(allowed))}",
                            f"colonne(s) inattendue(s) {listing(extra)} dans le tableau {name} ; colonnes admises : "
                            f"{listing(sorted(allowed))}"), source=source)
    if df.empty:
        raise InputError(tr(f"the {name} table has no rows", f"le tableau {name} n'a aucune ligne"), source=source)
    lines = df.attrs.get("pmq_lines")
    out = df.reset_index(drop=True)
    if isinstance(lines, FileLines) and lines.index.equals(df.index):
        out.attrs["pmq_lines"] = lines.on(df, relabelled=True)
    return out


def rate_column(df: pd.DataFrame, source: str) -> pd.Series:
    rate = as_number(df, "rate", source)  # NaN / text / inf → InputError naming 'rate'
    bad = (rate < 0) | (rate > 1)
    if bad.any():
        n = int(bad.sum())
        raise InputError(tr(f"rate outside [0, 1] in {n} row(s) (annual probabilities)",
                            f"taux hors de [0, 1] dans {plural(n, 'row', 'ligne')} (probabilités annuelles)"),
                         source=source, column="rate", rows=offending(df, bad))
    return rate


#: The kinds of codes :func:`match_codes` is given, in French.
_KIND_FR = {"territory": "territoire", "métier": "métier", "metier": "métier"}


def match_codes(df: pd.DataFrame, col: str, table: dict[str, str], kind: str, source: str,
                 special: dict[str, str] | None = None) -> pd.Series:
    """Map codes (or names: case, accents ignored) to codes; unknown ones raise with hints."""
    special = special or {}
    raw = as_str(df, col, source)
    norm = raw.map(normalise)
    lookup = {**table, **special}
    out = norm.map(lookup)
    bad = out.isna()
    if bad.any():
        wrong = sorted(raw[bad].unique())
        codes = sorted(set(table.values()))
        hints = []
        for w in wrong[:5]:
            close = difflib.get_close_matches(w, codes, n=3, cutoff=0.3)
            for alias in difflib.get_close_matches(normalise(w), list(table), n=3, cutoff=0.6):
                code = table[alias]
                if alias == normalise(code):
                    if code not in close:
                        close.append(code)
                elif code in close:  # a mistyped label: show which one
                    close[close.index(code)] = f"{code} ({alias})"
                elif not any(c.startswith(code + " ") for c in close):
                    close.append(f"{code} ({alias})")
            hints.append(tr(f"{w!r} (closest: {', '.join(close) or 'none'})",
                            f"{w!r} (les plus proches : {', '.join(close) or 'aucun'})"))
        specials = ', '.join(repr(s) for s in sorted(set(special.values())))
        kind_fr = _KIND_FR.get(kind, kind)
        raise InputError(tr(f"unknown {kind} code(s) {', '.join(hints)}; expected one of the "
                            f"{len(codes)} {kind} codes{f' or {specials}' if special else ''}",
                            f"code(s) de {kind_fr} inconnu(s) {', '.join(hints)} ; attendu : l'un des "
                            f"{len(codes)} codes de {kind_fr}{f' ou {specials}' if special else ''}"),
                         source=source, column=col,
                         rows=offending(df, bad))
    return out.astype(object)


def metier_codes(metiers) -> tuple[list[str], dict[str, str]]:
    """Codes and the {normalised alias: code} table from the ``metiers=`` argument."""
    labels: dict[str, str] = {}
    if metiers is None:
        m = _data.metiers()
        m = m[m["in_exercise"] == "yes"]
        codes = list(m["code"])
        labels = dict(zip(m["code"], m["label_fr"]))
    elif isinstance(metiers, (xr.Dataset, xr.DataArray)):
        codes = [str(c) for c in metiers["metier"].values]
        if "metier_label" in metiers.coords:
            labels = dict(zip(codes, map(str, metiers["metier_label"].values)))
    elif isinstance(metiers, pd.DataFrame):
        codes = list(metiers["code"].astype(str))
        if "label_fr" in metiers.columns:
            labels = dict(zip(codes, metiers["label_fr"].astype(str)))
    else:
        codes = [str(c) for c in metiers]
    table = {normalise(lab): c for c, lab in labels.items()}
    table.update({normalise(c): c for c in codes})  # codes win over labels
    return codes, table


