"""``pmq.set_options(lang=...)``: the session's language, set globally or for a ``with`` block (xarray's
pattern); an explicit ``lang=`` always wins."""
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import pmq  # noqa: E402
from pmq import plots  # noqa: E402
from pmq.errors import ArgumentError  # noqa: E402
from pmq.formatting import check_lang, format_percent  # noqa: E402
from pmq.options import get_options, resolve_lang, set_options  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")
    assert get_options()["lang"] == "fr"   # no test leaks its language


def _title(proj, **kw) -> str:
    """Every text of a waterfall chart: its title, suptitle, axis labels, tick labels and values."""
    ax = plots.waterfall(proj, territory="Île-de-France", **kw)
    ax.figure.canvas.draw()
    fig = ax.figure
    texts = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""]
    texts += [t.get_text() for t in [*ax.get_xticklabels(), *ax.get_yticklabels(), *ax.texts, *fig.texts]]
    return " | ".join(texts)


def test_default_is_french():
    assert get_options() == {"lang": "fr"}
    assert resolve_lang(None) == check_lang(None) == "fr"
    assert format_percent(0.115) == "11,5\u202f%"


def test_with_block_switches_to_english_and_back(reference_2030):
    fr_title, en_title = _title(reference_2030), _title(reference_2030, lang="en")
    assert fr_title != en_title
    fr_text, en_text = str(reference_2030.summary()), str(reference_2030.summary(lang="en"))
    fr_tables = set(reference_2030.tables())
    with pmq.set_options(lang="en") as opts:
        assert isinstance(opts, set_options) and get_options()["lang"] == "en"
        assert _title(reference_2030) == en_title
        assert str(reference_2030.summary()) == en_text and "imbalance" in en_text
        assert set(reference_2030.tables()) == {"regions", "domains", "occupations"}
        assert format_percent(0.115) == "11.5%"
    assert _title(reference_2030) == fr_title
    assert str(reference_2030.summary()) == fr_text and "déséquilibre" in fr_text
    assert set(reference_2030.tables()) == fr_tables != {"regions", "domains", "occupations"}


def test_restored_after_an_exception():
    with pytest.raises(RuntimeError, match="boom"), set_options(lang="en"):
        assert get_options()["lang"] == "en"
        raise RuntimeError("boom")
    assert get_options()["lang"] == "fr"


def test_plain_call_sets_globally():
    try:
        set_options(lang="en")
        assert get_options()["lang"] == "en" and format_percent(0.115) == "11.5%"
    finally:
        set_options(lang="fr")
    assert format_percent(0.115) == "11,5\u202f%"


def test_explicit_lang_wins_inside_a_block(reference_2030):
    fr_title = _title(reference_2030)
    fr_text = str(reference_2030.summary())
    with set_options(lang="en"):
        assert _title(reference_2030, lang="fr") == fr_title
        assert str(reference_2030.summary(lang="fr")) == fr_text
        assert format_percent(0.115, lang="fr") == "11,5\u202f%"


def test_get_options_is_a_copy():
    get_options()["lang"] = "en"
    assert get_options()["lang"] == "fr"


@pytest.mark.parametrize("kwargs, words", [({"colour": "blue"}, ["colour", "blue"]),
                                           ({"lang": "de"}, ["lang", "de"])])
def test_bad_option_or_value_names_them(kwargs, words):
    with pytest.raises(ArgumentError) as err:
        set_options(**kwargs)
    assert all(w in str(err.value) for w in words)
    assert get_options() == {"lang": "fr"}   # nothing changed


def test_bad_option_with_a_good_one_changes_nothing():
    with pytest.raises(ArgumentError, match="colour"):
        set_options(lang="en", colour="blue")
    assert get_options()["lang"] == "fr"


def test_reachable_lazily_without_heavy_imports():
    assert pmq.set_options is set_options and pmq.get_options is get_options
    assert "set_options" in pmq.__all__ and "get_options" in dir(pmq)
    code = ("import sys, pmq\n"
            "with pmq.set_options(lang='en'):\n"
            "    assert pmq.get_options()['lang'] == 'en'\n"
            "heavy = {'numpy', 'pandas', 'xarray'} & set(sys.modules)\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True)
