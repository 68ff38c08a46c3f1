"""Empty and tiny cells end to end: a small user baseline (two zones d'emploi × three métiers) with
an empty cell, a tiny cell and a métier appearing from zero, through pmq.project, the horizons, the
imbalance table and its typologies, the summary and the command line — and the cells that cannot
be run, refused with an error naming their territory and métier."""
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import pmq
from pmq.analysis import imbalance as im
from pmq.cli import main
from pmq.model.ages import AGES, logistic_hazard
from pmq.errors import EngineError, InputError, PmqError
from pmq.testing import assert_accounts

H = logistic_hazard(AGES, 65.0, 2.9, 1.0, 0.0025)
SHAPE = np.exp(-0.5 * ((AGES - 42.0) / 11.0) ** 2)
METIERS = ("A0Z", "B2Z", "T4Z")
# territory, name, métier, base employment, then period totals: net creation, young entrants,
# net inflow; tension level.
CELLS = [
    ("ZE1", "Zone Un", "A0Z", 0.0, 0.0, 0.0, 0.0, 5),          # empty, no flows, very high tension
    ("ZE1", "Zone Un", "B2Z", 0.5, 0.05, 0.1, 0.0, 4),          # tiny: half a person
    ("ZE1", "Zone Un", "T4Z", 2000.0, 150.0, 500.0, 40.0, 2),
    ("ZE2", "Zone Deux", "A0Z", 1200.0, -100.0, 100.0, 0.0, 3),
    ("ZE2", "Zone Deux", "B2Z", 0.0, 300.0, 60.0, 0.0, 4),      # a métier appearing from zero
    ("ZE2", "Zone Deux", "T4Z", 800.0, 40.0, 200.0, -40.0, "hors champ"),
]
EMPTY = ("ZE1", "A0Z")
GROWING = ("ZE2", "B2Z")
TINY = ("ZE1", "B2Z")
STOCKS_AND_FLOWS = ("employment", "net_creation", "departures", "openings", "young_entrants",
                    "net_mobility", "other_recruits", "imbalance")


def tables(cells=CELLS):
    emp, flo, ten = [], [], []
    for t, name, m, e, n, y, mob, ts in cells:
        v = SHAPE / SHAPE.sum() * e
        emp += [{"territory": t, "metier": m, "age": int(a), "employment": float(x), "year": 2021,
                 "territory_name": name} for a, x in zip(AGES, v)]
        flo.append({"territory": t, "metier": m, "period_start": 2021, "period_end": 2031, "net_creation": n,
                    "young_entrants": y, "net_mobility": mob})
        ten.append({"territory": t, "metier": m, "tension": ts})
    haz = pd.DataFrame([{"metier": m, "age": int(a), "hazard": float(h)} for m in METIERS
                        for a, h in zip(AGES, H)])
    return pd.DataFrame(emp), haz, pd.DataFrame(flo), pd.DataFrame(ten)


def with_cell(territory, metier, **values):
    """CELLS with one cell's values replaced (employment, net_creation, young, mobility)."""
    keys = ("employment", "net_creation", "young", "mobility")
    out = []
    for c in CELLS:
        if (c[0], c[2]) == (territory, metier):
            c = list(c)
            for k, v in values.items():
                c[3 + keys.index(k)] = v
            c = tuple(c)
        out.append(c)
    return out


def project(cells=CELLS, horizon=20, scenario="reference"):
    b = pmq.load_user_baseline(*tables(cells))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(start from or end at zero employment|d'un emploi nul ou y)")
        return pmq.project(b, scenario, horizon=horizon)


@pytest.fixture(scope="module")
def proj():
    b = pmq.load_user_baseline(*tables())
    with pytest.warns(UserWarning, match=r"1 cellule part d'un emploi nul.*ZE2 × B2Z \(0 → 300\)"):
        return pmq.project(b, "reference", horizon=20)


def _cell(ds, key):
    return ds.sel(territory=key[0], metier=key[1])


def no_nan_before_the_final_year(acc):
    for k in STOCKS_AND_FLOWS:
        a = acc[k] if k == "employment" else acc[k].isel(year=slice(0, -1))
        assert not bool(a.isnull().any()), k
        assert bool(np.isfinite(a).all()), k


# ------------------------------------------------------------------ the demand path
def test_growth_rate_rules_fall_back_to_linear_from_or_to_zero():
    from pmq.model.demand import employment_path, growth_undefined
    e0 = np.array([0.0, 0.0, 100.0, 100.0])
    e1 = np.array([0.0, 110.0, 0.0, 121.0])
    np.testing.assert_array_equal(growth_undefined(e0, e1), [False, True, True, False])
    for cont in ("constant_growth", "damped_growth", "constant_level"):
        p = employment_path(e0, e1, 11, 20, continuation=cont)
        assert np.isfinite(p).all()
        np.testing.assert_array_equal(p[:, 0], 0.0)                              # empty stays empty
        np.testing.assert_allclose(p[:12, 1], 10.0 * np.arange(12), rtol=1e-12)  # linear from zero
        np.testing.assert_allclose(p[:12, 2], 100.0 - 100.0 / 11 * np.arange(12), atol=1e-12)  # to zero
        np.testing.assert_array_equal(p[11:, 1], 110.0)                          # then held level
        np.testing.assert_array_equal(p[11:, 2], 0.0)
    p = employment_path(e0, e1, 11, 20)
    np.testing.assert_allclose(p[:, 3], 100.0 * 1.21 ** (np.arange(21) / 11), rtol=1e-12)  # others keep the rule
    with pytest.raises(InputError, match="négatif ou NaN") as info:
        employment_path(np.array([0.0, 5.0]), np.array([-1.0, 5.0]), 11, 11, spreading="linear",
                        continuation="constant_level")
    assert "cellule (0,) : 0 → -1" in str(info.value)


# ------------------------------------------------------------------ end to end in Python
def test_projection_runs_with_empty_and_tiny_cells(proj):
    acc = proj.accounts
    assert_accounts(proj)                       # departures = stock × hazard included
    no_nan_before_the_final_year(acc)
    empty = _cell(acc, EMPTY)
    for k in STOCKS_AND_FLOWS:
        assert float(abs(empty[k]).sum()) == 0.0, k                              # exactly zero, no NaN
    grow = _cell(acc, GROWING)["employment"].sum("age").values
    # 2021–2031: 10 annual steps, the same number of jobs each year, then held level.
    np.testing.assert_allclose(grow[:11], 300.0 * np.arange(11) / 10, rtol=1e-9)
    np.testing.assert_allclose(grow[10:], 300.0, rtol=1e-12)
    assert float(_cell(acc, GROWING)["young_entrants"].isel(year=0).sum()) == 0.0  # none before the jobs
    tiny = _cell(acc, TINY)["employment"].sum("age").values
    assert tiny[0] == pytest.approx(0.5) and tiny[10] == pytest.approx(0.55)
    assert float(acc["employment"].min()) >= -1e-12


def test_horizons_and_summary(proj):
    h = proj.horizons()
    for k in h.data_vars:
        assert bool(np.isfinite(h[k]).all()), k
    np.testing.assert_array_equal(_cell(h, EMPTY)["openings"].values, 0.0)
    text = proj.summary()
    assert "nan" not in text.lower() and "2 territoires × 3 métiers" in text
    st = proj.summary_table()
    levels = st[["employment_start", "employment_end", "net_creation", "departures", "openings",
                 "young_entrants", "net_mobility", "other_recruits", "imbalance"]]
    assert levels.notna().all().all()
    rates = st[["departures_rate", "imbalance_rate"]]
    assert np.isfinite(rates[st["employment_start"] > 0]).all().all()
    assert not np.isinf(rates.to_numpy()).any()


@pytest.fixture(scope="module")
def table(proj):
    return im.imbalance_table(proj, horizon=10)


def _row(t, key):
    return t[(t.territory == key[0]) & (t.metier == key[1])].iloc[0]


def test_imbalance_ratios_are_nan_where_undefined(table):
    e = _row(table, EMPTY)
    assert e["openings"] == 0 and e["supply"] == 0 and e["imbalance"] == 0
    assert math.isnan(e["imbalance_pct"]) and math.isnan(e["imbalance_pct_openings"])
    assert math.isnan(e["supply_demand_ratio"]) and e["openings_nonpositive"]
    g = _row(table, GROWING)
    assert g["employment_base"] == 0 and g["openings"] > 300 and math.isnan(g["imbalance_pct"])
    assert g["supply_demand_ratio"] == pytest.approx(60.0 / g["openings"])
    num = table.select_dtypes("number").to_numpy()
    assert not np.isinf(num).any()
    # Defined everywhere else.
    defined = table[table["employment_base"] > 0]
    assert defined["imbalance_pct"].notna().all()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_typologies_say_not_classified_where_undefined(table, lang):
    nc = im.NOT_CLASSIFIED[0 if lang == "fr" else 1]
    t = table.copy()
    for name in ("dares", "cops", "roa"):
        t[name] = im.classify(t, name, lang=lang)
        labels = im.PRESETS[name].labels_fr if lang == "fr" else im.PRESETS[name].labels_en
        assert set(t[name]) <= set(labels.values()), name                      # one language at a time
        assert labels["non_classe"] == nc
    e = _row(t, EMPTY)
    assert (e["dares"], e["cops"], e["roa"]) == (nc, nc, nc)                    # tension 5, yet not classed
    g = _row(t, GROWING)
    assert g["dares"] == nc                                                       # gap ÷ 0 employment
    assert g["cops"] != nc and g["roa"] != nc                                     # openings > 0: classed
    others = t[(t.employment_base > 0) & ~t.hors_champ]
    assert (others[["dares", "cops", "roa"]] != nc).all().all()
    hors = _row(t, ("ZE2", "T4Z"))                                                # « hors champ » first
    assert hors["dares"] == ("Hors champ" if lang == "fr" else "Not covered")


def test_cops_no_openings_with_job_seekers_is_a_surplus():
    t = pd.DataFrame({"openings": [0.0, 0.0, -5.0, 0.0], "supply": [0.0, 10.0, 0.0, -3.0],
                      "tension": [5.0, 5.0, 1.0, np.nan], "hors_champ": False, "n_years": 10})
    assert im.classify(t, "cops", lang="en").tolist() == ["Not classified", "Balance", "Surplus",
                                                          "Not classified"]
    assert im.classify(t, "cops", lang="en", use_recent=False).tolist() == [
        "Not classified", "Surplus", "Surplus", "Not classified"]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_watch_list_skips_unclassified_rows(table, lang):
    w = im.watch_list(table, n=5, lang=lang)
    assert im.NOT_CLASSIFIED[0 if lang == "fr" else 1] not in set(w["class"])
    assert not ((w.territory == EMPTY[0]) & (w.metier == EMPTY[1])).any()
    assert w["imbalance_pct"].notna().all()


def test_national_tension_of_a_metier_empty_everywhere():
    cells = [c for c in CELLS if c[2] != "A0Z"] + [
        ("ZE1", "Zone Un", "A0Z", 0.0, 0.0, 0.0, 0.0, 5), ("ZE2", "Zone Deux", "A0Z", 0.0, 0.0, 0.0, 0.0, 3)]
    p = project(cells, horizon=11)
    t = im.imbalance_table(p)
    fr = _row(t, ("FR", "A0Z"))
    assert fr["tension"] == 4.0 and not fr["hors_champ"]   # plain mean of the levels: no employment
    assert im.classify(t, "dares").loc[fr.name] == im.NOT_CLASSIFIED[0]


def test_single_territory_single_metier_empty_baseline():
    cells = [("ZE1", "Zone Un", "T4Z", 0.0, 0.0, 0.0, 0.0, 3)]
    p = project(cells, horizon=12)
    assert_accounts(p)
    no_nan_before_the_final_year(p.accounts)
    assert float(abs(p.accounts["employment"]).sum()) == 0.0
    t = im.imbalance_table(p)
    assert (im.classify(t, "dares") == im.NOT_CLASSIFIED[0]).all()


# ------------------------------------------------------------------ the cells that cannot run
@pytest.mark.parametrize("territory,metier,values,match,shown", [
    # job losses in an empty cell: refused before any computation
    ("ZE1", "A0Z", {"net_creation": -10.0}, "créations nettes d'emploi retirent plus d'emplois que la cellule n'en",
     "-10"),
    # young entrants into an empty cell whose employment stays 0: they would have to leave
    ("ZE1", "A0Z", {"young": 55.0}, "n'ont plus aucun actif en 2021", "55"),
    # a net outflow from an empty cell (balanced by an inflow elsewhere)
    ("ZE1", "A0Z", {"mobility": -22.0}, "n'ont plus aucun actif en 2021", "-22"),
])
def test_impossible_flows_are_refused_naming_the_cell(territory, metier, values, match, shown):
    cells = with_cell(territory, metier, **values)
    if values.get("mobility"):
        cells = [c if (c[0], c[2]) != ("ZE2", "A0Z") else c[:6] + (-values["mobility"],) + c[7:] for c in cells]
    b = pmq.load_user_baseline(*tables(cells))
    with pytest.raises(InputError, match=match) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pmq.project(b, "reference", horizon=12)
    msg = str(info.value)
    assert isinstance(info.value, PmqError)
    rows = info.value.rows
    assert list(rows["territory"]) == [territory] and list(rows["metier"]) == [metier]
    assert territory in msg and metier in msg and shown in msg
    assert "Zone Un" in msg                                                        # the territory's name too
    if "retirent plus d'emplois" not in match:
        assert isinstance(info.value.__cause__, EngineError)
        assert info.value.__cause__.no_stock == [True]
        assert rows["year"].tolist() == [2021]


def test_growth_from_zero_with_a_net_outflow_is_refused():
    """A cell appearing from zero cannot send workers away in its first year (nobody is there yet)."""
    cells = with_cell("ZE2", "B2Z", mobility=-11.0)
    cells = [c if (c[0], c[2]) != ("ZE1", "B2Z") else c[:3] + (100.0, 120.0, 0.1, 11.0) + c[7:] for c in cells]
    b = pmq.load_user_baseline(*tables(cells))
    with pytest.raises(InputError, match="n'ont plus aucun actif en 2021") as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pmq.project(b, "reference", horizon=12)
    assert "ZE2" in str(info.value) and "B2Z" in str(info.value)


def test_a_metier_closing_falls_linearly_to_zero_and_stays_there():
    """Net creation = −employment: no growth rate reaches zero, so the cell is spread linearly; its
    last workers are taken from every age (the capped removal of docs/engine.md)."""
    cells = with_cell("ZE2", "A0Z", net_creation=-1200.0, young=0.0)
    b = pmq.load_user_baseline(*tables(cells))
    with pytest.warns(UserWarning, match=r"ZE2 × A0Z \(1200 → 0\)"):
        p = pmq.project(b, "reference", horizon=14)
    acc = p.accounts
    assert_accounts(p)
    no_nan_before_the_final_year(acc)
    e = _cell(acc, ("ZE2", "A0Z"))["employment"]
    np.testing.assert_allclose(e.sum("age").values, np.maximum(1200.0 - 120.0 * np.arange(15), 0.0), atol=1e-9)
    assert float(e.min()) >= -1e-12 and float(abs(e.isel(year=slice(10, None))).max()) < 1e-9
    # Young entrants in the closing year would have to leave with the last workers: refused.
    cells = with_cell("ZE2", "A0Z", net_creation=-1200.0, young=100.0)
    b = pmq.load_user_baseline(*tables(cells))
    with pytest.raises(InputError, match="dépasse les actifs restant") as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pmq.project(b, "reference", horizon=12)
    assert info.value.rows[["territory", "metier", "year"]].values.tolist() == [["ZE2", "A0Z", 2030]]


# ------------------------------------------------------------------ the command line
def write_data(folder, cells=CELLS):
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in zip(("employment", "hazards", "flows", "tension"), tables(cells)):
        df.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_cli_run_and_imbalance_on_user_files_with_empty_cells(tmp_path, capsys):
    data = write_data(tmp_path / "zones")
    out = tmp_path / "results"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(start from or end at zero employment|d'un emploi nul ou y)")
        assert main(["run", "reference", "--data", str(data), "--out", str(out), "--horizon", "12"]) == 0
    text = capsys.readouterr().out
    assert "nan" not in text.lower()
    s = pd.read_csv(out / "summary.csv", dtype={"territory": str})
    levels = s.drop(columns=["departures_rate", "imbalance_rate"])
    assert levels.notna().all().all()
    rates = s[["departures_rate", "imbalance_rate"]]
    assert rates[s["employment_start"] > 0].notna().all().all()
    assert rates[s["employment_start"] == 0].isna().all().all()                # undefined, not ±inf
    assert ((s.territory == EMPTY[0]) & (s.metier == EMPTY[1])).sum() == len(s.period.unique())

    imb = tmp_path / "imb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["imbalance", "reference", "--data", str(data), "--horizon", "10", "--lang", "en",
                     "--out", str(imb)]) == 0
    t = pd.read_csv(imb / "imbalance.csv", dtype={"territory": str})
    e = t[(t.territory == EMPTY[0]) & (t.metier == EMPTY[1])].iloc[0]
    assert (e["class_dares"], e["class_cops"], e["class_roa"]) == ("Not classified",) * 3
    assert not t[["class_dares", "class_cops", "class_roa"]].isin(im.NOT_CLASSIFIED[:1]).any().any()


@pytest.mark.parametrize("values,shown", [({"net_creation": -10.0}, "-10"), ({"young": 55.0}, "55")])
def test_cli_refuses_impossible_flows_with_exit_2(tmp_path, capsys, values, shown):
    data = write_data(tmp_path / "zones", with_cell("ZE1", "A0Z", **values))
    out = tmp_path / "results"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["run", "reference", "--data", str(data), "--out", str(out), "--horizon", "12"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pmq : erreur : flows")
    assert "ZE1" in err and "A0Z" in err and shown in err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.background
def test_cli_report_on_user_files_with_empty_cells(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    data = write_data(tmp_path / "zones")
    out = tmp_path / "rapport"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = main(["report", "reference", "--data", str(data), "--territory", "ZE1", "--horizon", "10",
                   "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    page = (out / "report.html").read_text(encoding="utf-8")
    text = re.sub(r"base64,[A-Za-z0-9+/=]+", "", page)                      # embedded images aside
    assert not re.search(r"\b(NaN|nan|inf)\b", text)
    assert "Zone Un" in text


def test_imbalance_table_of_a_baseline_without_territory_names():
    """A baseline built from arrays (no ``territory_name``): the France row is added all the same."""
    from conftest import make_baseline
    E = np.zeros((2, 2, len(AGES)))
    E[0, 0] = SHAPE / SHAPE.sum() * 500.0                       # T0 × M0 only; the rest is empty
    b = make_baseline(E, np.broadcast_to(H, (2, len(AGES))).copy(), np.array([[50.0, 0.0], [0.0, 0.0]]),
                      np.array([[100.0, 0.0], [0.0, 0.0]]), np.zeros((2, 2)))
    b["tension"] = (("territory", "metier"), np.array([[5.0, 5.0], [2.0, np.nan]]))
    b["hors_champ"] = b["tension"].isnull()
    t = im.imbalance_table(pmq.project(b, "reference", horizon=11))
    assert list(t["territory"]) == ["T0", "T0", "T1", "T1", "FR", "FR"]
    c = im.classify(t, "dares", lang="en").tolist()
    assert c[1] == c[2] == "Not classified" and c[3] == "Not covered"       # empty: tension 5, 2, none
    assert c[5] == "Not classified"                                          # M1 is empty in France too
