"""Pyramide des âges
=================

Pyramide des âges : aides à domicile en Bretagne, 2019 et 2030 (scénario de référence)."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pmq  # noqa: E402
from pmq import plots  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
ax = plots.age_pyramid(proj, territory="Bretagne", metier="T2A", band=5)
ax.figure.savefig(out / "age_pyramid.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "age_pyramid.png")
