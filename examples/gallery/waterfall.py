"""Cascade des postes à pourvoir
=============================

Postes à pourvoir 2019–2030 en Provence-Alpes-Côte d'Azur : créations nettes + départs, moins
jeunes débutants et solde des mobilités = déséquilibre potentiel."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pmq  # noqa: E402
from pmq import plots  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
ax = plots.waterfall(proj, territory="Provence-Alpes-Côte d'Azur", end_year=2030)
ax.figure.savefig(out / "waterfall.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "waterfall.png")
