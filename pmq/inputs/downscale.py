"""A baseline split into smaller territories by a **downscaling key**, so that every child set adds up to its
parent exactly.

A key is a long table ``parent, child, metier, weight`` (``metier`` may be ``"all"``): the share of the
parent territory's employment in a métier that lies in the child.  For each parent × métier the weights are
≥ 0 and sum to 1.  :func:`downscale` multiplies every stock and flow of the baseline by its cell's weight:

* ``employment`` (territory, métier, age) and the published period flows (``published_net_creation``,
  ``published_young_entrants``, ``published_net_mobility``, ``published_departures``) of a child are
  ``weight × parent``; the exit hazard (by métier × age) and the age shape are the parent's;
* ``hors_champ`` and ``published_code`` are the parent's; ``tension`` too, except for départements: a
  département takes its **own** 2019 DARES–Pôle emploi class where DARES publishes it (shipped
  ``tension_departement.csv``), its région's otherwise, per cell coordinate ``tension_basis`` = ``departement`` /
  ``region``; a zone d'emploi takes its département's (its ``tension_basis`` says whose: zones have no class of
  their own) — ``tension_level`` in attrs says so;
* départements carry France Travail's BMO 2023 recruitment projects and share judged difficult
  (``bmo_projects``, ``bmo_share_difficult``, ``bmo_basis``: coordinates on territory × métier; zones d'emploi
  carry their département's, ``bmo_level`` in attrs) — signals, not stocks: they are never split;
* the child territories carry their parent codes as coordinates (``region``, ``departement`` for zones
  d'emploi, ``parent``), and each cell its key weight (``key_weight``), the key's basis (``key_basis``) and a
  ``reliability`` class (coordinates on territory × métier, carried into the accounts).

Because every rule of the projection is linear in the size of a cell with the same ratios (growth rates,
flow-to-employment ratios, hazards; net mobility recentred on employment-weighted means), the projection of a
downscaled baseline is the downscaled projection: children add up to their parent in every stock, flow, age,
year and scenario (to rounding, tested at 1e-9).  What the split cannot know is said plainly in the attrs and
the docs: a child has its parent's age structure, hazards and flow ratios; its net mobility is its share of the
parent's net inflow from the other parents (moves between children of one parent are not modelled: no data).

:func:`read_key` reads a user's key (CSV or Excel) and checks it; :func:`load_key` answers the shipped keys
(``"departement"``, ``"zone_emploi"``; see :mod:`pmq.data.territories`).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from pmq.data import metiers as pmq_metiers
from pmq.data.territories import (BMO_SOURCE, KEYS, LEVELS, TENSION_SOURCE, bmo_departement, key as shipped_key,
                                  tension_departement, territories)
from pmq.errors import ArgumentError, InputError
from pmq.inputs.tables import _cannot_read, _drop_empty, _read_csv, parse_numbers, read_table
from pmq.options import plural, tr

__all__ = ["downscale", "read_key", "load_key", "reliability_classes", "RELIABILITY", "KEY_COLUMNS"]

KEY_COLUMNS = ("parent", "child", "metier", "weight")

#: Reliability classes of a cell (territory × métier), from its base-year employment (the thresholds Cedefop
#: uses for its national-by-occupation figures: caution under 10,000 jobs, scepticism under 1,000) and from
#: the key (a cell split by a proxy rather than by its own métier's data is at least « à prendre avec
#: précaution »).  Value → (French label, English label).
RELIABILITY = {
    0: ("fiable", "reliable"),
    1: ("à prendre avec précaution", "use with caution"),
    2: ("ordre de grandeur seulement", "order of magnitude only"),
}
CAUTION_BELOW, SCEPTICISM_BELOW = 10_000.0, 1_000.0
#: Key bases that split a cell by its own métier's data (anything else is a proxy)
OWN_DATA_BASES = ("emploi_moyen_fap87", "single_child", "user", "not_split")

#: Variables multiplied by the key; variables copied from the parent.
SCALED = ("employment", "published_net_creation", "published_young_entrants", "published_net_mobility",
          "published_departures")
COPIED = ("tension", "hors_champ", "published_code")
#: Coordinates on territory × métier of the local tension and recruitment-difficulty signals (copied from the
#: parent by a further split: a zone d'emploi carries its département's).
LOCAL_COORDS = ("tension_basis", "bmo_projects", "bmo_share_difficult", "bmo_basis")


def _local_signals(out: xr.Dataset, baseline: xr.Dataset, level: str, children: list[str], met: list[str],
                   p_idx: np.ndarray) -> dict[str, str]:
    """Département tension class and BMO signals on ``out`` (in place); returns the attrs to set."""
    attrs: dict[str, str] = {}
    if level == "departement" and "tension" in out:
        t = tension_departement()
        t = t[t["basis"] == "departement"]
        own = (t.pivot(index="departement", columns="metier", values="tension")
               .reindex(index=children, columns=met).to_numpy(dtype=float))
        has = ~np.isnan(own)
        dims = ("territory", "metier")
        parent = out["tension"].transpose(*dims).values
        out["tension"] = (dims, np.where(has, own, parent), dict(out["tension"].attrs))
        if "hors_champ" in out:
            hc = out["hors_champ"].transpose(*dims).values
            out["hors_champ"] = (dims, np.where(has, False, hc).astype(hc.dtype), dict(out["hors_champ"].attrs))
        out.coords["tension_basis"] = (dims, np.where(has, "departement", "region"), {
            "long_name": "niveau de la classe de tension 2019", "long_name_en": "level of the 2019 tension class",
            "description": "departement: the département's own DARES class (published); region: its région's"
                           " (the baseline's), the département's not being published", "source": TENSION_SOURCE})
        attrs["tension_level"] = "departement where published (DARES 2019), else region (per cell: tension_basis)"
        attrs["tension_source"] = TENSION_SOURCE
        b = bmo_departement().set_index(["departement", "metier"]).reindex(
            pd.MultiIndex.from_product([children, met]))
        shape = (len(children), len(met))
        proj = np.where(b["basis"].isin(["bmo", "masked", "no_row"]), b["projects"], np.nan).astype(float)
        basis = np.array([str(v) for v in b["basis"].fillna("none")], dtype=str)
        common = {"source": BMO_SOURCE, "level": "departement"}
        out.coords["bmo_projects"] = (dims, proj.reshape(shape), {
            "long_name": "projets de recrutement BMO 2023", "long_name_en": "BMO 2023 recruitment projects",
            "units": "projects", "description": "published bassin cells summed (masked cells, under 5, left out); "
                                                "gross hiring intentions, not openings", **common})
        out.coords["bmo_share_difficult"] = (dims, b["share_difficult"].to_numpy(dtype=float).reshape(shape), {
            "long_name": "part des projets jugés difficiles (BMO 2023)",
            "long_name_en": "share of recruitment projects judged difficult (BMO 2023)", "units": "1",
            "description": "difficult ÷ projects; a masked difficult count (under 5) counted as 2", **common})
        out.coords["bmo_basis"] = (dims, basis.reshape(shape), {
            "long_name": "base BMO", "long_name_en": "BMO basis",
            "description": "bmo | masked (every bassin cell masked) | no_row (no project reported) | not_in_bmo "
                           "(métier outside the survey) | none (not a département of the BMO table)", **common})
        attrs["bmo_level"] = "departement"
        attrs["bmo_source"] = BMO_SOURCE
        return attrs
    for c in LOCAL_COORDS:
        if c in baseline.coords:
            da = baseline[c].transpose("territory", "metier")
            out.coords[c] = (("territory", "metier"), da.values[p_idx], dict(da.attrs))
    plevel = str(baseline.attrs.get("level", "parent"))
    if "tension_basis" in baseline.coords:
        attrs["tension_level"] = (f"its {plevel}'s: {plevel} where published, else region (per cell: "
                                  f"tension_basis; a {level} has no class of its own)")
    if "bmo_basis" in baseline.coords:
        attrs["bmo_level"] = f"{baseline.attrs.get('bmo_level', plevel)} (a {level} carries its {plevel}'s figures)"
    return attrs


def reliability_classes(employment: np.ndarray, basis: np.ndarray | None = None) -> np.ndarray:
    """Class (0, 1, 2 of :data:`RELIABILITY`) of each cell from its base-year employment and its key basis."""
    e = np.asarray(employment, float)
    cls = np.where(e < SCEPTICISM_BELOW, 2, np.where(e < CAUTION_BELOW, 1, 0)).astype(np.int8)
    if basis is not None:
        proxy = ~np.isin(np.asarray(basis, dtype=str), OWN_DATA_BASES)
        cls = np.where(proxy, np.maximum(cls, 1), cls).astype(np.int8)
    return cls


def load_key(level: str) -> pd.DataFrame:
    """The shipped key whose children are at ``level`` (``"departement"`` or ``"zone_emploi"``)."""
    if level not in KEYS:
        raise ArgumentError(tr(f"no shipped key for this level; expected one of {', '.join(KEYS)}",
                               f"pmq ne fournit aucune clé de répartition pour ce niveau ; niveaux possibles : "
                               f"{', '.join(KEYS)}"),
                            name="level", value=level)
    return shipped_key(level)


def _code_text(v) -> str:
    """A territory or métier code as text: a whole number a spreadsheet stored as 93.0 reads « 93»."""
    if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()


def _listed(items, n: int = 5) -> str:
    """« a, b, c, d, e … and 3 others » (« … et 3 autres »)."""
    items = list(items)
    return ", ".join(items[:n]) + (tr(f" … and {len(items) - n} others", f" … et {len(items) - n} autres")
                                   if len(items) > n else "")


def _where_text(where, word: str) -> str:
    """« line 4 », « lines 4, 5, 9 … » (``word``: « line », « row » or « ligne », in the reader's language)."""
    ws = list(dict.fromkeys(where))
    try:
        ws = sorted(ws)
    except TypeError:        # the index labels of a table in memory, of mixed types
        pass
    return f"{word}{'s' if len(ws) > 1 else ''} " + ", ".join(map(str, ws[:4])) + (" …" if len(ws) > 4 else "")


def _values_where(df: pd.DataFrame, mask: pd.Series, col: str, word: str) -> list[str]:
    """Each distinct value of ``col`` on the rows of ``mask``, with where it is: « 'ZZZ' (line 4) »."""
    return [f"{v!r} ({_where_text(g['_where'], word)})" for v, g in df.loc[mask].groupby(col, sort=False)]


def _shown_rows(df: pd.DataFrame, mask: pd.Series, word: str, weight=None, **extra) -> pd.DataFrame:
    """The rows of ``mask`` as the user wrote them: where (line or row), parent, child, métier, weight."""
    rows = df.loc[mask]
    try:
        rows = rows.sort_values("_where", kind="stable")
    except TypeError:
        pass
    out = pd.DataFrame({word: rows["_where"].to_numpy()})
    for c in ("parent", "child"):
        out[c] = rows[c].to_numpy()
    out["metier"] = rows["_typed"].to_numpy()
    w = rows["weight"] if weight is None else weight.loc[rows.index]
    out["weight"] = [repr(v) if isinstance(v, str) else v for v in w]
    for k, v in extra.items():
        out[k] = v.loc[rows.index].to_numpy() if isinstance(v, pd.Series) else v
    return out


def _csv_lines(path: Path, df: pd.DataFrame) -> pd.Series | None:
    """The line of the file (1-based, the header's included) of each row of a CSV table as read, or None when
    it cannot be told for sure (the rows are then numbered as read)."""
    info = df.attrs.get("pmq_read", {})
    try:
        text = path.read_bytes().decode(info["encoding"]).replace("\r\n", "\n")
        reader = csv.reader(io.StringIO(text), delimiter=info["sep"])
        records, prev = [], 0
        for rec in reader:
            start, prev = prev + 1, reader.line_num
            if rec and not (len(rec) == 1 and not rec[0].strip()):       # pandas skips blank lines
                records.append((start, rec))
    except (csv.Error, UnicodeError, LookupError, KeyError, TypeError, OSError):
        return None
    records = records[1:]                                                 # the header
    first = df.columns[0]
    if len(df) and (int(df.index.max()) >= len(records) or any(
            str(df.at[i, first]) != (records[i][1][0] if records[i][1] else "") for i in df.index)):
        return None
    return pd.Series([records[i][0] for i in df.index], index=df.index)


def read_key(path, *, metiers=None, parents=None) -> pd.DataFrame:
    """A user's key (CSV, ``;`` or ``,``, or Excel) with columns ``parent, child, metier, weight`` (and an
    optional ``basis``, ``child_name``); ``metier = "all"`` applies a row to every métier.

    Codes are read as text (``01``, Ain, stays ``01``).  Checked (see :func:`check_key`): the columns, the codes
    (métiers among ``metiers`` or pmq's, parents among ``parents`` when given), numbers ≥ 0, one row per
    parent × child × métier, each parent × métier summing to 1 within 1e-6 (then renormalised exactly), a child
    under one parent only.  Errors name the file, the column, the bad values and the lines of the file (the
    header is line 1)."""
    lines = None
    sep = None
    if isinstance(path, pd.DataFrame):
        df, src = read_table(path, name="key")
    else:
        path = Path(path)
        if path.suffix.lower() in (".csv", ".txt", ".tsv") and path.is_file():
            src = path.name
            try:                  # every column as text: read_table would read the codes « 01 » as the number 1
                df = _drop_empty(_read_csv(path, src, "key"))
            except InputError:
                raise
            except Exception as exc:  # noqa: BLE001 - a malformed file: say which one
                raise InputError(_cannot_read("key", exc), source=src) from exc
            lines = _csv_lines(path, df)
            sep = df.attrs.get("pmq_read", {}).get("sep")
        else:
            df, src = read_table(path, name="key")
            if "pmq_read" in df.attrs:            # Excel: the header on row 1
                lines = pd.Series(df.index.to_numpy() + 2, index=df.index)
    return check_key(df, source=src, metiers=metiers, parents=parents, lines=lines, sep=sep)


def _parent_hint(values: list[str], parents) -> str:
    """Why some parent codes may be unknown: a leading zero lost by a spreadsheet, a code of another level or
    an overseas territory."""
    known = set(parents)
    nomen = territories()
    hints = []
    for v in values[:3]:
        if f"0{v}" in known:
            hints.append(tr(f"{v!r} may be {'0' + v!r} with its leading zero lost (store the codes as text)",
                            f"{v!r} est peut-être {'0' + v!r} dont le zéro initial a été perdu (enregistrez les "
                            "codes comme du texte)"))
            continue
        there = nomen[nomen["code"] == v]
        if len(there):
            r = there.iloc[0]
            estimated = int(r["estimated_territory"])
            hints.append(tr(f"{v!r} is {r['name']}, a {r['level']} code" + (" estimated by pmq (--dom)"
                                                                           if estimated else ""),
                            f"{v!r} est {r['name']}, un code de niveau {r['level']}"
                            + (" estimé par pmq (--dom)" if estimated else "")))
    sep = tr("; ", " ; ")
    return (sep + sep.join(hints)) if hints else ""


def check_key(df: pd.DataFrame, *, source: str | None = None, metiers=None, parents=None, lines=None,
              sep: str | None = None) -> pd.DataFrame:
    """The checks of :func:`read_key` on a table in memory; returns the key with ``"all"`` expanded (when
    ``metiers`` is given) and ``weight`` as numbers.

    ``metiers``: the baseline's métier codes (a code that is neither one of them nor one of pmq's is refused; the
    case of a code is not significant; ``all`` expands to them); ``parents``: the territory codes the key may
    split (any, if None); ``lines``: the line of the file of each row (by index; messages then say « line »,
    else « row » and the index); ``sep``: the file's separator (how a decimal comma reads).  Every error names
    the column and the offending values, with their lines."""
    df = df.copy()
    source = source or tr("key", "clé")
    optional = ("basis", "child_name")
    df.columns = [c if str(c).replace("\ufeff", "").strip().lower() not in KEY_COLUMNS + optional
                  else str(c).replace("\ufeff", "").strip().lower() for c in df.columns]
    missing = [c for c in KEY_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(tr(f"the key needs the columns {', '.join(KEY_COLUMNS)} (it has "
                            f"{', '.join(map(repr, map(str, df.columns))) or 'none'})",
                            f"la clé demande les colonnes {', '.join(KEY_COLUMNS)} (elle a "
                            f"{', '.join(map(repr, map(str, df.columns))) or 'aucune colonne'})"), source=source,
                         column=", ".join(missing))
    word = tr("line", "ligne") if lines is not None else tr("row", "ligne")
    df["_where"] = (pd.Series(lines).reindex(df.index).to_numpy() if lines is not None else df.index.to_numpy())
    for c in ("parent", "child", "metier"):
        empty = df[c].isna() | (df[c].astype(str).str.strip() == "")
        df[c] = df[c].map(_code_text).astype(object)
        if c == "metier":
            df["_typed"] = df["metier"]
        if empty.any():
            n = int(empty.sum())
            raise InputError(tr(f"{n} row(s) without a {c} code ({_where_text(df.loc[empty, '_where'], word)})",
                                f"{plural(n, 'row', 'ligne')} sans code {c} "
                                f"({_where_text(df.loc[empty, '_where'], word)})"),
                             source=source, column=c)
    df.loc[df["metier"].str.lower() == "all", "metier"] = "all"
    if metiers is not None:
        met = [str(m) for m in metiers]
        upper = df["metier"].str.upper()
        df["metier"] = df["metier"].where(df["metier"].isin(met) | ~upper.isin(met), upper)    # « a0z » is A0Z
        known = set(met) | set(pmq_metiers()["code"])      # pmq's métiers absent from the baseline: ignored
        unknown = (df["metier"] != "all") & ~df["metier"].isin(known)
        if unknown.any():
            vals = _values_where(df, unknown, "metier", word)
            raise InputError(tr(f"{len(vals)} unknown métier code(s): {_listed(vals)} — expected one of the "
                                f"{len(met)} métier codes of the baseline ({_listed(met, 3)}) or « all »",
                                f"{len(vals)} code(s) de métier inconnu(s) : {_listed(vals)} — attendu : l'un des "
                                f"{len(met)} codes de métier de la situation de départ ({_listed(met, 3)}) "
                                "ou « all »"),
                             source=source, column="metier")
    if parents is not None:
        ps = [str(p) for p in parents]
        unknown = ~df["parent"].isin(ps)
        if unknown.any():
            vals = _values_where(df, unknown, "parent", word)
            hint = _parent_hint(list(dict.fromkeys(df.loc[unknown, 'parent'])), ps)
            raise InputError(tr(f"{len(vals)} parent code(s) that are not territories of the baseline being split: "
                                f"{_listed(vals)} — expected its territory codes ({_listed(ps, 5)}){hint}",
                                f"{len(vals)} code(s) parent qui ne sont pas des territoires de la situation de "
                                f"départ à répartir : {_listed(vals)} — attendu : l'un de ses codes de territoire "
                                f"({_listed(ps, 5)}){hint}"),
                             source=source, column="parent")
    raw = df["weight"]
    parsed = parse_numbers(raw, sep)
    if parsed.problem:
        flagged = (parsed.rows if parsed.rows is not None else pd.Series(False, index=df.index))
        flagged = flagged.fillna(False).astype(bool)
        dots = raw.map(lambda v: isinstance(v, str) and "." in v) & ~parsed.bad & ~flagged
        if dots.any():
            problem = tr(f"mixes decimal points ({_where_text(df.loc[dots, '_where'], word)}) and decimal commas "
                         f"({_where_text(df.loc[flagged, '_where'], word)}): use one decimal mark in the whole column",
                         f"mélange points ({_where_text(df.loc[dots, '_where'], word)}) et virgules décimales "
                         f"({_where_text(df.loc[flagged, '_where'], word)}) : utilisez une seule marque décimale "
                         "dans toute la colonne")
        else:
            problem = f"{parsed.problem} ({_where_text(df.loc[flagged, '_where'], word)})"
        raise InputError(problem, source=source, column="weight")
    w = parsed.values.astype(float)
    why = pd.Series("", index=df.index, dtype=object)
    why[parsed.missing.astype(bool)] = tr("missing", "manquant")
    why[parsed.bad.astype(bool)] = tr("not a number", "non numérique")
    why[(w < 0).to_numpy()] = tr("negative", "négatif")
    why[np.isinf(w).to_numpy()] = tr("not finite", "infini")
    bad = why != ""
    if bad.any():
        n = int(bad.sum())
        raise InputError(tr(f"weights must be numbers ≥ 0 (shares of the parent's employment): {n} "
                            f"row(s) are not",
                            f"les poids doivent être des nombres ≥ 0 (parts de l'emploi du parent) : "
                            f"{plural(n, 'row', 'ligne')} ne " + ("le sont pas" if n > 1 else "l'est pas")),
                         source=source, column="weight",
                         rows=_shown_rows(df, bad, word, raw, **{tr("problem", "problème"): why}))
    df["weight"] = w
    if metiers is not None and (df["metier"] == "all").any():
        every = df[df["metier"] == "all"]
        rep = every.loc[every.index.repeat(len(metiers))].reset_index(drop=True)
        rep["metier"] = list(metiers) * len(every)
        df = pd.concat([df[df["metier"] != "all"], rep], ignore_index=True)
    dup = df.duplicated(["parent", "child", "metier"], keep=False)
    if dup.any():
        once = dup & ~df.duplicated(["_where"])
        raise InputError(tr(f"a parent × child × métier appears twice (« all » counts for every métier), on "
                            f"{_where_text(df.loc[dup, '_where'], word)}",
                            "un même parent × child × métier figure deux fois (« all » vaut pour chaque métier), "
                            f"{_where_text(df.loc[dup, '_where'], word)}"), source=source,
                         column="parent, child, metier", rows=_shown_rows(df, once, word))
    two = df.groupby("child")["parent"].nunique()
    if (two > 1).any():
        rows = df["child"].isin(two[two > 1].index) & ~df.duplicated(["_where"])
        several = _listed(repr(c) for c in two[two > 1].index)
        raise InputError(tr(f"a child territory lies under one parent only: {several} under several",
                            f"un territoire enfant (child) ne relève que d'un seul parent : {several} en ont "
                            "plusieurs"), source=source, column="child", rows=_shown_rows(df, rows, word))
    total = df.groupby(["parent", "metier"])["weight"].transform("sum")
    off = (total - 1.0).abs() > 1e-6
    if off.any():
        groups = []
        for (p, s), g in df[off].assign(_sum=total[off]).groupby(["parent", "_sum"], sort=False):
            typed = list(dict.fromkeys(g["_typed"]))
            groups.append({"parent": p, "metier": "all" if typed == ["all"] else _listed(dict.fromkeys(g["metier"]), 4),
                           "sum_of_weights": s, f"{word}s": _where_text(g["_where"], word).split(" ", 1)[1]})
        raise InputError(tr("the weights of each parent × métier must sum to 1 (within 1e-6)",
                            "les poids de chaque parent × métier doivent avoir pour somme 1 (à 1e-6 près)"),
                         source=source,
                         column="weight", rows=pd.DataFrame(groups))
    df["weight"] = df["weight"] / total
    if "basis" not in df.columns:
        df["basis"] = "user"
    return df.drop(columns=["_where", "_typed"]).reset_index(drop=True)


def downscale(baseline: xr.Dataset, key: pd.DataFrame | str, *, level: str | None = None,
              names: dict[str, str] | None = None, key_source: str | None = None) -> xr.Dataset:
    """The baseline split into the key's children (see the module docstring).

    Parameters
    ----------
    baseline : Dataset
        A baseline (:func:`pmq.load_baseline` or a user's); its territories are the key's parents.
    key : DataFrame or str
        A key table (:func:`read_key`) or the name of a shipped level (``"departement"``, ``"zone_emploi"``).
    level : str, optional
        The children's level (default: the shipped level's name, else ``"custom"``).
    names : dict, optional
        Child code → name (default: the shipped nomenclature, or the key's ``child_name`` column).
    """
    met = [str(m) for m in baseline.metier.values]
    parents = [str(t) for t in baseline.territory.values]
    if isinstance(key, str):
        level = level or key
        key_source = key_source or f"pmq shipped key ({key}), see pmq/data/territories/SOURCE.md"
        key = load_key(key)
        # the shipped keys cover every métier and région (DOM included): the baseline's are split
        key = key[key["parent"].isin(parents) & key["metier"].isin(met + ["all"])]
    level = level or "custom"
    # a user's key: a parent that is not a territory of the baseline is refused, naming it
    key_label = key_source or tr("key", "clé")
    key = check_key(key, source=key_label, metiers=met, parents=parents)
    if key.empty:
        raise InputError(tr("no parent of the key is a territory of the baseline",
                            "aucun parent de la clé n'est un territoire de la situation de départ"), source=key_label,
                         column="parent")
    named = set(key["parent"])
    missing = [p for p in parents if p not in named]
    if missing:       # territories the key does not split stay as they are (a child of their own)
        taken = sorted(set(missing) & set(key["child"]))
        if taken:
            raise InputError(tr("a child of the key has the code of a territory the key does not split",
                                "un enfant (child) de la clé a le code d'un territoire que la clé ne répartit pas"),
                             source=key_label, column="child", rows=pd.DataFrame({"child": taken}))
        same = pd.DataFrame([(p, p, m, 1.0, "not_split") for p in missing for m in met],
                            columns=["parent", "child", "metier", "weight", "basis"])
        key = pd.concat([key, same], ignore_index=True)
    no_metier = key.groupby("parent")["metier"].apply(lambda s: sorted(set(met) - set(s)))
    no_metier = no_metier[no_metier.map(len) > 0]
    if len(no_metier):
        rows = pd.DataFrame({"parent": no_metier.index, "metiers_missing": [", ".join(v[:8]) for v in no_metier]})
        raise InputError(tr("the key does not split every métier of these territories",
                            "la clé ne répartit pas chaque métier de ces territoires"), source=key_label,
                         column="metier", rows=rows)
    key = key[key["metier"].isin(met)]
    # children in the order of their parents, then of the key's first appearance
    order = {p: i for i, p in enumerate(parents)}
    first = key.drop_duplicates("child")[["parent", "child"]]
    first = first.assign(_o=first["parent"].map(order)).sort_values("_o", kind="stable")
    children = list(first["child"])
    parent_of = dict(zip(first["child"], first["parent"]))
    W = (key.pivot_table(index="child", columns="metier", values="weight", aggfunc="sum", fill_value=0.0)
         .reindex(index=children, columns=met, fill_value=0.0).to_numpy())
    basis = (key.pivot_table(index="child", columns="metier", values="basis", aggfunc="first")
             .reindex(index=children, columns=met).fillna("none").to_numpy().astype(str))
    p_idx = np.array([parents.index(parent_of[c]) for c in children])

    out = xr.Dataset(coords={"territory": children, "metier": baseline.metier.values, "age": baseline.age.values})
    for c in baseline.coords:
        if "territory" in baseline[c].dims:
            continue
        out = out.assign_coords({c: baseline[c]})
    for v in baseline.data_vars:
        da = baseline[v]
        if "territory" not in da.dims:
            out[v] = da
            continue
        arr = da.transpose("territory", ...).values[p_idx]
        if v in SCALED:
            w = W.reshape(W.shape + (1,) * (arr.ndim - 2))
            arr = arr * w
        out[v] = (da.transpose("territory", ...).dims, arr, dict(da.attrs))
    if "published_code" in baseline.coords:
        out = out.assign_coords(published_code=(("territory", "metier"),
                                                baseline["published_code"].transpose("territory", "metier")
                                                .values[p_idx]))
    local_attrs = _local_signals(out, baseline, level, children, met, p_idx)
    # names and parents
    nomen = territories()
    by_code = {lvl: nomen[nomen["level"] == lvl].set_index("code") for lvl in LEVELS}
    if names is None:
        if "child_name" in key.columns:
            named = key[key["child_name"].notna() & (key["child_name"].astype(str).str.strip() != "")]
            names = dict(zip(named["child"], named["child_name"].astype(str)))
        elif level in by_code:
            names = by_code[level]["name"].to_dict()
        else:
            names = {}
    if "territory_name" in baseline.coords:      # a territory the key does not split keeps its name
        own = dict(zip(map(str, baseline.territory.values), map(str, baseline["territory_name"].values)))
        names = {**{c: own[c] for c in children if c in own and parent_of[c] == c}, **names}
    out = out.assign_coords(territory_name=("territory", [names.get(c, c) for c in children]),
                            territory_source_name=("territory", [names.get(c, c) for c in children]))
    parent_level = str(baseline.attrs.get("level", "region"))
    chain: dict[str, list[str]] = {}
    if "region" in baseline.coords:
        chain["region"] = [str(baseline["region"].values[i]) for i in p_idx]
    elif parent_level == "region":
        chain["region"] = [parents[i] for i in p_idx]
    if parent_level == "departement":
        chain["departement"] = [parents[i] for i in p_idx]
    elif "departement" in baseline.coords:
        chain["departement"] = [str(baseline["departement"].values[i]) for i in p_idx]
    for name, vals in chain.items():
        out = out.assign_coords({name: ("territory", vals)})
    out = out.assign_coords(parent=("territory", [parent_of[c] for c in children]))
    for c in ("mobility_closed", "estimated_territory"):      # flags of a territory pass to its children
        if c in baseline.coords and baseline[c].dims == ("territory",):
            out = out.assign_coords({c: ("territory", baseline[c].values[p_idx])})
    out.coords["key_weight"] = (("territory", "metier"), W, {"long_name": "part du parent (clé de répartition)",
                                                       "long_name_en": "share of the parent (downscaling key)",
                                                       "units": "1"})
    out.coords["key_basis"] = (("territory", "metier"), basis, {"long_name": "base de la clé", "long_name_en": "key basis"})
    emp = out["employment"].sum("age").transpose("territory", "metier").values
    prev = (baseline["reliability"].transpose("territory", "metier").values[p_idx] if "reliability" in baseline.coords
            else 0)
    rel = np.maximum(reliability_classes(emp, basis), prev).astype(np.int8)
    if "estimated_territory" in baseline.coords and baseline["estimated_territory"].dims == ("territory",):
        estimated_parent = baseline["estimated_territory"].values.astype(bool)[p_idx]    # the DOM: all estimated
        rel = np.where(estimated_parent[:, None], np.maximum(rel, 1), rel).astype(np.int8)
    out.coords["reliability"] = (("territory", "metier"), rel, {
        "long_name": "fiabilité de la cellule", "long_name_en": "reliability of the cell",
        "flag_values": np.array(list(RELIABILITY), dtype=np.int8),
        "flag_meanings": " ".join(v[1].replace(" ", "_") for v in RELIABILITY.values()),
        "flag_meanings_fr": " | ".join(v[0] for v in RELIABILITY.values()),
        "description": (f"0 reliable; 1 caution: under {CAUTION_BELOW:,.0f} jobs in the base year, split by a "
                        f"proxy (key basis not the cell's own data) or in a territory estimated by pmq; 2 order of magnitude only: under "
                        f"{SCEPTICISM_BELOW:,.0f} jobs")})
    out.attrs = dict(baseline.attrs)
    estimated = json.loads(baseline.attrs.get("estimated", "[]"))
    bases = sorted(set(key["basis"]))
    estimated.append(f"{level} split of the {parent_level} baseline by a downscaling key (bases: {', '.join(bases)}):"
                     f" children have their parent's age structure, hazards and flow ratios; net mobility is their "
                     f"share of the parent's net inflow (moves between children of one parent not modelled)")
    out.attrs.update({
        "level": level, "parent_level": parent_level,
        "estimated": json.dumps(estimated, ensure_ascii=False),
        "key_source": key_source or "user key",
        "key_bases": json.dumps(bases),
        "tension_level": str(baseline.attrs.get("tension_level", parent_level)),
        **local_attrs,
        "title": f"{baseline.attrs.get('title', 'pmq baseline')} — {level}",
    })
    return out
