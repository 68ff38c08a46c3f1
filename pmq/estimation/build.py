"""Build the packaged baseline from the raw published tables — deterministically.

    python -m pmq.estimation.build [--out DIR]

Reads only ``pmq/data/raw/`` and the nomenclatures, writes to ``pmq/data/baseline/``
(or ``--out``):

* ``flows.csv`` — published 2019–2030 flows by region × métier (persons), Corse's
  groups split into FAP families (rule below), net mobility as net *inflow*;
* ``tension.csv`` — 2019 tension level by region × métier;
* ``hazards.csv`` — **estimated** exit hazards by métier × age;
* ``employment_by_age.csv`` — **estimated** 2019 pyramids by region × métier × age;
* ``calibration.json`` — parameters, convergence and checks.

Corse split rule (each group total is kept exactly):
employment by the FAPs' employment shares in the 12 other regions; departures
and young entrants by those shares × each FAP's rate in the other regions,
rescaled to the group total; net creation likewise plus an additive
employment-weighted adjustment (it is signed); net mobility exactly as minus the
sum over the other regions (mobility sums to zero over regions for each FAP).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pmq.estimation.calibration import fit_exit_age_offsets, fit_national_hazard, fit_tilts, period_departures
from pmq.model.ages import (AGES, BAND_LABELS, AgeProfiles, band_sums, logistic_hazard, shift_exit_age,
                            split_bands, tilt)
from pmq.model.engine import Profiles
from pmq.errors import InputError
from pmq.inputs import baseline as _baseline
from pmq.options import tr
from pmq.model.rules import Rules
from pmq.data import data_path, metiers, regions

K = 1000.0  # thousands → persons
PAIRS = [("2010-2012", "2015-2017"), ("2011-2013", "2016-2018"), ("2012-2014", "2017-2019")]
OFFSET_BOUND = 3.0
TILT_BOUND = 8.0
RAW_COLS = {
    "effectifs_2019_milliers": "employment", "creations_destructions_milliers": "net_creation",
    "departs_fin_carriere_milliers": "departures", "jeunes_debutants_milliers": "young_src",
    "solde_mobilites_inter_regions_milliers": "mobility_src",
}


def read_raw() -> pd.DataFrame:
    """The Métiers 2030 table with region codes and checked identities."""
    path = data_path("raw", "metiers2030_region_fap.csv")
    raw = pd.read_csv(path)
    reg = regions()
    name_to_code = dict(zip(reg.source_name, reg.code))
    unknown = sorted(set(raw["region"]) - set(name_to_code))
    if unknown:
        raise InputError(tr(f"unknown regions {unknown}", f"régions inconnues : {unknown}"), source=path.name,
                         column="region")
    raw["territory"] = raw["region"].map(name_to_code)
    ident = (raw.postes_a_pourvoir_milliers - raw.creations_destructions_milliers
             - raw.departs_fin_carriere_milliers).abs().max()
    if ident > 1e-9:
        raise InputError(tr("postes ≠ créations + départs in the raw file",
                            "postes ≠ créations + départs dans le fichier source"), source=path.name)
    return raw


def split_corse(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per region × FAP family (persons), Corse's groups split (see module doc)."""
    df = raw.rename(columns=RAW_COLS)
    df["young_entrants"] = -df["young_src"]
    df["net_mobility"] = -df["mobility_src"]
    df["published_code"] = df["code_fap"]
    single = df[~df.code_fap.str.contains(";")].copy()
    single["metier"] = single["code_fap"]
    others = single[single.territory != "94"]
    nat = others.groupby("metier")[["employment", "net_creation", "departures", "young_entrants",
                                    "net_mobility"]].sum()
    rows = []
    for _, g in df[df.code_fap.str.contains(";")].iterrows():  # 15 groups: small loop over rows
        members = g["code_fap"].split(";")
        n = nat.loc[members]
        w = n["employment"] / n["employment"].sum()
        emp = g["employment"] * w
        rate_d = n["departures"] / n["employment"]
        rate_y = n["young_entrants"] / n["employment"]
        rate_c = n["net_creation"] / n["employment"]
        dep = emp * rate_d * g["departures"] / (emp * rate_d).sum()
        yng = emp * rate_y * g["young_entrants"] / (emp * rate_y).sum()
        cre = emp * rate_c + (g["net_creation"] - (emp * rate_c).sum()) * w
        mob = -n["net_mobility"]
        for m in members:
            rows.append({"territory": g["territory"], "metier": m, "published_code": g["code_fap"],
                         "employment": emp[m], "net_creation": cre[m], "departures": dep[m],
                         "young_entrants": yng[m], "net_mobility": mob[m],
                         "niveau_tension_2019": g["niveau_tension_2019"], "corse_split": "yes"})
    split = pd.DataFrame(rows)
    single["corse_split"] = "no"
    cols = ["territory", "metier", "published_code", "employment", "net_creation", "departures",
            "young_entrants", "net_mobility", "niveau_tension_2019", "corse_split"]
    out = pd.concat([single[cols], split[cols]], ignore_index=True)
    for c in ("employment", "net_creation", "departures", "young_entrants", "net_mobility"):
        out[c] = out[c] * K
    order = {c: i for i, c in enumerate(metiers()["code"])}
    out["_o"] = out["metier"].map(order)
    out = out.sort_values(["territory", "_o"]).drop(columns="_o").reset_index(drop=True)
    return out


def _facts() -> dict:
    f = pd.read_csv(data_path("raw", "age_facts.csv"))
    return dict(zip(f["key"], f["value"]))


def dares_counts(codes: list[str]) -> np.ndarray:
    """DARES 2017–2019 9-band counts (thousands) of each métier (sum of its FAP-87 families)."""
    a = pd.read_csv(data_path("raw", "dares_age9_fap87_2017_2019.csv"))
    piv = a.pivot_table(index="fap", columns="tr_age", values="annee_2017_2019", aggfunc="sum")[BAND_LABELS]
    comp = metiers().set_index("code")["dares_fap"]
    return np.stack([piv.loc[comp[c].split(";")].sum().to_numpy() for c in codes])


def build(out: Path) -> dict:
    raw = read_raw()
    flows = split_corse(raw)
    facts = _facts()
    share = float(facts["share_15_19_in_15_24"])
    rules = Rules()
    profiles = Profiles.from_spec(AgeProfiles(), AGES)

    # 1. National hazard schedule.
    series = pd.read_csv(data_path("raw", "dares_age9_ensemble_2003_2019.csv"))
    nh = fit_national_hazard(series, share, PAIRS)
    h_nat = logistic_hazard(AGES, **nh["params"], start_age=nh["start_age"])

    codes = [c for c in metiers().query("in_exercise == 'yes'")["code"]]
    terr = sorted(flows.territory.unique(), key=lambda c: (len(c), c))
    grid = flows.set_index(["territory", "metier"]).reindex(
        pd.MultiIndex.from_product([terr, codes]))

    def arr(col):
        return grid[col].to_numpy(dtype=float).reshape(len(terr), len(codes))

    E, N, D, Y, M = (arr(c) for c in ("employment", "net_creation", "departures", "young_entrants",
                                      "net_mobility"))
    counts = dares_counts(codes)

    # 2. Exit-age offsets per métier (national).
    delta, rep_d = fit_exit_age_offsets(counts, h_nat, E.sum(0), N.sum(0), Y.sum(0), M.sum(0), D.sum(0),
                                        11, profiles, rules, share, bound=OFFSET_BOUND)
    h_m = shift_exit_age(h_nat, delta)  # (metier, age)
    shape = split_bands(counts, h_m, share)  # (metier, age)

    # 3. Tilt per cell, full engine runs.
    theta, rep_t = fit_tilts(shape[None], h_m[None], E, N, Y, M, D, 11, profiles, rules, bound=TILT_BOUND)
    E0 = tilt(shape[None], theta, E)
    dep = period_departures(E0, h_m[None], N, Y, M, 11, profiles, rules)

    # Checks on what was not fitted.
    nat_bands = band_sums(E0.sum((0, 1)))
    dares = pd.read_csv(data_path("raw", "dares_age9_fap87_2017_2019.csv"))
    ens = dares[dares.fap == "ENSEMBLE"].set_index("tr_age").loc[BAND_LABELS, "annee_2017_2019"].to_numpy()
    band_gap = 100 * (nat_bands / nat_bands.sum() - ens / ens.sum())

    # Write.
    out.mkdir(parents=True, exist_ok=True)
    fl = flows.rename(columns={"niveau_tension_2019": "tension"})
    fl.insert(2, "period_start", 2019)
    fl.insert(3, "period_end", 2030)
    fl[["territory", "metier", "period_start", "period_end", "net_creation", "young_entrants",
        "net_mobility", "departures", "published_code"]].to_csv(out / "flows.csv", index=False,
                                                                float_format="%.17g")
    fl[["territory", "metier", "tension"]].to_csv(out / "tension.csv", index=False)
    ti, mi, ai = np.meshgrid(np.arange(len(terr)), np.arange(len(codes)), np.arange(len(AGES)), indexing="ij")
    pd.DataFrame({"territory": np.array(terr)[ti.ravel()], "metier": np.array(codes)[mi.ravel()],
                  "age": AGES[ai.ravel()], "year": 2019, "employment": E0.ravel()}) \
        .to_csv(out / "employment_by_age.csv", index=False, float_format="%.12g")
    mj, aj = np.meshgrid(np.arange(len(codes)), np.arange(len(AGES)), indexing="ij")
    pd.DataFrame({"metier": np.array(codes)[mj.ravel()], "age": AGES[aj.ravel()],
                  "hazard": h_m.ravel()}).to_csv(out / "hazards.csv", index=False, float_format="%.12g")
    rel = np.abs(dep - D) / D
    unfitted = [{"territory": terr[i], "metier": codes[j], "reason": "tilt at bound"}
                for i, j in zip(*np.nonzero(rep_t.at_lower_bound | rep_t.at_upper_bound))]
    meta = {
        "summary": {
            "hazard_params": nh["params"], "hazard_fit_rmse": nh["rmse"],
            "offset_bound_years": OFFSET_BOUND, "tilt_bound": TILT_BOUND,
            "offsets_at_bound": [codes[j] for j in np.nonzero(rep_d.at_lower_bound | rep_d.at_upper_bound)[0]],
            "offset_bisection_iterations": rep_d.iterations,
            "tilt_bisection_iterations": rep_t.iterations,
            "departures_max_rel_error": float(rel.max()),
            "unfitted_cells": unfitted,
            "national_band_gap_points": dict(zip(BAND_LABELS, map(float, np.round(band_gap, 3)))),
            "share_15_19_in_15_24": share,
        },
        "national_hazard_fit": nh,
        "exit_age_offsets": dict(zip(codes, map(float, np.round(delta, 6)))),
        "tilts": {"min": float(theta.min()), "max": float(theta.max()), "median": float(np.median(theta))},
    }
    (out / "calibration.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                                          encoding="utf-8")
    return meta


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m pmq.estimation.build", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=data_path("baseline"))
    args = p.parse_args(argv)
    meta = build(args.out)
    s = meta["summary"]
    print(f"hazard params {s['hazard_params']}, rmse {s['hazard_fit_rmse']:.4f}")
    print(f"offsets at bound: {s['offsets_at_bound']}; unfitted cells: {len(s['unfitted_cells'])}; "
          f"departures max rel error {s['departures_max_rel_error']:.2e}")
    print(f"national band gaps (points): {s['national_band_gap_points']}")
    if args.out.resolve() == data_path("baseline").resolve():     # the package's tables: its assembled copy too
        _baseline._builtin.cache_clear()
        print(f"written: {_baseline.write_builtin_cache()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
