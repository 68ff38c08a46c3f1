"""One language at a time (issue 20, item 1): a French report has no English prose and an English report no
French prose — scenario titles, descriptions, lever texts and parameters, trend rules, data sources, estimated
inputs, licences.  Sources keep their own language: the scan leaves out links, quotations « … », code
(``<code>``, dotted or underscored identifiers) and a few proper names.  The scenario files give every text in
both languages (``assumption`` / ``assumption_fr``…), with the same numbers, quotations and addresses."""
import contextlib
import html as _html
import io
import json
import re
import types
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import pmq
from pmq.analysis.sources import lever_table
from pmq.errors import ScenarioError
from pmq.scenario.read import TRANSLATED_KEYS, builtin_scenarios, read_scenario, text_in
from test_report import RUNS as REPORT_RUNS

HEAD = '[scenario]\nname = "t"\nextends = "reference"\n'
LEVER = ('[[demand.adjust]]\nid = "x"\nkind = "deviation"\nmetier = ["B4Z"]\n'
         'anchors = {{ 2019 = 0, 2025 = 1000 }}\n{extra}\n')

#: English function words that French prose never has ("on" is French too: left out).
ENGLISH = ("the", "of", "and", "is", "from", "with", "by", "which", "scenario", "to", "for", "are", "not", "was", "in")
#: French function words that English prose never has.
FRENCH = ("le", "la", "les", "des", "du", "une", "est", "et", "dans", "pour", "avec", "sur", "par", "qui", "sont",
          "aux", "au", "ou", "en")
#: Proper names, not prose (a newspaper, a public bank).
NAMES = ("Banque des territoires", "La France agricole", "La Réunion")
_URL = re.compile(r"https?://[^\s<>\"«»]+")


def prose(text: str) -> str:
    """The words of ``text`` a reader reads as prose: without addresses, quotations « … » (innermost first),
    identifiers (``ademe_s3``, ``pmq.scenario.sectors``, ``docs/accuracy.md``) and proper names; lower case,
    punctuation apart."""
    for name in NAMES:
        text = text.replace(name, " ")
    text = _URL.sub(" ", text)
    text = re.sub(r"\b\w+(?:[._/]\w+)+(?:\([^)]*\))?", " ", text)
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"«[^«»]*»", " ", text)
    text = re.sub(r"\"[^\"«»]{1,80}\"", " ", text)          # English texts quote "…" (a French title, a name)
    text = re.sub(r"[(),;:.!?\u00a0\u202f]", " ", text.lower())
    return " " + re.sub(r"\s+", " ", text) + " "


def foreign_words(text: str, lang: str) -> list[str]:
    """The function words of the other language in the prose of ``text`` (written for a ``lang`` reader)."""
    words = ENGLISH if lang == "fr" else FRENCH
    p = prose(text)
    return [w for w in words if f" {w} " in p]


def raised_in_both(make, error=Exception) -> tuple[str, str]:
    """The message of the error ``make()`` raises, in French (the default) then in English (the tests of the
    messages of every sub-package read them so)."""
    with pytest.raises(error) as fr:
        make()
    with pmq.set_options(lang="en"), pytest.raises(error) as en:
        make()
    return str(fr.value), str(en.value)


def assert_one_language(fr: str, en: str, *names: str, argument: str = "") -> None:
    """``fr`` has no English prose and ``en`` no French, they differ, and both name every one of ``names``;
    ``argument``: the name an ArgumentError's message starts with, an identifier (``by``), left out of the scan."""
    assert fr != en
    assert foreign_words(fr.removeprefix(f"{argument} : ") if argument else fr, "fr") == [], fr
    assert foreign_words(en.removeprefix(f"{argument}: ") if argument else en, "en") == [], en
    for name in names:
        assert name in fr and name in en, (name, fr, en)


def test_the_scan_finds_prose_and_leaves_sources_alone():
    assert foreign_words("Published 2019–2030 reference flows by métier × région", "fr") == ["by"]
    assert foreign_words("selon le scénario de référence", "en") == ["le"]
    # quotations, addresses, identifiers and names are not prose
    assert foreign_words("vert.eco : « Le scenario 2 … et le scenario central 3 » (S), https://a.fr/the-of-and, "
                         "pmq.scenario.sectors ; ademe_s3", "fr") == []
    assert foreign_words("DARES (2023) for the mission: « le secteur agricole » (La France agricole, S)", "en") == []


# --------------------------------------------------------------------------------------- the scenario files
def _texts(name: str):
    """(where, French text, English text) of every text a reader sees in built-in scenario ``name``."""
    sc = read_scenario(name)
    yield "title", sc.title_in("fr"), sc.title_in("en")
    yield "description", sc.description_in("fr"), sc.description_in("en")
    for section, body in sc.resolved.items():
        for key in TRANSLATED_KEYS:
            if key != "description" and text_in(body, key, "fr"):
                yield f"{section}.{key}", text_in(body, key, "fr"), text_in(body, key, "en")
        for array in ("adjust", "shift", "cohort_shift", "multiplier", "parameter", "correlation", "leavers", "matrix"):
            for lever in body.get(array, []):
                for key in TRANSLATED_KEYS:
                    if text_in(lever, key, "fr"):
                        yield f"{section}.{array}[{lever['id']}].{key}", text_in(lever, key, "fr"), text_in(lever, key, "en")


@pytest.mark.parametrize("name", list(builtin_scenarios()))
def test_every_builtin_text_reads_in_each_language(name):
    sc = read_scenario(name)
    doc = sc.resolved["scenario"]
    assert doc.get("description_fr") and doc.get("description_en"), name        # both, by name
    assert "description" not in doc                                              # no third, unnamed one
    for where, fr, en in _texts(name):
        assert not foreign_words(fr, "fr"), (name, where, foreign_words(fr, "fr"), fr)
        assert not foreign_words(en, "en"), (name, where, foreign_words(en, "en"), en)
    # and in the report's words: parameters, rubric names, statuses (the parameter table of every file)
    from pmq.export.report import _scenario_html
    for lang in ("fr", "en"):
        page = _scenario_html(sc, lever_table(sc, lang), lang, set())
        found = foreign_words(_visible_text(page), lang)
        assert not found, (name, lang, found)


def _numbers(text: str) -> set[str]:
    text = _URL.sub(" ", text)
    return {re.sub(r"[ \u202f\u00a0]", "", n).replace(",", ".")
            for n in re.findall(r"\d+(?:[ \u202f\u00a0]\d{3})*(?:[.,]\d+)?", text)}


def _addresses(text: str) -> set[str]:
    return {u.rstrip(".,;:)") for u in _URL.findall(text)}


@pytest.mark.parametrize("name", list(builtin_scenarios()))
def test_translations_keep_every_number_quotation_and_address(name):
    """The French text says what the English one says: the same numbers (« 1,5 » for 1.5, « 450 000 »), every
    quotation of a source verbatim, the same addresses."""
    pairs = 0
    for where, fr, en in _texts(name):
        if fr == en:
            continue
        pairs += 1
        assert _numbers(fr) == _numbers(en), (name, where, _numbers(fr) ^ _numbers(en))
        assert _addresses(fr) == _addresses(en), (name, where, _addresses(fr) ^ _addresses(en))
        flat = re.sub(r"\s+", " ", fr.replace("\u00a0", " "))
        for quote in re.findall(r"«\s*([^«»]*?)\s*»", en):
            if quote != "hypothèse pmq":        # the gloss of "pmq assumption", not a quotation
                assert re.sub(r"\s+", " ", quote) in flat, (name, where, quote)
    assert pairs >= 2, name                     # at least the title and the description


# ----------------------------------------------------------------------------------- users' files, errors
def _write(tmp_path, text: str) -> Path:
    p = tmp_path / "t.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("body, key, value, words", [
    ('description_fr = 3\n', "scenario.description_fr", 3, "mauvais type"),
    ('source_fr = ["a"]\n', "scenario.source_fr", ["a"], "mauvais type"),
    ('max_metier_deviation_reason_en = "  "\n', "scenario.max_metier_deviation_reason_en", "  ", "est vide"),
    ('description_de = "Beschreibung"\n', "scenario.description_de", "Beschreibung", "description_fr, description_en"),
    ('source_fr = "Une source"\n', "scenario.source_fr", "Une source", "donnez aussi source"),
    ('title_en = "A\\nB"\n', "scenario.title_en", "A\nB", "U+000A"),
])
def test_a_wrong_text_version_in_scenario_is_named(tmp_path, body, key, value, words):
    with pytest.raises(ScenarioError) as exc:
        read_scenario(_write(tmp_path, HEAD + body))
    assert exc.value.key == key and exc.value.value == value and words in str(exc.value)
    assert "t.toml" in str(exc.value)


@pytest.mark.parametrize("extra, key, value, words", [
    ('assumption = "mine"\nassumption_fr = 2', "demand.adjust[x].assumption_fr", 2, "mauvais type"),
    ('assumption = "mine"\nassumption_fr = ""', "demand.adjust[x].assumption_fr", "", "est vide"),
    ('source = "A, https://a"\nassumption_fr = "la mienne"', "demand.adjust[x].assumption_fr", "la mienne",
     "donnez aussi assumption"),
    ('assumption = "mine"\nlabel_en = "Nurses"', "demand.adjust[x].label_en", "Nurses", "donnez aussi label"),
    # (control characters are checked first, over the whole file: the lever is named by its place)
    ('assumption = "mine"\nlabel = "Infirmiers"\nlabel_en = "Nurses\\n"', "demand.adjust[0].label_en", "Nurses\n",
     "U+000A"),
    ('assumption = "mine"\nassumption_es = "mía"', "demand.adjust[x].assumption_es", "mía", "assumption_fr"),
    ('assumption = "mine"\nrate_fr = "3 %"', "demand.adjust[x].rate_fr", "3 %", "clé inconnue"),
])
def test_a_wrong_text_version_in_a_lever_is_named(tmp_path, extra, key, value, words):
    with pytest.raises(ScenarioError) as exc:
        read_scenario(_write(tmp_path, HEAD + LEVER.format(extra=extra)))
    assert exc.value.key == key and exc.value.value == value and words in str(exc.value)
    assert "t.toml" in str(exc.value)


def test_a_file_in_one_language_is_shown_as_it_is(tmp_path):
    sc = read_scenario(_write(tmp_path, HEAD + 'title_fr = "Plus d\'infirmiers"\ndescription = "More nurses."\n'
                              + LEVER.format(extra='assumption = "Local hospital plan"\nlabel = "Soins"')))
    # no title, description or lever text of the parent (reference) comes back in the other language
    assert sc.title_in("en") == sc.title_in("fr") == "Plus d'infirmiers"
    assert sc.description_in("fr") == sc.description_in("en") == sc.description == "More nurses."
    for lang in ("fr", "en"):
        row = lever_table(sc, lang).iloc[0]
        assert (row["assumption"], row["label"]) == ("Local hospital plan", "Soins")
    assert sc.status_label("fr") == "hypothèse de l'auteur du scénario"


def test_a_child_text_replaces_every_version_of_its_parents(tmp_path):
    """ademe_s3 gives its description, source and horizons text in French and English: a child that writes one
    of them in one language gets its own text in both reports, never its parent's in the other language."""
    sc = read_scenario(_write(tmp_path, '[scenario]\nname = "c"\nextends = "ademe_s3"\ndescription = "Mine."\n'
                              'source = "My plan, https://example.org/plan"\n[horizons]\nrun = 25\n'
                              'assumption = "Run to 2044"\n'))
    parent = read_scenario("ademe_s3")
    assert parent.description_in("fr") != parent.description_in("en")
    assert sc.description_in("fr") == sc.description_in("en") == "Mine."
    assert sc.text_in("scenario", "source", "fr") == "My plan, https://example.org/plan"
    assert sc.text_in("horizons", "assumption", "fr") == sc.text_in("horizons", "assumption", "en") == "Run to 2044"
    assert sc.title_in("fr") == parent.title_in("fr") and sc.title_in("en") == parent.title_in("en")   # not given
    assert "description_fr" not in sc.resolved["scenario"] and "source_fr" not in sc.resolved["scenario"]


def test_two_languages_for_a_lever_and_what_the_hash_covers(tmp_path, baseline):
    """A version in the other language is read by language; it is part of the file (its hash) and changes no
    number of the run."""
    one = read_scenario(_write(tmp_path, HEAD + LEVER.format(extra='assumption = "Local plan"')))
    (tmp_path / "two").mkdir()
    both = read_scenario(_write(tmp_path / "two", HEAD + LEVER.format(
        extra='assumption = "Local plan"\nassumption_fr = "Plan local"\nlabel = "Soins"\nlabel_en = "Care"')))
    assert lever_table(both, "fr").iloc[0][["assumption", "label"]].tolist() == ["Plan local", "Soins"]
    assert lever_table(both, "en").iloc[0][["assumption", "label"]].tolist() == ["Local plan", "Care"]
    assert both.status == one.status == "assumed"
    assert both.hash != one.hash
    a = pmq.project(baseline, one, horizon=2).accounts
    b = pmq.project(baseline, both, horizon=2).accounts
    for var in ("employment", "departures", "openings", "imbalance"):
        np.testing.assert_array_equal(a[var].values, b[var].values, err_msg=var)


# -------------------------------------------------------------------------------- provenance texts of pmq
def test_the_report_words_every_provenance_text_pmq_writes(baseline):
    """Every data source and estimated input pmq writes in the accounts' attrs has its French and English
    wording in the report (an English one in a French report is the failure this guards against)."""
    from pmq.export.report import provenance_text
    from pmq.inputs.baseline import BUILTIN_SOURCES
    from pmq.inputs.downscale import downscale
    from pmq.inputs.overseas import OVERSEAS_METHOD
    from pmq.projection.prepare import estimated_inputs
    from pmq.scenario.read import _SCHEMA
    dep = downscale(baseline.sel(territory=["93"]), "departement")
    zone = downscale(dep.sel(territory=["13"]), "zone_emploi")
    texts = [*BUILTIN_SOURCES.values(), *json.loads(zone.attrs["estimated"]), OVERSEAS_METHOD,
             dep.attrs["key_source"], zone.attrs["key_source"]]
    models = json.loads("[" + _SCHEMA["demand"]["trend"][1][1].removeprefix("one of ").replace("'", '"') + "]")
    for schedule in ("baseline", "estimated", "estimated_unpooled"):
        for model in models:
            texts += estimated_inputs(types.SimpleNamespace(exit_schedule=schedule, trend_model=model, trend_years=15))
    assert len(texts) > 12
    for t in dict.fromkeys(texts):
        for lang in ("fr", "en"):
            said = provenance_text(t, lang)
            assert said, (lang, t)
            assert not foreign_words(said, lang), (lang, said)
            assert "SOURCE.md" not in said and "pmq.estimation" not in said
    assert provenance_text("my own employment file.csv", "fr") is None       # a user's text: shown as it is


def test_the_parameters_of_a_scenario_read_in_french():
    """ademe_s3 as the report shows it to a French reader: its description, its lever in words, its rules."""
    from pmq.export.report import _scenario_html
    sc = read_scenario("ademe_s3")
    shown: set = set()
    _scenario_html(read_scenario("reference"), lever_table(read_scenario("reference"), "fr"), "fr", shown)
    text = _html.unescape(_scenario_html(sc, lever_table(sc, "fr"), "fr", shown))
    assert "La technologie plutôt que la sobriété" in text and "Technology rather than sobriety" not in text
    assert "écart au tendanciel\u00a0: 0 en 2020, +450\u202f000 en 2050, maintenu ensuite" in text
    assert "kind = " not in text and "weights = " not in text and "demand.adjust" not in text
    assert "Projection jusqu'en 2050, l'horizon de la source" in text and "Autres règles\u00a0: comme ci-dessus." in text
    assert "communiqué de presse <a href=\"https://presse.ademe.fr/" in text


def test_a_scenario_named_in_a_sentence():
    from pmq.export.report import _scenario_phrase
    assert _scenario_phrase("Scénario de référence (tendanciel « Les métiers en 2030 »)", "fr") == \
        "le scénario de référence (tendanciel « Les métiers en 2030 »)"
    assert _scenario_phrase("ADEME Transition(s) 2050 — S3", "fr") == "le scénario « ADEME Transition(s) 2050 — S3 »"
    assert _scenario_phrase("Reference scenario (« Les métiers en 2030 » trend)", "en") == \
        "the reference scenario (« Les métiers en 2030 » trend)"
    assert _scenario_phrase("2023 pension reform", "en") == "the “2023 pension reform” scenario"


# ------------------------------------------------------------------------------------------- the reports
#: tests/test_report.py's reports, run in the background from the start of the session (tests/conftest.py; the
#: same jobs, run once for both modules): Provence-Alpes-Côte d'Azur in French, France in English (reference and
#: bas_carbone_dares2023), the ensemble of reference_incertain in French.  Every scenario's own part of the page
#: is checked in both languages above (test_every_builtin_text_reads_in_each_language).
PMQ_BACKGROUND = {"report_paca": ("french_report", REPORT_RUNS["paca"]),
                  "report_france_en": ("english_report", REPORT_RUNS["france_en"]),
                  "report_ensemble": ("ensemble_report_fr", REPORT_RUNS["ensemble"])}


def _report(job: str, argv: list[str], background, tmp_path_factory) -> str:
    done = background.result(job)
    if done is None:
        from pmq.cli import main
        folder = tmp_path_factory.mktemp(job) / "out"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = main([a.replace("{out}", str(folder)) for a in argv])
        done = (code, "", "", folder)
    assert done[0] == 0, done[2]
    return (Path(done[3]) / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def french_report(background, tmp_path_factory):
    return _report("report_paca", REPORT_RUNS["paca"], background, tmp_path_factory)


@pytest.fixture(scope="module")
def english_report(background, tmp_path_factory):
    return _report("report_france_en", REPORT_RUNS["france_en"], background, tmp_path_factory)


@pytest.fixture(scope="module")
def ensemble_report_fr(background, tmp_path_factory):
    return _report("report_ensemble", REPORT_RUNS["ensemble"], background, tmp_path_factory)


class _Text(HTMLParser):
    """The text a reader reads, one block per line, without links and code; the text outside links too."""

    def __init__(self):
        super().__init__()
        self.skip, self.outside_links, self.lines, self.in_link = 0, [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("a", "code", "style", "script"):
            self.skip += 1
        self.in_link += tag == "a"
        if tag in ("p", "li", "td", "th", "h1", "h2", "h3", "figcaption", "br", "title"):
            self.lines.append("\n")

    def handle_endtag(self, tag):
        if tag in ("a", "code", "style", "script"):
            self.skip -= 1
        self.in_link -= tag == "a"

    def handle_data(self, data):
        if not self.skip:
            self.lines.append(data)
        if not self.in_link:
            self.outside_links.append(data)


def _visible_text(page: str) -> str:
    p = _Text()
    p.feed(page)
    return "".join(p.lines)


def _foreign_lines(page: str, lang: str) -> list:
    return [(foreign_words(line, lang), line.strip()[:200]) for line in _visible_text(page).split("\n")
            if foreign_words(line, lang)]


def test_the_french_report_has_no_english_prose(french_report):
    assert '<html lang="fr">' in french_report
    assert _foreign_lines(french_report, "fr") == []
    text = _html.unescape(french_report)
    # the new user's findings, one by one
    assert "selon le scénario de référence (tendanciel" in text and "scénario Scénario" not in text
    assert "Flux de référence publiés pour 2019–2030" in text and "Published 2019–2030" not in text
    for key in ("flows :", "age_structure", "hazard_schedule", "SOURCE.md", "docs/skills.md"):
        assert key not in text, key
    assert "Flux de la période publiée" in text and "Calendrier des départs en fin de carrière" in text
    # the licences written out
    for words in ("IGN – ADMIN EXPRESS COG (édition 2023)", "INSEE – COG", "Licence Ouverte Etalab 2.0",
                  "DARES – France Stratégie (2022, 2023)", "France Travail", "ROME 4.0"):
        assert words in text, words
    _every_address_is_a_link(french_report)


def test_the_english_report_has_no_french_prose(english_report):
    assert '<html lang="en">' in english_report
    assert _foreign_lines(english_report, "en") == []
    text = _html.unescape(english_report)
    assert "Published 2019–2030 reference flows" in text and "Flux de référence publiés" not in text
    assert "Construction and public works" in text and "Bâtiment et travaux publics" not in text
    assert "under the reference scenario (« Les métiers en 2030 » trend)" in text
    assert "Base map: IGN – ADMIN EXPRESS COG (2023 edition)" in text
    _every_address_is_a_link(english_report)


def test_the_french_ensemble_report_has_no_english_prose(ensemble_report_fr):
    """The uncertainty section and the distributions of reference_incertain, in French."""
    assert _foreign_lines(ensemble_report_fr, "fr") == []
    text = _html.unescape(ensemble_report_fr)
    assert "décalage de l'âge de fin de carrière (années)\u00a0: loi normale, écart-type 0,3" in text
    assert "tirages, graine" in text and "Quantiles sur les tirages du scénario de référence avec incertitudes" in text


def _every_address_is_a_link(page: str) -> None:
    p = _Text()
    p.feed(page)
    outside = "".join(p.outside_links)
    assert not re.search(r"https?://", outside), re.findall(r".{60}https?://\S+", outside)[:3]
    assert len(re.findall(r'<a href="https?://', page)) >= 5
