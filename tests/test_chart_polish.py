"""Chart and report polish, each checked by what the reader sees: every tick of an axis written with the same
decimals (the fewest that write each tick exactly), a report's progress counter that counts each step once and
ends at N/N, a pyramid as wide and about as tall as the report's other figures, the links to the figures' files
left out on paper, short métier labels without jargon abbreviations, a tornado with its source line and a
selection title broken at its « — »."""
import re
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.ticker import Formatter  # noqa: E402
from PIL import Image  # noqa: E402

from pmq import plots  # noqa: E402
from pmq.formatting import MINUS, NNBSP, format_number, format_percent, tick_formatter  # noqa: E402
from pmq.labels import SHORT_WIDTH, _metier_table, metier_label, short_labels  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _number(label: str, lang: str = "fr") -> float:
    """The value a tick label writes (« 1 000 », « 0,5 », « −2 », « 12,5 % »)."""
    s = label.replace(NNBSP, "").replace("%", "").replace(MINUS, "-").strip()
    s = s.replace(",", ".") if lang == "fr" else s.replace(",", "")
    return float(s)


def _decimals(label: str, lang: str = "fr") -> int:
    sep = "," if lang == "fr" else "."
    s = label.replace(NNBSP, "").replace("%", "").strip()
    return len(s.split(sep)[1]) if sep in s else 0


def _check_axis(labels_and_locs, lang="fr", scale=1.0, percent=False):
    """One number of decimals on the axis, each label writes its tick exactly, no two labels alike."""
    labels = [lab for lab, _ in labels_and_locs]
    assert len({_decimals(lab, lang) for lab in labels}) == 1, labels
    for lab, loc in labels_and_locs:
        assert _number(lab, lang) == pytest.approx(loc * scale * (100 if percent else 1), abs=1e-9), (lab, loc)
    assert len(set(labels)) == len(labels), labels


def _axis_labels(axis):
    """(label, tick value) of the ticks an axis shows (inside its view)."""
    lo, hi = sorted(axis.get_view_interval())
    return [(t.label1.get_text(), t.get_loc()) for t in axis.get_major_ticks()
            if t.label1.get_text() and lo - 1e-9 <= t.get_loc() <= hi + 1e-9]


# ----------------------------------------------------------------------------------------------- ticks
def test_tick_formatter_decides_the_decimals_once_for_the_axis():
    f = tick_formatter("fr")
    assert isinstance(f, Formatter)
    assert f.format_ticks([0, 0.5, 1, 1.5]) == ["0,0", "0,5", "1,0", "1,5"]
    assert f.format_ticks([2, 2.25, 2.5]) == ["2,00", "2,25", "2,50"]
    assert f.format_ticks([0, 1000, 2000]) == ["0", f"1{NNBSP}000", f"2{NNBSP}000"]
    assert f.format_ticks([0, 1000, 2000]) == [format_number(v, 0, "fr") for v in (0, 1000, 2000)]
    assert f.format_ticks([-0.2, 0, 0.2]) == [f"{MINUS}0,2", "0,0", "0,2"]
    assert f.format_ticks([0.1 + 0.2, 0.6]) == ["0,3", "0,6"]            # float noise is not a decimal
    en = tick_formatter("en")
    assert en.format_ticks([0, 0.5, 1, 1.5]) == ["0.0", "0.5", "1.0", "1.5"]
    assert en.format_ticks([0, 1000, 2000]) == ["0", "1,000", "2,000"]
    # scale and percent as format_number and format_percent write them
    assert tick_formatter("fr", scale=1e-3).format_ticks([0, 500, 1000, 1500]) == ["0,0", "0,5", "1,0", "1,5"]
    pct = tick_formatter("fr", percent=True, scale=0.01).format_ticks([0, 2.5, 5, 7.5])
    assert pct == [format_percent(v / 100, 1, "fr") for v in (0, 2.5, 5, 7.5)] and pct[1] == f"2,5{NNBSP}%"
    assert tick_formatter("en", percent=True).format_ticks([0, 0.05, 0.1]) == ["0%", "5%", "10%"]
    # fixed decimals, and one value alone (no axis): as before
    assert tick_formatter("fr", decimals=2)(1.5) == "1,50"
    assert tick_formatter("fr")(2.5) == "2,5" and tick_formatter("fr")(1500.0) == f"1{NNBSP}500"


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("lim", [(0, 1.6), (1.9, 2.6), (0, 0.07), (-3, 12), (0, 2400), (1.2e6, 1.9e6), (0.3, 0.31)])
def test_drawn_axis_has_one_number_of_decimals(lim, lang):
    fig, ax = plt.subplots()
    ax.set_ylim(*lim)
    ax.yaxis.set_major_formatter(tick_formatter(lang))
    fig.canvas.draw()
    _check_axis(_axis_labels(ax.yaxis), lang)


@pytest.mark.background       # builds a report or fits the backtest: on the other core
def test_skills_and_backtest_charts_write_their_ticks_alike(baseline):
    import pmq
    from pmq.analysis import skills
    from pmq.estimation.backtest import backtest, plot_backtest
    from pmq.plots.skills import green_share, skills_bars

    proj = pmq.project(baseline, "reference", horizon=5)
    # Corse: a few hundred openings a skill, ticks in tenths of thousands
    ax = skills_bars(skills.skills_demand(proj, by="macro_competence", territory="Corse"), top=5)
    ax.figure.canvas.draw()
    ticks = _axis_labels(ax.xaxis)
    assert any(_decimals(lab) for lab, _ in ticks)
    _check_axis(ticks)
    ax = green_share(skills.green_jobs(proj, territory="Corse"))
    ax.figure.canvas.draw()
    _check_axis(_axis_labels(ax.yaxis))
    fig = plot_backtest(backtest([2012], horizon=5, rolling=False, bootstrap=0), lang="fr")
    fig.canvas.draw()
    axes = [a for a in fig.axes if a.get_yticklabels()]
    assert len(axes) == 6
    for a in axes:
        _check_axis(_axis_labels(a.yaxis))
    assert any(any(_decimals(lab) == 2 for lab, _ in _axis_labels(a.yaxis)) for a in axes)   # 0,25 steps


# ------------------------------------------------------------------------------------- a small report
@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    """A report of Bretagne over 5 years, its progress lines (stderr) and its page."""
    import contextlib
    import io

    from pmq.export.report import build_report
    err = io.StringIO()
    out = tmp_path_factory.mktemp("polish") / "rep"
    with contextlib.redirect_stderr(err):
        rep = build_report(["reference"], territory="Bretagne", horizons=[5], out=out, progress=True)
    return rep, err.getvalue(), rep.html.read_text(encoding="utf-8")


def _check_progress(rep, err):
    """The progress lines « [i/N] step »: i = 1, 2 … N once each, one N, the figures drawn as the files say."""
    steps = [re.fullmatch(r"\[(\d+)/(\d+)\] (.+)", line) for line in err.splitlines() if line.startswith("[")]
    assert steps and all(steps), err
    done = [int(m.group(1)) for m in steps]
    total = {int(m.group(2)) for m in steps}
    assert len(total) == 1 and done == list(range(1, len(done) + 1)) and done[-1] == total.pop()   # ends at N/N
    names = [m.group(3) for m in steps]
    assert names[:2] == ["projection des scénarios", "chiffres clés"]
    # the figures are begun while the tables and the skills section are made (by workers, or after them here)
    assert names[-2:] == ["page HTML", "écriture des fichiers"]
    assert [n for n in names if not n.startswith("figure : ")][2:-2] == ["tableaux", "compétences"]
    # each figure's step says its French caption (« figure : Postes à pourvoir … »), not its file's stem
    from pmq.export.report import FIGURES
    stem_of = {cap: stem for stem, cap, _ in FIGURES}
    drawn = [stem_of[n.removeprefix("figure : ")] for n in names if n.startswith("figure : ")]
    pngs = [p.stem.split("_", 1)[1] for p in rep.figures if p.suffix == ".png"]
    # one step a figure made (those longest to make are begun first: pmq.export.report.SAVE_ORDER)
    assert sorted(drawn) == sorted(s for s in pngs if s not in ("skills_bars", "green_share"))
    return drawn


@pytest.mark.background       # builds a report or fits the backtest: on the other core
def test_report_progress_counts_each_step_once(small_report):
    rep, err, _ = small_report
    drawn = _check_progress(rep, err)
    assert "scenario_bars" not in drawn and "fan_employment" not in drawn


@pytest.mark.background       # builds a report or fits the backtest: on the other core
def test_report_progress_with_scenarios_and_draws(tmp_path, capsys):
    from pmq.export.report import build_report
    rep = build_report(["reference_incertain", "bas_carbone_dares2023"], territory="Bretagne", horizons=[2],
                       out=tmp_path / "rep", draws=5, seed=1, progress=True)
    drawn = _check_progress(rep, capsys.readouterr().err)
    assert {"scenario_bars", "fan_employment"} <= set(drawn)       # planned before the projection, then drawn


@pytest.mark.background       # builds a report or fits the backtest: on the other core
def test_pyramid_is_as_wide_and_about_as_tall_as_the_other_figures(small_report):
    rep, _, _ = small_report
    size = {p.stem.split("_", 1)[1]: Image.open(p).size for p in rep.figures if p.suffix == ".png"}
    (w_pyr, h_pyr), (w_wf, h_wf), (w_lines, h_lines) = size["pyramid"], size["waterfall"], size["scenario_lines"]
    assert w_pyr == w_wf == w_lines                     # shown at one width, its text is the others' size
    # at 1280 px (the page shows each figure 900 px wide): within a tenth of the waterfall's height
    assert 900 * h_pyr / w_pyr <= 1.1 * 900 * h_wf / w_wf
    assert 900 * h_pyr / w_pyr >= 0.9 * 900 * h_lines / w_lines


def test_pyramid_of_single_years_stays_within_its_height(reference_2030):
    ax = plots.age_pyramid(reference_2030, territory="Normandie")            # ~45 single years of age
    w, h = ax.figure.get_size_inches()
    assert w == pytest.approx(7.0) and h <= plots.charts.PYRAMID_HEIGHT[1]
    ax5 = plots.age_pyramid(reference_2030, territory="Normandie", band=5)    # ~10 bands: a waterfall's height
    assert ax5.figure.get_size_inches()[1] <= 4.6


class _Links(HTMLParser):
    """The links to files of the figures, with the classes of the link and of its enclosing elements."""

    def __init__(self):
        super().__init__()
        self.stack, self.links = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            return
        self.stack.append((tag, (a.get("class") or "").split()))
        if tag == "a" and (a.get("href") or "").startswith("figures/"):
            self.links.append((a["href"], [c for _, cs in self.stack for c in cs]))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


@pytest.mark.background       # builds a report or fits the backtest: on the other core
def test_figure_file_links_are_not_printed(small_report):
    from pmq.export.report import _CSS, FILE_LINKS
    _, _, page = small_report
    screen, printed = _CSS.split("@media print{")
    assert f".{FILE_LINKS}{{display:none}}" in printed and FILE_LINKS not in screen
    parser = _Links()
    parser.feed(page)
    hrefs = [h for h, _ in parser.links]
    assert len(hrefs) >= 20 and {h.rsplit(".", 1)[1] for h in hrefs} == {"png", "svg"}
    assert all(FILE_LINKS in classes for _, classes in parser.links)
    # on paper the caption ends at its full stop: nothing of « PNG · SVG » outside the hidden span
    for cap in re.findall(r"<figcaption>(.*?)</figcaption>", page, flags=re.S):
        outside = re.sub(rf'<span class="{FILE_LINKS}">.*?</span>', "", cap)
        assert "PNG" not in outside and "SVG" not in outside and "·" not in outside and outside.endswith(".")


# ------------------------------------------------------------------------------------ short labels
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_short_metier_labels_are_readable_and_distinct(lang):
    codes = list(_metier_table().index)
    full = metier_label(codes, lang)
    short = metier_label(codes, lang, short=True)
    jargon = re.compile(r"\bOQ\b|\bONQ\b|\bTech\.|\bProf\.|\badm\.|interm\.|\bfin\.|\bcomm\.|\bopér\.|\bAgri\.|"
                        r"\bassoc\.|restau\.|boulang\.|serv\.|\bsport\.")
    assert not any(jargon.search(s) for s in short), [s for s in short if jargon.search(s)]
    assert all(len(s) <= SHORT_WIDTH for s in short)
    assert len(set(short)) == len(short)                     # no two métiers read the same
    for f, s in zip(full, short):
        if len(f) <= SHORT_WIDTH:
            assert s == f
        else:                                                # the full label's own words, around a « … »
            assert "…" in s
            head, _, tail = s.partition("…")
            assert f.startswith(head.strip()) and f.endswith(tail.strip())
    # the default stays the full DARES label
    assert metier_label(["J1Z"], "fr") == ["Ouvriers qualifiés de la manutention"]
    assert short_labels(["Court", "Un libellé bien trop long pour tenir en peu de place"], width=20) == \
        ["Court", "Un libellé bien…"]


# ---------------------------------------------------------------------------- tornado, titles
def test_tornado_has_a_source_line_with_its_central_value():
    from pmq.projection.sensitivity import one_at_a_time
    t = one_at_a_time("reference_incertain", horizon=3)
    ax = plots.tornado(t, "imbalance")
    texts = [x.get_text().replace("\n", " ") for x in ax.figure.texts]
    central = float(t[t["output"] == "imbalance"]["central"].iloc[0])
    from pmq.formatting import format_thousands
    assert any(s.startswith("Source : projection pmq") and format_thousands(central, 1, "fr") in s for s in texts)
    # a bar too thin to see says its range; the others do not
    imb = t[t["output"] == "imbalance"]
    thin = imb[imb["swing"] < 0.01 * imb["swing"].max()]
    said = [a.get_text() for a in ax.texts if a.get_text().startswith("écart")]
    assert said == [f"écart : {format_thousands(v, 1, 'fr')}" for v in thin["swing"]]
    ax = plots.tornado(t, "imbalance", lang="en")
    assert any(x.get_text().startswith("Source: pmq projection") for x in ax.figure.texts)


def test_selection_title_breaks_at_its_dash_not_inside_a_list_of_codes(reference_2030):
    codes = ["B0Z", "B1Z", "B2Z", "B3Z", "B4Z", "B5Z", "B6Z", "B7Z"]
    ax = plots.scenario_bars(reference_2030, "openings", territory="Hauts-de-France", metier=codes, end_year=2030)
    lines = ax.get_title(loc="left").split("\n")
    assert lines[0] == "Hauts-de-France"
    assert all(line.count("(") == line.count(")") for line in lines)       # « (B0Z, B1Z, B2Z…) » on one line
    assert np.all([len(line) <= 38 for line in lines[:-1]])
