"""Tables in the formats report authors use: Excel (one sheet per table, a README sheet with
units and sources), CSV, netCDF, and the IAMC long format that pyam and the scenario databases
of the IPCC / IAMC community read.

Every writer is atomic: files are written to a temporary name beside the target and moved into
place only once complete, so a failure leaves no half-written output.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import __version__
from .indicators import FLOWS, aggregate_territories, window_sums
from .labels import TEXT, domain_label, metier_label
from .plots._common import national

__all__ = ["standard_tables", "COLUMNS", "to_excel", "read_excel_tables", "TEXT_COLUMNS", "to_csv", "write_atomically", "iamc_table", "IAMC_COLUMNS",
           "IAMC_VARIABLES", "check_iamc", "write_iamc", "to_pyam", "export"]

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


def write_atomically(out: Path, writers: dict) -> list[Path]:
    """Write every ``{name: writer(path)}`` into a temporary folder beside ``out`` (a folder),
    then move the results — files or folders — into ``out``: a failure leaves nothing
    half-written and the previous outputs untouched."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for name, write in writers.items():
            write(tmp / name)
        out.mkdir(exist_ok=True)
        written = []
        for f in sorted(tmp.iterdir()):
            target = out / f.name
            if f.is_dir() and target.exists():
                shutil.rmtree(target)
            os.replace(f, target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _atomic_file(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
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
    rows.append(["base", attrs.get("baseline_title", "")])
    try:
        for k, v in json.loads(attrs.get("data_sources", "{}")).items():
            rows.append(["source", k, v])
    except (TypeError, ValueError):
        pass
    try:
        for v in json.loads(attrs.get("estimated_inputs", "[]")):
            rows.append(["estimé" if fr else "estimated", v])
    except (TypeError, ValueError):
        pass
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
    are shown with a thousands separator and ratios as percentages."""
    from openpyxl.utils import get_column_letter
    bad = [n for n in tables if len(n) > 31 or any(ch in n for ch in "[]:*?/\\") or n == "README"]
    if bad:
        raise ValueError(f"invalid Excel sheet names: {bad}")
    rows = readme if readme is not None else (_readme_rows(accounts, tables, lang) if accounts is not None else [])

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
                    width = min(max(len(str(col)), *(len(str(v)) for v in df[col].head(50))) + 2, 60)
                    ws.column_dimensions[letter].width = width
                    fmt = "0.0%" if col.endswith("_rate") else "#,##0" if pd.api.types.is_float_dtype(df[col]) else None
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
    mark so that Excel opens accents correctly, written atomically."""
    return write_atomically(Path(folder), {f"{n}.csv": (lambda p, df=df: df.to_csv(p, index=False,
                                                                                   encoding="utf-8-sig"))
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
        raise ValueError(f"unknown IAMC variables {unknown}; use {list(IAMC_VARIABLES)}")
    if by not in (None, "domain", "metier"):
        raise ValueError(f"by must be None, 'domain' or 'metier', got {by!r}")
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
    if path.suffix == ".csv":
        return _atomic_file(path, lambda p: df.to_csv(p, index=False))
    if path.suffix == ".xlsx":
        return _atomic_file(path, lambda p: df.to_excel(p, sheet_name="data", index=False))
    raise ValueError(f"IAMC tables are written as .csv or .xlsx, not {path.suffix!r}")


def to_pyam(data, **kwargs):
    """A ``pyam.IamDataFrame`` of :func:`iamc_table` (needs the optional extra:
    ``pip install "pmq[pyam]"``)."""
    try:
        import pyam
    except ImportError as exc:
        raise ImportError("to_pyam needs pyam, an optional dependency: pip install \"pmq[pyam]\" "
                          "(or use iamc_table(), which pyam reads)") from exc
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
            raise ValueError(f"{path}: the CSV export writes one file per table; give a folder "
                             "(e.g. --out results/) or an IAMC file (.iamc.csv)")
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
    raise ValueError(f"unknown export format {fmt!r} for {path}; use xlsx, csv, nc or iamc")
