"""The module paths of pmq 0.1 keep working: ``import pmq.compare``, ``from pmq.levers import …``.

pmq 0.2 moved its modules into sub-packages that follow the data flow (``docs/layout`` in the README).
A user's script written for 0.1 still imports the old paths: this finder answers them with the new
module (the same object, so monkeypatching and ``is`` checks behave) and a :class:`DeprecationWarning`
naming the new path.  A 0.1 module split in two (``pmq.mobility``) answers with a module that looks names
up in both halves.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings
from typing import Any

from pmq.options import tr

#: old module -> new module(s), first match wins for a name.
OLD_PATHS: dict[str, tuple[str, ...]] = {
    "pmq.demography": ("pmq.model.ages",),
    "pmq.demand": ("pmq.model.demand",),
    "pmq.supply": ("pmq.model.entrants",),
    "pmq.mobility": ("pmq.model.mobility", "pmq.inputs.interregional"),
    "pmq.engine": ("pmq.model.engine",),
    "pmq.io": ("pmq.inputs.tables",),
    "pmq.baseline": ("pmq.inputs.baseline",),
    "pmq.training": ("pmq.inputs.training",),
    "pmq.levers": ("pmq.scenario.levers",),
    "pmq.sectors": ("pmq.scenario.sectors",),
    "pmq.calibration": ("pmq.estimation.calibration",),
    "pmq.exits_fit": ("pmq.estimation.exits",),
    "pmq.trends": ("pmq.estimation.trends",),
    "pmq.backtest": ("pmq.estimation.backtest",),
    "pmq.data.build": ("pmq.estimation.build",),
    "pmq.compare": ("pmq.projection.compare",),
    "pmq.indicators": ("pmq.projection.indicators",),
    "pmq.ensemble": ("pmq.projection.ensemble",),
    "pmq.sensitivity": ("pmq.projection.sensitivity",),
    "pmq.imbalance": ("pmq.analysis.imbalance",),
    "pmq.transitions": ("pmq.analysis.occupational",),
    "pmq.separations": ("pmq.analysis.separations",),
    "pmq.reproduce": ("pmq.analysis.reproduce",),
    "pmq.scenario_tables": ("pmq.analysis.sources",),
    "pmq.report": ("pmq.export.report",),
}


class _Split(types.ModuleType):
    """A 0.1 module whose names now live in several modules."""

    def __init__(self, name: str, targets: tuple[str, ...]):
        super().__init__(name)
        self.__targets = targets

    def __getattr__(self, attr: str):
        for t in self.__targets:
            mod = importlib.import_module(t)
            if hasattr(mod, attr):
                return getattr(mod, attr)
        raise AttributeError(f"module {self.__name__!r} (now {' and '.join(self.__targets)}) has no attribute {attr!r}")


class _Loader(importlib.abc.Loader):
    def __init__(self, targets: tuple[str, ...]):
        self.targets = targets

    def create_module(self, spec):
        if len(self.targets) == 1:
            return importlib.import_module(self.targets[0])
        return _Split(spec.name, self.targets)

    def exec_module(self, module) -> None:
        pass


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        targets = OLD_PATHS.get(fullname)
        if targets is None:
            return None
        warnings.warn(tr(f"{fullname} is now {' and '.join(targets)} (pmq 0.2 layout); the old path will be removed "
                         "in a later release",
                         f"{fullname} est désormais {' et '.join(targets)} (organisation de pmq 0.2) ; l'ancien chemin "
                         "disparaîtra dans une version ultérieure"), DeprecationWarning, stacklevel=3)
        return importlib.util.spec_from_loader(fullname, _Loader(targets))


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
    install_lazy_dask()


# ------------------------------------------------------------------ xarray without importing dask.array
#: xarray, when dask is installed, imports ``dask.array`` (and through it SciPy's FFT: ≈ 0.5 s, as long as
#: numpy + pandas + xarray themselves) the first time it builds a variable, only to ask whether the data is a
#: dask array.  No object can be a ``dask.array.Array`` before ``dask.array`` is imported: the entry below
#: answers xarray's question from ``sys.modules`` instead, so a run without ensembles never pays for dask,
#: and an ensemble (which imports dask.array itself) sees the real type.  If xarray's internals change, the
#: entry is simply not installed and xarray behaves as before.
_PYCOMPAT = "xarray.namedarray.pycompat"


def _lazy_dask_entry(pycompat) -> None:
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    base: Any = getattr(pycompat, "DuckArrayModule", None)
    if not isinstance(cache, dict) or base is None or "dask" in cache:
        return

    class _LazyDask(base):
        """xarray's cache entry for dask: the array type once ``dask.array`` is imported, none before."""

        def __init__(self):  # noqa: D401 - nothing is imported here
            self._full = None

        def _resolved(self):
            if self._full is None:
                self._full = base("dask")
            return self._full

        @property
        def type(self):
            mod = sys.modules.get("dask.array")
            array = getattr(mod, "Array", None) if mod is not None else None
            return (array,) if isinstance(array, type) else ()

        @property
        def version(self):
            return self._resolved().version

        @property
        def module(self):
            return self._resolved().module

        @property
        def available(self):
            return self._resolved().available

    cache["dask"] = _LazyDask()
    _lazy_dask_collection(sys.modules.get("xarray.namedarray.utils"))


def _lazy_dask_collection(utils) -> None:
    """xarray's ``is_dask_collection`` imports ``dask.base`` (≈ 0.15 s) to answer for every array it wraps.
    An object can only be a dask collection once dask is imported: until then the answer is False without
    importing it; afterwards, xarray's own function answers."""
    original = getattr(utils, "is_dask_collection", None)
    if original is None or getattr(original, "_pmq_lazy", False):
        return

    def is_dask_collection(x):
        if sys.modules.get("dask") is None:          # not imported (or blocked: None in sys.modules)
            return False
        try:
            return original(x)
        except ImportError:                          # dask.base unavailable: nothing can be a dask collection
            return False

    is_dask_collection._pmq_lazy = True  # type: ignore[attr-defined]
    is_dask_collection.__doc__ = original.__doc__
    utils.is_dask_collection = is_dask_collection


class _AfterXarray(importlib.abc.MetaPathFinder):
    """Installs :func:`_lazy_dask_entry` as soon as xarray's ``namedarray.pycompat`` is executed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _PYCOMPAT:
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module):
            run(module)
            try:
                _lazy_dask_entry(module)
            except Exception:  # noqa: BLE001 - an optimisation only: xarray works without it
                pass

        loader.exec_module = exec_module
        return spec


def install_lazy_dask() -> None:
    """Spare runs without ensembles the import of ``dask.array`` by xarray (see :func:`_lazy_dask_entry`)."""
    module = sys.modules.get(_PYCOMPAT)
    if module is not None:
        try:
            _lazy_dask_entry(module)
        except Exception:  # noqa: BLE001 - an optimisation only
            pass
    elif not any(isinstance(f, _AfterXarray) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterXarray())
