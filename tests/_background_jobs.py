"""Library calls that tests/conftest.py may run in its background process ("python:_background_jobs:<name>").

Each returns a picklable value the test fixture takes back.  Only the tests' own computations: no user file
is ever unpickled."""


def backtest_default():
    """The default backtest (2010…2013 → 2018) and the trend fits it made: the fixture puts the fits in
    the tests' process's cache (keyed by the series' content), so that the other backtest tests reuse
    them as they would after an in-process run."""
    from pmq.estimation import trends
    from pmq.estimation.backtest import backtest
    return backtest(), dict(trends._FIT_CACHE)


def run_script(path, out):
    """Run the example script ``path`` as ``python path`` would, with ``PMQ_OUT=out`` (what it prints is
    the job's stdout)."""
    import os
    import runpy
    os.environ["PMQ_OUT"] = out
    try:
        runpy.run_path(path, run_name="__main__")
    finally:
        del os.environ["PMQ_OUT"]
        import matplotlib.pyplot as plt
        plt.close("all")


def run_doc_blocks(doc, out):
    """Run the python blocks of the page ``doc`` in the folder ``out``, as
    tests/test_export.py::test_docs_reports_python_example_runs does (what they print is the job's stdout)."""
    import os
    import re
    from pathlib import Path
    blocks = re.findall(r"```python\n(.*?)```", Path(doc).read_text(encoding="utf-8"), flags=re.S)
    Path(out).mkdir(parents=True)
    here = os.getcwd()
    os.chdir(out)
    try:
        for code in blocks:
            exec(compile(code, "docs/reports.md", "exec"), {"__name__": "__main__"})
    finally:
        os.chdir(here)


def published_check_default():
    """``published_check`` on the packaged baseline (tests/test_published_figures.py's ``checked``)."""
    from pmq.analysis.sources import published_check
    from pmq.inputs.baseline import load_baseline
    return published_check(baseline=load_baseline())


def scenario_library(names, baseline=None):
    """The scenarios ``names`` (comma-separated) to 2050, summed over age: employment and departures by
    scenario × year × territory × métier (tests/test_scenarios_library.py's ``library``).

    Each scenario is projected on its own and summed over age at once: a multi-scenario run gives
    the same accounts bit for bit (test_multi_scenario_run_equals_separate_runs), and the
    age-resolved accounts of every scenario to 2050 held together would take more than 1 GB."""
    import pandas as pd
    import xarray as xr

    import pmq
    names = names.split(",")
    baseline = pmq.load_baseline() if baseline is None else baseline
    parts = []
    for name in names:
        acc = pmq.project(baseline, name, horizon=31).accounts
        parts.append(xr.Dataset({k: acc[k].sum("age") for k in ("employment", "departures")}))
        del acc
    return xr.concat(parts, dim=pd.Index(names, name="scenario"), coords="minimal", compat="override")


def docs_pages_check(folder):
    """The scenario docs pages that are out of date (``update_docs(folder, check=True)``; [] when all are),
    tests/test_scenarios_library.py's ``test_docs_pages_are_up_to_date``."""
    from pathlib import Path

    from pmq.analysis.sources import update_docs
    return update_docs(Path(folder), check=True)


def pytest_nodes(folder, rootdir, *nodes):
    """Run the test ``nodes`` (the @pytest.mark.background tests) in a pytest process of their own, from
    ``rootdir``; {node id: (outcome, text)} as tests/conftest.py's stand-ins report them."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / "outcomes.json"
    env = dict(os.environ, PMQ_TESTS_CHILD_REPORT=str(report))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp",
                           str(folder / "tmp"), *nodes], cwd=rootdir, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    outcomes = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    lost = f"not run (pytest exit status {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return {node: tuple(outcomes.get(node, ("failed", lost))) for node in nodes}
