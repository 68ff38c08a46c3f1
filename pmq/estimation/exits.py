"""Exit hazards estimated from successive DARES age pyramids (pseudo-cohorts), with statsmodels.

Data: employment by FAP-87 family × 9 age bands for 15 rolling 3-year windows, 2003–2005 …
2017–2019 (``pmq/data/raw/dares_age9_fap87_2003_2019.csv``).  Two windows five years apart
follow the same cohorts: the **continuation ratio** r = E[band + 5 years, t + 5] / E[band, t].

What the ratios identify, and what they do not:

* A ratio below 1 mixes exits from employment with net moves out of the métier, survey noise
  and DARES's 3-year smoothing.  At mid-career (35–44) exits to retirement are nil, so the
  ratio there measures net mobility and noise.  pmq therefore measures exits **relative to
  the cell's mid-career continuation**: q = 1 − r / r_ref, where r_ref is the 35–39 → 40–44 and
  40–44 → 45–49 ratio of the same FAP and window pair (clipped to [0.5, 1.5]).  This assumes that
  net mobility at 45+ runs at the mid-career rate.
* Only the bands from 45 are modelled; below, exits are set to 0.  The open 60+ band is
  followed as « 55+ → 60+ ».
* Five-year exit shares q are modelled by a quasi-binomial GLM (logit link, weights =
  employment at the start, scale from Pearson's χ²) with one logit per FAP × transition: the
  unpooled per-métier fit, with standard errors.
* **Partial pooling** (two-level empirical Bayes, per transition): the domain means are shrunk
  towards the national mean, and each logit towards its shrunk domain mean by
  w = τ² / (τ² + se²) (variances by the method of moments), so small families borrow strength
  from their domain and, when the domain itself is small or noisy, from the national schedule.  :func:`holdout` compares both on
  later windows.

Annual hazards: h = 1 − (1 − q)^(1/5), placed on the single ages in the middle of each
transition (48–52, 53–57, 58–73); 0 before 48; 1 at 74 (forced exit, as in the engine).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from pmq import data as _data
from pmq.errors import InputError
from pmq.data import metiers
from pmq.options import tr as _tr

__all__ = ["BANDS", "pyramids", "continuation_table", "fit_exits", "ExitFit", "holdout", "metier_hazards"]

BANDS = ["15-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60+"]
TRANSITIONS = {"45-49": (48, 52), "50-54": (53, 57), "55+": (58, 73)}
#: Rows of the DARES file that are not FAP-87 families: all employment, T2Z (= T2A + T2B from
#: 1995) and « non renseigné ».  They are left out of every fit, so nothing is counted twice.
NOT_FAMILIES = ("ENS", "T2Z", "ZZZ")
SOURCE = "Dares, Portraits statistiques des métiers (2021 edition), 9-band pyramids by FAP-87, 2003–2019"
SOURCE_FR = "Dares, Portraits statistiques des métiers (édition 2021), pyramides en 9 tranches par FAP-87, 2003–2019"


def _src(source: str | None) -> str | None:
    """``source`` as the messages name it: the shipped DARES pyramids in the reader's language."""
    return _tr(SOURCE, SOURCE_FR) if source == SOURCE else source


@lru_cache(maxsize=1)
def _raw() -> pd.DataFrame:
    return pd.read_csv(_data.data_path("raw", "dares_age9_fap87_2003_2019.csv"), dtype={"fap": str})


def pyramids(table: pd.DataFrame | None = None, source: str = SOURCE, families: bool = True) -> pd.DataFrame:
    """Wide table (fap, centre year) × band, thousands; checks bands, windows and counts.

    With ``families`` (default) the rows ENS, T2Z and ZZZ (:data:`NOT_FAMILIES`) are dropped."""
    t = _raw() if table is None else table
    need = {"fap", "window", "band", "employment_k"}
    if not need <= set(t.columns):
        raise InputError(_tr(f"pyramid table needs columns {sorted(need)}",
                            f"le tableau des pyramides demande les colonnes {sorted(need)}"), source=_src(source),
                         column="columns",
                         rows=sorted(need - set(t.columns)))
    bad_band = sorted(set(t["band"]) - set(BANDS))
    if bad_band:
        raise InputError(_tr(f"unknown age bands; expected {BANDS}", f"tranches d'âge inconnues ; attendues : {BANDS}"),
                         source=_src(source), column="band", rows=bad_band)
    v = pd.to_numeric(t["employment_k"], errors="coerce")
    bad = t[~np.isfinite(v) | (v < 0)]
    if len(bad):
        raise InputError(_tr("employment must be a number ≥ 0", "l'emploi doit être un nombre ≥ 0"),
                         source=_src(source), column="employment_k",
                         rows=bad.head(10))
    w = t["window"].astype(str).str.extract(r"^(\d{4})-(\d{4})$")
    if w.isna().any().any() or ((w[1].astype(int) - w[0].astype(int)) != 2).any():
        raise InputError(_tr("windows must read « YYYY-YYYY » over 3 years",
                            "les fenêtres doivent s'écrire « YYYY-YYYY », sur 3 ans"), source=_src(source),
                         column="window",
                         rows=sorted(set(t.loc[w.isna().any(axis=1) | ((w[1].astype(float) - w[0].astype(float)) != 2),
                                             "window"]))[:10])
    t = t.assign(centre=w[0].astype(int) + 1, employment_k=v)
    if families:
        t = t[~t["fap"].isin(NOT_FAMILIES)]
    wide = t.pivot_table(index=["fap", "centre"], columns="band", values="employment_k", aggfunc="sum")
    missing = [b for b in BANDS if b not in wide.columns]
    if missing:
        raise InputError(_tr("every window needs all 9 bands", "chaque fenêtre demande les 9 tranches d'âge"),
                         source=_src(source), column="band", rows=missing)
    gaps = wide[wide[BANDS].isna().any(axis=1)]
    if len(gaps):
        raise InputError(_tr("some (FAP, window) rows lack bands",
                            "des lignes (FAP, fenêtre) n'ont pas toutes leurs tranches d'âge"), source=_src(source),
                         column="band",
                         rows=[f"{f} {c}" for f, c in gaps.index[:10]])
    return wide[BANDS]


def continuation_table(wide: pd.DataFrame | None = None, lag: int = 5, starts=None) -> pd.DataFrame:
    """One row per (fap, start centre, transition): employment at the start ``n`` (thousands),
    continuation ratio ``r``, mid-career reference ``r_ref`` and exit share ``q = 1 − r / r_ref``
    (clipped to [0, 1])."""
    wide = pyramids() if wide is None else wide
    centres = sorted(set(wide.index.get_level_values("centre")))
    starts = [c for c in centres if c + lag in centres] if starts is None else list(starts)
    bad = [c for c in starts if c not in centres or c + lag not in centres]
    if bad:
        raise InputError(_tr(f"start windows need a window {lag} years later; available centres "
                            f"{centres[0]}–{centres[-1]}",
                            f"une fenêtre de départ demande une fenêtre {lag} ans plus tard ; centres disponibles : "
                            f"{centres[0]}–{centres[-1]}"), source=_src(SOURCE), column="window", rows=bad)
    rows = []
    for c in starts:
        a, z = wide.xs(c, level="centre"), wide.xs(c + lag, level="centre")
        faps = a.index.intersection(z.index)
        a, z = a.loc[faps], z.loc[faps]
        mid_n = a["35-39"] + a["40-44"]
        r_ref = ((z["40-44"] + z["45-49"]) / mid_n.where(mid_n > 0)).clip(0.5, 1.5)
        for tr, num, den in (("45-49", z["50-54"], a["45-49"]), ("50-54", z["55-59"], a["50-54"]),
                             ("55+", z["60+"], a["55-59"] + a["60+"])):
            d = pd.DataFrame({"fap": faps, "start": c, "transition": tr, "n": den.values,
                              "r": (num / den.where(den > 0)).values, "r_ref": r_ref.values})
            rows.append(d)
    t = pd.concat(rows, ignore_index=True).dropna()
    t = t[t["n"] > 0]
    t["q"] = (1 - t["r"] / t["r_ref"]).clip(0, 1)
    t["domain"] = t["fap"].str[0]
    return t.reset_index(drop=True)


@dataclass
class ExitFit:
    """Five-year exit shares by FAP × transition: the per-FAP (unpooled) quasi-binomial GLM
    estimates and their partially pooled version, with standard errors (logit scale)."""

    table: pd.DataFrame          # the data used
    glm: Any                     # statsmodels GLM results (untyped): one logit per (FAP, transition)
    cells: pd.DataFrame          # fap, transition, domain, n, theta, se, national, domain_mean, prior, weight,
                                 # theta_pooled, se_pooled
    tau2: dict                   # between-FAP variance of the logits, per transition

    def q(self, pooled: bool = True) -> pd.DataFrame:
        """Five-year exit shares (fap × transition) with standard errors (delta method)."""
        th = self.cells["theta_pooled" if pooled else "theta"]
        se = self.cells["se_pooled" if pooled else "se"]
        p = 1 / (1 + np.exp(-th))
        return pd.DataFrame({"fap": self.cells["fap"], "transition": self.cells["transition"], "q": p,
                             "se": p * (1 - p) * se})

    def hazards(self, pooled: bool = True, ages=range(15, 75)) -> pd.DataFrame:
        """Annual exit hazards by single age (columns) for every FAP (rows); SEs in ``.attrs['se']``."""
        ages = list(ages)
        qs = self.q(pooled)
        faps = sorted(set(self.cells["fap"]))
        row = {f: i for i, f in enumerate(faps)}
        hv, sv = np.zeros((len(faps), len(ages))), np.zeros((len(faps), len(ages)))
        # one cell at a time in Python floats (the same arithmetic as a row-by-row .loc fill,
        # without its pandas overhead); the transitions' ages do not overlap
        for fap, tr, q, s in zip(qs["fap"], qs["transition"], qs["q"].tolist(), qs["se"].tolist()):
            lo, hi = TRANSITIONS[tr]
            cols = [j for j, a in enumerate(ages) if lo <= a <= hi]
            hv[row[fap], cols] = 1 - (1 - q) ** 0.2
            sv[row[fap], cols] = 0.2 * (1 - q) ** (-0.8) * s
        h = pd.DataFrame(hv, index=faps, columns=ages)
        se = pd.DataFrame(sv, index=faps, columns=ages)
        h[ages[-1]] = 1.0
        se[ages[-1]] = 0.0
        h.attrs["se"] = se
        h.attrs["source"] = SOURCE
        return h

    def share_of_exits_from_50(self, pyramid: pd.Series | None = None, pooled: bool = True) -> float:
        """Share of implied exits at ages ≥ 50 on a 9-band pyramid (default: 2017–2019, all FAP),
        with each transition's exit share averaged over FAPs by employment."""
        if pyramid is None:
            pyramid = pyramids().xs(2018, level="centre").sum()
        q = self.q(pooled).assign(w=self.cells["n"].to_numpy())
        q = q.groupby("transition").apply(lambda g: np.average(g["q"], weights=g["w"]))
        exits_45 = pyramid["45-49"] * q["45-49"]
        exits_50 = pyramid["50-54"] * q["50-54"]
        exits_55 = (pyramid["55-59"] + pyramid["60+"]) * q["55+"]
        before_50 = exits_45 * 2 / 5          # the 45–49 transition's exits fall at ages 48–52
        return float(1 - before_50 / (exits_45 + exits_50 + exits_55))

    def summary(self) -> str:
        q = self.q().assign(n=self.cells["n"].to_numpy())
        nat = q.groupby("transition").apply(lambda g: np.average(g["q"], weights=g["n"]))
        lines = [f"pmq exit hazards — quasi-binomial GLM, {len(self.table)} continuation ratios, "
                 f"{self.cells['fap'].nunique()} FAP-87, dispersion {self.glm.scale:.2f}",
                 "transition  5-year exit share (employment-weighted)  τ² (logit)"]
        for k in TRANSITIONS:
            lines.append(f"{k:<11} {100 * nat[k]:>6.1f} %                               {self.tau2[k]:.3f}")
        lines.append(f"share of implied exits at ages ≥ 50: {100 * self.share_of_exits_from_50():.1f} %")
        return "\n".join(lines)


def _moments(resid: pd.Series, var: pd.Series) -> float:
    """Method-of-moments between-group variance: weighted mean square minus mean sampling variance."""
    w = 1 / var
    return max(float(np.average(resid ** 2, weights=w) - np.average(var, weights=w)), 1e-4)


def _pool(cells: pd.DataFrame):
    """Two-level empirical Bayes, per transition: domain means are shrunk towards the national
    mean (between-domain variance τ_D²), and each FAP logit towards its shrunk domain mean
    (within-domain variance τ²).  Vectorised over FAPs; the loop is over the 3 transitions."""
    out = {k: pd.Series(np.nan, index=cells.index) for k in ("national", "domain_mean", "prior", "weight")}
    tau2 = {}
    for k, g in cells.groupby("transition"):
        th, v = g["theta"], g["se"] ** 2
        dom = g["domain"]
        # within-domain variance, from the deviations to the precision-weighted domain means
        dmean0 = (th / v).groupby(dom).transform("sum") / (1 / v).groupby(dom).transform("sum")
        t2 = _moments(th - dmean0, v)
        # domain means with FAP-level noise se² + τ², and their sampling variances
        vd = 1 / (1 / (v + t2)).groupby(dom).transform("sum")
        dmean = (th / (v + t2)).groupby(dom).transform("sum") * vd
        first = ~dom.duplicated()
        mu = float(np.average(dmean[first], weights=1 / vd[first]))
        tD = _moments(dmean[first] - mu, vd[first])
        prior = mu + tD / (tD + vd) * (dmean - mu)
        t2 = _moments(th - prior, v)
        out["national"][g.index] = mu
        out["domain_mean"][g.index] = dmean
        out["prior"][g.index] = prior
        out["weight"][g.index] = t2 / (t2 + v)
        tau2[k] = t2
    return out["national"], out["domain_mean"], out["prior"], out["weight"], tau2


def fit_exits(table: pd.DataFrame | None = None) -> ExitFit:
    """Per-FAP quasi-binomial GLM of the five-year exit shares (one logit per FAP × transition,
    scale from Pearson's χ²), then partial pooling of each logit towards the precision-weighted
    mean of its FAP domain for that transition (empirical Bayes, τ² per transition)."""
    import statsmodels.api as sm

    t = continuation_table() if table is None else table
    key = t["fap"] + "|" + t["transition"]
    if len(t) <= key.nunique():
        raise InputError(_tr("the dispersion cannot be estimated from one pair of windows per FAP: give at least "
                            "two pairs of windows (e.g. start windows five years apart plus one)",
                            "la dispersion ne peut être estimée avec une seule paire de fenêtres par FAP : donnez "
                            "au moins deux paires de fenêtres (par exemple une fenêtre de départ de plus, avec sa "
                            "fenêtre cinq ans plus tard)"), source=_src(SOURCE),
                         column="start", rows=sorted(set(t["start"])))
    cats = sorted(key.unique())
    design = pd.get_dummies(pd.Categorical(key, categories=cats)).astype(float)
    y = t["q"].to_numpy().clip(1e-4, 1 - 1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        glm = sm.GLM(y, design, family=sm.families.Binomial(), var_weights=t["n"].to_numpy()).fit(scale="X2")
    cells = pd.DataFrame({"key": cats})
    cells[["fap", "transition"]] = cells["key"].str.split("|", expand=True)
    cells["domain"] = cells["fap"].str[0]
    cells["n"] = t.groupby(key)["n"].mean().reindex(cats).to_numpy()
    cells["theta"] = np.asarray(glm.params)
    cells["se"] = np.asarray(glm.bse)
    cells["national"], cells["domain_mean"], cells["prior"], cells["weight"], tau2 = _pool(cells)
    cells["theta_pooled"] = cells["prior"] + cells["weight"] * (cells["theta"] - cells["prior"])
    cells["se_pooled"] = np.sqrt(cells["weight"]) * cells["se"]
    return ExitFit(table=t, glm=glm, cells=cells.drop(columns="key"), tau2=tau2)


def holdout(split: int = 2008) -> pd.DataFrame:
    """Fit on pairs starting ≤ ``split``, predict the later pairs: binomial log-likelihood
    (weights = employment, thousands) and mean squared error of the five-year exit shares,
    unpooled vs pooled — weighted, for small families (below the median employment) and
    unweighted."""
    t = continuation_table()
    train, test = t[t["start"] <= split], t[t["start"] > split]
    if train.empty or test.empty:
        raise InputError(_tr(f"split {split} leaves no training or no test pairs",
                            f"la coupure {split} ne laisse aucune paire d'apprentissage ou aucune paire de test"),
                         source=_src(SOURCE), column="start",
                         rows=[split])
    fit = fit_exits(train)
    rows = []
    for pooled in (False, True):
        q = fit.q(pooled).set_index(["fap", "transition"])["q"]
        pred = q.reindex(list(zip(test["fap"], test["transition"]))).to_numpy()
        ok = np.isfinite(pred)
        yv = test["q"].to_numpy()[ok]
        err = (yv - pred[ok]) ** 2
        n = test["n"].to_numpy()[ok]
        small = n < np.median(n)
        p = np.clip(pred[ok], 1e-6, 1 - 1e-6)
        loglik = float(np.sum(n * (yv * np.log(p) + (1 - yv) * np.log(1 - p))))
        rows.append({"model": "pooled" if pooled else "unpooled", "loglik": loglik,
                     "mse": float(np.average(err, weights=n)), "mse_small": float(np.average(err[small],
                                                                                             weights=n[small])),
                     "mse_unweighted": float(err.mean()), "pairs": int(ok.sum())})
    return pd.DataFrame(rows).set_index("model")


def _metier_weights(codes, weights: pd.Series) -> np.ndarray:
    """(métier × FAP) matrix: each métier is the ``weights``-weighted mean of its FAP-87 families
    (``metiers()['dares_fap']``, « ; »-separated).  Unknown codes raise :class:`InputError`."""
    comp = metiers().set_index("code")["dares_fap"]
    codes = [str(c) for c in codes]
    unknown = [c for c in codes if c not in comp.index]
    if unknown:
        raise InputError(_tr("métier codes outside pmq's FAP nomenclature: estimated inputs need the DARES FAP-87 "
                            "families behind each métier",
                            "codes métier hors de la nomenclature FAP de pmq : les données estimées demandent les "
                            "familles FAP-87 de la DARES qui composent chaque métier"),
                         source="metiers.csv", column="metier", rows=unknown[:10])
    faps = list(weights.index)
    W = np.zeros((len(codes), len(faps)))
    for i, c in enumerate(codes):                # a handful of FAP per métier
        for f in comp[c].split(";"):
            W[i, faps.index(f)] = weights[f]
    return W / W.sum(1, keepdims=True)


@lru_cache(maxsize=2)
def _full_fit() -> ExitFit:
    return fit_exits()


def metier_hazards(codes, pooled: bool = True, ages=range(15, 75), fit: ExitFit | None = None):
    """Annual exit hazards estimated from the DARES pyramids for pmq métiers ``codes``:
    ``(hazard, se)``, arrays (métier, age).  A métier made of several FAP-87 families gets the
    mean of their hazards weighted by their employment aged 45+ in 2017–2019."""
    fit = _full_fit() if fit is None else fit
    h = fit.hazards(pooled=pooled, ages=ages)
    se = h.attrs["se"]
    w = pyramids().xs(2018, level="centre")[BANDS[5:]].sum(axis=1).reindex(h.index)
    W = _metier_weights(codes, w)
    return W @ h.to_numpy(), np.sqrt((W ** 2) @ se.to_numpy() ** 2)
