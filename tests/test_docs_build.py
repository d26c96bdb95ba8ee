"""The documentation site builds without a warning, and the build writes nothing into the repository.

The reference pages are generated from the code (configuration, OpenAPI document, command
lines), so this also fails when a new configuration key or environment variable has no
description, or a description names one the code no longer has.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

DOCS = ROOT / "docs"


def _tree(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.mark.slow
def test_docs_build_with_warnings_as_errors(tmp_path: Path) -> None:
    before = _tree(DOCS)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [
            sys.executable, "-m", "sphinx",
            "-W", "--keep-going", "-b", "html",
            "-d", str(tmp_path / "doctrees"),
            str(DOCS), str(tmp_path / "html"),
        ],  # fmt: skip
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        print(result.stdout[-5000:])
        print(result.stderr, file=sys.stderr)
    assert result.returncode == 0, result.stderr[-5000:]

    html = tmp_path / "html"
    for page in ("index", "configuration", "rest-api", "cli", "tutorial", "deployment", "adr/index"):
        assert (html / f"{page}.html").is_file(), page
    assert "BROKER_URL" in (html / "configuration.html").read_text(encoding="utf-8")
    assert "/tasks/{task_id}/" in (html / "rest-api.html").read_text(encoding="utf-8")
    assert 'id="cli-flask-db-upgrade"' in (html / "cli.html").read_text(encoding="utf-8")
    assert "count_words" in (html / "tutorial.html").read_text(encoding="utf-8")

    assert _tree(DOCS) == before, "the docs build wrote into docs/"
