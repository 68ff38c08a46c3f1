"""Ensembles streamed to a zarr store on dask (issue [performance] item 3): the national and territory sums kept
while the chunks are written are those the quantiles would read back from the store, to the bit; on a
dask.distributed worker (whose nanny fixes glibc's malloc thresholds) pmq's chunks run with the thresholds glibc
would have chosen and leave the worker's own behind them."""
import numpy as np
import pytest

from pmq.projection import ensemble
from pmq.projection.ensemble import STORED, run_ensemble


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
    libc, restore = ensemble._fixed_malloc()
    if "MALLOC_TRIM_THRESHOLD_" not in open("/proc/self/environ", "rb").read().decode("latin-1"):
        assert libc is None and restore == {}
    with ensemble._chunk_malloc():
        pass
    assert ensemble._malloc_state["active"] == 0


def _worker_malloc():
    from pmq.projection import ensemble as e
    libc, restore = e._fixed_malloc()
    return libc is not None, restore, e._malloc_state["active"]


def test_a_worker_runs_chunks_with_adaptive_malloc_and_gets_its_own_back(baseline, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        ens = run_ensemble("reference_incertain", baseline, draws=8, horizon=3, chunk=2, store=tmp_path / "e.zarr",
                           scheduler=client)
        (fixed, restore, active), = client.run(_worker_malloc).values()
    assert fixed and restore == {-1: 65536, -3: 128 * 1024} and active == 0   # the nanny's MALLOC_TRIM_THRESHOLD_
    same = run_ensemble("reference_incertain", baseline, draws=8, horizon=3, chunk=3)
    assert _bits(ens.flows.load()) == _bits(same.flows)
    ens.flows.close()
