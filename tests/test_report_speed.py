"""What makes `pmq report` faster does not change what it writes: the PNG written without Pillow's filter search has
the pixels, size, colour type and resolution of matplotlib's own; the figure laid out once keeps the positions of a
plain save, and each file is one draw of it; the titles fixed at the top of their axes are where matplotlib's search
would leave them."""
import io
import tempfile

import matplotlib
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pmq.export import figures  # noqa: E402
from pmq import plots  # noqa: E402
from pmq.analysis.skills import skills_demand  # noqa: E402
from pmq.export.figures import figure_bytes, png_bytes  # noqa: E402
from pmq.plots import style  # noqa: E402
from pmq.plots.skills import skills_bars  # noqa: E402
from pmq.plots.style import bottom_note, new_axes  # noqa: E402

def chart(i, size=(2.4, 1.6)):
    fig, ax, _ = new_axes(figsize=size)
    ax.bar(["Bretagne", "Normandie", "Corse"], [1.5 + i, -2.0, 0.7], color=["#0072B2", "#E69F00", "#009E73"])
    ax.set_title(f"Postes à pourvoir {i}")
    ax.imshow([[0.0, 1.0], [1.0, 0.5]], extent=(0, 1, 0, 1), alpha=0.5)
    bottom_note(fig, "Source : pmq.")
    return fig


def pixels(png: bytes):
    im = Image.open(io.BytesIO(png))
    im.load()
    return im, np.asarray(im)


@pytest.mark.parametrize("size", [(2.4, 1.6), (8.4, 11.7), (3.33, 2.01)])   # 8.4 in × 300: 2519.99… pixels
def test_png_has_matplotlibs_pixels_size_and_resolution(size):
    fig = chart(1, size)
    fig.set_layout_engine("none")
    ref = io.BytesIO()
    fig.savefig(ref, format="png", dpi=300)
    mine = png_bytes(fig, 300)
    plt.close(fig)
    (a, pa), (b, pb) = pixels(ref.getvalue()), pixels(mine)
    assert a.size == b.size and a.mode == b.mode == "RGBA"
    assert b.info["dpi"] == a.info["dpi"] and round(b.info["dpi"][0]) == 300
    assert b.info["Software"] == a.info["Software"]
    assert np.array_equal(pa, pb)


def test_laid_out_once_as_a_plain_save_lays_it_out():
    fig = chart(2)
    ref = io.BytesIO()
    fig.savefig(ref, format="png", dpi=300)          # constrained layout, matplotlib's own way
    plt.close(fig)
    fig = chart(2)
    png, svg = figure_bytes(fig)
    assert fig.get_layout_engine() is None
    plt.close(fig)
    assert np.array_equal(pixels(ref.getvalue())[1], pixels(png)[1])
    assert svg.startswith(b"<?xml") and b"Postes" in svg


@pytest.mark.parametrize("rc", [{}, {"savefig.bbox": "tight"}])
def test_each_file_is_one_draw_of_the_figure_laid_out_once(monkeypatch, rc):
    # savefig makes a dry-run draw before its own when the figure has a layout engine, even the placeholder that
    # set_layout_engine("none") leaves, or when the rc asks for a tight bounding box: figure_bytes makes neither
    fig = chart(3)
    plain = figure_bytes(chart(3))
    draws, layouts = [], []
    real_draw, engine = type(fig).draw, fig.get_layout_engine()
    real_execute = type(engine).execute
    monkeypatch.setattr(type(fig), "draw", lambda self, renderer: draws.append(renderer) or real_draw(self, renderer))
    monkeypatch.setattr(type(engine), "execute", lambda self, f: layouts.append(f) or real_execute(self, f))
    with matplotlib.rc_context(rc):
        png, svg = figure_bytes(fig)
    plt.close("all")
    assert len(layouts) == 1 and len(draws) == 2                  # laid out once; one draw for the PNG, one for the SVG
    assert (png, svg) == plain                                    # the whole figure, as without the rc


def test_a_failed_report_leaves_no_workbook_behind(tmp_path, monkeypatch):
    from pmq.export import report
    private = tmp_path / "tmp"                   # a temporary folder of this test's own: reports running beside
    private.mkdir()                              # it (the background core, other processes) make theirs elsewhere
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    before = set(private.glob("pmq-report-*"))

    made = []

    def fail(*args, **kwargs):
        made.extend(private.glob("pmq-report-*"))   # the workbook's folder exists when the writing fails
        raise OSError("disk full")

    monkeypatch.setattr(report, "to_excel", fail)
    with pytest.raises(OSError, match="disk full"):
        report.build_report(["reference"], territory="Corse", out=tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()
    assert len(made) == 1 and not made[0].exists()
    assert set(private.glob("pmq-report-*")) == before == set()


def test_the_png_is_compressed_at_the_level_pmq_chose():
    import zlib
    fig = chart(0)
    fig.set_layout_engine("none")
    png = png_bytes(fig, 300)
    plt.close(fig)
    im = Image.open(io.BytesIO(png))
    raw = np.zeros((im.height, 1 + 4 * im.width), dtype=np.uint8)
    raw[:, 1:] = np.asarray(im).reshape(im.height, -1)
    chunks, i = [], 8
    while i < len(png):
        n = int.from_bytes(png[i:i + 4], "big")
        if png[i + 4:i + 8] == b"IDAT":
            chunks.append(png[i + 8:i + 8 + n])
        i += 12 + n
    assert b"".join(chunks) == zlib.compress(raw.tobytes(), figures.PNG_LEVEL)
    assert figures.PNG_LEVEL < 6                  # faster than Pillow's default level (measured in figures.py)


def test_titles_stay_where_matplotlibs_search_for_what_they_must_clear_would_leave_them(reference_2030, monkeypatch):
    # the house style fixes the titles at the top of their axes (axes.titley): matplotlib's automatic placement,
    # which measures every y tick label for every title at every draw, would not move any title of pmq's charts
    # (a chart with tick labels above its axes would differ: its title would then overlap them)
    demand = skills_demand(reference_2030, end_year=2030, territory="28")
    charts = [lambda: plots.small_multiples(reference_2030, "waterfall", territories=["28", "53", "94"], end_year=2030,
                                            ncols=2),
              lambda: plots.imbalance_heatmap(reference_2030, end_year=2030).figure,
              lambda: plots.ranked_bars(reference_2030, "openings", territory="28", end_year=2030).figure,
              lambda: plots.age_pyramid(reference_2030, territory="28", years=(2019, 2030), band=5).figure,
              lambda: skills_bars(demand).figure]
    assert style._RC["axes.titley"] == 1.0
    fixed = [figure_bytes(draw()) for draw in charts]
    monkeypatch.setitem(style._RC, "axes.titley", None)               # matplotlib's automatic placement
    searched = [figure_bytes(draw()) for draw in charts]
    plt.close("all")
    assert fixed == searched
