"""Diagramme en tornade : sensibilité
==================================

Sensibilité du déséquilibre potentiel 2019–2030 (France) à chaque paramètre incertain, chacun
à ses quantiles 5 % et 95 %, les autres à leur médiane."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from pmq import plots  # noqa: E402
from pmq.projection.sensitivity import one_at_a_time  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
table = one_at_a_time("reference_incertain", horizon=11)
names = {"age_sortie": "Âge de fin de carrière", "croissance": "Croissance par domaine",
         "jeunes": "Jeunes débutants", "mobilite": "Mobilités interrégionales"}
ax = plots.tornado(table, "imbalance", labels=names)
ax.figure.savefig(out / "tornado.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "tornado.png")
