"""Local tension and recruitment difficulty (issue 18, item 4): the département's own 2019 tension class where
DARES publishes it (its région's otherwise, flagged), BMO 2023 by département × métier, carried by downscaled
baselines, the imbalance table and the watch list. Checked against the shipped tables (and, when
``../shared/data`` is beside the repository, against the source files)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pmq
from pmq.analysis import imbalance as im
from pmq.data import territories as T
from pmq.estimation import territories as build
from pmq.inputs.downscale import downscale

SHARED = build.locate_shared()
HAS_BMO = SHARED is not None and (SHARED / "bmo" / "bmo_2023_open_data.xlsx").is_file()


@pytest.fixture(scope="module")
def regional():
    return pmq.load_baseline("region")


@pytest.fixture(scope="module")
def dep():
    return pmq.load_baseline("departement")


@pytest.fixture(scope="module")
def bmo_rows():
    return build.read_bmo(SHARED)


def _cells(ds, name):
    return ds[name].transpose("territory", "metier").to_pandas()


def test_departement_class_where_published(dep):
    t = T.tension_departement()
    own = t[t["basis"] == "departement"].set_index(["departement", "metier"])["tension"]
    tension, basis = _cells(dep, "tension").stack(), _cells(dep, "tension_basis").stack()
    inside = own.index.intersection(tension.index)
    assert len(inside) > 0.6 * len(tension)
    assert (tension[inside] == own[inside]).all()
    assert (basis[inside] == "departement").all()
    assert (basis.drop(inside) == "region").all()
    assert own.isin([1.0, 2.0, 3.0, 4.0, 5.0]).all()
    assert "departement where published" in dep.attrs["tension_level"]


def test_missing_class_falls_back_on_the_region(dep, regional):
    basis = _cells(dep, "tension_basis")
    tension = _cells(dep, "tension")
    reg = _cells(regional, "tension")
    parent = dict(zip(dep.territory.values, dep.region.values))
    n = 0
    for d in basis.index:
        miss = basis.columns[basis.loc[d] == "region"]
        a, b = tension.loc[d, miss].to_numpy(), reg.loc[parent[d], miss].to_numpy()
        assert np.array_equal(a, b, equal_nan=True)
        n += len(miss)
    assert n > 0
    # the families DARES does not cover stay « hors champ », flagged region
    assert (basis["W0Z"] == "region").all() and bool(dep["hors_champ"].sel(metier="W0Z").all())
    t = T.tension_departement()
    assert set(t.loc[t["metier"].isin(["W0Z", "P0Z", "XK_"]), "basis"]) == {"missing"}


def test_merged_metiers_follow_the_stated_rule():
    t = T.tension_departement()
    merged = t[(t["n_fap"] > 1) & (t["basis"] == "departement")]
    assert len(merged) > 0 and (merged["published_share"] >= 0.5).all()
    cls = np.searchsorted(build.DARES_TENSION_CUTOFFS, merged["tension_z"]) + 1
    assert (cls == merged["tension"]).all()
    assert t.loc[t["basis"] == "missing", "tension"].isna().all()


@pytest.mark.skipif(SHARED is None, reason="../shared/data absent")
def test_single_family_class_is_the_dares_file_s():
    src = build.read_tension_dep(SHARED).set_index(["dep", "fap"])
    t = T.tension_departement()
    one = t[(t["n_fap"] == 1) & (t["basis"] == "departement")]
    comp = {m: fs[0] for m, fs in build.pmq_metiers()[1].items() if len(fs) == 1}
    idx = pd.MultiIndex.from_arrays([one["departement"], one["metier"].map(comp)])
    assert (src["tension"].reindex(idx).to_numpy() == one["tension"].to_numpy()).all()
    unpublished = t[(t["n_fap"] == 1) & (t["basis"] == "missing") & t["metier"].map(comp).notna()]
    idx = pd.MultiIndex.from_arrays([unpublished["departement"], unpublished["metier"].map(comp)])
    assert src["tension"].reindex(idx).isna().all()


def test_bmo_shares_and_counts_are_consistent():
    b = T.bmo_departement()
    assert b["share_difficult"].dropna().between(0, 1).all()
    assert (b["difficult"] <= b["projects"]).all() and (b["projects"] >= 0).all()
    pos = b["projects"] > 0
    assert np.allclose(b.loc[pos, "share_difficult"], b.loc[pos, "difficult"] / b.loc[pos, "projects"], atol=5e-7)
    assert b.loc[~pos, "share_difficult"].isna().all()
    assert set(b.loc[pos, "basis"]) == {"bmo"} and not (b.loc[~pos, "basis"] == "bmo").any()
    # the difficult count estimates each masked one (under 5) at 2: within the bounds of the masking
    assert (b["difficult_masked"] * 2 <= b["difficult"]).all()
    assert set(b.loc[b["basis"] == "not_in_bmo", "metier"]) == {"P0Z", "P1Z", "P2Z", "P4Z"}


@pytest.mark.skipif(not HAS_BMO, reason="../shared/data absent")
def test_departement_projects_are_the_sum_of_its_bassins(bmo_rows):
    b = T.bmo_departement().set_index(["departement", "metier"])
    comp = build.pmq_metiers()[1]
    f2m = {f: m for m, fs in comp.items() for f in fs}
    rows = bmo_rows.assign(metier=bmo_rows["code"].str[:3].map(f2m),
                           met=pd.to_numeric(bmo_rows["met"].where(bmo_rows["met"] != "*")))
    assert rows["metier"].notna().all()              # every BMO métier maps to a pmq métier
    for d, m in [("13", "T2A"), ("59", "J1Z"), ("2A", "S2Z"), ("75", "F0A")]:
        sub = rows[(rows["dep"] == d) & (rows["metier"] == m)]
        assert b.loc[(d, m), "projects"] == sub["met"].sum()
        assert b.loc[(d, m), "n_rows"] == len(sub)
    total = rows.groupby("dep")["met"].sum()
    assert np.allclose(b.groupby(level=0)["projects"].sum().reindex(total.index), total)


def test_departement_and_zone_baselines_carry_the_bmo_signals(dep):
    b = T.bmo_departement().set_index(["departement", "metier"])
    share = _cells(dep, "bmo_share_difficult").stack(future_stack=True)
    assert np.allclose(share.to_numpy(), b["share_difficult"].reindex(share.index).to_numpy(), equal_nan=True)
    proj = _cells(dep, "bmo_projects")
    assert proj["P0Z"].isna().all() and (proj.drop(columns=["P0Z", "P1Z", "P2Z", "P4Z"]) >= 0).all().all()
    assert dep["bmo_share_difficult"].attrs["source"] == T.BMO_SOURCE and dep.attrs["bmo_level"] == "departement"
    # children still add up to their parent: signals are not split
    reg = pmq.load_baseline("region")
    summed = dep["employment"].groupby(dep["region"]).sum().rename(region="territory")
    assert np.allclose(summed.sel(territory=reg.territory).values, reg["employment"].values, rtol=1e-12)


def test_zones_take_their_departement_s_signals(dep):
    z = downscale(dep.sel(territory=["13", "2A", "59"]), "zone_emploi")   # as load_baseline("zone_emploi")
    parent = z["departement"].values
    for name in ("tension", "tension_basis", "bmo_share_difficult", "bmo_projects"):
        a = z[name].transpose("territory", "metier").values
        b = dep[name].sel(territory=parent).transpose("territory", "metier").values
        assert (a == b).all() if a.dtype.kind in "UO" else np.array_equal(a, b, equal_nan=True)
    assert "no class of its own" in z.attrs["tension_level"]
    assert "departement" in z.attrs["bmo_level"]


#: Métiers of the département run (net mobility sums to zero over territories métier by métier, so a subset of
#: métiers is a valid baseline: every département, a fraction of the run time)
RUN_METIERS = ["T2A", "J1Z", "W0Z", "D0A", "F0A", "A0Z", "R1Z", "P0Z", "S1Z", "T2B"]


@pytest.fixture(scope="module")
def table(dep):
    return im.imbalance_table(pmq.project(dep.sel(metier=RUN_METIERS), "reference", horizon=11))


def test_imbalance_table_and_watch_list_per_departement(table):
    for c in ("tension_basis", "bmo_projects", "bmo_share_difficult"):
        assert c in table.columns
    cells = table[table["territory"] != "FR"]
    assert set(cells["tension_basis"]) == {"departement", "region"}
    fr = table[table["territory"] == "FR"].set_index("metier")
    assert fr["tension_basis"].str.startswith("national").all()
    b = T.bmo_departement()
    b = b[b["departement"].isin(cells["territory"].unique())]
    assert fr.loc["T2A", "bmo_projects"] == b.loc[b["metier"] == "T2A", "projects"].sum()
    assert 0 < fr.loc["T2A", "bmo_share_difficult"] < 1
    w = im.watch_list(table, n=5)
    assert w["territory"].nunique() > 60 and w.groupby("territory").size().max() <= 5
    for c in ("tension_basis", "bmo_share_difficult", "bmo_projects"):
        assert c in w.columns
    one = w[w["territory"] == "13"]
    assert (one["territory_name"] == "Bouches-du-Rhône").all()
    dares = im.classify(cells, "dares")
    assert dares.notna().all()


@pytest.mark.skipif(not HAS_BMO, reason="../shared/data absent")
def test_check_rebuild_of_the_local_tables(bmo_rows, monkeypatch):
    # the BMO workbook was read (and checked against the shipped table) above: reuse it
    monkeypatch.setattr(build, "read_bmo", lambda shared: bmo_rows.copy())
    assert build.main(["--check", "--local-only"]) == 0
