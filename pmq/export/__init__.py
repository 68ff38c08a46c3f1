"""Deliverables: tables in the formats report authors use (Excel with a README sheet, CSV, netCDF,
IAMC) and the HTML report.

* :mod:`pmq.export.tables` — the standard tables, Excel, CSV, text made safe for spreadsheets;
* :mod:`pmq.export.iamc` — the IAMC long format (pyam);
* :mod:`pmq.export.report` — the self-contained HTML report with its figures and tables;
* :func:`export` — one call for any of the formats.

Every writer is atomic and replaces only what pmq wrote (:mod:`pmq.outputs`).
"""
from __future__ import annotations

from pathlib import Path

from pmq.formatting import check_lang
from pmq.errors import ArgumentError
from pmq.export.iamc import IAMC_COLUMNS, IAMC_VARIABLES, check_iamc, iamc_table, to_pyam, write_iamc
from pmq.export.tables import (COLUMNS, TEXT_COLUMNS, provenance, read_excel_tables, scenario_status,
                               standard_tables, to_csv, to_excel)
from pmq.outputs import (MARKER, atomic_file, neutralise, neutralise_csv, safe_text, check_outputs, clean_stale, remove_temporary, replace_folder,
                         temporary_folder, write_atomically, written_by_pmq)
from pmq.export.tables import _accounts
from pmq.projection.indicators import to_netcdf
from pmq.options import tr

__all__ = ["export", "standard_tables", "COLUMNS", "to_excel", "read_excel_tables", "TEXT_COLUMNS", "to_csv",
           "iamc_table", "IAMC_COLUMNS", "IAMC_VARIABLES", "check_iamc", "write_iamc", "to_pyam", "safe_text",
           "neutralise", "neutralise_csv", "provenance", "scenario_status", "MARKER", "written_by_pmq",
           "check_outputs", "clean_stale", "temporary_folder", "remove_temporary", "replace_folder",
           "write_atomically"]




def export(data, path, fmt: str | None = None, end_years=None, territory=None, lang: str | None = None) -> list[Path]:
    """Write a projection or comparison: ``xlsx`` (standard tables), ``csv`` (a folder of
    tables), ``nc`` (the accounts), ``iamc`` (``.csv`` or ``.xlsx``).  ``fmt`` defaults to the
    path's suffix (``.iamc.csv`` → IAMC)."""
    lang = check_lang(lang)
    path = Path(path)
    name = path.name.lower()
    if fmt is None:
        if name.endswith(".csv") and ".iamc." not in name:
            raise ArgumentError(tr("the CSV export writes one file per table; give a folder "
                                   "(e.g. --out results/) or an IAMC file (.iamc.csv)",
                                   "l'export CSV écrit un fichier par tableau : donnez un dossier "
                                   "(par ex. --out resultats/) ou un fichier IAMC (.iamc.csv)"),
                                name="path", value=str(path))
        fmt = ("iamc" if ".iamc." in name else "xlsx" if name.endswith(".xlsx") else
               "nc" if name.endswith(".nc") else "csv" if not path.suffix else None)
    acc = _accounts(data)
    if fmt == "xlsx":
        return [to_excel(standard_tables(acc, end_years, territory, lang), path, accounts=acc, lang=lang)]
    if fmt == "csv":
        return to_csv(standard_tables(acc, end_years, territory, lang), path)
    if fmt in ("nc", "netcdf"):
        return [atomic_file(path, lambda p: to_netcdf(acc, p))]
    if fmt == "iamc":
        return [write_iamc(iamc_table(acc), path)]
    raise ArgumentError(tr(f"unknown export format for {path}; use xlsx, csv, nc or iamc",
                           f"format d'export inconnu pour {path} : utilisez xlsx, csv, nc ou iamc"),
                        name="fmt", value=fmt)
