"""Inputs: files and tables → the baseline Dataset and the other input tables.

* :mod:`pmq.inputs.tables` — readers of the user's long tables (French spreadsheets too), validation;
* :mod:`pmq.inputs.baseline` — the embedded baseline and a user's own (:func:`load_baseline`);
* :mod:`pmq.inputs.training` — leavers from initial training and the formation → métier matrix;
* :mod:`pmq.inputs.rates` — readers of rate tables; :mod:`pmq.inputs.interregional` — net mobility
  from a matrix of inter-territorial rates.
"""
