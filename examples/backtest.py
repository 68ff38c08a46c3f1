"""Ex-post evaluation: from origin 2012 (the survey known up to 2012, so the last DARES window is
2010–2012) project to the window 2017–2019 and compare with what was observed.

Run: python examples/backtest.py
"""
from pmq.estimation.backtest import backtest

res = backtest(2012, 2018)                       # origin 2012 → the window labelled 2018 (2017–2019)
m = res.metrics()
age = m[m["part"] == "age"].set_index("model")
demand = res.demand_metrics().set_index("model")
print(res.summary(lang="en"))                   # the tables; French by default
print(f"\nAge-band MAE: pmq {age.loc['pmq', 'band_mae']:.2f} points, constant pyramid "
      f"{age.loc['constant_pyramid', 'band_mae']:.2f}; pmq better for "
      f"{age.loc['pmq', 'beats_constant_pyramid']:.0f} % of the FAP families")
print(f"Employment by family, MAPE: half-trend shares {demand.loc['shares', 'mape']:.1f} %, "
      f"naive {demand.loc['naive', 'mape']:.1f} %; dissimilarity {demand.loc['shares', 'dissimilarity']:.2f} "
      f"against {demand.loc['naive', 'dissimilarity']:.2f} %")
