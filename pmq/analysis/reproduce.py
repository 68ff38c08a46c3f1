"""Cell-by-cell reproduction of a published exercise by a pmq run.

    >>> from pmq.analysis.reproduce import reproduce_metiers2030
    >>> rep = reproduce_metiers2030()          # reference run over 2019–2030
    >>> rep.summary                            # max and median |pmq − published| per column
    >>> rep.cells                              # one row per published row

Only one exercise exists: ``metiers2030``, the regional results of « Les métiers en 2030 »
(DARES – France Stratégie, 2023), 1,049 published rows (13 regions × 83 métiers, Corse in
15 groups of métiers).  For every numeric column of the shipped raw file
``pmq/data/raw/metiers2030_region_fap.csv`` the table holds the published value, pmq's value
computed with the source's conventions and the difference pmq − published.

Source conventions (checked numerically on the file, see docs/reproduction.md):

* ``*_milliers``: totals over 2019–2030, thousands of persons;
* ``*_pct``: the ``*_milliers`` column divided by ``effectifs_2019_milliers`` (a share of 2019
  employment, not a percentage);
* ``jeunes_debutants`` is stored negative; ``solde_mobilites_inter_regions`` is positive for a
  net *outflow* (pmq's ``net_mobility`` is a net inflow);
* ``postes_a_pourvoir = creations_destructions + departs_fin_carriere`` and
  ``desequilibre = postes_a_pourvoir + jeunes_debutants + solde_mobilites_inter_regions``
  (i.e. openings − young entrants + net outflow);
* ``part_metier_region``: the métier's share of the region's 2019 employment;
* ``indice_specificite``: that share divided by the métier's share of employment in the rest
  of France (the 12 other regions) — the definition that fits the published values best.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pmq.errors import ArgumentError, InputError, PmqError, UnknownNameError
from pmq._version import __version__
from pmq.data import raw_metiers2030, regions
from pmq.formatting import MINUS, check_lang, format_number
from pmq.inputs.baseline import load_baseline
from pmq.options import tr
from pmq.outputs import atomic_file, neutralise, safe_text
from pmq.projection.run import project

__all__ = ["Reproduction", "reproduce", "reproduce_metiers2030", "get_exercise", "EXERCISES",
           "METIERS2030_COLUMNS"]

K = 1000.0
RAW_FILE = "metiers2030_region_fap.csv"
ID_COLUMNS = ("code_fap", "fap_libelle", "region", "territory")

#: Numeric columns of the source, in its order, with their unit.
METIERS2030_COLUMNS = {
    "effectifs_2019_milliers": "milliers",
    "part_metier_region": "part de l'emploi 2019 de la région",
    "indice_specificite": "indice (1 = même part que le reste de la France)",
    "creations_destructions_milliers": "milliers",
    "creations_destructions_pct": "part de l'emploi 2019",
    "departs_fin_carriere_milliers": "milliers",
    "departs_fin_carriere_pct": "part de l'emploi 2019",
    "jeunes_debutants_milliers": "milliers",
    "jeunes_debutants_pct": "part de l'emploi 2019",
    "solde_mobilites_inter_regions_milliers": "milliers",
    "solde_mobilites_inter_regions_pct": "part de l'emploi 2019",
    "desequilibre_milliers": "milliers",
    "desequilibre_pct": "part de l'emploi 2019",
    "postes_a_pourvoir_milliers": "milliers",
    "postes_a_pourvoir_pct": "part de l'emploi 2019",
}

#: Source column (stem) → (pmq variable of the horizon sums, sign applied to pmq's value).
_FLOWS = {
    "effectifs_2019": ("employment_start", 1),
    "creations_destructions": ("net_creation", 1),
    "departs_fin_carriere": ("departures", 1),
    "jeunes_debutants": ("young_entrants", -1),             # stored negative in the source
    "solde_mobilites_inter_regions": ("net_mobility", -1),  # source: net outflow; pmq: net inflow
    "desequilibre": ("imbalance", 1),
    "postes_a_pourvoir": ("openings", 1),
}

_SPECIFICITY = ("rest_of_france", "national")

#: The English units of :data:`METIERS2030_COLUMNS` (the workbook's summary sheet in English).
_UNITS_EN = {"milliers": "thousands", "part de l'emploi 2019 de la région": "share of the region's 2019 employment",
             "indice (1 = même part que le reste de la France)": "index (1 = same share as the rest of France)",
             "part de l'emploi 2019": "share of 2019 employment"}
#: Source column stem → (French label, English label): the headers of the workbook (the CSV keeps the identifiers).
_STEM_LABELS = {
    "effectifs_2019": ("Effectifs 2019", "Employment 2019"),
    "creations_destructions": ("Créations nettes d'emploi", "Net job creation"),
    "departs_fin_carriere": ("Départs en fin de carrière", "End-of-career departures"),
    "jeunes_debutants": ("Jeunes débutants", "Young entrants"),
    "solde_mobilites_inter_regions": ("Solde des mobilités interrégionales (sorties nettes)",
                                      "Net interregional mobility (net outflow)"),
    "desequilibre": ("Déséquilibre potentiel", "Potential imbalance"),
    "postes_a_pourvoir": ("Postes à pourvoir", "Job openings"),
    "part_metier_region": ("Part du métier dans l'emploi 2019 de la région",
                           "Occupation's share of the region's 2019 employment"),
    "indice_specificite": ("Indice de spécificité", "Specificity index"),
}
_SUFFIX_LABELS = {"_milliers": (" (milliers)", " (thousands)"), "_pct": (" (part de l'emploi 2019)",
                                                                       " (share of 2019 employment)")}
#: Headers of the other columns of the workbook: column → (French, English).
_HEADERS = {
    "code_fap": ("Code FAP publié (« ; » : groupe de métiers)", "Published FAP code (\";\": group of occupations)"),
    "fap_libelle": ("Libellé FAP (source)", "FAP label (source, in French)"),
    "region": ("Région (orthographe de la source)", "Region (source spelling)"),
    "territory": ("Code territoire", "Territory code"),
    "column": ("Colonne de la source", "Source column"),
    "column_label": ("Libellé", "Label"),
    "unit": ("Unité", "Unit"),
    "max_abs_diff": ("Écart absolu maximal", "Largest absolute difference"),
    "median_abs_diff": ("Écart absolu médian", "Median absolute difference"),
    "max_code_fap": ("Code FAP de l'écart maximal", "FAP code of the largest difference"),
    "max_region": ("Région de l'écart maximal", "Region of the largest difference"),
    "published_at_max": ("Valeur publiée, ligne de l'écart maximal", "Published value, row of the largest difference"),
    "pmq_at_max": ("Valeur pmq, ligne de l'écart maximal", "pmq value, row of the largest difference"),
}
_KIND_LABELS = {"published": (" — publié", " — published"), "pmq": (" — pmq", " — pmq"),
                "diff": (" — écart pmq − publié", " — difference pmq − published")}
#: The sheets' and the README's words, by language.
_WORDS = {"fr": {"item": "rubrique", "explanation": "explication", "sheet": "feuille", "column": "colonne",
                 "header": "en-tête", "unit": "unité"},
          "en": {"item": "item", "explanation": "explanation", "sheet": "sheet", "column": "column",
                 "header": "header", "unit": "unit"}}


def _source_column_label(column: str, lang: str | None = None) -> str:
    """The French or English label of a numeric column of « Les métiers en 2030 » (``effectifs_2019_milliers`` →
    « Effectifs 2019 (milliers) »)."""
    i = 0 if check_lang(lang) == "fr" else 1
    for suffix, labels in _SUFFIX_LABELS.items():
        if column.endswith(suffix) and column[: -len(suffix)] in _STEM_LABELS:
            return _STEM_LABELS[column[: -len(suffix)]][i] + labels[i]
    return _STEM_LABELS[column][i] if column in _STEM_LABELS else column


def _g(x, lang: str) -> str:
    """A difference in the terminal table: three significant digits, French (« 1,2e−07 ») or English."""
    if x is None or x != x:
        return "–"
    text = f"{x:.3g}"
    return text.replace(".", ",").replace("-", MINUS) if lang == "fr" else text


@dataclass
class Reproduction:
    """Published values, pmq's values and their differences for one exercise.

    Attributes
    ----------
    exercise : str
        Name of the exercise (``"metiers2030"``).
    cells : DataFrame
        One row per published row: the identifiers (``code_fap``, ``fap_libelle``, ``region``,
        ``territory``) then, for every numeric column ``c`` of the source, ``c_published``,
        ``c_pmq`` and ``c_diff`` (= pmq − published).
    summary : DataFrame
        One row per numeric column: unit, max and median absolute difference, and the row
        (``code_fap``, ``region``) where the max occurs with both values there.
    columns : tuple of str
        The numeric columns compared, in the source's order.
    scenario, period, source : str
        The pmq scenario run, the period summed (``"2019–2030"``) and the raw file compared.
    readme : list of (str, str)
        Explanations written to the README sheet of the Excel file (French).
    notes : list of str
        Short remarks printed under the table (English).
    readme_en, notes_fr : list
        The same in the other language (a French workbook or table uses ``readme`` and ``notes_fr``, an English
        one ``readme_en`` and ``notes``; an empty one falls back on the other).
    """

    exercise: str
    cells: pd.DataFrame
    summary: pd.DataFrame
    columns: tuple
    scenario: str = "reference"
    period: str = ""
    source: str = ""
    readme: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    readme_en: list = field(default_factory=list)
    notes_fr: list = field(default_factory=list)

    @property
    def file_stem(self) -> str:
        return f"{self.exercise}_differences"

    def write_csv(self, path) -> None:
        """Write :attr:`cells` to one CSV file (full precision, UTF-8 with a byte-order mark so that Excel shows
        the accents).  Through :meth:`writers` or :meth:`to_csv` the file is moved into place by
        :mod:`pmq.outputs`, which also neutralises text fields and applies the current
        :func:`pmq.outputs.csv_dialect` (``--csv-sep``)."""
        self.cells.to_csv(path, index=False, encoding="utf-8-sig")

    def column_labels(self, lang: str | None = None) -> dict[str, str]:
        """Column → header of the workbook's sheets (:attr:`summary`, :attr:`cells`) in ``lang`` (default: pmq's
        option, French unless set): « Effectifs 2019 (milliers) — publié », « Écart absolu maximal »…"""
        lang = check_lang(lang)
        i = 0 if lang == "fr" else 1
        labels = {c: h[i] for c, h in _HEADERS.items()}
        for c in self.columns:
            for kind, suffix in _KIND_LABELS.items():
                labels[f"{c}_{kind}"] = _source_column_label(c, lang) + suffix[i]
        return labels

    def sheets(self, lang: str | None = None) -> dict[str, pd.DataFrame]:
        """The tables of the workbook, ``{"summary": …, "cells": …}``, under pmq's column names: :attr:`summary`
        with each source column's label (``column_label``) and its unit in ``lang``, and :attr:`cells`."""
        lang = check_lang(lang)
        summary = self.summary.copy()
        summary.insert(summary.columns.get_loc("column") + 1, "column_label",
                       [_source_column_label(c, lang) for c in summary["column"]])
        if lang == "en" and "unit" in summary.columns:
            summary["unit"] = [_UNITS_EN.get(u, u) for u in summary["unit"]]
        return {"summary": summary, "cells": self.cells}

    def write_excel(self, path, lang: str | None = None) -> None:
        """Write an .xlsx workbook with the sheets README, summary and cells, in ``lang`` (default: pmq's option,
        French unless set): the README's text and the headers (« Écart absolu maximal », « Effectifs 2019
        (milliers) — publié »…), while the codes keep columns of their own; the README ends with the table of
        every sheet's columns (sheet, column, header, unit) that :func:`pmq.export.read_excel_tables` reads to give
        the tables back under their identifiers (those of the CSV file).  Every text cell goes through
        :func:`pmq.outputs.safe_text` (no formula from a label)."""
        lang = check_lang(lang)
        w = _WORDS[lang]
        labels = self.column_labels(lang)
        tables = self.sheets(lang)
        units = {f"{c}_{k}": u for c, u in METIERS2030_COLUMNS.items() for k in ("published", "pmq", "diff")}
        texts = (self.readme or self.readme_en) if lang == "fr" else (self.readme_en or self.readme)
        rows = [[w["item"], w["explanation"]], *([a, b] for a, b in texts), [],
                [w["sheet"], w["column"], w["header"], w["unit"]]]
        for name, df in tables.items():
            for c in df.columns:
                unit = units.get(c, "")
                rows.append([name, c, labels.get(c, c), _UNITS_EN.get(unit, unit) if lang == "en" else unit])
        with pd.ExcelWriter(path, engine="openpyxl") as xw:
            pd.DataFrame([[safe_text(v) for v in r] + [None] * (4 - len(r)) for r in rows]).to_excel(
                xw, sheet_name="README", index=False, header=False)
            for name, df in tables.items():
                neutralise(df).rename(columns=lambda c: safe_text(labels.get(c, c))).to_excel(
                    xw, sheet_name=name, index=False, freeze_panes=(1, 0))
            ws = xw.sheets["README"]
            for letter, width in zip("ABCD", (34, 140, 50, 30)):
                ws.column_dimensions[letter].width = width

    def writers(self, lang: str | None = None) -> dict:
        """``{file name: writer(path)}``, for writing both files atomically; the workbook in ``lang``."""
        lang = check_lang(lang)
        # in the session's language write_excel(path) itself: the same workbook, and the writer a caller may
        # have put in its place (a test's failing writer) is called as it is called elsewhere
        excel = self.write_excel if lang == check_lang(None) else (lambda path: self.write_excel(path, lang))
        return {f"{self.file_stem}.csv": self.write_csv, f"{self.file_stem}.xlsx": excel}

    def to_csv(self, directory) -> Path:
        """Write ``<exercise>_differences.csv`` into ``directory`` (atomically, UTF-8 with a byte-order mark, the
        separator of the current :func:`pmq.outputs.csv_dialect`); returns its path."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        return atomic_file(d / f"{self.file_stem}.csv", self.write_csv)

    def to_excel(self, path, lang: str | None = None) -> Path:
        """Write the workbook to ``path`` (a file, or a folder to hold ``<exercise>_differences.xlsx``), in
        ``lang`` (see :meth:`write_excel`)."""
        path = Path(path)
        if path.is_dir() or not path.suffix:
            path.mkdir(parents=True, exist_ok=True)
            path = path / f"{self.file_stem}.xlsx"
        self.write_excel(path, lang)
        return path

    def table(self, lang: str | None = None) -> str:
        """The per-column max and median absolute differences as text, in ``lang`` (default: pmq's option, French
        unless set): French words and numbers (« 1,2e−07 », « 1 049 ») or English ones.  The source's columns keep
        their identifiers (those of the CSV file)."""
        lang = check_lang(lang)
        fr = lang == "fr"
        s = self.summary
        w = max(len(c) for c in s["column"]) + 2
        n = format_number(len(self.cells), 0, lang)
        if fr:
            lines = [f"Reproduction de « Les métiers en 2030 » — scénario pmq {self.scenario}, {self.period}, {n} "
                     f"lignes publiées ; écarts pmq − publié",
                     f"{'colonne':<{w}}{'écart max':>12}{'écart médian':>15}  ligne de l'écart max (métier, région)"]
        else:
            lines = [f"Reproduction « Les métiers en 2030 » — pmq scenario {self.scenario}, {self.period}, {n} "
                     f"published rows; differences pmq − published",
                     f"{'column':<{w}}{'max |diff|':>12}{'median |diff|':>15}  where max (métier, region)"]
        for row in s.itertuples(index=False):
            lines.append(f"{row.column:<{w}}{_g(row.max_abs_diff, lang):>12}{_g(row.median_abs_diff, lang):>15}  "
                         f"{row.max_code_fap}, {row.max_region}")
        notes = (self.notes_fr or self.notes) if fr else (self.notes or self.notes_fr)
        lines += [f"note : {x}" if fr else f"note: {x}" for x in notes]
        return "\n".join(lines)


def _horizon_table(projection) -> tuple[pd.DataFrame, str]:
    """Flows summed over the published period, one row per territory × métier (persons)."""
    acc = projection.accounts
    base = int(acc.attrs["base_year"])
    end = int(acc.attrs["period_end"])
    last = int(acc.year.values[-1])
    if last < end:
        raise PmqError(tr(f"the projection stops in {last}; reproducing the published {base}–{end} "
                          f"totals needs a horizon of at least {end - base} years",
                          f"la projection s'arrête en {last} ; reproduire les totaux publiés {base}–{end} "
                          f"demande un horizon d'au moins {end - base} ans"))
    h = projection.horizons(horizons=[end - base], years=[])
    h = h.isel(period=[i for i, e in enumerate(h.end_year.values) if int(e) == end])
    period = str(h.period.values[0])
    h = h.isel(period=0, drop=True)
    keep = ["employment_start", *(v for v, _ in _FLOWS.values() if v != "employment_start")]
    df = pd.DataFrame({v: h[v].transpose("territory", "metier").values.ravel() for v in keep})
    terr, met = np.meshgrid(h.territory.values.astype(str), h.metier.values.astype(str), indexing="ij")
    df.insert(0, "territory", terr.ravel())
    df.insert(1, "metier", met.ravel())
    if "published_code" in h.coords:
        pc = h["published_code"].transpose("territory", "metier").values.astype(str).ravel()
    else:  # a user baseline without published groups: each métier is its own row
        pc = df["metier"].to_numpy()
    df.insert(2, "published_code", pc)
    return df, period


def _specificity(emp: pd.DataFrame, rows: pd.DataFrame, definition: str) -> pd.Series:
    """Specificity index of each published row from pmq's 2019 employment (persons).

    ``emp``: territory, metier, employment_start (every cell); ``rows``: territory, code_fap,
    share (the row's share of its territory's employment)."""
    if definition not in _SPECIFICITY:
        raise ArgumentError(tr(f"unknown specificity definition; use one of {_SPECIFICITY}",
                               f"définition de l'indice de spécificité inconnue ; valeurs possibles : {_SPECIFICITY}"),
                            name="specificity", value=definition)
    by_metier = emp.groupby("metier")["employment_start"].sum()
    total = float(emp["employment_start"].sum())
    terr_total = emp.groupby("territory")["employment_start"].sum()
    nat = np.array([by_metier.reindex(code.split(";")).sum() for code in rows["code_fap"]])
    if definition == "national":
        ref_share = nat / total
    else:  # the métier's share of employment in the other territories
        e_row = rows["share"].to_numpy() * rows["territory"].map(terr_total).to_numpy()
        ref_share = (nat - e_row) / (total - rows["territory"].map(terr_total).to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(rows["share"].to_numpy() / ref_share, index=rows.index)


def reproduce_metiers2030(baseline=None, projection=None, *, specificity: str = "rest_of_france",
                          progress=None) -> Reproduction:
    """Compare a pmq run with every row of « Les métiers en 2030 » (regional results).

    Parameters
    ----------
    baseline : Dataset, optional
        Baseline to project (default: the embedded one, :func:`pmq.load_baseline`).  Ignored
        when ``projection`` is given.
    projection : Projection, optional
        A run reaching the published end year (2030); default: the ``reference`` scenario
        projected over the published period (11 years).
    specificity : {"rest_of_france", "national"}
        Reference share of ``indice_specificite``: the métier's share of employment in the
        other regions (default, the best fit of the published values) or in all 13 regions.
    progress : callable(i, n), optional
        Passed to :func:`pmq.project`.

    Returns
    -------
    Reproduction
        ``cells`` (1,049 rows) and ``summary`` (one row per numeric column).
    """
    if specificity not in _SPECIFICITY:
        raise ArgumentError(tr(f"unknown specificity definition; use one of {_SPECIFICITY}",
                               f"définition de l'indice de spécificité inconnue ; valeurs possibles : {_SPECIFICITY}"),
                            name="specificity", value=specificity)
    if projection is None:
        if baseline is None:
            baseline = load_baseline()
        projection = project(baseline, "reference", horizon=int(baseline.attrs["n_period"]),
                             progress=progress)
    cells_pmq, period = _horizon_table(projection)

    raw = raw_metiers2030()
    code = dict(zip(regions().source_name, regions().code))
    out = raw[["code_fap", "fap_libelle", "region"]].copy()
    out["territory"] = raw["region"].map(code)
    if out["territory"].isna().any():  # pragma: no cover - the shipped file is fixed
        raise InputError(tr("regions not in the nomenclature", "régions absentes de la nomenclature"),
                         source=RAW_FILE, column="region",
                         rows=out.loc[out["territory"].isna(), "region"].unique())

    flows = [v for v, _ in _FLOWS.values()]
    grp = cells_pmq.groupby(["territory", "published_code"], as_index=False)[flows].sum()
    m = out.merge(grp, left_on=["territory", "code_fap"], right_on=["territory", "published_code"],
                  how="left", validate="one_to_one")
    missing = m["employment_start"].isna()
    if missing.any():
        raise InputError(tr(f"the projection has no cell for {int(missing.sum())} published row(s) of "
                            "« Les métiers en 2030 » (territory codes or métier codes differ from the "
                            "embedded baseline's)",
                            f"la projection n'a pas de case pour {int(missing.sum())} ligne(s) publiée(s) de "
                            "« Les métiers en 2030 » (codes de territoire ou de métier différents de "
                            "ceux de la base intégrée)"), source="projection",
                         rows=m.loc[missing, ["code_fap", "region", "territory"]])

    emp = m["employment_start"].to_numpy() / K
    pmq_values = {}
    for stem, (var, sign) in _FLOWS.items():
        mil = sign * m[var].to_numpy() / K
        pmq_values[f"{stem}_milliers"] = mil
        if stem != "effectifs_2019":
            with np.errstate(divide="ignore", invalid="ignore"):
                pmq_values[f"{stem}_pct"] = mil / emp  # share of the row's 2019 employment
    terr_total = cells_pmq.groupby("territory")["employment_start"].sum()
    share = m["employment_start"].to_numpy() / m["territory"].map(terr_total).to_numpy()
    pmq_values["part_metier_region"] = share
    pmq_values["indice_specificite"] = _specificity(
        cells_pmq, pd.DataFrame({"territory": m["territory"], "code_fap": m["code_fap"], "share": share}),
        specificity).to_numpy()

    columns = tuple(METIERS2030_COLUMNS)
    parts = [out.reset_index(drop=True)]
    for c in columns:
        pub = raw[c].to_numpy(dtype=float)
        parts.append(pd.DataFrame({f"{c}_published": pub, f"{c}_pmq": pmq_values[c],
                                   f"{c}_diff": pmq_values[c] - pub}))
    cells = pd.concat(parts, axis=1)

    rows = []
    for c in columns:
        d = cells[f"{c}_diff"].abs()
        i = int(d.to_numpy().argmax())
        rows.append({"column": c, "unit": METIERS2030_COLUMNS[c],
                     "max_abs_diff": float(d.iloc[i]), "median_abs_diff": float(d.median()),
                     "max_code_fap": cells["code_fap"].iloc[i], "max_region": cells["region"].iloc[i],
                     "published_at_max": float(cells[f"{c}_published"].iloc[i]),
                     "pmq_at_max": float(cells[f"{c}_pmq"].iloc[i])})
    summary = pd.DataFrame(rows)

    scenario = getattr(projection.scenario, "name", str(projection.scenario))
    shash = getattr(projection.scenario, "hash", "")
    readme = _readme(scenario, shash, period, specificity, __version__)
    notes = ["part_metier_region and indice_specificite are published from a 2019 employment "
             "measure slightly different from effectifs_2019_milliers; the index of Corse's 15 grouped "
             "rows follows no group-level definition (largest differences) — see docs/reproduction.md"]
    notes_fr = ["part_metier_region et indice_specificite sont publiés à partir d'une mesure de l'emploi 2019 un "
                "peu différente de effectifs_2019_milliers ; l'indice des 15 lignes groupées de la Corse ne suit "
                "aucune définition au niveau du groupe (les plus grands écarts) — voir docs/reproduction.md"]
    return Reproduction(exercise="metiers2030", cells=cells, summary=summary, columns=columns,
                        scenario=scenario, period=period, source=RAW_FILE, readme=readme, notes=notes,
                        readme_en=_readme_en(scenario, shash, period, specificity, __version__), notes_fr=notes_fr)


def _readme(scenario, shash, period, specificity, version) -> list:
    spec = ("part du métier dans l'emploi 2019 de la région ÷ part du même métier (ou groupe) dans "
            "l'emploi des 12 autres régions" if specificity == "rest_of_france" else
            "part du métier dans l'emploi 2019 de la région ÷ part du métier dans l'emploi des 13 régions")
    return [
        ("objet", "Comparaison cellule par cellule d'un calcul pmq avec les résultats régionaux publiés de "
                  "« Les métiers en 2030 » (DARES – France Stratégie, 2023) : une ligne par ligne publiée "
                  "(métier FAP × région ; Corse en 15 groupes de métiers)."),
        ("source publiée", f"pmq/data/raw/{RAW_FILE} (copie non modifiée du classeur DARES, feuille « données » ; "
                           "voir pmq/data/raw/SOURCE.md). Licence Ouverte / Etalab 2.0. DARES – France "
                           "Stratégie (2023), Les métiers en 2030, déclinaison régionale."),
        ("calcul pmq", f"pmq {version}, scénario « {scenario} » (hash {shash}), base publiée embarquée, "
                       f"flux sommés sur {period}, en milliers de personnes. Commande : "
                       "pmq reproduce metiers2030 --out DIR"),
        ("feuille cells", "Une ligne par ligne publiée. Identifiants : code_fap (code publié ; codes joints "
                          "par « ; » = groupe de métiers, Corse), fap_libelle, region (orthographe de la "
                          "source), territory (code INSEE de la région). Pour chaque colonne numérique X "
                          "de la source : X_published (valeur publiée), X_pmq (valeur pmq avec les "
                          "conventions de la source), X_diff = X_pmq − X_published."),
        ("feuille summary", "Une ligne par colonne numérique : son libellé et son unité, max_abs_diff (max "
                            "|X_diff|), median_abs_diff (médiane |X_diff|), max_code_fap et max_region (ligne du "
                            "max), published_at_max et pmq_at_max (les deux valeurs sur cette ligne)."),
        ("en-têtes", "Les feuilles summary et cells ont des en-têtes en français (« Effectifs 2019 (milliers) — "
                     "publié ») ; le tableau des colonnes en fin de feuille donne pour chacun l'identifiant de la "
                     "colonne (celui du fichier CSV) et son unité."),
        ("_milliers", "Totaux 2019–2030 (effectifs : stock 2019) en milliers de personnes."),
        ("_pct", "Colonne _milliers divisée par effectifs_2019_milliers (une part, pas un pourcentage) ; "
                 "vérifié sur le fichier (égalité exacte sur les 1 049 lignes). pmq : sa valeur _milliers ÷ "
                 "son emploi 2019."),
        ("signes", "jeunes_debutants est négatif dans la source (pmq : −young_entrants). "
                   "solde_mobilites_inter_regions est positif pour un départ net de la région "
                   "(pmq : −net_mobility, pmq stockant les entrées nettes)."),
        ("identités de la source", "postes_a_pourvoir = creations_destructions + departs_fin_carriere ; "
                                   "desequilibre = postes_a_pourvoir + jeunes_debutants + "
                                   "solde_mobilites_inter_regions (= postes − jeunes + sorties nettes) ; "
                                   "exactes dans le fichier."),
        ("part_metier_region", "Part du métier dans l'emploi 2019 de la région (pmq : effectif de la ligne ÷ "
                               "emploi total de la région). Les parts publiées somment à 1 par région mais "
                               "ne proviennent pas exactement des effectifs_2019 publiés (autre mesure de "
                               "l'emploi 2019 ; écart médian 0,07 % en relatif, jusqu'à 15 %)."),
        ("indice_specificite", f"pmq : {spec}. Meilleur ajustement des valeurs publiées ; la part nationale "
                               "(13 régions, région incluse) s'en écarte beaucoup plus (voir "
                               "docs/reproduction.md). Les indices publiés des 15 lignes groupées de "
                               "la Corse ne suivent pas cette définition (ni la part nationale du groupe) : "
                               "leur part de référence vaut environ celle du groupe divisée par le nombre "
                               "de métiers membres ; ce sont les plus grands écarts de la colonne."),
        ("Corse", "La Corse publie 15 groupes de métiers (codes joints par « ; »). pmq répartit ces groupes "
                  "entre métiers (estimation documentée) ; les valeurs pmq des lignes groupées sont les "
                  "sommes sur les métiers membres, et les parts / indices portent sur le groupe."),
        ("niveau_tension_2019", "Non comparé : colonne non numérique (1 à 5 ou « hors champ »)."),
        ("valeurs estimées", "effectifs, créations, jeunes débutants et mobilités sont des entrées publiées "
                             "(reproduites exactement) ; les départs sont calibrés sur les départs publiés ; "
                             "postes et déséquilibre en découlent."),
    ]


def _readme_en(scenario, shash, period, specificity, version) -> list:
    """The README of the workbook in English (:func:`_readme`'s rows, translated)."""
    spec = ("the occupation's share of the region's 2019 employment ÷ the share of the same occupation (or group) "
            "in the employment of the 12 other regions" if specificity == "rest_of_france" else
            "the occupation's share of the region's 2019 employment ÷ its share in the employment of the 13 regions")
    return [
        ("purpose", "Cell-by-cell comparison of a pmq run with the published regional results of « Les métiers en "
                    "2030 » (DARES – France Stratégie, 2023): one row per published row (FAP occupation × region; "
                    "Corse in 15 groups of occupations)."),
        ("published source", f"pmq/data/raw/{RAW_FILE} (unmodified copy of the DARES workbook, sheet « données »; "
                             "see pmq/data/raw/SOURCE.md). Licence Ouverte / Etalab 2.0. DARES – France "
                             "Stratégie (2023), Les métiers en 2030, déclinaison régionale."),
        ("pmq run", f"pmq {version}, scenario « {scenario} » (hash {shash}), embedded published baseline, flows "
                    f"summed over {period}, in thousands of persons. Command: pmq reproduce metiers2030 --out DIR"),
        ("sheet cells", "One row per published row. Identifiers: code_fap (published code; codes joined by « ; » = "
                        "a group of occupations, Corse), fap_libelle, region (source spelling), territory (INSEE "
                        "code of the region). For every numeric column X of the source: X_published (published "
                        "value), X_pmq (pmq's value with the source's conventions), X_diff = X_pmq − X_published."),
        ("sheet summary", "One row per numeric column: its label and unit, max_abs_diff (max |X_diff|), "
                          "median_abs_diff (median |X_diff|), max_code_fap and max_region (row of the max), "
                          "published_at_max and pmq_at_max (both values on that row)."),
        ("headers", "The summary and cells sheets have English headers (« Employment 2019 (thousands) — "
                    "published »); the table of columns at the end of this sheet gives each one's column identifier "
                    "(the CSV file's) and unit."),
        ("_milliers", "Totals 2019–2030 (effectifs: the 2019 stock) in thousands of persons."),
        ("_pct", "The _milliers column divided by effectifs_2019_milliers (a share, not a percentage); checked on "
                 "the file (exact equality on the 1,049 rows). pmq: its _milliers value ÷ its 2019 employment."),
        ("signs", "jeunes_debutants is negative in the source (pmq: −young_entrants). "
                  "solde_mobilites_inter_regions is positive for a net outflow from the region "
                  "(pmq: −net_mobility, as pmq stores net inflows)."),
        ("identities of the source", "postes_a_pourvoir = creations_destructions + departs_fin_carriere; "
                                     "desequilibre = postes_a_pourvoir + jeunes_debutants + "
                                     "solde_mobilites_inter_regions (= openings − young entrants + net outflow); "
                                     "exact in the file."),
        ("part_metier_region", "The occupation's share of the region's 2019 employment (pmq: the row's employment "
                               "÷ the region's total employment). The published shares add up to 1 in each region "
                               "but do not come exactly from the published effectifs_2019 (another measure of 2019 "
                               "employment; median relative difference 0.07 %, up to 15 %)."),
        ("indice_specificite", f"pmq: {spec}. The best fit of the published values; the national share (13 "
                               "regions, the region included) is much further from them (see "
                               "docs/reproduction.md). The published indices of Corse's 15 grouped rows follow "
                               "neither this definition nor the group's national share: their reference share is "
                               "about the group's divided by its number of member occupations; they are the "
                               "column's largest differences."),
        ("Corse", "Corse publishes 15 groups of occupations (codes joined by « ; »). pmq splits these groups "
                  "between occupations (a documented estimate); pmq's values of the grouped rows are the sums over "
                  "the member occupations, and the shares and indices are the group's."),
        ("niveau_tension_2019", "Not compared: a non-numeric column (1 to 5 or « hors champ »)."),
        ("estimated values", "employment, net creation, young entrants and mobility are published inputs "
                             "(reproduced exactly); departures are calibrated on the published departures; "
                             "openings and imbalance follow from them."),
    ]


#: Exercises ``pmq reproduce NAME`` knows.
EXERCISES = {"metiers2030": reproduce_metiers2030}


def get_exercise(exercise: str):
    """The function of a reproduction exercise by name; an unknown name raises
    :class:`~pmq.errors.UnknownNameError` listing the available ones."""
    fn = EXERCISES.get(str(exercise).strip().lower())
    if fn is None:
        raise UnknownNameError(tr(f"unknown reproduction exercise {exercise!r}; available: ",
                                  f"exercice de reproduction inconnu {exercise!r} ; exercices disponibles : ")
                               + ", ".join(sorted(EXERCISES)))
    return fn


def reproduce(exercise: str, baseline=None, projection=None, **kwargs) -> Reproduction:
    """Run one reproduction exercise by name (see :data:`EXERCISES`)."""
    return get_exercise(exercise)(baseline=baseline, projection=projection, **kwargs)
