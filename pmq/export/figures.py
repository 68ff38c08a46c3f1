"""The report's figures as files: PNG (300 dpi) and SVG of each, laid out once, saved on every core.

Saving is most of a report's time (text layout and 300-dpi rasterisation in matplotlib, one core each).
:class:`FigureFiles` saves each figure in a child process forked from the one that drew it — the child has
the drawn figure in memory, nothing is pickled — while the report draws the next one, so a 2-core machine
saves two figures at a time.  The files are the same, byte for byte, as a save in the report's own process
(tested).  Where a fork is not possible or not safe (no ``os.fork``, other Python threads running — an
ensemble's dask threads —, one core, ``workers=0``) the figures are saved in the process itself, one after
the other, as before.  A child that fails (a full disk, a killed process) is not an error of its own: the
figure is saved again in the report's process, where a real error surfaces with its message.
"""
from __future__ import annotations

import io
import os
import shutil
import signal
import sys
import tempfile
import threading
import warnings
from pathlib import Path

from pmq.errors import ArgumentError

__all__ = ["figure_bytes", "FigureFiles", "default_workers"]

def figure_bytes(fig) -> tuple[bytes, bytes]:
    """PNG (300 dpi) and SVG of a drawn figure, laid out once: the PNG's save runs the figure's layout engine
    (constrained layout); the SVG is then saved from the same positions with the engine off, so matplotlib
    neither lays the figure out again nor makes its dry-run draw.  Leaves the figure's layout engine off."""
    import matplotlib

    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=300)
    fig.set_layout_engine("none")           # keep the positions the PNG's layout gave
    # text in the SVG stays text (editable in Inkscape or Illustrator, searchable; the reader's fonts draw it), as
    # the house style asks: matplotlib's default (outside the style's context) turns each glyph into a path; a
    # fixed salt for the element ids and no date make the same figure the same file
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "pmq"}):
        fig.savefig(svg, format="svg", metadata={"Date": None})
    return png.getvalue(), svg.getvalue()


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
            raise ArgumentError("PMQ_FIGURE_WORKERS must be a whole number of processes (0: none)",
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
        self._folder: Path | None = None
        self._count = 0

    # ---------------------------------------------------------------- the report's side
    def submit(self, key, fig) -> None:
        """Save ``fig`` under ``key``: in a child when one is free, else here and now."""
        if key in self._done or key in self._figs:
            raise ValueError(f"figure {key!r} submitted twice")
        self._figs[key] = fig
        self._reap(block=False)
        if len(self._children) < self.workers and self._may_fork():
            pid = self._fork(key, fig)
            if pid is not None:
                self._children[pid] = key
                return
        self._save_here(key)

    def result(self, key) -> tuple[bytes, bytes]:
        """The ``(png, svg)`` bytes of the figure submitted as ``key`` (waits for its child)."""
        for pid, k in list(self._children.items()):
            if k == key:
                self._wait(pid)
        if key not in self._done:
            self._save_here(key)           # never forked, or its child failed
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
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> FigureFiles:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- internals
    def _save_here(self, key) -> None:
        self._done[key] = figure_bytes(self._figs.pop(key))

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
