"""The variable registry (pmq.labels.VARIABLE_REGISTRY) is the one source of variable labels,
units and IAMC names; the older tables derive from it."""
from __future__ import annotations

import pytest

import pmq
from pmq.errors import UnknownNameError
from pmq.export.iamc import IAMC_VARIABLES, iamc_table
from pmq.export.tables import COLUMNS
from pmq.labels import TEXT, VARIABLE_REGISTRY, Variable, text, variable
from pmq.projection.indicators import FLOWS
from pmq.projection.run import VARIABLES


@pytest.fixture(scope="module")
def accounts():
    return pmq.project(pmq.load_baseline(), "reference", horizon=2).accounts


def test_every_accounts_variable_is_registered(accounts):
    for name in accounts.data_vars:
        v = variable(str(name))
        assert v.fr.strip() and v.en.strip(), name
        assert v.accounts
    assert {k for k, v in VARIABLE_REGISTRY.items() if v.accounts} == set(map(str, accounts.data_vars))
    for k in accounts.data_vars:
        assert accounts[k].attrs["long_name"] == VARIABLE_REGISTRY[str(k)].fr
        assert accounts[k].attrs["long_name_en"] == VARIABLE_REGISTRY[str(k)].en


def test_registry_entries_are_consistent():
    for k, v in VARIABLE_REGISTRY.items():
        assert isinstance(v, Variable) and v.name == k
        assert v.fr.strip() and v.en.strip()
        assert (v.iamc is None) == (v.iamc_unit is None), k
        if v.column:
            assert v.unit_fr and v.unit_en, k
    for k in ("employment_start", "employment_end", *FLOWS, "departure_rate", "openings_rate", "imbalance_rate"):
        assert VARIABLE_REGISTRY[k].column, k


def test_old_tables_derive_from_the_registry():
    reg = VARIABLE_REGISTRY
    assert VARIABLES == {k: (v.fr, v.en) for k, v in reg.items() if v.accounts}
    assert COLUMNS == {k: (v.fr, v.en, v.unit) for k, v in reg.items() if v.column}
    assert IAMC_VARIABLES == {k: (v.iamc, v.iamc_unit) for k, v in reg.items() if v.iamc is not None}
    for k, v in reg.items():
        assert TEXT[k] == (v.fr, v.en)
        assert text(k, "fr") == v.fr and text(k, "en") == v.en == v.label("en")
    assert COLUMNS["employment_start"][2] == "personnes / persons"
    assert COLUMNS["imbalance_rate"][2] == "ratio"
    assert TEXT["year"] == ("Année", "Year")          # the non-variable words stay


def test_iamc_names_come_from_the_registry(accounts):
    roots = {v.iamc for v in VARIABLE_REGISTRY.values() if v.iamc is not None}
    units = {v.iamc_unit for v in VARIABLE_REGISTRY.values() if v.iamc is not None}
    t = iamc_table(accounts, by="metier")
    assert {s.split("|")[0] for s in t["variable"]} == roots
    assert set(t["unit"]) <= units


def test_unknown_name_names_the_closest():
    with pytest.raises(UnknownNameError, match="imbalance") as err:
        variable("imbalanse")
    assert isinstance(err.value, KeyError)
    with pytest.raises(UnknownNameError, match="departures"):
        variable("departure")
