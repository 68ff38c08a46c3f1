"""Speed and memory of the charts, exports and `pmq report` (prints figures).

    python benchmarks/bench_report.py

* each chart function on the reference projection to 2030: build, PNG at 300 dpi (matplotlib's, through Pillow,
  and pmq's ``png_bytes``: the same pixels, no per-row filter search), SVG, each saved on its own (each save lays
  the figure out again), and both as the report saves them (``pmq.export.figures.figure_bytes``: laid out once,
  then PNG and SVG from that layout);
* standard tables, Excel workbook, IAMC table (métier level) and its check;
* `pmq report` for one region, one and two scenarios (projection included; figures saved in child processes
  while the report draws the next ones and writes its workbook);
* peak RSS of the process.
"""
import resource
import statistics
import tempfile
import time
from io import BytesIO
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import pmq  # noqa: E402
from pmq import plots  # noqa: E402
from pmq.projection.compare import project_many  # noqa: E402
from pmq.export.iamc import check_iamc, iamc_table  # noqa: E402
from pmq.export import standard_tables, to_excel
from pmq.export.figures import figure_bytes, png_bytes  # noqa: E402
from pmq.export.report import build_report  # noqa: E402


def timed(fn, n=3):
    out, ts = None, []
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return out, statistics.median(ts)


b = pmq.load_baseline()
proj = pmq.project(b, "reference", horizon=11)
comp = project_many(["reference", "bas_carbone_dares2023", "reindustrialisation"], b, horizon=11)

charts = {
    "age_pyramid": lambda: plots.age_pyramid(proj, territory="Bretagne", band=5),
    "waterfall": lambda: plots.waterfall(proj, territory="PACA"),
    "ranked_bars": lambda: plots.ranked_bars(proj, "openings", territory="Normandie"),
    "scenario_lines": lambda: plots.scenario_lines(comp),
    "scenario_bars": lambda: plots.scenario_bars(comp, "openings"),
    "imbalance_heatmap": lambda: plots.imbalance_heatmap(proj),
    "imbalance_map": lambda: plots.imbalance_map(proj),
    "small_multiples": lambda: plots.small_multiples(proj, "waterfall"),
}
print("chart                    build    PNG 300 dpi  pmq PNG    SVG   both, laid out once   (seconds, median of 3)")
for name, make in charts.items():
    res, t_build = timed(make)
    fig = res if hasattr(res, "savefig") else res.figure
    _, t_png = timed(lambda: fig.savefig(BytesIO(), format="png", dpi=300))
    _, t_mine = timed(lambda: png_bytes(fig, 300))
    _, t_svg = timed(lambda: fig.savefig(BytesIO(), format="svg"))
    plt.close("all")
    t_both = []
    for _ in range(3):
        res = make()
        fig = res if hasattr(res, "savefig") else res.figure
        t0 = time.perf_counter()
        figure_bytes(fig)
        t_both.append(time.perf_counter() - t0)
        plt.close("all")
    print(f"{name:<22}{t_build:>8.3f}{t_png:>14.3f}{t_mine:>9.3f}{t_svg:>8.3f}{statistics.median(t_both):>12.3f}")

tables, t_tab = timed(lambda: standard_tables(proj))
with tempfile.TemporaryDirectory() as d:
    _, t_xlsx = timed(lambda: to_excel(tables, Path(d) / "t.xlsx", accounts=proj.accounts))
    size = (Path(d) / "t.xlsx").stat().st_size
iamc, t_iamc = timed(lambda: iamc_table(proj))
_, t_check = timed(lambda: check_iamc(iamc))
print(f"\nstandard tables ({sum(len(t) for t in tables.values()):,} rows): {t_tab:.2f} s; "
      f"Excel workbook: {t_xlsx:.2f} s ({size / 1e3:.0f} kB)")
print(f"IAMC table ({iamc.shape[0]:,} rows × {iamc.shape[1] - 5} years): {t_iamc:.2f} s; check_iamc: {t_check:.2f} s")

with tempfile.TemporaryDirectory() as d:
    for scen in (["reference"], ["reference", "bas_carbone_dares2023"]):
        t0 = time.perf_counter()
        rep = build_report(scen, territory="Normandie", out=Path(d) / "r", progress=False)
        t = time.perf_counter() - t0
        html = rep.html.stat().st_size
        print(f"pmq report, Normandie, {len(scen)} scenario(s): {t:.1f} s, {len(rep.figures) // 2} figures, "
              f"report.html {html / 1e6:.1f} MB")

rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"\npeak RSS: {rss:.0f} MB")
