"""Mobility of employed workers between métiers: a transition matrix and its flows.

**Off by default.** No national FAP × FAP transition matrix is published: DARES offers
only an interactive tool on DSN data, and « Les métiers en 2030 » does not quantify
mobility between métiers (its *déséquilibre potentiel* is what young entrants and
inter-regional mobility leave unfilled).  The order of magnitude is known: 22 % of
the people in employment in both 2010 and 2015 had changed métier (FQP survey; Lhommeau
& Michel, Dares Analyses n° 049, 2018,
https://dares.travail-emploi.gouv.fr/IMG/pdf/2018-049.pdf), about 5 % a year.  pmq
therefore ships no matrix; you supply one and call :func:`occupational_mobility`.

The matrix
    A long table (CSV/Excel/Parquet or DataFrame) with columns ``origin``,
    ``destination``, ``rate`` and optional ``age_min``, ``age_max`` (inclusive age
    band; blank = open) — see :func:`read_transitions` and
    ``pmq/data/templates/transitions_example.csv`` (illustrative, not data).
    ``rate`` is the annual probability that a worker of métier ``origin`` (age at the
    start of the year) works in ``destination`` a year later.  ``destination`` may be
    ``"exit"``: *other* exits from employment.  End-of-career departures are already
    in pmq's ``departures``, so ``exit`` is usually absent.

The flows (a supply-side diagnostic)
    With ``E[t, r, m, a]`` the employment at the start of year ``t`` and ``ρ[m, d, a]``
    the rates::

        occ_outflow[t, r, m]  = Σ_a E[t, r, m, a] · Σ_d ρ[m, d, a]     (d includes "exit")
        occ_inflow[t, r, d]   = Σ_m Σ_a E[t, r, m, a] · ρ[m, d, a]     (d a métier)
        occ_exit[t, r, m]     = Σ_a E[t, r, m, a] · ρ[m, exit, a]
        net_occupational_mobility = occ_inflow − occ_outflow            (inflow positive)
        other_recruits_residual   = other_recruits − net_occupational_mobility
        gap_after_mobility        = imbalance − net_occupational_mobility

    so that, in each territory and year, ``Σ_m net_occupational_mobility = −Σ_m occ_exit``
    (workers are conserved).  The employment path and the DARES imbalance are **not
    changed**: the accounts' ``other_recruits`` already is the balancing flow, and
    these variables say how much of it (or of the imbalance) the matrix's net
    mobility between métiers would fill.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from pmq import data as _data
from pmq.errors import ArgumentError, InputError
from pmq.inputs.tables import as_number
from pmq.inputs.rates import check_columns, match_codes, metier_codes, rate_column, read_rate_table
from pmq.model.ages import AGES
from pmq.projection.indicators import default_end_years, horizon_sums

__all__ = ["EXIT", "MOBILITY_FLOWS", "read_transitions", "occupational_mobility",
           "mobility_horizons", "template_path"]

#: Destination label of flows that leave employment (other than end-of-career departures).
EXIT = "exit"
_EXIT_ALIASES = {"exit", "sortie"}

#: Variables of :func:`occupational_mobility`: (French label, English label).
MOBILITY_FLOWS = {
    "occ_outflow": ("Sorties vers d'autres métiers (ou hors emploi)",
                    "Outflow to other métiers (and to 'exit')"),
    "occ_inflow": ("Entrées depuis d'autres métiers", "Inflow from other métiers"),
    "occ_exit": ("Sorties de l'emploi (hors fins de carrière)",
                 "Outflow to 'exit' (other than end-of-career departures)"),
    "net_occupational_mobility": ("Solde des mobilités entre métiers (entrées nettes)",
                                  "Net inflow from other métiers"),
    "other_recruits_residual": ("Autres recrutements hors mobilités entre métiers",
                                "Other recruits net of mobility between métiers"),
    "gap_after_mobility": ("Déséquilibre après mobilités entre métiers",
                           "Imbalance after mobility between métiers"),
}

_ALLOWED = {"origin", "destination", "rate", "age_min", "age_max", "note", "origin_label",
            "destination_label"}


def template_path() -> Path:
    """Path of the illustrative transition table shipped with pmq (not data)."""
    return _data.data_path("templates", "transitions_example.csv")


def _ages(metiers, ages) -> np.ndarray:
    if ages is not None:
        return np.asarray(ages, dtype=int)
    if isinstance(metiers, (xr.Dataset, xr.DataArray)) and "age" in metiers.coords:
        return np.asarray(metiers["age"].values, dtype=int)
    return np.asarray(AGES, dtype=int)


def _age_bounds(df: pd.DataFrame, ages: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray]:
    lo = np.full(len(df), ages[0], dtype=int)
    hi = np.full(len(df), ages[-1], dtype=int)
    for col, arr in (("age_min", lo), ("age_max", hi)):
        if col not in df.columns:
            continue
        given = df[col].notna() & (df[col].astype(str).str.strip() != "")
        if given.any():
            sub = df.loc[given]
            vals = as_number(sub, col, source, integer=True)
            arr[given.to_numpy()] = vals.to_numpy()
    bad = lo > hi
    if bad.any():
        raise InputError("age_min is above age_max", source=source, column="age_min",
                         rows=df.loc[bad].reset_index(names="row"))
    bad = (hi < ages[0]) | (lo > ages[-1])
    if bad.any():
        raise InputError(f"age band outside the ages of the projection ({ages[0]}–{ages[-1]})",
                         source=source, column="age_min, age_max",
                         rows=df.loc[bad].reset_index(names="row"))
    return lo, hi


def _ranges(ages: np.ndarray) -> str:
    """« 15–29, 40 » from a sorted array of ages."""
    parts, start = [], None
    for i, a in enumerate(ages):
        if start is None:
            start = a
        if i == len(ages) - 1 or ages[i + 1] != a + 1:
            parts.append(f"{start}" if start == a else f"{start}–{a}")
            start = None
    return ", ".join(parts)


def read_transitions(data, metiers=None, *, ages=None) -> xr.DataArray:
    """Read and check a table of annual transition rates between métiers.

    Parameters
    ----------
    data : path or DataFrame
        Long table with columns ``origin``, ``destination``, ``rate`` and optional
        ``age_min``, ``age_max`` (inclusive; a blank bound is open), ``note``,
        ``origin_label``, ``destination_label`` (ignored).  ``origin`` is a métier code
        (or label); ``destination`` a métier code or ``"exit"``.
    metiers : optional
        The métier nomenclature: ``None`` (the 83 métiers of « Les métiers en 2030 »), a
        DataFrame with a ``code`` column, a list of codes, or a baseline / accounts
        Dataset (its ``metier`` coordinate, and its ``age`` coordinate for ``ages``).
    ages : array, optional
        Age axis of the result (default: the Dataset's ages, else pmq's 15–74).

    Returns
    -------
    DataArray ``rate`` (origin, destination, age)
        ``destination`` holds every métier plus ``"exit"``; ages outside every band of a
        pair have rate 0.

    Raises
    ------
    InputError
        Unknown codes (with the closest matches), a rate that is NaN or outside [0, 1],
        ``origin == destination``, duplicated (origin, destination, band) rows,
        overlapping age bands of a pair, or out-rates of an origin summing above 1 at
        some age.  The message names the file, the column and the offending rows.
    """
    df, source = read_rate_table(data, "transitions")
    df = check_columns(df, ("origin", "destination", "rate"), _ALLOWED, source, "transitions")
    codes, table = metier_codes(metiers)
    axis = _ages(metiers, ages)
    df["origin"] = match_codes(df, "origin", table, "métier", source)
    df["destination"] = match_codes(df, "destination", table, "métier", source,
                                     special={a: EXIT for a in _EXIT_ALIASES})
    df["rate"] = rate_column(df, source)
    same = df["origin"] == df["destination"]
    if same.any():
        raise InputError("origin and destination are the same métier (staying is not a transition)",
                         source=source, column="destination", rows=df.loc[same].reset_index(names="row"))
    lo, hi = _age_bounds(df, axis, source)
    df["_lo"], df["_hi"] = lo, hi
    dup = df.duplicated(["origin", "destination", "_lo", "_hi"], keep=False)
    if dup.any():
        raise InputError("duplicated (origin, destination, age band) rows", source=source,
                         column="origin, destination, age_min, age_max",
                         rows=df.loc[dup].drop(columns=["_lo", "_hi"]).reset_index(names="row"))
    s = df.reset_index(names="row").sort_values(["origin", "destination", "_lo"])
    prev_hi = s.groupby(["origin", "destination"])["_hi"].shift()
    clash = s["_lo"] <= prev_hi
    if clash.any():
        prev_row = s.groupby(["origin", "destination"])["row"].shift()
        rows = s.loc[clash | clash.shift(-1, fill_value=False)].drop(columns=["_lo", "_hi"])
        raise InputError(f"overlapping age bands for the same origin and destination (rows "
                         f"{', '.join(str(int(r)) for r in prev_row[clash])} and "
                         f"{', '.join(str(int(r)) for r in s.loc[clash, 'row'])})", source=source,
                         column="age_min, age_max", rows=rows)

    dests = codes + [EXIT]
    oi = pd.Index(codes).get_indexer(df["origin"])
    di = pd.Index(dests).get_indexer(df["destination"])
    arr = np.zeros((len(codes), len(dests), len(axis)))
    band = (axis[None, :] >= lo[:, None]) & (axis[None, :] <= hi[:, None])
    np.add.at(arr, (oi, di), df["rate"].to_numpy()[:, None] * band)
    total = arr.sum(1)
    bad_o, bad_a = np.nonzero(total > 1.0 + 1e-12)
    if len(bad_o):
        rows = pd.DataFrame([{"origin": codes[o], "ages": _ranges(axis[bad_a[bad_o == o]]),
                              "max_out_rate_sum": float(total[o, bad_a[bad_o == o]].max())}
                             for o in np.unique(bad_o)])
        raise InputError("the out-rates of an origin sum above 1 at some ages (at most every worker "
                         "can leave in a year)", source=source, column="rate", rows=rows)
    da = xr.DataArray(arr, dims=("origin", "destination", "age"),
                      coords={"origin": codes, "destination": dests, "age": axis}, name="rate")
    da.attrs.update(long_name="Annual transition rate between métiers", units="1/year", source=source,
                    description="probability that a worker of `origin` (age at the start of the year) "
                                "works in `destination` one year later; 'exit' = other exits from "
                                "employment (end-of-career departures excluded)")
    return da


# ----------------------------------------------------------------------------- flows
def _check_rate_array(rates: xr.DataArray, source: str = "transition rates") -> None:
    missing = [d for d in ("origin", "destination") if d not in rates.dims]
    if missing:
        raise InputError(f"the rate array needs dims 'origin' and 'destination' (and usually 'age'); "
                         f"missing {missing}; got {rates.dims}", source=source)
    v = rates.values
    if not np.isfinite(v).all():
        raise InputError("NaN or infinite rates", source=source, column="rate",
                         rows=rates.where(~np.isfinite(rates), drop=True).to_series().head(10)
                         .reset_index())
    if (v < 0).any() or (v > 1).any():
        bad = rates.where((rates < 0) | (rates > 1), drop=True).to_series().dropna()
        raise InputError("rate outside [0, 1]", source=source, column="rate", rows=bad.reset_index())
    common = sorted(set(map(str, rates.origin.values)) & set(map(str, rates.destination.values)))
    if common:
        diag = xr.concat([rates.sel(origin=c, destination=c, drop=True) for c in common], "origin")
        diag = diag.assign_coords(origin=common)
        if float(abs(diag).max()) > 0:
            raise InputError("origin == destination with a non-zero rate (staying is not a transition)",
                             source=source, column="destination",
                             rows=diag.where(diag > 0, drop=True).to_series().dropna().reset_index())
    tot = rates.sum("destination")
    if float(tot.max()) > 1.0 + 1e-12:
        raise InputError("the out-rates of an origin sum above 1", source=source, column="rate",
                         rows=tot.where(tot > 1.0 + 1e-12, drop=True).to_series().dropna()
                         .rename("out_rate_sum").reset_index())


def _align(rates: xr.DataArray, acc: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Rates on the accounts' métiers and ages: (to métiers, to exit, total out-rate)."""
    _check_rate_array(rates)
    rates = rates.reset_coords(drop=True)
    mets = [str(m) for m in acc.metier.values]
    rates = rates.assign_coords(origin=[str(o) for o in rates.origin.values],
                                destination=[str(d) for d in rates.destination.values])
    r = rates.reindex(origin=mets, fill_value=0.0)
    if "age" in r.dims:
        r = r.reindex(age=acc.age.values, fill_value=0.0)
    unknown = [d for d in r.destination.values if d not in mets and d != EXIT]
    if unknown:
        lost = r.sel(destination=unknown)
        if float(lost.max()) > 0:
            lost = lost.sum([d for d in lost.dims if d not in ("origin", "destination")])
            raise InputError("rates towards métiers absent from the accounts (these workers would "
                             "vanish); add the métiers to the projection or drop the rows",
                             source="transition rates", column="destination",
                             rows=lost.where(lost > 0, drop=True).to_series().dropna()
                             .rename("rate").reset_index())
    to_exit = (r.sel(destination=EXIT, drop=True) if EXIT in r.destination.values
               else xr.zeros_like(r.isel(destination=0, drop=True)))
    move = r.reindex(destination=mets, fill_value=0.0)
    out = move.sum("destination") + to_exit
    return move, to_exit, out


def occupational_mobility(accounts, rates: xr.DataArray, *, stock: str = "start") -> xr.Dataset:
    """Flows of workers between métiers implied by a transition matrix (a diagnostic).

    Parameters
    ----------
    accounts : Dataset or Projection
        The accounts of :func:`pmq.project` (a leading ``scenario`` dim is fine).
    rates : DataArray (origin, destination[, age])
        From :func:`read_transitions` (or built by hand with the same dims; extra dims
        shared with the accounts, e.g. ``territory``, broadcast).  Origins absent from
        the accounts have no stock, hence no flow; rates *towards* métiers absent from
        the accounts are an error (workers would vanish).
    stock : {"start", "survivors"}
        The stock the rates apply to: ``"start"`` (default) employment at the start of
        each year by age; ``"survivors"`` the same minus the year's end-of-career
        departures (so nobody both retires and changes métier).

    Returns
    -------
    Dataset with dims (``scenario``,) ``year``, ``territory``, ``metier`` (age-summed):
    ``occ_outflow``, ``occ_inflow``, ``occ_exit``, ``net_occupational_mobility``
    (inflow − outflow), ``other_recruits_residual`` (other_recruits − net) and
    ``gap_after_mobility`` (imbalance − net); persons per year, NaN at the final year.
    The accounts are not modified: the employment path and the DARES imbalance stay
    as projected.
    """
    acc = getattr(accounts, "accounts", accounts)
    if stock not in ("start", "survivors"):
        raise ArgumentError("stock must be 'start' or 'survivors'", name="stock", value=stock)
    move, to_exit, out_rate = _align(rates, acc)
    E = acc["employment"].reset_coords(drop=True)
    if stock == "survivors":
        E = E - acc["departures"].reset_coords(drop=True)
    opt = {"optimize": True}
    out = xr.dot(E, out_rate.rename(origin="metier"), dim="age", **opt)
    ext = xr.dot(E, to_exit.rename(origin="metier"), dim="age", **opt)
    inn = xr.dot(E.rename(metier="origin"), move, dim=["origin", "age"], **opt).rename(destination="metier")
    flow_year = acc.year < acc.year[-1]  # flows labelled t move the stock from t to t+1
    order = [d for d in acc["imbalance"].dims]
    res = xr.Dataset()
    res["occ_outflow"] = out.where(flow_year)
    res["occ_inflow"] = inn.where(flow_year)
    res["occ_exit"] = ext.where(flow_year)
    res["net_occupational_mobility"] = res["occ_inflow"] - res["occ_outflow"]
    other = acc["other_recruits"].reset_coords(drop=True).sum("age", skipna=False)
    res["other_recruits_residual"] = other - res["net_occupational_mobility"]
    res["gap_after_mobility"] = acc["imbalance"].reset_coords(drop=True) - res["net_occupational_mobility"]
    res = res.transpose(*order)
    keep = {c: acc.coords[c] for c in acc.coords
            if c not in acc.indexes and set(acc.coords[c].dims) <= set(order)}
    res = res.assign_coords(keep)
    for k, (fr, en) in MOBILITY_FLOWS.items():
        res[k].attrs.update(long_name=fr, long_name_en=en, units="persons")
    res["occ_outflow"].attrs["description"] = f"Σ_a employment[{stock}] × Σ_d rate (incl. 'exit')"
    res["occ_inflow"].attrs["description"] = f"Σ_origin Σ_a employment[{stock}] × rate"
    res["net_occupational_mobility"].attrs["description"] = "occ_inflow − occ_outflow"
    res["other_recruits_residual"].attrs["description"] = "other_recruits − net_occupational_mobility"
    res["gap_after_mobility"].attrs["description"] = "imbalance − net_occupational_mobility"
    res.attrs.update({
        "title": "pmq mobility between métiers (diagnostic; the accounts are unchanged)",
        "conventions": ("flows labelled t apply the annual rates to the stock at the start of t "
                        f"({'minus departures' if stock == 'survivors' else 'by age'}); NaN at the final "
                        "year; inflow positive; Σ_metier net_occupational_mobility = −Σ_metier occ_exit"),
        "stock": stock,
        "rates_source": str(rates.attrs.get("source", "")),
        "units": "persons",
    })
    for k in ("scenario", "base_year", "horizon_years", "period_end"):
        if k in acc.attrs:
            res.attrs[k] = acc.attrs[k]
    return res


def mobility_horizons(accounts, rates, end_years=None, *, stock: str = "start") -> xr.Dataset:
    """Period totals of the accounts' flows with mobility between métiers beside them.

    :func:`pmq.projection.indicators.horizon_sums` (``employment_start``, ``openings``, ``imbalance``
    …) plus the period sums of every variable of :func:`occupational_mobility` — so the
    DARES ``imbalance`` and ``gap_after_mobility`` sit side by side.

    Parameters
    ----------
    accounts : Dataset or Projection
    rates : DataArray or Dataset
        Rates (see :func:`occupational_mobility`) or its result, to avoid recomputing.
    end_years : list of int, optional
        Default: a Projection's own horizons, else :func:`pmq.projection.indicators.default_end_years`.
    """
    acc = getattr(accounts, "accounts", accounts)
    flows = rates if isinstance(rates, xr.Dataset) else occupational_mobility(acc, rates, stock=stock)
    if end_years is None:
        h = accounts.horizons() if hasattr(accounts, "horizons") else horizon_sums(acc, default_end_years(acc))
    else:
        h = horizon_sums(acc, end_years)
    base = int(acc.year.values[0])
    for k in MOBILITY_FLOWS:
        parts = [flows[k].sel(year=slice(base, int(e) - 1)).sum("year") for e in h.end_year.values]
        h[k] = xr.concat(parts, dim="period").assign_coords(period=h.period.values)
        h[k].attrs.update(flows[k].attrs)
    return h
