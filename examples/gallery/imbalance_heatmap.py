"""Carte de chaleur du déséquilibre potentiel
==========================================

Déséquilibre potentiel 2019–2030 par domaine professionnel et région, en % de l'emploi 2019."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pmq  # noqa: E402
from pmq import plots  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
ax = plots.imbalance_heatmap(proj, end_year=2030)
ax.figure.savefig(out / "imbalance_heatmap.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "imbalance_heatmap.png")
