"""The packaged baseline is regenerated deterministically from the raw file; Corse's split is exact."""
import filecmp
import json

import pandas as pd
import pytest

from pmq.data import build, data_path


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline")
    build.build(out)
    return out


@pytest.mark.parametrize("name", ["flows.csv", "tension.csv", "hazards.csv", "employment_by_age.csv",
                                  "calibration.json"])
def test_build_is_deterministic(rebuilt, name):
    assert filecmp.cmp(rebuilt / name, data_path("baseline", name), shallow=False), \
        f"{name} differs from the shipped file: run python -m pmq.data.build"


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
