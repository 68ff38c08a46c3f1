import ctypes
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import pmq
from pmq.model.ages import AGES



def _one_blas_thread():
    """Run BLAS on one thread in this process and in the processes the tests start, unless
    OPENBLAS_NUM_THREADS is set.  On a 2-core machine the suite's own processes (dask workers, the
    background reports, subprocesses, Chromium) and OpenBLAS's spinning threads oversubscribe the
    cores: the statsmodels fits (GLM of pmq.estimation.exits, backtest) then take 5 to 10 times longer.
    The fits agree to the last bit but one (< 2e-16 relative) with any thread count."""
    if "OPENBLAS_NUM_THREADS" in os.environ:
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"           # processes started from now on
    try:                                               # the libraries already loaded (Linux)
        import scipy.linalg  # noqa: F401  (loads SciPy's own OpenBLAS, as pmq's imports do)
        with open("/proc/self/maps", encoding="utf-8") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line})
    except (OSError, ImportError):
        return
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("openblas_set_num_threads", "openblas_set_num_threads64_", "scipy_openblas_set_num_threads64_",
                     "scipy_openblas_set_num_threads"):
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(1)
                break


_one_blas_thread()
# The suite keeps both cores busy already (its background process): reports save their figures in their own
# process, not in forked workers (tests/test_figure_files.py drives the workers explicitly).
os.environ.setdefault("PMQ_FIGURE_WORKERS", "0")

try:  # glibc: hand freed heap pages back to the system
    _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):  # another C library: nothing to do
    _malloc_trim = None


def release_memory():
    """Collect cycles and give the freed heap back to the system (glibc keeps it otherwise)."""
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)


@pytest.fixture(scope="module", autouse=True)
def _release_memory_after_each_module():
    """When a test module ends (after its own fixtures), release what it freed, so that the peak of
    the whole run is the peak of its largest module (and the subprocesses, dask workers and browser
    of later modules do not stack on top of what earlier modules left in the heap)."""
    yield
    release_memory()


# ----------------------------------------------------------------------- background command lines
# pytest runs on one core.  A test module may declare slow `pmq` command lines that its fixtures
# need, as PMQ_BACKGROUND = {job: (fixture name, argv with "{out}" for the output path)}: when a
# selected test uses the fixture, the job runs from the start of the session in one background
# process (lower priority, one BLAS thread) on the other core, with pmq.cli.main as the fixture
# would have run it.  The fixture gets the result from the `background` fixture, or None — no
# background run, or it failed — and then runs the command itself as before.  A job written
# ["python:_background_jobs:function"] calls that function of tests/_background_jobs.py instead and the fixture gets
# its value with `background.value(job)` (pickled between the test processes: the tests' own
# results, never a user file); the words after it are its arguments ("{out}" replaced).  A job written
# ["subprocess:", *args] runs `python *args` in a process of its own (for the tests that need a real
# process: its exit status, stdout and stderr are the job's).  Modules with background jobs run last (pytest_collection_modifyitems),
# so that their jobs are done by the time their tests need them.
_WORKER = r"""
import contextlib, ctypes, io, json, os, signal, sys
from pathlib import Path
try:
    os.nice(10)                                           # the tests' process comes first
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)     # PR_SET_PDEATHSIG: end if pytest is killed
except (AttributeError, OSError):
    pass
if os.getppid() != int(sys.argv[2]):                      # pytest already gone
    sys.exit(0)
import importlib, pickle
from pmq.cli import main
folder = Path(sys.argv[1])
sys.path.insert(0, sys.argv[3])                           # tests/: the module of "python:" jobs
for name, argv in json.loads((folder / "jobs.json").read_text(encoding="utf-8")):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if argv[0].startswith("python:"):          # a library call of the tests' own: its result, pickled
                _, module, function = argv[0].split(":")
                value = getattr(importlib.import_module(module), function)(*argv[1:])
                (folder / name / "value.pkl").write_bytes(pickle.dumps(value))
                code = 0
            elif argv[0] == "subprocess:":             # a real process: python <argv[1:]>, its own status
                import subprocess
                done = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True,
                                      stdin=subprocess.DEVNULL)
                code = done.returncode
                print(done.stdout, end="")
                print(done.stderr, end="", file=sys.stderr)
            else:
                code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except Exception:                                 # the job failed: its traceback, the next job runs
            import traceback
            traceback.print_exc()
            code = 1
    tmp = folder / (name + ".tmp")
    tmp.write_text(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue()}), encoding="utf-8")
    tmp.replace(folder / (name + ".json"))
"""


class Background:
    """The background process of the session's PMQ_BACKGROUND jobs."""

    def __init__(self):
        self.proc, self.folder, self.jobs, self.values = None, None, {}, {}
        self.started, self.waited = None, {}               # for the timing summary (PMQ_TESTS_TIMING=1)

    def start(self, jobs: dict) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="pmq-tests-background-"))
        self.jobs = {name: [a.replace("{out}", str(self.folder / name / "out")) for a in argv]   # alone in its folder
                     for name, argv in jobs.items()}
        for name in jobs:
            (self.folder / name).mkdir()
        (self.folder / "jobs.json").write_text(json.dumps(list(self.jobs.items())), encoding="utf-8")
        self.started = time.time()
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")
        with open(self.folder / "worker.log", "wb") as log:
            try:
                self.proc = subprocess.Popen([sys.executable, "-c", _WORKER, str(self.folder), str(os.getpid()),
                                              str(Path(__file__).resolve().parent)],
                                             env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            except OSError:
                self.proc = None

    def result(self, name: str, timeout: float = 1800.0):
        """``(exit status, stdout, stderr, output folder)`` of job ``name``, waiting for it; None when
        it does not run in the background, or its process ended without it (the caller runs it)."""
        if self.folder is None or name not in self.jobs:
            return None
        path, end = self.folder / f"{name}.json", time.monotonic() + timeout
        t0 = time.monotonic()
        while not path.exists():
            if self.proc is None or self.proc.poll() is not None:
                if path.exists():
                    break
                return None
            if time.monotonic() > end:
                self.stop(remove=False)
                return None
            time.sleep(0.05)
        self.waited[name] = self.waited.get(name, 0.0) + time.monotonic() - t0
        r = json.loads(path.read_text(encoding="utf-8"))
        return r["code"], r["out"], r["err"], self.folder / name / "out"

    def value(self, name: str):
        """The value of the python job ``name``, or None (not run in the background, or it failed); read
        once, then shared by the modules that ask."""
        import pickle
        if name in self.values:
            return self.values[name]
        done = self.result(name)
        if done is None or done[0] != 0 or not (self.folder / name / "value.pkl").exists():
            return None
        self.values[name] = pickle.loads((self.folder / name / "value.pkl").read_bytes())
        return self.values[name]

    def timing(self) -> list[str]:
        """When each job ended (seconds from the session's start) and how long the tests waited for it."""
        if self.folder is None:
            return []
        lines = []
        for name in self.jobs:
            path = self.folder / f"{name}.json"
            end = f"{path.stat().st_mtime - self.started:7.1f} s" if path.exists() else "    not run"
            lines.append(f"{name:40s} ended at {end}, waited {self.waited.get(name, 0.0):5.1f} s")
        return lines

    def stop(self, remove: bool = True) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if remove and self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


_BACKGROUND = Background()


def _uses_background(item) -> bool:
    spec = getattr(getattr(item, "module", None), "PMQ_BACKGROUND", None) or {}
    return any(fixture in getattr(item, "fixturenames", ()) for fixture, _ in spec.values())


# ----------------------------------------------------------------------- tests run on the other core
# A test marked @pytest.mark.background runs in a pytest process of its own (one for all of them, started
# as the background process's last job, so that session fixtures load once there): here a stand-in item of
# the same node id waits for its outcome and reports it — its failure text, its skip reason.  Without the
# background process the stand-ins run the same pytest process themselves.  Mark tests whose cost is their
# own (a CLI run, a subprocess, a property test), not the ones that share this process's fixtures.
_CHILD_REPORT = os.environ.get("PMQ_TESTS_CHILD_REPORT")       # set in that pytest process: its report file
_NODES_JOB = "marked_background_tests"


def pytest_configure(config):
    config.addinivalue_line("markers", "background: run this test in a pytest process on the other core "
                                       "(tests/conftest.py)")


class InBackground(pytest.Item):
    """Stands for a @pytest.mark.background test: its outcome in the background pytest process."""

    def __init__(self, *, nodes, **kwargs):
        super().__init__(**kwargs)
        self.nodes = nodes                                    # every marked node id, in the order they run

    def runtest(self):
        outcomes = _BACKGROUND.value(_NODES_JOB)
        if outcomes is None:                                  # no background process: run them here, once
            if _NODES_JOB not in _BACKGROUND.values:
                from _background_jobs import pytest_nodes
                _BACKGROUND.values[_NODES_JOB] = pytest_nodes(
                    tempfile.mkdtemp(prefix="pmq-tests-nodes-"), str(self.config.rootpath), *self.nodes)
            outcomes = _BACKGROUND.values[_NODES_JOB]
        outcome, text = outcomes.get(self.nodeid, ("failed", "no outcome from the background pytest process"))
        if outcome == "skipped":
            pytest.skip(text)
        if outcome != "passed":
            pytest.fail(f"in the background pytest process:\n{text}", pytrace=False)

    def reportinfo(self):
        return self.path, None, self.name


def pytest_collection_modifyitems(session, config, items):
    """Modules whose tests wait for background jobs run last (in their own order), so that the jobs run
    on the other core while the rest of the suite runs on this one; @pytest.mark.background tests are
    replaced by stand-ins that come after them."""
    if _CHILD_REPORT:                                         # the background pytest process: run them all
        return
    marked = [i for i in items if i.get_closest_marker("background") is not None]
    nodes = [i.nodeid for i in marked]
    stand_ins = [InBackground.from_parent(i.parent, name=i.name, nodes=nodes) for i in marked]
    items[:] = [i for i in items if i.get_closest_marker("background") is None]
    late = {item.module for item in items if getattr(item, "module", None) is not None and _uses_background(item)}
    items[:] = [i for i in items if getattr(i, "module", None) not in late] + \
               [i for i in items if getattr(i, "module", None) in late] + stand_ins


def pytest_collection_finish(session):
    if session.config.option.collectonly or _CHILD_REPORT:   # no background process inside the child
        return
    jobs = {}
    for item in session.items:
        spec = getattr(getattr(item, "module", None), "PMQ_BACKGROUND", None) or {}
        for name, (fixture, argv) in spec.items():
            if name not in jobs and fixture in getattr(item, "fixturenames", ()):
                jobs[name] = list(argv)
    nodes = [i.nodeid for i in session.items if isinstance(i, InBackground)]
    if nodes:
        jobs[_NODES_JOB] = ["python:_background_jobs:pytest_nodes", "{out}", str(session.config.rootpath), *nodes]
    if jobs:
        _BACKGROUND.start(jobs)


_OUTCOMES: dict[str, list] = {}


def pytest_runtest_logreport(report):
    """In the background pytest process: each test's outcome (the worst of its phases) and its text."""
    if not _CHILD_REPORT:
        return
    outcome, text = _OUTCOMES.get(report.nodeid, ("passed", ""))
    if report.failed:
        outcome, text = "failed", text + f"[{report.when}]\n{report.longreprtext}\n"
    elif report.skipped and outcome == "passed":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longreprtext
        outcome, text = "skipped", str(reason)
    _OUTCOMES[report.nodeid] = [outcome, text]


def pytest_terminal_summary(terminalreporter):
    """PMQ_TESTS_TIMING=1: when each background job ended and how long the tests waited for it."""
    if os.environ.get("PMQ_TESTS_TIMING"):
        terminalreporter.write_sep("-", "background jobs")
        for line in _TIMING:
            terminalreporter.write_line(line)


_TIMING: list[str] = []


def pytest_sessionfinish(session, exitstatus):
    if _CHILD_REPORT:
        Path(_CHILD_REPORT).write_text(json.dumps(_OUTCOMES), encoding="utf-8")
    _TIMING[:] = _BACKGROUND.timing()          # read before the folder goes (the summary comes after)
    _BACKGROUND.stop()


@pytest.fixture(scope="session")
def background():
    return _BACKGROUND


@pytest.fixture(scope="session")
def baseline():
    return pmq.load_baseline()


@pytest.fixture(scope="session")
def reference_2030(baseline):
    return pmq.project(baseline, "reference", horizon=11)


@pytest.fixture(scope="session")
def reference_20(baseline):
    return pmq.project(baseline, "reference", horizon=20)


def make_baseline(E, h, N, Y, M, base_year=2019, n_period=11):
    """A baseline Dataset from arrays (territory, metier, age) / (metier, age) / (territory, metier)."""
    nt, nm, na = E.shape
    ds = xr.Dataset(
        {"employment": (("territory", "metier", "age"), E),
         "hazard": (("metier", "age"), h),
         "published_net_creation": (("territory", "metier"), N),
         "published_young_entrants": (("territory", "metier"), Y),
         "published_net_mobility": (("territory", "metier"), M),
         "published_departures": (("territory", "metier"), np.full((nt, nm), np.nan))},
        coords={"territory": [f"T{i}" for i in range(nt)], "metier": [f"M{j}" for j in range(nm)],
                "age": AGES[:na]})
    ds.attrs.update(base_year=base_year, period_end=base_year + n_period, n_period=n_period)
    return ds
