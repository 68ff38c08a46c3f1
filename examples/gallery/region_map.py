"""Carte régionale des départs en fin de carrière
==============================================

Carte : part des départs en fin de carrière dans l'emploi 2019, par région, 2019–2030."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pmq  # noqa: E402
from pmq import plots  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
ax = plots.imbalance_map(proj, value="departure_rate", end_year=2030)
ax.figure.savefig(out / "region_map.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "region_map.png")
