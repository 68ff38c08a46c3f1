"""Issue 18, item 5: the uncertainty of the split — an ``[[uncertainty.parameter]]`` of kind ``key_shares``
draws the shares of the downscaling key around their values, with a spread that grows as cells get small.
What it must mean: every draw's children still add up to their parent's draw; a draw is the deterministic
run on the baseline split with that draw's shares; small cells move more than large ones; a baseline that
no key split is left alone (with a warning); and the file's mistakes are named."""
import textwrap

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pmq
from pmq.errors import InactiveLeverWarning, ScenarioError
from pmq.inputs.downscale import downscale
from pmq.projection.ensemble import check_uncertainty, latent_draws, prepare, run_latent, share_factors

SHARES = """
[scenario]
name = "parts"
extends = "reference"
[uncertainty]
seed = 11
[[uncertainty.parameter]]
id = "parts"
kind = "key_shares"
distribution = "normal"
sd = {sd}
{extra}
assumption = "test: spread of the key's shares"
"""
GROWTH = """
[[uncertainty.parameter]]
id = "growth"
kind = "growth"
distribution = "normal"
sd = 0.004
assumption = "test"
"""


def _scenario(tmp_path, sd=0.1, extra="", growth=False, name="parts.toml"):
    p = tmp_path / name
    p.write_text(SHARES.format(sd=sd, extra=extra) + (GROWTH if growth else ""), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def regions():
    return pmq.load_baseline()


@pytest.fixture(scope="module")
def departements(regions):
    return downscale(regions, "departement")


def _draws(ctx, seed, ids, shares=True):
    Z = latent_draws(seed, ids, ctx.spec.n_latent(ctx.n_domains))
    return run_latent(ctx, Z, dtype=np.float64, factors=share_factors(ctx, seed, ids) if shares else None)


def test_every_draw_adds_up_to_its_parent(tmp_path, regions, departements):
    path = _scenario(tmp_path, growth=True)
    dep = _draws(prepare(path, departements, horizon=6), 11, range(4))
    with pytest.warns(InactiveLeverWarning, match="key_shares"):
        reg_ctx = prepare(path, regions, horizon=6)          # the same draws of growth, shares left alone
    reg = _draws(reg_ctx, 11, range(4))
    parent = departements["parent"].values
    for k in ("employment", "net_creation", "departures", "young_entrants", "net_mobility"):
        for j, code in enumerate(regions.territory.values):
            kids = dep[k][:, :, parent == code].sum(axis=2)
            np.testing.assert_allclose(kids, reg[k][:, :, j], rtol=1e-12, atol=1e-9, err_msg=f"{k} {code}")
    # and the shares did move: a child's share differs between draws
    e = dep["employment"][:, 0]
    assert np.nanstd(e[:, parent == "93"], axis=0).max() > 1.0


def test_a_draw_is_the_run_on_the_baseline_split_with_its_shares(tmp_path, regions, departements):
    path = _scenario(tmp_path, sd=0.2)
    ctx = prepare(path, departements, horizon=5)
    draw = _draws(ctx, 11, [3])
    f = share_factors(ctx, 11, [3])[0]
    w = departements["key_weight"].values
    key = pd.DataFrame([(str(departements["parent"].values[i]), str(c), str(m), float(w[i, j] * f[i, j]))
                        for i, c in enumerate(departements.territory.values)
                        for j, m in enumerate(departements.metier.values)],
                       columns=["parent", "child", "metier", "weight"])
    resplit = downscale(regions, key, level="departement")
    acc = pmq.project(resplit, "reference", horizon=5).accounts
    for k in ("employment", "departures", "young_entrants", "net_mobility"):
        det = acc[k].sum("age").transpose("year", "territory", "metier").values
        det = det[:-1] if k != "employment" else det
        got = draw[k][0][:det.shape[0]]
        np.testing.assert_allclose(got, det, rtol=1e-9, atol=1e-7, err_msg=k)


def test_small_cells_move_more_than_large_ones(tmp_path, departements):
    ctx = prepare(_scenario(tmp_path, sd=0.05), departements, horizon=2)
    w, sigma, _ = ctx.shares
    jobs = departements["employment"].sum("age").values
    ok = (w > 0) & (w < 1)                                   # split cells (a single child never moves)
    small, large = ok & (jobs < 1_000), ok & (jobs > 50_000)
    assert small.any() and large.any()
    assert sigma[small].min() > sigma[large].max()
    np.testing.assert_allclose(sigma[ok & (jobs > 0)], np.minimum(0.05 * np.sqrt(1e4 / jobs[ok & (jobs > 0)]), 1.0))
    logf = np.log(share_factors(ctx, 5, range(60)))
    assert logf[:, small].std(axis=0).mean() > 3 * logf[:, large].std(axis=0).mean()
    single = departements["key_basis"].values == "single_child"
    assert (share_factors(ctx, 5, range(3))[:, single] == 1.0).all()


def test_same_seed_same_shares_whatever_the_chunk(tmp_path, departements):
    ctx = prepare(_scenario(tmp_path), departements, horizon=2)
    np.testing.assert_array_equal(share_factors(ctx, 9, range(2, 5)), share_factors(ctx, 9, range(6))[2:5])
    assert not np.array_equal(share_factors(ctx, 9, [0]), share_factors(ctx, 10, [0]))


@pytest.mark.parametrize("extra,key,value", [
    ('mean = 0.1', "uncertainty.parameter[parts].mean", "0.1"),
    ('max_sd = 5', "uncertainty.parameter[parts].max_sd", "5"),
])
def test_mistakes_are_named(tmp_path, extra, key, value):
    with pytest.raises(ScenarioError) as exc:
        check_uncertainty(pmq.read_scenario(_scenario(tmp_path, extra=extra)))
    assert key in str(exc.value) and value in str(exc.value)


def test_key_shares_is_normal_only_and_never_correlated(tmp_path):
    p = tmp_path / "u.toml"
    p.write_text(SHARES.format(sd=0.1, extra="").replace('distribution = "normal"', 'distribution = "uniform"')
                 .replace("sd = 0.1", "low = -0.1\nhigh = 0.1"), encoding="utf-8")
    with pytest.raises(ScenarioError, match="distribution"):
        pmq.read_scenario(p)
    c = _scenario(tmp_path, growth=True, name="c.toml")
    c.write_text(c.read_text(encoding="utf-8") + textwrap.dedent("""
        [[uncertainty.correlation]]
        id = "c"
        between = ["parts", "growth"]
        rho = 0.3
        assumption = "test"
        """), encoding="utf-8")
    with pytest.raises(ScenarioError, match="indépendants") as exc:
        check_uncertainty(pmq.read_scenario(c))
    assert "uncertainty.correlation[c].between" in str(exc.value)
    g = tmp_path / "g.toml"
    g.write_text(GROWTH.replace("[[uncertainty.parameter]]", '[scenario]\nextends = "reference"\n'
                                "[[uncertainty.parameter]]") + "max_sd = 0.5\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="qu'à kind = \"key_shares\""):
        pmq.read_scenario(g)


def test_the_ensemble_says_how_the_shares_were_drawn(tmp_path, departements):
    from pmq.projection.ensemble import run_ensemble
    ens = run_ensemble(_scenario(tmp_path), departements, draws=3, horizon=3)
    assert "log-normal" in ens.flows.attrs["key_shares"] and "renormalised" in ens.flows.attrs["key_shares"]
    assert isinstance(ens.flows, xr.Dataset) and ens.parameters.shape[1] == 0   # no latent column of its own
