"""Potential imbalances per métier × territory × window, and the typologies users read them with.

:func:`imbalance_table` sums the accounts over a time window and returns one row per
(scenario,) territory × métier with the level of the imbalance and its ratios:

=============================  ==============================================================
column                         meaning
=============================  ==============================================================
employment_base                employment at the start of the window (or ``denominator_year``)
openings                       net creation + departures over the window (postes à pourvoir)
young_entrants                 jeunes débutants over the window
net_mobility                   net inflow from other territories (positive = inflow)
supply                         young_entrants + net_mobility (+ net occupational mobility
                               when given)
imbalance                      openings − young_entrants − net_mobility (the DARES gap)
imbalance_pct                  imbalance ÷ employment_base (the ``_pct`` convention of the
                               source: every ``_pct`` column is divided by 2019 employment);
                               NaN when employment_base ≤ 0 (an empty cell)
imbalance_pct_openings         imbalance ÷ openings; NaN with ``openings_nonpositive`` = True
                               when openings ≤ 0 (never ±inf)
supply_demand_ratio            supply ÷ openings (NaN, flagged, when openings ≤ 0)
tension, hors_champ            2019 recruitment-tension level (1–5) and « hors champ » flag
tension_basis                  (downscaled baselines) whose class ``tension`` is: the
                               ``departement``'s own (DARES publishes it) or its ``region``'s
bmo_projects,                  (départements; zones d'emploi: their département's) France
bmo_share_difficult            Travail BMO 2023 recruitment projects and share judged difficult
reliability,                   (split or estimated runs: départements, zones d'emploi, estimated
reliability_label,             DOM) the cell's reliability class 0–2 and its label, whether it is
estimated, key_basis           estimated (estimated territory or class ≥ 1), the key's basis; the
                               France row: estimated if any of its cells is
=============================  ==============================================================

The last three come from the baseline's coordinates (:mod:`pmq.inputs.downscale`) and are absent
for a regional baseline; they are signals of the base period, not summed over the window.

With ``national=True`` a France row (territory ``FR``) is added per métier; its tension level
is, by default, the employment-weighted mean of the regional 2019 levels (assumption stated in
``docs/imbalance.md``), or the national DARES–Pôle emploi indicator
(``national_tension="dares_national"``).

Typologies are named presets with explicit parameters (:data:`PRESETS`, :func:`classify`).
A row whose gap or ratio is undefined (empty cells, no openings) is « Non classé » / "Not
classified" (code ``non_classe``, :data:`NOT_CLASSIFIED`) in every preset:

``dares``
    The four categories of « Les métiers en 2030 » crossing the 2019 tension level with the
    projected gap, plus « hors champ » and a residual class.
``cops``
    Canada's COPS shortage / balance / surplus: projected pressure (openings vs job seekers)
    adjusted by recent conditions.
``roa``
    The Dutch ROA indicator of future labour-market prospects, supply ÷ demand in five bands
    (above 1 = surplus = poor prospects for job seekers: the opposite reading of a positive
    DARES gap); by métier here and by diploma level with :func:`roa_by_level`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from pmq import data as _data
from pmq.formatting import check_lang
from pmq.errors import ArgumentError, InputError
from pmq.options import tr
from pmq.projection.indicators import (FLAG_COLUMNS, aggregate_flags, cell_flags, national as national_total,
                                       reliability_label, window_sums, with_flags)

__all__ = ["imbalance_table", "classify", "PRESETS", "Typology", "watch_list", "roa_by_level",
           "national_tension", "DARES_TENSION_CUTOFFS", "NOT_CLASSIFIED"]

#: Label of the rows a typology cannot class (French, English): a gap or ratio that is not
#: defined — no employment in the denominator year, no openings (see ``docs/imbalance.md``).
NOT_CLASSIFIED = ("Non classé", "Not classified")

#: Cut-offs of the DARES tension z-score between levels 1|2|3|4|5 (2014–2018 quintiles,
#: inferred from the 2019 data; see ``docs/imbalance.md``).
DARES_TENSION_CUTOFFS = (-0.564, -0.260, 0.130, 0.510)

# ----------------------------------------------------------------------------- tension
def national_tension(baseline: xr.Dataset, method: str = "regional_mean") -> pd.DataFrame:
    """National 2019 tension level by métier (columns ``metier``, ``tension``, ``hors_champ``).

    ``regional_mean`` (default)
        Employment-weighted mean of the regional levels of the Métiers 2030 file, over the
        regions where the métier has a level (an assumption: the file carries regional levels
        only); the plain mean of the levels when the métier has no employment in those regions.
        « Hors champ » when no region has a level.
    ``dares_national``
        The national 2019 DARES–Pôle emploi indicator by FAP-87; a métier that groups several
        families (F0A = F0Z + F1Z…) gets the employment-weighted mean z-score of its families
        («Emploi moyen» of the indicator), cut into levels with :data:`DARES_TENSION_CUTOFFS`.
        Métiers the indicator does not cover are « hors champ ».
    """
    metiers = list(baseline.metier.values)
    if method == "regional_mean":
        t = baseline["tension"]
        w = baseline["employment"].sum("age").where(t.notnull())
        wsum = w.sum("territory")
        level = (t * w).sum("territory") / wsum.where(wsum > 0)
        # A métier with no employment in any region that has a level: the plain mean of the levels.
        level = level.where(wsum > 0, t.mean("territory"))
        df = level.to_series().rename("tension").reindex(metiers).reset_index()
    elif method == "dares_national":
        raw = pd.read_csv(_data.data_path("raw", "dares_tension2019_national_fap87.csv"))
        raw = raw.set_index("fap")
        nomen = _data.metiers().set_index("code")
        rows = []
        for m in metiers:
            comps = str(nomen["dares_fap"].get(m, m)).split(";")
            sub = raw.reindex(comps).dropna(subset=["Tension"])
            if sub.empty:
                rows.append((m, np.nan))
                continue
            z = float(np.average(sub["Tension"], weights=sub["Emploi moyen"]))
            rows.append((m, float(np.searchsorted(DARES_TENSION_CUTOFFS, z) + 1)))
        df = pd.DataFrame(rows, columns=["metier", "tension"])
    else:
        raise InputError(tr(f"unknown national tension method {method!r}; expected 'regional_mean' or "
                            "'dares_national'",
                            f"méthode de tension nationale inconnue {method!r} ; méthodes possibles : "
                            "'regional_mean' ou 'dares_national'"), column="national_tension", rows=[method])
    df["hors_champ"] = df["tension"].isna()
    return df


# ----------------------------------------------------------------------------- the table
def _frame(d: xr.Dataset) -> pd.DataFrame:
    drop = [c for c in d.coords if c not in d.dims and c not in ("territory_name", "metier_label", "domain")]
    return d.drop_vars(drop).to_dataframe().reset_index()


def imbalance_table(projection, *, start_year: int | None = None, end_year: int | None = None,
                    horizon: int | None = None, denominator_year: int | None = None,
                    national: bool = True, national_tension_method: str = "regional_mean",
                    occupational: xr.Dataset | None = None, lang: str | None = None) -> pd.DataFrame:
    """Imbalance indicators per (scenario,) territory × métier over one window.

    Parameters
    ----------
    projection : Projection (one scenario or several)
        Result of :func:`pmq.project` or :func:`pmq.projection.compare.project_many`.
    start_year, end_year : int, optional
        Window: flows of ``start_year ≤ year < end_year`` (default: base year to the end of the
        projection).  ``horizon`` h sets ``end_year = base + h``.
    denominator_year : int, optional
        Year of the employment that ratios divide by (default ``start_year``; the DARES
        convention is the base year 2019).
    national : bool
        Add a France row per métier (territory ``FR``).
    occupational : Dataset, optional
        From :func:`pmq.analysis.occupational.occupational_mobility`: adds ``net_occupational_mobility``
        to the supply and a ``gap_after_mobility`` column beside the DARES gap.
    lang : str, optional
        Language of ``reliability_label`` (split or estimated runs only).
    """
    accounts = projection.accounts
    baseline = projection.baseline
    base = int(accounts.year.values[0])
    if horizon is not None:
        end_year = base + int(horizon)
    d = window_sums(accounts, start_year, end_year, denominator_year)
    if occupational is not None:
        occ = occupational["net_occupational_mobility"].sel(year=slice(d.attrs["start_year"],
                                                                       d.attrs["end_year"] - 1)).sum("year")
        d["net_occupational_mobility"] = occ
    lead = [c for c in ("scenario",) if c in d.dims]
    d = d.assign(tension=baseline["tension"], hors_champ=baseline["hors_champ"])
    if national:
        nat = d.drop_vars(["tension", "hors_champ"]).sum("territory")
        nat = nat.expand_dims(territory=["FR"])
        if "territory_name" in d.coords:  # a baseline built from arrays may have no names
            with_dom = "estimated_territory" in accounts.coords and bool(accounts["estimated_territory"].values.any())
            nat = nat.assign_coords(territory_name=("territory", [
                national_total(accounts)[1] if with_dom else "France métropolitaine"]))
        tn = national_tension(baseline, national_tension_method).set_index("metier")
        nat["tension"] = (("territory", "metier"), tn["tension"].reindex(d.metier.values).to_numpy()[None])
        nat["hors_champ"] = (("territory", "metier"), tn["hors_champ"].reindex(d.metier.values).to_numpy()[None])
        keep = [c for c in ("territory_name",) if c in d.coords]
        dd = d.drop_vars([c for c in d.coords if c not in d.dims and c not in keep + ["metier_label", "domain"]])
        d = xr.concat([dd, nat], dim="territory", coords="minimal", compat="override")
    df = _frame(d)
    df["period"] = f"{d.attrs['start_year']}–{d.attrs['end_year']}"
    df["n_years"] = d.attrs["n_years"]
    df["denominator_year"] = d.attrs["denominator_year"]
    df["supply"] = df["young_entrants"] + df["net_mobility"]
    if "net_occupational_mobility" in df.columns:
        df["supply"] = df["supply"] + df["net_occupational_mobility"]
        df["gap_after_mobility"] = df["imbalance"] - df["net_occupational_mobility"]
    pos = df["openings"] > 0
    empos = df["employment_base"] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        df["imbalance_pct"] = np.where(empos, df["imbalance"] / df["employment_base"].where(empos), np.nan)
        df["imbalance_pct_openings"] = np.where(pos, df["imbalance"] / df["openings"].where(pos), np.nan)
        df["supply_demand_ratio"] = np.where(pos, df["supply"] / df["openings"].where(pos), np.nan)
    df["openings_nonpositive"] = ~pos
    df["hors_champ"] = df["hors_champ"].astype(bool) | df["tension"].isna()
    cols = [*lead, "territory", "territory_name", "metier", "metier_label", "domain", "period", "n_years",
            "denominator_year", "employment_base", "employment_start", "employment_end", "net_creation",
            "departures", "openings", "young_entrants", "net_mobility"]
    if "net_occupational_mobility" in df.columns:
        cols.append("net_occupational_mobility")
    cols += ["supply", "other_recruits", "imbalance", "imbalance_pct", "imbalance_pct_openings",
             "supply_demand_ratio", "openings_nonpositive", "tension", "hors_champ"]
    if "gap_after_mobility" in df.columns:
        cols.append("gap_after_mobility")
    df, local = _local_signals(df, baseline, national_tension_method)
    cols += local
    df = df[[c for c in cols if c in df.columns]]
    cells = cell_flags(accounts)
    if cells is not None:       # split or estimated run: the cell's flags; France: estimated if any cell is
        flags = pd.concat([cells, aggregate_flags(cells, ["metier"], territory="FR")], ignore_index=True)
        df = with_flags(df, flags, ["territory", "metier"], lang)
    df.attrs.update(period=f"{d.attrs['start_year']}–{d.attrs['end_year']}", units="persons",
                    national_tension=national_tension_method)
    for k in ("tension_level", "tension_source", "bmo_level", "bmo_source"):
        if k in baseline.attrs:
            df.attrs[k] = baseline.attrs[k]
    return df


#: Baseline coordinates (territory × métier) of the local tension and recruitment-difficulty signals that the
#: imbalance table carries (see :mod:`pmq.inputs.downscale`).
LOCAL_COLUMNS = ("tension_basis", "bmo_projects", "bmo_share_difficult")


def _local_signals(df: pd.DataFrame, baseline: xr.Dataset, national_method: str) -> tuple[pd.DataFrame, list[str]]:
    """``df`` with the baseline's local signals by territory × métier; the France row gets ``tension_basis`` =
    ``national`` and, when the BMO figures are the territories' own (not a parent's), their sum and pooled share."""
    local = [c for c in LOCAL_COLUMNS if c in baseline.coords and set(baseline[c].dims) == {"territory", "metier"}]
    if not local:
        return df, []
    frame = pd.DataFrame({c: baseline[c].transpose("territory", "metier").values.ravel() for c in local})
    frame["territory"] = np.repeat([str(t) for t in baseline.territory.values], baseline.sizes["metier"])
    frame["metier"] = np.tile([str(m) for m in baseline.metier.values], baseline.sizes["territory"])
    fr = df["territory"] == "FR"
    if fr.any():
        nat = pd.DataFrame({"territory": "FR", "metier": [str(m) for m in baseline.metier.values]})
        if "tension_basis" in local:
            nat["tension_basis"] = f"national ({national_method})"
        own = baseline.attrs.get("bmo_level") == baseline.attrs.get("level")
        if "bmo_projects" in local and "bmo_share_difficult" in local and own:
            p = baseline["bmo_projects"].transpose("territory", "metier").values
            sh = baseline["bmo_share_difficult"].transpose("territory", "metier").values
            tot = np.nansum(p, axis=0)
            diff = np.nansum(np.where(np.isnan(sh), 0.0, sh * np.nan_to_num(p)), axis=0)
            defined = ~np.isnan(p).all(axis=0)
            nat["bmo_projects"] = np.where(defined, tot, np.nan)
            with np.errstate(divide="ignore", invalid="ignore"):
                nat["bmo_share_difficult"] = np.where(tot > 0, diff / np.where(tot > 0, tot, 1.0), np.nan)
        frame = pd.concat([frame, nat], ignore_index=True)
    df["territory"] = df["territory"].astype(str)
    df["metier"] = df["metier"].astype(str)
    out = df.merge(frame, on=["territory", "metier"], how="left", validate="many_to_one")
    out.index = df.index
    return out, local


# ----------------------------------------------------------------------------- typologies
@dataclass(frozen=True)
class Typology:
    """A named classification with explicit parameters and French/English class labels."""

    name: str
    params: dict
    labels_fr: dict
    labels_en: dict
    description: str
    func: Callable[..., pd.Series] | None = field(repr=False, default=None)

    def classify(self, table: pd.DataFrame, lang: str | None = None, **overrides) -> pd.Series:
        lang = check_lang(lang)
        unknown = sorted(set(overrides) - set(self.params))
        if unknown:
            raise InputError(tr(f"unknown parameter(s) of the {self.name!r} typology; expected some of "
                                f"{sorted(self.params)}",
                                f"paramètre(s) inconnu(s) de la typologie {self.name!r} ; paramètres possibles : "
                                f"{sorted(self.params)}"), column="params", rows=unknown)
        p = {**self.params, **overrides}
        if self.func is None:
            raise ArgumentError(tr(f"the {self.name!r} typology has no classification function (func=)",
                                   f"la typologie {self.name!r} n'a pas de fonction de classement (func=)"),
                                name="func", value=None)
        codes = self.func(table, **p)
        labels = self.labels_fr if lang == "fr" else self.labels_en
        return codes.map(labels).rename(f"class_{self.name}")


def _dares(t: pd.DataFrame, high_tension, gap_threshold, reference_years, scale_with_period, gap):
    thr = gap_threshold * (t["n_years"] / reference_years if scale_with_period else 1.0)
    g = t[gap]
    high = t["tension"] >= high_tension
    out = np.select(
        [t["hors_champ"] | t["tension"].isna(), g.isna(), high & (g > thr), high & (g < -thr), high,
         g > thr],
        ["hors_champ", "non_classe", "accentuer", "reduire", "maintenir", "nouvelles"], default="residuel")
    return pd.Series(out, index=t.index)


def _cops(t: pd.DataFrame, threshold, recent_shortage, recent_surplus, use_recent):
    seekers = t["supply"]
    pos = t["openings"] > 0
    pressure = pd.Series(np.where(pos, (t["openings"] - seekers) / t["openings"].where(pos), np.nan),
                         index=t.index)
    # Openings < 0 (jobs lost), or none with job seekers: no demand for new workers → surplus.
    # No openings and no job seekers (an empty cell): nothing to class.
    nothing = ~pos & ~(t["openings"] < 0) & ~(seekers > 0)
    projected = pd.Series(np.select([pressure > threshold, pressure < -threshold, pressure.notna(), nothing],
                                    ["shortage", "surplus", "balance", "non_classe"], default="surplus"),
                          index=t.index)
    if not use_recent:
        return projected
    recent = pd.Series(np.select([t["tension"] >= recent_shortage, t["tension"] <= recent_surplus,
                                  t["tension"].notna()], ["shortage", "surplus", "balance"], default="none"),
                       index=t.index)
    out = projected.copy()
    out[(recent == "shortage") & (projected != "surplus")] = "shortage"
    out[(recent == "shortage") & (projected == "surplus")] = "balance"
    out[(recent == "surplus") & (projected != "shortage")] = "surplus"
    out[(recent == "surplus") & (projected == "shortage")] = "balance"
    out[projected == "non_classe"] = "non_classe"  # recent conditions alone do not class a cell
    return out


def _roa_codes(ratio: pd.Series, bands) -> pd.Series:
    b = list(bands)
    out = np.select([ratio.isna(), ratio <= b[0], ratio <= b[1], ratio <= b[2], ratio <= b[3]],
                    ["non_classe", "very_good", "good", "fair", "moderate"], default="poor")
    return pd.Series(out, index=ratio.index)


def _roa(t: pd.DataFrame, bands):
    return _roa_codes(t["supply_demand_ratio"], bands)


PRESETS: dict[str, Typology] = {
    "dares": Typology(
        "dares",
        params={"high_tension": 3.5, "gap_threshold": 0.115, "reference_years": 11,
                "scale_with_period": True, "gap": "imbalance_pct"},
        labels_fr={"accentuer": "Tensions qui pourraient s'accentuer",
                   "maintenir": "Tensions qui pourraient se maintenir",
                   "reduire": "Tensions qui pourraient se réduire",
                   "nouvelles": "Nouvelles difficultés potentielles de recrutement",
                   "residuel": "Tension faible ou moyenne, sans déséquilibre marqué",
                   "hors_champ": "Hors champ", "non_classe": NOT_CLASSIFIED[0]},
        labels_en={"accentuer": "Tensions could increase", "maintenir": "Tensions could persist",
                   "reduire": "Tensions could ease", "nouvelles": "New potential recruitment difficulties",
                   "residuel": "Low or medium tension, no marked imbalance", "hors_champ": "Not covered",
                   "non_classe": NOT_CLASSIFIED[1]},
        description=("\"Les métiers en 2030\": 2019 tension level (high = level ≥ high_tension, i.e. 4–5 "
                     "after rounding) crossed with the gap (imbalance ÷ 2019 employment) beyond "
                     "± gap_threshold (for an 11-year window; scaled with the window length)"),
        func=_dares),
    "cops": Typology(
        "cops",
        params={"threshold": 0.05, "recent_shortage": 4, "recent_surplus": 2, "use_recent": True},
        labels_fr={"shortage": "Pénurie", "balance": "Équilibre", "surplus": "Surplus",
                   "non_classe": NOT_CLASSIFIED[0]},
        labels_en={"shortage": "Shortage", "balance": "Balance", "surplus": "Surplus",
                   "non_classe": NOT_CLASSIFIED[1]},
        description=("COPS (Canada): projected pressure (openings − job seekers) ÷ openings beyond "
                     "± threshold, adjusted by recent conditions (2019 tension level)"),
        func=_cops),
    "roa": Typology(
        "roa",
        params={"bands": (0.85, 1.00, 1.05, 1.15)},
        labels_fr={"very_good": "Très bonnes perspectives", "good": "Bonnes perspectives",
                   "fair": "Perspectives passables", "moderate": "Perspectives moyennes",
                   "poor": "Perspectives faibles", "non_classe": NOT_CLASSIFIED[0]},
        labels_en={"very_good": "Very good prospects", "good": "Good prospects", "fair": "Fair prospects",
                   "moderate": "Moderate prospects", "poor": "Poor prospects",
                   "non_classe": NOT_CLASSIFIED[1]},
        description="ROA (Netherlands): supply ÷ demand; above 1 = surplus = poor prospects for job seekers",
        func=_roa),
}


def classify(table: pd.DataFrame, preset: str = "dares", lang: str | None = None, **params) -> pd.Series:
    """Class of every row of :func:`imbalance_table` under a named typology preset.

    ``params`` override the preset's parameters (``PRESETS[preset].params`` lists them).
    """
    lang = check_lang(lang)
    if preset not in PRESETS:
        raise InputError(tr(f"unknown typology {preset!r}; expected one of {sorted(PRESETS)}",
                            f"typologie inconnue {preset!r} ; typologies possibles : {sorted(PRESETS)}"),
                         column="preset", rows=[preset])
    return PRESETS[preset].classify(table, lang=lang, **params)


def watch_list(table: pd.DataFrame, n: int = 10, preset: str = "dares", lang: str | None = None,
               classes=("accentuer", "nouvelles"), by: str = "imbalance_pct", **params) -> pd.DataFrame:
    """Ranked « métiers à surveiller » per (scenario,) territory — région, département or zone d'emploi, as the
    table's (with ``tension_basis`` and the BMO columns when the table has them, and ``reliability``,
    ``reliability_label`` in ``lang``, ``estimated`` and ``key_basis`` for a split or estimated run).

    Keeps the rows whose DARES class is in ``classes`` (codes of the preset), ranks them by
    ``by`` (descending) within each territory and returns the top ``n``.
    """
    lang = check_lang(lang)
    pre = PRESETS[preset]
    labels = pre.labels_fr if lang == "fr" else pre.labels_en
    unknown = sorted(set(classes) - set(labels))
    if unknown:
        raise InputError(tr(f"unknown class code(s) for {preset!r}; expected some of {sorted(labels)}",
                            f"code(s) de classe inconnu(s) pour {preset!r} ; codes possibles : {sorted(labels)}"),
                         column="classes", rows=unknown)
    t = table.copy()
    t["class"] = classify(t, preset, lang=lang, **params)
    keep = t[t["class"].isin([labels[c] for c in classes])]
    groups = [c for c in ("scenario", "territory") if c in t.columns]
    keep = keep.sort_values(groups + [by], ascending=[True] * len(groups) + [False])
    keep = keep.groupby(groups, sort=False).head(n).copy()
    keep["rank"] = keep.groupby(groups, sort=False).cumcount() + 1
    cols = groups + ["territory_name", "rank", "metier", "metier_label", "class", "tension", "tension_basis",
                     "bmo_share_difficult", "bmo_projects", "openings", "young_entrants", "net_mobility", "imbalance",
                     "imbalance_pct", *FLAG_COLUMNS]
    if "reliability" in keep.columns:       # the label in the watch list's language
        keep["reliability_label"] = reliability_label(keep["reliability"], lang)
    return keep[[c for c in cols if c in keep.columns]].reset_index(drop=True)


def roa_by_level(projection, allocation, *, start_year: int | None = None, end_year: int | None = None,
                 horizon: int | None = None, national: bool = True,
                 bands=(0.85, 1.00, 1.05, 1.15)) -> pd.DataFrame:
    """ROA-style indicator by diploma level (formation) and territory.

    Supply of level l = young entrants with that level (``Σ_m young[t, m] · P(l | t, m)``);
    demand of level l = openings weighted by the same education mix of recent entrants
    (``Σ_m openings[t, m] · P(l | t, m)``: the education requirements of a métier's openings
    are proxied by those of its young entrants).  ratio = supply ÷ demand, classed in ROA's
    bands; above 1 is a surplus of that level (poor prospects).  Openings ≤ 0 in a métier give it
    no demand.
    """
    accounts = projection.accounts
    base = int(accounts.year.values[0])
    if horizon is not None:
        end_year = base + int(horizon)
    d = window_sums(accounts, start_year, end_year)
    P = allocation.share_formation  # (territory, formation, metier)
    supply = (d["young_entrants"] * P).sum("metier")
    demand = (d["openings"].clip(min=0) * P).sum("metier")
    ds = xr.Dataset({"supply": supply, "demand": demand})
    if national:
        nat = ds.sum("territory").expand_dims(territory=["FR"])
        ds = xr.concat([ds.drop_vars([c for c in ds.coords if c not in ds.dims]), nat], dim="territory")
    df = ds.to_dataframe().reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        df["ratio"] = np.where(df["demand"] > 0, df["supply"] / df["demand"].where(df["demand"] > 0), np.nan)
    codes = _roa_codes(df["ratio"], bands)
    df["class"] = codes.map(PRESETS["roa"].labels_fr)
    df["period"] = f"{d.attrs['start_year']}–{d.attrs['end_year']}"
    return df
