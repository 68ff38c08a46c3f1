"""The fast paths of issue 17 keep their meaning (cheap: synthetic data, no projection).

* an ensemble's draws are read once for all its windows and quantiles, which equal the
  computation that re-read them for every window, and a direct numpy computation;
* a report figure is laid out once for its PNG and SVG, the PNG unchanged;
* trend fits are cached on their inputs, and the fits run with BLAS on one thread.
"""
from __future__ import annotations

import io
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

from pmq.projection.ensemble import QUANTILES, Ensemble

YEARS = np.arange(2019, 2031)
FLOWS = ("net_creation", "departures", "young_entrants", "net_mobility")


def _flows(n_draws=12, seed=3) -> xr.Dataset:
    """Draws shaped as run_ensemble's: float32, flows NaN in the final year, labels on the coords."""
    rng = np.random.default_rng(seed)
    shape = (n_draws, YEARS.size, 3, 4)
    data = {"employment": (1e4 * rng.random(shape)).astype(np.float32)}
    for k in FLOWS:
        a = (100 * rng.standard_normal(shape)).astype(np.float32)
        a[:, -1] = np.nan
        data[k] = a
    dims = ("draw", "year", "territory", "metier")
    return xr.Dataset({k: (dims, v) for k, v in data.items()},
                      coords={"draw": np.arange(n_draws), "year": YEARS, "territory": ["11", "24", "53"],
                              "metier": ["A0Z", "B1Z", "C2Z", "D3Z"], "territory_name": ("territory", ["a", "b", "c"])})


def _ensemble(flows: xr.Dataset) -> Ensemble:
    ctx = SimpleNamespace(spec=SimpleNamespace(source="synthetic"), flags=None, attrs={})
    return Ensemble(flows=flows, parameters=pd.DataFrame(), context=ctx, seed=0)   # type: ignore[arg-type]


def _window_rereading(flows: xr.Dataset, start: int, end: int, by: str) -> xr.Dataset:
    """Ensemble.window as it was before the cache: the whole of ``flows`` read for each window."""
    dims = {"national": ["territory", "metier"], "territory": ["metier"], "cell": []}[by]
    f = flows.drop_vars([c for c in flows.coords if c not in ("draw", "year", "territory", "metier")])
    sub = f.astype(np.float64)
    if dims:
        sub = sub.sum(dims)
    w = xr.Dataset({k: sub[k].sel(year=slice(start, end - 1)).sum("year") for k in FLOWS})
    w["employment_start"] = sub["employment"].sel(year=start, drop=True)
    w["employment_end"] = sub["employment"].sel(year=end, drop=True)
    w["openings"] = w["net_creation"] + w["departures"]
    w["imbalance"] = w["openings"] - w["young_entrants"] - w["net_mobility"]
    w.attrs.update(start_year=start, end_year=end, period=f"{start}–{end}")
    return w.compute()


class _CountingArray:
    """A numpy array behind dask that counts the reads of its blocks (a zarr store's role)."""

    def __init__(self, a, reads):
        self.a, self.reads = a, reads
        self.shape, self.dtype, self.ndim = a.shape, a.dtype, a.ndim

    def __getitem__(self, key):
        self.reads.append(key)
        return self.a[key]


@pytest.mark.parametrize("lazy", [False, True], ids=["in-memory", "dask-backed"])
def test_ensemble_windows_and_quantiles_equal_the_rereading_computation(lazy, monkeypatch):
    flows = _flows()
    if lazy:
        pytest.importorskip("dask")
        flows = flows.chunk({"draw": 5})
    # in memory, several slabs of draws (bounded temporaries) give the same sums bit for bit
    monkeypatch.setattr("pmq.projection.ensemble._SLAB_BYTES", 8 * 5 * YEARS.size * 12 * 3)
    ens = _ensemble(flows)
    for by in ("national", "territory") + (() if lazy else ("cell",)):
        xr.testing.assert_identical(ens.window(2021, 2030, by).compute(), _window_rereading(flows, 2021, 2030, by))
        q = ens.quantiles([2024, 2030], by=by)
        for e in (2024, 2030):
            old = _window_rereading(flows, 2019, e, by).quantile(list(QUANTILES), dim="draw")
            xr.testing.assert_identical(q.sel(period=f"2019–{e}", drop=True).drop_attrs(), old.drop_attrs())


def test_ensemble_quantiles_equal_a_direct_numpy_computation():
    flows = _flows(n_draws=20)
    q = _ensemble(flows).quantiles([2025], by="national").sel(period="2019–2025")
    x = {k: flows[k].values.astype(np.float64) for k in ("employment", *FLOWS)}
    summed = {k: np.nansum(v[:, :6], axis=(1, 2, 3)) for k, v in x.items() if k != "employment"}
    openings = summed["net_creation"] + summed["departures"]
    expected = {"openings": openings, "departures": summed["departures"],
                "imbalance": openings - summed["young_entrants"] - summed["net_mobility"],
                "employment_end": x["employment"][:, 6].sum(axis=(1, 2))}
    for k, v in expected.items():
        np.testing.assert_allclose(q[k].values, np.quantile(v, QUANTILES), rtol=1e-12)


def test_ensemble_store_is_read_once_for_every_window_and_quantile():
    da = pytest.importorskip("dask.array")
    base = _flows()
    reads: list = []
    flows = base.copy()
    for k in base.data_vars:
        flows[k] = (base[k].dims, da.from_array(_CountingArray(base[k].values, reads), chunks=(4, -1, -1, -1)))
    ens = _ensemble(flows)
    reads.clear()                              # dask's look at the arrays' type when they were wrapped
    ens.quantiles()
    first = len(reads)
    assert first == 5 * 3                      # 5 variables × 3 chunks of draws: each read once
    ens.quantiles(by="territory")
    ens.summary()
    ens.window(2020, 2025)
    ens.window(2021, 2030, by="territory")
    assert len(reads) == first                 # sliced from what was read
    ens.flows = flows.isel(draw=slice(0, 8))   # new draws: read again
    ens.quantiles()
    assert len(reads) > first


# ------------------------------------------------------------------------------------ report
def test_report_figure_is_laid_out_once_and_its_png_unchanged(monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from pmq.export.figures import figure_bytes
    from pmq.plots.style import bottom_note, new_axes

    drawn = []

    def chart():
        drawn.append(1)
        fig, ax, _ = new_axes(figsize=(3.0, 2.0))
        ax.bar(["Bretagne", "Normandie", "Corse"], [1.5, -2.0, 0.7])
        ax.set_title("Postes à pourvoir")
        ax.set_ylabel("milliers")
        bottom_note(fig, "Source : pmq.")
        return ax

    fig = chart().figure
    before = io.BytesIO()
    fig.savefig(before, format="png", dpi=300)           # what the report wrote before
    plt.close(fig)

    layouts = []
    execute = ConstrainedLayoutEngine.execute
    monkeypatch.setattr(ConstrainedLayoutEngine, "execute", lambda self, f: (layouts.append(1), execute(self, f))[1])
    fig = chart().figure
    png, svg = figure_bytes(fig)
    plt.close(fig)
    assert len(drawn) == 2 and len(layouts) == 1          # one drawing, one layout for both files
    # the PNG is the same picture: its pixels, size and resolution (pmq writes the file itself: other bytes)
    old, new = Image.open(io.BytesIO(before.getvalue())), Image.open(io.BytesIO(png))
    assert new.size == old.size and new.mode == old.mode == "RGBA"
    assert np.array_equal(np.asarray(new), np.asarray(old))
    assert new.info["dpi"] == pytest.approx(old.info["dpi"], abs=0.01) and round(new.info["dpi"][0]) == 300
    assert b"<svg" in svg[:2000] and b"Postes \xc3\xa0 pourvoir" in svg   # text stays text (svg.fonttype none)


# ------------------------------------------------------------------------------------ trends
def test_trend_fits_are_cached_on_their_inputs(monkeypatch):
    from pmq.estimation import trends

    monkeypatch.setattr(trends, "_FIT_CACHE", {})
    calls = []
    fit = trends.fit_trend
    monkeypatch.setattr(trends, "fit_trend", lambda *a, **k: (calls.append(a[1]), fit(*a, **k))[1])
    codes = ["A0Z", "T2A", "W0Z"]
    first = trends.metier_trend_index(codes, "loglinear", 2019, 5)
    n = len(calls)
    assert n > 0 and set(calls) == {"loglinear"}
    again = trends.metier_trend_index(codes, "loglinear", 2019, 5)
    assert len(calls) == n                                    # no refit
    np.testing.assert_array_equal(first, again)
    s = trends.employment_series("T2A").iloc[-15:]
    trends._fit_cached(s, "loglinear", name="T2A")            # the same inputs: cached
    assert len(calls) == n
    trends._fit_cached(s * 1.01, "loglinear", name="T2A")     # other values: fitted
    trends._fit_cached(s, "damped", name="T2A")               # another model: fitted
    assert calls[n:] == ["loglinear", "damped"]


def test_fits_run_with_one_blas_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from pmq.estimation.trends import one_blas_thread

    def blas_threads():
        return {i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"}

    with threadpoolctl.threadpool_limits(2, user_api="blas"):    # conftest runs the suite on one thread
        outside = blas_threads()
        with one_blas_thread():
            assert blas_threads() == {1}
            with one_blas_thread():             # re-entrant
                assert blas_threads() == {1}
            assert blas_threads() == {1}
        assert blas_threads() == outside


def test_accounts_are_compressed_only_when_large(tmp_path, monkeypatch):
    """to_netcdf: a régional run as it is (fast), large accounts (départements, zones) with zlib; the same
    numbers either way."""
    import pmq
    from pmq.projection import indicators
    acc = pmq.project(pmq.load_baseline(), "reference", horizon=3).accounts
    indicators.to_netcdf(acc, tmp_path / "plain.nc")
    monkeypatch.setattr(indicators, "COMPRESS_ABOVE", acc.nbytes - 1)
    indicators.to_netcdf(acc, tmp_path / "zlib.nc")
    with xr.open_dataset(tmp_path / "plain.nc", engine="h5netcdf") as plain, \
            xr.open_dataset(tmp_path / "zlib.nc", engine="h5netcdf") as packed:
        assert not plain["employment"].encoding.get("zlib") and packed["employment"].encoding.get("zlib")
        for k in acc.data_vars:
            np.testing.assert_array_equal(plain[k].values, acc[k].values, err_msg=k)
            np.testing.assert_array_equal(packed[k].values, acc[k].values, err_msg=k)
    assert (tmp_path / "zlib.nc").stat().st_size < 0.8 * (tmp_path / "plain.nc").stat().st_size


# ------------------------------------------------------------------------------------ imports
_LAZY_IMPORTS = r"""
import sys
import pmq
from pmq.projection import ensemble  # noqa: F401  (the report imports it; it must not cost scipy.stats)
import tempfile, os
b = pmq.load_baseline()
p = pmq.project(b, "reference", horizon=2)
str(p.summary()); p.summary_table()
p.to_netcdf(os.path.join(tempfile.mkdtemp(), "a.nc"))
print(sorted(m for m in ("dask", "dask.array", "scipy.stats") if m in sys.modules))
import dask.array as da
import xarray as xr
from xarray.namedarray.pycompat import array_type
x = xr.DataArray(da.ones((4, 3), chunks=2), dims=("a", "b"))
print(x.chunks is not None, da.Array in array_type("dask"), type(x.data).__name__, float(x.sum().compute()))
"""


def test_a_run_imports_neither_dask_array_nor_scipy_stats_and_dask_still_works_after():
    pytest.importorskip("dask.array")
    import xarray.namedarray.pycompat as pycompat
    if not hasattr(pycompat, "_cached_duck_array_modules"):
        pytest.skip("this xarray keeps no cache of duck-array modules: pmq leaves it as it is")
    out = subprocess.run([sys.executable, "-c", _LAZY_IMPORTS], capture_output=True, text=True, check=True)
    first, second = out.stdout.strip().splitlines()
    assert first == "[]"                                   # none imported by a run, its summary and its file
    assert second == "True True Array 12.0"                # dask arrays are dask arrays once dask.array is imported


_ENSEMBLE_IMPORTS = r"""
import sys, tempfile, os
from pmq.cli import main
code = main(["run", "reference_incertain", "--draws", "6", "--chunk", "3", "--horizon", "3",
             "--out", os.path.join(tempfile.mkdtemp(), "ens")])
print(code, "dask.array" in sys.modules, "distributed" in sys.modules)
"""


def test_an_ensemble_on_local_threads_does_not_import_dask_distributed():
    """dask.compute given a scheduler's name imports dask.distributed (≈ 0.3 s) only to look for a cluster:
    pmq run --draws on dask's threads (the default) gives dask the function and never pays for it."""
    pytest.importorskip("distributed")
    pytest.importorskip("zarr")
    out = subprocess.run([sys.executable, "-c", _ENSEMBLE_IMPORTS], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 True False"      # streamed on dask, distributed untouched


def test_triangular_quantiles_are_scipys():
    from scipy import stats

    from pmq.projection.ensemble import triangular_ppf
    u = np.r_[0.0, 1.0, np.random.default_rng(3).random(2000)]
    for c in (0.0, 0.25, 1.0):
        np.testing.assert_array_equal(triangular_ppf(u, c, -1.5, 3.0), stats.triang.ppf(u, c, loc=-1.5, scale=4.5))


@pytest.mark.parametrize("order", [("year", "territory", "metier", "age"), ("age", "metier", "year", "territory")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_age_sum_is_xarrays_skipna_sum_bit_for_bit(order, dtype):
    """The one-pass sum over age (pmq.projection.indicators._age_sum) gives xarray's ``sum("age")`` — the
    same values to the last bit, dims, coords (labels on ``metier`` kept, those on ``age`` dropped), attrs —
    whatever the NaN pattern: whole final-year slices, single cells, a cell all NaN (→ 0, as skipna)."""
    from pmq.projection.indicators import _age_sum

    rng = np.random.default_rng(7)
    a = (1e3 * rng.standard_normal((5, 3, 4, 6))).astype(dtype)
    a[-1] = np.nan                      # the flows' final year
    a[1, 2, 0, 3] = np.nan              # one cell
    a[2, 0, 1, :] = np.nan              # a whole age vector
    da = xr.DataArray(a, dims=("year", "territory", "metier", "age"), name="departures",
                      coords={"year": np.arange(2019, 2024), "territory": ["11", "24", "53"],
                              "metier": ["A0Z", "B1Z", "C2Z", "D3Z"], "age": np.arange(6),
                              "metier_label": ("metier", ["a", "b", "c", "d"]), "age_band": ("age", list("uvwxyz"))},
                      attrs={"units": "persons"}).transpose(*order)
    got, want = _age_sum(da), da.sum("age")
    xr.testing.assert_identical(got, want)
    assert got.values.tobytes() == want.values.tobytes()
    assert float(got.sel(year=2021, territory="11", metier="B1Z")) == 0.0
    assert np.isnan(got.sel(year=2023)).sum() == 0            # skipna: an all-NaN year sums to 0


@pytest.mark.parametrize("sep", [",", ";"])
@pytest.mark.parametrize("float_format", ["%.3f", None, "%.2e"])
def test_write_frame_csv_is_to_csv_then_finish_csv(tmp_path, sep, float_format):
    """The one-pass CSV writer of summary.csv writes the very text pandas' to_csv followed by finish_csv
    writes (BOM, formula-neutralised text, the separator and decimal mark), whatever the column types and
    the awkward values — and finish_csv then leaves it as it is."""
    from pmq.outputs import csv_dialect_of, finish_csv, write_frame_csv

    rng = np.random.default_rng(1)
    n = 40
    df = pd.DataFrame({
        "period": ["2019–2024"] * n, "end_year": np.full(n, 2024), "label": [f"métier {i}" for i in range(n)],
        "x": 1e4 * rng.standard_normal(n), "tiny": 1e-7 * rng.random(n), "flag": rng.random(n) > 0.5,
        "count": pd.array(list(range(n - 1)) + [None], dtype="Int64"),
        "rate": [f"{v:.6f}" for v in rng.random(n)]})
    df.loc[1, "label"] = "=HYPERLINK(\"http://x\")"
    df.loc[2, "label"] = "a,-b\rc;@d"
    df.loc[3, "label"] = None
    df.loc[4, "label"] = "-12.5"
    df.loc[5, "label"] = "#N/A"
    df.loc[6, "x"] = np.nan
    df.loc[7, "x"] = np.inf
    df.loc[8, "label"] = 'guillemets " et ; virgule,'
    dialect = csv_dialect_of(sep)
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    df.to_csv(old, index=False, float_format=float_format)
    finish_csv(old, dialect)
    write_frame_csv(df, new, float_format=float_format, dialect=dialect)
    assert new.read_bytes() == old.read_bytes()
    assert "'=HYPERLINK" in new.read_text(encoding="utf-8-sig")
    finish_csv(new, dialect)                       # registered as finished: left as it is
    assert new.read_bytes() == old.read_bytes()
    new.write_text("a,b\n=1,2\n", encoding="utf-8")     # changed since: finished again
    finish_csv(new, dialect)
    assert "'=1" in new.read_text(encoding="utf-8-sig")
