"""One error contract for the whole command line.

Every user mistake — data, scenario, option, output path, environment (unwritable folder,
missing optional extra, not enough memory) — ends with exit status 2 and one message that names
the file, key, column or option *and* the offending value, without a traceback, with nothing
written and nothing existing changed.  Output paths are checked before anything is computed.
An internal error (a bug) still shows its traceback and exits with 1; ``--debug`` shows the
traceback of user errors too.

The catalogue below (``CASES``) holds one entry per kind of bad input; each runs
``pmq.cli.main`` in-process and checks the whole contract, comparing a listing of the test's
folder (names, sizes, modification times and contents) before and after.  A few cases run in a
subprocess (``python -m pmq.cli``) for the real exit status.
"""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pmq.outputs import FILES_RECORD
from pmq.cli import main
from pmq.errors import (ArgumentError, InactiveLeverWarning, MissingDependencyError, PmqError, PmqWarning,
                        ResourceError, ScenarioError)

TEMPLATES = Path(__file__).resolve().parents[1] / "pmq" / "data" / "templates"
ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# ----------------------------------------------------------------------------------- helpers
def _tree(root: Path) -> dict:
    """Everything under ``root``: kind, size, modification time and content of every entry."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        body = p.read_bytes() if p.is_file() and not p.is_symlink() else None
        out[str(p.relative_to(root))] = (p.is_dir(), st.st_size, st.st_mtime_ns, body)
    return out


def _cli(argv) -> tuple[int, str, str]:
    """``main(argv)`` in-process with stdout/stderr captured; argparse's exit is its status."""
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def _data(tmp: Path, name: str = "data", **edits) -> Path:
    """A user baseline folder from the shipped templates (1 territory × 1 métier, ages 15–74),
    with ``edits``: ``table=function(DataFrame) -> DataFrame``."""
    d = tmp / name
    d.mkdir()
    for t in ("employment", "hazards", "flows", "tension"):
        df = pd.read_csv(TEMPLATES / f"{t}.csv", dtype={"territory": str})
        if t in edits:
            df = edits[t](df)
        df.to_csv(d / f"{t}.csv", index=False)
    return d


def _toml(tmp: Path, text: str, name: str = "s.toml", encoding: str = "utf-8") -> Path:
    p = tmp / name
    p.write_bytes(text.encode(encoding))
    return p


def _file(tmp: Path, name: str = "afile", text: str = "mine") -> Path:
    p = tmp / name
    p.write_text(text)
    return p


@pytest.fixture(scope="module")
def backtest_files(tmp_path_factory):
    """The shipped DARES pyramids and employment series as user files (long CSV tables)."""
    from pmq.estimation.backtest import read_employment_series
    from pmq.estimation.exits import _raw
    d = tmp_path_factory.mktemp("bt")
    _raw().to_csv(d / "pyramids.csv", index=False)
    wide = read_employment_series()
    long = wide.stack().dropna().rename("employment_k").reset_index()
    long.columns = ["year", "fap", "employment_k"]
    long[["fap", "year", "employment_k"]].to_csv(d / "employment.csv", index=False)
    return d


def _bt(tmp, files, which, edit):
    """A copy of the backtest file ``which`` with ``edit`` applied."""
    df = pd.read_csv(files / f"{which}.csv", dtype={"fap": str})
    p = tmp / f"my_{which}.csv"
    edit(df).to_csv(p, index=False)
    return p


LATE = """[scenario]
extends = "reference"
name = "late"
[[young_entrants.adjust]]
id = "late_boost"
factor = 1.2
from_year = 2040
to_year = 2045
assumption = "test"
"""
NOT_PD = """[scenario]
extends = "reference_incertain"
name = "corr"
[[uncertainty.correlation]]
id = "c1"
between = ["age_sortie", "jeunes"]
rho = 0.9
assumption = "test"
[[uncertainty.correlation]]
id = "c2"
between = ["jeunes", "mobilite"]
rho = 0.9
assumption = "test"
[[uncertainty.correlation]]
id = "c3"
between = ["age_sortie", "mobilite"]
rho = -0.9
assumption = "test"
"""
LEVER = ('[scenario]\nextends = "reference"\n[[young_entrants.adjust]]\nid = "{id}"\nfactor = {factor}\n'
         'from_year = {y0}\nto_year = {y1}\nassumption = "x"\n{extra}')


def _lever(**kw):
    return LEVER.format(**{"id": "boost", "factor": 1.1, "y0": 2020, "y1": 2025, "extra": "", **kw})


def _no(*modules):
    """Setup step: make ``modules`` unimportable (as after ``pip install .`` without extras)."""
    def apply(mp):
        for m in modules:
            mp.setitem(sys.modules, m, None)
    return apply


# ------------------------------------------------------------------------- the catalogue
# id -> setup(tmp) returning (argv, [substrings stderr must hold], optional monkeypatch step).
# The substrings name the file / key / column / option AND the offending value.
def _cases(files=None):
    c = {}
    # ---- options of every command (argparse or pmq's own checks)
    c["run --horizon above 60"] = lambda t: (["run", "reference", "--horizon", "100", "--out", t / "o"],
                                             ["--horizon", "'100'", "1 à 60"])
    c["run --horizon 0"] = lambda t: (["run", "reference", "--horizon", "0", "--out", t / "o"], ["--horizon", "'0'"])
    c["run --horizon not a number"] = lambda t: (["run", "reference", "--horizon", "ten", "--out", t / "o"],
                                                 ["--horizon", "'ten'"])
    c["run --draws 0"] = lambda t: (["run", "reference_incertain", "--draws", "0", "--out", t / "o"],
                                    ["--draws", "'0'"])
    c["run --chunk negative"] = lambda t: (["run", "reference_incertain", "--draws", "3", "--chunk", "-2",
                                            "--out", t / "o"], ["--chunk", "'-2'"])
    c["run --seed negative"] = lambda t: (["run", "reference_incertain", "--draws", "3", "--seed", "-1",
                                           "--out", t / "o"], ["--seed", "'-1'"])
    c["run --max-memory garbage"] = lambda t: (["run", "reference_incertain", "--draws", "3", "--max-memory",
                                                "lots", "--out", t / "o"], ["--max-memory", "'lots'"])
    c["run --scheduler unknown"] = lambda t: (["run", "reference_incertain", "--draws", "3", "--scheduler",
                                               "fast", "--out", t / "o"], ["--scheduler", "'fast'"])
    c["imbalance --top negative"] = lambda t: (["imbalance", "--top", "-3", "--out", t / "o"], ["--top", "'-3'"])
    c["compare --horizon 61"] = lambda t: (["compare", "reference", "ademe_s3", "--horizon", "61"],
                                           ["--horizon", "'61'"])
    c["report --horizon list with 0"] = lambda t: (["report", "reference", "--horizon", "5,0", "--out", t / "r"],
                                                   ["--horizon", "'5,0'"])
    c["export --format unknown"] = lambda t: (["export", "reference", "--format", "docx", "--out", t / "x.docx"],
                                              ["--format", "'docx'"])
    c["scenarios --lang unknown"] = lambda t: (["scenarios", "--lang", "de"], ["--lang", "'de'"])
    c["validate --horizon 0"] = lambda t: (["validate", "reference", "--horizon", "0"], ["--horizon", "'0'"])
    c["backtest --trend-years 3"] = lambda t: (["backtest", "--trend-years", "3", "--out", t / "b"],
                                               ["--trend-years", "'3'"])
    c["backtest --to not a year"] = lambda t: (["backtest", "--to", "20x8"], ["--to", "'20x8'"])
    c["backtest --from not years"] = lambda t: (["backtest", "--from", "2012,x", "--out", t / "b"],
                                                ["--from", "'2012,x'"])
    c["backtest --horizon 0"] = lambda t: (["backtest", "--horizon", "0"], ["--horizon", "'0'"])
    c["reproduce unknown exercise"] = lambda t: (["reproduce", "metiers2031", "--out", t / "o"],
                                                 ["metiers2031", "metiers2030"])
    # ---- territories: refused before any projection
    c["compare --territory unknown"] = lambda t: (["compare", "reference", "--territory", "Atlantide",
                                                   "--out", t / "o"], ["--territory", "Atlantide"])
    c["imbalance --territory unknown"] = lambda t: (["imbalance", "--territory", "Atlantide", "--out", t / "o"],
                                                    ["--territory", "Atlantide"])
    c["report --territory unknown"] = lambda t: (["report", "reference", "--territory", "Atlantide",
                                                  "--out", t / "r"], ["--territory", "Atlantide"])
    # ---- --data folders and user tables
    c["--data missing folder"] = lambda t: (["run", "reference", "--data", t / "nowhere", "--out", t / "o"],
                                            ["--data", "nowhere"])
    c["--data is a file"] = lambda t: (["compare", "reference", "--data", _file(t, "obs.csv"), "--out", t / "o"],
                                       ["--data", "obs.csv", "non un dossier"])
    c["--data two employment tables"] = lambda t: (
        ["run", "reference", "--data", _data(t), "--out", t / "o"],
        ["--data", "employment.csv", "employment.xlsx"],
        lambda mp: pd.read_csv(TEMPLATES / "employment.csv").to_excel(t / "data" / "employment.xlsx", index=False))
    c["--data without flows"] = lambda t: (
        ["imbalance", "--data", _data(t), "--out", t / "o"], ["--data", "flows.csv"],
        lambda mp: (t / "data" / "flows.csv").unlink())
    c["table value 1e308"] = lambda t: (
        ["run", "reference", "--data", _data(t, employment=lambda d: d.assign(
            employment=np.where(d.index == 5, 1e308, d["employment"]))), "--out", t / "o"],
        ["employment.csv", "colonne 'employment'", "1.000000e+308", "1,000,000,000"])
    c["table value above a billion"] = lambda t: (
        ["run", "reference", "--data", _data(t, flows=lambda d: d.assign(young_entrants=5e9)), "--out", t / "o"],
        ["flows.csv", "colonne 'young_entrants'", "5000000000.0"])
    c["net creation larger than the stock"] = lambda t: (
        ["run", "reference", "--data", _data(t, flows=lambda d: d.assign(net_creation=-7000)), "--out", t / "o"],
        ["flows.csv", "colonne 'net_creation'", "-7000", "13", "T4Z"])
    c["negative employment"] = lambda t: (
        ["export", "reference", "--data", _data(t, employment=lambda d: d.assign(
            employment=np.where(d.index == 3, -5, d["employment"]))), "--out", t / "x.xlsx"],
        ["employment.csv", "colonne 'employment'", "-5"])
    # ---- scenario files
    c["scenario: bad TOML"] = lambda t: (["validate", _toml(t, "[scenario\nname = ")], ["s.toml", "TOML non valide"])
    c["scenario: wrong type"] = lambda t: (["run", _toml(t, '[horizons]\nrun = "twenty"\n'), "--out", t / "o"],
                                           ["s.toml", "horizons.run", "'twenty'"])
    c["scenario: unknown key"] = lambda t: (["run", _toml(t, '[demand]\nspreding = "linear"\n'), "--out", t / "o"],
                                            ["s.toml", "demand.spreding", "'linear'"])
    c["scenario: unknown section"] = lambda t: (["validate", _toml(t, '[demnd]\nspreading = "linear"\n')],
                                                ["s.toml", "demnd"])
    c["scenario: number without source"] = lambda t: (
        ["validate", _toml(t, '[scenario]\nextends = "reference"\n[[exits.multiplier]]\nid = "m"\nfactor = 1.1\n')],
        ["s.toml", "exits.multiplier[m]", "1.1", "source"])
    c["scenario: from_year after to_year"] = lambda t: (
        ["compare", "reference", _toml(t, _lever(y0=2030, y1=2025)), "--out", t / "o"],
        ["s.toml", "young_entrants.adjust[boost].from_year", "2030", "2025"])
    c["scenario: anchor not a year"] = lambda t: (
        ["validate", _toml(t, '[scenario]\nextends = "reference"\n[[demand.adjust]]\nid = "d"\nkind = "deviation"\n'
                              'anchors = { "20x5" = 100 }\nassumption = "x"\n')],
        ["s.toml", "demand.adjust[d].anchors.20x5", "'20x5'"])
    c["scenario: Windows-1252 file"] = lambda t: (
        ["run", _toml(t, '[scenario]\nname = "x"\ntitle_fr = "Scénario"\n', encoding="cp1252"), "--out", t / "o"],
        ["s.toml", "0xe9", "ligne 3, colonne 15", "UTF-8"])
    c["scenario: UTF-16 file"] = lambda t: (
        ["validate", _toml(t, '[scenario]\nname = "x"\n', encoding="utf-16")], ["s.toml", "UTF-16", "UTF-8"])
    c["scenario: extends a missing file"] = lambda t: (
        ["validate", _toml(t, '[scenario]\nextends = "parent.toml"\n')], ["s.toml", "scenario.extends", "parent.toml"])
    c["scenario: extends a binary file"] = lambda t: (
        ["run", _toml(t, '[scenario]\nextends = "blob.toml"\n'), "--out", t / "o"], ["blob.toml", "NUL", "octet 0"],
        lambda mp: (t / "blob.toml").write_bytes(bytes(range(256))))
    c["scenario: extends cycle"] = lambda t: (
        ["validate", _toml(t, '[scenario]\nextends = "b.toml"\n', "a.toml")], ["a.toml", "cycle dans extends", "b.toml"],
        lambda mp: _toml(t, '[scenario]\nextends = "a.toml"\n', "b.toml"))
    c["scenario: NUL in the title"] = lambda t: (
        ["run", _toml(t, '[scenario]\nname = "x"\ntitle_fr = "Sc\\u0000nario"\n'), "--out", t / "o"],
        ["s.toml", "scenario.title_fr", "U+0000", "'Sc\\x00nario'"])
    c["scenario: bell in a lever label"] = lambda t: (
        ["validate", _toml(t, _lever(extra='label = "boost\\u0007"\n'))],
        ["s.toml", "young_entrants.adjust[0].label", "U+0007", "'boost\\x07'"])
    c["scenario: line break in a name"] = lambda t: (
        ["validate", _toml(t, '[scenario]\nname = "a\\nb"\n')], ["s.toml", "scenario.name", "'a\\nb'"])
    c["scenario: bidi override in a title"] = lambda t: (
        ["validate", _toml(t, '[scenario]\ntitle_en = "abc\\u202edef"\n')],
        ["s.toml", "scenario.title_en", "U+202E", "'abc\\u202edef'"])
    c["scenario: file not found"] = lambda t: (["run", t / "absent.toml", "--out", t / "o"],
                                               ["absent.toml", "introuvable"])
    c["scenario: unknown built-in"] = lambda t: (["export", "referense_x", "--out", t / "x.xlsx"],
                                                 ["referense_x", "scénario intégré"])
    c["scenario: a folder named .toml"] = lambda t: (
        ["validate", t / "dir.toml"], ["dir.toml", "impossible de lire"], lambda mp: (t / "dir.toml").mkdir())
    c["the same scenario twice"] = lambda t: (["compare", "reference", "reference", "--out", t / "o"],
                                              ["scenario.name", "'reference'", "distinct"])
    c["scenario: unknown métier code"] = lambda t: (
        ["run", _toml(t, '[scenario]\nextends = "reference"\n[[demand.adjust]]\nid = "g"\nkind = "growth"\n'
                         'metier = ["Q9Z"]\nrate = 0.02\nperiod = [2024, 2030]\nassumption = "x"\n'), "--out", t / "o"],
        ["s.toml", "demand.adjust[g].metier", "Q9Z"])
    # ---- ensembles
    c["correlations not positive definite"] = lambda t: (
        ["run", _toml(t, NOT_PD), "--draws", "3", "--horizon", "2", "--out", t / "o"],
        ["s.toml", "uncertainty.correlation", "non définie positive", "-0.9"])
    c["correlation of an unknown parameter"] = lambda t: (
        ["validate", _toml(t, '[scenario]\nextends = "reference_incertain"\n[[uncertainty.correlation]]\nid = "c"\n'
                              'between = ["age_sortie", "salaires"]\nrho = 0.5\nassumption = "x"\n')],
        ["s.toml", "uncertainty.correlation[c].between", "salaires"])
    c["implausible sd"] = lambda t: (
        ["run", _toml(t, '[scenario]\nextends = "reference_incertain"\n[[uncertainty.parameter]]\nid = "jeunes"\n'
                         'kind = "young_entrants"\ndistribution = "normal"\nsd = 5.0\nassumption = "x"\n'),
         "--draws", "2", "--out", t / "o"], ["s.toml", "uncertainty.parameter[jeunes].sd", "5.0"])
    c["--draws 10 000 000"] = lambda t: (
        ["run", "reference_incertain", "--draws", "10000000", "--horizon", "5", "--out", t / "o"],
        ["--draws", "10\u202f000\u202f000", "mémoire", "limite", "au plus environ"])
    c["--max-memory too small"] = lambda t: (
        ["run", "reference_incertain", "--draws", "20", "--horizon", "5", "--max-memory", "1M", "--out", t / "o"],
        ["--draws", "20", "1,0\u202fMo", "--max-memory"])
    c["report --draws without [uncertainty]"] = lambda t: (
        ["report", "reference", "--draws", "5", "--out", t / "r"], ["--draws", "5", "reference", "uncertainty"])
    c["--scheduler without dask"] = lambda t: (
        ["run", "reference_incertain", "--draws", "3", "--scheduler", "threads", "--out", t / "o"],
        ["--scheduler threads", "dask", 'python -m pip install ".[dask]"'], _no("dask", "dask.array", "zarr"))
    # ---- output paths: checked before anything is computed
    c["--out is a file"] = lambda t: (["run", "reference", "--out", _file(t)], ["afile", "n'est pas un dossier",
                                                                                  "--out"])
    c["--out under a file"] = lambda t: (["compare", "reference", "--out", _file(t) / "sub"],
                                         ["afile/sub", "se trouve sous", "qui est un fichier"])
    c["--out in an unwritable folder"] = lambda t: (["run", "reference", "--out", "/proc/pmq-results"],
                                                    ["/proc/pmq-results", "écriture impossible", "--out"])
    c["--out name too long"] = lambda t: (["imbalance", "--out", t / ("n" * 300)],
                                          ["n" * 30, "300 octets", "255", "--out"])
    c["--out name too long for pmq's temporary name"] = lambda t: (
        ["run", "reference", "--out", t / ("r" * 240)], ["r" * 30, "240 octets", "provisoire", "--out"])
    c["--out with a line break"] = lambda t: (["run", "reference", "--out", t / "a\nb"],
                                              ["--out", "a\\nb", "caractères de contrôle"])
    c["--out: a folder of the user's named accounts.nc"] = lambda t: (
        ["run", "reference", "--out", t / "o"], ["accounts.nc", "dossier", "--out"],
        lambda mp: (t / "o" / "accounts.nc").mkdir(parents=True))
    c["export --out unknown extension"] = lambda t: (["export", "reference", "--out", t / "x.foo"],
                                                     ["--out", "x.foo", "'.foo'"])
    c["export --out .csv name"] = lambda t: (["export", "reference", "--out", t / "x.csv"], ["--out", "x.csv", "dossier"])
    c["export --out .iamc.txt"] = lambda t: (["export", "reference", "--out", t / "x.iamc.txt"],
                                             ["--out", "x.iamc.txt", ".iamc.xlsx"])
    c["report --out is a file"] = lambda t: (["report", "reference", "--out", _file(t, "rapport")],
                                             ["rapport", "n'est pas un dossier"])
    c["backtest --out is a file"] = lambda t: (["backtest", "--from", "2012", "--out", _file(t, "bt")],
                                               ["bt", "n'est pas un dossier"])
    c["reproduce --out under a file"] = lambda t: (["reproduce", "metiers2030", "--out", _file(t, "f") / "x"],
                                                   ["f/x", "se trouve sous"])
    # ---- backtest files (read before any fit)
    if files is not None:
        c["backtest: duplicated pyramid rows"] = lambda t: (
            ["backtest", "--from", "2012", "--pyramids", _bt(t, files, "pyramids", lambda d: pd.concat([d, d.iloc[[7]]])),
             "--out", t / "b"], ["my_pyramids.csv", "en double", "A0Z", "2003-2005", "12152"])  # line of the file
        c["backtest: gap in the employment series"] = lambda t: (
            ["backtest", "--from", "2012", "--employment", _bt(t, files, "employment", lambda d: d[d.year != 2005]),
             "--out", t / "b"], ["my_employment.csv", "colonne 'year'", "incomplètes", "2005"])
        c["backtest: negative pyramid"] = lambda t: (
            ["backtest", "--pyramids", _bt(t, files, "pyramids", lambda d: d.assign(
                employment_k=np.where(d.index == 4, -3.0, d["employment_k"])))],
            ["my_pyramids.csv", "employment_k", "-3"])
        c["backtest: empty pyramid value"] = lambda t: (
            ["backtest", "--pyramids", _bt(t, files, "pyramids", lambda d: d.assign(
                employment_k=np.where(d.index == 9, np.nan, d["employment_k"])))],
            ["my_pyramids.csv", "employment_k", "NaN"])
        c["backtest: negative employment"] = lambda t: (
            ["backtest", "--employment", _bt(t, files, "employment", lambda d: d.assign(
                employment_k=np.where(d.index == 2, -1.5, d["employment_k"])))],
            ["my_employment.csv", "employment_k", "-1.5"])
        c["backtest: duplicated employment rows"] = lambda t: (
            ["backtest", "--employment", _bt(t, files, "employment", lambda d: pd.concat([d, d.iloc[[3]]]))],
            ["my_employment.csv", "en double", "fap", "year"])
        c["backtest: pyramid file not found"] = lambda t: (["backtest", "--pyramids", t / "absent.csv"],
                                                           ["absent.csv", "introuvable"])
    return c


CASE_IDS = list(_cases(files=Path(".")))


def test_the_catalogue_covers_enough_kinds_and_every_command():
    cases = _cases(files=Path("."))
    assert len(cases) >= 35
    commands = set()
    for setup in cases.values():
        t = Path("/nonexistent")
        try:
            argv = setup(t)[0]
        except OSError:          # setups that write files: their command is in the id anyway
            continue
        commands.add(str(argv[0]))
    ids = " ".join(cases)
    for cmd in ("run", "compare", "scenarios", "validate", "imbalance", "report", "export", "backtest",
                "reproduce"):
        assert cmd in commands or cmd in ids, cmd


@pytest.mark.parametrize("case", CASE_IDS)
def test_bad_input_exits_2_names_it_and_writes_nothing(case, tmp_path, monkeypatch, backtest_files):
    if case == "--out in an unwritable folder" and os.access("/proc", os.W_OK) and not IS_ROOT:
        pytest.skip("/proc is writable here")
    setup = _cases(backtest_files)[case]
    spec = setup(tmp_path)
    argv, expected = spec[0], spec[1]
    if len(spec) > 2:
        spec[2](monkeypatch)
    before = _tree(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, out, err = _cli(argv)
    assert code == 2, (code, err[-3000:])
    assert "Traceback" not in err and "Traceback" not in out
    for s in expected:
        assert s in err, (s, err)
    assert _tree(tmp_path) == before                      # nothing written, nothing changed, no temporary left


def test_read_only_folder(tmp_path):
    """A folder without write permission (for a user other than root, who may write anyway: the
    /proc case of the catalogue covers an unwritable folder there)."""
    if IS_ROOT:
        pytest.skip("root writes into read-only folders; covered by the /proc case")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, _, err = _cli(["run", "reference", "--horizon", "2", "--out", ro / "res"])
        assert code == 2 and "écriture impossible" in err and str(ro) in err and "Traceback" not in err
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_an_existing_output_is_left_unchanged(tmp_path):
    """A previous output folder stays as it was when the new run is refused."""
    out = tmp_path / "res"
    bad = _toml(tmp_path, "[scenario\n", "bad.toml")
    assert _cli(["run", "reference", "--horizon", "2", "--out", out])[0] == 0
    before = _tree(tmp_path)
    code, _, err = _cli(["run", "reference", "--horizon", "61", "--out", out])
    assert code == 2 and "--horizon" in err
    code, _, err = _cli(["run", bad, "--out", out])
    assert code == 2 and "TOML non valide" in err
    code, _, err = _cli(["run", "reference", "--data", tmp_path / "nowhere", "--out", out])
    assert code == 2 and "--data" in err
    assert _tree(tmp_path) == before


# -------------------------------------------------------------------------------- warnings
def test_a_lever_outside_the_run_is_named_on_stderr(tmp_path):
    code, _, err = _cli(["run", _toml(tmp_path, LATE), "--horizon", "5", "--out", tmp_path / "o", "--lang", "en"])
    assert code == 0
    line = next(ln for ln in err.splitlines() if "late_boost" in ln)
    assert line.startswith("pmq: warning:") and "young_entrants.adjust[late_boost]" in line
    assert "from_year 2040" in line and "to_year 2045" in line and "2019–2024" in line
    code, _, err = _cli(["validate", _toml(tmp_path, LATE, "late2.toml"), "--horizon", "5"])
    assert code == 0 and "late_boost" in err


def test_a_lever_outside_the_run_warns_in_the_api():
    from pmq.scenario import inactive_levers, read_scenario, warn_inactive_levers
    sc = read_scenario("reindustrialisation")
    with pytest.warns(InactiveLeverWarning, match=r"demand.adjust\[industrie_manufacturiere\].*anchors 2022"):
        found = warn_inactive_levers(sc, 2019, horizon=1)
    assert issubclass(InactiveLeverWarning, PmqWarning)
    assert found == [("demand.adjust[industrie_manufacturiere]", "anchors 2022, 2035")]
    assert inactive_levers(sc, 2019, horizon=5) == []
    for name in ("reference", "bas_carbone_dares2023", "retraites_2023", "ademe_s3", "reference_incertain"):
        assert inactive_levers(read_scenario(name), 2019) == [], name     # none in the shipped scenarios


# ------------------------------------------------------------------- validate = run's checks
def test_validate_refuses_what_run_draws_refuses(tmp_path):
    bad = _toml(tmp_path, NOT_PD)
    code, out, err = _cli(["validate", bad, "--lang", "en"])
    assert code == 2 and "positive definite" in err and "valid —" not in out
    code, out, err = _cli(["validate", "reference", bad, "reference_incertain", "--lang", "en"])
    assert code == 2 and out.count("valid —") == 2 and "1 of 3 file(s) invalid" in err
    code, out, err = _cli(["validate", "reference", bad, "reference_incertain"])
    assert code == 2 and out.count("valide —") == 2 and "pmq : 1 fichier sur 3 invalide" in err


# ---------------------------------------------------------------------- debug and real bugs
def test_debug_shows_the_traceback_of_a_user_error(tmp_path):
    code, _, err = _cli(["--debug", "run", "reference", "--out", _file(tmp_path)])
    assert code == 2 and "Traceback" in err and "pmq : erreur :" in err
    code, _, err = _cli(["validate", "--debug", _toml(tmp_path, "[x\n")])
    assert code == 2 and "Traceback" in err


def test_an_internal_error_shows_its_traceback_and_asks_for_a_report(tmp_path, monkeypatch):
    import pmq.projection.run

    def bug(*a, **k):
        raise ZeroDivisionError("a bug")
    monkeypatch.setattr(pmq.projection.run, "project", bug)
    code, _, err = _cli(["run", "reference", "--horizon", "2", "--out", tmp_path / "o"])
    assert code == 1 and "Traceback" in err and "ZeroDivisionError" in err
    assert "bogue de pmq" in err and "Merci de le signaler" in err
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------- the API
def test_api_errors_are_pmq_errors(baseline):
    from pmq.projection.ensemble import check_memory, parse_size, run_ensemble
    from pmq.scenario import read_scenario
    for kw, name in (({"draws": 0}, "draws"), ({"draws": 2, "chunk": 0}, "chunk"), ({"draws": 2, "seed": -1}, "seed"),
                     ({"draws": 2.5}, "draws")):
        with pytest.raises(ArgumentError, match=name) as info:
            run_ensemble("reference_incertain", baseline, horizon=2, **kw)
        assert isinstance(info.value, (PmqError, ValueError))
    with pytest.raises(ArgumentError, match=r"horizon.*horizons.run.*valeur : 100"):
        read_scenario("reference").with_horizon(100)
    sc = read_scenario("reference_incertain")
    with pytest.raises(ResourceError, match="au plus environ"):
        check_memory(baseline, sc, 10_000_000, horizon=5)
    with pytest.raises(ResourceError):
        run_ensemble(sc, baseline, draws=50, horizon=2, max_memory="1M")
    assert parse_size("8G") == 8 * 2**30 and parse_size("off") == float("inf") and parse_size("1.5 MB") == 1.5 * 2**20
    with pytest.raises(ArgumentError):
        parse_size("-1G")


def test_memory_estimate_is_close_to_what_a_run_holds(baseline):
    """The estimate grows with the draws as the arrays kept per draw (60 bytes per cell-year in
    memory, 5 streamed) and is within a factor 2 of a measured peak (benchmarks)."""
    from pmq.projection.ensemble import memory_estimate
    from pmq.scenario import read_scenario
    sc = read_scenario("reference_incertain")
    cells = 21 * 13 * 83
    mem = memory_estimate(baseline, sc, 1000, horizon=20)
    assert 60 * cells <= mem["per_draw"] < 61 * cells
    streamed = memory_estimate(baseline, sc, 1000, horizon=20, streamed=True, workers=2)
    assert 5 * cells <= streamed["per_draw"] < 6 * cells
    # measured on a 2-core machine (docs/ensembles.md): 1,000 streamed draws peak at 0.7–0.9 GB RSS,
    # of which about 0.26 GB is the Python process with its libraries
    assert 0.35 * 2**30 < streamed["total"] < 0.9 * 2**30


def test_scenario_encodings(tmp_path):
    from pmq.scenario import read_scenario
    body = '[scenario]\nname = "x"\ntitle_fr = "Scénario à été"\n'
    bom = _toml(tmp_path, "\ufeff" + body, "bom.toml")                   # Notepad's « UTF-8 with BOM »: read
    assert read_scenario(bom).title_fr == "Scénario à été"
    latin = _toml(tmp_path, body, "latin.toml", encoding="cp1252")
    with pytest.raises(ScenarioError, match=r"0xe9, « é » en Windows-1252.*ligne 3, colonne 15") as info:
        read_scenario(latin)
    assert "latin.toml" in str(info.value)


# ------------------------------------------------------------------- optional extras absent
def test_ensemble_without_dask_runs_in_memory_and_writes_netcdf(tmp_path, monkeypatch):
    import xarray as xr
    for m in ("dask", "dask.array", "zarr", "distributed"):
        monkeypatch.setitem(sys.modules, m, None)
    out = tmp_path / "ens"
    code, stdout, err = _cli(["run", "reference_incertain", "--draws", "3", "--horizon", "2", "--out", out])
    assert code == 0, err
    assert "en mémoire" in err and "ensemble.nc" in err
    assert sorted(p.name for p in out.iterdir()) == [FILES_RECORD, "ensemble.nc", "parameters.csv", "quantiles_national.csv",
                                                     "quantiles_regions.csv"]
    with xr.open_dataset(out / "ensemble.nc", engine="h5netcdf") as ds:
        assert ds.sizes["draw"] == 3 and ds.attrs["n_draws"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ens"]


def test_api_store_without_dask_names_a_working_command(tmp_path, monkeypatch, baseline):
    from pmq.projection.ensemble import run_ensemble
    for m in ("dask", "dask.array", "zarr"):
        monkeypatch.setitem(sys.modules, m, None)
    with pytest.raises(MissingDependencyError, match=r'python -m pip install "\.\[dask\]"') as info:
        run_ensemble("reference_incertain", baseline, draws=2, horizon=1, store=tmp_path / "e.zarr")
    assert isinstance(info.value, ImportError)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------ real processes
def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.background
def test_subprocess_exit_status_and_no_traceback(tmp_path):
    res = subprocess.run([sys.executable, "-m", "pmq.cli", "run", "reference", "--horizon", "100", "--out",
                          str(tmp_path / "o")], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "--horizon" in res.stderr and "'100'" in res.stderr
    assert "Traceback" not in res.stderr
    bad = _toml(tmp_path, '[scenario]\ntitle_fr = "Scénario"\n', encoding="cp1252")
    res = subprocess.run([sys.executable, "-m", "pmq.cli", "export", str(bad), "--out", str(tmp_path / "x.xlsx")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "s.toml" in res.stderr and "0xe9" in res.stderr
    assert "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


@pytest.mark.background
def test_subprocess_without_the_optional_extras(tmp_path):
    """As after ``pip install .`` (no dask, zarr, distributed, pyarrow — blocked before pandas is
    imported, as pandas itself uses pyarrow when present): --draws runs in memory; a Parquet
    table is refused (exit 2) naming the file and pyarrow."""
    data = _data(tmp_path)
    pd.read_csv(data / "hazards.csv").to_parquet(data / "hazards.parquet")
    (data / "hazards.csv").unlink()
    code = ("import sys\n"
            "for m in ('dask', 'dask.array', 'zarr', 'distributed', 'pyarrow'):\n"
            "    sys.modules[m] = None\n"
            "from pmq.cli import main\n"
            "a = main(['run', 'reference_incertain', '--draws', '4', '--horizon', '2', '--out', 'ens'])\n"
            "b = main(['run', 'reference', '--data', 'data', '--horizon', '2', '--out', 'pq'])\n"
            "print('codes', a, b)\n")
    res = _python(code, tmp_path)
    assert "codes 0 2" in res.stdout, res.stderr
    assert "Traceback" not in res.stderr and (tmp_path / "ens" / "ensemble.nc").is_file()
    assert "hazards.parquet" in res.stderr and "pyarrow" in res.stderr and not (tmp_path / "pq").exists()


@pytest.mark.background
def test_subprocess_internal_error_exits_1_with_traceback(tmp_path):
    code = ("import sys, pmq.projection.run\n"
            "def bug(*a, **k):\n"
            "    raise KeyError('internal')\n"
            "pmq.projection.run.project = bug\n"
            "from pmq.cli import main\n"
            "sys.exit(main(['run', 'reference', '--horizon', '2', '--out', 'o']))\n")
    res = _python(code, tmp_path)
    assert res.returncode == 1 and "Traceback" in res.stderr and "KeyError" in res.stderr
    assert "Merci de le signaler" in res.stderr and not (tmp_path / "o").exists()
