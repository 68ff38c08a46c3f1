"""Compare built-in scenarios and a custom one at the 10-year horizon.

    python examples/compare_scenarios.py
"""
import tempfile
from pathlib import Path

from pmq.projection.compare import project_many

custom = """
[scenario]
extends = "reindustrialisation"
name = "reindus_normandie"
title_fr = "Réindustrialisation, avec +5 000 emplois de plus en Normandie"

[[demand.adjust]]
id = "normandie"
kind = "deviation"
sector = "manufacturing"
territory = ["Normandie"]
anchors = { 2024 = 0, 2030 = 5000 }
assumption = "Illustration: a regional plan adds 5 000 manufacturing jobs in Normandie by 2030"
"""

with tempfile.TemporaryDirectory() as d:
    path = Path(d) / "reindus_normandie.toml"
    path.write_text(custom, encoding="utf-8")
    comp = project_many(["reference", "reindustrialisation", path], horizon=10)

table = comp.table(horizon=10, territory="Normandie")
total = table[table.domain == "Total"].iloc[0]
for name in comp.names:
    print(f"{name:<22} postes à pourvoir 2019–2029 en Normandie : {total['openings | ' + name] / 1e3:8.1f} k")
delta = total["employment_end | Δ reindus_normandie − reference"]
print(f"emploi 2029, écart à la référence : {delta / 1e3:+.1f} k")
assert delta > 0
