"""Bad inputs raise a pmq error naming the file, the column and the offending labels and values."""
import numpy as np
import pandas as pd
import pytest

import pmq
from pmq.errors import EngineError, InputError, UnknownNameError
from pmq.model.ages import AGES


def tables(ages=AGES):
    """A small valid user baseline: 2 départements × 2 métiers."""
    rows = []
    for t in ("13", "83"):
        for m in ("T4Z", "V0Z"):
            for a in ages:
                rows.append({"territory": t, "metier": m, "age": int(a), "employment": 100.0 + a})
    emp = pd.DataFrame(rows)
    haz = pd.DataFrame([{"metier": m, "age": int(a), "hazard": 1.0 if a == ages[-1] else min(0.5, max(0, (a - 55) * 0.05))}
                        for m in ("T4Z", "V0Z") for a in ages])
    flo = pd.DataFrame([{"territory": t, "metier": m, "period_start": 2022, "period_end": 2032,
                         "net_creation": 50.0, "young_entrants": 400.0, "net_mobility": 0.0}
                        for t in ("13", "83") for m in ("T4Z", "V0Z")])
    return emp, haz, flo


def test_valid_tables_load():
    emp, haz, flo = tables()
    b = pmq.load_user_baseline(emp, haz, flo)
    assert b.attrs["base_year"] == 2022 and b.attrs["n_period"] == 10
    assert b.sizes == {"territory": 2, "metier": 2, "age": len(AGES)}


def _raises(match, *args, **kw):
    with pytest.raises(InputError, match=match) as info:
        pmq.load_user_baseline(*args, **kw)
    return str(info.value)


def test_negative_employment_names_column_and_row():
    emp, haz, flo = tables()
    emp.loc[5, "employment"] = -3.0
    msg = _raises("emploi négatif", emp, haz, flo)
    assert "colonne 'employment'" in msg and "-3.0" in msg and "tableau employment" in msg


def test_hazard_outside_unit_interval():
    emp, haz, flo = tables()
    haz.loc[10, "hazard"] = 1.7
    msg = _raises(r"probabilité de sortie hors de \[0, 1\]", emp, haz, flo)
    assert "colonne 'hazard'" in msg and "1.7" in msg
    haz.loc[10, "hazard"] = -0.1
    _raises(r"probabilité de sortie hors de \[0, 1\]", emp, haz, flo)


def test_unknown_metier_code_lists_closest():
    emp, haz, flo = tables()
    emp.loc[emp.metier == "T4Z", "metier"] = "T4X"
    msg = _raises(r"code\(s\) de métier inconnu", emp, haz, flo)
    assert "'T4X'" in msg and "T4Z" in msg and "colonne 'metier'" in msg


def test_unknown_territory_name_lists_closest(baseline):
    with pytest.raises(UnknownNameError, match="noms les plus proches : 75") as info:
        pmq.select(baseline, territory="Nouvelle Aquitane")
    assert "Nouvelle Aquitane" in str(info.value)
    with pytest.raises(UnknownNameError):
        pmq.select(baseline, territory="Atlantis")
    # Matching ignores case, accents, hyphens and apostrophe style.
    for name in ("nouvelle-aquitaine", "Nouvelle Aquitaine", "NOUVELLE AQUITAINE", "75", "naq"):
        assert pmq.select(baseline, territory=name).territory.item() == "75"
    assert pmq.select(baseline, territory="provence alpes cote d’azur").territory.item() == "93"
    assert pmq.select(baseline, metier="employes de maison").metier.values.tolist() == ["T1Z"]


def test_nan_is_reported_with_its_row():
    emp, haz, flo = tables()
    emp.loc[7, "employment"] = np.nan
    msg = _raises("valeur manquante", emp, haz, flo)
    assert "colonne 'employment'" in msg
    flo.loc[1, "net_creation"] = np.nan
    emp, _, _ = tables()
    assert "colonne 'net_creation'" in _raises("valeur manquante", emp, haz, flo)


def test_missing_base_year_column():
    emp, haz, flo = tables()
    msg = _raises(r"colonne obligatoire absente : period_start", emp, haz, flo.drop(columns="period_start"))
    assert "period_start" in msg


def test_base_years_that_disagree():
    emp, haz, flo = tables()
    emp["year"] = 2019
    _raises("les années de base ne concordent pas", emp, haz, flo)


def test_labels_that_do_not_match_between_tables():
    emp, haz, flo = tables()
    flo.loc[flo.territory == "83", "territory"] = "84"
    msg = _raises("les codes ne concordent pas", emp, haz, flo)
    assert "83" in msg and "84" in msg and "uniquement dans" in msg and "only_in" not in msg


def test_malformed_templates(tmp_path):
    emp, haz, flo = tables()
    _raises(r"colonne\(s\) inattendue", emp.assign(sexe="F"), haz, flo)
    _raises(r"colonne obligatoire absente : age", emp.drop(columns="age"), haz, flo)
    _raises("nombres entiers", emp.assign(age=emp.age + 0.5), haz, flo)
    _raises("valeur non numérique", emp.astype({"employment": object}).assign(employment="beaucoup"), haz, flo)
    _raises("lignes en double", pd.concat([emp, emp.head(1)]), haz, flo)
    _raises("âges manquants", emp[emp.age != 30], haz, flo)  # a hole in the age grid
    bad = tmp_path / "employment.csv"
    bad.write_bytes(b"\x00\x01garbage,,\n\"unclosed")
    with pytest.raises(InputError) as info:
        pmq.load_user_baseline(bad, haz, flo)
    assert "employment.csv" in str(info.value)
    (tmp_path / "x.json").write_text("{}")
    _raises("type de fichier non pris en charge", tmp_path / "x.json", haz, flo)
    _raises("fichier introuvable", tmp_path / "nope.csv", haz, flo)


def test_errors_name_the_file(tmp_path):
    emp, haz, flo = tables()
    emp.loc[3, "employment"] = -1
    p = tmp_path / "emploi_paca.csv"
    emp.to_csv(p, index=False)
    msg = _raises("emploi négatif", p, haz, flo)
    assert msg.startswith("emploi_paca.csv, colonne 'employment'")


def test_excel_and_parquet_templates(tmp_path):
    emp, haz, flo = tables()
    emp.to_excel(tmp_path / "e.xlsx", index=False)
    haz.to_parquet(tmp_path / "h.parquet")
    b = pmq.load_user_baseline(tmp_path / "e.xlsx", tmp_path / "h.parquet", flo)
    np.testing.assert_allclose(b["employment"].sum().item(), emp["employment"].sum())


def test_hazard_top_age_forced_with_warning():
    emp, haz, flo = tables()
    haz.loc[haz.age == AGES[-1], "hazard"] = 0.5
    with pytest.warns(UserWarning, match="mise à 1"):
        b = pmq.load_user_baseline(emp, haz, flo)
    assert (b["hazard"].sel(age=AGES[-1]) == 1).all()


def test_infeasible_outflow_raises_engine_error():
    emp, haz, flo = tables()
    flo["young_entrants"] = 1e7  # far more entrants than openings: removal beyond the stock
    b = pmq.load_user_baseline(emp, haz, flo)
    with pytest.raises(InputError, match="retirent plus d'actifs") as info:
        pmq.project(b, "reference", horizon=3)
    assert isinstance(info.value.__cause__, EngineError)
    assert "T4Z" in str(info.value) and "83" in str(info.value)  # cells named by label


def test_partial_territories_need_a_non_recentred_rule():
    emp, haz, flo = tables()
    flo["net_mobility"] = [100.0, 50.0, 20.0, 10.0]  # does not sum to zero: exchange with the outside
    b = pmq.load_user_baseline(emp, haz, flo)
    with pytest.raises(InputError, match="n'est pas nul sur l'ensemble des territoires"):
        pmq.project(b, "reference", horizon=12)


def test_nothing_is_modified_on_error():
    emp, haz, flo = tables()
    before = emp.copy()
    emp.loc[0, "employment"] = -1
    before.loc[0, "employment"] = -1
    with pytest.raises(InputError):
        pmq.load_user_baseline(emp, haz, flo)
    pd.testing.assert_frame_equal(emp, before)


def test_optional_label_columns_are_checked_too():
    emp, haz, flo = tables()
    flo["published_code"] = ["T4Z", None, "T4Z", "V0Z"]
    msg = _raises("libellés manquants", emp, haz, flo)
    assert "colonne 'published_code'" in msg
