"""Sectors and the sector × métier key used to turn sector figures into métier paths.

Scenario sources speak of sectors (« +740 000 emplois dans l'industrie manufacturière »);
pmq projects métiers.  The key says which métiers a sector's jobs fall in and with which
weights; each sector's weights sum to 1.

How the key is built (observed, partial — see ``docs/scenarios/format.md``)
--------------------------------------------------------------------------
DARES, « Portraits statistiques des métiers », publishes for every FAP-225 family its three
main employer sectors (NA 2008 in 38 positions) with the employment in each, 2017–2019
(``data/raw/dares_secteurs_fap225_2017_2019.csv``).  For a sector ``s`` made of NA38 codes
``S``, the weight of métier ``m`` is

    w(s, m) = Σ_{c ∈ S} E(m, c) / Σ_m' Σ_{c ∈ S} E(m', c)

where ``E(m, c)`` is the published employment in ``c`` of the FAP-225 families that make up
``m``, summed over those for which ``c`` is one of their top-three sectors (0 otherwise).  The key therefore covers the métiers
for which the sector is a main employer (e.g. for manufacturing, 1.53 M of the sector's
~3.1 M jobs); métiers spread thinly over many sectors (managers, secretaries) get no
share.  :func:`key_coverage` reports the covered employment of each sector.
"""
from __future__ import annotations

from functools import cache

import pandas as pd
import xarray as xr

from pmq.data import data_path, metiers
from pmq.errors import UnknownNameError
from pmq.names import listing
from pmq.options import tr

__all__ = ["sectors", "sector_key", "key_table", "key_coverage", "metier_shares", "sector_employment"]


@cache
def sectors() -> pd.DataFrame:
    """The sectors a scenario can name: id, French and English labels, NA38 codes (``;``-joined)."""
    return pd.read_csv(data_path("nomenclature", "sectors.csv"), dtype=str)


@cache
def _employment_by_metier_na38() -> pd.DataFrame:
    """Published employment (thousands) of each exercise métier in its top NA38 sectors."""
    raw = pd.read_csv(data_path("raw", "dares_secteurs_fap225_2017_2019.csv"), dtype={"fap": str})
    met = metiers()
    met = met[met["in_exercise"] == "yes"][["code", "dares_fap"]]
    comp = met.assign(fap=met["dares_fap"].str.split(";")).explode("fap")
    merged = comp.merge(raw, on="fap", how="inner")
    return merged.groupby(["code", "na38"], as_index=False)["milliers"].sum()


def _check(sector: str) -> pd.Series:
    tab = sectors().set_index("sector")
    if sector not in tab.index:
        raise UnknownNameError(tr(f"unknown sector {sector!r}; expected one of {listing(tab.index)}",
                                  f"secteur inconnu {sector!r} ; secteurs possibles : {listing(tab.index)}"))
    return tab.loc[sector]


def sector_key(sector: str) -> pd.Series:
    """Weights of each exercise métier in ``sector`` (index: métier code; sums to 1)."""
    row = _check(sector)
    codes = row["na38"].split(";")
    emp = _employment_by_metier_na38()
    sub = emp[emp["na38"].isin(codes)].groupby("code")["milliers"].sum()
    sub = sub[sub > 0]
    if sub.empty:  # pragma: no cover - every shipped sector has support (tested)
        raise UnknownNameError(tr(f"sector {sector!r} has no métier in the DARES employer table",
                                  f"le secteur {sector!r} n'a aucun métier dans le tableau des employeurs de la DARES"))
    return (sub / sub.sum()).rename("weight").sort_index()


def key_table() -> pd.DataFrame:
    """The whole key as a long table: sector, metier, weight, employment_thousands."""
    emp = _employment_by_metier_na38()
    rows = []
    for sector, codes in sectors().set_index("sector")["na38"].items():
        sub = emp[emp["na38"].isin(codes.split(";"))].groupby("code")["milliers"].sum()
        sub = sub[sub > 0]
        rows.append(pd.DataFrame({"sector": sector, "metier": sub.index, "weight": sub / sub.sum(),
                                  "employment_thousands": sub.values}))
    return pd.concat(rows, ignore_index=True)


def key_coverage() -> pd.DataFrame:
    """Employment (thousands, 2017–2019) of each sector that the key covers, and its métier count."""
    tab = key_table()
    out = tab.groupby("sector").agg(covered_thousands=("employment_thousands", "sum"),
                                    n_metiers=("metier", "size"))
    return out.reindex(sectors()["sector"])


@cache
def _family_totals() -> pd.Series:
    """Employment (thousands) of each exercise métier's FAP-225 families, from the same table."""
    raw = pd.read_csv(data_path("raw", "dares_secteurs_fap225_2017_2019.csv"), dtype={"fap": str})
    fam = raw[raw["pct"] > 0].assign(total=lambda d: d["milliers"] / d["pct"] * 100.0)
    fam = fam.groupby(["fap", "fap225"], as_index=False)["total"].median()
    met = metiers()
    met = met[met["in_exercise"] == "yes"][["code", "dares_fap"]]
    comp = met.assign(fap=met["dares_fap"].str.split(";")).explode("fap")
    return comp.merge(fam, on="fap").groupby("code")["total"].sum()


def metier_shares(sector: str) -> pd.Series:
    """Observed share of each métier's employment that is in ``sector`` (0 … 1; index: métier).

    From the same DARES table: employment of the métier's FAP-225 families in the sector's NA38
    codes (where they are a top-three employer) over the families' total employment.  A lower
    bound where the sector is a minor employer of a family.
    """
    row = _check(sector)
    emp = _employment_by_metier_na38()
    sub = emp[emp["na38"].isin(row["na38"].split(";"))].groupby("code")["milliers"].sum()
    return (sub / _family_totals().reindex(sub.index)).clip(0.0, 1.0).rename("share").sort_index()


def sector_employment(employment, sector: str):
    """Employment of ``sector`` estimated from employment by métier (a DataArray with a
    ``metier`` dimension): Σ_m share(m in sector) · E_m, with :func:`metier_shares`."""
    sh = metier_shares(sector)
    codes = [m for m in sh.index if m in set(map(str, employment.metier.values))]
    w = xr.DataArray(sh[codes].to_numpy(), coords={"metier": codes}, dims="metier")
    return (employment.sel(metier=codes) * w).sum("metier")
