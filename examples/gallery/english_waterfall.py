"""Les graphiques en anglais
=========================

The same charts in English: job openings and potential imbalance, Île-de-France, 2019–2030."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pmq  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
ax = proj.plot.waterfall(territory="Île-de-France", end_year=2030, lang="en")   # the plot accessor
ax.figure.savefig(out / "english_waterfall.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "english_waterfall.png")
