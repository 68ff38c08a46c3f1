"""The summary of a run: national totals of the headline flows at each horizon, as text (a terminal),
HTML (Jupyter) and a DataFrame.

:class:`Summary` is what ``Projection.summary()`` (one scenario or several) and ``ds.pmq.summary()`` return.
It is a ``str`` (the text ``print`` shows, in one language: French numbers « 26 147,0 » and words by default,
English « 26,147.0 » with ``lang="en"``) that also carries its table (``.table``, persons) and renders as an HTML
table in Jupyter.
"""
from __future__ import annotations

import html
import json
from typing import Any

import pandas as pd
import xarray as xr

from pmq.formatting import check_lang, format_number
from pmq.projection.indicators import (aggregate_flags, cell_flags, default_end_years, horizon_sums, summary_table,
                                       with_flags)

__all__ = ["Summary", "summarize", "summary_end_years", "scenario_summary_table", "size_line", "COLUMNS"]

#: Columns of the summary: variable → (French header, English header, width of the text column)
#: column → (French header, English header, text width)
COLUMNS: dict[str, tuple[str, str, int]] = {
    "employment_start": ("emploi initial", "employment start", 14),
    "net_creation": ("créations", "net creation", 12),
    "departures": ("départs", "departures", 12),
    "openings": ("postes", "openings", 12),
    "young_entrants": ("jeunes", "young entrants", 12),
    "net_mobility": ("mobilité", "mobility", 12),
    "imbalance": ("déséquilibre", "imbalance", 14),
}
_WORDS: dict[str, dict[str, Any]] = {
    "fr": {"period": "période", "unit": "(milliers)", "projection": "projection pmq",
           "comparison": "comparaison pmq", "scenarios": "scénarios", "metiers": ("métier", "métiers")},
    "en": {"period": "period", "unit": "(thousands)", "projection": "pmq projection",
           "comparison": "pmq comparison", "scenarios": "scenarios", "metiers": ("occupation", "occupations")},
}
#: The territories of a level, singular and plural, by language
_TERRITORY_WORDS = {
    "fr": {"region": ("région", "régions"), "departement": ("département", "départements"),
           "zone_emploi": ("zone d'emploi", "zones d'emploi"), None: ("territoire", "territoires")},
    "en": {"region": ("region", "regions"), "departement": ("département", "départements"),
           "zone_emploi": ("zone d'emploi", "zones d'emploi"), None: ("territory", "territories")},
}


#: INSEE codes of the 13 metropolitan régions and the 5 DOM
_REGION_CODES = frozenset("11 24 27 28 32 44 52 53 75 76 84 93 94 01 02 03 04 06".split())


def _count(n: int, words: tuple[str, str]) -> str:
    return f"{n} {words[0] if n == 1 else words[1]}"


def size_line(accounts: xr.Dataset, lang: str | None = None) -> str:
    """« année de base 2019, horizon 20 ans, 13 régions × 83 métiers » (English with ``lang="en"``)."""
    lang = check_lang(lang)
    level = accounts.attrs.get("level")
    if level is None and set(map(str, accounts.territory.values)) <= _REGION_CODES:
        level = "region"                   # the built-in régions (with or without the DOM); else a user's territories
    level = level if level in _TERRITORY_WORDS[lang] else None
    n_years = int(accounts.attrs["horizon_years"])
    cells = (f"{_count(accounts.sizes['territory'], _TERRITORY_WORDS[lang][level])} × "
             f"{_count(accounts.sizes['metier'], _WORDS[lang]['metiers'])}")
    if lang == "fr":
        return f"année de base {accounts.attrs['base_year']}, horizon {_count(n_years, ('an', 'ans'))}, {cells}"
    return f"base year {accounts.attrs['base_year']}, horizon {_count(n_years, ('year', 'years'))}, {cells}"


def summary_end_years(accounts: xr.Dataset, horizons=None, years=None) -> list[int]:
    """End years of the summary windows: the scenario's ``horizons.summary`` and ``horizons.years`` (read back
    from the accounts' ``scenario_resolved``; 5, 10, 20 years and 2030 by default) plus the baseline's
    published horizon (``period_end``), those the projection reaches."""
    spec: dict[str, Any] = {}
    try:
        resolved = json.loads(accounts.attrs.get("scenario_resolved", "{}"))
    except (TypeError, ValueError):
        resolved = {}
    if "scenario" in accounts.dims and resolved:          # several scenarios: the first one's horizons
        resolved = resolved.get(str(accounts.scenario.values[0]), {})
    if isinstance(resolved, dict):
        spec = resolved.get("horizons", {}) or {}
    if years is None:
        years = (*spec.get("years", (2030,)),
                 *((int(accounts.attrs["period_end"]),) if "period_end" in accounts.attrs else ()))
    return default_end_years(accounts, horizons or tuple(spec.get("summary", (5, 10, 20))), years)


class Summary(str):
    """National totals at each horizon: ``print(s)`` gives the text, ``s.table`` the DataFrame (persons; one
    row per period, or per scenario × period), Jupyter an HTML table (``_repr_html_``)."""

    table: pd.DataFrame
    title: str  # type: ignore[assignment]  # deliberately shadows str.title() (public attribute since 0.1)
    lang: str

    def __new__(cls, text: str, table: pd.DataFrame | None = None, title: str = "", lang: str | None = None):
        lang = check_lang(lang)
        self = super().__new__(cls, text)
        self.table, self.title, self.lang = table, title, lang
        return self

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The summary's tables by name (``{"national": table}``)."""
        return {"national": self.table}

    def as_text(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:      # the REPL shows the table, not a quoted string
        return str.__str__(self)

    def as_html(self) -> str:
        lang = self.lang
        head = "".join(f"<th>{html.escape(h)}</th>" for h in
                       ([] if "scenario" not in self.table.columns else ["scenario"])
                       + ["période" if lang == "fr" else "period"]
                       + [COLUMNS[k][0] if lang == "fr" else COLUMNS[k][1] for k in COLUMNS])
        rows = []
        for _, r in self.table.iterrows():
            cells = ([f"<td>{html.escape(str(r['scenario']))}</td>"] if "scenario" in self.table.columns else [])
            cells.append(f"<td>{html.escape(str(r['period']))}</td>")
            cells += [f"<td style='text-align:right'>{html.escape(format_number(r[k], 1, lang, scale=1e-3))}</td>"
                      for k in COLUMNS]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        lines = str.__str__(self).splitlines()
        caption = "<br>".join(html.escape(x) for x in lines[:2])
        unit = _WORDS[lang]["unit"]
        return (f"<table class='pmq-summary'><caption style='text-align:left'>{caption} {html.escape(unit)}"
                f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def _repr_html_(self) -> str:
        return self.as_html()


def _header(lang: str) -> str:
    w = _WORDS[lang]
    cols = "".join(f"{h:>{max(width, len(h) + 2)}}" for h, width in
                   ((c[0] if lang == "fr" else c[1], c[2]) for c in COLUMNS.values()))
    return f"{w['period']:<12}{cols}  {w['unit']}"


def _rows(h: xr.Dataset, lang: str) -> list[str]:
    widths = [max(c[2], len(c[0] if lang == "fr" else c[1]) + 2) for c in COLUMNS.values()]
    out = []
    for i, per in enumerate(h.period.values):
        cells = "".join(f"{format_number(float(h[k].values[i]), 1, lang, scale=1e-3):>{wd}}"
                        for k, wd in zip(COLUMNS, widths))
        out.append(f"{per:<12}{cells}")
    return out


def _long(h: xr.Dataset, flags: pd.DataFrame | None = None, lang: str | None = None) -> pd.DataFrame:
    df = h[list(COLUMNS)].drop_vars([c for c in h.coords if c not in h.dims]).to_dataframe().reset_index()
    df = df[[c for c in ("scenario", "period") if c in df.columns] + list(COLUMNS)]
    if flags is None:
        return df
    # national totals of a split or estimated run: estimated if any cell is (pmq.projection.indicators)
    return with_flags(df.assign(_all=""), aggregate_flags(flags, [], _all=""), ["_all"], lang).drop(columns="_all")


def summarize(accounts: xr.Dataset, h: xr.Dataset | None = None, lang: str | None = None) -> Summary:
    """The :class:`Summary` of an accounts Dataset (one scenario, or several along ``scenario``) from its
    :func:`~pmq.projection.indicators.horizon_sums` ``h`` (default: the windows of :func:`summary_end_years`)."""
    lang = check_lang(lang)
    w = _WORDS[lang]
    if h is None:
        h = horizon_sums(accounts, summary_end_years(accounts))
    flags = cell_flags(accounts)
    h = h.sum(["territory", "metier"])
    size = size_line(accounts, lang)
    key = "scenario_title_fr" if lang == "fr" else "scenario_title_en"
    if "scenario" not in h.dims:
        title = accounts.attrs.get(key) or accounts.attrs.get("scenario_title_fr") or accounts.attrs.get("scenario", "")
        lines = [f"{w['projection']} — {title}", size, _header(lang), *_rows(h, lang)]
        return Summary("\n".join(lines), _long(h, flags, lang), title, lang)
    names = [str(s) for s in accounts.scenario.values]
    titles = ([str(t) for t in accounts[key].values] if key in accounts.coords else names)
    title = f"{w['comparison']} — {len(names)} {w['scenarios']}"
    lines = [title, size]
    for i, name in enumerate(names):
        lines += ["", f"{titles[i]} ({name})" if titles[i] != name else name, _header(lang),
                  *_rows(h.isel(scenario=i), lang)]
    return Summary("\n".join(lines), _long(h, flags, lang), title, lang)


def scenario_summary_table(h: xr.Dataset, lang: str | None = None) -> pd.DataFrame:
    """:func:`~pmq.projection.indicators.summary_table` of horizon sums with or without a ``scenario``
    dimension: with one, a first ``scenario`` column and each scenario's rows in turn.  A split or estimated run
    adds the columns that flag estimated cells (``reliability``, ``reliability_label`` in ``lang``,
    ``estimated``, ``key_basis``)."""
    if "scenario" not in h.dims:
        return summary_table(h, lang)
    parts = []
    for name in h.scenario.values:
        t = summary_table(h.sel(scenario=name, drop=True).drop_vars(
            ["scenario_title_fr", "scenario_title_en", "scenario_hash"], errors="ignore"), lang)
        t.insert(0, "scenario", str(name))
        parts.append(t)
    return pd.concat(parts, ignore_index=True)
