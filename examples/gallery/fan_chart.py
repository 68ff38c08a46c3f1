"""Éventail de l'emploi en Bretagne
================================

Éventail (fan chart) de l'emploi en Bretagne : 200 tirages du scénario de référence avec ses
incertitudes (âge de fin de carrière, croissance par domaine, jeunes débutants, mobilités)."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from pmq.projection.ensemble import run_ensemble  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
ens = run_ensemble("reference_incertain", draws=200, horizon=20)
ax = ens.fan("employment", territory="Bretagne")
ax.figure.savefig(out / "fan_chart.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "fan_chart.png")
