"""`pmq report`: produced by the CLI, read back, and opened in headless Chromium."""
import contextlib
import io
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from pmq.cli import main
from pmq.export import read_excel_tables
from pmq.export.report import find_chromium

NNBSP = "\u202f"
CASES = {"paca": ("Provence-Alpes-Côte d'Azur", "636,1", f"1{NNBSP}924,0"),
         "normandie": ("Normandie", "382,5", f"1{NNBSP}271,6")}


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


#: the reports' command lines, run at the start of the session by a background process when the
#: fixtures below are used (tests/conftest.py), else by the fixtures themselves
RUNS = {**{key: ["report", "reference", "--territory", territory, "--out", "{out}"]
           for key, (territory, _, _) in CASES.items()},
        "france_en": ["report", "reference", "bas_carbone_dares2023", "--horizon", "5,11", "--lang", "en",
                      "--out", "{out}", *(["--pdf"] if find_chromium() else [])],
        "ensemble": ["report", "reference_incertain", "--territory", "Normandie", "--draws", "30", "--seed", "4",
                     "--out", "{out}"]}
PMQ_BACKGROUND = {f"report_{key}": ("ensemble_report" if key == "ensemble" else "reports", argv)
                  for key, argv in RUNS.items()}


def _report(key, background, root):
    """(exit status, stdout, stderr, folder) of the report run ``key``."""
    done = background.result(f"report_{key}")
    if done is not None:
        return done
    folder = root / key
    return (*_run([a.replace("{out}", str(folder)) for a in RUNS[key]]), folder)


@pytest.fixture(scope="module")
def reports(tmp_path_factory, background):
    root = tmp_path_factory.mktemp("reports")
    done = {}
    for key in [*CASES, "france_en"]:
        code, out, err, folder = _report(key, background, root)
        assert code == 0, err
        done[key] = (folder, out, err)
    return done


@pytest.fixture(scope="module")
def ensemble_report(tmp_path_factory, background):
    return _report("ensemble", background, tmp_path_factory.mktemp("ensemble"))


class _Tables(HTMLParser):
    """Rows of every <table> (cell texts), the text of the lead paragraph, images and links."""

    def __init__(self):
        super().__init__()
        self.tables, self.images, self.links, self.lead = [], [], [], ""
        self._cell = None
        self._in_lead = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"class": a.get("class", ""), "rows": []})
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "img":
            self.images.append(a.get("src", ""))
        elif tag == "a":
            self.links.append(a.get("href", ""))
        elif tag == "p" and a.get("id") == "lead":
            self._in_lead = True

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append(self._cell)
            self._cell = None
        elif tag == "p":
            self._in_lead = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._in_lead:
            self.lead += data


def _parse(folder: Path) -> _Tables:
    p = _Tables()
    p.feed((folder / "report.html").read_text(encoding="utf-8"))
    return p


@pytest.mark.parametrize("key", list(CASES))
def test_report_key_figures_in_french_format(reports, key):
    folder, out, err = reports[key]
    territory, openings, employment = CASES[key]
    page = _parse(folder)
    key_tables = [t for t in page.tables if "key-2019-2030" in t["class"]]
    assert len(key_tables) == 1
    rows = {r[0]: r[1:] for r in key_tables[0]["rows"]}
    assert rows["Postes à pourvoir"] == [f"{openings}{NNBSP}k"]
    assert rows["Emploi 2019"] == [f"{employment}{NNBSP}k"]
    assert f"{openings}{NNBSP}k postes seraient à pourvoir en {territory}" in page.lead
    assert "solde des mobilités interrégionales de +" in page.lead          # a region: mobility counts
    assert "\u00a0: le déséquilibre potentiel" in page.lead                  # French no-break space
    # the métiers to watch: ranked, with code, label, DARES class and imbalance as % of 2019 employment
    watch = next(t for t in page.tables if t["class"] == "watch")["rows"][1:]
    assert [r[0] for r in watch] == [str(i) for i in range(1, len(watch) + 1)] and 1 <= len(watch) <= 10
    assert all(re.fullmatch(r"[A-Z]\w{2} — .+", r[1]) for r in watch)
    assert {r[2] for r in watch} <= {"Tensions qui pourraient s'accentuer",
                                     "Nouvelles difficultés potentielles de recrutement"}
    pct = [float(r[4].replace(NNBSP + "%", "").replace(",", ".").replace("\u2212", "-")) for r in watch]
    assert pct == sorted(pct, reverse=True) and pct[0] > 5
    # progress was shown, and what was written is listed
    assert "[1/15]" in err and "[15/15]" in err
    assert "report.html" in out and "tables.xlsx" in out


@pytest.mark.parametrize("key", list(CASES))
def test_report_files(reports, key):
    folder, _, _ = reports[key]
    page = _parse(folder)
    pngs = sorted((folder / "figures").glob("*.png"))
    svgs = sorted((folder / "figures").glob("*.svg"))
    assert len(pngs) == len(svgs) == len(page.images) == 10     # one scenario: no scenario bars, no green share
    assert all(src.startswith("data:image/png;base64,") for src in page.images)  # self-contained
    for link in (lnk for lnk in page.links if lnk.startswith("figures/")):
        assert (folder / link).exists(), link
    from PIL import Image
    assert min(Image.open(p).size[0] for p in pngs) > 1500       # 300 dpi
    assert all("<svg" in s.read_text(encoding="utf-8")[:2000] for s in svgs)
    tables = read_excel_tables(folder / "tables.xlsx")
    reg = tables["regions"].set_index("territory")
    code = "93" if key == "paca" else "28"
    assert f"{reg.loc[code, 'openings'] / 1e3:.1f}".replace(".", ",") == CASES[key][1]


def test_report_method_sources_and_parameters(reports):
    html = (reports["france_en"][0] / "report.html").read_text(encoding="utf-8")
    page = _parse(reports["france_en"][0])
    assert '<html lang="en">' in html
    for section in ("Key figures", "Charts", "Occupations to watch", "Scenario parameters", "Method and sources"):
        assert f">{section}</h2>" in html
    # both horizons, both scenarios, English number format
    key5 = next(t for t in page.tables if "key-2019-2024" in t["class"])
    key11 = next(t for t in page.tables if "key-2019-2030" in t["class"])
    assert len(key5["rows"][0]) == 4            # indicator, two scenarios, « Difference S2 − S1 »
    openings = {r[0]: r[1:] for r in key11["rows"]}["Job openings"]
    assert re.fullmatch(r"\d,\d{3}\.\d k", openings[0]) and openings[0] == "8,351.0 k"
    # the low-carbon scenario's levers are listed with their sources
    levers = [t for t in page.tables if t["class"] == "levers"]
    assert levers and all(row[3] for row in levers[0]["rows"][1:])   # every lever has a source
    assert "DARES" in html and "estimated" in html.lower()
    assert len(page.images) == 12                       # two scenarios: scenario bars and green share too


def test_report_errors_leave_outputs_untouched(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "keep.txt").write_text("previous")
    code, _, err = _run(["report", "reference", "--territory", "Atlantide", "--out", str(out)])
    assert code == 2 and "Atlantide" in err
    code, _, err = _run(["report", "no_such_scenario", "--out", str(out)])
    assert code == 2 and "no_such_scenario" in err
    assert [p.name for p in tmp_path.iterdir()] == ["r"]                 # no temporary folder left
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    with pytest.raises(SystemExit):
        _run(["report", "reference", "--horizon", "0", "--out", str(out)])


@pytest.mark.background
def test_report_on_a_user_baseline_without_tension(tmp_path):
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import make_baseline

    import pmq
    from pmq.export.report import build_report
    rng = np.random.default_rng(0)
    b = make_baseline(rng.uniform(50, 200, (2, 3, 60)), np.tile(np.linspace(0, 1, 60), (3, 1)),
                      rng.uniform(-500, 500, (2, 3)), rng.uniform(100, 900, (2, 3)),
                      np.array([[100.0, -50, 20], [-100, 50, -20]]), base_year=2021, n_period=10)
    b = b.assign_coords(territory_name=("territory", ["Bouches-du-Rhône", "Zone Un"]),
                        metier_label=("metier", ["Un", "Deux", "Trois"]), domain=("metier", ["A", "A", "B"]))
    assert "tension" not in b
    rep = build_report(["reference"], territory="Zone Un", out=tmp_path / "r", baseline=b, progress=False)
    page = _parse(tmp_path / "r")
    assert [t for t in page.tables if "key-2021-2031" in t["class"]]         # the baseline's own period
    assert "dans le territoire Zone Un" in page.lead
    import html as _html
    text_ = _html.unescape(rep.html.read_text(encoding="utf-8"))
    assert "pas d'indicateur de tension" in text_ and "2019" not in page.lead
    stems = [p.stem for p in rep.figures if p.suffix == ".png"]
    assert not any(s.endswith("_imbalance_map") for s in stems) and any("small_multiples" in s for s in stems)
    proj = pmq.project(b, "reference", horizon=10)
    w = pmq.select(proj.horizons(years=[2031]), territory="T1")["openings"].sel(period="2021–2031").sum()
    assert rep.key_figures.loc["openings", "reference"] == pytest.approx(float(w))


def test_report_with_an_ensemble(ensemble_report, tmp_path):
    code, out, err, folder = ensemble_report        # pmq report reference_incertain … --draws 30 (RUNS)
    assert code == 0, err
    page = _parse(folder)
    (q,) = [t for t in page.tables if "quantiles-2019-2030" in t["class"]]
    assert q["rows"][0] == ["Indicateur", f"5{NNBSP}%", f"25{NNBSP}%", f"50{NNBSP}%", f"75{NNBSP}%", f"95{NNBSP}%"]
    rows = {r[0]: [float(x.replace(NNBSP + "k", "").replace(NNBSP, "").replace(",", ".").replace("\u2212", "-"))
                   for x in r[1:]] for r in q["rows"][1:]}
    assert all(v == sorted(v) for v in rows.values())
    assert rows["Postes à pourvoir"][0] < 382.5 < rows["Postes à pourvoir"][4]     # brackets the reference
    assert any(p.name.endswith("_fan_employment.png") for p in (folder / "figures").iterdir())
    steps = [tuple(map(int, m)) for m in re.findall(r"\[(\d+)/(\d+)\]", err)]
    assert [i for i, _ in steps] == list(range(1, len(steps) + 1)) and {n for _, n in steps} == {len(steps)}
    code, _, err = _run(["report", "reference", "--draws", "5", "--out", str(tmp_path / "s")])
    assert code == 2 and "uncertainty.parameter" in err and not (tmp_path / "s").exists()


# ----------------------------------------------------------------------------- headless Chromium
def _chromium():
    exe = os.environ.get("PMQ_CHROMIUM") or next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "the Python package playwright is not installed (pip install '.[test]')"
    if exe is None:
        reason = "no Chromium executable found (Debian: apt-get install chromium; or set PMQ_CHROMIUM)"
    if reason:
        if os.environ.get("PMQ_REQUIRE_BROWSER"):
            pytest.fail(f"PMQ_REQUIRE_BROWSER is set but {reason}")
        pytest.skip(reason)
    return exe


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the three reports below, each opened in a page of its own (a new
    browser context): the browser starts once instead of three times."""
    exe = _chromium()
    from conftest import release_memory
    release_memory()        # what the report runs freed, before Chromium adds its processes
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.parametrize("key", ["paca", "normandie", "france_en"])
def test_report_in_headless_chromium(chromium, reports, key, tmp_path):
    from PIL import Image

    folder = reports[key][0]
    console, errors, failed = [], [], []
    page = chromium.new_page(viewport={"width": 1200, "height": 1600})
    try:
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: failed.append(r.url[:100]))
        page.goto((folder / "report.html").as_uri(), wait_until="load")
        images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        key_text = page.inner_text("table.key-2019-2030")
        width = page.evaluate("document.documentElement.scrollWidth")
        # every table fits its box (no hidden horizontal scrolling)
        boxes = page.evaluate("Array.from(document.querySelectorAll('div.scroll')).map("
                              "d => [d.scrollWidth, d.clientWidth])")
        page.screenshot(path=str(tmp_path / "shot.png"), full_page=True)
    finally:
        page.close()
    assert [c for c in console if c[0] in ("error", "warning")] == []
    assert errors == [] and failed == []
    assert width <= 1200                                        # nothing overflows the page
    assert boxes and all(sw <= cw + 1 for sw, cw in boxes), boxes
    assert len(images) == len(list((folder / "figures").glob("*.png")))
    assert all(ok and w > 500 and h > 300 for ok, w, h in images), images
    if key != "france_en":
        assert CASES[key][1] + NNBSP + "k" in key_text
    shot = np.asarray(Image.open(tmp_path / "shot.png").convert("L"), dtype=float)
    assert shot.shape[0] > 3000                                 # the whole page, with its figures
    assert shot.std() > 20 and (shot < 200).mean() > 0.02      # not blank


def test_report_has_the_skills_section_in_french(reports):
    """The « Compétences » section (issue 19): between the métiers to watch and the parameters, in the table of
    contents, the ROME coverage, the top compétences chart (one scenario: the green classes as a table), the
    notes that say what ROME links mean, and a « competences » sheet."""
    import html as _html
    folder = reports["paca"][0]
    page = _html.unescape((folder / "report.html").read_text(encoding="utf-8"))
    assert '<h2 id="competences">Compétences</h2>' in page and 'href="#competences">Compétences<' in page
    assert re.search("couverture ROME\u00a0: 99,\\d\u202f% des postes à pourvoir", page)
    assert "Le ROME dit qu'un métier mobilise une compétence" in page
    assert page.index('id="s3"') < page.index('id="competences"') < page.index('id="s4"')
    bars = sorted((folder / "figures").glob("*_skills_bars.png"))
    assert len(bars) == 1 and (folder / "figures" / bars[0].name.replace(".png", ".svg")).is_file()
    assert not list((folder / "figures").glob("*_green_share.png"))           # one scenario: a table instead
    assert "competences" in read_excel_tables(folder / "tables.xlsx")


def test_report_has_the_skills_section_in_english_only(reports):
    import html as _html
    folder = reports["france_en"][0]
    page = _html.unescape((folder / "report.html").read_text(encoding="utf-8"))
    assert '<h2 id="competences">Skills</h2>' in page and "ROME coverage: 99.9% of job openings" in page
    assert "(ROME labels in French)" in page
    assert len(list((folder / "figures").glob("*_green_share.png"))) == 1    # two scenarios: green share bars
    section = page[page.index('id="competences"'):page.index('id="s4"')]
    for french in ("Compétences", "couverture ROME", "Postes à pourvoir", "Emplois verts"):
        assert french not in section


# ----------------------------------------------------------------------------- --pdf
def test_report_pdf(reports):
    """france_en ran with --pdf when a Chromium is found: report.pdf is a PDF of several A4 pages, listed."""
    if find_chromium() is None:
        _chromium()                                   # skips, or fails with PMQ_REQUIRE_BROWSER
    folder, out, _ = reports["france_en"]
    data = (folder / "report.pdf").read_bytes()
    assert data[:5] == b"%PDF-" and "report.pdf" in out
    pages = re.findall(rb"/Type\s*/Page(?![s\w])", data)
    sizes = {tuple(round(float(x)) for x in m) for m in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", data)}
    assert len(pages) >= 3 and sizes == {(595, 842)}, (len(pages), sizes)     # A4 in points


def test_report_pdf_without_chromium(tmp_path, monkeypatch):
    import pmq.export.report as report
    monkeypatch.setattr(report, "find_chromium", lambda: None)
    code, out, err = _run(["report", "reference", "--pdf", "--out", str(tmp_path / "r")])
    assert code == 2 and "--pdf" in err and "apt-get install chromium" in err, err
    assert not (tmp_path / "r").exists() and list(tmp_path.iterdir()) == []
    from pmq.errors import ArgumentError
    with pytest.raises(ArgumentError, match="Chromium"):
        report.build_report(["reference"], out=tmp_path / "lib", pdf=True, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_a_scenarios_heading_names_its_file_after_a_dash_not_in_a_second_parenthesis(reports):
    """« Scénario de référence (tendanciel « Les métiers en 2030 ») — reference, empreinte … »: the title keeps its own
    parenthesis and the file's name and hash follow a dash, not « …2030 ») (reference, … » (a newcomer's remark)."""
    folder = reports["paca"][0]
    page = (folder / "report.html").read_text(encoding="utf-8")
    heads = re.findall(r"<h3>([^<]*)— <code>([^<]+)</code>, empreinte <code>([0-9a-f]+)</code></h3>", page)
    assert heads and all(name == "reference" for _, name, _ in heads), heads
    assert ") (<code>" not in page


def test_the_reports_heatmap_outlines_its_territory(reports):
    folder = reports["paca"][0]
    svg = next((folder / "figures").glob("*_imbalance_heatmap.svg")).read_text(encoding="utf-8")
    assert svg.count('id="highlight"') == 1
