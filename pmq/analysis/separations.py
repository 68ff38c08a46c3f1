"""Replacement demand by the separation-rate method of the US BLS Employment Projections.

The BLS projects, for each occupation, annual *labour-force exits* and *occupational
transfers* as rates (percent per year) applied to employment; their sum is
*occupational separations*, and *occupational openings* are separations plus the
employment change.  This module reproduces that arithmetic exactly and offers it as an
alternative replacement-demand method for pmq's own employment paths (« besoins de
remplacement » from exit and transfer rates rather than from age pyramids and hazards).

Conventions, measured against every one of the 832 line items of BLS Table 1.10
(2024–34, see ``docs/separations.md``):

* rates apply to the **average of base-year and projected-year employment**
  (``rate_base="average"``), i.e. the mean of a linear path over the decade;
* figures are **annual averages**; the employment change enters as ``(E_proj - E_base) / years``;
* openings = separations + annual change **for growing and declining occupations alike**
  (``decline="net"``: a decline reduces openings by the jobs it removes);
* separations = exits + transfers; the BLS computes them from unrounded rates, so with the
  published rates rounded to 0.1 point the total separations rate (published separately) gives
  separations more precisely than the sum of the rounded component rates.

Public functions
----------------
:func:`separation_openings`
    Two-point (base, projected) computation, BLS style, on array-likes or Series.
:func:`separation_openings_path`
    The same conventions applied year by year to an xarray employment path (pmq accounts).
:func:`load_bls_table`, :func:`reproduce_bls`, :func:`summarise_reproduction`,
:func:`convention_fit`
    The packaged BLS table, its line-by-line reproduction and the test of candidate conventions.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from pmq.errors import InputError
from pmq.options import tr
from pmq.data import data_path

__all__ = [
    "RATE_BASES",
    "DECLINE_RULES",
    "SeparationConventions",
    "BLS_2024_34",
    "separation_openings",
    "separation_openings_path",
    "load_bls_table",
    "reproduce_bls",
    "summarise_reproduction",
    "convention_fit",
]

#: Which employment a rate applies to.  Two-point form: ``start`` = base year, ``end`` =
#: projected year, ``average`` = their mean.  Path form: the same, for each annual step.
RATE_BASES = ("average", "start", "end")

#: How a decline enters openings.  ``net``: openings = separations + change (BLS);
#: ``floor``: the same, floored at 0; ``growth_only``: openings = separations + max(change, 0).
DECLINE_RULES = ("net", "floor", "growth_only")

BLS_TABLE_FILE = "bls_separations_2024_34.csv"
FLOW_COLUMNS = ("exits", "transfers", "separations", "openings")
_BLS_COLUMNS = ("soc", "title", "emp_base", "emp_proj", "exit_rate_pct", "transfer_rate_pct",
                "sep_rate_pct", "exits", "transfers", "separations", "openings", "base_year",
                "proj_year")


@dataclass(frozen=True)
class SeparationConventions:
    """A named set of conventions of the separation-rate method.

    Attributes
    ----------
    name : str
        Label of the preset.
    base_year, proj_year : int
        Ends of the projection period; ``years = proj_year - base_year`` annual steps.
    rate_base : str
        Employment the annual rates apply to, one of :data:`RATE_BASES`.
    decline : str
        Treatment of declining occupations, one of :data:`DECLINE_RULES`.
    use_total_rate : bool
        When the published total separations rate is available, compute separations from it
        (``True``) rather than as exits + transfers from the rounded component rates.
    rounding : float
        Rounding step of the published figures (thousands, percent points).
    """

    name: str
    base_year: int
    proj_year: int
    rate_base: str = "average"
    decline: str = "net"
    use_total_rate: bool = True
    rounding: float = 0.1

    @property
    def years(self) -> int:
        return int(self.proj_year - self.base_year)

    def kwargs(self) -> dict:
        """Keyword arguments of :func:`separation_openings` for this preset."""
        return {"years": self.years, "rate_base": self.rate_base, "decline": self.decline}

    def to_dict(self) -> dict:
        return {**asdict(self), "years": self.years}


#: BLS Employment Projections 2024–34, Table 1.10 (the conventions that reproduce it).
BLS_2024_34 = SeparationConventions(name="BLS Employment Projections 2024–34 (Table 1.10)",
                                    base_year=2024, proj_year=2034, rate_base="average",
                                    decline="net", use_total_rate=True, rounding=0.1)


# --------------------------------------------------------------------------------------------
# validation helpers

def _check_choice(name: str, value: str, choices: tuple) -> None:
    if value not in choices:
        raise InputError(tr(f"unknown {name} {value!r}; expected one of {', '.join(choices)}",
                            f"{name} inconnu {value!r} ; valeurs possibles : {', '.join(choices)}"),
                         column=name)


def _labels(index: pd.Index, mask: np.ndarray) -> pd.DataFrame:
    name = index.name or "row"
    return pd.DataFrame({name: np.asarray(index)[mask]})


def _nonnegative_employment() -> str:
    return tr("[0, +inf) (employment cannot be negative)", "[0, +inf) (l'emploi ne peut pas être négatif)")


def _check_values(values: np.ndarray, index: pd.Index, column: str, source: str | None, *,
                  lo: float | None = None, hi: float | None = None, what: str = "") -> None:
    """Raise InputError naming ``column`` and the offending rows for NaN or out-of-range values."""
    bad_nan = np.isnan(values)
    if bad_nan.any():
        rows = _labels(index, bad_nan).assign(**{column: values[bad_nan]})
        raise InputError(_missing_values(int(bad_nan.sum())), source=source, column=column, rows=rows)
    bad = np.zeros(values.shape, dtype=bool)
    if lo is not None:
        bad |= values < lo
    if hi is not None:
        bad |= values > hi
    if bad.any():
        rows = _labels(index, bad).assign(**{column: values[bad]})
        raise InputError(_values_outside(int(bad.sum()), what), source=source, column=column, rows=rows)


def _missing_values(n: int) -> str:
    """« 2 valeurs manquantes (NaN) » / "2 missing (NaN) value(s)"."""
    s = "s" if n > 1 else ""
    return tr(f"{n} missing (NaN) value(s)", f"{n} valeur{s} manquante{s} (NaN)")


def _values_outside(n: int, what: str) -> str:
    """« 2 valeurs hors de [0, 1] » / "2 value(s) outside [0, 1]"."""
    return tr(f"{n} value(s) outside {what}", f"{n} valeur{'s' if n > 1 else ''} hors de {what}")


def _as_columns(**arrays) -> tuple[dict[str, np.ndarray], pd.Index]:
    """Broadcast array-likes to one 1-d length; the index is that of the first Series given."""
    index = next((a.index for a in arrays.values() if isinstance(a, pd.Series)), None)
    vals = {}
    for k, a in arrays.items():
        if isinstance(a, pd.Series) and index is not None and not a.index.equals(index):
            a = a.reindex(index)  # unmatched labels become NaN and are reported
        vals[k] = np.asarray(a, dtype=float)
    shape = np.broadcast_shapes(*(v.shape for v in vals.values()))
    if len(shape) > 1:
        raise InputError(tr(f"inputs must be one-dimensional (got shape {shape}); use "
                            "separation_openings_path for labelled multi-dimensional data",
                            f"les entrées doivent être à une dimension (forme reçue : {shape}) ; utilisez "
                            "separation_openings_path pour des données étiquetées à plusieurs dimensions"))
    n = shape[0] if shape else 1
    vals = {k: np.broadcast_to(v, (n,)).astype(float) for k, v in vals.items()}
    if index is None or len(index) != n:
        index = pd.RangeIndex(n)
    return vals, index


def _openings(separations, change, decline):
    if decline == "net":
        return separations + change
    if decline == "floor":
        return np.maximum(separations + change, 0.0)
    return separations + np.maximum(change, 0.0)  # growth_only


# --------------------------------------------------------------------------------------------
# two-point form (BLS tables)

def _flows(b, p, E, exit_rate, transfer_rate, separation_rate, years, decline) -> dict:
    """The arithmetic of the method (rates as fractions, ``E`` the rate employment)."""
    change = (p - b) / years
    exits = exit_rate * E
    transfers = transfer_rate * E
    separations = exits + transfers if separation_rate is None else separation_rate * E
    return {"employment_change": change, "rate_employment": E, "exits": exits,
            "transfers": transfers, "separations": separations,
            "openings": _openings(separations, change, decline)}


def separation_openings(emp_base, emp_proj, exit_rate, transfer_rate, years: float = 10, *,
                        separation_rate=None, rate_base: str = "average", decline: str = "net",
                        percent: bool = True, totals: bool = False,
                        source: str | None = None) -> pd.DataFrame:
    """Annual exits, transfers, separations and openings from base and projected employment.

    With ``E`` the employment the rates apply to (``rate_base``) and ``Δ = (emp_proj -
    emp_base) / years`` the annual employment change::

        exits       = exit_rate     * E
        transfers   = transfer_rate * E
        separations = exits + transfers          (or separation_rate * E when given)
        openings    = separations + Δ            (decline="net", the BLS convention)

    Parameters
    ----------
    emp_base, emp_proj : array-like or Series
        Employment at the base and projected years (any unit; the outputs have the same unit
        per year).  Must be ≥ 0.
    exit_rate, transfer_rate : array-like, Series or scalar
        Annual labour-force exit and occupational transfer rates, in percent (``percent=True``,
        BLS style) or as fractions (``percent=False``).
    years : float
        Number of annual steps between the base and projected years (10 for 2024–34).
    separation_rate : array-like, optional
        Published total separations rate (same unit as the other rates).  When given,
        separations = separation_rate × E instead of exits + transfers: the BLS rounds every
        rate separately, so the total rate is the more precise of the two (the identity
        separations = exits + transfers then holds only to that rounding).
    rate_base : {"average", "start", "end"}
        ``average`` (BLS): ``E = (emp_base + emp_proj) / 2``; ``start``: base-year employment;
        ``end``: projected-year employment.
    decline : {"net", "floor", "growth_only"}
        ``net`` (BLS): openings = separations + Δ for every occupation, growing or declining;
        ``floor``: the same floored at zero; ``growth_only``: a decline does not reduce openings.
    percent : bool
        Rates are in percent (valid range [0, 100]) rather than fractions ([0, 1]).
    totals : bool
        Also return ``<flow>_total`` columns: the annual averages times ``years``.
    source : str, optional
        Name of the table the inputs come from, used in error messages.

    Returns
    -------
    DataFrame
        Indexed like the first Series input (else 0 … n-1), with columns ``employment_change``
        (annual, Δ), ``rate_employment`` (E), ``exits``, ``transfers``, ``separations``,
        ``openings`` and, with ``totals=True``, the same flows summed over the period.

    Raises
    ------
    InputError
        For NaN, negative employment or rates outside their range; the message names the
        column and the offending rows.
    """
    _check_choice("rate_base", rate_base, RATE_BASES)
    _check_choice("decline", decline, DECLINE_RULES)
    if not np.isfinite(years) or years <= 0:
        raise InputError(tr(f"years must be a positive number (got {years!r})",
                            f"years doit être un nombre positif (reçu : {years!r})"), source=source,
                         column="years")
    arrays = {"emp_base": emp_base, "emp_proj": emp_proj, "exit_rate": exit_rate,
              "transfer_rate": transfer_rate}
    if separation_rate is not None:
        arrays["separation_rate"] = separation_rate
    v, index = _as_columns(**arrays)
    scale = 100.0 if percent else 1.0
    unit = tr("[0, 100] percent", "[0, 100] (en pourcentage)") if percent else "[0, 1] (fractions)"
    for col in ("emp_base", "emp_proj"):
        _check_values(v[col], index, col, source, lo=0.0, what=_nonnegative_employment())
    for col in ("exit_rate", "transfer_rate", "separation_rate"):
        if col in v:
            _check_values(v[col], index, col, source, lo=0.0, hi=scale, what=unit)

    b, p = v["emp_base"], v["emp_proj"]
    E = {"average": 0.5 * (b + p), "start": b, "end": p}[rate_base]
    out = pd.DataFrame(_flows(b, p, E, v["exit_rate"] / scale, v["transfer_rate"] / scale,
                              v["separation_rate"] / scale if "separation_rate" in v else None,
                              years, decline), index=index)
    if totals:
        for col in ("employment_change",) + FLOW_COLUMNS:
            out[f"{col}_total"] = out[col] * years
    return out


# --------------------------------------------------------------------------------------------
# path form (pmq's xarray employment paths)

def _check_da(da: xr.DataArray, name: str, source, lo: float, hi: float | None, what: str) -> None:
    """Raise InputError naming ``name`` and the offending cells (labels and values)."""
    vals = da.values
    bad_nan = np.isnan(vals)
    bad = (vals < lo) if hi is None else ((vals < lo) | (vals > hi))
    if not (bad_nan.any() or bad.any()):
        return
    flat = da.to_dataframe(name=name) if da.dims else pd.DataFrame({name: [float(vals)]})
    if bad_nan.any():
        rows = flat[flat[name].isna()]
        problem = _missing_values(int(bad_nan.sum()))
    else:
        v = flat[name]
        rows = flat[(v < lo) | (v > hi)] if hi is not None else flat[v < lo]
        problem = _values_outside(int(bad.sum()), what)
    rows = rows[[name]].reset_index() if da.dims else rows
    raise InputError(problem, source=source, column=name, rows=rows)


def _align_rate(rate, flows_like: xr.DataArray, name: str, source) -> xr.DataArray:
    """The rate as a DataArray over (a subset of) the flow dims, reindexed to their labels."""
    if not isinstance(rate, xr.DataArray):
        arr = np.asarray(rate, dtype=float)
        if arr.ndim:
            raise InputError(tr("a rate that is not a scalar must be an xarray DataArray with "
                                "named dimensions (e.g. over 'metier')",
                                "un taux qui n'est pas un nombre seul doit être un DataArray xarray aux "
                                "dimensions nommées (par exemple selon 'metier')"), source=source, column=name)
        rate = xr.DataArray(float(arr))
    extra = [d for d in rate.dims if d not in flows_like.dims]
    if extra:
        raise InputError(tr(f"rate dimension(s) {extra} are not dimensions of the employment path "
                            f"{list(flows_like.dims)}",
                            f"dimension(s) du taux {extra} absente(s) de la trajectoire d'emploi "
                            f"{list(flows_like.dims)}"), source=source, column=name)
    for d in rate.dims:
        if d in flows_like.indexes and d in rate.indexes:
            missing = flows_like.indexes[d].difference(rate.indexes[d])
            if len(missing):
                raise InputError(tr(f"no {name} for {len(missing)} '{d}' label(s) of the employment "
                                    "path",
                                    f"pas de {name} pour {len(missing)} étiquette(s) '{d}' de la trajectoire "
                                    "d'emploi"), source=source, column=name,
                                 rows=pd.DataFrame({d: list(missing)}))
            rate = rate.reindex({d: flows_like.indexes[d]})
        elif rate.sizes[d] != flows_like.sizes[d]:
            raise InputError(tr(f"rate has {rate.sizes[d]} '{d}' values but the flows have "
                                f"{flows_like.sizes[d]}",
                                f"le taux a {rate.sizes[d]} valeurs '{d}' mais les flux en ont "
                                f"{flows_like.sizes[d]}"), source=source, column=name)
    return rate.astype(float)


def separation_openings_path(employment: xr.DataArray, exit_rate, transfer_rate=0.0, *,
                             rate_base: str = "average", decline: str = "net",
                             year_dim: str = "year", source: str | None = None) -> xr.Dataset:
    """Annual separations and openings along an employment path (pmq accounts conventions).

    ``employment`` holds the stock at the start of each year (pmq's ``employment[t]``, e.g.
    ``proj.accounts["employment"].sum("age")`` with dims (year, territory, metier)).  The flow
    labelled ``t`` moves the stock from ``t`` to ``t + 1``, so the result has every year of the
    path but the last.  For each annual step, with ``E_t`` and ``E_{t+1}``::

        rate employment E   = (E_t + E_{t+1}) / 2   (rate_base="average", BLS; "start": E_t;
                                                     "end": E_{t+1})
        exits_t       = exit_rate     * E
        transfers_t   = transfer_rate * E
        separations_t = exits_t + transfers_t
        openings_t    = separations_t + (E_{t+1} - E_t)   (decline="net", BLS)

    On a linear path the mean of these annual flows over the period equals the two-point BLS
    figures of :func:`separation_openings` exactly (the mean of the annual mid-year
    employments is then the average of the two ends).

    Parameters
    ----------
    employment : DataArray
        Employment path with a ``year_dim`` dimension (at least two years), ≥ 0, no NaN.
    exit_rate, transfer_rate : DataArray or float
        Annual rates as **fractions** in [0, 1], e.g. over ``metier``; their dimensions must be
        dimensions of ``employment`` (a ``year`` dimension gives time-varying rates, labelled
        like the flows).  Every label of ``employment`` must have a rate.
    rate_base, decline : str
        As in :func:`separation_openings`.
    year_dim : str
        Name of the year dimension.
    source : str, optional
        Name of the data, used in error messages.

    Returns
    -------
    Dataset
        ``employment_change``, ``rate_employment``, ``exits``, ``transfers``, ``separations``,
        ``openings`` over the flow years (every year of the path but the last) and the other
        dimensions of ``employment``; totals over a horizon are ``.sum(year_dim)``.
    """
    _check_choice("rate_base", rate_base, RATE_BASES)
    _check_choice("decline", decline, DECLINE_RULES)
    if not isinstance(employment, xr.DataArray):
        raise InputError(tr("employment must be an xarray DataArray with a year dimension",
                            "employment doit être un DataArray xarray avec une dimension d'année"),
                         source=source, column="employment")
    if year_dim not in employment.dims or employment.sizes[year_dim] < 2:
        raise InputError(tr(f"employment needs a '{year_dim}' dimension with at least two years "
                            f"(dims: {list(employment.dims)})",
                            f"employment doit avoir une dimension '{year_dim}' d'au moins deux années "
                            f"(dimensions : {list(employment.dims)})"), source=source, column="employment")
    employment = employment.astype(float)
    _check_da(employment, "employment", source, 0.0, None, _nonnegative_employment())
    e0 = employment.isel({year_dim: slice(None, -1)})
    e1 = employment.isel({year_dim: slice(1, None)})
    e1 = e1.assign_coords({year_dim: e0[year_dim].values}) if year_dim in e1.coords else e1
    rates = {}
    for name, r in (("exit_rate", exit_rate), ("transfer_rate", transfer_rate)):
        r = _align_rate(r, e0, name, source)
        _check_da(r, name, source, 0.0, 1.0, tr("[0, 1] (annual rates as fractions)",
                                                "[0, 1] (taux annuels en fractions)"))
        rates[name] = r
    E = {"average": 0.5 * (e0 + e1), "start": e0, "end": e1}[rate_base]
    change = e1 - e0
    exits = (rates["exit_rate"] * E).transpose(*E.dims)
    transfers = (rates["transfer_rate"] * E).transpose(*E.dims)
    separations = exits + transfers
    openings = _openings(separations, change, decline)
    ds = xr.Dataset({"employment_change": change, "rate_employment": E, "exits": exits,
                     "transfers": transfers, "separations": separations, "openings": openings})
    ds.attrs.update(method="separation rates (BLS Employment Projections)", rate_base=rate_base,
                    decline=decline,
                    conventions=(f"flows labelled t move the stock from {year_dim} t to t+1; "
                                 "separations = exits + transfers; openings = separations + "
                                 "employment_change" + {"net": "", "floor": ", floored at 0",
                                                        "growth_only": " (change counted only when "
                                                        "positive)"}[decline]))
    if "units" in employment.attrs:
        for k in ds.data_vars:
            ds[k].attrs["units"] = employment.attrs["units"]
    return ds


# --------------------------------------------------------------------------------------------
# the BLS table

def load_bls_table(path: str | Path | None = None) -> pd.DataFrame:
    """BLS Table 1.10 « Occupational separations and openings, projected 2024–34 ».

    The packaged copy (``pmq/data/raw/bls_separations_2024_34.csv``, 832 detailed
    occupations) unless ``path`` is given.  Employment and flows in thousands, flows annual
    averages over 2024–34, rates annual averages in percent, everything rounded to 0.1.
    """
    if path is None:
        path = data_path("raw", BLS_TABLE_FILE)
    path = Path(path)
    if not path.exists():
        raise InputError(tr(f"file not found: {path}", f"fichier introuvable : {path}"), source=path.name)
    table = pd.read_csv(path, dtype={"soc": str, "title": str})
    missing = [c for c in _BLS_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(tr(f"missing column(s) {missing} in the BLS separations table",
                            f"colonne(s) manquante(s) {missing} dans le tableau des séparations du BLS"),
                         source=path.name, column=missing[0])
    return table


def reproduce_bls(table: pd.DataFrame | None = None,
                  conventions: SeparationConventions = BLS_2024_34) -> pd.DataFrame:
    """Computed vs published exits, transfers, separations and openings, line by line.

    Recomputes every line item of the BLS table from its employment (base, projected) and
    published rates with ``conventions`` (default: :data:`BLS_2024_34`).

    Returns
    -------
    DataFrame indexed by ``soc`` with ``title`` and, for each of exits, transfers,
    separations and openings, the columns ``<flow>_published``, ``<flow>_computed`` and
    ``<flow>_error`` (computed − published, thousands per year).  See
    :func:`summarise_reproduction` for the max and median absolute errors.
    """
    source = BLS_TABLE_FILE
    if table is None:
        table = load_bls_table()
    t = table.set_index("soc") if "soc" in table.columns else table
    comp = separation_openings(
        t["emp_base"], t["emp_proj"], t["exit_rate_pct"], t["transfer_rate_pct"],
        separation_rate=t["sep_rate_pct"] if conventions.use_total_rate else None,
        percent=True, source=source, **conventions.kwargs())
    out = pd.DataFrame({"title": t["title"]} if "title" in t.columns else {}, index=t.index)
    for col in FLOW_COLUMNS:
        out[f"{col}_published"] = t[col]
        out[f"{col}_computed"] = comp[col]
        out[f"{col}_error"] = comp[col] - t[col]
    return out


def summarise_reproduction(reproduction: pd.DataFrame) -> pd.DataFrame:
    """Max, median and mean absolute error (and the worst line) per flow of :func:`reproduce_bls`."""
    rows = []
    for col in FLOW_COLUMNS:
        e = reproduction[f"{col}_error"].abs()
        rows.append({"flow": col, "max_abs_error": e.max(), "median_abs_error": e.median(),
                     "mean_abs_error": e.mean(), "worst_line": e.idxmax(), "n": int(e.size)})
    return pd.DataFrame(rows).set_index("flow")


def _geometric_path_mean(b, p, years=10):
    """Mean of the constant-growth path b·(p/b)^(k/years), k = 0 … years (linear if b = 0)."""
    k = np.arange(years + 1).reshape((-1,) + (1,) * np.ndim(b)) / years
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(b > 0, p / np.where(b > 0, b, 1.0), 1.0)
        geo = (b * ratio ** k).mean(0)
    return np.where(b > 0, geo, 0.5 * (b + p))


#: Candidate conventions tested by :func:`convention_fit`: name → (rate employment, decline,
#: use_total_rate); the rate employment is a :data:`RATE_BASES` name or a function (b, p) → E.
#: (rate employment: a RATE_BASES name or (base, proj) → employment, decline rule, use_total_rate)
Candidate = tuple[str | Callable[[np.ndarray, np.ndarray], np.ndarray], str, bool]

CANDIDATES: dict[str, Candidate] = {
    "average, net, total rate (BLS_2024_34)": ("average", "net", True),
    "average, net, exits + transfers": ("average", "net", False),
    "average, floor at 0, total rate": ("average", "floor", True),
    "average, growth only, total rate": ("average", "growth_only", True),
    "start (base year), net, total rate": ("start", "net", True),
    "end (projected year), net, total rate": ("end", "net", True),
    "linear path 2025–34 (end-of-year stocks), net": (lambda b, p: b + 0.55 * (p - b), "net", True),
    "linear path 2024–33 (start-of-year stocks), net": (lambda b, p: b + 0.45 * (p - b), "net", True),
    "constant-growth path mean 2024–34, net": (_geometric_path_mean, "net", True),
    "geometric mean sqrt(base × proj), net": (lambda b, p: np.sqrt(b * p), "net", True),
}


def convention_fit(table: pd.DataFrame | None = None,
                   candidates: dict[str, Candidate] | None = None) -> pd.DataFrame:
    """How well each candidate convention reproduces the BLS table.

    For every candidate (default :data:`CANDIDATES`) and flow: the max and median absolute
    error, and ``lines_outside_rounding``, the number of lines the candidate **cannot** produce
    with any inputs within their rounding — employment (base, projected) and each published
    rate ± 0.05, the published result ± 0.05.  The range of a computed flow over that box is
    taken at its 2⁵ corners: exact for the multilinear formulas (``average``, ``start``,
    ``end``, the linear paths, with ``net`` or ``floor``), close for the others.  The right
    convention has zero such lines: its errors come from the rounding of the published
    figures only.
    """
    table = load_bls_table() if table is None else table
    candidates = CANDIDATES if candidates is None else candidates
    half = 0.05
    tol = half + 1e-9
    t = table.set_index("soc") if "soc" in table.columns else table
    cols = {c: t[c].to_numpy(dtype=float) for c in ("emp_base", "emp_proj", "exit_rate_pct",
                                                     "transfer_rate_pct", "sep_rate_pct")}
    shifts = [(db, dp, de, dt, ds) for db in (-half, half) for dp in (-half, half)
              for de in (-half, half) for dt in (-half, half) for ds in (-half, half)]
    rows = []
    for name, (rate_base, decline, use_total) in candidates.items():
        _check_choice("decline", decline, DECLINE_RULES)
        if not callable(rate_base):
            _check_choice("rate_base", rate_base, RATE_BASES)

        def run(db=0.0, dp=0.0, de=0.0, dt=0.0, ds=0.0, rate_base=rate_base, decline=decline,
                use_total=use_total):
            b = np.maximum(cols["emp_base"] + db, 0.0)
            p = np.maximum(cols["emp_proj"] + dp, 0.0)
            E = rate_base(b, p) if callable(rate_base) else {
                "average": 0.5 * (b + p), "start": b, "end": p}[rate_base]
            rate = {k: np.clip(cols[c] + d, 0.0, 100.0) / 100.0 for k, c, d in (
                ("x", "exit_rate_pct", de), ("t", "transfer_rate_pct", dt), ("s", "sep_rate_pct", ds))}
            return _flows(b, p, E, rate["x"], rate["t"], rate["s"] if use_total else None, 10, decline)

        central = run()
        corners = [run(*sh) for sh in shifts]
        for col in FLOW_COLUMNS:
            stack = np.vstack([c[col] for c in corners])
            lo, hi = stack.min(0), stack.max(0)
            pub = t[col].to_numpy(dtype=float)
            err = np.abs(central[col] - pub)
            rows.append({"candidate": name, "flow": col, "max_abs_error": float(err.max()),
                         "median_abs_error": float(np.median(err)),
                         "lines_outside_rounding": int(((pub < lo - tol) | (pub > hi + tol)).sum())})
    return pd.DataFrame(rows).set_index(["candidate", "flow"])
