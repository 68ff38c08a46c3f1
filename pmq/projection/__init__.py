"""Projection: a baseline and scenarios → the accounts Dataset.

* :mod:`pmq.projection.run` — one scenario (:func:`project`) and the engine inputs of a scenario
  (:func:`scenario_inputs`);
* :mod:`pmq.projection.compare` — several scenarios in one run (:func:`project_many`);
* :mod:`pmq.projection.results` — the results object of both, :class:`Projection` (a ``scenario`` dimension
  when it holds several; ``Comparison`` is another name of it), side-by-side tables, the deliverables;
* :mod:`pmq.projection.indicators` — reading the accounts: selection, windows, aggregation, names;
* :mod:`pmq.projection.summary` — the summary of a run (text, HTML, table); :mod:`pmq.projection.accessor` —
  ``ds.pmq``, the same reading methods on an accounts Dataset read back from disk (registered with xarray
  when this package is imported — ``import pmq.projection``, ``pmq.project``, ``pmq.select``…; a bare
  ``import pmq`` does not import xarray, so it does not register it);
* :mod:`pmq.projection.ensemble` — ensembles of draws (on dask); :mod:`pmq.projection.sensitivity` —
  one parameter at a time.
"""
from pmq.model.paths import input_paths
from pmq.projection.compare import project_many
from pmq.projection.results import Comparison, Projection
from pmq.projection.prepare import scenario_inputs
from pmq.projection.run import VARIABLES, project
from pmq.projection.summary import Summary
from pmq.projection.accessor import PmqAccessor   # registers ds.pmq

__all__ = ["project", "Projection", "project_many", "Comparison", "scenario_inputs", "input_paths", "VARIABLES",
           "Summary", "PmqAccessor"]
