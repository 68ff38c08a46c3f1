"""French and English number formats."""
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmq.formatting import MINUS, NNBSP, format_number, format_percent, format_thousands, tick_formatter


def test_french_thousands_and_decimal_comma():
    assert format_thousands(636_101.17) == f"636,1{NNBSP}k"
    assert format_thousands(1_924_016.7) == f"1{NNBSP}924,0{NNBSP}k"
    assert format_thousands(26_146_980.0, 0) == f"26{NNBSP}147{NNBSP}k"
    assert format_number(1234567.891, 2) == f"1{NNBSP}234{NNBSP}567,89"


def test_signs_minus_and_zero():
    assert format_thousands(-13_945.2) == f"{MINUS}13,9{NNBSP}k"
    assert format_thousands(83_589.1, sign=True) == f"+83,6{NNBSP}k"
    assert format_number(-0.04, 1) == "0,0"          # no « −0,0 »
    assert format_number(0.0, 1, sign=True) == "0,0"


def test_english_and_percent():
    assert format_thousands(1_924_016.7, lang="en") == "1,924.0 k"
    assert format_percent(0.115) == f"11,5{NNBSP}%"
    assert format_percent(0.115, lang="en") == "11.5%"
    assert format_percent(-0.0826, lang="fr", sign=True) == f"{MINUS}8,3{NNBSP}%"


def test_nan_and_bad_lang():
    assert format_number(float("nan")) == "–"
    assert format_percent(None) == "–"
    with pytest.raises(ValueError, match="lang"):
        format_number(1.0, lang="de")


def test_tick_formatter_french():
    f = tick_formatter("fr")
    assert f(1500.0) == f"1{NNBSP}500"
    assert f(2.5) == "2,5"
    assert tick_formatter("fr", percent=True, scale=0.01)(12.0) == f"12{NNBSP}%"
    assert tick_formatter("en")(1500.0) == "1,500"


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(0, 3))
def test_french_format_parses_back(x, d):
    s = format_number(x, d)
    back = float(s.replace(NNBSP, "").replace(",", ".").replace(MINUS, "-"))
    assert math.isclose(back, round(x, d), abs_tol=10 ** -d)
    if d:
        assert s.count(",") == 1 and "." not in s
    # groups of exactly three digits between separators
    int_part = s.lstrip(MINUS).split(",")[0]
    groups = int_part.split(NNBSP)
    assert all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3
