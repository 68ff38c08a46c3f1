"""What a newcomer's review found, fixed: the imbalance command writes its figures the reader's way, name
suggestions come best first after the explanation, a French-style number in a scenario file gets a hint, two
scenarios with one name are refused naming both files, a lever 1 000 times too big fails ``pmq validate`` (and
warns in ``pmq run``), and the guide works for an analyst who installed pmq with pip."""
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from pmq.cli import main
from pmq.errors import ScenarioError
from pmq.formatting import format_percent
from pmq.names import closest, resolve
from pmq.scenario.read import builtin_scenarios, read_scenario

ROOT = Path(__file__).resolve().parents[1]


def _run(capsys, argv, status=0):
    assert main([str(a) for a in argv]) == status
    return capsys.readouterr()


def _one_error_line(err: str) -> str:
    """The error of a refused command: one ``pmq: error:`` line, no traceback."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith(("pmq: error:", "pmq : erreur :"))]
    assert len(lines) == 1, err
    return lines[0]


# ------------------------------------------------------------------ 1. pmq imbalance: numbers the reader's way
def test_imbalance_percentages_are_french_by_default_english_on_request(capsys, tmp_path):
    fr = _run(capsys, ["imbalance", "reference", "--territory", "Bretagne", "--territory", "FR", "--top", "3",
                       "--out", tmp_path / "fr"]).out
    ranked = [line for line in fr.splitlines() if re.match(r"\s+\d+\. ", line)]
    assert len(ranked) == 6
    watch = pd.read_csv(tmp_path / "fr" / "watch_list.csv", dtype={"territory": str})
    for line, pct in zip(ranked, watch.sort_values(["territory", "rank"])["imbalance_pct"]):     # 53, then FR
        # « +47,1 % »: decimal comma, narrow no-break space before %, the figure of watch_list.csv
        assert format_percent(pct, 1, "fr", sign=True) in line, line
        assert re.search(r"[+\u2212]\d+,\d\u202f%", line) and not re.search(r"\d\.\d", line), line
    assert "T1Z Employés de maison" in fr and "France métropolitaine (FR)" in fr
    en = _run(capsys, ["imbalance", "reference", "--territory", "Bretagne", "--territory", "FR", "--top", "3",
                       "--lang", "en"]).out
    ranked = [line for line in en.splitlines() if re.match(r"\s+\d+\. ", line)]
    assert all(re.search(r"[+-]\d+\.\d%", line) and "\u202f" not in line for line in ranked), ranked
    assert "T1Z Domestic employees" in en and "Employés de maison" not in en        # labels in English too
    assert "Metropolitan France (FR)" in en and "France métropolitaine" not in en


# ------------------------------------------------------------------ 2. name suggestions: best first, said last
def test_closest_names_come_best_first():
    builtins = {k: [] for k in builtin_scenarios()}
    assert closest("referense", builtins)[:2] == ["reference", "reference_incertain"]    # tie: the shorter first
    assert closest("ademe_s33", builtins)[:2] == ["ademe_s3", "ademe_s3_illustratif"]
    assert closest("zzzzqqq", builtins) == []
    regions = {"75": ["Nouvelle-Aquitaine"], "53": ["Bretagne"], "93": ["Provence-Alpes-Côte d'Azur"]}
    with pytest.raises(KeyError, match=r"noms les plus proches : 75 \(Nouvelle-Aquitaine\)$"):
        resolve("Nouvelle Aquitane", regions, kind="territory")
    metiers = {"T2A": ["Aides à domicile"], "T2B": ["Assistants maternels"], "T1Z": ["Employés de maison"]}
    assert closest("aide a domicile", metiers)[0] == "T2A (Aides à domicile)"


@pytest.mark.parametrize("argv, first, typed", [
    (["run", "referense", "--horizon", "1"], "reference", "referense"),
    (["compare", "reference", "ademe_s33", "--horizon", "1"], "ademe_s3", "ademe_s33"),
])
def test_an_unknown_scenario_says_what_is_wrong_then_the_closest_names(capsys, tmp_path, argv, first, typed):
    line = _one_error_line(_run(capsys, argv + ["--out", tmp_path / "o"], 2).err)
    assert line.startswith(f"pmq : erreur : {typed} : ni un fichier ni un scénario intégré ; les plus proches : "
                           f"{first}, ")
    assert line.endswith("(pmq scenarios en donne la liste)") and not (tmp_path / "o").exists()


def test_territory_and_metier_suggestions_come_best_first(capsys):
    line = _one_error_line(_run(capsys, ["territories", "--region", "bretagn"], 2).err)
    assert "--region : région inconnue 'bretagn' ; noms les plus proches : Bretagne (53)" in line
    line = _one_error_line(_run(capsys, ["imbalance", "--level", "departement", "--territory", "Provense",
                                         "--horizon", "1"], 2).err)
    assert "noms les plus proches : Alpes-de-Haute-Provence (04), Provence-Alpes-Côte d'Azur (région 93)" in line
    line = _one_error_line(_run(capsys, ["scenarios", "--copy", "refrence", "--out", "nowhere"], 2).err)
    assert "scénario intégré inconnu 'refrence' ; noms les plus proches : reference, reference_incertain (" in line


# ------------------------------------------------------------------ 3. a French-style number in a scenario file
def _copy_of(name: str, folder: Path, **replace: str) -> Path:
    """The built-in ``name``'s file copied into ``folder`` with some of its text replaced."""
    text = builtin_scenarios()[name].read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("written, shown", [("2050 = 200 000", "200 000"), ("2050 = 200\u202f000", "200\u202f000"),
                                            ("2050 = 0,5", "0,5")])
def test_a_french_number_in_a_scenario_file_gets_a_hint(tmp_path, written, shown):
    path = _copy_of("ademe_s3", tmp_path, **{"2050 = 450000": written})
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if written in t)
    with pytest.raises(ScenarioError) as exc:
        read_scenario(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path} : TOML non valide (ligne {line}, colonne ")   # the parser's place, in French
    assert f"ligne {line}, clé 'demand.adjust[total].anchors.2050' : « {shown} »" in msg
    assert "écrivez 200000 ou 200_000 (pas d'espace dans les nombres), et 0.5 avec un point décimal" in msg
    assert "\n" not in msg


def test_a_toml_error_without_a_french_number_gets_no_number_hint(tmp_path, capsys):
    bad = tmp_path / "b.toml"
    bad.write_text('[scenario]\nname = "x"\ntitle_fr = "200 000 emplois\n', encoding="utf-8")   # unclosed string
    line = _one_error_line(_run(capsys, ["validate", bad], 2).err)
    assert "TOML non valide" in line and "pas d'espace dans les nombres" not in line
    bad.write_text('[scenario]\nname = "x"\n[horizons]\nsummary = [5 10]\n', encoding="utf-8")
    line = _one_error_line(_run(capsys, ["validate", bad], 2).err)
    assert "TOML non valide" in line and "pas d'espace dans les nombres" not in line


def test_the_cli_shows_the_hint_on_one_line(tmp_path, capsys):
    path = _copy_of("ademe_s3", tmp_path / "bad", **{"2050 = 450000": "2050 = 200 000"})
    line = _one_error_line(_run(capsys, ["run", path, "--horizon", "1", "--out", tmp_path / "o"], 2).err)
    assert str(path) in line and "anchors.2050" in line and "200_000" in line


# ------------------------------------------------------------------ 4. a copy that keeps the built-in's name
def test_a_copy_with_the_builtin_name_is_refused_naming_both_files(capsys, tmp_path):
    out = tmp_path / "mes_scenarios"
    printed = _run(capsys, ["scenarios", "--copy", "ademe_s3", "--out", out]).out
    # the note says what makes a copy one's own
    assert re.search(r"changez name .*title_fr et title_en.*source et son hypothèse", printed)
    copy = out / "ademe_s3.toml"
    for argv in (["ademe_s3", copy], [copy, "ademe_s3"]):
        line = _one_error_line(_run(capsys, ["compare", *argv, "--horizon", "1"], 2).err)
        assert "ademe_s3 et " in line or " et ademe_s3 " in line
        assert line.count(str(copy)) >= 2 and "'ademe_s3'" in line and "scenario.name" in line
        assert f"donnez à {copy} un nom à lui dans sa section [scenario]" in line
    # renamed, it runs beside the built-in
    copy.write_text(copy.read_text(encoding="utf-8").replace('name = "ademe_s3"', 'name = "mon_s3"'),
                    encoding="utf-8")
    _run(capsys, ["compare", "ademe_s3", copy, "--horizon", "1"])
    en = _run(capsys, ["scenarios", "--copy", "reference", "--out", out, "--lang", "en"]).out
    assert re.search(r"change name .*title_fr and title_en.*source and assumption", en) and "changez" not in en


def test_the_same_scenario_twice_is_still_refused(capsys):
    line = _one_error_line(_run(capsys, ["compare", "reference", "reference", "--horizon", "1"], 2).err)
    assert "scenario.name" in line and "'reference'" in line and "distincts" in line and "donné deux fois" in line


# ------------------------------------------------------------------ 5. the size of the levers
def test_a_lever_1000_times_too_big_fails_validate_and_warns_in_run(capsys, tmp_path):
    path = _copy_of("ademe_s3", tmp_path, **{"2050 = 450000": "2050 = 450000000", 'name = "ademe_s3"': 'name = "x"'})
    err = _run(capsys, ["validate", path], 2).err
    assert "Traceback" not in err and "valide" not in capsys.readouterr().out
    first = err.splitlines()[0]
    assert first.startswith(f"pmq : erreur : {path}, clé 'scenario.max_metier_deviation' : l'emploi national de 83 "
                            "métiers s'écarte") and "25\u202f%" in first and "(valeur : 0.25)" in first
    # the métiers: code, label, deviation in persons and %, year; at most ten, then how many more
    assert re.search(r"^  B2Z  \+[\d\u202f]+ personnes \(\+1\u202f\d{3},\d\u202f%\) en 2050 +Ouvriers qualifiés "
                     r"du gros œuvre du bâtiment$", err, re.M)
    assert "… et 73 autres" in err
    assert "max_metier_deviation = 15.05" in err and "max_metier_deviation_reason" in err
    en = _run(capsys, ["validate", path, "--lang", "en"], 2).err
    assert "key 'scenario.max_metier_deviation': the national employment of 83 métiers" in en
    assert re.search(r"^  B2Z  \+[\d,]+ persons \(\+1,\d{3}\.\d%\) in 2050 +Skilled building-frame", en, re.M)
    assert "personnes" not in en
    # run, compare: a warning, the outputs written
    err = _run(capsys, ["run", path, "--horizon", "2", "--out", tmp_path / "o"]).err
    warning = [line for line in err.splitlines() if line.startswith("pmq : avertissement :")]
    assert len(warning) == 1 and "max_metier_deviation" in warning[0] and "pmq validate" in warning[0]
    assert (tmp_path / "o" / "summary.csv").exists()
    err = _run(capsys, ["compare", "reference", path, "--horizon", "2", "--lang", "en"]).err
    assert "pmq: warning:" in err and "plausibility bound (25%" in err


def test_a_raised_bound_lets_the_scenario_through(capsys, tmp_path):
    path = _copy_of("ademe_s3", tmp_path, **{
        "2050 = 450000": "2050 = 450000000", 'name = "ademe_s3"': 'name = "x"\nmax_metier_deviation = 15.05\n'
        'max_metier_deviation_reason = "a test of the bound: every métier grows sixteenfold on purpose"'})
    assert "valide" in _run(capsys, ["validate", path]).out


def test_below_the_bound_nothing_is_said(capsys, tmp_path):
    err = _run(capsys, ["run", "ademe_s3", "--horizon", "2", "--out", tmp_path / "o"]).err
    assert "plausibilit" not in err


@pytest.mark.background
def test_every_builtin_scenario_passes_validate(capsys):
    names = list(builtin_scenarios())
    out = _run(capsys, ["validate", *names]).out
    assert out.count(" : valide — ") == len(names)


# ------------------------------------------------------------------ 6. the guide, for an analyst who used pip
def test_the_guide_copies_scenarios_and_templates_with_pmq():
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    bash = [line.strip() for block in re.findall(r"^```bash\n(.*?)^```", guide, re.S | re.M)
            for line in block.splitlines()]
    assert "pmq scenarios --copy ademe_s3 --out ." in bash and "pmq templates --out mes_donnees" in bash
    assert {"pmq validate mon_s3.toml", "pmq compare ademe_s3 mon_s3.toml --territory Bretagne"} <= set(bash)
    assert not any(line.startswith("cp ") for line in bash)
    assert "pmq/data/templates" not in guide and "dossier `scenarios/` du projet" not in guide
    # the file the guide shows is the edited copy: another name, the lever changed, an assumption of one's own
    shown = next(b for b in re.findall(r"^```toml\n(.*?)^```", guide, re.S | re.M) if b.startswith("# mon_s3.toml"))
    doc, builtin = tomllib.loads(shown), tomllib.loads(builtin_scenarios()["ademe_s3"].read_text(encoding="utf-8"))
    assert doc["scenario"]["name"] != builtin["scenario"]["name"]
    assert doc["demand"]["adjust"][0]["anchors"]["2050"] == 200000
    assert doc["demand"]["adjust"][0]["assumption"] != builtin["demand"]["adjust"][0]["assumption"]
    user = (ROOT / "docs" / "user_data.md").read_text(encoding="utf-8")
    assert "pmq templates --out my_data" in user
