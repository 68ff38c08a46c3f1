"""Semantic tests of every scenario lever (pmq.scenario.levers): timing and direction.

For each lever kind: no effect before its first year (arrays exactly unchanged), the stated
effect from that year on, the stated behaviour after its last year (``after`` / ``to_year``),
effect only in the selected cells, and — through ``pmq.project`` — the direction of the change
in the accounts (a demand lever moves employment and openings, never young entrants or
mobility; a later exit lowers departures from its first year, etc.).

Synthetic baseline: 3 territories × 3 métiers (A0Z, B2Z, B4Z: domains A, B, B) × ages 15–74,
published period 2019–2023 (``n_period = 4``), horizons up to 12 years, so every lever can start,
end and be followed after the period.  Scenario files are written to ``tmp_path`` (the format of
``docs/scenarios/format.md``).  Independent of the shipped data and of the docs pages.

Tolerances: ``rtol = 1e-12`` on values computed two ways; "unchanged" means bit-for-bit equal.
"""
import numpy as np
import pytest

import pmq
from pmq.scenario import levers
from pmq.model.ages import AGES, logistic_hazard
from pmq.model.paths import input_paths
from pmq.model.rules import Rules
from pmq.scenario import read_scenario

from conftest import make_baseline

BASE_YEAR = 2019
N_PERIOD = 4
N_YEARS = 12                      # trend path 2019 … 2031
RTOL = 1e-12
METIERS = ["A0Z", "B2Z", "B4Z"]
TERRITORIES = ["T0", "T1", "T2"]
E_BASE = np.array([[10_000.0, 20_000.0, 15_000.0],
                   [30_000.0, 5_000.0, 8_000.0],
                   [12_000.0, 25_000.0, 9_000.0]])
GROWTH = np.array([[0.10, -0.08, 0.05], [-0.06, 0.15, 0.02], [0.20, 0.03, -0.12]])
Y_SHARE = np.array([[0.20, 0.25, 0.15], [0.18, 0.30, 0.22], [0.26, 0.12, 0.2]])
M_TOTAL = np.array([[600.0, -900.0, 300.0], [-1000.0, 400.0, -500.0], [400.0, 500.0, 200.0]])
H_NAT = logistic_hazard(AGES, 64.0, 2.9, 1.0, 0.0025)
YEARS = BASE_YEAR + np.arange(N_YEARS + 1)


def _pyramid(total):
    shape = np.exp(-0.5 * ((AGES - 40.0) / 12.0) ** 2)
    return np.asarray(total)[..., None] * shape / shape.sum()


@pytest.fixture(scope="module")
def base():
    h = np.stack([H_NAT, np.roll(H_NAT, 1), H_NAT])  # métiers differ a little
    h[1, 0] = 0.0
    h[:, -1] = 1.0
    b = make_baseline(_pyramid(E_BASE), h, E_BASE * GROWTH, E_BASE * Y_SHARE, M_TOTAL,
                      base_year=BASE_YEAR, n_period=N_PERIOD)
    return b.assign_coords(metier=METIERS)


@pytest.fixture(scope="module")
def ctx(base):
    return levers.Context.from_baseline(base)


@pytest.fixture(scope="module")
def trend(base):
    emp, *_ = input_paths(E_BASE, E_BASE * GROWTH, E_BASE * Y_SHARE, M_TOTAL, N_PERIOD, N_YEARS, Rules())
    assert emp.shape == (N_YEARS + 1, 3, 3)
    return emp


def scen_file(tmp_path, body, name="s"):
    p = tmp_path / f"{name}.toml"
    p.write_text(f'[scenario]\nname = "{name}"\n' + body, encoding="utf-8")
    return p


def scen(tmp_path, ctx, body, name="s"):
    return read_scenario(scen_file(tmp_path, body, name), territories=ctx.territory_aliases)


def idx(year):
    return year - BASE_YEAR


def cells(territories, metiers):
    """Boolean (territory, métier) mask of the named cells."""
    m = np.zeros((3, 3), bool)
    for t in territories:
        for j in metiers:
            m[TERRITORIES.index(t), METIERS.index(j)] = True
    return m


def assert_unchanged_outside(new, old, mask):
    np.testing.assert_array_equal(new[:, ~mask], old[:, ~mask])


# ====================================================================== demand: growth
@pytest.mark.parametrize("after", ["reference", "continue", "constant_level"])
def test_growth_lever_timing_level_and_after(tmp_path, ctx, trend, after):
    sc = scen(tmp_path, ctx, '[[demand.adjust]]\nid = "g"\nkind = "growth"\nmetier = ["B2Z", "B4Z"]\n'
                             f'territory = ["T1"]\nrate = 0.05\nperiod = [2021, 2025]\nafter = "{after}"\n'
                             'assumption = "test"\n')
    new = levers.apply_demand(trend, sc.lever_list("demand.adjust"), ctx)
    sel = cells(["T1"], ["B2Z", "B4Z"])
    assert_unchanged_outside(new, trend, sel)
    k0, k1 = idx(2021), idx(2025)
    # no effect up to and including the first year of the period
    np.testing.assert_array_equal(new[: k0 + 1, sel], trend[: k0 + 1, sel])
    # rate a year from the first year: E'(t) = E(y0)·1.05^(t − y0), starting with the next stock
    for k in range(k0 + 1, k1 + 1):
        np.testing.assert_allclose(new[k, sel], trend[k0, sel] * 1.05 ** (k - k0), rtol=RTOL)
    assert (new[k0 + 1, sel] != trend[k0 + 1, sel]).all()
    for k in range(k1 + 1, N_YEARS + 1):
        if after == "reference":  # the trend's growth resumes from the new level
            want = new[k1, sel] * trend[k, sel] / trend[k1, sel]
        elif after == "continue":
            want = trend[k0, sel] * 1.05 ** (k - k0)
        else:
            want = new[k1, sel]
        np.testing.assert_allclose(new[k, sel], want, rtol=RTOL, err_msg=f"{after}, year {YEARS[k]}")


def test_growth_lever_after_the_horizon_does_nothing(tmp_path, ctx, trend):
    sc = scen(tmp_path, ctx, '[[demand.adjust]]\nid = "g"\nkind = "growth"\nrate = 0.05\n'
                             'period = [2031, 2035]\nassumption = "test"\n')
    np.testing.assert_array_equal(levers.apply_demand(trend, sc.lever_list("demand.adjust"), ctx), trend)


# ====================================================================== demand: target
@pytest.mark.parametrize("after", ["reference", "continue", "constant_level"])
def test_target_lever_reaches_the_value_log_linearly(tmp_path, ctx, trend, after):
    value = 1.3 * (trend[idx(2026), 0, 1:].sum() + trend[idx(2026), 2, 1:].sum())
    sc = scen(tmp_path, ctx, '[[demand.adjust]]\nid = "t"\nkind = "target"\ndomain = ["B"]\n'
                             f'territory = ["T0", "T2"]\nvalue = {float(value)!r}\nyear = 2026\nfrom_year = 2021\n'
                             f'after = "{after}"\nassumption = "test"\n')
    new = levers.apply_demand(trend, sc.lever_list("demand.adjust"), ctx)
    sel = cells(["T0", "T2"], ["B2Z", "B4Z"])
    assert_unchanged_outside(new, trend, sel)
    kf, ky = idx(2021), idx(2026)
    np.testing.assert_array_equal(new[: kf + 1, sel], trend[: kf + 1, sel])  # nothing up to from_year
    assert new[ky, sel].sum() == pytest.approx(value, rel=RTOL)
    log_rho = np.log(value / trend[ky, sel].sum())
    ratio = new[:, sel] / trend[:, sel]
    last = ky if after == "constant_level" else N_YEARS
    for k in range(last + 1):
        np.testing.assert_allclose(ratio[k], ratio[k, 0], rtol=RTOL)  # every cell keeps its share
    for k in range(kf, ky + 1):
        np.testing.assert_allclose(np.log(ratio[k]), log_rho * (k - kf) / (ky - kf), rtol=1e-10, atol=1e-15)
    for k in range(ky + 1, N_YEARS + 1):
        if after == "reference":
            np.testing.assert_allclose(ratio[k], np.exp(log_rho), rtol=RTOL)
        elif after == "continue":
            np.testing.assert_allclose(np.log(ratio[k]), log_rho * (k - kf) / (ky - kf), rtol=1e-10)
        else:
            np.testing.assert_allclose(new[k, sel], new[ky, sel], rtol=RTOL)


# =================================================================== demand: deviation
@pytest.mark.parametrize("after", ["hold", "proportional"])
def test_deviation_in_persons_is_linear_between_anchors_and_split_by_trend_employment(tmp_path, ctx, trend,
                                                                                      after):
    sc = scen(tmp_path, ctx, '[[demand.adjust]]\nid = "d"\nkind = "deviation"\nmetier = ["A0Z", "B2Z"]\n'
                             'territory = ["T0", "T1"]\nanchors = {2021 = 0, 2024 = 3000, 2026 = 1000}\n'
                             f'after = "{after}"\nassumption = "test"\n')
    new = levers.apply_demand(trend, sc.lever_list("demand.adjust"), ctx)
    sel = cells(["T0", "T1"], ["A0Z", "B2Z"])
    assert_unchanged_outside(new, trend, sel)
    np.testing.assert_array_equal(new[: idx(2021) + 1], trend[: idx(2021) + 1])  # 0 up to the first anchor
    dev = (new - trend)[:, sel]
    expected = {2022: 1000, 2023: 2000, 2024: 3000, 2025: 2000, 2026: 1000}
    for year, v in expected.items():
        assert dev[idx(year)].sum() == pytest.approx(v, rel=RTOL), year
    ref_sel = trend[:, sel].sum(1)
    for k in range(idx(2027), N_YEARS + 1):
        want = 1000 if after == "hold" else 1000 * ref_sel[k] / ref_sel[idx(2026)]
        assert dev[k].sum() == pytest.approx(want, rel=RTOL), YEARS[k]
    # split over the selected cells in proportion to their trend employment, every year
    for k in range(idx(2022), N_YEARS + 1):
        np.testing.assert_allclose(dev[k], dev[k].sum() * trend[k, sel] / ref_sel[k], rtol=1e-10)


def test_deviation_with_a_nonzero_first_anchor_starts_in_that_year(tmp_path, ctx, trend):
    sc = scen(tmp_path, ctx, '[[demand.adjust]]\nid = "d"\nkind = "deviation"\n'
                             'anchors = {2022 = 500, 2024 = 1500}\nassumption = "test"\n')
    new = levers.apply_demand(trend, sc.lever_list("demand.adjust"), ctx)
    np.testing.assert_array_equal(new[: idx(2022)], trend[: idx(2022)])
    d = (new - trend).sum((1, 2))
    np.testing.assert_allclose(d[idx(2022):], [500, 1000] + [1500] * (N_YEARS - 4), rtol=RTOL)


def test_deviation_with_weights_keeps_each_metiers_share_of_the_total(tmp_path, ctx, trend):
    sc = scen(tmp_path, ctx, '[[demand.adjust]]\nid = "w"\nkind = "deviation"\n'
                             'weights = {A0Z = 0.25, B4Z = 0.75}\nterritory = ["T1", "T2"]\n'
                             'anchors = {2020 = 0, 2025 = 4000}\nassumption = "test"\n')
    new = levers.apply_demand(trend, sc.lever_list("demand.adjust"), ctx)
    sel = cells(["T1", "T2"], ["A0Z", "B4Z"])
    assert_unchanged_outside(new, trend, sel)
    d = new - trend
    rows = [1, 2]
    for year, total in ((2020, 0.0), (2021, 800.0), (2025, 4000.0), (2031, 4000.0)):
        k = idx(year)
        for j, w in ((0, 0.25), (2, 0.75)):
            assert d[k, rows, j].sum() == pytest.approx(w * total, rel=RTOL, abs=1e-9)
            # within a métier: in proportion to the selected territories' trend employment
            np.testing.assert_allclose(d[k, rows, j], w * total * trend[k, rows, j] / trend[k, rows, j].sum(),
                                       rtol=1e-10, atol=1e-9)


def test_deviation_in_percent_applies_to_each_cell(tmp_path, ctx, trend):
    sc = scen(tmp_path, ctx, '[[demand.adjust]]\nid = "p"\nkind = "deviation"\nunit = "percent"\n'
                             'metier = ["B4Z"]\nanchors = {2020 = 0, 2024 = -10}\nassumption = "test"\n')
    new = levers.apply_demand(trend, sc.lever_list("demand.adjust"), ctx)
    sel = cells(TERRITORIES, ["B4Z"])
    assert_unchanged_outside(new, trend, sel)
    np.testing.assert_array_equal(new[: idx(2020) + 1], trend[: idx(2020) + 1])
    pct = {2021: -2.5, 2022: -5.0, 2023: -7.5, 2024: -10.0, 2028: -10.0, 2031: -10.0}  # held after
    for year, p in pct.items():
        np.testing.assert_allclose(new[idx(year), sel], trend[idx(year), sel] * (1 + p / 100), rtol=RTOL)


def test_demand_levers_apply_in_file_order(tmp_path, ctx, trend):
    """A percent deviation after a growth lever scales the grown path."""
    sc = scen(tmp_path, ctx, '[[demand.adjust]]\nid = "g"\nkind = "growth"\nmetier = ["A0Z"]\nrate = 0.02\n'
                             'period = [2020, 2024]\nafter = "constant_level"\nassumption = "test"\n'
                             '[[demand.adjust]]\nid = "p"\nkind = "deviation"\nunit = "percent"\n'
                             'metier = ["A0Z"]\nanchors = {2020 = 10}\nassumption = "test"\n')
    new = levers.apply_demand(trend, sc.lever_list("demand.adjust"), ctx)
    grown = trend[idx(2020), :, 0] * 1.02 ** 4
    np.testing.assert_allclose(new[idx(2027), :, 0], 1.1 * grown, rtol=RTOL)


# ------------------------------------------------------------- demand levers through pmq.project
def _acc(base, path, horizon=10):
    return pmq.project(base, path, horizon=horizon).accounts


def _tot(acc, var):
    v = acc[var]
    if "age" in v.dims:
        v = v.sum("age", skipna=False)
    return v.transpose("year", "territory", "metier").values


@pytest.fixture(scope="module")
def ref_acc(base, tmp_path_factory):
    return _acc(base, scen_file(tmp_path_factory.mktemp("ref"), "", "ref"))


def test_raising_demand_raises_employment_and_openings_in_the_selected_cells_only(tmp_path, base, ref_acc):
    p = scen_file(tmp_path, '[[demand.adjust]]\nid = "g"\nkind = "growth"\nmetier = ["B2Z"]\n'
                            'territory = ["T1"]\nrate = 0.2\nperiod = [2021, 2025]\nassumption = "test"\n')
    acc = _acc(base, p)
    sel = cells(["T1"], ["B2Z"])
    k0 = idx(2021)
    for v in ("employment", "net_creation", "departures", "openings", "imbalance", "young_entrants",
              "net_mobility", "other_recruits"):
        a, r = _tot(acc, v), _tot(ref_acc, v)
        np.testing.assert_array_equal(a[:, ~sel], r[:, ~sel], err_msg=v)  # other cells untouched
        np.testing.assert_array_equal(a[:k0, sel], r[:k0, sel], err_msg=v)  # flows before 2021 untouched
    # supply side is not moved by a demand lever, in any year
    for v in ("young_entrants", "net_mobility"):
        np.testing.assert_array_equal(_tot(acc, v), _tot(ref_acc, v), err_msg=v)
    E, Er = _tot(acc, "employment")[:, sel], _tot(ref_acc, "employment")[:, sel]
    np.testing.assert_array_equal(E[: k0 + 1], Er[: k0 + 1])
    assert (E[k0 + 1:] > Er[k0 + 1:]).all()
    # the first changed flow is 2021's net creation (2021 → 2022): openings up from 2021 on
    op, opr = _tot(acc, "openings")[:-1, sel], _tot(ref_acc, "openings")[:-1, sel]
    assert (op[k0: idx(2025)] > opr[k0: idx(2025)]).all()
    # openings − imbalance is the supply (young entrants + mobility): unchanged
    np.testing.assert_allclose(op - _tot(acc, "imbalance")[:-1, sel], opr - _tot(ref_acc, "imbalance")[:-1, sel],
                               rtol=1e-12)


def test_demand_lever_beyond_the_horizon_is_cut_not_changed(tmp_path, base):
    """Paths run to the last year a lever names: a short horizon sees the same years."""
    p = scen_file(tmp_path, '[[demand.adjust]]\nid = "t"\nkind = "target"\nmetier = ["A0Z"]\n'
                            'value = 80000\nyear = 2028\nfrom_year = 2020\nassumption = "test"\n')
    short, long = _acc(base, p, horizon=4), _acc(base, p, horizon=10)
    np.testing.assert_allclose(_tot(short, "employment"), _tot(long, "employment")[:5], rtol=RTOL)
    assert _tot(long, "employment")[idx(2028), :, 0].sum() == pytest.approx(80000, rel=RTOL)


# ======================================================================= inflow levers
def test_young_entrants_factor_applies_in_its_years_and_cells_only(tmp_path, base, ctx, ref_acc):
    body = ('[[young_entrants.adjust]]\nid = "y"\nfactor = 1.5\ndomain = ["B"]\nterritory = ["T1"]\n'
            'from_year = 2021\nto_year = 2024\nassumption = "test"\n')
    sc = scen(tmp_path, ctx, body)
    f = levers.flow_factors("young_entrants.adjust", sc.lever_list("young_entrants.adjust"), ctx, 10)
    sel = cells(["T1"], ["B2Z", "B4Z"])
    on = (YEARS[:10] >= 2021) & (YEARS[:10] <= 2024)
    np.testing.assert_array_equal(f[on][:, sel], 1.5)
    np.testing.assert_array_equal(f[~on], 1.0)
    np.testing.assert_array_equal(f[:, ~sel], 1.0)
    acc = _acc(base, scen_file(tmp_path, body, "y"))
    y, yr = _tot(acc, "young_entrants")[:-1], _tot(ref_acc, "young_entrants")[:-1]
    np.testing.assert_allclose(y[on][:, sel], 1.5 * yr[on][:, sel], rtol=RTOL)
    np.testing.assert_array_equal(y[~on], yr[~on])            # 2019, 2020 and 2025 on: unchanged
    np.testing.assert_array_equal(y[:, ~sel], yr[:, ~sel])
    # demand untouched: net creation identical, employment equal (age sums: rounding only);
    # the extra entrants lower the imbalance
    np.testing.assert_array_equal(_tot(acc, "net_creation"), _tot(ref_acc, "net_creation"))
    np.testing.assert_allclose(_tot(acc, "employment"), _tot(ref_acc, "employment"), rtol=RTOL)
    imb, imbr = _tot(acc, "imbalance")[:-1], _tot(ref_acc, "imbalance")[:-1]
    op, opr = _tot(acc, "openings")[:-1], _tot(ref_acc, "openings")[:-1]
    atol = 1e-9 * E_BASE.max()
    # openings − imbalance = young entrants + mobility: up by the extra entrants, in the lever's years
    np.testing.assert_allclose((op - imb)[on][:, sel], (opr - imbr)[on][:, sel] + 0.5 * yr[on][:, sel],
                               rtol=1e-9, atol=atol)
    np.testing.assert_allclose((op - imb)[~on], (opr - imbr)[~on], rtol=1e-9, atol=atol)
    k = idx(2021)  # first year: same openings, so the imbalance falls by exactly the extra entrants
    np.testing.assert_allclose(imb[k, sel], imbr[k, sel] - 0.5 * yr[k, sel], rtol=1e-9, atol=atol)
    # departures move only after the extra (young) entrants are in the stock: none in the first year
    np.testing.assert_array_equal(_tot(acc, "departures")[: idx(2022)], _tot(ref_acc, "departures")[: idx(2022)])


def test_inflow_factor_without_years_applies_to_every_year_and_levers_compound(tmp_path, ctx):
    sc = scen(tmp_path, ctx, '[[young_entrants.adjust]]\nid = "a"\nfactor = 2.0\nmetier = ["A0Z"]\n'
                             'assumption = "test"\n'
                             '[[young_entrants.adjust]]\nid = "b"\nfactor = 0.5\nfrom_year = 2025\n'
                             'assumption = "test"\n')
    f = levers.flow_factors("young_entrants.adjust", sc.lever_list("young_entrants.adjust"), ctx, 40)
    late = YEARS[0] + np.arange(40) >= 2025
    np.testing.assert_array_equal(f[~late][:, :, 0], 2.0)
    np.testing.assert_array_equal(f[late][:, :, 0], 1.0)      # 2 × 0.5, through 2058
    np.testing.assert_array_equal(f[late][:, :, 1:], 0.5)
    np.testing.assert_array_equal(f[~late][:, :, 1:], 1.0)
    assert levers.flow_factors("young_entrants.adjust", (), ctx, 5) is None


def test_net_mobility_factor_scales_whole_metiers_and_keeps_the_zero_sum(tmp_path, base, ref_acc):
    p = scen_file(tmp_path, '[[net_mobility.adjust]]\nid = "m"\nfactor = 0.0\nmetier = ["A0Z"]\n'
                            'from_year = 2022\nassumption = "test"\n'
                            '[[net_mobility.adjust]]\nid = "n"\nfactor = 2.0\nmetier = ["B4Z"]\n'
                            'from_year = 2020\nto_year = 2021\nassumption = "test"\n')
    acc = _acc(base, p)
    m, mr = _tot(acc, "net_mobility")[:-1], _tot(ref_acc, "net_mobility")[:-1]
    k = idx(2022)
    np.testing.assert_array_equal(m[:k, :, 0], mr[:k, :, 0])
    np.testing.assert_array_equal(m[k:, :, 0], 0.0)  # through the period and after it
    np.testing.assert_allclose(m[idx(2020): idx(2022), :, 2], 2.0 * mr[idx(2020): idx(2022), :, 2], rtol=RTOL)
    # age sums of the other years and métiers: equal up to rounding (the age mix differs)
    np.testing.assert_allclose(m[idx(2022):, :, 2], mr[idx(2022):, :, 2], rtol=RTOL)
    np.testing.assert_allclose(m[:idx(2020), :, 2], mr[:idx(2020), :, 2], rtol=RTOL)
    np.testing.assert_allclose(m[:, :, 1], mr[:, :, 1], rtol=RTOL)
    np.testing.assert_allclose(m.sum(1), 0.0, atol=1e-11 * E_BASE.max())
    np.testing.assert_allclose(_tot(acc, "employment"), _tot(ref_acc, "employment"), rtol=RTOL)


# ============================================================================== exits
def _hazard(base):
    return base["hazard"].transpose("metier", "age").values


def test_shift_schedule_moves_the_schedule_by_the_offset():
    ages = AGES
    h = np.linspace(0.0, 1.0, len(ages)) ** 2
    np.testing.assert_array_equal(levers.shift_schedule(h, 0.0, ages), h)
    np.testing.assert_allclose(levers.shift_schedule(h, 2.0, ages)[2:], h[:-2], rtol=RTOL)
    np.testing.assert_allclose(levers.shift_schedule(h, 2.0, ages)[:2], h[0], rtol=RTOL)  # youngest value
    np.testing.assert_allclose(levers.shift_schedule(h, -3.0, ages)[:-3], h[3:], rtol=RTOL)
    half = levers.shift_schedule(h, 0.5, ages)
    np.testing.assert_allclose(half[1:], 0.5 * h[1:] + 0.5 * h[:-1], rtol=RTOL)
    # a later exit lowers an increasing hazard everywhere it moves
    assert (levers.shift_schedule(h, 1.0, ages)[1:] < h[1:]).all()


def _window(lo, hi):
    return (AGES >= lo) & (AGES <= hi)


def test_exit_multiplier_timing_window_and_cells(tmp_path, base, ctx):
    sc = scen(tmp_path, ctx, '[[exits.multiplier]]\nid = "m"\nfactor = 1.5\nmin_age = 55\nmax_age = 60\n'
                             'metier = ["B2Z"]\nterritory = ["T0", "T2"]\nfrom_year = 2021\nto_year = 2023\n'
                             'assumption = "test"\n')
    h = _hazard(base)
    hp = levers.hazard_path(h, sc, ctx, 10)
    assert hp.shape == (10, 3, 3, len(AGES))
    hb = np.broadcast_to(h, hp.shape)
    on = (YEARS[:10] >= 2021) & (YEARS[:10] <= 2023)
    win = _window(55, 60)
    sel = cells(["T0", "T2"], ["B2Z"])
    got = hp[on][:, sel][..., win]
    np.testing.assert_allclose(got, 1.5 * hb[on][:, sel][..., win], rtol=RTOL)
    mask = np.zeros(hp.shape, bool)
    mask[np.ix_(on, sel.any(1), sel.any(0), win)] = True
    mask &= sel[None, :, :, None]
    np.testing.assert_array_equal(hp[~mask], hb[~mask])  # 2020, 2024, other ages and cells: unchanged
    assert (hp[..., -1] == 1.0).all()


@pytest.mark.parametrize("share", [1.0, 0.4])
def test_exit_shift_in_one_step_applies_from_from_year(tmp_path, base, ctx, share):
    """With full_year = from_year (default) the whole shift applies from from_year, none before."""
    sc = scen(tmp_path, ctx, f'[[exits.shift]]\nid = "s"\nyears = 2\nfrom_year = 2022\nshare = {share}\n'
                             'metier = ["A0Z", "B4Z"]\nassumption = "test"\n')
    h = _hazard(base)
    hp = levers.hazard_path(h, sc, ctx, 10)
    hb = np.broadcast_to(h, hp.shape)
    k = idx(2022)
    np.testing.assert_array_equal(hp[:k], hb[:k])                      # exactly unchanged before
    win = _window(55, 73)                                               # default window 55 … 73
    for j in (0, 2):
        want = (1 - share) * h[j, win] + share * h[j, np.flatnonzero(win) - 2]
        np.testing.assert_allclose(hp[k:, :, j][..., win], np.broadcast_to(want, hp[k:, :, j][..., win].shape),
                                   rtol=RTOL)
        np.testing.assert_array_equal(hp[:, :, j][..., ~win], hb[:, :, j][..., ~win])
    np.testing.assert_array_equal(hp[:, :, 1], hb[:, :, 1])
    assert (hp[k:, :, [0, 2]][..., win] < hb[k:, :, [0, 2]][..., win]).all()  # later exits
    assert (hp[..., -1] == 1.0).all()                                   # forced exit kept at 74


def _implied_shift(hp_year, h, ages_idx):
    """Shift s with h'(a) = h(a − s) (share 1), from one age where h is increasing, s in [0, 1]."""
    a = ages_idx
    return (h[a] - hp_year[a]) / (h[a] - h[a - 1])


def test_exit_shift_phase_in_is_monotone_and_complete_in_full_year(tmp_path, base, ctx):
    sc = scen(tmp_path, ctx, '[[exits.shift]]\nid = "s"\nyears = 1\nfrom_year = 2021\nfull_year = 2025\n'
                             'min_age = 58\nassumption = "test"\n')
    h = _hazard(base)
    hp = levers.hazard_path(h, sc, ctx, 12)
    hb = np.broadcast_to(h, hp.shape)
    np.testing.assert_array_equal(hp[: idx(2021)], hb[: idx(2021)])     # nothing before from_year
    win = _window(58, 73)
    full = np.concatenate([h[:, :1], h[:, :-1]], axis=1)               # h(a − 1)
    for k in range(idx(2025), 12):                                      # full shift from full_year on
        np.testing.assert_allclose(hp[k][..., win], np.broadcast_to(full[:, win], hp[k][..., win].shape),
                                   rtol=RTOL)
    a = int(np.flatnonzero(AGES == 62)[0])
    s = np.array([_implied_shift(hp[k, 0, 0], h[0], a) for k in range(12)])
    assert (np.diff(s) >= -1e-12).all()                                # phased in, never back
    assert (s[idx(2021): idx(2025)] < 1 - 1e-9).all()                  # partial before full_year
    np.testing.assert_allclose(s[idx(2025):], 1.0, rtol=1e-9)


def test_exit_shift_phase_in_follows_the_documented_rule(tmp_path, base, ctx):
    sc = scen(tmp_path, ctx, '[[exits.shift]]\nid = "s"\nyears = 1\nfrom_year = 2021\nfull_year = 2025\n'
                             'min_age = 58\nassumption = "test"\n')
    h = _hazard(base)
    hp = levers.hazard_path(h, sc, ctx, 12)
    a = int(np.flatnonzero(AGES == 62)[0])
    s = np.array([_implied_shift(hp[k, 0, 0], h[0], a) for k in range(12)])
    # s(t) = years · (t − from_year) / (full_year − from_year), 0 before, `years` after
    want = np.clip((YEARS[:12] - 2021) / (2025 - 2021), 0.0, 1.0)
    np.testing.assert_allclose(s, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(hp[idx(2021)], np.broadcast_to(h, hp[0].shape))  # 0 in from_year


def test_cohort_shift_by_birth_cohort_within_its_years(tmp_path, base, ctx):
    sc = scen(tmp_path, ctx, '[[exits.cohort_shift]]\nid = "c"\ncohorts = [1958, 1960]\nshift = [1.0, 2.0]\n'
                             'from_year = 2021\nto_year = 2025\nmin_age = 58\nmax_age = 66\nshare = 0.5\n'
                             'territory = ["T1"]\nassumption = "test"\n')
    h = _hazard(base)
    hp = levers.hazard_path(h, sc, ctx, 10)
    hb = np.broadcast_to(h, hp.shape)
    for k in range(10):
        year = YEARS[k]
        for ia, age in enumerate(AGES):
            c = year - age
            s = 0 if c < 1958 else (1 if c < 1960 else 2)
            active = 2021 <= year <= 2025 and 58 <= age <= 66 and s > 0
            want = 0.5 * h[:, ia] + 0.5 * h[:, ia - s] if active else h[:, ia]
            np.testing.assert_allclose(hp[k, 1, :, ia], want, rtol=RTOL, err_msg=f"{year}, age {age}")
            if not active:
                np.testing.assert_array_equal(hp[k, 1, :, ia], h[:, ia])
    np.testing.assert_array_equal(hp[:, [0, 2]], hb[:, [0, 2]])


def test_exit_levers_are_none_without_levers(ctx, base, tmp_path):
    assert levers.hazard_path(_hazard(base), scen(tmp_path, ctx, ""), ctx, 5) is None


def test_later_exits_lower_departures_from_the_first_year_only(tmp_path, base, ref_acc):
    p = scen_file(tmp_path, '[[exits.shift]]\nid = "s"\nyears = 2\nfrom_year = 2022\nmetier = ["B2Z"]\n'
                            'assumption = "test"\n')
    acc = _acc(base, p)
    k = idx(2022)
    d, dr = _tot(acc, "departures")[:-1], _tot(ref_acc, "departures")[:-1]
    np.testing.assert_array_equal(d[:k], dr[:k])                     # exactly unchanged before 2022
    assert (d[k:, :, 1] < dr[k:, :, 1]).all()                         # fewer departures in B2Z from 2022
    np.testing.assert_array_equal(d[:, :, [0, 2]], dr[:, :, [0, 2]])  # other métiers untouched
    for v in ("employment", "net_creation", "young_entrants", "net_mobility"):  # age sums: rounding only
        np.testing.assert_allclose(_tot(acc, v), _tot(ref_acc, v), rtol=RTOL, atol=1e-12 * E_BASE.max(),
                                   err_msg=v)
    op, opr = _tot(acc, "openings")[:-1], _tot(ref_acc, "openings")[:-1]
    np.testing.assert_allclose(opr - op, dr - d, rtol=1e-9, atol=1e-9 * E_BASE.max())


def test_exit_multiplier_raises_departures_in_its_years(tmp_path, base, ref_acc):
    p = scen_file(tmp_path, '[[exits.multiplier]]\nid = "m"\nfactor = 1.3\nmin_age = 50\nmax_age = 64\n'
                            'from_year = 2020\nto_year = 2020\nassumption = "test"\n')
    acc = _acc(base, p)
    d, dr = _tot(acc, "departures")[:-1], _tot(ref_acc, "departures")[:-1]
    np.testing.assert_array_equal(d[0], dr[0])
    assert (d[1] > dr[1]).all()
    # after to_year the hazards are the reference ones; the smaller older stock then departs less
    assert (d[2] < dr[2]).all()


def test_deviation_in_percent_after_proportional_does_not_count_the_trend_twice(tmp_path, base, ctx):
    """A percentage of the trend already follows the trend: after the last anchor the cell stays at
    trend × (1 + p/100) whichever `after` rule is written."""
    body = ('[[demand.adjust]]\nid = "d"\nkind = "deviation"\nunit = "percent"\nmetier = ["A0Z"]\n'
            'anchors = {{2021 = 10.0}}\nafter = "{after}"\nassumption = "test"\n')
    res = {}
    for after in ("hold", "proportional"):
        sc = scen(tmp_path, ctx, body.format(after=after))
        res[after] = pmq.project(base, sc, horizon=10).accounts["employment"].sum("age")
    trend = pmq.project(base, scen(tmp_path, ctx, ""), horizon=10).accounts["employment"].sum("age")
    for after, emp in res.items():
        ratio = (emp / trend).sel(metier="A0Z", year=slice(2021, None)).values
        np.testing.assert_allclose(ratio, 1.10, rtol=1e-12, err_msg=after)
