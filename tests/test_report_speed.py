"""What makes `pmq report` faster does not change what it writes: the PNG written without Pillow's filter search has
the pixels, size, colour type and resolution of matplotlib's own; the figure laid out once keeps the positions of a
plain save; figures submitted while every child is busy wait their turn and come out the same."""
import io
import os
import tempfile

import matplotlib
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pmq.export import figures  # noqa: E402
from pmq.export.figures import FigureFiles, figure_bytes, png_bytes  # noqa: E402
from pmq.plots.style import bottom_note, new_axes  # noqa: E402

fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")


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
    assert fig.get_layout_engine() is None or type(fig.get_layout_engine()).__name__ == "PlaceHolderLayoutEngine"
    plt.close(fig)
    assert np.array_equal(pixels(ref.getvalue())[1], pixels(png)[1])
    assert svg.startswith(b"<?xml") and b"Postes" in svg


@fork_only
def test_figures_wait_for_a_free_child_and_come_out_the_same(monkeypatch):
    monkeypatch.setattr(FigureFiles, "_may_fork", staticmethod(lambda: True))
    expected = []
    for i in range(4):
        fig = chart(i)
        expected.append(figure_bytes(fig))
        plt.close(fig)
    saved_here = []
    real = figures.figure_bytes
    parent = os.getpid()

    def spy(fig, between=None):
        if os.getpid() == parent:
            saved_here.append(fig)
        return real(fig, between)

    monkeypatch.setattr(figures, "figure_bytes", spy)
    with FigureFiles(workers=1) as saver:
        for i in range(4):
            fig = chart(i)
            saver.submit(i, fig)
            plt.close(fig)
        assert not saved_here                    # none saved at submit: one in the child, the others wait
        assert len(saver._children) + len(saver._pending) + len(saver._done) == 4
        got = [saver.result(i) for i in range(4)]
        folder = saver._folder
    assert got == expected
    assert folder is None or not folder.exists()


def test_no_workers_save_at_once():
    with FigureFiles(workers=0) as saver:
        fig = chart(0)
        saver.submit("a", fig)
        plt.close(fig)
        assert "a" in saver._done and not saver._pending


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


@fork_only
def test_the_longest_figure_waiting_is_saved_first_by_the_children_and_by_the_report(monkeypatch):
    # figures 0…5 with save costs 1, 5, 2, 6, 3, 4: the first goes to the child at once, the others wait; each
    # figure that a core takes next is the longest still waiting, so the last ones to finish are short
    costs = [1.0, 5.0, 2.0, 6.0, 3.0, 4.0]
    monkeypatch.setattr(FigureFiles, "_may_fork", staticmethod(lambda: True))
    monkeypatch.setattr(figures, "save_cost", lambda fig: fig.cost)
    taken = []
    real_fork, real_here = FigureFiles._fork, FigureFiles._save_here

    def fork(self, key, fig):
        taken.append(key)
        return real_fork(self, key, fig)

    def here(self, key):
        taken.append(key)
        return real_here(self, key)

    monkeypatch.setattr(FigureFiles, "_fork", fork)
    monkeypatch.setattr(FigureFiles, "_save_here", here)
    monkeypatch.setattr(FigureFiles, "_reap", lambda self, block: None)     # the child stays busy until waited for
    with FigureFiles(workers=1) as saver:
        for i, c in enumerate(costs):
            fig = chart(i)
            fig.cost = c
            saver.submit(i, fig)
            plt.close(fig)
        assert taken == [0] and sorted(saver._pending) == [1, 2, 3, 4, 5]
        got = [saver.result(i) for i in range(len(costs))]
    assert taken == [0, 3, 1, 5, 4, 2]           # then the report's process, longest first, while the child works
    assert all(png.startswith(b"\x89PNG") and svg.startswith(b"<?xml") for png, svg in got)


def test_a_figures_estimated_save_cost_grows_with_its_pixels_and_its_text():
    small, large, wordy = chart(0, (2.4, 1.6)), chart(0, (7.0, 5.0)), chart(0, (2.4, 1.6))
    for i in range(40):
        wordy.axes[0].text(0.5, 0.5, f"étiquette {i}")
    costs = [figures.save_cost(f) for f in (small, large, wordy)]
    for f in (small, large, wordy):
        plt.close(f)
    assert costs[0] < costs[1] and costs[0] < costs[2]
    assert costs[1] - costs[0] >= 0.1 * 300 ** 2 * (7 * 5 - 2.4 * 1.6) / 1e6 - 1e-9   # 0.1 s a million pixels
    assert costs[2] - costs[0] == pytest.approx(40 * 0.0027)                          # 2.7 ms a text


def test_the_hook_between_the_png_and_the_svg_runs_once_with_the_png_made(monkeypatch):
    fig = chart(0)
    events = []
    real_png = figures.png_bytes
    monkeypatch.setattr(figures, "png_bytes", lambda f, dpi=300: events.append("png") or real_png(f, dpi))
    real_savefig = type(fig).savefig

    def savefig(self, fname, *args, **kwargs):
        if kwargs.get("format") == "svg":
            events.append("svg")
        return real_savefig(self, fname, *args, **kwargs)

    monkeypatch.setattr(type(fig), "savefig", savefig)
    png, svg = figure_bytes(fig, between=lambda: events.append("between"))
    plt.close(fig)
    assert events == ["png", "between", "svg"]
    assert png.startswith(b"\x89PNG") and svg.startswith(b"<?xml")


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
