"""Emplois verts et transition écologique
======================================

Postes à pourvoir 2019–2030 dans des emplois verts ou stratégiques pour la transition écologique, France.

Classes de transition écologique des fiches ROME 4.0 ; scénario de référence et deux variantes de la
trajectoire ADEME S3 (technologies vertes)."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from pmq.analysis import skills  # noqa: E402
from pmq.plots.skills import green_share  # noqa: E402
from pmq.projection.compare import project_many  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
comp = project_many(["reference", "ademe_s3", "ademe_s3_illustratif"], horizon=11, ages=False)   # totals suffice
ax = green_share(skills.green_jobs(comp))
ax.figure.savefig(out / "green_share.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "green_share.png")
