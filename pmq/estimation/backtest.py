"""Ex-post evaluation: project a past vintage of the DARES data forward and compare with what
was observed (``pmq backtest``).

Data (shipped, see ``pmq/data/raw/SOURCE.md``): DARES « Portraits statistiques des métiers »,
9-band age pyramids of every FAP-87 family for the 3-year windows 2003–2005 … 2017–2019
(window centres 2004 … 2018) and employment by FAP-87 for 1983–2018 (centres of 3-year
windows).

**Vintages.** Both series are 3-year moving averages labelled by the window's centre (2012 =
2011–2013).  A backtest window is named by its *origin* t — the year up to which the survey is
known — and the label of its end window: at origin t the last usable value is the one labelled
a = t − 1 (window t−2…t), the *anchor*, and the forecast horizon is e − a label steps (2010→2018:
anchor 2009, 9 steps).  Nothing labelled t or later is read by a forecast, for employment as for
the pyramids (tests/test_backtest_vintage.py changes every such value and checks that no forecast
moves).  Before this rule the backtest started from the value labelled t, which already contains
year t + 1.

Two parts, each against naive baselines, with the metrics BLS reports for its projections:

**Age structure** (replacement model).  Start from the pyramid of the anchor window, impose the
observed employment path of each FAP (the replacement model is tested *given* employment), run
pmq's engine year by year (:func:`pmq.model.engine.simulate`: departures = stock × hazard,
ageing, the gap to the observed employment filled by recruits placed by an entry-age profile or
removed by the engine's removal profile), and compare the projected age structure with the end
window.

* ``pmq`` — exit hazards estimated from the pairs of pyramids *known at the origin* (pairs of
  windows five years apart ending by the anchor; :func:`pmq.estimation.exits.fit_exits`, partially
  pooled); entry ages from the FAP's own net cohort gains over the five years before the anchor;
* ``pmq_unpooled`` — the same with the per-FAP (unpooled) hazards;
* ``pmq_national`` — the same with the national schedule (one hazard for every FAP);
* ``constant_pyramid`` — naive: the anchor window's age-band shares.

The exit-hazard fit needs two pairs of windows ending by the anchor: with the shipped pyramids
(from 2003–2005) the age part starts at origin 2011; earlier windows evaluate employment only
(:attr:`BacktestResults.skipped` says why).

Metrics per FAP: mean absolute error of the 9 age-band shares (points), error of the share
aged 50 or more and of the share under 30 (points).  For the pmq models, the departures they
imply, and the 5-year exits of the cohorts aged 45+ at the anchor compared with those implied
by the observed pair of pyramids (same definition as :mod:`pmq.estimation.exits`).

**Employment by FAP** (demand).  The models of :data:`pmq.estimation.trends.FORECAST_MODELS`
fitted on the ``trend_years`` labels up to the anchor: ``shares`` (half-trend shares, the
last total), ``shares_damped`` (its bounded variant), ``combination`` (mean of naive, damped and
ARIMA), ``loglinear``, ``damped``, ``arima``; against two naive baselines, ``naive`` (employment
stays at its anchor level) and ``naive_share`` (each FAP keeps its anchor share of the *observed*
end total, which gives it the aggregate for free).  Metrics: mean absolute percentage error
(MAPE), weighted MAPE (Σ|error| / Σ observed), dissimilarity index of the distribution of
employment over FAPs (½ Σ |share error|), share of FAPs whose direction of change is right (not
defined for ``naive``); bootstrap intervals over families of each model's difference to
``naive`` (:func:`bootstrap_intervals`), and a rolling-origin evaluation over every anchor of
the series (:func:`rolling_origin`).

Everything is in thousands of persons, as published.  The loops are over windows, models and
the handful of bands; every FAP is computed at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from pmq.model.ages import AGES, AgeProfiles, band_sums, split_bands
from pmq.model.engine import Profiles, simulate
from pmq.estimation.calibration import _age5_closed
from pmq.errors import ArgumentError, InputError
from pmq.inputs.tables import as_number, check_duplicates, read_table
from pmq.estimation.exits import NOT_FAMILIES, SOURCE as PSRC, _src as _psrc, continuation_table, fit_exits, pyramids
from pmq.estimation.trends import (DAMPING, SHARE_MODELS, SOURCE as ESRC, _src as _esrc, employment_series,
                                   fit_shares, forecast_families, one_blas_thread)
from pmq.options import tr
from pmq.estimation.build import _facts
from pmq.formatting import check_lang, format_number, tick_formatter

__all__ = ["AGE_MODELS", "DEMAND_MODELS", "METRICS", "backtest", "BacktestResults", "read_pyramids",
           "read_employment_series", "plot_backtest", "rolling_origin", "rolling_summary", "bootstrap_intervals",
           "share_sensitivity", "ex_ante_fraction", "DEFAULT_STARTS", "DEFAULT_END", "ROLLING_HORIZONS", "ROLLING_MODELS", "SENSITIVITY",
           "OUTPUT_FILES"]

AGE_MODELS = {
    "pmq": "pmq replacement model, exit hazards estimated on the windows known at the origin "
           "(partially pooled), entry ages from the FAP's previous five years",
    "pmq_unpooled": "the same with per-FAP (unpooled) hazards",
    "pmq_national": "the same with one national hazard schedule for every FAP",
    "constant_pyramid": "naive: the anchor window's age-band shares",
}
DEMAND_MODELS = {
    "shares": "half-trend shares of the last total (pmq.estimation.trends.fit_shares)",
    "shares_damped": "the share model with a damped slope (bounded, for long horizons)",
    "combination": "equal-weight mean of the naive, damped and ARIMA forecasts",
    "loglinear": "log-linear trend fitted on the years up to the anchor",
    "damped": "damped-trend exponential smoothing fitted on the years up to the anchor",
    "arima": "ARIMA(1,1,0) with drift fitted on the years up to the anchor",
    "naive": "naive: employment stays at its anchor level",
    "naive_share": "naive: each FAP keeps its anchor share of the observed end total",
}
#: The models' names in the French tables of :meth:`BacktestResults.summary` (English keeps the codes, the CSV
#: files' ``model``).
MODEL_LABELS_FR = {"pmq": "pmq", "pmq_unpooled": "pmq non mutualisé", "pmq_national": "pmq calendrier national",
                   "constant_pyramid": "pyramide constante", "shares": "parts (demi-tendance)",
                   "shares_damped": "parts amorties", "combination": "combinaison", "loglinear": "log-linéaire",
                   "damped": "lissage amorti", "arima": "ARIMA", "naive": "naïf (emploi constant)",
                   "naive_share": "naïf (part constante)"}
#: metric -> (part, French label, English label, unit, better)
METRICS = {
    "band_mae": ("age", "Erreur absolue moyenne des parts par tranche d'âge", "Mean absolute error of age-band "
                 "shares", "points", "lower"),
    "share50_abs_error": ("age", "Erreur sur la part des 50 ans ou plus (valeur absolue)", "Error on the share "
                          "aged 50+ (absolute)", "points", "lower"),
    "under30_abs_error": ("age", "Erreur sur la part des moins de 30 ans (valeur absolue)", "Error on the share "
                          "under 30 (absolute)", "points", "lower"),
    "exits_ape": ("age", "Erreur absolue sur les sorties à 5 ans des 45 ans ou plus (pondérée)",
                  "Weighted absolute error on the 5-year exits of those aged 45+", "%", "lower"),
    "direction": ("demand", "Sens de l'évolution correct", "Direction of change correct", "% of FAP", "higher"),
    "mape": ("demand", "Erreur absolue moyenne en %", "Mean absolute percentage error", "%", "lower"),
    "wmape": ("demand", "Erreur absolue en % pondérée par l'emploi", "Weighted mean absolute percentage error",
              "%", "lower"),
    "dissimilarity": ("demand", "Indice de dissimilarité", "Dissimilarity index", "%", "lower"),
}
DEFAULT_STARTS = (2010, 2011, 2012, 2013)
DEFAULT_END = 2018
#: The rolling-origin evaluation: every anchor with ``trend_years`` labels behind it, horizons of
#: 6–9 label steps (those of the default windows), the models that fit every family at once.
ROLLING_HORIZONS = (6, 7, 8, 9)
ROLLING_MODELS = ("shares", "shares_damped", "loglinear", "arima", "naive", "naive_share")
#: What ``pmq backtest --out`` writes.
OUTPUT_FILES = ("backtest_metrics.csv", "backtest_age_by_fap.csv", "backtest_age_bands.csv",
                "backtest_employment_by_fap.csv", "demand_metrics.csv", "demand_intervals.csv", "demand_rolling.csv",
                "backtest.png", "backtest.svg")
BANDS = ["15-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60+"]
_LAG = 5            # pairs of pyramids five years apart follow the same 5-year cohorts


# ----------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------
def read_pyramids(path=None) -> pd.DataFrame:
    """Pyramids as the wide table of :func:`pmq.estimation.exits.pyramids` (fap, centre) × 9 bands.

    ``path``: a CSV (or a DataFrame) with columns ``fap, window, band, employment_k``
    (window « 2003-2005 », the 9 DARES bands); default: the shipped DARES series."""
    if path is None:
        return pyramids()
    t, src = read_table(path, name="pyramid")
    if {"fap", "window", "band"} <= set(t.columns):   # summed by the pivot otherwise
        t = t.astype({"fap": str, "window": str, "band": str})
        check_duplicates(t.assign(**{k: t[k].str.strip() for k in ("fap", "window", "band")}),
                          ["fap", "window", "band"], src)
    return pyramids(t.astype({"fap": str}) if "fap" in t.columns else t, source=src)


def read_employment_series(path=None) -> pd.DataFrame:
    """Employment by FAP family (columns) and year (rows), thousands.

    ``path``: a CSV (or a DataFrame) with columns ``fap, year, employment_k``; default: the
    shipped DARES series (FAP-87 families; T2Z and ZZZ left out)."""
    if path is None:
        wide = employment_series(level="fap87")
        wide = wide.drop(columns=[c for c in NOT_FAMILIES if c in wide.columns])
        return pd.DataFrame(wide.to_numpy(dtype=float), index=wide.index, columns=wide.columns)   # one block
    t, src = read_table(path, name="employment")
    need = {"fap", "year", "employment_k"}
    if not need <= set(t.columns):
        raise InputError(tr(f"the employment table needs columns {sorted(need)}",
                            f"le tableau de l'emploi demande les colonnes {sorted(need)}"), source=src,
                         column="columns",
                         rows=sorted(need - set(t.columns)))
    t = t.assign(fap=t["fap"].astype(str), employment_k=as_number(t, "employment_k", src),
                 year=as_number(t, "year", src, integer=True))
    bad = t[t["employment_k"] < 0]
    if len(bad):
        raise InputError(tr("employment must be ≥ 0", "l'emploi doit être ≥ 0"), source=src, column="employment_k",
                         rows=bad.head(10))
    check_duplicates(t, ["fap", "year"], src)
    t = t[~t["fap"].isin(NOT_FAMILIES)]
    gaps = []                      # the trend fits need consecutive years: a gap is refused here, in the file
    for fap, years in t.groupby("fap")["year"]:
        ys = sorted(set(int(y) for y in years))
        missing = sorted(set(range(ys[0], ys[-1] + 1)) - set(ys))
        if missing:
            gaps.append({"fap": fap, "first_year": ys[0], "last_year": ys[-1],
                         "missing_years": ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")})
    if gaps:
        raise InputError(tr(f"gaps in the series of {len(gaps)} FAP: every year between a FAP's first and last year "
                            "is needed (the trend models fit consecutive years); give the missing years",
                            f"séries incomplètes pour {len(gaps)} FAP : chaque année entre la première et la "
                            "dernière année d'une FAP est nécessaire (les modèles de tendance s'ajustent sur des "
                            "années consécutives) ; donnez les années manquantes"),
                         source=src, column="year", rows=pd.DataFrame(gaps))
    wide = t.pivot(index="year", columns="fap", values="employment_k").sort_index()
    return pd.DataFrame(wide.to_numpy(dtype=float), index=wide.index, columns=wide.columns)     # one block


def _source_label(data, name: str, name_fr: str, default: str) -> str:
    """The label :func:`pmq.inputs.tables.read_table` gives ``data`` (file name, or « <name> table »; « tableau
    <name_fr> » in French)."""
    if data is None:
        return default
    return tr(f"{name} table", f"tableau {name_fr}") if isinstance(data, pd.DataFrame) else Path(data).name


#: The names of :func:`backtest`'s arguments in its errors, the command line's option in brackets (``pmq backtest``
#: shows the option alone: :data:`pmq.cli.BACKTEST_OPTIONS`).
START, END, HORIZON, TREND_YEARS = "start (--from)", "end (--to)", "horizon (--horizon)", "trend_years (--trend-years)"


def _check_window(origin: int, end: int, centres: list[int], years: list[int], trend_years: int,
                  pyramids_source: str | None = None, employment_source: str | None = None,
                  end_name: str = END) -> str | None:
    """Refuse a window the data cannot backtest: an origin or an end the data do not reach is refused as the
    argument it is (:class:`~pmq.errors.ArgumentError` naming ``start`` or ``end_name``, the argument that set the
    end: ``end``, ``horizon``, or ``start`` when the end is the default), a gap in the user's pyramids as the
    file's (:class:`~pmq.errors.InputError`).  ``pyramids_source``, ``employment_source``: the user's file (or
    table), None for the shipped DARES data.  Returns None when both parts can run, or why the age part cannot
    (too few pyramids before the anchor): that window then evaluates employment only."""
    anchor = origin - 1
    if end <= anchor:
        raise ArgumentError(tr(f"the end window ({end}) must come after the last window known at origin {origin} "
                               f"(labelled {anchor}: the survey is known up to {origin}, its last 3-year window is "
                               f"{origin - 2}–{origin})",
                               f"la fenêtre de fin ({end}) doit suivre la dernière fenêtre connue à l'origine "
                               f"{origin} (notée {anchor} : l'enquête est connue jusqu'en {origin}, sa dernière "
                               f"fenêtre de 3 ans est {origin - 2}–{origin})"), name=end_name)
    of_e = tr(f" of {employment_source}", f" de {employment_source}") if employment_source else ""
    if anchor - 7 < years[0]:
        raise ArgumentError(tr(f"origin {origin} too early: the trend models need at least 8 known years (series"
                               f"{of_e} from {years[0]}); first possible origin: {years[0] + 8}",
                               f"origine {origin} trop ancienne : les modèles de tendance demandent au moins 8 années "
                               f"connues (séries{of_e} depuis {years[0]}) ; première origine possible : {years[0] + 8}"),
                            name=START)
    if anchor not in years:
        raise ArgumentError(tr(f"origin {origin} too late: its forecasts start from the value labelled {anchor}, "
                               f"and the employment series{of_e} end in {years[-1]}; last possible origin: "
                               f"{years[-1]}",
                               f"origine {origin} trop récente : ses prévisions partent de la valeur notée {anchor}, "
                               f"et les séries d'emploi{of_e} s'arrêtent en {years[-1]} ; dernière origine possible : "
                               f"{years[-1]}"), name=START)
    skipped = None
    if anchor - _LAG - 1 not in centres:
        skipped = (f"age structure not evaluated from origin {origin}: the exit-hazard fit needs two pairs of "
                   f"pyramids five years apart ending by {anchor} (the last window known), and the first "
                   f"pyramid is labelled {centres[0]}; the first origin with them is {centres[0] + _LAG + 2}")
    else:
        if end not in centres:
            of_p = tr(f" of {pyramids_source}", f" de {pyramids_source}") if pyramids_source else ""
            raise ArgumentError(tr(f"end window {end} outside the pyramids{of_p} (windows {centres[0]}–{centres[-1]}"
                                   f"); last possible end: {centres[-1]}",
                                   f"fenêtre de fin {end} hors des pyramides{of_p} (fenêtres {centres[0]}–"
                                   f"{centres[-1]}) ; dernière fin possible : {centres[-1]}"), name=end_name)
        missing = [y for y in range(anchor - _LAG - 1, end + 1) if y not in centres]
        if missing:
            raise InputError(tr(f"the age part from origin {origin} needs every window from {anchor - _LAG - 1} "
                                f"(pairs of windows before the anchor) to {end} (the observed employment path)",
                                f"la partie par âge depuis l'origine {origin} demande toutes les fenêtres de "
                                f"{anchor - _LAG - 1} (paires de fenêtres avant l'ancrage) à {end} (la trajectoire "
                                f"observée de l'emploi)"),
                             source=pyramids_source or _psrc(PSRC), column="window", rows=missing)
    if end not in years and employment_source:         # the user's series: the file is short
        raise InputError(tr(f"no value for the end window {end} (years {years[0]}–{years[-1]}); last possible end: "
                            f"{years[-1]}",
                            f"aucune valeur pour la fenêtre de fin {end} (années {years[0]}–{years[-1]}) ; dernière fin "
                            f"possible : {years[-1]}"), source=employment_source, column="year")
    if end not in years:
        raise ArgumentError(tr(f"end window {end} beyond the employment series{of_e} (years {years[0]}–{years[-1]}); "
                               f"last possible end: {years[-1]}",
                               f"fenêtre de fin {end} au-delà des séries d'emploi{of_e} (années {years[0]}–"
                               f"{years[-1]}) ; dernière fin possible : {years[-1]}"), name=end_name)
    return skipped


# ----------------------------------------------------------------------------------------------
# Age structure: the replacement model
# ----------------------------------------------------------------------------------------------
#: Exit-hazard fits by the content of their continuation table: backtests of other windows and
#: other end years from the same start refit the same table (the fit is deterministic).  A few
#: entries of ~5 MB; private (the fits are read, never modified, by :func:`_age_part`).
_VINTAGE_FITS: dict = {}
_VINTAGE_FITS_SIZE = 8


def _vintage_fit(wide: pd.DataFrame, anchor: int):
    """Exit-hazard fit on the pairs of windows that end at or before ``anchor`` (the last window
    known at the origin)."""
    centres = sorted(set(wide.index.get_level_values("centre")))
    starts = [c for c in centres if c + _LAG <= anchor and c + _LAG in centres]
    table = continuation_table(wide, lag=_LAG, starts=starts)
    key = (tuple(table.columns), tuple(map(str, table.dtypes)),
           pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    hit = _VINTAGE_FITS.get(key)
    if hit is not None and hit[0].equals(table):
        return hit[1]
    fit = fit_exits(table)
    if len(_VINTAGE_FITS) >= _VINTAGE_FITS_SIZE:
        _VINTAGE_FITS.pop(next(iter(_VINTAGE_FITS)))
    _VINTAGE_FITS[key] = (table, fit)
    return fit


def _hazard_arrays(fit, faps: list[str]) -> dict[str, np.ndarray]:
    """(fap, age) annual hazards of the three pmq variants."""
    out = {"pmq": fit.hazards(pooled=True), "pmq_unpooled": fit.hazards(pooled=False)}
    nat = fit.cells.assign(theta_pooled=fit.cells["national"], theta=fit.cells["national"])
    out["pmq_national"] = type(fit)(table=fit.table, glm=fit.glm, cells=nat, tau2=fit.tau2).hazards()
    missing = sorted(set(faps) - set(out["pmq"].index))
    if missing:
        raise InputError(tr("no exit-hazard estimate for some FAP (no usable pair of windows before the start)",
                            "aucune estimation des taux de sortie pour certaines FAP (aucune paire de fenêtres "
                            "utilisable avant le départ)"),
                         source="backtest", column="fap", rows=missing[:10])
    return {k: h.loc[faps, list(AGES)].to_numpy() for k, h in out.items()}


def _entry_profiles(E_before: np.ndarray, E_start: np.ndarray, hazard: np.ndarray):
    """Young entrants and other recruits from the net cohort gains of the five years before the
    start: the observed single-age stock at the start minus the survivors (under ``hazard``) of
    the stock five years earlier.  Returns the young-entrant rate (per year, share of employment),
    the young profile (positive gains at ages < 30) and the recruit profile (positive gains at 30+)
    as (fap, age) arrays; where a FAP has no gain, the engine's default profile is used."""
    S = _age5_closed(E_before, hazard, _LAG)     # closed cohorts: exits, then ageing
    gain = np.maximum(E_start - S, 0.0)
    # gains are counted at the age reached at the start; entries spread over the five years have
    # aged by two years on average since they came in (end-of-year convention): move them back.
    gain = np.concatenate([gain[..., :3].sum(-1, keepdims=True), gain[..., 3:],
                           np.zeros(gain.shape[:-1] + (2,))], axis=-1)     # nobody enters below 15
    young_ages = AGES < 30
    spec = AgeProfiles()

    def norm(g, default):
        tot = g.sum(-1, keepdims=True)
        return np.where(tot > 0, g / np.where(tot > 0, tot, 1.0), np.broadcast_to(default, g.shape))
    young = gain * young_ages
    mean_emp = 0.5 * (E_before.sum(-1) + E_start.sum(-1))
    rate = young.sum(-1) / _LAG / np.where(mean_emp > 0, mean_emp, 1.0)
    return rate, norm(young, spec.young(AGES)), norm(gain * ~young_ages, spec.recruits(AGES))


def _age_part(wide: pd.DataFrame, anchor: int, end: int, faps: list[str], share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The replacement model from the pyramid labelled ``anchor`` (the last known at the origin) to
    ``end``, with hazards and entry profiles from the windows up to ``anchor`` and the observed
    employment path ``anchor`` … ``end`` imposed (the part is conditional on employment)."""
    fit = _vintage_fit(wide, anchor)
    hz = _hazard_arrays(fit, faps)
    counts = {y: wide.xs(y, level="centre").loc[faps, BANDS].to_numpy() for y in range(anchor - _LAG, end + 1)}
    totals = np.stack([counts[y].sum(-1) for y in range(anchor, end + 1)])           # (year, fap)
    nc = np.diff(totals, axis=0)
    zeros = np.zeros_like(nc)
    obs_shares = counts[end] / counts[end].sum(-1, keepdims=True)
    anchor_shares = counts[anchor] / counts[anchor].sum(-1, keepdims=True)
    # observed 5-year exits of the cohorts aged 45+ at the anchor (pseudo-cohorts, as exits_fit)
    obs_q = _pair_exits(wide, anchor, faps)
    rows, band_rows = [], []
    for model, h in hz.items():
        E_before = split_bands(counts[anchor - _LAG], h, share)
        E0 = split_bands(counts[anchor], h, share)
        rate, young, recruits = _entry_profiles(E_before, E0, h)
        base = Profiles.from_spec()
        profiles = Profiles(young=young, recruits=recruits, mobility=base.mobility, removal=base.removal)
        ye = rate * totals[:-1]                  # young entrants: the pre-anchor rate × employment
        res = simulate(E0, h, nc, ye, zeros, profiles, record="totals")
        E_end = np.asarray(res["employment"][-1])
        pred = band_sums(E_end) / E_end.sum(-1, keepdims=True)
        dep = np.asarray(res["departures"]).sum(0)
        # predicted 5-year exits of the 45+ cohorts under the model's hazards: closed cohorts
        S = E0 * (AGES >= 45)
        exits5 = S.sum(-1) - _age5_closed(S, h, _LAG).sum(-1)     # closed cohorts: all that left
        rows.append(_age_metrics(model, faps, pred, obs_shares, anchor_shares, dep, exits5, obs_q))
        band_rows.append(_band_table(model, faps, pred, obs_shares))
    rows.append(_age_metrics("constant_pyramid", faps, anchor_shares, obs_shares, anchor_shares, None, None, obs_q))
    band_rows.append(_band_table("constant_pyramid", faps, anchor_shares, obs_shares))
    return pd.concat(rows, ignore_index=True), pd.concat(band_rows, ignore_index=True)


def _pair_exits(wide: pd.DataFrame, anchor: int, faps: list[str]) -> np.ndarray:
    """Observed 5-year exits (thousands) of the cohorts aged 45+ in the anchor window, from the pair
    (anchor, anchor + 5) when the data have it (NaN otherwise): Σ n·q over the three transitions."""
    centres = set(wide.index.get_level_values("centre"))
    if anchor + _LAG not in centres:
        return np.full(len(faps), np.nan)
    t = continuation_table(wide, lag=_LAG, starts=[anchor])
    ex = (t["n"] * t["q"]).groupby(t["fap"]).sum()
    return ex.reindex(faps).to_numpy()


def _age_metrics(model, faps, pred, obs, start, dep, exits5, obs_exits) -> pd.DataFrame:
    def s50(x):
        return x[:, 6:].sum(-1) * 100              # bands 50-54, 55-59, 60+

    def u30(x):
        return x[:, :2].sum(-1) * 100              # bands 15-24, 25-29
    d = pd.DataFrame({"fap": faps, "model": model,
                      "band_mae": np.abs(pred - obs).mean(-1) * 100,
                      "share50_start": s50(start), "share50_pred": s50(pred), "share50_obs": s50(obs),
                      "under30_start": u30(start), "under30_pred": u30(pred), "under30_obs": u30(obs)})
    d["share50_abs_error"] = (d["share50_pred"] - d["share50_obs"]).abs()
    d["under30_abs_error"] = (d["under30_pred"] - d["under30_obs"]).abs()
    d["departures_k"] = np.nan if dep is None else dep
    d["exits5_pred_k"] = np.nan if exits5 is None else exits5
    d["exits5_obs_k"] = obs_exits
    d["exits_ape"] = (d["exits5_pred_k"] / d["exits5_obs_k"] - 1).abs() * 100
    return d


def _band_table(model, faps, pred, obs) -> pd.DataFrame:
    n = len(BANDS)
    return pd.DataFrame({"fap": np.repeat(faps, n), "model": model, "band": np.tile(BANDS, len(faps)),
                         "share_pred": pred.ravel() * 100, "share_obs": obs.ravel() * 100})


# ----------------------------------------------------------------------------------------------
# Employment by FAP: demand models against naive baselines
# ----------------------------------------------------------------------------------------------
def _forecasts(history: pd.DataFrame, horizon: int, models, trend_years: int, source: str | None) -> dict:
    """{model: forecasts (horizon years × families)} from ``history`` (the labels up to the anchor)."""
    out: dict = {}
    shares = None
    for m in models:
        if m in ("naive_share",):
            continue
        if m == "combination" and {"naive", "damped", "arima"} <= set(out):
            out[m] = (out["naive"] + out["damped"] + out["arima"]) / 3
        elif m in SHARE_MODELS:          # one fit, two slope rules
            shares = shares or fit_shares(history, fit_years=trend_years, source=source)
            out[m] = replace(shares, damping=DAMPING if m == "shares_damped" else None).forecast(horizon)
        else:
            out[m] = forecast_families(history, m, horizon, fit_years=trend_years, source=source)
    return out


def _demand_part(series: pd.DataFrame, origin: int, end: int, trend_years: int,
                 source: str | None = None) -> pd.DataFrame:
    """Forecasts of every demand model from ``origin`` (anchor ``origin − 1``) to ``end``, one row
    per model × FAP: ``start_k`` (the anchor's value), ``pred_k``, ``obs_k``."""
    anchor = origin - 1
    faps = [f for f in series.columns if np.isfinite(series.loc[anchor, f]) and np.isfinite(series.loc[end, f])]
    history = series.loc[anchor - trend_years + 1:anchor, faps]       # nothing labelled ≥ origin
    s0 = history.loc[anchor].to_numpy(float)
    obs = series.loc[end, faps].to_numpy(float)
    order = ["naive", "damped", "arima", "combination", "shares", "shares_damped", "loglinear"]
    fc = _forecasts(history, end - anchor, order, trend_years, source)
    preds = {m: fc[m].loc[end].to_numpy(float) for m in DEMAND_MODELS if m in fc}
    preds["naive_share"] = s0 / s0.sum() * obs.sum()
    rows = [pd.DataFrame({"fap": faps, "model": m, "start_k": s0, "pred_k": preds[m], "obs_k": obs})
            for m in DEMAND_MODELS]
    return pd.concat(rows, ignore_index=True)


def _scores(pred: np.ndarray, obs: np.ndarray, start: np.ndarray, naive: bool = False) -> dict:
    """MAPE, weighted MAPE, dissimilarity index (%) and the share of FAPs with the right direction of
    change (%, NaN for the naive forecast, which predicts none)."""
    ape = np.abs(pred / obs - 1) * 100
    direction = np.nan if naive else float((np.sign(obs - start) == np.sign(pred - start)).mean() * 100)
    return {"direction": direction, "mape": float(ape.mean()),
            "wmape": float(np.abs(pred - obs).sum() / obs.sum() * 100),
            "dissimilarity": 50 * float(np.abs(pred / pred.sum() - obs / obs.sum()).sum())}


def _demand_metrics(d: pd.DataFrame) -> pd.DataFrame:
    out = []
    for model, g in d.groupby("model", sort=False):
        sc = _scores(g["pred_k"].to_numpy(float), g["obs_k"].to_numpy(float), g["start_k"].to_numpy(float),
                     naive=model == "naive")
        out.append({"model": model, **sc, "fap": len(g)})
    return pd.DataFrame(out)


def _boot_metrics(pred: np.ndarray, obs: np.ndarray, W: np.ndarray) -> tuple[dict, dict]:
    """The metrics on every bootstrap draw (rows of the counts ``W``) and on the sample itself."""
    ape = np.abs(pred / obs - 1) * 100
    ps, os_ = pred / (W @ pred)[:, None], obs / (W @ obs)[:, None]
    boot = {"mape": W @ ape / len(obs), "wmape": W @ np.abs(pred - obs) / (W @ obs) * 100,
            "dissimilarity": 50 * (W * np.abs(ps - os_)).sum(axis=1)}
    return boot, _scores(pred, obs, obs)


def bootstrap_intervals(demand: pd.DataFrame, draws: int = 2000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Bootstrap over families of each model's difference to ``naive``, per window (the ``demand``
    table of :class:`BacktestResults`): the families are drawn with replacement ``draws`` times
    (the same draws for every model, so the differences are paired) and the metrics recomputed on
    each draw.  One row per window × model × metric (``mape``, ``wmape``, ``dissimilarity``):
    the value, the naive value, the difference, its ``level`` percentile interval and the share of
    draws where the model does better than naive."""
    rng = np.random.default_rng(seed)
    lo_q, hi_q = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    rows = []
    for (s, e), g in demand.groupby(["start", "end"], sort=False):
        by = {m: x.set_index("fap") for m, x in g.groupby("model", sort=False)}
        faps = by["naive"].index
        n = len(faps)
        W = rng.multinomial(n, np.full(n, 1.0 / n), size=draws).astype(float)       # (draw, family) counts
        obs = by["naive"]["obs_k"].to_numpy(float)

        base, base_full = _boot_metrics(by["naive"]["pred_k"].reindex(faps).to_numpy(float), obs, W)
        for model, x in by.items():
            if model == "naive":
                continue
            boot, full = _boot_metrics(x["pred_k"].reindex(faps).to_numpy(float), obs, W)
            for metric in ("mape", "wmape", "dissimilarity"):
                diff = boot[metric] - base[metric]
                rows.append({"window": f"{s}→{e}", "model": model, "metric": metric, "value": full[metric],
                             "naive": base_full[metric], "difference": full[metric] - base_full[metric],
                             "lo": float(np.percentile(diff, lo_q)), "hi": float(np.percentile(diff, hi_q)),
                             "share_better": float(_better(boot[metric], base[metric]).mean() * 100)})
    return pd.DataFrame(rows, columns=["window", "model", "metric", "value", "naive", "difference", "lo", "hi",
                                       "share_better"])


#: The share model's variants of the sensitivity check: trend fractions × fit windows (labels).
SENSITIVITY: dict[str, tuple] = {"trend_fraction": (0.4, 0.5, 0.6), "fit_years": (8, 10, 12, 15)}


def share_sensitivity(series: pd.DataFrame, windows, source: str | None = None) -> pd.DataFrame:
    """The share model with other trend fractions and fit windows (:data:`SENSITIVITY`) in each
    window (origin, end): MAPE and dissimilarity against the naive forecast's.  The defaults (0.5,
    15) were not chosen on these windows; this says how much the result depends on them."""
    rows = []
    for s, e in windows:
        a = s - 1
        faps = list(series.columns[series.loc[a].notna().to_numpy() & series.loc[e].notna().to_numpy()])
        obs, s0 = series.loc[e, faps].to_numpy(float), series.loc[a, faps].to_numpy(float)
        naive = _scores(s0, obs, s0, naive=True)
        for fy in SENSITIVITY["fit_years"]:
            if a - fy + 1 < int(series.index[0]):
                continue
            base = fit_shares(series.loc[:a, faps], fit_years=int(fy), source=source)
            for f in SENSITIVITY["trend_fraction"]:
                pred = replace(base, trend_fraction=f).forecast(e - a).loc[e].to_numpy(float)
                sc = _scores(pred, obs, s0)
                rows.append({"window": f"{s}→{e}", "trend_fraction": f, "fit_years": fy, "mape": sc["mape"],
                             "dissimilarity": sc["dissimilarity"], "naive_mape": naive["mape"],
                             "naive_dissimilarity": naive["dissimilarity"]})
    return pd.DataFrame(rows, columns=["window", "trend_fraction", "fit_years", "mape", "dissimilarity", "naive_mape",
                                       "naive_dissimilarity"])


#: The trend fractions among which :func:`ex_ante_fraction` chooses.
EX_ANTE_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def ex_ante_fraction(series: pd.DataFrame, origins, trend_years: int = 15, horizons=ROLLING_HORIZONS,
                     grid=EX_ANTE_GRID, source: str | None = None) -> pd.DataFrame:
    """The share model's trend fraction as a forecaster could have chosen it at each origin: the
    one of ``grid`` with the lowest mean MAPE over the rolling-origin forecasts (anchors from the
    first with ``trend_years`` labels, ``horizons``) whose targets are known at the origin (labelled
    origin − 1 or earlier).  One row per origin × fraction: ``cases``, ``mape``, ``chosen``."""
    origins = sorted(int(o) for o in origins)
    first, last = int(series.index[0]), min(int(series.index[-1]), origins[-1] - 1)
    grid = np.asarray(grid, dtype=float)
    cases = []                                               # (target label, MAPE per fraction)
    for a in range(first + trend_years - 1, last):
        block = series.loc[a - trend_years + 1:a]
        faps = list(series.columns[block.notna().all().to_numpy()])
        fit = fit_shares(series.loc[:a, faps], fit_years=trend_years, source=source)
        ell, b, total = fit.log_share.to_numpy(), fit.slope.to_numpy(), float(fit.level.sum())
        for h in horizons:
            if a + h > last:
                continue
            obs = series.loc[a + h, faps].to_numpy(float)
            lhat = ell[None, :] + grid[:, None] * h * b[None, :]
            share = np.exp(lhat - lhat.max(axis=1, keepdims=True))
            pred = share / share.sum(axis=1, keepdims=True) * total
            ok = np.isfinite(obs)
            cases.append((a + h, (np.abs(pred[:, ok] / obs[ok] - 1) * 100).mean(axis=1)))
    rows = []
    for o in origins:
        known = [m for e, m in cases if e <= o - 1]
        if not known:
            continue
        mean = np.mean(known, axis=0)
        for f, m in zip(grid, mean):
            rows.append({"origin": o, "trend_fraction": float(f), "cases": len(known), "mape": float(m),
                         "chosen": bool(m == mean.min())})
    return pd.DataFrame(rows, columns=["origin", "trend_fraction", "cases", "mape", "chosen"])


def _ex_ante_sentence(ex: pd.DataFrame) -> str | None:
    if ex.empty:
        return None
    chosen = ex[ex["chosen"]].groupby("origin")["trend_fraction"].first()
    grid = sorted(set(ex["trend_fraction"]))
    n = ex.groupby("origin")["cases"].first()
    picks = ("{:g} at every origin ({})".format(chosen.iloc[0], ", ".join(map(str, chosen.index)))
             if chosen.nunique() == 1 else ", ".join(f"{f:g} at origin {o}" for o, f in chosen.items()))
    return (f"Chosen ex ante: among the trend fractions {grid[0]:g}, {grid[1]:g}, …, {grid[-1]:g}, the one with the "
            f"lowest MAPE on the rolling-origin forecasts whose targets are known at the origin ({n.min()}–{n.max()} "
            f"forecasts) is {picks}.")


def _sensitivity_sentence(sens: pd.DataFrame) -> str | None:
    if sens.empty:
        return None
    both = _better(sens["mape"], sens["naive_mape"]) & _better(sens["dissimilarity"], sens["naive_dissimilarity"])
    fr, fy = sens["trend_fraction"], sens["fit_years"]
    return (f"Sensitivity: with trend fractions {fr.min():g}–{fr.max():g} and fit windows of {fy.min()}–{fy.max()} "
            f"labels ({fr.nunique() * fy.nunique()} variants), the share model beats `naive` on both the MAPE and "
            f"the dissimilarity index in {int(both.sum())} of {len(sens)} variant × window cases.")


def rolling_origin(series: pd.DataFrame | None = None, trend_years: int = 15, horizons=ROLLING_HORIZONS,
                   models=ROLLING_MODELS, source: str | None = None) -> pd.DataFrame:
    """Rolling-origin evaluation of the demand ``models`` on an employment ``series`` (years ×
    families; default: the shipped DARES series): from every anchor a with ``trend_years`` labels
    behind it (1997 on the shipped series) to a + h for each horizon h that the series covers.
    Each anchor uses the families observed over its whole fit window (T2A and T2B start in 1995:
    85 families before the anchor 2009, 87 after).  One row per anchor × horizon × model:
    ``mape``, ``wmape``, ``dissimilarity``, ``direction_share`` (%) and the number of families."""
    series = read_employment_series() if series is None else series
    models = list(models)
    unknown = [m for m in models if m not in DEMAND_MODELS]
    if unknown:
        raise ArgumentError(tr(f"unknown model; use some of {', '.join(DEMAND_MODELS)}",
                                f"modèle inconnu ; modèles possibles : {', '.join(DEMAND_MODELS)}"),
                            name="models", value=unknown)
    years = [int(y) for y in series.index]
    first, last = years[0], years[-1]
    hs = sorted(int(h) for h in horizons)
    rows = []
    for a in range(first + trend_years - 1, last - hs[0] + 1):
        ends = [a + h for h in hs if a + h <= last]
        block = series.loc[a - trend_years + 1:a]
        faps = list(series.columns[block.notna().all().to_numpy() & series.loc[ends].notna().all().to_numpy()])
        history = block[faps]
        fc = _forecasts(history, ends[-1] - a, models, trend_years, source)
        s0 = history.loc[a].to_numpy(float)
        for e in ends:
            obs = series.loc[e, faps].to_numpy(float)
            for m in models:
                pred = s0 / s0.sum() * obs.sum() if m == "naive_share" else fc[m].loc[e].to_numpy(float)
                sc = _scores(pred, obs, s0, naive=m == "naive")
                rows.append({"anchor": a, "horizon": e - a, "end": e, "model": m, "mape": sc["mape"],
                             "wmape": sc["wmape"], "dissimilarity": sc["dissimilarity"],
                             "direction_share": sc["direction"], "families": len(faps)})
    return pd.DataFrame(rows, columns=["anchor", "horizon", "end", "model", "mape", "wmape", "dissimilarity",
                                       "direction_share", "families"])


def _better(x, naive):
    """Where ``x`` is lower than ``naive`` by more than rounding (the share-preserving baselines
    have the naive dissimilarity up to the last bit)."""
    x, naive = np.asarray(x, dtype=float), np.asarray(naive, dtype=float)
    return x < naive * (1 - 1e-9)


def rolling_summary(rolling: pd.DataFrame) -> pd.DataFrame:
    """Per model, over every anchor × horizon of :func:`rolling_origin`: mean metrics, the mean
    relative difference to ``naive`` (%) and the share of cases where the model beats it (%)."""
    if rolling.empty:
        return pd.DataFrame(columns=["model", "cases", "mape", "dissimilarity", "mape_vs_naive",
                                     "dissimilarity_vs_naive", "beats_naive_mape", "beats_naive_dissimilarity"])
    key = ["anchor", "horizon"]
    naive = rolling[rolling["model"] == "naive"].set_index(key)
    out = []
    for model, g in rolling.groupby("model", sort=False):
        g = g.set_index(key)
        nv = naive.reindex(g.index)
        out.append({"model": model, "cases": len(g), "mape": g["mape"].mean(), "dissimilarity": g["dissimilarity"].mean(),
                    "mape_vs_naive": float((g["mape"] / nv["mape"] - 1).mean() * 100),
                    "dissimilarity_vs_naive": float((g["dissimilarity"] / nv["dissimilarity"] - 1).mean() * 100),
                    "beats_naive_mape": float(_better(g["mape"], nv["mape"]).mean() * 100),
                    "beats_naive_dissimilarity": float(_better(g["dissimilarity"], nv["dissimilarity"]).mean() * 100)})
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------
@dataclass
class BacktestResults:
    """Backtests for one or several (origin, end) windows.

    ``age``: one row per window × model × FAP (age-structure metrics, departures); ``bands``:
    projected and observed age-band shares; ``demand``: predicted and observed employment per
    window × model × FAP (``start`` is the origin, ``start_k`` the anchor's value);
    ``intervals``: :func:`bootstrap_intervals`; ``rolling``: :func:`rolling_origin`; ``skipped``:
    the windows whose age part could not run, and why.  :meth:`metrics` summarises them per
    window × model, :meth:`demand_metrics` gives the demand table of ``demand_metrics.csv``."""

    windows: list[tuple[int, int]]
    age: pd.DataFrame
    bands: pd.DataFrame
    demand: pd.DataFrame
    sources: dict = field(default_factory=dict)
    intervals: pd.DataFrame = field(default_factory=pd.DataFrame)
    rolling: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: dict = field(default_factory=dict)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    ex_ante: pd.DataFrame = field(default_factory=pd.DataFrame)

    def metrics(self) -> pd.DataFrame:
        """One row per (start, end, part, model): the metrics of :data:`METRICS`, plus for the age
        part the share of FAPs where the model beats the constant pyramid on the band MAE."""
        rows = []
        for (s, e), g in self.age.groupby(["start", "end"], sort=False):
            naive = g[g["model"] == "constant_pyramid"].set_index("fap")["band_mae"]
            for model, m in g.groupby("model", sort=False):
                wins = (m.set_index("fap")["band_mae"] < naive.reindex(m["fap"]).to_numpy()).mean() * 100
                rows.append({"start": s, "end": e, "part": "age", "model": model, "fap": len(m),
                             "band_mae": m["band_mae"].mean(),
                             "band_mae_weighted": np.average(m["band_mae"], weights=m["weight"]),
                             "share50_abs_error": m["share50_abs_error"].mean(),
                             "under30_abs_error": m["under30_abs_error"].mean(),
                             **_exit_errors(m),
                             "beats_constant_pyramid": np.nan if model == "constant_pyramid" else wins})
        for (s, e), g in self.demand.groupby(["start", "end"], sort=False):
            for r in _demand_metrics(g).to_dict("records"):
                rows.append({"start": s, "end": e, "part": "demand", **r})
        return pd.DataFrame(rows, columns=_METRIC_COLUMNS)     # every column, even when a part did not run

    def demand_metrics(self) -> pd.DataFrame:
        """``demand_metrics.csv``: one row per window (« 2012→2018 »: origin → end label) × demand
        model, with ``mape``, ``wmape``, ``dissimilarity`` and ``direction_share`` (%)."""
        m = self.metrics()
        m = m[m["part"] == "demand"]
        return pd.DataFrame({"window": m["start"].astype(str) + "→" + m["end"].astype(str), "model": m["model"],
                             "mape": m["mape"], "wmape": m["wmape"], "dissimilarity": m["dissimilarity"],
                             "direction_share": m["direction"]}).reset_index(drop=True)

    def rolling_summary(self) -> pd.DataFrame:
        """:func:`rolling_summary` of :attr:`rolling`."""
        return rolling_summary(self.rolling)

    def table(self, lang: str | None = None) -> pd.DataFrame:
        """The headline table: one row per model, one column per metric × window."""
        lang = check_lang(lang)
        m = self.metrics()
        cols = ["band_mae", "share50_abs_error", "beats_constant_pyramid", "exits_ape", "direction", "mape", "wmape",
                "dissimilarity"]
        long = m.melt(id_vars=["start", "end", "part", "model"], value_vars=[c for c in cols if c in m.columns],
                       var_name="metric").dropna()
        long = long[long["metric"].map(lambda c: METRICS.get(c, ("age",))[0]) == long["part"]]
        long["window"] = long["start"].astype(str) + "→" + long["end"].astype(str)
        return long.pivot_table(index=["part", "model"], columns=["metric", "window"], values="value",
                                sort=False)

    def headline(self) -> list[str]:
        """The claims the docs make, computed: how often and by how much the share model and the
        combination beat ``naive`` (one sentence per model)."""
        m = self.metrics()
        d = m[m["part"] == "demand"].set_index(["start", "model"])
        starts = [s for s, _ in self.windows]
        out = []
        for model in ("shares", "combination", "shares_damped"):
            if (starts[0], model) not in d.index:
                continue
            mape = [(d.loc[(s, model), "mape"], d.loc[(s, "naive"), "mape"]) for s in starts]
            diss = [(d.loc[(s, model), "dissimilarity"], d.loc[(s, "naive"), "dissimilarity"]) for s in starts]
            text = (f"`{model}` beats `naive` on the MAPE in {int(_better(*zip(*mape)).sum())} of {len(starts)} "
                    f"windows ({', '.join(f'{a:.1f} vs {b:.1f}' for a, b in mape)} %) and on the dissimilarity "
                    f"index in {int(_better(*zip(*diss)).sum())} of {len(starts)} "
                    f"({', '.join(f'{a:.2f} vs {b:.2f}' for a, b in diss)} %)")
            if model in ("shares", "shares_damped"):
                dr = [d.loc[(s, model), "direction"] for s in starts]
                text += f"; direction right for {min(dr):.0f}–{max(dr):.0f} % of families"
            r = self.rolling_summary().set_index("model") if len(self.rolling) else None
            if r is not None and model in r.index:
                x = r.loc[model]
                text += (f". Rolling origin ({int(x['cases'])} anchor × horizon cases): MAPE {x['mape_vs_naive']:+.0f} %"
                         f" and dissimilarity {x['dissimilarity_vs_naive']:+.0f} % against naive on average, better "
                         f"in {x['beats_naive_mape']:.0f} % and {x['beats_naive_dissimilarity']:.0f} % of the cases")
            out.append(text + ".")
        return out

    def summary(self, lang: str | None = None) -> str:
        """The tables ``pmq backtest`` prints: age structure, employment by FAP, bootstrap intervals and the
        rolling origin, in ``lang`` (default: :func:`pmq.set_options`' language, French unless set): French words
        and numbers (« 1,23 »), or English with ``lang="en"``.  The models keep their codes (the CSV files'
        ``model``)."""
        lang = check_lang(lang)
        w = _SUMMARY_WORDS[lang]

        def name(model: str) -> str:
            return MODEL_LABELS_FR.get(model, model) if lang == "fr" else model
        wa = max(18, *(len(name(x)) + 2 for x in AGE_MODELS))
        wd = max(15, *(len(name(x)) + 2 for x in DEMAND_MODELS))
        m = self.metrics()
        lines = [w["title"], w["windows"], w["age"]]
        age = m[m["part"] == "age"] if "part" in m.columns else m
        lines.append(f"{w['window']:<11}{w['model']:<{wa}}{w['band_mae']:>9}{w['share50']:>9}{w['under30']:>9}"
                     f"{w['exits']:>10}{w['bias']:>8}{w['beats']:>8}")
        for r in age.itertuples():
            lines.append(f"{r.start}→{r.end:<6}{name(r.model):<{wa}}{_fmt(r.band_mae, lang, 2):>9}"
                         f"{_fmt(r.share50_abs_error, lang, 2):>9}{_fmt(r.under30_abs_error, lang, 2):>9}"
                         f"{_fmt(r.exits_ape, lang):>10}{_fmt(r.exits_bias, lang):>8}"
                         f"{_fmt(r.beats_constant_pyramid, lang):>8}")
        lines += [f"  {_skipped_text(s, why, lang)}" for (s, _), why in self.skipped.items()]
        lines.append(w["demand"])
        lines.append(f"{w['window']:<11}{w['model']:<{wd}}{w['direction']:>10}{'MAPE':>8}{w['wmape']:>8}"
                     f"{w['dissim']:>9}")
        for r in m[m["part"] == "demand"].itertuples():
            lines.append(f"{r.start}→{r.end:<6}{name(r.model):<{wd}}{_fmt(r.direction, lang):>10}{_fmt(r.mape, lang):>8}"
                         f"{_fmt(r.wmape, lang):>8}{_fmt(r.dissimilarity, lang, 2):>9}")
        iv = self.intervals
        if len(iv):
            lines.append(w["intervals"])
            sep = " ; " if lang == "fr" else ", "
            for win, g in iv[iv["model"] == "shares"].groupby("window", sort=False):
                g = g.set_index("metric")
                lines.append(f"  {win:<11}" + " | ".join(
                    f"{_fmt(g.loc[k, 'difference'], lang, 2, True)} [{_fmt(g.loc[k, 'lo'], lang, 2, True)}{sep}"
                    f"{_fmt(g.loc[k, 'hi'], lang, 2, True)}]" for k in ("mape", "dissimilarity")))
        rs = self.rolling_summary()
        if len(rs):
            a, h = self.rolling["anchor"], self.rolling["horizon"]
            lines.append(w["rolling"].format(a0=a.min(), a1=a.max(), h0=h.min(), h1=h.max()))
            pc = "\u202f%" if lang == "fr" else " %"
            for r in rs[rs["model"] != "naive"].itertuples():
                better = [w["better"].format(f"{_fmt(b, lang, 0):>3}{pc}")
                          for b in (r.beats_naive_mape, r.beats_naive_dissimilarity)]
                lines.append(f"  {name(r.model):<{wd}}MAPE {_fmt(r.mape_vs_naive, lang, 1, True):>6}{pc} {better[0]}  "
                             f"{w['dissimilarity']} {_fmt(r.dissimilarity_vs_naive, lang, 1, True):>6}{pc} {better[1]}")
        return "\n".join(lines)

    def plot(self, lang: str | None = None):
        lang = check_lang(lang)
        return plot_backtest(self, lang=lang)

    def markdown(self) -> str:
        """The tables of ``docs/accuracy.md`` (between its generated markers)."""
        m = self.metrics()
        wins = [f"{s}→{e}" for s, e in self.windows]
        m = m.assign(window=m["start"].astype(str) + "→" + m["end"].astype(str))
        horizons = ", ".join(f"{w} = {e - s + 1}" for w, (s, e) in zip(wins, self.windows))
        out = [f"Windows are named origin → end label; from origin t the forecasts start from the window "
               f"labelled t − 1. Horizons in label steps: {horizons}.", ""]
        extra = [s for s in (_ex_ante_sentence(self.ex_ante), _sensitivity_sentence(self.sensitivity)) if s]
        out += [f"- {line}" for line in self.headline() + extra] + [""]
        spec = [("age", "band_mae", "Mean absolute error of the 9 age-band shares (points)", 2),
                ("age", "beats_constant_pyramid", "Share of FAP where the model beats the constant pyramid on "
                 "the band MAE (%)", 0),
                ("age", "share50_abs_error", "Absolute error on the share aged 50+ (points, mean over FAP)", 2),
                ("age", "under30_abs_error", "Absolute error on the share under 30 (points, mean over FAP)", 2),
                ("age", "exits_bias", "Bias of the 5-year exits of the cohorts aged 45+ (%, Σ predicted / Σ "
                 "observed − 1)", 1),
                ("demand", "mape", "Employment by family: mean absolute percentage error (%)", 1),
                ("demand", "wmape", "Employment by family: weighted MAPE (%, Σ |error| / Σ observed)", 1),
                ("demand", "dissimilarity", "Dissimilarity index of the distribution over FAP (%)", 2),
                ("demand", "direction", "Direction of change correct (% of FAP)", 0)]
        for part, metric, title, nd in spec:
            p = m[m["part"] == part]
            if p.empty:
                continue
            d = p.pivot(index="model", columns="window", values=metric).reindex(columns=wins)
            models = [k for k in (AGE_MODELS if part == "age" else DEMAND_MODELS)
                      if k in d.index and d.loc[k].notna().any()]
            out += [f"**{title}**", "", "| model | " + " | ".join(wins) + " |", "|---|" + "---:|" * len(wins)]
            d = d.loc[models, wins]
            higher = metric in ("direction", "beats_constant_pyramid")
            shown = (d.abs() if metric == "exits_bias" else d).round(nd)     # ties at the printed precision
            best = shown.max() if higher else shown.min()
            for k in models:
                cells = []
                for w in wins:
                    v = d.loc[k, w]
                    text = "—" if not np.isfinite(v) else f"{v:.{nd}f}"
                    hit = np.isfinite(v) and shown.loc[k, w] == best[w]
                    cells.append(f"**{text}**" if hit and len(models) > 1 else text)
                out.append(f"| `{k}` | " + " | ".join(cells) + " |")
            out.append("")
            if part == "age" and metric == "band_mae" and self.skipped:
                out += [f"*{why}.*" for why in self.skipped.values()] + [""]
        out += self._intervals_markdown() + self._size_markdown() + self._rolling_markdown()
        return "\n".join(out).rstrip() + "\n"

    def by_size(self, threshold: float = 100.0) -> pd.DataFrame:
        """The demand models on small families (employment at the anchor below ``threshold``
        thousand) and on the others: MAPE, and the share of families where the model's error is
        below the naive forecast's (%), per window × model × size."""
        rows = []
        for (s, e), g in self.demand.groupby(["start", "end"], sort=False):
            naive = g[g["model"] == "naive"].set_index("fap")
            ape_n = (naive["pred_k"] / naive["obs_k"] - 1).abs() * 100
            for model, x in g.groupby("model", sort=False):
                x = x.set_index("fap")
                ape = (x["pred_k"] / x["obs_k"] - 1).abs() * 100
                small = x["start_k"] < threshold
                for size, mask in (("small", small), ("other", ~small)):
                    rows.append({"start": s, "end": e, "model": model, "size": size, "families": int(mask.sum()),
                                 "mape": float(ape[mask].mean()),
                                 "better_than_naive": float((ape[mask] < ape_n.reindex(ape.index)[mask]).mean() * 100)})
        return pd.DataFrame(rows)

    def _intervals_markdown(self) -> list[str]:
        iv = self.intervals
        if iv.empty:
            return []
        wins = [f"{s}→{e}" for s, e in self.windows]
        out = ["**Difference to `naive` (points of %), with its 95 % bootstrap interval over families**", "",
               "| model | metric | " + " | ".join(wins) + " |", "|---|---|" + "---:|" * len(wins)]
        for model in ("shares", "shares_damped", "combination", "arima", "naive_share"):
            for metric in ("mape", "dissimilarity"):
                if model == "naive_share" and metric == "dissimilarity":
                    continue                             # the naive shares: the same index on every draw
                g = iv[(iv["model"] == model) & (iv["metric"] == metric)].set_index("window")
                if g.empty:
                    continue
                cells = [f"{g.loc[w, 'difference']:+.2f} [{g.loc[w, 'lo']:+.2f}, {g.loc[w, 'hi']:+.2f}]"
                         if w in g.index else "—" for w in wins]
                out.append(f"| `{model}` | {metric} | " + " | ".join(cells) + " |")
        return out + [""]

    def _size_markdown(self, threshold: float = 100.0) -> list[str]:
        if self.demand.empty:
            return []
        b = self.by_size(threshold)
        wins = [f"{s}→{e}" for s, e in self.windows]
        b = b.assign(window=b["start"].astype(str) + "→" + b["end"].astype(str)).set_index(["window", "model", "size"])
        n = {w: (int(b.loc[(w, "naive", "small"), "families"]), int(b.loc[(w, "naive", "other"), "families"]))
             for w in wins}
        out = [f"**Small families (under {threshold:.0f} k employed at the anchor) and the others: MAPE (%), and in "
               f"brackets the share of families where the model's error is below the naive forecast's (%)**", "",
               "| model | families | " + " | ".join(wins) + " |", "|---|---|" + "---:|" * len(wins)]
        for model in ("naive", "shares", "combination"):
            for size, label in (("small", "small"), ("other", "others")):
                cells = []
                for w in wins:
                    x = b.loc[(w, model, size)]
                    cells.append(f"{x['mape']:.1f}" if model == "naive" else f"{x['mape']:.1f} ({x['better_than_naive']:.0f})")
                out.append(f"| `{model}` | {label} ({'/'.join(str(n[w][0 if size == 'small' else 1]) for w in wins)}) | "
                           + " | ".join(cells) + " |")
        return out + [""]

    def _rolling_markdown(self) -> list[str]:
        rs = self.rolling_summary()
        if rs.empty:
            return []
        r = self.rolling
        fam = sorted(set(r["families"]))
        out = [f"**Rolling origin: anchors {r['anchor'].min()}–{r['anchor'].max()}, horizons {r['horizon'].min()}–"
               f"{r['horizon'].max()} label steps ({rs['cases'].max()} cases; {fam[0]}–{fam[-1]} families)**", "",
               "| model | mean MAPE (%) | mean dissimilarity (%) | MAPE vs naive (mean, %) | dissimilarity vs "
               "naive (mean, %) | cases where MAPE < naive (%) | cases where dissimilarity < naive (%) |",
               "|---|---:|---:|---:|---:|---:|---:|"]
        for x in rs.itertuples():
            vs = "—" if x.model == "naive" else None
            out.append(f"| `{x.model}` | {x.mape:.1f} | {x.dissimilarity:.2f} | "
                       f"{vs or f'{x.mape_vs_naive:+.1f}'} | {vs or f'{x.dissimilarity_vs_naive:+.1f}'} | "
                       f"{vs or f'{x.beats_naive_mape:.0f}'} | {vs or f'{x.beats_naive_dissimilarity:.0f}'} |")
        p = r[r["model"].isin(["naive", "shares"])].pivot_table(index="anchor", columns="model",
                                                                  values=["mape", "dissimilarity"])
        out += ["", "**Rolling origin, `shares` against `naive` by anchor (mean over the horizons)**", "",
                "| anchor | horizons | families | MAPE naive (%) | MAPE `shares` vs naive (%) | dissimilarity `shares` "
                "vs naive (%) |", "|---:|---|---:|---:|---:|---:|"]
        for a, x in p.iterrows():
            hs = r.loc[r["anchor"] == a, "horizon"]
            span = f"{hs.min()}" if hs.min() == hs.max() else f"{hs.min()}–{hs.max()}"
            out.append(f"| {a} | {span} | {int(r.loc[r['anchor'] == a, 'families'].iloc[0])} | "
                       f"{x[('mape', 'naive')]:.1f} | {(x[('mape', 'shares')] / x[('mape', 'naive')] - 1) * 100:+.1f} | "
                       f"{(x[('dissimilarity', 'shares')] / x[('dissimilarity', 'naive')] - 1) * 100:+.1f} |")
        return out + [""]

    def share_model_markdown(self) -> str:
        """The ex-post accuracy table of the share model for ``docs/trends.md``."""
        m = self.metrics()
        d = m[m["part"] == "demand"].set_index(["start", "model"])
        out = ["| window (origin → end) | horizon | MAPE naive | MAPE `shares` | MAPE `shares_damped` | "
               "dissimilarity naive | dissimilarity `shares` | direction right, `shares` |",
               "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for s, e in self.windows:
            def v(model, k, nd, s=s):
                return f"{d.loc[(s, model), k]:.{nd}f}"
            out.append(f"| {s} → {e} | {e - s + 1} | {v('naive', 'mape', 1)} | {v('shares', 'mape', 1)} | "
                       f"{v('shares_damped', 'mape', 1)} | {v('naive', 'dissimilarity', 2)} | "
                       f"{v('shares', 'dissimilarity', 2)} | {v('shares', 'direction', 0)} % |")
        rs = self.rolling_summary().set_index("model") if len(self.rolling) else None
        if rs is not None and "shares" in rs.index:
            x, r = rs.loc["shares"], self.rolling
            out += ["", f"Rolling origin (anchors {r['anchor'].min()}–{r['anchor'].max()}, horizons "
                        f"{r['horizon'].min()}–{r['horizon'].max()}, {int(x['cases'])} cases): MAPE "
                        f"{x['mape_vs_naive']:+.1f} % and dissimilarity {x['dissimilarity_vs_naive']:+.1f} % against "
                        f"the naive forecast on average; better in {x['beats_naive_mape']:.0f} % and "
                        f"{x['beats_naive_dissimilarity']:.0f} % of the cases."]
        for sentence in (_ex_ante_sentence(self.ex_ante), _sensitivity_sentence(self.sensitivity)):
            if sentence:
                out += ["", sentence]
        return "\n".join(out) + "\n"

    def writers(self, lang: str | None = None) -> dict:
        """``{file name: writer(path)}`` for :func:`pmq.outputs.write_atomically`."""
        lang = check_lang(lang)
        def fig_writer(fmt):
            def write(p):
                import matplotlib.pyplot as plt
                fig = self.plot(lang=lang)
                fig.savefig(p, format=fmt, dpi=200 if fmt == "png" else None)
                plt.close(fig)
            return write

        def csv(table):
            return lambda p: table().to_csv(p, index=False, float_format="%.6g")
        return {
            "backtest_metrics.csv": csv(self.metrics),
            "backtest_age_by_fap.csv": csv(lambda: self.age),
            "backtest_age_bands.csv": csv(lambda: self.bands),
            "backtest_employment_by_fap.csv": csv(lambda: self.demand),
            "demand_metrics.csv": csv(self.demand_metrics),
            "demand_intervals.csv": csv(lambda: self.intervals),
            "demand_rolling.csv": csv(lambda: self.rolling),
            "backtest.png": fig_writer("png"),
            "backtest.svg": fig_writer("svg"),
        }


_METRIC_COLUMNS = ["start", "end", "part", "model", "fap", "band_mae", "band_mae_weighted", "share50_abs_error",
                   "under30_abs_error", "exits_ape", "exits_bias", "beats_constant_pyramid", "direction", "mape",
                   "wmape", "dissimilarity"]


def _exit_errors(m: pd.DataFrame) -> dict:
    """Weighted absolute percentage error (Σ|pred − obs| / Σ obs) and bias (Σ pred / Σ obs − 1) of
    the 5-year exits of the 45+ cohorts, in %; NaN when the data lack the pair or the model has
    no exits."""
    ok = m["exits5_obs_k"].notna() & m["exits5_pred_k"].notna()
    if not ok.any():
        return {"exits_ape": np.nan, "exits_bias": np.nan}
    p, o = m.loc[ok, "exits5_pred_k"], m.loc[ok, "exits5_obs_k"]
    return {"exits_ape": float((p - o).abs().sum() / o.sum() * 100), "exits_bias": float((p.sum() / o.sum() - 1) * 100)}


#: The words of :meth:`BacktestResults.summary`, by language (the models keep their codes).
_SUMMARY_WORDS = {
    "en": {"title": "pmq backtest — DARES Portraits statistiques des métiers (FAP-87, thousands)",
           "windows": "windows: origin→end; from origin t the last known window is labelled t−1 (t−2…t)",
           "age": "age structure: mean over FAP, points (band MAE: 9 age-band shares); "
                  "beats = % of FAP where the model beats the constant pyramid",
           "window": "window", "model": "model", "band_mae": "band MAE", "share50": "50+ err", "under30": "<30 err",
           "exits": "exits %", "bias": "bias %", "beats": "beats",
           "demand": "employment by FAP: direction correct (% of FAP), MAPE, weighted MAPE, dissimilarity index (%)",
           "direction": "direction", "wmape": "wMAPE", "dissim": "dissim.",
           "intervals": "shares − naive, 95 % bootstrap interval over families (points): MAPE | dissimilarity",
           "rolling": "rolling origin: anchors {a0}–{a1}, horizons {h0}–{h1}; mean % difference to naive (MAPE, "
                      "dissimilarity) and % of cases better",
           "better": "({} better)", "dissimilarity": "dissimilarity"},
    "fr": {"title": "pmq backtest — DARES, Portraits statistiques des métiers (FAP-87, milliers)",
           "windows": "fenêtres : origine→fin ; depuis l'origine t, la dernière fenêtre connue est celle de t−1 "
                      "(t−2…t)",
           "age": "structure par âge : moyenne sur les FAP, en points (err. âge : erreur absolue moyenne des parts "
                  "des 9 tranches d'âge) ; mieux = % des FAP où le modèle fait mieux que la pyramide constante",
           "window": "fenêtre", "model": "modèle", "band_mae": "err. âge", "share50": "err. 50+", "under30": "err. <30",
           "exits": "sorties %", "bias": "biais %", "beats": "mieux",
           "demand": "emploi par FAP : sens de l'évolution correct (% des FAP), MAPE (erreur absolue moyenne en %), "
                     "MAPE p. (MAPE pondérée par l'emploi), indice de dissimilarité (%)",
           "direction": "sens", "wmape": "MAPE p.", "dissim": "dissim.",
           "intervals": "parts (demi-tendance) − naïf (emploi constant), intervalle bootstrap à 95\u202f% sur les "
                        "familles (points) : MAPE | dissimilarité",
           "rolling": "origine glissante : ancrages {a0}–{a1}, horizons {h0}–{h1} ; écart moyen au naïf (emploi "
                      "constant) en % (MAPE, dissimilarité) et part des cas où le modèle fait mieux",
           "better": "(mieux dans {} des cas)", "dissimilarity": "dissimilarité"},
}


def _skipped_text(origin: int, why: str, lang: str) -> str:
    """Why the age part of the window from ``origin`` did not run (``why``: :attr:`BacktestResults.skipped`, in
    English), in ``lang``."""
    if lang == "en":
        return why
    pyramid = re.search(r"first pyramid is labelled (\d{4})", why)
    first = re.search(r"first origin with them is (\d{4})", why)
    return (f"structure par âge non évaluée depuis l'origine {origin} : l'estimation des taux de sortie demande deux "
            f"paires de pyramides à cinq ans d'écart, la dernière au plus tard en {origin - 1} (la dernière fenêtre "
            f"connue)" + (f", et la première pyramide date de {pyramid.group(1)}" if pyramid else "")
            + (f" ; première origine possible : {first.group(1)}" if first else ""))


def _fmt(x, lang: str = "en", decimals: int = 1, sign: bool = False) -> str:
    """One number of :meth:`BacktestResults.summary`: French (« 1,23 », « −0,5 ») or English (« 1.23 »); « — »
    when it is not defined."""
    if x is None or not np.isfinite(x):
        return "—"
    return format_number(x, decimals, lang, sign=sign)


def _whole(value, name: str) -> int:
    try:
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise ValueError
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        raise ArgumentError(tr("must be a whole number (a year, or a number of years)",
                               "doit être un nombre entier (une année, ou un nombre d'années)"), name=name,
                            value=value) from None


def backtest(start=DEFAULT_STARTS, end: int | None = None, *, horizon: int | None = None,
             pyramids=None, employment=None, trend_years: int = 15, rolling: bool = True,
             bootstrap: int = 2000, seed: int = 0, progress=None) -> BacktestResults:
    """Backtest from one or several origins (``start``: an int or a list of years) to the window
    labelled ``end``, or ``horizon`` label steps after each anchor (end = origin − 1 + horizon).
    Default: origins 2010, 2011, 2012 and 2013 to 2018.  From origin t the forecasts start from
    the values labelled t − 1, the last known at t (module docstring).

    ``pyramids``, ``employment``: CSV paths or DataFrames in the formats of
    :func:`read_pyramids` and :func:`read_employment_series` (default: the shipped DARES data).
    ``trend_years``: the labels up to the anchor the demand models are fitted on (≥ 8).
    ``rolling``: also run :func:`rolling_origin` on the employment series; ``bootstrap``: draws of
    :func:`bootstrap_intervals` (0: none), ``seed`` their seed.
    """
    try:
        starts = [_whole(start, START)] if np.ndim(start) == 0 else [_whole(s, START) for s in start]
    except TypeError:
        raise ArgumentError(tr("must be a window centre or a list of them",
                               "doit être un centre de fenêtre ou une liste de centres"), name=START,
                            value=start) from None
    end = None if end is None else _whole(end, END)
    horizon = None if horizon is None else _whole(horizon, HORIZON)
    trend_years = _whole(trend_years, TREND_YEARS)
    bootstrap = _whole(bootstrap, "bootstrap")
    seed = _whole(seed, "seed")
    if bootstrap < 0 or seed < 0:
        raise ArgumentError(tr("must be ≥ 0", "doit être ≥ 0"), name="bootstrap" if bootstrap < 0 else "seed",
                            value=bootstrap if bootstrap < 0 else seed)
    if not starts:
        raise ArgumentError(tr("no origin given: name at least one", "aucune origine donnée : nommez-en au moins une"),
                            name=START)
    if end is not None and horizon is not None:
        raise ArgumentError(tr(f"give an end window ({end}) or a horizon ({horizon}), not both",
                               f"donnez une fenêtre de fin ({end}) ou un horizon ({horizon}), pas les deux"), name=END)
    if int(trend_years) < 8:
        raise ArgumentError(tr("the trend models need at least 8 years before the start",
                               "les modèles de tendance demandent au moins 8 années avant le départ"),
                            name=TREND_YEARS, value=trend_years)
    if horizon is not None and int(horizon) < 1:
        raise ArgumentError(tr("the horizon must be at least one year", "l'horizon doit être d'au moins un an"),
                            name=HORIZON, value=horizon)
    wide = read_pyramids(pyramids)
    series = read_employment_series(employment)
    centres = sorted(set(wide.index.get_level_values("centre")))
    years = [int(y) for y in series.index]
    windows = [(s, end if end is not None else s - 1 + (horizon if horizon is not None else DEFAULT_END - s + 1))
               for s in starts]
    psrc = _source_label(pyramids, "pyramid", "des pyramides", _psrc(PSRC) or PSRC)
    esrc = _source_label(employment, "employment", "de l'emploi", _esrc(ESRC) or ESRC)
    skipped = {}
    end_name = END if end is not None else HORIZON if horizon is not None else START
    for s, e in windows:
        why = _check_window(s, e, centres, years, trend_years, None if pyramids is None else psrc,
                            None if employment is None else esrc, end_name)
        if why is not None:
            skipped[(s, e)] = why
    faps = sorted(set(wide.index.get_level_values("fap")))
    only_p = sorted(set(faps) - set(series.columns))
    only_e = sorted(set(series.columns) - set(faps))
    if only_p or only_e:
        raise InputError(tr("the pyramids and the employment series do not cover the same FAP",
                            "les pyramides et la série d'emploi ne couvrent pas les mêmes FAP"),
                         source="backtest", column="fap",
                         rows=[tr(f"{f} (pyramids only)", f"{f} (pyramides seulement)") for f in only_p][:10] +
                              [tr(f"{f} (employment only)", f"{f} (emploi seulement)") for f in only_e][:10])
    share = float(_facts()["share_15_19_in_15_24"])   # as the baseline build
    age, bands, demand = [], [], []
    with one_blas_thread():              # the GLM and trend fits: small problems, BLAS threads only spin
        for i, (s, e) in enumerate(windows):
            a = s - 1                    # the anchor: the last window known at origin s
            if (s, e) not in skipped:
                present = [f for f in faps if all((f, y) in wide.index for y in range(a - _LAG, e + 1))]
                ag, b = _age_part(wide, a, e, present, share)
                weight = wide.xs(a, level="centre").loc[present].sum(axis=1)
                ag["weight"] = ag["fap"].map(weight)
                age.append(ag.assign(start=s, end=e))
                bands.append(b.assign(start=s, end=e))
            demand.append(_demand_part(series, s, e, trend_years, esrc).assign(start=s, end=e))
            if progress:
                progress(i + 1, len(windows))
        roll = rolling_origin(series, trend_years, source=esrc) if rolling else pd.DataFrame()
        sens = share_sensitivity(series, windows, source=esrc) if rolling else pd.DataFrame()
        ex = ex_ante_fraction(series, starts, trend_years, source=esrc) if rolling else pd.DataFrame()
    first = ["start", "end", "model", "fap"]

    def order(parts):
        if not parts:
            return pd.DataFrame(columns=first)
        d = pd.concat(parts, ignore_index=True)
        return d[first + [c for c in d.columns if c not in first]]
    demand_t = order(demand)
    return BacktestResults(windows=windows, age=order(age), bands=order(bands), demand=demand_t,
                           sources={"pyramids": PSRC if pyramids is None else str(pyramids),
                                    "employment": ESRC if employment is None else str(employment)},
                           intervals=bootstrap_intervals(demand_t, bootstrap, seed) if bootstrap else pd.DataFrame(),
                           rolling=roll, skipped=skipped, sensitivity=sens, ex_ante=ex)


# ----------------------------------------------------------------------------------------------
# Chart
# ----------------------------------------------------------------------------------------------
def plot_backtest(res: BacktestResults, lang: str | None = None):
    """Six panels, one per metric; grouped bars = models, groups = windows (origin → end)."""
    lang = check_lang(lang)
    import matplotlib.pyplot as plt

    from pmq.plots.style import PALETTE, bottom_note, house_style

    m = res.metrics()
    panels = ["band_mae", "share50_abs_error", "exits_ape", "mape", "dissimilarity", "direction"]
    names = {"fr": {"pmq": "pmq (risques estimés, mutualisés)", "pmq_unpooled": "pmq (non mutualisés)",
                    "pmq_national": "pmq (calendrier national)", "constant_pyramid": "pyramide constante",
                    "loglinear": "tendance log-linéaire", "damped": "lissage amorti", "arima": "ARIMA",
                    "shares": "parts, demi-tendance", "shares_damped": "parts, tendance amortie",
                    "combination": "combinaison (naïf, amorti, ARIMA)",
                    "naive": "emploi constant (naïf)", "naive_share": "part constante du total observé"},
             "en": {"pmq": "pmq (estimated hazards, pooled)", "pmq_unpooled": "pmq (unpooled)",
                    "pmq_national": "pmq (national schedule)", "constant_pyramid": "constant pyramid",
                    "loglinear": "log-linear trend", "damped": "damped smoothing", "arima": "ARIMA",
                    "shares": "half-trend shares", "shares_damped": "damped share trend",
                    "combination": "combination (naive, damped, ARIMA)",
                    "naive": "constant employment (naive)", "naive_share": "constant share of the observed total"}}[lang]
    windows = [f"{s}→{e}" for s, e in res.windows]
    short = {"fr": {"band_mae": "Structure par âge :\nerreur moyenne sur les 9 tranches",
                    "share50_abs_error": "Part des 50 ans ou plus :\nerreur absolue",
                    "exits_ape": "Sorties à 5 ans des 45 ans ou plus :\nerreur absolue pondérée",
                    "mape": "Emploi par FAP :\nerreur absolue moyenne",
                    "dissimilarity": "Répartition de l'emploi :\nindice de dissimilarité",
                    "direction": "Emploi par FAP :\nsens de l'évolution correct"},
             "en": {"band_mae": "Age structure:\nmean error over the 9 bands",
                    "share50_abs_error": "Share aged 50+:\nabsolute error",
                    "exits_ape": "5-year exits of those aged 45+:\nweighted absolute error",
                    "mape": "Employment by FAP:\nmean absolute % error",
                    "dissimilarity": "Distribution of employment:\ndissimilarity index",
                    "direction": "Employment by FAP:\ndirection of change correct"}}[lang]
    order = {"age": list(AGE_MODELS), "demand": list(DEMAND_MODELS)}
    color = {part: {mod: PALETTE[i] for i, mod in enumerate(mods)} for part, mods in order.items()}
    with house_style():
        fig, axes = plt.subplots(2, 3, figsize=(11, 6.8), layout="constrained")
        for ax, metric in zip(axes.ravel(), panels):
            part, _, _, unit, better = METRICS[metric]
            d = m[(m["part"] == part)].dropna(subset=[metric])
            d = d.assign(window=d["start"].astype(str) + "→" + d["end"].astype(str))
            models = order[part]
            width = 0.8 / len(models)
            x = np.arange(len(windows))
            for j, model in enumerate(models):
                g = d[d["model"] == model].set_index("window")[metric].reindex(windows)
                ax.bar(x + (j - (len(models) - 1) / 2) * width, g.to_numpy(), width, label=names[model],
                       color=color[part][model])
            ax.set_xticks(x, [w.replace("→", "\n→ ") for w in windows], fontsize=8)
            if d.empty:
                ax.text(0.5, 0.5, {"fr": "non évalué : trop peu de pyramides\navant l'origine",
                                   "en": "not evaluated: too few pyramids\nbefore the origin"}[lang],
                        transform=ax.transAxes, ha="center", va="center", fontsize=8)
            low = {"fr": "plus bas = mieux", "en": "lower is better"}[lang]
            high = {"fr": "plus haut = mieux", "en": "higher is better"}[lang]
            unit_l = {"points": "points", "%": "%", "% of FAP": "% des FAP" if lang == "fr" else "% of FAP"}[unit]
            ax.set_title(short[metric], fontsize=9)
            ax.set_ylabel(f"{unit_l} ({low if better == 'lower' else high})")
            ax.yaxis.set_major_formatter(tick_formatter(lang))
            ax.grid(axis="y")
            ax.set_axisbelow(True)
        for row in range(2):
            handles, labels = axes[row, 0].get_legend_handles_labels()
            axes[row, 2].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7.5)
        fig.suptitle({"fr": "Évaluation rétrospective : projections de vintages passés comparées à l'observé",
                      "en": "Backtest: past vintages projected and compared with what was observed"}[lang],
                     x=0.01, ha="left", fontweight="bold")
        bottom_note(fig, {"fr": "Source : Dares, Portraits statistiques des métiers (enquête Emploi, "
                                "moyennes sur 3 ans, FAP-87) ; calculs pmq.",
                          "en": "Source: Dares, Portraits statistiques des métiers (Labour Force Survey, "
                                "3-year averages, FAP-87); pmq calculations."}[lang])
    return fig
