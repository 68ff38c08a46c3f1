"""What makes `pmq report` faster (second round) does not change what it shows: the small multiples' windows cut from
one Dataset of the shared age sums are the same numbers, a territory's name is found from the territories' own
coordinates, the heatmap's cells drawn as a mesh look as the image of them did and its numbers do not move the
layout, the figures longest to save are drawn first while the page and the files keep their order, and the objects
made before a report are left out of the collector's passes only while it is built."""
import gc
import io

import matplotlib
import numpy as np
import pytest
import xarray as xr
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pmq import plots  # noqa: E402
from pmq.errors import UnknownNameError  # noqa: E402
from pmq.export import report  # noqa: E402
from pmq.export.figures import figure_bytes, frozen_heap  # noqa: E402
from pmq.plots.style import DIVERGING_CMAP  # noqa: E402
from pmq.projection import indicators  # noqa: E402
from pmq.projection.indicators import one_scenario, select, shared_age_sums, territory_name, window_of  # noqa: E402


def test_every_panel_of_the_small_multiples_has_the_numbers_of_its_own_window(reference_2030):
    acc = one_scenario(reference_2030.accounts)
    codes = [str(c) for c in acc.territory.values]
    plain = {c: window_of(acc, c, end_year=2030) for c in codes}
    with shared_age_sums():
        shared = {c: window_of(acc, c, end_year=2030) for c in codes}
        ds = indicators._summed_dataset(acc)
        assert indicators._summed_dataset(acc) is ds                  # made once for every panel
    for c in codes:
        xr.testing.assert_identical(shared[c], plain[c])
        for k in plain[c].data_vars:
            assert shared[c][k].values.tobytes() == plain[c][k].values.tobytes(), (c, k)


def test_a_window_is_the_sum_of_its_flows_over_its_years(reference_2030):
    acc = one_scenario(reference_2030.accounts)
    w = indicators.window_sums(acc, 2020, 2025, 2021)
    summed = acc.sum("age")
    assert list(w.data_vars)[:3] == ["employment_start", "employment_end", "employment_base"]
    np.testing.assert_allclose(w.departures.values, summed.departures.sel(year=slice(2020, 2024)).sum("year").values)
    np.testing.assert_allclose(w.employment_base.values, summed.employment.sel(year=2021).values)
    assert w.attrs["period"] == "2020–2025" and w.attrs["n_years"] == 5 and w.attrs["denominator_year"] == 2021


@pytest.mark.parametrize("territory", ["28", "Normandie", "PACA", ["Bretagne", "Corse"]])
def test_a_territorys_name_is_the_one_a_selection_of_the_accounts_gives(reference_2030, territory):
    acc = reference_2030.accounts
    sel = select(acc, territory=territory)
    assert territory_name(acc, territory) == ", ".join(map(str, sel.territory_name.values))


def _heatmap(data):
    ax = plots.imbalance_heatmap(data, end_year=2030)
    return ax.figure, ax


def test_the_heatmaps_cells_are_a_mesh_of_the_values(reference_2030):
    fig, ax = _heatmap(reference_2030)
    df = plots.heatmap_values(reference_2030, end_year=2030)
    assert not ax.images and len(ax.collections) == 1
    cells = ax.collections[0].get_array()
    assert cells.shape == df.shape
    np.testing.assert_allclose(np.ma.filled(cells, np.nan), df.values * 100)
    assert ax.get_xlim() == (-0.5, df.shape[1] - 0.5) and ax.get_ylim() == (df.shape[0] - 0.5, -0.5)  # first row on top
    plt.close(fig)


def test_an_undefined_cell_is_left_blank(reference_2030):
    acc = reference_2030.accounts.copy()
    acc["employment"] = acc.employment.where(~((acc.territory == "28") & (acc.domain == "A")), 0.0)
    fig, ax = _heatmap(acc)
    cells = ax.collections[0].get_array()
    df = plots.heatmap_values(acc, end_year=2030)
    i, j = list(df.index).index("A"), list(df.columns).index("28")
    assert np.isnan(df.values[i, j]) and np.ma.getmaskarray(cells)[i, j]
    plt.close(fig)


def _pixels(fig, dpi=60):
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi)
    return np.asarray(Image.open(io.BytesIO(out.getvalue())).convert("RGBA")).astype(int)


def test_the_mesh_looks_as_the_image_of_the_cells_did(reference_2030):
    fig, ax = _heatmap(reference_2030)
    fig.set_layout_engine("none")
    mesh = _pixels(fig)
    quad = ax.collections[0]
    cells = quad.get_array()
    quad.remove()
    ax.imshow(cells, cmap=DIVERGING_CMAP, norm=quad.norm, aspect="auto", interpolation="nearest", zorder=quad.zorder)
    image = _pixels(fig)
    plt.close(fig)
    assert mesh.shape == image.shape
    diff = np.abs(mesh - image).max(axis=-1)
    assert (diff > 1).mean() < 0.002                # the same colours (±1 of 255), a cell's edge a pixel off at most


def test_the_heatmaps_numbers_do_not_move_its_layout(reference_2030):
    fig, ax = _heatmap(reference_2030)
    assert ax.texts and not any(t.get_in_layout() for t in ax.texts)
    png, svg = figure_bytes(fig)
    plt.close(fig)
    fig, ax = _heatmap(reference_2030)
    for t in ax.texts:
        t.set_in_layout(True)
    assert figure_bytes(fig) == (png, svg)
    plt.close(fig)
    fig, own = plt.subplots(figsize=(4, 3))         # the caller's axes, sized by the caller: the numbers measured
    plots.imbalance_heatmap(reference_2030, end_year=2030, ax=own)
    assert all(t.get_in_layout() for t in own.texts)
    plt.close(fig)


@pytest.mark.background       # builds a report: on the other core
def test_figures_longest_to_save_are_drawn_first_and_the_page_keeps_its_order(tmp_path):
    steps = []
    rep = report.build_report(["reference"], territory="Bretagne", horizons=[2], out=tmp_path / "r", lang="en",
                              progress=lambda step, i: steps.append(step))
    caption = {stem: en for stem, _, en in report.FIGURES}
    drawn = [s.removeprefix("figure: ") for s in steps if s.startswith("figure: ")]
    longest = report.SAVE_ORDER[:2]                  # the small multiples and the heatmap: begun first
    assert drawn[:2] == [caption[s] for s in longest]
    order = [stem for stem, _, _ in report.FIGURES]
    stems = [p.stem.split("_", 1)[1] for p in rep.figures if p.suffix == ".png" and p.stem.split("_", 1)[1] in order]
    assert stems == sorted(stems, key=order.index) and set(longest) <= set(stems)
    page = rep.html.read_text(encoding="utf-8")
    assert page.index(caption["waterfall"]) < page.index(caption["imbalance_heatmap"]) < \
        page.index(caption["regions_small_multiples"])


def test_the_heap_is_frozen_only_within_the_block():
    if not gc.isenabled():
        pytest.skip("the collector is off")
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        made = [[] for _ in range(10)]
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1                       # what the block made is still collected
        with frozen_heap():                            # already frozen (a caller's own): left as it is
            n = gc.get_freeze_count()
        assert gc.get_freeze_count() == n
    assert gc.get_freeze_count() == 0 and made


def test_the_heatmap_outlines_the_territory_it_is_asked_to_highlight(reference_2030):
    ax = plots.imbalance_heatmap(reference_2030, end_year=2030, highlight="Bretagne")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    j = labels.index("BRE")
    frames = [p for p in ax.patches if p.get_gid() == "highlight"]
    assert len(frames) == 1 and frames[0].get_xy() == (j - 0.5, -0.5) and frames[0].get_width() == 1.0
    assert frames[0].get_height() == len(ax.get_yticks()) and not frames[0].get_fill()
    assert [t.get_fontweight() for t in ax.get_xticklabels()] == ["bold" if i == j else "normal"
                                                                  for i in range(len(labels))]
    plt.close(ax.figure)
    ax = plots.imbalance_heatmap(reference_2030, end_year=2030, territories=["11", "24"], highlight="53")
    assert not [p for p in ax.patches if p.get_gid() == "highlight"]        # not among the columns: nothing
    plt.close(ax.figure)
    with pytest.raises(UnknownNameError, match="Bretagen"):
        plots.imbalance_heatmap(reference_2030, end_year=2030, highlight="Bretagen")
    plt.close("all")
