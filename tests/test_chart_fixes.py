"""The chart defects a new user found (issue 20, item 2), each checked by what the reader sees: the fan's title
names the territory and a source line sits under it; small multiples have a title and no two labels on top of
each other; the pyramid's outline stops at the last age it shows; no employment tick reads as a year and an
axis writes its ticks with the same decimals; the heatmap's numbers stay legible once the figure fills a page
column; métiers are named by their full DARES labels; the maps say where their data come from."""
import re
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import StepPatch  # noqa: E402

from pmq import plots  # noqa: E402
from pmq.formatting import NNBSP  # noqa: E402
from pmq.labels import metier_label  # noqa: E402
from pmq.projection.ensemble import run_ensemble  # noqa: E402

#: A page column of a report (A4, 2.5-cm margins): 16 cm.
COLUMN_IN = 16 / 2.54
#: The least size (points) of a heatmap's numbers once the figure is scaled to a page column (they were 3.7).
LEGIBLE_PT = 5.5


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _draw(fig):
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _overlap(a, b, tol=0.5) -> bool:
    """Two display boxes share more than ``tol`` pixels both ways."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > tol and min(a.y1, b.y1) - max(a.y0, b.y0) > tol


def _corners(t, renderer) -> np.ndarray:
    """The four corners (display pixels) of a text's box as drawn: slanted with the text when rotated about its
    anchor (the window extent of a slanted text is the upright box around it, wider than the text)."""
    rot = t.get_rotation()
    if rot % 360 == 0 or t.get_rotation_mode() != "anchor":
        b = t.get_window_extent(renderer)
        return np.array([[b.x0, b.y0], [b.x1, b.y0], [b.x1, b.y1], [b.x0, b.y1]])
    anchor = t.get_transform().transform(t.get_unitless_position())
    t.set_rotation(0)
    b = t.get_window_extent(renderer)
    t.set_rotation(rot)
    c, s = np.cos(np.radians(rot)), np.sin(np.radians(rot))
    pts = np.array([[b.x0, b.y0], [b.x1, b.y0], [b.x1, b.y1], [b.x0, b.y1]]) - anchor
    return pts @ np.array([[c, s], [-s, c]]) + anchor


def _clash(p, q, tol=0.5) -> bool:
    """Two convex polygons overlap by more than ``tol`` pixels (no separating axis among their edges' normals)."""
    if (np.minimum(p.max(0), q.max(0)) - np.maximum(p.min(0), q.min(0)) <= tol).any():     # apart upright
        return False
    for poly in (p, q):
        for i in range(len(poly)):
            edge = poly[(i + 1) % len(poly)] - poly[i]
            normal = np.array([-edge[1], edge[0]]) / np.hypot(*edge)
            a, b = p @ normal, q @ normal
            if min(a.max(), b.max()) - max(a.min(), b.min()) <= tol:
                return False
    return True


def _shown(ax, labels, axis: str):
    """Tick labels drawn: with text, inside the axis' view (matplotlib keeps labels for ticks outside it)."""
    lo, hi = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    return [t for t in labels if t.get_visible() and t.get_text()
            and lo - 1e-9 <= t.get_position()[0 if axis == "x" else 1] <= hi + 1e-9]


def _source(fig):
    """The figure's source line (a text of the figure starting with « Source »)."""
    found = [t for t in fig.texts if t.get_text().startswith("Source")]
    assert len(found) == 1, [t.get_text() for t in fig.texts]
    return found[0]


def _below_every_axes(fig, text, renderer) -> bool:
    box = text.get_window_extent(renderer)
    axes = [a for a in fig.axes if a.get_visible()]
    return all(box.y1 <= a.get_tightbbox(renderer).y0 + 0.5 for a in axes) and box.y0 >= 0


def _year_like(label: str) -> bool:
    """A tick label that reads as a year: four digits from 1900 to 2100, whatever the separator."""
    digits = label.replace(NNBSP, "").replace(" ", "").replace(",", "").replace(".", "")
    return bool(re.fullmatch(r"\d{4}", digits)) and 1900 <= int(digits) <= 2100 and "," not in label[-3:]


def _decimals(label: str, sep: str) -> int:
    return len(label.split(sep)[1]) if sep in label else 0


# ------------------------------------------------------------------------------------------------ fan
@pytest.fixture(scope="module")
def small_ensemble(baseline):
    return run_ensemble("reference_incertain", baseline, draws=6, horizon=3)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_fan_is_titled_with_the_territory_name_and_has_a_source_line(small_ensemble, lang):
    ax = small_ensemble.fan("employment", territory="53", lang=lang)
    renderer = _draw(ax.figure)
    head = ax.get_title(loc="left").split("\n")[0]
    assert head == "Bretagne"                                      # not the code « 53 »
    note = _source(ax.figure)
    assert ("Source : DARES – France Stratégie" if lang == "fr" else "Source: DARES – France Stratégie") \
        in note.get_text()
    assert ("6 tirages" if lang == "fr" else "6 draws") in note.get_text().replace("\n", " ")
    assert _below_every_axes(ax.figure, note, renderer)
    # Bretagne's 1.3 million jobs: the axis is in millions, its ticks do not read as years
    assert ax.get_ylabel() == ("Emploi (millions)" if lang == "fr" else "Employment (millions)")
    assert not any(_year_like(t.get_text()) for t in ax.get_yticklabels())
    # a list of territories is named too
    ax2 = small_ensemble.fan("departures", territory=["53", "Normandie"], lang=lang)
    assert ax2.get_title(loc="left").split("\n")[0] == "Bretagne, Normandie"
    assert ax2.get_ylabel().endswith("(milliers)" if lang == "fr" else "(thousands)")


# ------------------------------------------------------------------------------------- small multiples
# (titles and labels of all 13 panels: tests/test_plots.py::test_small_multiples_one_panel_per_region)
def test_small_multiples_title_and_legend_in_english(reference_2030):
    fig = plots.small_multiples(reference_2030, "pyramid", territories=["53", "94"], ncols=2, metier="T2A",
                                band=5, lang="en", panel_size=(2.6, 2.2))
    _draw(fig)
    assert fig.get_suptitle() == "Home helps — Age pyramid by region, 2019 and 2030"
    assert not any(a.get_legend() for a in fig.axes)                # one legend for the figure
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["2030", "2019"]


# --------------------------------------------------------------------------------------------- pyramid
def test_pyramid_outline_stops_at_the_last_age_shown(reference_2030):
    ax = plots.age_pyramid(reference_2030, territory="Bretagne", metier="T2A", band=5)   # as reports draw it
    _draw(ax.figure)
    (outline,) = [p for p in ax.patches if isinstance(p, StepPatch)]
    bars = [p for p in ax.patches if not isinstance(p, StepPatch)]
    top = max(b.get_y() + b.get_height() for b in bars)
    verts = outline.get_path().vertices
    verts = verts[np.isfinite(verts).all(1)]
    assert verts[:, 1].max() <= top + 0.5                           # no line above the top band's bar
    assert ax.get_ylim()[1] <= top + 1.0
    # the top band shows: its bar or its step is not a line along the age axis
    widest = max(max(b.get_width() for b in bars), verts[:, 0].max())
    highest = max(bars, key=lambda b: b.get_y())
    assert max(highest.get_width(), outline.get_data()[0][-1]) >= 0.005 * widest
    # what is left out is negligible: the bars hold 99.9 % of 2019's employment
    emp = reference_2030.accounts["employment"].sel(territory="53", metier="T2A", year=2019)
    assert sum(b.get_width() for b in bars) * 1e3 == pytest.approx(float(emp.sum()), rel=1e-3)


# ------------------------------------------------------------------------------------------------ axes
def test_employment_axes_do_not_read_as_years(reference_2030):
    # Provence-Alpes-Côte d'Azur: 1.92 to 2.02 million jobs, once ticked « 2 020 » (thousands)
    ax = plots.scenario_lines(reference_2030, "employment", territory="93")
    _draw(ax.figure)
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and not any(_year_like(s) for s in labels)
    assert ax.get_ylabel() == "Emploi (millions)"
    for t in ax.get_yticklabels():                                  # the ticks say the values: « 2,02 » = 2 020 k
        if t.get_text():
            assert float(t.get_text().replace(",", ".")) * 1e3 == pytest.approx(t.get_position()[1], abs=1e-6)
    # the years themselves stay years
    assert ax.xaxis.get_major_formatter()(2020) == "2020"
    years = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert years and all(re.fullmatch(r"20\d\d", y) for y in years)
    # in English too, and a smaller region stays in thousands
    ax = plots.scenario_lines(reference_2030, "employment", territory="Corse", lang="en")
    _draw(ax.figure)
    assert ax.get_ylabel() == "Employment (thousands)"


def test_small_values_have_the_same_decimals_on_every_tick(reference_2030):
    ax = plots.waterfall(reference_2030, territory="Corse", metier="T2A")      # 0 to 1.7 thousand
    _draw(ax.figure)
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert len(labels) >= 4 and len({_decimals(s, ",") for s in labels}) == 1
    assert any("," in s for s in labels)                            # « 0,25 », not « 0 » beside « 0,25 »


# ----------------------------------------------------------------------------------------- métier labels
def test_metiers_are_named_by_their_full_dares_labels(reference_2030):
    full = metier_label(["J1Z", "P1Z"], "fr")
    assert full == ["Ouvriers qualifiés de la manutention",
                    "Professions intermédiaires administratives de la fonction publique"]
    ax = plots.ranked_bars(reference_2030, by="imbalance", n=10)
    ticks = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
    assert full[0] in ticks and full[1] in ticks                    # both among France's ten largest
    assert not any(re.search(r"\bO N?Q\b|\bONQ\b|\bOQ\b|interm\.|\bProf\.", t) for t in ticks)
    ax = plots.ranked_bars(reference_2030, by="imbalance", n=10, lang="en")
    assert "Skilled materials-handling workers" in [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
    # a long label wraps, it is not cut: B0Z (98 characters) over lines of at most RANKED_WRAP
    ax = plots.imbalance_heatmap(reference_2030, by="metier", territories=["53"], annotate=False)
    rows = {t.get_text().replace("\n", " "): t.get_text() for t in ax.get_yticklabels()}
    long = metier_label(["B0Z"], "fr")[0]
    assert long in rows and rows[long] == textwrap.fill(long, 46, break_long_words=False, break_on_hyphens=False)
    assert not any(re.search(r"\bOQ\b|\bONQ\b|\bTech\.", r) for r in rows)


# ----------------------------------------------------------------------------------------------- maps
# (the régions' map: tests/test_plots.py::test_region_map_colours_each_region and test_english_charts)
def test_territory_map_says_its_data_source(reference_2030):
    # the 13 région codes are also département codes: drawn as a départements map of a split run
    acc = reference_2030.accounts.assign_attrs(level="departement", key_source="pmq shipped key (departement)",
                                               baseline_title="Les métiers en 2030 — baseline 2019 — departement")
    ax = plots.imbalance_territory_map(acc, end_year=2030, metier="J1Z")
    assert ax.get_title(loc="left").endswith("\nOuvriers qualifiés de la manutention")     # not « OQ manutention »
    said = _source(ax.figure).get_text().replace("\n", " ")
    assert said.startswith("Source : DARES – France Stratégie, « Les métiers en 2030 » ; projection pmq (Scénario")
    assert "Valeurs estimées : « Les métiers en 2030 » réparti par département par pmq" in said
    assert "Fond de carte : IGN" in said and "docs/" not in said
    plt.close("all")
    ax = plots.imbalance_territory_map(acc.assign_attrs(baseline_title="Mes données"), end_year=2030, lang="en")
    said = _source(ax.figure).get_text().replace("\n", " ")
    assert said.startswith("Source: the user's data; pmq projection (Reference scenario")
