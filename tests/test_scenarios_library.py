"""The built-in scenario library: every file runs, directions, sourced totals, multi-scenario runs."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pmq
from pmq import cli
from pmq.projection.compare import project_many
from pmq.scenario import builtin_scenarios, read_scenario
from pmq.analysis.sources import source_check, update_docs
from pmq.scenario.sectors import key_table, metier_shares, sector_employment, sector_key, sectors
from pmq.testing import assert_accounts

ROOT = Path(__file__).resolve().parent.parent
NAMES = list(builtin_scenarios())
#: the scenarios the direction and source tests read: the reference and every scenario with demand
#: or exit levers (reference_incertain runs the reference; tendances_estimees has no lever)
LIBRARY = [n for n in NAMES if n == "reference" or any(
    read_scenario(n).lever_list(k) for k in ("demand.adjust", "exits.shift", "exits.cohort_shift", "exits.multiplier"))]


#: the projections of ``library`` run in the background process from the start of the session
#: (tests/conftest.py)
PMQ_BACKGROUND = {"scenario_library": ("library", ["python:_background_jobs:scenario_library", ",".join(LIBRARY)]),
                  "docs_pages_check": ("stale_docs_pages", ["python:_background_jobs:docs_pages_check",
                                                           str(ROOT / "docs" / "scenarios")])}


@pytest.fixture(scope="module")
def library(baseline, background):
    """The built-in scenarios of LIBRARY to 2050, summed over age: employment and departures by
    scenario × year × territory × métier (tests/_background_jobs.py: scenario_library)."""
    from _background_jobs import scenario_library
    done = background.value("scenario_library")
    return done if done is not None else scenario_library(",".join(LIBRARY), baseline)


ADEME = ["ademe_s1", "ademe_s2", "ademe_s3", "ademe_s4"]
#: the published (or, for S3, assumed) ADEME employment totals in 2050 vs the trend
ADEME_TOTALS = {"ademe_s1": -1_500_000, "ademe_s2": 200_000, "ademe_s3": 450_000, "ademe_s4": 700_000}
#: the reindustrialisation files' métier groups (pmq's split, following France Stratégie's métier findings)
REINDUS_GROUPS = {"H0Z": ["H0Z"], "N0Z": ["N0Z"], "technicians": ["C2Z", "D6Z", "E2Z", "F5Z", "G1Z"],
                  "skilled": ["C1Z", "D1Z", "D2Z", "D4Z", "E1Z", "F0A", "F2A", "F4Z", "G0A"],
                  "unskilled": ["C0Z", "D0A", "E0Z"]}


def test_library_covers_every_lever_scenario():
    assert {"reference", "bas_carbone_dares2023", "bas_carbone_dares2023_haut", *ADEME,
            *(f"{n}_illustratif" for n in ADEME), "reindustrialisation", "reindustrialisation_15",
            "retraites_2023", "retraites_2023_suspendue"} <= set(LIBRARY)


def test_library_is_complete():
    expected = {"reference", "bas_carbone_dares2023", "bas_carbone_dares2023_haut", *ADEME,
                *(f"{n}_illustratif" for n in ADEME),
                "reindustrialisation", "reindustrialisation_amont", "reindustrialisation_15",
                "retraites_2023", "retraites_2023_suspendue"}
    assert expected <= set(NAMES)
    assert "bas_carbone" not in NAMES                       # renamed: read with a warning, not listed
    for name in NAMES:
        page = ROOT / "docs" / "scenarios" / f"{name}.md"
        assert page.exists(), name
        lines = page.read_text(encoding="utf-8").splitlines()
        assert "<!-- generated:start -->" in lines and "<!-- generated:end -->" in lines, name


@pytest.mark.parametrize("name", NAMES)
def test_every_file_validates_and_runs_through_the_cli(name, tmp_path, capsys):
    assert cli.main(["validate", str(ROOT / "scenarios" / f"{name}.toml")]) == 0
    assert "valid" in capsys.readouterr().out
    out = tmp_path / "out"
    assert cli.main(["run", name, "--horizon", "2", "--out", str(out)]) == 0     # runs and writes: 2 years do
    assert (out / "accounts.nc").exists() and (out / "summary.csv").exists()


def test_every_number_has_a_source():
    """Every lever says whose its numbers are, exactly one of source / assumption; explicit weights
    say whose the split is; method goes with a source and basis with an assumption."""
    for name, path in builtin_scenarios().items():
        sc = read_scenario(path)
        for section, items in sc.levers.items():
            for lv in items:
                where = (name, section, lv["id"])
                assert bool(lv.get("source")) != bool(lv.get("assumption")), where
                assert not lv.get("method") or lv.get("source"), where
                assert not lv.get("basis") or lv.get("assumption"), where
                if "weights" in lv:
                    assert bool(lv.get("weights_source")) != bool(lv.get("weights_assumption")), where


def test_ademe_default_files_apply_only_the_total():
    """ademe_sN: one deviation lever with no selector (spread in proportion to trend employment), the
    total in 2050, sourced except S3's, which is a pmq assumption and says so in its title."""
    for name, total in ADEME_TOTALS.items():
        sc = read_scenario(name)
        (lever,) = sc.lever_list("demand.adjust")
        assert lever["id"] == "total" and lever["kind"] == "deviation"
        assert not any(k in lever for k in ("sector", "metier", "domain", "weights", "territory")), name
        assert lever["anchors"] == {"2020": 0, "2050": total} and lever["after"] == "hold"
        assert sc.horizon == 31
        if name == "ademe_s3":
            assert lever.get("assumption") and "vert.eco" in lever["basis"] and "hypothèse pmq" in sc.title_fr
        else:
            assert lever.get("source") and "vert.eco" in lever["source"] and "pmq" not in sc.title_fr
        # ADEME's communication stresses activity growth in every scenario: the file says so
        assert "dans tous les scénarios" in sc.resolved["scenario"]["source"]
        assert "economic activity in every scenario" in sc.description


def test_ademe_illustrative_files_split_the_same_total_and_say_so():
    for name, total in ADEME_TOTALS.items():
        sc = read_scenario(f"{name}_illustratif")
        levers = sc.lever_list("demand.adjust")
        assert "total" not in [lv["id"] for lv in levers] and len(levers) >= 5
        assert sum(lv["anchors"]["2050"] for lv in levers) == total
        for lv in levers:
            assert "hypothèse pmq" in lv["assumption"] and lv["basis"] and not lv.get("source"), (name, lv["id"])
        assert "hypothèse pmq" in sc.title_fr and "pmq assumption" in sc.title_en


def test_bas_carbone_dares2023_levers():
    """The DARES 2023 figures: construction at the low end (high end in the _haut variant), R&D and
    engineering and maintenance as two +50 000 on named métiers, no consulting lever."""
    low = {lv["id"]: lv for lv in read_scenario("bas_carbone_dares2023").lever_list("demand.adjust")}
    assert set(low) == {"construction", "rd_ingenierie", "maintenance", "agriculture", "transport"}
    assert {k: v["anchors"]["2030"] for k, v in low.items()} == {
        "construction": 100_000, "rd_ingenierie": 50_000, "maintenance": 50_000, "agriculture": 9_000,
        "transport": -10_000}
    assert low["rd_ingenierie"]["metier"] == ["N0Z", "H0Z", "M2Z", "B7Z"]
    assert low["maintenance"]["metier"] == ["G0A", "G0B", "G1Z"]
    assert all(lv.get("source") and lv.get("method") for lv in low.values())
    high = {lv["id"]: lv for lv in read_scenario("bas_carbone_dares2023_haut").lever_list("demand.adjust")}
    assert high["construction"]["anchors"]["2030"] == 200_000
    assert sum(lv["anchors"]["2030"] for lv in high.values()) == 299_000


def test_reindustrialisation_weights_follow_the_source_metier_findings():
    """The split over métiers is pmq's (weights_assumption) but follows France Stratégie: skilled workers
    and technicians first in number, engineers and R&D staff fastest; nothing for bakers or sellers;
    the variants repeat the default's weights (a child lever replaces the parent's whole table)."""
    base = read_scenario("reindustrialisation").lever_list("demand.adjust")[0]
    w = base["weights"]
    assert sum(w.values()) == pytest.approx(1, abs=1e-9) and "S0Z" not in w and "R1Z" not in w
    shares = {g: sum(w[m] for m in ms) for g, ms in REINDUS_GROUPS.items()}
    assert shares == pytest.approx({"H0Z": 0.20, "N0Z": 0.07, "technicians": 0.27, "skilled": 0.34,
                                    "unskilled": 0.12}, abs=1e-9)
    assert set(w) == {m for ms in REINDUS_GROUPS.values() for m in ms}
    totals = {"reindustrialisation": 740_000, "reindustrialisation_amont": 580_000,
              "reindustrialisation_15": 2_000_000}
    for name, total in totals.items():
        sc = read_scenario(name)
        (lever,) = sc.lever_list("demand.adjust")
        assert lever["weights"] == w and lever["weights_assumption"] == base["weights_assumption"], name
        assert lever["anchors"] == {"2022": 0, "2035": total} and lever.get("source"), name
        assert "hypothèse pmq" in sc.title_fr and "pmq assumption" in sc.title_en


def test_pension_share_is_the_insee_ratio():
    """share = (17 + 16) / (27 + 22) ≈ 0.67 (Insee on the 2010 reform), sourced, in every pension lever."""
    for name in ("retraites_2023", "retraites_2023_suspendue"):
        for lv in read_scenario(name).lever_list("exits.cohort_shift"):
            assert lv["share"] == pytest.approx((17 + 16) / (27 + 22), abs=0.005), (name, lv["id"])
            assert "maire-info" in lv["source"] and "(17 + 16) / (27 + 22)" in lv["method"]
            assert not lv.get("assumption")


@pytest.mark.parametrize("body,key,value", [
    ('[demand]\nspreding = "linear"\n', "demand.spreding", "linear"),
    ('[[exits.multiplier]]\nid = "m"\nfactor = -1.0\nassumption = "x"\n', "exits.multiplier[m].factor", "-1.0"),
    ('[[demand.adjust]]\nid = "g"\nkind = "growth"\nmetier = ["Q9Z"]\nrate = 0.02\nperiod = [2024, 2030]\n'
     'assumption = "x"\n', "demand.adjust[g].metier", "Q9Z"),
])
def test_bad_file_fails_in_cli_without_output(tmp_path, capsys, body, key, value):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nextends = "reference"\n' + body)
    for argv in (["validate", str(bad)], ["run", str(bad), "--out", str(tmp_path / "o1")],
                 ["compare", "reference", str(bad), "--out", str(tmp_path / "o2")]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert "bad.toml" in err and key in err and value in err, err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_extends_cycle_fails_in_cli(tmp_path, capsys):
    (tmp_path / "a.toml").write_text('[scenario]\nextends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('[scenario]\nextends = "a.toml"\n')
    assert cli.main(["run", str(tmp_path / "a.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "cycle dans extends" in err and "scenario.extends" in err and "a.toml" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.background
def test_cli_exit_status_in_a_subprocess(tmp_path):
    bad = tmp_path / "typo.toml"
    bad.write_text('[scenario]\nextends = "reference"\n[horizons]\nrun = 5\nsumary = [5]\nassumption="x"\n')
    r = subprocess.run([sys.executable, "-m", "pmq.cli", "validate", str(bad)], capture_output=True, text=True)
    assert r.returncode != 0 and "horizons.sumary" in r.stderr


def test_reindustrialisation_raises_industrial_employment(library):
    acc = library
    emp = acc["employment"].sel(year=2029).sum("territory")
    for d in "CDEFGH":
        e = emp.where(acc.domain == d).sum("metier")
        for variant in ("reindustrialisation", "reindustrialisation_amont", "reindustrialisation_15"):
            assert float(e.sel(scenario=variant)) > float(e.sel(scenario="reference")), (variant, d)
    order = emp.sum("metier")
    assert (float(order.sel(scenario="reindustrialisation_amont")) < float(order.sel(scenario="reindustrialisation"))
            < float(order.sel(scenario="reindustrialisation_15")))


def test_retraites_directions(library):
    dep = library["departures"].sum(["territory", "metier"])
    ref = dep.sel(scenario="reference")
    for name in ("retraites_2023", "retraites_2023_suspendue"):
        d = dep.sel(scenario=name) - ref
        assert (d.sel(year=slice(2019, 2022)) == 0).all()
        assert (d.sel(year=slice(2023, 2030)) < 0).all()
        # later, no catch-up above the reference: with employment fixed by demand, longer careers
        # mean fewer departures a year (steady state ≈ employment ÷ career length, about −2 %)
        later = d.sel(year=slice(2031, 2049)) / ref.sel(year=slice(2031, 2049))
        assert float(later.max()) <= 1e-9
        assert float(later.sel(year=slice(2037, 2049)).min()) > -0.04
    s = dep.sel(scenario="retraites_2023_suspendue") - dep.sel(scenario="retraites_2023")
    assert (s.sel(year=slice(2023, 2025)) == 0).all()            # same law before the suspension
    assert (s.sel(year=slice(2026, 2030)) > 0).all()             # the freeze brings exits forward
    emp = library["employment"].sum(["territory", "metier"])
    np.testing.assert_allclose(emp.sel(scenario="retraites_2023"), emp.sel(scenario="reference"), rtol=1e-12)


@pytest.mark.parametrize("name", [f"{n}_illustratif" for n in ADEME])
def test_sector_directions(library, name):
    """Each sector the scenario's narrative names moves in the stated direction.

    Sector employment is estimated from the projected employment by métier with the observed
    shares of each métier's employment in the sector (pmq.scenario.sectors.sector_employment), so the
    levers on other sectors (whose métiers overlap) count too; explicit weights are checked on
    the weighted sum of their métiers, a list of métiers on their sum.  The bas_carbone_dares2023
    files are not checked here: their levers are sourced figures, each checked on its own by
    test_source_totals_within_one_percent, and through overlapping métiers the +50 000 in
    maintenance (workers employed by transport firms) offsets the −10 000 in transport."""
    sc = read_scenario(name)
    emp = library["employment"].sum("territory")
    for lever in sc.lever_list("demand.adjust"):
        year, value = max((int(y), v) for y, v in lever["anchors"].items())
        e = emp.sel(year=year)
        if "sector" in lever:
            se = sector_employment(e, lever["sector"])
        elif "metier" in lever:
            se = e.sel(metier=lever["metier"]).sum("metier")
        else:
            w = pd.Series(lever["weights"])
            se = (e.sel(metier=list(w.index)) * w.to_xarray().rename(index="metier")).sum("metier")
        diff = float(se.sel(scenario=name) - se.sel(scenario="reference"))
        assert np.sign(diff) == np.sign(value), (name, lever["id"], diff, value)


@pytest.mark.parametrize("name", [n for n in NAMES if read_scenario(n).lever_list("demand.adjust")])
def test_source_totals_within_one_percent(name, baseline, library):
    chk = source_check(name, baseline)
    assert len(chk) and (chk["rel_diff"].abs() < 0.01).all(), chk
    # the « Total » rows against the projected accounts themselves
    emp = library["employment"].sum(["territory", "metier"])
    for r in chk[chk.lever == "Total"].itertuples():
        diff = float(emp.sel(scenario=name, year=r.year) - emp.sel(scenario="reference", year=r.year))
        assert diff == pytest.approx(r.source_value, rel=0.01)


@pytest.fixture(scope="module")
def stale_docs_pages(background):
    """The scenario docs pages that are out of date (tests/_background_jobs.py: docs_pages_check)."""
    done = background.value("docs_pages_check")
    return done if done is not None else update_docs(ROOT / "docs" / "scenarios", check=True)


def test_docs_pages_are_up_to_date(stale_docs_pages):
    assert stale_docs_pages == []


#: the multi-scenario run's horizon: to 2031, past the 2023 pension reform's last step (2030) and the
#: suspension (2026), with the levers of every kind (demand levers are applied on paths to 2050 and
#: cut at the horizon); the identity is cell by cell and year by year, it needs no longer run
MULTI_H = 12


def test_multi_scenario_run_equals_separate_runs(baseline):
    # the reference, demand levers (sector keys and weights; 2050 and 2035 anchors), exit levers (hazards by year)
    names = ["reference", "ademe_s1_illustratif", "retraites_2023_suspendue", "reindustrialisation"]
    multi = project_many(names, baseline, horizon=MULTI_H)
    for name in names:
        single = pmq.project(baseline, name, horizon=MULTI_H).accounts
        multi_acc = multi.accounts.sel(scenario=name)
        for var in ("employment", "departures", "young_entrants", "net_mobility", "other_recruits",
                    "net_creation", "openings", "imbalance"):
            np.testing.assert_array_equal(single[var].values, multi_acc[var].values, err_msg=f"{name} {var}")
        agg_s = single["openings"].sum(["territory", "metier"]).values
        agg_m = multi_acc["openings"].sum(["territory", "metier"]).values
        np.testing.assert_allclose(agg_s, agg_m, rtol=1e-12)
        del single, multi_acc
    one = multi["retraites_2023_suspendue"]
    assert one.accounts.attrs["scenario"] == "retraites_2023_suspendue"
    assert "scenario" not in one.accounts.dims
    assert_accounts(one)


def test_compare_table(baseline, capsys, tmp_path):
    # the first built-in scenario (the Δ columns' base) and the two named below
    library = project_many([NAMES[0], "bas_carbone_dares2023", "reference"], baseline, horizon=10)
    t = library.table(horizon=10)
    ens = t[(t.territory == "Ensemble") & (t.domain == "Total")].iloc[0]
    d = ens["openings | Δ bas_carbone_dares2023 − " + library.names[0]]
    assert d == pytest.approx(ens["openings | bas_carbone_dares2023"] - ens["openings | " + library.names[0]])
    reg = t[(t.territory != "Ensemble") & (t.domain != "Total")]
    np.testing.assert_allclose(reg["employment_end | reference"].sum(), ens["employment_end | reference"], rtol=1e-12)
    assert cli.main(["compare", "reference", "ademe_s3", "reindustrialisation", "--horizon", "10",
                     "--territory", "PACA", "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert "Postes à pourvoir" in out and "Δ reindustrialisation" in out
    csv = pd.read_csv(tmp_path / "cmp" / "compare_domains.csv", dtype={"territory": str})
    assert set(csv.territory) == {"93"} and "imbalance | Δ ademe_s3 − reference" in csv.columns
    assert (tmp_path / "cmp" / "compare_metiers.csv").exists()


def test_scenarios_command_lists_titles(capsys):
    assert cli.main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert name in out
    assert "Génération frugale" in out


def test_sector_key_rows_sum_to_one():
    kt = key_table()
    sums = kt.groupby("sector")["weight"].sum()
    np.testing.assert_allclose(sums.values, 1.0, rtol=1e-12)
    assert set(sums.index) == set(sectors()["sector"])
    assert (kt["weight"] > 0).all()
    assert sector_key("construction").idxmax() == "B4Z"
    sh = metier_shares("construction")
    assert ((sh > 0) & (sh <= 1)).all() and sh["B2Z"] > 0.8 and "M2Z" not in sh.index


def test_worked_example_in_docs_runs(tmp_path, monkeypatch, capsys):
    text = (ROOT / "docs" / "scenarios" / "format.md").read_text(encoding="utf-8")
    toml = re.search(r"<<'TOML'\n(.*?)\nTOML\n", text, re.S).group(1)
    (tmp_path / "my_scenario.toml").write_text(toml, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate", "my_scenario.toml"]) == 0
    assert cli.main(["compare", "reference", "my_scenario.toml", "--horizon", "10", "--out", "comparison"]) == 0
    py = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    ns = {}
    exec(compile(py, "format.md", "exec"), ns)  # the docs' Python block, as users would run it
    table = ns["table"]
    ens = table[(table.territory == "Ensemble") & (table.domain == "V")].iloc[0]
    assert ens["employment_end | Δ my_scenario − reference"] > 0
    assert ns["proj"].scenario.name == "my_scenario"
