"""Reading the accounts Dataset: selection, horizons and windows, aggregation, summary tables, and the
display names of a selection (« France métropolitaine », a métier's label)."""
from __future__ import annotations

import numbers
import os
import re
import threading
from contextlib import contextmanager
from contextvars import ContextVar

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
from pmq.inputs.downscale import CAUTION_BELOW, RELIABILITY, SCEPTICISM_BELOW, reliability_classes
from pmq.names import resolve_many
from pmq.options import tr

__all__ = ["select", "default_end_years", "window_sums", "shared_age_sums", "horizon_sums", "summary_table", "aggregate_territories",
           "aggregate_metiers", "to_netcdf", "FLOWS", "accounts_of", "one_scenario", "scenario_names", "subset_sum",
           "window", "window_of", "period_label", "is_builtin_france", "covers_france", "national", "territory_name", "metier_name",
           "selection_title", "FLAG_COLUMNS", "FLAG_LABELS", "has_territory_flags", "reliability_label",
           "reliability_note", "territory_table_name", "territory_provenance", "cell_flags", "aggregate_flags",
           "with_flags"]

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
    """``da.sum("age")`` (NaN skipped), bit for bit, in one pass: numpy's sum over the age axis, then the
    NaN-skipping sum only for the cells that hold a NaN (the final year of the flows) — xarray's skipna sum
    copies the whole array through ``where`` first."""
    if "age" not in da.dims:
        return da
    data = da.data
    if not isinstance(data, np.ndarray) or data.dtype.kind != "f":   # dask (ensembles), integers: xarray's
        return da.sum("age")
    axis = da.dims.index("age")
    a = np.moveaxis(data, axis, -1)
    out = a.sum(axis=-1)
    bad = np.isnan(out)
    if bad.any():
        out[bad] = np.nansum(a[bad], axis=-1)
    dims = tuple(d for d in da.dims if d != "age")
    coords = {k: v for k, v in da.coords.items() if "age" not in v.dims}
    keep = xr.get_options()["keep_attrs"]                          # as xarray's sum: "default" keeps them
    return xr.DataArray(out, dims=dims, coords=coords, name=da.name,
                        attrs=dict(da.attrs) if keep in ("default", True) else {})


def window_sums(accounts: xr.Dataset, start_year: int | None = None, end_year: int | None = None,
                denominator_year: int | None = None) -> xr.Dataset:
    """Flows summed over ``start_year ≤ year < end_year``, age-summed, with employment at the start,
    at the end and in ``denominator_year`` (default: the start).  Default window: the whole
    projection.  Window bounds go into attrs (``start_year``, ``end_year``, ``n_years``, ``period``).
    """
    return _window(accounts.year.values, _age_summed(accounts), start_year, end_year, denominator_year)


def _age_summed(accounts: xr.Dataset) -> dict[str, xr.DataArray]:
    """Employment and every flow of :data:`FLOWS`, summed over age (every year): the one pass over the
    age-resolved accounts that any number of windows share (once per accounts object inside
    :func:`shared_age_sums`).  The dict is shared: read it, never change it."""
    cache = _SUMMED.get()
    if cache is not None:
        hit = cache.get(id(accounts))
        if hit is not None and hit[0] is accounts:
            return hit[1]
    summed = {k: _age_sum(accounts[k]) for k in ("employment", *FLOWS)}
    if cache is not None:
        cache[id(accounts)] = (accounts, summed)          # the accounts kept alive: their id is not reused
    return summed


_SUMMED: ContextVar[dict | None] = ContextVar("pmq_shared_age_sums", default=None)


@contextmanager
def shared_age_sums():
    """Within the block, the accounts are summed over age once per accounts object, for every window, chart and
    table that reads them (a report draws a dozen charts from the same accounts), and the windows of a selection
    (:func:`window_of`) are cut from those sums.  For code that does not change the accounts in place within the
    block — the report's build; the numbers are the same bit for bit."""
    token = _SUMMED.set({})
    try:
        yield
    finally:
        _SUMMED.reset(token)


def _check_window(years, start_year: int | None, end_year: int | None,
                  denominator_year: int | None) -> tuple[int, int, int]:
    """The window's start, end and denominator years, checked: in the projection, end after start."""
    start = int(years[0]) if start_year is None else int(start_year)
    end = int(years[-1]) if end_year is None else int(end_year)
    den = start if denominator_year is None else int(denominator_year)
    for name, y in (("start_year", start), ("end_year", end), ("denominator_year", den)):
        if y not in years:
            raise InputError(tr(f"{name} {y} is outside the projection ({years[0]}–{years[-1]})",
                                f"{name} {y} est hors de la projection ({years[0]}–{years[-1]})"),
                             source="accounts", column="year", rows=[y])
    if end <= start:
        raise InputError(tr(f"end_year ({end}) must be after start_year ({start})",
                            f"end_year ({end}) doit suivre start_year ({start})"), source="accounts",
                         column="year", rows=[start, end])
    return start, end, den


def _window(years, summed: dict[str, xr.DataArray], start_year: int | None, end_year: int | None,
            denominator_year: int | None) -> xr.Dataset:
    start, end, den = _check_window(years, start_year, end_year, denominator_year)
    emp = summed["employment"]
    # one Dataset of every variable at once (each assigned on its own merged the Dataset again: most of the time
    # of a small window); the same sums
    d = xr.Dataset({"employment_start": emp.sel(year=start, drop=True),
                    "employment_end": emp.sel(year=end, drop=True),
                    "employment_base": emp.sel(year=den, drop=True),
                    **{k: summed[k].sel(year=slice(start, end - 1)).sum("year") for k in FLOWS}})
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
    ends = list(end_years)
    for end in ends:                      # the checks of a window (end year in the run, after the base year)
        _check_window(years, base, end, None)
    pos = {int(y): i for i, y in enumerate(years)}
    # whole arrays, one numpy reduction per flow and period (the sum over the same years, in the same order and
    # skipping NaN, as DataArray.sum: the same numbers bit for bit), one Dataset at the end
    emp = summed["employment"]
    axis = emp.get_axis_num("year")
    dims = ("period",) + tuple(d for d in emp.dims if d != "year")
    at = [pos[int(e)] for e in ends]
    data = {"employment_start": np.stack([np.take(emp.values, 0, axis=axis)] * len(ends)),
            "employment_end": np.stack([np.take(emp.values, i, axis=axis) for i in at])}
    for k in FLOWS:
        a = summed[k].transpose(*emp.dims).values
        cut = [slice(None)] * a.ndim
        parts = []
        for i in at:
            cut[axis] = slice(0, i)
            parts.append(np.nansum(a[tuple(cut)], axis=axis))
        data[k] = np.stack(parts)
    coords = {c: v for c, v in emp.coords.items() if "year" not in v.dims}
    coords.update(period=[f"{base}–{int(e)}" for e in ends], end_year=("period", [int(e) for e in ends]),
                  n_years=("period", [int(e) - base for e in ends]))
    attrs = {k: dict(summed["employment" if k.startswith("employment") else k].attrs, units="persons")
             for k in data}
    res = xr.Dataset({k: (dims, v, attrs[k]) for k, v in data.items()}, coords=coords)
    res.attrs.update({k: v for k, v in accounts.attrs.items() if k in ("scenario", "base_year", "units")})
    return res


def summary_table(h: xr.Dataset, lang: str | None = None) -> pd.DataFrame:
    """Long, readable table (one row per territory × métier × period) from :func:`horizon_sums`
    (the table ``pmq run`` writes to ``summary.csv``).

    Persons: ``employment_start`` (1 January of the base year), ``employment_end`` (1 January of
    the period's end year) and every flow of :data:`FLOWS` summed over the years
    ``base ≤ year < end_year``.  Rates are shares of **initial employment** (as the report and
    the Excel tables define them), over the whole period, not per year:

    * ``departures_rate = departures / employment_start``;
    * ``imbalance_rate = imbalance / employment_start``.

    Both are NaN (never ±inf, and without a warning) where ``employment_start`` ≤ 0.

    Accounts of a split or estimated run (:func:`has_territory_flags`: départements, zones d'emploi, estimated
    DOM) add :data:`FLAG_COLUMNS` — ``reliability``, ``reliability_label`` (in ``lang``), ``estimated``,
    ``key_basis`` (when split by a key) — to each row; a metropolitan run at région level keeps its columns.
    """
    df = h.to_dataframe().reset_index()
    keep = [c for c in ["period", "end_year", "territory", "territory_name", "metier", "metier_label",
                        "domain", "published_code"] if c in df.columns]
    cols = keep + ["employment_start", "employment_end", *FLOWS]
    df = df[cols].copy()
    initial = df["employment_start"].where(df["employment_start"] > 0)   # NaN where there is no one
    df["departures_rate"] = df["departures"] / initial
    df["imbalance_rate"] = df["imbalance"] / initial
    return with_flags(df, cell_flags(h), ["territory", "metier"], lang)


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
    raise ArgumentError(tr("unknown aggregation; use 'domain' or 'published_code'",
                           "regroupement inconnu ; utilisez 'domain' ou 'published_code'"), name="by", value=by)


#: Accounts up to this many bytes are written uncompressed (see :func:`to_netcdf`).
COMPRESS_ABOVE = 512 * 2**20


def to_netcdf(ds: xr.Dataset, path, compress: bool | None = None) -> None:
    """Write a Dataset to netCDF (h5netcdf).  ``compress`` (zlib level 1 on the floats): by default only
    when the data exceed :data:`COMPRESS_ABOVE` (512 MiB).  The accounts are float64 persons that compress
    little and slowly (zlib 1 ≈ 50 MB/s here; level 4: same size, slower; shuffle: slower, not smaller): the
    reference run to 2039 is 55 MB written in 0.2 s as it is, 32 MB in 1.2 s compressed; by département,
    407 MB in 3.6 s against 209 MB in 7.6 s.  So régional and départemental runs are written as they are, while
    the largest (zones d'emploi: 4 GB as they are, 1.3 GB compressed; départements to 2050) are compressed.
    Either way the file is the same netCDF, read the same way, and holds the same numbers bit for bit.

    Written through xarray's h5netcdf store with a plain thread lock: ``Dataset.to_netcdf`` asks dask which
    scheduler is active to choose its lock, which imports dask and ``dask.distributed`` (≈ 0.3 s) whenever
    they are installed, for a Dataset of numpy arrays.  The file is the one ``to_netcdf`` writes."""
    if compress is None:
        compress = ds.nbytes > COMPRESS_ABOVE
    enc = ({k: {"zlib": True, "complevel": 1} for k, v in ds.data_vars.items() if v.dtype.kind == "f"}
           if compress else {})
    if (H5NetCDFStore is None or not isinstance(path, (str, os.PathLike))          # a file object
            or any(getattr(v.data, "chunks", None) is not None for v in ds.variables.values())):  # dask arrays
        ds.to_netcdf(path, engine="h5netcdf", encoding=enc)
        return
    store = H5NetCDFStore.open(str(path), mode="w", lock=combine_locks([HDF5_LOCK, threading.Lock()]))
    try:
        ds.dump_to_store(store, encoding=enc)
    finally:
        store.close()


#: The dashes a period may be written with (« 2019-2030 », « 2019—2030 », « 2019 – 2030 »): pmq labels its periods
#: with an en dash (« 2019–2030 »), which a keyboard does not type.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_PERIOD_TEXT = re.compile(rf"(\d{{4}})[{_DASHES}](\d{{4}})")


def _period_key(value: str) -> str | None:
    """``value`` as pmq writes a period (« 2019–2030 »), or its end year alone (« 2030 »); None if it is neither.
    Spaces (no-break ones too) and the kind of dash do not matter."""
    t = re.sub(r"\s+", "", value)                  # no-break and narrow no-break spaces too
    m = _PERIOD_TEXT.fullmatch(t)
    if m:
        return f"{m.group(1)}–{m.group(2)}"
    return t if re.fullmatch(r"\d{4}", t) else None


def _select_periods(ds: xr.Dataset, period) -> list[str]:
    """The labels of ``ds.period`` that ``period`` names: a label written with any dash (« 2019-2030 »), an end
    year (2030, or « 2030 »), or a list of them; anything else raises :class:`~pmq.errors.ArgumentError` naming
    ``period``, the value and the periods available."""
    if "period" not in ds.dims:
        hint = tr(" (it holds years: sum them over periods first, proj.horizons() or pmq.horizon_sums)",
                  " (il contient des années : sommez-les d'abord par période, proj.horizons() ou pmq.horizon_sums)") \
            if "year" in ds.dims else ""
        raise ArgumentError(tr("selects among the periods of horizon sums (proj.horizons(), ds.pmq.horizons()); this "
                               f"Dataset has no period dimension{hint}",
                               "choisit parmi les périodes des sommes aux horizons (proj.horizons(), "
                               f"ds.pmq.horizons()) ; ce Dataset n'a pas de dimension period{hint}"),
                            name="period", value=period)
    labels = [str(p) for p in ds.period.values]
    keys = [_period_key(lab) or lab for lab in labels]
    ends = ([str(int(e)) for e in ds["end_year"].values] if "end_year" in ds.coords and "period" in ds["end_year"].dims
            else [k.rsplit("–", 1)[-1] for k in keys])
    available = ", ".join(labels)
    listed = isinstance(period, (list, tuple, set, np.ndarray, pd.Index, pd.Series))
    wanted = list(period) if listed else [period]
    if not wanted:
        raise ArgumentError(tr(f"names no period; the periods here: {available}",
                               f"ne désigne aucune période ; les périodes disponibles : {available}"),
                            name="period", value=period)
    out = []
    for w in wanted:
        key = (str(int(w)) if isinstance(w, numbers.Integral) and not isinstance(w, bool)
               else _period_key(w) if isinstance(w, str) else None)
        if key is None:
            example, end = labels[0] if labels else '2019–2030', ends[0] if ends else 2030
            raise ArgumentError(tr(f"expected a period such as '{example}' (a hyphen or a "
                                   f"dash, with or without spaces) or an end year such as "
                                   f"{end}; the periods here: {available}",
                                   f"période attendue, telle que '{example}' (trait d'union ou tiret, avec ou sans "
                                   f"espaces), ou une année de fin telle que {end} ; les périodes disponibles : "
                                   f"{available}"), name="period", value=w)
        match = [lab for lab, k, e in zip(labels, keys, ends) if key in (k, e)]
        if not match:
            end_years = ', '.join(dict.fromkeys(ends))
            raise ArgumentError(tr(f"no such period in these sums; the periods here: {available} (or their end years: "
                                   f"{end_years})",
                                   f"période absente de ces sommes ; les périodes disponibles : {available} (ou leurs "
                                   f"années de fin : {end_years})"), name="period", value=w)
        out += match
    return list(dict.fromkeys(out))


def select(ds: xr.Dataset, territory=None, metier=None, period=None) -> xr.Dataset:
    """Select territories and métiers by code or name (case, accents, apostrophes ignored), and periods.

    ``territory`` / ``metier`` may be one name or a list; an unknown name raises
    :class:`~pmq.errors.UnknownNameError` listing the closest matches.

    ``period`` (horizon sums: :func:`horizon_sums`, ``proj.horizons()``) may be a period's label as pmq writes it
    (« 2019–2030 », with an en dash), written with a plain hyphen or any dash, with or without spaces
    (« 2019-2030 », « 2019 - 2030 »), its end year (``2030``), or a list of them; a period the data do not hold
    raises :class:`~pmq.errors.ArgumentError` listing those they hold.  As for ``territory``, the dimension is
    kept (of length 1 for one period).
    """
    if period is not None:
        ds = ds.sel(period=_select_periods(ds, period))
    if territory is not None:
        names = [territory] if isinstance(territory, str) else list(territory)
        builtin = _data.territory_choices()  # official, source and short names (NAQ, PACA…)
        choices = {}
        own = ds.territory_name.values if "territory_name" in ds.coords else None
        for i, code in enumerate(map(str, ds.territory.values)):
            name = str(own[i]) if own is not None else code
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
        raise UnknownNameError(tr(f"unknown scenario {scenario!r}; this run has: {', '.join(names)}",
                                  f"scénario inconnu {scenario!r} ; cette projection contient : {', '.join(names)}"))
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
        if _SUMMED.get() is not None:         # cut from the accounts' shared age sums (the same numbers)
            part = select(_summed_dataset(acc), territory=territory, metier=metier)
            return subset_sum(_window(acc.year.values, {str(k): part[k] for k in part.data_vars}, start_year,
                                      end_year, None), keep=keep)
        acc = select(acc, territory=territory, metier=metier)
    return subset_sum(window(acc, start_year, end_year), keep=keep)


def _summed_dataset(acc: xr.Dataset) -> xr.Dataset:
    """The age sums of ``acc`` (:func:`_age_summed`) as one Dataset, made once per accounts inside
    :func:`shared_age_sums` for every selection cut from it (the small multiples' panels).  Shared: read it,
    never change it (a selection of it is a copy)."""
    cache = _SUMMED.get()
    assert cache is not None, "_summed_dataset is called inside shared_age_sums() only"
    key = ("dataset", id(acc))
    hit = cache.get(key)
    if hit is not None and hit[0] is acc:
        return hit[1]
    ds = xr.Dataset(_age_summed(acc))
    cache[key] = (acc, ds)                         # the accounts kept alive: their id is not reused
    return ds


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
    cache = _SUMMED.get()              # inside shared_age_sums: each name resolved once (a report names a territory
    key = ("name", id(acc), territory if isinstance(territory, str) else tuple(territory))   # in every chart)
    if cache is not None and (hit := cache.get(key)) is not None and hit[0] is acc:
        return hit[1]
    # the names are resolved on the territories' own coordinates, not on every variable of the accounts
    own = xr.Dataset(coords={k: v for k, v in acc.coords.items() if v.dims == ("territory",)})
    sel = select(own, territory=territory)
    names = [str(n) for n in (sel.territory_name.values if "territory_name" in sel.coords else sel.territory.values)]
    if cache is not None:
        cache[key] = (acc, ", ".join(names))       # the accounts kept alive: their id is not reused
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


# ------------------------------------------ estimated territories and cells, in the tables users read
#: Columns that every territory × métier table gets when the accounts carry the labels of a split or estimated
#: run (département / zone d'emploi level, estimated DOM): the cell's reliability class (0, 1, 2 of
#: :data:`pmq.inputs.downscale.RELIABILITY`), its label, whether it is estimated, and the key's basis.
FLAG_COLUMNS = ("reliability", "reliability_label", "estimated", "key_basis")
#: Column → (French label, English label) of :data:`FLAG_COLUMNS`.
FLAG_LABELS = {
    "reliability": ("classe de fiabilité (0, 1, 2)", "reliability class (0, 1, 2)"),
    "reliability_label": ("fiabilité", "reliability"),
    "estimated": ("chiffre estimé (territoire estimé ou classe ≥ 1)",
                  "estimated figure (estimated territory or class ≥ 1)"),
    "key_basis": ("base de la clé de répartition", "basis of the downscaling key"),
}
#: Accounts attrs that say where a split or estimated run comes from (file-level provenance).
PROVENANCE_ATTRS = ("level", "parent_level", "key_source", "key_bases", "overseas", "tension_level")
#: Name of the territory table (xlsx sheet, ensemble CSV) by level: (French, English).
LEVEL_TABLE_NAMES = {"region": ("regions", "regions"), "departement": ("departements", "departments"),
                     "zone_emploi": ("zones_emploi", "employment_zones")}


def has_territory_flags(ds: xr.Dataset) -> bool:
    """The accounts (or any Dataset of them) carry the labels of estimated figures: a ``reliability`` class per
    cell (a split baseline) or ``estimated_territory`` (the estimated DOM).  A metropolitan run at région level
    carries neither: its tables keep their columns."""
    return "reliability" in ds.coords or "estimated_territory" in ds.coords


def reliability_label(classes, lang: str | None = None) -> list[str]:
    """French or English label of each reliability class (:data:`pmq.inputs.downscale.RELIABILITY`)."""
    i = 0 if check_lang(lang) == "fr" else 1
    return [RELIABILITY[int(c)][i] for c in classes]


def reliability_note(lang: str | None = None) -> str:
    """One sentence on the reliability classes and the ``estimated`` column (README sheets, CSV provenance)."""
    fr = check_lang(lang) == "fr"
    lab = [v[0 if fr else 1] for v in RELIABILITY.values()]
    c, s = (f"{x:,.0f}".replace(",", "\u202f" if fr else ",") for x in (CAUTION_BELOW, SCEPTICISM_BELOW))
    if fr:
        # French words; the identifiers of the CSV columns only in brackets, after the French word
        return (f"Fiabilité (reliability) : 0 {lab[0]} (au moins {c} emplois l'année de base, clé fondée sur les "
                f"données du métier) ; 1 {lab[1]} (moins de {c} emplois, clé approchée ou territoire estimé par "
                f"pmq) ; 2 {lab[2]} (moins de {s} emplois). Chiffre estimé (estimated) : territoire estimé ou "
                f"classe ≥ 1 ; une ligne qui somme des cellules est estimée si l'une d'elles l'est (sa classe est "
                f"alors au moins 1, et 0 sinon).")
    return (f"Reliability: 0 {lab[0]} (at least {c} jobs in the base year, key based on the occupation's own "
            f"data); 1 {lab[1]} (under {c} jobs, proxy key or territory estimated by pmq); 2 {lab[2]} (under "
            f"{s} jobs). estimated = estimated territory or class ≥ 1; a row summing cells is estimated if any of "
            f"them is (its class is then at least 1, else 0).")


def territory_table_name(level: str | None, lang: str | None = None) -> str:
    """Name of the table of territories at ``level``: « regions », « departements » / "departments",
    « zones_emploi » / "employment_zones", « territoires » / "territories" for a user's level."""
    i = 0 if check_lang(lang) == "fr" else 1
    return LEVEL_TABLE_NAMES.get(str(level or "region"), ("territoires", "territories"))[i]


def territory_provenance(attrs, lang: str | None = None) -> list[list[str]]:
    """Rows ``[name, value]`` of the file-level provenance of a split or estimated run (level, parent level,
    key source and bases, estimated DOM, tension level) and the sentence on the reliability classes; empty for
    accounts without these attrs (a metropolitan run at région level)."""
    fr = check_lang(lang) == "fr"
    rows = [[k, str(attrs[k])] for k in PROVENANCE_ATTRS if k in attrs and str(attrs[k]) != ""]
    if not rows:
        return []
    if "overseas" in attrs:
        rows.append(["DOM", "DOM estimés (territoires estimés par pmq)" if fr
                     else "overseas régions (DOM) estimated by pmq"])
    rows.append(["fiabilité" if fr else "reliability", reliability_note(lang)])
    return rows


def _base_employment(ds: xr.Dataset) -> xr.DataArray:
    """Base-year employment by territory × métier (all ages; the first scenario: the same in every one)."""
    if "employment" in ds:
        e = ds["employment"]
        e = e.isel(year=0) if "year" in e.dims else e
    else:                                   # horizon or window sums
        e = ds["employment_start"]
        e = e.isel(period=0) if "period" in e.dims else e
    e = e.isel(scenario=0) if "scenario" in e.dims else e
    e = e.sum("age") if "age" in e.dims else e
    return e.transpose("territory", "metier")


def cell_flags(ds: xr.Dataset) -> pd.DataFrame | None:
    """One row per territory × métier of the accounts (or of their horizon / window sums): ``territory``,
    ``metier``, ``domain`` (when known), ``reliability`` (int8), ``estimated`` (bool), ``key_basis`` (when the
    accounts carry it) and ``employment_base`` (base-year employment, for the flags of sums of cells); None for
    accounts without the labels (:func:`has_territory_flags`).

    ``reliability`` is the accounts' coordinate; for an estimated DOM at région level (no coordinate) the rule
    of :func:`pmq.inputs.downscale.reliability_classes` on the cell's base-year employment, at least 1 — the
    class a DOM département gets at département level — and 0 for a published région."""
    if not has_territory_flags(ds):
        return None
    emp = _base_employment(ds).values.astype(float)
    nt, nm = emp.shape
    est_t = (ds["estimated_territory"].values.astype(bool) if "estimated_territory" in ds.coords
             else np.zeros(nt, bool))
    if "reliability" in ds.coords:
        rel = ds["reliability"].transpose("territory", "metier").values.astype(np.int8)
    else:
        rel = np.where(est_t[:, None], np.maximum(reliability_classes(emp), 1), 0).astype(np.int8)
    out = pd.DataFrame({"territory": np.repeat([str(t) for t in ds.territory.values], nm),
                        "metier": np.tile([str(m) for m in ds.metier.values], nt)})
    if "domain" in ds.coords:
        out["domain"] = np.tile([str(d) for d in ds["domain"].values], nt)
    out["reliability"] = rel.ravel()
    # estimated: not a published figure — an estimated territory, a cell split from its parent by a key (even a
    # large, reliable one), or a cell of class ≥ 1
    split = (~np.isin(ds["key_basis"].transpose("territory", "metier").values.astype(str), ("not_split", "single_child"))
             if "key_basis" in ds.coords else np.zeros((nt, nm), bool))
    out["estimated"] = (est_t[:, None] | split | (rel >= 1)).ravel()
    out["estimated_territory"] = np.repeat(est_t, nm)
    if "key_basis" in ds.coords:
        out["key_basis"] = [str(b) for b in ds["key_basis"].transpose("territory", "metier").values.ravel()]
    out["employment_base"] = emp.ravel()
    return out


def aggregate_flags(cells: pd.DataFrame, by, **labels) -> pd.DataFrame:
    """The flags of sums of cells (:func:`cell_flags`), one row per group of ``by`` (columns of ``cells``; none:
    one row for all).  A sum is estimated if any of its cells is; its class is the cell's for a single cell,
    else 0 when no cell is estimated and, when one is, the class of the sum's base-year employment (the
    thresholds of :func:`pmq.inputs.downscale.reliability_classes`) — at least 1 when a cell belongs to an
    estimated territory (the DOM).  ``key_basis``: the bases of its cells, sorted, joined by « + ».  ``labels``
    set columns to constants (``territory="FR"``)."""
    by = list(by)
    if not by:
        cells, by = cells.assign(_all=""), ["_all"]
    grouped = cells.groupby(by, sort=False)
    if "estimated_territory" not in cells.columns:
        cells = cells.assign(estimated_territory=False)
    out = grouped.agg(n=("reliability", "size"), worst=("reliability", "max"), estimated=("estimated", "any"),
                      employment_base=("employment_base", "sum"))
    dom = cells.groupby(by, sort=False)["estimated_territory"].any()
    size = reliability_classes(out["employment_base"].to_numpy())
    size = np.where(dom.reindex(out.index).to_numpy(bool), np.maximum(size, 1), size)
    out["reliability"] = np.where(out["n"] == 1, out["worst"], np.where(out["estimated"], size, 0)).astype(np.int8)
    if "key_basis" in cells.columns:
        out["key_basis"] = grouped["key_basis"].agg(lambda s: " + ".join(sorted(set(s))))
    out = out.reset_index()
    out = out.drop(columns=[c for c in ("_all", "n", "worst") if c in out.columns])
    for k, v in labels.items():
        out[k] = v
    return out


def with_flags(df: pd.DataFrame, flags: pd.DataFrame | None, on, lang: str | None = None) -> pd.DataFrame:
    """``df`` with the :data:`FLAG_COLUMNS` of ``flags`` (rows of :func:`cell_flags` / :func:`aggregate_flags`)
    matched on the columns ``on``, appended at the end, the label in ``lang``; ``df`` as it is when ``flags`` is
    None (accounts without the labels)."""
    if flags is None:
        return df
    on = list(on)
    cols = [c for c in ("reliability", "estimated", "key_basis") if c in flags.columns]
    right = flags[on + cols].copy()
    left = df.copy()
    for c in on:
        left[c] = left[c].astype(str)
        right[c] = right[c].astype(str)
    out = left.merge(right, on=on, how="left", validate="many_to_one")
    out.index = df.index
    for c in on:                                # the key columns as they were (codes are text either way)
        out[c] = df[c]
    if out["reliability"].isna().any():         # a row no flag matched: a bug, never a silent "reliable"
        missing = out.loc[out["reliability"].isna(), on].drop_duplicates().head(5).to_dict("records")
        raise InputError(tr(f"no reliability for rows {missing}", f"aucune fiabilité pour les lignes {missing}"),
                         source="accounts", column="reliability")
    out["reliability"] = out["reliability"].astype(np.int8)
    out["estimated"] = out["estimated"].astype(bool)
    out.insert(out.columns.get_loc("reliability") + 1, "reliability_label", reliability_label(out["reliability"], lang))
    return out
