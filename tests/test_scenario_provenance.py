"""Whose numbers a scenario carries: a lever says source *or* assumption (never an assumption under a
source's name), its split over métiers says whose it is, and the status reaches the docs, the report's
parameter table, the accounts' attrs and the Excel README."""
import json

import pytest

import pmq
from pmq.errors import InputError, PmqWarning, ScenarioError
from pmq.scenario import (LEVER_SECTIONS, MAX_METIER_DEVIATION, builtin_scenarios, lever_status,
                          read_scenario, status_label)
from pmq.analysis.sources import lever_table

HEAD = '[scenario]\nname = "t"\nextends = "reference"\n'
LEVER = ('[[demand.adjust]]\nid = "x"\nkind = "deviation"\nmetier = ["B4Z"]\n'
         'anchors = {{ 2019 = 0, 2025 = 1000 }}\n{extra}\n')


def write(tmp_path, extra, head=HEAD):
    p = tmp_path / "t.toml"
    p.write_text(head + LEVER.format(extra=extra), encoding="utf-8")
    return p


@pytest.mark.parametrize("extra, key, words", [
    ('source = "A, https://a"\nassumption = "mine"', "demand.adjust[x].assumption", "pas les deux"),
    ('', "demand.adjust[x]", "les nombres demandent une source"),
    ('assumption = "mine"\nmethod = "linear"', "demand.adjust[x].method", "va avec source"),
    ('source = "A, https://a"\nbasis = "B"', "demand.adjust[x].basis", "va avec assumption"),
    ('source = "  "', "demand.adjust[x].source", "est vide"),
    ('source = "A"\nweights_assumption = "mine"', "demand.adjust[x].weights_assumption", "n'en a pas"),
])
def test_a_lever_says_whose_its_numbers_are(tmp_path, extra, key, words):
    with pytest.raises(ScenarioError) as exc:
        read_scenario(write(tmp_path, extra))
    assert exc.value.key == key and words in str(exc.value)


def test_explicit_weights_say_whose_the_split_is(tmp_path):
    lever = ('[[demand.adjust]]\nid = "w"\nkind = "deviation"\nweights = { B4Z = 0.5, B2Z = 0.5 }\n'
             'anchors = { 2019 = 0, 2025 = 1000 }\nsource = "A, https://a"\n')
    p = tmp_path / "w.toml"
    p.write_text(HEAD + lever, encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        read_scenario(p)
    assert exc.value.key == "demand.adjust[w].weights" and "weights_source" in str(exc.value)
    p.write_text(HEAD + lever + 'weights_assumption = "half each"\n', encoding="utf-8")
    sc = read_scenario(p)
    assert lever_status(sc.lever_list("demand.adjust")[0]) == "split_assumed"
    assert sc.status == "split_assumed" and sc.assumed_levers() == ["demand.adjust[w]"]
    p.write_text(HEAD + lever + 'weights_source = "DARES key"\n', encoding="utf-8")
    assert read_scenario(p).status == "sourced"


def test_status_of_a_scenario_is_its_least_sourced_lever(tmp_path):
    sourced = read_scenario(write(tmp_path, 'source = "A, https://a"\nmethod = "linear"'))
    assert sourced.status == "sourced" and sourced.assumed_levers() == []
    assumed = read_scenario(write(tmp_path, 'assumption = "mine"\nbasis = "A"'))
    assert assumed.status == "assumed" and assumed.assumed_levers() == ["demand.adjust[x]"]
    # a user's file is not pmq's assumption
    assert not assumed.builtin
    assert assumed.status_label("fr") == "hypothèse de l'auteur du scénario"
    assert status_label("assumed", "fr") == "hypothèse pmq"
    assert status_label("assumed", "en") == "pmq assumption"


def test_bound_and_reason_go_together(tmp_path):
    head = HEAD + "max_metier_deviation = 0.6\n"
    with pytest.raises(ScenarioError) as exc:
        read_scenario(write(tmp_path, 'source = "A, https://a"', head=head))
    assert exc.value.key == "scenario.max_metier_deviation" and "pourquoi" in str(exc.value)
    sc = read_scenario(write(tmp_path, 'source = "A, https://a"',
                             head=head + 'max_metier_deviation_reason = "because"\n'))
    assert sc.max_metier_deviation == 0.6 and sc.max_metier_deviation_reason == "because"
    assert read_scenario("reference").max_metier_deviation == MAX_METIER_DEVIATION


@pytest.mark.parametrize("name", list(builtin_scenarios()))
def test_every_builtin_lever_follows_the_rule_and_titles_say_what_is_assumed(name):
    sc = read_scenario(name)
    for section in LEVER_SECTIONS:
        for lever in sc.lever_list(section):
            assert bool(lever.get("source")) != bool(lever.get("assumption")), (name, lever["id"])
    if sc.status != "sourced":
        # the title says so, in both languages
        assert "pmq" in sc.title_fr and "pmq" in sc.title_en, (name, sc.title_fr, sc.title_en)
    assert sc.builtin


def test_the_library_labels_what_the_audit_found_assumed():
    """The audit's findings (scenario_audit.md): ADEME splits and S3's total, the reindustrialisation
    métier split are pmq's; the DARES 2023 low-carbon levers, the ADEME totals, the pension levers are
    sourced."""
    assert read_scenario("ademe_s3").status == "assumed"
    for n in ("ademe_s1", "ademe_s2", "ademe_s4", "bas_carbone_dares2023", "retraites_2023",
              "retraites_2023_suspendue"):
        assert read_scenario(n).status == "sourced", n
    for n in ("ademe_s1_illustratif", "ademe_s2_illustratif", "ademe_s3_illustratif", "ademe_s4_illustratif"):
        assert read_scenario(n).status == "assumed", n
    for n in ("reindustrialisation", "reindustrialisation_amont", "reindustrialisation_15"):
        assert read_scenario(n).status == "split_assumed", n
    # no « Métiers 2030 » in the title of a file whose figures are not read in that report
    assert "Métiers 2030" not in read_scenario("bas_carbone_dares2023").title_fr


def test_old_name_reads_the_rebuilt_file_with_a_warning():
    with pytest.warns(PmqWarning, match="bas_carbone_dares2023"):
        sc = read_scenario("bas_carbone")
    assert sc.name == "bas_carbone_dares2023"


def test_lever_table_carries_status_and_provenance_not_as_parameters():
    t = lever_table(read_scenario("reindustrialisation"), "en")
    row = t.iloc[0]
    assert row["status"] == "split_assumed" and row["weights_assumption"] and row["source"]
    assert "weights_assumption" not in row["parameters"] and "method" not in row["parameters"]
    assert "weights = " in row["parameters"] and "_fr" not in row["parameters"]
    assert row["parameters_text"].startswith("deviation from the trend: 0 in 2022, +740,000 in 2035, held after; "
                                             "split over occupations: H0Z 20%, N0Z 7%")
    # the texts in the reader's language, the status the same in both
    fr = lever_table(read_scenario("reindustrialisation"), "fr").iloc[0]
    assert fr["status"] == row["status"]
    assert fr["source"].startswith("France Stratégie (2024), scénario 12 % tiré par l'aval")
    assert row["source"].startswith("France Stratégie (2024), scenario 12 % downstream")
    assert (fr["label"], row["label"]) == ("Industrie manufacturière (12 % du PIB, aval + technologies)",
                                           "Manufacturing (12 % of GDP, downstream + technology)")
    assert (fr["section_label"], row["section_label"]) == ("Emploi (demande de travail)", "Employment (labour demand)")


@pytest.mark.filterwarnings("ignore::pmq.errors.InactiveLeverWarning")
def test_accounts_carry_the_status(baseline):
    acc = pmq.project(baseline, "ademe_s3", horizon=2).accounts
    assert acc.attrs["scenario_status"] == "assumed"
    assert json.loads(acc.attrs["scenario_assumed_levers"]) == read_scenario("ademe_s3").assumed_levers()
    from pmq.projection.compare import project_many
    comp = project_many(["reference", "reindustrialisation"], baseline, horizon=2)
    assert json.loads(comp.accounts.attrs["scenario_status"]) == {"reference": "sourced",
                                                                  "reindustrialisation": "split_assumed"}
    # one scenario taken from a comparison gets its own status back
    assert comp["reindustrialisation"].accounts.attrs["scenario_status"] == "split_assumed"


def test_excel_readme_says_hypothese_pmq_and_refuses_malformed_attrs(baseline):
    from pmq.export.tables import _readme_rows, provenance, scenario_status
    acc = pmq.project(baseline, "ademe_s3", horizon=2).accounts
    rows = _readme_rows(acc, "fr")
    status = [r for r in rows if r and r[0] == "statut des chiffres"]
    assert status and status[0][1] == "ademe_s3" and status[0][2].startswith("hypothèse pmq : demand.adjust[")
    assert scenario_status({"scenario": "x", "scenario_status": "sourced"}) == [("x", "sourced", [])]
    assert scenario_status({}) == []
    with pytest.raises(InputError) as exc:
        scenario_status({"scenario_status": "made-up"})
    assert exc.value.column == "scenario_status"
    # the provenance attrs of a deliverable: a malformed one is named, never dropped silently
    for key, bad in (("data_sources", "[1, 2]"), ("estimated_inputs", "{not json")):
        with pytest.raises(InputError) as exc:
            provenance({key: bad})
        assert exc.value.column == key
    assert provenance({}) == ({}, [])


def test_report_parameter_table_says_hypothese_pmq():
    from pmq.export.report import _levers_html
    sc = read_scenario("ademe_s3")
    page = _levers_html(sc, lever_table(sc, "fr"), "fr")
    assert "Statut des chiffres\u00a0: hypothèse pmq" in page and "<th>statut</th>" in page
    cells = page.split("<tbody>")[1]
    assert "<td>hypothèse pmq</td>" in cells
    # the assumption's text is in its column, not among the parameters; the parameters are in words
    assert "assumption =" not in page and "basis =" not in page and "kind =" not in page
    assert "écart au tendanciel\u00a0: 0 en 2020, +450\u202f000 en 2050, maintenu ensuite" in cells
    # every address is a link, its text the address itself
    assert '<a href="https://vert.eco/articles/velo-renouvelables-batiment-ou-sont-les-emplois-de-demain">' \
           'https://vert.eco/articles/velo-renouvelables-batiment-ou-sont-les-emplois-de-demain</a> (S)' in cells
    sc = read_scenario("reindustrialisation")
    page = _levers_html(sc, lever_table(sc, "fr"), "fr")
    assert "<td>total sourcé, répartition hypothèse pmq</td>" in page and "Répartition\u00a0: Hypothèse pmq" in page
    assert "répartition entre métiers\u00a0: H0Z 20\u202f%, N0Z 7\u202f%, C2Z 2\u202f%, D6Z 10,4\u202f%" in page
    en = _levers_html(read_scenario("bas_carbone_dares2023"), lever_table(read_scenario("bas_carbone_dares2023"), "en"),
                      "en")
    assert "<td>sourced</td>" in en and "pmq assumption" not in en
    assert "Construction and public works<br><code>construction</code>" in en
    assert "deviation from the trend: 0 in 2019, +100,000 in 2030, held after" in en
