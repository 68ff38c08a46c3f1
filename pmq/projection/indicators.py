"""Reading the accounts Dataset: selection, horizons and windows, aggregation, summary tables, and the
display names of a selection (« France métropolitaine », a métier's label)."""
from __future__ import annotations

import os
import threading

import numpy as np
import pandas as pd
import xarray as xr
try:   # xarray's store and locks: the fast path of to_netcdf below; any other xarray falls back on to_netcdf
    from xarray.backends import H5NetCDFStore
    from xarray.backends.locks import HDF5_LOCK, combine_locks
except ImportError:  # pragma: no cover - depends on the xarray version
    H5NetCDFStore = None  # type: ignore[assignment, misc]

from pmq import data as _data
from pmq.formatting import check_lang
from pmq.labels import metier_label, text
from pmq.errors import ArgumentError, InputError, UnknownNameError
from pmq.names import resolve_many

__all__ = ["select", "default_end_years", "window_sums", "horizon_sums", "summary_table", "aggregate_territories",
           "aggregate_metiers", "to_netcdf", "FLOWS", "accounts_of", "one_scenario", "scenario_names", "subset_sum",
           "window", "window_of", "period_label", "is_builtin_france", "covers_france", "national", "territory_name", "metier_name",
           "selection_title"]

FLOWS = ("net_creation", "departures", "openings", "young_entrants", "net_mobility", "other_recruits",
         "imbalance")


def default_end_years(accounts: xr.Dataset, horizons=(5, 10, 20), years=(2030,)) -> list[int]:
    """End years base+h for each horizon h plus extra years, within the projection
    (the projection's last year when none of them is)."""
    base = int(accounts.year.values[0])
    last = int(accounts.year.values[-1])
    ends = sorted({base + int(h) for h in horizons} | {int(y) for y in years})
    return [e for e in ends if base < e <= last] or [last]


def _age_sum(da: xr.DataArray) -> xr.DataArray:
    return da.sum("age") if "age" in da.dims else da


def window_sums(accounts: xr.Dataset, start_year: int | None = None, end_year: int | None = None,
                denominator_year: int | None = None) -> xr.Dataset:
    """Flows summed over ``start_year ≤ year < end_year``, age-summed, with employment at the start,
    at the end and in ``denominator_year`` (default: the start).  Default window: the whole
    projection.  Window bounds go into attrs (``start_year``, ``end_year``, ``n_years``, ``period``).
    """
    return _window(accounts.year.values, _age_summed(accounts), start_year, end_year, denominator_year)


def _age_summed(accounts: xr.Dataset) -> dict[str, xr.DataArray]:
    """Employment and every flow of :data:`FLOWS`, summed over age (every year): the one pass over the
    age-resolved accounts that any number of windows share."""
    return {k: _age_sum(accounts[k]) for k in ("employment", *FLOWS)}


def _window(years, summed: dict[str, xr.DataArray], start_year: int | None, end_year: int | None,
            denominator_year: int | None) -> xr.Dataset:
    start = int(years[0]) if start_year is None else int(start_year)
    end = int(years[-1]) if end_year is None else int(end_year)
    den = start if denominator_year is None else int(denominator_year)
    for name, y in (("start_year", start), ("end_year", end), ("denominator_year", den)):
        if y not in years:
            raise InputError(f"{name} {y} is outside the projection ({years[0]}–{years[-1]})",
                             source="accounts", column="year", rows=[y])
    if end <= start:
        raise InputError(f"end_year ({end}) must be after start_year ({start})", source="accounts",
                         column="year", rows=[start, end])
    emp = summed["employment"]
    d = xr.Dataset({"employment_start": emp.sel(year=start, drop=True),
                    "employment_end": emp.sel(year=end, drop=True),
                    "employment_base": emp.sel(year=den, drop=True)})
    for k in FLOWS:
        d[k] = summed[k].sel(year=slice(start, end - 1)).sum("year")
    d.attrs.update(start_year=start, end_year=end, n_years=end - start, denominator_year=den,
                   period=f"{start}–{end}")
    return d


def horizon_sums(accounts: xr.Dataset, end_years) -> xr.Dataset:
    """Flows summed from the base year to each end year (exclusive) and stocks at both ends.

    Returns a Dataset with a ``period`` dimension labelled ``"2019–2030"`` etc., and
    variables ``employment_start``, ``employment_end`` and every flow of :data:`FLOWS`
    (age-summed), persons.  The accounts are summed over age once, whatever the number of periods.
    """
    years = accounts.year.values
    base = int(years[0])
    summed = _age_summed(accounts)
    out = []
    for end in end_years:
        d = _window(years, summed, base, end, None).drop_vars("employment_base")
        d.attrs = {}
        d = d.expand_dims(period=[f"{base}–{end}"])
        d = d.assign_coords(end_year=("period", [end]), n_years=("period", [end - base]))
        out.append(d)
    res = xr.concat(out, dim="period")
    for k in res.data_vars:
        res[k].attrs["units"] = "persons"
    res.attrs.update({k: v for k, v in accounts.attrs.items() if k in ("scenario", "base_year", "units")})
    return res


def summary_table(h: xr.Dataset) -> pd.DataFrame:
    """Long, readable table (one row per territory × métier × period) from :func:`horizon_sums`
    (the table ``pmq run`` writes to ``summary.csv``).

    Persons: ``employment_start`` (1 January of the base year), ``employment_end`` (1 January of
    the period's end year) and every flow of :data:`FLOWS` summed over the years
    ``base ≤ year < end_year``.  Rates are shares of **initial employment** (as the report and
    the Excel tables define them), over the whole period, not per year:

    * ``departures_rate = departures / employment_start``;
    * ``imbalance_rate = imbalance / employment_start``.

    Both are NaN (never ±inf, and without a warning) where ``employment_start`` ≤ 0.
    """
    df = h.to_dataframe().reset_index()
    keep = [c for c in ["period", "end_year", "territory", "territory_name", "metier", "metier_label",
                        "domain", "published_code"] if c in df.columns]
    cols = keep + ["employment_start", "employment_end", *FLOWS]
    df = df[cols].copy()
    initial = df["employment_start"].where(df["employment_start"] > 0)   # NaN where there is no one
    df["departures_rate"] = df["departures"] / initial
    df["imbalance_rate"] = df["imbalance"] / initial
    return df


def aggregate_territories(ds: xr.Dataset, code: str = "FR", name: str = "France métropolitaine") -> xr.Dataset:
    """Sum over territories into one (regions → France)."""
    keep = {c: ds.coords[c] for c in ("metier_label", "domain") if c in ds.coords}
    agg = ds.drop_vars([c for c in ("territory_name", "published_code", "territory_source_name")
                        if c in ds.coords]).sum("territory", keep_attrs=True)
    agg = agg.expand_dims(territory=[code]).assign_coords({"territory_name": ("territory", [name]), **keep})
    return agg


def aggregate_metiers(ds: xr.Dataset, by: str = "domain") -> xr.Dataset:
    """Sum métiers into FAP domains (``by="domain"``) or into the published groups
    (``by="published_code"``: Corse's grouped rows; other regions keep their métiers).

    With ``published_code`` the result has dims ``(territory, published_code)`` and
    only the published combinations are non-zero.
    """
    drop = [c for c in ("metier_label", "published_code", "domain") if c in ds.coords and c != by]
    if by == "domain":
        g = ds.drop_vars(drop).groupby("domain").sum(keep_attrs=True)
        lab = _data.domains().set_index("code")["label_fr"]
        return g.assign_coords(domain_label=("domain", [lab.get(d, d) for d in g.domain.values]))
    if by == "published_code":
        pc = ds["published_code"]
        codes = np.unique(pc.values)
        parts = []
        for code in codes:  # loop over published codes (≤ 100), vectorised over the rest
            mask = pc == code
            parts.append(ds.drop_vars(drop + ["published_code"]).where(mask).sum("metier", keep_attrs=True)
                         .expand_dims(published_code=[code]))
        return xr.concat(parts, dim="published_code")
    raise ArgumentError("unknown aggregation; use 'domain' or 'published_code'", name="by", value=by)


def to_netcdf(ds: xr.Dataset, path) -> None:
    """Write a Dataset to netCDF (h5netcdf), compressed: zlib level 1 on the floats (the accounts are float64
    persons that compress little: level 4 gave the same size, 30.6 against 30.8 MB for the reference run, and
    took longer; shuffle made it slower, not smaller).

    Written through xarray's h5netcdf store with a plain thread lock: ``Dataset.to_netcdf`` asks dask which
    scheduler is active to choose its lock, which imports dask and ``dask.distributed`` (≈ 0.3 s) whenever
    they are installed, for a Dataset of numpy arrays.  The file is the one ``to_netcdf`` writes."""
    enc = {k: {"zlib": True, "complevel": 1} for k, v in ds.data_vars.items() if v.dtype.kind == "f"}
    if (H5NetCDFStore is None or not isinstance(path, (str, os.PathLike))          # a file object
            or any(getattr(v.data, "chunks", None) is not None for v in ds.variables.values())):  # dask arrays
        ds.to_netcdf(path, engine="h5netcdf", encoding=enc)
        return
    store = H5NetCDFStore.open(str(path), mode="w", lock=combine_locks([HDF5_LOCK, threading.Lock()]))
    try:
        ds.dump_to_store(store, encoding=enc)
    finally:
        store.close()


def select(ds: xr.Dataset, territory=None, metier=None) -> xr.Dataset:
    """Select territories and métiers by code or name (case, accents, apostrophes ignored).

    ``territory`` / ``metier`` may be one name or a list; an unknown name raises
    :class:`~pmq.errors.UnknownNameError` listing the closest matches.
    """
    if territory is not None:
        names = [territory] if isinstance(territory, str) else list(territory)
        builtin = _data.territory_choices()  # official, source and short names (NAQ, PACA…)
        choices = {}
        for i, code in enumerate(map(str, ds.territory.values)):
            name = str(ds.territory_name.values[i]) if "territory_name" in ds.coords else code
            # A built-in region's aliases apply only to that region (same code and name),
            # not to a user's territory that happens to reuse the code.
            choices[code] = builtin[code] if builtin.get(code, [None])[0] == name else [name]
        codes = resolve_many(names, choices, kind="territory")
        ds = ds.sel(territory=codes if not isinstance(territory, str) else codes[:1])
    if metier is not None:
        names = [metier] if isinstance(metier, str) else list(metier)
        choices = {str(c): ([str(lab)] if "metier_label" in ds.coords else [])
                   for c, lab in zip(ds.metier.values,
                                     ds.metier_label.values if "metier_label" in ds.coords else ds.metier.values)}
        codes = resolve_many(names, choices, kind="métier")
        ds = ds.sel(metier=codes)
    return ds


# --------------------------------------------------- reading the accounts of a run, and their names
def accounts_of(data) -> xr.Dataset:
    """The accounts Dataset of a :class:`~pmq.Projection` (one scenario or several) or a Dataset."""
    if isinstance(data, xr.Dataset):
        return data
    acc = getattr(data, "accounts", None)
    if isinstance(acc, xr.Dataset):
        return acc
    raise TypeError(f"expected a Projection or an accounts Dataset, got {type(data).__name__}")


def one_scenario(acc: xr.Dataset, scenario=None) -> xr.Dataset:
    """Drop the ``scenario`` dimension, keeping ``scenario`` (name) or the first one."""
    if "scenario" not in acc.dims:
        return acc
    names = [str(s) for s in acc.scenario.values]
    if scenario is not None and scenario not in names:
        raise UnknownNameError(f"unknown scenario {scenario!r}; this run has: {', '.join(names)}")
    one = acc.isel(scenario=names.index(scenario) if scenario is not None else 0)
    attrs = dict(acc.attrs, scenario=str(one.scenario.values))
    for k in ("scenario_title_fr", "scenario_title_en", "scenario_hash"):
        if k in one.coords:
            attrs[k] = str(one[k].values)
    one = one.drop_vars([c for c in ("scenario", "scenario_title_fr", "scenario_title_en", "scenario_hash")
                         if c in one.coords])
    one.attrs = attrs
    return one


def scenario_names(acc: xr.Dataset, lang: str | None = None) -> list[str]:
    """Display names of the scenarios along ``scenario`` (titles when present)."""
    lang = check_lang(lang)
    key = "scenario_title_fr" if lang == "fr" else "scenario_title_en"
    if key in acc.coords:
        return [str(t) for t in acc[key].values]
    return [str(s) for s in acc.scenario.values]


def subset_sum(ds: xr.Dataset, territory=None, metier=None, keep=()) -> xr.Dataset:
    """Select territories / métiers by code or name (see :func:`pmq.select`), then sum over
    ``territory`` and ``metier`` unless they are in ``keep``."""
    if territory is not None or metier is not None:
        ds = select(ds, territory=territory, metier=metier)
    dims = [d for d in ("territory", "metier") if d in ds.dims and d not in keep]
    drop = [c for c in ds.coords if c not in ds.dims and any(d in dims for d in ds[c].dims)]
    # min_count: a flow undefined everywhere (the final year) stays undefined, not 0
    return ds.drop_vars(drop).sum(dims, keep_attrs=True, min_count=1) if dims else ds


def window(acc: xr.Dataset, start_year=None, end_year=None) -> xr.Dataset:
    """Flows summed over a window (default: base year to the projection's last year)."""
    return window_sums(acc, start_year, end_year)


def window_of(acc: xr.Dataset, territory=None, metier=None, start_year=None, end_year=None, keep=()) -> xr.Dataset:
    """Select territories / métiers first (cheap views), then sum the window's flows, then sum
    over ``territory`` and ``metier`` unless kept."""
    if territory is not None or metier is not None:
        acc = select(acc, territory=territory, metier=metier)
    return subset_sum(window(acc, start_year, end_year), keep=keep)


def period_label(acc: xr.Dataset, start_year=None, end_year=None) -> str:
    """« 2019–2030 »: the window's label (bounds default to the projection's)."""
    years = acc.year.values
    start = int(years[0]) if start_year is None else int(start_year)
    end = int(years[-1]) if end_year is None else int(end_year)
    return f"{start}–{end}"


def is_builtin_france(acc: xr.Dataset) -> bool:
    return set(map(str, acc.territory.values)) == set(_data.regions()["code"])


def covers_france(acc: xr.Dataset) -> bool:
    """The accounts cover metropolitan France: the 13 built-in régions, or their départements or zones d'emploi
    split by pmq's shipped keys (every région present as a parent)."""
    if is_builtin_france(acc):
        return True
    metro = set(_data.regions()["code"])
    if "estimated_territory" in acc.coords and "overseas" in acc.attrs:      # with pmq's estimated DOM
        parents = acc["region"].values if "region" in acc.coords else acc.territory.values
        return set(map(str, np.unique(np.asarray(parents)[~acc["estimated_territory"].values.astype(bool)]))) \
            == metro and ("region" not in acc.coords or "pmq shipped key" in str(acc.attrs.get("key_source", "")))
    return ("region" in acc.coords and "pmq shipped key" in str(acc.attrs.get("key_source", ""))
            and set(map(str, np.unique(acc["region"].values))) == metro)


def national(acc: xr.Dataset, lang: str | None = None) -> tuple[str, str, str]:
    """``(code, name, short)`` of the sum of all territories: France for the 13 built-in
    regions (or their départements / zones d'emploi), « Ensemble des territoires » for a user's own."""
    lang = check_lang(lang)
    if covers_france(acc):
        with_dom = "estimated_territory" in acc.coords and bool(acc["estimated_territory"].values.any())
        return "FR", text("france_dom" if with_dom else "france", lang), "FR"
    return ("ALL", "Ensemble des territoires" if lang == "fr" else "All territories",
            "Ens." if lang == "fr" else "All")


def territory_name(acc: xr.Dataset, territory=None, lang: str | None = None) -> str:
    """Display name of a selection of territories (all of them: « France métropolitaine »)."""
    lang = check_lang(lang)
    if territory is None:
        return national(acc, lang)[1]
    sel = select(acc, territory=territory)
    names = [str(n) for n in (sel.territory_name.values if "territory_name" in sel.coords else sel.territory.values)]
    return ", ".join(names)


def metier_name(acc: xr.Dataset, metier=None, lang: str | None = None) -> str:
    lang = check_lang(lang)
    if metier is None:
        return text("all_metiers", lang)
    sel = select(acc, metier=metier)
    labs = sel.metier_label.values if "metier_label" in sel.coords else None
    codes = [str(c) for c in sel.metier.values]
    if len(codes) > 2:
        return f"{len(codes)} {'métiers' if lang == 'fr' else 'occupations'} ({', '.join(codes[:3])}…)"
    return ", ".join(metier_label(codes, lang, labels=labs))


def selection_title(acc, territory=None, metier=None, lang: str | None = None) -> str:
    lang = check_lang(lang)
    t = territory_name(acc, territory, lang)
    return t if metier is None else f"{t} — {metier_name(acc, metier, lang)}"
