"""Where will recruitment be hardest? Imbalances 2019–2030, DARES classes, métiers to watch.

    python examples/imbalance_watch.py
"""
import pmq
from pmq.analysis import imbalance
from pmq.inputs import training

baseline = pmq.load_baseline()
proj = pmq.project(baseline, "reference", horizon=11)

table = imbalance.imbalance_table(proj)            # every métier × region, plus France (FR)
table["classe_dares"] = imbalance.classify(table, "dares")
france = table[table.territory == "FR"]
print(france["classe_dares"].value_counts().to_string())

watch = imbalance.watch_list(table[table.territory == "93"], n=8)   # Provence-Alpes-Côte d'Azur
print(watch[["rank", "metier_label", "class", "imbalance_pct"]].to_string(index=False))

# Supply by diploma level and the ROA indicator (supply ÷ demand; above 1 = surplus)
alloc = training.calibrate_training(baseline)
print(alloc.summary())
roa = imbalance.roa_by_level(proj, alloc)
print(roa[roa.territory == "FR"][["formation", "supply", "demand", "ratio", "class"]].to_string(index=False))
