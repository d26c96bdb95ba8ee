# SPDX-License-Identifier: Apache-2.0
"""Fetch plugins from git repositories (``GIT_PLUGINS``) into a plugin folder.

One line per source, ``#`` starts a comment line::

    git+https://github.com/org/repo.git@v1.2#subdirectory=plugins/my_plugin
    git+https://example.org/other@main

The repository is cloned (shallow when a ref is a branch or tag) below
``<target>/.repositories/``, then what the line names is put into ``<target>``, a folder of
``PLUGIN_FOLDERS``: a package folder (with ``__init__.py``) as ``<target>/<package>``, a plain
folder's contents as they are, and a single ``.py`` file as ``<target>/<file>``. A source that is
already in place is left alone, so restarts do not fetch again.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, urlsplit, urlunsplit

__all__ = ["GitPluginSource", "parse_git_plugins", "fetch_git_plugins"]

_REF = re.compile(r"^[\w./-]+$")


@dataclass(frozen=True)
class GitPluginSource:
    url: str
    ref: str | None = None
    subdirectory: str | None = None

    @property
    def slug(self) -> str:
        """A folder name unique to this repository and ref."""
        name = re.sub(r"[^\w.-]+", "_", self.url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")) or "repo"
        digest = hashlib.sha256(f"{self.url}@{self.ref or ''}".encode()).hexdigest()[:10]
        return f"{name}_{digest}"


def parse_git_plugins(text: str) -> list[GitPluginSource]:
    """Parse ``GIT_PLUGINS``; a malformed line is a ValueError naming it."""
    sources = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("git+"):
            raise ValueError(f"GIT_PLUGINS line {line!r}: expected git+<url>[@ref][#subdirectory=<dir>]")
        spec, _, fragment = line[4:].partition("#")
        subdirectory = parse_qs(fragment).get("subdirectory", [None])[0] if fragment else None
        if subdirectory is not None:
            parts = PurePosixPath(subdirectory).parts
            if PurePosixPath(subdirectory).is_absolute() or ".." in parts:
                raise ValueError(f"GIT_PLUGINS line {line!r}: the subdirectory must stay inside the repository")
        parts = urlsplit(spec)
        url, ref = spec, None
        if not parts.scheme or not (parts.netloc or parts.scheme == "file"):
            raise ValueError(f"GIT_PLUGINS line {line!r}: expected a URL with a scheme (https://, ssh://, file://)")
        if "@" in parts.path:  # as pip reads VCS URLs: the ref follows the last @ of the path
            path, ref = parts.path.rsplit("@", 1)
            url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        if ref is not None and (not ref or not _REF.match(ref) or ref.startswith("-")):
            raise ValueError(f"GIT_PLUGINS line {line!r}: invalid ref {ref!r}")
        if not url or url.startswith("-"):
            raise ValueError(f"GIT_PLUGINS line {line!r}: missing repository URL")
        sources.append(GitPluginSource(url=url, ref=ref, subdirectory=subdirectory))
    return sources


def _run(args: list[str], cwd: Path | None = None) -> None:
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _clone(source: GitPluginSource, checkout: Path) -> None:
    temp = checkout.with_name(checkout.name + ".partial")
    shutil.rmtree(temp, ignore_errors=True)
    try:
        if source.ref:
            try:
                _run(["git", "clone", "--quiet", "--depth=1", f"--branch={source.ref}", "--", source.url, str(temp)])
            except subprocess.CalledProcessError:  # a commit id: full clone, then check it out
                shutil.rmtree(temp, ignore_errors=True)
                _run(["git", "clone", "--quiet", "--", source.url, str(temp)])
                _run(["git", "checkout", "--quiet", source.ref], cwd=temp)
        else:
            _run(["git", "clone", "--quiet", "--depth=1", "--", source.url, str(temp)])
        temp.rename(checkout)  # a clone cut short never looks complete
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _place(selected: Path, target: Path) -> list[Path]:
    if selected.is_file():
        if selected.suffix != ".py":
            raise ValueError(f"{selected.name} is not a Python file")
        destinations = [(selected, target / selected.name)]
    elif (selected / "__init__.py").is_file():
        destinations = [(selected, target / selected.name)]
    else:
        destinations = [(child, target / child.name) for child in sorted(selected.iterdir()) if not child.name.startswith((".", "_"))]
    placed = []
    for source, destination in destinations:
        if destination.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns(".git", "__pycache__"))
        else:
            shutil.copy2(source, destination)
        placed.append(destination)
    return placed


def fetch_git_plugins(sources: list[GitPluginSource], target: Path, log: Callable[[str], None] = print) -> list[Path]:
    """Clone each source (once) and put its plugins into ``target``; returns what was placed."""
    target.mkdir(parents=True, exist_ok=True)
    repositories = target / ".repositories"
    repositories.mkdir(exist_ok=True)
    placed: list[Path] = []
    for source in sources:
        checkout = repositories / source.slug
        if not checkout.is_dir():
            log(f"cloning {source.url}" + (f" at {source.ref}" if source.ref else ""))
            try:
                _clone(source, checkout)
            except subprocess.CalledProcessError as err:
                raise RuntimeError(f"git could not fetch {source.url}: {err.stderr.strip()}") from None
        selected = (checkout / source.subdirectory).resolve() if source.subdirectory else checkout
        if not selected.is_relative_to(checkout.resolve()) or not selected.exists():
            raise RuntimeError(f"{source.url} has no {source.subdirectory!r}")
        placed += _place(selected, target)
    for path in placed:
        log(f"plugin source {path.name} placed in {target}")
    return placed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fetch the plugins listed in GIT_PLUGINS into a plugin folder.")
    parser.add_argument("--plugins-path", default=os.environ.get("GIT_PLUGINS_PATH", "./git-plugins"))
    args = parser.parse_args(argv)
    try:
        sources = parse_git_plugins(os.environ.get("GIT_PLUGINS", ""))
        fetch_git_plugins(sources, Path(args.plugins_path))
    except (ValueError, RuntimeError) as err:
        print(f"git plugins: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
