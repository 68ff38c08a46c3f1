"""Barres par scénario
===================

Postes à pourvoir 2019–2030 dans le bâtiment (FAP B) des Hauts-de-France selon les scénarios."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from pmq import data, plots  # noqa: E402
from pmq.projection.compare import project_many  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
comp = project_many(["reference", "bas_carbone_dares2023", "ademe_s2", "ademe_s4"], horizon=11)
building = data.metiers().query("domain == 'B' and in_exercise == 'yes'")["code"].tolist()
ax = plots.scenario_bars(comp, "openings", territory="Hauts-de-France", metier=building, end_year=2030)
ax.figure.savefig(out / "scenario_bars.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "scenario_bars.png")
