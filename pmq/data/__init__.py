"""Packaged data: nomenclatures, raw published tables and the built baseline.

* ``raw/`` — published tables as shipped (see ``raw/SOURCE.md``);
* ``nomenclature/`` — regions (INSEE codes), the 22 FAP-2009 domains, the 83
  métiers of « Les métiers en 2030 » with their DARES FAP-87 components;
* ``baseline/`` — the baseline built from ``raw/`` by ``python -m pmq.estimation.build``
  (published flows with Corse split, *estimated* pyramids and hazards).
"""
from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["data_path", "regions", "domains", "metiers", "raw_metiers2030", "territory_choices",
           "metier_choices"]


def data_path(*parts: str) -> Path:
    """Path of a packaged data file, e.g. ``data_path("raw", "metiers2030_region_fap.csv")``."""
    return Path(str(resources.files("pmq.data").joinpath(*parts)))


@cache
def regions() -> pd.DataFrame:
    """The 13 regions of metropolitan France: INSEE code, official name, source spelling."""
    return pd.read_csv(data_path("nomenclature", "regions.csv"), dtype=str)


@cache
def domains() -> pd.DataFrame:
    """The 22 FAP-2009 domains (code, French and English labels)."""
    return pd.read_csv(data_path("nomenclature", "domains.csv"), dtype=str)


@cache
def metiers() -> pd.DataFrame:
    """The 83 métiers of the exercise: code, label, domain, DARES FAP-87 components, note."""
    return pd.read_csv(data_path("nomenclature", "metiers.csv"), dtype=str, keep_default_na=False)


def raw_metiers2030() -> pd.DataFrame:
    """The published regional table of « Les métiers en 2030 », unmodified (thousands)."""
    return pd.read_csv(data_path("raw", "metiers2030_region_fap.csv"))


#: Short names French observatories (Carif-Oref, OPCO, Insee and DARES publications) use for the régions,
#: beyond the official name, the source's spelling and pmq's three-letter code of ``regions.csv`` (IDF, ARA,
#: PACA…), which :func:`region_aliases` adds.  Matched as every name is (:func:`pmq.names.normalise`).
REGION_ALIASES = {
    "11": ("IDF",),
    "24": ("Centre", "CVL"),
    "27": ("BFC",),
    "32": ("HDF",),
    "52": ("PDL",),
    "53": ("BZH",),
    "75": ("NAQ",),
    "84": ("AURA", "ARA"),
    "93": ("PACA", "Région Sud"),
    "04": ("Réunion",),
    "03": ("Guyane française",),
}


def territory_choices() -> dict[str, list[str]]:
    """Aliases accepted for each metropolitan region code (official name, source spelling, short name, then
    the short names of :data:`REGION_ALIASES`: AURA, PACA, Région Sud…).  A new dict and lists, the caller's to
    change."""
    return {code: list(aliases) for code, aliases in _territory_choices()}


@cache
def _territory_choices() -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((row.code, (row.name, row.source_name, row.short_name, *REGION_ALIASES.get(row.code, ())))
                 for row in regions().itertuples())


def metier_choices(table: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """Aliases accepted for each métier code (its label)."""
    m = metiers() if table is None else table
    return {row.code: [row.label_fr] for row in m.itertuples()}
