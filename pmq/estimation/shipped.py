"""Writing and checking the compact tables the builds ship as package data (``python -m
pmq.estimation.territories``, ``python -m pmq.estimation.skills``): one format — CSV, floats to 12
significant digits, weights as exact decimals of whole units of 1e-12 — and one ``--check``: a rebuild agrees
with the shipped files when codes and labels are equal and numbers agree to :data:`RTOL`."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FLOAT_FORMAT", "UNITS", "RTOL", "normalised_shares", "decimal_weight", "write_tables",
           "compare_tables", "find_shared", "finish_build"]

FLOAT_FORMAT = "%.12g"
#: Weights are whole numbers of 1 / UNITS (so that a parent's children add up to 1 exactly in the file).
UNITS = 1e12
#: A rebuild agrees with the shipped tables to this relative tolerance on numbers (1 / UNITS on weights).
RTOL = 1e-9


def find_shared(explicit: Path | None, default: Path, needs: tuple[str, ...]) -> Path | None:
    """The shared data folder: ``explicit``, else ``PMQ_SHARED_DATA``, else ``default`` — the first that holds
    every sub-folder of ``needs``; None if none does."""
    for cand in (explicit, os.environ.get("PMQ_SHARED_DATA"), default):
        if cand and all((Path(cand) / n).is_dir() for n in needs):
            return Path(cand)
    return None


def normalised_shares(df: pd.DataFrame, by: list[str], col: str) -> pd.Series:
    """Shares of ``col`` within ``by``, rounded to 12 decimals so that each group's decimals sum to exactly 1.

    Largest-remainder rounding on units of 1e-12: every weight is within 1e-12 of its exact share, and the
    weights as written in the file add up to 1 exactly (as parsed floats, to a few 1e-16).  A group whose
    ``col`` sums to 0 raises :class:`ValueError`."""
    w = df[col] / df.groupby(by)[col].transform("sum")
    keys = [df[b] for b in by]
    gap = (w.groupby(keys).sum() - 1).abs().max()
    if not gap <= 1e-12:
        raise ValueError(f"weights do not sum to 1 (gap {gap})")
    scaled = w.to_numpy() * UNITS
    units = np.floor(scaled)
    rest = pd.Series(scaled - units, index=w.index)
    short = (UNITS - pd.Series(units, index=w.index).groupby(keys).transform("sum")).round().astype(int)
    rank = rest.groupby(keys).rank(method="first", ascending=False)
    units = units + (rank <= short).to_numpy()
    out = pd.Series(units / UNITS, index=w.index)
    if not (out.groupby(keys).sum() - 1).abs().max() <= 1e-12 or (out - w).abs().max() > 1.0 / UNITS:
        raise ValueError("rounding the weights failed")
    return out


def decimal_weight(w: float) -> str:
    """A weight of whole units of 1e-12 as its exact decimal: ``0.068909613741``, ``1``, ``0``."""
    text = f"{w:.12f}".rstrip("0").rstrip(".")
    return text or "0"


def write_tables(tables: dict[str, pd.DataFrame], out: Path) -> None:
    """Write ``{file name: table}`` into ``out`` as CSV (weights as exact decimals)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, t in tables.items():
        if "weight" in t:
            t = t.assign(weight=[decimal_weight(w) for w in t["weight"]])
        t.to_csv(out / name, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def compare_tables(tables: dict[str, pd.DataFrame], folder: Path, read: Callable[[Path, str], pd.DataFrame],
                   rtol: float = RTOL) -> list[str]:
    """Differences between rebuilt ``tables`` and the files of ``folder`` read by ``read(folder, name)``
    (an empty list: they agree)."""
    problems = []
    for name, new in tables.items():
        if not (folder / name).is_file():
            problems.append(f"{name}: missing")
            continue
        old = read(folder, name)
        if list(old.columns) != list(new.columns) or len(old) != len(new):
            problems.append(f"{name}: columns or rows differ ({list(old.columns)}, {len(old)} vs "
                            f"{list(new.columns)}, {len(new)})")
            continue
        for c in new.columns:
            a, b = old[c], new[c].reset_index(drop=True)
            if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
                x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
                same = (np.isnan(x) == np.isnan(y)).all() and np.allclose(
                    np.nan_to_num(x), np.nan_to_num(y), rtol=rtol, atol=1.0 / UNITS if c == "weight" else 1e-15)
            else:
                same = (a.fillna("").astype(str).to_numpy() == b.fillna("").astype(str).to_numpy()).all()
            if not same:
                problems.append(f"{name}: column {c} differs")
    return problems


def finish_build(tables: dict[str, pd.DataFrame], diag: dict, out: Path, *, check: bool,
                 compare: Callable[[dict[str, pd.DataFrame], Path], list[str]],
                 write: Callable[[dict[str, pd.DataFrame], Path], None], tolerance: str, elapsed=None) -> int:
    """The end of a build command: with ``check``, compare ``tables`` with the shipped files in ``out`` and print
    the differences (exit status 1 if any, ``tolerance`` says how they were compared); else write them and print
    the diagnostics and the files' sizes.  ``elapsed()`` (optional) gives the seconds spent, for the last line."""
    took = f"; {elapsed():.1f} s" if elapsed is not None else ""
    if check:
        problems = compare(tables, out)
        for line in problems:
            print(line)
        print("check: " + ("agrees" if not problems else f"{len(problems)} difference(s)") + f" ({tolerance}{took})")
        return 1 if problems else 0
    write(tables, out)
    for k, v in diag.items():
        print(f"{k}: {v}")
    sizes = {n: (out / n).stat().st_size for n in tables}
    print(f"sizes (bytes): {sizes}, total {sum(sizes.values())}" + (f"; built in {elapsed():.1f} s" if elapsed else ""))
    return 0
