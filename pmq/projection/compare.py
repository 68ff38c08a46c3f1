"""Several scenarios in one run, along a ``scenario`` dimension.

:func:`project_many` stacks the inputs of every scenario on a leading axis and runs the
engine once: every operation of the annual step is elementwise over cells, so each
scenario's accounts are identical, cell by cell, to a separate :func:`pmq.project` run
(tested with ``assert_array_equal``).  It returns a :class:`~pmq.projection.results.Projection` whose accounts
carry the ``scenario`` dimension (``Comparison`` is another name of that class; :func:`compare_table` lives
with it in :mod:`pmq.projection.results`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from pmq.model.engine import EngineInputs, Profiles, ScenarioHazards
from pmq.projection.run import _accounts, _resolve, _run, scenario_inputs
from pmq.projection.results import HEADLINE, Comparison, Projection, compare_table
from pmq.inputs.baseline import load_baseline
from pmq.errors import ScenarioError
from pmq.options import tr

__all__ = ["project_many", "Comparison", "compare_table", "HEADLINE"]


def _stack(inputs: list[EngineInputs]) -> dict[str, Any]:
    by_year = any(i["hazard_by_year"] for i in inputs)
    hz: np.ndarray | ScenarioHazards
    if by_year:  # read one year at a time by the engine: no (year, scenario, …) copy of every hazard
        hz = ScenarioHazards(tuple(np.asarray(i["hazard"], dtype=float) for i in inputs),
                             tuple(bool(i["hazard_by_year"]) for i in inputs), int(inputs[0]["net_creation"].shape[0]))
    else:
        hz = np.stack([i["hazard"] for i in inputs])
    prof = Profiles(*(np.stack([getattr(i["profiles"], f)[None, None, :] for i in inputs])
                      for f in ("young", "recruits", "mobility", "removal")))
    return {
        "employment0": np.stack([i["employment0"] for i in inputs]),
        "hazard": hz, "hazard_by_year": by_year,
        "net_creation": np.stack([i["net_creation"] for i in inputs], axis=1),
        "young_entrants": np.stack([i["young_entrants"] for i in inputs], axis=1),
        "net_mobility": np.stack([i["net_mobility"] for i in inputs], axis=1),
        "profiles": prof,
    }


def project_many(scenarios, baseline: xr.Dataset | None = None, horizon: int | None = None,
                 progress=None, ages: bool = True) -> Projection:
    """Project several scenarios on one baseline in one vectorised run.

    Parameters
    ----------
    scenarios : list of str, Path or Scenario
        Built-in names, files or resolved scenarios; names must be distinct.
    horizon : int, optional
        Common horizon (default: the longest of the scenarios' ``horizons.run``).
    ages : bool
        Keep the stocks and flows by age (default).  ``False`` keeps them summed over ages — no ``age``
        dimension, a sixtieth of the memory, what side-by-side tables need (``pmq compare``); the totals are
        the same to rounding (the engine sums ages in another order).
    """
    if baseline is None:
        baseline = load_baseline()
    resolved = [_resolve(s, baseline, None) for s in scenarios]
    if not resolved:
        raise ScenarioError(tr("no scenario given", "aucun scénario donné"))
    names = [s.name for s in resolved]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ScenarioError(tr("scenario names must be distinct in one run",
                               "les noms de scénario doivent être distincts dans une même projection"),
                            key="scenario.name", value=dup)
    H = int(horizon) if horizon is not None else max(s.horizon for s in resolved)
    resolved = [s.with_horizon(H) for s in resolved]
    inputs = [scenario_inputs(baseline, s) for s in resolved]
    stacked = _stack(inputs)
    res = _run(baseline, stacked, progress, record="full" if ages else "cells")
    acc = _accounts(baseline, resolved[0], res, stacked["net_creation"], int(baseline.attrs["base_year"]),
                    H, scenarios=resolved, ages=ages)
    return Projection(accounts=acc, baseline=baseline, scenarios=resolved)
