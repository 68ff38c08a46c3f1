"""pmq — prospective des métiers et des qualifications.

Stock-flow projections of employment by métier × territory × age, with the
« Les métiers en 2030 » (DARES – France Stratégie) baseline embedded.

>>> import pmq
>>> proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
>>> h = proj.horizons()
"""
import importlib

from pmq import _compat
from pmq._version import __version__
from pmq.errors import CalibrationError, EngineError, InputError, PmqError, ScenarioError, UnknownNameError

_compat.install()

#: The library's face, imported on first use (PEP 562): ``import pmq`` — and with it ``pmq --help`` and
#: ``python -m pmq``, which import this package first — costs a few milliseconds, not numpy, pandas and
#: xarray; ``pmq.project`` or ``from pmq import project`` imports what it needs.
_LAZY = {
    "load_baseline": "pmq.inputs.baseline",
    "load_user_baseline": "pmq.inputs.baseline",
    "project": "pmq.projection.run",
    "Projection": "pmq.projection.results",
    "read_scenario": "pmq.scenario.read",
    "Scenario": "pmq.scenario.read",
    "horizon_sums": "pmq.projection.indicators",
    "select": "pmq.projection.indicators",
    "aggregate_territories": "pmq.projection.indicators",
    "aggregate_metiers": "pmq.projection.indicators",
    "project_many": "pmq.projection.compare",
    "Comparison": "pmq.projection.results",
    "run_ensemble": "pmq.projection.ensemble",
    "Ensemble": "pmq.projection.ensemble",
    "one_at_a_time": "pmq.projection.sensitivity",
    "sobol": "pmq.projection.sensitivity",
    "backtest": "pmq.estimation.backtest",
    "build_report": "pmq.export.report",
    "imbalance_table": "pmq.analysis.imbalance",
    "watch_list": "pmq.analysis.imbalance",
    "reproduce_metiers2030": "pmq.analysis.reproduce",
    "read_transitions": "pmq.analysis.occupational",
    "occupational_mobility": "pmq.analysis.occupational",
    "separation_openings": "pmq.analysis.separations",
    "read_interregional": "pmq.inputs.interregional",
    "period_net_mobility": "pmq.inputs.interregional",
    "set_options": "pmq.options",
    "get_options": "pmq.options",
}
#: Sub-packages and modules answered as attributes too (``pmq.projection.run`` after ``import pmq``).
_SUBMODULES = ("data", "model", "inputs", "scenario", "estimation", "projection", "analysis", "plots", "export",
               "cli", "errors", "names", "formatting", "labels", "outputs", "testing", "options")

__all__ = ["__version__", "load_baseline", "load_user_baseline", "project", "Projection",
           "read_scenario", "Scenario", "horizon_sums", "select", "aggregate_territories", "aggregate_metiers",
           "project_many", "Comparison", "run_ensemble", "Ensemble", "one_at_a_time", "sobol", "backtest",
           "build_report", "imbalance_table", "watch_list", "reproduce_metiers2030", "read_transitions",
           "occupational_mobility", "separation_openings", "read_interregional", "period_net_mobility",
           "set_options", "get_options", "PmqError", "InputError", "ScenarioError", "CalibrationError", "EngineError",
           "UnknownNameError"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value          # once imported, a plain attribute
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))
