"""Une vignette par région
=======================

Postes à pourvoir et déséquilibre 2019–2030, une vignette par région."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pmq  # noqa: E402
from pmq import plots  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
fig = plots.small_multiples(proj, "waterfall", end_year=2030)
fig.savefig(out / "small_multiples.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "small_multiples.png")
