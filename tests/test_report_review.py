"""A newcomer's review of the report (`pmq report reference ademe_s3 --territory PACA`, and `--level departement`):
estimated inputs said where a figure rests on them (the age structure, Corse's split of published groups), the
small multiples legible at the page's width, a colour scale widened around values close for their level, the
scenarios in the line chart's source, skills labels whole, a difference column and a sentence on the other
scenarios, progress lines naming the figures by their captions, and where the figures' files are."""
import contextlib
import html
import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import pmq  # noqa: E402
from pmq import plots  # noqa: E402
from pmq.export import report as rep  # noqa: E402
from pmq.plots import maps, style  # noqa: E402
from pmq.plots.skills import _wrapped, skills_bars  # noqa: E402

NNBSP, NBSP = "\u202f", "\u00a0"

#: the module builds reports (≈ 30 s of CLI-sized work): it runs in the background pytest process on the other
#: core (tests/conftest.py), as the suite's other report builds do
pytestmark = pytest.mark.background


def _source(fig) -> str:
    """The figure's source line, on one line."""
    (note,) = [t for t in fig.texts if t.get_text().startswith("Source")]
    return note.get_text().replace("\n", " ")


def _plain(s: str) -> str:
    """Text as read: HTML entities decoded, no-break spaces as spaces."""
    return html.unescape(s).replace(NBSP, " ").replace(NNBSP, " ")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def two_scenarios(baseline):
    return pmq.project_many(["reference", "ademe_s3"], baseline, horizon=11)


# ------------------------------------------------------------------------ 1. estimated inputs said
def test_the_baseline_says_what_is_estimated(baseline, reference_2030):
    # the age split and Corse's split of its published groups, as the baseline's attrs say
    assert style.age_estimated(baseline) and style.age_estimated(reference_2030.accounts)
    assert baseline["employment"].attrs["estimated"].startswith("yes: age split estimated")
    assert style.grouped_territories(reference_2030.accounts) == ["94"]        # Corse, only
    # a group's total is kept (published): Corse's groups cross domains, so its domain values are estimated
    pc = baseline["published_code"].sel(territory="94").to_series()
    crossing = {g for g, d in pd.DataFrame({"g": pc, "d": baseline["domain"].to_series()}).groupby("g")["d"]
                if d.nunique() > 1}
    assert crossing and all(";" in g for g in crossing)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_pyramid_says_its_age_structure_is_estimated(reference_2030, lang):
    ax = plots.age_pyramid(reference_2030, territory="93", band=5, lang=lang)
    said = _plain(_source(ax.figure))
    assert style.AGE_ESTIMATED[lang] in said
    if lang == "fr":
        assert said.startswith("Source : DARES – France Stratégie, « Les métiers en 2030 » ; projection pmq (Scénario")
        assert "structure par âge estimée par pmq (formes nationales DARES, portraits statistiques)" in said
    else:
        assert said.startswith("Source: DARES – France Stratégie, « Les métiers en 2030 »; pmq projection (Reference")
        assert "age structure estimated by pmq" in said and "structure par âge" not in said
    # charts not of ages do not say it
    ax = plots.waterfall(reference_2030, territory="93", lang=lang)
    assert style.AGE_ESTIMATED[lang] not in _plain(_source(ax.figure))


def test_heatmap_marks_corse_and_says_why(reference_2030):
    ax = plots.imbalance_heatmap(reference_2030, end_year=2030)
    cols = [t.get_text() for t in ax.get_xticklabels()]
    assert "COR*" in cols and "PACA" in cols and "FR" in cols
    assert sum(c.endswith("*") for c in cols) == 1
    said = _plain(_source(ax.figure))
    assert "* Corse : métiers publiés par groupes, répartis entre familles professionnelles par pmq" in said
    assert "par domaine en partie estimées" in said
    # without Corse among the columns: no mark, no note
    ax = plots.imbalance_heatmap(reference_2030, end_year=2030, territories=["93", "53"])
    assert not any(t.get_text().endswith("*") for t in ax.get_xticklabels())
    assert "Corse" not in _source(ax.figure)


def test_region_map_marks_corse_whose_totals_are_kept(reference_2030):
    ax = plots.imbalance_map(reference_2030, end_year=2030, highlight="93", lang="en")
    marked = [t.get_text() for t in ax.texts if t.get_text().endswith("*")]
    corse = plots.region_values(reference_2030, end_year=2030)["94"] * 100
    assert marked == [f"{corse:.1f}*"]
    said = _source(ax.figure)
    assert "* Corse: occupations published in groups, split into FAP families by pmq (the published totals are " \
           "kept)" in said and "Base map: IGN" in said


def test_departures_after_the_published_period_are_said(reference_20):
    ax = plots.waterfall(reference_20, territory="93", end_year=2035)
    assert "départs en fin de carrière après 2030 estimés par pmq" in _plain(_source(ax.figure))
    ax = plots.waterfall(reference_20, territory="93", end_year=2030)        # the published window: published
    assert "après 2030" not in _source(ax.figure)


# ------------------------------------------------------------------------ 2. small multiples legible
def test_report_small_multiples_are_legible_at_the_page_width(reference_2030):
    layout = rep._panels(13)
    fig = plots.small_multiples(reference_2030, "waterfall", end_year=2030, lang="fr", **layout)
    fig.canvas.draw()
    width = fig.get_size_inches()[0]
    axes = [a for a in fig.axes if a.get_visible()]
    assert len(axes) == 13
    assert len({round(a.get_position().x0, 3) for a in axes}) == layout["ncols"] <= 4     # 3 columns
    # the page shows each figure 900 px wide (9.375 CSS inches): every text ≥ 8 points there
    shown = 900 / 96 / width

    def displayed(t):
        return t.get_fontsize() * shown

    ticks = [t for a in axes for t in a.get_xticklabels() + a.get_yticklabels() if t.get_text() and t.get_visible()]
    assert ticks and min(displayed(t) for t in ticks) >= 8
    assert all(displayed(a._left_title) >= 8 for a in axes)
    # the short bar names, once a column
    names = {t.get_text() for a in axes for t in a.get_xticklabels() if t.get_text()}
    assert names and max(map(len, names)) <= 14
    # one y label for the figure, none on the panels
    assert fig._supylabel is not None and fig._supylabel.get_text() == "Effectifs (milliers)"
    assert all(a.get_ylabel() == "" for a in axes)
    # the source line reads as the 7-inch charts' 7-point one once shown at the same width
    (note,) = [t for t in fig.texts if t.get_text().startswith("Source")]
    assert displayed(note) >= 7 * 900 / 96 / 7.0 - 0.01
    # Corse marked, and said
    assert [a._left_title.get_text() for a in axes if a._left_title.get_text().endswith("*")] == ["Corse*"]
    assert "* Corse :" in _plain(_source(fig))


# ------------------------------------------------------------------------ 3. colour scale of close values
def test_a_narrow_range_gets_a_wider_colour_scale():
    # the département map's estimated values, 7,6 to 8,4 %: once stretched dark blue to yellow
    vmin, vmax, diverging, widened = maps.colour_limits(pd.Series([7.6, 7.9, 8.1, 8.4]), percent=True)
    assert widened and not diverging
    assert vmin < 7.6 and vmax > 8.4
    assert vmax - vmin >= 2 * maps.NARROW_SHARE * np.mean([7.6, 7.9, 8.1, 8.4]) - 1e-9     # ±20 % of the level
    assert (8.4 - 7.6) / (vmax - vmin) <= 0.25 + 1e-9   # the values take a quarter of the scale at most
    assert vmin >= 0                                     # positive values: a scale that does not go below 0
    # close values near 0 stay on their side of it, at least ± NARROW_POINTS points wide
    vmin, vmax, _, widened = maps.colour_limits([0.2, 0.4], percent=True)
    assert widened and vmin == 0 and vmax >= 2 * maps.NARROW_POINTS
    # a wide range is left as it is (the régions, 0,6 to 11,4 %)
    assert maps.colour_limits([0.6, 3.9, 11.4]) == (0.6, 11.4, False, False)
    # values of both signs: centred on 0
    assert maps.colour_limits([-3.0, 5.0])[:3] == (-5.0, 5.0, True)


def test_departement_map_scale_is_widened_and_says_estimated(reference_2030):
    acc = reference_2030.accounts.assign_attrs(level="departement", key_source="pmq shipped key (departement)",
                                               baseline_title="Les métiers en 2030 — baseline 2019 — departement")
    values = pd.Series({"29": 0.082, "22": 0.086, "35": 0.086, "56": 0.084})
    ax = plots.territory_map(values, level="departement", label="x")
    (cbar,) = [a for a in ax.figure.axes if hasattr(a, "_colorbar")]
    norm = cbar._colorbar.norm
    assert norm.vmin < 8.2 - 1 and norm.vmax > 8.6 + 1                  # not 7,9–8,9 nor 8,2–8,6
    plt.close("all")
    ax = plots.imbalance_territory_map(acc, end_year=2030)
    (cbar,) = [a for a in ax.figure.axes if hasattr(a, "_colorbar")]
    assert "valeurs estimées (clé de répartition)" in cbar._colorbar.ax.get_ylabel()
    assert "Valeurs estimées" in _source(ax.figure)


# ------------------------------------------------------------------------ 4. scenarios in the line chart
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_scenario_lines_name_their_scenarios(two_scenarios, lang):
    ax = plots.scenario_lines(two_scenarios, "employment", territory="93", lang=lang)
    said = _plain(_source(ax.figure))
    coord = "scenario_title_fr" if lang == "fr" else "scenario_title_en"
    for title in two_scenarios.accounts[coord].values:
        assert _plain(str(title)) in said
    assert ("(scénarios : " if lang == "fr" else "(scenarios: ") in said
    # the axis keeps its range (not from 0) and says its unit
    assert ax.get_ylim()[0] > 1000
    assert ax.get_ylabel() == ("Emploi (millions)" if lang == "fr" else "Employment (millions)")
    # a bar chart of the scenarios says them too
    ax = plots.scenario_bars(two_scenarios, "openings", territory="93", end_year=2030, lang=lang)
    assert all(_plain(str(t)) in _plain(_source(ax.figure)) for t in two_scenarios.accounts[coord].values)


# ------------------------------------------------------------------------ 5. skills labels whole
def test_skills_labels_wrap_whole():
    from pmq.data import skills as skills_data
    labels = skills_data.macro_competences()["label"].astype(str)
    for label in labels:
        w = _wrapped(label)
        assert "…" not in w and " ".join(w.split()) == " ".join(label.split())      # every word, none cut
        assert all(len(line) <= 35 for line in w.split("\n"))
        assert w.count("\n") + 1 <= (2 if len(label) <= 50 else 4)          # two lines, the longest a few more
    qhse = "Respecter les règles de Qualité, Hygiène, Sécurité, Santé et Environnement (QHSSE)"
    assert _wrapped(qhse).endswith("Environnement (QHSSE)") and "…" not in _wrapped(qhse)


def test_skills_chart_shows_whole_labels(reference_2030):
    from pmq.analysis import skills
    table = skills.skills_demand(reference_2030, by="macro_competence", territory="93", end_year=2030)
    ax = skills_bars(table, top=12)
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert shown and not any("…" in s for s in shown)
    full = set(table["label"].astype(str).map(lambda s: " ".join(s.split())))
    assert all(" ".join(s.split()) in full for s in shown)                  # each label whole


# ------------------------------------------------------------------------ 6–8. the report
def test_key_table_has_a_signed_difference_per_scenario_beyond_the_first():
    kf = pd.DataFrame({"a": [100_000.0, 0.083], "b": [111_500.0, 0.089], "c": [90_000.0, 0.083]},
                      index=["openings", "imbalance_rate"])
    kf.attrs.update(start_year=2019, end_year=2030)
    page = rep._key_table_html(kf, {"a": "A", "b": "B", "c": "C"}, "fr")
    head = _plain(page.split("</thead>")[0])
    assert ">Écart S2 − S1</th>" in head and ">Écart S3 − S1</th>" in head
    rows = re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", page)
    cells = {_plain(label): re.findall(r'<td class="num">(.*?)</td>', rest) for label, rest in rows}
    assert [_plain(c) for c in cells["Postes à pourvoir"]] == ["100,0 k", "111,5 k", "90,0 k", "+11,5 k", "−10,0 k"]
    assert [_plain(c) for c in cells["Déséquilibre potentiel, en % de l'emploi 2019"][-2:]] == ["+0,6 pt", "0,0 pt"]
    one = rep._key_table_html(kf[["a"]], {"a": "A"}, "en")
    assert "Difference" not in one
    assert ">Difference S2" in rep._key_table_html(kf[["a", "b"]], {"a": "A", "b": "B"}, "en")


@pytest.fixture(scope="module")
def report_two(tmp_path_factory):
    """A report of two scenarios on Bretagne (French), its progress lines and its page."""
    err = io.StringIO()
    out = tmp_path_factory.mktemp("review") / "rep"
    with contextlib.redirect_stderr(err):
        r = rep.build_report(["reference", "ademe_s3"], territory="Bretagne", out=out, progress=True)
    return r, err.getvalue(), r.html.read_text(encoding="utf-8")


def test_lead_says_what_the_other_scenario_gives(report_two):
    r, _, page = report_two
    lead = _plain(re.search(r'<p class="lead" id="lead">(.*?)</p>', page, re.S).group(1))
    first, second = lead.split(". Selon ")
    kf = r.key_figures
    a, b = kf.columns
    assert pmq.formatting.format_thousands(kf.at["openings", a], 1, "fr").replace(NNBSP, " ") in first
    assert _plain(pmq.formatting.format_thousands(kf.at["openings", b], 1, "fr")) + " postes seraient à pourvoir" \
        in second
    gap = kf.at["openings", b] - kf.at["openings", a]
    assert f"{_plain(pmq.formatting.format_thousands(abs(gap), 1, 'fr'))} de {'plus' if gap > 0 else 'moins'}" \
        in second
    assert _plain(pmq.formatting.format_thousands(kf.at["imbalance", b], 1, "fr", sign=True)) in second
    assert _plain(pmq.formatting.format_percent(kf.at["imbalance_rate", b], 1, "fr")) in second
    assert "ADEME" in second and second.endswith("de l'emploi de 2019.")
    # the table: a difference column, and what it is said under it
    assert "Écart S2 − S1" in _plain(page.split('class="legend')[0].rsplit("<table", 1)[1])
    assert "valeur du scénario 2 moins celle du scénario 1" in _plain(page)


def test_progress_names_the_figures_by_their_captions(report_two):
    _, err, _ = report_two
    lines = [m for m in (re.fullmatch(r"\[(\d+)/(\d+)\] (.+)", line) for line in err.splitlines()) if m]
    steps = [m.group(3) for m in lines]
    figures = [s for s in steps if s.startswith("figure")]
    captions = {fr for _, fr, _ in rep.FIGURES}
    assert figures and all(s.startswith("figure : ") and s[len("figure : "):] in captions for s in figures)
    assert "figure : Postes à pourvoir et déséquilibre potentiel" in figures
    assert not any(re.search(r"figure [a-z_]+$", s) for s in steps)          # no file stem
    n = {int(m.group(2)) for m in lines}
    assert len(n) == 1 and [int(m.group(1)) for m in lines] == list(range(1, n.pop() + 1))


def test_the_page_says_where_the_figure_files_are(report_two):
    _, _, page = report_two
    note = re.search(r'<p class="small fig-files" id="figure-files">(.*?)</p>', page, re.S)
    assert note and "<code>figures/</code>" in note.group(1) and "PNG et SVG" in note.group(1)
    assert page.index('id="figure-files"') < page.index("<figure")         # above the figures and their links
    en = rep._files_note("en")
    assert "<code>figures/</code> folder beside the report" in en and "dossier" not in en


def test_progress_in_english(tmp_path):
    steps = []
    rep.build_report(["reference"], territory="Corse", horizons=[2], out=tmp_path / "en", lang="en",
                     progress=lambda step, i: steps.append(step))
    figures = [s for s in steps if s.startswith("figure")]
    captions = {en for _, _, en in rep.FIGURES}
    assert figures and all(s.startswith("figure: ") and s[len("figure: "):] in captions for s in figures)
    assert "figure: Age pyramid of employment" in figures
