"""Macro-compétences des postes à pourvoir
=======================================

Les 12 macro-compétences du ROME 4.0 qui prennent le plus de postes à pourvoir en PACA, 2019–2030.

Vue additive : les postes à pourvoir de chaque métier répartis sur les compétences de ses fiches ROME
(scénario de référence). Le ROME dit qu'un métier mobilise une compétence, pas dans quelle mesure."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pmq  # noqa: E402
from pmq.analysis import skills  # noqa: E402
from pmq.plots.skills import skills_bars  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
table = skills.skills_demand(proj, by="macro_competence", territory="Provence-Alpes-Côte d'Azur")
ax = skills_bars(table, top=12)
ax.figure.savefig(out / "skills_bars.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "skills_bars.png")
