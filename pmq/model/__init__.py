"""The model: pure functions on arrays, no files.

* :mod:`pmq.model.ages` — age pyramids, exit hazards, the ages at which inflows are placed;
* :mod:`pmq.model.rules` — the named rules that spread period totals over the years (:class:`Rules`);
* :mod:`pmq.model.demand`, :mod:`pmq.model.entrants`, :mod:`pmq.model.mobility` — the yearly paths of
  employment, young entrants and net mobility between territories; :mod:`pmq.model.paths` puts them
  together for every cell;
* :mod:`pmq.model.engine` — the stock-flow engine (métier × territory × age, year by year).
"""
