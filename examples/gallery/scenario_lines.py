"""Courbes par scénario
====================

Emploi en France selon quatre scénarios, 2019–2039."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from pmq import plots  # noqa: E402
from pmq.projection.compare import project_many  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
comp = project_many(["reference", "bas_carbone_dares2023", "reindustrialisation", "ademe_s1"], horizon=20)
ax = plots.scenario_lines(comp, "employment")
ax.figure.savefig(out / "scenario_lines.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "scenario_lines.png")
