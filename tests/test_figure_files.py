"""The report's figures saved in child processes: the same files as saved in the process, and every way a child
can fail or be stopped ends with the files saved (or nothing left behind)."""
import os
import threading

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pmq.export import figures  # noqa: E402
from pmq.export.figures import FigureFiles, figure_bytes  # noqa: E402
from pmq.plots.style import bottom_note, new_axes  # noqa: E402

fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")


@pytest.fixture
def may_fork(monkeypatch):
    """Fork even beside the threads other tests left running (idle pools: the children never touch them)."""
    monkeypatch.setattr(FigureFiles, "_may_fork", staticmethod(lambda: True))


def chart(i):
    fig, ax, _ = new_axes(figsize=(2.4, 1.6))
    ax.bar(["Bretagne", "Normandie", "Corse"], [1.5 + i, -2.0, 0.7])
    ax.set_title(f"Postes à pourvoir {i}")
    bottom_note(fig, "Source : pmq.")
    return fig


def serial_bytes(n):
    out = []
    for i in range(n):
        fig = chart(i)
        out.append(figure_bytes(fig))
        plt.close(fig)
    return out


@fork_only
def test_children_save_the_same_files_as_the_process(may_fork):
    expected = serial_bytes(3)
    with FigureFiles(workers=2) as saver:
        pids = []
        for i in range(3):
            fig = chart(i)
            saver.submit(i, fig)
            plt.close(fig)
            pids.append(dict(saver._children))
        got = [saver.result(i) for i in range(3)]
        folder = saver._folder
    assert any(pids)                                   # children did save some of them
    assert got == expected                             # the same bytes, in the same order
    assert folder is None or not folder.exists()       # the children's files are gone


@fork_only
def test_a_failing_child_is_replaced_by_a_save_in_the_process(monkeypatch, may_fork):
    expected = serial_bytes(2)
    with FigureFiles(workers=1) as saver:
        real = figures.figure_bytes
        parent = os.getpid()

        def fail_in_child(fig, between=None):
            if os.getpid() != parent:
                raise OSError("disk full")
            return real(fig, between)

        monkeypatch.setattr(figures, "figure_bytes", fail_in_child)
        figs = [chart(i) for i in range(2)]
        for i, fig in enumerate(figs):
            saver.submit(i, fig)
        assert saver._children                           # the first went to a child, which fails
        got = [saver.result(i) for i in range(2)]
    assert got == expected


@fork_only
def test_stopping_kills_the_children_and_leaves_nothing(may_fork):
    with FigureFiles(workers=1) as saver:
        fig = chart(0)
        saver.submit("a", fig)
        pids = list(saver._children)
        folder = saver._folder
    assert pids and folder is not None
    assert not folder.exists()
    for pid in pids:                                    # reaped: not a zombie of this process
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_workers_from_the_environment(monkeypatch):
    from pmq.errors import ArgumentError
    monkeypatch.setenv("PMQ_FIGURE_WORKERS", "2")
    assert figures.default_workers() == (2 if hasattr(os, "fork") else 0)
    monkeypatch.setenv("PMQ_FIGURE_WORKERS", "0")
    assert FigureFiles().workers == 0
    if hasattr(os, "fork"):
        monkeypatch.setenv("PMQ_FIGURE_WORKERS", "deux")
        with pytest.raises(ArgumentError, match="PMQ_FIGURE_WORKERS.*deux"):
            figures.default_workers()


def test_no_fork_beside_other_python_threads_or_with_no_workers():
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        with FigureFiles(workers=2) as saver:
            saver.submit("a", chart(0))
            assert not saver._children and "a" in saver._done    # saved here, a thread is running
    finally:
        stop.set()
        t.join()
    with FigureFiles(workers=0) as saver:
        saver.submit("b", chart(1))
        assert not saver._children and "b" in saver._done
        with pytest.raises(ValueError, match="twice"):
            saver.submit("b", chart(1))
    plt.close("all")
