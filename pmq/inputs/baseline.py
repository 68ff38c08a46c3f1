"""The baseline: base-year stocks by age, exit hazards and base-period flows as one Dataset.

:func:`load_baseline` returns the packaged « Les métiers en 2030 » baseline;
:func:`load_user_baseline` builds the same structure from the user's own long
tables (any territories, any base year).  Both go through :func:`assemble`, so
built-in and user data are validated identically.

Dataset layout
--------------
dims ``territory``, ``metier``, ``age``; coordinates ``territory_name``,
``metier_label``, ``domain`` and ``published_code`` (territory × metier: the code of
the published row a cell belongs to — Corse publishes some métiers only as groups).

=============================  ===========================  ======================
variable                       dims                         meaning
=============================  ===========================  ======================
employment                     territory, metier, age       base-year stock
hazard                         [territory,] metier, age     annual exit hazard
published_net_creation         territory, metier            period total
published_young_entrants       territory, metier            period total (≥ 0)
published_net_mobility         territory, metier            period net *inflow*
published_departures           territory, metier            period total (target)
tension, hors_champ            territory, metier            2019 tension level
=============================  ===========================  ======================
"""
from __future__ import annotations

import difflib
import hashlib
import json
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from pmq import data as _data
from pmq.data.territories import LEVELS, canonical_level
from pmq.errors import ArgumentError, InputError
from pmq.inputs.downscale import downscale
from pmq.inputs.overseas import with_overseas
from pmq.inputs.tables import read_employment, read_flows, read_hazards, read_tension, offending
from pmq.names import listing
from pmq.options import tr

__all__ = ["assemble", "load_baseline", "load_user_baseline", "check_period_end", "BUILTIN_SOURCES",
           "MAX_PERSONS"]

#: Largest number of persons pmq accepts in one value of a user table (a cell's stock at one age,
#: a cell's flow over the period): a billion, above any territory × métier; larger values are
#: typing or unit mistakes (1e308, thousands read as units…) that would overflow or mislead.
MAX_PERSONS = 1e9

BUILTIN_SOURCES = {
    "flows": "DARES – France Stratégie (2023), « Les métiers en 2030 », déclinaison régionale, "
             "scénario de référence; Licence Ouverte / Etalab 2.0",
    "age_structure": "DARES, « Portraits statistiques des métiers » (2021), enquête Emploi "
                     "2017–2019, 9 age bands by FAP-87",
    "hazard_schedule": "estimated by pmq from DARES pseudo-cohort continuation ratios "
                       "(Portraits statistiques des métiers, 2010–2019 windows)",
}


def _unknown_metiers(df: pd.DataFrame, source: str | None, known: pd.DataFrame) -> None:
    codes = set(known["code"])
    bad = ~df["metier"].isin(codes)
    if bad.any():
        wrong = sorted(df.loc[bad, "metier"].unique())
        hints = []
        for w in wrong[:5]:
            close = difflib.get_close_matches(w, sorted(codes), n=3, cutoff=0.3)
            hints.append(tr(f"{w!r} (closest: {', '.join(close) or 'none'})",
                            f"{w!r} (les plus proches : {', '.join(close) or 'aucun'})"))
        raise InputError(tr(f"unknown métier code(s) {', '.join(hints)}; pass metiers= to use another "
                            "nomenclature",
                            f"code(s) de métier inconnu(s) {', '.join(hints)} ; passez metiers= pour utiliser une "
                            "autre nomenclature"), source=source, column="metier",
                         rows=offending(df, bad))


def _check_magnitudes(df: pd.DataFrame, columns, source: str) -> None:
    """Refuse values whose magnitude exceeds :data:`MAX_PERSONS` (or that are not finite),
    naming the file, the column and the rows (row numbers as read, 0 = first row under the
    header)."""
    for col in columns:
        if col not in df.columns:
            continue
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        bad = ~(np.abs(v) <= MAX_PERSONS) & ~np.isnan(v) | np.isinf(v)
        if bad.any():
            raise InputError(tr(f"{int(bad.sum())} value(s) above {MAX_PERSONS:,.0f} persons in absolute value (or "
                                "infinite): no territory × métier holds that many persons; a typing or unit mistake?",
                                f"{int(bad.sum())} valeur(s) supérieure(s) à {MAX_PERSONS:,.0f} personnes en valeur "
                                "absolue (ou infinie(s)) : aucun territoire × métier ne compte autant de personnes ; "
                                "une erreur de saisie ou d'unité ?"), source=source, column=col,
                             rows=offending(df, bad))


def check_period_end(baseline: xr.Dataset, source: str = "flows") -> None:
    """Refuse a baseline whose published period ends below zero employment in some cell (the
    net creation removes more jobs than the cell has), naming ``source`` (the flows file), the
    column ``net_creation`` and the cells with their territory and métier.  The same rule as
    :func:`pmq.project` applies (tolerance 1e-9 of the stock), checked here right after reading
    so that the message names the user's file."""
    e_base = baseline["employment"].sum("age").transpose("territory", "metier").values
    nc = baseline["published_net_creation"].transpose("territory", "metier").values
    e_end = e_base + nc
    neg = e_end < -1e-9 * np.maximum(1.0, np.abs(e_base))
    if not neg.any():
        return
    idx = np.argwhere(neg)
    names = (baseline["territory_name"].values if "territory_name" in baseline.coords else baseline.territory.values)
    rows = pd.DataFrame({
        "territory": [str(baseline.territory.values[i]) for i, _ in idx],
        "territory_name": [str(names[i]) for i, _ in idx],
        "metier": [str(baseline.metier.values[j]) for _, j in idx],
        "employment_base": [e_base[i, j] for i, j in idx],
        "net_creation": [nc[i, j] for i, j in idx],
        "employment_end": [e_end[i, j] for i, j in idx]})
    raise InputError(tr(f"net creation removes more jobs than the cell has in {len(idx)} cell(s) (employment would "
                        "end the period below zero; a cell with no employment can only gain jobs): give net_creation "
                        "≥ −employment (the sum over ages of the employment table) in every cell",
                        f"les créations nettes d'emploi retirent plus d'emplois que la cellule n'en compte dans "
                        f"{len(idx)} cellule(s) (l'emploi finirait la période sous zéro ; une cellule sans emploi ne "
                        "peut qu'en gagner) : donnez net_creation ≥ −employment (la somme sur les âges du tableau "
                        "employment) dans chaque cellule"), source=source,
                     column="net_creation", rows=rows)


def _mismatch(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], name_a: str, name_b: str) -> None:
    ka = a[keys].drop_duplicates()
    kb = b[keys].drop_duplicates()
    m = ka.merge(kb, on=keys, how="outer", indicator=True)
    bad = m[m["_merge"] != "both"].copy()
    if len(bad):
        bad["only_in"] = np.where(bad["_merge"] == "left_only", name_a, name_b)
        raise InputError(tr(f"codes do not match between {name_a} and {name_b}: "
                            f"{len(bad)} {'/'.join(keys)} combination(s) appear in only one of them",
                            f"les codes ne concordent pas entre {name_a} et {name_b} : {len(bad)} "
                            f"combinaison(s) {'/'.join(keys)} ne figurent que dans l'un des deux"),
                         source=tr(f"{name_a} vs {name_b}", f"{name_a} et {name_b}"), column=", ".join(keys),
                         rows=bad[keys + ["only_in"]])


def assemble(employment, hazards, flows, tension=None, *, metiers: pd.DataFrame | None = None,
             territory_names: dict | None = None, base_year: int | None = None,
             sources: dict | None = None, estimated: list[str] | None = None,
             title: str = "user baseline") -> xr.Dataset:
    """Validate the four long tables together and build the baseline Dataset.

    Parameters
    ----------
    employment, hazards, flows, tension
        Paths (CSV/Excel/Parquet) or DataFrames following the templates of :mod:`pmq.inputs.tables`.
    metiers : DataFrame, optional
        Métier nomenclature with columns ``code``, ``label_fr``, ``domain``; default:
        the FAP-2009 families of « Les métiers en 2030 » plus the FAP-87 families.
    territory_names : dict, optional
        ``{code: name}``; default: the ``territory_name`` column if present, else the code.
    base_year : int, optional
        Checked against the tables' ``year`` / ``period_start``.
    """
    emp, src_e = read_employment(employment)
    haz, src_h = read_hazards(hazards)
    flo, src_f = read_flows(flows)
    ten = src_t = None
    if tension is not None:
        ten, src_t = read_tension(tension)
    _check_magnitudes(emp, ["employment"], src_e)
    _check_magnitudes(flo, ["net_creation", "young_entrants", "net_mobility", "departures"], src_f)
    known = _data.metiers() if metiers is None else metiers.astype({"code": str})
    for df, src in ((emp, src_e), (haz, src_h), (flo, src_f)) + (((ten, src_t),) if ten is not None else ()):
        _unknown_metiers(df, src, known)

    # Base year: from the flows' period_start, the employment's year and the argument.
    start = int(flo["period_start"].iloc[0])
    end = int(flo["period_end"].iloc[0])
    years = {tr("flows period_start", "period_start (flows)"): start}
    if "year" in emp.columns:
        years[tr(f"{src_e} year", f"year ({src_e})")] = int(emp["year"].iloc[0])
    if base_year is not None:
        years[tr("base_year argument", "argument base_year")] = int(base_year)
    if len(set(years.values())) > 1:
        raise InputError(tr(f"base years do not agree: {years}", f"les années de base ne concordent pas : {years}"),
                         source=f"{src_e} / {src_f}",
                         column="year / period_start")

    # Cells must be the same in employment and flows; tension must be a subset.
    _mismatch(emp, flo, ["territory", "metier"], src_e, src_f)
    if ten is not None:
        extra = ten.merge(flo[["territory", "metier"]], how="left", indicator=True)
        extra = extra[extra["_merge"] == "left_only"]
        if len(extra):
            raise InputError(tr("tension given for cells absent from the flows table",
                                "tension donnée pour des cellules absentes du tableau flows"), source=src_t,
                             column="territory, metier", rows=extra[["territory", "metier", "tension"]])

    ages = np.sort(emp["age"].unique())
    if not np.array_equal(ages, np.arange(ages[0], ages[-1] + 1)):
        missing = sorted(set(range(ages[0], ages[-1] + 1)) - set(ages))
        raise InputError(tr(f"ages must be consecutive single years; missing ages {listing(missing)}",
                            f"les âges doivent être des années consécutives ; âges manquants : {listing(missing)}"),
                         source=src_e, column="age")
    territories = sorted(emp["territory"].unique(), key=lambda c: (len(c), c))
    mets_in = set(emp["metier"].unique())          # not the 65,000 rows one by one
    order = [c for c in known["code"] if c in mets_in]
    full = pd.MultiIndex.from_product([territories, order, ages], names=["territory", "metier", "age"])
    e_idx = emp.set_index(["territory", "metier", "age"])["employment"]
    holes = full.difference(e_idx.index)
    if len(holes):
        raise InputError(tr(f"{len(holes)} territory × métier × age combination(s) missing; give every "
                            "age of every cell (0 where nobody works)",
                            f"{len(holes)} combinaison(s) territoire × métier × âge manquante(s) ; donnez chaque "
                            "âge de chaque cellule (0 là où personne ne travaille)"), source=src_e,
                         column="territory, metier, age", rows=holes.to_frame(index=False))
    employment_da = xr.DataArray(e_idx.reindex(full).to_numpy().reshape(len(territories), len(order), len(ages)),
                                 dims=("territory", "metier", "age"),
                                 coords={"territory": territories, "metier": order, "age": ages})

    # Hazards: by métier (national schedule) or by territory × métier.
    by_territory = "territory" in haz.columns
    hkeys = ["territory", "metier"] if by_territory else ["metier"]
    if by_territory:
        _mismatch(emp[["territory", "metier"]], haz[["territory", "metier"]], ["territory", "metier"],
                  src_e, src_h)
    else:
        miss = sorted(mets_in - set(haz["metier"]))
        if miss:
            raise InputError(tr(f"no hazards for métier(s) {miss}",
                                f"aucune probabilité de sortie (hazard) pour le(s) métier(s) {miss}"),
                             source=src_h, column="metier", rows=miss)
        haz = haz[haz["metier"].isin(mets_in)]
    hages = np.sort(haz["age"].unique())
    if not np.array_equal(hages, ages):
        raise InputError(tr(f"hazard ages {hages.min()}–{hages.max()} ({len(hages)} values) do not match "
                            f"employment ages {ages.min()}–{ages.max()} ({len(ages)} values)",
                            f"les âges du tableau hazards {hages.min()}–{hages.max()} ({len(hages)} valeurs) ne "
                            f"correspondent pas à ceux du tableau employment {ages.min()}–{ages.max()} "
                            f"({len(ages)} valeurs)"),
                         source=tr(f"{src_h} vs {src_e}", f"{src_h} et {src_e}"), column="age")
    hdims = tuple(hkeys) + ("age",)
    hcoords: dict[str, Any] = {"metier": order, "age": ages}
    if by_territory:
        hcoords["territory"] = territories
    hfull = pd.MultiIndex.from_product([hcoords[d] for d in hdims], names=list(hdims))
    h_idx = haz.set_index(list(hdims))["hazard"]
    holes = hfull.difference(h_idx.index)
    if len(holes):
        raise InputError(tr(f"{len(holes)} hazard combination(s) missing",
                            f"{len(holes)} combinaison(s) manquante(s) dans le tableau hazards"), source=src_h,
                         column=", ".join(hdims), rows=holes.to_frame(index=False))
    hvals = h_idx.reindex(hfull).to_numpy(dtype=float, copy=True).reshape([len(hcoords[d]) for d in hdims])
    if np.any(hvals[..., -1] != 1.0):
        warnings.warn(tr(f"{src_h}: hazard at the top age {ages[-1]} set to 1 (exit is forced at the top age)",
                         f"{src_h} : probabilité de sortie (hazard) mise à 1 à l'âge maximal {ages[-1]} (la "
                         "sortie est forcée à l'âge maximal)"),
                      stacklevel=2)
        hvals[..., -1] = 1.0
    hazard_da = xr.DataArray(hvals, dims=hdims, coords={d: hcoords[d] for d in hdims})

    f_idx = flo.set_index(["territory", "metier"]).reindex(
        pd.MultiIndex.from_product([territories, order], names=["territory", "metier"]))

    def cell(col):
        return xr.DataArray(f_idx[col].to_numpy(dtype=float).reshape(len(territories), len(order)),
                            dims=("territory", "metier"))

    ds = xr.Dataset({"employment": employment_da, "hazard": hazard_da})
    ds["published_net_creation"] = cell("net_creation")
    ds["published_young_entrants"] = cell("young_entrants")
    ds["published_net_mobility"] = cell("net_mobility")
    ds["published_departures"] = (cell("departures") if "departures" in f_idx.columns
                                  else xr.full_like(cell("net_creation"), np.nan))
    if ten is not None:
        t_idx = ten.set_index(["territory", "metier"]).reindex(f_idx.index)
        ds["tension"] = (("territory", "metier"),
                         t_idx["tension"].to_numpy(dtype=float).reshape(len(territories), len(order)))
        ds["hors_champ"] = (("territory", "metier"),
                            t_idx["hors_champ"].fillna(False).to_numpy(dtype=bool)
                            .reshape(len(territories), len(order)))

    # Labels.
    kn = known.set_index("code")
    if territory_names is None:
        if "territory_name" in emp.columns:
            territory_names = dict(zip(emp["territory"], emp["territory_name"].astype(str)))
        else:
            territory_names = {t: t for t in territories}
    ds = ds.assign_coords(
        territory_name=("territory", [territory_names.get(t, t) for t in territories]),
        metier_label=("metier", [kn.loc[m, "label_fr"] for m in order]),
        domain=("metier", [kn.loc[m, "domain"] for m in order]),
        published_code=(("territory", "metier"),
                        f_idx["published_code"].to_numpy(dtype=object).reshape(len(territories), len(order))
                        .astype(str)),
    )
    ds.attrs.update({
        "title": title,
        "base_year": start,
        "period_end": end,
        "n_period": end - start,
        "sources": json.dumps(sources or {"employment": src_e, "hazards": src_h, "flows": src_f,
                                          **({"tension": src_t} if src_t else {})}, ensure_ascii=False),
        "estimated": json.dumps(estimated or [], ensure_ascii=False),
        "units": "persons",
    })
    _annotate(ds)
    return ds


def _annotate(ds: xr.Dataset) -> None:
    labels = {
        "employment": ("Emploi (année de base) par âge", "Employment by age, base year"),
        "hazard": ("Probabilité annuelle de départ en fin de carrière", "Annual end-of-career exit hazard"),
        "published_net_creation": ("Créations nettes d'emploi publiées (période)", "Published net job creation"),
        "published_young_entrants": ("Jeunes débutants publiés (période)", "Published young entrants"),
        "published_net_mobility": ("Solde des mobilités interrégionales publié (entrées nettes)",
                                   "Published net inflow from other territories"),
        "published_departures": ("Départs en fin de carrière publiés (période)", "Published departures"),
        "tension": ("Niveau de tension 2019 (1–5)", "2019 recruitment-tension level (1–5)"),
        "hors_champ": ("Hors champ de l'indicateur de tension", "Outside the tension indicator's field"),
    }
    for k, (fr, en) in labels.items():
        if k in ds:
            ds[k].attrs.update(long_name=fr, long_name_en=en,
                               units="persons" if k not in ("hazard", "tension", "hors_champ") else
                               ("1/year" if k == "hazard" else "1"))


#: The packaged baseline as :func:`_assemble_builtin` builds it from its tables, stored so that loading it does
#: not parse 65,000 CSV rows each time: ``pmq/data/baseline/baseline.npz``, used only while the tables it was
#: built from are unchanged (their SHA-256 in it); ``python -m pmq.estimation.build`` rewrites it.  A numpy
#: archive (read with ``allow_pickle=False``: arrays and one JSON text, never pickled objects): loading it takes
#: milliseconds, where opening a netCDF file took 0.1–0.2 s (HDF5's own opening, and importing h5py).
CACHE_FILE = "baseline.npz"
_CACHE_SOURCES = (("baseline", "employment_by_age.csv"), ("baseline", "hazards.csv"), ("baseline", "flows.csv"),
                  ("baseline", "tension.csv"), ("baseline", "calibration.json"), ("nomenclature", "regions.csv"),
                  ("nomenclature", "metiers.csv"), ("nomenclature", "domains.csv"))
_HASH_ATTR = "pmq_tables_sha256"
_META = "__meta__"


def tables_digest() -> str:
    """SHA-256 of the packaged tables the built-in baseline is assembled from (what its cache must match)."""
    h = hashlib.sha256()
    for parts in _CACHE_SOURCES:
        h.update("/".join(parts).encode())
        h.update(_data.data_path(*parts).read_bytes())
    return h.hexdigest()


def _plain(v):
    """An attribute value as JSON holds it (numpy scalars as Python numbers)."""
    return v.item() if isinstance(v, np.generic) else v


def write_builtin_cache(path=None):
    """Write the built-in baseline assembled from its tables (never from a cache) to ``path`` (default: the
    package's ``baseline/baseline.npz``), with the tables' digest; returns the path.  Every variable's array
    under its name; one JSON text holds the dims, the attrs, which variables are coordinates, the digest."""
    path = Path(path) if path is not None else _data.data_path("baseline", CACHE_FILE)
    ds = _assemble_builtin()
    meta = {_HASH_ATTR: tables_digest(), "attrs": {k: _plain(v) for k, v in ds.attrs.items()},
            "coords": list(ds.coords), "data_vars": list(ds.data_vars),
            "variables": {k: {"dims": list(v.dims), "attrs": {a: _plain(x) for a, x in v.attrs.items()}}
                          for k, v in ds.variables.items()}}
    arrays: dict[str, Any] = {str(k): np.asarray(v.values) for k, v in ds.variables.items()}
    if _META in arrays:
        raise ValueError(f"a baseline variable is named {_META!r}")
    arrays[_META] = np.array(json.dumps(meta, ensure_ascii=False))
    np.savez_compressed(path, **arrays)
    return path


def cache_digest(path=None) -> str | None:
    """The tables' digest a stored baseline was built from (None: no readable cache at ``path``)."""
    meta = _cache_meta(Path(path) if path is not None else _data.data_path("baseline", CACHE_FILE))
    return None if meta is None else meta[0].get(_HASH_ATTR)


def _cache_meta(path: Path):
    """``(meta, arrays)`` of the stored baseline at ``path`` (read whole, file closed), or None."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        return json.loads(str(arrays.pop(_META)[()])), arrays
    except (OSError, ValueError, KeyError):
        return None


def _read_cache() -> xr.Dataset | None:
    """The cached built-in baseline, exactly as :func:`_assemble_builtin` builds it (text as ``<U`` arrays, the
    attrs' numbers as ``int``, no encoding), or None: no cache, or one built from other tables."""
    got = _cache_meta(_data.data_path("baseline", CACHE_FILE))
    if got is None:
        return None
    meta, f = got
    if meta.get(_HASH_ATTR) != tables_digest():
        return None
    try:
        var = {k: xr.Variable(v["dims"], f[k], attrs=v["attrs"]) for k, v in meta["variables"].items()}
    except (ValueError, KeyError):
        return None
    return xr.Dataset({k: var[k] for k in meta["data_vars"]}, coords={k: var[k] for k in meta["coords"]},
                      attrs=meta["attrs"])


@lru_cache(maxsize=1)
def _builtin() -> xr.Dataset:
    cached = _read_cache()
    return cached if cached is not None else _assemble_builtin()


def _assemble_builtin() -> xr.Dataset:
    base = _data.data_path("baseline")
    reg = _data.regions().set_index("code")["name"].to_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the shipped hazards must already end at 1
        ds = assemble(base / "employment_by_age.csv", base / "hazards.csv", base / "flows.csv",
                      base / "tension.csv", territory_names=reg,
                      sources=BUILTIN_SOURCES,
                      estimated=["employment by age (pyramids by métier × region: DARES national "
                                 "shapes tilted per cell to match published departures)",
                                 "hazard (national schedule fitted to DARES pseudo-cohorts, "
                                 "per-métier exit-age offsets)",
                                 "Corse: split of the published groups of métiers into FAP families"],
                      title="Les métiers en 2030 — baseline 2019 (DARES – France Stratégie)")
    meta = json.loads((base / "calibration.json").read_text(encoding="utf-8"))
    ds.attrs["calibration"] = json.dumps(meta["summary"], ensure_ascii=False)
    ds["territory_source_name"] = ("territory", _data.regions().set_index("code")
                                   .loc[list(ds.territory.values), "source_name"].to_list())
    ds = ds.set_coords("territory_source_name")
    ds["employment"].attrs["estimated"] = "yes: age split estimated, totals published"
    ds["hazard"].attrs["estimated"] = "yes"
    return ds


def load_baseline(level: str = "region", *, dom: bool = False) -> xr.Dataset:
    """The packaged baseline: 13 regions × 83 métiers × ages 15–74, base year 2019.

    Employment totals and flows are published (DARES – France Stratégie); the age
    split and the hazards are **estimated** (see ``docs/engine.md``).

    ``level="departement"`` (96 metropolitan départements) or ``"zone_emploi"`` (the zones d'emploi 2020 split
    by département: 508 parts) splits it by the shipped downscaling keys (:mod:`pmq.inputs.downscale`): the
    children add up to their région exactly; the split is **estimated** (see ``docs/territories.md``).

    ``dom=True`` adds the five overseas régions (and their départements, zones d'emploi) as **estimated**
    territories (:mod:`pmq.inputs.overseas`); every metropolitan figure stays exactly what it is without them
    (but a lever adding persons to the whole run, without naming territories, gives the DOM their share).
    """
    if level not in LEVELS:
        try:                                   # « département », « zones d'emploi »… as the CLI reads them
            level = canonical_level(str(level))
        except ValueError:
            raise ArgumentError(tr(f"unknown territorial level; expected one of {', '.join(LEVELS)}",
                                   f"niveau territorial inconnu ; niveaux possibles : {', '.join(LEVELS)}"),
                                name="level", value=level) from None
    ds = _builtin().copy(deep=True)
    if dom:
        ds = with_overseas(ds)
    for lvl in LEVELS[1:LEVELS.index(level) + 1]:
        ds = downscale(ds, lvl)
    return ds


def load_user_baseline(employment, hazards, flows, tension=None, **kwargs) -> xr.Dataset:
    """Build a baseline from the user's own long tables (see :func:`assemble`)."""
    return assemble(employment, hazards, flows, tension, **kwargs)

