"""The report's figures made by worker processes (pmq.export.figures.FigureQueue): the same files as made in the
process, every figure made once and said once, and every way a worker can fail or be stopped ends with the files
made (or nothing left behind)."""
import os
import signal
import threading
import time

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pmq.export import figures  # noqa: E402
from pmq.export.figures import FigureQueue, figure_bytes  # noqa: E402
from pmq.plots.style import bottom_note, new_axes  # noqa: E402

fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")


@pytest.fixture
def may_fork(monkeypatch):
    """Fork even beside the threads other tests left running (idle pools: the workers never touch them)."""
    monkeypatch.setattr(FigureQueue, "_may_fork", staticmethod(lambda: True))


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


def started_by_workers(queue, n=1, timeout=30.0):
    """Wait until the workers have started ``n`` figures (what the report does meanwhile: its own work)."""
    seen, end = [], time.monotonic() + timeout
    while len(seen) < n and time.monotonic() < end:
        seen += queue.started()
        time.sleep(0.01)
    return seen


def made_by_queue(n, workers):
    """Figures 0…n-1 through a queue of ``workers``, the report's way (the workers started, then the rest here):
    ``(bytes of each, the steps said, the worker pids, the numbers the workers saved, the workers' folder)``."""
    said = []
    with FigureQueue(workers=workers) as queue:
        for i in range(n):
            queue.add(i, lambda i=i: chart(i))
        queue.start()
        folder = queue._folder
        said += started_by_workers(queue)
        pids = list(queue._pids)
        queue.run(started=said.append)
        got = [queue.result(i) for i in range(n)]
        saved = set(queue._saved)
    return got, said, pids, saved, folder


@fork_only
def test_workers_make_the_same_files_as_the_process_and_every_figure_is_said_once(may_fork):
    got, said, pids, saved, folder = made_by_queue(4, workers=2)
    assert len(pids) == 2 and saved                      # the workers made some of them
    assert got == serial_bytes(4)                        # the same bytes, each under its key
    assert sorted(said) == [0, 1, 2, 3]                  # each figure's step said once
    assert folder is not None and not folder.exists()    # the workers' files are gone
    for pid in pids:                                     # reaped: not a zombie of this process
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@fork_only
def test_a_worker_that_fails_is_replaced_by_the_process(monkeypatch, may_fork):
    expected = serial_bytes(3)
    real = figures.figure_bytes
    parent = os.getpid()

    def fail_in_worker(fig):
        if os.getpid() != parent:
            raise OSError("disk full")
        return real(fig)

    monkeypatch.setattr(figures, "figure_bytes", fail_in_worker)
    got, said, pids, saved, folder = made_by_queue(3, workers=1)
    assert pids and not saved                            # the worker saved none
    assert got == expected and sorted(said) == [0, 1, 2]
    assert not folder.exists()


@fork_only
def test_a_killed_worker_is_replaced_by_the_process(may_fork):
    expected = serial_bytes(3)
    parent = os.getpid()

    def killed_in_worker(i):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return chart(i)

    with FigureQueue(workers=1) as queue:
        for i in range(3):
            queue.add(i, lambda i=i: killed_in_worker(i))
        queue.start()
        started_by_workers(queue)
        queue.run()
        assert [queue.result(i) for i in range(3)] == expected


@fork_only
def test_stopping_kills_the_workers_and_leaves_nothing(may_fork):
    parent = os.getpid()

    def slow_in_worker():
        if os.getpid() != parent:
            time.sleep(60)
        return chart(0)

    t0 = time.monotonic()
    with FigureQueue(workers=1) as queue:
        queue.add("a", slow_in_worker)
        queue.start()
        assert started_by_workers(queue) == ["a"]
        pids, folder = list(queue._pids), queue._folder
        assert folder is not None and folder.exists()
    assert time.monotonic() - t0 < 30                     # killed, not waited for
    assert not folder.exists()
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@fork_only
def test_a_figure_for_this_process_only_is_made_here(may_fork):
    parent = os.getpid()
    drawn_in = []

    def here():
        drawn_in.append(os.getpid())            # seen only when drawn in this process
        return chart(1)

    with FigureQueue(workers=1) as queue:
        queue.add("worker or here", lambda: chart(0))
        queue.add("here", here, here=True)
        queue.start()
        queue.run()
        assert queue.result("here") == serial_bytes(2)[1]
    assert drawn_in == [parent]


def test_workers_from_the_environment(monkeypatch):
    from pmq.errors import ArgumentError
    monkeypatch.setenv("PMQ_FIGURE_WORKERS", "2")
    assert figures.default_workers() == (2 if hasattr(os, "fork") else 0)
    monkeypatch.setenv("PMQ_FIGURE_WORKERS", "0")
    assert FigureQueue().workers == 0
    if hasattr(os, "fork"):
        monkeypatch.setenv("PMQ_FIGURE_WORKERS", "deux")
        with pytest.raises(ArgumentError, match="PMQ_FIGURE_WORKERS.*deux"):
            figures.default_workers()


def test_no_fork_beside_other_python_threads_or_with_no_workers():
    expected = serial_bytes(2)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        with FigureQueue(workers=2) as queue:
            queue.add("a", lambda: chart(0))
            queue.start()
            assert not queue._pids                       # a thread is running: no worker
            queue.run()
            assert queue.result("a") == expected[0]
    finally:
        stop.set()
        t.join()
    said = []
    with FigureQueue(workers=0) as queue:
        queue.add("b", lambda: chart(1))
        queue.add("c", lambda: chart(0))
        with pytest.raises(ValueError, match="twice"):
            queue.add("b", lambda: chart(1))
        queue.run(started=said.append)                   # starts the queue itself
        assert not queue._pids and said == ["b", "c"]    # made here, in the queue's order
        assert queue.result("b") == expected[1]
        with pytest.raises(ValueError, match="before the queue starts"):
            queue.add("d", lambda: chart(1))
    plt.close("all")
