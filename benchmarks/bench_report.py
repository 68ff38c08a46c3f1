"""Speed and memory of the charts, exports and `pmq report` (prints figures).

    python benchmarks/bench_report.py

* each chart function on the reference projection to 2030: build, PNG at 300 dpi (matplotlib's, through Pillow,
  and pmq's ``png_bytes``: the same pixels, no per-row filter search, zlib level 3), SVG, each saved on its own
  (each save lays the figure out again), and both as the report saves them
  (``pmq.export.figures.figure_bytes``: laid out once, then PNG and SVG from that layout);
* standard tables, Excel workbook, IAMC table (métier level) and its check;
* `pmq report` for one region, one and two scenarios (projection included; figures drawn and saved by a worker
  process forked once while the report makes its tables, skills section and workbook, then by both): wall, and CPU
  of the process and its worker;
* the report's parts, in CPU seconds (every figure made in the process itself, so that each part is counted):
  the report's own work step by step (projection, tables, skills and workbook, drawing each figure) and each
  figure's save (PNG and SVG) — the figures are taken from one queue, the longest first
  (``pmq.export.report.SAVE_ORDER``), by the worker and by the report's process alike;
* peak RSS of the process.
"""
import os
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
from pmq.export import figures  # noqa: E402
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



def cpu_with_children() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


with tempfile.TemporaryDirectory() as d:
    for scen in (["reference"], ["reference", "bas_carbone_dares2023"]):
        t0, c0 = time.perf_counter(), cpu_with_children()
        rep = build_report(scen, territory="Normandie", out=Path(d) / "r", progress=False)
        t, c = time.perf_counter() - t0, cpu_with_children() - c0
        html = rep.html.stat().st_size
        print(f"pmq report, Normandie, {len(scen)} scenario(s): {t:.1f} s, CPU {c:.1f} s (with the figures' "
              f"worker), {len(rep.figures) // 2} figures, report.html {html / 1e6:.1f} MB")

# the parts of a report, every figure made here (no worker): the report's own work by step, each figure's save
saves, steps = [], []
real_bytes = figures.figure_bytes


def counted_bytes(fig):
    c0 = time.process_time()
    out = real_bytes(fig)
    saves.append((fig.get_size_inches().round(1).tolist(), time.process_time() - c0))
    return out


def step(name, i):
    steps.append((name, time.process_time(), sum(c for _, c in saves)))


figures.figure_bytes, old_workers = counted_bytes, os.environ.get("PMQ_FIGURE_WORKERS")
os.environ["PMQ_FIGURE_WORKERS"] = "0"
try:
    with tempfile.TemporaryDirectory() as d:
        start = time.process_time()
        build_report(["reference"], territory="Normandie", out=Path(d) / "r", progress=step)
        step("end", 0)
finally:
    figures.figure_bytes = real_bytes
    if old_workers is None:
        os.environ.pop("PMQ_FIGURE_WORKERS")
    else:
        os.environ["PMQ_FIGURE_WORKERS"] = old_workers
print("\npmq report, Normandie, one scenario, CPU seconds (figures made in this process):")
own_total = 0.0
for (name, c0, s0), (_, c1, s1) in zip(steps, steps[1:]):
    own = (c1 - c0) - (s1 - s0)
    own_total += own
    print(f"  {name[:60]:<60}{own:>7.3f}" + (f"   + save {s1 - s0:.3f}" if s1 > s0 else ""))
total_saves = sum(c for _, c in saves)
print(f"  own work {own_total:.2f} s, saves {total_saves:.2f} s (the longest {max(c for _, c in saves):.2f} s): "
      f"with one worker beside the report, {max(own_total, (own_total + total_saves) / 2):.2f} s at best")

rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"\npeak RSS: {rss:.0f} MB")
