# SPDX-License-Identifier: Apache-2.0
"""Sphinx configuration of the runner's documentation site.

Build it with ``.venv/bin/python -m sphinx -W -b html docs docs/_build/html``. The pages stay
Markdown (MyST); the reference pages are generated from the code by the local extension in
``docs/_ext/qhana_docs``. The build needs no network and no database or broker server, and
writes nothing into the repository besides the output folder given on the command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

# importing the runner, the bundled plugins and tasks.py must not leave __pycache__ folders
sys.dont_write_bytecode = True

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

project = "qhana-plugin-runner"
author = "QHAna plugin runner contributors"
copyright = "QHAna plugin runner contributors, Apache License 2.0"
release = _PROJECT["version"]
version = release

extensions = [
    "myst_parser",
    "qhana_docs",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "tutorial_plugin", "Thumbs.db", ".DS_Store"]

# MyST: anchors for headings (links such as rest-api.md#webhooks), fenced directives with :::
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

# no network: no intersphinx, no remote images
nitpicky = False

html_theme = "alabaster"
html_title = f"qhana-plugin-runner {release}"
html_theme_options = {
    "description": "Hosts QHAna plugins: REST APIs, micro-frontends and Celery tasks.",
    "fixed_sidebar": True,
    "page_width": "1200px",
    "sidebar_width": "240px",
    "show_relbars": True,
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
html_static_path = ["_static"]
html_css_files = ["qhana.css"]
html_show_sourcelink = False
