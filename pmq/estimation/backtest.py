"""Ex-post evaluation: project a past vintage of the DARES data forward and compare with what
was observed (``pmq backtest``).

Data (shipped, see ``pmq/data/raw/SOURCE.md``): DARES « Portraits statistiques des métiers »,
9-band age pyramids of every FAP-87 family for the 3-year windows 2003–2005 … 2017–2019
(window centres 2004 … 2018) and employment by FAP-87 for 1983–2018 (centres of 3-year
windows).  A backtest runs from a start window to an end window, both named by their centre.

Two parts, each against naive baselines, with the metrics BLS reports for its projections:

**Age structure** (replacement model).  Start from the observed pyramid of the start window,
impose the observed employment path of each FAP, run pmq's engine year by year
(:func:`pmq.model.engine.simulate`: departures = stock × hazard, ageing, the gap to the observed
employment filled by recruits placed by an entry-age profile or removed by the engine's
removal profile), and compare the projected age structure with the end window.

* ``pmq`` — exit hazards estimated from the pairs of pyramids *available at the start*
  (:func:`pmq.estimation.exits.fit_exits` on pairs ending ≤ start, partially pooled); entry ages from
  the FAP's own net cohort gains over the five years before the start;
* ``pmq_unpooled`` — the same with the per-FAP (unpooled) hazards;
* ``pmq_national`` — the same with the national schedule (one hazard for every FAP);
* ``constant_pyramid`` — naive: the start window's age-band shares.

Metrics per FAP: mean absolute error of the 9 age-band shares (points), error of the share
aged 50 or more and of the share under 30 (points).  For the pmq models, the departures they
imply, and the 5-year exits of the cohorts aged 45+ at the start compared with those implied
by the observed pair of pyramids (same definition as :mod:`pmq.estimation.exits`).

**Employment by FAP** (demand).  Trend models of :mod:`pmq.estimation.trends` fitted on the
``trend_years`` years up to the start (``loglinear``, ``damped``, ``arima``) against
``constant_employment`` (no change) and ``constant_share`` (each FAP keeps its start share of
the *observed* end total, which favours it).  Metrics: share of FAPs whose direction of
change is right (not defined for constant employment), mean absolute percentage error, and
the dissimilarity index of the distribution of employment over FAPs (½ Σ |share error|).

Everything is in thousands of persons, as published.  The loops are over start windows,
models and the handful of bands; every FAP is computed at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pmq.model.ages import AGES, AgeProfiles, band_sums, split_bands
from pmq.model.engine import Profiles, simulate
from pmq.estimation.calibration import _age5_closed
from pmq.errors import ArgumentError, InputError
from pmq.inputs.tables import as_number, check_duplicates, read_table
from pmq.estimation.exits import NOT_FAMILIES, SOURCE as PSRC, continuation_table, fit_exits, pyramids
from pmq.estimation.trends import SOURCE as ESRC, _fit_cached, employment_series, one_blas_thread
from pmq.estimation.build import _facts
from pmq.formatting import check_lang, tick_formatter

__all__ = ["AGE_MODELS", "DEMAND_MODELS", "METRICS", "backtest", "BacktestResults", "read_pyramids",
           "read_employment_series", "plot_backtest", "DEFAULT_STARTS", "DEFAULT_END"]

AGE_MODELS = {
    "pmq": "pmq replacement model, exit hazards estimated on the windows available at the start "
           "(partially pooled), entry ages from the FAP's previous five years",
    "pmq_unpooled": "the same with per-FAP (unpooled) hazards",
    "pmq_national": "the same with one national hazard schedule for every FAP",
    "constant_pyramid": "naive: the start window's age-band shares",
}
DEMAND_MODELS = {
    "loglinear": "log-linear trend fitted on the years up to the start",
    "damped": "damped-trend exponential smoothing fitted on the years up to the start",
    "arima": "ARIMA(1,1,0) with drift fitted on the years up to the start",
    "constant_employment": "naive: employment stays at its start level",
    "constant_share": "naive: each FAP keeps its start share of the observed end total",
}
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
    "dissimilarity": ("demand", "Indice de dissimilarité", "Dissimilarity index", "%", "lower"),
}
DEFAULT_STARTS = (2010, 2011, 2012, 2013)
DEFAULT_END = 2018
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
        return wide.drop(columns=[c for c in NOT_FAMILIES if c in wide.columns])
    t, src = read_table(path, name="employment")
    need = {"fap", "year", "employment_k"}
    if not need <= set(t.columns):
        raise InputError(f"the employment table needs columns {sorted(need)}", source=src, column="columns",
                         rows=sorted(need - set(t.columns)))
    t = t.assign(fap=t["fap"].astype(str), employment_k=as_number(t, "employment_k", src),
                 year=as_number(t, "year", src, integer=True))
    bad = t[t["employment_k"] < 0]
    if len(bad):
        raise InputError("employment must be ≥ 0", source=src, column="employment_k", rows=bad.head(10))
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
        raise InputError(f"gaps in the series of {len(gaps)} FAP: every year between a FAP's first and last year "
                         "is needed (the trend models fit consecutive years); give the missing years",
                         source=src, column="year", rows=pd.DataFrame(gaps))
    return t.pivot(index="year", columns="fap", values="employment_k").sort_index()


def _source_label(data, name: str, default: str) -> str:
    """The label :func:`pmq.inputs.tables.read_table` gives ``data`` (file name, or « <name> table »)."""
    if data is None:
        return default
    return f"{name} table" if isinstance(data, pd.DataFrame) else Path(data).name


def _check_window(start: int, end: int, centres: list[int], years: list[int],
                  pyramids_source: str = "backtest", employment_source: str = "backtest") -> None:
    """Refuse a window the data cannot backtest; the errors name the file at fault."""
    rng = f"{centres[0]}–{centres[-1]}"
    if end <= start:
        raise InputError(f"the end window ({end}) must come after the start window ({start})",
                         source="backtest", column="to", rows=[end])
    outside = [c for c in (start, end) if c not in centres]
    if outside:
        raise InputError(f"window centre(s) outside the pyramids (available {rng})", source=pyramids_source,
                         column="from/to", rows=outside)
    if start - _LAG - 1 not in centres:
        raise InputError(f"start {start}: the replacement model needs two pairs of windows five years apart "
                         f"ending by the start (for its hazards and their dispersion) and the pyramid of "
                         f"{start - _LAG} (entry ages); the first possible start is {centres[0] + _LAG + 1}",
                         source=pyramids_source, column="from", rows=[start])
    missing = [y for y in range(start, end + 1) if y not in centres]
    if missing:
        raise InputError(f"the observed employment path needs every window from {start} to {end}",
                         source=pyramids_source, column="window", rows=missing)
    missing = [y for y in (start, end) if y not in years]
    if missing:
        raise InputError(f"the employment series has no value for {missing} (available "
                         f"{years[0]}–{years[-1]})", source=employment_source, column="year", rows=missing)


# ----------------------------------------------------------------------------------------------
# Age structure: the replacement model
# ----------------------------------------------------------------------------------------------
#: Exit-hazard fits by the content of their continuation table: backtests of other windows and
#: other end years from the same start refit the same table (the fit is deterministic).  A few
#: entries of ~5 MB; private (the fits are read, never modified, by :func:`_age_part`).
_VINTAGE_FITS: dict = {}
_VINTAGE_FITS_SIZE = 8


def _vintage_fit(wide: pd.DataFrame, start: int):
    """Exit-hazard fit on the pairs of windows that end at or before ``start``."""
    centres = sorted(set(wide.index.get_level_values("centre")))
    starts = [c for c in centres if c + _LAG <= start and c + _LAG in centres]
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
        raise InputError("no exit-hazard estimate for some FAP (no usable pair of windows before the start)",
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


def _age_part(wide: pd.DataFrame, start: int, end: int, faps: list[str], share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    fit = _vintage_fit(wide, start)
    hz = _hazard_arrays(fit, faps)
    counts = {y: wide.xs(y, level="centre").loc[faps, BANDS].to_numpy() for y in range(start - _LAG, end + 1)}
    totals = np.stack([counts[y].sum(-1) for y in range(start, end + 1)])           # (year, fap)
    nc = np.diff(totals, axis=0)
    zeros = np.zeros_like(nc)
    obs_shares = counts[end] / counts[end].sum(-1, keepdims=True)
    start_shares = counts[start] / counts[start].sum(-1, keepdims=True)
    # observed 5-year exits of the cohorts aged 45+ at the start (pseudo-cohorts, as exits_fit)
    obs_q = _pair_exits(wide, start, faps)
    rows, band_rows = [], []
    for model, h in hz.items():
        E_before = split_bands(counts[start - _LAG], h, share)
        E0 = split_bands(counts[start], h, share)
        rate, young, recruits = _entry_profiles(E_before, E0, h)
        base = Profiles.from_spec()
        profiles = Profiles(young=young, recruits=recruits, mobility=base.mobility, removal=base.removal)
        ye = rate * totals[:-1]                  # young entrants: the pre-start rate × employment
        res = simulate(E0, h, nc, ye, zeros, profiles, record="totals")
        E_end = np.asarray(res["employment"][-1])
        pred = band_sums(E_end) / E_end.sum(-1, keepdims=True)
        dep = np.asarray(res["departures"]).sum(0)
        # predicted 5-year exits of the 45+ cohorts under the model's hazards: closed cohorts
        S = E0 * (AGES >= 45)
        exits5 = S.sum(-1) - _age5_closed(S, h, _LAG).sum(-1)     # closed cohorts: all that left
        rows.append(_age_metrics(model, faps, pred, obs_shares, start_shares, dep, exits5, obs_q))
        band_rows.append(_band_table(model, faps, pred, obs_shares))
    rows.append(_age_metrics("constant_pyramid", faps, start_shares, obs_shares, start_shares, None, None, obs_q))
    band_rows.append(_band_table("constant_pyramid", faps, start_shares, obs_shares))
    return pd.concat(rows, ignore_index=True), pd.concat(band_rows, ignore_index=True)


def _pair_exits(wide: pd.DataFrame, start: int, faps: list[str]) -> np.ndarray:
    """Observed 5-year exits (thousands) of the cohorts aged 45+ in the start window, from the pair
    (start, start + 5) when the data have it (NaN otherwise): Σ n·q over the three transitions."""
    centres = set(wide.index.get_level_values("centre"))
    if start + _LAG not in centres:
        return np.full(len(faps), np.nan)
    t = continuation_table(wide, lag=_LAG, starts=[start])
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
# Employment by FAP: trend models against naive baselines
# ----------------------------------------------------------------------------------------------
def _demand_part(series: pd.DataFrame, start: int, end: int, trend_years: int,
                 source: str | None = None) -> pd.DataFrame:
    faps = [f for f in series.columns if np.isfinite(series.loc[start, f]) and np.isfinite(series.loc[end, f])]
    s0 = series.loc[start, faps].to_numpy(float)
    obs = series.loc[end, faps].to_numpy(float)
    preds = {}
    for model in ("loglinear", "damped", "arima"):
        vals = []
        for f in faps:                           # statsmodels fits one series at a time
            s = series[f].loc[start - trend_years + 1:start].dropna()
            vals.append(_fit_cached(s, model, name=f, source=source).forecast(end - start).iloc[-1])
        preds[model] = np.asarray(vals)
    preds["constant_employment"] = s0
    preds["constant_share"] = s0 / s0.sum() * obs.sum()
    rows = [pd.DataFrame({"fap": faps, "model": m, "start_k": s0, "pred_k": p, "obs_k": obs})
            for m, p in preds.items()]
    return pd.concat(rows, ignore_index=True)


def _demand_metrics(d: pd.DataFrame) -> pd.DataFrame:
    out = []
    for model, g in d.groupby("model", sort=False):
        obs_dir = np.sign(g["obs_k"] - g["start_k"])
        pred_dir = np.sign(g["pred_k"] - g["start_k"])
        direction = np.nan if model == "constant_employment" else float((obs_dir == pred_dir).mean() * 100)
        ape = (g["pred_k"] / g["obs_k"] - 1).abs() * 100
        diss = 50 * float(np.abs(g["pred_k"] / g["pred_k"].sum() - g["obs_k"] / g["obs_k"].sum()).sum())
        out.append({"model": model, "direction": direction, "mape": float(ape.mean()),
                    "dissimilarity": diss, "fap": len(g)})
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------
@dataclass
class BacktestResults:
    """Backtests for one or several (start, end) windows.

    ``age``: one row per window × model × FAP (age-structure metrics, departures); ``bands``:
    projected and observed age-band shares; ``demand``: predicted and observed employment per
    window × model × FAP.  :meth:`metrics` summarises them per window × model."""

    windows: list[tuple[int, int]]
    age: pd.DataFrame
    bands: pd.DataFrame
    demand: pd.DataFrame
    sources: dict = field(default_factory=dict)

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
        return pd.DataFrame(rows)

    def table(self, lang: str | None = None) -> pd.DataFrame:
        """The headline table: one row per model, one column per metric × start window."""
        lang = check_lang(lang)
        m = self.metrics()
        cols = ["band_mae", "share50_abs_error", "beats_constant_pyramid", "exits_ape", "direction", "mape",
                "dissimilarity"]
        long = m.melt(id_vars=["start", "end", "part", "model"], value_vars=cols, var_name="metric").dropna()
        long = long[long["metric"].map(lambda c: METRICS.get(c, ("age",))[0]) == long["part"]]
        long["window"] = long["start"].astype(str) + "→" + long["end"].astype(str)
        return long.pivot_table(index=["part", "model"], columns=["metric", "window"], values="value",
                                sort=False)

    def summary(self) -> str:
        m = self.metrics()
        lines = ["pmq backtest — DARES Portraits statistiques des métiers (FAP-87, thousands)",
                 "age structure: mean over FAP, points (band MAE: 9 age-band shares); "
                 "beats = % of FAP where the model beats the constant pyramid"]
        age = m[m["part"] == "age"]
        lines.append(f"{'window':<11}{'model':<18}{'band MAE':>9}{'50+ err':>9}{'<30 err':>9}"
                     f"{'exits %':>9}{'bias %':>8}{'beats':>8}")
        for r in age.itertuples():
            lines.append(f"{r.start}→{r.end:<6}{r.model:<18}{r.band_mae:>9.2f}{r.share50_abs_error:>9.2f}"
                         f"{r.under30_abs_error:>9.2f}{_fmt(r.exits_ape):>9}{_fmt(r.exits_bias):>8}"
                         f"{_fmt(r.beats_constant_pyramid):>8}")
        lines.append("employment by FAP: direction correct (% of FAP), MAPE (%), dissimilarity index (%)")
        lines.append(f"{'window':<11}{'model':<21}{'direction':>10}{'MAPE':>8}{'dissim.':>9}")
        for r in m[m["part"] == "demand"].itertuples():
            lines.append(f"{r.start}→{r.end:<6}{r.model:<21}{_fmt(r.direction):>10}{r.mape:>8.1f}"
                         f"{r.dissimilarity:>9.2f}")
        return "\n".join(lines)

    def plot(self, lang: str | None = None):
        lang = check_lang(lang)
        return plot_backtest(self, lang=lang)

    def markdown(self) -> str:
        """The tables of ``docs/accuracy.md`` (between its generated markers)."""
        m = self.metrics()
        wins = [f"{s}→{e}" for s, e in self.windows]
        m = m.assign(window=m["start"].astype(str) + "→" + m["end"].astype(str))
        out = []
        spec = [("age", "band_mae", "Mean absolute error of the 9 age-band shares (points)", 2),
                ("age", "beats_constant_pyramid", "Share of FAP where the model beats the constant pyramid on "
                 "the band MAE (%)", 0),
                ("age", "share50_abs_error", "Absolute error on the share aged 50+ (points, mean over FAP)", 2),
                ("age", "under30_abs_error", "Absolute error on the share under 30 (points, mean over FAP)", 2),
                ("age", "exits_bias", "Bias of the 5-year exits of the cohorts aged 45+ (%, Σ predicted / Σ "
                 "observed − 1)", 1),
                ("demand", "direction", "Direction of change correct (% of FAP)", 0),
                ("demand", "mape", "Mean absolute percentage error (%)", 1),
                ("demand", "dissimilarity", "Dissimilarity index of the distribution over FAP (%)", 2)]
        for part, metric, title, nd in spec:
            d = m[m["part"] == part].pivot(index="model", columns="window", values=metric)
            models = [k for k in (AGE_MODELS if part == "age" else DEMAND_MODELS) if d.loc[k].notna().any()]
            out += [f"**{title}**", "", "| model | " + " | ".join(wins) + " |", "|---|" + "---:|" * len(wins)]
            d = d.loc[models, wins]
            higher = metric in ("direction", "beats_constant_pyramid")
            best = d.abs().min() if metric == "exits_bias" else (d.max() if higher else d.min())
            for k in models:
                cells = []
                for w in wins:
                    v = d.loc[k, w]
                    text = "—" if not np.isfinite(v) else f"{v:.{nd}f}"
                    hit = np.isfinite(v) and (abs(v) if metric == "exits_bias" else v) == best[w]
                    cells.append(f"**{text}**" if hit and len(models) > 1 else text)
                out.append(f"| `{k}` | " + " | ".join(cells) + " |")
            out.append("")
        return "\n".join(out).rstrip() + "\n"

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
        return {
            "backtest_metrics.csv": lambda p: self.metrics().to_csv(p, index=False, float_format="%.6g"),
            "backtest_age_by_fap.csv": lambda p: self.age.to_csv(p, index=False, float_format="%.6g"),
            "backtest_age_bands.csv": lambda p: self.bands.to_csv(p, index=False, float_format="%.6g"),
            "backtest_employment_by_fap.csv": lambda p: self.demand.to_csv(p, index=False, float_format="%.6g"),
            "backtest.png": fig_writer("png"),
            "backtest.svg": fig_writer("svg"),
        }


def _exit_errors(m: pd.DataFrame) -> dict:
    """Weighted absolute percentage error (Σ|pred − obs| / Σ obs) and bias (Σ pred / Σ obs − 1) of
    the 5-year exits of the 45+ cohorts, in %; NaN when the data lack the pair or the model has
    no exits."""
    ok = m["exits5_obs_k"].notna() & m["exits5_pred_k"].notna()
    if not ok.any():
        return {"exits_ape": np.nan, "exits_bias": np.nan}
    p, o = m.loc[ok, "exits5_pred_k"], m.loc[ok, "exits5_obs_k"]
    return {"exits_ape": float((p - o).abs().sum() / o.sum() * 100), "exits_bias": float((p.sum() / o.sum() - 1) * 100)}


def _fmt(x) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.1f}"


def backtest(start=DEFAULT_STARTS, end: int | None = None, *, horizon: int | None = None,
             pyramids=None, employment=None, trend_years: int = 15, progress=None) -> BacktestResults:
    """Backtest from one or several start windows (``start``: an int or a list of window centres)
    to ``end`` (a centre) or ``start + horizon``.  Default: 2010, 2011, 2012 and 2013 to 2018.

    ``pyramids``, ``employment``: CSV paths or DataFrames in the formats of
    :func:`read_pyramids` and :func:`read_employment_series` (default: the shipped DARES data).
    """
    def whole(value, name: str) -> int:
        try:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            raise ArgumentError("must be a whole number (a year, or a number of years)", name=name,
                                value=value) from None

    try:
        starts = [whole(start, "start (--from)")] if np.ndim(start) == 0 else \
            [whole(s, "start (--from)") for s in start]
    except TypeError:
        raise ArgumentError("must be a window centre or a list of them", name="start (--from)",
                            value=start) from None
    end = None if end is None else whole(end, "end (--to)")
    horizon = None if horizon is None else whole(horizon, "horizon (--horizon)")
    trend_years = whole(trend_years, "trend_years")
    if not starts:
        raise InputError("no start window given", source="backtest", column="from")
    if end is not None and horizon is not None:
        raise InputError("give an end window or a horizon, not both", source="backtest", column="to/horizon",
                         rows=[end, horizon])
    if int(trend_years) < 8:
        raise InputError("the trend models need at least 8 years before the start", source="backtest",
                         column="trend_years", rows=[trend_years])
    if horizon is not None and int(horizon) < 1:
        raise InputError("the horizon must be at least one year", source="backtest", column="horizon",
                         rows=[horizon])
    wide = read_pyramids(pyramids)
    series = read_employment_series(employment)
    centres = sorted(set(wide.index.get_level_values("centre")))
    years = [int(y) for y in series.index]
    windows = [(s, int(end) if end is not None else s + int(horizon if horizon is not None else
                                                            DEFAULT_END - s)) for s in starts]
    psrc = _source_label(pyramids, "pyramid", PSRC)
    esrc = _source_label(employment, "employment", ESRC)
    for s, e in windows:
        _check_window(s, e, centres, years, psrc, esrc)
    faps = sorted(set(wide.index.get_level_values("fap")))
    only_p = sorted(set(faps) - set(series.columns))
    only_e = sorted(set(series.columns) - set(faps))
    if only_p or only_e:
        raise InputError("the pyramids and the employment series do not cover the same FAP",
                         source="backtest", column="fap",
                         rows=[f"{f} (pyramids only)" for f in only_p][:10] +
                              [f"{f} (employment only)" for f in only_e][:10])
    share = float(_facts()["share_15_19_in_15_24"])   # as the baseline build
    age, bands, demand = [], [], []
    with one_blas_thread():              # the GLM and trend fits: small problems, BLAS threads only spin
        for i, (s, e) in enumerate(windows):
            present = [f for f in faps if all((f, y) in wide.index for y in range(s - _LAG, e + 1))]
            a, b = _age_part(wide, s, e, present, share)
            weight = wide.xs(s, level="centre").loc[present].sum(axis=1)
            a["weight"] = a["fap"].map(weight)
            age.append(a.assign(start=s, end=e))
            bands.append(b.assign(start=s, end=e))
            demand.append(_demand_part(series, s, e, trend_years, esrc).assign(start=s, end=e))
            if progress:
                progress(i + 1, len(windows))
    first = ["start", "end", "model", "fap"]

    def order(d):
        return d[first + [c for c in d.columns if c not in first]]
    return BacktestResults(windows=windows, age=order(pd.concat(age, ignore_index=True)),
                           bands=order(pd.concat(bands, ignore_index=True)),
                           demand=order(pd.concat(demand, ignore_index=True)),
                           sources={"pyramids": PSRC if pyramids is None else str(pyramids),
                                    "employment": ESRC if employment is None else str(employment)})


# ----------------------------------------------------------------------------------------------
# Chart
# ----------------------------------------------------------------------------------------------
def plot_backtest(res: BacktestResults, lang: str | None = None):
    """Six panels, one per metric; grouped bars = models, groups = start windows."""
    lang = check_lang(lang)
    import matplotlib.pyplot as plt

    from pmq.plots.style import PALETTE, bottom_note, house_style

    m = res.metrics()
    panels = ["band_mae", "share50_abs_error", "exits_ape", "mape", "dissimilarity", "direction"]
    names = {"fr": {"pmq": "pmq (risques estimés, mutualisés)", "pmq_unpooled": "pmq (non mutualisés)",
                    "pmq_national": "pmq (calendrier national)", "constant_pyramid": "pyramide constante",
                    "loglinear": "tendance log-linéaire", "damped": "lissage amorti", "arima": "ARIMA",
                    "constant_employment": "emploi constant", "constant_share": "part constante"},
             "en": {"pmq": "pmq (estimated hazards, pooled)", "pmq_unpooled": "pmq (unpooled)",
                    "pmq_national": "pmq (national schedule)", "constant_pyramid": "constant pyramid",
                    "loglinear": "log-linear trend", "damped": "damped smoothing", "arima": "ARIMA",
                    "constant_employment": "constant employment", "constant_share": "constant share"}}[lang]
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
            ax.set_xticks(x, windows)
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
