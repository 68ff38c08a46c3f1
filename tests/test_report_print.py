"""The report on paper and on a 1280 px screen: the key-figures table with two to four scenarios fits its
box (short labels in the headers, the full titles in a legend under it), and the print rules (A4)."""
import numpy as np
import pandas as pd
import pytest

from pmq.export import report as rep

#: the longest titles of the built-in scenarios, as the report shows them
TITLES = {"reference": "Scénario de référence (tendanciel « Les métiers en 2030 »)",
          "ademe_s3": "ADEME Transition(s) 2050 — S3 Technologies vertes (total : hypothèse pmq)",
          "bas_carbone_dares2023": "Transition bas carbone à 2030 (synthèse Dares 2023 pour la mission Pisani-Ferry)",
          "reindustrialisation": "Réindustrialisation 12 % du PIB, aval et technologies (France Stratégie 2024) — "
                                 "répartition par métier : hypothèse pmq"}
ROWS = ["employment_start", "employment_end", "net_creation", "departures", "openings", "young_entrants",
        "net_mobility", "imbalance", "departure_rate", "imbalance_rate"]


def _key_figures(n):
    """Key figures of ``n`` scenarios with the widest numbers France has (millions of persons, signs)."""
    values = np.where(np.array([k.endswith("_rate") for k in ROWS])[:, None], 0.123,
                      -12_345_678.9 * np.ones((len(ROWS), n)))
    kf = pd.DataFrame(values, index=ROWS, columns=list(TITLES)[:n])
    kf.attrs.update(start_year=2019, end_year=2030)
    return kf


def test_key_figures_table_has_short_labels_and_a_legend_of_full_titles():
    for n in (2, 3, 4):
        page = rep._key_table_html(_key_figures(n), TITLES, "fr")
        labels = [f"Scénario\u00a0{i}" for i in range(1, n + 1)]
        head = page.split("</thead>")[0]
        assert all(f">{lab}</th>" in head for lab in labels)
        assert not any(t[:20] in head for t in TITLES.values())       # no long title in the headers
        legend = page.split("</table></div>")[1]
        assert legend.startswith("<ul class=\"legend") and legend.count("<li>") == n
        for lab, name in zip(labels, TITLES):
            assert f"<b>{lab}</b>" in legend and rep.html.escape(rep.french_typography(TITLES[name])) in legend
    one = rep._key_table_html(_key_figures(1), TITLES, "en")    # one scenario: its title, no legend
    assert TITLES["reference"].split(" (")[0] in one and "legend" not in one
    assert "Scenario\u00a02" in rep._key_table_html(_key_figures(2), TITLES, "en")


def test_print_rules():
    css = rep._CSS
    assert "@page{size:A4;margin:15mm}" in css
    screen, printed = css.split("@media print{")
    assert "overflow-x:auto" in screen and "overflow:visible" in printed      # no scrolling box on paper
    for rule in ("h2{break-before:page", "h2:first-of-type{break-before:auto", "nav{display:none}",
                 "tr,figure", "break-inside:avoid", "figure img{max-width:100%"):
        assert rule in printed, rule


@pytest.mark.background
def test_key_figures_fit_at_1280_px_and_on_a4_with_two_to_four_scenarios():
    from test_report import _chromium
    exe = _chromium()
    from playwright.sync_api import sync_playwright

    body = "".join(f"<h2>{n}</h2>{rep._key_table_html(_key_figures(n), TITLES, 'fr')}" for n in (2, 3, 4))
    page_html = (f"<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><style>{rep._CSS}{rep._CSS_TEXT}"
                 f"</style></head><body>{body}</body></html>")
    measure = ("Array.from(document.querySelectorAll('div.scroll')).map(d => [d.scrollWidth, d.clientWidth, "
               "d.querySelector('table').getBoundingClientRect().right <= d.getBoundingClientRect().right + 1])")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_content(page_html)
            screen = page.evaluate(measure)
            page.emulate_media(media="print")
            page.set_viewport_size({"width": 680, "height": 1000})      # A4 less 2 × 15 mm, in CSS px
            printed = page.evaluate(measure)
        finally:
            browser.close()
    for boxes in (screen, printed):
        assert len(boxes) == 3
        assert all(sw <= cw + 1 and inside for sw, cw, inside in boxes), boxes
