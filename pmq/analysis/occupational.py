"""Mobility of employed workers between métiers: a transition matrix and its flows.

**Off by default.** No national FAP × FAP transition matrix is published: DARES offers
only an interactive tool on DSN data, and « Les métiers en 2030 » does not quantify
mobility between métiers (its *déséquilibre potentiel* is what young entrants and
inter-regional mobility leave unfilled).  The order of magnitude is known: 22 % of
the people in employment in both 2010 and 2015 had changed métier (FQP survey; Lhommeau
& Michel, Dares Analyses n° 049, 2018,
https://dares.travail-emploi.gouv.fr/IMG/pdf/2018-049.pdf), about 5 % a year.  pmq
therefore ships no matrix; you supply one and call :func:`occupational_mobility`, or build a
*prior* with :func:`transitions_from_passerelles`: your total rate of changing métier spread over
the métiers that ROME 4.0 describes as close (its « mobilités », :func:`pmq.data.skills.passerelles`).

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
from pmq.data import skills as _skills
from pmq.errors import ArgumentError, InputError
from pmq.inputs.tables import as_number
from pmq.inputs.rates import check_columns, match_codes, metier_codes, rate_column, read_rate_table
from pmq.model.ages import AGES
from pmq.options import plural, tr
from pmq.projection.indicators import default_end_years, horizon_sums

__all__ = ["EXIT", "MOBILITY_FLOWS", "read_transitions", "transitions_from_passerelles",
           "occupational_mobility", "mobility_horizons", "template_path", "MOBILITY_FQP"]

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

#: The published order of magnitude of occupational mobility in France (no FAP × FAP rate is published):
#: (five-year share of the people employed at both dates who changed métier, its annual equivalent, source).
MOBILITY_FQP = (0.22, 1.0 - 0.78 ** (1 / 5),
                "22 % of the people in employment in both 2010 and 2015 had changed métier (a third of those "
                "aged 20–29), about 5 % a year: FQP survey (Insee), B. Lhommeau and C. Michel, « Changer de "
                "métier : quelles personnes et quels emplois sont concernés ? », Dares Analyses n° 049, 2018, "
                "https://dares.travail-emploi.gouv.fr/IMG/pdf/2018-049.pdf")


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
        raise InputError(tr("age_min is above age_max", "age_min est supérieur à age_max"), source=source,
                         column="age_min",
                         rows=df.loc[bad].reset_index(names="row"))
    bad = (hi < ages[0]) | (lo > ages[-1])
    if bad.any():
        raise InputError(tr(f"age band outside the ages of the projection ({ages[0]}–{ages[-1]})",
                            f"tranche d'âge hors des âges de la projection ({ages[0]}–{ages[-1]})"),
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
        raise InputError(tr("origin and destination are the same métier (staying is not a transition)",
                            "origine et destination sont le même métier (rester n'est pas une transition)"),
                         source=source, column="destination", rows=df.loc[same].reset_index(names="row"))
    lo, hi = _age_bounds(df, axis, source)
    df["_lo"], df["_hi"] = lo, hi
    dup = df.duplicated(["origin", "destination", "_lo", "_hi"], keep=False)
    if dup.any():
        raise InputError(tr("duplicated (origin, destination, age band) rows",
                            "lignes en double (origine, destination, tranche d'âge)"), source=source,
                         column="origin, destination, age_min, age_max",
                         rows=df.loc[dup].drop(columns=["_lo", "_hi"]).reset_index(names="row"))
    s = df.reset_index(names="row").sort_values(["origin", "destination", "_lo"])
    prev_hi = s.groupby(["origin", "destination"])["_hi"].shift()
    clash = s["_lo"] <= prev_hi
    if clash.any():
        prev_row = s.groupby(["origin", "destination"])["row"].shift()
        rows = s.loc[clash | clash.shift(-1, fill_value=False)].drop(columns=["_lo", "_hi"])
        first = ', '.join(str(int(r)) for r in prev_row[clash])
        second = ', '.join(str(int(r)) for r in s.loc[clash, 'row'])
        raise InputError(tr(f"overlapping age bands for the same origin and destination (rows {first} and "
                            f"{second})",
                            f"tranches d'âge qui se chevauchent pour une même origine et une même destination "
                            f"(lignes {first} et {second})"), source=source,
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
        raise InputError(tr("the out-rates of an origin sum above 1 at some ages (at most every worker "
                            "can leave in a year)",
                            "la somme des taux de sortie d'une origine dépasse 1 à certains âges (au plus, tous "
                            "les actifs en emploi peuvent partir en un an)"),
                         source=source, column="rate", rows=rows)
    da = xr.DataArray(arr, dims=("origin", "destination", "age"),
                      coords={"origin": codes, "destination": dests, "age": axis}, name="rate")
    da.attrs.update(long_name="Annual transition rate between métiers", units="1/year", source=source,
                    description="probability that a worker of `origin` (age at the start of the year) "
                                "works in `destination` one year later; 'exit' = other exits from "
                                "employment (end-of-career departures excluded)")
    return da


# ----------------------------------------------------------------------------- a prior from ROME
_EVERY = "*"
_EVERY_ALIASES = {"*": _EVERY, "all": _EVERY, "tous": _EVERY, "toutes": _EVERY}


def _total_table(total_rate) -> tuple[pd.DataFrame, str]:
    """``total_rate`` as a table ``metier, rate[, age_min, age_max]`` (``metier`` "*" = every métier)."""
    if isinstance(total_rate, (bool, np.bool_)):
        raise ArgumentError(tr("total_rate is an annual rate (a number such as 0.05), not True/False",
                               "total_rate est un taux annuel (un nombre comme 0.05), pas True/False"),
                            name="total_rate", value=total_rate)
    if isinstance(total_rate, (int, float, np.integer, np.floating)):
        r = float(total_rate)
        if not np.isfinite(r) or not 0.0 <= r < 1.0:
            raise ArgumentError(tr("total_rate is the annual probability of changing métier, from 0 to 1 "
                                   "(excluded; 0.05 for 5 %)",
                                   "total_rate est la probabilité annuelle de changer de métier, de 0 à 1 "
                                   "(exclu ; 0.05 pour 5 %)"), name="total_rate", value=total_rate)
        return pd.DataFrame({"metier": [_EVERY], "rate": [r]}), "total_rate"
    if isinstance(total_rate, pd.Series):
        total_rate = total_rate.to_dict()
    if isinstance(total_rate, dict):
        if not total_rate:
            raise ArgumentError(tr("total_rate is an empty mapping", "total_rate est un dictionnaire vide"),
                                name="total_rate", value=total_rate)
        return pd.DataFrame({"metier": list(total_rate), "rate": list(total_rate.values())}), "total_rate"
    if isinstance(total_rate, (pd.DataFrame, str, Path)):
        name = tr("total rates", "taux totaux")
        df, source = read_rate_table(total_rate, name)
        return check_columns(df, ("rate",), {"metier", "rate", "age_min", "age_max", "note"}, source,
                             name), source
    raise ArgumentError(tr("total_rate must be a number, a mapping métier → rate, or a table (DataFrame or file) "
                           "with columns rate and optional metier, age_min, age_max",
                           "total_rate doit être un nombre, un dictionnaire métier → taux, ou un tableau (DataFrame "
                           "ou fichier) avec une colonne rate et, au choix, metier, age_min, age_max"),
                        name="total_rate", value=type(total_rate).__name__)


def _total_rates(total_rate, codes: list[str], table: dict[str, str], axis: np.ndarray) -> tuple[np.ndarray, str]:
    """The total out-rate (métier, age) of :func:`transitions_from_passerelles`, checked."""
    df, source = _total_table(total_rate)
    if "metier" not in df.columns:
        df["metier"] = _EVERY
    blank = df["metier"].isna() | (df["metier"].astype(str).str.strip() == "")
    df.loc[blank, "metier"] = _EVERY
    df["metier"] = match_codes(df, "metier", table, "métier", source, special=_EVERY_ALIASES)
    rate = as_number(df, "rate", source)
    bad = (rate < 0) | (rate >= 1)
    if bad.any():
        raise InputError(tr(f"total rate outside [0, 1) in {int(bad.sum())} row(s): the annual probability of "
                            "changing métier (0.05 for 5 %; 1 would move every worker every year)",
                            f"taux total hors de [0, 1) dans {plural(int(bad.sum()), 'row', 'ligne')} : la probabilité "
                            "annuelle de changer de métier (0.05 pour 5 % ; 1 ferait changer chaque actif chaque "
                            "année)"), source=source,
                         column="rate", rows=df.loc[bad].reset_index(names="row"))
    lo, hi = _age_bounds(df, axis, source)
    cover = (axis[None, :] >= lo[:, None]) & (axis[None, :] <= hi[:, None])   # rows × ages
    out = np.zeros((len(codes), len(axis)))
    index = pd.Index(codes)
    for key in [_EVERY] + [c for c in pd.unique(df["metier"]) if c != _EVERY]:   # a métier's rows override "*"
        rows = np.flatnonzero((df["metier"] == key).to_numpy())
        if not len(rows):
            continue
        twice = cover[rows].sum(0) > 1
        if twice.any():
            clash = rows[cover[rows][:, twice].any(1)]
            raise InputError(tr(f"several rows give the total rate of {'every métier' if key == _EVERY else key} "
                                f"at ages {_ranges(axis[twice])}",
                                f"plusieurs lignes donnent le taux total "
                                f"{'de tous les métiers' if key == _EVERY else 'de ' + key} "
                                f"aux âges {_ranges(axis[twice])}"), source=source,
                             column="metier, age_min, age_max",
                             rows=df.iloc[clash].reset_index(names="row"))
        targets = slice(None) if key == _EVERY else [index.get_loc(key)]
        for r in rows:
            out[targets, cover[r]] = float(rate.iloc[r])
    return out, source


def transitions_from_passerelles(total_rate, metiers=None, *, ages=None,
                                 min_strength: float = _skills.MIN_STRENGTH) -> xr.DataArray:
    """A **prior** for the transition matrix: your annual rate of changing métier, spread over the métiers that
    ROME 4.0 links to each métier (its « mobilités », :func:`pmq.data.skills.passerelles`) in proportion to the
    strength of the link.  An estimate, not data: label it so wherever you show its flows.

    ``rate[o, d, a] = total_rate[o, a] × strength[o, d] / Σ_d' strength[o, d']``, the sum over the
    destinations kept: the métiers of the nomenclature other than ``o`` whose passerelle from ``o`` has a
    strength ≥ ``min_strength``.  The result has exactly the form of :func:`read_transitions`
    (``exit`` column at 0) and goes to :func:`occupational_mobility` and :func:`mobility_horizons`.

    Parameters
    ----------
    total_rate : float, mapping or table
        The annual probability that a worker leaves their métier for another one, **your assumption**: no
        FAP × FAP rate is published.  The published order of magnitude (:data:`MOBILITY_FQP`): 22 % of the
        people in employment in both 2010 and 2015 had changed métier, a third of those aged 20–29 (FQP survey,
        Dares Analyses n° 049, 2018), about 5 % a year over all destinations.  Given as

        * a number in [0, 1): every métier, every age (``0.05``);
        * a mapping (dict or Series) métier code or label → rate; the key ``"*"`` gives the rate of the métiers
          not listed (otherwise 0);
        * a table (DataFrame, CSV, Excel or Parquet file) with a column ``rate`` and optional ``metier`` (blank,
          ``*`` or ``all``: every métier), ``age_min``, ``age_max`` (inclusive age band, a blank bound open;
          default every age) and ``note``.  A métier's own rows override the every-métier rows at the ages they
          cover; métier × age cells no row covers get 0.
    metiers : optional
        The métier nomenclature, as for :func:`read_transitions` (default: the 83 métiers of « Les métiers en
        2030 », all of which have passerelles).  Passerelles to métiers outside it are left out (the kept
        strengths are renormalised).
    ages : array, optional
        Age axis (default: the Dataset's ages, else pmq's 15–74).
    min_strength : float
        Passerelles weaker than this share of the métier's weighted ROME mobilités are left out, as in
        ``pmq passerelles`` (default :data:`pmq.data.skills.MIN_STRENGTH`, 1 %; 0 keeps them all).

    Returns
    -------
    DataArray ``rate`` (origin, destination, age)
        Rows sum to ``total_rate`` over the destinations; the diagonal and ``exit`` are 0.  ``attrs``:
        ``estimated`` (« prior, not data »), ``source``, ``method``, ``min_strength``, ``total_rate``,
        ``order_of_magnitude``.

    Raises
    ------
    ArgumentError
        ``total_rate`` not a number in [0, 1) (the value is named), or ``min_strength`` outside [0, 1).
    InputError
        A table's unknown métier code (with the closest codes), a rate outside [0, 1) or not a number, two rows
        giving the same métier and age, or a métier with a positive rate and no passerelle to another métier of
        the nomenclature (codes outside the 83 métiers of the exercise have none).

    Notes
    -----
    A passerelle is a closeness of content that ROME's advisers describe, not an observed flow of people: the
    destinations of this prior are where a move is plausible, not where people go.  Since workers are conserved
    (each flow out of a métier enters another), :func:`occupational_mobility` gives net flows that sum to 0 over
    the métiers of each territory and year.
    """
    if isinstance(min_strength, (bool, np.bool_)) or not isinstance(min_strength, (int, float, np.integer,
                                                                                    np.floating)):
        raise ArgumentError(tr("min_strength must be a number from 0 to 1 (excluded)",
                               "min_strength doit être un nombre de 0 à 1 (exclu)"), name="min_strength",
                            value=min_strength)
    if not 0.0 <= float(min_strength) < 1.0:
        raise ArgumentError(tr("min_strength is a share of the métier's ROME mobilités, from 0 to 1 (excluded)",
                               "min_strength est une part des mobilités ROME du métier, de 0 à 1 (exclu)"),
                            name="min_strength", value=min_strength)
    codes, table = metier_codes(metiers)
    axis = _ages(metiers, ages)
    total, source = _total_rates(total_rate, codes, table, axis)

    links = _skills.passerelles()
    links = links[(links["metier"] != links["target"]) & (links["strength"] >= float(min_strength))
                  & links["metier"].isin(codes) & links["target"].isin(codes)]
    index = pd.Index(codes)
    share = np.zeros((len(codes), len(codes)))
    np.add.at(share, (index.get_indexer(links["metier"]), index.get_indexer(links["target"])),
              links["strength"].to_numpy(dtype=float))
    kept = share.sum(1)
    stuck = (kept <= 0) & (total.max(1) > 0)
    if stuck.any():
        raise InputError(tr(f"no ROME passerelle of strength ≥ {float(min_strength):g} from these métiers to "
                            "another métier of the nomenclature, so their workers have nowhere to go: give them a "
                            "rate of 0, lower min_strength, or use the 83 métiers of \"Les métiers en 2030\"",
                            f"aucune passerelle ROME de force ≥ {float(min_strength):g} depuis ces métiers vers un "
                            "autre métier de la nomenclature : leurs actifs n'ont nulle part où aller ; donnez-leur "
                            "un taux de 0, abaissez min_strength, ou utilisez les 83 métiers de « Les métiers en "
                            "2030 »"), source=source,
                         column="metier", rows=pd.DataFrame({"metier": np.asarray(codes)[stuck],
                                                              "max_total_rate": total.max(1)[stuck]}))
    share = np.divide(share, kept[:, None], out=np.zeros_like(share), where=kept[:, None] > 0)
    arr = np.zeros((len(codes), len(codes) + 1, len(axis)))
    arr[:, :-1, :] = share[:, :, None] * total[:, None, :]
    da = xr.DataArray(arr, dims=("origin", "destination", "age"),
                      coords={"origin": codes, "destination": codes + [EXIT], "age": axis}, name="rate")
    if isinstance(total_rate, (int, float, np.integer, np.floating)):
        given = f"{float(total_rate):g}"
    elif isinstance(total_rate, (dict, pd.Series)):
        given = f"by métier ({len(total_rate)} entries)"
    else:
        given = f"from the {source}" if source.endswith("table") else f"from {source}"
    da.attrs.update(
        long_name="Annual transition rate between métiers (prior from the ROME passerelles)", units="1/year",
        estimated="yes: a prior, not data (destinations from ROME 4.0 content links, total rate assumed by the "
                  "user)",
        source=f"prior, not data: {_skills.ROME_VERSION} passerelles (pmq.data.skills.passerelles) × total rate "
               f"{given} (user assumption)",
        method="rate[o, d, a] = total_rate[o, a] × strength[o, d] / Σ strength[o, ·] over the destinations d ≠ o "
               f"of the nomenclature with strength ≥ {float(min_strength):g}",
        min_strength=float(min_strength), total_rate=given, order_of_magnitude=MOBILITY_FQP[2],
        description="probability that a worker of `origin` (age at the start of the year) works in "
                    "`destination` one year later, spread over ROME's passerelles; 'exit' = 0")
    return da


# ----------------------------------------------------------------------------- flows
def _check_rate_array(rates: xr.DataArray, source: str | None = None) -> None:
    source = source or tr("transition rates", "taux de transition")
    missing = [d for d in ("origin", "destination") if d not in rates.dims]
    if missing:
        raise InputError(tr(f"the rate array needs dims 'origin' and 'destination' (and usually 'age'); "
                            f"missing {missing}; got {rates.dims}",
                            f"le tableau des taux doit avoir les dimensions 'origin' et 'destination' (et "
                            f"d'ordinaire 'age') ; il manque {missing} ; reçu {rates.dims}"), source=source)
    v = rates.values
    if not np.isfinite(v).all():
        raise InputError(tr("NaN or infinite rates", "taux NaN ou infinis"), source=source, column="rate",
                         rows=rates.where(~np.isfinite(rates), drop=True).to_series().head(10)
                         .reset_index())
    if (v < 0).any() or (v > 1).any():
        bad = rates.where((rates < 0) | (rates > 1), drop=True).to_series().dropna()
        raise InputError(tr("rate outside [0, 1]", "taux hors de [0, 1]"), source=source, column="rate",
                         rows=bad.reset_index())
    common = sorted(set(map(str, rates.origin.values)) & set(map(str, rates.destination.values)))
    if common:
        diag = xr.concat([rates.sel(origin=c, destination=c, drop=True) for c in common], "origin")
        diag = diag.assign_coords(origin=common)
        if float(abs(diag).max()) > 0:
            raise InputError(tr("origin == destination with a non-zero rate (staying is not a transition)",
                                "origin == destination avec un taux non nul (rester n'est pas une transition)"),
                             source=source, column="destination",
                             rows=diag.where(diag > 0, drop=True).to_series().dropna().reset_index())
    tot = rates.sum("destination")
    if float(tot.max()) > 1.0 + 1e-12:
        raise InputError(tr("the out-rates of an origin sum above 1",
                            "la somme des taux de sortie d'une origine dépasse 1"), source=source, column="rate",
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
            raise InputError(tr("rates towards métiers absent from the accounts (these workers would "
                                "vanish); add the métiers to the projection or drop the rows",
                                "taux vers des métiers absents des comptes (ces actifs disparaîtraient) ; "
                                "ajoutez ces métiers à la projection ou retirez ces lignes"),
                             source=tr("transition rates", "taux de transition"), column="destination",
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
        raise ArgumentError(tr("stock must be 'start' or 'survivors'", "stock doit valoir 'start' ou 'survivors'"),
                            name="stock", value=stock)
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
