"""Territory inputs as users type them (issue 18, a newcomer's try): a downscaling key's errors name the file,
the column, the bad values and only the bad lines; --territory finds « provence alpes cote d azur », the
observatories' short names (PACA, AURA…) and, below the région, a région's départements; --level reads
« département » or « zones d'emploi »; FR is the national total on every command that takes --territory; an empty
watch list says why (Mayotte).  Every user mistake exits with status 2, names the option or file and the value,
and writes nothing.  In-process (pmq.cli.main), horizons of 1–2 years."""
import re

import pandas as pd
import pytest

import pmq
from pmq.cli import _level, _pick_territories, build_parser, main
from pmq.data.territories import canonical_level, territories
from pmq.errors import ArgumentError, InputError
from pmq.inputs.downscale import check_key, read_key
from pmq.names import normalise

PACA_DEPARTEMENTS = {"04", "05", "06", "13", "83", "84"}


@pytest.fixture(scope="module")
def regions():
    return pmq.load_baseline()


@pytest.fixture(scope="module")
def departements():
    return pmq.load_baseline("departement")


def _cli(capsys, argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------- key files
def test_unknown_metier_codes_of_a_key_are_named_with_the_file_column_and_lines(tmp_path, capsys):
    key = _write(tmp_path / "cle.csv", "parent;child;metier;weight\n93;A;all;0,5\n93;B;all;0,5\n"
                                       "93;A;ZZZ;0,5\n93;B;ZZZ;0,5\n93;A;YYY;1\n")
    code, _, err = _cli(capsys, ["run", "reference", "--horizon", "1", "--key", key, "--out", tmp_path / "o"])
    assert code == 2 and not (tmp_path / "o").exists()
    assert "cle.csv" in err and "colonne 'metier'" in err
    assert "'ZZZ' (lignes 4, 5)" in err and "'YYY' (ligne 6)" in err and "« all »" in err


def test_many_unknown_metier_codes_are_listed_five_then_counted(tmp_path):
    rows = "".join(f"93;A;Q{i}X;1\n" for i in range(8))
    key = _write(tmp_path / "cle.csv", "parent;child;metier;weight\n93;A;all;1\n" + rows)
    with pytest.raises(InputError, match=r"8 code\(s\) de métier inconnu") as exc:
        read_key(key, metiers=["A0Z", "B2Z"])
    msg = str(exc.value)
    assert "'Q0X' (ligne 3)" in msg and "'Q4X'" in msg and "'Q5X'" not in msg and "… et 3 autres" in msg
    # the case of a code does not matter; « ALL » is « all »
    ok = _write(tmp_path / "ok.csv", "parent;child;metier;weight\n93;A;ALL;1\n28;B;a0z;1\n28;B;B2Z;1\n")
    assert set(read_key(ok, metiers=["A0Z", "B2Z"])["metier"]) == {"A0Z", "B2Z"}


def test_unknown_parent_codes_of_a_key_are_named_even_beside_known_ones(tmp_path, capsys):
    key = _write(tmp_path / "cle_bassins.csv", "parent;child;metier;weight\n93;A;all;0,5\n93;B;all;0,5\n"
                                               "99;C;all;1\n13;D;all;1\n")
    code, _, err = _cli(capsys, ["run", "reference", "--horizon", "1", "--key", key, "--out", tmp_path / "o"])
    assert code == 2 and not (tmp_path / "o").exists()
    assert "cle_bassins.csv" in err and "colonne 'parent'" in err
    assert "'99' (ligne 4)" in err and "'13' (ligne 5)" in err and "'93'" not in err
    assert "'13' est Bouches-du-Rhône, un code de niveau departement" in err   # a code of another level: said so


def test_a_key_reads_codes_as_text_ain_01_is_not_1(tmp_path, departements):
    key = _write(tmp_path / "cle_ain.csv", "parent;child;metier;weight\n01;01-a;all;0,25\n01;01-b;all;0,75\n")
    k = read_key(key, metiers=[str(m) for m in departements.metier.values],
                 parents=[str(t) for t in departements.territory.values])
    assert set(k["parent"]) == {"01"} and k["weight"].sum() == pytest.approx(83.0)
    with pytest.raises(InputError, match="'1' est peut-être '01'"):        # a spreadsheet lost the zero
        check_key(pd.DataFrame({"parent": [1], "child": ["a"], "metier": ["all"], "weight": [1.0]}),
                  source="cle.xlsx", parents=["01", "02"])


@pytest.mark.parametrize("weight, problem", [("-0,5", "négatif"), ("abc", "non numérique"), ("", "manquant"),
                                             ("50 %", "non numérique"), ("inf", "infini")])
def test_a_bad_weight_names_only_its_line_and_its_value(tmp_path, weight, problem):
    key = _write(tmp_path / "cle.csv", "parent;child;metier;weight\n93;ok1;all;0,5\n"
                                       f"93;bad;all;{weight}\n93;ok2;all;0,5\n")
    with pytest.raises(InputError) as exc:
        read_key(key, metiers=["A0Z"])
    msg = str(exc.value)
    assert msg.startswith("cle.csv, colonne 'weight' : les poids doivent être des nombres ≥ 0") and "1 ligne " in msg
    table = msg.split("\n")[1:]
    assert len(table) == 2 and table[0].split()[0] == "ligne"
    assert table[1].split()[0] == "3" and "bad" in table[1] and repr(weight) in table[1] and problem in table[1]
    assert "ok1" not in msg and "ok2" not in msg                         # valid rows, 0,5 included, not flagged


def test_key_lines_are_the_files_with_blank_lines_and_a_header_on_line_one(tmp_path):
    key = _write(tmp_path / "cle.csv", "parent,child,metier,weight\n\n93,A,all,0.5\n\n93,B,all,-1\n")
    with pytest.raises(InputError) as exc:
        read_key(key, metiers=["A0Z"])
    assert re.search(r"^\s+5\s+93\s+B", str(exc.value), flags=re.M)
    mixed = _write(tmp_path / "mixte.csv", "parent;child;metier;weight\n93;A;all;0.5\n93;B;all;0,25\n93;C;all;0.25\n")
    with pytest.raises(InputError, match=r"points \(lignes 2, 4\) et virgules décimales \(ligne 3\)"):
        read_key(mixed, metiers=["A0Z"])
    sums = _write(tmp_path / "somme.csv", "parent;child;metier;weight\n93;A;all;0,5\n93;B;all;0,6\n28;C;all;1\n")
    with pytest.raises(InputError, match="pour somme 1") as exc:
        read_key(sums, metiers=["A0Z", "B2Z"])
    assert re.search(r"93\s+all\s+1\.1\s+2, 3", str(exc.value))           # one line per parent, with its lines


# ------------------------------------------------------------------------------------------- territory names
@pytest.mark.parametrize("typed", ["provence alpes cote d azur", "PROVENCE-ALPES-COTE-D'AZUR",
                                   "Provence Alpes Côte d’Azur", "paca", "Région Sud", "93"])
def test_a_region_is_found_however_it_is_typed(regions, typed):
    assert _pick_territories([typed], regions)[0].codes == ("93",)


@pytest.mark.parametrize("typed, code", [("AURA", "84"), ("IDF", "11"), ("BFC", "27"), ("Grand Est", "44"),
                                         ("grand-est", "44"), ("HDF", "32"), ("NAQ", "75")])
def test_observatories_short_names(regions, departements, typed, code):
    assert _pick_territories([typed], regions)[0].codes == (code,)
    below = _pick_territories([typed], departements)[0]                 # at --level departement: its départements
    assert below.group == "region" and set(below.codes) == set(
        territories("departement").query("region == @code")["code"])


def test_a_region_at_departement_level_selects_its_departements_and_says_so(capsys):
    code, out, _ = _cli(capsys, ["compare", "reference", "--level", "departement", "--territory", "PACA",
                                 "--horizon", "1"])
    assert code == 0 and "Provence-Alpes-Côte d'Azur (région 93) : somme de ses 6 départements" in out
    code, out, _ = _cli(capsys, ["imbalance", "--level", "département", "--territory", "provence alpes cote d azur",
                                 "--horizon", "1", "--top", "1"])
    assert code == 0 and "provence alpes cote d azur : les 6 départements de Provence-Alpes-Côte d'Azur" in out
    shown = set(re.findall(r"^.+ \((\w+)\)(?: — chiffres estimés par pmq)?$", out, flags=re.M))
    assert shown == PACA_DEPARTEMENTS
    # a département code stays a département: 13 is Bouches-du-Rhône, never the région 93's code
    assert _pick_territories(["13"], pmq.load_baseline("departement"))[0].codes == ("13",)


def test_an_unknown_territory_exits_2_naming_it_and_the_closest_names(capsys, tmp_path):
    code, _, err = _cli(capsys, ["compare", "reference", "--territory", "provence", "--horizon", "1",
                                 "--out", tmp_path / "o"])
    assert code == 2 and not (tmp_path / "o").exists()
    assert "--territory" in err and "'provence'" in err and "Provence-Alpes-Côte d'Azur (93)" in err
    code, _, err = _cli(capsys, ["imbalance", "--level", "departement", "--territory", "Provense", "--horizon", "1"])
    assert code == 2 and "'Provense'" in err and "Alpes-de-Haute-Provence (04)" in err


def test_names_ignore_apostrophes_like_hyphens():
    assert normalise("Provence-Alpes-Côte d’Azur") == normalise("provence alpes cote d azur")
    assert normalise("Côte-d'Or") == "cote d or"


# ------------------------------------------------------------------------------------------- --level
@pytest.mark.parametrize("typed, level", [("département", "departement"), ("DÉPARTEMENTS", "departement"),
                                          ("zone-emploi", "zone_emploi"), ("zone d'emploi", "zone_emploi"),
                                          ("zones_emploi", "zone_emploi"), ("Zones d’emploi", "zone_emploi"),
                                          ("Région", "region"), ("regions", "region")])
def test_level_spellings(typed, level):
    assert _level(typed) == canonical_level(typed) == level


def test_a_wrong_level_exits_2_listing_the_levels(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "reference", "--level", "commune", "--out", "nowhere"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--level" in err and "'commune'" in err
    assert "region, departement, zone_emploi" in err
    code, out, _ = _cli(capsys, ["territories", "--level", "Départements", "--region", "AURA"])
    assert code == 0 and "12 départements" in out


# ------------------------------------------------------------------------------------------- FR
def test_fr_is_the_national_total_in_compare_and_imbalance(capsys, tmp_path):
    out_dir = tmp_path / "cmp"
    code, out, _ = _cli(capsys, ["compare", "reference", "--territory", "FR", "--territory", "Bretagne",
                                 "--horizon", "1", "--out", out_dir])
    assert code == 0 and "France métropolitaine (FR)" in out.splitlines()[0]
    t = pd.read_csv(out_dir / "compare_domains.csv", dtype={"territory": str})
    assert set(t["territory"]) == {"Ensemble", "53"}
    code, out, _ = _cli(capsys, ["compare", "reference", "--territory", "france", "--horizon", "1"])
    assert code == 0 and "France métropolitaine (FR)" in out.splitlines()[0]
    code, out, _ = _cli(capsys, ["imbalance", "--territory", "France", "--horizon", "1", "--top", "1"])
    assert code == 0 and "France métropolitaine (FR)" in out and "Bretagne" not in out
    picked = _pick_territories(["FR"], pmq.load_baseline("departement"), groups=False)[0]
    assert picked.national and picked.codes == ()
    for cmd in ("compare", "imbalance", "report"):
        help_text = re.sub(r"\s+", " ", build_parser("en")._subparsers._group_actions[0].choices[cmd].format_help())
        assert "FR or France" in help_text or "FR / France" in help_text, cmd
        assert "national total" in help_text, cmd


# ------------------------------------------------------------------------------------------- Mayotte
def test_an_empty_watch_list_says_why_in_the_output_language(capsys):
    code, out, _ = _cli(capsys, ["imbalance", "--dom", "--territory", "Mayotte", "--horizon", "2"])
    assert code == 0 and "Mayotte (06)" in out
    assert "aucun métier à surveiller : ce territoire n'a pas de classe de tension 2019" in out
    code, out, _ = _cli(capsys, ["imbalance", "--dom", "--territory", "mayotte", "--horizon", "2", "--lang", "en"])
    assert code == 0 and "no métier to watch: this territory has no 2019 tension class" in out
    assert "Occupations to watch" in out and "aucun" not in out and "Métiers à surveiller" not in out


def test_the_code_of_a_departement_split_by_a_key_selects_its_parts(departements):
    from pmq.inputs.downscale import downscale
    key = pd.DataFrame({"parent": ["13", "13"], "child": ["13-ouest", "13-est"], "metier": ["all", "all"],
                        "weight": [0.4, 0.6]})
    split = downscale(departements, key, level="custom")
    for typed in ("13", "Bouches-du-Rhône"):
        picked = _pick_territories([typed], split)[0]
        assert picked.group == "departement" and set(picked.codes) == {"13-ouest", "13-est"}
    assert _pick_territories(["PACA"], split)[0].codes == ("04", "05", "06", "13-ouest", "13-est", "83", "84")


def test_python_reads_levels_and_short_names_as_the_cli_does():
    from pmq.projection.indicators import select
    assert pmq.load_baseline("Départements").attrs["level"] == "departement"
    with pytest.raises(ArgumentError, match="level"):
        pmq.load_baseline("commune")
    acc = pmq.project(pmq.load_baseline(), "reference", horizon=1).accounts
    assert list(select(acc, territory="Région Sud").territory.values) == ["93"]
    assert list(select(acc, territory="aura").territory.values) == ["84"]
    from pmq.scenario.levers import Context
    ctx = Context.from_baseline(pmq.load_baseline())
    for name, code in (("AURA", "84"), ("Région Sud", "93"), ("PACA", "93"), ("Bretagne", "53")):
        mask = ctx.territory_mask({"territory": [name]})
        assert [t for t, m in zip(ctx.territories, mask) if m] == [code], name
