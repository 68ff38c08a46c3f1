"""The report's figures as files: PNG (300 dpi) and SVG of each, laid out once, made on every core.

Making the figures is most of a report's time (text layout and drawing in matplotlib, one core each).
:class:`FigureQueue` has them drawn and saved by worker processes forked once from the report's — each has the
projection and the functions that draw the figures in memory, nothing is pickled — and by the report's own process
once its other work is done, all taking the next figure from one queue, longest first, so that a 2-core machine makes
two figures at a time.  The files are the same, byte for byte, as those made in the report's own process (tested).
Where a fork is not possible or not safe (no ``os.fork``, other Python threads running — a dask client's —, one core,
``workers=0``) the figures are made in the process itself, one after the other.  A worker that fails (a full disk, a
killed process) is not an error of its own: the figure is made again in the report's process, where a real error
surfaces with its message.
"""
from __future__ import annotations

import gc
import io
import os
import shutil
import signal
import struct
import sys
import tempfile
import threading
import warnings
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from pmq.errors import ArgumentError
from pmq.options import tr

__all__ = ["figure_bytes", "FigureQueue", "default_workers", "frozen_heap"]

def figure_bytes(fig) -> tuple[bytes, bytes]:
    """PNG (300 dpi) and SVG of a drawn figure, laid out once: its layout engine (constrained layout) runs here at
    300 dpi, then both files are saved from those positions with no engine — matplotlib neither lays the figure out
    again nor makes the dry-run draw its ``savefig`` makes for a layout engine, even a placeholder one (the same
    bytes: the positions are those that draw computed): one draw a file.  Leaves the figure with no layout
    engine."""
    import matplotlib

    # the whole figure, whatever the user's matplotlibrc says of savefig.bbox (« tight » would crop it, and lay it
    # out again in a dry-run draw of every save)
    with matplotlib.rc_context({"savefig.bbox": "standard"}):
        _lay_out(fig, 300)
        png = png_bytes(fig, 300)
        svg = io.BytesIO()
        # text in the SVG stays text (editable in Inkscape or Illustrator, searchable; the reader's fonts draw it), as
        # the house style asks: matplotlib's default (outside the style's context) turns each glyph into a path; a
        # fixed salt for the element ids and no date make the same figure the same file
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "pmq"}):
            fig.savefig(svg, format="svg", metadata={"Date": None})
    return png, svg.getvalue()


def png_bytes(fig, dpi: float = 300) -> bytes:
    """The PNG of ``fig`` at ``dpi``: the pixels of ``savefig(format="png", dpi=dpi)`` (Agg draws them), the same
    resolution, text and colour type (RGBA), written without the per-row filter search of Pillow's encoder and
    compressed at zlib level :data:`PNG_LEVEL` — a third of the time of Pillow's level 6.  Any figure whose raw pixels
    do not come out as Agg's RGBA buffer is saved by ``savefig`` itself."""
    import matplotlib

    raw = _Pixels()
    fig.savefig(raw, format="rgba", dpi=dpi)
    width, height = _pixels(fig, dpi)
    data = np.frombuffer(b"".join(raw.parts) if len(raw.parts) != 1 else raw.parts[0], dtype=np.uint8)
    if width <= 0 or height <= 0 or data.size != width * height * 4:
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=dpi)
        return out.getvalue()
    rows = np.zeros((height, 1 + 4 * width), dtype=np.uint8)      # each row: filter type 0 (none), then its pixels
    rows[:, 1:] = data.reshape(height, 4 * width)
    del data, raw
    ppm = int(dpi / 0.0254 + 0.5)                                   # pixels a metre, as Pillow writes the dpi
    software = f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/".encode("latin-1")
    idat = zlib.compress(rows.data, PNG_LEVEL)
    chunks = [_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
              _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
              _chunk(b"tEXt", b"Software\0" + software)]
    chunks += [_chunk(b"IDAT", idat[i:i + _IDAT]) for i in range(0, len(idat), _IDAT)]
    chunks.append(_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


#: The zlib level of the report's PNG files.  Measured on the report's charts at 300 dpi (heatmap, small multiples,
#: ranked bars, pyramid; 18–52 MB of pixels each): level 3 compresses them in 0.30 s, 2.6 times faster than
#: level 6 (Pillow's, 0.78 s), into files 37 % larger (1.9 MB against 1.4 MB the four; 0.15–0.75 MB each); levels
#: 4 and 5 cost as much time as 6.  Compression is a tenth of a report's CPU at level 6.
PNG_LEVEL = 3


class _Pixels:
    """Where ``savefig(format="rgba")`` writes Agg's buffer: kept as written (no copy)."""

    def __init__(self):
        self.parts = []

    def write(self, data) -> int:
        self.parts.append(data)
        return len(memoryview(data).cast("B"))

    def seek(self, *args) -> int:       # matplotlib writes to objects that have one
        raise io.UnsupportedOperation("seek")


#: The most bytes of compressed pixels a PNG's IDAT chunk holds (Pillow writes 64 KiB ones; any size is valid).
_IDAT = 1 << 20


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))


def _pixels(fig, dpi: float) -> tuple[int, int]:
    """Width and height in pixels of ``fig`` drawn at ``dpi``, as Agg sizes its canvas."""
    old = fig.dpi
    try:
        fig.dpi = dpi
        w, h = fig.canvas.get_width_height(physical=True)
    finally:
        fig.dpi = old
    return int(w), int(h)


def _lay_out(fig, dpi: float) -> None:
    """Run ``fig``'s layout engine as ``savefig(dpi=dpi)`` would (the figure at that dpi, the canvas saving, at
    one device pixel a pixel), then remove the engine so that saves keep these positions: with no engine at all —
    not ``"none"``, which leaves a placeholder engine —, ``savefig`` makes no dry-run draw before its own (a third of
    a save's time)."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    if engine is None:
        return
    if isinstance(engine, PlaceHolderLayoutEngine):     # laid out already (by an earlier save)
        _remove_engine(fig)
        return
    canvas = fig.canvas
    saved = (fig.dpi, getattr(canvas, "_device_pixel_ratio", None), getattr(canvas, "_is_saving", None))
    try:
        fig.dpi = dpi
        if saved[1] is not None:
            canvas._device_pixel_ratio = 1
        if saved[2] is not None:
            canvas._is_saving = True
        if fig.axes:                        # as Figure.draw does
            try:
                engine.execute(fig)
            except ValueError:
                pass
    finally:
        fig.dpi = saved[0]
        if saved[1] is not None:
            canvas._device_pixel_ratio = saved[1]
        if saved[2] is not None:
            canvas._is_saving = saved[2]
    _remove_engine(fig)


def _remove_engine(fig) -> None:
    """No layout engine on ``fig`` (``set_layout_engine(None)``, the rc's automatic layouts off meanwhile)."""
    import matplotlib
    with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)


@contextmanager
def frozen_heap():
    """Within the block, the objects that exist on entering it (modules, the projection, the baseline: a few hundred
    thousand) are left out of Python's cyclic garbage collection (:func:`gc.freeze`): its full passes, which the
    many objects of matplotlib's figures set off, scan only what the block made, and a worker forked to make
    figures does not copy those pages by scanning them.  They are collected again as before after the block
    (:func:`gc.unfreeze`).  Nothing is done when objects are already frozen (the caller's own) or the collector is
    off."""
    if gc.get_freeze_count() or not gc.isenabled():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def default_workers() -> int:
    """Worker processes making figures beside the report's own: ``PMQ_FIGURE_WORKERS`` when set (0: none, e.g. on
    a machine whose cores are busy with other jobs), else the cores this process may use minus one (the report's
    process makes figures too), at most 3; 0 where a fork is not available."""
    if not hasattr(os, "fork"):
        return 0
    env = os.environ.get("PMQ_FIGURE_WORKERS", "").strip()
    if env:
        try:
            return max(0, int(env))
        except ValueError:
            raise ArgumentError(tr("PMQ_FIGURE_WORKERS must be a whole number of processes (0: none)",
                                   "PMQ_FIGURE_WORKERS doit être un nombre entier de processus (0 : aucun)"),
                                name="PMQ_FIGURE_WORKERS", value=env) from None
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(0, min(cores - 1, 3))


class FigureQueue:
    """The report's figures, drawn and saved (:func:`figure_bytes`) by the report's process and by worker processes
    forked once, all taking the next figure from one queue.

    :meth:`add` each figure as a function that draws it (``draw()`` returns the figure or its axes) in the order they
    are to be taken — longest to make first, so that the last ones, when a core may wait for the other, are short —,
    then :meth:`start` forks the workers: each has the projection and the draw functions in memory (nothing is
    pickled) and takes figure after figure from a pipe of their numbers, writing each figure's files in a folder of
    the queue's own, while the report's process does its other work; then :meth:`run` takes the figures left and
    waits for the workers.  Figures added with ``here=True`` are made by the report's process only (one that starts
    threads: the ensemble's fan).  :meth:`started` says which figures the workers started since it was last called
    (the report's progress steps).  The files are the same, byte for byte, as those made in the report's process
    (tested).  Where a fork is not possible or not safe (no ``os.fork``, other Python threads running — a dask
    client's —, ``workers=0``) the report's process makes every figure itself, in the queue's order.  A worker that
    fails on a figure (an error, a full disk, a killed process) is not an error of its own: the figure is made again
    in the report's process, where a real error surfaces with its message.  A context manager: on leaving (an error,
    a Ctrl-C) the workers still running are stopped and their files removed."""

    def __init__(self, workers: int | None = None):
        self.workers = default_workers() if workers is None else max(0, int(workers))
        self._tasks: list = []          # (key, draw, here)
        self._done: dict = {}           # key -> (png, svg)
        self._said: set = set()         # numbers of the figures whose start was reported
        self._saved: set = set()        # numbers of the figures a worker saved
        self._pids: list = []           # the workers still to be waited for
        self._queue: int | None = None  # the read end of the pipe of the figures' numbers, shared by every process
        self._events: int | None = None  # the read end of the workers' events: b"S" (started), b"D" (saved), b"F"
        self._partial = b""
        self._folder: Path | None = None

    def add(self, key, draw, here: bool = False) -> None:
        """A figure to make, under ``key``: ``draw()`` draws it; ``here``: in the report's process only."""
        if self._queue is not None:
            raise ValueError("figures are added before the queue starts")
        if any(k == key for k, _, _ in self._tasks):
            raise ValueError(f"figure {key!r} added twice")
        if len(self._tasks) >= 255:
            raise ValueError("at most 255 figures")
        self._tasks.append((key, draw, bool(here)))

    def start(self) -> None:
        """Fork the workers, which start taking figures at once (none where a fork is not possible or not safe)."""
        order = bytes(i for i, (_, _, here) in enumerate(self._tasks) if not here)
        r, w = os.pipe()
        try:
            os.write(w, order)              # a few bytes: far below a pipe's buffer
        finally:
            os.close(w)                     # once read, the queue ends (every write end closed)
        self._queue = r
        if not (order and self.workers and self._may_fork()):
            return
        self._folder = Path(tempfile.mkdtemp(prefix="pmq-figures-"))
        er, ew = os.pipe()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        try:
            for _ in range(min(self.workers, len(order))):
                try:
                    with warnings.catch_warnings():      # Python ≥ 3.12 warns of forks beside C threads (BLAS pools)
                        warnings.simplefilter("ignore", DeprecationWarning)
                        pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    os.close(er)
                    self._work(ew)                        # never returns
                self._pids.append(pid)
        finally:
            os.close(ew)                                  # the events end when every worker has exited
        self._events = er
        os.set_blocking(er, False)

    def started(self) -> list:
        """The keys of the figures the workers started since the last call, in the order they started them."""
        return [self._tasks[i][0] for i in self._read_events(block=False)]

    def run(self, started=None) -> None:
        """Make the figures left here (those for this process only first), wait for the workers and collect their
        files; a figure a worker did not save is made here.  ``started(key)`` is called once for every figure, as
        it starts (here or in a worker: reported when this process sees it)."""
        def say(numbers):
            for j in numbers:
                if started is not None:
                    started(self._tasks[j][0])

        def begin(i):                               # the workers' starts seen so far, then this one (once)
            say(self._read_events(block=False))
            if i not in self._said:
                self._said.add(i)
                say([i])

        if self._queue is None:
            self.start()
        for n, (_, _, here) in enumerate(self._tasks):
            if here:
                begin(n)
                self._make_here(n)
        while (taken := self._take()) is not None:
            begin(taken)
            self._make_here(taken)
        for pid in self._pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self._pids.clear()
        say(self._read_events(block=True))
        for i, (key, _, _) in enumerate(self._tasks):
            if key in self._done:
                continue
            if i in self._saved:
                try:
                    self._done[key] = (self._file(i, "png").read_bytes(), self._file(i, "svg").read_bytes())
                    continue
                except OSError:
                    pass                     # made here
            begin(i)
            self._make_here(i)
        self.close()

    def result(self, key) -> tuple[bytes, bytes]:
        """The ``(png, svg)`` bytes of the figure ``key`` (made by :meth:`run`)."""
        return self._done[key]

    def close(self) -> None:
        """Stop the workers still running, close the queue and remove the workers' files."""
        for pid in self._pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self._pids.clear()
        for fd in (self._queue, self._events):
            if fd is not None and fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._queue = -1 if self._queue is not None else None      # closed: nothing more to take or add
        self._events = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> FigureQueue:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- internals
    @staticmethod
    def _may_fork() -> bool:
        # a fork copies one thread: with other Python threads running (a dask client's) a lock they hold would stay
        # held in the worker
        return hasattr(os, "fork") and threading.active_count() == 1

    def _take(self) -> int | None:
        """The number of the next figure of the queue (None: none left).  One byte a read: a pipe's reads of one
        byte are atomic, so that every figure goes to one process."""
        if self._queue is None or self._queue < 0:
            return None
        got = os.read(self._queue, 1)
        return got[0] if got else None

    def _make_here(self, i: int) -> None:
        key, draw, _ = self._tasks[i]
        fig = _figure_of(draw())
        self._done[key] = figure_bytes(fig)
        _close(fig)

    def _file(self, i: int, ext: str) -> Path:
        assert self._folder is not None
        return self._folder / f"{i:03d}.{ext}"

    def _work(self, events: int) -> None:
        """A worker: take figures until the queue is empty, write each one's files, report it; leave without any
        cleanup of the report's process."""
        code = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            while (i := self._take()) is not None:
                os.write(events, b"S" + bytes([i]))
                try:
                    _, draw, _ = self._tasks[i]
                    png, svg = figure_bytes(_figure_of(draw()))
                    self._file(i, "png").write_bytes(png)
                    self._file(i, "svg").write_bytes(svg)
                    os.write(events, b"D" + bytes([i]))
                except BaseException:  # noqa: BLE001 - any failure: the report's process makes the figure itself
                    os.write(events, b"F" + bytes([i]))
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)

    def _read_events(self, block: bool) -> list:
        """Read the workers' events (all of them until every worker has closed its end, with ``block``); return the
        numbers of the figures started and not reported yet."""
        if self._events is None:
            return []
        os.set_blocking(self._events, block)
        data = self._partial
        while True:
            try:
                got = os.read(self._events, 4096)
            except BlockingIOError:
                break
            if not got:
                break
            data += got
        cut = len(data) - len(data) % 2
        data, self._partial = data[:cut], data[cut:]
        new = []
        for kind, i in zip(data[::2], data[1::2]):
            if kind == ord("S") and i not in self._said:
                self._said.add(i)
                new.append(i)
            elif kind == ord("D"):
                self._saved.add(i)
        return new


def _figure_of(drawn):
    """The figure of what a draw function returned (a figure or axes)."""
    return drawn if hasattr(drawn, "savefig") else drawn.figure


def _close(fig) -> None:
    import matplotlib.pyplot as plt
    plt.close(fig)
