"""Scenario files (TOML): what a projection assumes besides the baseline, validated strictly.

A scenario file is plain TOML read with :mod:`tomllib`.  Sections:

``[scenario]``
    ``name``, ``title_fr``, ``title_en``, ``description_fr``, ``description_en`` (``description``, in
    files written before the two: read as the English one, and shown as it is in French too when the
    file gives no ``description_fr``), ``base_year`` (must equal the baseline's), ``extends`` (a
    built-in name or a path, relative to the file).
``[horizons]``
    ``run`` (years projected), ``summary`` (horizons in years from the base year, default
    5, 10, 20), ``years`` (extra calendar end years, e.g. 2030).
``[demand]``, ``[young_entrants]``, ``[net_mobility]``
    Named rules that spread the published base-period totals over the years and continue
    them afterwards (see :mod:`pmq.model.demand`, :mod:`pmq.model.entrants`, :mod:`pmq.model.mobility`), and
    *levers*, arrays of tables ``[[demand.adjust]]``, ``[[young_entrants.adjust]]``,
    ``[[net_mobility.adjust]]`` (see :mod:`pmq.scenario.levers`).
``[exits]``
    ``schedule = "estimated"`` (or ``"estimated_unpooled"``) replaces the baseline's hazards by
    those estimated from the DARES pyramids (:mod:`pmq.estimation.exits`); levers on the end-of-career
    exit hazards: ``[[exits.shift]]`` (the late-career schedule
    moves by N years from a given year, phased), ``[[exits.cohort_shift]]`` (by birth
    cohort, as a pension-age reform), ``[[exits.multiplier]]`` (by age band, métier, years).
``[age_profiles]``
    Ages at which inflows are placed (:class:`pmq.model.ages.AgeProfiles`).

Rules of the language
---------------------
* Unknown sections or keys, wrong types, out-of-range values, unknown métier, domain,
  sector or territory codes raise :class:`~pmq.errors.ScenarioError` naming the file, the
  key path (``demand.adjust[manufacturing].anchors.2035``) and the value.  This module holds
  the schema of the sections; a lever table is checked by its kind (:mod:`pmq.scenario.levers`:
  one frozen dataclass per kind with its schema, its check and its apply, registered in
  :data:`~pmq.scenario.levers.LEVER_KINDS`), and the resolved tables become typed levers
  (:meth:`Scenario.typed_levers`).
* Every table that holds a number carries ``source = "publication, URL"`` or
  ``assumption = "…"`` (checked in each file, so an override states its own source).
* A *lever* says whose its numbers are, exactly one of: ``source`` (they are the figures of
  the named publication; ``method = "…"`` may say how pmq applies them — phasing, reading a
  change as a deviation, arithmetic) or ``assumption`` (they are the file author's own;
  ``basis = "…"`` may name the publications the assumption leans on, so that no source is
  shown as the source of an assumed number).  A sourced lever with ``weights`` also says whose
  the split over métiers is: ``weights_source`` or ``weights_assumption``.  :func:`lever_status`
  reads this as « sourced », « sourced total, assumed split » or « assumed »; the status is
  shown in the docs pages, the report's parameter table and the accounts' attrs.
* Plausibility: no built-in scenario moves a métier's national employment away from the
  reference by more than 25 % of the reference's (:data:`MAX_METIER_DEVIATION`) unless
  ``[scenario]`` raises ``max_metier_deviation`` and says why in
  ``max_metier_deviation_reason`` (checked by the test suite,
  :func:`pmq.analysis.sources.plausibility_check`).
* ``extends``: the child's keys replace the parent's, section by section; levers are
  matched by ``id`` — a child lever with the id of a parent lever replaces it, a new id is
  appended, and ``remove = ["id", …]`` in the section drops inherited levers.
* Texts in two languages: every text a reader sees (:data:`TRANSLATED_KEYS`: ``description``,
  ``source``, ``assumption``, ``method``, ``basis``, ``weights_source``, ``weights_assumption``,
  ``label``, ``max_metier_deviation_reason``) may carry its French and English versions beside it,
  ``assumption_fr = "…"`` and ``assumption_en = "…"``.  The plain key stays the text of record (it
  says whose the numbers are, and is shown when the reader's language has no version of its own):
  a ``…_fr`` or ``…_en`` key needs its plain key, except ``description_fr`` / ``description_en``
  (and ``title_fr`` / ``title_en``), which stand alone.  :func:`text_in` and
  :meth:`Scenario.text_in`, :meth:`Scenario.title_in`, :meth:`Scenario.description_in` read a text in
  the reader's language: its own version, else the plain text, else the other language's — a file
  written in one language is shown as it is.  A child file (``extends``) that gives any version of a
  text replaces all of its parent's versions of it (no French left over from the parent beside an
  English text of the child).
* The resolved scenario (after ``extends``) and its SHA-256 hash are stored in the results'
  attrs.  ``[supply]`` holds the levers of the supply from initial training
  (:mod:`pmq.inputs.training`): ``lag``, ``[[supply.leavers]]`` (leaver volumes by formation) and
  ``[[supply.matrix]]`` (the formation → métier allocation).
"""
from __future__ import annotations

import ast
import hashlib
import itertools
import json
import math
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pmq.formatting import check_lang
from pmq.model import demand, mobility, entrants as supply
from pmq.model.ages import AgeProfiles
from pmq.errors import ArgumentError, InactiveLeverWarning, PmqWarning, ScenarioError, UnknownNameError
from pmq.model.rules import Rules
from pmq.data import domains, metiers, territory_choices
from pmq.names import closest, listing, quoted, resolve, unknown_key
from pmq.options import tr
from pmq.scenario.levers import (INT, LEVER_KINDS, LEVER_SCHEMAS, LIST, NUM, PROVENANCE_KEYS, TEXT, YEARS, Lever,
                                 Provenance, Spec, between, check_table, check_value, has_number, int_list,
                                 lever_from_table, one_of, str_list)
from pmq.scenario.sectors import sectors
from pmq.inputs.tables import bad_label_characters

__all__ = ["Scenario", "read_scenario", "builtin_scenarios", "text_in", "provenance_in", "TRANSLATED_KEYS",
           "scenario_dir", "LEVER_SECTIONS", "LEVER_SCHEMAS", "EXIT_SECTIONS", "MAX_HORIZON", "YEARS", "inactive_levers", "warn_inactive_levers",
           "lever_status", "Provenance", "status_label", "is_builtin", "STATUS_LABELS", "PROVENANCE_KEYS", "MAX_METIER_DEVIATION", "RENAMED"]

#: Default plausibility bound: largest |scenario − reference| / reference employment of a métier
#: (national, any year) a built-in scenario may reach without saying why.
MAX_METIER_DEVIATION = 0.25

#: Built-in scenarios renamed since an earlier release: old name -> new name (read with a warning).
RENAMED = {"bas_carbone": "bas_carbone_dares2023"}

#: Lever provenance statuses (:func:`lever_status`) and how they are shown, by language.
STATUS_LABELS = {
    "sourced": {"fr": "source", "en": "sourced"},
    "split_assumed": {"fr": "total sourcé, répartition hypothèse pmq",
                      "en": "sourced total, split: pmq assumption"},
    "assumed": {"fr": "hypothèse pmq", "en": "pmq assumption"},
}


#: Keys of the texts a reader sees, which a file may give in French and English beside the plain key
#: (``assumption_fr``, ``assumption_en``); ``description`` and the titles may be given by language alone.
TRANSLATED_KEYS = ("description", "source", "assumption", "method", "basis", "weights_source", "weights_assumption",
                   "label", "max_metier_deviation_reason")
#: The languages of the texts (the suffixes of their keys).
TEXT_LANGS = ("fr", "en")


def text_in(table: dict | None, key: str, lang: str | None = None) -> str:
    """The text ``key`` of a scenario table (a section or a lever) in ``lang`` (default: pmq's option,
    French unless set): ``key_<lang>`` if the file gives it, else ``key``, else the other language's
    version (a file written in one language is shown as it is); ``""`` when there is none.  For
    ``key="title"``: ``title_fr`` / ``title_en``."""
    lang = check_lang(lang)
    if not table:
        return ""
    other = "en" if lang == "fr" else "fr"
    for k in (f"{key}_{lang}", key, f"{key}_{other}"):
        v = table.get(k)
        if isinstance(v, str) and v.strip():
            return v
    return ""


def provenance_in(lever: dict, lang: str | None = None) -> Provenance:
    """The :class:`Provenance` of a lever table with its texts in ``lang`` (:func:`text_in`); its status is
    the table's (the plain keys say whose the numbers are)."""
    return Provenance(**{k: text_in(lever, k, lang) for k in PROVENANCE_KEYS})


def _text_base(key: str) -> tuple[str, str] | None:
    """``("assumption", "fr")`` for ``assumption_fr``; None for a key that is no language version."""
    base, sep, lang = key.rpartition("_")
    return (base, lang) if sep and lang in TEXT_LANGS and base else None


def status_label(status: str, lang: str | None = None, builtin: bool = True) -> str:
    """How a provenance status reads: « hypothèse pmq » for a built-in file's assumption, « hypothèse
    de l'auteur du scénario » for a user file's (pmq did not make it)."""
    lang = check_lang(lang)
    text = STATUS_LABELS[status]["fr" if lang == "fr" else "en"]
    if not builtin and status != "sourced":
        text = text.replace("hypothèse pmq", "hypothèse de l'auteur du scénario").replace(
            "pmq assumption", "scenario author's assumption")
    return text


def is_builtin(source: str | Path) -> bool:
    """Whether a scenario file is one of the built-in library's."""
    try:
        return Path(source).resolve().parent == scenario_dir().resolve()
    except (OSError, ScenarioError):
        return False


def lever_status(lever: dict | Lever) -> str:
    """Whose numbers a lever carries: ``"assumed"`` (``assumption``: the file author's own),
    ``"split_assumed"`` (``source`` for its numbers but ``weights_assumption`` for their split
    over métiers) or ``"sourced"``.  For a lever of a built-in file « assumed » reads
    « hypothèse pmq »."""
    return Provenance.of(lever).status


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: what :func:`pmq.project` needs besides the baseline.

    ``levers`` maps each lever section (:data:`LEVER_SECTIONS`: ``"demand.adjust"``,
    ``"young_entrants.adjust"``, ``"net_mobility.adjust"``, ``"exits.shift"``…) to a tuple of
    validated lever tables (dicts), in file order (:meth:`lever_list`); :meth:`typed_levers` gives
    the same levers as their kinds' frozen dataclasses (:mod:`pmq.scenario.levers`), built once from
    the tables when the scenario is made.

    ``resolved`` is the file's content after ``extends`` and :attr:`hash` its fingerprint; ``horizon``
    is the run's length, which :meth:`with_horizon` changes without touching either (the horizon
    a file declares, ``horizons.run``, is part of the file; a run's ``--horizon`` is not).  Read the
    settings through the properties below (:attr:`exit_schedule`, :attr:`trend_model`, …) rather
    than ``resolved``.

    Texts by language: :meth:`title_in`, :meth:`description_in` and, for any text of a section,
    :meth:`text_in`; :func:`text_in` and :func:`provenance_in` for a lever's.  ``description`` is the
    English description (``description_en``, or the plain ``description`` of older files);
    ``description_fr`` and ``description_en`` are the file's own versions (``""`` when absent).
    """

    name: str = "reference"
    title_fr: str = "Scénario de référence"
    title_en: str = "Reference scenario"
    description: str = ""
    description_fr: str = ""
    description_en: str = ""
    base_year: int | None = None
    horizon: int = 20
    summary_horizons: tuple[int, ...] = (5, 10, 20)
    summary_years: tuple[int, ...] = (2030,)
    rules: Rules = field(default_factory=Rules)
    profiles: AgeProfiles = field(default_factory=AgeProfiles)
    levers: dict = field(default_factory=dict, compare=False)
    source: str = "(defaults)"
    supply_lag: int = 3
    resolved: dict = field(default_factory=dict, compare=False)
    max_metier_deviation: float = MAX_METIER_DEVIATION
    max_metier_deviation_reason: str = ""
    _typed: dict[str, tuple[Lever, ...]] = field(init=False, repr=False, compare=False)

    @property
    def hash(self) -> str:
        """SHA-256 of the resolved scenario (canonical JSON), first 16 hex digits."""
        blob = json.dumps(self.resolved, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def __post_init__(self) -> None:
        # the typed levers, built once from the tables (a ``replace(levers=…)`` builds them again)
        typed = {section: tuple(lever_from_table(section, t) for t in tables)
                 for section, tables in self.levers.items() if section in LEVER_KINDS}
        object.__setattr__(self, "_typed", typed)

    def title_in(self, lang: str | None = None) -> str:
        """The title in ``lang`` (default: pmq's option, French unless set)."""
        return self.title_fr if check_lang(lang) == "fr" else self.title_en

    def description_in(self, lang: str | None = None) -> str:
        """The description in ``lang``: ``description_fr`` / ``description_en``, else ``description`` (the
        English one of files written before the two), else the other language's — shown as it is."""
        lang = check_lang(lang)
        return text_in({"description": self.description, "description_fr": self.description_fr,
                        "description_en": self.description_en}, "description", lang)

    def text_in(self, section: str, key: str, lang: str | None = None) -> str:
        """The text ``key`` of the file's section ``section`` (after ``extends``) in ``lang``
        (:func:`text_in`): ``sc.text_in("horizons", "assumption", "fr")``, ``sc.text_in("scenario",
        "source", "en")``; ``""`` when the file has none."""
        body = self.resolved.get(section)
        return text_in(body if isinstance(body, dict) else None, key, lang)

    def lever_list(self, section: str) -> tuple:
        """The lever tables (dicts) of ``section``, in file order (after ``extends``)."""
        return tuple(self.levers.get(section, ()))

    def typed_levers(self, section: str) -> tuple[Lever, ...]:
        """The levers of ``section`` as their kinds' frozen dataclasses (:mod:`pmq.scenario.levers`:
        :class:`~pmq.scenario.levers.Growth`, :class:`~pmq.scenario.levers.ExitShift`…), in file order."""
        if section not in LEVER_KINDS:
            raise KeyError(f"no lever section {section!r}; expected one of {list(LEVER_KINDS)}")
        return self._typed.get(section, ())

    @property
    def status(self) -> str:
        """The scenario's provenance: ``"assumed"`` if any lever is an assumption,
        ``"split_assumed"`` if a lever's split over métiers is, else ``"sourced"``."""
        found = {lever_status(lv) for sec in LEVER_SECTIONS for lv in self.lever_list(sec)}
        return next((s for s in ("assumed", "split_assumed") if s in found), "sourced")

    @property
    def builtin(self) -> bool:
        """Whether the scenario's file is one of the built-in library's."""
        return is_builtin(self.source)

    def status_label(self, lang: str | None = None) -> str:
        """The scenario's provenance status as a reader sees it (« hypothèse pmq »…)."""
        lang = check_lang(lang)
        return status_label(self.status, lang, self.builtin)

    def assumed_levers(self) -> list[str]:
        """``section[id]`` of every lever whose numbers or split are assumptions."""
        return [f"{sec}[{lv['id']}]" for sec in LEVER_SECTIONS for lv in self.lever_list(sec)
                if lever_status(lv) != "sourced"]

    @property
    def declared_horizon(self) -> int:
        """The run length the file declares (``horizons.run``, default 20), whatever :attr:`horizon`
        a run overrides it with."""
        return int(self.resolved.get("horizons", {}).get("run", 20))

    @property
    def exit_schedule(self) -> str:
        """``exits.schedule``: ``"baseline"`` (the baseline's hazards, default), ``"estimated"`` or
        ``"estimated_unpooled"`` (:mod:`pmq.estimation.exits`)."""
        return self.resolved.get("exits", {}).get("schedule", "baseline")

    @property
    def trend_model(self) -> str:
        """``demand.trend``: ``"published"`` (the published totals, default) or a model fitted to the
        DARES series (:mod:`pmq.estimation.trends`): ``"shares"`` (half-trend shares: the scenario's
        total of each territory distributed as the occupational shares move; the model that beats the
        naive forecast ex post, docs/accuracy.md), ``"shares_damped"`` (its bounded variant, for paths
        beyond 9 years), ``"combination"`` (mean of constant employment, damped and ARIMA),
        ``"loglinear"``, ``"damped"``, ``"arima"``."""
        return self.resolved.get("demand", {}).get("trend", "published")

    @property
    def trend_years(self) -> int:
        """``demand.trend_years``: the years of the series the trend model is fitted to (default 15)."""
        return int(self.resolved.get("demand", {}).get("trend_years", 15))

    @property
    def uncertainty_seed(self) -> int | None:
        """``uncertainty.seed``: the seed of the ensemble's draws (``None``: none given)."""
        return self.resolved.get("uncertainty", {}).get("seed")

    def demand_levers(self) -> tuple:
        """The ``[[demand.adjust]]`` levers, in file order."""
        return self.lever_list("demand.adjust")

    def exit_levers(self) -> tuple:
        """The levers on the exit hazards (``[[exits.shift]]``, ``[[exits.cohort_shift]]``,
        ``[[exits.multiplier]]``), in that order."""
        return tuple(lv for sec in EXIT_SECTIONS for lv in self.lever_list(sec))

    @property
    def has_exit_levers(self) -> bool:
        """Whether a lever moves the exit hazards (the run then has a hazard per year)."""
        return bool(self.exit_levers())

    def uncertain_parameters(self) -> tuple:
        """The ``[[uncertainty.parameter]]`` tables (empty: the scenario has no ensemble)."""
        return self.lever_list("uncertainty.parameter")

    def with_horizon(self, horizon: int) -> Scenario:
        """The same scenario run over ``horizon`` years.  The file's content (:attr:`resolved`) and
        :attr:`hash` do not change: the horizon is a parameter of the run, recorded in the accounts'
        ``horizon_years``."""
        if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= MAX_HORIZON:
            raise ArgumentError(tr(f"the horizon must be a whole number of years between 1 and {MAX_HORIZON} (it "
                                   f"replaces horizons.run = {self.horizon} of {self.source})",
                                   f"l'horizon doit être un nombre entier d'années entre 1 et {MAX_HORIZON} (il "
                                   f"remplace horizons.run = {self.horizon} de {self.source})"), name="horizon",
                                value=horizon)
        return replace(self, horizon=horizon)


# --------------------------------------------------------------------------- schema
_SOURCE_KEYS = ("source", "assumption")
#: Longest run, in years (``horizons.run``, ``--horizon``).
MAX_HORIZON = 60
_SRC: dict[str, Spec] = {"source": (TEXT, None), "assumption": (TEXT, None)}
LEVER_SECTIONS = tuple(LEVER_SCHEMAS)
#: The keys of the lever arrays in their sections ("adjust", "shift", …).
_LEVER_KEYS = tuple(dict.fromkeys(path.split(".")[1] for path in LEVER_SECTIONS))
#: The lever sections that move the exit hazards.
EXIT_SECTIONS = ("exits.shift", "exits.cohort_shift", "exits.multiplier")

_SCHEMA: dict[str, dict[str, Spec]] = {
    "scenario": {
        "name": (TEXT, None), "title_fr": (TEXT, None), "title_en": (TEXT, None),
        "description": (TEXT, None), "description_fr": (TEXT, None), "description_en": (TEXT, None),
        "extends": (TEXT, None),
        "base_year": (INT, between(*YEARS)), **_SRC,
        "max_metier_deviation": (NUM, between(0, 100)), "max_metier_deviation_reason": (TEXT, None),
    },
    "horizons": {
        "run": (INT, between(1, MAX_HORIZON)), "summary": (LIST, int_list(1, MAX_HORIZON)),
        "years": (LIST, int_list(*YEARS)), **_SRC,
    },
    "demand": {
        "spreading": (TEXT, one_of(demand.SPREADING_RULES)),
        "continuation": (TEXT, one_of(demand.CONTINUATION_RULES)),
        "half_life": (NUM, between(0.5, 200)), "adjust": (LIST, None),
        "trend": (TEXT, one_of(["published", "shares", "shares_damped", "combination", "loglinear", "damped",
                                "arima"])),
        "trend_years": (INT, between(8, 36)),
        "remove": (LIST, str_list()), **_SRC,
    },
    "young_entrants": {
        "spreading": (TEXT, one_of(supply.SPREADING_RULES)),
        "continuation": (TEXT, one_of(supply.CONTINUATION_RULES)),
        "adjust": (LIST, None), "remove": (LIST, str_list()), **_SRC,
    },
    "net_mobility": {
        "spreading": (TEXT, one_of(mobility.SPREADING_RULES)),
        "continuation": (TEXT, one_of(mobility.CONTINUATION_RULES)),
        "adjust": (LIST, None), "remove": (LIST, str_list()), **_SRC,
    },
    "exits": {
        "shift": (LIST, None), "cohort_shift": (LIST, None), "multiplier": (LIST, None),
        "schedule": (TEXT, one_of(["baseline", "estimated", "estimated_unpooled"])),
        "remove": (LIST, str_list()), **_SRC,
    },
    "age_profiles": {
        **{f.name: (NUM, between(0, 120)) for f in fields(AgeProfiles) if f.name != "extra"}, **_SRC,
    },
    "supply": {
        "lag": (INT, between(0, 10)), "leavers": (LIST, None), "matrix": (LIST, None),
        "remove": (LIST, str_list()), **_SRC,
    },
    "uncertainty": {
        "seed": (INT, between(0, 2**63 - 1)), "parameter": (LIST, None), "correlation": (LIST, None),
        "remove": (LIST, str_list()), **_SRC,
    },
}
_RULE_MAP = {
    ("demand", "spreading"): "demand_spreading", ("demand", "continuation"): "demand_continuation",
    ("demand", "half_life"): "demand_half_life",
    ("young_entrants", "spreading"): "young_spreading",
    ("young_entrants", "continuation"): "young_continuation",
    ("net_mobility", "spreading"): "mobility_spreading",
    ("net_mobility", "continuation"): "mobility_continuation",
}


def scenario_dir() -> Path:
    """The built-in scenario folder (``scenarios/`` of the source tree, or the packaged copy)."""
    here = Path(__file__).resolve().parent.parent          # the pmq package
    for cand in (here.parent / "scenarios", here / "data" / "scenarios"):
        if (cand / "reference.toml").exists():
            return cand
    raise ScenarioError(tr("built-in scenarios not found", "scénarios intégrés introuvables"), source=str(here))


def builtin_scenarios() -> dict[str, Path]:
    """Built-in scenario names and their files."""
    return {p.stem: p for p in sorted(scenario_dir().glob("*.toml"))}


# ----------------------------------------------------------------------- validation
def _need_source(body: dict, path: str, source: str, exempt=()) -> None:
    numeric = [k for k, v in body.items() if k not in exempt and has_number(v)]
    if numeric and not any(isinstance(body.get(k), str) and body[k].strip() for k in _SOURCE_KEYS):
        raise ScenarioError(tr("numbers need a source: add source = \"publication, URL\" or "
                               "assumption = \"…\" to this table",
                               "les nombres demandent une source : ajoutez à cette table source = "
                               "\"publication, URL\" ou assumption = \"…\""), source=source, key=path,
                            value={k: body[k] for k in numeric})


def _validate(doc: dict, source: str) -> None:
    for section, body in doc.items():
        if section not in _SCHEMA:
            sections = listing(_SCHEMA, quote=True)
            raise ScenarioError(tr(f"unknown section; expected one of {sections}",
                                   f"section inconnue ; sections possibles : {sections}"), source=source,
                                key=section)
        if not isinstance(body, dict):
            raise ScenarioError(tr("must be a table", "doit être une table"), source=source, key=section,
                                value=body)
        for key, value in body.items():
            path = f"{section}.{key}"
            if key not in _SCHEMA[section]:
                if _check_version(body, key, _SCHEMA[section], path, source):
                    continue
                raise ScenarioError(unknown_key(key, _SCHEMA[section]) + _version_hint(key, _SCHEMA[section]),
                                    source=source, key=path, value=value)
            check_value(value, _SCHEMA[section][key], path, source)
            if path in LEVER_SCHEMAS:
                _validate_levers(value, path, source)
        exempt = (*_LEVER_KEYS, "seed")
        if section != "scenario":
            _need_source(body, section, source, exempt=exempt)
        elif ("max_metier_deviation" in body) != bool(str(body.get("max_metier_deviation_reason", "")).strip()):
            raise ScenarioError(tr("max_metier_deviation and max_metier_deviation_reason go together: a scenario "
                                   "that moves a métier further from the reference says why",
                                   "max_metier_deviation et max_metier_deviation_reason vont ensemble : un scénario "
                                   "qui éloigne davantage un métier de la référence dit pourquoi"), source=source,
                                key="scenario.max_metier_deviation" if "max_metier_deviation" in body
                                else "scenario.max_metier_deviation_reason",
                                value=body.get("max_metier_deviation", body.get("max_metier_deviation_reason")))


def _check_version(body: dict, key: str, schema: dict, path: str, source: str) -> bool:
    """Whether ``key`` is the French or English version of a text of this table (``assumption_fr`` beside
    ``assumption``, :data:`TRANSLATED_KEYS`); it is then checked — a text, not blank, beside its plain key."""
    split = _text_base(key)
    if split is None or split[0] not in TRANSLATED_KEYS or split[0] not in schema:
        return False
    base, lang = split
    value = body[key]
    check_value(value, (TEXT, None), path, source)
    if not value.strip():
        raise ScenarioError(tr("is empty: give the text, or leave the key out",
                               "est vide : donnez le texte, ou retirez la clé"), source=source, key=path, value=value)
    if base not in body:
        raise ScenarioError(tr(f"is the {'French' if lang == 'fr' else 'English'} version of {base}: give {base} = "
                               f"\"…\" too (the text of record, in the file's own language; {base}_fr and {base}_en "
                               "are its versions for French and English readers)",
                               f"est la version {'française' if lang == 'fr' else 'anglaise'} de {base} : donnez "
                               f"aussi {base} = \"…\" (le texte qui fait foi, dans la langue du fichier ; {base}_fr "
                               f"et {base}_en en sont les versions pour les lecteurs francophones et anglophones)"),
                            source=source, key=path, value=value)
    return True


def _version_hint(key: str, schema: dict) -> str:
    """For ``assumption_de``: texts are given in French and English only."""
    base, sep, _ = key.rpartition("_")
    if sep and base in TRANSLATED_KEYS and base in schema:
        return tr(f" (texts come in French and English: {base}_fr, {base}_en)",
                  f" (les textes existent en français et en anglais : {base}_fr, {base}_en)")
    return ""


def _versions(key: str) -> tuple[str, ...]:
    """Every key that holds a version of the same text as ``key`` (``source``, ``source_fr``, ``source_en``;
    ``title_fr``, ``title_en``); () for a key that is no text."""
    split = _text_base(key)
    base = split[0] if split else key
    if base in TRANSLATED_KEYS or base == "title":
        return (base, *(f"{base}_{lang}" for lang in TEXT_LANGS))
    return ()


def _validate_levers(items: list, path: str, source: str) -> None:
    seen = set()
    for i, lever in enumerate(items):
        where = f"{path}[{i}]"
        if not isinstance(lever, dict):
            raise ScenarioError(tr(f"each entry must be a table ([[{path}]])",
                                   f"chaque entrée doit être une table ([[{path}]])"), source=source, key=where,
                                value=lever)
        lid = lever.get("id")
        if not isinstance(lid, str) or not lid:
            raise ScenarioError(tr("every lever needs an id (a short name, unique in the section)",
                                   "chaque levier demande un id (un nom court, unique dans la section)"),
                                source=source, key=where)
        where = f"{path}[{lid}]"
        if lid in seen:
            raise ScenarioError(tr("duplicate lever id", "id de levier en double"), source=source, key=where,
                                value=lid)
        seen.add(lid)
        schema = LEVER_SCHEMAS[path]
        versions = {k for k in lever if k not in schema and _check_version(lever, k, schema, f"{where}.{k}", source)}
        for k in lever:
            if k not in schema and k not in versions and _version_hint(k, schema):
                raise ScenarioError(tr("unknown key", "clé inconnue") + _version_hint(k, schema), source=source,
                                    key=f"{where}.{k}",
                                    value=lever[k])
        # its kind's schema and check (pmq.scenario.levers), without the language versions of its texts
        check_table(path, {k: v for k, v in lever.items() if k not in versions}, where, source)


def _check_codes(doc: dict, source: str, territories: dict | None) -> None:
    """Métier, domain, sector and territory codes named by levers must exist."""
    met = metiers()
    met_codes = set(met.loc[met["in_exercise"] == "yes", "code"])
    dom_codes = set(domains()["code"])
    sec_codes = list(sectors()["sector"])
    terr = territory_choices() if territories is None else territories
    for path in LEVER_SECTIONS:
        section, key = path.split(".")
        for lever in doc.get(section, {}).get(key, []):
            where = f"{path}[{lever['id']}]"
            for m in lever.get("metier", []) + list(lever.get("weights", {})):
                if m not in met_codes:
                    k = "metier" if "metier" in lever else "weights"
                    choices: dict[str, list[str]] = {c: [] for c in met_codes}
                    try:
                        code = resolve(m, choices, kind="métier")
                        hint = tr(f"; did you mean {code!r}?", f" ; vouliez-vous dire {code!r} ?")
                    except UnknownNameError:
                        near = ", ".join(closest(m, choices))
                        hint = tr(f"; closest matches: {near}", f" ; codes les plus proches : {near}") if near else ""
                    raise ScenarioError(tr("unknown métier code", "code métier inconnu") + hint, source=source,
                                        key=f"{where}.{k}", value=m)
            for d in lever.get("domain", []):
                if d not in dom_codes:
                    doms = listing(sorted(dom_codes))
                    raise ScenarioError(tr(f"unknown FAP domain; expected one of {doms}",
                                           f"domaine FAP inconnu ; domaines possibles : {doms}"),
                                        source=source, key=f"{where}.domain", value=d)
            if "sector" in lever and lever["sector"] not in sec_codes:
                raise ScenarioError(tr(f"unknown sector; expected one of {listing(sec_codes)}",
                                       f"secteur inconnu ; secteurs possibles : {listing(sec_codes)}"), source=source,
                                    key=f"{where}.sector", value=lever["sector"])
            for t in lever.get("territory", []):
                try:
                    resolve(t, terr, kind="territory")
                except UnknownNameError as exc:
                    raise ScenarioError(str(exc), source=source, key=f"{where}.territory",
                                        value=t) from None


# ------------------------------------------------------------------ resolution
def _merge(base: dict, over: dict, source: str) -> dict:
    out = json.loads(json.dumps(base))
    for section, body in over.items():
        tgt = out.setdefault(section, {})
        for key in body:        # a text the child gives replaces every version of the parent's
            for k in _versions(key):
                tgt.pop(k, None)
        for key, value in body.items():
            if section == "scenario" and key == "extends":
                continue
            path = f"{section}.{key}"
            if path in LEVER_SCHEMAS:
                merged = {lv["id"]: lv for lv in tgt.get(key, [])}
                for lv in value:
                    merged[lv["id"]] = lv  # replace by id, or append
                tgt[key] = list(merged.values())
            elif key == "remove":
                continue
            else:
                tgt[key] = value
        for lid in body.get("remove", []):
            found = False
            for key in _LEVER_KEYS:
                if key in tgt:
                    n = len(tgt[key])
                    tgt[key] = [lv for lv in tgt[key] if lv["id"] != lid]
                    found |= len(tgt[key]) < n
            if not found:
                raise ScenarioError(tr("remove: no inherited lever has this id",
                                       "remove : aucun levier hérité n'a cet id"), source=source,
                                    key=f"{section}.remove", value=lid)
    return out


def _read_text(path: Path) -> str:
    """The text of a scenario file, which must be UTF-8 (the TOML rule).  A UTF-8 byte-order
    mark (Windows Notepad's « UTF-8 with BOM ») is accepted and dropped; anything else that is
    not UTF-8 text is refused naming the line, the column and the byte, rather than guessed."""
    raw = path.read_bytes()
    source = str(path)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError(tr("is UTF-16 text (« Unicode » in Windows editors); a scenario file must be UTF-8 "
                               "(the TOML rule): save it again as UTF-8",
                               "est un texte UTF-16 (« Unicode » dans les éditeurs de Windows) ; un fichier de "
                               "scénario doit être en UTF-8 (la règle de TOML) : enregistrez-le de nouveau en UTF-8"),
                            source=source)
    if b"\x00" in raw:
        at = raw.index(b"\x00")
        raise ScenarioError(tr(f"contains NUL bytes (first at byte {at}): not a text file — a binary file, or "
                               "UTF-16 text; a scenario file is UTF-8 TOML text",
                               f"contient des octets NUL (le premier à l'octet {at}) : ce n'est pas un fichier "
                               "texte — un fichier binaire, ou un texte UTF-16 ; un fichier de scénario est un "
                               "texte TOML en UTF-8"), source=source)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start]
        try:
            char = bytes([byte]).decode('cp1252')
            as_cp1252 = tr(f", « {char} » in Windows-1252 (Latin-1)", f", « {char} » en Windows-1252 (Latin-1)")
        except UnicodeDecodeError:
            as_cp1252 = ""
        raise ScenarioError(tr(f"is not UTF-8 text: byte 0x{byte:02x}{as_cp1252} at line {line}, column {col} "
                               f"(byte {exc.start}); a scenario file must be UTF-8 (the TOML rule): save it again "
                               "as UTF-8 (in Notepad: Save as… › Encoding: UTF-8)",
                               f"n'est pas un texte UTF-8 : octet 0x{byte:02x}{as_cp1252} à la ligne {line}, colonne "
                               f"{col} (octet {exc.start}) ; un fichier de scénario doit être en UTF-8 (la règle de "
                               "TOML) : enregistrez-le de nouveau en UTF-8 (dans le Bloc-notes : Enregistrer sous… › "
                               "Codage : UTF-8)"), source=source) from None


#: Keys whose text is one line (names and titles shown in tables, listings and charts).
_ONE_LINE = frozenset({"name", "title_fr", "title_en", "id", "label", "label_fr", "label_en", "extends"})


def _check_text(value: Any, source: str, path: str = "") -> None:
    """Refuse control and invisible characters in every text of the file (keys, values, lists):
    as in user tables (:func:`pmq.inputs.tables.bad_label_characters`), they corrupt outputs, break the
    terminal or make two names that look the same differ.  Names and titles are one line."""
    if isinstance(value, dict):
        for k, v in value.items():
            where = f"{path}.{k}" if path else str(k)
            bad = bad_label_characters(k)
            if bad:
                raise ScenarioError(tr(f"control or invisible characters ({', '.join(bad)}) in a key: remove them",
                                       f"caractères de contrôle ou invisibles ({', '.join(bad)}) dans une clé : "
                                       "retirez-les"), source=source, key=where, value=k)
            _check_text(v, source, where)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_text(v, source, f"{path}[{i}]")
    elif isinstance(value, str):
        bad = bad_label_characters(value)
        if not bad and "\n" in value and path.rsplit(".", 1)[-1] in _ONE_LINE:
            bad = ["U+000A"]
        if bad:
            raise ScenarioError(tr(f"control or invisible characters ({', '.join(bad)}) in the text: they would "
                                   "corrupt the outputs or disguise a name; remove them",
                                   f"caractères de contrôle ou invisibles ({', '.join(bad)}) dans le texte : ils "
                                   "corrompraient les sorties ou déguiseraient un nom ; retirez-les"), source=source,
                                key=path, value=value)


#: A number written the French way in a TOML value: digits grouped by spaces (« 200 000 », also with a no-break
#: space) or a decimal comma right after ``=`` (« 0,5 »; ``[0,5]`` is a valid TOML list of 0 and 5).
_SPACED_NUMBER = re.compile(r"(?<![\d.])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)")
_DECIMAL_COMMA = re.compile(r"(?<==)\s*[-+]?\d+,\d+")


def _toml_number_hint(text: str, message: str) -> str:
    """A hint for a TOML error on a line that holds a number written the French way (« 2050 = 200 000 »,
    « rate = 0,5 »): the line, the key (``demand.adjust[total].anchors.2050``) and how to write it; "" otherwise."""
    at = re.search(r"at line (\d+)", message)
    lines = text.splitlines()
    if not at or not 1 <= int(at.group(1)) <= len(lines):
        return ""
    n = int(at.group(1))
    # the line with its strings (closed, or unclosed to the end of the line) and its comment blanked out, at the
    # same places: the numbers there are text
    line = lines[n - 1]
    masked = re.sub(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'', lambda m: m.group()[0] + " " * (len(m.group()) - 2)
                    + m.group()[-1], line)
    rest = re.search(r"[\"'#]", re.sub(r'"[^"]*"|\'[^\']*\'', lambda m: "_" * len(m.group()), masked))
    masked = masked[:rest.start()] if rest else masked
    bad = _SPACED_NUMBER.search(masked) or _DECIMAL_COMMA.search(masked)
    if bad is None:
        return ""
    # the key: the table above the line ([[demand.adjust]] with its id), the key of the line, the key just before
    # the number in an inline table ({ 2020 = 0, 2050 = 200 000 })
    header = re.compile(r"\s*\[(\[?)\s*([^\]]+?)\s*\]")
    ident = re.compile(r"""\s*id\s*=\s*["']([^"']*)["']""")
    table, lever = "", ""
    for i in range(n - 2, -1, -1):
        head = header.match(lines[i])
        if head:
            if head.group(1):        # an array of tables: the lever's id, above or below the line
                below = [ident.match(t) for t in itertools.takewhile(lambda t: not header.match(t), lines[i + 1:])]
                lever = next((m.group(1) for m in below if m), "")
            table = head.group(2) + (f"[{lever}]" if lever else "")
            break
    keys = [k.strip().strip("\"'") for k in re.findall(r"([\w\-\"'.]+)\s*=(?!=)", line[:bad.start()])]
    key = ".".join(k for k in [table, *keys[:1], *keys[1:][-1:]] if k)
    where = tr(f"line {n}", f"ligne {n}") + (tr(f", key '{key}'", f", clé '{key}'") if key else "")
    number = bad.group().strip()
    return tr(f"; {where}: « {number} » looks like a number written the French way — write 200000 or "
              "200_000 (no spaces in numbers), and 0.5 with a decimal point",
              f" ; {where} : « {number} » ressemble à un nombre écrit à la française — écrivez 200000 ou "
              "200_000 (pas d'espace dans les nombres), et 0.5 avec un point décimal")


#: tomllib's messages (Python 3.11–3.13, ``tomllib/_parser.py``) in French: a pattern of the English and its French,
#: in which ``{0}`` is what the pattern captured (a key, a character) — the names stay as the parser gives them.
_TOML_FR: tuple[tuple[str, str], ...] = (
    (r"Invalid statement", "instruction non valide (ni « clé = valeur », ni un en-tête [section])"),
    (r"Expected newline or end of document after a statement", "fin de ligne attendue après l'instruction"),
    (r"Cannot overwrite a value", "clé définie deux fois"),
    (r"Cannot declare (.+) twice", "section {0} déclarée deux fois"),
    (r"Cannot mutate immutable namespace (.+)", "{0} est déjà défini entièrement : impossible d'y ajouter une clé"),
    (r"Cannot redefine namespace (.+)", "impossible de redéfinir {0}"),
    (r"Expected '\]' at the end of a table declaration",
     "crochet fermant ']' manquant à la fin de l'en-tête de section"),
    (r"Expected '\]\]' at the end of an array declaration",
     "crochets fermants ']]' manquants à la fin de l'en-tête de tableau"),
    (r"Expected '=' after a key in a key/value pair", "signe '=' manquant après une clé"),
    (r"Invalid initial character for a key part", "caractère non valide au début d'une clé"),
    (r"Unclosed array", "crochet fermant ']' manquant : liste non fermée"),
    (r"Duplicate inline table key (.+)", "clé {0} définie deux fois dans le tableau entre accolades"),
    (r"Unclosed inline table", "accolade fermante '}}' manquante"),
    (r"Unescaped '\\' in a string",
     "barre oblique inverse '\\' seule dans une chaîne : écrivez '\\\\' ou mettez le texte entre apostrophes"),
    (r"Invalid hex value", "valeur hexadécimale non valide"),
    (r"Escaped character is not a Unicode scalar value", "caractère échappé hors d'Unicode"),
    (r"Unterminated string", "guillemet fermant manquant"),
    (r"Illegal character '\\n'", "guillemet fermant manquant (une chaîne entre guillemets tient sur une ligne)"),
    (r"Illegal character (.+)", "caractère interdit {0} dans une chaîne"),
    (r"Found invalid character (.+)", "caractère non valide {0}"),
    (r"Expected (.+)", "{0} attendu"),
    (r"Invalid date or datetime", "date non valide"),
    (r"Invalid value", "valeur non valide"),
)


def _toml_fr(words: str) -> str | None:
    """tomllib's ``words`` in French, or None for a message it did not know."""
    for pattern, fr in _TOML_FR:
        m = re.fullmatch(pattern, words)
        if m:
            return fr.format(*(_toml_key(g) for g in m.groups()))
    return None


def _toml_key(shown: str) -> str:
    """A key as tomllib shows it, a Python tuple (``('scenario', 'name')``), as a reader writes it:
    ``'scenario.name'``; anything else as it is."""
    try:
        key = ast.literal_eval(shown) if shown.startswith("(") else None
    except (ValueError, SyntaxError):
        key = None
    if isinstance(key, tuple) and key and all(isinstance(k, str) for k in key):
        return "'" + ".".join(key) + "'"
    return shown


def _looks_like_csv(text: str) -> bool:
    """Whether a file read as a scenario is a table (a CSV file given by mistake): its first line holds several
    commas or semicolons and neither ``=`` nor ``[``."""
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    return "=" not in first and "[" not in first and max(first.count(","), first.count(";")) >= 2


def _toml_error(exc: tomllib.TOMLDecodeError, text: str = "") -> str:
    """tomllib's message (English, Python's own) as the reader's language shows it: as it is in English; in
    French, its place and its words in French (« clé définie deux fois »), words it does not know quoted."""
    message = str(exc)
    at = re.search(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$", message)
    words = message[:at.start()] if at else message
    if _looks_like_csv(text):
        return tr(f"not valid TOML: {message} — this file is not a TOML scenario (it looks like a CSV table)",
                  "ce fichier n'est pas un scénario TOML (il ressemble à un tableau CSV) : TOML non valide"
                  + (f" (ligne {at.group(1)}, colonne {at.group(2)})" if at and at.group(1) else ""))
    fr = _toml_fr(words)
    fr = fr if fr is not None else quoted(words)
    if at is None:
        return tr(f"not valid TOML: {message}", f"TOML non valide : {fr}")
    place = f"ligne {at.group(1)}, colonne {at.group(2)}" if at.group(1) else "fin du fichier"
    return tr(f"not valid TOML: {message}", f"TOML non valide ({place}) : {fr}")


def _load(path: Path, seen: tuple[str, ...], territories) -> dict:
    source = str(path)
    key = str(path.resolve())
    if key in seen:
        chain = " → ".join(Path(s).name for s in (*seen, key))
        raise ScenarioError(tr(f"extends cycle: {chain}", f"cycle dans extends : {chain}"), source=source,
                            key="scenario.extends",
                            value=Path(key).name)
    try:
        text = _read_text(path)
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(_toml_error(exc, text) + _toml_number_hint(text, str(exc)), source=source) from exc
    except OSError as exc:
        raise ScenarioError(tr(f"cannot read the file: {exc.strerror or exc}",
                               f"impossible de lire le fichier : {quoted(str(exc.strerror or exc))}"),
                            source=source) from None
    _check_text(doc, source)
    _validate(doc, source)
    _check_codes(doc, source, territories)
    parent = doc.get("scenario", {}).get("extends")
    if parent:
        try:
            ppath = _locate(parent, relative_to=path.parent)
        except ScenarioError as exc:
            raise ScenarioError(exc.problem, source=source, key="scenario.extends",
                                value=parent) from None
        return _merge(_load(ppath, (*seen, key), territories), doc, source)
    for section in doc.values():
        section.pop("remove", None)
    return doc


def _locate(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    p = Path(name_or_path)
    if not p.is_absolute() and relative_to is not None and (relative_to / p).exists():
        p = relative_to / p                      # a path in `extends` is relative to its file
    if p.suffix == ".toml" or p.exists():
        if not p.exists():
            raise ScenarioError(tr("scenario file not found", "fichier de scénario introuvable"), source=str(p))
        return p
    builtins = builtin_scenarios()
    if str(name_or_path) in builtins:
        return builtins[str(name_or_path)]
    if str(name_or_path) in RENAMED and RENAMED[str(name_or_path)] in builtins:
        import warnings
        new = RENAMED[str(name_or_path)]
        warnings.warn(tr(f"the built-in scenario {name_or_path!r} is now {new!r} (its levers were rebuilt from "
                         f"their sources: docs/scenarios/{new}.md); reading {new!r}",
                         f"le scénario intégré {name_or_path!r} s'appelle désormais {new!r} (ses leviers ont été "
                         f"reconstruits à partir de leurs sources : docs/scenarios/{new}.md) ; lecture de {new!r}"),
                      PmqWarning, stacklevel=3)
        return builtins[new]
    try:
        return builtins[resolve(str(name_or_path), {k: [] for k in builtins}, kind="scenario")]
    except UnknownNameError:
        # what is wrong first, the closest names (best first) last: « closest: reference, reference_incertain »
        near = ", ".join(closest(str(name_or_path), {k: [] for k in builtins}))
        raise ScenarioError(tr(f"not a file and not a built-in scenario{f'; closest: {near}' if near else ''} "
                               "(pmq scenarios lists them)",
                               f"ni un fichier ni un scénario intégré{f' ; les plus proches : {near}' if near else ''} "
                               "(pmq scenarios en donne la liste)"), source=str(name_or_path)) from None


def read_scenario(name_or_path: str | Path = "reference", *, territories: dict | None = None) -> Scenario:
    """Read, validate and resolve a scenario file or built-in name.

    Parameters
    ----------
    name_or_path : str or Path
        A built-in name (``pmq scenarios`` lists them) or a ``.toml`` file.
    territories : mapping, optional
        Territory codes (and aliases) that levers may name; default: the 13 regions.
    """
    path = _locate(name_or_path)
    doc = _load(path, (), territories)
    sc = doc.get("scenario", {})
    hz = doc.get("horizons", {})
    rules = {}
    for (section, key), attr in _RULE_MAP.items():
        if key in doc.get(section, {}):
            rules[attr] = doc[section][key]
    prof = {k: v for k, v in doc.get("age_profiles", {}).items() if k not in _SOURCE_KEYS}
    try:
        profiles = AgeProfiles(**prof)
        _ = profiles.young(), profiles.recruits(), profiles.mobility()
        if profiles.removal_floor_age <= profiles.removal_flat_until:
            raise ValueError(tr("removal_floor_age must be above removal_flat_until",
                                "removal_floor_age doit être supérieur à removal_flat_until"))
    except Exception as exc:  # e.g. an empty age window
        raise ScenarioError(tr(f"invalid age profile: {exc}", f"profil d'âges non valide : {exc}"), source=str(path),
                            key="age_profiles") from exc
    levers = {}
    for lp in LEVER_SECTIONS:
        section, key = lp.split(".")
        levers[lp] = tuple(doc.get(section, {}).get(key, ()))
    return Scenario(
        name=sc.get("name", path.stem), title_fr=text_in(sc, "title", "fr") or path.stem,
        title_en=text_in(sc, "title", "en") or path.stem, description=text_in(sc, "description", "en"),
        description_fr=sc.get("description_fr", ""), description_en=sc.get("description_en", ""),
        base_year=sc.get("base_year"),
        horizon=hz.get("run", 20), summary_horizons=tuple(hz.get("summary", (5, 10, 20))),
        summary_years=tuple(hz.get("years", (2030,))), rules=Rules(**rules), profiles=profiles,
        levers=levers, source=str(path), resolved=doc,
        supply_lag=doc.get("supply", {}).get("lag", 3),
        max_metier_deviation=float(sc.get("max_metier_deviation", MAX_METIER_DEVIATION)),
        max_metier_deviation_reason=sc.get("max_metier_deviation_reason", ""),
    )


# ------------------------------------------------------------------ levers outside the run
def _span(a, b) -> str:
    return str(a) if a == b else f"{a}–{b}"


def inactive_levers(scenario: Scenario, base_year: int, horizon: int | None = None) -> list[tuple[str, str]]:
    """The levers of ``scenario`` whose years all fall outside a run from ``base_year`` over
    ``horizon`` years (default: the scenario's): they change nothing.  Returns ``(lever, its
    years)`` pairs, e.g. ``("demand.adjust[green]", "period 2040–2050")``.

    The run's flow years are ``base_year`` … ``base_year + horizon − 1``; its employment path
    reaches ``base_year + horizon``.  A growth period or a deviation acts on the path from its
    first year; a window ``from_year`` … ``to_year`` acts on the flows of its years; leaver
    volumes (``[[supply.leavers]]``) act ``supply.lag`` years later.  Target levers beyond the
    horizon are errors of :func:`pmq.scenario.levers.apply_demand`, not listed here."""
    base = int(base_year)
    H = int(scenario.horizon if horizon is None else horizon)
    last_flow, last_path = base + H - 1, base + H
    out = []

    def window(lever, lag=0):
        lo, hi = lever.get("from_year"), lever.get("to_year")
        if lo is None and hi is None:
            return None
        a = -math.inf if lo is None else lo + lag
        b = math.inf if hi is None else hi + lag
        if b < base or a > last_flow:
            names = ", ".join(f"{k} {v}" for k, v in (("from_year", lo), ("to_year", hi)) if v is not None)
            return names + (tr(f": leaving years, entrants {lag} years later",
                               f" : années de sortie de formation, jeunes débutants {lag} ans plus tard")
                            if lag else "")
        return None

    for section in LEVER_SECTIONS:
        for lever in scenario.lever_list(section):
            where = f"{section}[{lever.get('id')}]"
            years = None
            if section == "demand.adjust":
                kind = lever.get("kind")
                if kind == "growth" and lever["period"][0] >= last_path:
                    years = f"period {_span(*lever['period'])}"
                elif kind == "deviation" and lever.get("anchors"):
                    anchors = sorted(int(k) for k in lever["anchors"])
                    if anchors[0] > last_path:
                        years = f"anchors {', '.join(map(str, anchors))}"
            elif section == "exits.shift":
                y0 = lever["from_year"]
                y1 = lever.get("full_year", y0)
                if y0 + (1 if y1 > y0 else 0) > last_flow:
                    years = f"from_year {y0}" + (f", full_year {y1}" if y1 != y0 else "")
            elif section == "supply.leavers":
                years = window(lever, lag=int(scenario.supply_lag))
            elif section.startswith("uncertainty."):
                continue
            else:
                years = window(lever)
            if years:
                out.append((where, years))
    return out


def warn_inactive_levers(scenario: Scenario, base_year: int, horizon: int | None = None) -> list[tuple[str, str]]:
    """Warn (:class:`~pmq.errors.InactiveLeverWarning`) about every lever of
    :func:`inactive_levers`, naming the lever, its years and the run's years; returns them."""
    import warnings
    found = inactive_levers(scenario, base_year, horizon)
    if found:
        H = int(scenario.horizon if horizon is None else horizon)
        base = int(base_year)
        shown = tr("; ", " ; ").join(f"{w} ({y})" for w, y in found)
        n = len(found)
        warnings.warn(tr(f"{scenario.source}: {n} lever(s) with every year outside the run, so without "
                         f"effect: {shown} — the run covers {base}–{base + H} (flows {_span(base, base + H - 1)}); "
                         "run longer (--horizon, horizons.run) or correct their years",
                         f"{scenario.source} : {n} levier{'s' if n > 1 else ''} dont toutes les années sont hors de "
                         f"la projection, donc sans effet : {shown} — la projection couvre {base}–{base + H} (flux "
                         f"{_span(base, base + H - 1)}) ; allongez-la (--horizon, horizons.run) ou corrigez leurs "
                         "années"), InactiveLeverWarning, stacklevel=2)
    return found
