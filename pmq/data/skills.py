"""Compétences (issue 19): the shipped bridge métier → FAP-225 → ROME 4.0 fiches and the fiches' compétences,
savoirs and transition flags, in ``pmq/data/skills/`` (built by ``python -m pmq.estimation.skills``; method,
sources, licence and coverage in ``skills/SOURCE.md``).

* :func:`bridge` — métier → FAP-225 → ROME V3 code → ROME 4.0 fiche, with the weight of each path in the métier
  (each métier's weights sum to 1; an empty ``fiche`` is the part no fiche reaches) and its ``basis``;
* :func:`metier_fiche` — the same summed by métier × fiche;
* :func:`coverage` — by métier, the share of its employment reached, by basis;
* :func:`fap225` — the FAP-225 with their label, family, pmq métier, employment 2017–2019 and basis;
* :func:`fiches` — the ROME 4.0 fiches: code, parent (ROME V3) code, label, ``transition_eco``,
  ``transition_num``;
* :func:`macro_competences`, :func:`fiche_macro` — the 507 macro-compétences (491 savoir-faire, 16 savoir-être
  professionnels) and which fiche uses which (``coeur`` = ``P`` when one of the links is « Principale »);
* :func:`savoir_categories`, :func:`fiche_savoir` — the 27 sub-categories of savoirs and the number of savoirs
  (and of core ones) each fiche lists in each;
* :func:`green_digital`, :func:`fiche_green_digital` — the compétences and savoirs ROME flags for the ecological
  (``transition_eco`` = ``O``) or digital (``transition_num`` = ``O``) transition that some fiche uses, and the
  links;
* :func:`passerelles` — the ROME « mobilités » fiche → fiche aggregated to métier → métier (``strength``: the
  share of a métier's mobilités, weighted 1/rank, that lead into the target).

The labels are ROME's, in French (ROME has no English version). :data:`NOTES` says what the links mean and do not
mean; :data:`SOURCES` cites the sources.
"""
from __future__ import annotations

from functools import cache

import pandas as pd

from pmq.data import data_path

__all__ = ["bridge", "metier_fiche", "coverage", "fap225", "fiches", "macro_competences", "fiche_macro",
           "savoir_categories", "fiche_savoir", "green_digital", "fiche_green_digital", "passerelles", "BASES", "NOTES",
           "SOURCES", "MIN_STRENGTH", "ROME_VERSION", "TRANSITION_ECO", "TRANSITION_NUM", "UNREACHED"]

#: The ROME release of the shipped tables.
ROME_VERSION = "ROME 4.0 (v460)"
#: How a FAP-225 reaches ROME fiches (``basis`` of :func:`bridge` and :func:`fap225`): code → (fr, en).
BASES = {
    "dares": ("table de correspondance DARES FAP-2009 → ROME V3", "DARES FAP-2009 → ROME V3 table"),
    "appellation": ("fiches ROME 4.0 dont les appellations nomment la profession (règle pmq)",
                    "ROME 4.0 fiches whose job titles name the profession (pmq rule)"),
    "famille": ("codes ROME des autres FAP-225 de la famille FAP-87 (règle pmq)",
                "ROME codes of the FAP-87 family's other FAP-225 (pmq rule)"),
    "aucun": ("aucune fiche ROME", "no ROME fiche"),
}
#: The ``transition_eco`` classes of the ROME 4.0 fiches: ROME's value → (code, French label, English label).
TRANSITION_ECO = {
    "Emploi Vert": ("vert", "Emploi vert", "Green job"),
    "Emploi stratégique pour la Transition écologique": (
        "strategique", "Emploi stratégique pour la transition écologique",
        "Job strategic for the ecological transition"),
    "Emploi Brun": ("brun", "Emploi brun", "Brown job"),
    "Emploi Blanc": ("blanc", "Emploi blanc (non classé vert, stratégique ni brun)",
                     "White job (neither green, strategic nor brown)"),
}
#: The ``transition_num`` flag of the ROME 4.0 fiches: ROME's value → (code, French label, English label).
TRANSITION_NUM = {
    "O": ("oui", "Emploi de la transition numérique", "Digital-transition job"),
    "N": ("non", "Emploi hors transition numérique", "Not a digital-transition job"),
    "": ("non_renseigne", "Non renseigné dans le ROME", "Not stated in ROME"),
}
#: The code and labels of the part of the openings (or employment) that reaches no fiche, or a fiche that lists
#: nothing in the view asked for.
UNREACHED = ("non_rattache", "Non rattaché (aucune fiche ROME, ou rien de ce type dans la fiche)",
             "Not linked (no ROME fiche, or nothing of this kind in the fiche)")
#: What the links mean and do not mean (French, English): carried by every table of :mod:`pmq.analysis.skills`.
NOTES = {
    "fr": (
        "Le ROME dit qu'un métier mobilise une compétence, pas dans quelle mesure : la vue additive répartit les "
        "postes à pourvoir d'un métier sur ses compétences par une règle de pmq (les compétences « Principale » de "
        "la fiche comptent double), pas par une mesure du temps ou de l'importance.",
        "Le ROME 4.0 (v460) décrit les métiers de 2024–2025 ; la base de la projection est 2019 : le contenu "
        "actuel des métiers est appliqué aux postes à pourvoir de toute la période.",
        "Le passage des familles professionnelles aux fiches est la table DARES FAP-2009 → ROME V3 (nomenclature "
        "de 2009) ; les fiches ROME 4.0 y sont rattachées par leur code parent (le code ROME V3), à poids égaux.",
        "Les FAP-225 sont pondérées par leur emploi 2017–2019 (enquête Emploi) dans chaque métier ; les fiches "
        "d'une famille n'ont pas de poids d'emploi (aucune source par fiche) : elles comptent à parts égales.",
    ),
    "en": (
        "ROME says THAT a métier uses a compétence, not how much: the additive view spreads a métier's openings "
        "over its compétences by a pmq rule (the fiche's « Principale » compétences count double), not by a "
        "measure of time or importance.",
        "ROME 4.0 (v460) describes the métiers of 2024–2025 while the projection's base is 2019: today's content "
        "of the métiers is applied to the openings of the whole period.",
        "Families reach fiches through DARES's FAP-2009 → ROME V3 table (the 2009 nomenclature); ROME 4.0 fiches "
        "are attached to it by their parent code (the ROME V3 code), with equal weights.",
        "FAP-225 weigh by their 2017–2019 employment (enquête Emploi) within each métier; the fiches of a family "
        "have no employment weight (no source by fiche): they count equally.",
    ),
}
#: The weakest passerelle kept by default (a share of the métier's weighted ROME mobilités) by
#: :func:`pmq.analysis.skills.passerelles` and :func:`pmq.analysis.occupational.transitions_from_passerelles`:
#: 1 % keeps 5 to 22 destinations per métier (12 in the median) and 70–100 % of the strength of the links to
#: other métiers (92 % in the median).
MIN_STRENGTH = 0.01
#: The sources of the shipped tables (licences and attribution in ``skills/SOURCE.md``).
SOURCES = (
    "France Travail, Répertoire opérationnel des métiers et des emplois (ROME) 4.0, version v460, Licence "
    "Ouverte / Etalab 2.0 (fiches, compétences, savoirs, indicateurs de transition)",
    "Dares, table de correspondance ROME V3 → FAP-2009 (FAP-225), Dares, Portraits statistiques des métiers",
    "Dares, Portraits statistiques des métiers : emploi par FAP-225, moyenne 2017–2019 (Insee, enquête Emploi)",
)
_TEXT = ("metier", "fap225", "fap87", "label", "basis", "rome", "fiche", "macro", "code", "categorie",
         "sous_categorie", "transition_eco", "transition_num", "coeur", "item", "kind", "savoir_categorie", "target")


def _read(name: str) -> pd.DataFrame:
    path = data_path("skills", name)
    head = pd.read_csv(path, nrows=0).columns
    return pd.read_csv(path, dtype={c: str for c in head if c in _TEXT}, keep_default_na=False)


@cache
def _bridge() -> pd.DataFrame:
    b = _read("bridge.csv")
    # 12 decimals in the file, summing to 1 in decimal: renormalise so that each métier sums to 1 in floating point
    b["weight"] = b["weight"] / b.groupby("metier")["weight"].transform("sum")
    return b


def bridge() -> pd.DataFrame:
    """métier → FAP-225 → ROME V3 code → ROME 4.0 fiche: ``metier, fap225, rome, fiche, weight, basis``.

    Every métier code of :func:`pmq.data.metiers` (the 83 of « Les métiers en 2030 » and the 8 FAP-87 families
    accepted in user data); a métier's weights sum to 1. ``weight`` = the FAP-225's share of the métier's
    employment × 1/(its number of ROME codes) × 1/(the code's number of ROME 4.0 fiches). ``basis``: see
    :data:`BASES`; the rows with an empty ``fiche`` (``aucun``) are the part no fiche reaches."""
    return _bridge().copy()


@cache
def _metier_fiche() -> pd.DataFrame:
    return _bridge().groupby(["metier", "fiche"], as_index=False, sort=False)["weight"].sum()


def metier_fiche() -> pd.DataFrame:
    """``metier, fiche, weight``: :func:`bridge` summed by métier × fiche (an empty fiche: not reached)."""
    return _metier_fiche().copy()


def coverage() -> pd.DataFrame:
    """By métier (every code of :func:`pmq.data.metiers`): the share of its employment (FAP-225 weights) that
    reaches ROME fiches through each basis — ``dares``, ``appellation``, ``famille`` — the share not reached
    (``aucun``), and ``reached`` = 1 − ``aucun``."""
    b = _bridge()
    c = b.pivot_table(index="metier", columns="basis", values="weight", aggfunc="sum", fill_value=0.0, sort=False)
    c = c.reindex(columns=list(BASES), fill_value=0.0)
    c["reached"] = 1.0 - c["aucun"]
    return c.reset_index().rename_axis(columns=None)


@cache
def _fap225() -> pd.DataFrame:
    return _read("fap225.csv")


def fap225() -> pd.DataFrame:
    """The 225 FAP-225: ``fap225, label, fap87, metier`` (pmq's métier of the exercise that holds it),
    ``employment`` (thousands, 2017–2019 average, DARES), ``n_rome`` (its codes in the DARES table), ``basis``."""
    return _fap225().copy()


@cache
def _fiches() -> pd.DataFrame:
    return _read("fiches.csv")


def fiches() -> pd.DataFrame:
    """The 1,584 ROME 4.0 fiches: ``fiche, rome`` (the parent code: the ROME V3 code), ``label``,
    ``transition_eco`` (« Emploi Vert », « Emploi stratégique pour la Transition écologique », « Emploi Brun »,
    « Emploi Blanc »), ``transition_num`` (``O``, ``N``, empty)."""
    return _fiches().copy()


@cache
def _macro_competences() -> pd.DataFrame:
    return _read("macro_competences.csv")


def macro_competences() -> pd.DataFrame:
    """The 507 macro-compétences: ``macro`` (OGR code), ``code`` (position in ROME's tree, e.g. ``1C101``: domain
    ``1``, enjeu ``1C``, objectif ``1C1``; empty for the savoir-être), ``categorie`` (« Savoir-faire »,
    « Savoir-être professionnel »), ``sous_categorie``, ``label``, ``transition_eco``, ``transition_num``
    (``O``/``N``/empty). The labels of the domains, enjeux and objectifs are not in the data read."""
    return _macro_competences().copy()


@cache
def _fiche_macro() -> pd.DataFrame:
    return _read("fiche_macro.csv")


def fiche_macro() -> pd.DataFrame:
    """``fiche, macro, coeur``: the macro-compétences each fiche uses (linked directly or through one of its
    compétences); ``coeur`` = ``P`` if one of the links is « Principale », ``E`` if one is « Émergente »,
    empty otherwise."""
    return _fiche_macro().copy()


@cache
def _savoir_categories() -> pd.DataFrame:
    return _read("savoir_categories.csv")


def savoir_categories() -> pd.DataFrame:
    """``code`` (S01…), ``categorie``, ``sous_categorie``: the 5 categories and 27 sub-categories of savoirs."""
    return _savoir_categories().copy()


@cache
def _fiche_savoir() -> pd.DataFrame:
    return _read("fiche_savoir.csv")


def fiche_savoir() -> pd.DataFrame:
    """``fiche, savoir_categorie, n, n_core``: the number of savoirs each fiche lists in each sub-category, and of
    those « Principale »."""
    return _fiche_savoir().copy()


@cache
def _green_digital() -> pd.DataFrame:
    return _read("green_digital.csv")


def green_digital() -> pd.DataFrame:
    """The compétences and savoirs flagged ``O`` on ``transition_eco`` or ``transition_num`` that some fiche uses:
    ``item, kind`` (``competence``, ``savoir``), ``label``, ``macro`` (a compétence's macro-compétence),
    ``savoir_categorie`` (a savoir's sub-category code), ``transition_eco``, ``transition_num``."""
    return _green_digital().copy()


@cache
def _fiche_green_digital() -> pd.DataFrame:
    return _read("fiche_green_digital.csv")


def fiche_green_digital() -> pd.DataFrame:
    """``fiche, item, coeur``: the links of the fiches to the items of :func:`green_digital`."""
    return _fiche_green_digital().copy()


@cache
def _passerelles() -> pd.DataFrame:
    return _read("passerelles.csv")


def passerelles() -> pd.DataFrame:
    """``metier, target, strength, links``: the ROME 4.0 « mobilités » (passerelles) fiche → fiche aggregated to
    the 83 métiers of the exercise. A fiche's mobilités weigh 1/rank (ROME's ``numero_ordre``), normalised to 1
    per fiche; the source fiches weigh by their bridge weight in ``metier``; a target fiche is shared between
    the métiers that reach it in proportion to their jobs in it. ``strength`` is the share of ``metier``'s
    mobilités so weighted that lead into ``target`` (over the targets, ``metier`` itself included, it sums to
    about 1); ``links`` is the number of fiche → fiche mobilités behind the row. Rows with ``target`` =
    ``metier`` are the self-links (mobilités between fiches of the same métier). Rule and figures:
    ``skills/SOURCE.md``, « The passerelles ». :func:`pmq.analysis.occupational.transitions_from_passerelles`
    spreads a total rate of changing métier over these links (a prior for the mobility matrix)."""
    return _passerelles().copy()
