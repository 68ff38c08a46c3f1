"""Territories below and beyond the régions (issue 18): the shipped nomenclature, downscaling keys and DOM
employment of ``pmq/data/territories/`` (built by ``python -m pmq.estimation.territories``; method, sources
and what is estimated in ``territories/SOURCE.md``).

* :func:`territories` — région, département and zone d'emploi (∩ département) codes, names, parents, flags;
* :func:`key` — a downscaling key as a long table ``parent, child, metier, weight, basis`` (+ its basis
  values); the weights of each parent × métier sum to 1;
* :func:`dom_employment` — the **estimated** base-year employment by métier of the five DOM régions;
* :func:`tension_departement` — the 2019 DARES–Pôle emploi tension class by département × métier where DARES
  publishes it;
* :func:`bmo_departement` — France Travail's BMO 2023 recruitment projects and share judged difficult by
  département × métier;
* :func:`region_aliases` — every name a région answers to (official name, source spelling, the short names
  observatories use: « PACA », « AURA », « IDF »…); :func:`canonical_level` — a level as users write it
  (« département », « zones d'emploi ») → one of :data:`LEVELS`.
"""
from __future__ import annotations

from functools import cache

import pandas as pd

from pmq.data import REGION_ALIASES, data_path, metiers, territory_choices
from pmq.names import normalise
from pmq.options import tr

__all__ = ["LEVELS", "territories", "key", "dom_employment", "tension_departement", "bmo_departement",
           "TENSION_SOURCE", "BMO_SOURCE", "REGION_ALIASES", "region_aliases", "canonical_level"]

#: The territorial levels, top down.
LEVELS = ("region", "departement", "zone_emploi")
#: What users write for each level, once normalised by :func:`canonical_level` (accents, case, hyphens,
#: apostrophes, plurals and the little words « d' », « de » dropped): « Département », « départements »,
#: « zone-emploi », « zone d'emploi », « zones_emploi »…
_LEVEL_WORDS = {"region": "region", "departement": "departement", "department": "departement", "dep": "departement",
                "zone emploi": "zone_emploi", "zone": "zone_emploi", "ze": "zone_emploi",
                "regional": "region", "departemental": "departement", "employment zone": "zone_emploi",
                "employment area": "zone_emploi"}


def canonical_level(text: str) -> str:
    """The level ``text`` names, as one of :data:`LEVELS`: accents, case, hyphens, underscores, apostrophes,
    plurals and « d' »/« de » are ignored (« Départements », « zone-emploi », « zones d'emploi » are read);
    anything else raises :class:`ValueError` listing the levels."""
    words = [w[:-1] if w.endswith("s") and len(w) > 3 else w for w in normalise(text).split()]
    found = _LEVEL_WORDS.get(" ".join(w for w in words if w not in ("d", "de", "du", "des", "l", "la", "le", "les")))
    if found is None:
        raise ValueError(tr(f"unknown level {text!r}: expected one of {', '.join(LEVELS)} (accents, case, plurals, "
                            "hyphens and « zone d'emploi » are accepted)",
                            f"niveau inconnu {text!r} : niveaux possibles : {', '.join(LEVELS)} (accents, "
                            "majuscules, pluriels, traits d'union et « zone d'emploi » sont acceptés)"))
    return found


def region_aliases() -> dict[str, list[str]]:
    """Every name a région answers to, by code — the 13 metropolitan régions and the 5 DOM: the official name,
    the source's spelling and pmq's short code (``regions.csv``), then :data:`REGION_ALIASES`."""
    builtin = territory_choices()
    out: dict[str, list[str]] = {}
    for code, name in territories("region")[["code", "name"]].itertuples(index=False):
        names = [name, *builtin.get(code, []), *REGION_ALIASES.get(code, ())]
        out[code] = list(dict.fromkeys(n for n in names if n))
    return out
#: The level of the children of each key.
KEYS = {"departement": "key_departement.csv", "zone_emploi": "key_zone_emploi.csv"}
_TEXT = ["code", "region", "departement", "zone_emploi", "zone_part_reg", "parent", "child", "metier", "basis",
         "level", "name", "method"]


_NA = ("coverage", "emploi_moyen", "population", "factor", "tension", "tension_z", "published_share",
       "share_difficult")
#: Citations of the local tension and recruitment-difficulty tables (see ``territories/SOURCE.md``).
TENSION_SOURCE = ("Dares – Pôle emploi, indicateur de tension 2019 par département (Dares, Portraits statistiques "
                  "des métiers), classes 1–5")
BMO_SOURCE = ("France Travail, enquête Besoins en main-d'œuvre (BMO) 2023 (Licence Ouverte / Etalab 2.0): projets "
              "de recrutement et part jugée difficile, bassins sommés par département")


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(data_path("territories", name), dtype={c: str for c in _TEXT}, keep_default_na=False,
                       na_values={c: [""] for c in _NA})


@cache
def _territories() -> pd.DataFrame:
    t = _read("territories.csv")
    t["estimated_territory"] = t["estimated_territory"].astype(int)
    return t


def territories(level: str | None = None) -> pd.DataFrame:
    """The territory nomenclature: ``level, code, name, region, departement, estimated_territory, zone_emploi,
    zone_part_reg`` — every level, or one of :data:`LEVELS`.

    ``region`` is the parent région (a région's own code on its row), ``departement`` the parent département
    (a département's own code on its row; every zone d'emploi row is a zone ∩ département part, so it always has
    one). Codes are INSEE's; a zone d'emploi lying in several départements is split into parts coded
    ``<zone>-d<département>`` (e.g. ``0057-d28``, Dreux in Eure-et-Loir) and named ``<zone> (<département>)``;
    ``zone_emploi`` is the INSEE zone code, ``zone_part_reg`` INSEE's code of its regional part
    (``<zone>-<région>``) when the zone crosses a regional border. ``estimated_territory`` is 1 for the DOM."""
    t = _territories()
    if level is None:
        return t.copy()
    if level not in LEVELS:
        raise ValueError(tr(f"unknown level {level!r}: expected one of {', '.join(LEVELS)}",
                            f"niveau inconnu {level!r} : niveaux possibles : {', '.join(LEVELS)}"))
    return t[t["level"] == level].reset_index(drop=True)


@cache
def _key(level: str) -> pd.DataFrame:
    k = _read(KEYS[level])
    if level == "zone_emploi":
        population = k.pop("population")
        k.insert(len(k.columns), "population", population.astype("Int64"))
    # the file holds 12 significant digits: renormalise so that each parent × métier sums to 1 in floating point
    k["weight"] = k["weight"] / k.groupby(["parent", "metier"])["weight"].transform("sum")
    return k


def key(level: str, *, expand: bool = True) -> pd.DataFrame:
    """The downscaling key whose children are at ``level`` (``"departement"``: région → département;
    ``"zone_emploi"``: département → zone d'emploi part): ``parent, child, metier, weight, basis`` and the basis
    values (``coverage`` and ``emploi_moyen`` for départements, ``population`` for zones).

    The zone d'emploi key is the same for every métier and is stored once (``metier`` = ``"all"``); with
    ``expand`` (the default) it is returned with one row per pmq métier, like the département key."""
    if level not in KEYS:
        raise ValueError(tr(f"no key for level {level!r}: expected one of {', '.join(KEYS)}",
                            f"aucune clé de répartition pour le niveau {level!r} : niveaux possibles : "
                            f"{', '.join(KEYS)}"))
    k = _key(level)
    if not expand or not (k["metier"] == "all").any():
        return k.copy()
    m = metiers()
    codes = list(m.loc[m["in_exercise"] == "yes", "code"])
    every = k[k["metier"] == "all"]
    out = every.loc[every.index.repeat(len(codes))].reset_index(drop=True)
    out["metier"] = codes * len(every)
    return pd.concat([k[k["metier"] != "all"], out], ignore_index=True)


@cache
def _dom_employment() -> pd.DataFrame:
    return _read("dom_employment.csv")


def dom_employment() -> pd.DataFrame:
    """**Estimated** base-year employment (persons) by pmq métier of the five DOM régions: ``region, metier,
    year, employment, employment_rp2017, factor, estimated, method`` (see ``territories/SOURCE.md``)."""
    return _dom_employment().copy()


@cache
def _tension_departement() -> pd.DataFrame:
    return _read("tension_departement.csv")


def tension_departement() -> pd.DataFrame:
    """The 2019 DARES–Pôle emploi tension class by département × pmq métier: ``departement, metier, tension``
    (1–5, NaN where not published), ``tension_z`` (the indicator), ``basis`` (``departement`` where DARES publishes
    the département's class, ``missing`` otherwise), ``n_fap``, ``n_fap_published``, ``published_share`` (merged
    métiers: share of their ``Emploi moyen`` whose class is published). Rule for métiers merging several FAP-87
    and coverage in ``territories/SOURCE.md``."""
    return _tension_departement().copy()


@cache
def _bmo_departement() -> pd.DataFrame:
    return _read("bmo_departement.csv")


def bmo_departement() -> pd.DataFrame:
    """France Travail's BMO 2023 by département × pmq métier: ``departement, metier, projects`` (recruitment
    projects, published cells summed over bassins and BMO métiers), ``difficult`` (of which judged difficult; a
    masked count, fewer than 5, counted as 2), ``share_difficult`` (= difficult ÷ projects, NaN without
    projects), ``n_rows``, ``projects_masked``, ``difficult_masked`` (masked bassin rows), ``basis`` (``bmo``,
    ``masked``: every row masked, ``no_row``: no project reported, ``not_in_bmo``: métier outside the survey)."""
    return _bmo_departement().copy()
