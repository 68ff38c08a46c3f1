"""Sphinx configuration of pmq's documentation site.

    python -m pip install ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The Markdown pages of docs/ are read by MyST as they are (they also read well on a forge); the API
reference (docs/api/) is autodoc over the numpydoc docstrings (napoleon); the gallery is sphinx-gallery
over examples/gallery/, every script executed at build time.  Nothing is fetched from the network.
"""
from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))            # pmq from this checkout, even when it is not installed
sys.path.insert(0, str(DOCS / "_ext"))

# The gallery scripts write their PNG into $PMQ_OUT (default: ./gallery, in the repository): a temporary
# folder instead, removed at exit, so that a build leaves the tree as it found it.  sphinx-gallery scrapes
# the figures itself.
os.environ["PMQ_OUT"] = tempfile.mkdtemp(prefix="pmq-docs-gallery-")
atexit.register(shutil.rmtree, os.environ["PMQ_OUT"], ignore_errors=True)
os.environ.setdefault("PMQ_DPI", "80")
os.environ["MPLBACKEND"] = "Agg"

import pmq  # noqa: E402

project = "pmq"
author = "pmq developers"
copyright = "pmq developers (code: MIT; data: Licence Ouverte / Etalab 2.0)"
release = pmq.__version__
version = release
# The reference is in English, the « Guide de l'utilisateur » in French: English for Sphinx's own words.
language = "en"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx_gallery.gen_gallery",
    "pmq_docs",                          # docs/_ext/pmq_docs.py: the command line's help, the README page
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "auto_gallery/*.ipynb",
    "auto_gallery/*.py",
    "auto_gallery/*.zip",
    "auto_gallery/*.json",
]

# -- MyST ---------------------------------------------------------------------------------------------
# In-page links (`engine.md#corse`) point at GitHub-style slugs of the headings: generate them down to ###.
myst_heading_anchors = 3

# -- autodoc / napoleon (numpy-style docstrings) -------------------------------------------------------
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True
autodoc_member_order = "bysource"
# Annotations name pandas / xarray types that are not documented here (no intersphinx: no network):
# they stay in the signatures as plain text.
autodoc_typehints = "signature"

# -- sphinx-gallery: examples/gallery/*.py, each executed ----------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples" / "gallery"),
    "gallery_dirs": "auto_gallery",
    "filename_pattern": r".*\.py$",                 # execute every script, not only plot_*.py
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "write_computation_times": False,                # no sg_execution_times page in docs/
    "download_all_examples": False,
    "show_memory": False,
    "remove_config_comments": True,
    "backreferences_dir": None,
}

# -- HTML ---------------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"pmq {release}"
html_static_path: list[str] = []
html_show_sourcelink = False


# -- pages built outside the sidebar ----------------------------------------------------------------------
#: docs/gallery.md is the gallery as a reader of the repository sees it (its images committed beside it); the
#: site lists the executed gallery (auto_gallery) in the sidebar instead, so the gallery is listed once.  The
#: page is still built (links to it work) and is declared an orphan here rather than in the file (GitHub would
#: show its front matter as a table).
ORPHAN_PAGES = ("gallery",)


def _declare_orphans(app, docname, source):
    if docname in ORPHAN_PAGES:
        source[0] = "---\norphan: true\n---\n" + source[0]


def setup(app):
    app.connect("source-read", _declare_orphans)
