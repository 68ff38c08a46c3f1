"""One language at a time for messages (issue 20): every error and warning pmq raises for a user is written in
French and in English where it is raised (:func:`pmq.options.tr`) and shown in the ``lang`` option's language.

The structural check reads the package's source: the message of every ``raise`` of a pmq error and of every
``warnings.warn`` is not a bare text — a string, an f-string or text glued to one — but goes through ``tr``
(directly, or in a variable or helper that does).  The behaviour itself (French by default, English on
request, the framing words of :mod:`pmq.errors` included) is checked on real errors."""
import ast
import inspect
import warnings
from pathlib import Path

import pytest

import pmq
import pmq.errors
from pmq.errors import ArgumentError, InputError, PmqError, ScenarioError
from pmq.options import plural, tr
from test_one_language import foreign_words

PKG = Path(pmq.__file__).resolve().parent
#: The pmq error classes, by name (the raise sites name them so).
ERRORS = {name for name, obj in vars(pmq.errors).items()
          if inspect.isclass(obj) and issubclass(obj, PmqError)}


def _bare_text(node: ast.AST) -> bool:
    """``node`` is text written in one language only: a string, an f-string, a ``+``/``%`` of them, a
    ``"…".format(…)`` or ``"…".join(…)`` on a literal, or a conditional whose branches are."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(node.value.strip())
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and v.value.strip() for v in node.values)
    if isinstance(node, ast.BinOp):
        return _bare_text(node.left) or _bare_text(node.right)
    if isinstance(node, ast.IfExp):
        # a choice by the language (``"…" if lang == "fr" else "…"``) is a translation; any other is not
        if any(isinstance(n, ast.Name) and n.id in ("lang", "fr", "en") for n in ast.walk(node.test)):
            return False
        return _bare_text(node.body) or _bare_text(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _bare_text(node.func.value)
    return False


def _name(func: ast.AST) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def untranslated(source: str, where: str) -> list[str]:
    """``file:line`` of each pmq error raised, or warning warned, with a message in one language only."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        call = None
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and _name(node.exc.func) in ERRORS:
            call = node.exc
        elif isinstance(node, ast.Call) and _name(node.func) == "warn" and (
                isinstance(node.func, ast.Name) or _name(getattr(node.func, "value", None)) == "warnings"):
            call = node
        if call is None:
            continue
        message = call.args[0] if call.args else next(
            (k.value for k in call.keywords if k.arg in ("problem", "message")), None)
        if message is not None and _bare_text(message):
            bad.append(f"{where}:{node.lineno}")
    return bad


def test_the_check_finds_one_language_messages_and_passes_translated_ones():
    assert untranslated('raise InputError("bad value")', "m") == ["m:1"]
    assert untranslated('raise ScenarioError(f"bad {x}", key="k")', "m") == ["m:1"]
    assert untranslated('raise ArgumentError("bad " + x)', "m") == ["m:1"]
    assert untranslated('warnings.warn(f"odd {x}", PmqWarning)', "m") == ["m:1"]
    assert untranslated('raise InputError("{} bad".format(x))', "m") == ["m:1"]
    assert untranslated('raise InputError("bad" if x else "worse")', "m") == ["m:1"]
    assert untranslated('raise InputError("mauvais" if lang == "fr" else "bad")', "m") == []
    assert untranslated('raise InputError(tr(f"bad {x}", f"mauvais {x}"))', "m") == []
    assert untranslated('raise InputError(msg, source=f)', "m") == []
    assert untranslated('warnings.warn(tr("odd", "curieux"), PmqWarning)', "m") == []
    # not a pmq error, not a user's message: a bug stays in English
    assert untranslated('raise TypeError("internal: bad state")', "m") == []


def test_every_pmq_error_and_warning_message_is_written_in_both_languages():
    bad = []
    for f in sorted(PKG.rglob("*.py")):
        bad += untranslated(f.read_text(encoding="utf-8"), str(f.relative_to(PKG.parent)))
    assert bad == [], "messages in one language only:\n" + "\n".join(bad)


def test_messages_follow_the_lang_option_framing_words_included():
    def message(make) -> str:
        with pytest.raises(PmqError) as info:
            raise make()
        return str(info.value)

    def scenario():
        return ScenarioError(tr("the share must lie between 0 and 1", "la part doit être comprise entre 0 et 1"),
                             source="mine.toml", key="demand.share", value=1.5)

    def table():
        return InputError(tr("negative employment", "emploi négatif"), source="employment.csv",
                          column="employment", rows=list(range(12)))

    def argument():
        return ArgumentError(tr("must be at least 1", "doit valoir au moins 1"), name="--top", value=0)

    fr = [message(scenario), message(table), message(argument)]
    assert fr == ["mine.toml, clé 'demand.share' : la part doit être comprise entre 0 et 1 (valeur : 1.5)",
                  "employment.csv, colonne 'employment' : emploi négatif 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (2 de plus)",
                  "--top : doit valoir au moins 1 (valeur : 0)"]
    with pmq.set_options(lang="en"):
        en = [message(scenario), message(table), message(argument)]
    assert en == ["mine.toml, key 'demand.share': the share must lie between 0 and 1 (value: 1.5)",
                  "employment.csv, column 'employment': negative employment 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (2 more)",
                  "--top: must be at least 1 (value: 0)"]
    assert all(foreign_words(m, "fr") == [] for m in fr)
    assert all(foreign_words(m, "en") == [] for m in en)


def test_plurals_agree_in_each_language():
    assert [plural(n, "row", "ligne") for n in (0, 1, 2)] == ["0 ligne", "1 ligne", "2 lignes"]
    with pmq.set_options(lang="en"):
        assert [plural(n, "row", "ligne") for n in (0, 1, 2)] == ["0 rows", "1 row", "2 rows"]
        assert plural(3, "territory", "territoire", "territories") == "3 territories"


def test_a_real_error_of_the_library_speaks_the_option_language():
    """An unknown built-in scenario, through the public API: French by default, English on request."""
    with pytest.raises(PmqError) as fr:
        pmq.read_scenario("referense")
    with pmq.set_options(lang="en"), pytest.raises(PmqError) as en:
        pmq.read_scenario("referense")
    assert "referense" in str(fr.value) and "referense" in str(en.value)
    assert str(fr.value) != str(en.value)
    assert foreign_words(str(fr.value), "fr") == []
    assert foreign_words(str(en.value), "en") == []


def test_a_warning_speaks_the_option_language(tmp_path):
    """A lever whose years all fall outside the run warns (InactiveLeverWarning) in the option's language."""
    text = ('[scenario]\nname = "t"\nextends = "reference"\n[[demand.adjust]]\nid = "x"\nkind = "deviation"\n'
            'metier = ["B4Z"]\nanchors = { 2090 = 0, 2095 = 1000 }\nassumption = "pmq test"\n')
    said = {}
    for lang in ("fr", "en"):
        path = tmp_path / "late.toml"
        path.write_text(text, encoding="utf-8")
        with pmq.set_options(lang=lang), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pmq.project(scenario=pmq.read_scenario(path), horizon=3)
        said[lang] = [str(w.message) for w in caught if issubclass(w.category, pmq.errors.PmqWarning)]
    assert said["fr"] and said["en"] and said["fr"] != said["en"]
    assert all(foreign_words(m, "fr") == [] for m in said["fr"])
    assert all(foreign_words(m, "en") == [] for m in said["en"])
