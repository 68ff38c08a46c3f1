"""Every chart is rendered and its content checked against the data it shows."""
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.collections import PatchCollection, PolyCollection  # noqa: E402
from matplotlib.patches import Rectangle, StepPatch  # noqa: E402

import pmq  # noqa: E402
from pmq import plots  # noqa: E402
from pmq.projection.compare import project_many  # noqa: E402
from pmq.errors import InputError, UnknownNameError  # noqa: E402
from pmq.formatting import NNBSP  # noqa: E402
from pmq.projection.indicators import window_sums  # noqa: E402
from pmq.labels import metier_label  # noqa: E402
from test_chart_fixes import (COLUMN_IN, LEGIBLE_PT, _below_every_axes, _clash, _corners, _shown,  # noqa: E402
                              _source)


@pytest.fixture(scope="module")
def comparison(baseline):
    return project_many(["reference", "bas_carbone_dares2023", "reindustrialisation"], baseline, horizon=11)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _draw(ax):
    ax.figure.canvas.draw()
    return ax


def _ticks(labels):
    return [t.get_text() for t in labels]


def _top_down(ax):
    """Y tick labels from the top of the chart down."""
    return [t.get_text() for t in sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])]


# ------------------------------------------------------------------------------------- pyramid
def test_age_pyramid_plots_the_stock_by_age(reference_2030):
    ax = _draw(plots.age_pyramid(reference_2030, territory="Normandie"))
    emp = pmq.select(reference_2030.accounts, territory="Normandie")["employment"].sum(["territory", "metier"])
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    # single years from 15 to the last age of which one year reaches 0.5 % of the largest (the older ones are
    # a few dozen persons: a bar or step that thin is a line along the axis)
    both = emp.sel(year=[2019, 2030]).max("year").values
    last = int(np.flatnonzero(both >= plots.charts.PYRAMID_VISIBLE * both.max())[-1])
    assert 50 <= last < 59 and both[last + 1:].sum() < 0.001 * both.sum()
    assert len(bars) == last + 1
    np.testing.assert_allclose([b.get_width() for b in bars], emp.sel(year=2019).values[: last + 1] / 1e3)
    np.testing.assert_allclose([b.get_y() + b.get_height() / 2 for b in bars], np.arange(15, 16 + last))
    (outline,) = [p for p in ax.patches if isinstance(p, StepPatch)]
    values, edges, _ = outline.get_data()
    np.testing.assert_allclose(values, emp.sel(year=2030).values[: last + 1] / 1e3)
    np.testing.assert_allclose(edges, np.arange(14.5, 16.5 + last))  # each age's step spans its bar
    # the drawn path visits every value: a vertical segment at each age's value
    verts = outline.get_path().vertices
    for v, lo in zip(values, edges[:-1]):
        assert np.any(np.isclose(verts[:, 0], v) & np.isclose(verts[:, 1], lo))
    assert ax.get_ylabel() == "Âge" and ax.get_xlabel() == "Effectifs (milliers)"
    assert "Normandie" in ax.get_title(loc="left") and "2019 et 2030" in ax.get_title(loc="left")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["2030", "2019"]


def test_age_pyramid_bands_metier_and_english(reference_2030):
    ax = _draw(plots.age_pyramid(reference_2030, territory="53", metier="T2A", band=5, lang="en"))
    emp = reference_2030.accounts["employment"].sel(territory="53", metier="T2A", year=2019)
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    expected = emp.values.reshape(12, 5).sum(1) / 1e3
    assert expected[-1] < 0.005 * expected.max() and len(bars) == 11      # 70–74: 16 persons, left out
    np.testing.assert_allclose([b.get_width() for b in bars], expected[:11])
    (outline,) = [p for p in ax.patches if isinstance(p, StepPatch)]
    np.testing.assert_allclose(outline.get_data()[1], np.arange(14.5, 70, 5))
    assert ax.get_ylabel() == "Age" and ax.get_xlabel() == "Persons (thousands)"
    assert "Home helps" in ax.get_title(loc="left") and "Bretagne" in ax.get_title(loc="left")


def test_age_pyramid_errors(reference_2030):
    with pytest.raises(InputError, match="hors de la projection"):
        plots.age_pyramid(reference_2030, years=(2019, 2045))
    with pytest.raises(UnknownNameError):
        plots.age_pyramid(reference_2030, territory="Atlantide")
    with pytest.raises(ValueError, match="lang"):
        plots.age_pyramid(reference_2030, lang="de")


# ------------------------------------------------------------------------------------ waterfall
def test_waterfall_regional_steps_add_up(reference_2030):
    ax = _draw(plots.waterfall(reference_2030, territory="Provence-Alpes-Côte d'Azur"))
    w = pmq.select(window_sums(reference_2030.accounts, 2019, 2030), territory="93").sum(["territory", "metier"])
    bars = ax.patches
    assert len(bars) == 6
    assert _ticks(ax.get_xticklabels()) == ["Créations\nnettes", "+ Départs en fin\nde carrière",
                                            "= Postes à\npourvoir", "− Jeunes\ndébutants",
                                            "− Solde des\nmobilités", "= Déséquilibre\npotentiel"]
    h = np.array([b.get_height() for b in bars])
    y = np.array([b.get_y() for b in bars])
    np.testing.assert_allclose(h, np.array([w.net_creation, w.departures, w.openings, -w.young_entrants,
                                            -w.net_mobility, w.imbalance], dtype=float) / 1e3)
    # each step starts where the previous ended; totals start at 0
    assert y[2] == 0 and y[5] == 0
    np.testing.assert_allclose(y[1], h[0])
    np.testing.assert_allclose(h[2], h[0] + h[1])
    np.testing.assert_allclose(y[3], h[2])
    np.testing.assert_allclose(y[4] + h[4], h[5], atol=1e-9)
    assert round(h[2], 1) == 636.1
    # labels show each variable's own value, as the key-figure tables do
    texts = [t.get_text() for t in ax.texts]
    assert texts == [f"+83,6{NNBSP}k", f"552,5{NNBSP}k", f"636,1{NNBSP}k", f"463,1{NNBSP}k", f"+13,9{NNBSP}k",
                     f"+159,1{NNBSP}k"]
    assert "Provence-Alpes-Côte d'Azur" in ax.get_title(loc="left") and "2019–2030" in ax.get_title(loc="left")


def test_waterfall_outflow_region_and_hidden_mobility(reference_2030):
    steps = plots.waterfall_steps(reference_2030, territory="Île-de-France")
    mob = next(s for s in steps if s[0] == "net_mobility")
    assert mob[3] < 0 and mob[1] == -mob[3] and mob[2] == "−"      # a net outflow raises the imbalance
    assert sum(s[1] for s in steps if s[2] != "=") == pytest.approx(steps[-1][1])
    ax = _draw(plots.waterfall(reference_2030, territory="Île-de-France", lang="en"))
    assert f"{mob[3] / 1e3:,.1f} k".replace("-", "\u2212") in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match="ne donneraient plus le déséquilibre"):
        plots.waterfall(reference_2030, territory="Île-de-France", mobility=False)


def test_waterfall_france_has_no_mobility_step(reference_2030):
    steps = plots.waterfall_steps(reference_2030)
    assert [s[0] for s in steps] == ["net_creation", "departures", "openings", "young_entrants", "imbalance"]
    assert [s[2] for s in steps] == ["+", "+", "=", "−", "="]
    ax = _draw(plots.waterfall(reference_2030, end_year=2024, lang="en", values=False))
    assert len(ax.patches) == 5 and not ax.texts
    w = window_sums(reference_2030.accounts, 2019, 2024)
    np.testing.assert_allclose(ax.patches[-1].get_height(), float(w.imbalance.sum()) / 1e3)
    assert "Metropolitan France" in ax.get_title(loc="left") and ax.get_ylabel() == "Persons (thousands)"


# ---------------------------------------------------------------------------------- ranked bars
@pytest.mark.parametrize("by", ["openings", "departure_rate", "imbalance"])
def test_ranked_bars_show_the_top_n(reference_2030, by):
    ax = _draw(plots.ranked_bars(reference_2030, by=by, territory="Normandie", n=12))
    v = plots.ranked_values(reference_2030, by, territory="Normandie").to_series().sort_values(ascending=False)
    top = v.head(12)
    scale = 100 if by.endswith("_rate") else 1e-3
    bars = sorted(ax.patches, key=lambda b: -b.get_y())          # top of the chart first
    assert len(bars) == 12
    np.testing.assert_allclose([b.get_width() for b in bars], top.values * scale)
    # the full DARES labels, wrapped, never the abbreviations
    assert _top_down(ax) == [textwrap.fill(t, plots.charts.RANKED_WRAP, break_long_words=False,
                                           break_on_hyphens=False) for t in metier_label(top.index, "fr")]
    assert "Normandie" in ax.get_title(loc="left")


def test_ranked_values_rates_are_shares(reference_2030):
    w = window_sums(reference_2030.accounts).sum("territory")
    v = plots.ranked_values(reference_2030, "departure_rate")
    np.testing.assert_allclose(v.values, (w.departures / w.employment_start).values)
    with pytest.raises(ValueError, match="classement inconnu"):
        plots.ranked_values(reference_2030, "salaries")


# ------------------------------------------------------------------------------------ scenarios
def test_scenario_lines_one_line_per_scenario(comparison):
    ax = _draw(plots.scenario_lines(comparison, "employment", territory="Hauts-de-France"))
    emp = pmq.select(comparison.accounts, territory="32")["employment"].sum(["territory", "metier", "age"])
    assert len(ax.lines) == 3
    for i, line in enumerate(ax.lines):
        np.testing.assert_allclose(line.get_ydata(), emp.isel(scenario=i).values / 1e3)
        np.testing.assert_array_equal(line.get_xdata(), np.arange(2019, 2031))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    # long titles are wrapped over lines, not cut
    assert [t.replace("\n", " ") for t in legend] == list(comparison.accounts.scenario_title_fr.values)
    ax2 = _draw(plots.scenario_lines(comparison, "openings", index=True))
    assert all(abs(line.get_ydata()[0] - 100) < 1e-9 for line in ax2.lines)
    # a flow is not defined in the final year: the line stops, it does not fall to 0
    op = comparison.accounts["openings"].sum(["territory", "metier"])
    for i, line in enumerate(ax2.lines):
        y = np.asarray(line.get_ydata(), dtype=float)
        assert np.isnan(y[-1]) and np.isfinite(y[:-1]).all()
        np.testing.assert_allclose(y[:-1], op.isel(scenario=i).values[:-1] / float(op.isel(scenario=i)[0]) * 100)


def test_scenario_bars_values(comparison):
    ax = _draw(plots.scenario_bars(comparison, "openings", territory="Normandie", end_year=2030))
    w = pmq.select(window_sums(comparison.accounts, 2019, 2030), territory="28")["openings"].sum(["territory", "metier"])
    bars = sorted(ax.patches, key=lambda b: -b.get_y())
    assert len(bars) == 3
    np.testing.assert_allclose([b.get_width() for b in bars], w.values / 1e3)
    assert _top_down(ax) == [textwrap.fill(t, 32) for t in comparison.accounts.scenario_title_fr.values]


# ------------------------------------------------------------------------------ across regions
def test_heatmap_shows_rates_by_domain_and_region(reference_2030):
    ax = _draw(plots.imbalance_heatmap(reference_2030, end_year=2030))
    df = plots.heatmap_values(reference_2030, end_year=2030)
    arr = ax.collections[0].get_array()                 # the cells: a mesh of quadrilaterals
    assert arr.shape == df.shape == (21, 14)            # 21 domains present (XK_ counts in K), 13 regions + FR
    np.testing.assert_allclose(np.asarray(arr), df.values * 100)
    cols = _ticks(ax.get_xticklabels())
    assert cols[0] == "IDF" and "PACA" in cols and cols[-1] == "FR"
    assert _ticks(ax.get_yticklabels())[1] == "Bâtiment, travaux publics"
    # the FR column is the national ratio, not a mean of ratios
    w = window_sums(reference_2030.accounts, 2019, 2030)
    b = w.sel(metier=w.domain == "B")
    np.testing.assert_allclose(df.loc["B", "FR"], float(b.imbalance.sum() / b.employment_start.sum()))
    ann = [t.get_text() for t in ax.texts]
    assert len(ann) == 21 * 14
    # legible once in a page: scaled to a 16-cm column, the numbers are 5.5 points or more (they were 3.7)
    renderer = ax.figure.canvas.get_renderer()
    width = ax.figure.get_size_inches()[0]
    assert min(t.get_fontsize() for t in ax.texts) * min(1.0, COLUMN_IN / width) >= LEGIBLE_PT
    # each number inside its cell, the row labels clear of each other, the title inside the figure
    cell = ax.transData.transform([[1, 0]])[0][0] - ax.transData.transform([[0, 0]])[0][0]
    assert max(t.get_window_extent(renderer).width for t in ax.texts) < 0.9 * cell
    rows = [_corners(t, renderer) for t in ax.get_yticklabels()]
    assert not any(_clash(a, b) for i, a in enumerate(rows) for b in rows[i + 1:])
    title = ax._left_title                                          # house style: titles on the left
    assert title.get_text().startswith("Déséquilibre potentiel par domaine et région")
    assert title.get_window_extent(renderer).x1 <= ax.figure.bbox.x1 and min(r[:, 0].min() for r in rows) >= 0
    assert _below_every_axes(ax.figure, _source(ax.figure), renderer)


def test_small_multiples_one_panel_per_region(reference_2030):
    fig = plots.small_multiples(reference_2030, "waterfall", end_year=2030)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = [a for a in fig.axes if a.get_visible()]
    assert len(axes) == 13
    assert [a.get_title(loc="left") for a in axes][:2] == ["Île-de-France", "Centre-Val de Loire"]
    for a, code in zip(axes, reference_2030.accounts.territory.values):
        steps = plots.waterfall_steps(reference_2030, territory=str(code), end_year=2030)
        np.testing.assert_allclose([p.get_height() for p in a.patches], [s[1] / 1e3 for s in steps])
    # a title for the figure; no label on another (bar names, ticks, titles, source line)
    assert fig.get_suptitle() == "Postes à pourvoir et déséquilibre potentiel par région, 2019–2030"
    texts = [fig._suptitle, _source(fig)]
    for a in axes:
        texts += _shown(a, a.get_xticklabels(), "x") + _shown(a, a.get_yticklabels(), "y")
        texts += [t for t in (a.title, a._left_title, a.xaxis.label, a.yaxis.label) if t.get_text()]
    boxes = [(t.get_text(), _corners(t, renderer)) for t in texts]
    clashes = [(s, u) for i, (s, a) in enumerate(boxes) for u, b in boxes[i + 1:] if _clash(a, b)]
    assert len(boxes) > 13 * 8 and not clashes, clashes[:5]
    # the bars' names once per column, under its bottom panel: 13 panels in 4 columns, the last four
    assert [bool(_shown(a, a.get_xticklabels(), "x")) for a in axes] == [False] * 9 + [True] * 4
    assert _below_every_axes(fig, _source(fig), renderer)


def test_region_map_colours_each_region(reference_2030):
    ax = _draw(plots.imbalance_map(reference_2030, end_year=2030, highlight="28"))
    pc = next(c for c in ax.collections if isinstance(c, PatchCollection))
    v = plots.region_values(reference_2030, end_year=2030) * 100
    assert set(pc.codes) == set(v.index) and len(set(pc.codes)) == 13
    np.testing.assert_allclose(pc.values, v.loc[pc.codes].values)
    # the darkest and lightest polygons are the regions with the extreme values (sequential map)
    lum = pc.get_facecolors()[:, :3] @ [0.299, 0.587, 0.114]
    assert pc.codes[int(np.argmax(lum))] == v.idxmax() and pc.codes[int(np.argmin(lum))] == v.idxmin()
    labels = {t.get_text() for t in ax.texts}
    assert f"{v['28']:.1f}".replace(".", ",") in labels
    assert len(ax.patches) >= 1  # the highlighted outline
    # the source of the data, then the base map's attribution, under the map
    note = _source(ax.figure)
    said = note.get_text().replace("\n", " ")
    assert said.startswith("Source : DARES – France Stratégie, « Les métiers en 2030 » ; projection pmq "
                           "(Scénario de référence") and "Fond de carte : IGN" in said
    assert _below_every_axes(ax.figure, note, ax.figure.canvas.get_renderer())


def test_region_map_rejects_unknown_codes():
    import pandas as pd
    with pytest.raises(InputError, match="codes inconnus") as e:
        plots.region_map(pd.Series({"93": 0.1, "971": 0.2}))
    assert "971" in str(e.value)


def test_geometry_is_the_13_regions():
    geo = plots.region_geometry()
    codes = sorted(f["properties"]["code"] for f in geo["features"])
    assert codes == sorted(pmq.data.regions()["code"])
    for f in geo["features"]:
        for poly in (f["geometry"]["coordinates"] if f["geometry"]["type"] == "MultiPolygon"
                     else [f["geometry"]["coordinates"]]):
            ring = np.asarray(poly[0])
            assert ring.shape[0] >= 4 and np.allclose(ring[0], ring[-1])
            assert (-5.5 < ring[:, 0]).all() and (ring[:, 0] < 10).all() and (41 < ring[:, 1]).all()


# ----------------------------------------------------------------------------------------- fans
def test_fan_chart_bands_and_median():
    rng = np.random.default_rng(1)
    years = np.arange(2019, 2031)
    draws = xr.DataArray(1e3 * (100 + rng.normal(0, 1, (200, years.size)).cumsum(1)),
                         dims=("draw", "year"), coords={"year": years})
    ax = _draw(plots.fan_chart(draws))
    q = draws.quantile([0.05, 0.25, 0.5, 0.75, 0.95], dim="draw").values / 1e3
    np.testing.assert_allclose(ax.lines[0].get_ydata(), q[2])
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(polys) == 2
    outer = polys[0].get_paths()[0].vertices
    assert outer[:, 1].max() == pytest.approx(q[4].max()) and outer[:, 1].min() == pytest.approx(q[0].min())
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["5–95\u202f%", "25–75\u202f%"]
    with pytest.raises(ValueError, match="draw"):
        plots.fan_chart(draws.isel(draw=0))
    with pytest.raises(ValueError, match="quantiles"):
        plots.fan_chart(draws, quantiles=(0.1, 0.5, 0.9))


# ------------------------------------------------------------------------------------ accessor
def test_charts_of_one_scenario_of_a_comparison(comparison):
    ax = _draw(plots.waterfall(comparison, territory="Bretagne", scenario="bas_carbone_dares2023"))
    steps = plots.waterfall_steps(comparison["bas_carbone_dares2023"], territory="Bretagne")
    np.testing.assert_allclose([p.get_height() for p in ax.patches], [s[1] / 1e3 for s in steps])
    note = " ".join(t.get_text() for t in ax.figure.texts).replace("\n", " ")
    assert "Transition bas carbone à 2030" in note
    with pytest.raises(UnknownNameError, match="bas_carbone_dares2023"):
        plots.waterfall(comparison, scenario="nope")


def test_english_charts(reference_2030):
    ax = _draw(plots.ranked_bars(reference_2030, "departure_rate", n=5, lang="en"))
    assert "Departures (% of initial employment)" in ax.get_xlabel()
    assert all(t.get_text().endswith("%") and "," not in t.get_text() for t in ax.texts)
    ax = _draw(plots.imbalance_heatmap(reference_2030, lang="en"))
    assert _ticks(ax.get_yticklabels())[1] == "Construction, public works"
    assert "by domain and region" in ax.get_title(loc="left")
    ax = _draw(plots.imbalance_map(reference_2030, lang="en"))
    said = _source(ax.figure).get_text().replace("\n", " ")
    assert said.startswith("Source: DARES – France Stratégie, « Les métiers en 2030 »; pmq projection (Reference")
    assert "Base map: IGN" in said


def test_charts_on_a_user_baseline():
    from conftest import make_baseline
    rng = np.random.default_rng(0)
    E = rng.uniform(50, 200, (2, 3, 60))
    h = np.tile(np.linspace(0, 1, 60), (3, 1))
    N = rng.uniform(-500, 500, (2, 3))
    Y = rng.uniform(100, 900, (2, 3))
    M = np.array([[100.0, -50, 20], [-100, 50, -20]])
    b = make_baseline(E, h, N, Y, M)
    b = b.assign_coords(territory_name=("territory", ["Bouches-du-Rhône", "Zone Un"]),
                        metier_label=("metier", ["Un", "Deux", "Trois"]), domain=("metier", ["A", "A", "B"]))
    proj = pmq.project(b, "reference", horizon=11)
    ax = _draw(plots.waterfall(proj, territory="Zone Un"))
    assert "Zone Un" in ax.get_title(loc="left")
    ax = _draw(plots.imbalance_heatmap(proj))
    assert _ticks(ax.get_xticklabels()) == ["Bouches-du-Rhône", "Zone Un", "Ens."]
    assert "par domaine et territoire" in ax.get_title(loc="left")
    ax = _draw(plots.age_pyramid(proj))
    assert "Ensemble des territoires" in ax.get_title(loc="left")
    ax = _draw(plots.ranked_bars(proj, "openings", n=3))
    assert sorted(_ticks(ax.get_yticklabels())) == ["Deux", "Trois", "Un"]
    with pytest.raises(InputError):
        plots.imbalance_map(proj)


def test_plot_accessor(reference_2030, comparison):
    ax = _draw(reference_2030.plot.waterfall(territory="Normandie"))
    assert len(ax.patches) == 6
    ax2 = _draw(comparison.plot.scenario_lines())
    assert len(ax2.lines) == 3
    with pytest.raises(AttributeError, match="disponibles"):
        _ = reference_2030.plot.pie
    assert "waterfall" in dir(reference_2030.plot)


def test_charts_save_png_and_svg(reference_2030, tmp_path):
    ax = plots.waterfall(reference_2030, territory="Corse")
    ax.figure.savefig(tmp_path / "w.png", dpi=300)
    ax.figure.savefig(tmp_path / "w.svg")
    from PIL import Image
    im = Image.open(tmp_path / "w.png")
    assert im.size[0] > 1500                                    # print resolution
    svg = (tmp_path / "w.svg").read_text(encoding="utf-8")
    assert "Corse" in svg and "Postes à" in svg                 # text kept as text (svg.fonttype none)
