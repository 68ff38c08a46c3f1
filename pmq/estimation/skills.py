"""The bridge métier → FAP-225 → ROME fiches → compétences (issue 19), built deterministically from the shared
source files into the compact tables of ``pmq/data/skills/``.

    python -m pmq.estimation.skills [--shared DIR] [--out DIR] [--check]

Reads ``../shared/data`` (beside the repository; ``--shared`` or ``PMQ_SHARED_DATA`` to point elsewhere):

* ``dares_portraits/fap225_rome.csv`` — DARES's correspondence FAP-225 → ROME V3 codes (749 pairs, the pairs
  of the official table ``dares_rome_v3_vers_fap2009.xls``, which is not read: it needs an ``.xls`` reader);
* ``dares_portraits/effectifs_3niv.csv`` — employment by FAP-225, 2017–2019 average (enquête Emploi, DARES):
  the weights of the FAP-225 within a pmq métier; ``age9_2017_2019_3niv.csv`` for the FAP-225 labels;
* ``rome4/`` — France Travail's ROME 4.0 (v460): the fiches and their ``transition_eco`` / ``transition_num``
  flags, the fiche × item links (``coherence_item``, with ``coeur_metier``), the compétences with their
  macro-compétence, the savoirs with their categories, the ranked « mobilités » fiche → fiche
  (``rubrique_mobilite``);
* the shipped nomenclature of pmq's métiers (``pmq.data.metiers()``: their DARES FAP-87 components).

Writes ``pmq/data/skills/`` (or ``--out``): ``fap225.csv``, ``bridge.csv``, ``fiches.csv``,
``macro_competences.csv``, ``fiche_macro.csv``, ``savoir_categories.csv``, ``fiche_savoir.csv``,
``green_digital.csv``, ``fiche_green_digital.csv``, ``passerelles.csv`` (the ROME « mobilités » aggregated to
métier × métier, :func:`build_passerelles`) — contents and rules in ``pmq/data/skills/SOURCE.md``.

``--check`` rebuilds in memory and compares with the shipped files: codes, flags and labels exactly, numbers to
a relative tolerance of 1e-9 (the files hold 12 significant digits), weights to 1e-12 absolute (they are written
with 12 decimals, each métier's summing to exactly 1).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pmq.data import data_path, metiers
from pmq.estimation.shipped import (RTOL, compare_tables, find_shared, finish_build,
                                   normalised_shares, write_tables)

#: The ROME release read (file names ``unix_<name>_v460_utf8.csv``).
ROME_VERSION = "v460"
#: The year of ``effectifs_3niv.csv`` used for the FAP-225 weights (the centre of the 2017–2019 window).
EMPLOYMENT_YEAR = 2018
#: FAP-225 codes of ``effectifs_3niv.csv`` that are not families of their own: T2Z60 = T2A60 + T2B60 (the
#: former « aides à domicile » family, kept by DARES as the sum of its two 2009 splits), ZZZZZ (not stated).
NOT_FAMILIES = ("T2Z60", "ZZZZZ")
#: Weights are written with 12 decimals (units of 1e-12), summing exactly to 1 within each métier.
FILES = ("fap225.csv", "bridge.csv", "fiches.csv", "macro_competences.csv", "fiche_macro.csv",
         "savoir_categories.csv", "fiche_savoir.csv", "green_digital.csv", "fiche_green_digital.csv",
         "passerelles.csv")
#: Text columns of the shipped tables (read as strings; empty = empty text, never NaN).
TEXT = ("metier", "fap225", "fap87", "label", "basis", "rome", "fiche", "macro", "code", "categorie",
        "sous_categorie", "transition_eco", "transition_num", "coeur", "item", "kind", "savoir_categorie", "target")
#: ``coeur_metier`` of the ROME links, as written in the tables: P « Principale » (core of the métier),
#: E « Émergente » (emerging), empty otherwise.
COEUR = {"Principale": "P", "Émergente": "E", "": ""}
#: FAP-225 without a code in the DARES table whose profession a ROME 4.0 fiche names in its appellations (job
#: titles): FAP-225 → ((fiche, (appellations quoted from ``unix_referentiel_appellation``)), …). The build
#: checks that each title is an appellation of its fiche. The fiches weigh equally within the FAP-225. A pmq
#: rule (basis ``appellation``), used where the FAP-87 family's other codes describe other jobs (the tax
#: officers of P0Z60 for the administrative agents and postal employees of P0Z61–62; senior civil servants for
#: officers; nothing for the clergy); the other FAP-225 without a code take their family's (basis ``famille``).
APPELLATIONS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    # Adjoints administratifs de la fonction publique (y.c. enseignement), agents administratifs, agents de
    # surveillance du patrimoine et des administrations
    "P0Z61": (("M1602", ("Adjoint administratif / Adjointe administrative (guichet)",
                         "Agent administratif / Agente administrative de l'Etat")),),
    # Employés de la Poste, employés de France Télécom (statut public)
    "P0Z62": (("M1603", ("Facteur / Factrice", "Receveur distributeur / Receveuse distributrice de La Poste")),
              ("C1201", ("Guichetier / Guichetière de la banque postale",))),
    # Officiers des Armées et de la Gendarmerie (sauf officiers généraux)
    "P2Z92": (("K1715", ("Officier / Officière des forces armées", "Officier / Officière des armes")),
              ("K1706", ("Officier / Officière de gendarmerie",))),
    # Clergé séculier et régulier
    "X0Z01": (("K1212", ("Ministre du culte", "Prêtre / Prêtresse")),),
}


# ---------------------------------------------------------------------------------------------- locating
def repo_root() -> Path:
    """The repository (or installed tree) root: the folder holding the ``pmq`` package."""
    return Path(__file__).resolve().parents[2]


def locate_shared(explicit: Path | None = None) -> Path | None:
    """``../shared/data`` beside the repository (or ``explicit`` / ``PMQ_SHARED_DATA``), or None if absent."""
    return find_shared(explicit, repo_root().parent / "shared" / "data", ("rome4", "dares_portraits"))


# ---------------------------------------------------------------------------------------------- readers
def _rome(shared: Path, name: str, columns: list[str]) -> pd.DataFrame:
    path = shared / "rome4" / f"unix_{name}_{ROME_VERSION}_utf8.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{path.name}: missing columns {missing}")
    return df[columns].apply(lambda s: s.str.strip())


def read_fap225_rome(shared: Path) -> pd.DataFrame:
    """DARES FAP-225 → ROME V3 pairs: fap225, rome (``NA`` rows — families without a code — dropped)."""
    path = shared / "dares_portraits" / "fap225_rome.csv"
    r = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    r = r.rename(columns={"Fap": "fap225", "Rome": "rome"})[["fap225", "rome"]].apply(lambda s: s.str.strip())
    r = r[(r["fap225"] != "") & (r["rome"] != "") & (r["rome"] != "NA")].reset_index(drop=True)
    if r.duplicated().any():
        raise ValueError(f"{path.name}: duplicated FAP-225 × ROME pairs")
    bad = ~r["fap225"].str.fullmatch(r"[A-Z]\d[A-Z]\d\d") | ~r["rome"].str.fullmatch(r"[A-N]\d{4}")
    if bad.any():
        raise ValueError(f"{path.name}: malformed codes {r[bad].head().to_dict('records')}")
    return r


def read_fap225_employment(shared: Path) -> pd.DataFrame:
    """Employment by FAP-225 (thousands, 2017–2019 average) with the DARES labels: fap225, label, employment."""
    e = pd.read_csv(shared / "dares_portraits" / "effectifs_3niv.csv")
    row = e[e["Annee"] == EMPLOYMENT_YEAR]
    if len(row) != 1:
        raise ValueError(f"effectifs_3niv.csv: no single row for {EMPLOYMENT_YEAR}")
    codes = [c for c in e.columns if len(c) == 5 and c != "Annee" and c not in NOT_FAMILIES]
    emp = pd.DataFrame({"fap225": codes, "employment": row[codes].to_numpy(dtype=float)[0]})
    if emp["employment"].isna().any() or (emp["employment"] <= 0).any():
        raise ValueError(f"effectifs_3niv.csv: missing or non-positive {EMPLOYMENT_YEAR} employment: "
                         f"{emp.loc[~(emp['employment'] > 0), 'fap225'].tolist()}")
    a = pd.read_csv(shared / "dares_portraits" / "age9_2017_2019_3niv.csv", dtype=str)
    labels = a[a["fap"].str.len() == 5].drop_duplicates("fap").set_index("fap")["libelle"]
    emp["label"] = emp["fap225"].map(labels)
    if emp["label"].isna().any():
        raise ValueError(f"age9_2017_2019_3niv.csv: no label for {emp.loc[emp['label'].isna(), 'fap225'].tolist()}")
    return emp[["fap225", "label", "employment"]]


def read_rome(shared: Path) -> dict[str, pd.DataFrame]:
    """The ROME 4.0 files used: fiches, links, compétences (with macro-compétences), savoirs."""
    fiches = _rome(shared, "referentiel_code_rome", ["code_rome", "libelle_rome", "code_rome_parent",
                                                     "transition_eco", "transition_num"])
    links = _rome(shared, "coherence_item", ["code_rome", "code_ogr", "coeur_metier"])
    comp = _rome(shared, "referentiel_competence", ["code_ogr", "nature", "libelle_competence",
                                                    "code_ogr_macro_comp", "code_macro_comp", "cat_comp",
                                                    "sous_cat_comp", "transition_eco", "transition_num"])
    app = _rome(shared, "referentiel_appellation", ["code_rome", "libelle_appellation_long"])
    mob = _rome(shared, "rubrique_mobilite", ["code_rome", "code_rome_cible", "numero_ordre"])
    sav = _rome(shared, "referentiel_savoir", ["code_ogr_savoir", "libelle_savoir", "categorie_savoir",
                                               "sous_categorie_savoir", "transition_eco", "transition_num"])
    for name, df, key in (("referentiel_code_rome", fiches, ["code_rome"]), ("coherence_item", links,
                          ["code_rome", "code_ogr"]), ("referentiel_competence", comp, ["code_ogr"]),
                          ("referentiel_savoir", sav, ["code_ogr_savoir"]),
                          ("rubrique_mobilite", mob, ["code_rome", "code_rome_cible"])):
        if df.duplicated(key).any():
            raise ValueError(f"{name}: duplicated {key}")
    unknown = sorted(set(links["coeur_metier"]) - set(COEUR))
    if unknown:
        raise ValueError(f"coherence_item: unknown coeur_metier values {unknown}")
    return {"fiches": fiches, "links": links, "competences": comp, "savoirs": sav, "appellations": app,
            "mobilites": mob}


def pmq_metiers() -> tuple[list[str], dict[str, list[str]]]:
    """Every métier code pmq knows (the 83 of the exercise, then the 8 FAP-87 families accepted in user data)
    and their DARES FAP-87 components."""
    m = metiers()
    m = pd.concat([m[m["in_exercise"] == "yes"], m[m["in_exercise"] != "yes"]])
    return list(m["code"]), {c: f.split(";") for c, f in zip(m["code"], m["dares_fap"])}


# ---------------------------------------------------------------------------------------------- builders
def build_fap225(emp: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The FAP-225 of pmq's métiers: code, label, FAP-87 family, pmq métier (of the exercise), employment
    (thousands), number of ROME codes in the DARES table, basis (``dares``: codes in the DARES table;
    ``appellation``: none there, fiches of :data:`APPELLATIONS`; ``famille``: none, borrows its FAP-87
    family's; ``aucun``: no code in the family either)."""
    m = metiers()
    exercise = {f: code for code, fs, ex in zip(m["code"], m["dares_fap"], m["in_exercise"]) if ex == "yes"
                for f in fs.split(";")}
    out = emp.copy()
    out["fap87"] = out["fap225"].str[:3]
    out["metier"] = out["fap87"].map(exercise)
    orphans = out.loc[out["metier"].isna(), "fap225"].tolist()
    if orphans:
        raise ValueError(f"FAP-225 whose FAP-87 family is not in a pmq métier: {orphans}")
    unknown = sorted(set(pairs["fap225"]) - set(out["fap225"]))
    if unknown:
        raise ValueError(f"fap225_rome.csv: FAP-225 without employment in effectifs_3niv.csv: {unknown}")
    n = pairs.groupby("fap225").size()
    out["n_rome"] = out["fap225"].map(n).fillna(0).astype(int)
    both = sorted(set(APPELLATIONS) & set(pairs["fap225"]))
    if both:
        raise ValueError(f"FAP-225 with codes in the DARES table and in APPELLATIONS: {both}")
    has = set(out.loc[out["n_rome"] > 0, "fap87"])
    out["basis"] = np.where(out["n_rome"] > 0, "dares", np.where(
        out["fap225"].isin(list(APPELLATIONS)), "appellation", np.where(out["fap87"].isin(has), "famille",
                                                                       "aucun")))
    return out[["fap225", "label", "fap87", "metier", "employment", "n_rome", "basis"]]


def check_appellations(appellations: pd.DataFrame, fiches: pd.DataFrame) -> None:
    """Every job title :data:`APPELLATIONS` cites is an appellation of its fiche in the ROME release read."""
    have = set(zip(appellations["code_rome"], appellations["libelle_appellation_long"]))
    missing = [(f, fiche, t) for f, links in APPELLATIONS.items() for fiche, titles in links
               for t in titles if (fiche, t) not in have]
    if missing:
        raise ValueError(f"APPELLATIONS cites job titles that are not appellations of their fiche: {missing}")
    unknown = sorted({fiche for links in APPELLATIONS.values() for fiche, _ in links} - set(fiches["code_rome"]))
    if unknown:
        raise ValueError(f"APPELLATIONS cites unknown fiches: {unknown}")


def build_bridge(fap: pd.DataFrame, pairs: pd.DataFrame, fiches: pd.DataFrame) -> pd.DataFrame:
    """métier → FAP-225 → ROME V3 code → ROME 4.0 fiche, with the weight of each path in the métier (the rules of
    SOURCE.md):

    * a métier's FAP-225 weigh by their employment (2017–2019);
    * a FAP-225's ROME codes weigh equally (1/n); a code that serves several FAP-225 counts in full in each
      (DARES splits a code between FAP by the job seekers' qualification; ROME does not say how a code's
      compétences differ by qualification, so each FAP takes the same fiche content);
    * a ROME V3 code's ROME 4.0 fiches (the fiches whose ``code_rome_parent`` it is) weigh equally (1/k);
    * a FAP-225 with no code in the DARES table takes, if listed in :data:`APPELLATIONS`, the ROME 4.0 fiches
      whose appellations name its profession (equally weighted; basis ``appellation``), otherwise the paths of
      its FAP-87 family's other FAP-225, each weighted by its employment (basis ``famille``);
    * a FAP-225 whose family has no code at all (``aucun``: professionals of politics, X0Z00) keeps its weight on
      an empty ``rome`` and ``fiche``: the part of the métier no ROME fiche reaches."""
    codes, comp = pmq_metiers()
    parent = fiches.groupby("code_rome_parent")["code_rome"].apply(sorted)
    parent_of = dict(zip(fiches["code_rome"], fiches["code_rome_parent"]))
    per = pairs.merge(fap[["fap225", "n_rome"]], on="fap225")
    direct = pd.DataFrame([(f, r, fi, 1.0 / n / len(parent[r])) for f, r, n in per.itertuples(index=False)
                           for fi in parent[r]], columns=["fap225", "rome", "fiche", "share"])
    coded = fap[fap["basis"] == "dares"]
    parts = []
    for f in fap.itertuples(index=False):
        if f.basis == "dares":
            p = direct[direct["fap225"] == f.fap225].assign(basis="dares")
        elif f.basis == "appellation":
            fis = [fiche for fiche, _ in APPELLATIONS[f.fap225]]
            p = pd.DataFrame({"fap225": f.fap225, "rome": [parent_of[x] for x in fis], "fiche": fis,
                              "share": 1.0 / len(fis), "basis": "appellation"})
        elif f.basis == "famille":
            sib = coded[coded["fap87"] == f.fap87]
            w = dict(zip(sib["fap225"], sib["employment"] / sib["employment"].sum()))
            p = direct[direct["fap225"].isin(list(w))]
            p = p.assign(share=p["share"] * p["fap225"].map(w)).groupby(["rome", "fiche"], sort=True)[
                "share"].sum().reset_index().assign(fap225=f.fap225, basis="famille")
        else:
            p = pd.DataFrame({"fap225": [f.fap225], "rome": [""], "fiche": [""], "share": [1.0],
                              "basis": ["aucun"]})
        parts.append(p[["fap225", "rome", "fiche", "share", "basis"]])
    paths = pd.concat(parts, ignore_index=True)
    out = []
    for m in codes:
        fs = fap[fap["fap87"].isin(comp[m])]
        if fs.empty:
            raise ValueError(f"métier {m}: no FAP-225 in effectifs_3niv.csv")
        p = paths.merge(fs[["fap225", "employment"]], on="fap225")
        p["raw"] = p["employment"] / fs["employment"].sum() * p["share"]
        p.insert(0, "metier", m)
        out.append(p)
    b = pd.concat(out, ignore_index=True)
    b["weight"] = normalised_shares(b, ["metier"], "raw")
    return b[["metier", "fap225", "rome", "fiche", "weight", "basis"]]


def build_rome_tables(rome: dict[str, pd.DataFrame], romes: set[str]) -> tuple[dict[str, pd.DataFrame], dict]:
    """The fiches, macro-compétences, fiche × macro-compétence links, savoir categories, fiche × savoir
    category counts, and the green / digital items with their links."""
    fiches, links, comp, sav = rome["fiches"], rome["links"], rome["competences"], rome["savoirs"]
    missing = sorted(romes - set(fiches["code_rome_parent"]))
    if missing:
        raise ValueError(f"ROME V3 codes of the DARES table that are no ROME 4.0 parent code: {missing}")
    f = fiches.rename(columns={"code_rome": "fiche", "libelle_rome": "label", "code_rome_parent": "rome"})
    f = f[["fiche", "rome", "label", "transition_eco", "transition_num"]].sort_values("fiche").reset_index(drop=True)
    links = links.assign(coeur=links["coeur_metier"].map(COEUR))
    unknown_fiche = sorted(set(links["code_rome"]) - set(f["fiche"]))
    if unknown_fiche:
        raise ValueError(f"coherence_item: fiches not in referentiel_code_rome: {unknown_fiche[:10]}")

    macro = comp[comp["nature"] == "Macro-compétence"]
    detail = comp[comp["nature"] == "Compétence"]
    if set(comp["nature"]) != {"Macro-compétence", "Compétence"}:
        raise ValueError(f"referentiel_competence: unexpected nature {sorted(set(comp['nature']))}")
    if not detail["code_ogr_macro_comp"].isin(set(macro["code_ogr"])).all():
        raise ValueError("referentiel_competence: compétences whose macro-compétence is unknown")
    mc = macro.rename(columns={"code_ogr": "macro", "code_macro_comp": "code", "libelle_competence": "label",
                               "cat_comp": "categorie", "sous_cat_comp": "sous_categorie"})
    mc = mc[["macro", "code", "categorie", "sous_categorie", "label", "transition_eco", "transition_num"]]
    mc = mc.sort_values(["categorie", "code", "macro"]).reset_index(drop=True)

    # fiche × macro-compétence: direct links to a macro-compétence, and links to one of its compétences
    to_macro = {**dict(zip(detail["code_ogr"], detail["code_ogr_macro_comp"])), **{m: m for m in mc["macro"]}}
    lm = links[links["code_ogr"].isin(list(to_macro))].assign(macro=lambda x: x["code_ogr"].map(to_macro))
    rank = lm["coeur"].map({"P": 2, "E": 1, "": 0})
    fm = lm.assign(rank=rank).groupby(["code_rome", "macro"], sort=True)["rank"].max().reset_index()
    fm["coeur"] = fm["rank"].map({2: "P", 1: "E", 0: ""})
    fm = fm.rename(columns={"code_rome": "fiche"})[["fiche", "macro", "coeur"]]

    # savoir categories (coded S01…, in the order of category then sub-category) and fiche × sub-category counts
    cats = sav[["categorie_savoir", "sous_categorie_savoir"]].drop_duplicates().sort_values(
        ["categorie_savoir", "sous_categorie_savoir"]).reset_index(drop=True)
    if cats["sous_categorie_savoir"].duplicated().any() or (cats == "").any().any():
        raise ValueError("referentiel_savoir: a sub-category in several categories, or empty categories")
    cats.insert(0, "code", [f"S{i + 1:02d}" for i in range(len(cats))])
    cats = cats.rename(columns={"categorie_savoir": "categorie", "sous_categorie_savoir": "sous_categorie"})
    sub_code = dict(zip(cats["sous_categorie"], cats["code"]))
    sav_cat = dict(zip(sav["code_ogr_savoir"], sav["sous_categorie_savoir"].map(sub_code)))
    ls = links[links["code_ogr"].isin(list(sav_cat))].assign(savoir_categorie=lambda x: x["code_ogr"].map(sav_cat))
    fs = ls.assign(core=(ls["coeur"] == "P").astype(int)).groupby(["code_rome", "savoir_categorie"], sort=True).agg(
        n=("code_ogr", "size"), n_core=("core", "sum")).reset_index().rename(columns={"code_rome": "fiche"})

    # green and digital items (compétences and savoirs flagged « O » on transition_eco or transition_num)
    gd_c = detail[(detail["transition_eco"] == "O") | (detail["transition_num"] == "O")].assign(
        kind="competence", savoir_categorie="").rename(columns={"code_ogr_macro_comp": "macro",
                                                                "libelle_competence": "label", "code_ogr": "item"})
    gd_s = sav[(sav["transition_eco"] == "O") | (sav["transition_num"] == "O")].assign(
        kind="savoir", macro="", savoir_categorie=lambda x: x["sous_categorie_savoir"].map(sub_code)).rename(
        columns={"libelle_savoir": "label", "code_ogr_savoir": "item"})
    cols = ["item", "kind", "label", "macro", "savoir_categorie", "transition_eco", "transition_num"]
    gd = pd.concat([gd_c[cols], gd_s[cols]]).sort_values(["kind", "item"]).reset_index(drop=True)
    if gd["item"].duplicated().any():
        raise ValueError("an item code is both a compétence and a savoir")
    n_flagged = len(gd)
    gd = gd[gd["item"].isin(set(links["code_ogr"]))].reset_index(drop=True)   # only items some fiche uses
    fg = links[links["code_ogr"].isin(set(gd["item"]))].rename(columns={"code_rome": "fiche", "code_ogr": "item"})
    fg = fg[["fiche", "item", "coeur"]].sort_values(["fiche", "item"]).reset_index(drop=True)

    diag = {"fiches": len(f), "parent_codes": int(f["rome"].nunique()),
            "parent_codes_in_dares_table": len(romes), "parents_not_in_dares_table":
                sorted(set(f["rome"]) - romes),
            "fiches_outside_the_bridge": int((~f["rome"].isin(romes)).sum()),
            "links": len(links), "macro_competences": len(mc),
            "macro_savoir_etre": int((mc["categorie"] != "Savoir-faire").sum()),
            "fiche_macro_pairs": len(fm), "fiche_macro_core_pairs": int((fm["coeur"] == "P").sum()),
            "macro_per_fiche_median": float(fm.groupby("fiche").size().median()),
            "savoir_sub_categories": len(cats), "fiche_savoir_rows": len(fs),
            "fiches_without_savoir": int((~f["fiche"].isin(set(fs["fiche"]))).sum()),
            "green_digital_items_flagged": n_flagged, "green_digital_items_linked": len(gd),
            "fiche_green_digital_links": len(fg)}
    tables = {"fiches.csv": f, "macro_competences.csv": mc, "fiche_macro.csv": fm, "savoir_categories.csv": cats,
              "fiche_savoir.csv": fs, "green_digital.csv": gd, "fiche_green_digital.csv": fg}
    return tables, diag


def build_passerelles(mob: pd.DataFrame, fiches: pd.DataFrame, bridge: pd.DataFrame,
                      fap: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The ROME « mobilités » (passerelles) fiche → fiche aggregated to métier → métier, for the 83 métiers of the
    exercise: ``metier, target, strength, links``.

    * a fiche's mobilités, ranked 1, 2, … n by ROME (``numero_ordre``: 1 = the closest), weigh 1/rank,
      normalised so that each fiche's weights sum to 1 (a fiche with many mobilités does not weigh more);
    * the source side: each fiche of the métier by its bridge weight (:func:`build_bridge`);
    * the target side: a target fiche is shared between the métiers whose bridge reaches it in proportion to
      their jobs in it (the métier's employment 2017–2019 × the fiche's bridge weight in the métier);
    * ``strength`` = Σ bridge weight × mobilité weight × target share: the share of the métier's mobilités (so
      weighted) that lead into ``target``; over the targets (the métier itself included) it sums to the share of
      the métier reached by a fiche with mobilités towards fiches of the exercise (≈ 1). ``links``: the number of
      fiche → fiche mobilités behind it. Self-links (``target`` = ``metier``: mobilités between fiches of the
      same métier) are kept as rows of their own; :func:`pmq.analysis.skills.passerelles` shows them apart."""
    mob = mob.assign(rank=pd.to_numeric(mob["numero_ordre"], errors="raise").astype(int))
    known = set(fiches["code_rome"])
    unknown = sorted((set(mob["code_rome"]) | set(mob["code_rome_cible"])) - known)
    if unknown:
        raise ValueError(f"rubrique_mobilite: fiches not in referentiel_code_rome: {unknown[:10]}")
    if (mob["code_rome"] == mob["code_rome_cible"]).any():
        raise ValueError("rubrique_mobilite: a fiche is its own mobilité")
    if mob.duplicated(["code_rome", "rank"]).any() or (mob["rank"] < 1).any():
        raise ValueError("rubrique_mobilite: numero_ordre is not a ranking 1, 2, … within each fiche")
    mob["score"] = 1.0 / mob["rank"]
    mob["score"] = mob["score"] / mob.groupby("code_rome")["score"].transform("sum")
    exercise = set(metiers().loc[lambda m: m["in_exercise"] == "yes", "code"])
    b = bridge[bridge["metier"].isin(exercise) & (bridge["fiche"] != "")]
    b = b.groupby(["metier", "fiche"], as_index=False, sort=True)["weight"].sum()
    emp = fap.groupby("metier")["employment"].sum()
    jobs = b.assign(jobs=b["weight"] * b["metier"].map(emp))
    jobs["share"] = jobs["jobs"] / jobs.groupby("fiche")["jobs"].transform("sum")
    src = b.rename(columns={"fiche": "code_rome"}).merge(mob[["code_rome", "code_rome_cible", "score"]],
                                                        on="code_rome")
    tgt = jobs.rename(columns={"metier": "target", "fiche": "code_rome_cible"})[["code_rome_cible", "target",
                                                                                 "share"]]
    j = src.merge(tgt, on="code_rome_cible")
    j["strength"] = j["weight"] * j["score"] * j["share"]
    out = j.groupby(["metier", "target"], as_index=False, sort=True).agg(strength=("strength", "sum"),
                                                                      links=("score", "size"))
    out = out[out["strength"] > 0].reset_index(drop=True)
    total = out.groupby("metier")["strength"].sum()
    own = out[out["metier"] == out["target"]].set_index("metier")["strength"]
    diag = {"mobilites": len(mob), "passerelles_rows": len(out),
            "passerelles_self_share_median": round(float((own / total).median()), 4),
            "passerelles_total_min": round(float(total.min()), 6),
            "passerelles_targets_per_metier_median": float(out.groupby("metier").size().median())}
    return out[["metier", "target", "strength", "links"]], diag


def coverage(bridge: pd.DataFrame) -> pd.DataFrame:
    """By métier: the share of its employment reached through the DARES table (``direct``), through the family
    rule (``famille``), and not reached (``aucun``)."""
    c = bridge.pivot_table(index="metier", columns="basis", values="weight", aggfunc="sum", fill_value=0.0)
    c = c.reindex(columns=["dares", "appellation", "famille", "aucun"], fill_value=0.0)
    c["reached"] = c["dares"] + c["appellation"] + c["famille"]
    return c


def build(shared: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    """Every table of ``pmq/data/skills/`` and the diagnostics quoted in its SOURCE.md."""
    pairs = read_fap225_rome(shared)
    emp = read_fap225_employment(shared)
    rome = read_rome(shared)
    fap = build_fap225(emp, pairs)
    check_appellations(rome["appellations"], rome["fiches"])
    bridge = build_bridge(fap, pairs, rome["fiches"])
    tables, diag = build_rome_tables(rome, set(pairs["rome"]))
    tables["passerelles.csv"], pdiag = build_passerelles(rome["mobilites"], rome["fiches"], bridge, fap)
    diag.update(pdiag)
    cov = coverage(bridge)
    fe = fap.set_index("fap225")["employment"]
    diag.update({
        "pairs": len(pairs), "fap225": len(fap), "rome_codes": int(pairs["rome"].nunique()),
        "rome_codes_serving_several_fap225": int((pairs.groupby("rome").size() > 1).sum()),
        "fap225_by_basis": fap["basis"].value_counts().to_dict(),
        "fap225_famille": fap.loc[fap["basis"] == "famille", "fap225"].tolist(),
        "fap225_appellation": fap.loc[fap["basis"] == "appellation", "fap225"].tolist(),
        "fap225_aucun": fap.loc[fap["basis"] == "aucun", "fap225"].tolist(),
        "employment_total_k": float(fe.sum()),
        "employment_share_dares": float(fe[fap.set_index("fap225")["basis"] == "dares"].sum() / fe.sum()),
        "employment_share_reached": float(fe[fap.set_index("fap225")["basis"] != "aucun"].sum() / fe.sum()),
        "metiers_direct_below_95": {m: round(float(v), 4) for m, v in cov["dares"].items() if v < 0.95},
        "metiers_reached_below_95": {m: round(float(v), 4) for m, v in cov["reached"].items() if v < 0.95},
        "bridge_rows": len(bridge)})
    return {"fap225.csv": fap, "bridge.csv": bridge, **tables}, diag


# ---------------------------------------------------------------------------------------------- writing, checking


def write(tables: dict[str, pd.DataFrame], out: Path) -> None:
    write_tables(tables, out)


def read_shipped(folder: Path, name: str) -> pd.DataFrame:
    """A shipped table with its codes and labels as text (the same reading as :mod:`pmq.data.skills`)."""
    head = pd.read_csv(folder / name, nrows=0).columns
    return pd.read_csv(folder / name, dtype={c: str for c in head if c in TEXT}, keep_default_na=False)


def compare(tables: dict[str, pd.DataFrame], folder: Path, rtol: float = RTOL) -> list[str]:
    """Differences between rebuilt tables and the files in ``folder`` (empty list: they agree)."""
    return compare_tables(tables, folder, read_shipped, rtol)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m pmq.estimation.skills", description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", type=Path, default=None, help="the shared data folder (default ../shared/data)")
    p.add_argument("--out", type=Path, default=data_path("skills"))
    p.add_argument("--check", action="store_true", help="rebuild in memory and compare with --out")
    args = p.parse_args(argv)
    shared = locate_shared(args.shared)
    if shared is None:
        print("shared data not found (../shared/data beside the repository, --shared or PMQ_SHARED_DATA)",
              file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    tables, diag = build(shared)
    return finish_build(tables, diag, args.out, check=args.check, compare=compare, write=write,
                        tolerance=f"relative tolerance {RTOL:g} on numbers, 1e-12 absolute on weights, exact on "
                                  "codes and labels", elapsed=lambda: time.perf_counter() - t0)

if __name__ == "__main__":
    sys.exit(main())
