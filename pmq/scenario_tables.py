"""Checks and tables that document a scenario: sourced figures against what pmq applies.

:func:`source_check` answers « does the deviation from the reference, summed over métiers,
equal the source's figure at the source's horizon? » for every demand lever given in
persons: the levers are applied one after the other to the trend employment path and each
lever's contribution (employment after it minus before it, summed over every territory and
métier) is read at each anchor year.  The « Total » rows compare the sum of the sourced
figures with the difference between the scenario's and the reference's projected employment.

``python -m pmq.scenario_tables`` rewrites the generated sections of ``docs/scenarios/*.md``
(between ``<!-- generated:start -->`` and ``<!-- generated:end -->``); the test suite checks
that they are up to date.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .scenario import LEVER_SECTIONS, Scenario, builtin_scenarios, read_scenario

__all__ = ["source_check", "lever_table", "markdown_section"]

START, END = "<!-- generated:start -->", "<!-- generated:end -->"


def source_check(scenario: Scenario | str, baseline=None, reference: str = "reference") -> pd.DataFrame:
    """Sourced demand figures against pmq's deviation from the reference, summed over métiers.

    Returns one row per (lever, anchor year) with ``source_value`` and ``pmq_value``
    (persons) and ``rel_diff``, plus « Total » rows per anchor year computed from the
    projected employment of the scenario and of ``reference``.
    """
    from . import levers as lv
    from .baseline import load_baseline
    from .projection import input_paths

    if baseline is None:
        baseline = load_baseline()
    if isinstance(scenario, str):
        scenario = read_scenario(scenario)
    ctx = lv.Context.from_baseline(baseline, source=scenario.source)
    dem = scenario.lever_list("demand.adjust")
    if not dem:
        return pd.DataFrame(columns=["lever", "label", "applies_to", "year", "source_value", "pmq_value",
                                     "rel_diff"])
    base = ctx.base_year
    n = max([scenario.horizon] + [lv.last_year(x) - base for x in dem])
    e0 = baseline["employment"].sum("age").transpose("territory", "metier").values
    emp, *_ = input_paths(e0, baseline["published_net_creation"].values,
                          baseline["published_young_entrants"].values,
                          baseline["published_net_mobility"].values, int(baseline.attrs["n_period"]), n,
                          scenario.rules, territory_axis=0)
    rows = []
    totals: dict[int, float] = {}
    ref = read_scenario(reference)
    ref_emp, *_ = input_paths(e0, baseline["published_net_creation"].values,
                              baseline["published_young_entrants"].values,
                              baseline["published_net_mobility"].values, int(baseline.attrs["n_period"]),
                              n, ref.rules, territory_axis=0)
    for lever in dem:
        after = lv.apply_demand(emp, [lever], ctx)
        contrib = (after - emp).sum((1, 2))
        emp = after
        if lever["kind"] != "deviation" or lever.get("unit", "persons") != "persons":
            continue
        applies = lever.get("sector") or ("weights" if "weights" in lever else None) or \
            ",".join(lever.get("metier", lever.get("domain", []))) or "all"
        for y, v in lever["anchors"].items():
            y = int(y)
            if v == 0 or not 0 <= y - base <= n:
                continue
            rows.append({"lever": lever["id"], "label": lever.get("label", ""), "applies_to": applies,
                         "year": y, "source_value": float(v), "pmq_value": float(contrib[y - base])})
            totals[y] = totals.get(y, 0.0) + float(v)
    for y, v in sorted(totals.items()):
        diff = float((emp[y - base] - ref_emp[y - base]).sum())
        rows.append({"lever": "Total", "label": "écart à la référence, tous métiers", "applies_to": "all",
                     "year": y, "source_value": v, "pmq_value": diff})
    df = pd.DataFrame(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        df["rel_diff"] = (df["pmq_value"] - df["source_value"]) / df["source_value"].abs()
    return df


def lever_table(scenario: Scenario) -> pd.DataFrame:
    """Every lever of a scenario with its parameters, source and assumption."""
    rows = []
    for section in LEVER_SECTIONS:
        for lever in scenario.lever_list(section):
            params = {k: v for k, v in lever.items()
                      if k not in ("id", "label", "source", "assumption")}
            rows.append({"section": section, "id": lever["id"], "label": lever.get("label", ""),
                         "parameters": "; ".join(f"{k} = {v}" for k, v in params.items()),
                         "source": lever.get("source", ""), "assumption": lever.get("assumption", "")})
    return pd.DataFrame(rows)


def _fmt(x: float) -> str:
    return f"{x:,.0f}".replace(",", "\u202f")



def _fmt_rel(x: float) -> str:
    """A relative difference; below 1e-12 it is floating-point rounding, shown as such (printing
    it would make the page depend on the numpy release)."""
    return "< 1e-12" if abs(x) < 1e-12 else f"{x:.2e}"

def markdown_section(name: str, baseline=None) -> str:
    """The generated part of ``docs/scenarios/<name>.md``."""
    sc = read_scenario(name)
    out = [START, "", f"*Generated by `python -m pmq.scenario_tables` from `scenarios/{name}.toml` "
           f"(hash `{sc.hash}`); do not edit by hand.*", "",
           f"**{sc.title_fr}** — {sc.title_en}", "", sc.description, ""]
    levers = lever_table(sc)
    if len(levers):
        out += ["### Levers", "", "| section | id | parameters | source | assumption |", "|---|---|---|---|---|"]
        for r in levers.itertuples():
            cell = [r.section, f"`{r.id}`", r.parameters.replace("|", "/"), r.source.replace("|", "/"),
                    r.assumption.replace("|", "/")]
            out.append("| " + " | ".join(cell) + " |")
        out.append("")
    chk = source_check(sc, baseline)
    if len(chk):
        out += ["### Sourced figures against the deviation from `reference`, summed over métiers", "",
                "| lever | applies to | year | source (persons) | pmq (persons) | relative difference |",
                "|---|---|---|---:|---:|---:|"]
        for r in chk.itertuples():
            out.append(f"| {r.lever} | {r.applies_to} | {r.year} | {_fmt(r.source_value)} | "
                       f"{_fmt(r.pmq_value)} | {_fmt_rel(r.rel_diff)} |")
        out.append("")
    if any(sc.lever_list(k) for k in ("exits.shift", "exits.cohort_shift", "exits.multiplier")):
        out += exit_effects_markdown(sc, baseline)
    out.append(END)
    return "\n".join(out)


def exit_effects(scenario: Scenario, baseline=None, reference: str = "reference",
                 years=range(2023, 2039)) -> pd.DataFrame:
    """Departures of each year and employed aged 60–66 on 1 January of the next year:
    scenario minus reference (persons)."""
    from .compare import project_many
    H = max(years) - (int(baseline.attrs["base_year"]) if baseline is not None else 2019) + 1
    comp = project_many([reference, scenario], baseline, horizon=H)
    acc = comp.accounts
    dep = acc["departures"].sum(["territory", "metier", "age"])
    emp = acc["employment"].sel(age=slice(60, 66)).sum(["territory", "metier", "age"])
    d = (dep.isel(scenario=1) - dep.isel(scenario=0)).to_series()
    e = (emp.isel(scenario=1) - emp.isel(scenario=0)).to_series()
    ref = dep.isel(scenario=0).to_series()
    yrs = [y for y in years if y in d.index]
    return pd.DataFrame({"departures_reference": ref[yrs], "departures_difference": d[yrs],
                         "employed_60_66_difference_next_year": e.reindex([y + 1 for y in yrs]).values})


def exit_effects_markdown(sc: Scenario, baseline=None) -> list[str]:
    from .baseline import load_baseline
    baseline = load_baseline() if baseline is None else baseline
    t = exit_effects(sc, baseline)
    cum = t.loc[2023:2030, "departures_difference"].sum()
    ref = t.loc[2023:2030, "departures_reference"].sum()
    out = ["### Effect on end-of-career departures (scenario − reference)", "",
           f"Cumulated over 2023–2030: **{_fmt(cum)}** departures "
           f"({cum / ref:+.1%} of the reference's {_fmt(ref)}).", "",
           "| year | departures, reference | difference | employed aged 60–66, difference (1 January of next year) |",
           "|---|---:|---:|---:|"]
    for y, r in t.iterrows():
        out.append(f"| {y} | {_fmt(r.departures_reference)} | {_fmt(r.departures_difference)} | "
                   f"{_fmt(r.employed_60_66_difference_next_year)} |")
    out.append("")
    return out


def update_docs(docs_dir: Path, check: bool = False) -> list[str]:
    """Rewrite the generated sections; returns the names of the pages rewritten.  With ``check``,
    only compare — text exactly, numbers within their printed precision — and return
    ``"name: where it differs"`` for each stale page."""
    from .baseline import load_baseline
    from .testing import text_differences
    baseline = load_baseline()
    stale = []
    for name in builtin_scenarios():
        page = docs_dir / f"{name}.md"
        text = page.read_text(encoding="utf-8") if page.exists() else f"# {name}\n\n{START}\n{END}\n"
        if START not in text or END not in text:
            raise ValueError(f"{page}: no generated section markers")
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        new = head + markdown_section(name, baseline) + tail
        if check:
            # numbers within their printed precision (a last digit may move with numpy / scipy)
            diffs = text_differences(text, new)
            if diffs:
                stale.append(f"{name}: " + "; ".join(diffs[:3]))
        elif new != text:
            stale.append(name)
            page.write_text(new, encoding="utf-8")
    return stale


if __name__ == "__main__":  # pragma: no cover
    root = Path(__file__).resolve().parent.parent / "docs" / "scenarios"
    stale = update_docs(root, check="--check" in sys.argv)
    print("stale: " + ", ".join(stale) if stale else "up to date")
