"""Matching of territory and métier names as users type them.

Matching ignores case, accents, hyphens, underscores, apostrophes (any style: ’ ' ʼ) and
repeated spaces, which all count as one space: « nouvelle aquitaine », « Nouvelle-Aquitaine » and
« NOUVELLE AQUITAINE » are the same region, and « provence alpes cote d azur » is
Provence-Alpes-Côte d'Azur.  An unknown name raises :class:`~pmq.errors.UnknownNameError`
listing the closest matches, as they are spelt, the best first (:func:`closest`).
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from pmq.errors import UnknownNameError
from pmq.options import OPTIONS, tr

__all__ = ["normalise", "stem", "resolve", "resolve_many", "closest", "unknown_message", "quoted", "listing",
           "register_labels"]

_APOSTROPHES = "’‘ʼ`´′"


def normalise(text: str) -> str:
    """Lower-case, strip accents, turn apostrophes (any style), hyphens and underscores into spaces, collapse
    spaces: ``normalise("Provence-Alpes-Côte d’Azur") == normalise("provence alpes cote d azur")``."""
    return _normalised(str(text))


@lru_cache(maxsize=1 << 14)
def _normalised(text: str) -> str:
    """:func:`normalise` of a str, remembered (every selection by name normalises the aliases of every territory and
    métier again: a report's charts select a hundred times)."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    for ch in _APOSTROPHES + "'":
        text = text.replace(ch, " ")
    text = text.lower().replace("-", " ").replace("_", " ")
    return re.sub(r"\s+", " ", text).strip()


#: Feminine endings (on accent-free text) and their masculine base: « infirmière » → « infirmier », « vendeuse »
#: → « vendeur », « formatrice » → « formateur », « technicienne » → « technicien ».
_FEMININE = (("iere", "ier"), ("ere", "er"), ("euse", "eur"), ("trice", "teur"), ("ienne", "ien"),
             ("onne", "on"), ("ive", "if"))


def _stem_word(word: str) -> str:
    if len(word) > 3 and word[-1] in "sx" and not word.endswith("ss"):
        word = word[:-1]                                       # plural: « aides » → « aide », « bureaux »
    for fem, base in _FEMININE:
        if len(word) > len(fem) + 1 and word.endswith(fem):
            return word[: -len(fem)] + base
    if len(word) > 4 and word.endswith(("nte", "nde", "ate", "ee")):      # « soignante » → « soignant »,
        return word[:-1]                                                   # « employée » → « employé »
    return word


def stem(text: str) -> str:
    """:func:`normalise` with each word brought to a common base form — plural ``-s``/``-x`` and feminine endings
    (``-ante``, ``-ée``, ``-ière``, ``-euse``, ``-trice``, ``-ienne``…) dropped — so that « aide-soignante »,
    « Aides-soignants »
    and « aide soignant » compare equal, as « vendeuse » and « Vendeurs »."""
    return " ".join(_stem_word(w) for w in normalise(text).split())


def _parts(alias: str) -> list[str]:
    """The stems of the comma-separated parts of a label: « Infirmiers, sages-femmes » → infirmier, sage femm."""
    return [stem(p) for p in str(alias).split(",") if p.strip()]


def _word_ratio(typed: str, alias: str) -> float:
    """How close ``typed`` is to the closest run of as many words of ``alias`` (difflib's ratio)."""
    n, words = len(typed.split()), alias.split()
    if not n or len(words) <= n:
        return 0.0
    return max(difflib.SequenceMatcher(None, typed, " ".join(words[i:i + n])).ratio()
               for i in range(len(words) - n + 1))


def _table(choices: Mapping[str, Iterable[str]]) -> tuple[dict[str, str], dict[str, str]]:
    """``(normalised alias → key, normalised alias → the alias as written)``; the first key listed wins an alias."""
    table: dict[str, str] = {}
    spelt: dict[str, str] = {}          # normalised alias → the alias as written, for the suggestions
    for key, aliases in choices.items():
        for alias in [key, *aliases]:
            norm_alias = normalise(alias)
            if norm_alias not in table:
                table[norm_alias], spelt[norm_alias] = key, str(alias)
    return table, spelt


def resolve(name: str, choices: Mapping[str, Iterable[str]], *, kind: str | tuple[str, str] = "name",
            source: str | None = None, display: Mapping[str, str] | None = None) -> str:
    """Return the key of ``choices`` whose aliases match ``name``.

    Parameters
    ----------
    name : str
        What the user typed (a code or a label).
    choices : mapping
        ``{key: [alias, alias, ...]}``; the key itself is always an alias.  When two keys share an alias,
        the first one listed wins.
    kind : str or (str, str)
        Word used in the error message (« territory », « métier »; its French is known), or the English word
        and the French « … inconnu(e) » (:func:`unknown_message`).
    display : mapping, optional
        How a key is shown in the suggestions of the error message (default: the key itself).
    """
    table, spelt = _table(choices)
    norm = normalise(name)
    if norm in table:
        return table[norm]
    found = _by_stem(name, choices)
    if found is not None:
        return found
    suggestions = _suggest(norm, table, spelt, display)
    raise UnknownNameError(unknown_message(name, kind, suggestions[:5]), source=source)


#: « unknown <kind> » in French, by the ``kind`` callers name (the noun's gender sets the adjective's ending).
_UNKNOWN_FR = {
    "name": "nom inconnu", "territory": "territoire inconnu", "métier": "métier inconnu", "metier": "métier inconnu",
    "région": "région inconnue", "region": "région inconnue", "département": "département inconnu",
    "departement": "département inconnu", "scenario": "scénario inconnu", "built-in scenario": "scénario intégré inconnu",
    "sector": "secteur inconnu", "variable": "variable inconnue", "domain": "domaine professionnel inconnu",
}


def unknown_message(name: str, kind: str | tuple[str, str], suggestions: Iterable[str] = ()) -> str:
    """« unknown territory 'x'; closest matches: a, b » in the reader's language.  ``kind`` is the English word
    (« territory », « métier », « région », « built-in scenario »…: its French is known) or a pair
    ``(english, french)`` where the French says « … inconnu(e) » itself (``("format", "format inconnu")``)."""
    en_kind, fr_unknown = (kind if isinstance(kind, tuple)
                           else (kind, _UNKNOWN_FR.get(kind, _UNKNOWN_FR.get(normalise(kind), "nom inconnu"))))
    shown = ", ".join(suggestions)
    return tr(f"unknown {en_kind} {name!r}" + (f"; closest matches: {shown}" if shown else ""),
              f"{fr_unknown} {name!r}" + (f" ; noms les plus proches : {shown}" if shown else ""))


def _by_stem(name: str, choices: Mapping[str, Iterable[str]]) -> str | None:
    """The one key whose code or label has the stem of ``name`` (« aide-soignante » → Aides-soignants), else the
    one key that has it as a part of a label listing several (« infirmière » → « Infirmiers, sages-femmes »);
    None when no key or several do."""
    typed = stem(name)
    if not typed:
        return None
    whole: set[str] = set()
    part: set[str] = set()
    for key, aliases in choices.items():
        for alias in [key, *aliases]:
            if stem(alias) == typed:
                whole.add(key)
            elif "," in str(alias) and typed in _parts(alias):
                part.add(key)
    for found in (whole, part):
        if len(found) == 1:
            return next(iter(found))
        if found:
            return None
    return None


def _other_language(key: str, alias: str) -> bool | None:
    """Whether ``alias`` is the label of pmq's métier ``key`` in the language the reader does not read (None: not a
    label of pmq's nomenclature)."""
    labels = _metier_labels()
    if key not in labels:
        return None
    fr, en = labels[key]
    norm = normalise(alias)
    reader_fr = _lang() == "fr"
    if norm == normalise(fr):
        return not reader_fr
    if norm == normalise(en):
        return reader_fr
    return None


def _lang() -> str:
    return OPTIONS["lang"]


#: Where the labels of names in two languages come from: functions that give ``key → (French, English)``,
#: registered by the modules that know them (:mod:`pmq.labels` registers pmq's métiers), called when a suggestion
#: is made (not at import).
_LABEL_SOURCES: list[Callable[[], Mapping[str, tuple[str, str]]]] = []
_LABELS: dict[str, tuple[str, str]] = {}


def register_labels(source: Callable[[], Mapping[str, tuple[str, str]]]) -> None:
    """Declare labels known in French and English (``key → (French, English)``, given by ``source`` when first
    needed): a suggestion shows such a label in the reader's language, whichever language the typed name matched."""
    _LABEL_SOURCES.append(source)
    _LABELS.clear()


def _metier_labels() -> dict[str, tuple[str, str]]:
    """The registered labels, ``key → (French, English)``, read once."""
    if not _LABELS and _LABEL_SOURCES:
        for source in _LABEL_SOURCES:
            try:
                _LABELS.update(source())
            except Exception:        # noqa: BLE001 - no labels at hand: names are shown as they are spelt
                pass
        _LABELS.setdefault("\0", ("", ""))
    return _LABELS


def _shown_label(key: str, alias: str) -> str:
    """The label a suggestion shows for ``key`` matched by ``alias``: pmq's label of the métier in the reader's
    language whichever language matched (« V0Z (Nursing assistants) » in English), else the alias as spelt."""
    if _other_language(key, alias) is None:
        return alias
    return _metier_labels()[key][0 if _lang() == "fr" else 1]


def _similarity(norm: str, alias: str) -> float:
    """How close ``norm`` is to ``alias``: difflib's ratio to the whole alias or to its closest run of as many
    words (« provense » is as close to « alpes de haute provence » as to « provence »)."""
    return max(difflib.SequenceMatcher(None, norm, alias).ratio(), _word_ratio(norm, alias))


def _suggest(norm: str, table: Mapping[str, str], spelt: Mapping[str, str],
             display: Mapping[str, str] | None) -> list[str]:
    """The names closest to ``norm`` (normalised), best first, as they are shown in a message."""
    # the candidates: names that contain what was typed as words (« aquitaine », « provence »), names with words
    # spelt nearly so (« provense »), the closest whole names, names that contain it; the best first (difflib's
    # ratio, to the whole name or to its closest words), ties by length then alphabetically
    words = re.compile(rf"\b{re.escape(norm)}\b") if norm else None
    close = {alias for alias in table if words is not None and words.search(alias)}
    strong = set(close) | {a for a in table if _word_ratio(norm, a) >= 0.8}
    close = set(strong)
    close |= set(difflib.get_close_matches(norm, list(table), n=5, cutoff=0.5))
    close |= {alias for alias in table if norm and norm in alias}
    # names whose words have the stems of what was typed (« ouvrière » → « Ouvriers qualifiés de la mécanique »)
    typed = stem(norm).split()
    stemmed = {a for a in table if typed and _has_words(stem(a).split(), typed)}
    close |= stemmed
    # a métier's label in the other language than the reader's only when it matches well (« Sales assistants »
    # is no suggestion for « aides-soignantes » to a French reader; « aides-soigantes » finds
    # « Aides-soignants » in English too)
    close = {a for a in close if a in strong or a in stemmed or not _other_language(table[a], spelt[a])
             or _similarity(norm, a) >= 0.75}
    ranked = sorted(close, key=lambda a: (a not in stemmed, -round(_similarity(norm, a), 9), len(a), a))
    suggestions: list[str] = []
    keys: set[str] = set()
    for alias in ranked:
        key = table[alias]
        if display is not None and key in keys:           # one suggestion per territory
            continue
        keys.add(key)
        if display is None:
            label = key if normalise(key) == alias else f"{key} ({_shown_label(key, spelt[alias])})"
        else:                      # « Provence-Alpes-Côte d'Azur (93) », « PACA: Provence-Alpes-Côte d'Azur (93) »
            shown = display.get(key, key)
            label = shown if alias in normalise(shown) or alias == normalise(key) else f"{spelt[alias]}: {shown}"
        if label not in suggestions:
            suggestions.append(label)
    return suggestions


def _has_words(words: list[str], typed: list[str]) -> bool:
    """Whether ``typed`` (stems) appear in ``words`` (stems) in a row."""
    n = len(typed)
    return any(words[i:i + n] == typed for i in range(len(words) - n + 1))


def quoted(text: str) -> str:
    """``text`` between French guillemets, the guillemets inside it turned into “ ”: « Scénario de référence
    (tendanciel “Les métiers en 2030”) » — never « … « … » … »."""
    inner = re.sub(r"«\s*", "“", str(text))
    inner = re.sub(r"\s*»", "”", inner)
    return f"« {inner} »"


def listing(values: Iterable[object], quote: bool = False) -> str:
    """Names or values as a reader writes a list, not as Python prints one: ``listing(["A0Z", "B1Z"])`` is
    « A0Z, B1Z » (never « ['A0Z', 'B1Z'] »); with ``quote``, each between ' ' as a key of a file is named
    (``listing(["scenario", "horizons"], quote=True)`` is « 'scenario', 'horizons' »)."""
    return ", ".join(f"'{v}'" if quote else str(v) for v in values)


def closest(name: str, choices: Mapping[str, Iterable[str]], *, n: int = 5,
            display: Mapping[str, str] | None = None) -> list[str]:
    """The (at most ``n``) keys of ``choices`` closest to ``name``, best first, as :func:`resolve`'s message lists
    them (« reference » before « reference_incertain » for « referense »); empty when none is close."""
    table, spelt = _table(choices)
    return _suggest(normalise(name), table, spelt, display)[:n]


def unknown_key(key: str, keys: Iterable[str]) -> str:
    """« clé inconnue ; vouliez-vous dire 'anchors' ? clés possibles : 'id', 'kind', … » in the reader's language: the
    closest key first (:func:`closest`), when one is close, then every key a file may hold there."""
    keys = [str(k) for k in keys]
    near = closest(str(key), {k: [] for k in keys}, n=1)
    listed = listing(keys, quote=True)
    if not near:
        return tr(f"unknown key; expected one of {listed}", f"clé inconnue ; clés possibles : {listed}")
    return tr(f"unknown key, did you mean {near[0]!r}? Expected one of {listed}",
              f"clé inconnue, vouliez-vous dire {near[0]!r} ? Clés possibles : {listed}")


def resolve_many(names: Iterable[str], choices: Mapping[str, Iterable[str]], *,
                 kind: str | tuple[str, str] = "name", source: str | None = None) -> list[str]:
    """Resolve several names; the first unknown one raises."""
    return [resolve(n, choices, kind=kind, source=source) for n in names]
