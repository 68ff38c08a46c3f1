"""Ex-post evaluation: project the 2011–2013 DARES vintage to 2017–2019 and compare with what was observed.

Run: python examples/backtest.py
"""
from pmq.estimation.backtest import backtest

res = backtest(2012, 2018)                       # window centres: 2012 = 2011–2013
m = res.metrics()
age = m[m["part"] == "age"].set_index("model")
print(res.summary())
print(f"\nAge-band MAE: pmq {age.loc['pmq', 'band_mae']:.2f} points, constant pyramid "
      f"{age.loc['constant_pyramid', 'band_mae']:.2f}; pmq better for "
      f"{age.loc['pmq', 'beats_constant_pyramid']:.0f} % of the FAP families")
