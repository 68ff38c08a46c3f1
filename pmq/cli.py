"""Command line, thin over the library.

    pmq run reference --horizon 20 --out results
    pmq run my_scenario.toml --data my_observatory/ --out results
    pmq compare reference ademe_s3 reindustrialisation --horizon 10 [--territory PACA] [--out DIR]
    pmq scenarios
    pmq validate my_scenario.toml
    pmq reproduce metiers2030 [--out DIR]
    pmq report reference bas_carbone --territory Normandie --horizon 11 --out rapport
    pmq export reference --out tables.xlsx   (or .csv folder, .nc, .iamc.csv, .iamc.xlsx)
    pmq backtest --from 2012 --to 2018 [--out DIR]     (or --from 2010,2011,2012,2013)

Outputs are computed in full, written to a temporary folder beside ``--out`` and
only then moved into place: a failure leaves no half-written output.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .errors import PmqError
from .export import write_atomically as _write_atomically

EPILOG = """\
SCENARIO is a scenario file (.toml) or a built-in name (reference).
Outputs in --out: accounts.nc (every stock and flow, netCDF) and summary.csv
(headline flows per métier × territory at 5, 10 and 20 years and 2030, persons).
Exit status: 0 on success, 2 on bad input (the message names the file, column or
key and the offending values), 1 on an unexpected error.
"""

REPRODUCE_EPILOG = """\
EXERCISE: metiers2030 — « Les métiers en 2030 », DARES – France Stratégie, regional results
(1,049 published rows × 15 numeric columns).
Outputs in --out: <EXERCISE>_differences.csv (published value, pmq value and difference
pmq − published for every cell) and <EXERCISE>_differences.xlsx (sheets README, summary, cells).
Exit status: 0 on success, 2 on an unknown exercise or bad input (nothing written).
"""


def _progress_printer(stream):
    if not stream.isatty():
        return None

    def show(i, n):
        width = 30
        done = int(width * i / n)
        stream.write(f"\r  projection  [{'█' * done}{' ' * (width - done)}] année {i}/{n}")
        if i == n:
            stream.write("\n")
        stream.flush()

    return show


def _write_summary(proj, path) -> None:
    """summary.csv: persons to 3 decimals; the rates (shares of initial employment) to 6, since
    3 decimals would round them to 0.1 point.  An undefined rate is an empty field."""
    df = proj.summary_table()
    for c in ("departures_rate", "imbalance_rate"):
        df[c] = [f"{v:.6f}" if v == v else "" for v in df[c]]
    df.to_csv(path, index=False, float_format="%.3f")


def _write_outputs(proj, out: Path) -> list[Path]:
    return _write_atomically(out, {
        "accounts.nc": proj.to_netcdf,
        "summary.csv": lambda p: _write_summary(proj, p),
    })


def _baseline_from_dir(d: Path):
    from .baseline import load_user_baseline
    files = {}
    for name in ("employment", "hazards", "flows", "tension"):
        cands = [d / f"{name}{ext}" for ext in (".csv", ".xlsx", ".parquet")]
        found = [c for c in cands if c.exists()]
        if not found and name != "tension":
            raise PmqError(f"{d}: no {name}.csv, {name}.xlsx or {name}.parquet (see docs/user_data.md)")
        files[name] = found[0] if found else None
    return load_user_baseline(files["employment"], files["hazards"], files["flows"], files["tension"])


def _baseline(args):
    from .baseline import load_baseline
    return _baseline_from_dir(Path(args.data)) if getattr(args, "data", None) else load_baseline()


def _baseline_and_scenarios(args):
    """The baseline (embedded or ``--data``) and every ``args.scenarios`` read against its
    territory names: what compare, report and export start from."""
    from .scenario import read_scenario
    baseline = _baseline(args)
    terr = _territories(baseline)
    return baseline, [read_scenario(s, territories=terr) for s in args.scenarios]


def _territories(baseline):
    from .levers import Context
    return Context.from_baseline(baseline).territory_aliases


def cmd_run(args) -> int:
    from .projection import project
    from .scenario import read_scenario

    baseline = _baseline(args)
    scenario = read_scenario(args.scenario, territories=_territories(baseline))
    if args.draws is not None:
        return _run_ensemble(args, baseline, scenario)
    proj = project(baseline, scenario, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    written = _write_outputs(proj, Path(args.out))
    print(proj.summary())
    for w in written:
        print(f"écrit / written: {w}")
    return 0


def _run_ensemble(args, baseline, scenario) -> int:
    from .ensemble import run_ensemble

    if not scenario.lever_list("uncertainty.parameter"):
        print("pmq: note: the scenario has no [[uncertainty.parameter]]; every draw is the deterministic run",
              file=sys.stderr)
    out = Path(args.out)
    stream = sys.stderr

    def progress(done, total):
        stream.write(f"\r  ensemble  {done}/{total} chunks of draws")
        if done == total:
            stream.write("\n")
        stream.flush()

    import tempfile
    out.parent.mkdir(parents=True, exist_ok=True) if out.parent != Path("") else None
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.ens-", dir=out.resolve().parent))
    try:
        ens = run_ensemble(scenario, baseline, draws=args.draws, seed=args.seed, horizon=args.horizon,
                           chunk=args.chunk, store=tmp / "ensemble.zarr", scheduler=args.scheduler or "threads",
                           progress=progress)
        qn = ens.quantiles().to_dataframe().reset_index()
        qr = ens.quantiles(by="territory").to_dataframe().reset_index()
        summary = ens.summary()
        ens.flows.close()
        written = _write_atomically(out, {
            "ensemble.zarr": lambda p: os.replace(tmp / "ensemble.zarr", p),
            "quantiles_national.csv": lambda p: qn.to_csv(p, index=False, float_format="%.3f"),
            "quantiles_regions.csv": lambda p: qr.to_csv(p, index=False, float_format="%.3f"),
            "parameters.csv": lambda p: ens.parameters.to_csv(p, float_format="%.6g"),
        })
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    print(summary)
    for w in written:
        print(f"écrit / written: {w}")
    return 0


def _fmt_thousands(x: float) -> str:
    return f"{x / 1e3:,.1f}".replace(",", "\u202f")


def _print_compare(table, names, stream=None) -> None:
    from .compare import HEADLINE
    stream = stream or sys.stdout
    terr = table["territory"].unique()
    show = table[table["territory"] == ("Ensemble" if "Ensemble" in terr else terr[0])]
    where = "Ensemble des territoires" if "Ensemble" in terr else str(terr[0])
    print(f"Comparaison de scénarios — {show['horizon'].iloc[0]} — {where} (milliers de personnes)",
          file=stream)
    for var in ("employment_end", "openings", "departures", "imbalance"):
        cols = [f"{var} | {n}" for n in names] + [f"{var} | Δ {n} − {names[0]}" for n in names[1:]]
        heads = names + [f"Δ {n}" for n in names[1:]]
        w = max(10, *(len(h) + 1 for h in heads))
        print(f"\n{HEADLINE[var]}", file=stream)
        print(f"{'domaine':<8}" + "".join(f"{h:>{w}}" for h in heads), file=stream)
        for _, row in show.iterrows():
            print(f"{row['domain']:<8}" + "".join(f"{_fmt_thousands(row[c]):>{w}}" for c in cols),
                  file=stream)


def cmd_compare(args) -> int:
    from .compare import project_many

    baseline, scenarios = _baseline_and_scenarios(args)
    comp = project_many(scenarios, baseline, horizon=args.horizon,
                        progress=_progress_printer(sys.stderr))
    table = comp.table(horizon=args.horizon, territory=args.territory or None)
    by_metier = comp.table(horizon=args.horizon, territory=args.territory or None, by="metier")
    written = []
    if args.out:
        written = _write_atomically(Path(args.out), {
            "compare_domains.csv": lambda p: table.to_csv(p, index=False, float_format="%.3f"),
            "compare_metiers.csv": lambda p: by_metier.to_csv(p, index=False, float_format="%.3f"),
        })
    _print_compare(table, comp.names)
    for w in written:
        print(f"écrit / written: {w}")
    return 0


def cmd_scenarios(args) -> int:
    from .scenario import builtin_scenarios, read_scenario
    rows = []
    for name in builtin_scenarios():
        sc = read_scenario(name)
        rows.append((name, sc.title_fr if args.lang == "fr" else sc.title_en))
    w = max(len(r[0]) for r in rows) + 2
    for name, title in rows:
        print(f"{name:<{w}}{title}")
    return 0


def cmd_validate(args) -> int:
    from .projection import scenario_inputs
    from .scenario import LEVER_SECTIONS, read_scenario

    baseline = _baseline(args)
    terr = _territories(baseline)
    for f in args.files:
        sc = read_scenario(f, territories=terr)
        # Apply the levers to the baseline's arrays (no projection): catches levers that
        # reach zero employment, hazards above 1 or codes missing from a user baseline.
        scenario_inputs(baseline, sc)
        n = sum(len(sc.lever_list(k)) for k in LEVER_SECTIONS)
        print(f"{f}: valid — {sc.name} « {sc.title_fr} », {n} lever(s), hash {sc.hash}")
    return 0


def cmd_reproduce(args) -> int:
    from .reproduce import get_exercise

    exercise = get_exercise(args.exercise)  # an unknown name fails before any work
    baseline = _baseline(args) if args.data else None
    rep = exercise(baseline=baseline, progress=_progress_printer(sys.stderr))
    written = _write_atomically(Path(args.out), rep.writers()) if args.out else []
    print(rep.table())
    for w in written:
        print(f"écrit / written: {w}")
    return 0


def cmd_imbalance(args) -> int:
    from . import imbalance as im
    from .projection import project
    from .scenario import read_scenario

    baseline = _baseline(args)
    terr = _territories(baseline)
    sc = read_scenario(args.scenario, territories=terr)
    proj = project(baseline, sc, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    table = im.imbalance_table(proj, horizon=args.horizon)
    if args.territory:
        from .names import resolve
        national = {"FR", "France", "france"}
        codes = {resolve(t, terr, kind="territory") for t in args.territory if t not in national}
        if national & set(args.territory):
            codes.add("FR")
        table = table[table["territory"].isin(codes)]
    for name in ("dares", "cops", "roa"):
        table[f"class_{name}"] = im.classify(table, name, lang=args.lang)
    watch = im.watch_list(table, n=args.top, lang=args.lang)
    written = []
    if args.out:
        written = _write_atomically(Path(args.out), {
            "imbalance.csv": lambda p: table.to_csv(p, index=False, float_format="%.6g"),
            "watch_list.csv": lambda p: watch.to_csv(p, index=False, float_format="%.6g"),
        })
    period = table["period"].iloc[0]
    print(f"Métiers à surveiller — {sc.title_fr} — {period} (déséquilibre en % de l'emploi initial)")
    for (code, name), g in watch.groupby(["territory", "territory_name"], sort=False):
        print(f"\n{name} ({code})")
        for _, r in g.iterrows():
            print(f"  {r['rank']:>2}. {r['metier']} {r['metier_label'][:60]:<60} "
                  f"{100 * r['imbalance_pct']:+6.1f} %  {r['class']}")
    for w in written:
        print(f"écrit / written: {w}")
    return 0


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def _horizons(text: str) -> list[int]:
    try:
        hz = [int(h) for h in str(text).replace(";", ",").split(",") if h.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--horizon takes years, e.g. 11 or 5,10,20; got {text!r}") from None
    if not hz or min(hz) <= 0:
        raise argparse.ArgumentTypeError(f"--horizon takes positive numbers of years; got {text!r}")
    return hz


def cmd_report(args) -> int:
    from .report import build_report

    baseline, scenarios = _baseline_and_scenarios(args)
    rep = build_report(scenarios, territory=args.territory, horizons=args.horizon, out=args.out,
                       lang=args.lang, baseline=baseline, progress=True, draws=args.draws, seed=args.seed)
    print(f"écrit / written: {rep.html}")
    print(f"écrit / written: {rep.tables}")
    print(f"écrit / written: {len(rep.figures)} figures (PNG 300 dpi + SVG) in {rep.out / 'figures'}")
    return 0


def _years(text: str, what: str) -> list[int]:
    from .errors import InputError
    try:
        return [int(x) for x in str(text).replace(" ", "").split(",") if x]
    except ValueError:
        raise InputError(f"{what} must be years separated by commas, got {text!r}", source="command line",
                         column=what, rows=[text]) from None


def cmd_backtest(args) -> int:
    from .backtest import DEFAULT_STARTS, backtest

    starts = _years(args.start, "--from") if args.start else list(DEFAULT_STARTS)
    res = backtest(starts, args.end, horizon=args.horizon, pyramids=args.pyramids, employment=args.employment,
                   trend_years=args.trend_years)
    written = _write_atomically(Path(args.out), res.writers(lang=args.lang)) if args.out else []
    print(res.summary())
    for w in written:
        print(f"écrit / written: {w}")
    return 0


def cmd_export(args) -> int:
    from .compare import project_many
    from .export import export

    baseline, scenarios = _baseline_and_scenarios(args)
    comp = project_many(scenarios, baseline, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    data = comp if len(scenarios) > 1 else comp[comp.names[0]]
    for w in export(data, Path(args.out), fmt=args.format, lang=args.lang):
        print(f"écrit / written: {w}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pmq",
        description="pmq — prospective des métiers et des qualifications: stock-flow projections of "
                    "employment by métier × territory × age.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"pmq {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    r = sub.add_parser("run", help="project a scenario and write accounts.nc and summary.csv",
                       description="Project a scenario year by year on the embedded « Les métiers en "
                                   "2030 » baseline (or your own data) and write the accounts.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("scenario", metavar="SCENARIO", help="scenario file (.toml) or built-in name")
    r.add_argument("--horizon", type=int, default=None, metavar="YEARS",
                   help="number of annual steps (default: the scenario's, 20)")
    r.add_argument("--out", default="results", metavar="DIR", help="output folder (default: results)")
    r.add_argument("--data", default=None, metavar="DIR",
                   help="folder with your own employment, hazards, flows [, tension] tables "
                        "(.csv/.xlsx/.parquet) instead of the embedded baseline")
    r.add_argument("--draws", type=_positive_int, default=None, metavar="N",
                   help="run an ensemble of N draws of the scenario's [uncertainty] parameters: writes "
                        "ensemble.zarr, quantiles_national.csv, quantiles_regions.csv, parameters.csv")
    r.add_argument("--seed", type=int, default=None, metavar="S",
                   help="seed of the draws (default: the scenario's uncertainty.seed, else 0)")
    r.add_argument("--chunk", type=_positive_int, default=50, metavar="C",
                   help="draws computed together (default 50)")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="dask scheduler: threads (default), sync, or a dask.distributed address "
                        "(tcp://host:port)")
    r.set_defaults(func=cmd_run)

    c = sub.add_parser("compare", help="run several scenarios together and compare headline flows",
                       description="Project several scenarios in one run (same baseline) and print a "
                                   "side-by-side table of headline flows by FAP domain, with the "
                                   "differences from the first scenario.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files or built-in names")
    c.add_argument("--horizon", type=int, default=10, metavar="YEARS",
                   help="years from the base year (default 10)")
    c.add_argument("--territory", action="append", metavar="NAME",
                   help="restrict to a territory (code or name; repeatable)")
    c.add_argument("--out", default=None, metavar="DIR",
                   help="write compare_domains.csv and compare_metiers.csv there")
    c.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    c.set_defaults(func=cmd_compare)

    s = sub.add_parser("scenarios", help="list the built-in scenarios")
    s.add_argument("--lang", choices=("fr", "en"), default="fr")
    s.set_defaults(func=cmd_scenarios)

    v = sub.add_parser("validate", help="check scenario files without running them")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--data", default=None, metavar="DIR", help="check codes against your own baseline")
    v.set_defaults(func=cmd_validate)

    im = sub.add_parser("imbalance", help="imbalances, DARES/COPS/ROA classes and the métiers to watch",
                        description="Project a scenario, compute the potential imbalance of every métier × "
                                    "territory (and France)\nover the horizon, classify it with the DARES, "
                                    "COPS and ROA typologies and print the\nranked métiers to watch "
                                    "(DARES « s'accentuer » and « nouvelles difficultés »).",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    im.add_argument("scenario", nargs="?", default="reference", metavar="SCENARIO",
                    help="scenario file or built-in name (default: reference)")
    im.add_argument("--horizon", type=int, default=11, metavar="YEARS",
                    help="years from the base year (default 11: 2019–2030, the DARES period)")
    im.add_argument("--territory", action="append", metavar="NAME",
                    help="restrict to a territory (code or name, or FR; repeatable)")
    im.add_argument("--top", type=int, default=10, metavar="N", help="métiers to watch per territory")
    im.add_argument("--lang", choices=("fr", "en"), default="fr")
    im.add_argument("--out", default=None, metavar="DIR", help="write imbalance.csv and watch_list.csv there")
    im.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    im.set_defaults(func=cmd_imbalance)

    rp = sub.add_parser("reproduce", help="compare a pmq run with a published exercise, cell by cell",
                        description="Project the reference scenario over the published period and compare "
                                    "it with every row\nand numeric column of a published exercise; print "
                                    "the max and median |pmq − published|\nper column.",
                        epilog=REPRODUCE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    rp.add_argument("exercise", metavar="EXERCISE", help="published exercise to reproduce (metiers2030)")
    rp.add_argument("--out", default=None, metavar="DIR",
                    help="write <EXERCISE>_differences.csv and .xlsx there")
    rp.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    rp.set_defaults(func=cmd_reproduce)

    rep = sub.add_parser("report", help="HTML report with charts, key figures, method and sources",
                         description="Project one or more scenarios and write a self-contained HTML report "
                                     "(charts embedded,\nkey figures, métiers to watch, scenario parameters "
                                     "with their sources, method and\nsources), every figure as PNG (300 dpi) "
                                     "and SVG, and tables.xlsx.",
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    rep.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files or built-in names")
    rep.add_argument("--territory", default=None, metavar="NAME",
                     help="region (code or name) the report is about (default: France)")
    rep.add_argument("--horizon", type=_horizons, default=[11], metavar="YEARS",
                     help="years from the base year, one or several (e.g. 5,10,20); default 11 (2019–2030)")
    rep.add_argument("--lang", choices=("fr", "en"), default="fr")
    rep.add_argument("--draws", type=_positive_int, default=None, metavar="N",
                     help="add an ensemble of the first scenario's [uncertainty]: fan chart and quantiles")
    rep.add_argument("--seed", type=int, default=None, metavar="S", help="seed of the draws")
    rep.add_argument("--out", default="report", metavar="DIR", help="output folder (default: report)")
    rep.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    rep.set_defaults(func=cmd_report)

    ex = sub.add_parser("export", help="tables as Excel, CSV, netCDF or IAMC (pyam) files",
                        description="Project scenarios and export: .xlsx (regions, domains, métiers; README "
                                    "sheet with units and\nsources), a folder of .csv, .nc (all accounts), or "
                                    "an IAMC table (.iamc.csv / .iamc.xlsx).",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ex.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files or built-in names")
    ex.add_argument("--out", required=True, metavar="PATH", help="output file (or folder for csv)")
    ex.add_argument("--format", choices=("xlsx", "csv", "nc", "iamc"), default=None,
                    help="default: from the --out suffix")
    ex.add_argument("--horizon", type=int, default=None, metavar="YEARS", help="projection length (default 20)")
    ex.add_argument("--lang", choices=("fr", "en"), default="fr")
    ex.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    ex.set_defaults(func=cmd_export)

    bt = sub.add_parser("backtest", help="ex-post evaluation on past DARES vintages (age structure, employment)",
                        description="Project past vintages of the DARES « Portraits statistiques des métiers » "
                                    "forward and compare with\nwhat was observed: pmq's replacement model "
                                    "(estimated exit hazards, observed employment path)\nagainst the constant "
                                    "pyramid, and trend models against constant employment and constant share.",
                        epilog="Years are the centres of DARES's 3-year windows (2012 = 2011–2013); the "
                               "shipped pyramids run\n2004–2018 and the first possible start is 2010. "
                               "Outputs in --out: backtest_metrics.csv,\nbacktest_age_by_fap.csv, "
                               "backtest_age_bands.csv, backtest_employment_by_fap.csv, backtest.png/.svg.\n"
                               "Exit status: 0 on success, 2 on bad input (nothing written).",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    bt.add_argument("--from", dest="start", default=None, metavar="YEAR[,YEAR…]",
                    help="start window(s) (default 2010,2011,2012,2013)")
    bt.add_argument("--to", dest="end", type=int, default=None, metavar="YEAR", help="end window (default 2018)")
    bt.add_argument("--horizon", type=int, default=None, metavar="YEARS", help="instead of --to: start + YEARS")
    bt.add_argument("--pyramids", default=None, metavar="CSV",
                    help="your own pyramids: fap, window (2003-2005), band (15-24 … 60+), employment_k")
    bt.add_argument("--employment", default=None, metavar="CSV", help="your own series: fap, year, employment_k")
    bt.add_argument("--trend-years", type=int, default=15, metavar="N",
                    help="years up to the start used to fit the trend models (default 15)")
    bt.add_argument("--lang", choices=("fr", "en"), default="fr")
    bt.add_argument("--out", default=None, metavar="DIR", help="write tables and the chart here")
    bt.set_defaults(func=cmd_backtest)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except PmqError as exc:
        print(f"pmq: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - output piped into head
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:  # pragma: no cover
        print("pmq: interrupted; no output written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
