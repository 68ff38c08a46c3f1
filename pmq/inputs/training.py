"""Labour supply from initial training: leavers × employment rate × formation → métier matrix.

The young entrants of « Les métiers en 2030 » (*jeunes débutants*) are leavers of initial
education who hold a job about three years after leaving, allocated to métiers "as today's young
people do".  This module rebuilds that supply side explicitly:

    entrants[t, f, m] = leavers[t, f] × employment_rate[f] × P(m | t, f)

with ``f`` a *formation* (diploma level by default; a level × specialty, or any user
classification, when the user has leavers and a starting matrix by specialty).

The allocation matrix is **calibrated** by iterative proportional fitting (IPF, also called
RAS or raking) from an observed starting matrix — by default the DARES under-30 employment by
diploma × métier, 2017–2019 — to two margins:

* rows: the young entrants of every métier × territory over the base period (the baseline's
  ``published_young_entrants``);
* columns: employed leavers by formation (``leavers × employment_rate × n_period``), national
  or by territory.

Default margins come from different sources and do not add up (DEPP/Céreq leavers × Insee
employment rates ≈ 5.98 M over 2019–2030, against 7.02 M published young entrants): the formation
margin is rescaled to the young-entrant total and the factor is reported.  User margins that
disagree beyond ``margin_tolerance`` raise an :class:`~pmq.errors.InputError` naming the
territories and totals, unless ``rescale=True``.

Leavers of year *y* enter employment in *y + lag* (``lag`` = 3 by default): scenario levers on
leaver volumes (``[[supply.leavers]]``) act on young entrants ``lag`` years later; levers on the
matrix (``[[supply.matrix]]``) move the allocation of a formation between métiers while keeping
the number of employed leavers of that formation.

All computations are vectorised over territories, formations and métiers (no loop over cells);
IPF iterates over margins only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import xarray as xr

from pmq import data as _data
from pmq.errors import CalibrationError, InputError, ScenarioError
from pmq.names import listing
from pmq.inputs.tables import offending
from pmq.options import tr

__all__ = ["LEVELS", "level_table", "training_facts", "default_seed", "default_leavers", "ipf",
           "calibrate_training", "TrainingAllocation", "read_seed", "read_leavers",
           "supply_factors", "SUPPLY_LAG"]

#: Diploma levels of the default formation axis (codes, French and English labels, DARES column).
LEVELS = pd.DataFrame([
    ("nodip", "Aucun diplôme, CEP ou brevet", "No diploma or lower-secondary only",
     "Aucun diplôme, CEP ou brevet des collèges"),
    ("cap_bep", "CAP, BEP ou équivalent", "Upper-secondary vocational (CAP, BEP)",
     "CAP, BEP ou autre diplôme équivalent"),
    ("bac", "Baccalauréat ou équivalent", "Baccalauréat",
     "Bac, brevet professionnel ou équivalent"),
    ("bac2", "Bac + 2", "Short tertiary (bac + 2)", "Bac + 2"),
    ("bac3p", "Bac + 3 ou plus", "Bachelor or higher (bac + 3 or more)",
     "Diplôme supérieur (bac +3 ou plus)"),
], columns=["code", "label_fr", "label_en", "dares_column"])

#: Default lag between leaving initial education and being counted as a young entrant.
SUPPLY_LAG = 3

SEED_SOURCE = ("DARES, « Portraits statistiques des métiers » (2021), employed under 30 by highest "
               "diploma × FAP-87, enquête Emploi 2017–2019 (dipl_moins_30_3niv.csv)")


def level_table() -> pd.DataFrame:
    """The default diploma levels with the published leaver shares and employment rates."""
    facts = training_facts()
    share = facts[facts.quantity == "leaver_share"].set_index("level")["value"]
    rate = facts[facts.quantity == "employment_rate_3y"].set_index("level")["value"]
    out = LEVELS.copy()
    out["leaver_share"] = out["code"].map(share)
    out["employment_rate"] = out["code"].map(rate)
    return out


@cache
def training_facts() -> pd.DataFrame:
    """Published figures behind the default supply margins, one row per figure with its URL."""
    return pd.read_csv(_data.data_path("raw", "training_facts.csv"), dtype={"level": str})


# ----------------------------------------------------------------------------- inputs
def _components(metiers: pd.DataFrame) -> dict[str, list[str]]:
    """pmq métier code → its DARES FAP-87 components (e.g. F0A → [F0Z, F1Z])."""
    return {code: [c for c in str(comp).split(";") if c]
            for code, comp in zip(metiers["code"], metiers["dares_fap"])}


def default_seed(metiers: list[str] | None = None) -> xr.DataArray:
    """The observed starting matrix (formation = diploma level) × métier, in persons.

    Employed under 30 by diploma × FAP-87 (DARES, enquête Emploi 2017–2019); a métier that
    groups several FAP-87 families (F0A = F0Z + F1Z…) gets their sum.  Students holding a job
    and the « non renseigné » row are left out.  Métiers outside the nomenclature get a zero
    row (calibration then reports them as rows with no support).
    """
    raw = pd.read_csv(_data.data_path("raw", "dares_under30_fap87_x_diploma_2017_2019.csv"))
    cols = dict(zip(LEVELS["dares_column"], LEVELS["code"]))
    fap = raw.set_index("Fap")[list(cols)].rename(columns=cols) * 1000.0
    nomen = _data.metiers()
    comps = _components(nomen)
    codes = [c for c in nomen.loc[nomen["in_exercise"] == "yes", "code"]] if metiers is None else list(metiers)
    rows = np.array([fap.reindex(comps.get(c, [c])).fillna(0.0).sum().to_numpy() for c in codes])
    return xr.DataArray(rows.T, dims=("formation", "metier"),
                        coords={"formation": list(LEVELS["code"]), "metier": codes},
                        name="seed", attrs={"units": "persons", "source": SEED_SOURCE,
                                            "long_name": "Matrice de départ formation × métier"})


def default_leavers() -> xr.DataArray:
    """Leavers per year by diploma level and their employment rate ~3 years later (national).

    Returns a DataArray ``employed_leavers(formation)`` = leavers × share × rate, persons per
    year, with ``leavers`` and ``employment_rate`` as coordinates and the sources in attrs.
    """
    facts = training_facts()
    lv = level_table()
    total = float(facts.loc[facts.quantity == "leavers_total", "value"].iloc[0])
    leavers = total * lv["leaver_share"].to_numpy()
    rate = lv["employment_rate"].to_numpy()
    srcs = facts.drop_duplicates("url")[["source", "url"]]
    return xr.DataArray(leavers * rate, dims=("formation",),
                        coords={"formation": list(lv["code"]), "leavers": ("formation", leavers),
                                "employment_rate": ("formation", rate)},
                        name="employed_leavers",
                        attrs={"units": "persons per year",
                               "sources": "; ".join(f"{s} ({u})" for s, u in srcs.itertuples(index=False))})


def _frame(obj, source: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return obj.copy()
    try:
        return pd.read_csv(obj)
    except FileNotFoundError as exc:
        raise InputError(tr("file not found", "fichier introuvable"), source=str(obj)) from exc


def _check_numbers(df: pd.DataFrame, col: str, source: str, *, lo=0.0, hi=None) -> None:
    v = pd.to_numeric(df[col], errors="coerce")
    bad = v.isna() | ~np.isfinite(v) | (v < lo) | ((v > hi) if hi is not None else False)
    if bad.any():
        rng = f"[{lo}, {hi}]" if hi is not None else f"≥ {lo}"
        raise InputError(tr(f"values must be numbers {'in ' if hi is not None else ''}{rng} (no NaN)",
                            f"les valeurs doivent être des nombres {'dans ' if hi is not None else ''}{rng} "
                            "(sans NaN)"), source=source, column=col,
                         rows=offending(df, bad))
    df[col] = v.astype(float)


def _need_columns(df, cols, source):
    missing = [c for c in cols if c not in df.columns]
    if missing:
        found = listing(map(str, df.columns))
        raise InputError(tr(f"missing column(s) {listing(missing)}; found {found}",
                            f"colonne(s) absente(s) : {listing(missing)} ; colonnes trouvées : {found}"),
                         source=source, column=", ".join(missing))


def read_seed(obj, metiers: list[str], source: str | None = None) -> xr.DataArray:
    """A user starting matrix from a long table ``formation, metier, value`` (persons or shares).

    Formations are free labels (diploma levels, specialties, level × specialty…).
    """
    source = source or (str(obj) if not isinstance(obj, pd.DataFrame)
                        else tr("seed table", "tableau de la matrice de départ"))
    df = _frame(obj, source)
    _need_columns(df, ["formation", "metier", "value"], source)
    df["formation"] = df["formation"].astype(str)
    df["metier"] = df["metier"].astype(str)
    _check_numbers(df, "value", source)
    unknown = ~df["metier"].isin(metiers)
    if unknown.any():
        raise InputError(tr("unknown métier code(s)", "code(s) de métier inconnu(s)"), source=source, column="metier",
                         rows=offending(df, unknown))
    dup = df.duplicated(["formation", "metier"], keep=False)
    if dup.any():
        raise InputError(tr("duplicate (formation, metier) rows", "lignes (formation, metier) en double"),
                         source=source, column="formation, metier",
                         rows=offending(df, dup))
    wide = df.pivot(index="formation", columns="metier", values="value").reindex(columns=metiers).fillna(0.0)
    return xr.DataArray(wide.values, dims=("formation", "metier"),
                        coords={"formation": list(wide.index), "metier": list(metiers)},
                        name="seed", attrs={"units": "persons", "source": source})


def read_leavers(obj, territories: list[str] | None = None, source: str | None = None) -> xr.DataArray:
    """User leavers from a long table ``formation, leavers[, employment_rate][, territory]``.

    ``leavers`` are persons per year; ``employment_rate`` (share in employment about three years
    after leaving, in [0, 1]) defaults to 1 (the table then already counts employed leavers).
    With a ``territory`` column the margin is by territory × formation.
    """
    source = source or (str(obj) if not isinstance(obj, pd.DataFrame) else tr("leavers table", "tableau des sortants"))
    df = _frame(obj, source)
    _need_columns(df, ["formation", "leavers"], source)
    df["formation"] = df["formation"].astype(str)
    _check_numbers(df, "leavers", source)
    if "employment_rate" in df.columns:
        _check_numbers(df, "employment_rate", source, lo=0.0, hi=1.0)
    else:
        df["employment_rate"] = 1.0
    df["employed"] = df["leavers"] * df["employment_rate"]
    keys = ["formation"]
    if "territory" in df.columns:
        df["territory"] = df["territory"].astype(str)
        if territories is not None:
            unknown = ~df["territory"].isin(territories)
            if unknown.any():
                raise InputError(tr(f"unknown territory code(s); expected one of {listing(territories)}",
                                    f"code(s) de territoire inconnu(s) ; codes attendus : {listing(territories)}"),
                                 source=source, column="territory",
                                 rows=offending(df, unknown))
        keys = ["territory", "formation"]
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        raise InputError(tr(f"duplicate ({', '.join(keys)}) rows", f"lignes ({', '.join(keys)}) en double"),
                         source=source,
                         column=", ".join(keys),
                         rows=offending(df, dup))
    s = df.set_index(keys)["employed"]
    if len(keys) > 1:
        full = pd.MultiIndex.from_product([s.index.unique(0), s.index.unique(1)], names=keys)
        missing = full.difference(s.index)
        if len(missing):
            raise InputError(tr(f"{len(missing)} (territory, formation) pair(s) have no row: every territory "
                                "needs a row for every formation (write leavers = 0 where there are none)",
                                f"{len(missing)} couple(s) (territory, formation) sans ligne : chaque territoire "
                                "demande une ligne pour chaque formation (écrivez leavers = 0 là où il n'y a "
                                "aucun sortant)"),
                             source=source, column="territory, formation",
                             rows=missing.to_frame(index=False))
        da = xr.DataArray.from_series(s)
    else:
        da = xr.DataArray(s.values, dims=("formation",), coords={"formation": list(s.index)})
    da.name = "employed_leavers"
    da.attrs = {"units": "persons per year", "source": source}
    return da


# ----------------------------------------------------------------------------- IPF
def ipf(seed: np.ndarray, margins: list[tuple[tuple[int, ...], np.ndarray]], *, tol: float = 1e-9,
        max_iter: int = 2000) -> tuple[np.ndarray, dict]:
    """Iterative proportional fitting of a non-negative array to margins.

    Parameters
    ----------
    seed : array
        Starting array (non-negative).
    margins : list of (axes_kept, target)
        Each target is the sum of the result over every axis *not* in ``axes_kept``, with the
        kept axes in order (e.g. ``((0, 2), R)`` for ``R[t, m] = Σ_f X[t, f, m]``).
    tol : float
        Stop when the largest relative margin error (|fit − target| ÷ max(target, tiny)) of every
        margin is below ``tol``.

    Returns
    -------
    fitted, report
        ``report`` holds ``iterations``, ``converged`` and ``max_rel_error`` per margin.
    """
    x = np.array(seed, dtype=float)
    nd = x.ndim
    prepared = []
    for axes, target in margins:
        target = np.asarray(target, dtype=float)
        summed = tuple(a for a in range(nd) if a not in axes)
        shape = [x.shape[a] if a in axes else 1 for a in range(nd)]
        prepared.append((summed, target, target.reshape(shape)))

    def errors(x):
        out = []
        for summed, target, _ in prepared:
            fit = x.sum(summed)
            scale = np.maximum(np.abs(target), 1e-12 * max(float(np.abs(target).max()), 1.0))
            out.append(float(np.max(np.abs(fit - target) / scale)) if target.size else 0.0)
        return out

    it = 0
    err = errors(x)
    while max(err) > tol and it < max_iter:
        for summed, _, tgt in prepared:
            fit = x.sum(summed, keepdims=True)
            x = x * np.where(fit > 0, tgt / np.where(fit > 0, fit, 1.0), 0.0)
        it += 1
        err = errors(x)
    return x, {"iterations": it, "converged": bool(max(err) <= tol), "max_rel_error": err}


# ----------------------------------------------------------------------------- calibration
@dataclass
class TrainingAllocation:
    """Calibrated allocation of employed leavers to métiers, by territory and formation.

    Attributes
    ----------
    entrants : DataArray (territory, formation, metier)
        Young entrants over the base period, persons.
    report : dict
        IPF convergence (iterations, max margin errors), the rescale factor and the sources.
    lag : int
        Years between leaving initial education and being counted as a young entrant.
    """

    entrants: xr.DataArray
    report: dict
    lag: int = SUPPLY_LAG
    seed: xr.DataArray | None = field(default=None, repr=False)

    @property
    def share_formation(self) -> xr.DataArray:
        """P(formation | territory, métier): the formation mix of each cell's young entrants."""
        tot = self.entrants.sum("formation")
        return (self.entrants / tot.where(tot > 0)).fillna(0.0).rename("share_formation")

    @property
    def share_metier(self) -> xr.DataArray:
        """P(métier | territory, formation): where the employed leavers of a formation go."""
        tot = self.entrants.sum("metier")
        return (self.entrants / tot.where(tot > 0)).fillna(0.0).rename("share_metier")

    def table(self, by: str = "formation") -> pd.DataFrame:
        """Period totals (persons) as a long table, with shares."""
        df = self.entrants.to_dataframe(name="entrants").reset_index()
        df["share_of_metier"] = self.share_formation.to_dataframe(name="s")["s"].to_numpy()
        df["share_of_formation"] = self.share_metier.to_dataframe(name="s")["s"].to_numpy()
        return df

    def summary(self) -> str:
        r = self.report
        nat = self.entrants.sum(["territory", "metier"]).to_series()
        lines = [
            tr("Allocation of initial-education leavers to métiers (IPF)",
               "Allocation des sortants de formation initiale aux métiers (IPF)"),
            tr(f"  iterations: {r['iterations']}  converged: {r['converged']}",
               f"  itérations : {r['iterations']}  convergé : {'oui' if r['converged'] else 'non'}"),
            tr(f"  max. error, métier × territory margin: {r['max_rel_error_rows']:.2e}",
               f"  écart max. marge métier × territoire : {r['max_rel_error_rows']:.2e}"),
            tr(f"  max. error, formation margin: {r['max_rel_error_formations']:.2e}",
               f"  écart max. marge formation : {r['max_rel_error_formations']:.2e}"),
            tr(f"  leavers rescale factor: {r['rescale_factor']:.4f} "
               f"({r['supply_total'] / 1e3:,.0f} k → {r['target_total'] / 1e3:,.0f} k)",
               f"  facteur d'ajustement des sortants : {r['rescale_factor']:.4f} "
               f"({r['supply_total'] / 1e3:,.0f} k → {r['target_total'] / 1e3:,.0f} k)"),
            tr("  young entrants by formation (period, thousands):",
               "  jeunes débutants par formation (période, milliers) :"),
        ]
        lines += [f"    {k:<10} {v / 1e3:10,.1f}" for k, v in nat.items()]
        return "\n".join(lines)


def _support_errors(seed_tm: np.ndarray, rows: np.ndarray, cols: np.ndarray, territories, formations,
                    metiers, col_by_territory: bool) -> None:
    # rows: (T, M) targets; seed_tm: (T, F, M) seed; cols: (F,) or (T, F)
    row_support = seed_tm.sum(1)
    bad = (rows > 0) & (row_support <= 0)
    if bad.any():
        t, m = np.nonzero(bad)
        df = pd.DataFrame({"territory": np.asarray(territories)[t], "metier": np.asarray(metiers)[m],
                           "young_entrants_target": rows[t, m]})
        raise InputError(tr("these métiers have young entrants to allocate but no formation in the "
                            "starting matrix (a row with no support): give them a non-zero seed row",
                            "ces métiers ont des jeunes débutants à répartir mais aucune formation dans la matrice "
                            "de départ (une ligne sans appui) : donnez-leur une ligne non nulle dans la matrice "
                            "de départ"),
                         source=tr("training seed", "matrice de départ"), column="metier", rows=df)
    col_support = seed_tm.sum(2) if col_by_territory else seed_tm.sum((0, 2))
    bad = (cols > 0) & (col_support <= 0)
    if bad.any():
        if col_by_territory:
            t, f = np.nonzero(bad)
            df = pd.DataFrame({"territory": np.asarray(territories)[t], "formation": np.asarray(formations)[f],
                               "employed_leavers_target": cols[t, f]})
        else:
            f = np.nonzero(bad)[0]
            df = pd.DataFrame({"formation": np.asarray(formations)[f], "employed_leavers_target": cols[f]})
        raise InputError(tr("these formations have leavers to allocate but no métier in the starting "
                            "matrix (a column with no support)",
                            "ces formations ont des sortants à répartir mais aucun métier dans la matrice de départ "
                            "(une colonne sans appui)"),
                         source=tr("training seed", "matrice de départ"), column="formation", rows=df)


def calibrate_training(baseline: xr.Dataset, leavers: xr.DataArray | None = None,
                       seed: xr.DataArray | None = None, *, lag: int = SUPPLY_LAG,
                       rescale: bool | None = None, margin_tolerance: float = 0.01,
                       tol: float = 1e-9, max_iter: int = 2000) -> TrainingAllocation:
    """Calibrate the formation × métier allocation to the baseline's young entrants.

    Parameters
    ----------
    baseline : Dataset
        Supplies the row margin ``published_young_entrants`` (territory, métier, period totals)
        and ``n_period``.
    leavers : DataArray, optional
        Employed leavers per year by ``formation`` (national) or by ``territory`` × ``formation``
        (:func:`read_leavers`); default :func:`default_leavers`.  Multiplied by ``n_period`` to
        give the period margin.
    seed : DataArray (formation, metier), optional
        Observed starting matrix (default :func:`default_seed`); it is broadcast over territories.
    rescale : bool, optional
        Rescale the formation margin to the young-entrant total.  Default: True for the built-in
        leavers (the sources differ; the factor is reported), False for user leavers — whose
        totals must then agree within ``margin_tolerance`` (relative), else InputError; a
        difference within the tolerance is absorbed by scaling (``report["rescale_factor"]``).
    tol, max_iter : IPF stopping rule (largest relative margin error).

    Raises
    ------
    InputError
        Inconsistent margins, a métier (or formation) with a target but no support in the seed,
        formations of the leavers absent from the seed.
    CalibrationError
        IPF did not converge in ``max_iter`` iterations.
    """
    territories = list(baseline.territory.values)
    metiers = list(baseline.metier.values)
    n_period = int(baseline.attrs.get("n_period", 1))
    builtin = leavers is None
    if seed is None:
        seed = default_seed(metiers)
    else:
        seed = seed.reindex(metier=metiers, fill_value=0.0)
    if leavers is None:
        leavers = default_leavers()
    if rescale is None:
        rescale = builtin
    formations = list(seed.formation.values)
    missing = sorted(set(map(str, leavers.formation.values)) - set(map(str, formations)))
    if missing:
        raise InputError(tr("formations of the leavers are absent from the starting matrix",
                            "des formations des sortants sont absentes de la matrice de départ"),
                         source=leavers.attrs.get("source", tr("leavers", "sortants")), column="formation",
                         rows=missing)
    leavers = leavers.reindex(formation=formations, fill_value=0.0)
    by_territory = "territory" in leavers.dims
    rows = baseline["published_young_entrants"].transpose("territory", "metier").values.astype(float)
    if by_territory:
        leavers = leavers.reindex(territory=territories, fill_value=0.0).transpose("territory", "formation")
    cols = leavers.values.astype(float) * n_period
    supply_total = float(cols.sum())
    target_total = float(rows.sum())

    # Margins must agree: per territory when the leavers are by territory, in total otherwise.
    if by_territory:
        s_t, r_t = cols.sum(1), rows.sum(1)
        ratio = np.where(s_t > 0, r_t / np.where(s_t > 0, s_t, 1.0), np.nan)
        if rescale:
            cols = cols * np.nan_to_num(ratio, nan=0.0)[:, None]
        else:
            off = np.abs(np.nan_to_num(ratio, nan=np.inf) - 1.0) > margin_tolerance
            off &= (r_t > 0) | (s_t > 0)
            if off.any():
                raise InputError(tr(
                    f"inconsistent margins: employed leavers × {n_period} years and young entrants differ "
                    f"by more than {margin_tolerance:.1%} in these territories (pass rescale=True to "
                    "rescale the leavers to the young entrants)",
                    f"marges incohérentes : les sortants en emploi × {n_period} ans et les jeunes débutants "
                    f"diffèrent de plus de {margin_tolerance:.1%} dans ces territoires (passez rescale=True pour "
                    "ajuster les sortants aux jeunes débutants)"),
                    source=leavers.attrs.get("source", tr("leavers", "sortants")),
                    column="leavers", rows=pd.DataFrame({"territory": np.asarray(territories)[off],
                                                         "employed_leavers_period": s_t[off],
                                                         "young_entrants_period": r_t[off]}))
        factor = target_total / supply_total if supply_total else np.nan
    else:
        factor = target_total / supply_total if supply_total else np.nan
        if not rescale and abs(factor - 1.0) > margin_tolerance:
            raise InputError(tr(
                f"inconsistent margins: employed leavers over {n_period} years total "
                f"{supply_total:,.0f} but young entrants total {target_total:,.0f} "
                f"(ratio {factor:.4f}, tolerance {margin_tolerance:.1%}); pass rescale=True to rescale "
                "the leavers to the young entrants",
                f"marges incohérentes : les sortants en emploi sur {n_period} ans totalisent "
                f"{supply_total:,.0f} mais les jeunes débutants {target_total:,.0f} "
                f"(rapport {factor:.4f}, tolérance {margin_tolerance:.1%}) ; passez rescale=True pour ajuster "
                "les sortants aux jeunes débutants"), source=leavers.attrs.get("source", tr("leavers", "sortants")),
                column="leavers", rows=pd.DataFrame({"margin": [tr("employed leavers (period)",
                                                                   "sortants en emploi (période)"),
                                                                tr("young entrants (period)",
                                                                   "jeunes débutants (période)")],
                                                     "total": [supply_total, target_total]}))
        # Within the tolerance the small difference is absorbed by the same scaling (the IPF
        # margins must add up); the report keeps the factor either way.
        cols = cols * factor

    seed_tm = np.broadcast_to(seed.transpose("formation", "metier").values.astype(float),
                              (len(territories), len(formations), len(metiers))).copy()
    _support_errors(seed_tm, rows, cols, territories, formations, metiers, by_territory)
    margins: list[tuple[tuple[int, ...], np.ndarray]] = [((0, 2), rows), ((0, 1), cols) if by_territory else ((1,), cols)]
    fitted, rep = ipf(seed_tm, margins, tol=tol, max_iter=max_iter)
    if not rep["converged"]:
        raise CalibrationError(tr(
            f"the formation × métier matrix did not converge in {max_iter} iterations (max relative "
            f"margin errors: rows {rep['max_rel_error'][0]:.2e}, formations {rep['max_rel_error'][1]:.2e}); "
            "the zero pattern of the starting matrix may make the margins unreachable",
            f"la matrice formation × métier n'a pas convergé en {max_iter} itérations (écarts relatifs max. "
            f"aux marges : lignes {rep['max_rel_error'][0]:.2e}, formations {rep['max_rel_error'][1]:.2e}) ; "
            "les zéros de la matrice de départ rendent peut-être les marges inatteignables"))
    entrants = xr.DataArray(fitted, dims=("territory", "formation", "metier"),
                            coords={"territory": territories, "formation": formations, "metier": metiers},
                            name="entrants",
                            attrs={"units": "persons", "period_years": n_period,
                                   "long_name": "Jeunes débutants par formation et métier (période)",
                                   "seed_source": seed.attrs.get("source", ""),
                                   "leavers_source": leavers.attrs.get("sources", leavers.attrs.get("source", ""))})
    report = {"iterations": rep["iterations"], "converged": rep["converged"],
              "max_rel_error_rows": rep["max_rel_error"][0],
              "max_rel_error_formations": rep["max_rel_error"][1],
              "rescale_factor": float(factor), "rescaled": bool(rescale),
              "supply_total": supply_total, "target_total": target_total,
              "by_territory": by_territory, "tolerance": tol}
    return TrainingAllocation(entrants=entrants, report=report, lag=int(lag), seed=seed)


# ----------------------------------------------------------------------------- scenario levers
def _select(values, lever, key, known, source, where):
    sel = lever.get(key)
    if sel is None:
        return np.ones(len(known), bool)
    sel = [str(s) for s in sel]
    bad = sorted(set(sel) - set(map(str, known)))
    if bad:
        raise ScenarioError(tr(f"unknown {key} code(s) {listing(bad)}; expected some of {listing(map(str, known))}",
                               f"code(s) {key} inconnu(s) : {listing(bad)} ; codes possibles : "
                               f"{listing(map(str, known))}"),
                            source=source, key=f"{where}.{key}")
    return np.isin(np.asarray(known).astype(str), sel)


def supply_factors(young: np.ndarray, allocation: TrainingAllocation, leaver_levers, matrix_levers,
                   ctx, n_years: int, lag: int | None = None) -> np.ndarray:
    """Multipliers (year, territory, métier) of young entrants under the supply levers.

    ``young[y, t, m] × Σ_f P(f | t, m) × F[y − lag, t, f] × G[y, t, f, m]`` where ``F`` is the
    leaver-volume factor of the leaving year (``[[supply.leavers]]``, years are *leaving* years)
    and ``G`` the relative change of P(m | t, f) under ``[[supply.matrix]]`` levers (the
    matrix is renormalised so that each formation keeps its employed leavers).  Without levers the
    result is 1 everywhere, so the baseline is reproduced exactly.
    """
    lag = allocation.lag if lag is None else int(lag)
    ent = allocation.entrants
    territories = list(ent.territory.values)
    formations = list(ent.formation.values)
    metiers = list(ent.metier.values)
    T, F, M = len(territories), len(formations), len(metiers)
    years = ctx.base_year + np.arange(n_years)
    leave_year = years - lag
    Fy = np.ones((n_years, T, F))
    for lv in leaver_levers:
        where = f"supply.leavers[{lv.get('id')}]"
        f_sel = _select(formations, lv, "level", formations, ctx.source, where)
        t_sel = ctx.territory_mask(lv) if hasattr(ctx, "territory_mask") else \
            _select(territories, lv, "territory", territories, ctx.source, where)
        y0 = lv.get("from_year", -10_000)
        y1 = lv.get("to_year", 10_000)
        on = (leave_year >= y0) & (leave_year <= y1)
        mask = on[:, None, None] & t_sel[None, :, None] & f_sel[None, None, :]
        Fy = np.where(mask, Fy * float(lv["factor"]), Fy)
    P_m = allocation.share_metier.transpose("territory", "formation", "metier").values  # (T, F, M)
    G = np.ones((n_years, T, F, M))
    if matrix_levers:
        g = np.ones((n_years, T, F, M))
        for lv in matrix_levers:
            where = f"supply.matrix[{lv.get('id')}]"
            f_sel = _select(formations, lv, "level", formations, ctx.source, where)
            m_sel = ctx.cell_mask(lv)  # (T, M) from metier / domain / territory
            y0 = lv.get("from_year", -10_000)
            y1 = lv.get("to_year", 10_000)
            on = (years >= y0) & (years <= y1)
            mask = on[:, None, None, None] & f_sel[None, None, :, None] & m_sel[None, :, None, :]
            g = np.where(mask, g * float(lv["factor"]), g)
        norm = (P_m[None] * g).sum(-1, keepdims=True)
        G = np.where(norm > 0, g / np.where(norm > 0, norm, 1.0), 1.0)
    P_f = allocation.share_formation.transpose("territory", "formation", "metier").values  # (T, F, M)
    factor = (P_f[None] * Fy[..., None] * G).sum(2)  # (year, T, M)
    # Cells without entrants in the base period have P_f = 0 everywhere: keep factor 1.
    has = P_f.sum(1) > 0
    return np.where(has[None], factor, 1.0)
