"""Every example in examples/ and the README's Python example run in the test suite."""
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
GALLERY = sorted((ROOT / "examples" / "gallery").glob("*.py"))


#: the default backtest runs in the background process (tests/conftest.py); its trend fits warm this
#: process's cache, as an in-process backtest would, for examples/backtest.py
PMQ_BACKGROUND = {"backtest_default": ("warm_trend_fits", ["python:_background_jobs:backtest_default"]),
                  # the two slowest runs of this module, as written, on the other core from the session start:
                  # the fan chart's 200-draw ensemble (the script, run as `python fan_chart.py` would) and
                  # the README's main job in a process of its own (its exit status)
                  "gallery_fan_chart": ("background_runs", ["python:_background_jobs:run_script",
                                                            str(ROOT / "examples" / "gallery" / "fan_chart.py"),
                                                            "{out}"]),
                  "readme_main_job": ("background_runs", ["subprocess:", "-m", "pmq.cli", "run", "reference",
                                                          "--out", "{out}"])}
#: the gallery scripts run by the background process (tests/conftest.py) when it runs
IN_BACKGROUND = {"fan_chart": "gallery_fan_chart"}


@pytest.fixture(scope="module")
def warm_trend_fits(background):
    done = background.value("backtest_default")
    if done is not None:
        from pmq.estimation import trends
        trends._FIT_CACHE.update(done[1])


@pytest.fixture(scope="module")
def background_runs(background):
    return background


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, capsys, warm_trend_fits):
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"{path.name} printed nothing"


@pytest.mark.parametrize("path", GALLERY, ids=[p.name for p in GALLERY])
def test_gallery_example_draws_its_chart(path, capsys, monkeypatch, tmp_path, background_runs):
    import matplotlib.pyplot as plt
    from PIL import Image
    done = background_runs.result(IN_BACKGROUND[path.stem]) if path.stem in IN_BACKGROUND else None
    if done is not None:                            # run by the background process, with PMQ_OUT=folder
        code, out, err, folder = done
        assert code == 0, err
        png = folder / f"{path.stem}.png"
    else:
        monkeypatch.setenv("PMQ_OUT", str(tmp_path))
        runpy.run_path(str(path), run_name="__main__")
        png = tmp_path / f"{path.stem}.png"
        out = capsys.readouterr().out
    assert out.strip() == str(png)
    img = Image.open(png).convert("L")
    import numpy as np
    assert img.size[0] > 600 and np.unique(np.asarray(img)).size > 20   # a real chart, not a blank canvas
    plt.close("all")


def test_gallery_docs_are_up_to_date():
    res = subprocess.run([sys.executable, str(ROOT / "docs" / "build_gallery.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def _readme_blocks(lang):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_readme_python_example_runs(capsys):
    blocks = _readme_blocks("python")
    assert blocks, "README has no python example"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})
    assert "2019–2030" in capsys.readouterr().out


def test_readme_quick_start_has_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    cmds = [line for block in re.findall(r"```(?:bash|sh)\n(.*?)```", section, flags=re.S)
            for line in block.strip().splitlines() if line.strip() and not line.startswith("#")]
    assert len(cmds) == 2, cmds
    assert "pmq run" in cmds[0] and "pytest" in cmds[1]
    # .ci/run reads its test command from the README: run that extraction and compare
    ci = (ROOT / ".ci" / "run").read_text()
    line = next(x for x in ci.splitlines() if x.startswith("test_command="))
    pipeline = line.split("=", 1)[1].strip().removeprefix('"$(').removesuffix(')"')
    got = subprocess.run(["bash", "-c", pipeline], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert got.strip() == cmds[1], ".ci/run must run the README's test command"
    assert "PIP_CONSTRAINT" in ci and (ROOT / "requirements" / "constraints.txt").exists()


def test_readme_main_job_command_works(tmp_path, background_runs):
    # The main job of the README (pmq run …) on the embedded data, in a process of its own; pip install
    # is CI's job.  The background process (tests/conftest.py) starts it at the start of the session.
    done = background_runs.result("readme_main_job")
    if done is not None:
        code, _, err, out = done
    else:
        res = subprocess.run([sys.executable, "-m", "pmq.cli", "run", "reference", "--out", str(tmp_path / "r")],
                             capture_output=True, text=True)
        code, err, out = res.returncode, res.stderr, tmp_path / "r"
    assert code == 0, err
    assert (out / "accounts.nc").exists() and (out / "summary.csv").exists()
