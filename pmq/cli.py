"""Command line, thin over the library.

    pmq run reference --horizon 20 --out results
    pmq run my_scenario.toml --data my_observatory/ --out results
    pmq compare reference ademe_s3 reindustrialisation --horizon 10 [--territory PACA] [--out DIR]
    pmq scenarios
    pmq scenarios --copy reference --out my_scenarios     (a built-in scenario's file, to start from)
    pmq templates --out my_data                           (the templates of your own data)
    pmq validate my_scenario.toml
    pmq reproduce metiers2030 [--out DIR]
    pmq report reference bas_carbone_dares2023 --territory Normandie --horizon 11 --out rapport
    pmq export reference --out tables.xlsx   (or .csv folder, .nc, .iamc.csv, .iamc.xlsx)
    pmq backtest --from 2012 --to 2018 [--out DIR]     (or --from 2010,2011,2012,2013)

Outputs are computed in full, written to a temporary folder beside ``--out`` and
only then moved into place: a failure leaves no half-written output.

Errors: every user mistake — data, scenario, option, output path, environment (read-only
folder, missing optional extra, not enough memory) — ends with exit status 2 and one message
naming the file, key, column or option and the offending value, without a traceback; the
output paths are checked before anything is computed, and nothing is written.  An unexpected
error (a bug) shows its traceback and exits with 1; ``--debug`` (or ``PMQ_DEBUG=1``) shows the
traceback of user errors too.

Language: the help, argparse's words and syntax errors, every message and what a command prints and writes are
French by default, English with ``--lang en`` (anywhere on the line) or ``PMQ_LANG=en``; the command runs under
``pmq.set_options(lang=…)``, so the library's own errors and warnings come in the same language.
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import math
import os
import re
import shlex
import shutil
import sys
import tempfile
import tomllib
import warnings
from pathlib import Path
from typing import NamedTuple

from pmq._version import __version__
from pmq.errors import InactiveLeverWarning, PmqError
from pmq.names import quoted
from pmq.options import OPTIONS, set_options, tr

# ------------------------------------------------------------------------- the language of the command line
#: The environment variable that sets pmq's language when the command line has no ``--lang``: ``fr`` or ``en``.
LANG_ENV = "PMQ_LANG"
LANGS = ("fr", "en")


def _env_lang() -> str | None:
    """The language of :data:`LANG_ENV` (``PMQ_LANG``), None when it is unset or empty; another value than ``fr``
    or ``en`` raises :class:`~pmq.errors.ArgumentError` naming the variable and the value."""
    from pmq.errors import ArgumentError
    value = os.environ.get(LANG_ENV)
    if value is None or not value.strip():
        return None
    lang = value.strip().lower()
    if lang not in LANGS:
        raise ArgumentError(tr("the language of pmq's help, messages and outputs must be 'fr' or 'en'",
                               "la langue de l'aide, des messages et des sorties de pmq doit être 'fr' ou 'en'"),
                            name=LANG_ENV, value=value)
    return lang


def argv_lang(argv) -> str | None:
    """The language a command line asks for: the last ``--lang en`` / ``--lang=en`` (``fr``, ``en``) of ``argv``,
    anywhere before a ``--``; None without one (a wrong value is left to the parser, which refuses it)."""
    args = [os.fspath(a) if isinstance(a, (str, os.PathLike)) else str(a) for a in argv]
    found = None
    for i, a in enumerate(args):
        if a == "--":
            break
        value = args[i + 1] if a == "--lang" and i + 1 < len(args) else a[7:] if a.startswith("--lang=") else None
        value = value.strip().lower() if value is not None else None
        if value in LANGS:
            found = value
    return found


def command_lang(argv) -> str:
    """The language of the help, the syntax errors and the command: ``--lang`` in ``argv``, else ``PMQ_LANG``
    (:func:`_env_lang`, which refuses another value), else the ``lang`` option — French, unless a program that
    calls :func:`main` set it (``with pmq.set_options(lang="en"): main(argv)``)."""
    return argv_lang(argv) or _env_lang() or OPTIONS["lang"]


#: argparse's own messages (Python 3.11's formats) and their French; the first that matches a message is used.
_ARGPARSE_FR = (
    (r"unrecognized arguments: (?P<a>.*)", "arguments non reconnus : {a}"),
    (r"the following arguments are required: (?P<a>.*)", "arguments obligatoires manquants : {a}"),
    (r"one of the arguments (?P<a>.*) is required", "l'un des arguments {a} est obligatoire"),
    (r"ambiguous option: (?P<a>.*?) could match (?P<b>.*)", "option ambiguë : {a} peut désigner {b}"),
    (r"invalid choice: (?P<a>.*) \(choose from (?P<b>.*)\)", "choix invalide : {a} (choix possibles : {b})"),
    (r"expected one argument", "une valeur est attendue"),
    (r"expected at most one argument", "une valeur au plus est attendue"),
    (r"expected at least one argument", "une valeur au moins est attendue"),
    (r"expected (?P<a>\d+) arguments?", "{a} valeurs sont attendues"),
    (r"invalid (?P<a>\S+) value: (?P<b>.*)", "valeur invalide pour {a} : {b}"),
    (r"not allowed with argument (?P<a>.*)", "incompatible avec l'argument {a}"),
    (r"ignored explicit argument (?P<a>.*)", "valeur explicite ignorée : {a}"),
    (r"unexpected option string: (?P<a>.*)", "option inattendue : {a}"),
    (r"unknown parser (?P<a>.*) \(choices: (?P<b>.*)\)", "commande inconnue : {a} (choix possibles : {b})"),
)


def argparse_message_fr(message: str) -> str:
    """argparse's English ``message`` in French: « argument --horizon : … » for ``argument --horizon: …`` (the
    rest translated too), the patterns of :data:`_ARGPARSE_FR`; pmq's own messages (an option type's, already in
    the reader's language) as they are."""
    m = re.fullmatch(r"argument (?P<name>[^\s:]+): (?P<rest>.*)", message, re.S)
    if m:
        return f"argument {m['name']} : {argparse_message_fr(m['rest'])}"
    for pattern, french in _ARGPARSE_FR:
        m = re.fullmatch(pattern, message, re.S)
        if m:
            return french.format(**m.groupdict())
    return message


#: Placeholder of a space the help text must not be broken at (« : », « ; », « 25 % », « … »), during wrapping.
_KEEP = "\ue000"


class _HelpFormatter(argparse.HelpFormatter):
    """pmq's help layout in the reader's language (:attr:`lang`): « usage : » in French; descriptions and epilogs
    written one paragraph a line, each wrapped to the width of the terminal (at most 100 columns) and indents kept;
    never a line broken before « : » or inside a name (``--csv-sep``, ``docs/user_data.md``)."""

    lang = "fr"

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        if width is None:
            width = min(shutil.get_terminal_size().columns - 2, 98)
        super().__init__(prog, indent_increment, max_help_position, max(width, 40))

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix if prefix is not None else
                          ("usage : " if self.lang == "fr" else "usage: "))

    def start_section(self, heading):
        super().start_section(f"{heading} " if self.lang == "fr" and heading else heading)   # « options : »

    @staticmethod
    def _wrap(text: str, width: int, indent: str = "") -> list[str]:
        import textwrap
        kept = re.sub(r" (?=[:;?!»%])|(?<=«) ", _KEEP, text)
        return [line.replace(_KEEP, " ") for line in textwrap.wrap(
            kept, width, initial_indent=indent, subsequent_indent=indent, break_long_words=False,
            break_on_hyphens=False)] or [indent.rstrip()]

    def _fill_text(self, text, width, indent):
        out = []
        for line in text.splitlines():
            lead = line[:len(line) - len(line.lstrip())]
            out += self._wrap(line.strip(), width, indent + lead) if line.strip() else [""]
        return "\n".join(out)

    def _split_lines(self, text, width):
        return self._wrap(re.sub(r"\s+", " ", text).strip(), width)


class _FrenchHelp(_HelpFormatter):
    lang = "fr"


class _EnglishHelp(_HelpFormatter):
    lang = "en"


def _shown(value) -> str:
    """An option's value as the user wrote it, near enough: a list as ``5,10``, a CSV dialect by its separator."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(getattr(value, "sep", value))


class _Once(argparse._StoreAction):
    """argparse's ``store``, refusing an option given twice with different values (argparse keeps the last in
    silence: ``--territory Bretagne --territory Normandie`` would report on Normandie alone); the error names the
    option and both values.  Options meant to repeat say so (``action="append"``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if option_string is not None:
            given = namespace.__dict__.setdefault("_pmq_given", {})
            if self.dest in given and given[self.dest][1] != values:
                before = given[self.dest][1]
                raise argparse.ArgumentError(self, tr(
                    f"given twice ({_shown(before)}, then {_shown(values)}): this option takes one value; keep one",
                    f"donnée deux fois ({_shown(before)}, puis {_shown(values)}) : cette option ne prend qu'une "
                    "valeur ; n'en gardez qu'une"))
            given[self.dest] = (option_string, values)   # (the option as typed: kept for debugging)
        super().__call__(parser, namespace, values, option_string)


def _suggestion(typed: str, choices) -> str | None:
    """The choice closest to ``typed`` (case ignored), if one is close enough (difflib)."""
    lower = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(str(typed).lower(), list(lower), n=1, cutoff=0.6)
    return lower[close[0]] if close else None


class CommandLineParser(argparse.ArgumentParser):
    """argparse's parser in the reader's language ``lang``: the help's words (« arguments positionnels », « afficher
    ce message d'aide et quitter »), its layout (:class:`_HelpFormatter`) and its error messages
    (« pmq run : erreur : argument --horizon : … », :func:`argparse_message_fr`), exit status 2 as argparse's.
    The option types' messages are made in ``lang`` too: the parser parses under ``set_options(lang=lang)``."""

    def __init__(self, *args, lang: str = "fr", add_help: bool = True, **kwargs):
        kwargs["formatter_class"] = _EnglishHelp if lang == "en" else _FrenchHelp
        kwargs["add_help"] = False                     # our own -h/--help, in the reader's language
        super().__init__(*args, **kwargs)
        self.lang = lang
        self.register("action", None, _Once)           # every option that stores a value takes one value
        self.register("action", "store", _Once)
        self.commands: dict = {}                       # the commands' parsers (the main parser's), for hints
        with set_options(lang=lang):
            self._positionals.title = tr("positional arguments", "arguments positionnels")
            self._optionals.title = tr("options", "options")
            if add_help:
                self.add_argument("-h", "--help", action="help",
                                  help=tr("show this help message and exit", "afficher ce message d'aide et quitter"))

    def parse_known_args(self, args=None, namespace=None):
        with set_options(lang=self.lang):
            return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            # the command's usage and name (« usage : pmq run … », « pmq run : erreur : … »), not the main parser's
            command = getattr(ns, "command", None)
            with set_options(lang=self.lang):
                self.commands.get(command, self).error(self._unrecognized(ns, extras))
        ns.__dict__.pop("_pmq_given", None)
        return ns

    def _unrecognized(self, ns, extras) -> str:
        """« arguments non reconnus : --territory ; run ne prend pas --territory (compare, … le prennent) », or
        « vouliez-vous dire --horizon ? » for a mistyped option of the command."""
        command = getattr(ns, "command", None)
        sub = self.commands.get(command) if command else None
        own = [o for a in (sub or self)._actions for o in a.option_strings]
        hints = []
        for x in extras:
            if not x.startswith("--"):
                continue
            name = x.split("=", 1)[0]
            takers = [c for c, p in self.commands.items() if name in p._option_string_actions]
            close = _suggestion(name, own)
            if sub is not None and takers:
                listed = ", ".join(takers[:6]) + (" …" if len(takers) > 6 else "")
                hints.append(tr(f"{command} does not take {name} (only {listed} do)",
                                f"{command} ne prend pas {name} (seuls {listed} le prennent)"))
            elif close:
                hints.append(tr(f"{name}: did you mean {close}?", f"{name} : vouliez-vous dire {close} ?"))
        text = " ".join(extras)
        return tr(f"unrecognized arguments: {text}", f"arguments non reconnus : {text}") + "".join(
            tr(f"; {h}", f" ; {h}") for h in hints)

    def error(self, message):
        with set_options(lang=self.lang):
            self.print_usage(sys.stderr)
            text = argparse_message_fr(message) if self.lang == "fr" else message
            m = re.search(r"invalid choice: '(?P<v>[^']*)' \(choose from (?P<c>.*)\)", message, re.S)
            close = _suggestion(m["v"], re.findall(r"'([^']*)'", m["c"])) if m else None
            if close:
                text += tr(f"; did you mean {close}?", f" ; vouliez-vous dire {close} ?")
            self.exit(2, f"{self.prog}{tr(': error: ', ' : erreur : ')}{text}\n")


# ------------------------------------------------------------------------- the help texts, in the reader's language
def debug_help() -> str:
    return tr("show the traceback of user errors too (also PMQ_DEBUG=1)",
              "afficher aussi la trace d'appels des erreurs de l'utilisateur (ou PMQ_DEBUG=1)")


def errors_epilog() -> str:
    """Exit status and what is refused, in the reader's language: the end of every command's help."""
    return tr(
        "Exit status: 0 on success; 2 on a user error — bad data, scenario, option or output path, a read-only "
        "folder, a missing optional extra, an ensemble too big for the memory — with one message naming the file, "
        "key, column or option and the offending value, and nothing written (--out is checked before computing); 1 "
        "on an internal error (a bug: the traceback is shown, please report it). --debug (or PMQ_DEBUG=1) shows the "
        "traceback of user errors too.\n\n"
        "Refused: counts (--draws, --chunk, --top) below 1, --horizon outside 1–60, a negative --seed, an --out that "
        "is a file or an output folder (figures, ensemble.zarr, CSV export) pmq did not write, that lies under a file "
        "or in a folder "
        "pmq cannot write, or whose name is too long for the file system; scenario files that are not UTF-8 (the "
        "TOML rule) or hold control characters. The full list, and what is accepted instead: docs/user_data.md, "
        "\"Errors and exit status\".",
        "Code de sortie : 0 en cas de succès ; 2 pour une erreur de l'utilisateur — données, scénario, option ou "
        "chemin de sortie erronés, dossier en lecture seule, dépendance facultative absente, ensemble trop grand "
        "pour la mémoire — avec un seul message, qui nomme le fichier, la clé, la colonne ou l'option et la valeur "
        "en cause, et rien d'écrit (--out est vérifié avant tout calcul) ; 1 pour une erreur interne (un bogue : la "
        "trace d'appels est affichée, merci de le signaler). --debug (ou PMQ_DEBUG=1) affiche aussi la trace "
        "d'appels des erreurs de l'utilisateur.\n\n"
        "Sont refusés : des nombres (--draws, --chunk, --top) inférieurs à 1, un --horizon hors de 1–60, un --seed "
        "négatif, un --out qui est un fichier ou un dossier de sortie (figures, ensemble.zarr, export CSV) que pmq "
        "n'a pas écrit, "
        "qui se trouve sous un fichier ou dans un dossier où pmq ne peut pas écrire, ou dont le nom est trop long "
        "pour le système de fichiers ; les fichiers de scénario qui ne sont pas en UTF-8 (la règle de TOML) ou qui "
        "contiennent des caractères de contrôle. La liste complète, et ce qui est accepté à la place : "
        "docs/user_data.md, « Errors and exit status » (en anglais).")


def territory_epilog() -> str:
    """What ``--territory`` accepts, for the help of the commands that take it."""
    return tr(
        "--territory (compare, imbalance, report, skills, passerelles) takes a code or a name of a territory of the "
        "run; case, accents, hyphens and apostrophes do not matter, and the short names observatories use work "
        "(PACA, AURA, IDF, BFC, Région Sud…). At --level departement or zone_emploi a région name selects its "
        "départements (zones) and a département name its zones. FR or France is the national total: the sum of "
        "every territory of the run (France métropolitaine; with --dom the estimated DOM included; your own "
        "territories with --data or --key). run and export take no --territory: they write every territory, and "
        "the national total too (export's tables, the summary run prints).",
        "--territory (compare, imbalance, report, skills, passerelles) prend le code ou le nom d'un territoire de la "
        "projection ; majuscules, accents, traits d'union et apostrophes sont indifférents, et les noms courts en "
        "usage dans les observatoires sont reconnus (PACA, AURA, IDF, BFC, Région Sud…). Avec --level departement "
        "ou zone_emploi, le nom d'une région désigne ses départements (ses zones) et le nom d'un département ses "
        "zones. FR ou France désigne le total national : la somme de tous les territoires de la projection (la "
        "France métropolitaine ; avec --dom, les DOM estimés compris ; vos propres territoires avec --data ou "
        "--key). run et export ne prennent pas de --territory : ils écrivent chaque territoire, et aussi le total "
        "national (dans les tableaux d'export, dans le résumé qu'affiche run).")


def territory_help() -> str:
    """``--territory``'s help: a code or a name, FR for the national total."""
    return tr("code or name of a territory (case, accents, hyphens, apostrophes do not matter; short names such as "
              "PACA, AURA, IDF); at --level departement or zone_emploi a région name selects its départements "
              "(zones); FR or France: the national total, the sum of every territory of the run",
              "code ou nom d'un territoire (majuscules, accents, traits d'union, apostrophes indifférents ; noms "
              "courts comme PACA, AURA, IDF) ; avec --level departement ou zone_emploi, le nom d'une région désigne "
              "ses départements (ses zones) ; FR ou France : le total national, la somme de tous les territoires de "
              "la projection")


def restrict_help(national: str) -> str:
    """The help of a repeatable ``--territory`` that restricts a command's tables, whose files name the national
    total ``national``."""
    quoted_en, quoted_fr = (f'"{national}"', f"« {national} »") if national != "FR" else (national, national)
    return tr(f"restrict to a territory: {territory_help()}; repeatable. In the files the national total is the "
              f"territory {quoted_en}",
              f"se limiter à un territoire : {territory_help()} ; répétable. Dans les fichiers, le total national "
              f"est le territoire {quoted_fr}")


def horizon_help(default_en: str, default_fr: str, several: bool = False) -> str:
    """``--horizon``'s help, one wording for every command: years from the base year, 1–60, the command's default
    (``several``: report's list of horizons)."""
    if several:
        return tr(f"years from the base year, 1–60, one or several separated by commas (e.g. 5,10,20) (default: "
                  f"{default_en})",
                  f"années depuis l'année de base, 1–60, une ou plusieurs séparées par des virgules (par exemple "
                  f"5,10,20) (par défaut : {default_fr})")
    return tr(f"years from the base year, 1–60 (default: {default_en})",
              f"années depuis l'année de base, 1–60 (par défaut : {default_fr})")


def _published_period() -> tuple[str, str]:
    """The default horizon of compare, imbalance, report, skills and passerelles, in words (en, fr)."""
    return "11, i.e. 2019–2030, the published period", "11, soit 2019–2030, la période publiée"


def _scenario_horizon() -> tuple[str, str]:
    """The default horizon of run, export and validate, in words (en, fr)."""
    return ("the scenario's [horizons] run, 20 years for the reference",
            "les [horizons] run du scénario, 20 ans pour la référence")


def seed_help() -> str:
    """``--seed``'s help (run, report)."""
    return tr("seed of the draws, a whole number ≥ 0 (default: the scenario's uncertainty.seed, else 0)",
              "graine des tirages, un nombre entier ≥ 0 (par défaut : uncertainty.seed du scénario, sinon 0)")


def _scenario_line() -> str:
    return tr("SCENARIO is a scenario file (.toml) or a built-in name (reference).",
              "SCÉNARIO est un fichier de scénario (.toml) ou le nom d'un scénario intégré (reference).")


def _epilog(*outputs: str, territory: bool = True, scenario: bool = True) -> str:
    """A command's epilog: what SCENARIO is, its own outputs, territories and errors, a paragraph each."""
    parts = ([_scenario_line()] if scenario else []) + list(outputs) + ([territory_epilog()] if territory else [])
    return "\n\n".join([*parts, errors_epilog()])


def main_epilog() -> str:
    return _epilog(tr(
        "Each command says what it writes: pmq COMMAND --help. French words and numbers by default, English with "
        "--lang en (or PMQ_LANG=en). Default horizons: 11 years (2019–2030, the published period that the "
        "reference reproduces) for compare, imbalance, report, skills and passerelles; the scenario's own "
        "[horizons] run (20 years for the reference, to 2050 for ADEME) for run and export, which write every year. "
        "To start from pmq's files: pmq scenarios --copy NAME --out DIR (a built-in scenario), pmq templates --out "
        "DIR (the tables of your own data, for --data).",
        "Chaque commande dit ce qu'elle écrit : pmq COMMANDE --help. Mots et nombres en français par défaut, en "
        "anglais avec --lang en (ou PMQ_LANG=en). Horizons par défaut : 11 ans (2019–2030, la période publiée, que "
        "la référence reproduit) pour compare, imbalance, report, skills et passerelles ; pour run et export, qui "
        "écrivent chaque année, les [horizons] run du scénario (20 ans pour la référence, jusqu'à 2050 pour "
        "l'ADEME). Pour partir des fichiers de pmq : pmq scenarios --copy NOM --out DOSSIER (un scénario intégré), "
        "pmq templates --out DOSSIER (les tableaux de vos propres données, pour --data)."), territory=False)


def run_epilog() -> str:
    return _epilog(tr(
        "Outputs in --out: accounts.nc (every stock and flow, netCDF) and summary.csv (headline flows per métier × "
        "territory at 5, 10 and 20 years and 2030, persons).",
        "Sorties dans --out : accounts.nc (tous les stocks et flux, netCDF) et summary.csv (les principaux flux par "
        "métier × territoire à 5, 10 et 20 ans et en 2030, en personnes)."), tr(
        "Ensembles (--draws): with the dask extra installed the draws are streamed to ensemble.zarr chunk by chunk; "
        "without it they are computed in memory and written to ensemble.nc (netCDF). A run whose memory estimate "
        "exceeds the limit (half the available memory; --max-memory or PMQ_MAX_MEMORY) is refused before computing, "
        "with the estimate and what to do.",
        "Ensembles (--draws) : si la dépendance facultative dask est installée, les tirages sont écrits au fil du "
        "calcul dans ensemble.zarr, paquet par paquet ; sinon ils sont calculés en mémoire et écrits dans "
        "ensemble.nc (netCDF). Une projection dont l'estimation de mémoire dépasse la limite (la moitié de la "
        "mémoire disponible ; --max-memory ou PMQ_MAX_MEMORY) est refusée avant tout calcul, avec l'estimation et "
        "ce qu'il faut faire."))


def compare_epilog() -> str:
    return _epilog(tr(
        "Outputs in --out: compare_domains.csv and compare_metiers.csv (headline flows by FAP domain and by métier "
        "for each scenario, and each scenario's difference from the first, persons).",
        "Sorties dans --out : compare_domains.csv et compare_metiers.csv (les principaux flux par domaine "
        "professionnel (FAP) et par métier pour chaque scénario, et l'écart de chaque scénario au premier, en "
        "personnes)."))


def imbalance_epilog() -> str:
    return _epilog(tr(
        "Outputs in --out: imbalance.csv (openings, young entrants, supply, imbalance and the typology classes per "
        "métier × territory) and watch_list.csv (the ranked métiers to watch).",
        "Sorties dans --out : imbalance.csv (postes à pourvoir, jeunes débutants, offre, déséquilibre potentiel et "
        "classes des typologies par métier × territoire) et watch_list.csv (les métiers à surveiller, classés)."))


def report_epilog() -> str:
    return _epilog(tr(
        "Outputs in --out: report.html (self-contained), figures/NN_<name>.png (300 dpi) and .svg, tables.xlsx (key "
        "figures, métiers to watch, tables by territory, domain and métier, a sheet per indicator, differences "
        "between scenarios).",
        "Sorties dans --out : report.html (autonome), figures/NN_<nom>.png (300 dpi) et .svg, tables.xlsx (chiffres "
        "clés, métiers à surveiller, tableaux par territoire, domaine et métier, une feuille par indicateur, écarts "
        "entre scénarios)."))


def export_epilog() -> str:
    return _epilog(tr(
        "Output: the file or folder given by --out, in the format of its extension (.xlsx, .nc, .iamc.csv, "
        ".iamc.xlsx) or --format (csv: a folder of CSV files, UTF-8 with BOM).",
        "Sortie : le fichier ou le dossier donné par --out, au format de son extension (.xlsx, .nc, .iamc.csv, "
        ".iamc.xlsx) ou de --format (csv : un dossier de fichiers CSV, en UTF-8 avec BOM)."))


def reproduce_epilog() -> str:
    return _epilog(tr(
        "EXERCISE: metiers2030 — \"Les métiers en 2030\", DARES – France Stratégie, regional results (1,049 "
        "published rows × 15 numeric columns).",
        "EXERCICE : metiers2030 — « Les métiers en 2030 », DARES – France Stratégie, résultats régionaux (1\u202f049 "
        "lignes publiées × 15 colonnes numériques)."), tr(
        "Outputs in --out: <EXERCISE>_differences.csv (published value, pmq value and difference pmq − published "
        "for every cell) and <EXERCISE>_differences.xlsx (sheets README, summary, cells).",
        "Sorties dans --out : <EXERCICE>_differences.csv (valeur publiée, valeur de pmq et écart pmq − publié pour "
        "chaque cellule) et <EXERCICE>_differences.xlsx (feuilles README, summary, cells)."),
        territory=False, scenario=False)


def skills_epilog() -> str:
    return _epilog(tr(
        "--by: macro_competence (the 491 savoir-faire macro-compétences of ROME 4.0), savoir_categorie (the 5 "
        "categories of savoirs), savoir_etre (the 16 savoir-être professionnels), fiche (ROME 4.0 fiches), green "
        "(the fiches' ecological-transition class: vert, stratégique, brun, blanc), digital (the fiches' "
        "digital-transition flag).",
        "--by : macro_competence (les 491 macro-compétences de savoir-faire du ROME 4.0), savoir_categorie (les 5 "
        "catégories de savoirs), savoir_etre (les 16 savoir-être professionnels), fiche (les fiches du ROME 4.0), "
        "green (la classe de transition écologique des fiches : vert, stratégique, brun, blanc), digital "
        "(l'indicateur de transition numérique des fiches)."), tr(
        "--view additive spreads each métier's openings over its items (the rows add up to the openings, a \"non "
        "rattaché\" row included); --view reach gives the openings in the jobs whose fiche requires the item (not "
        "additive).",
        "--view additive répartit les postes à pourvoir de chaque métier entre ses éléments (les lignes "
        "s'additionnent aux postes à pourvoir, une ligne « non rattaché » comprise) ; --view reach donne les postes "
        "à pourvoir des emplois dont la fiche requiert l'élément (non additif)."), tr(
        "Outputs in --out: skills.csv (every row, UTF-8 with BOM) and skills.xlsx (README sheet with the sources, the "
        "rule and the limits). Method: docs/skills.md.",
        "Sorties dans --out : skills.csv (toutes les lignes, UTF-8 avec BOM) et skills.xlsx (feuille README avec les "
        "sources, la règle et les limites). Méthode : docs/skills.md."))


def passerelles_epilog() -> str:
    return _epilog(tr(
        "The passerelles are ROME 4.0's \"mobilités\" between fiches (rank 1 = the closest, weighted 1/rank), "
        "aggregated to métiers through pmq's bridge métier → ROME fiches: strength = the share of the métier's "
        "mobilités that lead into the destination. The destinations (strength ≥ 1 %) are ranked by their projected "
        "imbalance rate in the territory (imbalance ÷ employment of the base year), with their DARES class.",
        "Les passerelles sont les « mobilités » du ROME 4.0 entre fiches (rang 1 = la plus proche, pondérée par "
        "1/rang), agrégées par métier grâce à la table de passage de pmq métier → fiches ROME : force du lien = la "
        "part des mobilités du métier qui mènent à la destination. Les destinations (lien ≥ 1 %) sont classées "
        "selon leur taux de déséquilibre potentiel projeté dans le territoire (déséquilibre ÷ emploi de l'année de "
        "base), avec leur classe DARES."), tr(
        "Output in --out: passerelles.csv (UTF-8 with BOM). Method: docs/skills.md.",
        "Sortie dans --out : passerelles.csv (UTF-8 avec BOM). Méthode : docs/skills.md."))


def backtest_epilog() -> str:
    return _epilog(tr(
        "--from names origins: the year up to which the survey is known. DARES values are 3-year windows labelled "
        "by their centre (2012 = 2011–2013): from origin t the forecasts start from the window labelled t−1, the "
        "last known; --to names the end window's label, --horizon counts label steps from t−1. The age part needs "
        "two pairs of pyramids before t−1 (first origin 2011 with the shipped pyramids); earlier origins evaluate "
        "employment only.",
        "--from désigne les origines : l'année jusqu'à laquelle l'enquête est connue. Les valeurs de la DARES "
        "portent sur des fenêtres de 3 ans désignées par leur année centrale (2012 = 2011–2013) : depuis l'origine "
        "t, les prévisions partent de la fenêtre t−1, la dernière connue ; --to désigne la fenêtre finale, "
        "--horizon compte les pas depuis t−1. La partie par âge demande deux paires de pyramides avant t−1 "
        "(première origine 2011 avec les pyramides fournies) ; les origines antérieures n'évaluent que l'emploi."),
        tr("Outputs in --out: demand_metrics.csv (window, model, mape, wmape, dissimilarity, direction_share), "
           "demand_intervals.csv (bootstrap over families), demand_rolling.csv (rolling origin), "
           "backtest_metrics.csv, backtest_age_by_fap.csv, backtest_age_bands.csv, backtest_employment_by_fap.csv, "
           "backtest.png/.svg.",
           "Sorties dans --out : demand_metrics.csv (window, model, mape, wmape, dissimilarity, direction_share), "
           "demand_intervals.csv (bootstrap sur les familles), demand_rolling.csv (origine glissante), "
           "backtest_metrics.csv, backtest_age_by_fap.csv, backtest_age_bands.csv, backtest_employment_by_fap.csv, "
           "backtest.png/.svg."), territory=False, scenario=False)


def _progress_printer(stream):
    if not stream.isatty():
        return None
    year = tr("year", "année")

    def show(i, n):
        width = 30
        done = int(width * i / n)
        stream.write(f"\r  projection  [{'█' * done}{' ' * (width - done)}] {year} {i}/{n}")
        if i == n:
            stream.write("\n")
        stream.flush()

    return show


# ------------------------------------------------------------------------- checks before work
def _probe_writable(folder: Path) -> str | None:
    """None if pmq can create entries in ``folder`` (tried: a hidden folder made and removed at
    once — permissions alone do not tell, e.g. for root or on a read-only mount), else why not."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return tr("no write permission", "pas de droit d'écriture")
    try:
        st = os.stat(folder)
        os.rmdir(tempfile.mkdtemp(prefix=".pmq-write-check-", dir=folder))
        os.utime(folder, ns=(st.st_atime_ns, st.st_mtime_ns))      # the folder looks untouched
    except OSError as exc:
        return _strerror(exc)
    return None


def _check_out(value, names=(), *, file: bool = False, option: str = "--out") -> Path:
    """Check, before anything is computed, that the output ``value`` of ``option`` can be written:
    a folder receiving ``names`` (or, with ``file``, one file).  Raises
    :class:`~pmq.errors.ArgumentError` / :class:`~pmq.errors.OutputError` naming the option and
    the path: control characters, a name too long for the file system (pmq's temporary names
    included), a path under a file, a folder pmq cannot write, an output that exists and is not
    pmq's to replace (:func:`pmq.outputs.check_outputs`).  Returns the absolute path."""
    from pmq.errors import ArgumentError, OutputError
    from pmq.outputs import check_target, temp_prefix, check_outputs
    text = os.fspath(value)
    if not text.strip():
        raise ArgumentError(tr("is empty: give an output path", "est vide : donnez un chemin de sortie"),
                            name=option, value=text)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ArgumentError(tr("contains control characters (a NUL byte, a line break, a tab…): not a usable path",
                               "contient des caractères de contrôle (un octet nul, un saut de ligne, une "
                               "tabulation…) : chemin inutilisable"), name=option, value=text)
    path = Path(os.path.abspath(text))
    anc = path.parent
    while not os.path.lexists(anc) and anc != anc.parent:
        anc = anc.parent
    try:
        name_max = os.pathconf(anc if anc.is_dir() else anc.parent, "PC_NAME_MAX")
        path_max = os.pathconf(anc if anc.is_dir() else anc.parent, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    for part in path.parts[1:]:
        n = len(os.fsencode(part))
        if n > name_max:
            raise OutputError(tr(f"a name in the path is {n} bytes long, above the {name_max} the file system "
                                 f"allows ({part[:30]!r}…); choose a shorter {option}",
                                 f"un élément du chemin fait {n} octets, au-delà des {name_max} que permet le système de "
                                 f"fichiers ({part[:30]!r}…) ; choisissez un {option} plus court"), path=text)
    extra = len(os.fsencode(temp_prefix(path.name, "ens"))) - len(os.fsencode(path.name)) + 8 + len(path.suffix)
    if len(os.fsencode(path.name)) + extra > name_max:
        size = len(os.fsencode(path.name))
        raise OutputError(tr(f"the name is {size} bytes long; pmq writes through a temporary name {extra} bytes "
                             f"longer, so it must be at most {name_max - extra} bytes here; choose a shorter {option}",
                             f"le nom fait {size} octets ; pmq écrit d'abord sous un nom provisoire plus long de "
                             f"{extra} octets, le nom doit donc faire au plus {name_max - extra} octets ici ; "
                             f"choisissez un {option} plus court"), path=text)
    if len(os.fsencode(str(path))) + 64 > path_max:
        size = len(os.fsencode(str(path)))
        raise OutputError(tr(f"the path is {size} bytes long, too long for the file system (at most {path_max} with "
                             f"pmq's file names); choose a shorter {option}",
                             f"le chemin fait {size} octets, trop pour le système de fichiers (au plus {path_max} "
                             f"avec les noms de fichiers de pmq) ; choisissez un {option} plus court"), path=text)
    if not anc.is_dir():
        raise OutputError(tr(f"lies under {anc}, which is a file, not a folder; choose another {option}",
                             f"se trouve sous {anc}, qui est un fichier et non un dossier ; choisissez un autre "
                             f"{option}"), path=text)
    why = _probe_writable(anc)
    if why:
        raise OutputError(tr(f"cannot be written: pmq cannot create anything in {anc} ({why}; a read-only folder or "
                             f"file system?); choose another {option}",
                             f"écriture impossible : pmq ne peut rien créer dans {anc} ({why} ; un dossier ou un "
                             f"système de fichiers en lecture seule ?) ; choisissez un autre {option}"), path=text)
    if file:
        check_target(path, False)
    else:
        check_outputs(path, list(names))
        if path.is_dir():
            why = _probe_writable(path)
            if why:
                raise OutputError(tr(f"the folder exists but pmq cannot write in it ({why}); choose another {option}",
                                     f"le dossier existe mais pmq ne peut pas y écrire ({why}) ; choisissez un autre "
                                     f"{option}"), path=text)
    return path


def _data_folder(args):
    """The ``--data`` folder, checked: it exists and is a folder."""
    from pmq.errors import ArgumentError
    d = getattr(args, "data", None)
    if d is None:
        return None
    path = Path(d)
    if not path.exists():
        raise ArgumentError(tr("no such folder (it should hold employment, hazards, flows [, tension] tables)",
                               "dossier introuvable (il doit contenir les tableaux employment, hazards, flows "
                               "[, tension])"), name="--data", value=str(d))
    if not path.is_dir():
        raise ArgumentError(tr("is a file, not a folder: give the folder that holds employment, hazards, flows "
                               "[, tension] tables",
                               "est un fichier, non un dossier : donnez le dossier qui contient les tableaux "
                               "employment, hazards, flows [, tension]"), name="--data", value=str(d))
    return path


def _scenario(name, baseline, horizon=None, territories=None):
    """A scenario read against ``baseline``'s territories, with ``horizon`` (already checked by
    the option's type) and a warning for levers whose years all fall outside the run."""
    from pmq.scenario.read import read_scenario
    sc = read_scenario(name, territories=_territories(baseline) if territories is None else territories)
    if horizon is not None:
        sc = sc.with_horizon(int(horizon))
    return sc          # levers outside the run: warned by pmq.projection.run.scenario_inputs


#: At most this many métiers are listed by ``pmq validate`` when a scenario is above its plausibility bound.
IMPLAUSIBLE_SHOWN = 10


def _implausible(sc, baseline, lang: str):
    """The métiers whose national employment ``sc`` moves from the reference's by more than its plausibility bound
    (``max_metier_deviation``): :func:`pmq.analysis.sources.plausibility_check`'s rows with ``above``, largest
    first, with their label in ``lang``.  It applies the levers to the baseline's arrays (the engine's input path,
    which the run reuses: its trends are cached), a fraction of a second, no projection."""
    from pmq.analysis.sources import plausibility_check
    from pmq.labels import metier_label
    df = plausibility_check(sc, baseline)
    df = df[df["above"]].reset_index(drop=True)
    codes = [str(m) for m in baseline.metier.values]
    own = ([str(x) for x in baseline["metier_label"].values] if "metier_label" in baseline.coords else codes)
    labels = dict(zip(codes, metier_label(codes, lang, labels=own)))
    df["label"] = [labels.get(str(m), str(m)) for m in df["metier"]]
    return df


def _bound_text(bound: float, lang: str) -> str:
    from pmq.formatting import format_percent
    return format_percent(bound, 0 if abs(bound * 100 - round(bound * 100)) < 1e-9 else 1, lang)


def _deviation_text(r, lang: str) -> str:
    """« +12 345 678 personnes (+850,3 %) en 2050 »: one métier's largest move from the reference."""
    from pmq.formatting import format_number, format_percent
    persons = format_number(r.deviation, 0, lang, sign=True)
    rel = float(r.max_relative_deviation)
    share = (format_percent(rel if r.deviation >= 0 else -rel, 1, lang, sign=True) if math.isfinite(rel)
             else ("emploi nul dans la référence" if lang == "fr" else "no employment in the reference"))
    return (f"{persons} personnes ({share}) en {r.year}" if lang == "fr" else
            f"{persons} persons ({share}) in {r.year}")


def _implausible_report(sc, typed, df, lang: str) -> str:
    """What ``pmq validate`` prints for a scenario above its bound: the métiers (code, label, year, deviation in
    persons and %), the bound and how to raise it in the file — or to correct the levers."""
    fr = lang == "fr"
    n, bound = len(df), float(df["bound"].iat[0])
    head = (f"{typed}, clé 'scenario.max_metier_deviation' : l'emploi national de {n} métier{'s' if n > 1 else ''} "
            f"s'écarte de celui du scénario de référence au-delà de la borne de plausibilité du scénario, "
            f"{_bound_text(bound, lang)} (valeur : {bound:g}) :" if fr else
            f"{typed}, key 'scenario.max_metier_deviation': the national employment of {n} métier{'s' if n > 1 else ''} "
            f"moves away from the reference scenario's by more than the scenario's plausibility bound, "
            f"{_bound_text(bound, lang)} (value: {bound:g}):")
    # the label last, whole: the figures stay in columns
    said = [(r, _deviation_text(r, lang)) for r in df.head(IMPLAUSIBLE_SHOWN).itertuples()]
    w = max(len(t) for _, t in said)
    rows = [f"  {r.metier}  {t:<{w}}  {r.label}" for r, t in said]
    if n > IMPLAUSIBLE_SHOWN:
        rows.append(f"  … et {n - IMPLAUSIBLE_SHOWN} autres" if fr else f"  … and {n - IMPLAUSIBLE_SHOWN} more")
    top = float(df["max_relative_deviation"].max())
    need = math.ceil(top * 100 - 1e-9) / 100 if math.isfinite(top) else math.inf
    src = Path(str(sc.source)).name
    if need <= 100:
        how = (f"  si ces écarts sont voulus, relevez la borne dans la section [scenario] de {src} : "
               f"max_metier_deviation = {need:g} (une part : 0.25 = 25 %), avec max_metier_deviation_reason = \"…\" "
               "qui dit pourquoi (les deux vont ensemble) ; sinon corrigez les leviers (un nombre 1 000 fois trop "
               "grand ? une part écrite en pourcentage ?)" if fr else
               f"  if these moves are meant, raise the bound in the [scenario] section of {src}: "
               f"max_metier_deviation = {need:g} (a share: 0.25 = 25%), with max_metier_deviation_reason = \"…\" "
               "saying why (the two go together); otherwise correct the levers (a number 1,000 times too big? a "
               "share written as a percentage?)")
    else:
        how = ("  la borne ne peut dépasser 100 (10 000 %) : corrigez les leviers (un nombre 1 000 fois trop grand ? "
               "une part écrite en pourcentage ?)" if fr else
               "  the bound cannot exceed 100 (10,000%): correct the levers (a number 1,000 times too big? a share "
               "written as a percentage?)")
    return "\n".join([head, *rows, how])


def _warn_implausible(scenarios, typed, baseline, lang: str) -> None:
    """A ``pmq: warning:`` line per scenario above its plausibility bound (the run goes on): ``pmq validate`` is
    where it fails, listing the métiers.  A check that cannot be made (a user's data the reference cannot be
    applied to) is left to the run's own errors."""
    from pmq.errors import PmqWarning
    for sc, t in zip(scenarios, typed):
        if not sc.demand_levers() and sc.trend_model == "published":
            continue                  # the reference's employment path: nothing can move (and no 0.1 s spent)
        try:
            df = _implausible(sc, baseline, lang)
        except PmqError:
            continue
        if not len(df):
            continue
        n, r = len(df), next(df.itertuples())
        bound = _bound_text(float(df["bound"].iat[0]), lang)
        first = f"{r.metier} {r.label}, {_deviation_text(r, lang)}"
        warnings.warn(
            f"{t} : l'emploi national de {n} métier{'s' if n > 1 else ''} s'écarte de celui de la référence "
            f"au-delà de la borne de plausibilité du scénario ({bound}, max_metier_deviation) — le plus : {first} ; "
            f"un levier trop grand ? pmq validate {shlex.quote(str(t))} les détaille" if lang == "fr" else
            f"{t}: the national employment of {n} métier{'s' if n > 1 else ''} moves away from the reference's by "
            f"more than the scenario's plausibility bound ({bound}, max_metier_deviation) — the most: {first}; a lever too "
            f"big? pmq validate {shlex.quote(str(t))} lists them", PmqWarning, stacklevel=2)


#: What --territory accepts for the national total — the sum of every territory of the run — matched as names are
#: (case, accents, hyphens do not matter); a territory of the run with one of these codes or names comes first.
NATIONAL_NAMES = ("FR", "France", "France métropolitaine", "France entière", "national", "Ensemble",
                  "Ensemble des territoires", "All territories")
_NATIONAL = "\x00national"


class _Picked(NamedTuple):
    """A territory asked for with ``--territory``: what was typed, the territories of the run it selects, its name,
    ``group`` (``"region"``, ``"departement"``) when a parent selects its children, ``national`` for FR."""
    typed: str
    codes: tuple[str, ...]
    label: str
    group: str | None = None
    national: bool = False


def _territory_choices(baseline, groups: bool = True, national: bool = True):
    """Names ``--territory`` accepts in ``baseline``: ``(choices, display, members)`` for :func:`pmq.names.resolve`
    — each territory's code, names and, for a built-in région, its short names; with ``groups``, each parent
    région (département) of split territories as ``"region:93"`` with its name and short names, ``members``
    its children; with ``national``, FR and its names."""
    from pmq.data.territories import region_aliases, territories
    terr = [str(t) for t in baseline.territory.values]
    names = [str(n) for n in baseline["territory_name"].values] if "territory_name" in baseline.coords else terr
    source = ([str(n) for n in baseline["territory_source_name"].values]
              if "territory_source_name" in baseline.coords else names)
    level = str(baseline.attrs.get("level") or "region")
    aliases = region_aliases()
    choices: dict[str, list[str]] = {}
    display: dict[str, str] = {}
    members: dict[str, tuple[str, ...]] = {}
    for code, name, src in zip(terr, names, source):
        choices[code] = [name, src]
        if code in aliases and aliases[code][0] == name:      # a built-in région (not a user's code 93)
            choices[code] += aliases[code]
        display[code] = f"{name} ({code})" if name != code else code
    if groups:
        nomen = territories()
        levels = [lvl for lvl in ("region", "departement")
                  if lvl != level and lvl in baseline.coords and baseline[lvl].dims == ("territory",)]
        # a parent's code selects its children when no territory of the run, nor a parent of the other level,
        # has it (13 split by a key into bassins; never 93 at the zones' level: région or département?)
        seen = [set(map(str, baseline[lvl].values)) for lvl in levels]
        ambiguous = set(terr) | (set.intersection(*seen) if len(seen) > 1 else set())
        for lvl in levels:
            parent = [str(p) for p in baseline[lvl].values]
            known = nomen[nomen["level"] == lvl].set_index("code")["name"].to_dict()
            word = "région" if lvl == "region" else "département"
            for code in dict.fromkeys(parent):
                kids = tuple(t for t, p in zip(terr, parent) if p == code)
                if kids == (code,):                     # a territory a key does not split: itself
                    continue
                name = str(known.get(code, code))
                key = f"{lvl}:{code}"
                choices[key] = [name, f"{name} ({lvl})", f"{word} {code}",
                                *(aliases.get(code, []) if lvl == "region" else []),
                                *([code] if code not in ambiguous else [])]
                display[key] = f"{name} ({word} {code})"
                members[key] = kids
    if national:
        choices[_NATIONAL] = list(NATIONAL_NAMES)
        display[_NATIONAL] = tr("FR (France: the national total)", "FR (France : le total national)")
    return choices, display, members


def _pick_territories(values, baseline, option: str = "--territory", *, groups: bool = True,
                      national: bool = True) -> list[_Picked]:
    """The territories ``values`` (codes or names, see :func:`territory_help`) select in ``baseline``, resolved
    before any work; an unknown one is refused naming the option, the value and the closest names."""
    from pmq.errors import ArgumentError, UnknownNameError
    from pmq.names import resolve
    if not values:
        return []
    choices, display, members = _territory_choices(baseline, groups, national)
    picked = []
    for v in values:
        try:
            key = resolve(v, choices, kind="territory", display=display)
        except UnknownNameError as exc:
            hint = _other_level(v, baseline)      # « Finistère est un département (29) : ajoutez --level … »
            # the message quotes the value already (« territoire inconnu 'Bretagen' ; … »): not a second time
            raise ArgumentError(hint or str(exc), name=option) from None
        if key == _NATIONAL:
            picked.append(_Picked(v, (), "FR", national=True))
        elif key in members:
            picked.append(_Picked(v, members[key], display[key], group=key.split(":")[0]))
        else:
            picked.append(_Picked(v, (key,), display[key]))
    return picked


def _other_level(value, baseline) -> str | None:
    """Why ``value``, unknown among ``baseline``'s territories, is not there when it names a territory of another
    level of pmq's nomenclature (a département or a zone d'emploi given where régions are read): « Finistère est
    un département (29) : ajoutez --level departement » (and --dom for an overseas one the run lacks); None
    otherwise (a user's territories, or a name no level knows)."""
    from pmq.data.territories import territories
    from pmq.names import normalise
    level = str(baseline.attrs.get("level") or "region")
    nomen = territories()
    terr = {str(t) for t in baseline.territory.values}
    if level not in LEVEL_NAMES or not terr <= set(nomen.loc[nomen["level"] == level, "code"]):
        return None
    typed, norm = str(value).strip(), normalise(str(value))
    if not norm:
        return None
    regions = ({str(r) for r in baseline["region"].values} if "region" in baseline.coords else terr)
    words = {"region": ("a région", "une région"), "departement": ("a département", "un département"),
             "zone_emploi": ("a zone d'emploi", "une zone d'emploi")}
    for lvl in (level, *(x for x in LEVEL_NAMES if x != level)):
        rows = nomen[nomen["level"] == lvl]
        names = rows["name"].astype(str)
        hit = rows[(rows["code"].str.lower() == typed.lower()) | (names.map(normalise) == norm)
                   | (names.str.replace(r" \(.*\)$", "", regex=True).map(normalise) == norm)]
        if not len(hit):
            continue
        r = hit.iloc[0]
        code = str(r["zone_emploi"]) if lvl == "zone_emploi" and str(r["zone_emploi"]) else str(r["code"])
        dom = str(r["region"]) not in regions and bool(r["estimated_territory"])
        name = str(r["name"]) if lvl != "zone_emploi" else re.sub(r" \(.*\)$", "", str(r["name"]))
        en, fr = words[lvl]
        if lvl == level:                  # an overseas territory of this level, left out without --dom
            if not dom:
                continue
            return tr(f"{name} is an overseas {en[2:]} ({code}), estimated by pmq: add --dom",
                      f"{name} est {fr} d'outre-mer ({code}), estimée par pmq : ajoutez --dom".replace(
                          "estimée", "estimé" if fr.startswith("un ") else "estimée"))
        add = f"--level {lvl}" + (" --dom" if dom else "")
        if LEVEL_NAMES.index(lvl) < LEVEL_NAMES.index(level):       # a région at the départements' level
            return tr(f"{name} is {en} ({code}), above the territories of this run ({level}): give one of its "
                      f"territories, or run at --level {lvl}",
                      f"{name} est {fr} ({code}), au-dessus des territoires de cette projection ({level}) : donnez "
                      f"l'un de ses territoires, ou projetez avec --level {lvl}")
        return tr(f"{name} is {en} ({code}): add {add}", f"{name} est {fr} ({code}) : ajoutez {add}")
    return None


def _children_word(baseline, n: int, lang: str = "fr") -> str:
    """« 6 départements », « 37 zones d'emploi »: ``n`` territories of ``baseline``'s level."""
    level = str(baseline.attrs.get("level") or "region")
    words = {"departement": ("département", "départements"), "zone_emploi": ("zone d'emploi", "zones d'emploi"),
             "region": ("région", "régions")}.get(level, ("territoire", "territoires") if lang == "fr"
                                                   else ("territory", "territories"))
    return f"{n} {words[n != 1]}"


def _write_summary(proj, path) -> None:
    """summary.csv, as pmq's CSV tables are written (:func:`pmq.export.tables.write_table_csv`): persons to 3
    decimals, the rates (shares of initial employment) to 6, since 3 would round them to 0.1 point; an undefined
    rate is an empty field."""
    from pmq.export.tables import write_table_csv
    write_table_csv(proj.summary_table(), path)


def _write_outputs(proj, out: Path) -> list[Path]:
    from pmq.outputs import write_atomically

    return write_atomically(out, {
        "accounts.nc": proj.to_netcdf,
        "summary.csv": lambda p: _write_summary(proj, p),
    })


def _baseline_from_dir(d: Path):
    from pmq.inputs.baseline import check_period_end, load_user_baseline
    from pmq.errors import ArgumentError
    files = {}
    for name in ("employment", "hazards", "flows", "tension"):
        cands = [d / f"{name}{ext}" for ext in (".csv", ".xlsx", ".parquet")]
        found = [c for c in cands if c.exists()]
        if not found and name != "tension":
            raise ArgumentError(tr(f"no {name}.csv, {name}.xlsx or {name}.parquet in this folder (see "
                                   "docs/user_data.md)",
                                   f"ni {name}.csv, ni {name}.xlsx, ni {name}.parquet dans ce dossier (voir "
                                   "docs/user_data.md)"), name="--data", value=str(d))
        if len(found) > 1:
            shown = ", ".join(c.name for c in found)
            raise ArgumentError(tr(f"several {name} tables ({shown}): pmq would not know which one to read; keep one",
                                   f"plusieurs tableaux {name} ({shown}) : pmq ne saurait lequel lire ; n'en gardez "
                                   "qu'un"), name="--data", value=str(d))
        files[name] = found[0] if found else None
    flows = files["flows"]
    assert flows is not None, "a missing flows table raised above"
    baseline = load_user_baseline(files["employment"], files["hazards"], flows, files["tension"])
    check_period_end(baseline, source=flows.name)
    return baseline


def _baseline(args):
    """The baseline: embedded or ``--data``, split to ``--level`` by the shipped keys, or by ``--key``."""
    from pmq.inputs.baseline import load_baseline
    from pmq.inputs.downscale import downscale, read_key
    from pmq.data.territories import LEVELS
    d = _data_folder(args)
    level = getattr(args, "level", None) or "region"
    key = getattr(args, "key", None)
    dom = bool(getattr(args, "dom", False))
    if key is not None and not Path(key).is_file():
        from pmq.errors import ArgumentError
        raise ArgumentError(tr("no such key file (a table parent, child, metier, weight; see docs/territories.md)",
                               "fichier de clé introuvable (un tableau parent, child, metier, weight ; voir "
                               "docs/territories.md)"), name="--key", value=str(key))
    if dom and d is not None:
        from pmq.errors import ArgumentError
        raise ArgumentError(tr("--dom adds pmq's estimated overseas régions to the embedded baseline; with --data, "
                               "put your own DOM tables in the folder",
                               "--dom ajoute à la base intégrée les régions d'outre-mer estimées par pmq ; avec "
                               "--data, mettez vos propres tableaux des DOM dans le dossier"),
                            name="--dom", value=str(d))
    if d is None:
        baseline = load_baseline(level, dom=dom)      # --key then splits the territories of --level
    else:
        baseline = _baseline_from_dir(d)
        if level != "region":
            from pmq.data import regions
            from pmq.errors import ArgumentError
            own = sorted(set(map(str, baseline.territory.values)) - set(regions()["code"]))
            if own:
                shown = f"{', '.join(own[:5])}{'…' if len(own) > 5 else ''}"
                raise ArgumentError(tr(f"--level splits the 13 régions by pmq's keys, but the --data tables hold "
                                       f"other territories ({shown}); split yours with --key FILE",
                                       f"--level découpe les 13 régions selon les clés de pmq, mais les tableaux de "
                                       f"--data contiennent d'autres territoires ({shown}) ; découpez les vôtres avec "
                                       f"--key FICHIER"), name="--level", value=level)
            for lvl in LEVELS[1:LEVELS.index(level) + 1]:
                baseline = downscale(baseline, lvl)
    if key is not None:
        table = read_key(key, metiers=[str(m) for m in baseline.metier.values],
                         parents=[str(t) for t in baseline.territory.values])
        baseline = downscale(baseline, table, level="custom", key_source=Path(key).name)
    return baseline


#: The territorial levels (as pmq.data.territories.LEVELS, which imports pandas: not needed to parse options).
LEVEL_NAMES = ("region", "departement", "zone_emploi")


def _level(text: str) -> str:
    """``--level``: one of :data:`LEVEL_NAMES` as users write it — accents, case, plurals, hyphens and
    « zone d'emploi » do not matter (« Département », « zones-emploi »)."""
    if text in LEVEL_NAMES:
        return text
    from pmq.data.territories import canonical_level
    try:
        return canonical_level(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _territory_options(parser) -> None:
    """``--level``, ``--dom`` and ``--key``: the territories of every command that projects (read by
    :func:`_baseline`); the help in the language of :func:`build_parser`."""
    parser.add_argument("--level", type=_level, choices=LEVEL_NAMES, default="region",
                        help=tr("territories: régions (default), départements or zones d'emploi (split by pmq's keys; "
                                "see pmq territories and docs/territories.md); accents, case and plurals do not "
                                "matter (département, zones d'emploi)",
                                "territoires : régions (par défaut), départements ou zones d'emploi (découpés par les "
                                "clés de pmq ; voir pmq territories et docs/territories.md) ; accents, majuscules et "
                                "pluriels indifférents (département, zones d'emploi)"))
    parser.add_argument("--dom", action="store_true",
                        help=tr("add the five overseas régions (Guadeloupe, Martinique, Guyane, La Réunion, Mayotte) "
                                "as territories estimated by pmq (see docs/territories.md)",
                                "ajouter les cinq régions d'outre-mer (Guadeloupe, Martinique, Guyane, La Réunion, "
                                "Mayotte), territoires estimés par pmq (voir docs/territories.md)"))
    parser.add_argument("--key", default=None, metavar=tr("FILE", "FICHIER"),
                        help=tr("your own downscaling key (parent, child, metier, weight) splitting the territories "
                                "of --level (those it does not name stay as they are)",
                                "votre propre clé de répartition (parent, child, metier, weight), qui découpe les "
                                "territoires de --level (ceux qu'elle ne nomme pas restent tels quels)"))


def _lang(text: str) -> str:
    """``--lang``: ``fr`` or ``en``, case and spaces ignored (``--lang=EN``); another value is left to ``choices``."""
    return str(text).strip().lower()


def _lang_option(parser, default: str = "fr") -> None:
    """``--lang``: the language of everything the command prints and writes; ``default``: the command line's
    (``PMQ_LANG``, else French: :func:`command_lang`)."""
    parser.add_argument("--lang", type=_lang, choices=LANGS, default=default,
                        help=tr("language of what is printed and written: 'fr' or 'en' (default: fr, or the PMQ_LANG "
                                "environment variable)",
                                "langue de ce qui est affiché et écrit : 'fr' ou 'en' (par défaut : fr, ou la variable "
                                "d'environnement PMQ_LANG)"))


def _csv_sep(text: str):
    """``--csv-sep``: ``,`` (the default, decimal point) or ``;`` (decimal comma), or their names."""
    from pmq.errors import ArgumentError
    from pmq.outputs import csv_dialect_of
    try:
        return csv_dialect_of(text, name="--csv-sep")
    except ArgumentError:
        raise argparse.ArgumentTypeError(tr(
            f"must be ',' (comma, decimal point: the default) or ';' (semicolon, decimal comma, which French Excel "
            f"opens directly), got {text!r}",
            f"doit valoir ',' (virgule, point décimal : le défaut) ou ';' (point-virgule, virgule décimale, que la "
            f"version française d'Excel ouvre directement), reçu {text!r}")) from None


def _csv_option(parser) -> None:
    """``--csv-sep``: the separator (and decimal mark) of the CSV files the command writes (read by :func:`main`,
    which sets :func:`pmq.outputs.csv_dialect` for the command)."""
    parser.add_argument("--csv-sep", type=_csv_sep, default=None, metavar="SEP",
                        help=tr("separator of the CSV files written: ',' (default, with a decimal point) or ';' (with "
                                "a decimal comma, which French Excel opens directly; quote it in the shell: --csv-sep "
                                "';'). Every CSV file is UTF-8 with BOM",
                                "séparateur des fichiers CSV écrits : ',' (par défaut, avec un point décimal) ou ';' "
                                "(avec une virgule décimale, que la version française d'Excel ouvre directement ; "
                                "entre guillemets dans le terminal : --csv-sep ';'). Tous les fichiers CSV sont en "
                                "UTF-8 avec BOM"))


def _csv_context(args):
    """The :func:`pmq.outputs.csv_dialect` of ``--csv-sep`` for the command (nothing to set without it); a
    ``--csv-sep`` given to a command that writes no CSV file (no ``--out``) is refused, naming it."""
    import contextlib
    dialect = getattr(args, "csv_sep", None)
    if dialect is None:
        return contextlib.nullcontext()
    if getattr(args, "out", "") is None:
        from pmq.errors import ArgumentError
        raise ArgumentError(tr("sets the separator of the CSV files written with --out; without --out this command "
                               "writes none: add --out DIR",
                               "fixe le séparateur des fichiers CSV écrits avec --out ; sans --out, cette commande "
                               "n'en écrit aucun : ajoutez --out DOSSIER"), name="--csv-sep", value=dialect.sep)
    from pmq.outputs import csv_dialect
    return csv_dialect(*dialect)


def _baseline_and_scenarios(args, horizon=None):
    """The baseline (embedded or ``--data``) and every ``args.scenarios`` read against its
    territory names: what compare, report and export start from."""
    baseline = _baseline(args)
    terr = _territories(baseline)
    scenarios = [_scenario(s, baseline, horizon, terr) for s in args.scenarios]
    _check_distinct_names(args.scenarios, scenarios)
    _warn_implausible(scenarios, args.scenarios, baseline, args.lang)
    return baseline, scenarios


def _check_distinct_names(typed, scenarios) -> None:
    """Refuse two scenarios of one run with the same ``[scenario] name`` (their columns, sheets and series would
    collide), naming both as typed, the name and which ``name`` to change: the copy's (``pmq scenarios --copy``
    keeps the built-in's name), else the second file's."""
    from pmq.errors import ScenarioError
    from pmq.scenario.read import is_builtin
    seen: dict = {}                     # name → (as typed, scenario)
    for t, sc in zip(typed, scenarios):
        if sc.name not in seen:
            seen[sc.name] = (str(t), sc)
            continue
        first, other = seen[sc.name]
        if Path(str(other.source)).resolve() == Path(str(sc.source)).resolve():
            raise ScenarioError(tr(f"scenario names must be distinct in one run: {first} and {t} are the same "
                                   "scenario, given twice",
                                   f"les noms des scénarios d'une même projection doivent être distincts : {first} et "
                                   f"{t} sont le même scénario, donné deux fois"), key="scenario.name", value=sc.name)
        # the file to rename: a user's file rather than a built-in, the second given when both are the user's
        copy, renamed = (first, other) if is_builtin(sc.source) and not is_builtin(other.source) else (str(t), sc)
        stem = Path(str(renamed.source)).stem
        names = {x.name for x in scenarios}
        suggest = stem if stem not in names else next(f"{sc.name}_{i}" for i in range(2, 100)
                                                      if f"{sc.name}_{i}" not in names)
        raise ScenarioError(tr(f"scenario names must be distinct in one run: {first} and {t} are both named "
                               f"{sc.name!r}; give {copy} a name of its own in its [scenario] section, e.g. "
                               f"name = \"{suggest}\" (a copy made with pmq scenarios --copy keeps the name of the "
                               "scenario it copies; a file that extends another without a name takes its name)",
                               f"les noms des scénarios d'une même projection doivent être distincts : {first} et "
                               f"{t} s'appellent tous deux {sc.name!r} ; donnez à {copy} un nom à lui dans sa section "
                               f"[scenario], par exemple name = \"{suggest}\" (une copie faite avec pmq scenarios "
                               "--copy garde le nom du scénario copié ; un fichier qui en étend un autre sans nom "
                               "prend son nom)"),
                            source=copy, key="scenario.name", value=sc.name)


def _territories(baseline):
    from pmq.scenario.levers import Context
    return Context.from_baseline(baseline).territory_aliases


ENSEMBLE_FILES = ("quantiles_national.csv", "quantiles_regions.csv", "parameters.csv")


def _dask_installed() -> bool:
    """Whether the dask extra (dask.array and zarr) can be imported."""
    try:
        import dask.array  # noqa: F401
        import zarr  # noqa: F401
    except ImportError:
        return False
    return True


def _ensemble_streamed(args) -> bool:
    """True: draws streamed to ensemble.zarr by dask; False: computed in memory (numpy) and
    written to ensemble.nc — what happens without the dask extra when no --scheduler is asked."""
    from pmq.projection.ensemble import DASK_INSTALL
    from pmq.errors import ArgumentError, MissingDependencyError
    sched = args.scheduler
    if sched is None:
        return _dask_installed()
    if not (sched in ("threads", "sync", "synchronous", "processes") or "://" in sched
            or re.fullmatch(r"[\w.-]+:\d+", sched)):
        raise ArgumentError(tr("unknown scheduler: use threads, sync, processes or a dask.distributed address "
                               "(tcp://host:port)",
                               "ordonnanceur inconnu : choisissez threads, sync, processes ou l'adresse d'un "
                               "dask.distributed (tcp://hôte:port)"), name="--scheduler", value=sched)
    if not _dask_installed():
        raise MissingDependencyError(tr(
            f"--scheduler {sched}: dask schedulers need the optional dask extra (dask, distributed, zarr), not "
            f"installed: {DASK_INSTALL}; without --scheduler, pmq run computes the draws in memory and writes "
            "ensemble.nc",
            f"--scheduler {sched} : les ordonnanceurs de dask demandent la dépendance facultative dask (dask, "
            f"distributed, zarr), qui n'est pas installée : {DASK_INSTALL} ; sans --scheduler, pmq run calcule les "
            "tirages en mémoire et écrit ensemble.nc"))
    return True


def cmd_run(args) -> int:
    from pmq.projection.run import project

    if args.draws is not None:
        from pmq.projection.ensemble import ensemble_files
        streamed = _ensemble_streamed(args)
        _check_out(args.out, ("ensemble.zarr" if streamed else "ensemble.nc",) + ENSEMBLE_FILES)
    else:
        out = _check_out(args.out, ("accounts.nc", "summary.csv"))
    baseline = _baseline(args)
    if args.draws is not None:           # the territories' file is named by the baseline's level
        out = _check_out(args.out, ("ensemble.zarr" if streamed else "ensemble.nc",)
                         + ensemble_files(baseline.attrs.get("level")))
    scenario = _scenario(args.scenario, baseline, args.horizon)
    _warn_implausible([scenario], [args.scenario], baseline, args.lang)
    if args.draws is not None:
        return _run_ensemble(args, baseline, scenario, out, streamed)
    proj = project(baseline, scenario, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    # the horizon sums, once, for summary.csv and the summary printed (each would compute them again)
    from pmq.projection.summary import scenario_summary_table, summarize
    h = proj.horizons()
    table = scenario_summary_table(h)

    class Computed:  # what _write_outputs reads of the projection, the table made from those horizons
        to_netcdf = staticmethod(proj.to_netcdf)
        summary_table = staticmethod(lambda: table)

    written = _write_outputs(Computed, out)
    print(summarize(proj.accounts, h, lang=args.lang))
    _written(written, args.lang)
    return 0


def _write_ensemble_nc(ens, path) -> None:
    """The draws as netCDF (h5netcdf, a core dependency), compressed; attrs say what they are."""
    ds = ens.flows.copy()
    ds.attrs.update(n_draws=ens.n_draws, seed=ens.seed, scenario=str(ens.context.spec.source),
                    units="persons", note="age-summed stocks and flows per draw (pmq run --draws, in memory)")
    ds.to_netcdf(path, engine="h5netcdf", encoding={k: {"zlib": True, "complevel": 1} for k in ds.data_vars})


def _run_ensemble(args, baseline, scenario, out: Path, streamed: bool) -> int:
    import contextlib

    from pmq.projection.ensemble import check_memory, local_scheduler
    from pmq.outputs import remove_temporary, temporary_folder

    if not scenario.lever_list("uncertainty.parameter"):
        print(tr("pmq: note: the scenario has no [[uncertainty.parameter]]; every draw is the deterministic run",
                 "pmq : note : le scénario n'a pas de [[uncertainty.parameter]] ; chaque tirage est la projection "
                 "déterministe"), file=sys.stderr)
    workers = 1 if not streamed or args.scheduler in ("sync", "synchronous") else (os.cpu_count() or 2)
    check_memory(baseline, scenario, args.draws, None, args.chunk, streamed=streamed, workers=workers,
                 max_memory=args.max_memory, name="--draws")          # before any work (run_ensemble checks again)
    if not streamed:
        print(tr("pmq: note: dask is not installed: the draws are computed in memory and written to ensemble.nc "
                 "(netCDF)", "pmq : note : dask n'est pas installé : les tirages sont calculés en mémoire et écrits "
                 "dans ensemble.nc (netCDF)"), file=sys.stderr)
    stream = sys.stderr
    chunks = tr("chunks of draws", "paquets de tirages")

    def progress(done, total):
        stream.write(f"\r  ensemble  {done}/{total} {chunks}")
        if done == total:
            stream.write("\n")
        stream.flush()

    tmp = temporary_folder(out, "ens") if streamed else None
    try:
        with local_scheduler(args.scheduler) if streamed else contextlib.nullcontext():
            return _ensemble_outputs(args, baseline, scenario, out, streamed, tmp, progress)
    finally:
        if tmp is not None:
            remove_temporary(tmp)


def _ensemble_outputs(args, baseline, scenario, out: Path, streamed: bool, tmp, progress) -> int:
    """The ensemble's run and its files (:func:`_run_ensemble`, which cleans ``tmp`` up)."""
    from pmq.projection.ensemble import run_ensemble
    from pmq.outputs import write_atomically

    ens = run_ensemble(scenario, baseline, draws=args.draws, seed=args.seed, horizon=args.horizon,
                       chunk=args.chunk, store=tmp / "ensemble.zarr" if tmp is not None else None,
                       scheduler=(args.scheduler or "threads") if streamed else None, progress=progress,
                       max_memory=args.max_memory)
    lang = getattr(args, "lang", None)
    qn = ens.quantiles(lang=lang).to_dataframe().reset_index()
    qr = ens.quantiles(by="territory", lang=lang).to_dataframe().reset_index()
    nat_csv, terr_csv, par_csv = ens.files
    summary = ens.summary(lang=args.lang)
    if tmp is not None:     # streamed
        ens.flows.close()
        zarr_store = tmp / "ensemble.zarr"
        store = {"ensemble.zarr": lambda p: os.replace(zarr_store, p)}
    else:
        store = {"ensemble.nc": lambda p: _write_ensemble_nc(ens, p)}
    written = write_atomically(out, {
        **store,
        nat_csv: lambda p: qn.to_csv(p, index=False, float_format="%.3f"),
        terr_csv: lambda p: qr.to_csv(p, index=False, float_format="%.3f"),
        par_csv: lambda p: ens.parameters.to_csv(p, float_format="%.6g"),
    })
    print(summary)
    _written(written, args.lang)
    return 0


def _print_compare(table, names, stream=None, territory_names=None, where=None, lang: str = "fr") -> None:
    """The headline table of ``compare`` on ``stream``: the « Ensemble » rows when the table has several
    territories, else its one territory; ``where`` names what is shown (default: the territory's name, or
    « Ensemble des territoires »).  Domains by their code and label, numbers in thousands as ``lang`` writes
    them (« 1 939,6 » in French)."""
    from pmq.formatting import format_number
    from pmq.labels import domain_label, text
    en = lang == "en"
    stream = stream or sys.stdout
    terr = table["territory"].unique()
    show = table[table["territory"] == ("Ensemble" if "Ensemble" in terr else terr[0])]
    if where is None:
        where = ("All territories" if en else "Ensemble des territoires") if "Ensemble" in terr else str(terr[0])
        if where in (territory_names or {}):                         # the name, then the code
            where = f"{territory_names[where]} ({where})"
    horizon = show["horizon"].iloc[0]
    print(f"Scenario comparison — {horizon} — {where} (thousand persons)" if en else
          f"Comparaison de scénarios — {horizon} — {where} (milliers de personnes)", file=stream)
    codes = [str(d) for d in show["domain"]]
    labels = domain_label(codes, lang)
    rows = [f"{c} {lab}" if lab != c else ("All" if en and c == "Ensemble" else c) for c, lab in zip(codes, labels)]
    rows = [r if len(r) <= 34 else r[:33] + "…" for r in rows]
    lw = max(len("domain"), *(len(r) for r in rows)) + 2
    for var in ("employment_end", "openings", "departures", "imbalance"):
        cols = [f"{var} | {n}" for n in names] + [f"{var} | Δ {n} − {names[0]}" for n in names[1:]]
        heads = names + [f"Δ {n}" for n in names[1:]]
        w = max(10, *(len(h) + 1 for h in heads))
        print(f"\n{text(var, lang)}", file=stream)
        print(f"{'domain' if en else 'domaine':<{lw}}" + "".join(f"{h:>{w}}" for h in heads), file=stream)
        for label, (_, row) in zip(rows, show.iterrows()):
            print(f"{label:<{lw}}" + "".join(f"{format_number(row[c], 1, lang, scale=1e-3, sign='Δ' in c):>{w}}"
                                             for c in cols), file=stream)


def _territory_names(acc) -> dict[str, str]:
    """``{territory code: name}`` of the accounts (the code itself without names)."""
    codes = [str(t) for t in acc.territory.values]
    names = acc["territory_name"].values if "territory_name" in acc.coords else codes
    return dict(zip(codes, map(str, names)))


def cmd_compare(args) -> int:
    from pmq.outputs import write_atomically
    from pmq.projection.compare import project_many

    out = _check_out(args.out, ("compare_domains.csv", "compare_metiers.csv")) if args.out else None
    baseline, scenarios = _baseline_and_scenarios(args, args.horizon)
    picked = _pick_territories(args.territory, baseline)
    codes = list(dict.fromkeys(c for p in picked for c in p.codes))
    national = any(p.national for p in picked)
    comp = project_many(scenarios, baseline, horizon=args.horizon, ages=False,   # the tables need no ages
                        progress=_progress_printer(sys.stderr))
    # FR: the national total, the « Ensemble » rows of every territory (beside the territories also asked for)
    only = None if national or not codes else codes
    table = comp.table(horizon=args.horizon, territory=only, lang=args.lang)
    by_metier = comp.table(horizon=args.horizon, territory=only, by="metier", lang=args.lang)
    if national and "Ensemble" in set(table["territory"]):
        table = table[table["territory"].isin({"Ensemble", *codes})].reset_index(drop=True)
        by_metier = by_metier[by_metier["territory"].isin({"Ensemble", *codes})].reset_index(drop=True)
    where = None
    if national:
        from pmq.projection.indicators import national as national_total
        code, name, _ = national_total(comp.accounts, args.lang)
        where = f"{name} ({code})" if code == "FR" else name
    elif len(picked) == 1 and picked[0].group:      # a région at --level departement: the sum of its départements
        n = _children_word(baseline, len(codes), args.lang)
        where = tr(f"{picked[0].label}: the sum of its {n}", f"{picked[0].label} : somme de ses {n}")
    elif len(codes) > 1:
        labels = f"{', '.join(p.label for p in picked[:4])}{' …' if len(picked) > 4 else ''}"
        where = tr(f"all {len(codes)} territories chosen ({labels})",
                   f"ensemble des {len(codes)} territoires choisis ({labels})")
    written = []
    if out is not None:
        # the territory's name beside its code (as summary.csv): « Ensemble », the sum of the rows' territories
        if only is None:
            from pmq.projection.indicators import national as national_total
            whole = national_total(comp.accounts, args.lang)[1]
        elif len(picked) == 1 and picked[0].group:
            whole = picked[0].label
        else:
            whole = "Ensemble des territoires choisis" if args.lang == "fr" else "All the territories chosen"
        names = _territory_names(comp.accounts) | {"Ensemble": whole}
        files = {"compare_domains.csv": table, "compare_metiers.csv": by_metier}
        files = {n: t.assign(territory_name=t["territory"].astype(str).map(names).fillna(t["territory"].astype(str)))
                 for n, t in files.items()}
        files = {n: t[[*t.columns[:2], "territory_name", *t.columns[2:-1]]] for n, t in files.items()}
        written = write_atomically(out, {
            n: (lambda p, t=t: t.to_csv(p, index=False, float_format="%.3f")) for n, t in files.items()})
    _print_compare(table, comp.names, territory_names=dict(zip(
        [str(t) for t in baseline.territory.values],
        [str(n) for n in (baseline["territory_name"].values if "territory_name" in baseline.coords
                          else baseline.territory.values)])), where=where, lang=args.lang)
    _written(written, args.lang)
    return 0


def _copy_files(files: dict, args) -> list[Path]:
    """Copy ``files`` (``{name: file of the installed package}``) as they are shipped into the folder ``--out``
    (made if missing), all or nothing (:func:`pmq.outputs.write_atomically`; a CSV file also gets a byte-order mark
    and text fields through :func:`pmq.outputs.finish_csv`).  A file that exists already is never replaced: every
    name is checked first, and one that exists stops the command (exit 2) naming it, with nothing written."""
    from pmq.errors import OutputError
    from pmq.outputs import write_atomically
    folder = Path(os.path.abspath(os.fspath(args.out)))          # existing files first: their own message
    there = [folder / n for n in files if os.path.lexists(folder / n)]
    if there:
        others = ", ".join(p.name for p in there[1:])
        raise OutputError(tr(f"already exists{f' (and {others})' if others else ''}: pmq copies its files without "
                             "replacing any, so nothing was written; move it away or choose another --out",
                             f"existe déjà{f' (ainsi que {others})' if others else ''} : pmq copie ses fichiers sans "
                             "en remplacer aucun, donc rien n'a été écrit ; déplacez-le ou choisissez un autre --out"),
                          path=there[0])
    out = _check_out(args.out, tuple(files))
    return write_atomically(out, {n: (lambda p, src=src: shutil.copyfile(src, p)) for n, src in files.items()})


def _copy_scenarios(args) -> int:
    """``pmq scenarios --copy NAME… --out DIR``: the built-in scenario files, as shipped, to start from."""
    from pmq.errors import ArgumentError, UnknownNameError
    from pmq.names import resolve
    from pmq.scenario.read import RENAMED, builtin_scenarios
    if not args.copy:
        raise ArgumentError(tr("goes with --copy NAME…: the folder the copies of built-in scenarios are written "
                               "into (pmq scenarios alone lists them)",
                               "va avec --copy NOM… : le dossier où sont écrites les copies des scénarios intégrés "
                               "(pmq scenarios seul les liste)"), name="--out", value=args.out)
    if args.out is None:
        raise ArgumentError(tr("needs --out DIR, the folder to copy the scenario files into",
                               "demande --out DOSSIER, le dossier où copier les fichiers de scénario"), name="--copy",
                            value=" ".join(args.copy))
    builtins = builtin_scenarios()
    names = []
    for value in args.copy:
        text = str(value).strip()
        text = text[:-5] if text.lower().endswith(".toml") else text
        text = RENAMED.get(text, text)
        try:
            names.append(resolve(text, {k: [] for k in builtins}, kind="built-in scenario"))
        except UnknownNameError as exc:
            raise ArgumentError(tr(f"{exc} (the built-in scenarios: {', '.join(builtins)})",
                                   f"{exc} (les scénarios intégrés : {', '.join(builtins)})"), name="--copy",
                                value=value) from None
    files = {f"{n}.toml": builtins[n] for n in dict.fromkeys(names)}
    written = _copy_files(files, args)
    _written(written, args.lang)
    for name, src in files.items():
        parent = tomllib.loads(src.read_text(encoding="utf-8")).get("scenario", {}).get("extends")
        if parent:
            print(f"note : {name} étend le scénario intégré « {parent} » (extends = \"{parent}\") ; pour étendre "
                  f"une copie de {parent}, copiez-le aussi et écrivez extends = \"{parent}.toml\"" if args.lang == "fr"
                  else f"note: {name} extends the built-in scenario \"{parent}\" (extends = \"{parent}\"); to extend "
                       f"a copy of {parent} instead, copy it too and write extends = \"{parent}.toml\"")
    # what makes a copy the user's own: its name (a copy keeps the built-in's, which compare refuses beside it),
    # its titles, and the provenance of every lever changed (a built-in's source does not vouch for new figures)
    first = shlex.quote(str(Path(args.out) / next(iter(files))))
    print("à faire dans chaque copie : changez name (la copie garde le nom du scénario intégré ; deux scénarios "
          "comparés doivent avoir des noms distincts), title_fr et title_en ; pour chaque levier que vous modifiez, "
          "remplacez sa source et son hypothèse (source, assumption, basis… et leurs versions _fr, _en) par les "
          f"vôtres ; puis : pmq validate {first}" if args.lang == "fr" else
          "to do in each copy: change name (the copy keeps the built-in's name; scenarios compared must have "
          "distinct names), title_fr and title_en; for each lever you change, replace its source and assumption "
          f"(source, assumption, basis… and their _fr, _en versions) with your own; then: pmq validate {first}")
    return 0


def cmd_templates(args) -> int:
    """``pmq templates --out DIR``: the templates of the long tables of one's own data (pmq/data/templates/), their
    notes in the command's language (the French ones from pmq/data/templates/fr/: README, the illustrative
    transitions' note and labels; the tables' column names are identifiers, the same in both)."""
    from pmq.data import data_path
    folder = data_path("templates")
    files = {f.name: f for f in sorted(folder.iterdir()) if f.is_file() and not f.name.startswith((".", "_"))}
    if args.lang == "fr":
        files.update({n: folder / "fr" / n for n in files if (folder / "fr" / n).is_file()})
    written = _copy_files(files, args)
    _written(written, args.lang)
    out = shlex.quote(str(args.out))
    print(f"à remplir, puis : pmq run reference --data {out} (colonnes : docs/user_data.md)" if args.lang == "fr" else
          f"fill them in, then: pmq run reference --data {out} (columns: docs/user_data.md)")
    return 0


def cmd_scenarios(args) -> int:
    """The built-in scenarios, names and titles; with ``--copy NAME… --out DIR``, copies of their files."""
    from pmq.scenario.read import builtin_scenarios, read_scenario
    if getattr(args, "copy", None) is not None or getattr(args, "out", None) is not None:
        return _copy_scenarios(args)
    rows = []
    for name in builtin_scenarios():
        sc = read_scenario(name)
        rows.append((name, sc.title_fr if args.lang == "fr" else sc.title_en))
    w = max(len(r[0]) for r in rows) + 2
    for name, title in rows:
        print(f"{name:<{w}}{title}")
    return 0


def cmd_territories(args) -> int:
    """The territories of a level (codes, names, parents), optionally within one région."""
    from pmq.data.territories import region_aliases, territories
    from pmq.errors import ArgumentError, UnknownNameError
    from pmq.names import resolve
    t = territories(args.level)
    regions = territories("region").set_index("code")["name"].to_dict()
    deps = territories("departement").set_index("code")["name"].to_dict()
    if args.region is not None:
        choices = region_aliases()
        try:
            code = resolve(args.region, choices, kind="région", display={c: f"{n[0]} ({c})" for c, n in choices.items()})
        except UnknownNameError as exc:
            raise ArgumentError(str(exc), name="--region", value=args.region) from None
        t = t[t["region"] == code]
    en = args.lang == "en"
    head = (("code", "name", "region", "departement", "estimated") if en
            else ("code", "nom", "région", "département", "estimé"))
    rows = [(r.code, r.name, regions.get(r.region, r.region),
             deps.get(r.departement, "") if args.level == "zone_emploi" else "",
             ("yes" if en else "oui") if r.estimated_territory else "") for r in t.itertuples()]
    widths = [max(len(h), *(len(str(x[i])) for x in rows)) + 2 if rows else len(h) + 2 for i, h in enumerate(head)]
    keep = [i for i, h in enumerate(head) if any(x[i] for x in rows) or i < 2]
    print("".join(f"{head[i]:<{widths[i]}}" for i in keep).rstrip())
    for x in rows:
        print("".join(f"{str(x[i]):<{widths[i]}}" for i in keep).rstrip())
    n = len(rows)
    word = {"region": ("région", "régions"), "departement": ("département", "départements"),
            "zone_emploi": ("zone d'emploi (partie par département)", "zones d'emploi (parties par département)")}
    word_en = {"region": ("région", "régions"), "departement": ("département", "départements"),
               "zone_emploi": ("zone d'emploi (part by département)", "zones d'emploi (parts by département)")}
    print(f"{n} {(word_en if en else word)[args.level][n != 1]}")
    return 0


def cmd_validate(args) -> int:
    """Every check ``pmq run`` makes, without writing anything: the file, the levers applied to
    the baseline's arrays, the [uncertainty] section (as ``--draws``) and the projection itself
    (a lever that empties a cell, flows larger than the stock); each file is reported.  And the size of the
    levers, which ``pmq run`` only warns about: a métier moved from the reference beyond the scenario's
    plausibility bound (:func:`_implausible`) makes the file invalid, the métiers listed in ``--lang``."""
    from pmq.projection.ensemble import check_uncertainty
    from pmq.projection.run import project
    from pmq.scenario.read import LEVER_SECTIONS

    baseline = _baseline(args)
    terr = _territories(baseline)
    failed = 0
    for f in args.files:
        try:
            sc = _scenario(f, baseline, args.horizon, terr)
            check_uncertainty(sc, baseline)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")     # the run's warnings are not the file's problems,
                warnings.simplefilter("always", InactiveLeverWarning)   # but a lever without effect is
                project(baseline, sc)
            # a lever far too big (a number 1 000 times too large) runs: only its size against the bound tells
            implausible = _implausible(sc, baseline, args.lang)
        except PmqError as exc:
            if getattr(args, "debug", False):
                import traceback
                traceback.print_exc()
            print(f"{_error_prefix()}{exc}", file=sys.stderr)
            failed += 1
            continue
        if len(implausible):
            print(f"{_error_prefix()}{_implausible_report(sc, f, implausible, args.lang)}", file=sys.stderr)
            failed += 1
            continue
        n = sum(len(sc.lever_list(k)) for k in LEVER_SECTIONS)
        if args.lang == "fr":
            print(f"{f} : valide — {sc.name} {quoted(sc.title_in('fr'))}, {n} levier{'s' if n > 1 else ''}, "
                  f"empreinte {sc.hash}")
        else:
            print(f"{f}: valid — {sc.name} \"{sc.title_in('en')}\", {n} lever{'s' if n != 1 else ''}, hash {sc.hash}")
    if failed and len(args.files) > 1:
        print(tr(f"pmq: {failed} of {len(args.files)} file(s) invalid",
                 f"pmq : {failed} fichier{'s' if failed > 1 else ''} sur {len(args.files)} "
                 f"invalide{'s' if failed > 1 else ''}"), file=sys.stderr)
    return 2 if failed else 0


def cmd_reproduce(args) -> int:
    from pmq.analysis.reproduce import get_exercise
    from pmq.outputs import write_atomically

    exercise = get_exercise(args.exercise)  # an unknown name fails before any work
    stem = f"{str(args.exercise).strip().lower()}_differences"
    out = _check_out(args.out, (f"{stem}.csv", f"{stem}.xlsx")) if args.out else None
    baseline = _baseline(args) if args.data else None
    rep = exercise(baseline=baseline, progress=_progress_printer(sys.stderr))
    written = write_atomically(out, rep.writers(args.lang)) if out is not None else []
    print(rep.table(args.lang))
    _written(written, args.lang)
    return 0


def cmd_imbalance(args) -> int:
    from pmq.analysis import imbalance as im
    from pmq.formatting import format_percent
    from pmq.labels import metier_label
    from pmq.outputs import write_atomically
    from pmq.projection.indicators import national
    from pmq.projection.run import project

    out = _check_out(args.out, ("imbalance.csv", "watch_list.csv")) if args.out else None
    baseline = _baseline(args)
    picked = _pick_territories(args.territory, baseline)
    codes = {c for p in picked for c in p.codes} | ({"FR"} if any(p.national for p in picked) else set())
    sc = _scenario(args.scenario, baseline, args.horizon)
    _warn_implausible([sc], [args.scenario], baseline, args.lang)
    proj = project(baseline, sc, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    table = im.imbalance_table(proj, horizon=args.horizon, lang=args.lang)
    if args.territory:
        table = table[table["territory"].isin(codes)]
    for name in ("dares", "cops", "roa"):
        table[f"class_{name}"] = im.classify(table, name, lang=args.lang)
    watch = im.watch_list(table, n=args.top, lang=args.lang)
    written = []
    if out is not None:
        from pmq.export.tables import write_table_csv       # persons to 3 decimals, shares and ratios to 6
        written = write_atomically(out, {
            "imbalance.csv": lambda p: write_table_csv(table, p),
            "watch_list.csv": lambda p: write_table_csv(watch, p),
        })
    period = table["period"].iloc[0]
    en = args.lang == "en"
    print(f"Occupations to watch — {sc.title_en} — {period} (imbalance as a % of initial employment)" if en else
          f"Métiers à surveiller — {sc.title_fr} — {period} (déséquilibre en % de l'emploi initial)")
    for p in picked:
        if p.group:                 # a région (département) name at a lower level: its children
            n = _children_word(baseline, len(p.codes), args.lang)
            print(f"{p.typed}: the {n} of {p.label}" if en else f"{p.typed} : les {n} de {p.label}")
    labels = im.PRESETS["dares"].labels_en if en else im.PRESETS["dares"].labels_fr
    by_code = dict(tuple(watch.groupby("territory", sort=False)))
    for code, t in table.groupby("territory", sort=True):   # the watch list's order (by code)
        estimated = "estimated" in t and bool(t["estimated"].all())
        tname = national(baseline, args.lang)[1] if code == "FR" else t["territory_name"].iloc[0]
        print(f"\n{tname} ({code})"
              + ((" — figures estimated by pmq" if en else " — chiffres estimés par pmq") if estimated else ""))
        g = by_code.get(code)
        if g is None:               # say why the list is empty rather than print nothing
            if t["tension"].isna().all():
                print("  no métier to watch: this territory has no 2019 tension class (DARES publishes none for "
                      "it), without which the DARES typology classes no métier" if en else
                      "  aucun métier à surveiller : ce territoire n'a pas de classe de tension 2019 (la DARES n'en "
                      "publie pas pour lui), sans laquelle la typologie DARES ne classe aucun métier")
            else:
                print(f"  no métier in the classes \"{labels['accentuer']}\" or \"{labels['nouvelles']}\" over "
                      f"{period}" if en else f"  aucun métier dans les classes « {labels['accentuer']} » ou "
                      f"« {labels['nouvelles']} » sur {period}")
            continue
        # the reader's language: « +47,1 % » (narrow no-break spaces, true minus) in French, « +47.1% » in English;
        # the métier's label in English from the nomenclature (the table's label is the data's, in French)
        names = (metier_label(g["metier"], "en", labels=[str(x) for x in g["metier_label"]]) if en
                 else [str(x) for x in g["metier_label"]])
        for name, (_, r) in zip(names, g.iterrows()):
            mark = f" ({r['reliability_label']})" if int(r.get("reliability", 0)) >= 1 else ""
            pct = format_percent(r["imbalance_pct"], 1, lang=args.lang, sign=True)
            print(f"  {r['rank']:>2}. {r['metier']} {name[:60]:<60} {pct:>8}  {r['class']}{mark}")
    if "estimated" in watch and watch["estimated"].any():
        print("\nEstimated figures: a share of the région by pmq's key, or an overseas région; the reliability "
              "classes (in brackets, and in the CSV files' reliability columns) are explained in docs/territories.md"
              if en else
              "\nChiffres estimés : part de la région selon la clé de pmq, ou région d'outre-mer ; les classes de "
              "fiabilité (entre parenthèses, et dans les colonnes reliability des CSV) sont expliquées dans "
              "docs/territories.md")
    _written(written, args.lang)
    return 0


# ------------------------------------------------------------------------- compétences (ROME 4.0)
#: ``pmq skills --by``: the command's names → :data:`pmq.analysis.skills.BY` (green, digital: the fiches' classes).
SKILLS_BY = {"macro_competence": "macro_competence", "savoir_categorie": "savoir_categorie",
             "savoir_etre": "savoir_etre", "fiche": "fiche", "green": "transition_eco", "digital": "transition_num"}


def _written(paths, lang: str) -> None:
    for w in paths:
        print(f"écrit : {w}" if lang == "fr" else f"written: {w}")


def _where(picked, baseline, lang: str):
    """``(territory argument of pmq.analysis.skills, title)`` of the ``--territory`` picked (None: France)."""
    from pmq.projection.indicators import national
    codes = list(dict.fromkeys(c for p in picked for c in p.codes))
    if not codes or any(p.national for p in picked):
        code, name, _ = national(baseline, lang)
        return None, (f"{name} ({code})" if code == "FR" else name)
    if len(picked) == 1 and picked[0].group:
        n = _children_word(baseline, len(codes), lang)
        return codes, (f"{picked[0].label}: the sum of its {n}" if lang == "en" else
                       f"{picked[0].label} : somme de ses {n}")
    return (codes[0] if len(codes) == 1 else codes), ", ".join(p.label for p in picked)


def _metier_code(value: str, baseline, name: str = "MÉTIER") -> str:
    """The métier ``value`` names among the baseline's (code or label), checked before any work; an unknown one
    is refused naming the argument and the closest codes."""
    from pmq.errors import ArgumentError, UnknownNameError
    from pmq.labels import metier_label
    from pmq.names import resolve
    codes = [str(m) for m in baseline.metier.values]
    own = [str(x) for x in baseline["metier_label"].values] if "metier_label" in baseline.coords else None
    choices = {c: [fr, en] for c, fr, en in zip(codes, metier_label(codes, "fr", labels=own),
                                                metier_label(codes, "en", labels=own))}
    try:
        return resolve(value, choices, kind="métier")
    except UnknownNameError as exc:
        raise ArgumentError(tr(f"{exc} (pmq's métier codes: pmq.data.metiers())",
                               f"{exc} (les codes métier de pmq : pmq.data.metiers())"), name=name, value=value) from None


def cmd_passerelles(args) -> int:
    from pmq.analysis.skills import passerelles
    from pmq.formatting import format_number, format_percent
    from pmq.outputs import write_atomically
    from pmq.projection.run import project

    lang = args.lang
    en = lang == "en"
    out = _check_out(args.out, ("passerelles.csv",)) if args.out else None
    baseline = _baseline(args)
    code = _metier_code(args.metier, baseline, tr("OCCUPATION", "MÉTIER"))
    picked = _pick_territories([args.territory] if args.territory else [], baseline)
    territory, where = _where(picked, baseline, lang)
    sc = _scenario(args.scenario, baseline, args.horizon)
    _warn_implausible([sc], [args.scenario], baseline, args.lang)
    proj = project(baseline, sc, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    table = passerelles(proj, code, territory=territory, horizon=args.horizon, top=args.top, lang=lang)
    written = []
    if out is not None:
        written = write_atomically(out, {
            "passerelles.csv": lambda p: table.to_csv(p, index=False, encoding="utf-8-sig")})
    label = table.attrs["column_labels"]
    period = table.attrs["period"]
    mlabel = table["metier_label"].iloc[0] if len(table) else code
    print(f"Career moves from {code} \"{mlabel}\" — {where} — {period} — scenario \"{sc.title_en}\"" if en else
          f"Passerelles depuis {code} « {mlabel} » — {where} — {period} — scénario {quoted(sc.title_fr)}")
    print("Occupations close in content (ROME 4.0 mobilities), ranked by their projected imbalance (share of "
          "initial employment)" if en else
          "Métiers proches par leur contenu (mobilités du ROME 4.0), classés par leur déséquilibre potentiel "
          "(en % de l'emploi initial)")
    if table.empty:
        print("  no destination above 1 % of the métier's mobilities" if en else
              "  aucune destination au-dessus de 1 % des mobilités du métier")
    else:
        print(f"  {'':>3} {label['target']:<60} {'link' if en else 'lien':>7} {'imbalance' if en else 'déséquilibre':>13}"
              f" {'persons' if en else 'personnes':>10}  {label['class_dares']}")
    for _, r in table.iterrows():
        name = f"{r['target']} {r['target_label']}"
        name = name if len(name) <= 60 else name[:59] + "…"
        print(f"  {r['rank']:>2}. {name:<60} {format_percent(r['strength'], 1, lang):>7} "
              f"{format_percent(r['imbalance_pct'], 1, lang, sign=True):>13} "
              f"{format_number(r['imbalance'], 0, lang, sign=True):>10}  {r['class_dares'] or '–'}")
    n = table.attrs["n_destinations"]
    self_link = format_percent(table.attrs["self_strength"], 1, lang)
    if len(table) and (table["class_dares"] == "").all():
        print("– : no DARES class for a sum of territories" if en else
              "– : pas de classe DARES pour une somme de territoires")
    print(f"{n} destination(s) with a link of 1% or more; links within {code} itself (between its own fiches): "
          f"{self_link}" if en else
          f"{n} destination(s) liée(s) à 1 % au moins ; liens internes à {code} (entre ses propres fiches) : "
          f"{self_link}")
    _written(written, lang)
    return 0


def _skills_readme(table, args, scenarios, where: str) -> list[list]:
    """The README sheet of skills.xlsx: what the table is, its sources, rule and limits, and its columns."""
    from pmq._version import __version__
    en = args.lang == "en"
    a = table.attrs
    share = a["share_linked"]
    cover = "; ".join(f"{k}: {v:.4f}" for k, v in share.items()) if isinstance(share, dict) else f"{share:.4f}"
    rows = [
        ["pmq", __version__],
        ["table" if en else "tableau", ("Job openings by ROME 4.0 item" if en else
                                        "Postes à pourvoir par élément du ROME 4.0")],
        ["scenarios" if en else "scénarios", ", ".join(f"{s.name} \"{s.title_en}\"" if en else f"{s.name} {quoted(s.title_fr)}"
                                                      for s in scenarios)],
        ["territory" if en else "territoire", where],
        ["period" if en else "période", a["period"]],
        ["breakdown" if en else "lecture", f"{args.by} — {a['by_label']}"],
        ["view" if en else "vue", a["view"]],
        ["rule" if en else "règle", a["rule"]],
        ["ROME coverage (share of openings linked to a fiche)" if en else
         "couverture ROME (part des postes à pourvoir rattachée à une fiche)", cover],
        ["units" if en else "unités", "persons" if en else "personnes"],
        ["ROME", a["rome_version"]],
    ]
    rows += [["source", s] for s in a["sources"]]
    rows += [["note", s] for s in a["notes"]]
    rows += [[]] + [["column" if en else "colonne", c, lab] for c, lab in a["column_labels"].items()]
    return rows


def _write_skills_xlsx(table, rows, path, lang: str = "fr") -> None:
    """skills.xlsx: a README sheet, then the table (header on the first row, in ``lang``: the columns' labels of
    :func:`pmq.export.tables.column_header`, « Scénario », « Part du total »…, the codes in columns of their own;
    shares as percentages, persons with one decimal); every text cell through :func:`pmq.outputs.neutralise` /
    ``safe_text`` (no formula from a label). Written in one pass with openpyxl's write-only mode (3 to 4 times
    faster than :func:`pmq.export.to_excel` on this table, whose formats would show the shares as whole numbers)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from pmq.export.tables import column_header
    from pmq.outputs import neutralise, safe_text
    labels = table.attrs.get("column_labels") if isinstance(table.attrs.get("column_labels"), dict) else None
    df = neutralise(table)
    wb = Workbook(write_only=True)
    readme = wb.create_sheet("README")
    readme.column_dimensions["A"].width = 30
    readme.column_dimensions["B"].width = 60
    readme.column_dimensions["C"].width = 60
    for r in rows:
        readme.append([safe_text(v) for v in r])
    ws = wb.create_sheet("skills")
    ws.freeze_panes = "A2"
    formats = ["0.0%" if str(c).startswith("share") else "#,##0.0" if df[c].dtype.kind == "f" else None
               for c in df.columns]
    ws.append([safe_text(column_header(str(c), lang, labels)) for c in table.columns])
    for values in df.itertuples(index=False):
        cells = []
        for v, fmt in zip(values, formats):
            cell = WriteOnlyCell(ws, value=None if v != v else v)     # NaN: an empty cell
            if fmt:
                cell.number_format = fmt
            cells.append(cell)
        ws.append(cells)
    wb.save(path)


def cmd_skills(args) -> int:
    from pmq.analysis.skills import skills_demand
    from pmq.formatting import format_number, format_percent
    from pmq.outputs import write_atomically
    from pmq.projection.compare import project_many

    lang = args.lang
    en = lang == "en"
    out = _check_out(args.out, ("skills.csv", "skills.xlsx")) if args.out else None
    baseline, scenarios = _baseline_and_scenarios(args, args.horizon)
    picked = _pick_territories(args.territory, baseline)
    territory, where = _where(picked, baseline, lang)
    proj = project_many(scenarios, baseline, horizon=args.horizon, ages=False, progress=_progress_printer(sys.stderr))
    table = skills_demand(proj, by=SKILLS_BY[args.by], view=args.view, territory=territory, lang=lang)
    written = []
    if out is not None:                       # without --out, the table is only printed (as imbalance, passerelles)
        rows = _skills_readme(table, args, scenarios, where)
        written = write_atomically(out, {
            "skills.csv": lambda p: table.to_csv(p, index=False, encoding="utf-8-sig"),
            "skills.xlsx": lambda p: _write_skills_xlsx(table, rows, p, lang),
        })
    a = table.attrs
    view = ({"additive": "additive view", "reach": "reach view: openings in the jobs that require it"} if en else
            {"additive": "vue additive", "reach": "vue « portée » : postes des emplois qui le requièrent"})[args.view]
    print(f"{'Skills of the job openings' if en else 'Compétences des postes à pourvoir'} — {where} — {a['period']}"
          f" — {a['by_label']} — {view}")
    share = a["share_linked"]
    for sc, (name, g) in zip(scenarios, table.groupby("scenario", sort=False)):
        # the scenario's title as it is (« Scénario de référence (…) »), not « Scénario « Scénario de … » »
        print(f"\n{sc.title_en if en else sc.title_fr} ({name})")
        cover = format_percent(share[name] if isinstance(share, dict) else share, 1, lang)
        print(f"ROME coverage: {cover} of job openings" if en else
              f"couverture ROME : {cover} des postes à pourvoir")
        diff = "difference" in g.columns and name != table["scenario"].iloc[0]
        top = g[g["code"] != "non_rattache"].head(args.top)
        heads = ("openings", "share", "difference") if en else ("postes", "part", "écart")
        print(f"  {'':>2}  {'':<70} {heads[0]:>12} {heads[1]:>8}" + (f"  {heads[2]:>10}" if diff else ""))
        for i, (_, r) in enumerate(top.iterrows(), start=1):
            text = str(r["label"]) if len(str(r["label"])) <= 70 else str(r["label"])[:69] + "…"
            line = (f"  {i:>2}. {text:<70} {format_number(r['openings'], 1, lang):>12} "
                    f"{format_percent(r['share'], 1, lang):>8}")
            if diff:
                line += f"  {format_number(r['difference'], 1, lang, sign=True):>10}"
            print(line)
    print(("\nPersons over the period; share of all job openings"
           + ("; last column: difference from the first scenario" if len(scenarios) > 1 else "")) if en else
          ("\nPersonnes sur la période ; part de l'ensemble des postes à pourvoir"
           + (" ; dernière colonne : écart au premier scénario" if len(scenarios) > 1 else "")))
    _written(written, lang)
    return 0


# ------------------------------------------------------------------------- option types
def _whole(text: str) -> int:
    try:
        return int(str(text).strip().replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(tr(f"expected a whole number, got {text!r}",
                                            f"un nombre entier est attendu, reçu {text!r}")) from None


def _positive_int(text: str) -> int:
    """A count (--draws, --chunk, --top): a whole number ≥ 1."""
    v = _whole(text)
    if v < 1:
        raise argparse.ArgumentTypeError(tr(f"must be a whole number ≥ 1, got {text!r}",
                                            f"doit être un nombre entier ≥ 1, reçu {text!r}"))
    return v


def _horizon(text: str) -> int:
    """Years projected: 1 … MAX_HORIZON (the scenario language's range for horizons.run)."""
    from pmq.scenario.read import MAX_HORIZON
    v = _whole(text)
    if not 1 <= v <= MAX_HORIZON:
        raise argparse.ArgumentTypeError(tr(f"must be a number of years from 1 to {MAX_HORIZON}, got {text!r}",
                                            f"doit être un nombre d'années de 1 à {MAX_HORIZON}, reçu {text!r}"))
    return v


def _seed(text: str) -> int:
    v = _whole(text)
    if not 0 <= v < 2**63:
        raise argparse.ArgumentTypeError(tr(f"must be a whole number from 0 to 2**63 − 1, got {text!r}",
                                            f"doit être un nombre entier de 0 à 2**63 − 1, reçu {text!r}"))
    return v


def _year(text: str) -> int:
    from pmq.scenario.read import YEARS
    v = _whole(text)
    if not YEARS[0] <= v <= YEARS[1]:
        raise argparse.ArgumentTypeError(tr(f"must be a calendar year ({YEARS[0]}–{YEARS[1]}), got {text!r}",
                                            f"doit être une année civile ({YEARS[0]}–{YEARS[1]}), reçu {text!r}"))
    return v


def _trend_years(text: str) -> int:
    v = _whole(text)
    if not 8 <= v <= 60:
        raise argparse.ArgumentTypeError(tr(f"must be a number of years from 8 to 60 (the trend models need at "
                                            f"least 8), got {text!r}",
                                            f"doit être un nombre d'années de 8 à 60 (les modèles de tendance en "
                                            f"demandent au moins 8), reçu {text!r}"))
    return v


def _size(text: str) -> str:
    """``--max-memory``: a size as :func:`pmq.projection.ensemble.parse_size` reads it (8G, 500MB), or in French
    units and decimals (8Go, 500 Mo, 1,5 Go: octets), or off."""
    from pmq.projection.ensemble import parse_size
    from pmq.errors import ArgumentError
    m = re.fullmatch(r"\s*(\d+(?:[.,]\d*)?)\s*([kmgt])o\s*", str(text), re.I)
    value = f"{m[1].replace(',', '.')}{m[2].upper()}" if m else str(text)
    try:
        parse_size(value)
    except ArgumentError:
        raise argparse.ArgumentTypeError(tr(f"expected a size such as 8G, 500M or 2.5GB (units K, M, G, T, with or "
                                            f"without B; or off), got {text!r}",
                                            f"une taille est attendue, comme 8Go, 500Mo ou 2,5Go (unités Ko, Mo, Go, "
                                            f"ou K, M, G ; ou off), reçu {text!r}")) from None
    return value


def _horizons(text: str) -> list[int]:
    from pmq.scenario.read import MAX_HORIZON
    wrong = argparse.ArgumentTypeError(tr(f"must be a number of years from 1 to {MAX_HORIZON}, or several separated "
                                          f"by commas (e.g. 5,10,20), got {text!r}",
                                          f"doit être un nombre d'années de 1 à {MAX_HORIZON}, ou plusieurs séparés "
                                          f"par des virgules (par exemple 5,10,20), reçu {text!r}"))
    try:
        hz = [int(h) for h in str(text).replace(";", ",").split(",") if h.strip()]
    except ValueError:
        raise wrong from None
    if not hz or min(hz) <= 0 or max(hz) > MAX_HORIZON:
        raise wrong
    return hz


def cmd_report(args) -> int:
    from pmq.projection.ensemble import check_memory
    from pmq.errors import ArgumentError
    from pmq.export.report import CHROMIUM_INSTALL, build_report, find_chromium

    if args.pdf and find_chromium() is None:      # before anything is computed or written
        raise ArgumentError(tr(f"needs Chromium to print report.pdf: {CHROMIUM_INSTALL}; or leave --pdf out for "
                               "the HTML report alone",
                               f"demande Chromium pour imprimer report.pdf : {CHROMIUM_INSTALL} ; ou retirez --pdf "
                               "pour le seul rapport HTML"), name="--pdf")
    out = _check_out(args.out, ("report.html", "tables.xlsx", "figures", *(["report.pdf"] if args.pdf else [])))
    baseline, scenarios = _baseline_and_scenarios(args, max(args.horizon))
    territory = None                # FR: the national total, the report's default
    if args.territory is not None:
        picked = _pick_territories([args.territory], baseline, groups=False)[0]
        territory = None if picked.national else picked.codes[0]
    if args.draws:
        if not scenarios[0].lever_list("uncertainty.parameter"):
            raise ArgumentError(tr(f"needs a first scenario with [[uncertainty.parameter]] (e.g. "
                                   f"reference_incertain); {args.scenarios[0]} has none",
                                   f"demande un premier scénario avec des [[uncertainty.parameter]] (par exemple "
                                   f"reference_incertain) ; {args.scenarios[0]} n'en a pas"),
                                name="--draws", value=args.draws)
        from pmq.projection.ensemble import check_uncertainty
        check_uncertainty(scenarios[0], baseline)
        check_memory(baseline, scenarios[0], args.draws, max(args.horizon), name="--draws")
    rep = build_report(scenarios, territory=territory, horizons=args.horizon, out=out,
                       lang=args.lang, baseline=baseline, progress=True, draws=args.draws, seed=args.seed,
                       pdf=args.pdf)
    n_fig = len(rep.figures) // 2
    _written([rep.html, *([rep.out / "report.pdf"] if args.pdf else []), rep.tables,
              f"{n_fig} figure{'s' if n_fig > 1 else ''} (PNG 300 dpi + SVG) dans {rep.out / 'figures'}" if args.lang == "fr"
              else f"{n_fig} figure{'s' if n_fig > 1 else ''} (PNG 300 dpi + SVG) in {rep.out / 'figures'}"], args.lang)
    return 0


def _years(text: str, what: str) -> list[int]:
    from pmq.errors import ArgumentError
    try:
        years = [int(x) for x in str(text).replace(" ", "").split(",") if x]
    except ValueError:
        raise ArgumentError(tr("must be years separated by commas, e.g. 2012 or 2010,2011",
                               "doit être des années séparées par des virgules, par exemple 2012 ou 2010,2011"),
                            name=what, value=text) from None
    if not years:
        raise ArgumentError(tr("must name at least one year", "doit nommer au moins une année"), name=what,
                            value=text)
    return years


BACKTEST_FILES = ("backtest_metrics.csv", "backtest_age_by_fap.csv", "backtest_age_bands.csv",
                  "backtest_employment_by_fap.csv", "demand_metrics.csv", "demand_intervals.csv",
                  "demand_rolling.csv", "backtest.png", "backtest.svg")     # pmq.estimation.backtest.OUTPUT_FILES


#: :func:`pmq.estimation.backtest.backtest`'s arguments, as its errors name them → ``pmq backtest``'s options.
BACKTEST_OPTIONS = {"start (--from)": "--from", "end (--to)": "--to", "horizon (--horizon)": "--horizon",
                    "trend_years (--trend-years)": "--trend-years"}


def _input_file(value, option: str):
    """The file of ``option`` (``--pyramids``, ``--employment``), checked before any work: it exists and is a
    file; refused once, naming the option and the value."""
    from pmq.errors import ArgumentError
    if value is None:
        return None
    path = Path(value)
    if path.is_dir():
        raise ArgumentError(tr("is a folder, not a file: give a CSV file", "est un dossier et non un fichier : "
                               "donnez un fichier CSV"), name=option, value=str(value))
    if not path.is_file():
        raise ArgumentError(tr("no such file", "fichier introuvable"), name=option, value=str(value))
    return value


def cmd_backtest(args) -> int:
    from pmq.errors import ArgumentError
    from pmq.estimation.backtest import DEFAULT_STARTS, backtest
    from pmq.outputs import write_atomically

    out = _check_out(args.out, BACKTEST_FILES) if args.out else None
    starts = _years(args.start, "--from") if args.start else list(DEFAULT_STARTS)
    pyramids = _input_file(args.pyramids, "--pyramids")
    employment = _input_file(args.employment, "--employment")
    try:
        res = backtest(starts, args.end, horizon=args.horizon, pyramids=pyramids, employment=employment,
                       trend_years=args.trend_years)
    except ArgumentError as exc:          # the library's argument, as the command line's option
        if exc.name not in BACKTEST_OPTIONS:
            raise
        raise ArgumentError(exc.problem, name=BACKTEST_OPTIONS[exc.name], value=exc.value) from None
    written = write_atomically(out, res.writers(lang=args.lang)) if out is not None else []
    print(res.summary(args.lang))
    _written(written, args.lang)
    return 0


def export_suffixes() -> str:
    """Export formats and the file names that choose them (see pmq.export.export), in the reader's language."""
    return tr(".xlsx (Excel), .nc (netCDF), .iamc.csv or .iamc.xlsx (IAMC), or a folder name without extension (CSV)",
              ".xlsx (Excel), .nc (netCDF), .iamc.csv ou .iamc.xlsx (IAMC), ou un nom de dossier sans extension (CSV)")


def _export_format(args) -> tuple[str, Path]:
    """The export format (``--format``, else from the ``--out`` name) and the checked path, before
    anything is computed."""
    from pmq.errors import ArgumentError
    out = str(args.out)
    name = Path(out).name.lower()
    suffix = Path(out).suffix.lower()
    fmt = args.format
    if fmt is None:
        if name.endswith(".csv") and ".iamc." not in name:
            raise ArgumentError(tr("a .csv name, but the CSV export writes one file per table into a folder: give "
                                   "a folder name (e.g. --out tables), an IAMC file (.iamc.csv), or --format csv to "
                                   "make a folder with this name",
                                   "un nom en .csv, mais l'export CSV écrit un fichier par tableau dans un dossier : "
                                   "donnez un nom de dossier (par exemple --out tableaux), un fichier IAMC "
                                   "(.iamc.csv), ou --format csv pour créer un dossier de ce nom"),
                                name="--out", value=out)
        fmt = ("iamc" if ".iamc." in name else "xlsx" if suffix == ".xlsx" else "nc" if suffix == ".nc" else
               "csv" if not suffix else None)
        if fmt is None:
            raise ArgumentError(tr(f"unknown extension {suffix!r}: use {export_suffixes()}, or --format",
                                   f"extension inconnue {suffix!r} : utilisez {export_suffixes()}, ou --format"),
                                name="--out", value=out)
    if fmt == "iamc" and suffix not in (".csv", ".xlsx"):
        raise ArgumentError(tr("an IAMC table is written as .csv or .xlsx (e.g. results.iamc.xlsx)",
                               "un tableau IAMC s'écrit en .csv ou en .xlsx (par exemple resultats.iamc.xlsx)"),
                            name="--out", value=out)
    sep = getattr(args, "csv_sep", None)
    if sep is not None and fmt != "csv":
        raise ArgumentError(tr("applies to the CSV tables (--format csv, a folder); ",
                               "s'applique aux tableaux CSV (--format csv, un dossier) ; ") + (
            tr("an IAMC table keeps the IAMC convention (comma, decimal point) that pyam and the scenario databases "
               "read", "un tableau IAMC garde la convention IAMC (virgule, point décimal) que lisent pyam et les "
               "bases de scénarios") if fmt == "iamc" else
            tr(f"--format {fmt} writes no CSV file", f"--format {fmt} n'écrit aucun fichier CSV")),
            name="--csv-sep", value=sep.sep)
    return fmt, _check_out(out, file=fmt != "csv")


def cmd_export(args) -> int:
    from pmq.projection.compare import project_many
    from pmq.export import export

    fmt, out = _export_format(args)
    baseline, scenarios = _baseline_and_scenarios(args, args.horizon)
    comp = project_many(scenarios, baseline, horizon=args.horizon, progress=_progress_printer(sys.stderr))
    data = comp if len(scenarios) > 1 else comp[comp.names[0]]
    _written(export(data, out, fmt=fmt, lang=args.lang), args.lang)
    return 0


def build_parser(lang: str | None = None) -> CommandLineParser:
    """pmq's command-line parser, its help and syntax errors in ``lang`` (``"fr"`` or ``"en"``; None:
    ``PMQ_LANG``, else the ``lang`` option — French unless set).  :func:`main` gives the command line's language
    (:func:`command_lang`); the documentation site builds the English one."""
    lang = lang or _env_lang() or OPTIONS["lang"]
    if lang not in LANGS:
        from pmq.errors import ArgumentError
        raise ArgumentError(tr("must be 'fr' or 'en'", "doit valoir 'fr' ou 'en'"), name="lang", value=lang)
    with set_options(lang=lang):
        return _build_parser(lang)


def _build_parser(lang: str) -> CommandLineParser:
    """:func:`build_parser`'s work, under ``set_options(lang=lang)``: every text through :func:`tr`."""
    fr = lang == "fr"
    SCENARIO, YEARS, DIR, NAME = ("SCÉNARIO", "ANNÉES", "DOSSIER", "NOM") if fr else ("SCENARIO", "YEARS", "DIR", "NAME")
    scenario_help = tr("scenario file or built-in name (default: reference)",
                       "fichier de scénario ou nom d'un scénario intégré (par défaut : reference)")
    scenarios_help = tr("scenario files or built-in names", "fichiers de scénario ou noms de scénarios intégrés")
    data_help = tr("your own baseline folder (as pmq run)", "dossier de votre propre base (comme pmq run)")

    p = CommandLineParser(
        prog="pmq", lang=lang,
        description=tr("pmq — \"prospective des métiers et des qualifications\": stock-flow projections of "
                       "employment by métier × territory × age.",
                       "pmq — prospective des métiers et des qualifications : projections stock-flux de l'emploi "
                       "par métier × territoire × âge."),
        epilog=main_epilog())
    p.add_argument("--version", action="version", version=f"pmq {__version__}",
                   help=tr("show pmq's version number and exit", "afficher le numéro de version de pmq et quitter"))
    p.add_argument("--debug", dest="debug_global", action="store_true", help=debug_help())
    p.add_argument("--lang", dest="lang_global", type=_lang, choices=LANGS, default=None,
                   help=tr("language of the help, the messages and what the command prints and writes: 'fr' or 'en' "
                           "(default: fr, or the PMQ_LANG environment variable); also after the command",
                           "langue de l'aide, des messages et de ce que la commande affiche et écrit : 'fr' ou 'en' (par "
                           "défaut : fr, ou la variable d'environnement PMQ_LANG) ; aussi après la commande"))
    sub = p.add_subparsers(dest="command", metavar="COMMANDE" if fr else "COMMAND", parser_class=CommandLineParser)

    def add(name, **kw):                       # every command takes --debug
        command = sub.add_parser(name, lang=lang, **kw)
        p.commands[name] = command
        command.add_argument("--debug", action="store_true", help=debug_help())
        return command

    r = add("run", help=tr("project a scenario and write accounts.nc and summary.csv",
                           "projeter un scénario et écrire accounts.nc et summary.csv"),
            description=tr("Project a scenario year by year on the embedded \"Les métiers en 2030\" baseline (or "
                           "your own data) and write the accounts.",
                           "Projeter un scénario année par année sur la base intégrée « Les métiers en 2030 » (ou "
                           "sur vos propres données) et écrire les comptes."),
            epilog=run_epilog())
    r.add_argument("scenario", metavar=SCENARIO, help=tr("scenario file (.toml) or built-in name",
                                                         "fichier de scénario (.toml) ou nom d'un scénario intégré"))
    r.add_argument("--horizon", type=_horizon, default=None, metavar=YEARS,
                   help=horizon_help(*_scenario_horizon()))
    r.add_argument("--out", default="results", metavar=DIR,
                   help=tr("output folder (default: results)", "dossier de sortie (par défaut : results)"))
    r.add_argument("--data", default=None, metavar=DIR,
                   help=tr("folder with your own employment, hazards, flows [, tension] tables (.csv/.xlsx/.parquet) "
                           "instead of the embedded baseline",
                           "dossier de vos propres tableaux employment, hazards, flows [, tension] "
                           "(.csv/.xlsx/.parquet), à la place de la base intégrée"))
    r.add_argument("--draws", type=_positive_int, default=None, metavar="N",
                   help=tr("run an ensemble of N draws (N ≥ 1) of the scenario's [uncertainty] parameters: writes "
                           "ensemble.zarr (ensemble.nc without dask), quantiles_national.csv, quantiles_regions.csv, "
                           "parameters.csv",
                           "calculer un ensemble de N tirages (N ≥ 1) des paramètres [uncertainty] du scénario : "
                           "écrit ensemble.zarr (ensemble.nc sans dask), quantiles_national.csv, "
                           "quantiles_regions.csv, parameters.csv"))
    r.add_argument("--seed", type=_seed, default=None, metavar="S",
                   help=seed_help())
    r.add_argument("--chunk", type=_positive_int, default=50, metavar="C",
                   help=tr("draws computed together, ≥ 1 (default 50)", "tirages calculés ensemble, ≥ 1 (50 par défaut)"))
    r.add_argument("--scheduler", default=None, metavar="ADRESSE" if fr else "ADDRESS",
                   help=tr("dask scheduler: threads (default with dask), sync, or a dask.distributed address "
                           "(tcp://host:port); needs the dask extra",
                           "ordonnanceur de dask : threads (par défaut avec dask), sync, ou l'adresse d'un "
                           "dask.distributed (tcp://hôte:port) ; demande la dépendance facultative dask"))
    r.add_argument("--max-memory", default=None, type=_size, metavar="TAILLE" if fr else "SIZE",
                   help=tr("memory the ensemble may use, e.g. 8G or off (default: PMQ_MAX_MEMORY, else half the "
                           "available memory); a larger estimate is refused before computing",
                           "mémoire que l'ensemble peut utiliser, par exemple 8G ou off (par défaut : "
                           "PMQ_MAX_MEMORY, sinon la moitié de la mémoire disponible) ; une estimation plus grande "
                           "est refusée avant tout calcul"))
    _territory_options(r)
    _csv_option(r)
    _lang_option(r, lang)
    r.set_defaults(func=cmd_run)

    c = add("compare", help=tr("run several scenarios together and compare headline flows",
                               "projeter plusieurs scénarios ensemble et comparer leurs principaux flux"),
            description=tr("Project several scenarios in one run (same baseline) and print a side-by-side table of "
                           "headline flows by FAP domain, with the differences from the first scenario.",
                           "Projeter plusieurs scénarios en une seule fois (même base) et afficher côte à côte leurs "
                           "principaux flux par domaine professionnel (FAP), avec les écarts au premier scénario."),
            epilog=compare_epilog())
    c.add_argument("scenarios", nargs="+", metavar=SCENARIO, help=scenarios_help)
    c.add_argument("--horizon", type=_horizon, default=11, metavar=YEARS,
                   help=horizon_help(*_published_period()))
    c.add_argument("--territory", action="append", metavar=NAME, help=restrict_help("Ensemble"))
    c.add_argument("--out", default=None, metavar=DIR,
                   help=tr("write compare_domains.csv and compare_metiers.csv there",
                           "y écrire compare_domains.csv et compare_metiers.csv"))
    c.add_argument("--data", default=None, metavar=DIR, help=data_help)
    _territory_options(c)
    _csv_option(c)
    _lang_option(c, lang)
    c.set_defaults(func=cmd_compare)

    s = add("scenarios", help=tr("list the built-in scenarios; --copy NAME… --out DIR copies their files to start from",
                                 "lister les scénarios intégrés ; --copy NOM… --out DOSSIER copie leurs fichiers, "
                                 "pour partir d'eux"),
            description=tr("List the built-in scenarios (name and title). With --copy NAME… --out DIR, copy their "
                           "files (NAME.toml, as shipped) into DIR to start a scenario of your own: pmq validate and "
                           "pmq run read the copies.",
                           "Lister les scénarios intégrés (nom et titre). Avec --copy NOM… --out DOSSIER, copier "
                           "leurs fichiers (NOM.toml, tels que fournis) dans DOSSIER, pour en partir et écrire votre "
                           "propre scénario : pmq validate et pmq run lisent les copies."),
            epilog=errors_epilog())
    s.add_argument("--copy", nargs="+", default=None, metavar=NAME,
                   help=tr("copy the files of these built-in scenarios into --out, as shipped; a file that exists "
                           "there is never replaced (nothing is written)",
                           "copier les fichiers de ces scénarios intégrés dans --out, tels que fournis ; un fichier "
                           "qui y existe déjà n'est jamais remplacé (rien n'est écrit)"))
    s.add_argument("--out", default=None, metavar=DIR,
                   help=tr("with --copy: the folder to copy into (made if missing)",
                           "avec --copy : le dossier où copier (créé s'il n'existe pas)"))
    _lang_option(s, lang)
    s.set_defaults(func=cmd_scenarios)

    tp = add("templates", help=tr("copy the templates of your own data (long tables) into a folder",
                                  "copier dans un dossier les modèles de vos propres données (tableaux longs)"),
             description=tr("Copy the templates of the long tables of your own data (employment, hazards, flows, "
                            "tension, and an example of transitions between métiers) from the installed package "
                            "into DIR; fill them in, then pmq run SCENARIO --data DIR. Columns: docs/user_data.md.",
                            "Copier depuis le paquet installé dans DOSSIER les modèles des tableaux longs de vos "
                            "propres données (employment, hazards, flows, tension, et un exemple de transitions "
                            "entre métiers) ; remplissez-les, puis pmq run SCÉNARIO --data DOSSIER. Colonnes : "
                            "docs/user_data.md."),
             epilog=errors_epilog())
    tp.add_argument("--out", required=True, metavar=DIR,
                    help=tr("the folder to copy into (made if missing); a file that exists there is never replaced "
                            "(nothing is written)",
                            "le dossier où copier (créé s'il n'existe pas) ; un fichier qui y existe déjà n'est "
                            "jamais remplacé (rien n'est écrit)"))
    _lang_option(tp, lang)
    tp.set_defaults(func=cmd_templates)

    te = add("territories", help=tr("list the territories of a level: codes, names, parents",
                                    "lister les territoires d'un niveau : codes, noms, parents"),
             description=tr("List the régions, départements or zones d'emploi pmq knows (codes are unambiguous "
                            "within a level; names match accent- and case-insensitively). Zones d'emploi are split "
                            "by département: a zone lying in several départements is coded <zone>-d<département>.",
                            "Lister les régions, départements ou zones d'emploi que pmq connaît (les codes sont "
                            "univoques au sein d'un niveau ; les noms sont reconnus sans égard aux accents ni aux "
                            "majuscules). Les zones d'emploi sont découpées par département : une zone à cheval sur "
                            "plusieurs départements a pour code <zone>-d<département>."))
    te.add_argument("--level", type=_level, choices=LEVEL_NAMES, default="departement",
                    help=tr("the level listed (default: departement); accents, case and plurals do not matter",
                            "le niveau listé (par défaut : departement) ; accents, majuscules et pluriels "
                            "indifférents"))
    te.add_argument("--region", default=None, metavar=NAME,
                    help=tr("only the territories of this région (code, name or short name: PACA, AURA, IDF…)",
                            "seulement les territoires de cette région (code, nom ou nom court : PACA, AURA, IDF…)"))
    _lang_option(te, lang)
    te.set_defaults(func=cmd_territories)

    v = add("validate", help=tr("check scenario files: every check of pmq run, nothing written",
                                "vérifier des fichiers de scénario : tous les contrôles de pmq run, sans rien écrire"),
            description=tr(
                "Check scenario files with every check pmq run makes — the file, the levers applied to the baseline, "
                "the [uncertainty] section as --draws reads it, and the projection itself — without writing "
                "anything; and the size of the levers: a métier whose national employment moves away from the "
                "reference scenario's by more than the scenario's bound (max_metier_deviation, 25 % by default) "
                "fails, listed (pmq run, compare, report only warn). Every file is reported; the exit status is 2 "
                "if any is invalid.",
                "Vérifier des fichiers de scénario avec tous les contrôles de pmq run — le fichier, les leviers "
                "appliqués à la base, la section [uncertainty] telle que --draws la lit, et la projection elle-même "
                "— sans rien écrire ; et la taille des leviers : un métier dont l'emploi national s'écarte de celui "
                "du scénario de référence au-delà de la borne du scénario (max_metier_deviation, 25 % par défaut) "
                "fait échouer la vérification et est listé (pmq run, compare et report ne font qu'avertir). Chaque "
                "fichier a son compte rendu ; le code de sortie est 2 si l'un d'eux est invalide."),
            epilog=errors_epilog())
    v.add_argument("files", nargs="+", metavar="FICHIER" if fr else "FILE", help=scenarios_help)
    v.add_argument("--data", default=None, metavar=DIR,
                   help=tr("check codes against your own baseline", "vérifier les codes d'après votre propre base"))
    v.add_argument("--horizon", type=_horizon, default=None, metavar=YEARS,
                   help=horizon_help(*_scenario_horizon()))
    _lang_option(v, lang)
    v.set_defaults(func=cmd_validate)

    im = add("imbalance", help=tr("imbalances, DARES/COPS/ROA classes and the métiers to watch",
                                  "déséquilibres potentiels, classes DARES/COPS/ROA et métiers à surveiller"),
             description=tr("Project a scenario, compute the potential imbalance of every métier × territory (and "
                            "France) over the horizon, classify it with the DARES, COPS and ROA typologies and print "
                            "the ranked métiers to watch (DARES \"s'accentuer\" and \"nouvelles difficultés\").",
                            "Projeter un scénario, calculer le déséquilibre potentiel de chaque métier × territoire "
                            "(et de la France) sur l'horizon, le classer selon les typologies de la DARES, du COPS et "
                            "du ROA et afficher, classés, les métiers à surveiller (classes DARES « s'accentuer » et "
                            "« nouvelles difficultés »)."),
             epilog=imbalance_epilog())
    im.add_argument("scenario", nargs="?", default="reference", metavar=SCENARIO, help=scenario_help)
    im.add_argument("--horizon", type=_horizon, default=11, metavar=YEARS,
                    help=horizon_help(*_published_period()))
    im.add_argument("--territory", action="append", metavar=NAME, help=restrict_help("FR"))
    im.add_argument("--top", type=_positive_int, default=10, metavar="N",
                    help=tr("métiers to watch per territory, ≥ 1 (default 10)",
                            "métiers à surveiller par territoire, ≥ 1 (10 par défaut)"))
    _lang_option(im, lang)
    im.add_argument("--out", default=None, metavar=DIR,
                    help=tr("write imbalance.csv and watch_list.csv there", "y écrire imbalance.csv et watch_list.csv"))
    im.add_argument("--data", default=None, metavar=DIR, help=data_help)
    _territory_options(im)
    _csv_option(im)
    im.set_defaults(func=cmd_imbalance)

    pa = add("passerelles", help=tr("the métiers a métier's ROME mobilities lead to, ranked by imbalance",
                                    "les métiers où mènent les mobilités ROME d'un métier, classés par déséquilibre"),
             description=tr("Project a scenario and list the métiers close in content to OCCUPATION (ROME 4.0 "
                            "\"mobilités\", aggregated to métiers), ranked by their projected imbalance rate in the "
                            "territory, with their DARES class.",
                            "Projeter un scénario et lister les métiers proches de MÉTIER par leur contenu "
                            "(« mobilités » du ROME 4.0, agrégées par métier), classés selon leur taux de "
                            "déséquilibre potentiel projeté dans le territoire, avec leur classe DARES."),
             epilog=passerelles_epilog())
    pa.add_argument("metier", metavar="MÉTIER" if fr else "OCCUPATION", help=tr("code (T2A) or label of the métier of departure",
                                                        "code (T2A) ou libellé du métier de départ"))
    pa.add_argument("scenario", nargs="?", default="reference", metavar=SCENARIO, help=scenario_help)
    pa.add_argument("--territory", default=None, metavar=NAME,
                    help=tr(f"the territory where the imbalances are read: {territory_help()} (default)",
                            f"le territoire où les déséquilibres sont lus : {territory_help()} (par défaut)"))
    pa.add_argument("--horizon", type=_horizon, default=11, metavar=YEARS,
                    help=horizon_help(*_published_period()))
    pa.add_argument("--top", type=_positive_int, default=10, metavar="N",
                    help=tr("destinations listed, ≥ 1 (default 10)", "destinations listées, ≥ 1 (10 par défaut)"))
    _lang_option(pa, lang)
    pa.add_argument("--out", default=None, metavar=DIR,
                    help=tr("write passerelles.csv there", "y écrire passerelles.csv"))
    pa.add_argument("--data", default=None, metavar=DIR, help=data_help)
    _territory_options(pa)
    _csv_option(pa)
    pa.set_defaults(func=cmd_passerelles)

    sk = add("skills", help=tr("the job openings in ROME 4.0 compétences, savoirs, green and digital classes",
                               "les postes à pourvoir en compétences et savoirs du ROME 4.0, classes vertes et "
                               "numériques"),
             description=tr("Project scenarios and read their job openings in ROME 4.0 terms: macro-compétences, "
                            "savoirs, savoir-être, fiches, green and digital classes; print the largest needs and "
                            "the ROME coverage, write skills.csv and skills.xlsx.",
                            "Projeter des scénarios et lire leurs postes à pourvoir dans les termes du ROME 4.0 : "
                            "macro-compétences, savoirs, savoir-être, fiches, classes de transition écologique et "
                            "numérique ; afficher les plus grands besoins et la couverture du ROME, écrire skills.csv "
                            "et skills.xlsx."),
             epilog=skills_epilog())
    sk.add_argument("scenarios", nargs="+", metavar=SCENARIO, help=scenarios_help)
    sk.add_argument("--territory", action="append", metavar=NAME,
                    help=tr(f"{territory_help()} (default); repeatable: the territories are summed",
                            f"{territory_help()} (par défaut) ; répétable : les territoires sont additionnés"))
    sk.add_argument("--horizon", type=_horizon, default=11, metavar=YEARS,
                    help=horizon_help(*_published_period()))
    sk.add_argument("--by", choices=tuple(SKILLS_BY), default="macro_competence",
                    help=tr("what the openings are read by (default: macro_competence)",
                            "ce selon quoi les postes à pourvoir sont lus (par défaut : macro_competence)"))
    sk.add_argument("--view", choices=("additive", "reach"), default="additive",
                    help=tr("additive (default: the rows add up to the openings) or reach",
                            "additive (par défaut : les lignes s'additionnent aux postes à pourvoir) ou reach"))
    sk.add_argument("--top", type=_positive_int, default=10, metavar="N",
                    help=tr("rows printed per scenario, ≥ 1 (default 10; the files hold every row)",
                            "lignes affichées par scénario, ≥ 1 (10 par défaut ; les fichiers ont toutes les lignes)"))
    _lang_option(sk, lang)
    sk.add_argument("--out", default=None, metavar=DIR,
                    help=tr("write skills.csv and skills.xlsx there (without it: printed only)",
                            "y écrire skills.csv et skills.xlsx (sans lui : affiché seulement)"))
    sk.add_argument("--data", default=None, metavar=DIR, help=data_help)
    _territory_options(sk)
    _csv_option(sk)
    sk.set_defaults(func=cmd_skills)

    rp = add("reproduce", help=tr("compare a pmq run with a published exercise, cell by cell",
                                  "comparer une projection de pmq à un exercice publié, cellule par cellule"),
             description=tr("Project the reference scenario over the published period and compare it with every "
                            "row and numeric column of a published exercise; print the max and median "
                            "|pmq − published| per column.",
                            "Projeter le scénario de référence sur la période publiée et le comparer à chaque ligne "
                            "et colonne numérique d'un exercice publié ; afficher le maximum et la médiane de "
                            "|pmq − publié| par colonne."),
             epilog=reproduce_epilog())
    rp.add_argument("exercise", metavar="EXERCICE" if fr else "EXERCISE",
                    help=tr("published exercise to reproduce (metiers2030)",
                            "exercice publié à reproduire (metiers2030)"))
    rp.add_argument("--out", default=None, metavar=DIR,
                    help=tr("write <EXERCISE>_differences.csv and .xlsx there",
                            "y écrire <EXERCICE>_differences.csv et .xlsx"))
    rp.add_argument("--data", default=None, metavar=DIR, help=data_help)
    _csv_option(rp)
    _lang_option(rp, lang)
    rp.set_defaults(func=cmd_reproduce)

    rep = add("report", help=tr("HTML report with charts, key figures, method and sources",
                                "rapport HTML avec graphiques, chiffres clés, méthode et sources"),
              description=tr("Project one or more scenarios and write a self-contained HTML report (charts "
                             "embedded, key figures, métiers to watch, scenario parameters with their sources, "
                             "method and sources), every figure as PNG (300 dpi) and SVG, and tables.xlsx.",
                             "Projeter un ou plusieurs scénarios et écrire un rapport HTML autonome (graphiques "
                             "intégrés, chiffres clés, métiers à surveiller, paramètres des scénarios avec leurs "
                             "sources, méthode et sources), chaque figure en PNG (300 dpi) et en SVG, et "
                             "tables.xlsx."),
              epilog=report_epilog())
    rep.add_argument("scenarios", nargs="+", metavar=SCENARIO, help=scenarios_help)
    rep.add_argument("--territory", default=None, metavar=NAME,
                     help=tr("the territory the report is about, a code or name (case, accents, hyphens do not "
                             "matter; short names such as PACA, AURA); default, or FR / France: the national total",
                             "le territoire dont traite le rapport, un code ou un nom (majuscules, accents, traits "
                             "d'union indifférents ; noms courts comme PACA, AURA) ; par défaut, ou FR / France : le "
                             "total national"))
    rep.add_argument("--horizon", type=_horizons, default=[11], metavar=YEARS,
                     help=horizon_help(*_published_period(), several=True))
    _lang_option(rep, lang)
    rep.add_argument("--draws", type=_positive_int, default=None, metavar="N",
                     help=tr("add an ensemble of the first scenario's [uncertainty]: fan chart and quantiles",
                             "ajouter un ensemble de tirages de la section [uncertainty] du premier scénario : "
                             "graphique en éventail et quantiles"))
    rep.add_argument("--seed", type=_seed, default=None, metavar="S",
                     help=seed_help())
    rep.add_argument("--out", default="report", metavar=DIR,
                     help=tr("output folder (default: report)", "dossier de sortie (par défaut : report)"))
    rep.add_argument("--pdf", action="store_true",
                     help=tr("also write report.pdf, the report printed on A4 by headless Chromium (chromium, "
                             "chromium-browser or google-chrome on the PATH, or $PMQ_CHROMIUM)",
                             "écrire aussi report.pdf, le rapport imprimé en A4 par Chromium sans interface "
                             "(chromium, chromium-browser ou google-chrome dans le PATH, ou $PMQ_CHROMIUM)"))
    rep.add_argument("--data", default=None, metavar=DIR, help=data_help)
    _territory_options(rep)
    rep.set_defaults(func=cmd_report)

    ex = add("export", help=tr("tables as Excel, CSV, netCDF or IAMC (pyam) files",
                               "tableaux en fichiers Excel, CSV, netCDF ou IAMC (pyam)"),
             description=tr("Project scenarios and export: .xlsx (regions, domains, métiers; README sheet with units "
                            "and sources), a folder of .csv, .nc (all accounts), or an IAMC table (.iamc.csv / "
                            ".iamc.xlsx).",
                            "Projeter des scénarios et les exporter : .xlsx (régions, domaines, métiers ; feuille "
                            "README avec unités et sources), un dossier de .csv, .nc (tous les comptes) ou un tableau "
                            "IAMC (.iamc.csv / .iamc.xlsx)."),
             epilog=export_epilog())
    ex.add_argument("scenarios", nargs="+", metavar=SCENARIO, help=scenarios_help)
    ex.add_argument("--out", required=True, metavar="CHEMIN" if fr else "PATH",
                    help=tr("output file: .xlsx, .nc, .iamc.csv or .iamc.xlsx; or a folder name without extension "
                            "for CSV tables (a .csv name is refused: the CSV export writes several files)",
                            "fichier de sortie : .xlsx, .nc, .iamc.csv ou .iamc.xlsx ; ou un nom de dossier sans "
                            "extension pour des tableaux CSV (un nom en .csv est refusé : l'export CSV écrit "
                            "plusieurs fichiers)"))
    ex.add_argument("--format", choices=("xlsx", "csv", "nc", "iamc"), default=None,
                    help=tr("default: from the --out suffix", "par défaut : d'après l'extension de --out"))
    ex.add_argument("--horizon", type=_horizon, default=None, metavar=YEARS,
                    help=horizon_help(*_scenario_horizon()))
    _lang_option(ex, lang)
    ex.add_argument("--data", default=None, metavar=DIR, help=data_help)
    _territory_options(ex)
    _csv_option(ex)
    ex.set_defaults(func=cmd_export)

    YEAR = "ANNÉE" if fr else "YEAR"
    bt = add("backtest", help=tr("ex-post evaluation on past DARES vintages (age structure, employment)",
                                 "évaluation a posteriori sur d'anciens millésimes de la DARES (structure par âge, "
                                 "emploi)"),
             description=tr("Project past vintages of the DARES \"Portraits statistiques des métiers\" forward and "
                            "compare with what was observed: pmq's replacement model (estimated exit hazards, "
                            "observed employment path) against the constant pyramid, and the demand models "
                            "(half-trend shares, combination, trends) against naive (constant employment) and "
                            "naive_share (constant share).",
                            "Projeter d'anciens millésimes des « Portraits statistiques des métiers » de la DARES et "
                            "les comparer à ce qui a été observé : le modèle de remplacement de pmq (taux de sortie "
                            "estimés, trajectoire d'emploi observée) face à la pyramide constante, et les modèles de "
                            "demande (parts en demi-tendance, combinaison, tendances) face à naive (emploi constant) "
                            "et naive_share (part constante)."),
             epilog=backtest_epilog())
    bt.add_argument("--from", dest="start", default=None, metavar=f"{YEAR}[,{YEAR}…]",
                    help=tr(f"origin(s): forecasts start from the window labelled {YEAR}−1 (default "
                            "2010,2011,2012,2013)",
                            f"origine(s) : les prévisions partent de la fenêtre {YEAR}−1 (par défaut "
                            "2010,2011,2012,2013)"))
    bt.add_argument("--to", dest="end", type=_year, default=None, metavar=YEAR,
                    help=tr("end window (default 2018)", "fenêtre finale (2018 par défaut)"))
    bt.add_argument("--horizon", type=_positive_int, default=None, metavar=YEARS,
                    help=tr(f"instead of --to: {YEARS} label steps after the last known window (end = origin − 1 + "
                            f"{YEARS}, ≥ 1)",
                            f"au lieu de --to : {YEARS} pas après la dernière fenêtre connue (fin = origine − 1 + "
                            f"{YEARS}, ≥ 1)"))
    bt.add_argument("--pyramids", default=None, metavar="CSV",
                    help=tr("your own pyramids: fap, window (2003-2005), band (15-24 … 60+), employment_k",
                            "vos propres pyramides : fap, window (2003-2005), band (15-24 … 60+), employment_k"))
    bt.add_argument("--employment", default=None, metavar="CSV",
                    help=tr("your own series: fap, year, employment_k", "vos propres séries : fap, year, employment_k"))
    bt.add_argument("--trend-years", type=_trend_years, default=15, metavar="N",
                    help=tr("labels up to the last known window used to fit the demand models, 8–60 (default 15)",
                            "années, jusqu'à la dernière fenêtre connue, sur lesquelles les modèles de demande sont "
                            "ajustés, 8–60 (15 par défaut)"))
    _lang_option(bt, lang)
    _csv_option(bt)
    bt.add_argument("--out", default=None, metavar=DIR,
                    help=tr("write tables and the chart here", "y écrire les tableaux et le graphique"))
    bt.set_defaults(func=cmd_backtest)
    return p


def _issue_tracker() -> str:
    """Where to report a bug: the package's « Issues » / « Bug Tracker » project URL if its
    metadata has one, else the repository's issue tracker in words."""
    try:
        from importlib.metadata import metadata
        for entry in metadata("pmq").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if any(w in label.lower() for w in ("issue", "bug", "tracker")):
                return url.strip()
    except Exception:  # noqa: BLE001 - metadata missing: an editable or source install
        pass
    return tr("the pmq project's issue tracker (the repository pmq was installed from)",
              "le suivi des tickets du projet pmq (le dépôt d'où pmq a été installé)")


#: errno of an OSError that is the environment's, not pmq's: disk full, read-only, permissions, names.
_ENVIRONMENT_ERRNOS = {"ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "ENAMETOOLONG", "ENOTDIR", "EISDIR",
                       "EEXIST", "ENOENT", "EXDEV", "EMFILE", "ENFILE", "EIO", "ETXTBSY", "ELOOP"}


def _is_environment(exc: OSError) -> bool:
    """An OSError about the user's files or machine (exit 2), not about pmq's own files (a bug)."""
    import errno
    here = str(Path(__file__).resolve().parent)
    names = [n for n in (exc.filename, getattr(exc, "filename2", None)) if n]
    if any(str(Path(os.fsdecode(n)).resolve()).startswith(here) for n in names):
        return False
    return errno.errorcode.get(exc.errno or 0, "") in _ENVIRONMENT_ERRNOS


#: What the system's errors say, in French (``strerror`` is the C library's English).
_STRERROR_FR = {
    "ENOSPC": "plus de place sur le disque", "EDQUOT": "quota de disque dépassé",
    "EROFS": "système de fichiers en lecture seule", "EACCES": "permission refusée",
    "EPERM": "opération non permise", "ENAMETOOLONG": "nom de fichier trop long",
    "ENOTDIR": "n'est pas un dossier", "EISDIR": "est un dossier", "EEXIST": "existe déjà",
    "ENOENT": "fichier ou dossier introuvable", "EXDEV": "lien entre deux systèmes de fichiers impossible",
    "EMFILE": "trop de fichiers ouverts", "ENFILE": "trop de fichiers ouverts dans le système",
    "EIO": "erreur d'entrée-sortie", "ETXTBSY": "fichier exécutable occupé", "ELOOP": "trop de liens symboliques",
    "ENOTEMPTY": "dossier non vide", "EBUSY": "ressource occupée",
}


def _strerror(exc: OSError) -> str:
    """The system's words for ``exc`` in the reader's language (the C library's English, or French by errno)."""
    import errno
    text = exc.strerror or str(exc)
    return tr(text, _STRERROR_FR.get(errno.errorcode.get(exc.errno or 0, ""), text))


def _os_message(exc: OSError) -> str:
    where = " → ".join(os.fsdecode(n) for n in (exc.filename, getattr(exc, "filename2", None)) if n)
    return ((f"{where}{tr(': ', ' : ')}" if where else "")
            + tr(f"{_strerror(exc)} (the file system refused; nothing was written)",
                 f"{_strerror(exc)} (refus du système de fichiers ; rien n'a été écrit)"))


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """pmq's warnings as one ``pmq: warning: …`` line on stderr (« pmq : avertissement : … » in French); others as
    Python shows them."""
    from pmq.errors import OutputNotice, PmqWarning
    stream = file if file is not None else sys.stderr
    try:
        if issubclass(category, (PmqWarning, OutputNotice)) or str(filename).startswith(
                str(Path(__file__).resolve().parent)):
            text = str(message)
            text = text[4:].lstrip() if text.startswith("pmq:") else text
            stream.write(f"{tr('pmq: warning: ', 'pmq : avertissement : ')}{text}\n")
        else:
            stream.write(warnings.formatwarning(message, category, filename, lineno, line))
    except (OSError, ValueError):  # pragma: no cover - stderr closed
        pass


def _fail(message: str, exc: BaseException, debug: bool) -> int:
    if debug:
        import traceback
        traceback.print_exception(exc)
    print(f"{_error_prefix()}{message}", file=sys.stderr)
    return 2


def _error_prefix() -> str:
    """« pmq : erreur : » (French) or ``pmq: error: `` (English), as the ``lang`` option says."""
    return tr("pmq: error: ", "pmq : erreur : ")


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0, 2 for a user error, 1 for a bug).
    The help and the syntax errors are in the command line's language (:func:`command_lang`: ``--lang``, else
    ``PMQ_LANG``, else French); syntax errors exit through argparse (:class:`SystemExit` with status 2).  The
    command runs under ``set_options(lang=...)``: every message of the library is in its language too."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        lang = command_lang(argv)
    except PmqError as exc:                           # PMQ_LANG=de: said in French, the default
        return _fail(str(exc), exc, False)
    parser = build_parser(lang)
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False) or getattr(args, "debug_global", False)
                 or os.environ.get("PMQ_DEBUG", "").strip() not in ("", "0"))
    args.debug = debug
    if getattr(args, "lang", None) not in LANGS:     # no command: the command line's language
        args.lang = lang
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    with set_options(lang=args.lang):
        return _run_command(args, debug)


def _shared_paths(args):
    """For the commands that check their scenarios' plausibility before projecting them: each scenario's paths
    made once for both (:func:`pmq.projection.prepare.shared_paths`); nothing imported for the others."""
    if getattr(args, "func", None) in (cmd_compare, cmd_run, cmd_validate, cmd_imbalance, cmd_passerelles,
                                       cmd_export, cmd_report, cmd_skills):
        from pmq.projection.prepare import shared_paths
        return shared_paths()
    return contextlib.nullcontext()


def _run_command(args, debug: bool) -> int:
    """:func:`main`'s command ``args.func``, under ``set_options(lang=args.lang)``: the exit status, every error
    of the user's said in one line."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning          # restored on leaving
        try:
            with _csv_context(args), _shared_paths(args):
                return args.func(args)
        except PmqError as exc:
            return _fail(str(exc), exc, debug)
        except BrokenPipeError:  # pragma: no cover - output piped into head
            sys.stderr.close()
            return 0
        except OSError as exc:
            if not _is_environment(exc):
                return _internal(exc)
            return _fail(_os_message(exc), exc, debug)
        except MemoryError as exc:
            return _fail(tr("not enough memory for this run (the machine refused an allocation); run a shorter "
                            "horizon or fewer draws, or free memory; nothing was written",
                            "pas assez de mémoire pour cette projection (la machine a refusé une allocation) ; "
                            "choisissez un horizon plus court ou moins de tirages, ou libérez de la mémoire ; rien "
                            "n'a été écrit"), exc, debug)
        except KeyboardInterrupt:  # pragma: no cover
            # a half-opened file object of a library (h5netcdf, h5py) may complain from its destructor
            # at exit: the interruption is the message, not their "Exception ignored" traceback
            sys.unraisablehook = lambda unraisable: None
            print(tr("pmq: interrupted; outputs are complete or absent, never partial",
                     "pmq : interrompu ; les sorties sont complètes ou absentes, jamais partielles"), file=sys.stderr)
            return 130
        except Exception as exc:  # noqa: BLE001 - a bug: show it, never hide it
            return _internal(exc)


def _internal(exc: BaseException) -> int:
    import traceback
    traceback.print_exception(exc)
    print(tr(f"pmq: internal error ({type(exc).__name__}): this is a bug in pmq, not a problem with your input. "
             f"Please report it at {_issue_tracker()}, with the command line, pmq {__version__} and the traceback "
             "above.",
             f"pmq : erreur interne ({type(exc).__name__}) : c'est un bogue de pmq, non un problème de vos données. "
             f"Merci de le signaler, avec la ligne de commande, pmq {__version__} et la trace d'appels ci-dessus : "
             f"{_issue_tracker()}."), file=sys.stderr)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
