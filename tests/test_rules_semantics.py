"""Semantic tests of the spreading and continuation rules (pmq.model.demand, pmq.model.entrants, pmq.model.mobility).

Each rule is checked by its defining property, year by year, on small synthetic inputs whose
published period (``n_period = 4``) ends well before the horizon (10 years), so the years after
the period exist.  Both the path functions and ``pmq.project`` (a scenario file whose rules
select the rule) are tested.  Nothing here depends on the shipped data or on the docs pages.

Tolerances: ratios and values computed two ways agree to ``rtol = 1e-12`` unless stated (logs
of growth factors close to 1 lose a few digits: ``rtol = 1e-9`` there); sums that must vanish
are compared with ``atol = 1e-12 × the largest employment``.
"""
import numpy as np
import pandas as pd
import pytest

import pmq
from pmq.model import demand, mobility, entrants as supply
from pmq.model.ages import AGES, logistic_hazard
from pmq.errors import InputError

from conftest import make_baseline

N_PERIOD = 4            # published period: 2019–2023
HORIZON = 10            # 2019–2029: six years after the period
BASE_YEAR = 2019
RTOL = 1e-12
METIERS = ["A0Z", "B2Z", "B4Z"]

# Period totals by (territory, métier): employment at the base year, net creation over the period
# (growth and decline, different in each territory so the recentring is not trivial), young
# entrants, and net mobility that sums to zero over territories (with both signs in each métier).
E_BASE = np.array([[10_000.0, 20_000.0, 15_000.0],
                   [30_000.0, 5_000.0, 8_000.0],
                   [12_000.0, 25_000.0, 9_000.0]])
GROWTH = np.array([[0.10, -0.08, 0.05],
                   [-0.06, 0.15, 0.02],
                   [0.20, 0.03, -0.12]])       # total change over the period, share of E_BASE
N_TOTAL = E_BASE * GROWTH
Y_TOTAL = E_BASE * np.array([[0.20, 0.25, 0.15], [0.18, 0.30, 0.22], [0.26, 0.12, 0.2]])
M_TOTAL = np.array([[600.0, -900.0, 300.0],
                    [-1000.0, 400.0, -500.0],
                    [400.0, 500.0, 200.0]])
assert np.allclose(M_TOTAL.sum(0), 0.0)
# A set of territories that exchanges workers with the outside (not zero-sum).
M_OPEN = np.array([[600.0, -900.0, 300.0],
                   [-1000.0, 400.0, 500.0],
                   [700.0, -200.0, -250.0]])


def _pyramid(total):
    """A hump-shaped single-year pyramid (ages 15–74) summing to ``total`` in each cell."""
    shape = np.exp(-0.5 * ((AGES - 40.0) / 12.0) ** 2)
    return np.asarray(total)[..., None] * shape / shape.sum()


def synthetic_baseline(mobility_total=M_TOTAL):
    h = np.tile(logistic_hazard(AGES, 64.0, 2.9, 1.0, 0.0025), (3, 1))
    b = make_baseline(_pyramid(E_BASE), h, N_TOTAL, Y_TOTAL, mobility_total,
                      base_year=BASE_YEAR, n_period=N_PERIOD)
    return b.assign_coords(metier=METIERS)


@pytest.fixture(scope="module")
def base():
    return synthetic_baseline()


def growth_factor():
    """Gross annual growth factor of the period, computed independently of pmq."""
    return (1.0 + GROWTH) ** (1.0 / N_PERIOD)


def write_rules(tmp_path, section, **rules):
    """A scenario file (no extends) whose [section] selects the given rules."""
    lines = [f"[scenario]\nname = \"rules_{section}\"\n", f"[{section}]"]
    for k, v in rules.items():
        lines.append(f"{k} = {v!r}".replace("'", '"'))
    if any(not isinstance(v, str) for v in rules.values()):
        lines.append('assumption = "test"')
    p = tmp_path / f"rules_{section}_{'_'.join(str(v) for v in rules.values())}.toml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def totals(acc, var):
    """``var`` summed over age, (year, territory, métier), flows without the final NaN year."""
    v = acc[var]
    if "age" in v.dims:
        v = v.sum("age", skipna=False)
    v = v.transpose("year", "territory", "metier").values
    return v if var == "employment" else v[:-1]


def project(base, path):
    acc = pmq.project(base, path, horizon=HORIZON).accounts
    assert acc.sizes["year"] == HORIZON + 1
    return acc


# =============================================================== demand: employment paths
def test_constant_growth_spreading_has_one_growth_factor_and_hits_the_published_end():
    E = demand.employment_path(E_BASE, E_BASE + N_TOTAL, N_PERIOD, HORIZON,
                               spreading="constant_growth", continuation="constant_level")
    assert E.shape == (HORIZON + 1, 3, 3)
    np.testing.assert_array_equal(E[0], E_BASE)
    np.testing.assert_array_equal(E[N_PERIOD], E_BASE + N_TOTAL)  # exact end point
    g = growth_factor()
    for t in range(N_PERIOD):
        np.testing.assert_allclose(E[t + 1] / E[t], g, rtol=RTOL, err_msg=f"step {t}")


def test_linear_spreading_adds_the_same_jobs_every_year():
    E = demand.employment_path(E_BASE, E_BASE + N_TOTAL, N_PERIOD, HORIZON,
                               spreading="linear", continuation="constant_level")
    np.testing.assert_allclose(E[N_PERIOD], E_BASE + N_TOTAL, rtol=RTOL)
    for t in range(N_PERIOD):
        np.testing.assert_allclose(E[t + 1] - E[t], N_TOTAL / N_PERIOD, rtol=1e-9, err_msg=f"step {t}")


@pytest.mark.parametrize("spreading", ["constant_growth", "linear"])
def test_constant_growth_continuation_keeps_the_period_factor_every_year_after(spreading):
    """E[period + k] = E_end · g^k for k = 0 … — no extra year of growth, no missing year."""
    E = demand.employment_path(E_BASE, E_BASE + N_TOTAL, N_PERIOD, HORIZON,
                               spreading=spreading, continuation="constant_growth")
    g = growth_factor()
    e_end = E_BASE + N_TOTAL
    for k in range(HORIZON - N_PERIOD + 1):
        np.testing.assert_allclose(E[N_PERIOD + k], e_end * g ** k, rtol=RTOL, err_msg=f"period end + {k}")
    for t in range(N_PERIOD, HORIZON):
        np.testing.assert_allclose(E[t + 1] / E[t], g, rtol=RTOL)
    # declining cells keep declining, growing cells keep growing
    assert ((E[-1] > e_end) == (GROWTH > 0)).all()


@pytest.mark.parametrize("spreading", ["constant_growth", "linear"])
def test_constant_level_continuation_holds_the_end_of_period_level(spreading):
    E = demand.employment_path(E_BASE, E_BASE + N_TOTAL, N_PERIOD, HORIZON,
                               spreading=spreading, continuation="constant_level")
    for t in range(N_PERIOD, HORIZON + 1):
        np.testing.assert_allclose(E[t], E_BASE + N_TOTAL, rtol=RTOL, err_msg=f"year index {t}")


def _damped_steps(half_life, spreading="constant_growth"):
    E = demand.employment_path(E_BASE, E_BASE + N_TOTAL, N_PERIOD, N_PERIOD + 20, spreading=spreading,
                               continuation="damped_growth", half_life=half_life)
    return E, np.log(E[N_PERIOD + 1:] / E[N_PERIOD:-1])  # log growth of steps k = 1, 2, …


@pytest.mark.parametrize("half_life", [3.0, 2.5, 10.0])
def test_damped_growth_log_rate_decays_by_half_every_half_life(half_life):
    """The log growth rate at time s after the period end is log(g)·2^(−s/half_life); the
    annual step k (from period end + k − 1 to period end + k) is its integral over the year:
    log(g)·half_life/ln 2·(2^(−(k−1)/half_life) − 2^(−k/half_life))."""
    E, steps = _damped_steps(half_life)
    np.testing.assert_array_equal(E[N_PERIOD], E_BASE + N_TOTAL)  # same end of period
    lg = np.log(growth_factor())
    k = np.arange(1, steps.shape[0] + 1)[:, None, None]
    expected = lg * half_life / np.log(2.0) * (2.0 ** (-(k - 1) / half_life) - 2.0 ** (-k / half_life))
    np.testing.assert_allclose(steps, expected, rtol=1e-9)
    # consecutive steps shrink by 2^(−1/half_life): the rate halves after half_life years
    np.testing.assert_allclose(steps[1:] / steps[:-1], 2.0 ** (-1.0 / half_life), rtol=1e-9)
    # each step keeps the sign of the period's growth and is smaller than it
    assert (np.sign(steps) == np.sign(lg)).all()
    assert (np.abs(steps) < np.abs(lg)).all()
    assert (np.abs(steps[0]) > np.abs(lg) * 2.0 ** (-1.0 / half_life)).all()


def test_damped_growth_halves_after_an_integer_half_life():
    hl = 3
    _, steps = _damped_steps(float(hl))
    np.testing.assert_allclose(steps[hl:] / steps[:-hl], 0.5, rtol=1e-9)
    _, steps6 = _damped_steps(6.0)
    np.testing.assert_allclose(steps6[6:] / steps6[:-6], 0.5, rtol=1e-9)


def test_damped_growth_total_is_finite_and_half_life_orders_paths():
    """The cumulated log growth tends to log(g)·half_life/ln 2; a longer half-life stays closer
    to constant growth."""
    lg = np.log(growth_factor())
    E = demand.employment_path(E_BASE, E_BASE + N_TOTAL, N_PERIOD, N_PERIOD + 400,
                               continuation="damped_growth", half_life=4.0)
    np.testing.assert_allclose(np.log(E[-1] / E[N_PERIOD]), lg * 4.0 / np.log(2.0), rtol=1e-9)
    E_cg = demand.employment_path(E_BASE, E_BASE + N_TOTAL, N_PERIOD, HORIZON)
    E_short = demand.employment_path(E_BASE, E_BASE + N_TOTAL, N_PERIOD, HORIZON,
                                     continuation="damped_growth", half_life=2.0)
    E_long = demand.employment_path(E_BASE, E_BASE + N_TOTAL, N_PERIOD, HORIZON,
                                    continuation="damped_growth", half_life=20.0)
    end = E_BASE + N_TOTAL
    for t in range(N_PERIOD + 1, HORIZON + 1):
        dev = [np.abs(np.log(x[t] / end)) for x in (E_short, E_long, E_cg)]
        assert (dev[0] < dev[1]).all() and (dev[1] < dev[2]).all()


def test_damped_growth_with_linear_spreading_uses_the_period_growth_factor():
    E, steps = _damped_steps(5.0, spreading="linear")
    np.testing.assert_allclose(E[N_PERIOD], E_BASE + N_TOTAL, rtol=RTOL)
    lg = np.log(growth_factor())
    np.testing.assert_allclose(steps[0], lg * 5.0 / np.log(2.0) * (1 - 2.0 ** (-1 / 5.0)), rtol=1e-9)


# ------------------------------------------------------------ demand rules through pmq.project
@pytest.mark.parametrize("spreading", ["constant_growth", "linear"])
@pytest.mark.parametrize("continuation,half_life", [("constant_growth", None), ("constant_level", None),
                                                    ("damped_growth", 3.0)])
def test_project_employment_follows_the_selected_demand_rules(tmp_path, base, spreading, continuation,
                                                              half_life):
    rules = {"spreading": spreading, "continuation": continuation}
    if half_life is not None:
        rules["half_life"] = half_life
    acc = project(base, write_rules(tmp_path, "demand", **rules))
    E = totals(acc, "employment")
    g = growth_factor()
    end = E_BASE + N_TOTAL
    np.testing.assert_allclose(E[0], E_BASE, rtol=RTOL)
    np.testing.assert_allclose(E[N_PERIOD], end, rtol=RTOL)
    for t in range(N_PERIOD):
        if spreading == "constant_growth":
            np.testing.assert_allclose(E[t + 1] / E[t], g, rtol=1e-11)
        else:
            np.testing.assert_allclose(E[t + 1] - E[t], N_TOTAL / N_PERIOD, rtol=1e-9)
    for k in range(1, HORIZON - N_PERIOD + 1):
        if continuation == "constant_growth":
            want = end * g ** k
        elif continuation == "constant_level":
            want = end
        else:
            want = end * np.exp(np.log(g) * half_life / np.log(2.0) * (1 - 2.0 ** (-k / half_life)))
        np.testing.assert_allclose(E[N_PERIOD + k], want, rtol=1e-11, err_msg=f"period end + {k}")
    # net creation is the change of the path, flow by flow
    np.testing.assert_allclose(acc["net_creation"].transpose("year", "territory", "metier").values[:-1],
                               np.diff(E, axis=0), rtol=1e-9, atol=1e-9)


def test_project_short_horizon_sees_the_same_years(base, tmp_path):
    """A horizon shorter than the period does not change the spreading (paths cover the period)."""
    p = write_rules(tmp_path, "demand", spreading="constant_growth", continuation="constant_growth")
    short = pmq.project(base, p, horizon=2).accounts
    long = pmq.project(base, p, horizon=HORIZON).accounts
    for v in ("employment", "young_entrants", "net_mobility"):
        np.testing.assert_allclose(totals(short, v)[:2], totals(long, v)[:2], rtol=RTOL)


def test_rule_names_are_checked():
    with pytest.raises(Exception, match="damped"):
        demand.employment_path(E_BASE, E_BASE, N_PERIOD, HORIZON, continuation="damped")


# ====================================================================== young entrants
def _emp(spreading="constant_growth", continuation="constant_growth"):
    return demand.employment_path(E_BASE, E_BASE + N_TOTAL, N_PERIOD, HORIZON,
                                  spreading=spreading, continuation=continuation)


@pytest.mark.parametrize("continuation", ["constant_ratio", "constant_level"])
def test_proportional_spreading_keeps_the_total_in_proportion_to_employment(continuation):
    emp = _emp()
    y = supply.annual_path(Y_TOTAL, emp, N_PERIOD, spreading="proportional", continuation=continuation)
    assert y.shape == (HORIZON, 3, 3)
    ratio = Y_TOTAL / emp[:N_PERIOD].sum(0)
    for t in range(N_PERIOD):
        np.testing.assert_allclose(y[t], ratio * emp[t], rtol=RTOL)
    np.testing.assert_allclose(y[:N_PERIOD].sum(0), Y_TOTAL, rtol=RTOL)


@pytest.mark.parametrize("continuation", ["constant_ratio", "constant_level"])
def test_uniform_spreading_gives_the_same_number_each_year(continuation):
    y = supply.annual_path(Y_TOTAL, _emp(), N_PERIOD, spreading="uniform", continuation=continuation)
    for t in range(N_PERIOD):
        np.testing.assert_allclose(y[t], Y_TOTAL / N_PERIOD, rtol=RTOL)


@pytest.mark.parametrize("spreading", ["proportional", "uniform"])
@pytest.mark.parametrize("demand_continuation", ["constant_growth", "constant_level"])
def test_constant_ratio_continuation_keeps_the_period_ratio_every_year_after(spreading, demand_continuation):
    emp = _emp(continuation=demand_continuation)
    y = supply.annual_path(Y_TOTAL, emp, N_PERIOD, spreading=spreading, continuation="constant_ratio")
    ratio = Y_TOTAL / emp[:N_PERIOD].sum(0)
    for t in range(N_PERIOD, HORIZON):
        np.testing.assert_allclose(y[t] / emp[t], ratio, rtol=RTOL, err_msg=f"flow year index {t}")


@pytest.mark.parametrize("spreading", ["proportional", "uniform"])
def test_constant_level_continuation_keeps_the_period_average(spreading):
    y = supply.annual_path(Y_TOTAL, _emp(), N_PERIOD, spreading=spreading, continuation="constant_level")
    for t in range(N_PERIOD, HORIZON):
        np.testing.assert_allclose(y[t], Y_TOTAL / N_PERIOD, rtol=RTOL)


@pytest.mark.parametrize("spreading", ["proportional", "uniform"])
@pytest.mark.parametrize("continuation", ["constant_ratio", "constant_level"])
def test_project_young_entrants_follow_the_selected_rules(tmp_path, base, spreading, continuation):
    acc = project(base, write_rules(tmp_path, "young_entrants", spreading=spreading,
                                    continuation=continuation))
    E = totals(acc, "employment")
    y = totals(acc, "young_entrants")
    ratio = Y_TOTAL / E[:N_PERIOD].sum(0)
    np.testing.assert_allclose(y[:N_PERIOD].sum(0), Y_TOTAL, rtol=RTOL)  # published total kept
    for t in range(N_PERIOD):
        want = ratio * E[t] if spreading == "proportional" else Y_TOTAL / N_PERIOD
        np.testing.assert_allclose(y[t], want, rtol=RTOL)
    for t in range(N_PERIOD, HORIZON):
        if continuation == "constant_ratio":
            np.testing.assert_allclose(y[t] / E[t], ratio, rtol=RTOL, err_msg=f"year {BASE_YEAR + t}")
        else:
            np.testing.assert_allclose(y[t], Y_TOTAL / N_PERIOD, rtol=RTOL, err_msg=f"year {BASE_YEAR + t}")


# ============================================================================ mobility
@pytest.mark.parametrize("continuation", list(mobility.CONTINUATION_RULES))
def test_uniform_spreading_of_mobility_is_zero_sum_every_year_of_the_period(continuation):
    m = mobility.annual_path(M_TOTAL, _emp(), N_PERIOD, continuation=continuation)
    assert m.shape == (HORIZON, 3, 3)
    for t in range(N_PERIOD):
        np.testing.assert_allclose(m[t], M_TOTAL / N_PERIOD, rtol=RTOL)
    np.testing.assert_allclose(m[:N_PERIOD].sum(1), 0.0, atol=1e-12 * E_BASE.max())


def _raw_after(total, emp):
    ratio = total / emp[:N_PERIOD].sum(0)
    return ratio * emp[:-1]


@pytest.mark.parametrize("demand_continuation", ["constant_growth", "damped_growth"])
def test_ratio_recentred_sums_to_zero_and_equals_ratio_minus_share_of_sum(demand_continuation):
    emp = _emp(continuation=demand_continuation)
    m = mobility.annual_path(M_TOTAL, emp, N_PERIOD, continuation="ratio_recentred", territory_axis=0)
    raw = _raw_after(M_TOTAL, emp)
    e = emp[:-1]
    share = e / e.sum(1, keepdims=True)
    want = raw - share * raw.sum(1, keepdims=True)
    scale = E_BASE.max()
    # the recentring matters in these data (the raw continuation is not zero-sum after the period)
    assert np.abs(raw[N_PERIOD:].sum(1)).min() > 1e-6 * scale
    for t in range(N_PERIOD, HORIZON):
        np.testing.assert_allclose(m[t], want[t], rtol=1e-10, atol=1e-12 * scale)
    np.testing.assert_allclose(m.sum(1), 0.0, atol=1e-12 * scale)  # every year, every métier


def test_ratio_recentred_on_the_territory_axis_given():
    """The recentring acts on ``territory_axis`` (here métier-first arrays)."""
    emp = _emp()
    m_tf = mobility.annual_path(M_TOTAL, emp, N_PERIOD, continuation="ratio_recentred", territory_axis=0)
    m_mf = mobility.annual_path(M_TOTAL.T, np.swapaxes(emp, 1, 2), N_PERIOD,
                                continuation="ratio_recentred", territory_axis=1)
    np.testing.assert_allclose(np.swapaxes(m_mf, 1, 2), m_tf, rtol=1e-12, atol=1e-12 * E_BASE.max())


def test_a_territory_outside_the_exchange_keeps_its_ratio_and_leaves_the_others_as_without_it():
    """``recentred``: a territory outside the published exchange (an overseas région) keeps its ratio path, not
    recentred, and takes no share of the others' recentring — theirs are the paths they have without it."""
    emp = _emp()
    outside_emp = 0.4 * emp[:, :1] + 0.1 * emp[:, 2:]               # a territory of its own size and path
    emp4 = np.concatenate([emp, outside_emp], axis=1)
    total4 = np.concatenate([M_TOTAL, [[150.0, -80.0, 40.0]]])      # its own net inflow: not zero
    inside = np.array([True, True, True, False])
    m = mobility.annual_path(total4, emp4, N_PERIOD, continuation="ratio_recentred", territory_axis=0,
                             recentred=inside)
    alone = mobility.annual_path(M_TOTAL, emp, N_PERIOD, continuation="ratio_recentred", territory_axis=0)
    own = mobility.annual_path(total4[3:], emp4[:, 3:], N_PERIOD, continuation="constant_ratio", territory_axis=0)
    scale = E_BASE.max()
    np.testing.assert_allclose(m[:, :3], alone, rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_allclose(m[:, 3:], own, rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_allclose(m[N_PERIOD:, :3].sum(1), 0.0, atol=1e-12 * scale)    # the exchange: zero-sum
    assert np.abs(m[N_PERIOD:, 3]).min() > 1.0                       # the outside territory's own inflow goes on


@pytest.mark.parametrize("recentred", [None, np.array([True, True, True])], ids=["all", "given"])
def test_tiny_cells_are_recentred_as_large_ones(recentred):
    """A branch or a small zone: cells of less than one person (every territory's employment of a métier at an
    age below 1) are recentred by the same shares as large ones — the recentring is the same once scaled."""
    emp, tiny = _emp(), 1e-6
    m = mobility.annual_path(M_TOTAL, emp, N_PERIOD, continuation="ratio_recentred", territory_axis=0)
    small = mobility.annual_path(M_TOTAL * tiny, emp * tiny, N_PERIOD, continuation="ratio_recentred",
                                 territory_axis=0, recentred=recentred)
    assert (emp * tiny).sum(1).max() < 1.0
    np.testing.assert_allclose(small, m * tiny, rtol=1e-9, atol=1e-12 * tiny * E_BASE.max())
    np.testing.assert_allclose(small.sum(1), 0.0, atol=1e-12 * tiny * E_BASE.max())


@pytest.mark.parametrize("total", [M_TOTAL, M_OPEN], ids=["zero_sum", "open"])
def test_constant_ratio_mobility_keeps_the_ratio_and_the_published_sign(total):
    emp = _emp()
    m = mobility.annual_path(total, emp, N_PERIOD, continuation="constant_ratio")
    ratio = total / emp[:N_PERIOD].sum(0)
    for t in range(N_PERIOD, HORIZON):
        np.testing.assert_allclose(m[t] / emp[t], ratio, rtol=RTOL, err_msg=f"flow year index {t}")
        np.testing.assert_array_equal(np.sign(m[t]), np.sign(total))


def test_constant_level_and_zero_mobility_after_the_period():
    emp = _emp()
    lvl = mobility.annual_path(M_OPEN, emp, N_PERIOD, continuation="constant_level")
    zero = mobility.annual_path(M_OPEN, emp, N_PERIOD, continuation="zero")
    for t in range(N_PERIOD, HORIZON):
        np.testing.assert_allclose(lvl[t], M_OPEN / N_PERIOD, rtol=RTOL)
        np.testing.assert_array_equal(zero[t], 0.0)
    np.testing.assert_allclose(zero[:N_PERIOD].sum(0), M_OPEN, rtol=RTOL)  # the period is kept


def _mobility_expected(continuation, total, E):
    ratio = total / E[:N_PERIOD].sum(0)
    e = E[:-1]
    if continuation == "ratio_recentred":
        raw = ratio * e
        return raw - e / e.sum(1, keepdims=True) * raw.sum(1, keepdims=True)
    if continuation == "constant_ratio":
        return ratio * e
    if continuation == "constant_level":
        return np.broadcast_to(total / N_PERIOD, e.shape)
    return np.zeros_like(e)


@pytest.mark.parametrize("continuation", list(mobility.CONTINUATION_RULES))
def test_project_net_mobility_follows_the_selected_rule(tmp_path, continuation):
    total = M_TOTAL if continuation == "ratio_recentred" else M_OPEN
    b = synthetic_baseline(total)
    acc = project(b, write_rules(tmp_path, "net_mobility", spreading="uniform", continuation=continuation))
    E = totals(acc, "employment")
    m = totals(acc, "net_mobility")
    scale = E_BASE.max()
    for t in range(N_PERIOD):
        np.testing.assert_allclose(m[t], total / N_PERIOD, rtol=1e-12, atol=1e-12 * scale)
    want = _mobility_expected(continuation, total, E)
    for t in range(N_PERIOD, HORIZON):
        np.testing.assert_allclose(m[t], want[t], rtol=1e-10, atol=1e-11 * scale,
                                   err_msg=f"year {BASE_YEAR + t}")
    if continuation == "constant_ratio":
        np.testing.assert_array_equal(np.sign(m[N_PERIOD:]), np.broadcast_to(np.sign(total), m[N_PERIOD:].shape))
    if continuation == "ratio_recentred":
        np.testing.assert_allclose(m.sum(1), 0.0, atol=1e-11 * scale)


def test_project_default_rules_are_the_reference_rules(base, tmp_path):
    """An empty scenario uses constant growth, constant ratio and recentred ratio after the period."""
    p = tmp_path / "empty.toml"
    p.write_text('[scenario]\nname = "empty"\n', encoding="utf-8")
    acc = project(base, p)
    E, y, m = (totals(acc, v) for v in ("employment", "young_entrants", "net_mobility"))
    g = growth_factor()
    for t in range(HORIZON):
        np.testing.assert_allclose(E[t + 1] / E[t], g, rtol=1e-11)
    ratio = Y_TOTAL / E[:N_PERIOD].sum(0)
    np.testing.assert_allclose(y / E[:-1], np.broadcast_to(ratio, y.shape), rtol=RTOL)
    want = _mobility_expected("ratio_recentred", M_TOTAL, E)
    np.testing.assert_allclose(m[N_PERIOD:], want[N_PERIOD:], rtol=1e-10, atol=1e-11 * E_BASE.max())


def test_ratio_recentred_refuses_mobility_that_is_not_zero_sum(tmp_path):
    b = synthetic_baseline(M_OPEN)
    with pytest.raises(InputError, match="ratio_recentred"):
        pmq.project(b, write_rules(tmp_path, "net_mobility", continuation="ratio_recentred"), horizon=HORIZON)


# ----------------------------------------------------------- inter-territorial rates: the [0, 1] bounds
def test_interregional_rates_bounds_are_inclusive_and_totals_checked():
    """A rate of exactly 1 and out-rates that sum to exactly 1 are valid; 1.05 in total is not."""
    from pmq.errors import InputError
    from pmq.inputs.interregional import read_interregional
    terr = ["11", "53", "93"]
    ok = pd.DataFrame({"origin": ["11", "11", "53"], "destination": ["53", "93", "11"],
                       "rate": [0.6, 0.4, 1.0]})
    r = read_interregional(ok, terr)
    np.testing.assert_allclose(r.sel(origin="11").sum("destination").values, 1.0, rtol=0, atol=1e-15)
    assert (r.sel(origin="53", destination="11") == 1.0).all()
    bad = ok.assign(rate=[0.6, 0.45, 0.2])
    with pytest.raises(InputError, match="1.05"):
        read_interregional(bad, terr)
    with pytest.raises(InputError, match="rate"):
        read_interregional(ok.assign(rate=[0.6, 0.4, 1.0 + 1e-9]), terr)
