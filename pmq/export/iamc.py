"""The IAMC long format (model, scenario, region, variable, unit, one column per year) that pyam and
the scenario databases of the IPCC / IAMC community read."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from pmq.errors import ArgumentError, InputError, MissingDependencyError
from pmq.export.tables import _accounts
from pmq.labels import VARIABLE_REGISTRY
from pmq.outputs import CsvDialect, atomic_file, neutralise
from pmq.projection.indicators import national as national_label
from pmq.options import tr

__all__ = ["IAMC_COLUMNS", "IAMC_VARIABLES", "iamc_table", "check_iamc", "write_iamc", "to_pyam"]




# ----------------------------------------------------------------------------------------- IAMC
IAMC_COLUMNS = ["model", "scenario", "region", "variable", "unit"]
#: pmq variable → (IAMC variable root, unit), from :data:`pmq.labels.VARIABLE_REGISTRY`.
#: Stocks on 1 January; flows over the year.
IAMC_VARIABLES = {k: (v.iamc, v.iamc_unit) for k, v in VARIABLE_REGISTRY.items() if v.iamc is not None}


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
        raise ArgumentError(tr(f"unknown IAMC variables; use {list(IAMC_VARIABLES)}",
                               f"variables IAMC inconnues : utilisez {list(IAMC_VARIABLES)}"),
                            name="variables", value=unknown)
    if by not in (None, "domain", "metier"):
        raise ArgumentError(tr("by must be None, 'domain' or 'metier'", "by doit valoir None, 'domain' ou 'metier'"),
                            name="by", value=by)
    ds = xr.Dataset({v: acc[v].sum("age") if "age" in acc[v].dims else acc[v] for v in variables})
    ds = ds.drop_vars([c for c in ds.coords if c not in ds.dims and c not in ("territory_name", "domain")])
    if "scenario" not in ds.dims:
        ds = ds.expand_dims(scenario=[str(acc.attrs.get("scenario", "scenario"))])
    if national:  # min_count: a flow undefined in every region stays undefined in France
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
        levels: list[tuple[str | None, xr.DataArray]] = [(root, da.sum("metier", min_count=1))]
        if by in ("domain", "metier"):
            g = da.drop_vars([c for c in da.coords if c not in da.dims and c != "domain"]).groupby("domain").sum(
                min_count=1)
            levels.append((None, g.rename({"domain": "key"}).assign_coords(key=[f"{root}|{k}" for k in g.domain.values])))
        if by == "metier":
            keys = [f"{root}|{d}|{m}" for d, m in zip(da.domain.values, da.metier.values)]
            levels.append((None, da.drop_vars([c for c in da.coords if c not in da.dims])
                           .rename({"metier": "key"}).assign_coords(key=keys)))
        for level_name, lv in levels:
            if level_name is not None:
                lv = lv.drop_vars([c for c in lv.coords if c not in lv.dims]).expand_dims(key=[level_name])
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
    cols = list(df.columns)
    if cols[:5] != IAMC_COLUMNS:
        raise InputError(tr(f"the first columns must be {IAMC_COLUMNS}", f"les premières colonnes doivent être {IAMC_COLUMNS}"),
                         source=source, column="columns",
                         rows=cols[:5])
    years = cols[5:]
    if not years or not all(isinstance(y, (int, np.integer)) for y in years) or years != sorted(years):
        raise InputError(tr("year columns must be integers in ascending order",
                            "les colonnes d'années doivent être des entiers en ordre croissant"), source=source, column="columns",
                         rows=years[:10])
    for c in IAMC_COLUMNS:
        bad = df[~df[c].map(lambda x: isinstance(x, str) and x.strip() == x and x != "")]
        if len(bad):
            raise InputError(tr("empty, non-text or space-padded values",
                                "valeurs vides, non textuelles ou entourées d'espaces"), source=source, column=c,
                             rows=bad.index[:10].tolist())
    seg = df["variable"].str.split("|")
    bad = df[seg.map(lambda parts: any(p == "" or p.strip() != p for p in parts))]
    if len(bad):
        raise InputError(tr("variables must be '|'-separated names without empty segments or padding",
                            "les variables doivent être des noms séparés par « | », sans segment vide ni espaces "
                            "autour"),
                         source=source, column="variable", rows=bad["variable"].head(10).tolist())
    dup = df[df.duplicated(IAMC_COLUMNS[:4], keep=False)]
    if len(dup):
        raise InputError(tr("duplicate (model, scenario, region, variable) rows",
                            "lignes (model, scenario, region, variable) en double"), source=source,
                         column="variable", rows=dup.index[:10].tolist())
    units = df.groupby("variable")["unit"].nunique()
    if (units > 1).any():
        raise InputError(tr("a variable has several units", "une variable a plusieurs unités"), source=source, column="unit",
                         rows=units[units > 1].index[:10].tolist())
    nonnum = [y for y in years if not pd.api.types.is_numeric_dtype(df[y])]
    if nonnum:
        raise InputError(tr("year columns must be numeric", "les colonnes d'années doivent être numériques"), source=source, column=str(nonnum[0]), rows=nonnum[:10])


def write_iamc(df: pd.DataFrame, path) -> Path:
    """Write an IAMC table to ``.csv`` or ``.xlsx`` (sheet ``data``, as pyam reads it), atomically.

    The CSV is UTF-8 with a byte-order mark (French Excel shows the accents of the regions; pandas, and so
    pyam, skip it) and keeps the IAMC convention — comma, decimal point — whatever the current
    :func:`pmq.outputs.csv_dialect`."""
    check_iamc(df)
    path = Path(path)
    df = neutralise(df, csv=path.suffix == ".csv")
    if path.suffix == ".csv":
        return atomic_file(path, lambda p: df.to_csv(p, index=False, encoding="utf-8-sig"), dialect=CsvDialect())
    if path.suffix == ".xlsx":
        return atomic_file(path, lambda p: df.to_excel(p, sheet_name="data", index=False))
    raise ArgumentError(tr(f"IAMC tables are written as .csv or .xlsx, not {path.suffix!r}",
                           f"les tableaux IAMC s'écrivent en .csv ou .xlsx, pas en {path.suffix!r}"),
                        name="path", value=str(path))


def to_pyam(data, **kwargs):
    """A ``pyam.IamDataFrame`` of :func:`iamc_table` (needs the optional package pyam:
    ``python -m pip install pyam-iamc``)."""
    try:
        import pyam
    except ImportError as exc:
        raise MissingDependencyError(tr("to_pyam needs pyam (the optional extra pmq[pyam]): install it "
                                        "with `python -m pip install pyam-iamc` (or use iamc_table(), "
                                        "which pyam reads)",
                                        "to_pyam a besoin de pyam (l'extra optionnel pmq[pyam]) : installez-le "
                                        "avec `python -m pip install pyam-iamc` (ou utilisez iamc_table(), "
                                        "que pyam lit)")) from exc
    return pyam.IamDataFrame(iamc_table(data, **kwargs))
