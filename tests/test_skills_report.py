"""The skills charts (pmq.plots.skills) and the « Compétences » section of the HTML report."""
from __future__ import annotations


import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import pmq  # noqa: E402
from pmq.analysis import skills  # noqa: E402
from pmq.plots.skills import green_share, skills_bars  # noqa: E402

NNBSP = "\u202f"


@pytest.fixture(scope="module")
def proj():
    return pmq.project_many(["reference", "ademe_s3"], pmq.load_baseline(), horizon=11, ages=False)


def _bars(ax):
    from matplotlib.patches import Rectangle
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_skills_bars_draws_the_table(proj):
    import matplotlib.pyplot as plt
    d = skills.skills_demand(proj, territory="53")
    ax = skills_bars(d, top=8, scenario="ademe_s3")
    rows = d[(d["scenario"] == "ademe_s3") & (d["code"] != "non_rattache")].nlargest(8, "openings")
    bars = sorted(_bars(ax), key=lambda b: -b.get_y())           # top first
    assert len(bars) == 8
    assert np.allclose([b.get_width() for b in bars], rows["openings"] / 1e3)
    labels = [t.get_text() for _, t in sorted(zip(ax.get_yticks(), ax.get_yticklabels()), key=lambda p: -p[0])]
    assert labels[0].replace("\n", " ").startswith(rows["label"].iloc[0][:20])
    assert all(len(line) <= 35 for lab in labels for line in lab.split("\n"))   # wrapped, shortened
    assert ax.get_title(loc="left") == "Compétences des postes à pourvoir, 2019–2030 — Bretagne"
    texts = [t.get_text() for t in ax.texts]
    first = rows["openings"].iloc[0] / 1e3
    assert f"{first:.1f}".replace(".", ",") + NNBSP + "k" in texts[0]
    note = " ".join(t.get_text() for t in ax.figure.texts).replace("\n", " ")
    assert "ROME 4.0" in note and "France Travail" in note
    assert "le ROME dit qu'un métier mobilise une compétence, pas dans quelle mesure" in note
    assert "milliers" in ax.get_xlabel()
    plt.close(ax.figure)


def test_green_share_bars_and_values(proj):
    import matplotlib.pyplot as plt
    g = skills.green_jobs(proj, territory="53")
    ax = green_share(g)
    bars = _bars(ax)
    assert len(bars) == 4                                          # 2 classes × 2 scenarios
    want = [g.set_index(["scenario", "code"]).at[(s, c), "openings"] / 1e3
            for s in ("reference", "ademe_s3") for c in ("vert", "strategique")]
    assert np.allclose([b.get_height() for b in bars], want)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 4 and all(NNBSP + "%" in t and NNBSP + "k" in t for t in texts)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == "Emplois verts" and "stratégiques" in ticks[1]
    assert ax.get_title(loc="left").startswith("Postes à pourvoir dans des emplois verts, 2019–2030")
    plt.close(ax.figure)
    ax = green_share(skills.green_jobs(proj, lang="en"), lang="en")
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "Green jobs"
    assert "Metropolitan France" in ax.get_title(loc="left") or "France" in ax.get_title(loc="left")
    assert "ROME says" in " ".join(t.get_text() for t in ax.figure.texts).replace("\n", " ")
    plt.close(ax.figure)
