"""Net mobility between territories from a matrix of inter-territorial rates (instead of the
published balance).

:func:`read_interregional` reads a long table ``origin``, ``destination`` (territory codes),
``rate`` (annual) [, ``metier``]; :func:`net_inflow_from_matrix` turns it into net inflows,
zero-sum over territories by construction; :func:`period_net_mobility` gives period totals that
replace ``baseline["published_net_mobility"]``, so the engine uses them unchanged (see
``docs/mobility.md``).  The yearly path rule is :mod:`pmq.model.mobility`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from pmq.errors import ArgumentError, InputError
from pmq.inputs.rates import check_columns, match_codes, metier_codes, rate_column, read_rate_table
from pmq import data as _data
from pmq.names import normalise
from pmq.model import demand
from pmq.inputs.tables import offending
from pmq.options import tr

__all__ = ["read_interregional", "net_inflow_from_matrix", "period_net_mobility"]


# ------------------------------------------------------------ from a matrix of inter-territorial rates
_ALL_METIERS = {"", "*", "all", "tous", "nan"}


def _territory_table(territories) -> tuple[list[str], dict[str, str]]:
    """Codes and {normalised alias: code}: codes, the Dataset's names, built-in region names."""
    names: dict[str, list[str]] = {}
    if isinstance(territories, (xr.Dataset, xr.DataArray)):
        codes = [str(t) for t in territories["territory"].values]
        if "territory_name" in territories.coords:
            for c, n in zip(codes, territories["territory_name"].values):
                names.setdefault(c, []).append(str(n))
    else:
        codes = [str(t) for t in territories]
    builtin = _data.territory_choices()
    for c in codes:
        # A built-in region's aliases apply only if the Dataset names it the same way.
        if c in builtin and (not names.get(c) or names[c][0] == builtin[c][0]):
            names.setdefault(c, []).extend(builtin[c])
    table = {normalise(a): c for c, al in names.items() for a in al}
    table.update({normalise(c): c for c in codes})
    return codes, table


def read_interregional(data, territories, metiers=None) -> xr.DataArray:
    """Read and check annual inter-territorial mobility rates of employed workers.

    Parameters
    ----------
    data : path or DataFrame
        Long table with columns ``origin``, ``destination`` (territory codes or names),
        ``rate`` (annual probability in [0, 1] that a worker of ``origin`` works in
        ``destination`` one year later, same métier) and optional ``metier`` (a blank,
        ``*`` or ``all`` applies the row to every métier; a row for one métier overrides
        the all-métier row of the same pair) and ``note`` (ignored).
    territories : list of codes or Dataset
        The territories of the projection (a baseline gives its codes and names).
    metiers : optional
        As in :func:`pmq.analysis.occupational.read_transitions`; default: the Dataset's métiers
        when ``territories`` is a Dataset, else the 83 métiers of « Les métiers en 2030 ».

    Returns
    -------
    DataArray ``rate`` (origin, destination, metier); 0 on the diagonal and for
    pairs not given.

    Raises
    ------
    InputError
        Unknown territory or métier codes (with the closest matches), a rate that is NaN
        or outside [0, 1], ``origin == destination``, duplicated rows, out-rates of an
        origin summing above 1 for some métier; names the file, column and rows.
    """

    df, source = read_rate_table(data, "interregional")
    df = check_columns(df, ("origin", "destination", "rate"),
                  {"origin", "destination", "rate", "metier", "note"}, source, "interregional")
    codes, table = _territory_table(territories)
    if metiers is None and isinstance(territories, (xr.Dataset, xr.DataArray)) \
            and "metier" in territories.coords:
        metiers = territories
    mcodes, mtable = metier_codes(metiers)
    df["origin"] = match_codes(df, "origin", table, "territory", source)
    df["destination"] = match_codes(df, "destination", table, "territory", source)
    df["rate"] = rate_column(df, source)
    same = df["origin"] == df["destination"]
    if same.any():
        raise InputError(tr("origin and destination are the same territory",
                            "origin et destination sont le même territoire"), source=source,
                         column="destination", rows=offending(df, same))
    if "metier" in df.columns:
        raw = df["metier"].astype(object).where(df["metier"].notna(), "")
        every = raw.astype(str).str.strip().str.lower().isin(_ALL_METIERS)
        met = pd.Series("*", index=df.index, dtype=object)
        if (~every).any():
            met[~every] = match_codes(df.loc[~every], "metier", mtable, "métier", source)
        df["metier"] = met
    else:
        df["metier"] = "*"
    dup = df.duplicated(["origin", "destination", "metier"], keep=False)
    if dup.any():
        raise InputError(tr("duplicated (origin, destination, metier) rows",
                            "lignes (origin, destination, metier) en double"), source=source,
                         column="origin, destination, metier", rows=offending(df, dup))

    arr = np.zeros((len(codes), len(codes), len(mcodes)))
    idx = pd.Index(codes)
    every = df[df["metier"] == "*"]
    arr[idx.get_indexer(every["origin"]), idx.get_indexer(every["destination"]), :] = \
        every["rate"].to_numpy()[:, None]
    one = df[df["metier"] != "*"]  # a row for one métier overrides the all-métier row
    arr[idx.get_indexer(one["origin"]), idx.get_indexer(one["destination"]),
        pd.Index(mcodes).get_indexer(one["metier"])] = one["rate"].to_numpy()
    total = arr.sum(1)
    bad_o, bad_m = np.nonzero(total > 1.0 + 1e-12)
    if len(bad_o):
        rows = pd.DataFrame({"origin": np.asarray(codes)[bad_o], "metier": np.asarray(mcodes)[bad_m],
                             "out_rate_sum": total[bad_o, bad_m]})
        raise InputError(tr("the out-rates of an origin sum above 1 (at most every worker can leave in "
                            "a year)",
                            "les taux de départ d'une origine ont une somme supérieure à 1 (au plus, chaque "
                            "actif en emploi peut partir en un an)"), source=source, column="rate", rows=rows)
    da = xr.DataArray(arr, dims=("origin", "destination", "metier"),
                      coords={"origin": codes, "destination": codes, "metier": mcodes}, name="rate")
    da.attrs.update(long_name="Annual inter-territorial mobility rate", units="1/year", source=source,
                    description="probability that a worker of `origin` works in `destination` one "
                                "year later, same métier")
    return da


def _check_interregional(rates: xr.DataArray, employment: xr.DataArray) -> xr.DataArray:
    """Rates on the employment's territories (and métiers), checked."""
    src = tr("inter-territorial rates", "taux entre territoires")
    if not {"origin", "destination"} <= set(rates.dims):
        raise InputError(tr(f"the rate array needs dims 'origin' and 'destination'; got {rates.dims}",
                            f"le tableau des taux demande les dimensions 'origin' et 'destination' ; "
                            f"dimensions reçues : {rates.dims}"), source=src)
    if "territory" not in employment.dims:
        raise InputError(tr(f"employment needs a 'territory' dim; got {employment.dims}",
                            f"l'emploi demande une dimension 'territory' ; dimensions reçues : {employment.dims}"),
                         source="employment")
    v = rates.values
    if not np.isfinite(v).all() or (v < 0).any() or (v > 1).any():
        bad = rates.where(~np.isfinite(rates) | (rates < 0) | (rates > 1), drop=True)
        raise InputError(tr("rate NaN or outside [0, 1]", "taux NaN ou hors de [0, 1]"), source=src, column="rate",
                         rows=bad.to_series().dropna().reset_index() if bad.size else None)
    rates = rates.reset_coords(drop=True)
    rates = rates.assign_coords(origin=[str(o) for o in rates.origin.values],
                                destination=[str(d) for d in rates.destination.values])
    terr = [str(t) for t in employment.territory.values]
    for dim in ("origin", "destination"):
        outside = [t for t in rates[dim].values if t not in terr]
        if outside and float(rates.sel({dim: outside}).max()) > 0:
            raise InputError(tr(f"rates involve territories absent from the employment: {outside} "
                                "(the zero sum would break)",
                                f"les taux concernent des territoires absents de l'emploi : {outside} "
                                "(la somme nulle ne tiendrait plus)"), source=src, column=dim, rows=outside)
    r = rates.reindex(origin=terr, destination=terr, fill_value=0.0)
    diag = np.einsum("ii...->i...", r.transpose("origin", "destination", ...).values)
    if np.abs(diag).max(initial=0) > 0:
        raise InputError(tr("origin == destination with a non-zero rate", "origin == destination avec un taux non nul"),
                         source=src, column="destination",
                         rows=[t for t, d in zip(terr, diag.reshape(len(terr), -1)) if np.abs(d).max() > 0])
    tot = r.sum("destination")
    if float(tot.max()) > 1.0 + 1e-12:
        raise InputError(tr("the out-rates of an origin sum above 1",
                            "les taux de départ d'une origine ont une somme supérieure à 1"), source=src, column="rate",
                         rows=tot.where(tot > 1.0 + 1e-12, drop=True).to_series().dropna()
                         .rename("out_rate_sum").reset_index())
    if "metier" in r.dims:
        if "metier" in employment.dims:
            r = r.reindex(metier=employment.metier.values, fill_value=0.0)
        elif float(abs(r - r.isel(metier=0)).max()) == 0:
            r = r.isel(metier=0, drop=True)
        else:
            raise InputError(tr("rates differ by métier but the employment has no 'metier' dim",
                                "les taux diffèrent selon le métier mais l'emploi n'a pas de dimension 'metier'"),
                             source=src, column="metier")
    return r


def net_inflow_from_matrix(rates: xr.DataArray, employment: xr.DataArray) -> xr.DataArray:
    """Net inflow of each territory from annual inter-territorial rates (vectorised).

    ``net[d] = Σ_o employment[o] · rate[o, d] − employment[d] · Σ_o' rate[d, o']``, for every
    other dim of ``employment`` (métier, year, age, scenario…) at once.  The inflows are
    the outflows of the other territories, so the result sums to zero over territories
    by construction.

    Parameters
    ----------
    rates : DataArray (origin, destination[, metier])
        From :func:`read_interregional`.
    employment : DataArray with a ``territory`` dim
        The stock the rates apply to (e.g. employment at the start of a year).

    Returns
    -------
    DataArray with the dims of ``employment`` (persons; inflow positive).
    """
    r = _check_interregional(rates, employment)
    E = employment.reset_coords(drop=True)
    out = E * r.sum("destination").rename(origin="territory")
    inn = xr.dot(E.rename(territory="origin"), r, dim="origin").rename(destination="territory")
    net = (inn - out).transpose(*employment.dims)
    keep = {c: employment.coords[c] for c in employment.coords
            if c not in employment.indexes and set(employment.coords[c].dims) <= set(net.dims)}
    net = net.assign_coords(keep).rename("net_mobility")
    net.attrs.update(long_name="Net inflow from other territories (from a rate matrix)", units="persons")
    return net


def period_net_mobility(baseline: xr.Dataset, rates: xr.DataArray, n_years: int | None = None, *,
                        path: str = "linear") -> xr.DataArray:
    """Period total of net inter-territorial inflows implied by a rate matrix.

    Suitable to replace ``baseline["published_net_mobility"]`` (same dims and sign), so
    :func:`pmq.project` spreads and continues it with the scenario's ``[net_mobility]``
    rules unchanged::

        b2 = baseline.copy()
        b2["published_net_mobility"] = period_net_mobility(baseline, rates)

    The rates apply to the *trend* employment (territory × métier, age-summed) at the
    start of each year ``t = 0 … n_years − 1``:

    * ``path="linear"`` (default): ``E0 + published_net_creation · t / n_period`` —
      base employment grown linearly towards the end-of-period level (the published
      change is reached at ``t = n_period``);
    * ``path="constant"``: base employment held constant;
    * ``path="trend"``: the default demand path of the engine (constant growth to the
      published level, :func:`pmq.model.demand.employment_path`).

    The net inflow is linear in employment, so the period total is the net inflow of the
    summed path; it sums to zero over territories.

    Parameters
    ----------
    n_years : int, optional
        Default: the baseline's published period (``n_period``, 11 for 2019–2030) — use
        that when replacing ``published_net_mobility``, which the engine reads as a total
        over ``n_period`` years.
    """
    n_period = int(baseline.attrs["n_period"])
    try:
        n = n_period if n_years is None else int(n_years)
    except (TypeError, ValueError):
        raise ArgumentError(tr("n_years must be a whole number of years", "n_years doit être un nombre entier d'années"),
                            name="n_years", value=n_years) from None
    if n < 1:
        raise ArgumentError(tr("n_years must be at least 1", "n_years doit valoir au moins 1"), name="n_years",
                            value=n_years)
    e0 = baseline["employment"].sum("age").transpose("territory", "metier").reset_coords(drop=True)
    nc = baseline["published_net_creation"].transpose("territory", "metier").reset_coords(drop=True)
    if path == "constant":
        total = n * e0
    elif path == "linear":
        total = n * e0 + nc * (n * (n - 1) / (2.0 * n_period))
    elif path == "trend":
        emp = demand.employment_path(e0.values, (e0 + nc).values, n_period, n)
        total = e0.copy(data=emp[:n].sum(0))
    else:
        raise ArgumentError(tr("path must be 'linear', 'constant' or 'trend'",
                               "path doit valoir 'linear', 'constant' ou 'trend'"), name="path", value=path)
    net = net_inflow_from_matrix(rates, total).transpose("territory", "metier")
    net.attrs.update(baseline["published_net_mobility"].attrs)
    net.attrs.update(description=f"period net inflow from an inter-territorial rate matrix over {n} years "
                                 f"on the {path} employment path (pmq.inputs.interregional.period_net_mobility)",
                     units="persons")
    return net.rename("published_net_mobility")
