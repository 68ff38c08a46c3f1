"""pmq — prospective des métiers et des qualifications.

Stock-flow projections of employment by métier × territory × age, with the
« Les métiers en 2030 » (DARES – France Stratégie) baseline embedded.

>>> import pmq
>>> proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
>>> h = proj.horizons()
"""
from pmq import _compat
from pmq._version import __version__

_compat.install()

from pmq.inputs.baseline import load_baseline, load_user_baseline  # noqa: E402
from pmq.errors import CalibrationError, EngineError, InputError, PmqError, ScenarioError, UnknownNameError  # noqa: E402
from pmq.projection.indicators import aggregate_metiers, aggregate_territories, horizon_sums, select  # noqa: E402
from pmq.projection.run import Projection, project  # noqa: E402
from pmq.scenario.read import Scenario, read_scenario  # noqa: E402

__all__ = ["__version__", "load_baseline", "load_user_baseline", "project", "Projection",
           "read_scenario", "Scenario", "horizon_sums", "select", "aggregate_territories", "aggregate_metiers",
           "PmqError", "InputError", "ScenarioError", "CalibrationError", "EngineError",
           "UnknownNameError"]
