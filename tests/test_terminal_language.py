"""What the commands print is in one language: French words and numbers (« 26 147,0 », « écrit : ») by default,
English ones (« 26,147.0 », « written: ») with --lang en."""
import re

from pmq.cli import main


def _run(capsys, argv):
    assert main(argv) == 0
    return capsys.readouterr().out


def test_run_prints_french_by_default_and_english_on_request(capsys, tmp_path):
    fr = _run(capsys, ["run", "reference", "--horizon", "2", "--out", str(tmp_path / "fr")])
    assert "année de base 2019, horizon 2 ans, 13 régions × 83 métiers" in fr
    assert re.search(r"26\u202f147,0", fr) and "26,147.0" not in fr
    assert "écrit : " in fr and "written" not in fr
    en = _run(capsys, ["run", "reference", "--horizon", "2", "--out", str(tmp_path / "en"), "--lang", "en"])
    assert "base year 2019, horizon 2 years, 13 regions × 83 occupations" in en
    assert "26,147.0" in en and "\u202f" not in en
    assert "written: " in en and "écrit" not in en and "milliers" not in en
    assert en.count("written: ") == fr.count("écrit : ") == 2          # accounts.nc and summary.csv


def test_singular_words_for_one():
    import pmq
    from pmq.projection.summary import size_line
    acc = pmq.project(pmq.load_baseline(), "reference", horizon=1).accounts.isel(territory=[0], metier=[0])
    assert size_line(acc, "fr") == "année de base 2019, horizon 1 an, 1 région × 1 métier"
    assert size_line(acc, "en") == "base year 2019, horizon 1 year, 1 region × 1 occupation"


def test_compare_names_the_domains_and_writes_numbers_by_language(capsys):
    fr = _run(capsys, ["compare", "reference", "ademe_s3", "--horizon", "2"])
    assert fr.startswith("Comparaison de scénarios — 2019–2021 — Ensemble des territoires (milliers de personnes)")
    row = next(line for line in fr.splitlines() if line.startswith("B Bâtiment, travaux publics"))
    ref, alt, diff = re.split(" +", row)[-3:]          # ASCII spaces (U+202F is inside numbers)
    assert re.fullmatch(r"\d{1,3}(\u202f\d{3})*,\d", ref) and re.fullmatch(r"[+\u2212]?\d+(\u202f\d{3})*,\d", diff)
    assert "Postes à pourvoir" in fr and "domaine" in fr
    en = _run(capsys, ["compare", "reference", "ademe_s3", "--horizon", "2", "--lang", "en"])
    assert en.startswith("Scenario comparison — 2019–2021 — All territories (thousand persons)")
    assert any(line.startswith("B Construction, public works") for line in en.splitlines())
    assert "Job openings" in en and "Postes" not in en and "\u202f" not in en


def test_each_subcommand_help_lists_its_own_outputs(capsys):
    import pytest
    own = {"run": "accounts.nc", "compare": "compare_domains.csv", "imbalance": "watch_list.csv",
           "report": "report.html", "export": "--format", "reproduce": "_differences.csv",
           "backtest": "demand_metrics.csv", "skills": "skills.csv", "passerelles": "passerelles.csv"}
    for cmd, word in own.items():
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        text = capsys.readouterr().out
        assert word in text, cmd
        if cmd != "run":
            assert "accounts.nc (every stock and flow" not in text, cmd      # not run's outputs


def test_the_analyses_share_one_default_horizon():
    from pmq.cli import build_parser
    parser = build_parser()
    for argv in (["compare", "reference"], ["imbalance", "reference"], ["skills", "reference", "--out", "x"],
                 ["passerelles", "T2A"]):
        assert parser.parse_args(argv).horizon == 11, argv[0]
    assert parser.parse_args(["report", "reference"]).horizon == [11]
    assert parser.parse_args(["run", "reference"]).horizon is None            # the scenario's own


def test_validate_answers_in_the_reader_language(capsys):
    fr = _run(capsys, ["validate", "ademe_s3"])
    assert "valide —" in fr and "1 levier," in fr and "empreinte" in fr and "hash" not in fr
    en = _run(capsys, ["validate", "ademe_s3", "--lang", "en"])
    assert "valid —" in en and "1 lever," in en and "S3 Green technologies" in en


def test_compare_metiers_table_names_the_metiers_in_the_reader_language():
    import pmq
    comp = pmq.project_many(["reference", "ademe_s3"], pmq.load_baseline(), horizon=2, ages=False)
    fr, en = comp.table(horizon=2, by="metier"), comp.table(horizon=2, by="metier", lang="en")
    assert list(fr.columns[:4]) == ["horizon", "territory", "metier", "metier_label"]
    row = fr[(fr["metier"] == "J1Z") & (fr["territory"] == "53")].iloc[0]
    assert row["metier_label"] == "Ouvriers qualifiés de la manutention"
    assert en.loc[en["metier"] == "A0Z", "metier_label"].iloc[0].startswith("Farmers")
    assert set(fr.loc[fr["metier"] == "Total", "metier_label"]) == {""}
    dom = comp.table(horizon=2, lang="en")
    assert dom.loc[dom["domain"] == "B", "domain_label"].iloc[0] == "Construction, public works"
