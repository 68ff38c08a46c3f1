"""The code blocks of docs/supply.md and docs/imbalance.md run and say what the docs claim."""
import re
from pathlib import Path

import pytest

import pmq

ROOT = Path(__file__).resolve().parents[1]


def _blocks(name, lang):
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_supply_doc_python_first_block_runs(capsys):
    code = _blocks("supply.md", "python")[0]
    ns = {}
    exec(compile(code, "docs/supply.md", "exec"), ns)
    assert ns["alloc"].report["rescale_factor"] == pytest.approx(1.1737, abs=5e-5)
    assert "IPF" in capsys.readouterr().out


def test_supply_doc_scenario_runs(tmp_path, baseline, reference_2030):
    (toml,) = _blocks("supply.md", "toml")
    p = tmp_path / "plus_de_bts.toml"
    p.write_text(toml, encoding="utf-8")
    proj = pmq.project(baseline, p, horizon=11)
    d = (proj.accounts.young_entrants - reference_2030.accounts.young_entrants).sum(["territory", "age", "year"])
    assert float(d.sel(metier="M2Z")) > 0 and float(d.sum()) > 0


def test_supply_doc_figures(baseline):
    from pmq.inputs import training
    a = training.calibrate_training(baseline)
    text = (ROOT / "docs" / "supply.md").read_text(encoding="utf-8")
    by = (a.entrants.sum(["territory", "metier"]) / 1e3).to_series()
    row = " | ".join(f"{v:,.1f}".replace(",", " ") for v in by.values)
    assert row in text, row
    assert f"{a.report['iterations']} iterations" in text
    r1z = a.entrants.sel(metier="R1Z").sum("territory").to_series() / 1e3
    assert f"{r1z[['nodip', 'cap_bep', 'bac']].sum():.0f} k at most bac" in text
    assert f"{r1z[['bac2', 'bac3p']].sum():.0f} k with a higher diploma" in text


def test_imbalance_doc_python_block_runs(capsys):
    (code,) = _blocks("imbalance.md", "python")
    exec(compile(code, "docs/imbalance.md", "exec"), {})
    out = capsys.readouterr().out
    assert "rank" in out and "s'accentuer" in out
