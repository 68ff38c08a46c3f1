"""Ensembles: seeded draws, identical results whatever the scheduler and chunking, quantiles,
zero variance = the deterministic run, scenario-file checks, sensitivity and the CLI."""
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import pmq  # noqa: E402
from pmq.cli import main  # noqa: E402
from pmq.model.engine import simulate  # noqa: E402
from pmq.projection.ensemble import STORED, latent_draws, prepare, run_ensemble  # noqa: E402
from pmq.errors import ScenarioError  # noqa: E402
from pmq.projection.run import _resolve, scenario_inputs  # noqa: E402
from pmq.projection.sensitivity import one_at_a_time, sobol, sobol_indices  # noqa: E402

UNCERTAIN = """
[scenario]
name = "unc"
extends = "{extends}"
[uncertainty]
seed = 7
[[uncertainty.parameter]]
id = "exit"
kind = "exit_age_shift"
distribution = "normal"
sd = {sd_exit}
assumption = "test"
[[uncertainty.parameter]]
id = "growth"
kind = "growth"
distribution = "normal"
sd = {sd_growth}
domain_correlation = 0.5
assumption = "test"
[[uncertainty.parameter]]
id = "young"
kind = "young_entrants"
distribution = "{young_dist}"
{young_params}
assumption = "test"
[[uncertainty.parameter]]
id = "mob"
kind = "mobility"
distribution = "normal"
sd = {sd_mob}
assumption = "test"
{corr}
"""
CORR = """[[uncertainty.correlation]]
id = "c1"
between = ["growth", "young"]
rho = 0.4
assumption = "test"
"""


def _write(tmp_path, name="unc.toml", extends="reference", sd_exit=0.5, sd_growth=0.003, sd_mob=0.2,
           young="triangular", corr=True):
    yp = ("low = -0.1\nmode = 0.0\nhigh = 0.05" if young == "triangular" else
          "low = -0.1\nhigh = 0.1" if young == "uniform" else "sd = 0.0")
    body = UNCERTAIN.format(extends=extends, sd_exit=sd_exit, sd_growth=sd_growth, sd_mob=sd_mob,
                            young_dist=young, young_params=yp, corr=CORR if corr else "")
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("unc"))


@pytest.fixture(scope="module")
def in_memory(spec_file, baseline):
    return run_ensemble(spec_file, baseline, draws=24, chunk=10, horizon=11)


def _equal(a, b):
    for k in STORED:
        np.testing.assert_array_equal(np.asarray(a.flows[k].values), np.asarray(b.flows[k].values), err_msg=k)


def test_same_seed_same_results_threads_and_chunkings(spec_file, baseline, in_memory, tmp_path):
    threads = run_ensemble(spec_file, baseline, draws=24, chunk=7, horizon=11, scheduler="threads")
    _equal(in_memory, threads)
    stored = run_ensemble(spec_file, baseline, draws=24, chunk=5, horizon=11, store=tmp_path / "e.zarr")
    assert hasattr(stored.flows["employment"].data, "dask")                       # opened lazily
    _equal(in_memory, stored)
    pd.testing.assert_frame_equal(in_memory.parameters, stored.parameters)


@pytest.mark.background
def test_same_seed_same_results_on_a_local_cluster(spec_file, baseline, in_memory, tmp_path):
    distributed = pytest.importorskip("distributed")
    # one worker process: the chunks are computed in another process, as on any cluster; a second
    # worker would only add ~250 MB of Python, numpy, pandas, dask and pmq to the run's peak
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_cluster = run_ensemble(spec_file, baseline, draws=24, chunk=6, horizon=11, scheduler=client)
        by_address = run_ensemble(spec_file, baseline, draws=24, chunk=12, horizon=11,
                                  scheduler=cluster.scheduler_address.replace("tcp://", ""),
                                  store=tmp_path / "cluster.zarr")        # written by this process
    _equal(in_memory, on_cluster)
    _equal(in_memory, by_address)


def test_float64_states_do_not_depend_on_the_chunk(baseline, tmp_path):
    from pmq.projection.ensemble import run_latent
    p = _write(tmp_path)
    p.write_text(p.read_text(encoding="utf-8").replace('between = ["growth", "young"]',
                                                       'between = ["growth", "exit"]'), encoding="utf-8")
    ctx = prepare(p, baseline, horizon=6)
    Z = latent_draws(11, range(5), ctx.spec.n_latent(ctx.n_domains))
    whole = run_latent(ctx, Z, dtype=np.float64)
    for i in range(5):
        one = run_latent(ctx, Z[i:i + 1], dtype=np.float64)
        for k in STORED:
            np.testing.assert_array_equal(one[k][0], whole[k][i], err_msg=f"{k}, draw {i}")


def test_store_is_never_someone_elses_folder(spec_file, baseline, tmp_path):
    from pmq.errors import InputError
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="ni un stockage zarr écrit par pmq"):
        run_ensemble(spec_file, baseline, draws=2, chunk=2, horizon=3, store=precious)
    assert (precious / "notes.txt").read_text() == "keep me"
    store = tmp_path / "e.zarr"
    first = run_ensemble(spec_file, baseline, draws=2, chunk=2, horizon=3, store=store)
    second = run_ensemble(spec_file, baseline, draws=3, chunk=2, horizon=3, store=store, seed=99)
    assert second.flows.sizes["draw"] == 3 and first.flows.sizes["draw"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.zarr", "precious"]   # no temporary left


def test_a_failing_draw_is_named(baseline, tmp_path):
    from pmq.errors import InputError
    p = _write(tmp_path)
    p.write_text(p.read_text(encoding="utf-8").replace(
        'distribution = "normal"\nsd = 0.003\ndomain_correlation = 0.5',
        'distribution = "uniform"\nlow = -0.2\nhigh = -0.19'), encoding="utf-8")
    with pytest.raises(InputError) as e:
        run_ensemble(p, baseline, draws=4, chunk=2, horizon=20)
    msg = str(e.value)
    assert "draw" in msg and "territory" in msg and "growth" in msg and str(p) in msg


def test_draw_depends_only_on_seed_and_index(spec_file, baseline, in_memory):
    fewer = run_ensemble(spec_file, baseline, draws=9, chunk=4, horizon=11)
    for k in STORED:
        np.testing.assert_array_equal(fewer.flows[k].values, in_memory.flows[k].values[:9])
    other = run_ensemble(spec_file, baseline, draws=9, chunk=4, horizon=11, seed=8)
    assert not np.array_equal(other.flows["departures"].values, fewer.flows["departures"].values)
    z = latent_draws(7, [3, 1], 5)
    np.testing.assert_array_equal(z[0], latent_draws(7, [3], 5)[0])
    np.testing.assert_array_equal(z[1], latent_draws(7, range(2), 5)[1])


def test_quantiles_ordered_and_accounts_hold(in_memory):
    q = in_memory.quantiles(by="territory")
    for k in ("openings", "departures", "imbalance", "employment_end"):
        assert (q[k].diff("quantile") >= 0).all(), k
    assert list(q["quantile"].values) == [0.05, 0.25, 0.5, 0.75, 0.95]
    f = in_memory.flows
    # each draw's stocks move by its net creation (float32 storage)
    d_emp = f["employment"].diff("year").values.astype(float)
    np.testing.assert_allclose(d_emp, f["net_creation"].values[:, :-1].astype(float), rtol=1e-5, atol=0.5)
    assert np.isnan(f["departures"].values[:, -1]).all()
    # national window = sum of the regional windows
    nat = in_memory.window(2019, 2030)
    reg = in_memory.window(2019, 2030, by="territory")
    np.testing.assert_allclose(nat["openings"].values, reg["openings"].sum("territory").values, rtol=1e-12)
    en, fr = in_memory.summary(lang="en"), in_memory.summary()
    assert "Job openings" in en and "national totals, thousands" in en and "Postes" not in en
    assert "Postes à pourvoir" in fr and "totaux nationaux, milliers" in fr and "openings" not in fr
    q50 = float(in_memory.quantiles()["openings"].sel(quantile=0.5).isel(period=0)) / 1e3
    from pmq.formatting import format_number
    assert format_number(q50, 1, "fr") in fr and f"{q50:,.1f}" in en            # 3 609,0 / 3,609.0


def test_parameters_follow_their_distributions(baseline, tmp_path):
    p = _write(tmp_path, young="uniform")
    ctx = prepare(p, baseline, horizon=2)
    Z = latent_draws(1, range(4000), ctx.spec.n_latent(ctx.n_domains))
    v = ctx.spec.values(Z, ctx.n_domains)
    assert abs(v["exit"].std() - 0.5) < 0.03 and abs(v["exit"].mean()) < 0.03
    assert v["young"].min() >= -0.1 and v["young"].max() <= 0.1 and abs(v["young"].mean()) < 0.005
    g = v["growth"]
    assert g.shape == (4000, ctx.n_domains)
    assert abs(g.std() - 0.003) < 0.0002
    c = np.corrcoef(g[:, 0], g[:, 1])[0, 1]
    assert abs(c - 0.5) < 0.05                                           # domain_correlation
    # the correlation acts on the common factor of growth: corr(growth_d, young) = √ρ_domain · rho
    from scipy.stats import spearmanr
    rs = spearmanr(g[:, 0], v["young"])[0]
    assert abs(rs - 6 / np.pi * np.arcsin(np.sqrt(0.5) * 0.4 / 2)) < 0.05
    # between two normal parameters the produced correlation is rho itself
    p2 = _write(tmp_path, name="c2.toml", young="uniform")
    p2.write_text(p2.read_text(encoding="utf-8").replace('between = ["growth", "young"]',
                                                         'between = ["exit", "mob"]'), encoding="utf-8")
    ctx2 = prepare(p2, baseline, horizon=2)
    v2 = ctx2.spec.values(latent_draws(2, range(4000), ctx2.spec.n_latent(ctx2.n_domains)), ctx2.n_domains)
    assert abs(np.corrcoef(v2["exit"], v2["mob"])[0, 1] - 0.4) < 0.04
    v3 = ctx2.spec.values(latent_draws(2, range(4000), ctx2.spec.n_latent(ctx2.n_domains)), ctx2.n_domains,
                          correlated=False)
    assert abs(np.corrcoef(v3["exit"], v3["mob"])[0, 1]) < 0.04


def test_zero_variance_reproduces_the_deterministic_run(baseline, tmp_path):
    p = _write(tmp_path, sd_exit=0.0, sd_growth=0.0, sd_mob=0.0, young="normal", corr=False)
    ens = run_ensemble(p, baseline, draws=3, chunk=2, horizon=11)
    sc = _resolve("reference", baseline, 11)
    inp = scenario_inputs(baseline, sc)
    det = simulate(inp["employment0"], inp["hazard"], inp["net_creation"], inp["young_entrants"],
                   inp["net_mobility"], inp["profiles"], record="cells")
    for i in range(3):
        np.testing.assert_array_equal(ens.flows["employment"].values[i], det["employment"].astype(np.float32))
        np.testing.assert_array_equal(ens.flows["departures"].values[i, :-1], det["departures"].astype(np.float32))
    # … and pmq.project's age-resolved accounts, exactly, when summed over age in the same order
    from pmq.model.engine import _age_sum
    from pmq.projection.ensemble import run_latent
    ctx = prepare(p, baseline, horizon=11)
    z64 = run_latent(ctx, np.zeros((2, ctx.spec.n_latent(ctx.n_domains))), dtype=np.float64)
    acc = pmq.project(baseline, "reference", horizon=11).accounts
    np.testing.assert_array_equal(z64["employment"][1], _age_sum(np.ascontiguousarray(np.moveaxis(acc["employment"].values, -1, 0))))
    np.testing.assert_array_equal(z64["departures"][1, :-1],
                                  _age_sum(np.ascontiguousarray(np.moveaxis(acc["departures"].values[:-1], -1, 0))))
    np.testing.assert_allclose(ens.flows["employment"].values[0], acc["employment"].sum("age").values, rtol=1e-6)
    np.testing.assert_allclose(ens.flows["departures"].values[0, :-1],
                               acc["departures"].sum("age").values[:-1], rtol=1e-6)


def test_growth_deviation_moves_employment_as_specified(baseline, tmp_path, in_memory):
    ctx = prepare(_write(tmp_path), baseline, horizon=11)
    par = in_memory.parameters
    det = pmq.project(baseline, "reference", horizon=11).accounts["employment"].sum("age").values
    dom = [ctx.domains.index(d) for d in ctx.metier_domain]
    for i in (0, 5):
        g = par.loc[i, [f"growth[{d}]" for d in ctx.domains]].to_numpy(float)[dom]
        for t in (4, 11):   # the growth deviation compounds on the trend path: E(t)·exp(g·t)
            expected = det[t] * np.exp(g[None, :] * t)
            np.testing.assert_allclose(in_memory.flows["employment"].values[i, t], expected, rtol=2e-6, atol=1)


def test_exit_shift_moves_departures_the_right_way(baseline, tmp_path, in_memory):
    par = in_memory.parameters
    dep = in_memory.window(2019, 2030)["departures"].values
    hi, lo = par["exit"].idxmax(), par["exit"].idxmin()
    assert dep[hi] < dep[lo]                       # later exits, fewer departures


def test_ensemble_with_exit_levers(baseline, tmp_path):
    p = _write(tmp_path, extends="retraites_2023")
    a = run_ensemble(p, baseline, draws=4, chunk=3, horizon=8)
    b = run_ensemble(p, baseline, draws=4, chunk=1, horizon=8)
    _equal(a, b)


@pytest.mark.parametrize("patch, key", [
    (('kind = "mobility"', 'kind = "wages"'), "uncertainty.parameter[mob].kind"),
    (('sd = 0.2\n', ''), "uncertainty.parameter[mob].sd"),
    (('low = -0.1\nmode = 0.0\nhigh = 0.05', 'low = 0.1\nmode = 0.0\nhigh = 0.05'), "uncertainty.parameter[young]"),
    (('rho = 0.4', 'rho = 1.5'), "uncertainty.correlation[c1].rho"),
    (('between = ["growth", "young"]', 'between = ["growth", "nope"]'), "uncertainty.correlation[c1].between"),
    (('distribution = "normal"\nsd = 0.2', 'distribution = "normal"\nsd = 0.2\nlow = 0'),
     "uncertainty.parameter[mob].low"),
    (('domain_correlation = 0.5', 'domain_correlation = 0.5\nseed_extra = 1'),
     "uncertainty.parameter[growth].seed_extra"),
])
def test_bad_uncertainty_sections(baseline, tmp_path, patch, key):
    p = _write(tmp_path)
    p.write_text(p.read_text(encoding="utf-8").replace(*patch), encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        prepare(p, baseline, horizon=2)
    assert e.value.key == key, str(e.value)
    assert str(p) in str(e.value)


def test_non_positive_definite_correlations(baseline, tmp_path):
    p = _write(tmp_path)
    extra = textwrap.dedent("""
        [[uncertainty.correlation]]
        id = "c2"
        between = ["growth", "mob"]
        rho = 0.95
        assumption = "t"
        [[uncertainty.correlation]]
        id = "c3"
        between = ["young", "mob"]
        rho = -0.95
        assumption = "t"
        """)
    p.write_text(p.read_text(encoding="utf-8").replace("rho = 0.4", "rho = 0.95") + extra, encoding="utf-8")
    with pytest.raises(ScenarioError, match="non définie positive"):
        prepare(p, baseline, horizon=2)


def test_fan_chart_of_an_ensemble(in_memory):
    ax = in_memory.fan("employment")
    s = in_memory.series("employment")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), s.quantile(0.5, dim="draw").values / 1e3)
    assert "24 tirages" in ax.get_title(loc="left")
    plt.close("all")


# ---------------------------------------------------------------------------------- sensitivity
def test_sobol_estimator_on_the_ishigami_function():
    a, b = 7.0, 0.1

    def f(U):
        X = -np.pi + 2 * np.pi * U
        return pd.DataFrame({"y": np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])})

    V = a ** 2 / 8 + b * np.pi ** 4 / 5 + b ** 2 * np.pi ** 8 / 18 + 0.5
    S1 = [0.5 * (1 + b * np.pi ** 4 / 5) ** 2 / V, a ** 2 / 8 / V, 0.0]
    ST = [S1[0] + 8 * b ** 2 * np.pi ** 8 / 225 / V, S1[1], 8 * b ** 2 * np.pi ** 8 / 225 / V]
    r = sobol_indices(f, {"x1": [0], "x2": [1], "x3": [2]}, 3, n=4096, seed=1).set_index("parameter")
    np.testing.assert_allclose(r.loc[["x1", "x2", "x3"], "S1"], S1, atol=0.03)
    np.testing.assert_allclose(r.loc[["x1", "x2", "x3"], "ST"], ST, atol=0.03)
    assert (r["S1_low"] <= r["S1"]).all() and (r["S1"] <= r["S1_high"]).all()
    assert r.attrs["runs"] == 4096 * 5


def test_one_at_a_time_and_tornado(baseline, tmp_path):
    from pmq.plots import tornado
    spec = _write(tmp_path, young="uniform")          # every median is 0: central = the reference
    t = one_at_a_time(spec, baseline, horizon=11)
    assert set(t["parameter"]) == {"exit", "growth", "young", "mob"}
    dep = t[(t["output"] == "departures")].set_index("parameter")
    assert dep.loc["exit", "high"] < dep.loc["exit", "central"] < dep.loc["exit", "low"]
    central = pmq.project(baseline, "reference", horizon=11).horizons(years=[2030])
    assert dep.loc["exit", "central"] == pytest.approx(float(central["departures"].sel(period="2019–2030").sum()),
                                                       rel=1e-6)
    imb = t[t["output"] == "imbalance"].set_index("parameter")
    assert imb.loc["young", "high"] < imb.loc["young", "low"]      # more young entrants, less imbalance
    ax = tornado(t, "imbalance")
    bars = ax.patches
    assert len(bars) == 8
    top = max(bars, key=lambda r: r.get_y())
    top_label = max(ax.get_yticklabels(), key=lambda lab: lab.get_position()[1]).get_text()
    assert top_label == t[t["output"] == "imbalance"]["parameter"].iloc[0]
    assert abs(top.get_width()) > 0
    plt.close("all")


def test_one_at_a_time_puts_every_growth_domain_at_its_quantile(baseline, tmp_path):
    from scipy import special
    p = _write(tmp_path)
    ctx = prepare(p, baseline, horizon=2)
    spec = ctx.spec
    g = next(q for q in spec.parameters if q.kind == "growth")
    scale = np.sqrt(g.domain_correlation) + np.sqrt(1 - g.domain_correlation)
    Z = np.zeros((1, spec.n_latent(ctx.n_domains)))
    Z[0, spec.groups(ctx.n_domains)["growth"]] = special.ndtri(0.05) / scale
    v = spec.values(Z, ctx.n_domains, correlated=False)
    np.testing.assert_allclose(v["growth"][0], g.quantile(0.05))
    assert v["young"][0] == spec.parameters[2].quantile(0.5)       # the others at their median
    t = one_at_a_time(p, baseline, horizon=5)
    row = t[(t["parameter"] == "growth") & (t["output"] == "openings")].iloc[0]
    assert row["value_low"] == pytest.approx(g.quantile(0.05)) and row["low"] < row["central"] < row["high"]


@pytest.mark.background
def test_sobol_on_the_engine(spec_file, baseline):
    r = sobol(spec_file, baseline, n=32, horizon=6)
    dep = r[r["output"] == "departures"].set_index("parameter")
    assert dep["ST"].idxmax() == "exit" and dep.loc["exit", "ST"] > 0.5
    # mobility scales a zero-sum flow: on national openings it acts only through the age of movers
    op = r[r["output"] == "openings"].set_index("parameter")
    assert abs(op.loc["mob", "ST"]) < 1e-3 and op.loc["growth", "ST"] > 0.1
    assert r.attrs["runs"] == 32 * 6


# ---------------------------------------------------------------------------------------- CLI
def test_cli_run_draws(spec_file, tmp_path, capsys):
    out = tmp_path / "ens"
    assert main(["run", str(spec_file), "--draws", "12", "--chunk", "5", "--horizon", "11", "--seed", "3",
                 "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "12 tirages, graine 3" in captured.out and "3/3 paquets de tirages" in captured.err
    import xarray as xr
    ds = xr.open_zarr(out / "ensemble.zarr")
    ref = run_ensemble(spec_file, draws=12, chunk=12, horizon=11, seed=3)
    np.testing.assert_array_equal(ds["departures"].values, ref.flows["departures"].values)
    q = pd.read_csv(out / "quantiles_national.csv")
    assert set(q["quantile"]) == {0.05, 0.25, 0.5, 0.75, 0.95}
    assert len(pd.read_csv(out / "parameters.csv")) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ens"]          # no temporary left


def test_docs_ensembles_python_example_runs(capsys):
    import re
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "docs" / "ensembles.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "docs/ensembles.md", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "40 tirages, graine 20260101" in out and "age_sortie" in out
    plt.close("all")


@pytest.mark.parametrize("axis", ["territory", "scenario"])
def test_engine_unchanged_on_dask_arrays(baseline, axis):
    da = pytest.importorskip("dask.array")
    from pmq.model.engine import simulate_dask
    inps = [scenario_inputs(baseline, _resolve(s, baseline, 11)) for s in ("reference", "bas_carbone_dares2023")]
    if axis == "territory":
        i = inps[0]
        args = (i["employment0"], i["hazard"], i["net_creation"], i["young_entrants"], i["net_mobility"])
        chunks = (4, -1, -1)
    else:  # two scenarios stacked along a leading axis, one per chunk
        args = (np.stack([i["employment0"] for i in inps]), np.stack([i["hazard"] for i in inps]),
                *(np.stack([i[k] for i in inps], axis=1) for k in ("net_creation", "young_entrants", "net_mobility")))
        chunks = (1, -1, -1, -1)
    prof = inps[0]["profiles"]
    ref = simulate(*args, prof, record="cells")
    darr = [da.from_array(args[0], chunks=chunks), args[1]] + [da.from_array(a) for a in args[2:]]
    out = simulate_dask(*darr, prof)
    assert out["employment"].numblocks[1] > 1
    for k, v in out.items():
        np.testing.assert_array_equal(v.compute(scheduler="threads"), ref[k], err_msg=k)
