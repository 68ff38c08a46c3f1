"""The lever kinds (pmq.scenario.levers): one frozen dataclass per kind, holding its schema, its check and
its apply.  A TOML table becomes its kind with typed fields; a bad table is refused by the kind's own
check with the message of the language; a scenario gives its levers typed, in file order after extends."""
import dataclasses
import tomllib

import numpy as np
import pytest

from pmq.errors import ScenarioError
from pmq.scenario import LEVER_SCHEMAS, LEVER_SECTIONS, read_scenario
from pmq.scenario.levers import (DEMAND_KINDS, LEVER_KINDS, CohortShift, Context, DemandLever, Deviation, ExitMultiplier,
                                 ExitShift, Growth, InflowFactor, Lever, MobilityFactor, ParameterCorrelation,
                                 Provenance, SupplyLeavers, SupplyMatrix, Target, UncertainParameter, apply_demand,
                                 check_table, flow_factors, last_year, lever_from_table)


def table(text: str) -> dict:
    """The first lever table of a TOML snippet ``[[section.key]] …``."""
    doc = tomllib.loads(text)
    (section, body), = doc.items()
    (key, items), = body.items()
    return items[0]


def build(section: str, text: str) -> Lever:
    t = table(text)
    check_table(section, t, f"{section}[{t['id']}]", "f.toml")
    return lever_from_table(section, t)


# ---------------------------------------------------------------------------- from a table
def test_a_growth_table_becomes_a_growth():
    lv = build("demand.adjust", '[[demand.adjust]]\nid = "g"\nlabel = "Vert"\nkind = "growth"\nrate = 0.02\n'
               'period = [2024, 2030]\ndomain = ["A", "B"]\nsource = "S, https://x"\nmethod = "m"\n')
    assert type(lv) is Growth and isinstance(lv, DemandLever)
    assert (lv.id, lv.label, lv.section, lv.kind) == ("g", "Vert", "demand.adjust", "growth")
    assert (lv.rate, lv.period, lv.after, lv.domain, lv.metier) == (0.02, (2024, 2030), "reference", ("A", "B"), None)
    assert lv.provenance == Provenance(source="S, https://x", method="m") and lv.status == "sourced"
    assert lv.last_year == 2030 and lv.where("period") == "demand.adjust[g].period"


def test_a_target_and_a_deviation():
    t = build("demand.adjust", '[[demand.adjust]]\nid = "t"\nkind = "target"\nyear = 2030\nvalue = 5000\n'
              'from_year = 2025\nafter = "constant_level"\nmetier = ["J3Z"]\nassumption = "a"\n')
    assert type(t) is Target and (t.year, t.value, t.from_year, t.after, t.metier) == (2030, 5000, 2025,
                                                                                       "constant_level", ("J3Z",))
    assert t.status == "assumed"
    d = build("demand.adjust", '[[demand.adjust]]\nid = "d"\nkind = "deviation"\nanchors = {2035 = 7, 2030 = 5}\n'
              'weights = {J3Z = 0.25, J4Z = 0.75}\nsource = "s"\nweights_assumption = "w"\n')
    assert type(d) is Deviation
    assert d.anchors == ((2030, 5.0), (2035, 7.0))                      # calendar years, in order
    assert (d.unit, d.after, d.interpolation) == ("persons", "hold", "linear")
    assert d.weights == (("J3Z", 0.25), ("J4Z", 0.75)) and d.status == "split_assumed" and d.last_year == 2035
    assert last_year(table('[[demand.adjust]]\nid = "d"\nkind = "deviation"\nanchors = {2035 = 7}\n')) == 2035


def test_inflow_exit_supply_and_uncertainty_kinds():
    y = build("young_entrants.adjust", '[[young_entrants.adjust]]\nid = "y"\nfactor = 1.2\nfrom_year = 2025\n'
              'territory = ["11"]\nassumption = "a"\n')
    assert type(y) is InflowFactor and (y.factor, y.from_year, y.to_year, y.territory) == (1.2, 2025, None, ("11",))
    m = build("net_mobility.adjust", '[[net_mobility.adjust]]\nid = "m"\nfactor = 0\nassumption = "a"\n')
    assert type(m) is MobilityFactor and isinstance(m, InflowFactor) and m.factor == 0
    s = build("exits.shift", '[[exits.shift]]\nid = "s"\nyears = 2\nfrom_year = 2024\nfull_year = 2030\n'
              'share = 0.5\nmin_age = 58\nassumption = "a"\n')
    assert type(s) is ExitShift and (s.years, s.from_year, s.full_year, s.share, s.min_age, s.max_age) == \
        (2, 2024, 2030, 0.5, 58, None)
    c = build("exits.cohort_shift", '[[exits.cohort_shift]]\nid = "c"\ncohorts = [1961, 1965]\nshift = [0.25, 1]\n'
              'to_year = 2035\nsource = "s"\n')
    assert type(c) is CohortShift and (c.cohorts, c.shift, c.share, c.to_year) == ((1961, 1965), (0.25, 1), 1.0, 2035)
    x = build("exits.multiplier", '[[exits.multiplier]]\nid = "x"\nfactor = 0.9\nmax_age = 64\nassumption = "a"\n')
    assert type(x) is ExitMultiplier and (x.factor, x.min_age, x.max_age) == (0.9, None, 64)
    lv = build("supply.leavers", '[[supply.leavers]]\nid = "l"\nlevel = ["bts"]\nfactor = 1.1\nassumption = "a"\n')
    assert type(lv) is SupplyLeavers and (lv.level, lv.factor) == (("bts",), 1.1)
    mx = build("supply.matrix", '[[supply.matrix]]\nid = "x"\nlevel = ["bts"]\nfactor = 2\ndomain = ["M"]\n'
               'assumption = "a"\n')
    assert type(mx) is SupplyMatrix and (mx.level, mx.domain) == (("bts",), ("M",))
    u = build("uncertainty.parameter", '[[uncertainty.parameter]]\nid = "u"\nkind = "growth"\n'
              'distribution = "normal"\nsd = 0.5\nassumption = "a"\n')
    assert type(u) is UncertainParameter and (u.kind, u.distribution, u.sd, u.mean) == ("growth", "normal", 0.5, None)
    r = build("uncertainty.correlation", '[[uncertainty.correlation]]\nid = "r"\nbetween = ["u", "v"]\nrho = 0.3\n'
              'assumption = "a"\n')
    assert type(r) is ParameterCorrelation and (r.between, r.rho) == (("u", "v"), 0.3)


def test_every_section_has_its_kind_and_the_section_schema_is_theirs():
    assert tuple(LEVER_KINDS) == LEVER_SECTIONS and set(LEVER_SCHEMAS) == set(LEVER_KINDS)
    for section, kind in LEVER_KINDS.items():
        assert LEVER_SCHEMAS[section] is kind.SCHEMA
    # demand.adjust accepts the union of its kinds' keys; each kind refuses the others'
    union = set().union(*(k.SCHEMA for k in DEMAND_KINDS.values()))
    assert set(LEVER_SCHEMAS["demand.adjust"]) == union
    assert "anchors" not in Growth.SCHEMA and "rate" not in Deviation.SCHEMA and "year" in Target.SCHEMA


# ---------------------------------------------------------------------------- the kinds' checks
@pytest.mark.parametrize("kind, text, key, message", [
    (Growth, 'kind = "growth"\nrate = 0.1\nperiod = [2030, 2025]', "period",
     "period doit être [première_année, dernière_année] avec première < dernière"),
    (Growth, 'kind = "growth"\nrate = 0.1\nperiod = [2025, 2030]\nanchors = {2030 = 1}', "anchors",
     "non autorisée ici (kind 'growth')"),
    (Growth, 'kind = "growth"\nrate = 0.1\nperiod = [2025, 2030]\nafter = "hold"', "after",
     "after doit être l'une des valeurs : 'reference', 'continue', 'constant_level' pour un levier de type growth"),
    (Target, 'kind = "target"\nyear = 2030\nvalue = 1', "from_year", "clé 'from_year' manquante"),
    (Target, 'kind = "target"\nyear = 2030\nvalue = 1\nfrom_year = 2030', "from_year", "from_year doit précéder year"),
    (Deviation, 'kind = "deviation"\nanchors = {x2035 = 1}', "anchors.x2035",
     "les clés de anchors doivent être des années civiles"),
    (Deviation, 'kind = "deviation"\nanchors = {2035 = 1}\nafter = "continue"', "after",
     "after doit être 'hold' ou 'proportional' pour un levier de type deviation"),
    (Deviation, 'kind = "deviation"\nanchors = {2035 = 1}\nweights = {J3Z = 0.5}', "weights",
     "la somme de weights doit valoir 1 (chaque ligne d'une clé secteur × métier)"),
])
def test_a_demand_kind_refuses_a_bad_table(kind, text, key, message):
    t = table(f'[[demand.adjust]]\nid = "L"\n{text}\n')
    with pytest.raises(ScenarioError) as exc:
        kind.check(t, "demand.adjust[L]", "f.toml")
    assert exc.value.key == f"demand.adjust[L].{key}" and exc.value.problem == message
    with pytest.raises(ScenarioError) as through:                      # the same through the section
        check_table("demand.adjust", {**t, "assumption": "a"}, "demand.adjust[L]", "f.toml")
    assert str(through.value) == str(exc.value)


@pytest.mark.parametrize("section, kind, text, key, message", [
    ("net_mobility.adjust", MobilityFactor, 'factor = 2\nterritory = ["11"]', "territory",
     "les mobilités nettes entre territoires forment un flux à somme nulle : un levier peut choisir des métiers "
     "mais pas des territoires"),
    ("young_entrants.adjust", InflowFactor, 'from_year = 2025', "factor", "clé 'factor' manquante"),
    ("exits.shift", ExitShift, 'years = 1\nfrom_year = 2030\nfull_year = 2025', "full_year",
     "full_year précède from_year"),
    ("exits.cohort_shift", CohortShift, 'cohorts = [1960, 1961]\nshift = [1]', "shift",
     "cohorts et shift doivent avoir la même longueur (2 ≠ 1)"),
    ("exits.multiplier", ExitMultiplier, 'factor = 2\nmin_age = 70\nmax_age = 60', "min_age",
     "min_age (70) est supérieur à max_age (60)"),
    ("uncertainty.correlation", ParameterCorrelation, 'between = ["a", "a"]\nrho = 0.5', "between",
     "between nomme deux id de paramètres différents"),
])
def test_other_kinds_refuse_a_bad_table(section, kind, text, key, message):
    t = table(f'[[{section}]]\nid = "L"\n{text}\n')
    assert LEVER_KINDS[section] is kind
    with pytest.raises(ScenarioError) as exc:
        kind.check(t, f"{section}[L]", "f.toml")
    assert exc.value.key == f"{section}[L].{key}" and exc.value.problem == message


def test_the_section_refuses_unknown_keys_and_wrong_types_before_the_kind():
    t = table('[[exits.shift]]\nid = "s"\nyears = "1"\nfrom_year = 2024\nassumption = "a"\n')
    with pytest.raises(ScenarioError, match=r"mauvais type : un nombre \(0\.67, sans guillemets\) est attendu, "
                                            r"reçu un texte") as exc:
        check_table("exits.shift", t, "exits.shift[s]", "f.toml")
    assert exc.value.key == "exits.shift[s].years"
    with pytest.raises(ScenarioError, match="clé inconnue, vouliez-vous dire 'source' \\? Clés possibles : ") as exc:
        check_table("exits.shift", {**t, "years": 1, "sorce": "x"}, "exits.shift[s]", "f.toml")
    assert exc.value.key == "exits.shift[s].sorce"
    with pytest.raises(ScenarioError, match="clé inconnue ; clés possibles : 'id', ") as exc:   # none close: the list
        check_table("exits.shift", {**t, "years": 1, "zzqx": "x"}, "exits.shift[s]", "f.toml")
    assert exc.value.key == "exits.shift[s].zzqx"
    with pytest.raises(ScenarioError, match="les nombres demandent une source") as exc:
        check_table("exits.shift", {"id": "s", "years": 1, "from_year": 2024}, "exits.shift[s]", "f.toml")
    assert exc.value.key == "exits.shift[s]"


def test_levers_are_frozen_and_hashable():
    lv = build("exits.multiplier", '[[exits.multiplier]]\nid = "x"\nfactor = 0.9\nassumption = "a"\n')
    with pytest.raises(dataclasses.FrozenInstanceError):
        lv.factor = 2.0  # type: ignore[misc]
    assert hash(lv) == hash(dataclasses.replace(lv)) and lv == dataclasses.replace(lv)
    assert dataclasses.replace(lv, factor=0.5).factor == 0.5 and lv.factor == 0.9


# ---------------------------------------------------------------------------- in a scenario
def test_the_typed_levers_follow_the_file_order_after_extends(tmp_path):
    lever = '[[demand.adjust]]\nid = "{id}"\nkind = "deviation"\nanchors = {{2030 = {v}}}\nassumption = "a"\n'
    (tmp_path / "parent.toml").write_text('[scenario]\nextends = "reference"\nname = "p"\n[demand]\nassumption = "t"\n'
                                          + "".join(lever.format(id=i, v=v) for i, v in (("a", 1), ("b", 2), ("c", 3))),
                                          encoding="utf-8")
    (tmp_path / "child.toml").write_text('[scenario]\nextends = "parent.toml"\nname = "c"\n[demand]\nremove = ["a"]\n'
                                         'assumption = "t"\n' + lever.format(id="d", v=4) + lever.format(id="b", v=20)
                                         + '[[exits.multiplier]]\nid = "m"\nfactor = 0.5\nassumption = "a"\n',
                                         encoding="utf-8")
    sc = read_scenario(tmp_path / "child.toml")
    typed = sc.typed_levers("demand.adjust")
    assert [(lv.id, lv.anchors) for lv in typed] == [("b", ((2030, 20.0),)), ("c", ((2030, 3.0),)),
                                                     ("d", ((2030, 4.0),))]
    assert [lv["id"] for lv in sc.lever_list("demand.adjust")] == ["b", "c", "d"]   # the tables, as before
    assert all(type(lv) is Deviation for lv in typed)
    assert [type(lv) for lv in sc.typed_levers("exits.multiplier")] == [ExitMultiplier]
    assert sc.typed_levers("exits.shift") == () and sc.typed_levers("uncertainty.parameter") == ()
    with pytest.raises(KeyError):
        sc.typed_levers("demand.adjustment")
    # a scenario whose tables are replaced has the levers of the new tables
    new = dataclasses.replace(sc, levers={**sc.levers, "demand.adjust": sc.levers["demand.adjust"][1:]})
    assert [lv.id for lv in new.typed_levers("demand.adjust")] == ["c", "d"]


# ---------------------------------------------------------------------------- their apply
CTX = Context(2020, ("11", "24"), ("A0Z", "A1Z", "B0Z"), ("A", "A", "B"), np.arange(15, 76),
              {"11": ["Île-de-France"], "24": ["Centre"]})


def test_the_apply_of_a_typed_lever_is_the_apply_of_its_table():
    emp = np.arange(1.0, 1.0 + 11 * 6).reshape(11, 2, 3) * 100
    tables = [table('[[demand.adjust]]\nid = "g"\nkind = "growth"\nrate = 0.1\nperiod = [2022, 2025]\n'
                    'domain = ["A"]\n'),
              table('[[demand.adjust]]\nid = "d"\nkind = "deviation"\nanchors = {2024 = 50, 2028 = 100}\n'
                    'territory = ["Centre"]\n')]
    typed = [lever_from_table("demand.adjust", t) for t in tables]
    new = apply_demand(emp, typed, CTX)
    np.testing.assert_array_equal(new, apply_demand(emp, tables, CTX))
    np.testing.assert_array_equal(new[:3], emp[:3])                               # before 2022 and 2024: the trend
    np.testing.assert_allclose(new[5, 0, :2], emp[2, 0, :2] * 1.1 ** 3)          # domain A grows 10 % a year
    np.testing.assert_array_equal(new[5, 0, 2], emp[5, 0, 2])                    # B0Z follows its trend
    grown = apply_demand(emp, typed[:1], CTX)
    assert (new[4, 1] - grown[4, 1]).sum() == pytest.approx(50)                 # Centre: +50 in 2024, +100 in 2028
    assert (new[8, 1] - grown[8, 1]).sum() == pytest.approx(100) and (new[:, 0] == grown[:, 0]).all()
    f = flow_factors("young_entrants.adjust", [lever_from_table("young_entrants.adjust", table(
        '[[young_entrants.adjust]]\nid = "y"\nfactor = 2\nfrom_year = 2021\nto_year = 2022\nmetier = ["B0Z"]\n'))],
        CTX, 4)
    assert f[:, 0, 2].tolist() == [1, 2, 2, 1] and (f[:, :, :2] == 1).all()


def test_an_apply_error_names_the_levers_key_path():
    lv = lever_from_table("demand.adjust", table('[[demand.adjust]]\nid = "t"\nkind = "target"\nyear = 2040\n'
                                                 'value = 10\nfrom_year = 2021\n'))
    with pytest.raises(ScenarioError, match="au-delà de l'horizon") as exc:
        apply_demand(np.ones((5, 2, 3)), [lv], CTX)
    assert exc.value.key == "demand.adjust[t].year" and exc.value.value == 2040
