"""Sphinx extension of pmq's documentation site (docs/conf.py).

``pmq-cli-help``: the ``--help`` text of ``pmq`` and of each of its commands, generated at build time
from :func:`pmq.cli.build_parser`, so the command-line page cannot drift from the parser.  The site is the
English reference: the parser is built in English (``build_parser("en")``), whatever ``PMQ_LANG`` says; the
command line itself answers in French unless told ``--lang en``.

The README on the site: docs/readme.md includes ../README.md (its ``docs/…`` links made relative by
MyST's ``relative-docs``).  A page of docs/ links to the README as a forge shows it, ``../README.md#…``
(outside the site's source folder); when Sphinx reads the page, :func:`readme_links` points those links
at the site's README page instead.  The Markdown files are not changed.

Attribute docstrings: napoleon reads the first line of a property's or a data's docstring as
``type: description``, but pmq's never use that form (the type is the annotation) and many start
with ``name: what it is`` or hold a colon in a sentence (``(with several: take one …)``), which napoleon
would cut in two, the first half shown as a "Type".  :func:`no_inline_attribute_type` stops that.
"""
from __future__ import annotations

import argparse
import os
import re

from docutils import nodes
from docutils.parsers.rst import Directive

#: Width of the help texts (argparse reads COLUMNS): the page's, whatever the terminal of the build.
WIDTH = 80


def _help(parser: argparse.ArgumentParser) -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        return parser.format_help()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The sub-commands of ``parser``, in the order ``pmq --help`` lists them."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


class CliHelp(Directive):
    """``pmq --help``, then one rubric and ``pmq COMMAND --help`` per command."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from pmq.cli import build_parser

        parser = build_parser("en")             # the site's language, not the build machine's PMQ_LANG
        out: list[nodes.Node] = []

        def block(title: str, ident: str, text: str) -> None:
            rubric = nodes.rubric(title, "")
            rubric += nodes.literal(title, title)
            rubric["ids"].append(ident)
            out.append(rubric)
            out.append(nodes.literal_block(text, text, language="text"))

        block("pmq --help", "pmq-help", _help(parser))
        for name, sub in commands(parser).items():
            block(f"pmq {name} --help", f"pmq-{name}", _help(sub))
        return out


def readme_links(app, docname: str, source: list[str]) -> None:
    """Links to the repository's README, from the page ``docname``, become links to the page ``readme``
    (MyST reads a path starting with ``/`` from the source folder); only links that climb out of docs/."""
    depth = docname.count("/") + 1                      # docs/guide.md: one ``../`` reaches the README
    source[0] = re.sub(r"\]\(" + re.escape("../" * depth) + r"README\.md(?=[)#])", "](/readme.md", source[0])


def no_inline_attribute_type(app, what: str, name: str, obj, options, lines: list[str]) -> None:
    """Before napoleon (a lower priority runs first): an empty reST comment (``..`` and a blank line,
    which renders as nothing) becomes the first line, where napoleon looks for an inline ``type:`` in a
    property's, an attribute's or a data's docstring; the text after it stays whole.  (A blank first line
    would not do: napoleon skips blank lines before looking.)"""
    if what in ("attribute", "property", "data") and any(line.strip() for line in lines):
        lines[:0] = ["..", ""]


def setup(app):
    app.add_directive("pmq-cli-help", CliHelp)
    app.connect("source-read", readme_links)
    app.connect("autodoc-process-docstring", no_inline_attribute_type, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
