"""Scenario levers: one frozen dataclass per lever kind — its schema, its check and its apply.

A lever is a table of a scenario file (``[[demand.adjust]]``, ``[[exits.shift]]``…).  Each kind
of lever is one class below, holding in one place

* its schema, ``SCHEMA``: the keys its table accepts, with their types and ranges (the section's
  schema, :data:`LEVER_SCHEMAS`, is the kind's, or for ``[[demand.adjust]]`` the union of its three
  kinds');
* its check, ``check(table, where, source)``: the rules a table must follow beyond its schema
  (keys needed or refused, consistent years), raising :class:`~pmq.errors.ScenarioError` with the
  key path (``demand.adjust[manufacturing].period``);
* its fields, built from a checked table by ``from_table(table, section)``;
* its apply, on whole arrays (nothing loops over cells).

:data:`LEVER_KINDS` registers the class of each section.  :mod:`pmq.scenario.read` checks every lever
table of every file with :func:`check_table` and, after ``extends`` is resolved, builds the typed
levers (:meth:`Scenario.typed_levers <pmq.scenario.read.Scenario.typed_levers>`; ``lever_list`` keeps
the tables).  The functions :func:`apply_demand`, :func:`flow_factors`, :func:`hazard_path` and
:func:`last_year` take typed levers or their tables.  Levers are applied in file order (after
``extends`` is resolved).  The supply levers act in :func:`pmq.inputs.training.supply_factors` and
the uncertainty ones in :mod:`pmq.projection.ensemble`; their classes here hold their schema and
check.

Demand (``[[demand.adjust]]``, arrays ``(year, territory, métier)`` of employment at the
start of each year)

``kind = "growth"`` (:class:`Growth`)
    selected cells grow at ``rate`` a year over ``period = [y0, y1]``:
    ``E'(t) = E(y0)·(1 + rate)^(t − y0)``; after ``y1``: ``after = "reference"`` (default,
    the trend's growth resumes from the new level), ``"continue"`` or ``"constant_level"``.
``kind = "target"`` (:class:`Target`)
    the selected cells together reach ``value`` persons in ``year``, each keeping its share
    of the trend; the ratio to the trend is phased in log-linearly from ``from_year``;
    after ``year``: ``"reference"`` (keep the ratio), ``"continue"``, ``"constant_level"``.
``kind = "deviation"`` (:class:`Deviation`)
    a deviation from the trend, in persons summed over the selected cells (``unit =
    "persons"``, default) or in percent of each selected cell (``"percent"``), given at
    ``anchors = {year = value}``; linear between anchors, 0 before the first anchor, after
    the last ``after = "hold"`` (default) or ``"proportional"`` to the trend (in percent the
    last percentage is held either way: a percentage of the trend is already proportional to
    it).  A deviation
    in persons is split over métiers by the sector key or ``weights`` when given (each
    row sums to 1, so the split keeps the source's total), else in proportion to the
    trend employment of the selected cells; within a métier, over the selected
    territories in proportion to their trend employment in that year.

For growth and target levers, ``sector`` and ``weights`` select the métiers with a
positive weight.  Inflows (``[[young_entrants.adjust]]``, ``[[net_mobility.adjust]]``,
:class:`InflowFactor`, :class:`MobilityFactor`):
the selected flows are multiplied by ``factor`` for flow years ``from_year`` … ``to_year``.

Exits (``[exits]``, hazards ``(year, territory, métier, age)``)

``[[exits.shift]]`` (:class:`ExitShift`)
    in the age window ``min_age`` … ``max_age`` (default 55 … 73), a share ``share``
    (default 1) of the hazard follows the schedule moved by ``years``:
    ``h'(a) = (1 − share)·h(a) + share·h(a − s(t))`` with ``s(t)`` phased in linearly from
    0 in ``from_year`` to ``years`` in ``full_year``.
``[[exits.cohort_shift]]`` (:class:`CohortShift`)
    the same, with the shift set by birth cohort ``c = year − age``: ``s = shift[i]`` for
    ``cohorts[i] ≤ c < cohorts[i+1]``, the last value for later cohorts, 0 before, and 0 in
    flow years outside ``from_year`` … ``to_year`` (the law's years in force).
``[[exits.multiplier]]`` (:class:`ExitMultiplier`)
    the hazard is multiplied by ``factor`` in the age window and years; a hazard above 1
    is an error.  Shifts are applied before multipliers; the top age keeps hazard 1.
"""
from __future__ import annotations

import datetime as _dt
import math
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Protocol, Self, cast

import numpy as np
import pandas as pd

from pmq.data import territory_choices
from pmq.data.territories import territories
from pmq.errors import ScenarioError, UnknownNameError
from pmq.names import listing, resolve, unknown_key
from pmq.options import tr
from pmq.scenario.sectors import sector_key

__all__ = ["Context", "apply_demand", "flow_factors", "hazard_path", "last_year", "shift_schedule",
           "Lever", "DemandLever", "Growth", "Target", "Deviation", "InflowFactor", "MobilityFactor", "ExitLever",
           "ExitShift", "CohortShift", "ExitMultiplier", "SupplyLeavers", "SupplyMatrix", "UncertainParameter",
           "ParameterCorrelation", "LEVER_KINDS", "LEVER_SCHEMAS", "DEMAND_KINDS", "PROVENANCE_KEYS", "Provenance",
           "Selection", "check_table", "lever_from_table"]


# ------------------------------------------------------------------ the schema's vocabulary
#: A value's rule: a test and what it expects, in English and French words (``"between 0 and 10"``,
#: ``"entre 0 et 10"``).
Rule = tuple[Callable[[Any], bool], str, str]
#: A key's schema: the types it accepts and its rule (None: any value of those types).
Spec = tuple[tuple[type, ...], Rule | None]

TEXT: tuple[type, ...] = (str,)
NUM: tuple[type, ...] = (int, float)
INT: tuple[type, ...] = (int,)
LIST: tuple[type, ...] = (list,)
DICT: tuple[type, ...] = (dict,)
#: Calendar years a scenario may name.
YEARS = (1900, 2200)


def one_of(values: Iterable[Any]) -> Rule:
    values = tuple(values)
    shown = listing(values, quote=True)
    return lambda v: v in values, f"one of {shown}", f"l'une des valeurs : {shown}"


def between(lo: float, hi: float) -> Rule:
    return lambda v: lo <= v <= hi, f"between {lo} and {hi}", f"entre {lo} et {hi}"


def is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def int_list(lo: int, hi: int) -> Rule:
    return (lambda v: len(v) > 0 and all(is_int(x) and lo <= x <= hi for x in v),
            f"a non-empty list of whole numbers between {lo} and {hi}",
            f"une liste non vide de nombres entiers entre {lo} et {hi}")


def str_list() -> Rule:
    return (lambda v: len(v) > 0 and all(isinstance(x, str) and x for x in v),
            "a non-empty list of codes (strings)", "une liste non vide de codes (chaînes de caractères)")


def num_list(lo: float, hi: float) -> Rule:
    return (lambda v: len(v) > 0 and all(is_num(x) and lo <= x <= hi for x in v),
            f"a non-empty list of numbers between {lo} and {hi}", f"une liste non vide de nombres entre {lo} et {hi}")


def has_number(value: Any) -> bool:
    """Whether a value is or holds a number (booleans are not numbers)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, list):
        return any(has_number(v) for v in value)
    if isinstance(value, dict):
        return any(has_number(v) for v in value.values())
    return False


def check_value(value: Any, spec: Spec, path: str, source: str) -> None:
    """Refuse a value of the wrong type, not finite or against its rule, naming its key path."""
    types, rule = spec
    if isinstance(value, bool) or not isinstance(value, types):
        raise ScenarioError(tr(f"wrong type: {_expected(types, 'en')} is expected, got {_kind_of(value, 'en')}",
                               f"mauvais type : {_expected(types, 'fr')} est attendu, reçu {_kind_of(value, 'fr')}"),
                            source=source, key=path, value=value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError(tr("must be a finite number", "doit être un nombre fini"), source=source, key=path,
                            value=value)
    if rule is not None and not rule[0](value):
        raise ScenarioError(tr(f"invalid value; expected {rule[1]}", f"valeur non valide ; attendu : {rule[2]}"),
                            source=source, key=path, value=value)


#: What a key expects, by the types its schema accepts, in words (en, fr): no Python type names in a message.
_EXPECTED: dict[tuple[type, ...], tuple[str, str]] = {
    (int, float): ("a number (0.67, without quotes)", "un nombre (0.67, sans guillemets)"),
    (int,): ("a whole number (2030, without quotes)", "un nombre entier (2030, sans guillemets)"),
    (str,): ('a text in quotes ("…")', 'un texte entre guillemets ("…")'),
    (list,): ("a list in brackets ([…])", "une liste entre crochets ([…])"),
    (dict,): ("a table ({ … })", "un tableau entre accolades ({ … })"),
}


def _expected(types: tuple[type, ...], lang: str) -> str:
    words = _EXPECTED.get(tuple(types))
    if words is None:
        return (" or " if lang == "en" else " ou ").join(_kind_of(t(), lang) for t in types)
    return words[0 if lang == "en" else 1]


def _kind_of(value: Any, lang: str) -> str:
    """What a TOML value is, in words: « un texte », « un nombre entier », « une liste »…"""
    kinds = ((bool, "true or false", "un booléen (true ou false)"), (int, "a whole number", "un nombre entier"),
             (float, "a decimal number", "un nombre décimal"), (str, "a text", "un texte"),
             (list, "a list", "une liste"), (dict, "a table", "un tableau"),
             ((_dt.date, _dt.time), "a date", "une date"))
    for types, en, fr in kinds:
        if isinstance(value, types):
            return en if lang == "en" else fr
    return type(value).__name__


def year_table(table: Mapping[str, Any], where: str, source: str) -> dict[int, float]:
    """``{"2030": value, …}`` as ``{2030: value, …}`` in year order; keys must be calendar years."""
    out = {}
    for k, v in table.items():
        try:
            year = int(k)
        except ValueError:
            year = None
        if year is None or str(year) != k.strip() or not YEARS[0] <= year <= YEARS[1]:
            raise ScenarioError(tr("anchor keys must be calendar years",
                                   "les clés de anchors doivent être des années civiles"), source=source,
                                key=f"{where}.{k}", value=k)
        if not is_num(v):
            raise ScenarioError(tr("anchor values must be finite numbers",
                                   "les valeurs de anchors doivent être des nombres finis"), source=source,
                                key=f"{where}.{k}", value=v)
        out[year] = float(v)
    if not out:
        raise ScenarioError(tr("needs at least one anchor year", "il faut au moins une année dans anchors"),
                            source=source, key=where)
    return dict(sorted(out.items()))


_WINDOW: dict[str, Spec] = {"from_year": (INT, between(*YEARS)), "to_year": (INT, between(*YEARS))}
_AGES: dict[str, Spec] = {"min_age": (INT, between(15, 74)), "max_age": (INT, between(15, 74))}
#: Keys every lever table accepts: its name and whose its numbers are.
LEVER_KEYS: dict[str, Spec] = {"id": (TEXT, None), "label": (TEXT, None), "source": (TEXT, None),
                               "assumption": (TEXT, None), "method": (TEXT, None), "basis": (TEXT, None)}
#: Keys that select the cells a lever acts on (and whose a split over métiers is).
SELECT_KEYS: dict[str, Spec] = {
    "metier": (LIST, str_list()), "domain": (LIST, str_list()), "sector": (TEXT, None),
    "weights": (DICT, None), "weights_source": (TEXT, None), "weights_assumption": (TEXT, None),
    "territory": (LIST, str_list()),
}
#: Keys of a lever that document it (provenance), not parameters.
PROVENANCE_KEYS = ("source", "assumption", "method", "basis", "weights_source", "weights_assumption")
_SELECTION = ("territory", "metier", "domain", "sector", "weights")


def _frozen(value: Any) -> Any:
    """A TOML value made immutable: lists as tuples, tables as tuples of (key, value) pairs."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    return value


def _need(table: Mapping[str, Any], keys: Iterable[str], where: str, source: str) -> None:
    for k in keys:
        if k not in table:
            raise ScenarioError(tr(f"missing key '{k}'", f"clé '{k}' manquante"), source=source, key=f"{where}.{k}")


def _forbid(table: Mapping[str, Any], keys: Iterable[str], where: str, source: str) -> None:
    for k in keys:
        if k in table:
            raise ScenarioError(tr(f"not allowed here (kind {table.get('kind')!r})",
                                   f"non autorisée ici (kind {table.get('kind')!r})"), source=source,
                                key=f"{where}.{k}", value=table[k])


# ------------------------------------------------------------------ provenance and selection
@dataclass(frozen=True)
class Provenance:
    """Whose numbers a lever (or a section) carries and how pmq applies them: the
    :data:`PROVENANCE_KEYS` of its table, ``""`` when absent.  ``Provenance.of(lever)``."""

    source: str = ""
    assumption: str = ""
    method: str = ""
    basis: str = ""
    weights_source: str = ""
    weights_assumption: str = ""

    @classmethod
    def of(cls, lever: Mapping[str, Any] | Lever) -> Provenance:
        """The provenance of a lever table (or of a typed lever)."""
        if isinstance(lever, Lever):
            return lever.provenance
        return cls(**{k: lever.get(k) or "" for k in PROVENANCE_KEYS})

    @property
    def status(self) -> str:
        """``"assumed"``, ``"split_assumed"`` or ``"sourced"`` (see :func:`pmq.scenario.read.lever_status`)."""
        if self.assumption and not self.source:
            return "assumed"
        if self.weights_assumption:
            return "split_assumed"
        return "sourced"

    @property
    def said(self) -> str:
        """What its source says or, for an assumption, the assumption."""
        return self.source or self.assumption

    @property
    def split(self) -> str:
        """Whose split over métiers it uses (``weights_source`` or ``weights_assumption``), or ``""``."""
        return self.weights_source or self.weights_assumption


@dataclass(frozen=True, kw_only=True)
class Selection:
    """The cells a lever acts on: territories (codes or names) × métiers, chosen by code
    (``metier``), FAP domain (``domain``), a sector key (``sector``) or explicit ``weights``;
    None: not restricted.  :class:`Context` turns it into masks."""

    territory: tuple[str, ...] | None = None
    metier: tuple[str, ...] | None = None
    domain: tuple[str, ...] | None = None
    sector: str | None = None
    weights: tuple[tuple[str, float], ...] | None = None

    @classmethod
    def of(cls, table: Mapping[str, Any]) -> Selection:
        """The selection of a lever table (a table of another room, e.g. a supply lever)."""
        return cls(**{k: _frozen(table[k]) for k in _SELECTION if k in table})

    def where(self, key: str) -> str:
        """The key path of ``key`` in error messages."""
        return key


def _selection(lever: Selection | Mapping[str, Any]) -> Selection:
    return lever if isinstance(lever, Selection) else Selection.of(lever)


@dataclass(frozen=True)
class Context:
    """Dimensions of the arrays levers act on, taken from a baseline."""

    base_year: int
    territories: tuple[str, ...]
    metiers: tuple[str, ...]
    domains: tuple[str, ...]  # domain of each métier
    ages: np.ndarray
    territory_aliases: dict
    source: str = "scenario"
    #: Parent territories of a downscaled baseline (``"region:11"``, ``"departement:13"``) → the indices of their
    #: children: a lever that names a région selects its départements (see :mod:`pmq.inputs.downscale`).
    territory_groups: dict = field(default_factory=dict)

    @classmethod
    def from_baseline(cls, baseline, source: str = "scenario") -> Context:
        terr = tuple(str(t) for t in baseline.territory.values)
        names = (baseline["territory_name"].values if "territory_name" in baseline.coords
                 else terr)
        aliases = {t: [str(n)] for t, n in zip(terr, names)}
        if "territory_source_name" in baseline.coords:
            for t, n in zip(terr, baseline["territory_source_name"].values):
                aliases[t].append(str(n))
        builtin = territory_choices()
        for t in terr:     # a built-in région (same code and name) also answers to its short names (PACA, AURA)
            if builtin.get(t, [None])[0] == aliases[t][0]:
                aliases[t] += [a for a in builtin[t] if a not in aliases[t]]
        groups: dict[str, tuple[int, ...]] = {}
        for level in ("region", "departement"):
            if level not in baseline.coords or "territory" not in baseline[level].dims:
                continue
            parent = [str(p) for p in baseline[level].values]
            known = territories(level).set_index("code")
            for code in dict.fromkeys(parent):
                members = tuple(i for i, p in enumerate(parent) if p == code)
                name = str(known["name"].get(code, code))
                alias = [name] + ([f"{name} ({level})"] if level == "departement" else [])
                if level == "region" and code in territory_choices():
                    alias += [a for a in territory_choices()[code] if a not in alias]
                aliases[f"{level}:{code}"] = alias
                groups[f"{level}:{code}"] = members
        met = tuple(str(m) for m in baseline.metier.values)
        dom = (tuple(str(d) for d in baseline["domain"].values) if "domain" in baseline.coords
               else tuple(m[0] for m in met))
        return cls(int(baseline.attrs["base_year"]), terr, met, dom, np.asarray(baseline.age.values),
                   aliases, source, groups)

    # -- selection (a typed lever, or a lever table) -----------------------------
    def territory_mask(self, lever: Selection | Mapping[str, Any]) -> np.ndarray:
        sel = _selection(lever)
        if sel.territory is None:
            return np.ones(len(self.territories), bool)
        mask = np.zeros(len(self.territories), bool)
        for t in sel.territory:
            try:
                code = resolve(t, self.territory_aliases, kind="territory")
            except UnknownNameError as exc:
                raise ScenarioError(str(exc), source=self.source, key=sel.where("territory"),
                                    value=t) from None
            if code in self.territory_groups:
                mask[list(self.territory_groups[code])] = True
            else:
                mask[self.territories.index(code)] = True
        return mask

    def metier_weights(self, lever: Selection | Mapping[str, Any]) -> np.ndarray | None:
        """Explicit métier weights (sector key or ``weights``), or None."""
        sel = _selection(lever)
        if sel.sector is not None:
            w = sector_key(sel.sector)
            key = "sector"
        elif sel.weights is not None:
            w = pd.Series(dict(sel.weights), dtype=float)
            key = "weights"
        else:
            return None
        missing = [m for m in w.index if m not in self.metiers and w[m] > 0]
        if missing:
            raise ScenarioError(tr(f"the baseline has no métier {listing(missing)}; the weights would not sum to 1",
                                   f"la base n'a pas {'le métier' if len(missing) == 1 else 'les métiers'} "
                                   f"{listing(missing)} ; la somme des poids ne vaudrait pas 1"),
                                source=self.source, key=sel.where(key))
        return w.reindex(list(self.metiers)).fillna(0.0).to_numpy()

    def metier_mask(self, lever: Selection | Mapping[str, Any]) -> np.ndarray:
        sel = _selection(lever)
        if sel.metier is not None:
            missing = [m for m in sel.metier if m not in self.metiers]
            if missing:
                raise ScenarioError(tr("the baseline has no such métier", "métier absent de la base"),
                                    source=self.source,
                                    key=sel.where("metier"), value=missing)
            return np.isin(np.array(self.metiers), list(sel.metier))
        if sel.domain is not None:
            return np.isin(np.array(self.domains), list(sel.domain))
        w = self.metier_weights(sel)
        if w is not None:
            return w > 0
        return np.ones(len(self.metiers), bool)

    def cell_mask(self, lever: Selection | Mapping[str, Any]) -> np.ndarray:
        """Boolean (territory, métier) selection."""
        sel = _selection(lever)
        return self.territory_mask(sel)[:, None] & self.metier_mask(sel)[None, :]

    def year_index(self, year: int) -> int:
        return int(year) - self.base_year


# ------------------------------------------------------------------ the base of every kind
@dataclass(frozen=True, kw_only=True)
class Lever(Selection):
    """A lever of a scenario, typed: its ``id`` (unique in its section), ``label``, the
    :class:`Selection` of cells it acts on, its :class:`Provenance` and its ``section`` (for the
    key paths of error messages: ``demand.adjust[manufacturing].period``).

    A kind (a subclass) declares ``SCHEMA`` (the keys its table accepts: type and rule),
    ``REQUIRED`` (the keys it needs), ``check_own`` (its rules beyond the schema) and its
    fields; build one from a checked table with :meth:`from_table`.
    """

    SCHEMA: ClassVar[dict[str, Spec]] = {**LEVER_KEYS, **SELECT_KEYS}
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    id: str
    section: str
    label: str = ""
    provenance: Provenance = Provenance()

    @property
    def name(self) -> str:
        """``section[id]``, as error messages and listings name the lever."""
        return f"{self.section}[{self.id}]"

    def where(self, key: str) -> str:
        return f"{self.name}.{key}"

    @property
    def status(self) -> str:
        """Whose its numbers are: ``"assumed"``, ``"split_assumed"`` or ``"sourced"``."""
        return self.provenance.status

    # -- from a table ------------------------------------------------------------
    @classmethod
    def kind_of(cls, table: Mapping[str, Any]) -> type[Lever]:
        """The class of a table of this section (one per section, except demand's three kinds)."""
        return cls

    @classmethod
    def from_table(cls, table: Mapping[str, Any], section: str) -> Self:
        """The lever of a checked table (:meth:`check`): its keys become the fields, lists tuples."""
        names = {f.name for f in fields(cls)} - {"section", "provenance"}
        return cls(section=section, provenance=Provenance.of(table),
                   **{k: _frozen(v) for k, v in table.items() if k in names})

    # -- its check ---------------------------------------------------------------
    @classmethod
    def check(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        """Refuse a table (whose keys and types :data:`SCHEMA` accepts) that breaks a rule of
        every lever (one selector, weights summing to 1, ordered ages and years) or of its kind
        (:meth:`check_own`); ``where`` is its key path (``demand.adjust[green]``)."""
        selectors = [k for k in ("metier", "domain", "sector", "weights") if k in table]
        if len(selectors) > 1:
            raise ScenarioError(tr(f"give at most one of metier, domain, sector, weights (got {selectors})",
                                   f"donnez au plus une des clés metier, domain, sector, weights (reçu : "
                                   f"{selectors})"),
                                source=source, key=where)
        if "weights" in table:
            w = table["weights"]
            bad = {k: v for k, v in w.items() if not is_num(v) or v < 0}
            if bad or not w:
                raise ScenarioError(tr("weights must be a non-empty table of métier codes to numbers ≥ 0",
                                       "weights doit être une table non vide qui associe à des codes de métier "
                                       "des nombres ≥ 0"),
                                    source=source, key=f"{where}.weights", value=bad or w)
            total = sum(w.values())
            if abs(total - 1.0) > 1e-6:
                raise ScenarioError(tr("weights must sum to 1 (each row of a sector × métier key)",
                                       "la somme de weights doit valoir 1 (chaque ligne d'une clé secteur × "
                                       "métier)"),
                                    source=source, key=f"{where}.weights", value=round(total, 9))
        if "min_age" in table and "max_age" in table and table["min_age"] > table["max_age"]:
            lo, hi = table["min_age"], table["max_age"]
            raise ScenarioError(tr(f"min_age ({lo}) is above max_age ({hi})",
                                   f"min_age ({lo}) est supérieur à max_age ({hi})"), source=source,
                                key=f"{where}.min_age")
        if "from_year" in table and "to_year" in table and table["from_year"] > table["to_year"]:
            lo, hi = table["from_year"], table["to_year"]
            raise ScenarioError(tr(f"from_year ({lo}) is after to_year ({hi})",
                                   f"from_year ({lo}) est postérieur à to_year ({hi})"),
                                source=source, key=f"{where}.from_year")
        cls.check_own(table, where, source)

    @classmethod
    def check_own(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        """The kind's own rules (by default: its ``REQUIRED`` keys are there)."""
        _need(table, cls.REQUIRED, where, source)

    @staticmethod
    def check_provenance(table: Mapping[str, Any], where: str, source: str) -> None:
        """A lever says whose its numbers are: exactly one of ``source`` / ``assumption``; ``method``
        goes with a source, ``basis`` with an assumption; ``weights`` carry ``weights_source`` or
        ``weights_assumption``."""
        def given(k: str) -> bool:
            return isinstance(table.get(k), str) and table[k].strip() != ""

        for k in PROVENANCE_KEYS:
            if k in table and not given(k):
                raise ScenarioError(tr("is empty: say whose the numbers are, or remove the key",
                                       "est vide : dites d'où viennent les nombres, ou retirez la clé"),
                                    source=source, key=f"{where}.{k}", value=table[k])
        if given("source") and given("assumption"):
            raise ScenarioError(tr("a lever carries source (its numbers are the publication's figures; say how pmq "
                                   "applies them in method = \"…\") or assumption (they are your own; name the "
                                   "publications it leans on in basis = \"…\"), not both — an assumption must not "
                                   "appear under a source's name",
                                   "un levier porte source (ses nombres sont les chiffres de la publication ; dites "
                                   "comment pmq les applique dans method = \"…\") ou assumption (ce sont les vôtres ; "
                                   "nommez les publications sur lesquelles elle s'appuie dans basis = \"…\"), pas "
                                   "les deux — une hypothèse ne doit pas paraître sous le nom d'une source"),
                                source=source, key=f"{where}.assumption",
                                value=table["assumption"])
        if not given("source") and not given("assumption"):
            numeric = {k: v for k, v in table.items() if has_number(v)}
            if numeric:
                raise ScenarioError(tr("numbers need a source: add source = \"publication, URL\" (the "
                                       "publication's figures) or assumption = \"…\" (your own) to this lever",
                                       "les nombres demandent une source : ajoutez à ce levier source = "
                                       "\"publication, URL\" (les chiffres de la publication) ou assumption = "
                                       "\"…\" (les vôtres)"), source=source, key=where, value=numeric)
        if given("method") and not given("source"):
            raise ScenarioError(tr("method says how a sourced figure is applied: it goes with source; with an "
                                   "assumption, write the reasoning in assumption and the references in basis",
                                   "method dit comment un chiffre sourcé est appliqué : il va avec source ; pour "
                                   "une hypothèse, écrivez le raisonnement dans assumption et les références dans "
                                   "basis"), source=source, key=f"{where}.method", value=table["method"])
        if given("basis") and not given("assumption"):
            raise ScenarioError(tr("basis names the publications an assumption leans on: it goes with assumption; "
                                   "with a source, say how pmq applies it in method",
                                   "basis nomme les publications sur lesquelles s'appuie une hypothèse : il va avec "
                                   "assumption ; avec une source, dites comment pmq l'applique dans method"),
                                source=source,
                                key=f"{where}.basis", value=table["basis"])
        wk = [k for k in ("weights_source", "weights_assumption") if given(k)]
        if "weights" in table and (len(wk) > 1 or (not wk and given("source"))):
            raise ScenarioError(tr("explicit weights split a sourced figure over métiers: say whose the split is "
                                   "with exactly one of weights_source = \"…\" or weights_assumption = \"…\"",
                                   "des poids explicites répartissent un chiffre sourcé entre métiers : dites d'où "
                                   "vient la répartition avec exactement une des clés weights_source = \"…\" ou "
                                   "weights_assumption = \"…\""), source=source,
                                key=f"{where}.weights", value=wk or None)
        if wk and "weights" not in table:
            raise ScenarioError(tr("documents weights, but the lever has none",
                                   "documente weights, mais le levier n'en a pas"), source=source,
                                key=f"{where}.{wk[0]}",
                                value=table[wk[0]])


# ------------------------------------------------------------------ demand
_DEMAND_KEYS: dict[str, Spec] = {**LEVER_KEYS, **SELECT_KEYS}


@dataclass(frozen=True, kw_only=True)
class DemandLever(Lever):
    """A ``[[demand.adjust]]`` lever: one of :class:`Growth`, :class:`Target`, :class:`Deviation`
    (the table's ``kind``).  A kind accepts the keys of its ``PARAMS`` and refuses the other
    kinds'; ``after`` (what follows its last year) is one of its ``AFTER`` (the first by default)."""

    KIND: ClassVar[str] = ""
    PARAMS: ClassVar[dict[str, Spec]] = {}
    AFTER: ClassVar[tuple[str, ...]] = ()
    AFTER_RULE: ClassVar[str] = ""
    AFTER_RULE_FR: ClassVar[str] = ""
    SCHEMA: ClassVar[dict[str, Spec]] = {}   # the union of the kinds' (the section's schema), set below

    @property
    def kind(self) -> str:
        return self.KIND

    @property
    @abstractmethod
    def last_year(self) -> int:
        """The last calendar year the lever names (the employment path must reach it)."""

    @classmethod
    def kind_of(cls, table: Mapping[str, Any]) -> type[Lever]:
        return cls if cls.KIND else DEMAND_KINDS.get(table.get("kind", ""), cls)

    @classmethod
    def check_own(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        _need(table, ("kind",), where, source)
        kind = cls if cls.KIND else DEMAND_KINDS[table["kind"]]      # DemandLever.check: by the table's kind
        _need(table, kind.REQUIRED, where, source)
        _forbid(table, [k for k in DemandLever.SCHEMA if k not in kind.SCHEMA], where, source)
        kind.check_params(table, where, source)
        if table.get("after", kind.AFTER[0]) not in kind.AFTER:
            raise ScenarioError(tr(f"after must be {kind.AFTER_RULE} for a {kind.KIND} lever",
                                   f"after doit être {kind.AFTER_RULE_FR} pour un levier de type {kind.KIND}"),
                                source=source,
                                key=f"{where}.after", value=table["after"])

    @classmethod
    def check_params(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        """The rules of the kind's own keys (present: :meth:`check_own` checked ``REQUIRED``)."""

    # -- its apply ---------------------------------------------------------------
    def apply(self, emp: np.ndarray, ctx: Context) -> np.ndarray:
        """The employment path ``(year, territory, métier)`` under this lever: :meth:`path` on the
        selected cells, refused where it reaches zero or below (an empty cell left empty is kept)."""
        mask = ctx.cell_mask(self)[None]
        new = self.path(emp, mask, ctx)
        if new is None:
            return emp
        # a cell with no employment that the lever leaves at zero is no error (a small territory's empty cell)
        neg = (new <= 0) & ~((emp <= 0) & (new == emp))
        if np.any(neg & mask):
            years = ctx.base_year + np.arange(emp.shape[0])
            idx = np.argwhere(neg & mask)[:5]
            cells = [(int(years[i]), ctx.territories[j], ctx.metiers[m]) for i, j, m in idx]
            n = int((neg & mask).sum())
            s = "s" if n > 1 else ""
            raise ScenarioError(tr(f"the lever drives employment to zero or below in "
                                   f"{n} cell-years (year, territory, métier): {cells}",
                                   f"le levier porte l'emploi à zéro ou en dessous dans {n} cellule{s}-année{s} "
                                   f"(année, territoire, métier) : {cells}"), source=ctx.source, key=self.name)
        return np.where(mask, new, emp)

    @abstractmethod
    def path(self, emp: np.ndarray, mask: np.ndarray, ctx: Context) -> np.ndarray | None:
        """The new path of every cell (only the selected ``mask`` is kept), or None: no change."""


@dataclass(frozen=True, kw_only=True)
class Growth(DemandLever):
    """``kind = "growth"``: the selected cells grow at ``rate`` a year over ``period``."""

    KIND = "growth"
    PARAMS = {"rate": (NUM, between(-0.5, 0.5)), "period": (LIST, int_list(*YEARS))}
    REQUIRED = ("rate", "period")
    AFTER = ("reference", "continue", "constant_level")
    AFTER_RULE = f"one of {listing(AFTER, quote=True)}"
    AFTER_RULE_FR = f"l'une des valeurs : {listing(AFTER, quote=True)}"
    SCHEMA = {**_DEMAND_KEYS, "kind": (TEXT, one_of((KIND,))), **PARAMS, "after": (TEXT, one_of(AFTER))}

    rate: float
    period: tuple[int, ...]
    after: str = "reference"

    @property
    def last_year(self) -> int:
        return int(max(self.period))

    @classmethod
    def check_params(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        p = table["period"]
        if len(p) != 2 or p[0] >= p[1]:
            raise ScenarioError(tr("period must be [first_year, last_year] with first < last",
                                   "period doit être [première_année, dernière_année] avec première < dernière"),
                                source=source, key=f"{where}.period", value=p)

    def path(self, emp: np.ndarray, mask: np.ndarray, ctx: Context) -> np.ndarray | None:
        n = emp.shape[0]
        k = np.arange(n).reshape(-1, 1, 1)
        y0, y1 = self.period
        k0, k1 = ctx.year_index(y0), ctx.year_index(y1)
        if k0 < 0:
            raise ScenarioError(tr(f"a growth period cannot start before the base year {ctx.base_year}",
                                   f"une période de croissance ne peut pas commencer avant l'année de base "
                                   f"{ctx.base_year}"),
                                source=ctx.source, key=self.where("period"), value=[y0, y1])
        if k0 >= n - 1:
            return None
        g = 1.0 + float(self.rate)
        e0 = emp[k0]
        kk = np.minimum(k, k1)
        within = e0 * g ** (kk - k0)
        at_end = e0 * g ** (k1 - k0)
        if self.after == "reference":  # (only read for years after y1, so k1 < n there)
            ref_end = emp[min(k1, n - 1)]
            ratio = np.where(ref_end > 0, emp / np.where(ref_end > 0, ref_end, 1.0), 1.0)
            post = at_end * ratio
        elif self.after == "continue":
            post = e0 * g ** (k - k0)
        else:
            post = np.broadcast_to(at_end, emp.shape)
        return np.where(k <= k0, emp, np.where(k <= k1, within, post))


@dataclass(frozen=True, kw_only=True)
class Target(DemandLever):
    """``kind = "target"``: the selected cells together reach ``value`` persons in ``year``,
    phased in log-linearly from ``from_year``."""

    KIND = "target"
    PARAMS = {"year": (INT, between(*YEARS)), "value": (NUM, between(0, 1e9)),
              "from_year": (INT, between(*YEARS))}
    REQUIRED = ("year", "value", "from_year")
    AFTER = ("reference", "continue", "constant_level")
    AFTER_RULE = f"one of {listing(AFTER, quote=True)}"
    AFTER_RULE_FR = f"l'une des valeurs : {listing(AFTER, quote=True)}"
    SCHEMA = {**_DEMAND_KEYS, "kind": (TEXT, one_of((KIND,))), **PARAMS, "after": (TEXT, one_of(AFTER))}

    year: int
    value: float
    from_year: int
    after: str = "reference"

    @property
    def last_year(self) -> int:
        return int(self.year)

    @classmethod
    def check_params(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        if table["from_year"] >= table["year"]:
            raise ScenarioError(tr("from_year must be before year", "from_year doit précéder year"), source=source,
                                key=f"{where}.from_year", value=table["from_year"])

    def path(self, emp: np.ndarray, mask: np.ndarray, ctx: Context) -> np.ndarray | None:
        n = emp.shape[0]
        years = ctx.base_year + np.arange(n)
        k = np.arange(n).reshape(-1, 1, 1)
        kf, ky = ctx.year_index(self.from_year), ctx.year_index(self.year)
        if kf < 0:
            raise ScenarioError(tr(f"from_year is before the base year {ctx.base_year}",
                                   f"from_year précède l'année de base {ctx.base_year}"),
                                source=ctx.source, key=self.where("from_year"), value=self.from_year)
        if ky >= n:
            raise ScenarioError(tr(f"the target year is beyond the horizon ({int(years[-1])}); "
                                   "run longer or move the target",
                                   f"l'année de la cible est au-delà de l'horizon ({int(years[-1])}) ; "
                                   "allongez la projection ou déplacez la cible"), source=ctx.source,
                                key=self.where("year"), value=self.year)
        sel_total = float((emp[ky] * mask[0]).sum())
        if sel_total <= 0:
            raise ScenarioError(tr("the selected cells have no employment in the target year",
                                   "les cellules choisies n'ont aucun emploi l'année de la cible"),
                                source=ctx.source, key=self.where("year"), value=self.year)
        log_rho = np.log(float(self.value) / sel_total) if self.value > 0 else -np.inf
        if not np.isfinite(log_rho):
            raise ScenarioError(tr("a target of 0 cannot be reached by a growth path",
                                   "une cible de 0 ne peut pas être atteinte par un sentier de croissance"),
                                source=ctx.source, key=self.where("value"), value=0)
        frac = np.clip((k - kf) / (ky - kf), 0.0, None)
        if self.after in ("reference", "constant_level"):
            frac = np.minimum(frac, 1.0)
        new = emp * np.exp(log_rho * frac)
        if self.after == "constant_level":
            new = np.where(k > ky, new[ky], new)
        return new


def _interp_anchors(anchors: tuple[tuple[int, float], ...], years: np.ndarray, after: str,
                    ref_total: np.ndarray) -> np.ndarray:
    """Deviation path at ``years`` from (year, value) anchors in year order (linear; 0 before the first)."""
    ay = np.array([y for y, _ in anchors], dtype=float)
    av = np.array([v for _, v in anchors])
    val = np.interp(years, ay, av, left=0.0, right=av[-1])
    before = years < ay[0]
    val = np.where(before, 0.0, val)
    if after == "proportional":
        last = int(ay[-1])
        idx = np.searchsorted(years, last)
        if idx < len(years) and years[idx] == last:
            scale = np.where(ref_total[idx] > 0, ref_total / ref_total[idx], 1.0)
            val = np.where(years > last, av[-1] * scale, val)
    return val


@dataclass(frozen=True, kw_only=True)
class Deviation(DemandLever):
    """``kind = "deviation"``: a deviation from the trend given at ``anchors`` (year, value), in
    persons summed over the selected cells or in percent of each."""

    KIND = "deviation"
    PARAMS = {"anchors": (DICT, None), "unit": (TEXT, one_of(("persons", "percent"))),
              "interpolation": (TEXT, one_of(("linear",)))}
    REQUIRED = ("anchors",)
    AFTER = ("hold", "proportional")
    AFTER_RULE = "'hold' or 'proportional'"
    AFTER_RULE_FR = "'hold' ou 'proportional'"
    SCHEMA = {**_DEMAND_KEYS, "kind": (TEXT, one_of((KIND,))), **PARAMS, "after": (TEXT, one_of(AFTER))}

    anchors: tuple[tuple[int, float], ...]
    unit: str = "persons"
    interpolation: str = "linear"
    after: str = "hold"

    @property
    def last_year(self) -> int:
        return int(max(y for y, _ in self.anchors))

    @classmethod
    def check_params(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        year_table(table["anchors"], f"{where}.anchors", source)

    @classmethod
    def from_table(cls, table: Mapping[str, Any], section: str) -> Self:
        anchors = {int(k): float(v) for k, v in table["anchors"].items()}
        return super().from_table({**table, "anchors": sorted(anchors.items())}, section)

    def path(self, emp: np.ndarray, mask: np.ndarray, ctx: Context) -> np.ndarray | None:
        years = ctx.base_year + np.arange(emp.shape[0])
        w = ctx.metier_weights(self)
        sel = emp * mask
        if self.unit == "percent":
            if w is not None:
                raise ScenarioError(tr("a deviation in percent applies to each selected cell; "
                                       "use metier or domain, not a sector key or weights",
                                       "un écart en pourcentage s'applique à chaque cellule choisie ; utilisez "
                                       "metier ou domain, pas une clé sectorielle (sector) ni weights"),
                                    source=ctx.source, key=self.where("unit"), value=self.unit)
            # a held percentage already moves with the trend: "proportional" would count the
            # trend's growth twice, so both `after` rules hold the last percentage
            pct = _interp_anchors(self.anchors, years.astype(float), "hold", sel.sum((1, 2)))
            return emp + sel * (pct / 100.0)[:, None, None]
        total = _interp_anchors(self.anchors, years.astype(float), self.after, sel.sum((1, 2)))
        if w is not None:
            by_m = sel.sum(1, keepdims=True)  # (year, 1, métier)
            terr_share = np.where(by_m > 0, sel / np.where(by_m > 0, by_m, 1.0), 0.0)
            share = terr_share * w[None, None, :]
            no_emp = (w > 0) & (by_m[0, 0] <= 0)
            if no_emp.any():
                bad = [m for m, b in zip(ctx.metiers, no_emp) if b]
                raise ScenarioError(tr("these métiers of the key have no employment in the "
                                       "selected territories",
                                       "ces métiers de la clé n'ont aucun emploi dans les territoires choisis"),
                                    source=ctx.source,
                                    key=self.where("territory"), value=bad)
        else:
            tot = sel.sum((1, 2), keepdims=True)
            share = np.where(tot > 0, sel / np.where(tot > 0, tot, 1.0), 0.0)
        return emp + total[:, None, None] * share


#: The kinds of ``[[demand.adjust]]``, by the table's ``kind``.
DEMAND_KINDS: dict[str, type[DemandLever]] = {k.KIND: k for k in (Growth, Target, Deviation)}
DemandLever.SCHEMA = {**_DEMAND_KEYS, "kind": (TEXT, one_of(DEMAND_KINDS)),
                      **{k: spec for kind in DEMAND_KINDS.values() for k, spec in kind.PARAMS.items()},
                      "after": (TEXT, one_of(dict.fromkeys(a for kind in DEMAND_KINDS.values() for a in kind.AFTER)))}


# ------------------------------------------------------------------ inflows
@dataclass(frozen=True, kw_only=True)
class InflowFactor(Lever):
    """``[[young_entrants.adjust]]`` (and, as :class:`MobilityFactor`, ``[[net_mobility.adjust]]``):
    the selected flows are multiplied by ``factor`` for flow years ``from_year`` … ``to_year``."""

    SCHEMA = {**LEVER_KEYS, **SELECT_KEYS, "factor": (NUM, between(0, 10)), **_WINDOW}
    REQUIRED = ("factor",)

    factor: float
    from_year: int | None = None
    to_year: int | None = None

    def apply(self, out: np.ndarray, ctx: Context) -> np.ndarray:
        """Multipliers ``out`` (flow year, territory, métier) times this lever's factor where it acts."""
        years = ctx.base_year + np.arange(out.shape[0])
        y0 = years[0] if self.from_year is None else self.from_year
        y1 = years[-1] + 10_000 if self.to_year is None else self.to_year
        on = ((years >= y0) & (years <= y1))[:, None, None]
        return np.where(on & ctx.cell_mask(self)[None], out * float(self.factor), out)


@dataclass(frozen=True, kw_only=True)
class MobilityFactor(InflowFactor):
    """``[[net_mobility.adjust]]``: an :class:`InflowFactor` that may not select territories."""

    @classmethod
    def check_own(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        super().check_own(table, where, source)
        if "territory" in table:
            raise ScenarioError(tr("net mobility between territories is a zero-sum flow: a lever may "
                                   "select métiers but not territories",
                                   "les mobilités nettes entre territoires forment un flux à somme nulle : un levier "
                                   "peut choisir des métiers mais pas des territoires"), source=source,
                                key=f"{where}.territory", value=table["territory"])


# ------------------------------------------------------------------ exits
@dataclass(frozen=True, kw_only=True)
class ExitLever(Lever):
    """A lever on the exit hazards ``(year, territory, métier, age)`` in the age window
    ``min_age`` … ``max_age`` (default ``DEFAULT_MIN_AGE`` or the youngest age … the age below the top)."""

    DEFAULT_MIN_AGE: ClassVar[int | None] = 55

    min_age: int | None = None
    max_age: int | None = None

    def window(self, ages: np.ndarray) -> np.ndarray:
        lo = self.min_age if self.min_age is not None else \
            (int(ages[0]) if self.DEFAULT_MIN_AGE is None else self.DEFAULT_MIN_AGE)
        hi = int(ages[-2]) if self.max_age is None else self.max_age
        return (ages >= lo) & (ages <= hi)

    @abstractmethod
    def apply(self, h: np.ndarray, ctx: Context, years: np.ndarray, ages: np.ndarray) -> np.ndarray:
        """Hazards ``h`` (year, territory, métier, age) under this lever; ``years``, ``ages`` as floats."""


def shift_schedule(hazard: np.ndarray, offset: np.ndarray | float, ages: np.ndarray) -> np.ndarray:
    """``h(a − offset)`` along the last (age) axis; ``offset`` broadcasts to the result.

    Linear interpolation between single years; ages below the youngest take its value.
    """
    offset = np.asarray(offset, dtype=float)
    shape = np.broadcast_shapes(hazard.shape, offset.shape)
    h = np.broadcast_to(hazard, shape)
    pos = (ages - ages[0]) - np.broadcast_to(offset, shape)
    lo = np.clip(np.floor(pos), 0, len(ages) - 1).astype(int)
    hi = np.clip(lo + 1, 0, len(ages) - 1)
    frac = np.clip(pos - lo, 0.0, 1.0)
    return np.take_along_axis(h, lo, -1) * (1 - frac) + np.take_along_axis(h, hi, -1) * frac


@dataclass(frozen=True, kw_only=True)
class ScheduleShift(ExitLever):
    """A share ``share`` of the hazard follows the schedule moved by an :meth:`offset` (years):
    ``h'(a) = (1 − share)·h(a) + share·h(a − s)``, where ``s ≠ 0``."""

    share: float = 1.0

    @abstractmethod
    def offset(self, years: np.ndarray, ages: np.ndarray) -> np.ndarray:
        """The shift ``s`` (year, 1, 1, age), in years."""

    def apply(self, h: np.ndarray, ctx: Context, years: np.ndarray, ages: np.ndarray) -> np.ndarray:
        s = self.offset(years, ages)
        share = float(self.share)
        moved = shift_schedule(h, s, ages)
        # where the shift is 0 (before the lever starts) the hazard stays exactly the same
        sel = ctx.cell_mask(self)[None, :, :, None] & self.window(ages) & (s != 0)
        return np.where(sel, (1 - share) * h + share * moved, h)


@dataclass(frozen=True, kw_only=True)
class ExitShift(ScheduleShift):
    """``[[exits.shift]]``: the late-career schedule moves by ``years``, phased in linearly from 0
    in ``from_year`` to ``years`` in ``full_year`` (a step in ``from_year`` without it)."""

    SCHEMA = {**LEVER_KEYS, **SELECT_KEYS, **_AGES, "years": (NUM, between(-10, 10)),
              "from_year": (INT, between(*YEARS)), "full_year": (INT, between(*YEARS)),
              "share": (NUM, between(0, 1))}
    REQUIRED = ("years", "from_year")

    years: float
    from_year: int
    full_year: int | None = None

    @classmethod
    def check_own(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        super().check_own(table, where, source)
        if table.get("full_year", table["from_year"]) < table["from_year"]:
            raise ScenarioError(tr("full_year is before from_year", "full_year précède from_year"), source=source,
                                key=f"{where}.full_year", value=table["full_year"])

    def offset(self, years: np.ndarray, ages: np.ndarray) -> np.ndarray:
        y0 = self.from_year
        y1 = y0 if self.full_year is None else self.full_year
        # linear from 0 in from_year to 1 in full_year (the documented rule); a step in from_year
        phase = np.clip((years - y0) / (y1 - y0), 0.0, 1.0) if y1 > y0 else (years >= y0).astype(float)
        return (float(self.years) * phase)[:, None, None, None] * np.ones(len(ages))


@dataclass(frozen=True, kw_only=True)
class CohortShift(ScheduleShift):
    """``[[exits.cohort_shift]]``: the shift set by birth cohort ``c = year − age``: ``shift[i]`` for
    ``cohorts[i] ≤ c < cohorts[i+1]``, the last for later cohorts, 0 before, and 0 in flow years
    outside ``from_year`` … ``to_year``."""

    SCHEMA = {**LEVER_KEYS, **SELECT_KEYS, **_AGES, "cohorts": (LIST, int_list(1900, 2100)),
              "shift": (LIST, num_list(-10, 10)), "share": (NUM, between(0, 1)), **_WINDOW}
    REQUIRED = ("cohorts", "shift")

    cohorts: tuple[int, ...]
    shift: tuple[float, ...]
    from_year: int | None = None
    to_year: int | None = None

    @classmethod
    def check_own(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        super().check_own(table, where, source)
        c, s = table["cohorts"], table["shift"]
        if len(c) != len(s):
            raise ScenarioError(tr(f"cohorts and shift must have the same length ({len(c)} ≠ {len(s)})",
                                   f"cohorts et shift doivent avoir la même longueur ({len(c)} ≠ {len(s)})"),
                                source=source, key=f"{where}.shift", value=s)
        if any(b <= a for a, b in zip(c, c[1:])):
            raise ScenarioError(tr("cohorts must be strictly increasing birth years",
                                   "cohorts doit être une suite strictement croissante d'années de naissance"),
                                source=source,
                                key=f"{where}.cohorts", value=c)

    def offset(self, years: np.ndarray, ages: np.ndarray) -> np.ndarray:
        yy = years[:, None, None, None]
        cohort = yy - ages  # (year, 1, 1, age)
        c = np.asarray(self.cohorts, float)
        vals = np.concatenate([[0.0], np.asarray(self.shift, float)])
        s = vals[np.searchsorted(c, cohort, side="right")]
        y0 = years[0] if self.from_year is None else self.from_year
        y1 = years[-1] + 1e4 if self.to_year is None else self.to_year
        on = (yy >= y0) & (yy <= y1)
        return np.where(on, s, 0.0)


@dataclass(frozen=True, kw_only=True)
class ExitMultiplier(ExitLever):
    """``[[exits.multiplier]]``: the hazard times ``factor`` in the age window (default: every age
    below the top) and years; a hazard above 1 is an error."""

    SCHEMA = {**LEVER_KEYS, **SELECT_KEYS, **_AGES, "factor": (NUM, between(0, 100)), **_WINDOW}
    REQUIRED = ("factor",)
    DEFAULT_MIN_AGE = None

    factor: float
    from_year: int | None = None
    to_year: int | None = None

    def apply(self, h: np.ndarray, ctx: Context, years: np.ndarray, ages: np.ndarray) -> np.ndarray:
        y0 = years[0] if self.from_year is None else self.from_year
        y1 = years[-1] + 10_000 if self.to_year is None else self.to_year
        on = ((years >= y0) & (years <= y1))[:, None, None, None]
        sel = on & ctx.cell_mask(self)[None, :, :, None] & self.window(ages)
        h = np.where(sel, h * float(self.factor), h)
        if np.any(h[..., :-1] > 1.0 + 1e-12):
            raise ScenarioError(tr("the multiplier raises an exit hazard above 1",
                                   "le multiplicateur porte un risque de départ au-dessus de 1"), source=ctx.source,
                                key=self.where("factor"), value=self.factor)
        return h


# ------------------------------------------------------------------ supply and uncertainty
@dataclass(frozen=True, kw_only=True)
class SupplyLeavers(Lever):
    """``[[supply.leavers]]``: leaver volumes of the formations ``level`` times ``factor`` in the
    *leaving* years ``from_year`` … ``to_year`` (young entrants follow ``supply.lag`` years later).
    Applied by :func:`pmq.inputs.training.supply_factors`."""

    SCHEMA = {**LEVER_KEYS, "level": (LIST, str_list()), "territory": (LIST, str_list()),
              "factor": (NUM, between(0, 10)), **_WINDOW}

    factor: float
    level: tuple[str, ...] | None = None
    from_year: int | None = None
    to_year: int | None = None


@dataclass(frozen=True, kw_only=True)
class SupplyMatrix(Lever):
    """``[[supply.matrix]]``: the formation → métier allocation of ``level`` towards the selected
    métiers times ``factor`` (renormalised).  Applied by :func:`pmq.inputs.training.supply_factors`."""

    SCHEMA = {**LEVER_KEYS, **SELECT_KEYS, "level": (LIST, str_list()), "factor": (NUM, between(0, 100)),
              **_WINDOW}

    factor: float
    level: tuple[str, ...] | None = None
    from_year: int | None = None
    to_year: int | None = None


@dataclass(frozen=True, kw_only=True)
class UncertainParameter(Lever):
    """``[[uncertainty.parameter]]``: the distribution of a parameter drawn per ensemble member
    (neutral value 0), :mod:`pmq.projection.ensemble`."""

    SCHEMA = {**LEVER_KEYS,
              "kind": (TEXT, one_of(("exit_age_shift", "growth", "young_entrants", "mobility", "key_shares"))),
              "distribution": (TEXT, one_of(("normal", "uniform", "triangular"))),
              "mean": (NUM, between(-10, 10)), "sd": (NUM, between(0, 10)),
              "low": (NUM, between(-10, 10)), "mode": (NUM, between(-10, 10)), "high": (NUM, between(-10, 10)),
              "domain_correlation": (NUM, between(0, 1)), "domain": (LIST, str_list()),
              "reference_employment": (NUM, between(1, 1e7)), "max_sd": (NUM, between(0, 3))}
    REQUIRED = ("kind", "distribution")

    kind: str
    distribution: str
    mean: float | None = None
    sd: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    domain_correlation: float | None = None
    reference_employment: float | None = None
    max_sd: float | None = None

    @classmethod
    def check_own(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        super().check_own(table, where, source)
        dist = table["distribution"]
        own = [k for k in ("reference_employment", "max_sd") if k in table]
        if table["kind"] != "key_shares" and own:
            raise ScenarioError(tr("applies to kind = \"key_shares\" only",
                                   "ne s'applique qu'à kind = \"key_shares\""), source=source,
                                key=f"{where}.{own[0]}",
                                value=table[own[0]])
        if table["kind"] == "key_shares":
            if dist != "normal":
                raise ScenarioError(tr("key_shares draws the log shares from a normal distribution (distribution = "
                                       "\"normal\", sd = the spread at reference_employment jobs)",
                                       "key_shares tire les logarithmes des parts d'une loi normale (distribution = "
                                       "\"normal\", sd = la dispersion à reference_employment emplois)"),
                                    source=source,
                                    key=f"{where}.distribution", value=dist)
            if table.get("mean", 0.0) != 0.0:
                raise ScenarioError(tr("key_shares has no mean: the shares are drawn around the key's own values",
                                       "key_shares n'a pas de mean : les parts sont tirées autour des valeurs "
                                       "propres de la clé"),
                                    source=source, key=f"{where}.mean", value=table["mean"])
        if dist == "normal":
            _need(table, ("sd",), where, source)
            not_allowed = [k for k in ("low", "mode", "high") if k in table]
        elif dist == "uniform":
            _need(table, ("low", "high"), where, source)
            not_allowed = [k for k in ("mean", "sd", "mode") if k in table]
        else:
            _need(table, ("low", "mode", "high"), where, source)
            not_allowed = [k for k in ("mean", "sd") if k in table]
        if not_allowed:
            raise ScenarioError(tr(f"not allowed for a {dist} distribution",
                                   f"non autorisée pour une loi {dist}"), source=source,
                                key=f"{where}.{not_allowed[0]}", value=table[not_allowed[0]])
        if dist != "normal" and not (table["low"] < table["high"]
                                     and table["low"] <= table.get("mode", table["low"]) <= table["high"]):
            raise ScenarioError(tr("needs low < high (and low ≤ mode ≤ high)",
                                   "demande low < high (et low ≤ mode ≤ high)"), source=source, key=where,
                                value={k: table[k] for k in ("low", "mode", "high") if k in table})
        if "domain_correlation" in table and table["kind"] != "growth":
            raise ScenarioError(tr("domain_correlation applies to kind = \"growth\" only",
                                   "domain_correlation ne s'applique qu'à kind = \"growth\""), source=source,
                                key=f"{where}.domain_correlation", value=table["domain_correlation"])
        sel = [k for k in ("metier", "sector", "weights", "territory") if k in table]
        if sel or ("domain" in table and table["kind"] != "exit_age_shift"):
            key = sel[0] if sel else "domain"
            raise ScenarioError(tr("uncertain parameters apply to all métiers (exit_age_shift may select "
                                   "domains)",
                                   "les paramètres incertains s'appliquent à tous les métiers (exit_age_shift peut "
                                   "choisir des domaines)"), source=source, key=f"{where}.{key}", value=table[key])


@dataclass(frozen=True, kw_only=True)
class ParameterCorrelation(Lever):
    """``[[uncertainty.correlation]]``: the correlation ``rho`` of two uncertain parameters
    (``between`` their ids; Gaussian copula)."""

    SCHEMA = {**LEVER_KEYS, "between": (LIST, str_list()), "rho": (NUM, between(-1, 1))}
    REQUIRED = ("between", "rho")

    between: tuple[str, ...]
    rho: float

    @classmethod
    def check_own(cls, table: Mapping[str, Any], where: str, source: str) -> None:
        super().check_own(table, where, source)
        if len(table["between"]) != 2 or table["between"][0] == table["between"][1]:
            raise ScenarioError(tr("between names two different parameter ids",
                                   "between nomme deux id de paramètres différents"), source=source,
                                key=f"{where}.between", value=table["between"])


# ------------------------------------------------------------------ the registry
#: The lever sections ("section.key") and the class of their tables, in the order of the files' sections.
LEVER_KINDS: dict[str, type[Lever]] = {
    "demand.adjust": DemandLever,            # Growth, Target or Deviation by the table's kind
    "young_entrants.adjust": InflowFactor,
    "net_mobility.adjust": MobilityFactor,
    "exits.shift": ExitShift,
    "exits.cohort_shift": CohortShift,
    "exits.multiplier": ExitMultiplier,
    "supply.leavers": SupplyLeavers,
    "supply.matrix": SupplyMatrix,
    "uncertainty.parameter": UncertainParameter,
    "uncertainty.correlation": ParameterCorrelation,
}
#: Lever sections: "section.key" -> schema of one lever table.
LEVER_SCHEMAS: dict[str, dict[str, Spec]] = {section: kind.SCHEMA for section, kind in LEVER_KINDS.items()}


def check_table(section: str, table: Mapping[str, Any], where: str, source: str) -> None:
    """Refuse a lever table of ``section`` that its kind does not accept: unknown keys, wrong
    types or values (its schema), missing provenance, then the kind's :meth:`~Lever.check`."""
    schema = LEVER_SCHEMAS[section]
    for key, value in table.items():
        if key not in schema:
            raise ScenarioError(unknown_key(key, schema), source=source, key=f"{where}.{key}", value=value)
        check_value(value, schema[key], f"{where}.{key}", source)
    Lever.check_provenance(table, where, source)
    LEVER_KINDS[section].kind_of(table).check(table, where, source)


def lever_from_table(section: str, table: Mapping[str, Any] | Lever) -> Lever:
    """The typed lever of a (checked) table of ``section``; a typed lever is returned as it is."""
    if isinstance(table, Lever):
        return table
    return LEVER_KINDS[section].kind_of(table).from_table(table, section)


# ------------------------------------------------------------------ the arrays
class _HasLevers(Protocol):
    def typed_levers(self, section: str) -> tuple[Lever, ...]: ...


def last_year(lever: DemandLever | Mapping[str, Any]) -> int:
    """The last calendar year a demand lever names (its path must reach it)."""
    return cast(DemandLever, lever_from_table("demand.adjust", lever)).last_year


def apply_demand(emp: np.ndarray, levers: Iterable[DemandLever | Mapping[str, Any]], ctx: Context) -> np.ndarray:
    """Apply ``[[demand.adjust]]`` levers (typed, or their tables) to an employment path
    ``(year, territory, métier)``, in order."""
    out = np.array(emp, dtype=float)
    for lever in levers:
        out = cast(DemandLever, lever_from_table("demand.adjust", lever)).apply(out, ctx)
    return out


def flow_factors(section: str, levers: Iterable[InflowFactor | Mapping[str, Any]], ctx: Context,
                 n_years: int) -> np.ndarray | None:
    """Multipliers ``(year, territory, métier)`` of an inflow, or None without levers."""
    typed = [cast(InflowFactor, lever_from_table(section, lv)) for lv in levers]
    if not typed:
        return None
    out = np.ones((n_years, len(ctx.territories), len(ctx.metiers)))
    for lever in typed:
        out = lever.apply(out, ctx)
    return out


def hazard_path(hazard: np.ndarray, scenario: _HasLevers, ctx: Context, n_years: int) -> np.ndarray | None:
    """Hazards ``(year, territory, métier, age)`` under the exit levers of ``scenario`` (shifts, then
    cohort shifts, then multipliers), or None without levers."""
    exit_levers = [cast(ExitLever, lv) for sec in ("exits.shift", "exits.cohort_shift", "exits.multiplier")
                   for lv in scenario.typed_levers(sec)]
    if not exit_levers:
        return None
    ages = ctx.ages.astype(float)
    T, M = len(ctx.territories), len(ctx.metiers)
    base = np.broadcast_to(np.asarray(hazard, float), (T, M, len(ages)))
    years = (ctx.base_year + np.arange(n_years)).astype(float)
    h = np.broadcast_to(base, (n_years, T, M, len(ages))).copy()
    for lever in exit_levers:
        h = lever.apply(h, ctx, years, ages)
    h = np.clip(h, 0.0, 1.0)
    h[..., -1] = 1.0
    return h
