"""The five overseas régions (Guadeloupe, Martinique, Guyane, La Réunion, Mayotte) as **estimated** territories
beside the published metropolitan baseline.

« Les métiers en 2030 » covers metropolitan France only.  :func:`with_overseas` appends the DOM régions with
inputs estimated as follows (every one labelled in the data, the accounts' attrs and ``docs/territories.md``):

* employment by métier in the base year: :func:`pmq.data.territories.dom_employment` (recensement 2017
  rescaled per métier to the Métiers-2030 level; Mayotte: a second-hand Insee total spread by Guyane's
  structure — an order of magnitude);
* its split by age: the métier's metropolitan age structure; exit hazards: the national ones (by métier × age,
  as for every région);
* the published period flows (net creation, young entrants, departures): the métier's metropolitan rate
  (period total / base-year employment, summed over the 13 régions) times the DOM employment;
* net mobility: none, and the DOM stay outside the recentring of the metropolitan régions' mobility
  (coordinate ``mobility_closed``), so that every metropolitan figure is exactly the one of the run without
  them (tested bit for bit; to rounding, 1e-15, under a deviation lever in persons that names its territories,
  whose sums run over more cells) — except under a scenario lever that names no territory and adds *persons* to
  the whole run (a deviation in persons): the DOM then take their share of it, as any territory of the run
  does; name the régions in the lever to keep it metropolitan;
* tension: the DOM département's own 2019 DARES class where published (Mayotte: none), else unknown.

Users can replace any of it with their own tables (``pmq run --data``).
"""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from pmq.data.territories import dom_employment, tension_departement, territories
from pmq.errors import InputError
from pmq.options import tr

__all__ = ["with_overseas", "OVERSEAS_METHOD"]

#: What is estimated, as the accounts' attrs and the docs say it.
OVERSEAS_METHOD = ("DOM régions (01 Guadeloupe, 02 Martinique, 03 Guyane, 04 La Réunion, 06 Mayotte) estimated "
                   "by pmq: base-year employment by métier from the 2017 census rescaled per métier (Mayotte: "
                   "an order of magnitude), metropolitan age structure and flow rates by métier, national "
                   "hazards, no net mobility (outside the metropolitan recentring)")
#: The département of each DOM région (the tension classes are published by département).
DOM_DEPARTEMENT = {"01": "971", "02": "972", "03": "973", "04": "974", "06": "976"}


def with_overseas(baseline: xr.Dataset) -> xr.Dataset:
    """The baseline with the five DOM régions appended as estimated territories (see the module docstring).

    ``baseline`` must be a regional baseline whose métiers the DOM table covers (the embedded one)."""
    terr = [str(t) for t in baseline.territory.values]
    if "region" in baseline.coords or any(t in DOM_DEPARTEMENT for t in terr):
        raise InputError(tr("the DOM are added to a regional baseline without them (then split it by level)",
                            "les DOM s'ajoutent à une situation de départ régionale qui ne les a pas (à répartir "
                            "ensuite par niveau)"),
                         source=tr("baseline", "situation de départ"), column="territory", rows=None)
    dom = dom_employment()
    met = [str(m) for m in baseline.metier.values]
    codes = list(DOM_DEPARTEMENT)
    table = dom.pivot_table(index="region", columns="metier", values="employment", aggfunc="sum")
    missing = [m for m in met if m not in table.columns]
    if missing:
        raise InputError(tr("the DOM employment table does not cover these métiers of the baseline",
                            "le tableau de l'emploi des DOM ne couvre pas ces métiers de la situation de départ"),
                         source="dom_employment.csv", column="metier", rows=None)
    E_dom = table.reindex(index=codes, columns=met).fillna(0.0).to_numpy()              # (dom, métier)
    emp = baseline["employment"].transpose("territory", "metier", "age").values
    by_age = emp.sum(0)                                                                  # (métier, age)
    total = by_age.sum(-1)                                                               # (métier,)
    shape = np.where(total[:, None] > 0, by_age / np.where(total[:, None] > 0, total[:, None], 1.0), 0.0)

    def rate(var: str) -> np.ndarray:
        flow = baseline[var].transpose("territory", "metier").values.sum(0)
        return np.where(total > 0, flow / np.where(total > 0, total, 1.0), 0.0)

    names = territories("region").set_index("code")["name"]
    add = xr.Dataset(coords={"territory": codes, "metier": baseline.metier.values, "age": baseline.age.values})
    add["employment"] = (("territory", "metier", "age"), E_dom[:, :, None] * shape[None], dict(
        baseline["employment"].attrs, estimated="yes: DOM (pmq.inputs.overseas)"))
    for var in ("published_net_creation", "published_young_entrants", "published_departures"):
        add[var] = (("territory", "metier"), E_dom * rate(var)[None], dict(baseline[var].attrs))
    add["published_net_mobility"] = (("territory", "metier"), np.zeros_like(E_dom),
                                     dict(baseline["published_net_mobility"].attrs))
    tension = tension_departement()
    own = tension[tension["basis"] == "departement"]
    tt = own.pivot_table(index="departement", columns="metier", values="tension", aggfunc="first")
    t_dom = tt.reindex(index=[DOM_DEPARTEMENT[c] for c in codes], columns=met).to_numpy(dtype=float)
    add["tension"] = (("territory", "metier"), t_dom, dict(baseline["tension"].attrs))
    add["hors_champ"] = (("territory", "metier"), np.broadcast_to(
        baseline["hors_champ"].transpose("territory", "metier").values.all(0), E_dom.shape).copy())
    for v in baseline.data_vars:
        if v not in add.data_vars:           # no territory dimension (the hazards): as they are
            if "territory" in baseline[v].dims:
                raise InputError(tr(f"the DOM cannot be added to a baseline with the variable {v!r} by territory",
                                    f"impossible d'ajouter les DOM à une situation de départ ayant la variable {v!r} "
                                    "par territoire"),
                                 source=tr("baseline", "situation de départ"), column=str(v), rows=None)
            add[v] = baseline[v]
    add = add.assign_coords(
        territory_name=("territory", [str(names[c]) for c in codes]),
        territory_source_name=("territory", [str(names[c]) for c in codes]),
        published_code=(("territory", "metier"), np.broadcast_to(
            baseline["published_code"].transpose("territory", "metier").values[0], E_dom.shape).copy())
        if "published_code" in baseline.coords else (("territory", "metier"), np.full(E_dom.shape, "")))
    base = baseline.assign_coords(mobility_closed=("territory", np.zeros(len(terr), bool)),
                                  estimated_territory=("territory", np.zeros(len(terr), bool)))
    add = add.assign_coords(mobility_closed=("territory", np.ones(len(codes), bool)),
                            estimated_territory=("territory", np.ones(len(codes), bool)))
    keep = [c for c in base.coords if "territory" in base[c].dims and c not in add.coords]
    base = base.drop_vars(keep)
    out = xr.concat([base, add], dim="territory", data_vars="all", coords="different", compat="equals",
                    join="exact", combine_attrs="override")
    for v in out.data_vars:
        out[v].attrs = dict(baseline[v].attrs)
    estimated = json.loads(baseline.attrs.get("estimated", "[]"))
    out.attrs = dict(baseline.attrs, estimated=json.dumps(estimated + [OVERSEAS_METHOD], ensure_ascii=False),
                     overseas="estimated (pmq.inputs.overseas)",
                     title=f"{baseline.attrs.get('title', 'pmq baseline')} + DOM (estimés)")
    return out
