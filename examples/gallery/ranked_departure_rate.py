"""Classement : départs en fin de carrière
=======================================

Métiers les plus touchés par les départs en fin de carrière (en % de l'emploi 2019), France,
2019–2030."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pmq  # noqa: E402
from pmq import plots  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
ax = plots.ranked_bars(proj, by="departure_rate", n=15)
ax.figure.savefig(out / "ranked_departure_rate.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "ranked_departure_rate.png")
