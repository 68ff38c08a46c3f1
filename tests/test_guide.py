"""docs/guide.md, the French user guide for observatory analysts: its sections are there, its install line is
the README's Quick start command, and every ``pmq`` line of its ```bash blocks runs as written and exits 0
(through ``pmq.cli.main`` in a temporary folder, so that ``--out resultats`` lands there).  The only other lines
its bash blocks may hold are the install line and the copy of the templates, which the test does itself; a
```toml block whose first line is ``# name.toml`` is the file the guide asks the reader to write."""
import re
import shlex
import shutil
from pathlib import Path

import pytest

import pmq

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide.md"
SECTIONS = ("Installer", "Lancer une projection", "Lire les résultats", "Comparer et changer un scénario",
            "Travailler sur son territoire", "Publier un rapport")
#: The one shell line of the guide that is neither pmq nor pip: the test copies the templates itself.
COPY_TEMPLATES = "cp -r pmq/data/templates mes_donnees"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.S | re.M)


def _bash_lines() -> list[str]:
    return [line.strip() for block in _blocks("bash") for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _quick_start_install() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return {line.strip() for line in block.splitlines() if "pip install" in line}


def test_guide_has_the_six_sections():
    headings = re.findall(r"^## (?:\d+\. )?(.+)$", GUIDE.read_text(encoding="utf-8"), re.M)
    assert [s for s in SECTIONS if s not in headings] == [], headings


def test_install_lines_are_the_readme_quick_start_command():
    installs = [line for line in _bash_lines() if "pip " in line]
    assert installs, "the guide gives no install command"
    assert set(installs) <= _quick_start_install(), (installs, _quick_start_install())


def test_bash_blocks_hold_only_commands_the_test_runs():
    other = [line for line in _bash_lines()
             if not line.startswith("pmq ") and "pip " not in line and line != COPY_TEMPLATES]
    assert other == []
    assert len([line for line in _bash_lines() if line.startswith("pmq report ")]) <= 1   # its cost: one report


@pytest.mark.background
def test_every_pmq_command_of_the_guide_runs(tmp_path, monkeypatch):
    from pmq.cli import main
    monkeypatch.chdir(tmp_path)
    for block in _blocks("toml"):                      # the files the reader is asked to write
        name = re.match(r"#\s*(\S+\.toml)\s*\n", block)
        if name:
            (tmp_path / name.group(1)).write_text(block, encoding="utf-8")
    failed = []
    for line in _bash_lines():
        if line == COPY_TEMPLATES:
            shutil.copytree(Path(pmq.__file__).parent / "data" / "templates", tmp_path / "mes_donnees")
            continue
        if not line.startswith("pmq "):
            continue
        try:
            code = main(shlex.split(line)[1:])
        except SystemExit as exc:                      # argparse: an unknown option
            code = exc.code
        if code != 0:
            failed.append((line, code))
    assert failed == []
    # what the guide says is written
    assert (tmp_path / "resultats" / "summary.csv").exists() and (tmp_path / "resultats" / "accounts.nc").exists()
    head = (tmp_path / "resultats_excel" / "summary.csv").read_text(encoding="utf-8-sig").splitlines()
    assert head[0].startswith("period;end_year;territory;territory_name;metier") and "," in head[1]
    assert "reliability" in (tmp_path / "resultats_dom" / "summary.csv").read_text(encoding="utf-8-sig")
    assert {p.name for p in (tmp_path / "competences").iterdir()} >= {"skills.csv", "skills.xlsx"}
    report = tmp_path / "rapport"
    assert (report / "report.html").exists() and (report / "tables.xlsx").exists()
    figures = {p.suffix for p in (report / "figures").iterdir()}
    assert figures >= {".png", ".svg"}
