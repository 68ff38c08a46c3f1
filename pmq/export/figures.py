"""The report's figures as files: PNG (300 dpi) and SVG of each, laid out once, saved on every core.

Saving is most of a report's time (text layout and 300-dpi rasterisation in matplotlib, one core each).
:class:`FigureFiles` saves each figure in a child process forked from the one that drew it — the child has
the drawn figure in memory, nothing is pickled — while the report draws the next one, so a 2-core machine
saves two figures at a time; the figures waiting are saved longest first (:func:`save_cost`), by the children
and by the report's process once it has drawn them all.  The files are the same, byte for byte, as a save in the
report's own process (tested).  Where a fork is not possible or not safe (no ``os.fork``, other Python threads running — an
ensemble's dask threads —, one core, ``workers=0``) the figures are saved in the process itself, one after
the other, as before.  A child that fails (a full disk, a killed process) is not an error of its own: the
figure is saved again in the report's process, where a real error surfaces with its message.
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

__all__ = ["figure_bytes", "FigureFiles", "default_workers", "frozen_heap", "save_cost"]

def figure_bytes(fig, between=None) -> tuple[bytes, bytes]:
    """PNG (300 dpi) and SVG of a drawn figure, laid out once: its layout engine (constrained layout) runs here at
    300 dpi, then both files are saved from those positions with the engine off — matplotlib neither lays the
    figure out again nor makes the dry-run draw its ``savefig`` makes for a layout engine (the same bytes: the
    positions are those that draw computed).  Leaves the figure's layout engine off.  ``between``: called with
    no argument once the PNG is made, before the SVG (:class:`FigureFiles` gives the waiting figures to the
    children done meanwhile)."""
    import matplotlib

    _lay_out(fig, 300)
    png = png_bytes(fig, 300)
    if between is not None:
        between()
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
    one device pixel a pixel), then turn the engine off so that saves keep these positions."""
    engine = fig.get_layout_engine()
    if engine is None:
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
    fig.set_layout_engine("none")


@contextmanager
def frozen_heap():
    """Within the block, the objects that exist on entering it (modules, the projection, the baseline: a few hundred
    thousand) are left out of Python's cyclic garbage collection (:func:`gc.freeze`): its full passes, which the
    many objects of matplotlib's figures set off, scan only what the block made, and a child forked to save a
    figure does not copy those pages by scanning them.  They are collected again as before after the block
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


def save_cost(fig) -> float:
    """An estimate, in seconds of this machine's reference (a 2-core VM), of :func:`figure_bytes`' time on ``fig``:
    0.1 s a million pixels at 300 dpi and 2.7 ms a text, plus 0.06 s — fitted on the twelve figures of a
    two-scenario report (0.3 to 2.6 s each; the order of the estimates is the order of the times but for two
    pairs within 0.1 s).  Only the order matters: :class:`FigureFiles` saves the longest first."""
    from matplotlib.text import Text

    w, h = fig.get_size_inches() * 300
    return 0.1 * w * h / 1e6 + 0.0027 * len(fig.findobj(Text)) + 0.06


def default_workers() -> int:
    """Child processes saving figures beside the report's own: ``PMQ_FIGURE_WORKERS`` when set (0: none, e.g. on
    a machine whose cores are busy with other jobs), else the cores this process may use minus one (the report's
    process draws meanwhile), at most 3; 0 where a fork is not available."""
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


class FigureFiles:
    """Figures to save, by key: :meth:`submit` a drawn figure, :meth:`result` its ``(png, svg)`` bytes once all
    are submitted.  A context manager: on leaving (an error, a Ctrl-C), children still saving are stopped and
    their files removed.  ``workers=None``: :func:`default_workers`."""

    def __init__(self, workers: int | None = None):
        self.workers = default_workers() if workers is None else max(0, int(workers))
        self._done: dict = {}           # key -> (png, svg)
        self._figs: dict = {}           # key -> figure (kept until its bytes are in)
        self._children: dict = {}       # pid -> key
        self._paths_of: dict = {}       # pid -> (png, svg) files it writes
        self._pending: list = []        # keys submitted while every child was busy
        self._cost: dict = {}           # key -> the save's estimated cost (:func:`save_cost`)
        self._folder: Path | None = None
        self._count = 0

    # ---------------------------------------------------------------- the report's side
    def submit(self, key, fig) -> None:
        """Save ``fig`` under ``key``: in a child when one is free; when all are busy, it waits its turn (the next
        child free takes it, or this process at :meth:`result`), so that the report goes on drawing meanwhile;
        here and now when no child can be forked (no workers, other threads running)."""
        if key in self._done or key in self._figs:
            raise ValueError(f"figure {key!r} submitted twice")
        self._figs[key] = fig
        if not (self.workers and self._may_fork()):
            self._save_here(key)
            return
        self._cost[key] = save_cost(fig)
        self._pending.append(key)
        self.poll()

    def poll(self) -> None:
        """Collect the children that are done and give the waiting figures to the free ones (never blocks)."""
        self._reap(block=False)
        while self._pending and len(self._children) < self.workers and self._may_fork():
            key = self._longest()
            pid = self._fork(key, self._figs[key])
            if pid is None:
                break
            self._pending.remove(key)
            self._children[pid] = key

    def result(self, key) -> tuple[bytes, bytes]:
        """The ``(png, svg)`` bytes of the figure submitted as ``key``: while it is not saved, the free children
        take the waiting figures and this process saves one too, or waits for a child.  Children and this process
        alike take the waiting figure longest to save first (:func:`save_cost`), so that the last ones to finish
        are short and no core waits long for another at the end (every figure is asked for before the report is
        written)."""
        while key not in self._done:
            self.poll()
            if key in self._done:
                break
            if self._pending:
                longest = self._longest()
                self._pending.remove(longest)
                self._save_here(longest)
            elif key in self._children.values():
                self._wait(next(pid for pid, k in self._children.items() if k == key))
            else:
                self._save_here(key)           # its child failed: saved here, where a real error surfaces
        return self._done[key]

    def close(self) -> None:
        """Stop the children still running and remove their files."""
        for pid in list(self._children):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self._children.clear()
        self._pending.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> FigureFiles:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- internals
    def _longest(self):
        """The waiting figure longest to save (the first submitted of equals)."""
        return max(self._pending, key=lambda k: self._cost.get(k, 0.0))

    def _save_here(self, key) -> None:
        # a child done while this process saves gets the next waiting figure halfway, not after the save
        self._done[key] = figure_bytes(self._figs.pop(key), between=self.poll if self._children else None)

    @staticmethod
    def _may_fork() -> bool:
        # a fork copies one thread: with other Python threads running (dask's pool after an ensemble) a lock
        # they hold would stay held in the child
        return hasattr(os, "fork") and threading.active_count() == 1

    def _paths(self, key) -> tuple[Path, Path]:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="pmq-figures-"))
        self._count += 1
        return self._folder / f"{self._count:03d}.png", self._folder / f"{self._count:03d}.svg"

    def _fork(self, key, fig) -> int | None:
        png_path, svg_path = self._paths(key)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        try:
            with warnings.catch_warnings():          # Python ≥ 3.12 warns of forks beside C threads (BLAS pools)
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            return None
        if pid == 0:                                 # the child: save, write, leave without any cleanup of the parent's
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                png, svg = figure_bytes(fig)
                png_path.write_bytes(png)
                svg_path.write_bytes(svg)
                code = 0
            except BaseException:  # noqa: BLE001 - any failure: the parent saves the figure itself
                code = 1
            finally:
                os._exit(code)
        self._paths_of[pid] = (png_path, svg_path)
        return pid

    def _reap(self, block: bool) -> None:
        """Collect this report's finished children (never another child of the process: a subprocess's status
        is not ours to take); with ``block``, wait for the oldest one at least."""
        for pid in list(self._children):
            try:
                got, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                got, status = pid, 1 << 8
            if got:
                self._collect(pid, status)
        if block and self._children:
            self._wait(next(iter(self._children)))

    def _wait(self, pid: int) -> None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = 1 << 8
        self._collect(pid, status)

    def _collect(self, pid: int, status: int) -> None:
        key = self._children.pop(pid)
        png_path, svg_path = self._paths_of.pop(pid)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            try:
                self._done[key] = (png_path.read_bytes(), svg_path.read_bytes())
                self._figs.pop(key, None)
            except OSError:
                pass                               # saved here when asked for
        for p in (png_path, svg_path):
            p.unlink(missing_ok=True)
