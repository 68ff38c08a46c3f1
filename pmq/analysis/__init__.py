"""Reading the accounts: what a projection means for its users.

* :mod:`pmq.analysis.imbalance` — imbalance with supply from training, the DARES / COPS / ROA typologies;
* :mod:`pmq.analysis.occupational` — mobility between métiers from a transition matrix (yours, or a prior
  built from the ROME passerelles);
* :mod:`pmq.analysis.separations` — separations by the BLS method;
* :mod:`pmq.analysis.reproduce` — the published « Les métiers en 2030 » tables reproduced;
* :mod:`pmq.analysis.sources` — scenarios against their sources: sourced figures, the published-figures
  registry, plausibility, the generated docs pages (``python -m pmq.analysis.sources``).
"""
