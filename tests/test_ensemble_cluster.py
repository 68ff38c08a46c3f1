"""Ensembles streamed to a zarr store on dask (issue [performance] item 3): the national and territory sums kept
while the chunks are written are those the quantiles would read back from the store, to the bit; on a
dask.distributed worker (whose nanny fixes glibc's malloc thresholds) pmq's chunks run with the thresholds glibc
would have chosen and leave the worker's own behind them; a worker computes its chunks without importing pandas,
xarray or the rest of pmq (pmq.model.ensemble_draws)."""
import dataclasses
import pickle
import subprocess
import sys

import numpy as np
import pytest

from pmq.inputs.downscale import downscale
from pmq.model import ensemble_draws
from pmq.projection import ensemble
from pmq.projection.ensemble import STORED, prepare, run_ensemble
from test_split_uncertainty import SHARES


def _bits(ds):
    return {k: ds[k].values.tobytes() for k in sorted(ds.data_vars)}


@pytest.mark.parametrize("chunk", [3, 7, 50])
def test_sums_kept_while_writing_are_those_read_from_the_store(baseline, tmp_path, chunk):
    ens = run_ensemble("reference_incertain", baseline, draws=23, horizon=4, chunk=chunk, store=tmp_path / "e.zarr",
                       scheduler="sync")
    kept = {k: ens._sums[k] for k in ("national", "territory")}
    assert ens._sums["flows"] is ens.flows
    ens._sums.clear()                                   # read the store again, as before pmq kept the sums
    for name, sums in kept.items():
        read = ens._summed(name)
        assert read.identical(sums), name
        assert _bits(read) == _bits(sums), name
        assert sums["employment"].dtype == np.float64 and not np.isnan(sums["departures"].values[:, :-1]).any()
    ens.flows.close()


def test_the_quantiles_of_a_store_do_not_read_it_again(baseline, tmp_path, monkeypatch):
    ens = run_ensemble("reference_incertain", baseline, draws=6, horizon=3, chunk=4, store=tmp_path / "e.zarr",
                       scheduler="sync")
    monkeypatch.setattr(ens, "_plain_flows", lambda: pytest.fail("the store was read again"))
    q = ens.quantiles(by="territory")
    assert set(STORED) - {"employment"} <= set(q.data_vars) and q.sizes["territory"] == baseline.sizes["territory"]
    ens.flows.close()


def test_malloc_is_left_alone_in_a_plain_process():
    libc, restore = ensemble_draws._fixed_malloc()
    if "MALLOC_TRIM_THRESHOLD_" not in open("/proc/self/environ", "rb").read().decode("latin-1"):
        assert libc is None and restore == {}
    with ensemble_draws._chunk_malloc():
        pass
    assert ensemble_draws._malloc_state["active"] == 0


#: Which of the heavy modules a process has imported; defined in a module of its own name so that cloudpickle sends
#: it by value (a function of this test file would make the worker import the file, and pmq.projection with it).
_PROBE: dict = {}
exec("def heavy_modules():\n    import sys\n"
     "    return sorted(m for m in ('pandas', 'xarray', 'pmq.projection', 'scipy') if m in sys.modules)\n",
     {"__name__": "pmq_worker_probe"}, _PROBE)


def test_the_workers_module_imports_numpy_and_the_engine_only():
    code = ("import sys, pmq.model.ensemble_draws; "
            "print(sorted(m for m in ('pandas', 'xarray', 'dask', 'scipy', 'pmq.projection') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    for name in ("Context", "Parameter", "Uncertainty", "run_latent", "run_chunk", "run_chunk_summed"):
        assert getattr(ensemble_draws, name).__module__ == "pmq.model.ensemble_draws"
    assert ensemble._chunk is ensemble_draws.run_chunk and ensemble.Context is ensemble_draws.Context


def test_what_a_worker_unpickles_names_no_heavy_module(baseline):
    ctx = prepare("reference_incertain", baseline, 3)
    sent = pickle.dumps((dataclasses.replace(ctx, flags=None), ensemble_draws.run_chunk_summed), protocol=5)
    for heavy in (b"pandas", b"xarray", b"pmq.projection", b"dask"):
        assert heavy not in sent, heavy


def _worker_malloc():
    from pmq.model import ensemble_draws as e
    libc, restore = e._fixed_malloc()
    return libc is not None, restore, e._malloc_state["active"]


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def test_a_worker_runs_chunks_with_adaptive_malloc_and_gets_its_own_back(baseline, tmp_path, client):
    ens = run_ensemble("reference_incertain", baseline, draws=8, horizon=3, chunk=2, store=tmp_path / "e.zarr",
                       scheduler=client)
    heavy = client.run(_PROBE["heavy_modules"])         # before _worker_malloc imports this file on the worker
    (fixed, restore, active), = client.run(_worker_malloc).values()
    assert list(heavy.values()) == [[]]
    assert fixed and restore == {-1: 65536, -3: 128 * 1024} and active == 0   # the nanny's MALLOC_TRIM_THRESHOLD_
    same = run_ensemble("reference_incertain", baseline, draws=8, horizon=3, chunk=3)
    assert _bits(ens.flows.load()) == _bits(same.flows)
    ens.flows.close()


#: the key-shares scenario of test_split_uncertainty with a growth parameter beside it
SPLIT = SHARES.format(sd=0.1, extra="") + """[[uncertainty.parameter]]
id = "growth"
kind = "growth"
distribution = "normal"
sd = 0.004
assumption = "test"
"""


def test_a_split_baseline_on_a_cluster_gives_the_draws_and_flags_of_one_process(baseline, tmp_path, client):
    split = downscale(baseline, "departement")
    (tmp_path / "parts.toml").write_text(SPLIT, encoding="utf-8")
    sc = tmp_path / "parts.toml"
    ens = run_ensemble(sc, split, draws=6, horizon=3, chunk=4, store=tmp_path / "e.zarr", scheduler=client)
    same = run_ensemble(sc, split, draws=6, horizon=3, chunk=6)
    assert _bits(ens.flows.load()) == _bits(same.flows)
    assert ens.quantiles(by="territory").identical(same.quantiles(by="territory"))   # the cells' flags included
    assert "reliability" in ens.quantiles(by="territory").coords
    ens.flows.close()
