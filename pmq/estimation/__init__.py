"""Parameters fitted from data, and their evaluation.

* :mod:`pmq.estimation.calibration` — the embedded baseline's age structure and hazards;
* :mod:`pmq.estimation.exits` — exit hazards from the DARES age pyramids;
* :mod:`pmq.estimation.trends` — employment trend models on the DARES series;
* :mod:`pmq.estimation.build` — rebuilds the shipped data from the raw files
  (``python -m pmq.estimation.build``);
* :mod:`pmq.estimation.backtest` — past vintages projected forward and compared with what happened.
"""
