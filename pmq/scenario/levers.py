"""Scenario levers applied to whole arrays: demand paths, inflows and exit hazards.

Every function here takes the trend arrays built from the baseline's rules and the lever
tables of a :class:`~pmq.scenario.read.Scenario`, and returns new arrays; nothing loops over
cells.  Levers are applied in file order (after ``extends`` is resolved).

Demand (``[[demand.adjust]]``, arrays ``(year, territory, métier)`` of employment at the
start of each year)

``kind = "growth"``
    selected cells grow at ``rate`` a year over ``period = [y0, y1]``:
    ``E'(t) = E(y0)·(1 + rate)^(t − y0)``; after ``y1``: ``after = "reference"`` (default,
    the trend's growth resumes from the new level), ``"continue"`` or ``"constant_level"``.
``kind = "target"``
    the selected cells together reach ``value`` persons in ``year``, each keeping its share
    of the trend; the ratio to the trend is phased in log-linearly from ``from_year``;
    after ``year``: ``"reference"`` (keep the ratio), ``"continue"``, ``"constant_level"``.
``kind = "deviation"``
    a deviation from the trend, in persons summed over the selected cells (``unit =
    "persons"``, default) or in percent of each selected cell (``"percent"``), given at
    ``anchors = {year = value}``; linear between anchors, 0 before the first anchor, after
    the last ``after = "hold"`` (default) or ``"proportional"`` to the trend (in percent the
    last percentage is held either way: a percentage of the trend is already proportional to
    it).  A deviation
    in persons is split over métiers by the sector key or ``weights`` when given (each
    row sums to 1, so the split keeps the source's total), else in proportion to the
    trend employment of the selected cells; within a métier, over the selected
    territories in proportion to their trend employment in that year.

For growth and target levers, ``sector`` and ``weights`` select the métiers with a
positive weight.  Inflows (``[[young_entrants.adjust]]``, ``[[net_mobility.adjust]]``):
the selected flows are multiplied by ``factor`` for flow years ``from_year`` … ``to_year``.

Exits (``[exits]``, hazards ``(year, territory, métier, age)``)

``[[exits.shift]]``
    in the age window ``min_age`` … ``max_age`` (default 55 … 73), a share ``share``
    (default 1) of the hazard follows the schedule moved by ``years``:
    ``h'(a) = (1 − share)·h(a) + share·h(a − s(t))`` with ``s(t)`` phased in linearly from
    0 in ``from_year`` to ``years`` in ``full_year``.
``[[exits.cohort_shift]]``
    the same, with the shift set by birth cohort ``c = year − age``: ``s = shift[i]`` for
    ``cohorts[i] ≤ c < cohorts[i+1]``, the last value for later cohorts, 0 before, and 0 in
    flow years outside ``from_year`` … ``to_year`` (the law's years in force).
``[[exits.multiplier]]``
    the hazard is multiplied by ``factor`` in the age window and years; a hazard above 1
    is an error.  Shifts are applied before multipliers; the top age keeps hazard 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pmq.errors import ScenarioError, UnknownNameError
from pmq.names import resolve
from pmq.scenario.sectors import sector_key

__all__ = ["Context", "apply_demand", "flow_factors", "hazard_path", "last_year"]


def last_year(lever: dict) -> int:
    """The last calendar year a demand lever names (its path must reach it)."""
    years = [lever.get("year", 0), *lever.get("period", [0])]
    years += [int(k) for k in lever.get("anchors", {})]
    return int(max(years))


@dataclass(frozen=True)
class Context:
    """Dimensions of the arrays levers act on, taken from a baseline."""

    base_year: int
    territories: tuple[str, ...]
    metiers: tuple[str, ...]
    domains: tuple[str, ...]  # domain of each métier
    ages: np.ndarray
    territory_aliases: dict
    source: str = "scenario"

    @classmethod
    def from_baseline(cls, baseline, source: str = "scenario") -> Context:
        terr = tuple(str(t) for t in baseline.territory.values)
        names = (baseline["territory_name"].values if "territory_name" in baseline.coords
                 else terr)
        aliases = {t: [str(n)] for t, n in zip(terr, names)}
        if "territory_source_name" in baseline.coords:
            for t, n in zip(terr, baseline["territory_source_name"].values):
                aliases[t].append(str(n))
        met = tuple(str(m) for m in baseline.metier.values)
        dom = (tuple(str(d) for d in baseline["domain"].values) if "domain" in baseline.coords
               else tuple(m[0] for m in met))
        return cls(int(baseline.attrs["base_year"]), terr, met, dom, np.asarray(baseline.age.values),
                   aliases, source)

    # -- selection ---------------------------------------------------------------
    def _where(self, lever, key):
        return f"{lever['_section']}[{lever['id']}].{key}" if "_section" in lever else key

    def territory_mask(self, lever) -> np.ndarray:
        if "territory" not in lever:
            return np.ones(len(self.territories), bool)
        mask = np.zeros(len(self.territories), bool)
        for t in lever["territory"]:
            try:
                code = resolve(t, self.territory_aliases, kind="territory")
            except UnknownNameError as exc:
                raise ScenarioError(str(exc), source=self.source, key=self._where(lever, "territory"),
                                    value=t) from None
            mask[self.territories.index(code)] = True
        return mask

    def metier_weights(self, lever) -> np.ndarray | None:
        """Explicit métier weights (sector key or ``weights``), or None."""
        if "sector" in lever:
            w = sector_key(lever["sector"])
            key = "sector"
        elif "weights" in lever:
            w = pd.Series(lever["weights"], dtype=float)
            key = "weights"
        else:
            return None
        missing = [m for m in w.index if m not in self.metiers and w[m] > 0]
        if missing:
            raise ScenarioError(f"the baseline has no métier {missing}; the weights would not sum to 1",
                                source=self.source, key=self._where(lever, key), value=missing)
        return w.reindex(list(self.metiers)).fillna(0.0).to_numpy()

    def metier_mask(self, lever) -> np.ndarray:
        if "metier" in lever:
            missing = [m for m in lever["metier"] if m not in self.metiers]
            if missing:
                raise ScenarioError("the baseline has no such métier", source=self.source,
                                    key=self._where(lever, "metier"), value=missing)
            return np.isin(np.array(self.metiers), lever["metier"])
        if "domain" in lever:
            return np.isin(np.array(self.domains), lever["domain"])
        w = self.metier_weights(lever)
        if w is not None:
            return w > 0
        return np.ones(len(self.metiers), bool)

    def cell_mask(self, lever) -> np.ndarray:
        """Boolean (territory, métier) selection."""
        return self.territory_mask(lever)[:, None] & self.metier_mask(lever)[None, :]

    def year_index(self, year: int) -> int:
        return int(year) - self.base_year


def _tag(section: str, levers) -> list[dict]:
    return [{**lv, "_section": section} for lv in levers]


# ---------------------------------------------------------------------- demand
def _interp_anchors(anchors: dict, years: np.ndarray, after: str, ref_total: np.ndarray):
    """Deviation path at ``years`` from anchor years/values (linear; 0 before the first)."""
    ay = np.array(sorted(int(k) for k in anchors), dtype=float)
    av = np.array([float(anchors[str(int(k))]) for k in ay])
    val = np.interp(years, ay, av, left=0.0, right=av[-1])
    before = years < ay[0]
    val = np.where(before, 0.0, val)
    if after == "proportional":
        last = int(ay[-1])
        idx = np.searchsorted(years, last)
        if idx < len(years) and years[idx] == last:
            scale = np.where(ref_total[idx] > 0, ref_total / ref_total[idx], 1.0)
            val = np.where(years > last, av[-1] * scale, val)
    return val


def apply_demand(emp: np.ndarray, levers, ctx: Context) -> np.ndarray:
    """Apply ``[[demand.adjust]]`` levers to an employment path ``(year, territory, métier)``."""
    emp = np.array(emp, dtype=float)
    n = emp.shape[0]
    years = ctx.base_year + np.arange(n)
    k = np.arange(n).reshape(-1, 1, 1)
    for lever in _tag("demand.adjust", levers):
        mask = ctx.cell_mask(lever)[None]
        kind = lever["kind"]
        after = lever.get("after", "hold" if kind == "deviation" else "reference")
        if kind == "growth":
            y0, y1 = lever["period"]
            k0, k1 = ctx.year_index(y0), ctx.year_index(y1)
            if k0 < 0:
                raise ScenarioError(f"a growth period cannot start before the base year {ctx.base_year}",
                                    source=ctx.source, key=ctx._where(lever, "period"), value=[y0, y1])
            if k0 >= n - 1:
                continue
            g = 1.0 + float(lever["rate"])
            e0 = emp[k0]
            kk = np.minimum(k, k1)
            within = e0 * g ** (kk - k0)
            at_end = e0 * g ** (k1 - k0)
            if after == "reference":  # (only read for years after y1, so k1 < n there)
                ref_end = emp[min(k1, n - 1)]
                ratio = np.where(ref_end > 0, emp / np.where(ref_end > 0, ref_end, 1.0), 1.0)
                post = at_end * ratio
            elif after == "continue":
                post = e0 * g ** (k - k0)
            else:
                post = np.broadcast_to(at_end, emp.shape)
            new = np.where(k <= k0, emp, np.where(k <= k1, within, post))
        elif kind == "target":
            kf, ky = ctx.year_index(lever["from_year"]), ctx.year_index(lever["year"])
            if kf < 0:
                raise ScenarioError(f"from_year is before the base year {ctx.base_year}",
                                    source=ctx.source, key=ctx._where(lever, "from_year"),
                                    value=lever["from_year"])
            if ky >= n:
                raise ScenarioError(f"the target year is beyond the horizon ({int(years[-1])}); "
                                    "run longer or move the target", source=ctx.source,
                                    key=ctx._where(lever, "year"), value=lever["year"])
            sel_total = float((emp[ky] * mask[0]).sum())
            if sel_total <= 0:
                raise ScenarioError("the selected cells have no employment in the target year",
                                    source=ctx.source, key=ctx._where(lever, "year"),
                                    value=lever["year"])
            log_rho = np.log(float(lever["value"]) / sel_total) if lever["value"] > 0 else -np.inf
            if not np.isfinite(log_rho):
                raise ScenarioError("a target of 0 cannot be reached by a growth path",
                                    source=ctx.source, key=ctx._where(lever, "value"), value=0)
            frac = np.clip((k - kf) / (ky - kf), 0.0, None)
            if after in ("reference", "constant_level"):
                frac = np.minimum(frac, 1.0)
            new = emp * np.exp(log_rho * frac)
            if after == "constant_level":
                new = np.where(k > ky, new[ky], new)
        else:  # deviation
            anchors = {str(int(a)): v for a, v in lever["anchors"].items()}
            unit = lever.get("unit", "persons")
            w = ctx.metier_weights(lever)
            sel = emp * mask
            if unit == "percent":
                if w is not None:
                    raise ScenarioError("a deviation in percent applies to each selected cell; "
                                        "use metier or domain, not a sector key or weights",
                                        source=ctx.source, key=ctx._where(lever, "unit"), value=unit)
                # a held percentage already moves with the trend: "proportional" would count the
                # trend's growth twice, so both `after` rules hold the last percentage
                pct = _interp_anchors(anchors, years.astype(float), "hold", sel.sum((1, 2)))
                new = emp + sel * (pct / 100.0)[:, None, None]
            else:
                total = _interp_anchors(anchors, years.astype(float), after, sel.sum((1, 2)))
                if w is not None:
                    by_m = sel.sum(1, keepdims=True)  # (year, 1, métier)
                    terr_share = np.where(by_m > 0, sel / np.where(by_m > 0, by_m, 1.0), 0.0)
                    share = terr_share * w[None, None, :]
                    no_emp = (w > 0) & (by_m[0, 0] <= 0)
                    if no_emp.any():
                        bad = [m for m, b in zip(ctx.metiers, no_emp) if b]
                        raise ScenarioError("these métiers of the key have no employment in the "
                                            "selected territories", source=ctx.source,
                                            key=ctx._where(lever, "territory"), value=bad)
                else:
                    tot = sel.sum((1, 2), keepdims=True)
                    share = np.where(tot > 0, sel / np.where(tot > 0, tot, 1.0), 0.0)
                new = emp + total[:, None, None] * share
        neg = new <= 0
        if np.any(neg & mask):
            idx = np.argwhere(neg & mask)[:5]
            cells = [(int(years[i]), ctx.territories[j], ctx.metiers[m]) for i, j, m in idx]
            raise ScenarioError(f"the lever drives employment to zero or below in "
                                f"{int((neg & mask).sum())} cell-years (year, territory, métier): "
                                f"{cells}", source=ctx.source,
                                key=f"demand.adjust[{lever['id']}]")
        emp = np.where(mask, new, emp)
    return emp


# ---------------------------------------------------------------------- inflows
def flow_factors(section: str, levers, ctx: Context, n_years: int) -> np.ndarray | None:
    """Multipliers ``(year, territory, métier)`` of an inflow, or None without levers."""
    levers = _tag(section, levers)
    if not levers:
        return None
    years = ctx.base_year + np.arange(n_years)
    out = np.ones((n_years, len(ctx.territories), len(ctx.metiers)))
    for lever in levers:
        y0 = lever.get("from_year", years[0])
        y1 = lever.get("to_year", years[-1] + 10_000)
        on = ((years >= y0) & (years <= y1))[:, None, None]
        out = np.where(on & ctx.cell_mask(lever)[None], out * float(lever["factor"]), out)
    return out


# ---------------------------------------------------------------------- exits
def shift_schedule(hazard: np.ndarray, offset: np.ndarray, ages: np.ndarray) -> np.ndarray:
    """``h(a − offset)`` along the last (age) axis; ``offset`` broadcasts to the result.

    Linear interpolation between single years; ages below the youngest take its value.
    """
    offset = np.asarray(offset, dtype=float)
    shape = np.broadcast_shapes(hazard.shape, offset.shape)
    h = np.broadcast_to(hazard, shape)
    pos = (ages - ages[0]) - np.broadcast_to(offset, shape)
    lo = np.clip(np.floor(pos), 0, len(ages) - 1).astype(int)
    hi = np.clip(lo + 1, 0, len(ages) - 1)
    frac = np.clip(pos - lo, 0.0, 1.0)
    return np.take_along_axis(h, lo, -1) * (1 - frac) + np.take_along_axis(h, hi, -1) * frac


def hazard_path(hazard: np.ndarray, scenario, ctx: Context, n_years: int) -> np.ndarray | None:
    """Hazards ``(year, territory, métier, age)`` under the exit levers, or None without levers."""
    shifts = _tag("exits.shift", scenario.lever_list("exits.shift"))
    cohorts = _tag("exits.cohort_shift", scenario.lever_list("exits.cohort_shift"))
    mults = _tag("exits.multiplier", scenario.lever_list("exits.multiplier"))
    if not (shifts or cohorts or mults):
        return None
    ages = ctx.ages.astype(float)
    T, M = len(ctx.territories), len(ctx.metiers)
    base = np.broadcast_to(np.asarray(hazard, float), (T, M, len(ages)))
    years = (ctx.base_year + np.arange(n_years)).astype(float)
    yy = years[:, None, None, None]
    h = np.broadcast_to(base, (n_years, T, M, len(ages))).copy()

    def window(lever, default_min=55):
        lo, hi = lever.get("min_age", default_min), lever.get("max_age", int(ages[-2]))
        return (ages >= lo) & (ages <= hi)

    for lever in shifts + cohorts:
        if lever["_section"] == "exits.shift":
            y0 = lever["from_year"]
            y1 = lever.get("full_year", y0)
            # linear from 0 in from_year to 1 in full_year (the documented rule); a step in from_year
            phase = np.clip((years - y0) / (y1 - y0), 0.0, 1.0) if y1 > y0 else \
                (years >= y0).astype(float)
            s = (float(lever["years"]) * phase)[:, None, None, None] * np.ones(len(ages))
        else:
            cohort = yy - ages  # (year, 1, 1, age)
            c = np.asarray(lever["cohorts"], float)
            vals = np.concatenate([[0.0], np.asarray(lever["shift"], float)])
            s = vals[np.searchsorted(c, cohort, side="right")]
            on = (yy >= lever.get("from_year", years[0])) & (yy <= lever.get("to_year", years[-1] + 1e4))
            s = np.where(on, s, 0.0)
        share = float(lever.get("share", 1.0))
        moved = shift_schedule(h, s, ages)
        # where the shift is 0 (before the lever starts) the hazard stays exactly the same
        sel = ctx.cell_mask(lever)[None, :, :, None] & window(lever) & (s != 0)
        h = np.where(sel, (1 - share) * h + share * moved, h)
    for lever in mults:
        y0 = lever.get("from_year", years[0])
        y1 = lever.get("to_year", years[-1] + 10_000)
        on = ((years >= y0) & (years <= y1))[:, None, None, None]
        sel = on & ctx.cell_mask(lever)[None, :, :, None] & window(lever, default_min=int(ages[0]))
        h = np.where(sel, h * float(lever["factor"]), h)
        if np.any(h[..., :-1] > 1.0 + 1e-12):
            raise ScenarioError("the multiplier raises an exit hazard above 1", source=ctx.source,
                                key=f"exits.multiplier[{lever['id']}].factor", value=lever["factor"])
    h = np.clip(h, 0.0, 1.0)
    h[..., -1] = 1.0
    return h
