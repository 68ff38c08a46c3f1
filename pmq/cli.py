"""Command line, thin over the library.

    pmq run reference --horizon 20 --out results
    pmq run my_scenario.toml --data my_observatory/ --out results
    pmq compare reference ademe_s3 reindustrialisation --horizon 10 [--territory PACA] [--out DIR]
    pmq scenarios
    pmq scenarios --copy reference --out my_scenarios     (a built-in scenario's file, to start from)
    pmq templates --out my_data                           (the templates of your own data)
    pmq validate my_scenario.toml
    pmq reproduce metiers2030 [--out DIR]
    pmq report reference bas_carbone_dares2023 --territory Normandie --horizon 11 --out rapport
    pmq export reference --out tables.xlsx   (or .csv folder, .nc, .iamc.csv, .iamc.xlsx)
    pmq backtest --from 2012 --to 2018 [--out DIR]     (or --from 2010,2011,2012,2013)

Outputs are computed in full, written to a temporary folder beside ``--out`` and
only then moved into place: a failure leaves no half-written output.

Errors: every user mistake — data, scenario, option, output path, environment (read-only
folder, missing optional extra, not enough memory) — ends with exit status 2 and one message
naming the file, key, column or option and the offending value, without a traceback; the
output paths are checked before anything is computed, and nothing is written.  An unexpected
error (a bug) shows its traceback and exits with 1; ``--debug`` (or ``PMQ_DEBUG=1``) shows the
traceback of user errors too.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import shlex
import shutil
import sys
import tempfile
import tomllib
import warnings
from pathlib import Path
from typing import NamedTuple

from pmq._version import __version__
from pmq.errors import InactiveLeverWarning, PmqError

ERRORS_EPILOG = """\
Exit status: 0 on success; 2 on a user error — bad data, scenario, option or output path, a
read-only folder, a missing optional extra, an ensemble too big for the memory — with one
message naming the file, key, column or option and the offending value, and nothing written
(--out is checked before computing); 1 on an internal error (a bug: the traceback is shown,
please report it). --debug (or PMQ_DEBUG=1) shows the traceback of user errors too.
Refused: counts (--draws, --chunk, --top) below 1, --horizon outside 1–60, a negative --seed,
an --out that is a file (or a folder pmq did not write where pmq writes a folder), that lies
under a file or in a folder pmq cannot write, or whose name is too long for the file system;
scenario files that are not UTF-8 (the TOML rule) or hold control characters. The full list,
and what is accepted instead: docs/user_data.md, « Errors and exit status ».
"""

TERRITORY_EPILOG = """\
--territory (compare, imbalance, report, skills, passerelles) takes a code or a name of a territory of the run; case,
accents, hyphens and apostrophes do not matter, and the short names observatories use work
(PACA, AURA, IDF, BFC, Région Sud…). At --level departement or zone_emploi a région name selects
its départements (zones) and a département name its zones. FR or France is the national total:
the sum of every territory of the run (France métropolitaine; with --dom the estimated DOM
included; your own territories with --data or --key). run and export take no --territory: they
write every territory, and the national total too (export's tables, the summary run prints).
"""

SCENARIO_LINE = "SCENARIO is a scenario file (.toml) or a built-in name (reference).\n"


def _epilog(outputs: str) -> str:
    """A subcommand's epilog: what SCENARIO is, its own outputs, territories and errors."""
    return SCENARIO_LINE + outputs + TERRITORY_EPILOG + ERRORS_EPILOG


EPILOG = _epilog("""\
Outputs in --out: accounts.nc (every stock and flow, netCDF) and summary.csv
(headline flows per métier × territory at 5, 10 and 20 years and 2030, persons).
""")

MAIN_EPILOG = SCENARIO_LINE + """\
Each command says what it writes: pmq COMMAND --help.  French words and numbers by default,
English with --lang en.  Default horizons: 11 years (2019–2030, the published period that the
reference reproduces) for compare, imbalance, report, skills and passerelles; the scenario's own
[horizons] run (20 years for the reference, to 2050 for ADEME) for run and export, which write
every year.  To start from pmq's files: pmq scenarios --copy NAME --out DIR (a built-in scenario),
pmq templates --out DIR (the tables of your own data, for --data).
""" + ERRORS_EPILOG

COMPARE_EPILOG = _epilog("""\
Outputs in --out: compare_domains.csv and compare_metiers.csv (headline flows by FAP domain and
by métier for each scenario, and each scenario's difference from the first, persons).
""")

IMBALANCE_EPILOG = _epilog("""\
Outputs in --out: imbalance.csv (openings, young entrants, supply, imbalance and the typology
classes per métier × territory) and watch_list.csv (the ranked métiers to watch).
""")

REPORT_EPILOG = _epilog("""\
Outputs in --out: report.html (self-contained), figures/NN_<name>.png (300 dpi) and .svg,
tables.xlsx (key figures, métiers to watch, tables by territory, domain and métier, a sheet per
indicator, differences between scenarios).
""")

EXPORT_EPILOG = _epilog("""\
Output: the file or folder given by --out, in the format of its extension (.xlsx, .nc,
.iamc.csv, .iamc.xlsx) or --format (csv: a folder of CSV files, UTF-8 with a byte-order mark).
""")

RUN_EPILOG = EPILOG + """\
Ensembles (--draws): with the dask extra installed the draws are streamed to ensemble.zarr
chunk by chunk; without it they are computed in memory and written to ensemble.nc (netCDF).
A run whose memory estimate exceeds the limit (half the available memory; --max-memory or
PMQ_MAX_MEMORY) is refused before computing, with the estimate and what to do.
"""

REPRODUCE_EPILOG = """\
EXERCISE: metiers2030 — « Les métiers en 2030 », DARES – France Stratégie, regional results
(1,049 published rows × 15 numeric columns).
Outputs in --out: <EXERCISE>_differences.csv (published value, pmq value and difference
pmq − published for every cell) and <EXERCISE>_differences.xlsx (sheets README, summary, cells).
""" + ERRORS_EPILOG


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


# ------------------------------------------------------------------------- checks before work
def _probe_writable(folder: Path) -> str | None:
    """None if pmq can create entries in ``folder`` (tried: a hidden folder made and removed at
    once — permissions alone do not tell, e.g. for root or on a read-only mount), else why not."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return "no write permission"
    try:
        st = os.stat(folder)
        os.rmdir(tempfile.mkdtemp(prefix=".pmq-write-check-", dir=folder))
        os.utime(folder, ns=(st.st_atime_ns, st.st_mtime_ns))      # the folder looks untouched
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _check_out(value, names=(), *, file: bool = False, option: str = "--out") -> Path:
    """Check, before anything is computed, that the output ``value`` of ``option`` can be written:
    a folder receiving ``names`` (or, with ``file``, one file).  Raises
    :class:`~pmq.errors.ArgumentError` / :class:`~pmq.errors.OutputError` naming the option and
    the path: control characters, a name too long for the file system (pmq's temporary names
    included), a path under a file, a folder pmq cannot write, an output that exists and is not
    pmq's to replace (:func:`pmq.outputs.check_outputs`).  Returns the absolute path."""
    from pmq.errors import ArgumentError, OutputError
    from pmq.outputs import check_target, temp_prefix, check_outputs
    text = os.fspath(value)
    if not text.strip():
        raise ArgumentError("is empty: give an output path", name=option, value=text)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ArgumentError("contains control characters (a NUL byte, a line break, a tab…): not a usable path",
                            name=option, value=text)
    path = Path(os.path.abspath(text))
    anc = path.parent
    while not os.path.lexists(anc) and anc != anc.parent:
        anc = anc.parent
    try:
        name_max = os.pathconf(anc if anc.is_dir() else anc.parent, "PC_NAME_MAX")
        path_max = os.pathconf(anc if anc.is_dir() else anc.parent, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    for part in path.parts[1:]:
        n = len(os.fsencode(part))
        if n > name_max:
            raise OutputError(f"a name in the path is {n} bytes long, above the {name_max} the file system "
                              f"allows ({part[:30]!r}…); choose a shorter {option}", path=text)
    extra = len(os.fsencode(temp_prefix(path.name, "ens"))) - len(os.fsencode(path.name)) + 8 + len(path.suffix)
    if len(os.fsencode(path.name)) + extra > name_max:
        raise OutputError(f"the name is {len(os.fsencode(path.name))} bytes long; pmq writes through a temporary "
                          f"name {extra} bytes longer, so it must be at most {name_max - extra} bytes here; choose a "
                          f"shorter {option}", path=text)
    if len(os.fsencode(str(path))) + 64 > path_max:
        raise OutputError(f"the path is {len(os.fsencode(str(path)))} bytes long, too long for the file system "
                          f"(at most {path_max} with pmq's file names); choose a shorter {option}", path=text)
    if not anc.is_dir():
        raise OutputError(f"lies under {anc}, which is a file, not a folder; choose another {option}", path=text)
    why = _probe_writable(anc)
    if why:
        raise OutputError(f"cannot be written: pmq cannot create anything in {anc} ({why}; a read-only folder or "
                          f"file system?); choose another {option}", path=text)
    if file:
        check_target(path, False)
    else:
        check_outputs(path, list(names))
        if path.is_dir():
            why = _probe_writable(path)
            if why:
                raise OutputError(f"the folder exists but pmq cannot write in it ({why}); choose another {option}",
                                  path=text)
    return path


def _data_folder(args):
    """The ``--data`` folder, checked: it exists and is a folder."""
    from pmq.errors import ArgumentError
    d = getattr(args, "data", None)
    if d is None:
        return None
    path = Path(d)
    if not path.exists():
        raise ArgumentError("no such folder (it should hold employment, hazards, flows [, tension] tables)",
                            name="--data", value=str(d))
    if not path.is_dir():
        raise ArgumentError("is a file, not a folder: give the folder that holds employment, hazards, flows "
                            "[, tension] tables", name="--data", value=str(d))
    return path


def _scenario(name, baseline, horizon=None, territories=None):
    """A scenario read against ``baseline``'s territories, with ``horizon`` (already checked by
    the option's type) and a warning for levers whose years all fall outside the run."""
    from pmq.scenario.read import read_scenario
    sc = read_scenario(name, territories=_territories(baseline) if territories is None else territories)
    if horizon is not None:
        sc = sc.with_horizon(int(horizon))
    return sc          # levers outside the run: warned by pmq.projection.run.scenario_inputs


#: At most this many métiers are listed by ``pmq validate`` when a scenario is above its plausibility bound.
IMPLAUSIBLE_SHOWN = 10


def _implausible(sc, baseline, lang: str):
    """The métiers whose national employment ``sc`` moves from the reference's by more than its plausibility bound
    (``max_metier_deviation``): :func:`pmq.analysis.sources.plausibility_check`'s rows with ``above``, largest
    first, with their label in ``lang``.  It applies the levers to the baseline's arrays (the engine's input path,
    which the run reuses: its trends are cached), a fraction of a second, no projection."""
    from pmq.analysis.sources import plausibility_check
    from pmq.labels import metier_label
    df = plausibility_check(sc, baseline)
    df = df[df["above"]].reset_index(drop=True)
    codes = [str(m) for m in baseline.metier.values]
    own = ([str(x) for x in baseline["metier_label"].values] if "metier_label" in baseline.coords else codes)
    labels = dict(zip(codes, metier_label(codes, lang, labels=own)))
    df["label"] = [labels.get(str(m), str(m)) for m in df["metier"]]
    return df


def _bound_text(bound: float, lang: str) -> str:
    from pmq.formatting import format_percent
    return format_percent(bound, 0 if abs(bound * 100 - round(bound * 100)) < 1e-9 else 1, lang)


def _deviation_text(r, lang: str) -> str:
    """« +12 345 678 personnes (+850,3 %) en 2050 »: one métier's largest move from the reference."""
    from pmq.formatting import format_number, format_percent
    persons = format_number(r.deviation, 0, lang, sign=True)
    rel = float(r.max_relative_deviation)
    share = (format_percent(rel if r.deviation >= 0 else -rel, 1, lang, sign=True) if math.isfinite(rel)
             else ("emploi nul dans la référence" if lang == "fr" else "no employment in the reference"))
    return (f"{persons} personnes ({share}) en {r.year}" if lang == "fr" else
            f"{persons} persons ({share}) in {r.year}")


def _implausible_report(sc, typed, df, lang: str) -> str:
    """What ``pmq validate`` prints for a scenario above its bound: the métiers (code, label, year, deviation in
    persons and %), the bound and how to raise it in the file — or to correct the levers."""
    fr = lang == "fr"
    n, bound = len(df), float(df["bound"].iat[0])
    head = (f"{typed}, clé 'scenario.max_metier_deviation' : l'emploi national de {n} métier{'s' if n > 1 else ''} "
            f"s'écarte de celui du scénario de référence de plus que la borne de plausibilité du scénario, "
            f"{_bound_text(bound, lang)} (valeur : {bound:g}) :" if fr else
            f"{typed}, key 'scenario.max_metier_deviation': the national employment of {n} métier{'s' if n > 1 else ''} "
            f"moves away from the reference scenario's by more than the scenario's plausibility bound, "
            f"{_bound_text(bound, lang)} (value: {bound:g}):")
    # the label last, whole: the figures stay in columns
    said = [(r, _deviation_text(r, lang)) for r in df.head(IMPLAUSIBLE_SHOWN).itertuples()]
    w = max(len(t) for _, t in said)
    rows = [f"  {r.metier}  {t:<{w}}  {r.label}" for r, t in said]
    if n > IMPLAUSIBLE_SHOWN:
        rows.append(f"  … et {n - IMPLAUSIBLE_SHOWN} autres" if fr else f"  … and {n - IMPLAUSIBLE_SHOWN} more")
    top = float(df["max_relative_deviation"].max())
    need = math.ceil(top * 100 - 1e-9) / 100 if math.isfinite(top) else math.inf
    src = Path(str(sc.source)).name
    if need <= 100:
        how = (f"  si ces écarts sont voulus, relevez la borne dans la section [scenario] de {src} : "
               f"max_metier_deviation = {need:g} (une part : 0.25 = 25 %), avec max_metier_deviation_reason = \"…\" "
               "qui dit pourquoi (les deux vont ensemble) ; sinon corrigez les leviers (un nombre 1 000 fois trop "
               "grand ? une part écrite en pourcentage ?)" if fr else
               f"  if these moves are meant, raise the bound in the [scenario] section of {src}: "
               f"max_metier_deviation = {need:g} (a share: 0.25 = 25%), with max_metier_deviation_reason = \"…\" "
               "saying why (the two go together); otherwise correct the levers (a number 1,000 times too big? a "
               "share written as a percentage?)")
    else:
        how = ("  la borne ne peut dépasser 100 (10 000 %) : corrigez les leviers (un nombre 1 000 fois trop grand ? "
               "une part écrite en pourcentage ?)" if fr else
               "  the bound cannot exceed 100 (10,000%): correct the levers (a number 1,000 times too big? a share "
               "written as a percentage?)")
    return "\n".join([head, *rows, how])


def _warn_implausible(scenarios, typed, baseline, lang: str) -> None:
    """A ``pmq: warning:`` line per scenario above its plausibility bound (the run goes on): ``pmq validate`` is
    where it fails, listing the métiers.  A check that cannot be made (a user's data the reference cannot be
    applied to) is left to the run's own errors."""
    from pmq.errors import PmqWarning
    for sc, t in zip(scenarios, typed):
        if not sc.demand_levers() and sc.trend_model == "published":
            continue                  # the reference's employment path: nothing can move (and no 0.1 s spent)
        try:
            df = _implausible(sc, baseline, lang)
        except PmqError:
            continue
        if not len(df):
            continue
        n, r = len(df), next(df.itertuples())
        bound = _bound_text(float(df["bound"].iat[0]), lang)
        first = f"{r.metier} {r.label}, {_deviation_text(r, lang)}"
        warnings.warn(
            f"{t} : l'emploi national de {n} métier{'s' if n > 1 else ''} s'écarte de celui de la référence de "
            f"plus que la borne de plausibilité du scénario ({bound}, max_metier_deviation) — le plus : {first} ; "
            f"un levier trop grand ? pmq validate {shlex.quote(str(t))} les détaille" if lang == "fr" else
            f"{t}: the national employment of {n} métier{'s' if n > 1 else ''} moves away from the reference's by "
            f"more than the scenario's plausibility bound ({bound}, max_metier_deviation) — the most: {first}; a lever too "
            f"big? pmq validate {shlex.quote(str(t))} lists them", PmqWarning, stacklevel=2)


#: What --territory accepts for the national total — the sum of every territory of the run — matched as names are
#: (case, accents, hyphens do not matter); a territory of the run with one of these codes or names comes first.
NATIONAL_NAMES = ("FR", "France", "France métropolitaine", "France entière", "national", "Ensemble",
                  "Ensemble des territoires", "All territories")
_NATIONAL = "\x00national"
TERRITORY_HELP = ("code or name of a territory (case, accents, hyphens, apostrophes do not matter; short names such as "
                  "PACA, AURA, IDF); at --level departement or zone_emploi a région name selects its départements "
                  "(zones); FR or France: the national total, the sum of every territory of the run")


class _Picked(NamedTuple):
    """A territory asked for with ``--territory``: what was typed, the territories of the run it selects, its name,
    ``group`` (``"region"``, ``"departement"``) when a parent selects its children, ``national`` for FR."""
    typed: str
    codes: tuple[str, ...]
    label: str
    group: str | None = None
    national: bool = False


def _territory_choices(baseline, groups: bool = True, national: bool = True):
    """Names ``--territory`` accepts in ``baseline``: ``(choices, display, members)`` for :func:`pmq.names.resolve`
    — each territory's code, names and, for a built-in région, its short names; with ``groups``, each parent
    région (département) of split territories as ``"region:93"`` with its name and short names, ``members``
    its children; with ``national``, FR and its names."""
    from pmq.data.territories import region_aliases, territories
    terr = [str(t) for t in baseline.territory.values]
    names = [str(n) for n in baseline["territory_name"].values] if "territory_name" in baseline.coords else terr
    source = ([str(n) for n in baseline["territory_source_name"].values]
              if "territory_source_name" in baseline.coords else names)
    level = str(baseline.attrs.get("level") or "region")
    aliases = region_aliases()
    choices: dict[str, list[str]] = {}
    display: dict[str, str] = {}
    members: dict[str, tuple[str, ...]] = {}
    for code, name, src in zip(terr, names, source):
        choices[code] = [name, src]
        if code in aliases and aliases[code][0] == name:      # a built-in région (not a user's code 93)
            choices[code] += aliases[code]
        display[code] = f"{name} ({code})" if name != code else code
    if groups:
        nomen = territories()
        levels = [lvl for lvl in ("region", "departement")
                  if lvl != level and lvl in baseline.coords and baseline[lvl].dims == ("territory",)]
        # a parent's code selects its children when no territory of the run, nor a parent of the other level,
        # has it (13 split by a key into bassins; never 93 at the zones' level: région or département?)
        seen = [set(map(str, baseline[lvl].values)) for lvl in levels]
        ambiguous = set(terr) | (set.intersection(*seen) if len(seen) > 1 else set())
        for lvl in levels:
            parent = [str(p) for p in baseline[lvl].values]
            known = nomen[nomen["level"] == lvl].set_index("code")["name"].to_dict()
            word = "région" if lvl == "region" else "département"
            for code in dict.fromkeys(parent):
                kids = tuple(t for t, p in zip(terr, parent) if p == code)
                if kids == (code,):                     # a territory a key does not split: itself
                    continue
                name = str(known.get(code, code))
                key = f"{lvl}:{code}"
                choices[key] = [name, f"{name} ({lvl})", f"{word} {code}",
                                *(aliases.get(code, []) if lvl == "region" else []),
                                *([code] if code not in ambiguous else [])]
                display[key] = f"{name} ({word} {code})"
                members[key] = kids
    if national:
        choices[_NATIONAL] = list(NATIONAL_NAMES)
        display[_NATIONAL] = "FR (France: the national total)"
    return choices, display, members


def _pick_territories(values, baseline, option: str = "--territory", *, groups: bool = True,
                      national: bool = True) -> list[_Picked]:
    """The territories ``values`` (codes or names, see :data:`TERRITORY_HELP`) select in ``baseline``, resolved
    before any work; an unknown one is refused naming the option, the value and the closest names."""
    from pmq.errors import ArgumentError, UnknownNameError
    from pmq.names import resolve
    if not values:
        return []
    choices, display, members = _territory_choices(baseline, groups, national)
    picked = []
    for v in values:
        try:
            key = resolve(v, choices, kind="territory", display=display)
        except UnknownNameError as exc:
            raise ArgumentError(str(exc), name=option, value=v) from None
        if key == _NATIONAL:
            picked.append(_Picked(v, (), "FR", national=True))
        elif key in members:
            picked.append(_Picked(v, members[key], display[key], group=key.split(":")[0]))
        else:
            picked.append(_Picked(v, (key,), display[key]))
    return picked


def _children_word(baseline, n: int, lang: str = "fr") -> str:
    """« 6 départements », « 37 zones d'emploi »: ``n`` territories of ``baseline``'s level."""
    level = str(baseline.attrs.get("level") or "region")
    words = {"departement": ("département", "départements"), "zone_emploi": ("zone d'emploi", "zones d'emploi"),
             "region": ("région", "régions")}.get(level, ("territoire", "territoires") if lang == "fr"
                                                   else ("territory", "territories"))
    return f"{n} {words[n != 1]}"


def _write_summary(proj, path) -> None:
    """summary.csv, as pmq's CSV tables are written (:func:`pmq.export.tables.write_table_csv`): persons to 3
    decimals, the rates (shares of initial employment) to 6, since 3 would round them to 0.1 point; an undefined
    rate is an empty field."""
    from pmq.export.tables import write_table_csv
    write_table_csv(proj.summary_table(), path)


def _write_outputs(proj, out: Path) -> list[Path]:
    from pmq.outputs import write_atomically

    return write_atomically(out, {
        "accounts.nc": proj.to_netcdf,
        "summary.csv": lambda p: _write_summary(proj, p),
    })


def _baseline_from_dir(d: Path):
    from pmq.inputs.baseline import check_period_end, load_user_baseline
    from pmq.errors import ArgumentError
    files = {}
    for name in ("employment", "hazards", "flows", "tension"):
        cands = [d / f"{name}{ext}" for ext in (".csv", ".xlsx", ".parquet")]
        found = [c for c in cands if c.exists()]
        if not found and name != "tension":
            raise ArgumentError(f"no {name}.csv, {name}.xlsx or {name}.parquet in this folder (see "
                                "docs/user_data.md)", name="--data", value=str(d))
        if len(found) > 1:
            raise ArgumentError(f"several {name} tables ({', '.join(c.name for c in found)}): pmq would not know "
                                "which one to read; keep one", name="--data", value=str(d))
        files[name] = found[0] if found else None
    flows = files["flows"]
    assert flows is not None, "a missing flows table raised above"
    baseline = load_user_baseline(files["employment"], files["hazards"], flows, files["tension"])
    check_period_end(baseline, source=flows.name)
    return baseline


def _baseline(args):
    """The baseline: embedded or ``--data``, split to ``--level`` by the shipped keys, or by ``--key``."""
    from pmq.inputs.baseline import load_baseline
    from pmq.inputs.downscale import downscale, read_key
    from pmq.data.territories import LEVELS
    d = _data_folder(args)
    level = getattr(args, "level", None) or "region"
    key = getattr(args, "key", None)
    dom = bool(getattr(args, "dom", False))
    if key is not None and not Path(key).is_file():
        from pmq.errors import ArgumentError
        raise ArgumentError("no such key file (a table parent, child, metier, weight; see docs/territories.md)",
                            name="--key", value=str(key))
    if dom and d is not None:
        from pmq.errors import ArgumentError
        raise ArgumentError("--dom adds pmq's estimated overseas régions to the embedded baseline; with --data, "
                            "put your own DOM tables in the folder", name="--dom", value=str(d))
    if d is None:
        baseline = load_baseline(level, dom=dom)      # --key then splits the territories of --level
    else:
        baseline = _baseline_from_dir(d)
        if level != "region":
            from pmq.data import regions
            from pmq.errors import ArgumentError
            own = sorted(set(map(str, baseline.territory.values)) - set(regions()["code"]))
            if own:
                raise ArgumentError(f"--level splits the 13 régions by pmq's keys, but the --data tables hold other "
                                    f"territories ({', '.join(own[:5])}{'…' if len(own) > 5 else ''}); split "
                                    f"yours with --key FILE", name="--level", value=level)
            for lvl in LEVELS[1:LEVELS.index(level) + 1]:
                baseline = downscale(baseline, lvl)
    if key is not None:
        table = read_key(key, metiers=[str(m) for m in baseline.metier.values],
                         parents=[str(t) for t in baseline.territory.values])
        baseline = downscale(baseline, table, level="custom", key_source=Path(key).name)
    return baseline


#: The territorial levels (as pmq.data.territories.LEVELS, which imports pandas: not needed to parse options).
LEVEL_NAMES = ("region", "departement", "zone_emploi")


def _level(text: str) -> str:
    """``--level``: one of :data:`LEVEL_NAMES` as users write it — accents, case, plurals, hyphens and
    « zone d'emploi » do not matter (« Département », « zones-emploi »)."""
    if text in LEVEL_NAMES:
        return text
    from pmq.data.territories import canonical_level
    try:
        return canonical_level(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _territory_options(parser) -> None:
    """``--level``, ``--dom`` and ``--key``: the territories of every command that projects (read by
    :func:`_baseline`)."""
    parser.add_argument("--level", type=_level, choices=LEVEL_NAMES, default="region",
                        help="territories: régions (default), départements or zones d'emploi (split by pmq's keys; "
                             "see pmq territories and docs/territories.md); accents, case and plurals do not "
                             "matter (département, zones d'emploi)")
    parser.add_argument("--dom", action="store_true",
                        help="add the five overseas régions (Guadeloupe, Martinique, Guyane, La Réunion, Mayotte) "
                             "as territories estimated by pmq (see docs/territories.md)")
    parser.add_argument("--key", default=None, metavar="FILE",
                        help="your own downscaling key (parent, child, metier, weight) splitting the territories "
                             "of --level (those it does not name stay as they are)")


def _lang_option(parser) -> None:
    """``--lang``: the language of everything the command prints and writes (French by default)."""
    parser.add_argument("--lang", choices=("fr", "en"), default="fr",
                        help="language of what is printed and written: fr (default) or en")


def _csv_sep(text: str):
    """``--csv-sep``: ``,`` (the default, decimal point) or ``;`` (decimal comma), or their names."""
    from pmq.errors import ArgumentError
    from pmq.outputs import csv_dialect_of
    try:
        return csv_dialect_of(text, name="--csv-sep")
    except ArgumentError:
        raise argparse.ArgumentTypeError(f"must be ',' (comma, decimal point: the default) or ';' (semicolon, "
                                         f"decimal comma, as French Excel opens CSV files), got {text!r}") from None


def _csv_option(parser) -> None:
    """``--csv-sep``: the separator (and decimal mark) of the CSV files the command writes (read by :func:`main`,
    which sets :func:`pmq.outputs.csv_dialect` for the command)."""
    parser.add_argument("--csv-sep", type=_csv_sep, default=None, metavar="SEP",
                        help="separator of the CSV files written: ',' (default, with a decimal point) or ';' (with a "
                             "decimal comma, as French Excel opens them; quote it in the shell: --csv-sep ';'). "
                             "Every CSV is UTF-8 with a byte-order mark")


def _csv_context(args):
    """The :func:`pmq.outputs.csv_dialect` of ``--csv-sep`` for the command (nothing to set without it); a
    ``--csv-sep`` given to a command that writes no CSV file (no ``--out``) is refused, naming it."""
    import contextlib
    dialect = getattr(args, "csv_sep", None)
    if dialect is None:
        return contextlib.nullcontext()
    if getattr(args, "out", "") is None:
        from pmq.errors import ArgumentError
        raise ArgumentError("sets the separator of the CSV files written with --out; without --out this command "
                            "writes none: add --out DIR", name="--csv-sep", value=dialect.sep)
    from pmq.outputs import csv_dialect
    return csv_dialect(*dialect)


def _baseline_and_scenarios(args, horizon=None):
    """The baseline (embedded or ``--data``) and every ``args.scenarios`` read against its
    territory names: what compare, report and export start from."""
    baseline = _baseline(args)
    terr = _territories(baseline)
    scenarios = [_scenario(s, baseline, horizon, terr) for s in args.scenarios]
    _check_distinct_names(args.scenarios, scenarios)
    _warn_implausible(scenarios, args.scenarios, baseline, args.lang)
    return baseline, scenarios


def _check_distinct_names(typed, scenarios) -> None:
    """Refuse two scenarios of one run with the same ``[scenario] name`` (their columns, sheets and series would
    collide), naming both as typed, the name and which ``name`` to change: the copy's (``pmq scenarios --copy``
    keeps the built-in's name), else the second file's."""
    from pmq.errors import ScenarioError
    from pmq.scenario.read import is_builtin
    seen: dict = {}                     # name → (as typed, scenario)
    for t, sc in zip(typed, scenarios):
        if sc.name not in seen:
            seen[sc.name] = (str(t), sc)
            continue
        first, other = seen[sc.name]
        if Path(str(other.source)).resolve() == Path(str(sc.source)).resolve():
            raise ScenarioError(f"scenario names must be distinct in one run: {first} and {t} are the same "
                                "scenario, given twice", key="scenario.name", value=sc.name)
        # the file to rename: a user's file rather than a built-in, the second given when both are the user's
        copy, renamed = (first, other) if is_builtin(sc.source) and not is_builtin(other.source) else (str(t), sc)
        stem = Path(str(renamed.source)).stem
        names = {x.name for x in scenarios}
        suggest = stem if stem not in names else next(f"{sc.name}_{i}" for i in range(2, 100)
                                                      if f"{sc.name}_{i}" not in names)
        raise ScenarioError(f"scenario names must be distinct in one run: {first} and {t} are both named "
                            f"{sc.name!r}; give {copy} a name of its own in its [scenario] section, e.g. "
                            f"name = \"{suggest}\" (a copy made with pmq scenarios --copy keeps the name of the "
                            "scenario it copies; a file that extends another without a name takes its name)",
                            source=copy, key="scenario.name", value=sc.name)


def _territories(baseline):
    from pmq.scenario.levers import Context
    return Context.from_baseline(baseline).territory_aliases


ENSEMBLE_FILES = ("quantiles_national.csv", "quantiles_regions.csv", "parameters.csv")


def _dask_installed() -> bool:
    """Whether the dask extra (dask.array and zarr) can be imported."""
    try:
        import dask.array  # noqa: F401
        import zarr  # noqa: F401
    except ImportError:
        return False
    return True


def _ensemble_streamed(args) -> bool:
    """True: draws streamed to ensemble.zarr by dask; False: computed in memory (numpy) and
    written to ensemble.nc — what happens without the dask extra when no --scheduler is asked."""
    from pmq.projection.ensemble import DASK_INSTALL
    from pmq.errors import ArgumentError, MissingDependencyError
    sched = args.scheduler
    if sched is None:
        return _dask_installed()
    if not (sched in ("threads", "sync", "synchronous", "processes") or "://" in sched
            or re.fullmatch(r"[\w.-]+:\d+", sched)):
        raise ArgumentError("unknown scheduler: use threads, sync, processes or a dask.distributed address "
                            "(tcp://host:port)", name="--scheduler", value=sched)
    if not _dask_installed():
        raise MissingDependencyError(f"--scheduler {sched}: dask schedulers need the optional dask extra (dask, "
                                     f"distributed, zarr), not installed: {DASK_INSTALL}; without --scheduler, "
                                     "pmq run computes the draws in memory and writes ensemble.nc")
    return True


def cmd_run(args) -> int:
    from pmq.projection.run import project

    if args.draws is not None:
        from pmq.projection.ensemble import ensemble_files
        streamed = _ensemble_streamed(args)
        _check_out(args.out, ("ensemble.zarr" if streamed else "ensemble.nc",) + ENSEMBLE_FILES)
    else:
        out = _check_out(args.out, ("accounts.nc", "summary.csv"))
    baseline = _baseline(args)
    if args.draws is not None:           # the territories' file is named by the baseline's level
        out = _check_out(args.out, ("ensemble.zarr" if streamed else "ensemble.nc",)
                         + ensemble_files(baseline.attrs.get("level")))
    scenario = _scenario(args.scenario, baseline, args.horizon)
    _warn_implausible([scenario], [args.scenario], baseline, args.lang)
    if args.draws is not None:
        return _run_ensemble(args, baseline, scenario, out, streamed)
    proj = project(baseline, scenario, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    # the horizon sums, once, for summary.csv and the summary printed (each would compute them again)
    from pmq.projection.summary import scenario_summary_table, summarize
    h = proj.horizons()
    table = scenario_summary_table(h)

    class Computed:  # what _write_outputs reads of the projection, the table made from those horizons
        to_netcdf = staticmethod(proj.to_netcdf)
        summary_table = staticmethod(lambda: table)

    written = _write_outputs(Computed, out)
    print(summarize(proj.accounts, h, lang=args.lang))
    _written(written, args.lang)
    return 0


def _write_ensemble_nc(ens, path) -> None:
    """The draws as netCDF (h5netcdf, a core dependency), compressed; attrs say what they are."""
    ds = ens.flows.copy()
    ds.attrs.update(n_draws=ens.n_draws, seed=ens.seed, scenario=str(ens.context.spec.source),
                    units="persons", note="age-summed stocks and flows per draw (pmq run --draws, in memory)")
    ds.to_netcdf(path, engine="h5netcdf", encoding={k: {"zlib": True, "complevel": 1} for k in ds.data_vars})


def _run_ensemble(args, baseline, scenario, out: Path, streamed: bool) -> int:
    import contextlib

    from pmq.projection.ensemble import check_memory, local_scheduler
    from pmq.outputs import remove_temporary, temporary_folder

    if not scenario.lever_list("uncertainty.parameter"):
        print("pmq: note: the scenario has no [[uncertainty.parameter]]; every draw is the deterministic run",
              file=sys.stderr)
    workers = 1 if not streamed or args.scheduler in ("sync", "synchronous") else (os.cpu_count() or 2)
    check_memory(baseline, scenario, args.draws, None, args.chunk, streamed=streamed, workers=workers,
                 max_memory=args.max_memory, name="--draws")          # before any work (run_ensemble checks again)
    if not streamed:
        print("pmq: note: dask is not installed: the draws are computed in memory and written to ensemble.nc "
              "(netCDF)", file=sys.stderr)
    stream = sys.stderr

    def progress(done, total):
        stream.write(f"\r  ensemble  {done}/{total} chunks of draws")
        if done == total:
            stream.write("\n")
        stream.flush()

    tmp = temporary_folder(out, "ens") if streamed else None
    try:
        with local_scheduler(args.scheduler) if streamed else contextlib.nullcontext():
            return _ensemble_outputs(args, baseline, scenario, out, streamed, tmp, progress)
    finally:
        if tmp is not None:
            remove_temporary(tmp)


def _ensemble_outputs(args, baseline, scenario, out: Path, streamed: bool, tmp, progress) -> int:
    """The ensemble's run and its files (:func:`_run_ensemble`, which cleans ``tmp`` up)."""
    from pmq.projection.ensemble import run_ensemble
    from pmq.outputs import write_atomically

    ens = run_ensemble(scenario, baseline, draws=args.draws, seed=args.seed, horizon=args.horizon,
                       chunk=args.chunk, store=tmp / "ensemble.zarr" if tmp is not None else None,
                       scheduler=(args.scheduler or "threads") if streamed else None, progress=progress,
                       max_memory=args.max_memory)
    lang = getattr(args, "lang", None)
    qn = ens.quantiles(lang=lang).to_dataframe().reset_index()
    qr = ens.quantiles(by="territory", lang=lang).to_dataframe().reset_index()
    nat_csv, terr_csv, par_csv = ens.files
    summary = ens.summary(lang=args.lang)
    if tmp is not None:     # streamed
        ens.flows.close()
        zarr_store = tmp / "ensemble.zarr"
        store = {"ensemble.zarr": lambda p: os.replace(zarr_store, p)}
    else:
        store = {"ensemble.nc": lambda p: _write_ensemble_nc(ens, p)}
    written = write_atomically(out, {
        **store,
        nat_csv: lambda p: qn.to_csv(p, index=False, float_format="%.3f"),
        terr_csv: lambda p: qr.to_csv(p, index=False, float_format="%.3f"),
        par_csv: lambda p: ens.parameters.to_csv(p, float_format="%.6g"),
    })
    print(summary)
    _written(written, args.lang)
    return 0


def _print_compare(table, names, stream=None, territory_names=None, where=None, lang: str = "fr") -> None:
    """The headline table of ``compare`` on ``stream``: the « Ensemble » rows when the table has several
    territories, else its one territory; ``where`` names what is shown (default: the territory's name, or
    « Ensemble des territoires »).  Domains by their code and label, numbers in thousands as ``lang`` writes
    them (« 1 939,6 » in French)."""
    from pmq.formatting import format_number
    from pmq.labels import domain_label, text
    en = lang == "en"
    stream = stream or sys.stdout
    terr = table["territory"].unique()
    show = table[table["territory"] == ("Ensemble" if "Ensemble" in terr else terr[0])]
    if where is None:
        where = ("All territories" if en else "Ensemble des territoires") if "Ensemble" in terr else str(terr[0])
        if where in (territory_names or {}):                         # the name, then the code
            where = f"{territory_names[where]} ({where})"
    horizon = show["horizon"].iloc[0]
    print(f"Scenario comparison — {horizon} — {where} (thousand persons)" if en else
          f"Comparaison de scénarios — {horizon} — {where} (milliers de personnes)", file=stream)
    codes = [str(d) for d in show["domain"]]
    labels = domain_label(codes, lang)
    rows = [f"{c} {lab}" if lab != c else ("All" if en and c == "Ensemble" else c) for c, lab in zip(codes, labels)]
    rows = [r if len(r) <= 34 else r[:33] + "…" for r in rows]
    lw = max(len("domain"), *(len(r) for r in rows)) + 2
    for var in ("employment_end", "openings", "departures", "imbalance"):
        cols = [f"{var} | {n}" for n in names] + [f"{var} | Δ {n} − {names[0]}" for n in names[1:]]
        heads = names + [f"Δ {n}" for n in names[1:]]
        w = max(10, *(len(h) + 1 for h in heads))
        print(f"\n{text(var, lang)}", file=stream)
        print(f"{'domain' if en else 'domaine':<{lw}}" + "".join(f"{h:>{w}}" for h in heads), file=stream)
        for label, (_, row) in zip(rows, show.iterrows()):
            print(f"{label:<{lw}}" + "".join(f"{format_number(row[c], 1, lang, scale=1e-3, sign='Δ' in c):>{w}}"
                                             for c in cols), file=stream)


def _territory_names(acc) -> dict[str, str]:
    """``{territory code: name}`` of the accounts (the code itself without names)."""
    codes = [str(t) for t in acc.territory.values]
    names = acc["territory_name"].values if "territory_name" in acc.coords else codes
    return dict(zip(codes, map(str, names)))


def cmd_compare(args) -> int:
    from pmq.outputs import write_atomically
    from pmq.projection.compare import project_many

    out = _check_out(args.out, ("compare_domains.csv", "compare_metiers.csv")) if args.out else None
    baseline, scenarios = _baseline_and_scenarios(args, args.horizon)
    picked = _pick_territories(args.territory, baseline)
    codes = list(dict.fromkeys(c for p in picked for c in p.codes))
    national = any(p.national for p in picked)
    comp = project_many(scenarios, baseline, horizon=args.horizon, ages=False,   # the tables need no ages
                        progress=_progress_printer(sys.stderr))
    # FR: the national total, the « Ensemble » rows of every territory (beside the territories also asked for)
    only = None if national or not codes else codes
    table = comp.table(horizon=args.horizon, territory=only, lang=args.lang)
    by_metier = comp.table(horizon=args.horizon, territory=only, by="metier", lang=args.lang)
    if national and "Ensemble" in set(table["territory"]):
        table = table[table["territory"].isin({"Ensemble", *codes})].reset_index(drop=True)
        by_metier = by_metier[by_metier["territory"].isin({"Ensemble", *codes})].reset_index(drop=True)
    where = None
    if national:
        from pmq.projection.indicators import national as national_total
        code, name, _ = national_total(comp.accounts, "fr")
        where = f"{name} ({code})" if code == "FR" else name
    elif len(picked) == 1 and picked[0].group:      # a région at --level departement: the sum of its départements
        where = f"{picked[0].label} : somme de ses {_children_word(baseline, len(codes))}"
    elif len(codes) > 1:
        labels = [p.label for p in picked]
        where = (f"ensemble des {len(codes)} territoires choisis ({', '.join(labels[:4])}"
                 f"{' …' if len(labels) > 4 else ''})")
    written = []
    if out is not None:
        # the territory's name beside its code (as summary.csv): « Ensemble », the sum of the rows' territories
        if only is None:
            from pmq.projection.indicators import national as national_total
            whole = national_total(comp.accounts, args.lang)[1]
        elif len(picked) == 1 and picked[0].group:
            whole = picked[0].label
        else:
            whole = "Ensemble des territoires choisis" if args.lang == "fr" else "All the territories chosen"
        names = _territory_names(comp.accounts) | {"Ensemble": whole}
        files = {"compare_domains.csv": table, "compare_metiers.csv": by_metier}
        files = {n: t.assign(territory_name=t["territory"].astype(str).map(names).fillna(t["territory"].astype(str)))
                 for n, t in files.items()}
        files = {n: t[[*t.columns[:2], "territory_name", *t.columns[2:-1]]] for n, t in files.items()}
        written = write_atomically(out, {
            n: (lambda p, t=t: t.to_csv(p, index=False, float_format="%.3f")) for n, t in files.items()})
    _print_compare(table, comp.names, territory_names=dict(zip(
        [str(t) for t in baseline.territory.values],
        [str(n) for n in (baseline["territory_name"].values if "territory_name" in baseline.coords
                          else baseline.territory.values)])), where=where, lang=args.lang)
    _written(written, args.lang)
    return 0


def _copy_files(files: dict, args) -> list[Path]:
    """Copy ``files`` (``{name: file of the installed package}``) as they are shipped into the folder ``--out``
    (made if missing), all or nothing (:func:`pmq.outputs.write_atomically`; a CSV file also gets a byte-order mark
    and text fields through :func:`pmq.outputs.finish_csv`).  A file that exists already is never replaced: every
    name is checked first, and one that exists stops the command (exit 2) naming it, with nothing written."""
    from pmq.errors import OutputError
    from pmq.outputs import write_atomically
    folder = Path(os.path.abspath(os.fspath(args.out)))          # existing files first: their own message
    there = [folder / n for n in files if os.path.lexists(folder / n)]
    if there:
        also = f" (and {', '.join(p.name for p in there[1:])})" if len(there) > 1 else ""
        raise OutputError(f"already exists{also}: pmq copies its files without replacing any, so nothing was "
                          "written; move it away or choose another --out", path=there[0])
    out = _check_out(args.out, tuple(files))
    return write_atomically(out, {n: (lambda p, src=src: shutil.copyfile(src, p)) for n, src in files.items()})


def _copy_scenarios(args) -> int:
    """``pmq scenarios --copy NAME… --out DIR``: the built-in scenario files, as shipped, to start from."""
    from pmq.errors import ArgumentError, UnknownNameError
    from pmq.names import resolve
    from pmq.scenario.read import RENAMED, builtin_scenarios
    if not args.copy:
        raise ArgumentError("goes with --copy NAME…: the folder the copies of built-in scenarios are written into "
                            "(pmq scenarios alone lists them)", name="--out", value=args.out)
    if args.out is None:
        raise ArgumentError("needs --out DIR, the folder to copy the scenario files into", name="--copy",
                            value=" ".join(args.copy))
    builtins = builtin_scenarios()
    names = []
    for value in args.copy:
        text = str(value).strip()
        text = text[:-5] if text.lower().endswith(".toml") else text
        text = RENAMED.get(text, text)
        try:
            names.append(resolve(text, {k: [] for k in builtins}, kind="built-in scenario"))
        except UnknownNameError as exc:
            raise ArgumentError(f"{exc} (the built-in scenarios: {', '.join(builtins)})", name="--copy",
                                value=value) from None
    files = {f"{n}.toml": builtins[n] for n in dict.fromkeys(names)}
    written = _copy_files(files, args)
    _written(written, args.lang)
    for name, src in files.items():
        parent = tomllib.loads(src.read_text(encoding="utf-8")).get("scenario", {}).get("extends")
        if parent:
            print(f"note : {name} étend le scénario intégré « {parent} » (extends = \"{parent}\") ; pour étendre "
                  f"une copie de {parent}, copiez-le aussi et écrivez extends = \"{parent}.toml\"" if args.lang == "fr"
                  else f"note: {name} extends the built-in scenario « {parent} » (extends = \"{parent}\"); to extend "
                       f"a copy of {parent} instead, copy it too and write extends = \"{parent}.toml\"")
    # what makes a copy the user's own: its name (a copy keeps the built-in's, which compare refuses beside it),
    # its titles, and the provenance of every lever changed (a built-in's source does not vouch for new figures)
    first = shlex.quote(str(Path(args.out) / next(iter(files))))
    print("à faire dans chaque copie : changez name (la copie garde le nom du scénario intégré ; deux scénarios "
          "comparés doivent avoir des noms distincts), title_fr et title_en ; pour chaque levier que vous modifiez, "
          "remplacez sa source et son hypothèse (source, assumption, basis… et leurs versions _fr, _en) par les "
          f"vôtres ; puis : pmq validate {first}" if args.lang == "fr" else
          "to do in each copy: change name (the copy keeps the built-in's name; scenarios compared must have "
          "distinct names), title_fr and title_en; for each lever you change, replace its source and assumption "
          f"(source, assumption, basis… and their _fr, _en versions) with your own; then: pmq validate {first}")
    return 0


def cmd_templates(args) -> int:
    """``pmq templates --out DIR``: the templates of the long tables of one's own data (pmq/data/templates/)."""
    from pmq.data import data_path
    folder = data_path("templates")
    files = {f.name: f for f in sorted(folder.iterdir()) if f.is_file() and not f.name.startswith((".", "_"))}
    written = _copy_files(files, args)
    _written(written, args.lang)
    out = shlex.quote(str(args.out))
    print(f"à remplir, puis : pmq run reference --data {out} (colonnes : docs/user_data.md)" if args.lang == "fr" else
          f"fill them in, then: pmq run reference --data {out} (columns: docs/user_data.md)")
    return 0


def cmd_scenarios(args) -> int:
    """The built-in scenarios, names and titles; with ``--copy NAME… --out DIR``, copies of their files."""
    from pmq.scenario.read import builtin_scenarios, read_scenario
    if getattr(args, "copy", None) is not None or getattr(args, "out", None) is not None:
        return _copy_scenarios(args)
    rows = []
    for name in builtin_scenarios():
        sc = read_scenario(name)
        rows.append((name, sc.title_fr if args.lang == "fr" else sc.title_en))
    w = max(len(r[0]) for r in rows) + 2
    for name, title in rows:
        print(f"{name:<{w}}{title}")
    return 0


def cmd_territories(args) -> int:
    """The territories of a level (codes, names, parents), optionally within one région."""
    from pmq.data.territories import region_aliases, territories
    from pmq.errors import ArgumentError, UnknownNameError
    from pmq.names import resolve
    t = territories(args.level)
    regions = territories("region").set_index("code")["name"].to_dict()
    deps = territories("departement").set_index("code")["name"].to_dict()
    if args.region is not None:
        choices = region_aliases()
        try:
            code = resolve(args.region, choices, kind="région", display={c: f"{n[0]} ({c})" for c, n in choices.items()})
        except UnknownNameError as exc:
            raise ArgumentError(str(exc), name="--region", value=args.region) from None
        t = t[t["region"] == code]
    en = args.lang == "en"
    head = (("code", "name", "region", "departement", "estimated") if en
            else ("code", "nom", "région", "département", "estimé"))
    rows = [(r.code, r.name, regions.get(r.region, r.region),
             deps.get(r.departement, "") if args.level == "zone_emploi" else "",
             ("yes" if en else "oui") if r.estimated_territory else "") for r in t.itertuples()]
    widths = [max(len(h), *(len(str(x[i])) for x in rows)) + 2 if rows else len(h) + 2 for i, h in enumerate(head)]
    keep = [i for i, h in enumerate(head) if any(x[i] for x in rows) or i < 2]
    print("".join(f"{head[i]:<{widths[i]}}" for i in keep).rstrip())
    for x in rows:
        print("".join(f"{str(x[i]):<{widths[i]}}" for i in keep).rstrip())
    n = len(rows)
    word = {"region": ("région", "régions"), "departement": ("département", "départements"),
            "zone_emploi": ("zone d'emploi (partie par département)", "zones d'emploi (parties par département)")}
    word_en = {"region": ("région", "régions"), "departement": ("département", "départements"),
               "zone_emploi": ("zone d'emploi (part by département)", "zones d'emploi (parts by département)")}
    print(f"{n} {(word_en if en else word)[args.level][n != 1]}")
    return 0


def cmd_validate(args) -> int:
    """Every check ``pmq run`` makes, without writing anything: the file, the levers applied to
    the baseline's arrays, the [uncertainty] section (as ``--draws``) and the projection itself
    (a lever that empties a cell, flows larger than the stock); each file is reported.  And the size of the
    levers, which ``pmq run`` only warns about: a métier moved from the reference beyond the scenario's
    plausibility bound (:func:`_implausible`) makes the file invalid, the métiers listed in ``--lang``."""
    from pmq.projection.ensemble import check_uncertainty
    from pmq.projection.run import project
    from pmq.scenario.read import LEVER_SECTIONS

    baseline = _baseline(args)
    terr = _territories(baseline)
    failed = 0
    for f in args.files:
        try:
            sc = _scenario(f, baseline, args.horizon, terr)
            check_uncertainty(sc, baseline)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")     # the run's warnings are not the file's problems,
                warnings.simplefilter("always", InactiveLeverWarning)   # but a lever without effect is
                project(baseline, sc)
            # a lever far too big (a number 1 000 times too large) runs: only its size against the bound tells
            implausible = _implausible(sc, baseline, args.lang)
        except PmqError as exc:
            if getattr(args, "debug", False):
                import traceback
                traceback.print_exc()
            print(f"pmq: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        if len(implausible):
            print(f"pmq: error: {_implausible_report(sc, f, implausible, args.lang)}", file=sys.stderr)
            failed += 1
            continue
        n = sum(len(sc.lever_list(k)) for k in LEVER_SECTIONS)
        if args.lang == "fr":
            print(f"{f} : valide — {sc.name} « {sc.title_in('fr')} », {n} levier{'s' if n > 1 else ''}, "
                  f"empreinte {sc.hash}")
        else:
            print(f"{f}: valid — {sc.name} « {sc.title_in('en')} », {n} lever{'s' if n != 1 else ''}, hash {sc.hash}")
    if failed and len(args.files) > 1:
        print(f"pmq: {failed} of {len(args.files)} file(s) invalid", file=sys.stderr)
    return 2 if failed else 0


def cmd_reproduce(args) -> int:
    from pmq.analysis.reproduce import get_exercise
    from pmq.outputs import write_atomically

    exercise = get_exercise(args.exercise)  # an unknown name fails before any work
    stem = f"{str(args.exercise).strip().lower()}_differences"
    out = _check_out(args.out, (f"{stem}.csv", f"{stem}.xlsx")) if args.out else None
    baseline = _baseline(args) if args.data else None
    rep = exercise(baseline=baseline, progress=_progress_printer(sys.stderr))
    written = write_atomically(out, rep.writers(args.lang)) if out is not None else []
    print(rep.table(args.lang))
    _written(written, args.lang)
    return 0


def cmd_imbalance(args) -> int:
    from pmq.analysis import imbalance as im
    from pmq.formatting import format_percent
    from pmq.labels import metier_label
    from pmq.outputs import write_atomically
    from pmq.projection.indicators import national
    from pmq.projection.run import project

    out = _check_out(args.out, ("imbalance.csv", "watch_list.csv")) if args.out else None
    baseline = _baseline(args)
    picked = _pick_territories(args.territory, baseline)
    codes = {c for p in picked for c in p.codes} | ({"FR"} if any(p.national for p in picked) else set())
    sc = _scenario(args.scenario, baseline, args.horizon)
    _warn_implausible([sc], [args.scenario], baseline, args.lang)
    proj = project(baseline, sc, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    table = im.imbalance_table(proj, horizon=args.horizon, lang=args.lang)
    if args.territory:
        table = table[table["territory"].isin(codes)]
    for name in ("dares", "cops", "roa"):
        table[f"class_{name}"] = im.classify(table, name, lang=args.lang)
    watch = im.watch_list(table, n=args.top, lang=args.lang)
    written = []
    if out is not None:
        from pmq.export.tables import write_table_csv       # persons to 3 decimals, shares and ratios to 6
        written = write_atomically(out, {
            "imbalance.csv": lambda p: write_table_csv(table, p),
            "watch_list.csv": lambda p: write_table_csv(watch, p),
        })
    period = table["period"].iloc[0]
    en = args.lang == "en"
    print(f"Métiers to watch — {sc.title_en} — {period} (imbalance as a % of initial employment)" if en else
          f"Métiers à surveiller — {sc.title_fr} — {period} (déséquilibre en % de l'emploi initial)")
    for p in picked:
        if p.group:                 # a région (département) name at a lower level: its children
            n = _children_word(baseline, len(p.codes), args.lang)
            print(f"{p.typed}: the {n} of {p.label}" if en else f"{p.typed} : les {n} de {p.label}")
    labels = im.PRESETS["dares"].labels_en if en else im.PRESETS["dares"].labels_fr
    by_code = dict(tuple(watch.groupby("territory", sort=False)))
    for code, t in table.groupby("territory", sort=True):   # the watch list's order (by code)
        estimated = "estimated" in t and bool(t["estimated"].all())
        tname = national(baseline, args.lang)[1] if code == "FR" else t["territory_name"].iloc[0]
        print(f"\n{tname} ({code})"
              + ((" — figures estimated by pmq" if en else " — chiffres estimés par pmq") if estimated else ""))
        g = by_code.get(code)
        if g is None:               # say why the list is empty rather than print nothing
            if t["tension"].isna().all():
                print("  no métier to watch: this territory has no 2019 tension class (DARES publishes none for "
                      "it), without which the DARES typology classes no métier" if en else
                      "  aucun métier à surveiller : ce territoire n'a pas de classe de tension 2019 (la DARES n'en "
                      "publie pas pour lui), sans laquelle la typologie DARES ne classe aucun métier")
            else:
                print(f"  no métier in the classes « {labels['accentuer']} » or « {labels['nouvelles']} » over "
                      f"{period}" if en else f"  aucun métier dans les classes « {labels['accentuer']} » ou "
                      f"« {labels['nouvelles']} » sur {period}")
            continue
        # the reader's language: « +47,1 % » (narrow no-break spaces, true minus) in French, « +47.1% » in English;
        # the métier's label in English from the nomenclature (the table's label is the data's, in French)
        names = (metier_label(g["metier"], "en", labels=[str(x) for x in g["metier_label"]]) if en
                 else [str(x) for x in g["metier_label"]])
        for name, (_, r) in zip(names, g.iterrows()):
            mark = f" ({r['reliability_label']})" if int(r.get("reliability", 0)) >= 1 else ""
            pct = format_percent(r["imbalance_pct"], 1, lang=args.lang, sign=True)
            print(f"  {r['rank']:>2}. {r['metier']} {name[:60]:<60} {pct:>8}  {r['class']}{mark}")
    if "estimated" in watch and watch["estimated"].any():
        print("\nEstimated figures: a share of the région by pmq's key, or an overseas région; the reliability "
              "classes (in brackets, and in the CSV files' reliability columns) are explained in docs/territories.md"
              if en else
              "\nChiffres estimés : part de la région selon la clé de pmq, ou région d'outre-mer ; les classes de "
              "fiabilité (entre parenthèses, et dans les colonnes reliability des CSV) sont expliquées dans "
              "docs/territories.md")
    _written(written, args.lang)
    return 0


# ------------------------------------------------------------------------- compétences (ROME 4.0)
#: ``pmq skills --by``: the command's names → :data:`pmq.analysis.skills.BY` (green, digital: the fiches' classes).
SKILLS_BY = {"macro_competence": "macro_competence", "savoir_categorie": "savoir_categorie",
             "savoir_etre": "savoir_etre", "fiche": "fiche", "green": "transition_eco", "digital": "transition_num"}
SKILLS_EPILOG = """\
--by: macro_competence (the 491 savoir-faire macro-compétences of ROME 4.0), savoir_categorie (the 5
categories of savoirs), savoir_etre (the 16 savoir-être professionnels), fiche (ROME 4.0 fiches), green (the
fiches' ecological-transition class: vert, stratégique, brun, blanc), digital (the fiches' digital-transition
flag). --view additive spreads each métier's openings over its items (the rows add up to the openings, a
« non rattaché » row included); --view reach gives the openings in the jobs whose fiche requires the item (not
additive). Outputs in --out: skills.csv (every row, UTF-8 with BOM) and skills.xlsx (README sheet with the
sources, the rule and the limits). Method: docs/skills.md.
""" + TERRITORY_EPILOG + ERRORS_EPILOG

PASSERELLES_EPILOG = """\
The passerelles are ROME 4.0's « mobilités » between fiches (rank 1 = the closest, weighted 1/rank), aggregated
to métiers through pmq's bridge métier → ROME fiches: strength = the share of the métier's mobilités that lead
into the destination. The destinations (strength ≥ 1 %) are ranked by their projected imbalance rate in the
territory (imbalance ÷ employment of the base year), with their DARES class. Output in --out: passerelles.csv
(UTF-8 with BOM). Method: docs/skills.md.
""" + TERRITORY_EPILOG + ERRORS_EPILOG


def _written(paths, lang: str) -> None:
    for w in paths:
        print(f"écrit : {w}" if lang == "fr" else f"written: {w}")


def _where(picked, baseline, lang: str):
    """``(territory argument of pmq.analysis.skills, title)`` of the ``--territory`` picked (None: France)."""
    from pmq.projection.indicators import national
    codes = list(dict.fromkeys(c for p in picked for c in p.codes))
    if not codes or any(p.national for p in picked):
        code, name, _ = national(baseline, lang)
        return None, (f"{name} ({code})" if code == "FR" else name)
    if len(picked) == 1 and picked[0].group:
        n = _children_word(baseline, len(codes), lang)
        return codes, (f"{picked[0].label}: the sum of its {n}" if lang == "en" else
                       f"{picked[0].label} : somme de ses {n}")
    return (codes[0] if len(codes) == 1 else codes), ", ".join(p.label for p in picked)


def _metier_code(value: str, baseline, name: str = "MÉTIER") -> str:
    """The métier ``value`` names among the baseline's (code or label), checked before any work; an unknown one
    is refused naming the argument and the closest codes."""
    from pmq.errors import ArgumentError, UnknownNameError
    from pmq.labels import metier_label
    from pmq.names import resolve
    codes = [str(m) for m in baseline.metier.values]
    own = [str(x) for x in baseline["metier_label"].values] if "metier_label" in baseline.coords else None
    choices = {c: [fr, en] for c, fr, en in zip(codes, metier_label(codes, "fr", labels=own),
                                                metier_label(codes, "en", labels=own))}
    try:
        return resolve(value, choices, kind="métier")
    except UnknownNameError as exc:
        raise ArgumentError(f"{exc} (pmq's métier codes: pmq.data.metiers())", name=name, value=value) from None


def cmd_passerelles(args) -> int:
    from pmq.analysis.skills import passerelles
    from pmq.formatting import format_number, format_percent
    from pmq.outputs import write_atomically
    from pmq.projection.run import project

    lang = args.lang
    en = lang == "en"
    out = _check_out(args.out, ("passerelles.csv",)) if args.out else None
    baseline = _baseline(args)
    code = _metier_code(args.metier, baseline)
    picked = _pick_territories([args.territory] if args.territory else [], baseline)
    territory, where = _where(picked, baseline, lang)
    sc = _scenario(args.scenario, baseline, args.horizon)
    _warn_implausible([sc], [args.scenario], baseline, args.lang)
    proj = project(baseline, sc, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    table = passerelles(proj, code, territory=territory, horizon=args.horizon, top=args.top, lang=lang)
    written = []
    if out is not None:
        written = write_atomically(out, {
            "passerelles.csv": lambda p: table.to_csv(p, index=False, encoding="utf-8-sig")})
    label = table.attrs["column_labels"]
    period = table.attrs["period"]
    mlabel = table["metier_label"].iloc[0] if len(table) else code
    print(f"Passerelles from {code} « {mlabel} » — {where} — {period} — scenario « {sc.title_en} »" if en else
          f"Passerelles depuis {code} « {mlabel} » — {where} — {period} — scénario « {sc.title_fr} »")
    print("Occupations close in content (ROME 4.0 mobilities), ranked by their projected imbalance (share of "
          "initial employment)" if en else
          "Métiers proches par leur contenu (mobilités du ROME 4.0), classés par leur déséquilibre potentiel "
          "(en % de l'emploi initial)")
    if table.empty:
        print("  no destination above 1 % of the métier's mobilities" if en else
              "  aucune destination au-dessus de 1 % des mobilités du métier")
    else:
        print(f"  {'':>3} {label['target']:<60} {'link' if en else 'lien':>7} {'imbalance' if en else 'déséquilibre':>13}"
              f" {'persons' if en else 'personnes':>10}  {label['class_dares']}")
    for _, r in table.iterrows():
        name = f"{r['target']} {r['target_label']}"
        name = name if len(name) <= 60 else name[:59] + "…"
        print(f"  {r['rank']:>2}. {name:<60} {format_percent(r['strength'], 1, lang):>7} "
              f"{format_percent(r['imbalance_pct'], 1, lang, sign=True):>13} "
              f"{format_number(r['imbalance'], 0, lang, sign=True):>10}  {r['class_dares'] or '–'}")
    n = table.attrs["n_destinations"]
    self_link = format_percent(table.attrs["self_strength"], 1, lang)
    if len(table) and (table["class_dares"] == "").all():
        print("– : no DARES class for a sum of territories" if en else
              "– : pas de classe DARES pour une somme de territoires")
    print(f"{n} destination(s) with a link of 1% or more; links within {code} itself (between its own fiches): "
          f"{self_link}" if en else
          f"{n} destination(s) liée(s) à 1 % au moins ; liens internes à {code} (entre ses propres fiches) : "
          f"{self_link}")
    _written(written, lang)
    return 0


def _skills_readme(table, args, scenarios, where: str) -> list[list]:
    """The README sheet of skills.xlsx: what the table is, its sources, rule and limits, and its columns."""
    from pmq._version import __version__
    en = args.lang == "en"
    a = table.attrs
    share = a["share_linked"]
    cover = "; ".join(f"{k}: {v:.4f}" for k, v in share.items()) if isinstance(share, dict) else f"{share:.4f}"
    rows = [
        ["pmq", __version__],
        ["table" if en else "tableau", ("Job openings by ROME 4.0 item" if en else
                                        "Postes à pourvoir par élément du ROME 4.0")],
        ["scenarios" if en else "scénarios", ", ".join(f"{s.name} « {s.title_en if en else s.title_fr} »"
                                                      for s in scenarios)],
        ["territory" if en else "territoire", where],
        ["period" if en else "période", a["period"]],
        ["breakdown" if en else "lecture", f"{args.by} — {a['by_label']}"],
        ["view" if en else "vue", a["view"]],
        ["rule" if en else "règle", a["rule"]],
        ["ROME coverage (share of openings linked to a fiche)" if en else
         "couverture ROME (part des postes à pourvoir rattachée à une fiche)", cover],
        ["units" if en else "unités", "persons" if en else "personnes"],
        ["ROME", a["rome_version"]],
    ]
    rows += [["source", s] for s in a["sources"]]
    rows += [["note", s] for s in a["notes"]]
    rows += [[]] + [["column" if en else "colonne", c, lab] for c, lab in a["column_labels"].items()]
    return rows


def _write_skills_xlsx(table, rows, path, lang: str = "fr") -> None:
    """skills.xlsx: a README sheet, then the table (header on the first row, in ``lang``: the columns' labels of
    :func:`pmq.export.tables.column_header`, « Scénario », « Part du total »…, the codes in columns of their own;
    shares as percentages, persons with one decimal); every text cell through :func:`pmq.outputs.neutralise` /
    ``safe_text`` (no formula from a label). Written in one pass with openpyxl's write-only mode (3 to 4 times
    faster than :func:`pmq.export.to_excel` on this table, whose formats would show the shares as whole numbers)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from pmq.export.tables import column_header
    from pmq.outputs import neutralise, safe_text
    labels = table.attrs.get("column_labels") if isinstance(table.attrs.get("column_labels"), dict) else None
    df = neutralise(table)
    wb = Workbook(write_only=True)
    readme = wb.create_sheet("README")
    readme.column_dimensions["A"].width = 30
    readme.column_dimensions["B"].width = 60
    readme.column_dimensions["C"].width = 60
    for r in rows:
        readme.append([safe_text(v) for v in r])
    ws = wb.create_sheet("skills")
    ws.freeze_panes = "A2"
    formats = ["0.0%" if str(c).startswith("share") else "#,##0.0" if df[c].dtype.kind == "f" else None
               for c in df.columns]
    ws.append([safe_text(column_header(str(c), lang, labels)) for c in table.columns])
    for values in df.itertuples(index=False):
        cells = []
        for v, fmt in zip(values, formats):
            cell = WriteOnlyCell(ws, value=None if v != v else v)     # NaN: an empty cell
            if fmt:
                cell.number_format = fmt
            cells.append(cell)
        ws.append(cells)
    wb.save(path)


def cmd_skills(args) -> int:
    from pmq.analysis.skills import skills_demand
    from pmq.formatting import format_number, format_percent
    from pmq.outputs import write_atomically
    from pmq.projection.compare import project_many

    lang = args.lang
    en = lang == "en"
    out = _check_out(args.out, ("skills.csv", "skills.xlsx"))
    baseline, scenarios = _baseline_and_scenarios(args, args.horizon)
    picked = _pick_territories(args.territory, baseline)
    territory, where = _where(picked, baseline, lang)
    proj = project_many(scenarios, baseline, horizon=args.horizon, ages=False, progress=_progress_printer(sys.stderr))
    table = skills_demand(proj, by=SKILLS_BY[args.by], view=args.view, territory=territory, lang=lang)
    rows = _skills_readme(table, args, scenarios, where)
    written = write_atomically(out, {
        "skills.csv": lambda p: table.to_csv(p, index=False, encoding="utf-8-sig"),
        "skills.xlsx": lambda p: _write_skills_xlsx(table, rows, p, lang),
    })
    a = table.attrs
    view = ({"additive": "additive view", "reach": "reach view: openings in the jobs that require it"} if en else
            {"additive": "vue additive", "reach": "vue « portée » : postes des emplois qui le requièrent"})[args.view]
    print(f"{'Skills of the job openings' if en else 'Compétences des postes à pourvoir'} — {where} — {a['period']}"
          f" — {a['by_label']} — {view}")
    share = a["share_linked"]
    for sc, (name, g) in zip(scenarios, table.groupby("scenario", sort=False)):
        print(f"\n{'Scenario' if en else 'Scénario'} « {sc.title_en if en else sc.title_fr} » ({name})")
        cover = format_percent(share[name] if isinstance(share, dict) else share, 1, lang)
        print(f"ROME coverage: {cover} of job openings" if en else
              f"couverture ROME : {cover} des postes à pourvoir")
        diff = "difference" in g.columns and name != table["scenario"].iloc[0]
        top = g[g["code"] != "non_rattache"].head(args.top)
        for i, (_, r) in enumerate(top.iterrows(), start=1):
            text = str(r["label"]) if len(str(r["label"])) <= 70 else str(r["label"])[:69] + "…"
            line = (f"  {i:>2}. {text:<70} {format_number(r['openings'], 1, lang):>12} "
                    f"{format_percent(r['share'], 1, lang):>8}")
            if diff:
                line += f"  {format_number(r['difference'], 1, lang, sign=True):>10}"
            print(line)
    print(("\nPersons over the period; share of all job openings"
           + ("; last column: difference from the first scenario" if len(scenarios) > 1 else "")) if en else
          ("\nPersonnes sur la période ; part de l'ensemble des postes à pourvoir"
           + (" ; dernière colonne : écart au premier scénario" if len(scenarios) > 1 else "")))
    _written(written, lang)
    return 0


# ------------------------------------------------------------------------- option types
def _whole(text: str) -> int:
    try:
        return int(str(text).strip().replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _positive_int(text: str) -> int:
    """A count (--draws, --chunk, --top): a whole number ≥ 1."""
    v = _whole(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, got {text!r}")
    return v


def _horizon(text: str) -> int:
    """Years projected: 1 … MAX_HORIZON (the scenario language's range for horizons.run)."""
    from pmq.scenario.read import MAX_HORIZON
    v = _whole(text)
    if not 1 <= v <= MAX_HORIZON:
        raise argparse.ArgumentTypeError(f"must be a number of years from 1 to {MAX_HORIZON}, got {text!r}")
    return v


def _seed(text: str) -> int:
    v = _whole(text)
    if not 0 <= v < 2**63:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 2**63 − 1, got {text!r}")
    return v


def _year(text: str) -> int:
    from pmq.scenario.read import YEARS
    v = _whole(text)
    if not YEARS[0] <= v <= YEARS[1]:
        raise argparse.ArgumentTypeError(f"must be a calendar year ({YEARS[0]}–{YEARS[1]}), got {text!r}")
    return v


def _trend_years(text: str) -> int:
    v = _whole(text)
    if not 8 <= v <= 60:
        raise argparse.ArgumentTypeError(f"must be a number of years from 8 to 60 (the trend models need at least "
                                         f"8), got {text!r}")
    return v


def _size(text: str) -> str:
    from pmq.projection.ensemble import parse_size
    from pmq.errors import ArgumentError
    try:
        parse_size(text)
    except ArgumentError:
        raise argparse.ArgumentTypeError(f"expected a size such as 8G, 500M or 2.5GB (or off), got {text!r}") from None
    return text


def _horizons(text: str) -> list[int]:
    from pmq.scenario.read import MAX_HORIZON
    try:
        hz = [int(h) for h in str(text).replace(";", ",").split(",") if h.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--horizon takes years, e.g. 11 or 5,10,20; got {text!r}") from None
    if not hz or min(hz) <= 0 or max(hz) > MAX_HORIZON:
        raise argparse.ArgumentTypeError(f"--horizon takes numbers of years from 1 to {MAX_HORIZON}; got {text!r}")
    return hz


def cmd_report(args) -> int:
    from pmq.projection.ensemble import check_memory
    from pmq.errors import ArgumentError
    from pmq.export.report import CHROMIUM_INSTALL, build_report, find_chromium

    if args.pdf and find_chromium() is None:      # before anything is computed or written
        raise ArgumentError(f"needs Chromium to print report.pdf: {CHROMIUM_INSTALL}; or leave --pdf out for "
                            "the HTML report alone", name="--pdf")
    out = _check_out(args.out, ("report.html", "tables.xlsx", "figures", *(["report.pdf"] if args.pdf else [])))
    baseline, scenarios = _baseline_and_scenarios(args, max(args.horizon))
    territory = None                # FR: the national total, the report's default
    if args.territory is not None:
        picked = _pick_territories([args.territory], baseline, groups=False)[0]
        territory = None if picked.national else picked.codes[0]
    if args.draws:
        if not scenarios[0].lever_list("uncertainty.parameter"):
            raise ArgumentError(f"needs a first scenario with [[uncertainty.parameter]] (e.g. reference_incertain); "
                                f"{args.scenarios[0]} has none", name="--draws", value=args.draws)
        from pmq.projection.ensemble import check_uncertainty
        check_uncertainty(scenarios[0], baseline)
        check_memory(baseline, scenarios[0], args.draws, max(args.horizon), name="--draws")
    rep = build_report(scenarios, territory=territory, horizons=args.horizon, out=out,
                       lang=args.lang, baseline=baseline, progress=True, draws=args.draws, seed=args.seed,
                       pdf=args.pdf)
    n_fig = len(rep.figures) // 2
    _written([rep.html, *([rep.out / "report.pdf"] if args.pdf else []), rep.tables,
              f"{n_fig} figure{'s' if n_fig > 1 else ''} (PNG 300 dpi + SVG) dans {rep.out / 'figures'}" if args.lang == "fr"
              else f"{n_fig} figure{'s' if n_fig > 1 else ''} (PNG 300 dpi + SVG) in {rep.out / 'figures'}"], args.lang)
    return 0


def _years(text: str, what: str) -> list[int]:
    from pmq.errors import ArgumentError
    try:
        years = [int(x) for x in str(text).replace(" ", "").split(",") if x]
    except ValueError:
        raise ArgumentError("must be years separated by commas, e.g. 2012 or 2010,2011", name=what,
                            value=text) from None
    if not years:
        raise ArgumentError("must name at least one year", name=what, value=text)
    return years


BACKTEST_FILES = ("backtest_metrics.csv", "backtest_age_by_fap.csv", "backtest_age_bands.csv",
                  "backtest_employment_by_fap.csv", "demand_metrics.csv", "demand_intervals.csv",
                  "demand_rolling.csv", "backtest.png", "backtest.svg")     # pmq.estimation.backtest.OUTPUT_FILES


def cmd_backtest(args) -> int:
    from pmq.estimation.backtest import DEFAULT_STARTS, backtest
    from pmq.outputs import write_atomically

    out = _check_out(args.out, BACKTEST_FILES) if args.out else None
    starts = _years(args.start, "--from") if args.start else list(DEFAULT_STARTS)
    res = backtest(starts, args.end, horizon=args.horizon, pyramids=args.pyramids, employment=args.employment,
                   trend_years=args.trend_years)
    written = write_atomically(out, res.writers(lang=args.lang)) if out is not None else []
    print(res.summary(args.lang))
    _written(written, args.lang)
    return 0


#: Export formats and the file names that choose them (see pmq.export.export).
EXPORT_SUFFIXES = ".xlsx (Excel), .nc (netCDF), .iamc.csv or .iamc.xlsx (IAMC), or a folder name without extension (CSV)"


def _export_format(args) -> tuple[str, Path]:
    """The export format (``--format``, else from the ``--out`` name) and the checked path, before
    anything is computed."""
    from pmq.errors import ArgumentError
    out = str(args.out)
    name = Path(out).name.lower()
    suffix = Path(out).suffix.lower()
    fmt = args.format
    if fmt is None:
        if name.endswith(".csv") and ".iamc." not in name:
            raise ArgumentError("a .csv name, but the CSV export writes one file per table into a folder: give a "
                                "folder name (e.g. --out tables), an IAMC file (.iamc.csv), or --format csv to "
                                "make a folder with this name", name="--out", value=out)
        fmt = ("iamc" if ".iamc." in name else "xlsx" if suffix == ".xlsx" else "nc" if suffix == ".nc" else
               "csv" if not suffix else None)
        if fmt is None:
            raise ArgumentError(f"unknown extension {suffix!r}: use {EXPORT_SUFFIXES}, or --format",
                                name="--out", value=out)
    if fmt == "iamc" and suffix not in (".csv", ".xlsx"):
        raise ArgumentError("an IAMC table is written as .csv or .xlsx (e.g. results.iamc.xlsx)", name="--out",
                            value=out)
    sep = getattr(args, "csv_sep", None)
    if sep is not None and fmt != "csv":
        raise ArgumentError("applies to the CSV tables (--format csv, a folder); " + (
            "an IAMC table keeps the IAMC convention (comma, decimal point) that pyam and the scenario databases "
            "read" if fmt == "iamc" else f"--format {fmt} writes no CSV file"), name="--csv-sep", value=sep.sep)
    return fmt, _check_out(out, file=fmt != "csv")


def cmd_export(args) -> int:
    from pmq.projection.compare import project_many
    from pmq.export import export

    fmt, out = _export_format(args)
    baseline, scenarios = _baseline_and_scenarios(args, args.horizon)
    comp = project_many(scenarios, baseline, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    data = comp if len(scenarios) > 1 else comp[comp.names[0]]
    _written(export(data, out, fmt=fmt, lang=args.lang), args.lang)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pmq",
        description="pmq — prospective des métiers et des qualifications: stock-flow projections of "
                    "employment by métier × territory × age.",
        epilog=MAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"pmq {__version__}")
    p.add_argument("--debug", dest="debug_global", action="store_true", help=DEBUG_HELP)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name, **kw):                       # every command takes --debug
        return sub.add_parser(name, parents=[common], **kw)
    r = add("run", help="project a scenario and write accounts.nc and summary.csv",
                       description="Project a scenario year by year on the embedded « Les métiers en "
                                   "2030 » baseline (or your own data) and write the accounts.",
                       epilog=RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("scenario", metavar="SCENARIO", help="scenario file (.toml) or built-in name")
    r.add_argument("--horizon", type=_horizon, default=None, metavar="YEARS",
                   help="number of annual steps, 1–60 (default: the scenario's, 20)")
    r.add_argument("--out", default="results", metavar="DIR", help="output folder (default: results)")
    r.add_argument("--data", default=None, metavar="DIR",
                   help="folder with your own employment, hazards, flows [, tension] tables "
                        "(.csv/.xlsx/.parquet) instead of the embedded baseline")
    r.add_argument("--draws", type=_positive_int, default=None, metavar="N",
                   help="run an ensemble of N draws (N ≥ 1) of the scenario's [uncertainty] parameters: writes "
                        "ensemble.zarr (ensemble.nc without dask), quantiles_national.csv, "
                        "quantiles_regions.csv, parameters.csv")
    r.add_argument("--seed", type=_seed, default=None, metavar="S",
                   help="seed of the draws, a whole number ≥ 0 (default: the scenario's uncertainty.seed, "
                        "else 0)")
    r.add_argument("--chunk", type=_positive_int, default=50, metavar="C",
                   help="draws computed together, ≥ 1 (default 50)")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="dask scheduler: threads (default with dask), sync, or a dask.distributed address "
                        "(tcp://host:port); needs the dask extra")
    r.add_argument("--max-memory", default=None, type=_size, metavar="SIZE",
                   help="memory the ensemble may use, e.g. 8G or off (default: PMQ_MAX_MEMORY, else half the "
                        "available memory); a larger estimate is refused before computing")
    _territory_options(r)
    _csv_option(r)
    _lang_option(r)
    r.set_defaults(func=cmd_run)

    c = add("compare", help="run several scenarios together and compare headline flows",
                       description="Project several scenarios in one run (same baseline) and print a "
                                   "side-by-side table of headline flows by FAP domain, with the "
                                   "differences from the first scenario.",
                       epilog=COMPARE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files or built-in names")
    c.add_argument("--horizon", type=_horizon, default=11, metavar="YEARS",
                   help="years from the base year, 1–60 (default 11: 2019–2030, the published period, as imbalance "
                        "and report)")
    c.add_argument("--territory", action="append", metavar="NAME",
                   help=f"restrict to a territory: {TERRITORY_HELP} (the « Ensemble » rows); repeatable")
    c.add_argument("--out", default=None, metavar="DIR",
                   help="write compare_domains.csv and compare_metiers.csv there")
    c.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    _territory_options(c)
    _csv_option(c)
    _lang_option(c)
    c.set_defaults(func=cmd_compare)

    s = add("scenarios", help="list the built-in scenarios; --copy NAME… --out DIR copies their files to start from",
            description="List the built-in scenarios (name and title). With --copy NAME… --out DIR, copy their "
                        "files (NAME.toml,\nas shipped) into DIR to start a scenario of your own: pmq validate and "
                        "pmq run read the copies.",
            epilog=ERRORS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--copy", nargs="+", default=None, metavar="NAME",
                   help="copy the files of these built-in scenarios into --out, as shipped; a file that exists "
                        "there is never replaced (nothing is written)")
    s.add_argument("--out", default=None, metavar="DIR", help="with --copy: the folder to copy into (made if missing)")
    _lang_option(s)
    s.set_defaults(func=cmd_scenarios)

    tp = add("templates", help="copy the templates of your own data (long tables) into a folder",
             description="Copy the templates of the long tables of your own data (employment, hazards, flows, "
                         "tension,\nand an example of transitions between métiers) from the installed package into "
                         "DIR; fill them\nin, then pmq run SCENARIO --data DIR. Columns: docs/user_data.md.",
             epilog=ERRORS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    tp.add_argument("--out", required=True, metavar="DIR",
                    help="the folder to copy into (made if missing); a file that exists there is never replaced "
                         "(nothing is written)")
    _lang_option(tp)
    tp.set_defaults(func=cmd_templates)

    te = add("territories", help="list the territories of a level: codes, names, parents",
             description="List the régions, départements or zones d'emploi pmq knows (codes are unambiguous "
                         "within a level;\nnames match accent- and case-insensitively). Zones d'emploi are split "
                         "by département:\na zone lying in several départements is coded <zone>-d<département>.")
    te.add_argument("--level", type=_level, choices=LEVEL_NAMES, default="departement",
                    help="the level listed (default: departement); accents, case and plurals do not matter")
    te.add_argument("--region", default=None, metavar="NAME",
                    help="only the territories of this région (code, name or short name: PACA, AURA, IDF…)")
    _lang_option(te)
    te.set_defaults(func=cmd_territories)

    v = add("validate", help="check scenario files: every check of pmq run, nothing written",
                       description="Check scenario files with every check pmq run makes — the file, the levers "
                                   "applied to the baseline,\nthe [uncertainty] section as --draws reads it, and "
                                   "the projection itself — without writing\nanything; and the size of the levers: "
                                   "a métier whose national employment moves away\nfrom the reference scenario's "
                                   "by more than the scenario's bound (max_metier_deviation, 25 %\nby default) "
                                   "fails, listed (pmq run, compare, report only warn). Every file is reported;\n"
                                   "the exit status is 2 if any is invalid.",
                       epilog=ERRORS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--data", default=None, metavar="DIR", help="check codes against your own baseline")
    v.add_argument("--horizon", type=_horizon, default=None, metavar="YEARS",
                   help="check with this horizon, 1–60, as pmq run --horizon (default: the scenario's)")
    _lang_option(v)
    v.set_defaults(func=cmd_validate)

    im = add("imbalance", help="imbalances, DARES/COPS/ROA classes and the métiers to watch",
                        description="Project a scenario, compute the potential imbalance of every métier × "
                                    "territory (and France)\nover the horizon, classify it with the DARES, "
                                    "COPS and ROA typologies and print the\nranked métiers to watch "
                                    "(DARES « s'accentuer » and « nouvelles difficultés »).",
                        epilog=IMBALANCE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    im.add_argument("scenario", nargs="?", default="reference", metavar="SCENARIO",
                    help="scenario file or built-in name (default: reference)")
    im.add_argument("--horizon", type=_horizon, default=11, metavar="YEARS",
                    help="years from the base year, 1–60 (default 11: 2019–2030, the DARES period)")
    im.add_argument("--territory", action="append", metavar="NAME",
                    help=f"restrict to a territory: {TERRITORY_HELP} (the rows FR); repeatable")
    im.add_argument("--top", type=_positive_int, default=10, metavar="N",
                    help="métiers to watch per territory, ≥ 1 (default 10)")
    _lang_option(im)
    im.add_argument("--out", default=None, metavar="DIR", help="write imbalance.csv and watch_list.csv there")
    im.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    _territory_options(im)
    _csv_option(im)
    im.set_defaults(func=cmd_imbalance)

    pa = add("passerelles", help="the métiers a métier's ROME mobilities lead to, ranked by imbalance",
             description="Project a scenario and list the métiers close in content to MÉTIER (ROME 4.0 "
                         "« mobilités », aggregated\nto métiers), ranked by their projected imbalance rate in the "
                         "territory, with their DARES class.",
             epilog=PASSERELLES_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    pa.add_argument("metier", metavar="MÉTIER", help="code (T2A) or label of the métier of departure")
    pa.add_argument("scenario", nargs="?", default="reference", metavar="SCENARIO",
                    help="scenario file or built-in name (default: reference)")
    pa.add_argument("--territory", default=None, metavar="NAME",
                    help=f"the territory where the imbalances are read: {TERRITORY_HELP} (default)")
    pa.add_argument("--horizon", type=_horizon, default=11, metavar="YEARS",
                    help="years from the base year, 1–60 (default 11: 2019–2030)")
    pa.add_argument("--top", type=_positive_int, default=10, metavar="N", help="destinations listed, ≥ 1 (default 10)")
    _lang_option(pa)
    pa.add_argument("--out", default=None, metavar="DIR", help="write passerelles.csv there")
    pa.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    _territory_options(pa)
    _csv_option(pa)
    pa.set_defaults(func=cmd_passerelles)

    sk = add("skills", help="the job openings in ROME 4.0 compétences, savoirs, green and digital classes",
             description="Project scenarios and read their job openings in ROME 4.0 terms: macro-compétences, "
                         "savoirs,\nsavoir-être, fiches, green and digital classes; print the largest needs and "
                         "the ROME coverage,\nwrite skills.csv and skills.xlsx.",
             epilog=SKILLS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sk.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files or built-in names")
    sk.add_argument("--territory", action="append", metavar="NAME",
                    help=f"{TERRITORY_HELP} (default); repeatable: the territories are summed")
    sk.add_argument("--horizon", type=_horizon, default=11, metavar="YEARS",
                    help="years from the base year, 1–60 (default 11: 2019–2030)")
    sk.add_argument("--by", choices=tuple(SKILLS_BY), default="macro_competence",
                    help="what the openings are read by (default: macro_competence)")
    sk.add_argument("--view", choices=("additive", "reach"), default="additive",
                    help="additive (default: the rows add up to the openings) or reach")
    sk.add_argument("--top", type=_positive_int, default=10, metavar="N",
                    help="rows printed per scenario, ≥ 1 (default 10; the files hold every row)")
    _lang_option(sk)
    sk.add_argument("--out", required=True, metavar="DIR", help="write skills.csv and skills.xlsx there")
    sk.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    _territory_options(sk)
    _csv_option(sk)
    sk.set_defaults(func=cmd_skills)

    rp = add("reproduce", help="compare a pmq run with a published exercise, cell by cell",
                        description="Project the reference scenario over the published period and compare "
                                    "it with every row\nand numeric column of a published exercise; print "
                                    "the max and median |pmq − published|\nper column.",
                        epilog=REPRODUCE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    rp.add_argument("exercise", metavar="EXERCISE", help="published exercise to reproduce (metiers2030)")
    rp.add_argument("--out", default=None, metavar="DIR",
                    help="write <EXERCISE>_differences.csv and .xlsx there")
    rp.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    _csv_option(rp)
    _lang_option(rp)
    rp.set_defaults(func=cmd_reproduce)

    rep = add("report", help="HTML report with charts, key figures, method and sources",
                         description="Project one or more scenarios and write a self-contained HTML report "
                                     "(charts embedded,\nkey figures, métiers to watch, scenario parameters "
                                     "with their sources, method and\nsources), every figure as PNG (300 dpi) "
                                     "and SVG, and tables.xlsx.",
                         epilog=REPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    rep.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files or built-in names")
    rep.add_argument("--territory", default=None, metavar="NAME",
                     help="the territory the report is about, a code or name (case, accents, hyphens do not "
                          "matter; short names such as PACA, AURA); default, or FR / France: the national total")
    rep.add_argument("--horizon", type=_horizons, default=[11], metavar="YEARS",
                     help="years from the base year, one or several (e.g. 5,10,20); default 11 (2019–2030)")
    _lang_option(rep)
    rep.add_argument("--draws", type=_positive_int, default=None, metavar="N",
                     help="add an ensemble of the first scenario's [uncertainty]: fan chart and quantiles")
    rep.add_argument("--seed", type=_seed, default=None, metavar="S", help="seed of the draws, ≥ 0")
    rep.add_argument("--out", default="report", metavar="DIR", help="output folder (default: report)")
    rep.add_argument("--pdf", action="store_true",
                     help="also write report.pdf, the report printed on A4 by headless Chromium (chromium, "
                          "chromium-browser or google-chrome on the PATH, or $PMQ_CHROMIUM)")
    rep.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    _territory_options(rep)
    rep.set_defaults(func=cmd_report)

    ex = add("export", help="tables as Excel, CSV, netCDF or IAMC (pyam) files",
                        description="Project scenarios and export: .xlsx (regions, domains, métiers; README "
                                    "sheet with units and\nsources), a folder of .csv, .nc (all accounts), or "
                                    "an IAMC table (.iamc.csv / .iamc.xlsx).",
                        epilog=EXPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ex.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files or built-in names")
    ex.add_argument("--out", required=True, metavar="PATH",
                    help="output file: .xlsx, .nc, .iamc.csv or .iamc.xlsx; or a folder name without extension "
                         "for CSV tables (a .csv name is refused: the CSV export writes several files)")
    ex.add_argument("--format", choices=("xlsx", "csv", "nc", "iamc"), default=None,
                    help="default: from the --out suffix")
    ex.add_argument("--horizon", type=_horizon, default=None, metavar="YEARS",
                    help="projection length, 1–60 (default: the scenario's, 20)")
    _lang_option(ex)
    ex.add_argument("--data", default=None, metavar="DIR", help="your own baseline folder (as pmq run)")
    _territory_options(ex)
    _csv_option(ex)
    ex.set_defaults(func=cmd_export)

    bt = add("backtest", help="ex-post evaluation on past DARES vintages (age structure, employment)",
                        description="Project past vintages of the DARES « Portraits statistiques des métiers » "
                                    "forward and compare with\nwhat was observed: pmq's replacement model "
                                    "(estimated exit hazards, observed employment path)\nagainst the constant "
                                    "pyramid, and the demand models (half-trend shares, combination,\ntrends) "
                                    "against naive (constant employment) and naive_share (constant share).",
                        epilog="--from names origins: the year up to which the survey is known. DARES values "
                               "are 3-year\nwindows labelled by their centre (2012 = 2011–2013): from origin t "
                               "the forecasts start from\nthe window labelled t−1, the last known; --to names "
                               "the end window's label, --horizon counts\nlabel steps from t−1. The age part "
                               "needs two pairs of pyramids before t−1 (first origin 2011\nwith the shipped "
                               "pyramids); earlier origins evaluate employment only. Outputs in --out:\n"
                               "demand_metrics.csv (window, model, mape, wmape, dissimilarity, direction_share), "
                               "demand_intervals.csv\n(bootstrap over families), demand_rolling.csv (rolling "
                               "origin), backtest_metrics.csv,\nbacktest_age_by_fap.csv, backtest_age_bands.csv, "
                               "backtest_employment_by_fap.csv, backtest.png/.svg.\n"
                               + ERRORS_EPILOG,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    bt.add_argument("--from", dest="start", default=None, metavar="YEAR[,YEAR…]",
                    help="origin(s): forecasts start from the window labelled YEAR−1 (default 2010,2011,2012,2013)")
    bt.add_argument("--to", dest="end", type=_year, default=None, metavar="YEAR", help="end window (default 2018)")
    bt.add_argument("--horizon", type=_positive_int, default=None, metavar="YEARS",
                    help="instead of --to: YEARS label steps after the last known window (end = origin − 1 + YEARS, ≥ 1)")
    bt.add_argument("--pyramids", default=None, metavar="CSV",
                    help="your own pyramids: fap, window (2003-2005), band (15-24 … 60+), employment_k")
    bt.add_argument("--employment", default=None, metavar="CSV", help="your own series: fap, year, employment_k")
    bt.add_argument("--trend-years", type=_trend_years, default=15, metavar="N",
                    help="labels up to the last known window used to fit the demand models, 8–60 (default 15)")
    _lang_option(bt)
    _csv_option(bt)
    bt.add_argument("--out", default=None, metavar="DIR", help="write tables and the chart here")
    bt.set_defaults(func=cmd_backtest)
    return p


DEBUG_HELP = "show the traceback of user errors too (also PMQ_DEBUG=1)"


def _issue_tracker() -> str:
    """Where to report a bug: the package's « Issues » / « Bug Tracker » project URL if its
    metadata has one, else the repository's issue tracker in words."""
    try:
        from importlib.metadata import metadata
        for entry in metadata("pmq").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if any(w in label.lower() for w in ("issue", "bug", "tracker")):
                return url.strip()
    except Exception:  # noqa: BLE001 - metadata missing: an editable or source install
        pass
    return "the pmq project's issue tracker (the repository pmq was installed from)"


#: errno of an OSError that is the environment's, not pmq's: disk full, read-only, permissions, names.
_ENVIRONMENT_ERRNOS = {"ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "ENAMETOOLONG", "ENOTDIR", "EISDIR",
                       "EEXIST", "ENOENT", "EXDEV", "EMFILE", "ENFILE", "EIO", "ETXTBSY", "ELOOP"}


def _is_environment(exc: OSError) -> bool:
    """An OSError about the user's files or machine (exit 2), not about pmq's own files (a bug)."""
    import errno
    here = str(Path(__file__).resolve().parent)
    names = [n for n in (exc.filename, getattr(exc, "filename2", None)) if n]
    if any(str(Path(os.fsdecode(n)).resolve()).startswith(here) for n in names):
        return False
    return errno.errorcode.get(exc.errno or 0, "") in _ENVIRONMENT_ERRNOS


def _os_message(exc: OSError) -> str:
    where = " → ".join(os.fsdecode(n) for n in (exc.filename, getattr(exc, "filename2", None)) if n)
    return (f"{where}: " if where else "") + f"{exc.strerror or exc} (the file system refused; nothing was written)"


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """pmq's warnings as one ``pmq: warning: …`` line on stderr; others as Python shows them."""
    from pmq.errors import OutputNotice, PmqWarning
    stream = file if file is not None else sys.stderr
    try:
        if issubclass(category, (PmqWarning, OutputNotice)) or str(filename).startswith(
                str(Path(__file__).resolve().parent)):
            text = str(message)
            text = text[4:].lstrip() if text.startswith("pmq:") else text
            stream.write(f"pmq: warning: {text}\n")
        else:
            stream.write(warnings.formatwarning(message, category, filename, lineno, line))
    except (OSError, ValueError):  # pragma: no cover - stderr closed
        pass


def _fail(message: str, exc: BaseException, debug: bool) -> int:
    if debug:
        import traceback
        traceback.print_exception(exc)
    print(f"pmq: error: {message}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0, 2 for a user error, 1 for a bug).
    Command-line syntax errors exit through argparse (:class:`SystemExit` with status 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False) or getattr(args, "debug_global", False)
                 or os.environ.get("PMQ_DEBUG", "").strip() not in ("", "0"))
    args.debug = debug
    if not hasattr(args, "lang"):                    # a command that prints little: its words in French
        args.lang = "fr"
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning          # restored on leaving
        try:
            with _csv_context(args):
                return args.func(args)
        except PmqError as exc:
            return _fail(str(exc), exc, debug)
        except BrokenPipeError:  # pragma: no cover - output piped into head
            sys.stderr.close()
            return 0
        except OSError as exc:
            if not _is_environment(exc):
                return _internal(exc)
            return _fail(_os_message(exc), exc, debug)
        except MemoryError as exc:
            return _fail("not enough memory for this run (the machine refused an allocation); run a shorter "
                         "horizon or fewer draws, or free memory; nothing was written", exc, debug)
        except KeyboardInterrupt:  # pragma: no cover
            # a half-opened file object of a library (h5netcdf, h5py) may complain from its destructor
            # at exit: the interruption is the message, not their "Exception ignored" traceback
            sys.unraisablehook = lambda unraisable: None
            print("pmq: interrupted; outputs are complete or absent, never partial", file=sys.stderr)
            return 130
        except Exception as exc:  # noqa: BLE001 - a bug: show it, never hide it
            return _internal(exc)


def _internal(exc: BaseException) -> int:
    import traceback
    traceback.print_exception(exc)
    print(f"pmq: internal error ({type(exc).__name__}): this is a bug in pmq, not a problem with your input. "
          f"Please report it at {_issue_tracker()}, with the command line, pmq {__version__} and the traceback "
          "above.", file=sys.stderr)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
