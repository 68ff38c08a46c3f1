"""House style, palette and the data plumbing shared by every chart."""
from __future__ import annotations

import contextlib

import numpy as np
import xarray as xr

from .. import data as _data
from ..formatting import check_lang
from ..labels import metier_label, text

__all__ = ["PALETTE", "COLORS", "DIVERGING_CMAP", "SEQUENTIAL_CMAP", "house_style", "new_axes",
           "accounts_of", "one_scenario", "subset_sum", "window", "scenario_names", "source_note",
           "selection_title", "territory_name"]

#: Okabe & Ito (2008) palette: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
COLORS = {"up": "#0072B2", "down": "#D55E00", "total": "#3C3C3C", "base": "#56B4E9", "horizon": "#000000",
          "highlight": "#E69F00", "muted": "#BBBBBB"}
#: Diverging and sequential colour maps safe for colour-vision deficiencies (ColorBrewer PuOr, cividis).
DIVERGING_CMAP = "PuOr_r"
SEQUENTIAL_CMAP = "cividis"

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.prop_cycle": __import__("cycler").cycler(color=PALETTE),
    "axes.grid": False,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "axes.unicode_minus": True,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",
}


@contextlib.contextmanager
def house_style():
    """Context manager applying pmq's house style to the figures created inside it."""
    import matplotlib as mpl
    with mpl.rc_context(_RC):
        yield


def new_axes(ax=None, figsize=(7.0, 4.2)):
    """``(figure, axes, created)``: the given axes, or a new figure in house style."""
    import matplotlib.pyplot as plt
    if ax is not None:
        return ax.figure, ax, False
    with house_style():
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax, True


def styled(func):
    """Run a chart function under the house style (so fonts and spines apply to its artists)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        check_lang(kwargs.get("lang", "fr"))
        with house_style():
            return func(*args, **kwargs)
    return wrapper


def accounts_of(data) -> xr.Dataset:
    """The accounts Dataset of a :class:`~pmq.Projection`, a :class:`~pmq.compare.Comparison` or a Dataset."""
    if isinstance(data, xr.Dataset):
        return data
    acc = getattr(data, "accounts", None)
    if isinstance(acc, xr.Dataset):
        return acc
    raise TypeError(f"expected a Projection, a Comparison or an accounts Dataset, got {type(data).__name__}")


def one_scenario(acc: xr.Dataset, scenario=None) -> xr.Dataset:
    """Drop the ``scenario`` dimension, keeping ``scenario`` (name) or the first one."""
    if "scenario" not in acc.dims:
        return acc
    names = [str(s) for s in acc.scenario.values]
    if scenario is not None and scenario not in names:
        from ..errors import UnknownNameError
        raise UnknownNameError(f"unknown scenario {scenario!r}; this run has: {', '.join(names)}")
    one = acc.isel(scenario=names.index(scenario) if scenario is not None else 0)
    attrs = dict(acc.attrs, scenario=str(one.scenario.values))
    for k in ("scenario_title_fr", "scenario_title_en", "scenario_hash"):
        if k in one.coords:
            attrs[k] = str(one[k].values)
    one = one.drop_vars([c for c in ("scenario", "scenario_title_fr", "scenario_title_en", "scenario_hash")
                         if c in one.coords])
    one.attrs = attrs
    return one


def scenario_names(acc: xr.Dataset, lang: str = "fr") -> list[str]:
    """Display names of the scenarios along ``scenario`` (titles when present)."""
    key = "scenario_title_fr" if lang == "fr" else "scenario_title_en"
    if key in acc.coords:
        return [str(t) for t in acc[key].values]
    return [str(s) for s in acc.scenario.values]


def subset_sum(ds: xr.Dataset, territory=None, metier=None, keep=()) -> xr.Dataset:
    """Select territories / métiers by code or name (see :func:`pmq.select`), then sum over
    ``territory`` and ``metier`` unless they are in ``keep``."""
    from ..indicators import select
    if territory is not None or metier is not None:
        ds = select(ds, territory=territory, metier=metier)
    dims = [d for d in ("territory", "metier") if d in ds.dims and d not in keep]
    drop = [c for c in ds.coords if c not in ds.dims and any(d in dims for d in ds[c].dims)]
    # min_count: a flow undefined everywhere (the final year) stays undefined, not 0
    return ds.drop_vars(drop).sum(dims, keep_attrs=True, min_count=1) if dims else ds


def window(acc: xr.Dataset, start_year=None, end_year=None) -> xr.Dataset:
    """Flows summed over a window (default: base year to the projection's last year)."""
    from ..indicators import window_sums
    return window_sums(acc, start_year, end_year)


def window_of(acc: xr.Dataset, territory=None, metier=None, start_year=None, end_year=None, keep=()) -> xr.Dataset:
    """Select territories / métiers first (cheap views), then sum the window's flows, then sum
    over ``territory`` and ``metier`` unless kept."""
    from ..indicators import select
    if territory is not None or metier is not None:
        acc = select(acc, territory=territory, metier=metier)
    return subset_sum(window(acc, start_year, end_year), keep=keep)


def period_label(acc: xr.Dataset, start_year=None, end_year=None) -> str:
    """« 2019–2030 »: the window's label (bounds default to the projection's)."""
    years = acc.year.values
    start = int(years[0]) if start_year is None else int(start_year)
    end = int(years[-1]) if end_year is None else int(end_year)
    return f"{start}–{end}"


def _is_builtin_france(acc: xr.Dataset) -> bool:
    return set(map(str, acc.territory.values)) == set(_data.regions()["code"])


def national(acc: xr.Dataset, lang: str = "fr") -> tuple[str, str, str]:
    """``(code, name, short)`` of the sum of all territories: France for the 13 built-in
    regions, « Ensemble des territoires » for a user's own."""
    if _is_builtin_france(acc):
        return "FR", text("france", lang), "FR"
    return ("ALL", "Ensemble des territoires" if lang == "fr" else "All territories",
            "Ens." if lang == "fr" else "All")


def territory_name(acc: xr.Dataset, territory=None, lang: str = "fr") -> str:
    """Display name of a selection of territories (all of them: « France métropolitaine »)."""
    if territory is None:
        return national(acc, lang)[1]
    from ..indicators import select
    sel = select(acc, territory=territory)
    names = [str(n) for n in (sel.territory_name.values if "territory_name" in sel.coords else sel.territory.values)]
    return ", ".join(names)


def metier_name(acc: xr.Dataset, metier=None, lang: str = "fr") -> str:
    if metier is None:
        return text("all_metiers", lang)
    from ..indicators import select
    sel = select(acc, metier=metier)
    labs = sel.metier_label.values if "metier_label" in sel.coords else None
    codes = [str(c) for c in sel.metier.values]
    if len(codes) > 2:
        return f"{len(codes)} {'métiers' if lang == 'fr' else 'occupations'} ({', '.join(codes[:3])}…)"
    return ", ".join(metier_label(codes, lang, labels=labs))


def selection_title(acc, territory=None, metier=None, lang="fr") -> str:
    t = territory_name(acc, territory, lang)
    return t if metier is None else f"{t} — {metier_name(acc, metier, lang)}"


def source_note(fig, acc: xr.Dataset, lang: str = "fr") -> None:
    """Source line at the bottom of a figure, as reports print it."""
    scen = acc.attrs.get("scenario_title_fr" if lang == "fr" else "scenario_title_en", acc.attrs.get("scenario", ""))
    if "scenario" in acc.dims:
        scen = ""
    base = ("Source : DARES – France Stratégie, « Les métiers en 2030 » ; projection pmq"
            if lang == "fr" else "Source: DARES – France Stratégie, « Les métiers en 2030 »; pmq projection")
    if not _is_builtin_france(acc):
        base = "Source : projection pmq" if lang == "fr" else "Source: pmq projection"
    note = base + (f" ({scen})" if scen else "") + "."
    bottom_note(fig, note)


def bottom_note(fig, note: str) -> None:
    """A line of small text at the bottom of ``fig``, inside it (constrained layout keeps a band
    free for it), so it survives any ``savefig`` setting."""
    import textwrap
    width_in, height_in = fig.get_size_inches()
    lines = textwrap.wrap(note, max(40, int(width_in * 17)))    # 7-pt text: about 17 characters per inch
    note = "\n".join(lines)
    band = (0.06 + 0.13 * len(lines)) / height_in
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set") and "rect" in getattr(engine, "get", lambda: {})():
        rect = engine.get()["rect"]
        engine.set(rect=(rect[0], rect[1] + band, rect[2], rect[3] - band))
    fig.text(0.01, 0.012, note, ha="left", va="bottom", fontsize=7, color="#555555", transform=fig.transFigure)


def as_float(a) -> np.ndarray:
    return np.asarray(a, dtype=float)
