"""Issue 19, parts 4 and 5: the ROME passerelles métier → métier (``pmq.data.skills.passerelles``,
``pmq.analysis.skills.passerelles``, ``pmq passerelles``) and ``pmq skills`` — lists, French and English number
formats, additive totals equal to the openings through skills.csv, bad options refused naming them with nothing
written, and docs/skills.md's « En ligne de commande » commands run as written."""
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pmq
from pmq.analysis import skills as K
from pmq.cli import main
from pmq.data import metiers
from pmq.data import skills as S
from pmq.errors import ArgumentError, UnknownNameError

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = set(metiers().query("in_exercise == 'yes'")["code"])


# --------------------------------------------------------------------------------------------- the shipped table
def test_passerelles_table_is_compact_and_sums_to_the_metiers_reach():
    p = S.passerelles()
    assert list(p.columns) == ["metier", "target", "strength", "links"]
    assert set(p["metier"]) == EXERCISE and set(p["target"]) <= EXERCISE
    assert not p.duplicated(["metier", "target"]).any() and (p["strength"] > 0).all() and (p["links"] >= 1).all()
    total = p.groupby("metier")["strength"].sum()
    assert total.max() <= 1 + 1e-9 and total.drop("XK_").min() > 0.95        # XK_: the politicians reach no fiche
    assert (ROOT / "pmq" / "data" / "skills" / "passerelles.csv").stat().st_size < 250_000


def test_passerelles_api_ranks_by_imbalance_without_self_links(reference_2030):
    t = K.passerelles(reference_2030, "T2A", territory="Bretagne", top=None)
    assert len(t) >= 3 and "T2A" not in set(t["target"]) and (t["strength"] >= K.MIN_STRENGTH).all()
    assert list(t["rank"]) == list(range(1, len(t) + 1))
    assert t["imbalance_pct"].is_monotonic_decreasing
    assert t.attrs["n_destinations"] == len(t) and 0 < t.attrs["self_strength"] < 1
    assert set(t["territory"]) == {"53"} and (t["class_dares"] != "").all()
    # the imbalance is the imbalance table's, Bretagne row
    im = pmq.analysis.imbalance.imbalance_table(reference_2030, horizon=11).set_index(["territory", "metier"])
    np.testing.assert_allclose(t["imbalance_pct"], im.loc[[("53", m) for m in t["target"]], "imbalance_pct"])
    # several territories: summed, no class; national by default; top; unknown métier with the closest codes
    two = K.passerelles(reference_2030, "T2A", territory=["53", "52"], top=2, lang="en")
    assert len(two) == 2 and set(two["territory"]) == {"53+52"} and (two["class_dares"] == "").all()
    assert set(K.passerelles(reference_2030, "aides à domicile", top=1)["territory"]) == {"FR"}
    with pytest.raises(UnknownNameError, match="T2A"):
        K.passerelles(reference_2030, "T2X")
    with pytest.raises(ArgumentError, match="top"):
        K.passerelles(reference_2030, "T2A", top=0)


# --------------------------------------------------------------------------------------------- pmq passerelles
def test_pmq_passerelles_lists_metiers_with_link_and_imbalance(tmp_path, capsys):
    assert main(["passerelles", "T2A", "--territory", "Bretagne", "--out", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    lines = [x for x in out.splitlines() if re.match(r"\s+\d+\. [A-Z]\d[A-Z_] ", x)]
    assert len(lines) >= 3, out
    assert all(re.search(r"\d,\d\u202f%\s+[+\u2212]\d+,\d\u202f%", x) for x in lines)    # link, imbalance (fr)
    assert "Bretagne (53)" in out and "Aides à domicile" in out
    raw = (tmp_path / "p" / "passerelles.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    t = pd.read_csv(tmp_path / "p" / "passerelles.csv", encoding="utf-8-sig", dtype={"territory": str})
    assert len(t) == len(lines) and {"target", "strength", "imbalance_pct", "class_dares"} <= set(t.columns)


def test_pmq_passerelles_unknown_metier_gives_the_closest_codes(tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["passerelles", "T2X", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "MÉTIER" in err and "'T2X'" in err and "T2A" in err and "Traceback" not in err
    assert not out.exists()


# --------------------------------------------------------------------------------------------- pmq skills
def test_pmq_skills_additive_totals_equal_openings(tmp_path, capsys, baseline):
    out = tmp_path / "X"
    assert main(["skills", "reference", "ademe_s3", "--territory", "Bretagne", "--horizon", "11",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert len(re.findall(r"couverture ROME : \d+,\d\u202f% des postes à pourvoir", printed)) == 2, printed
    assert re.search(r"\d\u202f\d{3},\d\s+\d+,\d\u202f%", printed)             # « 9 097,9   2,0 % »
    assert (out / "skills.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    t = pd.read_csv(out / "skills.csv", encoding="utf-8-sig", dtype={"territory": str})
    proj = pmq.project_many(["reference", "ademe_s3"], baseline, horizon=11, ages=False)
    for s in ("reference", "ademe_s3"):
        expected = float(proj.accounts["openings"].sel(scenario=s, territory="53").sum())
        assert t.loc[t["scenario"] == s, "openings"].sum() == pytest.approx(expected, rel=1e-9, abs=0)
    with pd.ExcelFile(out / "skills.xlsx") as book:
        assert book.sheet_names == ["README", "skills"]
        readme = pd.read_excel(book, sheet_name="README", header=None).astype(str).to_string()
    assert "France Travail" in readme and "couverture ROME" in readme


def test_pmq_skills_in_english_with_green(tmp_path, capsys):
    assert main(["skills", "reference", "--by", "green", "--lang", "en", "--top", "5",
                 "--out", str(tmp_path / "s")]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"ROME coverage: \d+\.\d ?% of job openings", printed), printed
    assert "Green job" in printed and "couverture" not in printed and "écrit" not in printed
    assert re.search(r"\d,\d{3}\.\d", printed)                                    # English thousands
    t = pd.read_csv(tmp_path / "s" / "skills.csv", encoding="utf-8-sig")
    assert set(t["code"]) <= {"vert", "strategique", "brun", "blanc", "non_rattache"}


def test_pmq_skills_without_out_prints_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["skills", "reference", "--horizon", "2", "--top", "3"]) == 0
    printed = capsys.readouterr().out
    assert "couverture ROME" in printed and len(re.findall(r"^\s+\d\. ", printed, re.M)) == 3, printed
    assert "écrit" not in printed and list(tmp_path.iterdir()) == []
    # the scenario named by its title as it is, the columns headed
    assert "\nScénario de référence (tendanciel « Les métiers en 2030 ») (reference)\n" in printed
    assert "Scénario « Scénario" not in printed
    assert re.search(r"^\s+postes\s+part$", printed, re.M), printed


@pytest.mark.parametrize("args, named", [
    (["--by", "skills"], "--by"),
    (["--top", "0"], "--top"),
    (["--view", "sum"], "--view"),
])
def test_pmq_skills_bad_options_are_named_and_nothing_is_written(tmp_path, capsys, args, named):
    out = tmp_path / "X"
    with pytest.raises(SystemExit) as exc:
        main(["skills", "reference", "--out", str(out), *args])
    assert exc.value.code == 2
    assert named in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_pmq_skills_out_that_is_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "X"
    f.write_text("mine", encoding="utf-8")
    assert main(["skills", "reference", "--out", str(f)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and str(f) in err and "Traceback" not in err
    assert f.read_text(encoding="utf-8") == "mine" and [p.name for p in tmp_path.iterdir()] == ["X"]
    assert main(["passerelles", "T2A", "--out", str(f)]) == 2
    assert "--out" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------- the docs
def test_docs_command_lines_run_as_written(tmp_path, monkeypatch, capsys):
    text = (ROOT / "docs" / "skills.md").read_text(encoding="utf-8")
    section = text.split("## En ligne de commande", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    commands = [shlex.split(line) for line in block.splitlines() if line.strip()]
    assert {c[1] for c in commands} == {"passerelles", "skills"}
    monkeypatch.chdir(tmp_path)
    for c in commands:
        assert c[0] == "pmq"
        assert main(c[1:]) == 0, c
    out = capsys.readouterr().out
    assert "couverture ROME" in out and "ROME coverage" in out
    assert (tmp_path / "passerelles" / "passerelles.csv").is_file()
    assert (tmp_path / "competences" / "skills.xlsx").is_file()
