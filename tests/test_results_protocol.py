"""One results protocol: Projection (one scenario or several) and ``ds.pmq`` (an accounts Dataset read back) offer the same
reading methods; ``summary()`` is text, HTML and a table; the plot accessor has one method per chart."""
import inspect

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

import pmq  # noqa: E402
from pmq import plots  # noqa: E402
from pmq.errors import ArgumentError, UnknownNameError  # noqa: E402
from pmq.formatting import format_number  # noqa: E402
from pmq.plots import PlotAccessor, charts, maps  # noqa: E402
from pmq.projection.compare import Comparison, project_many  # noqa: E402
from pmq.projection.summary import COLUMNS, Summary  # noqa: E402


@pytest.fixture(scope="module")
def comparison(baseline):
    return project_many(["reference", "bas_carbone_dares2023"], baseline, horizon=11)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


# ------------------------------------------------------------------------------------- summary
def test_summary_text_is_in_one_language_and_a_str(reference_2030):
    h = reference_2030.horizons().sum(["territory", "metier"])
    start = float(h["employment_start"].values[0])
    fr, en = reference_2030.summary(), reference_2030.summary(lang="en")
    for s in (fr, en):
        assert isinstance(s, Summary) and isinstance(s, str)
        assert str(s) == s.as_text() == repr(s)
        assert "nan" not in s.lower()
    lines = str(fr).splitlines()
    assert lines[0] == f"projection pmq — {reference_2030.scenario.title_fr}"
    assert lines[1] == "année de base 2019, horizon 11 ans, 13 régions × 83 métiers"
    assert lines[2].split()[:3] == ["période", "emploi", "initial"] and lines[2].endswith("(milliers)")
    # French numbers: a narrow no-break space between thousands, a decimal comma (26 147,0), never « 26,147.0 »
    assert format_number(start, 1, "fr", scale=1e-3) in lines[3] and "," + f"{start / 1e3:.1f}"[-1] in lines[3]
    assert f"{start / 1e3:,.1f}" not in str(fr)
    lines = str(en).splitlines()
    assert lines[0] == f"pmq projection — {reference_2030.scenario.title_en}"
    assert lines[1] == "base year 2019, horizon 11 years, 13 regions × 83 occupations"
    assert f"{start / 1e3:,.1f}" in lines[3] and lines[2].endswith("(thousands)")
    assert not any(w in "\n".join(lines[1:]) for w in ("métiers", "milliers", "période", "année"))
    # every period's row, values in the columns' order
    for i, per in enumerate(h.period.values):
        row = str(en).splitlines()[3 + i].split()
        assert row[0] == per and float(row[4].replace(",", "")) == pytest.approx(
            float(h["openings"].values[i]) / 1e3, abs=0.05)


def test_summary_table_is_the_national_totals_in_persons(reference_2030):
    s = reference_2030.summary()
    h = reference_2030.horizons().sum(["territory", "metier"])
    assert list(s.table.columns) == ["period", *COLUMNS]
    assert list(s.table["period"]) == [str(p) for p in h.period.values]
    for k in COLUMNS:
        np.testing.assert_allclose(s.table[k].to_numpy(), h[k].values)
    assert s.tables["national"] is s.table


def test_summary_html_and_english(reference_2030):
    fr = reference_2030.summary()._repr_html_()
    assert fr.startswith("<table") and "déséquilibre" in fr and "milliers" in fr
    assert fr.count("<tr>") == 1 + len(reference_2030.horizons().period)
    en = reference_2030.summary(lang="en")
    assert reference_2030.scenario.title_en in en and "imbalance" in en and "(thousands)" in en
    assert "occupations" in en and "déséquilibre" not in en
    assert "imbalance" in en._repr_html_() and "période" not in en._repr_html_()
    # each English header fits its column: the rows line up under the header
    head, row = en.splitlines()[2], en.splitlines()[3]
    assert len(head.rsplit("  (", 1)[0]) == len(row)
    with pytest.raises(ArgumentError):
        reference_2030.summary(lang="de")


def test_summary_horizons_as_horizons(reference_2030):
    s = reference_2030.summary(horizons=(3,), years=())
    assert list(s.table["period"]) == ["2019–2022"]


def test_projection_repr_is_short(reference_2030):
    r = repr(reference_2030)
    assert r.startswith("<pmq.Projection 'reference' 2019–2030") and len(r) < 200
    assert reference_2030._repr_html_().startswith("<table")


# ------------------------------------------------------- one results object for one scenario or several
PROTOCOL = ("summary", "horizons", "summary_table", "table", "hazard", "tables", "to_excel", "to_netcdf", "to_iamc",
            "to_pyam")


def test_a_comparison_is_a_projection_with_a_scenario_dimension(reference_2030, comparison):
    assert Comparison is pmq.Projection and pmq.Comparison is pmq.Projection
    assert type(comparison) is pmq.Projection and type(reference_2030) is pmq.Projection
    assert comparison.several and not reference_2030.several
    assert comparison.accounts.sizes["scenario"] == 2 and "scenario" not in reference_2030.accounts.dims
    assert [s.name for s in comparison.scenarios] == comparison.names == ["reference", "bas_carbone_dares2023"]
    for name in PROTOCOL:
        assert callable(getattr(comparison, name)) and callable(getattr(reference_2030, name)), name
    for obj in (reference_2030, comparison):
        assert isinstance(obj.plot, PlotAccessor)
        assert [p.scenario.name for p in obj] == obj.names and len(obj) == len(obj.names)
        for name in obj.names:
            assert isinstance(obj[name], pmq.Projection) and obj[name].scenario.name == name
            assert not obj[name].several
        with pytest.raises(UnknownNameError, match="nope"):
            obj["nope"]
    assert reference_2030.names == ["reference"] and reference_2030["reference"] is reference_2030
    assert reference_2030.scenarios == [reference_2030.scenario]
    with pytest.raises(AttributeError, match=r"2 scénarios \(reference, bas_carbone_dares2023\).*results\[name\]"):
        _ = comparison.scenario
    # a scenario taken out of the comparison is that scenario's projection, cell for cell
    one = comparison["reference"]
    assert one.accounts.attrs["scenario"] == "reference" and "scenarios" not in one.accounts.attrs
    for k in ("employment", "departures", "imbalance"):
        np.testing.assert_array_equal(one.accounts[k].values, reference_2030.accounts[k].values)


def test_the_projection_refuses_accounts_that_do_not_match_its_scenarios(reference_2030, comparison):
    with pytest.raises(ArgumentError, match="scenario= \\(un seul\\), soit scenarios="):
        pmq.Projection(reference_2030.accounts, reference_2030.baseline)
    with pytest.raises(ArgumentError, match="ne liste pas ces scénarios"):
        pmq.Projection(comparison.accounts, comparison.baseline, scenarios=comparison.scenarios[::-1])
    with pytest.raises(ArgumentError, match="contiennent un seul scénario"):
        pmq.Projection(reference_2030.accounts, reference_2030.baseline, scenarios=comparison.scenarios)


def test_the_side_by_side_table_of_one_scenario_and_of_several(reference_2030, comparison):
    one = reference_2030.table(horizon=5, by="domain")
    assert [c for c in one.columns if c.startswith("openings")] == ["openings | reference"]
    both = comparison.table(horizon=5, by="domain")
    delta = "openings | Δ bas_carbone_dares2023 − reference"
    assert delta in both.columns
    np.testing.assert_allclose(both["openings | reference"], one["openings | reference"], rtol=1e-12)
    np.testing.assert_allclose(both[delta], both["openings | bas_carbone_dares2023"] - both["openings | reference"])


def test_the_hazard_of_one_scenario_and_of_several(reference_2030, comparison):
    h1 = reference_2030.hazard()
    assert h1.dims == ("territory", "metier", "age")
    hc = comparison.hazard()
    assert "scenario" in hc.dims and list(hc.scenario.values) == comparison.names
    np.testing.assert_array_equal(hc.sel(scenario="reference").transpose(*h1.dims).values, h1.values)
    # departures = employment × hazard, the definition the hazard is for
    acc = reference_2030.accounts
    np.testing.assert_allclose(acc["departures"].isel(year=0).values,
                               (acc["employment"].isel(year=0) * h1).transpose(*acc["departures"].isel(year=0).dims)
                               .values, rtol=1e-12)


def test_comparison_summary_has_each_scenario_block(comparison):
    s = comparison.summary()
    assert isinstance(s, Summary) and s.startswith("comparaison pmq — 2 scénarios")
    lines = s.splitlines()
    for name in comparison.names:
        one = comparison[name].summary().splitlines()
        start = lines.index(f"{comparison[name].scenario.title_fr} ({name})")
        assert lines[start + 1:start + len(one) - 1] == one[2:]       # the header and the rows of its own summary
    assert list(s.table.columns) == ["scenario", "period", *COLUMNS]
    assert set(s.table["scenario"]) == set(comparison.names)
    assert "<table" in comparison._repr_html_()
    assert repr(comparison).startswith("<pmq.Projection 2 scenarios 'reference', 'bas_carbone_dares2023' 2019–2030")


def test_comparison_summary_table_matches_each_projection(comparison):
    t = comparison.summary_table()
    for name in comparison.names:
        one = comparison[name].summary_table()
        mine = t[t["scenario"] == name].drop(columns="scenario").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, one, check_dtype=False)


# ------------------------------------------------------------------------------ the ds.pmq accessor
def test_accessor_is_registered_by_the_projection_package():
    import pmq.projection  # noqa: F401
    assert hasattr(xr.Dataset, "pmq")


def test_accessor_round_trip(reference_2030, tmp_path):
    # in memory, the accessor reads the accounts as the Projection does
    full = reference_2030.accounts.pmq
    assert str(full.summary()) == str(reference_2030.summary())
    assert str(full.summary(lang="en")) == str(reference_2030.summary(lang="en"))
    xr.testing.assert_allclose(full.horizons(), reference_2030.horizons())
    pd.testing.assert_frame_equal(full.summary_table(), reference_2030.summary_table(), check_dtype=False)
    # and an accounts.nc read back (two regions, to keep the file small) reads as the same accounts in memory
    small = pmq.select(reference_2030.accounts, territory=["Normandie", "Bretagne"])
    path = tmp_path / "accounts.nc"
    small.pmq.to_netcdf(path)
    with xr.open_dataset(path) as ds:
        acc = ds.pmq
        assert str(acc.summary()) == str(small.pmq.summary())
        xr.testing.assert_allclose(acc.horizons(), small.pmq.horizons())
        assert acc.names == ["reference"] and acc["reference"] is not None
        sel = acc.select(territory="Normandie", metier="A0Z")
        assert sel.sizes["territory"] == 1 and sel.sizes["metier"] == 1
        assert isinstance(acc.plot, PlotAccessor)
        ax = acc.plot.waterfall(territory="Normandie")
        assert "Normandie" in ax.get_title(loc="left")
        assert acc.accounts is ds


def test_accessor_round_trip_of_a_comparison(comparison, tmp_path):
    assert str(comparison.accounts.pmq.summary()) == str(comparison.summary())
    small = pmq.select(comparison.accounts, territory="Normandie")
    path = tmp_path / "accounts.nc"
    small.to_netcdf(path)
    with xr.open_dataset(path) as ds:
        assert str(ds.pmq.summary()) == str(small.pmq.summary())
        assert ds.pmq.names == comparison.names
        one = ds.pmq["bas_carbone_dares2023"]
        assert "scenario" not in one.dims


def test_accessor_excel(reference_2030, tmp_path):
    pytest.importorskip("openpyxl")
    ds = pmq.select(reference_2030.accounts, territory="Normandie", metier=["A0Z", "A1Z"])
    out = ds.pmq.to_excel(tmp_path / "t.xlsx")
    sheets = pd.ExcelFile(out).sheet_names
    # each table on a sheet named in French (« Régions »…), read back under its name (« regions »…)
    from pmq.export import read_excel_tables
    from pmq.export.tables import TABLE_SHEETS
    assert sheets[0] == "README" and {TABLE_SHEETS[n][0] for n in ds.pmq.tables()} <= set(sheets)
    assert set(read_excel_tables(out)) == set(ds.pmq.tables())


# ----------------------------------------------------------------------------- the plot accessor
def _chart_functions() -> set[str]:
    """Every chart of pmq.plots.charts and pmq.plots.maps: their public functions except the helpers that
    compute a chart's values (``*_values``, ``waterfall_steps``, ``region_geometry``, which declare what they
    return)."""
    out = set()
    for mod in (charts, maps):
        for name, f in vars(mod).items():
            if inspect.isfunction(f) and not name.startswith("_") and f.__module__ == mod.__name__:
                if inspect.signature(f).return_annotation is inspect.Signature.empty:
                    out.add(name)
    return out


def test_every_chart_has_one_method_and_nothing_else():
    found = _chart_functions()
    assert len(found) == 13 and {"fan_chart", "tornado", "region_map", "territory_map"} <= found
    methods = {n for n, v in vars(PlotAccessor).items() if callable(v) and not n.startswith("_")}
    assert methods == found == set(PlotAccessor.CHARTS)
    for name in found:
        func = getattr(plots, name)
        params = list(inspect.signature(func).parameters.values())[1:]       # minus the data argument
        mine = list(inspect.signature(getattr(PlotAccessor, name)).parameters.values())[1:]  # minus self
        assert [(p.name, p.default, p.kind) for p in mine] == [(p.name, p.default, p.kind) for p in params], name
        doc = getattr(PlotAccessor, name).__doc__
        assert doc and f"pmq.plots.{func.__module__.split('.')[-1]}.{name}" in doc and "\n" not in doc.strip()


def test_a_typo_names_the_charts(reference_2030):
    with pytest.raises(AttributeError, match="disponibles : .*waterfall.*region_map"):
        _ = reference_2030.plot.pie
    assert "tornado" in dir(reference_2030.plot)


def test_the_charts_of_other_data_through_the_accessor(reference_2030):
    ax = PlotAccessor(plots.region_values(reference_2030)).region_map(label="x")
    assert ax.collections
    rng = np.random.default_rng(0)
    da = xr.DataArray(rng.normal(size=(20, 5)).cumsum(1), dims=("draw", "year"),
                      coords={"year": np.arange(2019, 2024)})
    assert PlotAccessor(da).fan_chart().lines
    table = pd.DataFrame({"output": ["openings"] * 2, "parameter": ["a", "b"], "central": [1e3, 1e3],
                          "low": [900.0, 950.0], "high": [1200.0, 1010.0], "swing": [300.0, 60.0]})
    assert PlotAccessor(table).tornado().patches
    with pytest.raises(TypeError, match="fan_chart dessine un DataArray à dimension draw ou quantile"):
        reference_2030.plot.fan_chart()
    assert reference_2030.plot.imbalance_map().collections


def test_a_comparison_without_ages_has_the_same_totals_in_a_fraction_of_the_memory(baseline, comparison):
    lite = project_many(["reference", "bas_carbone_dares2023"], baseline, horizon=11, ages=False)
    assert "age" not in lite.accounts.dims and lite.names == comparison.names
    for v in ("employment", "departures", "young_entrants", "net_mobility", "other_recruits", "net_creation",
              "openings", "imbalance"):
        full = comparison.accounts[v]
        full = full.sum("age", skipna=False) if "age" in full.dims else full
        mine = lite.accounts[v].transpose(*full.dims).values
        np.testing.assert_allclose(mine, full.values, rtol=0, atol=1e-9 * float(np.nanmax(np.abs(full.values))),
                                   err_msg=v)
        assert (np.isnan(mine) == np.isnan(full.values)).all(), v       # the final year's flows, nothing else
    pd.testing.assert_frame_equal(lite.table(horizon=5), comparison.table(horizon=5), rtol=1e-9)
    pd.testing.assert_frame_equal(lite.summary().table, comparison.summary().table, rtol=1e-9, atol=1e-3)
    assert lite.accounts.nbytes * 30 < comparison.accounts.nbytes
