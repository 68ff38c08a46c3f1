"""The skills charts read well: a title too long for the figure goes on two lines (broken at « — », none clipped),
the green-share legend names the scenarios by their titles (not their codes), the bars' source line names the
scenario."""
import textwrap

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

import pmq  # noqa: E402
from pmq.analysis import skills  # noqa: E402
from pmq.plots.skills import green_share, skills_bars  # noqa: E402

pytestmark = pytest.mark.background      # its own projection and drawings: on the other core


@pytest.fixture(scope="module")
def comp():
    return pmq.project_many(["reference", "ademe_s3"], pmq.load_baseline(), horizon=2, ages=False)


def _inside(ax):
    """Everything of the axes — title, tick labels, value labels — within the figure's width (nothing clipped)."""
    fig = ax.figure
    fig.draw_without_rendering()
    box = ax.get_tightbbox()
    return box.x0 >= fig.bbox.x0 - 0.5 and box.x1 <= fig.bbox.x1 + 0.5


def test_long_titles_break_at_the_dash_and_stay_inside_the_figure(comp):
    import matplotlib.pyplot as plt
    paca = skills.skills_demand(comp, territory="Provence-Alpes-Côte d'Azur")
    ax = skills_bars(paca, top=6)
    assert ax.get_title(loc="left") == "Compétences des postes à pourvoir, 2019–2021\nProvence-Alpes-Côte d'Azur"
    assert _inside(ax)
    note = " ".join(t.get_text() for t in ax.figure.texts).replace("\n", " ")
    assert "Scénario : Scénario de référence" in note                  # the scenario drawn, by its title
    ax2 = skills_bars(skills.skills_demand(comp, territory="53"), top=6)
    assert "\n" not in ax2.get_title(loc="left") and _inside(ax2)      # a short one stays on one line
    plt.close("all")


def test_green_share_legend_names_scenarios_by_their_titles(comp):
    import matplotlib.pyplot as plt
    table = skills.green_jobs(comp)
    titles = dict(zip(comp.accounts.scenario.values, comp.accounts["scenario_title_fr"].values))
    assert table.attrs["scenario_titles"] == titles
    ax = green_share(table)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [textwrap.fill(titles[s], 46) for s in ("reference", "ademe_s3")]
    assert not any(t in ("reference", "ademe_s3") for t in legend)
    assert ax.get_title(loc="left") == "Postes à pourvoir dans des emplois verts, 2019–2021\nFrance métropolitaine"
    assert _inside(ax)
    ax = green_share(table, titles={"ademe_s3": "ADEME S3"})           # the caller's names win
    assert [t.get_text() for t in ax.get_legend().get_texts()][1] == "ADEME S3"
    plt.close("all")
