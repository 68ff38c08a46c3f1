"""Scenarios: the TOML language, its levers and sectors.

* :mod:`pmq.scenario.read` — read, validate and resolve a scenario file (:func:`read_scenario`,
  :class:`Scenario`), the schema of every section, provenance statuses;
* :mod:`pmq.scenario.levers` — the lever kinds, one frozen dataclass each (:class:`Growth`,
  :class:`Target`, :class:`Deviation`, :class:`InflowFactor`, :class:`ExitShift`…) holding its schema,
  its check and what it does to the arrays (:data:`LEVER_KINDS` registers them by section);
* :mod:`pmq.scenario.sectors` — the sector × métier key that turns sector figures into métier paths.

The names below are the public face of the language (``from pmq.scenario import read_scenario``).
"""
from pmq.model.rules import Rules
from pmq.scenario.levers import (LEVER_KINDS, CohortShift, DemandLever, Deviation, ExitMultiplier, ExitShift, Growth,
                                 InflowFactor, Lever, MobilityFactor, ParameterCorrelation, SupplyLeavers, SupplyMatrix,
                                 Target, UncertainParameter)
from pmq.scenario.read import (EXIT_SECTIONS, LEVER_SCHEMAS, LEVER_SECTIONS, MAX_HORIZON, MAX_METIER_DEVIATION, PROVENANCE_KEYS,
                               RENAMED, STATUS_LABELS, Scenario, builtin_scenarios, inactive_levers, is_builtin,
                               Provenance, lever_status, read_scenario, scenario_dir, status_label, warn_inactive_levers)

__all__ = ["Rules", "Scenario", "read_scenario", "builtin_scenarios", "scenario_dir", "LEVER_SECTIONS",
           "EXIT_SECTIONS", "LEVER_SCHEMAS", "MAX_HORIZON", "inactive_levers", "warn_inactive_levers", "lever_status", "Provenance", "status_label",
           "is_builtin", "STATUS_LABELS", "PROVENANCE_KEYS", "MAX_METIER_DEVIATION", "RENAMED",
           "LEVER_KINDS", "Lever", "DemandLever", "Growth", "Target", "Deviation", "InflowFactor", "MobilityFactor",
           "ExitShift", "CohortShift", "ExitMultiplier", "SupplyLeavers", "SupplyMatrix", "UncertainParameter",
           "ParameterCorrelation"]
