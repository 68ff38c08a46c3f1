"""Compétences: what a projection's openings (postes à pourvoir) and employment mean in ROME 4.0 compétences,
savoirs and transition classes, through the bridge métier → FAP-225 → ROME fiches of :mod:`pmq.data.skills`.

Two views (``docs/skills.md``):

``additive``
    Each métier's openings (or employment) are spread over its fiches (the bridge's weights), then each fiche's
    share over what it lists — its macro-compétences, savoirs, or its transition class — with weights that sum
    to 1: an item the fiche marks « Principale » (core of the métier) weighs :data:`CORE_WEIGHT` (2), any other
    1. The part of a métier that reaches no fiche (0.1 % of employment: politicians, X0Z00), or a fiche with
    nothing of the kind asked for, goes to one « non rattaché » row. The rows add up to the openings exactly.
``reach``
    The openings in the jobs whose fiche requires the item: Σ over métiers of openings × the share of the métier's
    fiche weight that lists the item (``_core``: as « Principale »). Not additive over items (a job requires many);
    read as a share of all openings.

Entry points (every one takes a :class:`~pmq.Projection` — one scenario or several — or its accounts Dataset, at
any territorial level: the weights are by métier):

* :func:`skills_demand` — by macro-compétence, savoir-être, savoir category or sub-category, ROME fiche, or
  transition class, additive or reach, for any window, territory and variable;
* :func:`green_jobs` — openings and employment by ``transition_eco`` (or ``transition_num``) class of the
  fiches, with the difference from the first scenario;
* :func:`green_skills` — the green (or digital) macro-compétences, compétences and savoirs most demanded;
* :func:`skills_coverage` — by métier, the share of employment and of openings the bridge reaches;
* :func:`skill_weights` — the métier × item weights behind all of them (for the passerelles, a CLI, a report);
* :func:`read_bridge` — a user's own bridge métier → fiche, checked;
* :func:`passerelles` — the métiers a métier's ROME « mobilités » lead to, ranked by their projected imbalance
  rate in a territory (where the shortages are), with their DARES class
  (:func:`pmq.analysis.occupational.transitions_from_passerelles` turns the same links into a prior for the
  métier mobility matrix).

Every table carries in ``attrs`` the sources, the notes on what the links mean (:data:`pmq.data.skills.NOTES`),
the view, the rule and the period; ``attrs["column_labels"]`` holds each column's French (or English) label and
:func:`labelled` renames the columns with them.
"""
from __future__ import annotations

import difflib
from functools import cache

import numpy as np
import pandas as pd
import xarray as xr

from pmq import data as _data
from pmq.data import skills as _skills
from pmq.errors import ArgumentError, InputError
from pmq.analysis.imbalance import classify, imbalance_table
from pmq.errors import UnknownNameError
from pmq.formatting import check_lang
from pmq.inputs.tables import as_number, as_str, check_duplicates, read_table
from pmq.labels import metier_label, text
from pmq.names import listing, normalise, resolve
from pmq.options import tr
from pmq.projection.indicators import accounts_of, national, select, territory_name, window_sums

__all__ = ["skills_demand", "green_jobs", "green_skills", "skills_coverage", "skill_weights", "read_bridge",
           "passerelles", "labelled", "BY", "VIEWS", "VARIABLES", "LENSES", "CORE_WEIGHT", "COLUMN_LABELS",
           "MIN_STRENGTH", "PASSERELLE_NOTES"]

#: Weight of an item the fiche marks « Principale » (core of the métier) in the additive view; any other item 1.
CORE_WEIGHT = 2.0
#: The views: additive (spread, sums to the openings) and reach (openings in the jobs that require the item).
VIEWS = ("additive", "reach")
#: What the openings can be read by: code → (French, English) names.
BY = {
    "macro_competence": ("Macro-compétences (savoir-faire)", "Macro-skills (know-how)"),
    "savoir_etre": ("Savoir-être professionnels", "Soft skills (savoir-être professionnels)"),
    "savoir_categorie": ("Catégories de savoirs", "Knowledge categories"),
    "savoir_sous_categorie": ("Sous-catégories de savoirs", "Knowledge sub-categories"),
    "fiche": ("Fiches métiers ROME 4.0", "ROME 4.0 occupation sheets"),
    "transition_eco": ("Transition écologique (classe de la fiche ROME)",
                       "Ecological transition (class of the ROME fiche)"),
    "transition_num": ("Transition numérique (indicateur de la fiche ROME)",
                       "Digital transition (flag of the ROME fiche)"),
}
#: The variables of the accounts' windows that can be spread (flows over the window, stocks at its ends).
VARIABLES = ("openings", "net_creation", "departures", "employment_start", "employment_end")
#: The transition lenses: the fiche's class, and the item flag of :func:`green_skills`.
LENSES = ("transition_eco", "transition_num")
#: Column → (French label, English label) of the tables of this module (variables: :mod:`pmq.labels`).
COLUMN_LABELS = {
    "scenario": ("Scénario", "Scenario"),
    "territory": ("Territoire", "Territory"),
    "territory_name": ("Nom du territoire", "Territory name"),
    "period": ("Période", "Period"),
    "by": ("Lecture", "Breakdown"),
    "code": ("Code", "Code"),
    "label": ("Libellé (ROME, en français)", "Label (ROME, in French)"),
    "categorie": ("Catégorie", "Category"),
    "sous_categorie": ("Sous-catégorie", "Sub-category"),
    "tree_code": ("Code dans l'arborescence des compétences ROME", "Code in ROME's skills tree"),
    "rome": ("Code ROME V3 (parent)", "ROME V3 (parent) code"),
    "kind": ("Type", "Kind"),
    "macro_label": ("Macro-compétence", "Macro-skill"),
    "transition_eco": ("Transition écologique (ROME)", "Ecological transition (ROME)"),
    "transition_num": ("Transition numérique (ROME)", "Digital transition (ROME)"),
    "share": ("Part du total", "Share of the total"),
    "share_core": ("Part du total (cœur de métier)", "Share of the total (core)"),
    "difference": ("Écart au premier scénario", "Difference from the first scenario"),
    "metier": ("Métier", "Occupation"),
    "metier_label": ("Libellé du métier", "Occupation label"),
    "share_dares": ("Part de l'emploi rattachée par la table DARES", "Share of employment linked by the DARES table"),
    "share_appellation": ("Part rattachée par les appellations ROME (règle pmq)",
                          "Share linked by ROME job titles (pmq rule)"),
    "share_famille": ("Part rattachée par la famille FAP-87 (règle pmq)", "Share linked by the FAP-87 family (pmq rule)"),
    "share_reached": ("Part de l'emploi rattachée à une fiche ROME", "Share of employment linked to a ROME fiche"),
    "openings_reached": ("Postes à pourvoir rattachés à une fiche ROME", "Job openings linked to a ROME fiche"),
    "share_openings": ("Part des postes à pourvoir", "Share of job openings"),
    "share_employment_end": ("Part de l'emploi en fin de période", "Share of employment at the end"),
    "rank": ("Rang", "Rank"),
    "target": ("Métier d'arrivée", "Destination occupation"),
    "target_label": ("Libellé du métier d'arrivée", "Destination occupation label"),
    "strength": ("Force du lien (part des mobilités ROME du métier)",
                 "Link strength (share of the occupation's ROME mobilities)"),
    "links": ("Mobilités fiche → fiche", "Fiche → fiche mobilities"),
    "imbalance_pct": ("Déséquilibre (part de l'emploi initial)", "Imbalance (share of initial employment)"),
    "class_dares": ("Classe DARES", "DARES class"),
    "tension": ("Tension 2019 (DARES)", "Tension 2019 (DARES)"),
}
#: Passerelles below this strength (the share of the métier's weighted ROME mobilités) are left out of
#: :func:`passerelles` by default: 1 % keeps 5 to 22 destinations per métier (12 in the median)
#: (:data:`pmq.data.skills.MIN_STRENGTH`).
MIN_STRENGTH = _skills.MIN_STRENGTH
#: What a passerelle is and is not (French, English): in ``attrs["notes"]`` of :func:`passerelles`, first.
PASSERELLE_NOTES = {
    "fr": ("Une passerelle est une proximité de contenu décrite par le ROME (rubrique « mobilités » des fiches, "
           "rang 1 = la plus proche, pondérée 1/rang), agrégée aux métiers par le rattachement métier → fiches : "
           "pas un flux observé de personnes. Le classement par déséquilibre dit où sont les besoins, pas si la "
           "reconversion est facile.",),
    "en": ("A passerelle is a closeness of content described by ROME (the fiches' \"mobilités\", rank 1 = the "
           "closest, weighted 1/rank), aggregated to occupations through the bridge occupation → fiches: not an "
           "observed flow of people. Ranking by imbalance says where the needs are, not whether the move is easy.",),
}
_KINDS = {"macro_competence": ("Macro-compétence", "Macro-skill"), "competence": ("Compétence", "Skill"),
          "savoir": ("Savoir", "Knowledge")}
_GREEN_ORDER = {"transition_eco": [v[0] for v in _skills.TRANSITION_ECO.values()],
                "transition_num": [v[0] for v in _skills.TRANSITION_NUM.values()]}


# ------------------------------------------------------------------------------------------- the bridge
def read_bridge(data, *, metiers=None) -> pd.DataFrame:
    """Read and check a user's own bridge métier → ROME 4.0 fiche: a CSV / Excel / Parquet file or a DataFrame
    with columns ``metier``, ``fiche``, ``weight`` (and optional ``note``, ``label``, ``metier_label``,
    ``fiche_label``, ignored).

    ``fiche`` is a ROME 4.0 fiche code (:func:`pmq.data.skills.fiches`; a ROME V3 code is the 4.0 fiche of the
    same code, which is only part of the V3 code's content: list its children to take all of it); an empty
    ``fiche`` is the part of the métier that no fiche describes. Each métier's weights must be ≥ 0 and sum to 1
    (within 1e-6; they are then renormalised). ``metiers``: the codes the bridge may name (default: every code of
    :func:`pmq.data.metiers`, plus any code of the projection it is used with).

    Returns ``metier, fiche, weight``. Any problem raises :class:`~pmq.errors.InputError` naming the file, the
    column and the offending rows or values: missing columns, unknown métier or fiche codes, duplicated
    métier × fiche rows, weights that are not numbers, negative, or do not sum to 1."""
    df, source = read_table(data, name="bridge")
    df = df.rename(columns=lambda c: str(c).replace("\ufeff", "").strip())
    required = ["metier", "fiche", "weight"]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(tr(f"missing required column(s) {listing(missing)} for a bridge métier → fiche; found "
                            f"{listing(df.columns)}",
                            f"colonne(s) obligatoire(s) absente(s) : {listing(missing)} pour une table de passage "
                            f"métier → fiche ; colonnes trouvées : {listing(df.columns)}"), source=source,
                         column=", ".join(missing))
    extra = [c for c in df.columns if c not in {*required, "note", "label", "metier_label", "fiche_label"}]
    if extra:
        raise InputError(tr(f"unexpected column(s) {extra}; a bridge has metier, fiche, weight (and note, label, "
                            "metier_label, fiche_label, ignored)",
                            f"colonne(s) inattendue(s) {extra} ; une table de passage a les colonnes metier, fiche, "
                            "weight (et note, label, metier_label, fiche_label, ignorées)"),
                         source=source, column=", ".join(map(str, extra)))
    if df.empty:
        raise InputError(tr("the bridge has no rows", "la table de passage n'a aucune ligne"), source=source)
    df = df.reset_index(drop=True)
    metier = as_str(df, "metier", source)
    fiche = df["fiche"].where(df["fiche"].notna(), "").astype(str).str.strip().str.upper()
    weight = as_number(df, "weight", source)
    known = set(_data.metiers()["code"]) | {str(m) for m in (metiers or ())}
    unknown = sorted(set(metier) - known)
    if unknown:
        hints = _hints(unknown, known, 0.3)
        raise InputError(tr(f"unknown métier code(s) {hints}: expected pmq's métier codes (pmq.data.metiers())"
                            " or those of the projection",
                            f"code(s) de métier inconnu(s) {hints} ; attendu : un code de métier de pmq "
                            "(pmq.data.metiers()) ou de la projection"), source=source, column="metier",
                         rows=df.loc[metier.isin(unknown)].reset_index(names="row"))
    codes = set(_skills.fiches()["fiche"])
    bad = (fiche != "") & ~fiche.isin(codes)
    if bad.any():
        wrong = sorted(set(fiche[bad]))
        hints = _hints(wrong, codes, 0.6)
        raise InputError(tr(f"unknown ROME 4.0 fiche code(s) {hints} (pmq.data.skills.fiches(); empty = "
                            "not linked)",
                            f"code(s) de fiche ROME 4.0 inconnu(s) {hints} (pmq.data.skills.fiches() ; vide = "
                            "sans rattachement)"), source=source, column="fiche",
                         rows=df.loc[bad].reset_index(names="row"))
    out = pd.DataFrame({"metier": metier, "fiche": fiche, "weight": weight})
    check_duplicates(out, ["metier", "fiche"], source)
    neg = out["weight"] < 0
    if neg.any():
        raise InputError(tr("negative weights", "poids négatifs"), source=source, column="weight",
                         rows=df.loc[neg].reset_index(names="row"))
    sums = out.groupby("metier", sort=False)["weight"].sum()
    off = sums[(sums - 1).abs() > 1e-6]
    if len(off):
        raise InputError(tr(f"the weights of {len(off)} métier(s) do not sum to 1 (each métier's weights over its "
                            "fiches, the empty fiche included, must)",
                            f"les poids de {len(off)} métier(s) n'ont pas pour somme 1 (les poids d'un métier sur "
                            "ses fiches, fiche vide comprise, doivent avoir pour somme 1)"), source=source, column="weight",
                         rows=off.rename(tr("sum of weights", "somme des poids")).reset_index())
    out["weight"] = out["weight"] / out.groupby("metier")["weight"].transform("sum")
    out.attrs["source"] = source
    return out


def _hints(wrong, codes, cutoff: float) -> str:
    """« 'X' (les plus proches : A, B) » for each of the first five ``wrong`` codes, in the reader's language."""
    out = []
    for w in wrong[:5]:
        close = ", ".join(difflib.get_close_matches(w, sorted(codes), n=3, cutoff=cutoff))
        out.append(tr(f"{w!r} (closest: {close or 'none'})", f"{w!r} (les plus proches : {close or 'aucun'})"))
    return ", ".join(out)


def _bridge(bridge, metiers=None) -> tuple[pd.DataFrame, str]:
    if bridge is None:
        return _skills.metier_fiche(), "pmq"
    if isinstance(bridge, pd.DataFrame) and bridge.attrs.get("source") and list(bridge.columns) == [
            "metier", "fiche", "weight"]:
        return bridge, str(bridge.attrs["source"])       # already read by read_bridge
    b = read_bridge(bridge, metiers=metiers)
    return b, str(b.attrs["source"])


# ------------------------------------------------------------------------------------------- item tables
@cache
def _items(by: str) -> pd.DataFrame:
    """code, label and the descriptive columns of the items of ``by`` (in their natural order)."""
    if by in ("macro_competence", "savoir_etre"):
        m = _skills.macro_competences()
        m = m[(m["categorie"] == "Savoir-faire") == (by == "macro_competence")]
        return m.rename(columns={"macro": "code", "code": "tree_code"})[
            ["code", "label", "categorie", "sous_categorie", "tree_code", "transition_eco", "transition_num"]]
    if by == "savoir_sous_categorie":
        c = _skills.savoir_categories()
        return c.rename(columns={"sous_categorie": "label"})[["code", "label", "categorie"]]
    if by == "savoir_categorie":
        c = _skills.savoir_categories()[["categorie"]].drop_duplicates().reset_index(drop=True)
        return pd.DataFrame({"code": [f"C{i + 1}" for i in range(len(c))], "label": c["categorie"]})
    if by == "fiche":
        f = _skills.fiches()
        return f.rename(columns={"fiche": "code"})[["code", "label", "rome", "transition_eco", "transition_num"]]
    if by in LENSES:
        classes = _skills.TRANSITION_ECO if by == "transition_eco" else _skills.TRANSITION_NUM
        return pd.DataFrame({"code": [v[0] for v in classes.values()], "label": [v[1] for v in classes.values()],
                             "label_en": [v[2] for v in classes.values()]})
    raise ArgumentError(_unknown("breakdown", "découpage inconnu", BY), name="by", value=by)


@cache
def _fiche_profile(by: str, view: str, core_weight: float) -> pd.DataFrame:
    """fiche, code, w (additive: sums to 1 per fiche; reach: 1 when the fiche lists the item), w_core."""
    if by in ("macro_competence", "savoir_etre"):
        fm = _skills.fiche_macro()
        fm = fm[fm["macro"].isin(set(_items(by)["code"]))]
        p = pd.DataFrame({"fiche": fm["fiche"], "code": fm["macro"], "score": np.where(fm["coeur"] == "P",
                                                                                        core_weight, 1.0),
                          "core": (fm["coeur"] == "P").astype(float)})
    elif by in ("savoir_categorie", "savoir_sous_categorie"):
        fs = _skills.fiche_savoir()
        code = fs["savoir_categorie"]
        if by == "savoir_categorie":
            items = _items("savoir_categorie")
            cat = dict(zip(_skills.savoir_categories()["code"], _skills.savoir_categories()["categorie"]))
            code = code.map(cat).map(dict(zip(items["label"], items["code"])))
        p = pd.DataFrame({"fiche": fs["fiche"], "code": code,
                          "score": fs["n"] + (core_weight - 1.0) * fs["n_core"], "core": fs["n_core"] > 0})
        p = p.groupby(["fiche", "code"], as_index=False, sort=False).agg(score=("score", "sum"), core=("core", "max"))
        p["core"] = p["core"].astype(float)
    elif by == "fiche":
        f = _skills.fiches()
        p = pd.DataFrame({"fiche": f["fiche"], "code": f["fiche"], "score": 1.0, "core": 1.0})
    elif by in LENSES:
        f = _skills.fiches()
        classes = _skills.TRANSITION_ECO if by == "transition_eco" else _skills.TRANSITION_NUM
        unknown = sorted(set(f[by]) - set(classes))
        if unknown:
            raise InputError(tr(f"ROME {by} values pmq does not know: {unknown}",
                                f"valeurs ROME de {by} inconnues de pmq : {unknown}"),
                             source="pmq/data/skills/fiches.csv", column=by)
        p = pd.DataFrame({"fiche": f["fiche"], "code": f[by].map(lambda v: classes[v][0]), "score": 1.0,
                          "core": 1.0})
    elif by == "green_digital":
        g = _skills.fiche_green_digital()
        p = pd.DataFrame({"fiche": g["fiche"], "code": g["item"], "score": 1.0,
                          "core": (g["coeur"] == "P").astype(float)})
    else:
        raise ArgumentError(_unknown("breakdown", "découpage inconnu", BY), name="by", value=by)
    if view == "additive":
        p["w"] = p["score"] / p.groupby("fiche")["score"].transform("sum")
        p["w_core"] = p["w"] * p["core"]
    else:
        p["w"] = 1.0
        p["w_core"] = p["core"]
    return p[["fiche", "code", "w", "w_core"]]


def _unknown(what_en: str, what_fr: str, choices) -> str:
    """"unknown view; expected one of a, b" / « vue inconnue ; valeurs possibles : a, b » (``what_fr``: « vue
    inconnue », agreed in gender)."""
    return tr(f"unknown {what_en}; expected one of {', '.join(choices)}",
              f"{what_fr} ; valeurs possibles : {', '.join(choices)}")


def _check_view(view: str) -> None:
    if view not in VIEWS:
        raise ArgumentError(_unknown("view", "vue inconnue", VIEWS), name="view", value=view)


def skill_weights(by: str = "macro_competence", view: str = "additive", *, bridge=None,
                  core_weight: float = CORE_WEIGHT) -> pd.DataFrame:
    """The métier × item weights: ``metier, code, weight, weight_core``.

    ``additive``: each métier's weights sum to 1 over its items and the « non rattaché » code
    (:data:`pmq.data.skills.UNREACHED`), which takes the part of the métier that reaches no fiche (or fiches that
    list nothing of the kind); ``weight_core`` is the part carried by items marked « Principale ». ``reach``: the
    share of the métier's fiche weight whose fiche lists the item (``weight_core``: as « Principale »), in [0, 1].
    ``bridge``: a user's own bridge (:func:`read_bridge`), else pmq's."""
    _check_view(view)
    if by not in BY and by != "green_digital":
        raise ArgumentError(_unknown("breakdown", "découpage inconnu", BY), name="by", value=by)
    if not core_weight >= 1.0:
        raise ArgumentError(tr("core_weight must be ≥ 1 (\"Principale\" items weigh at least as much as the others)",
                               "core_weight doit être ≥ 1 (les éléments « Principale » pèsent au moins autant que "
                               "les autres)"), name="core_weight", value=core_weight)
    if bridge is None:
        return _pmq_weights(by, view, float(core_weight)).copy()
    return _weights(_bridge(bridge)[0], by, view, float(core_weight))


@cache
def _pmq_weights(by: str, view: str, core_weight: float) -> pd.DataFrame:
    return _weights(_skills.metier_fiche(), by, view, core_weight)


def _weights(mf: pd.DataFrame, by: str, view: str, core_weight: float) -> pd.DataFrame:
    prof = _fiche_profile(by, view, float(core_weight))
    j = mf[mf["fiche"] != ""].merge(prof, on="fiche")
    j = j.assign(weight=j["weight"] * j["w"], weight_core=j["weight"] * j["w_core"])
    w = j.groupby(["metier", "code"], as_index=False, sort=False)[["weight", "weight_core"]].sum()
    if view == "additive":
        reached = w.groupby("metier")["weight"].sum()
        metiers = pd.unique(mf["metier"])
        rest = 1.0 - reached.reindex(metiers).fillna(0.0)
        rest = rest[rest > 1e-15]
        if len(rest):
            w = pd.concat([w, pd.DataFrame({"metier": rest.index, "code": _skills.UNREACHED[0],
                                            "weight": rest.to_numpy(), "weight_core": 0.0})], ignore_index=True)
    return w.reset_index(drop=True)


# ------------------------------------------------------------------------------------------- windows
def _window(data, variables, start_year, end_year, horizon, territory, by_territory, metier, lang):
    """The window's values by [scenario] × [territory] × métier for ``variables``, the accounts and the labels of
    the territory rows."""
    acc = accounts_of(data)
    if "year" not in acc.dims:
        raise ArgumentError(tr("expected a projection or its accounts (with a year dimension), not a table of "
                               "horizons",
                               "attendu : une projection ou ses comptes (avec une dimension d'année), pas un "
                               "tableau d'horizons"), name="data", value=type(data).__name__)
    for v in variables:
        if v not in VARIABLES:
            raise ArgumentError(_unknown("variable", "variable inconnue", VARIABLES), name="variable", value=v)
    base = int(acc.year.values[0])
    if horizon is not None:
        if end_year is not None:
            raise ArgumentError(tr("give horizon or end_year, not both", "donnez horizon ou end_year, pas les deux"),
                                name="horizon", value=horizon)
        end_year = base + int(horizon)
    sel = acc
    if territory is not None or metier is not None:
        sel = select(acc, territory=territory, metier=metier)
    w = window_sums(sel[["employment", "net_creation", "departures", "openings", "young_entrants", "net_mobility",
                         "other_recruits", "imbalance"]], start_year, end_year)
    period = w.attrs["period"]
    ds = w[list(variables)]
    if by_territory:
        names = ([str(n) for n in ds["territory_name"].values] if "territory_name" in ds.coords
                 else [str(t) for t in ds.territory.values])
        terr = (list(map(str, ds.territory.values)), names)
    else:
        ds = ds.sum("territory")
        if territory is None:
            code, name, _ = national(acc, lang)
        else:
            codes = list(map(str, sel.territory.values))
            code, name = "+".join(codes), territory_name(acc, territory, lang)
        terr = ([code], [name])
        ds = ds.expand_dims(territory=[code])
    lead = ["scenario"] if "scenario" in ds.dims else []
    ds = ds.transpose(*lead, "territory", "metier")
    return ds, acc, terr, period, lead


def _check_metiers(values: xr.DataArray, bridge: pd.DataFrame, source: str) -> None:
    """Every métier of the projection has rows in the bridge (``source``: where the bridge comes from)."""
    have = set(bridge["metier"])
    missing = [str(m) for m in values.metier.values if str(m) not in have]
    if missing:
        raise InputError(tr(f"métier(s) of the projection without a bridge row: {missing}; give your own bridge "
                            "métier → ROME fiche (bridge=, see pmq.analysis.skills.read_bridge)",
                            f"métier(s) de la projection sans ligne dans la table de passage : {missing} ; donnez "
                            "votre propre table de passage métier → fiche ROME (bridge=, voir "
                            "pmq.analysis.skills.read_bridge)"),
                         source=tr(f"{source} bridge", f"table de passage {source}"), column="metier", rows=missing)


def _spread(values: xr.DataArray, weights: pd.DataFrame, col: str) -> tuple[np.ndarray, list[str]]:
    """values (…, metier) × weights (metier, code) → (…, code); a métier without weights contributes nothing."""
    metiers = [str(m) for m in values.metier.values]
    codes = list(pd.unique(weights["code"]))
    W = weights.pivot_table(index="metier", columns="code", values=col, aggfunc="sum", fill_value=0.0)
    W = W.reindex(index=metiers, columns=codes, fill_value=0.0)
    return np.tensordot(values.values, W.to_numpy(), axes=([values.ndim - 1], [0])), codes


def _frame(arr: np.ndarray, lead: list[str], ds: xr.Dataset, terr, codes: list[str], col: str) -> pd.DataFrame:
    idx = pd.MultiIndex.from_product([*(list(map(str, ds[d].values)) for d in lead), terr[0], codes],
                                     names=[*lead, "territory", "code"])
    df = pd.Series(arr.reshape(-1), index=idx, name=col).reset_index()
    df.insert(len(lead) + 1, "territory_name", df["territory"].map(dict(zip(*terr))))
    return df


def _labels(df: pd.DataFrame, by: str, lang: str) -> pd.DataFrame:
    items = _items(by)
    if by in LENSES and lang == "en":
        items = items.assign(label=items["label_en"])
    items = items.drop(columns=[c for c in ("label_en",) if c in items])
    un = pd.DataFrame({"code": [_skills.UNREACHED[0]],
                       "label": [_skills.UNREACHED[1] if lang == "fr" else _skills.UNREACHED[2]]})
    items = pd.concat([items, un], ignore_index=True)
    out = df.merge(items, on="code", how="left")
    out["label"] = out["label"].fillna("")
    for c in items.columns:
        if c not in ("code", "label"):
            out[c] = out[c].fillna("")
    return out


def _column_label(column: str, lang: str) -> str:
    """The French or English label of a column of this module's tables."""
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column][0 if lang == "fr" else 1]
    for suffix, fr, en in (("_core", " (cœur de métier)", " (core)"), ("_difference", " : écart au premier scénario",
                                                                       ": difference from the first scenario")):
        if column.endswith(suffix):
            return _column_label(column[: -len(suffix)], lang) + (fr if lang == "fr" else en)
    try:
        return text(column, lang)
    except KeyError:
        return column


def _attrs(df: pd.DataFrame, lang: str, **extra) -> pd.DataFrame:
    df.attrs.update(units="persons", sources=list(_skills.SOURCES), notes=list(_skills.NOTES[lang]),
                    rome_version=_skills.ROME_VERSION, lang=lang, **extra)
    df.attrs["column_labels"] = {c: _column_label(c, lang) for c in df.columns}
    return df


def _scenario_titles(acc: xr.Dataset, lang: str) -> dict[str, str]:
    """Scenario code → title in ``lang`` (for the legends of :mod:`pmq.plots.skills`); empty when unknown."""
    key = "scenario_title_fr" if lang == "fr" else "scenario_title_en"
    if "scenario" in acc.dims and key in acc.variables:
        return dict(zip(map(str, acc.scenario.values), map(str, np.atleast_1d(acc[key].values))))
    if "scenario" in acc.attrs and key in acc.attrs:
        return {str(acc.attrs["scenario"]): str(acc.attrs[key])}
    return {}


def labelled(df: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """A copy of a table of this module with its columns renamed to their labels: ``attrs["column_labels"]`` (the
    table's language), or those of ``lang``."""
    if lang is None:
        labels = df.attrs.get("column_labels") or {c: _column_label(c, check_lang(None)) for c in df.columns}
    else:
        lang = check_lang(lang)
        labels = {c: _column_label(c, lang) for c in df.columns}
    return df.rename(columns=labels)


def _sort_top(df: pd.DataFrame, keys: list[str], col: str, top: int | None) -> pd.DataFrame:
    """Rows by decreasing ``col`` within each group of ``keys`` (groups in their order of appearance: scenarios in
    the order of the run), « non rattaché » last; the ``top`` first of each group."""
    order = {k: {v: i for i, v in enumerate(pd.unique(df[k]))} for k in keys}
    df = df.assign(_last=df["code"] == _skills.UNREACHED[0], **{f"_{k}": df[k].map(order[k]) for k in keys})
    df = df.sort_values([*(f"_{k}" for k in keys), "_last", col], ascending=[True] * len(keys) + [True, False],
                        kind="stable").drop(columns=[f"_{k}" for k in keys])
    if top is not None:
        if int(top) < 1:
            raise ArgumentError(_top_message(), name="top", value=top)
        df = df.groupby(keys, sort=False).head(int(top))
    return df.drop(columns="_last").reset_index(drop=True)


def _top_message() -> str:
    return tr("top must be a positive number of rows", "top doit être un nombre de lignes positif")


def _difference(df: pd.DataFrame, lead: list[str], cols: list[str]) -> pd.DataFrame:
    if not lead:
        return df
    first = df["scenario"].iloc[0] if len(df) else None
    ref = df[df["scenario"] == first].set_index(["territory", "code"])[cols]
    key = pd.MultiIndex.from_frame(df[["territory", "code"]])
    for c in cols:
        df[f"{c}_difference" if len(cols) > 1 else "difference"] = df[c].to_numpy() - ref[c].reindex(key).to_numpy()
    return df


# ------------------------------------------------------------------------------------------- the tables
def skills_demand(data, *, by: str = "macro_competence", view: str = "additive", variable: str = "openings",
                  start_year: int | None = None, end_year: int | None = None, horizon: int | None = None,
                  territory=None, by_territory: bool = False, metier=None, bridge=None,
                  core_weight: float = CORE_WEIGHT, top: int | None = None, lang: str | None = None) -> pd.DataFrame:
    """Skills demand: a projection's openings (or employment) by ROME 4.0 item.

    Parameters
    ----------
    data : Projection or accounts Dataset
        One scenario or several (a ``scenario`` column then), any territorial level.
    by : str
        ``macro_competence`` (the 491 savoir-faire macro-compétences), ``savoir_etre`` (the 16 savoir-être
        professionnels), ``savoir_categorie`` (5), ``savoir_sous_categorie`` (27), ``fiche`` (ROME 4.0 fiches),
        ``transition_eco`` or ``transition_num`` (the fiche's class).
    view : str
        ``additive`` (the rows add up to the variable's total, « non rattaché » row included) or ``reach`` (the
        openings in the jobs that require the item, and ``<variable>_core``: as « Principale »; not additive).
    variable : str
        ``openings`` (default), ``net_creation``, ``departures`` (flows over the window), ``employment_start``,
        ``employment_end`` (stocks at its ends).
    start_year, end_year, horizon : int, optional
        The window (default: the whole projection); ``horizon`` h ends it at base + h.
    territory : str or list, optional
        Territories (codes or names) summed together; default all (France). ``by_territory=True`` gives one row
        set per territory instead of their sum.
    metier : str or list, optional
        Only these métiers (codes or labels).
    bridge : path or DataFrame, optional
        A user's own bridge métier → fiche (:func:`read_bridge`); default pmq's.
    core_weight : float
        Weight of « Principale » items in the additive view (default 2).
    top : int, optional
        Keep the ``top`` largest rows per scenario × territory (the sum then no longer adds up).
    lang : str, optional
        Language of the labels of the transition classes, the territory and the column labels (the ROME labels
        exist in French only).

    Returns
    -------
    DataFrame
        ``[scenario,] territory, territory_name, period, code, label,`` the item's descriptive columns,
        ``<variable>``, ``share`` (of the total of the variable over all métiers in the row's scenario and
        territory), ``<variable>_core``, ``share_core`` (the part carried by « Principale » items, or the jobs
        requiring the item as « Principale »), and ``difference`` (from the first scenario) with several scenarios.
        Sorted by decreasing value, « non rattaché » last. ``attrs``: view, by, variable, period, core weight,
        sources, notes, the share of the total reached, column labels."""
    lang = check_lang(lang)
    _check_view(view)
    if by not in BY:
        raise ArgumentError(_unknown("breakdown", "découpage inconnu", BY), name="by", value=by)
    ds, acc, terr, period, lead = _window(data, [variable], start_year, end_year, horizon, territory,
                                          by_territory, metier, lang)
    mf, source = _bridge(bridge, metiers=[str(m) for m in acc.metier.values])
    user = mf if bridge is not None else None
    _check_metiers(ds[variable], mf, source)
    df = _table(ds, terr, period, lead, by, view, variable, user, core_weight, lang)
    df = _sort_top(df, [*lead, "territory"], variable, top)
    linked = _share_reached(ds[variable], user, "fiche", lead)
    rule = ("additive: openings × bridge weight × item score / Σ scores of the fiche (\"Principale\" = "
            f"{core_weight:g}, other = 1)" if view == "additive" else
            "reach: Σ métiers openings × share of the métier's fiche weight that lists the item (not additive)")
    return _attrs(df, lang, view=view, by=by, by_label=BY[by][0 if lang == "fr" else 1], variable=variable,
                  period=period, core_weight=float(core_weight), rule=rule, bridge=source,
                  share_reached=_share_reached(ds[variable], user, by, lead), share_linked=linked,
                  scenario_titles=_scenario_titles(acc, lang))


def _table(ds: xr.Dataset, terr, period: str, lead: list[str], by: str, view: str, variable: str, user,
           core_weight: float, lang: str) -> pd.DataFrame:
    """The rows of :func:`skills_demand` before sorting: values spread, shares, labels, difference."""
    weights = skill_weights(by, view, bridge=user, core_weight=core_weight)
    values = ds[variable]
    arr, codes = _spread(values, weights, "weight")
    core, _ = _spread(values, weights, "weight_core")
    df = _frame(arr, lead, ds, terr, codes, variable)
    df[f"{variable}_core"] = core.reshape(-1)
    df = _shares(df, values, lead, variable)
    df.insert(len(lead) + 2, "period", period)
    df = _labels(df, by, lang)
    front = [*lead, "territory", "territory_name", "period", "code", "label"]
    tail = [variable, "share", f"{variable}_core", "share_core"]
    df = df[front + [c for c in df.columns if c not in front and c not in tail] + tail]
    return _difference(df, lead, [variable])


def _shares(df: pd.DataFrame, values: xr.DataArray, lead: list[str], variable: str) -> pd.DataFrame:
    """``share`` and ``share_core``: the row's value over the total of the variable in its scenario × territory."""
    total = values.sum("metier").to_series().to_dict()
    keys = df.set_index([*lead, "territory"]).index if lead else df["territory"]
    tot = np.asarray(keys.map(total), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        df["share"] = np.where(tot != 0, df[variable] / tot, np.nan)
        df["share_core"] = np.where(tot != 0, df[f"{variable}_core"] / tot, np.nan)
    return df


def _share_reached(values: xr.DataArray, user, by: str, lead: list[str]):
    """The share of the variable's total (all territories of the table) that reaches a fiche listing something of
    ``by``: one number, or one per scenario."""
    w = skill_weights(by, "additive", bridge=user)
    lost = w[w["code"] == _skills.UNREACHED[0]].set_index("metier")["weight"]
    reached = 1.0 - lost.reindex([str(m) for m in values.metier.values]).fillna(0.0).to_numpy()
    share = (values * xr.DataArray(reached, dims="metier", coords={"metier": values.metier})).sum(
        ["metier", "territory"]) / values.sum(["metier", "territory"])
    if lead:
        return {str(k): float(v) for k, v in share.to_series().items()}
    return float(share)


def green_jobs(data, *, lens: str = "transition_eco", start_year: int | None = None, end_year: int | None = None,
               horizon: int | None = None, territory=None, by_territory: bool = False, metier=None, bridge=None,
               lang: str | None = None) -> pd.DataFrame:
    """Openings and employment by transition class of the ROME fiches (« postes à pourvoir dans des emplois
    verts »): ``lens`` = ``transition_eco`` (vert, stratégique pour la transition écologique, brun, blanc) or
    ``transition_num`` (oui, non, non renseigné), plus « non rattaché »; additive (the classes add up to the
    openings and to employment).

    Columns ``[scenario,] territory, territory_name, period, code, label, openings, share_openings,
    employment_start, employment_end, share_employment_end`` and, with several scenarios,
    ``openings_difference``, ``employment_end_difference`` from the first one (put the reference first:
    ``pmq.project_many(["reference", "ademe_s3"], …)``). Other arguments as :func:`skills_demand`.
    ``attrs["scenario_titles"]``: scenario code → title in ``lang`` (the legend of
    :func:`pmq.plots.skills.green_share`)."""
    lang = check_lang(lang)
    if lens not in LENSES:
        raise ArgumentError(_unknown("lens", "lentille inconnue", LENSES), name="lens", value=lens)
    variables = ["openings", "employment_start", "employment_end"]
    ds, acc, terr, period, lead = _window(data, variables, start_year, end_year, horizon, territory,
                                          by_territory, metier, lang)
    mf, source = _bridge(bridge, metiers=[str(m) for m in acc.metier.values])
    user = mf if bridge is not None else None
    _check_metiers(ds["openings"], mf, source)
    parts = [_table(ds, terr, period, lead, lens, "additive", v, user, CORE_WEIGHT, lang) for v in variables]
    keys = [*lead, "territory", "territory_name", "period", "code", "label"]
    df = parts[0][keys + ["openings", "share"]].rename(columns={"share": "share_openings"})
    df = df.merge(parts[1][keys + ["employment_start"]], on=keys).merge(
        parts[2][keys + ["employment_end", "share"]].rename(columns={"share": "share_employment_end"}), on=keys)
    order = {c: i for i, c in enumerate(_GREEN_ORDER[lens] + [_skills.UNREACHED[0]])}
    scen = {s: i for i, s in enumerate(pd.unique(df["scenario"]))} if lead else {}
    terr = {t: i for i, t in enumerate(pd.unique(df["territory"]))}
    df = df.assign(_s=df["scenario"].map(scen) if lead else 0, _t=df["territory"].map(terr),
                   _c=df["code"].map(order)).sort_values(["_s", "_t", "_c"]).drop(columns=["_s", "_t", "_c"])
    df = _difference(df.reset_index(drop=True), lead, ["openings", "employment_end"])
    return _attrs(df, lang, view="additive", by=lens, by_label=BY[lens][0 if lang == "fr" else 1],
                  period=period, rule="additive: openings (employment) of each métier × bridge weight of the fiches "
                                      "of each class", bridge=source,
                  share_reached=_share_reached(ds["openings"], user, lens, lead),
                  scenario_titles=_scenario_titles(acc, lang))


def green_skills(data, *, lens: str = "transition_eco", kind: str = "all", top: int | None = 20,
                 variable: str = "openings", start_year: int | None = None, end_year: int | None = None,
                 horizon: int | None = None, territory=None, by_territory: bool = False, metier=None, bridge=None,
                 lang: str | None = None) -> pd.DataFrame:
    """The green (``lens="transition_eco"``) or digital (``"transition_num"``) compétences most demanded: the
    macro-compétences, compétences and savoirs ROME flags ``O`` for that transition, ranked by the openings in
    the jobs that require them (reach view, not additive).

    ``kind``: ``macro_competence``, ``competence``, ``savoir`` or ``all``. Columns ``[scenario,] territory,
    territory_name, period, kind, code, label, macro_label`` (a compétence's macro-compétence), ``categorie``,
    ``<variable>``, ``share`` (of all openings), ``<variable>_core``, ``share_core`` (required as « Principale »)
    and ``difference`` with several scenarios; the ``top`` rows per scenario × territory (None: all)."""
    lang = check_lang(lang)
    if lens not in LENSES:
        raise ArgumentError(_unknown("lens", "lentille inconnue", LENSES), name="lens", value=lens)
    kinds = ("macro_competence", "competence", "savoir")
    if kind not in (*kinds, "all"):
        raise ArgumentError(_unknown("kind", "type inconnu", (*kinds, "all")), name="kind", value=kind)
    ds, acc, terr, period, lead = _window(data, [variable], start_year, end_year, horizon, territory,
                                          by_territory, metier, lang)
    mf, source = _bridge(bridge, metiers=[str(m) for m in acc.metier.values])
    user = mf if bridge is not None else None
    values = ds[variable]
    _check_metiers(values, mf, source)
    macros = _skills.macro_competences()
    gd = _skills.green_digital()
    cats = dict(zip(_skills.savoir_categories()["code"], _skills.savoir_categories()["sous_categorie"]))
    frames = []
    if kind in ("macro_competence", "all"):
        w = pd.concat([skill_weights(b, "reach", bridge=user) for b in ("macro_competence", "savoir_etre")])
        flagged = set(macros.loc[macros[lens] == "O", "macro"])
        w = w[w["code"].isin(flagged)]
        meta = macros.drop(columns="code").rename(columns={"macro": "code"}).assign(kind="macro_competence",
                                                                                   macro_label="")[
            ["code", "kind", "label", "macro_label", "categorie"]]
        frames.append((w, meta))
    if kind in ("competence", "savoir", "all"):
        g = gd[(gd[lens] == "O") & ((gd["kind"] == kind) | (kind == "all"))]
        w = skill_weights("green_digital", "reach", bridge=user)
        w = w[w["code"].isin(set(g["item"]))]
        mlab = dict(zip(macros["macro"], macros["label"]))
        meta = pd.DataFrame({"code": g["item"], "kind": g["kind"], "label": g["label"],
                             "macro_label": g["macro"].map(mlab).fillna(""),
                             "categorie": np.where(g["kind"] == "savoir", g["savoir_categorie"].map(cats).fillna(""),
                                                   "Savoir-faire")})
        frames.append((w, meta))
    out = []
    for w, meta in frames:
        if w.empty:
            continue
        arr, codes = _spread(values, w, "weight")
        core, _ = _spread(values, w, "weight_core")
        df = _frame(arr, lead, ds, terr, codes, variable)
        df[f"{variable}_core"] = core.reshape(-1)
        out.append(df.merge(meta, on="code", how="left"))
    df = _shares(pd.concat(out, ignore_index=True), values, lead, variable)
    df.insert(len(lead) + 2, "period", period)
    front = [*lead, "territory", "territory_name", "period", "kind", "code", "label", "macro_label", "categorie"]
    df = df[front + [variable, "share", f"{variable}_core", "share_core"]]
    df = _difference(df, lead, [variable])
    df = _sort_top(df, [*lead, "territory"], variable, top)
    return _attrs(df, lang, view="reach", by=f"{lens}_items", lens=lens, variable=variable, period=period,
                  bridge=source, kinds={k: v[0 if lang == "fr" else 1] for k, v in _KINDS.items()},
                  rule="reach: Σ métiers openings × share of the métier's fiche weight that lists the item "
                       "(not additive)")


def skills_coverage(data=None, *, bridge=None, start_year: int | None = None, end_year: int | None = None,
                    horizon: int | None = None, lang: str | None = None) -> pd.DataFrame:
    """By métier: the share of its employment that the bridge reaches (``share_dares``, ``share_appellation``,
    ``share_famille``, ``share_reached``; FAP-225 employment 2017–2019 weights) and, given a projection, its
    base-year employment, openings over the window and the openings reached (openings × ``share_reached``: within a
    métier, openings are taken in proportion to the employment of its FAP-225).

    ``attrs``: ``share_employment_reached`` and ``share_openings_reached`` (by scenario with several) over all
    métiers, and ``metiers_below_95`` (métiers whose ``share_reached`` is under 95 %). Without ``data``: the 83
    métiers of the exercise, employment shares only (``share_employment_reached`` weighted by the FAP-225
    employment). A user's ``bridge`` has no basis: its empty fiche is the part not reached."""
    lang = check_lang(lang)
    if bridge is None:
        cov = _skills.coverage().rename(columns={b: f"share_{b}" for b in ("dares", "appellation", "famille")})
        cov = cov.rename(columns={"reached": "share_reached"}).drop(columns="aucun")
    else:
        mf, _ = _bridge(bridge, metiers=None if data is None else [str(m) for m in accounts_of(data).metier.values])
        cov = pd.DataFrame({"metier": pd.unique(mf["metier"])})
        cov["share_reached"] = cov["metier"].map(mf[mf["fiche"] != ""].groupby("metier")["weight"].sum()).fillna(0.0)
    if data is None:
        m = _data.metiers()
        cov = cov[cov["metier"].isin(set(m.loc[m["in_exercise"] == "yes", "code"]))].reset_index(drop=True)
        cov.insert(1, "metier_label", metier_label(cov["metier"], lang))
        f = _skills.fap225()
        emp = f.groupby("metier")["employment"].sum().reindex(cov["metier"]).to_numpy()
        attrs = {"share_employment_reached": float((emp * cov["share_reached"]).sum() / emp.sum())}
        attrs["metiers_below_95"] = cov.loc[cov["share_reached"] < 0.95, "metier"].tolist()
        return _attrs(cov, lang, **attrs)
    ds, acc, terr, period, lead = _window(data, ["openings", "employment_start"], start_year, end_year, horizon,
                                          None, False, None, lang)
    metiers = [str(m) for m in ds.metier.values]
    missing = sorted(set(metiers) - set(cov["metier"]))
    if missing:
        raise InputError(tr(f"métier(s) of the projection without a bridge row: {missing}",
                            f"métier(s) de la projection sans ligne dans la table de passage : {missing}"),
                         source="bridge", column="metier", rows=missing)
    frame = ds.isel(territory=0, drop=True).to_dataframe()[["employment_start", "openings"]].reset_index()
    frame = frame[[*lead, "metier", "employment_start", "openings"]]
    df = frame.merge(cov, on="metier", how="left")
    df["openings_reached"] = df["openings"] * df["share_reached"]
    df.insert(len(lead) + 1, "metier_label", metier_label(df["metier"], lang, labels=(
        acc["metier_label"].to_series().reindex(df["metier"]).to_numpy() if "metier_label" in acc.coords else None)))
    df.insert(len(lead), "period", period)
    emp_reached = df["employment_start"] * df["share_reached"]
    so: float | dict[str, float]
    se: float | dict[str, float]
    if lead:
        g = df.assign(emp_reached=emp_reached).groupby(lead, sort=False)
        so = {str(k): float(v) for k, v in (g["openings_reached"].sum() / g["openings"].sum()).items()}
        se = {str(k): float(v) for k, v in (g["emp_reached"].sum() / g["employment_start"].sum()).items()}
    else:
        so = float(df["openings_reached"].sum() / df["openings"].sum())
        se = float(emp_reached.sum() / df["employment_start"].sum())
    below = sorted(set(df.loc[df["share_reached"] < 0.95, "metier"]))
    return _attrs(df.reset_index(drop=True), lang, period=period, share_openings_reached=so,
                  share_employment_reached=se, metiers_below_95=below)


# ------------------------------------------------------------------------------------------- passerelles
#: What ``territory`` may say for the national row (``FR``) of :func:`passerelles`.
_NATIONAL_WORDS = {normalise(w) for w in ("FR", "France", "France métropolitaine", "national")}


def passerelles(data, metier, *, territory=None, start_year: int | None = None, end_year: int | None = None,
                horizon: int | None = None, top: int | None = 10, min_strength: float = MIN_STRENGTH,
                lang: str | None = None) -> pd.DataFrame:
    """The métiers a métier's ROME 4.0 « mobilités » (passerelles) lead to, ranked by their projected imbalance
    rate in ``territory``: where the shortages are, among the métiers close to ``metier`` in content.

    Parameters
    ----------
    data : Projection
        One scenario or several (from :func:`pmq.project` or :func:`pmq.projection.compare.project_many`): the
        imbalance and the DARES class come from :func:`pmq.analysis.imbalance.imbalance_table`.
    metier : str
        The métier of departure: a code (``T2A``) or label; an unknown one raises
        :class:`~pmq.errors.UnknownNameError` with the closest codes.
    territory : str or list, optional
        A territory of the run (code or name); several are summed (their imbalance rate is then the sum's, with
        no DARES class); default (or ``FR``, ``France``): the national row.
    start_year, end_year, horizon : int, optional
        The window (default: the whole projection).
    top : int, optional
        The ``top`` first destinations per scenario (None: all).
    min_strength : float
        Leave out the passerelles weaker than this (default :data:`MIN_STRENGTH`, 1 % of the métier's mobilités).

    Returns
    -------
    DataFrame
        ``[scenario,] rank, territory, territory_name, period, metier, metier_label, target, target_label,
        strength`` (the share of ``metier``'s ROME mobilités, weighted 1/rank, that lead into ``target``;
        :func:`pmq.data.skills.passerelles`), ``links``, ``openings``, ``imbalance``, ``imbalance_pct`` (imbalance
        ÷ employment of the first year), ``tension``, ``class_dares`` (label in ``lang``; empty for a sum of
        territories). Sorted by decreasing ``imbalance_pct`` (ties, then by strength). Self-links (mobilités
        between fiches of ``metier`` itself) are not rows: ``attrs["self_strength"]`` gives their strength;
        ``attrs["n_destinations"]`` the number of destinations before ``top``."""
    lang = check_lang(lang)
    if top is not None and int(top) < 1:
        raise ArgumentError(_top_message(), name="top", value=top)
    if not 0.0 <= float(min_strength) < 1.0:
        raise ArgumentError(tr("min_strength is a share of the métier's mobilités, from 0 to 1 (excluded)",
                               "min_strength est une part des mobilités du métier, de 0 à 1 (exclu)"),
                            name="min_strength", value=min_strength)
    acc = accounts_of(data)
    if getattr(data, "baseline", None) is None:
        raise ArgumentError(tr("expected a Projection (the imbalance classes need its baseline's tension), not an "
                               "accounts Dataset",
                               "attendu : une Projection (les classes de déséquilibre demandent la tension de sa "
                               "base), pas un Dataset de comptes"), name="data", value=type(data).__name__)
    codes = [str(m) for m in acc.metier.values]
    labels = metier_label(codes, lang, labels=acc["metier_label"].values if "metier_label" in acc.coords else None)
    choices = {c: [lab, *metier_label([c], "fr" if lang == "en" else "en")] for c, lab in zip(codes, labels)}
    code = resolve(str(metier), choices, kind="métier")
    links = _skills.passerelles()
    own = links[links["metier"] == code]
    if own.empty:
        raise UnknownNameError(tr(f"no ROME passerelles for the métier {code!r}: the table covers the 83 métiers "
                                  "of \"Les métiers en 2030\" (pmq.data.skills.passerelles())",
                                  f"aucune passerelle ROME pour le métier {code!r} : le tableau couvre les 83 "
                                  "métiers de « Les métiers en 2030 » (pmq.data.skills.passerelles())"),
                               source="passerelles.csv")
    self_strength = float(own.loc[own["target"] == code, "strength"].sum())
    own = own[(own["target"] != code) & (own["strength"] >= float(min_strength))]

    table = imbalance_table(data, start_year=start_year, end_year=end_year, horizon=horizon, lang=lang)
    table["class_dares"] = classify(table, "dares", lang=lang)
    lead = ["scenario"] if "scenario" in table.columns else []
    if territory is None or (isinstance(territory, str) and normalise(territory) in _NATIONAL_WORDS):
        picked = ["FR"]
    else:
        picked = [str(t) for t in select(acc, territory=territory).territory.values]
    rows = table[table["territory"].isin(picked)]
    if len(picked) > 1:
        sums = rows.groupby([*lead, "metier"], sort=False)[["openings", "imbalance", "employment_base"]].sum()
        rows = sums.reset_index()
        with np.errstate(divide="ignore", invalid="ignore"):
            rows["imbalance_pct"] = np.where(rows["employment_base"] > 0, rows["imbalance"] / rows[
                "employment_base"], np.nan)
        rows["tension"] = np.nan
        rows["class_dares"] = ""
        rows["territory"] = "+".join(picked)
        rows["territory_name"] = territory_name(acc, picked, lang)
        rows["period"] = table["period"].iloc[0]
    cols = [*lead, "territory", "territory_name", "period", "metier", "openings", "imbalance", "imbalance_pct",
            "tension", "class_dares"]
    rows = rows[cols].rename(columns={"metier": "target"})
    df = own.drop(columns="metier").merge(rows, on="target", how="inner")
    df.insert(0, "metier", code)
    df.insert(1, "metier_label", dict(zip(codes, labels))[code])
    df.insert(3, "target_label", df["target"].map(dict(zip(codes, labels))))
    df["class_dares"] = df["class_dares"].fillna("")
    df = df.sort_values([*lead, "imbalance_pct", "strength"], ascending=[True] * len(lead) + [False, False],
                        na_position="last", kind="stable")
    n_dest = int(df.groupby(lead, sort=False).size().max()) if lead and len(df) else len(df)
    if top is not None:
        df = df.groupby(lead, sort=False).head(int(top)) if lead else df.head(int(top))
    df.insert(0, "rank", df.groupby(lead, sort=False).cumcount() + 1 if lead else np.arange(1, len(df) + 1))
    front = [*lead, "rank", "territory", "territory_name", "period", "metier", "metier_label", "target",
             "target_label", "strength", "links"]
    df = df[front + [c for c in df.columns if c not in front]].reset_index(drop=True)
    out = _attrs(df, lang, metier=code, self_strength=self_strength, min_strength=float(min_strength),
                 n_destinations=n_dest, period=str(table["period"].iloc[0]),
                 rule="strength(M → N) = Σ fiches f of M, mobilités f → c: bridge weight of f in M × (1/rank) / Σ "
                      "1/rank of f's mobilités × share of c's jobs in N; ranked by N's imbalance rate")
    out.attrs["notes"] = [*PASSERELLE_NOTES[lang], *out.attrs["notes"]]
    return out
