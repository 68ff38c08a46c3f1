"""Quick start: project the embedded « Les métiers en 2030 » baseline and read the accounts."""
import pmq

baseline = pmq.load_baseline()                      # 13 regions × 83 métiers × ages 15–74, 2019
proj = pmq.project(baseline, "reference", horizon=20)
print(proj.summary())                               # national totals at 5, 10, 20 years and 2030

# Openings (postes à pourvoir) 2019–2030 in Normandie, top 5 métiers, in thousands.
h = proj.horizons().sel(period="2019–2030")
normandie = pmq.select(h, territory="normandie")["openings"].squeeze("territory")
top = normandie.to_series().sort_values(ascending=False).head(5) / 1e3
print(top.round(1))

# Aggregate to France and to FAP domains.
fr_domains = pmq.aggregate_metiers(pmq.aggregate_territories(h), by="domain")
print((fr_domains["departures"].squeeze() / 1e3).round(0).to_series().sort_values().tail(3))
