"""The packaged baseline is regenerated deterministically from the raw file; Corse's split is exact."""
import json

import pandas as pd
import pytest

from pmq.estimation import build
from pmq.data import data_path
from pmq.testing import nested_differences, table_differences

#: Rebuilt tables are compared with the shipped ones to this relative tolerance, never byte for byte:
#: the calibration's bisections and the hazard fit move in the 8th digit with the numpy / scipy /
#: statsmodels release (about 3e-8 relative between numpy 1.26 and 2.4).
RTOL = 1e-6


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline")
    build.build(out)
    return out


@pytest.mark.parametrize("name", ["flows.csv", "tension.csv", "hazards.csv", "employment_by_age.csv"])
def test_build_reproduces_the_shipped_tables(rebuilt, name):
    read = dict(dtype={"territory": str, "metier": str}, keep_default_na=False, na_values=[""])
    shipped, new = pd.read_csv(data_path("baseline", name), **read), pd.read_csv(rebuilt / name, **read)
    diffs = table_differences(shipped, new, rtol=RTOL, atol=1e-9)
    assert not diffs, f"{name}: rebuilt differs from the shipped file beyond rtol {RTOL} " \
                      "(run python -m pmq.estimation.build if the change is intended):\n" + "\n".join(diffs)


def test_build_reproduces_the_calibration_report(rebuilt):
    shipped = json.loads(data_path("baseline", "calibration.json").read_text(encoding="utf-8"))
    new = json.loads((rebuilt / "calibration.json").read_text(encoding="utf-8"))
    # iteration counts may move by a step or two with the library versions; everything else within RTOL
    for d in (shipped, new):
        d["summary"].pop("tilt_bisection_iterations", None)
    diffs = nested_differences(shipped, new, rtol=RTOL, atol=1e-9)
    assert not diffs, "calibration.json differs beyond rtol 1e-6:\n" + "\n".join(diffs[:10])


def test_table_comparison_names_the_cell():
    """The comparison itself can fail, and says where."""
    a = pd.DataFrame({"metier": ["A0Z", "A1Z"], "age": [15, 16], "hazard": [0.01, 0.02]})
    b = a.assign(hazard=[0.01, 0.02 * (1 + 1e-5)])
    diffs = table_differences(a, b, rtol=RTOL)
    assert len(diffs) == 1 and "A1Z" in diffs[0] and "hazard" in diffs[0] and "+1e-05" in diffs[0]
    assert table_differences(a, a.assign(hazard=[0.01, 0.02 * (1 + 1e-8)]), rtol=RTOL) == []
    assert nested_differences({"x": {"y": [1.0, 2.0]}}, {"x": {"y": [1.0, 2.1]}}, rtol=RTOL) == \
        ["/x/y[1]: expected 2.0, got 2.1"]


def test_corse_groups_kept_exactly():
    raw = pd.read_csv(data_path("raw", "metiers2030_region_fap.csv"))
    flows = pd.read_csv(data_path("baseline", "flows.csv"), dtype={"territory": str})
    corse = flows[flows.territory == "94"]
    groups = raw[(raw.region == "Corse") & raw.code_fap.str.contains(";")]
    assert len(groups) == 15
    g = corse.groupby("published_code")[["net_creation", "departures", "young_entrants", "net_mobility"]].sum()
    for _, row in groups.iterrows():
        got = g.loc[row.code_fap] / 1000
        assert abs(got.net_creation - row.creations_destructions_milliers) < 1e-9
        assert abs(got.departures - row.departs_fin_carriere_milliers) < 1e-9
        assert abs(got.young_entrants + row.jeunes_debutants_milliers) < 1e-9
        assert abs(got.net_mobility + row.solde_mobilites_inter_regions_milliers) < 1e-9
    # Net mobility sums to zero over the 13 regions for every FAP (Corse included).
    s = flows.groupby("metier")["net_mobility"].sum()
    assert s.abs().max() < 1e-6
    assert (corse[corse.published_code.str.contains(";")][["departures", "young_entrants"]] >= 0).all().all()


def test_calibration_report_has_convergence():
    cal = json.loads(data_path("baseline", "calibration.json").read_text(encoding="utf-8"))
    s = cal["summary"]
    assert s["tilt_bisection_iterations"] > 10 and s["departures_max_rel_error"] < 1e-6
    assert all(abs(v) <= s["offset_bound_years"] + 1e-9 for v in cal["exit_age_offsets"].values())
    assert cal["national_hazard_fit"]["rmse"] < 0.03


def test_text_comparison_allows_the_printed_precision_only():
    """Generated pages are compared number by number: one unit of the last printed digit is a
    rounding that moved with a library release; more, a changed word or a changed year is stale."""
    from pmq.testing import text_differences
    page = "| ARIMA | 14,4 | 4.19 | 1 234 |\nDéparts 2019–2030 : 7 400 000"
    assert text_differences(page, page.replace("14,4", "14,3").replace("4.19", "4.20")) == []
    assert text_differences(page, page.replace("14,4", "14,2"))[0].startswith("line 1: expected 14,4, got 14,2")
    assert text_differences(page, page.replace("1 234", "1 236"))
    assert text_differences(page, page.replace("2030", "2031"))       # years are exact
    assert text_differences(page, page.replace("Départs", "Départ"))
    assert text_differences(page, page.replace("7 400 000", "7 400 000 0"))
    # scientific notation: one unit of the mantissa's last digit, scaled by the exponent
    assert text_differences("rel. 0.00e+00", "rel. 1.94e-16") == []
    assert text_differences("rel. 1.50e-03", "rel. 1.70e-03")


def test_the_stored_baseline_is_the_assembled_one_and_current():
    """pmq/data/baseline/baseline.npz (loaded instead of parsing the tables) is, variable for variable, attrs and
    types included, what the tables assemble to, and was built from the tables as they are now."""
    from pmq.inputs import baseline as B
    assert B.cache_digest(data_path("baseline", B.CACHE_FILE)) == B.tables_digest(), \
        "baseline.npz is stale: run python -m pmq.estimation.build"
    cached, assembled = B._read_cache(), B._assemble_builtin()
    assert cached is not None and cached.identical(assembled)
    for k in assembled.variables:
        assert cached[k].dtype == assembled[k].dtype and cached[k].encoding == {}, k
    assert {k: type(v) for k, v in cached.attrs.items()} == {k: type(v) for k, v in assembled.attrs.items()}


def test_a_stale_stored_baseline_is_not_used(monkeypatch):
    from pmq.inputs import baseline as B
    monkeypatch.setattr(B, "tables_digest", lambda: "other tables")
    assert B._read_cache() is None                # so _builtin assembles from the tables
