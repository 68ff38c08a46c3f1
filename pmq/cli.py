"""Command line: ``pmq run``, thin over the library.

    pmq run reference --horizon 20 --out results
    pmq run my_scenario.toml --data my_observatory/ --out results

Outputs are computed in full, written to a temporary folder beside ``--out`` and
only then moved into place: a failure leaves no half-written output.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from . import __version__
from .errors import PmqError

EPILOG = """\
SCENARIO is a scenario file (.toml) or a built-in name (reference).
Outputs in --out: accounts.nc (every stock and flow, netCDF) and summary.csv
(headline flows per métier × territory at 5, 10 and 20 years and 2030, persons).
Exit status: 0 on success, 2 on bad input (the message names the file, column or
key and the offending values), 1 on an unexpected error.
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


def _write_outputs(proj, out: Path) -> list[Path]:
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        proj.to_netcdf(tmp / "accounts.nc")
        proj.summary_table().to_csv(tmp / "summary.csv", index=False, float_format="%.3f")
        out.mkdir(exist_ok=True)
        written = []
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
            written.append(out / f.name)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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


def cmd_run(args) -> int:
    from .baseline import load_baseline
    from .projection import project
    from .scenario import read_scenario

    scenario = read_scenario(args.scenario)
    baseline = _baseline_from_dir(Path(args.data)) if args.data else load_baseline()
    proj = project(baseline, scenario, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    written = _write_outputs(proj, Path(args.out))
    print(proj.summary())
    for w in written:
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
    r.set_defaults(func=cmd_run)
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
    except KeyboardInterrupt:  # pragma: no cover
        print("pmq: interrupted; no output written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
