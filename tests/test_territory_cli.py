"""Issue 18 through the command line: an ensemble at département level names its files by the level and
labels its estimated rows, with the split's uncertainty (key_shares); the printed watch list says which
figures pmq estimated; ``pmq report`` takes ``--level``."""
import contextlib
import io
import warnings

import pandas as pd
import pytest

from pmq.cli import main

SHARES = """
[scenario]
name = "parts"
extends = "reference"
[uncertainty]
seed = 4
[[uncertainty.parameter]]
id = "parts"
kind = "key_shares"
distribution = "normal"
sd = 0.1
assumption = "test"
"""


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.background
def test_draws_at_departement_level_name_and_label_their_files(tmp_path):
    sc = tmp_path / "parts.toml"
    sc.write_text(SHARES, encoding="utf-8")
    code, printed, err = _run(["run", str(sc), "--level", "département", "--draws", "4", "--horizon", "3",
                               "--out", str(tmp_path / "ens")])
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "ens").iterdir())
    assert "quantiles_departements.csv" in names and "quantiles_regions.csv" not in names
    q = pd.read_csv(tmp_path / "ens" / "quantiles_departements.csv", dtype={"territory": str})
    assert q["territory"].nunique() == 96 and q["estimated"].all()
    assert set(q["reliability_label"]) <= {"fiable", "à prendre avec précaution", "ordre de grandeur seulement"}
    low, high = (q[(q.territory == "48") & (q["quantile"] == v)]["employment_end"].iloc[0] for v in (0.05, 0.95))
    assert high > low            # Lozère's share of Occitanie varies between draws


@pytest.mark.background
def test_printed_watch_list_says_what_is_estimated():
    code, printed, _ = _run(["imbalance", "reference", "--level", "departement", "--territory", "13",
                             "--horizon", "5"])
    assert code == 0
    assert "Bouches-du-Rhône (13) — chiffres estimés par pmq" in printed
    assert "(à prendre avec précaution)" in printed and "Chiffres estimés : part de la région" in printed
    code, printed, _ = _run(["imbalance", "reference", "--territory", "Bretagne", "--horizon", "5"])
    assert code == 0 and "estimé" not in printed                          # a published région: no mark
    code, printed, _ = _run(["imbalance", "reference", "--level", "departement", "--territory", "13",
                             "--horizon", "5", "--lang", "en"])
    assert "figures estimated by pmq" in printed and "(use with caution)" in printed and "estimé" not in printed


def test_report_takes_the_level_options():
    with pytest.raises(SystemExit) as exc, contextlib.redirect_stderr(io.StringIO()) as err:
        main(["report", "reference", "--level", "commune"])
    assert exc.value.code == 2 and "--level" in err.getvalue() and "commune" in err.getvalue()


@pytest.mark.background
def test_the_key_shares_doc_example_runs_as_written(tmp_path, monkeypatch):
    import re
    import shlex
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "docs" / "territories.md").read_text(encoding="utf-8")
    section = text.split("## L'incertitude de la clé dans les ensembles")[1].split("\n## ")[0]
    toml = re.findall(r"```toml\n(.*?)```", section, flags=re.S)[0]
    command = re.findall(r"```bash\n(.*?)```", section, flags=re.S)[0].strip()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "parts_incertaines.toml").write_text(toml, encoding="utf-8")
    argv = shlex.split(command)
    assert argv[0] == "pmq"
    code, printed, err = _run(argv[1:])
    assert code == 0, err
    q = pd.read_csv(tmp_path / "ensemble_departements" / "quantiles_departements.csv", dtype={"territory": str})
    assert q["territory"].nunique() == 96 and "reliability" in q
