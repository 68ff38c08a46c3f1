"""Your own territory: build a small baseline from long tables and project it.

An observatory with census employment by age for two départements and two métiers,
a national exit-hazard schedule and flows for 2021–2031.
"""
import numpy as np
import pandas as pd

import pmq
from pmq.model.ages import AGES

rng = np.random.default_rng(0)
cells = [("13", "Bouches-du-Rhône"), ("84", "Vaucluse")]
metiers = ["T4Z", "V0Z"]  # agents d'entretien, aides-soignants

employment = pd.DataFrame([
    {"territory": t, "territory_name": name, "metier": m, "age": int(a), "year": 2021,
     "employment": float(np.round(400 * np.exp(-((a - 45) / 15) ** 2) * (3 if t == "13" else 1), 1))}
    for t, name in cells for m in metiers for a in AGES])

# Exit hazards: take the packaged (estimated) schedules of the same métiers.
hz = pmq.load_baseline()["hazard"].sel(metier=metiers).to_dataframe().reset_index()
hazards = hz[["metier", "age", "hazard"]]

flows = pd.DataFrame([
    {"territory": t, "metier": m, "period_start": 2021, "period_end": 2031,
     "net_creation": 800.0 if m == "V0Z" else -200.0, "young_entrants": 1500.0 if t == "13" else 500.0,
     "net_mobility": 150.0 if t == "13" else -150.0}
    for t, _ in cells for m in metiers])

baseline = pmq.load_user_baseline(employment, hazards, flows)
proj = pmq.project(baseline, "reference", horizon=15)
print(proj.summary())
print(proj.summary_table()[["period", "territory_name", "metier", "openings", "imbalance"]].round(0).head(8))
