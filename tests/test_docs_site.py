"""The documentation site (docs/conf.py, built by `.ci/run` with ``sphinx -W``), checked without Sphinx: every
name of ``pmq.__all__`` has its entry in the API reference (docs/api/), every Markdown page of docs/ is
reachable from the root toctree, the gallery is examples/gallery/ with every script executed and written
outside the repository, each script has the title sphinx-gallery needs, and the ``docs`` extra provides the
extensions and is pinned in requirements/constraints.txt."""
import ast
import fnmatch
import os
import re
import runpy
import shutil
import sys
import tomllib
from pathlib import Path, PurePosixPath
from unittest import mock

import pytest

import pmq

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API = DOCS / "api"
GALLERY = ROOT / "examples" / "gallery"
#: ```{eval-rst} blocks of the API pages: ``.. autofunction:: pmq.project`` and its options
AUTODOC = re.compile(r"^\.\. auto(\w+):: +(\S+)\n((?:[ \t]+:[\w-]+:.*\n)*)", re.M)
TOCTREE = re.compile(r"^```\{toctree\}[^\n]*\n(.*?)^```", re.M | re.S)


@pytest.fixture(scope="module")
def conf():
    """docs/conf.py's settings, read by running it as Sphinx does; the environment variables and sys.path it
    sets are restored afterwards (its temporary gallery folder, empty, is removed)."""
    path = list(sys.path)
    with mock.patch.dict(os.environ):
        ns = runpy.run_path(str(DOCS / "conf.py"))
        ns["env"] = dict(os.environ)
    sys.path[:] = path
    shutil.rmtree(ns["env"]["PMQ_OUT"], ignore_errors=True)
    return ns


def _autodoc() -> list[tuple[str, str, str]]:
    """(kind, target, options) of every autodoc directive of the API pages."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(API.glob("*.md")))
    return AUTODOC.findall(text)


def _module_of(name: str) -> str:
    lazy = pmq._LAZY                           # the lazy names and their modules, not imported here
    return lazy[name] if name in lazy else getattr(getattr(pmq, name), "__module__", "pmq")


def test_every_public_name_is_in_the_api_reference():
    entries = _autodoc()
    targets = {target for _, target, _ in entries}
    # automodule with :members: documents the names of the module's __all__
    modules = {target for kind, target, opts in entries if kind == "module" and ":members:" in opts}
    missing = []
    for name in pmq.__all__:
        module = _module_of(name)
        if f"pmq.{name}" in targets or f"{module}.{name}" in targets:
            continue
        if module in modules and name in __import__(module, fromlist=["__all__"]).__all__:
            continue
        missing.append(name)
    assert missing == [], f"public names without an entry in docs/api/*.md: {missing}"
    # and the entries name real objects: no typo documents nothing (autodoc would only warn)
    for kind, target, _ in entries:
        if target.startswith("pmq.") and kind != "module" and target.count(".") == 1:
            assert target.split(".")[1] in pmq.__all__ or target == "pmq.__version__", target


def test_api_pages_cover_the_data_flow_and_the_command_line():
    pages = {p.stem for p in API.glob("*.md")}
    assert {"index", "data", "scenarios", "projection", "analysis", "plots", "export", "options", "cli"} <= pages
    assert "```{pmq-cli-help}" in (API / "cli.md").read_text(encoding="utf-8")
    assert ("pmq.labels.VARIABLE_REGISTRY" in {t for _, t, _ in _autodoc()})


def _pages() -> set[str]:
    """The documents of docs/ that are Markdown pages (docnames, POSIX, no suffix), the build's and the
    generated gallery's folders left out."""
    out = set()
    for p in DOCS.rglob("*.md"):
        rel = PurePosixPath(p.relative_to(DOCS).as_posix())
        if rel.parts[0] not in ("_build", "auto_gallery"):
            out.add(str(rel.with_suffix("")))
    return out


def _toctree_entries(docname: str, conf) -> list[str]:
    """The docnames a page's toctrees list (globs expanded; entries relative to the page, or to docs/ with a
    leading slash; ``Title <target>`` entries read for their target)."""
    text = (DOCS / f"{docname}.md").read_text(encoding="utf-8")
    base = PurePosixPath(docname).parent
    found = []
    for block in TOCTREE.findall(text):
        lines = [line.strip() for line in block.splitlines()]
        glob = ":glob:" in lines
        for line in lines:
            if not line or line.startswith(":"):
                continue
            m = re.search(r"<(.+)>$", line)
            entry = (m.group(1) if m else line).removesuffix(".md").removesuffix(".rst")
            target = entry.lstrip("/") if entry.startswith("/") else str(base / entry)
            target = os.path.normpath(target).replace(os.sep, "/")
            if glob and any(c in target for c in "*?["):
                found += sorted(d for d in _pages() if fnmatch.fnmatch(d, target))
            else:
                found.append(target)
    return found


def test_every_markdown_page_is_in_a_toctree(conf):
    gallery_index = f"{conf['sphinx_gallery_conf']['gallery_dirs']}/index"
    pages = _pages()
    seen, todo = {"index"}, ["index"]
    while todo:
        doc = todo.pop()
        for entry in _toctree_entries(doc, conf):
            assert entry in pages or entry == gallery_index, f"{doc}.md lists {entry!r}, which is no page"
            if entry in pages and entry not in seen:
                seen.add(entry)
                todo.append(entry)
    assert gallery_index in _toctree_entries("index", conf)
    orphans = set(conf["ORPHAN_PAGES"])
    assert sorted(pages - seen - orphans) == [], "pages no toctree reaches from docs/index.md"
    # an orphan is left out of the sidebar, not out of reach: a page of the site links to it
    assert orphans <= pages and not orphans & seen
    for page in orphans:
        assert any(f"]({page}.md)" in (DOCS / f"{doc}.md").read_text(encoding="utf-8") for doc in seen), page
    assert {"guide", "api/index", "readme", "scenarios/reference"} <= seen


def test_the_sidebar_lists_the_gallery_once_and_the_index_speaks_french_first(conf):
    """The sidebar's entries are the root toctree's: the executed gallery once (docs/gallery.md, the page the
    repository shows, is built as an orphan); the index opens in French, the English reference after."""
    entries = _toctree_entries("index", conf)
    assert entries.count(f"{conf['sphinx_gallery_conf']['gallery_dirs']}/index") == 1
    assert "gallery" not in entries and "gallery" in conf["ORPHAN_PAGES"]
    source = ["# Chart gallery\n"]
    conf["_declare_orphans"](None, "gallery", source)
    assert source[0].startswith("---\norphan: true\n---\n# Chart gallery")
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    assert text.index("## En français") < text.index("## Reference (in English)")
    assert "](guide.md)" in text.split("## Reference (in English)")[0]


def test_conf_executes_every_gallery_script_outside_the_repository(conf):
    sg = conf["sphinx_gallery_conf"]
    assert Path(sg["examples_dirs"]).resolve() == GALLERY
    scripts = sorted(GALLERY.glob("*.py"))
    assert len(scripts) >= 15
    assert all(re.search(sg["filename_pattern"], str(s)) for s in scripts), "a script sphinx-gallery would not run"
    assert sg.get("abort_on_example_error") and not sg.get("only_warn_on_example_error")
    out = Path(conf["env"]["PMQ_OUT"]).resolve()
    assert not out.is_relative_to(ROOT), "the gallery scripts would write their PNG into the repository"
    assert (GALLERY / "GALLERY_HEADER.rst").exists()
    # built and generated files stay out of git (and so out of ruff)
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert f"docs/{sg['gallery_dirs']}/" in ignored and "docs/_build/" in ignored
    # no intersphinx: the build needs no network
    assert "sphinx.ext.intersphinx" not in conf["extensions"] and not conf.get("intersphinx_mapping")


@pytest.mark.parametrize("script", sorted(GALLERY.glob("*.py")), ids=lambda p: p.name)
def test_gallery_script_has_a_title_for_sphinx_gallery(script):
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")), clean=False)
    assert doc, f"{script.name} has no docstring"
    title, underline, blank, *rest = doc.split("\n") + ["", ""]
    assert title.strip() and set(underline) == {"="} and len(underline) >= len(title), (
        f"{script.name}: the docstring must start with a title underlined with '=' (sphinx-gallery)")
    assert blank == "" and "".join(rest).strip(), f"{script.name}: a blank line, then the description"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_docs_extra_provides_the_extensions_and_is_pinned(conf):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = {_norm(re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0])
             for req in project["optional-dependencies"]["docs"]}
    provides = {"sphinx": "sphinx", "myst_parser": "myst-parser", "sphinx_gallery": "sphinx-gallery"}
    local = {p.stem for p in (DOCS / "_ext").glob("*.py")}
    for ext in conf["extensions"]:
        top = ext.split(".")[0]
        assert top in local or provides.get(top) in extra, f"extension {ext} comes from no package of the docs extra"
    assert _norm(conf["html_theme"]) in extra
    pins = {_norm(line.split("==")[0]) for line in (ROOT / "requirements" / "constraints.txt").read_text().split()
            if "==" in line}
    assert sorted(extra - pins) == [], "docs extra not pinned in requirements/constraints.txt"
