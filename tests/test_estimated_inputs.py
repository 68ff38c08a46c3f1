"""Estimated exit hazards and trend paths as scenario inputs (issue 7)."""
import json

import numpy as np
import pytest

from pmq import project
from pmq.errors import ScenarioError
from pmq.estimation.exits import _full_fit, metier_hazards, pyramids
from pmq.scenario import read_scenario
from pmq.testing import assert_accounts
from pmq.estimation.trends import employment_series, metier_trend_index


def test_metier_hazards_are_employment_weighted_means_of_their_families():
    fit = _full_fit()      # fit_exits() on the shipped pyramids, computed once for the session
    h_fap = fit.hazards()
    h, se = metier_hazards(["F0A", "R1Z"], fit=fit)
    assert h.shape == se.shape == (2, 60) and (se >= 0).all()
    np.testing.assert_allclose(h[1], h_fap.loc["R1Z"].to_numpy())
    w = pyramids().xs(2018, level="centre").loc[["F0Z", "F1Z"], ["45-49", "50-54", "55-59", "60+"]].sum(axis=1)
    expect = (h_fap.loc["F0Z"] * w["F0Z"] + h_fap.loc["F1Z"] * w["F1Z"]) / w.sum()
    np.testing.assert_allclose(h[0], expect.to_numpy())
    assert h[0, 45] != h_fap.loc["F0Z", 60] and h[:, -1].tolist() == [1.0, 1.0]


def test_trend_index_follows_the_observed_series_then_the_model():
    idx = metier_trend_index(["R1Z", "F0A"], "damped", base_year=2010, n_years=12)
    s = employment_series(level="fap87")
    np.testing.assert_allclose(idx[:9, 0], (s.loc[2010:2018, "R1Z"] / s.loc[2010, "R1Z"]).to_numpy())
    both = s[["F0Z", "F1Z"]].sum(axis=1)
    np.testing.assert_allclose(idx[:9, 1], (both.loc[2010:2018] / both.loc[2010]).to_numpy())
    assert idx.shape == (13, 2) and np.isfinite(idx).all() and (idx[9:] != idx[8]).all()


def _scenario(tmp_path, body, name="est"):
    f = tmp_path / f"{name}.toml"
    f.write_text(f'[scenario]\nextends = "reference"\nname = "{name}"\ntitle_fr = "x"\ntitle_en = "x"\n{body}',
                 encoding="utf-8")
    return f


@pytest.fixture(scope="module")
def estimated(baseline):
    return project(baseline, "tendances_estimees", horizon=11)


def test_builtin_scenario_uses_both_estimates(baseline, estimated, reference_2030):
    acc, ref = estimated.accounts, reference_2030.accounts
    assert_accounts(acc)
    idx = metier_trend_index(baseline.metier.values, "damped", 2019, 11)
    emp = acc["employment"].sum(["territory", "age"]).transpose("year", "metier").values
    np.testing.assert_allclose(emp / emp[0], idx, rtol=1e-9)
    assert float(acc["departures"].sum()) != pytest.approx(float(ref["departures"].sum()), rel=1e-3)
    est = json.loads(acc.attrs["estimated_inputs"])
    assert any("exit hazards estimated" in e for e in est) and any("damped" in e for e in est)


def test_estimated_hazards_drive_the_departures(baseline, tmp_path):
    sc = read_scenario(_scenario(tmp_path, '[exits]\nschedule = "estimated"\nsource = "x"\n'))
    p = project(baseline, sc, horizon=1)
    h, _ = metier_hazards(baseline.metier.values)
    E = baseline["employment"].transpose("territory", "metier", "age").values
    dep = p.accounts["departures"].isel(year=0).sum("age").transpose("territory", "metier").values
    np.testing.assert_allclose(dep, (E * h[None]).sum(-1), rtol=1e-12)


@pytest.mark.parametrize("body, key", [
    ('[exits]\nschedule = "estimatd"\n', "exits.schedule"),
    ('[demand]\ntrend = "cubic"\n', "demand.trend"),
    ('[demand]\ntrend = "damped"\ntrend_years = 3\n', "demand.trend_years"),
])
def test_bad_settings_name_the_key(tmp_path, body, key):
    with pytest.raises(ScenarioError) as e:
        read_scenario(_scenario(tmp_path, body))
    assert key in str(e.value)


def test_user_nomenclature_is_refused_with_the_key(tmp_path):
    from conftest import make_baseline
    h = np.zeros((2, 60))
    h[:, -1] = 1.0
    b = make_baseline(np.full((1, 2, 60), 10.0), h, np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 2)))
    sc = read_scenario(_scenario(tmp_path, '[exits]\nschedule = "estimated"\nsource = "x"\n'),
                       territories=list(b.territory.values))
    with pytest.raises(ScenarioError) as e:
        project(b, sc, horizon=2)
    assert "exits.schedule" in str(e.value) and "nomenclature FAP" in str(e.value)
