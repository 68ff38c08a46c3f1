"""Classement : déséquilibre potentiel
===================================

Déséquilibre potentiel le plus élevé (en milliers) en Occitanie, 2019–2030, et les plus forts
excédents de jeunes débutants (ascending=True)."""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import pmq  # noqa: E402
from pmq import plots  # noqa: E402

out = Path(os.environ.get("PMQ_OUT", "gallery"))
out.mkdir(parents=True, exist_ok=True)
proj = pmq.project(pmq.load_baseline(), "reference", horizon=11)
with plots.house_style():
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 7.5), layout="constrained")
plots.ranked_bars(proj, by="imbalance", territory="Occitanie", n=10, ax=top)
plots.ranked_bars(proj, by="imbalance", territory="Occitanie", n=10, ascending=True, ax=bottom)
fig.savefig(out / "ranked_imbalance.png", dpi=int(os.environ.get("PMQ_DPI", 150)))
print(out / "ranked_imbalance.png")
