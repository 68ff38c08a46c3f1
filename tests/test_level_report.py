"""Reports and maps below the région (issue 18): a report of a département names it (never « France »), draws the
map of its région's départements with the focus outlined and the unreliable ones hatched, captions its figures by
level and says that the split is estimated; the shipped département and zone d'emploi outlines match the
nomenclature and put city points in the right territory."""
import html
import json
import re

import numpy as np
import pytest
from matplotlib.path import Path as MplPath

import pmq
from pmq.data import data_path
from pmq.data.territories import territories
from pmq.inputs.downscale import RELIABILITY
from pmq.plots import maps

PACA = ["04", "05", "06", "13", "83", "84"]
#: The report of Bouches-du-Rhône at département level (horizon 5 years), as a user builds it in Python.
BUILD = ("import sys, pmq\n"
         "from pmq.export.report import build_report\n"
         "build_report(['reference'], territory='13', horizons=[5], out=sys.argv[1], progress=False,\n"
         "             baseline=pmq.load_baseline(level='departement'))\n")
#: Built on the other core from the start of the session, in a python process of its own (tests/conftest.py).
PMQ_BACKGROUND = {"level_report_13": ("report13", ["subprocess:", "-c", BUILD, "{out}"])}


@pytest.fixture(scope="module")
def dep_baseline():
    return pmq.load_baseline(level="departement")


@pytest.fixture(scope="module")
def report13(background, tmp_path_factory):
    """(folder, report.html text) of the report of « 13 »: the background build, else built here."""
    done = background.result("level_report_13")
    if done is not None and done[0] == 0 and (done[3] / "report.html").is_file():
        folder = done[3]
    else:
        folder = tmp_path_factory.mktemp("level") / "r13"
        exec(compile(BUILD.replace("sys.argv[1]", repr(str(folder))), "BUILD", "exec"), {})
    return folder, (folder / "report.html").read_text(encoding="utf-8")


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).replace("\u00a0", " ").replace("\u202f", " ")


def _one(pattern: str, page: str) -> str:
    m = re.search(pattern, page, flags=re.S)
    assert m, pattern
    return _text(m.group(1))


# ----------------------------------------------------------------------------------------- geometry
def _parts(geom):
    return [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]


def _check_rings(feature):
    for poly in _parts(feature["geometry"]):
        assert poly, feature["properties"]["code"]
        for ring in poly:
            r = np.asarray(ring, dtype=float)
            assert r.ndim == 2 and r.shape[0] >= 4 and r.shape[1] == 2, feature["properties"]["code"]
            assert np.isfinite(r).all() and (r[0] == r[-1]).all()
            assert (-5.5 < r[:, 0]).all() and (r[:, 0] < 10).all() and (41 < r[:, 1]).all() and (r[:, 1] < 51.2).all()


def _contains(feature, lon, lat) -> bool:
    """Inside an exterior ring and outside its holes, with matplotlib's point-in-polygon."""
    for poly in _parts(feature["geometry"]):
        if MplPath(np.asarray(poly[0])).contains_point((lon, lat)) and \
                not any(MplPath(np.asarray(h)).contains_point((lon, lat)) for h in poly[1:]):
            return True
    return False


#: City centres (typed in by hand) and their département; their zone is the one named after them there.
CITIES = {"Marseille": (5.3698, 43.2965, "13"), "Lyon": (4.8357, 45.7640, "69"), "Ajaccio": (8.7369, 41.9192, "2A"),
          "Bastia": (9.4509, 42.6977, "2B"), "Strasbourg": (7.7521, 48.5734, "67"), "Paris": (2.3522, 48.8566, "75")}


@pytest.mark.parametrize("level", ["departement", "zone_emploi"])
def test_geometry_matches_the_nomenclature(level):
    geo = maps.territory_geometry(level)
    nom = territories(level)
    nom = nom[nom["estimated_territory"] == 0]
    props = [f["properties"] for f in geo["features"]]
    assert [p["code"] for p in props] == list(nom["code"])
    assert [p["name"] for p in props] == list(nom["name"])
    assert [p["region"] for p in props] == list(nom["region"])
    assert len(props) == (96 if level == "departement" else 508)
    for f in geo["features"]:
        _check_rings(f)
        assert _contains(f, f["properties"]["label_lon"], f["properties"]["label_lat"]), f["properties"]["code"]
    for city, (lon, lat, dep) in CITIES.items():
        inside = [f["properties"]["code"] for f in geo["features"] if _contains(f, lon, lat)]
        if level == "departement":
            assert inside == [dep], city
        else:
            zone = nom.loc[(nom["departement"] == dep) & (nom["name"].str.split(" (", regex=False).str[0] == city),
                           "code"]
            assert inside == list(zone) and len(zone) == 1, city
    assert data_path("geo", maps.GEOMETRY_FILES[level]).stat().st_size < 420_000


def test_geometry_zones_nest_in_their_departement():
    zones = {f["properties"]["code"]: f for f in maps.territory_geometry("zone_emploi")["features"]}
    deps = {f["properties"]["code"]: f for f in maps.territory_geometry("departement")["features"]}
    for code, f in zones.items():
        lon, lat = f["properties"]["label_lon"], f["properties"]["label_lat"]
        d = f["properties"]["departement"]
        # the zone's label point lies in its département (or within the simplification tolerance of it)
        if not _contains(deps[d], lon, lat):
            r = np.concatenate([np.asarray(p[0]) for p in _parts(deps[d]["geometry"])])
            assert np.hypot(*(r - [lon, lat]).T).min() < 0.05, code


def test_geojson_is_plain_and_compact():
    for name in ("departements.geojson", "zones_emploi.geojson"):
        raw = data_path("geo", name).read_text(encoding="utf-8")
        doc = json.loads(raw)
        assert doc["type"] == "FeatureCollection"
        assert raw.count("\n") == len(doc["features"]) + 2      # one feature per line
        assert not re.search(r"\d\.\d{4,}", raw)                 # 3 decimals at most


# ---------------------------------------------------------------------------------------------- map
def _note(fig) -> str:
    return " ".join(t.get_text() for t in fig.texts).replace("\n", " ")


def test_territory_map_outlines_the_focus_and_hatches_unreliable(dep_baseline):
    import matplotlib.pyplot as plt
    proj = pmq.project(dep_baseline, "reference", horizon=5)
    rel = dep_baseline["reliability"].sel(territory=PACA)
    # a métier of which some PACA départements are an order of magnitude only, and others not
    metier = next(str(m) for m in rel.metier.values if 0 < int((rel.sel(metier=m) >= 2).sum()) < len(PACA))
    weak = sorted(str(t) for t in rel.territory.values if int(rel.sel(territory=t, metier=metier)) >= 2)
    ax = maps.imbalance_territory_map(proj, end_year=2024, territory="Bouches-du-Rhône", metier=metier)
    gid = {a.get_gid(): a for a in ax.findobj(lambda a: a.get_gid() is not None)}
    assert gid["focus"].code == "13" and gid["focus"].get_edgecolor()[:3] == (0.0, 0.0, 0.0)
    assert gid["focus"].get_linewidth() > gid["territories"].get_linewidths()[0]
    assert gid["territories"].codes == PACA
    assert sorted(gid["unreliable"].codes) == weak and gid["unreliable"].get_hatch()
    values = maps.territory_values(proj, end_year=2024, metier=metier)
    np.testing.assert_allclose(gid["territories"].values, values.loc[PACA, "value"] * 100)
    assert gid["territories"].reliability == [int(rel.sel(territory=t, metier=metier)) for t in PACA]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "Bouches-du-Rhône" and any("ordre de grandeur seulement" in t for t in legend)
    assert "Déséquilibre potentiel par département" in ax.get_title(loc="left")
    assert "Provence-Alpes-Côte d'Azur" in ax.get_title(loc="left")
    note = _note(ax.figure)
    assert "Valeurs estimées" in note and "réparti par département" in note and "IGN – ADMIN EXPRESS COG" in note
    plt.close(ax.figure)
    # English, through imbalance_map on split accounts: the same map, « by département »
    ax = maps.imbalance_map(proj, end_year=2024, highlight="13", lang="en")
    assert "Potential imbalance by département" in ax.get_title(loc="left")
    assert "Estimated values" in _note(ax.figure) and "Base map" in _note(ax.figure)
    assert [a for a in ax.findobj(lambda a: a.get_gid() == "focus")][0].code == "13"
    plt.close(ax.figure)


# ------------------------------------------- report (last: its build runs on the other core meanwhile)
def test_departement_report_names_the_departement(report13):
    folder, page = report13
    title, h1 = _one(r"<title>(.*?)</title>", page), _one(r"<h1>(.*?)</h1>", page)
    lead = _one(r'<p class="lead" id="lead">(.*?)</p>', page)
    key_h3 = _one(r'<h2 id="s1">.*?<h3>(.*?)</h3>', page)
    for where in (title, h1, key_h3):
        assert "Bouches-du-Rhône" in where and "France" not in where
    assert "postes seraient à pourvoir dans les Bouches-du-Rhône" in lead and "France" not in lead
    assert "(estimé)" in key_h3


def test_departement_report_map_captions_and_reliability(report13, dep_baseline):
    folder, page = report13
    figures = sorted((folder / "figures").iterdir())
    stems = [p.stem for p in figures if p.suffix == ".png"]
    map_png = [p for p in figures if p.name.endswith("_departements_map.png")]
    assert (folder / "figures" / (map_png[0].stem + ".svg")).is_file()
    assert len(map_png) == 1 and map_png[0].stat().st_size > 10_000
    assert 'src="data:image/png;base64,' in page and 'id="fig-departements_map"' in page
    assert not any(s.endswith("_imbalance_map") or s.endswith("regions_small_multiples") for s in stems)
    captions = [_text(c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", page, flags=re.S)]
    assert any("Déséquilibre potentiel par département" in c for c in captions)
    assert any("par domaine et département" in c for c in captions)
    assert any("Postes à pourvoir et déséquilibre, par département" in c for c in captions)
    assert not any("par région" in c for c in captions)
    # the one sentence on the estimated split, linked to the reliability classes in « Méthode et sources »
    split = _one(r'<p class="small" id="estimated-split">(.*?)</p>', page)
    assert "Sous le niveau régional, les chiffres sont estimés" in split and "clé de répartition" in split
    assert all(f"{k} {v[0]}" in split for k, v in RELIABILITY.items())
    assert 'href="#reliability"' in page and 'id="reliability"' in page
    # the watch list gives each métier's class; an order of magnitude only is greyed
    watch = re.search(r'<table class="watch">(.*?)</table>', page, flags=re.S).group(1)
    assert "<th>Fiabilité</th>" in watch
    rows = re.findall(r"<tr( class=\"weak\")?><td class=\"num\">\d+</td>(.*?)</tr>", watch, flags=re.S)
    assert rows
    for weak, cells in rows:
        metier = _text(cells).split(" — ")[0]
        cls = int(dep_baseline["reliability"].sel(territory="13", metier=metier))
        assert bool(weak) == (cls >= 2) and f"{cls} {RELIABILITY[cls][0]}" in _text(cells)
