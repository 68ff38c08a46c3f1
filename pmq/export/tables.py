"""The standard tables (regions, domains, métiers by period) in the formats report authors use:
Excel (one sheet per table, a README sheet with units and sources) and CSV.

Every writer is atomic: files are written to a temporary name beside the target and moved into
place only once complete, so a failure or a Ctrl-C leaves no half-written output.  Deliverables
are safe to share: every text cell written to ``.xlsx`` or ``.csv`` goes through
:func:`safe_text` (no formula from a label), and an output replaces only what pmq wrote
(:func:`write_atomically`).
"""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from pmq.formatting import check_lang
from pmq._version import __version__
from pmq.errors import ArgumentError, InputError
from pmq.projection.indicators import (FLOWS, accounts_of, aggregate_metiers, aggregate_territories, default_end_years,
                                       select, window_sums)
from pmq.scenario.read import STATUS_LABELS, is_builtin, status_label
from pmq.labels import VARIABLE_REGISTRY, domain_label, metier_label
from pmq.projection.indicators import (FLAG_LABELS, aggregate_flags, cell_flags, national, territory_provenance,
                                       territory_table_name, with_flags)
from pmq.outputs import atomic_file, neutralise, safe_text, write_atomically

__all__ = ["standard_tables", "COLUMNS", "to_excel", "read_excel_tables", "TEXT_COLUMNS", "to_csv", "provenance",
           "scenario_status"]

#: Column → (French label, English label, unit) for every numeric column of the standard tables,
#: from :data:`pmq.labels.VARIABLE_REGISTRY`.
COLUMNS = {k: (v.fr, v.en, v.unit) for k, v in VARIABLE_REGISTRY.items() if v.column}
_RATIO = {"departure_rate": "departures", "openings_rate": "openings", "imbalance_rate": "imbalance"}



def provenance(attrs) -> tuple[dict, list]:
    """The accounts' data sources ``{input: source}`` and estimated inputs ``[text, …]``, read from
    their attrs (``data_sources``, ``estimated_inputs``, JSON).  Missing or empty attributes give
    empty ones; a malformed attribute raises :class:`~pmq.errors.InputError` naming it — a
    deliverable must never drop its « estimated » rows without a word."""
    out: list[Any] = []   # [the dict, the list]
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
    ``scenario_status`` / ``scenario_assumed_levers`` (:func:`pmq.scenario.read.lever_status`); accounts
    written before these attrs existed give an empty list.  A malformed attribute raises
    :class:`~pmq.errors.InputError` naming it."""
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


# ---------------------------------------------------------------------------------------- tables
def _accounts(data) -> xr.Dataset:
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


def standard_tables(data, end_years=None, territory=None, lang: str | None = None) -> dict[str, pd.DataFrame]:
    """The tables of a report: ``regions`` (territories + France), ``domaines`` and ``metiers``
    (per territory), each per scenario and window from the base year to each end year (default:
    5, 10, 20 years and 2030 where the projection reaches them).  Persons; ``*_rate`` are
    shares of initial employment.  ``territory`` restricts the domain and métier tables.

    The table of territories is named by the accounts' level (``level`` attr): ``regions`` at région level,
    ``departements`` / ``departments``, ``zones_emploi`` / ``employment_zones``, ``territoires`` /
    ``territories`` for a user's key.  Accounts of a split or estimated run (départements, zones d'emploi,
    estimated DOM) add, last, ``reliability``, ``reliability_label``, ``estimated`` and ``key_basis`` to every
    row (a sum of cells — a territory, a domain, France — is estimated if any of its cells is:
    :func:`pmq.projection.indicators.aggregate_flags`), and each table carries the run's provenance in
    ``attrs["pmq_provenance"]`` (rows that :func:`to_csv` writes to ``README.csv``)."""
    lang = check_lang(lang)
    acc = _accounts(data)
    cells = cell_flags(acc)
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
    names = ((territory_table_name(acc.attrs.get("level"), lang), "domaines", "metiers") if lang == "fr" else
             (territory_table_name(acc.attrs.get("level"), lang), "domains", "occupations"))
    out = {n: _rates(pd.concat(t, ignore_index=True)) for n, t in zip(names, (reg, dom, met))}
    if cells is None:
        return out
    code = national(acc, lang)[0]
    flags = (pd.concat([aggregate_flags(cells, ["territory"]), aggregate_flags(cells, [], territory=code)]),
             aggregate_flags(cells, ["territory", "domain"]), cells)
    keys = (["territory"], ["territory", "domain"], ["territory", "metier"])
    prov = territory_provenance(acc.attrs, lang)
    for (n, t), f, k in zip(out.items(), flags, keys):
        out[n] = with_flags(t, f, k, lang)
        out[n].attrs["pmq_provenance"] = prov
    return out


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
    territorial = territory_provenance(attrs, lang)      # split or estimated run: level, key, DOM, reliability
    if territorial:
        rows += [[], ["territoires" if fr else "territories"]] + territorial
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
            elif col in FLAG_LABELS:
                rows.append([name, col, FLAG_LABELS[col][0 if fr else 1], ""])
            else:
                rows.append([name, col, "", ""])
    return rows


def to_excel(tables: dict[str, pd.DataFrame], path, accounts: xr.Dataset | None = None, lang: str | None = None,
             readme: list[list] | None = None) -> Path:
    """One sheet per table plus a first ``README`` sheet (version, scenario, sources, estimated
    inputs, conventions, and the label and unit of every column).  Header on the first row of
    each sheet, so ``pandas.read_excel(path, sheet_name=name)`` gives the table back; persons
    are shown with a thousands separator and ratios as percentages.  Every text cell, README
    included, goes through :func:`safe_text`: a label that would be a formula (``=…``, ``+…``,
    ``-…``, ``@…``) is written as text with a leading ``'``; numbers stay numbers."""
    lang = check_lang(lang)
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
    return atomic_file(Path(path), write)


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
    :func:`safe_text` (no formula from a label).

    Tables of a split or estimated run (:func:`standard_tables` of départements, zones d'emploi, estimated DOM)
    carry their provenance (level, key source, estimated DOM, the reliability classes) in
    ``attrs["pmq_provenance"]``: it is written to ``README.csv`` beside them (two columns, ``name, value``)."""
    safe = {n: neutralise(df, csv=True) for n, df in tables.items()}
    files = {f"{n}.csv": (lambda p, df=df: df.to_csv(p, index=False, encoding="utf-8-sig")) for n, df in safe.items()}
    prov = next((df.attrs["pmq_provenance"] for df in tables.values() if df.attrs.get("pmq_provenance")), None)
    if prov and "README.csv" not in files:
        readme = neutralise(pd.DataFrame([list(r) + [""] * (2 - len(r)) for r in prov], columns=["name", "value"]),
                            csv=True)
        files["README.csv"] = lambda p, df=readme: df.to_csv(p, index=False, encoding="utf-8-sig")
    return write_atomically(Path(folder), files)
