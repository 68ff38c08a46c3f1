"""The minimal scenario language: strict validation and resolution."""
import pytest

from pmq.errors import ScenarioError
from pmq.scenario import builtin_scenarios, read_scenario


def test_reference_resolves():
    sc = read_scenario("reference")
    assert sc.horizon == 20 and sc.rules.demand_spreading == "constant_growth"
    assert len(sc.hash) == 16
    assert "reference" in builtin_scenarios()


@pytest.mark.parametrize("body,key", [
    ('[demand]\ncontinuation = "exponential"\n', "demand.continuation"),
    ('[horizons]\nrun = -4\n', "horizons.run"),
    ('[horizons]\nrun = "twenty"\n', "horizons.run"),
    ('[demnd]\nspreading = "linear"\n', "demnd"),
    ('[age_profiles]\nyoung_mean = 400\n', "age_profiles.young_mean"),
])
def test_bad_values_name_file_and_key(tmp_path, body, key):
    p = tmp_path / "s.toml"
    p.write_text(body)
    with pytest.raises(ScenarioError) as info:
        read_scenario(p)
    assert "s.toml" in str(info.value) and key in str(info.value)


def test_extends_and_cycles(tmp_path):
    child = tmp_path / "child.toml"
    child.write_text('[scenario]\nextends = "reference"\nname = "child"\n[demand]\ncontinuation = "constant_level"\n')
    sc = read_scenario(child)
    assert sc.rules.demand_continuation == "constant_level"
    assert sc.rules.young_continuation == "constant_ratio"  # inherited
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('[scenario]\nextends = "b.toml"\n')
    b.write_text('[scenario]\nextends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="cycle dans extends"):
        read_scenario(a)


def test_invalid_toml(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("[scenario\nname=")
    with pytest.raises(ScenarioError, match="TOML non valide"):
        read_scenario(p)
