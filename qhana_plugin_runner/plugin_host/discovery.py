# SPDX-License-Identifier: Apache-2.0
"""Find plugin sources: folders from ``PLUGIN_FOLDERS`` and the entry-point group.

Nothing is imported here; discovery only produces :class:`PluginSource` records. Folder
semantics follow the original runner: a folder that is itself a package is one source;
otherwise each ``*.py`` file and each sub-package in it (names not starting with "." or "_")
is one source, imported by its bare top-level name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

__all__ = ["PluginSource", "discover_folder_sources", "discover_entry_point_sources"]


@dataclass(frozen=True)
class PluginSource:
    """Something the loader imports to find plugin classes."""

    module: str  # top-level import name, or the entry point's module
    kind: str  # "module", "package" or "entry-point"
    location: str  # file or folder path, or "name = value" of the entry point
    search_path: Path | None = None  # folder to put on sys.path (folder sources)
    attribute: str | None = None  # entry points of the form "module:attr"

    @property
    def label(self) -> str:
        return f"{self.kind} {self.module} ({self.location})"


def discover_folder_sources(folders: Iterable[str], base: Path | None = None) -> tuple[list[PluginSource], list[str]]:
    """Sources in ``folders``; also returns the folders that do not exist."""
    sources: list[PluginSource] = []
    missing: list[str] = []
    root = base or Path.cwd()
    for entry in folders:
        folder = Path(entry)
        folder = (folder if folder.is_absolute() else root / folder).resolve()
        if not folder.is_dir():
            missing.append(str(folder))
            continue
        if (folder / "__init__.py").is_file():
            sources.append(PluginSource(folder.name, "package", str(folder), folder.parent))
            continue
        for child in sorted(folder.iterdir()):
            if child.name.startswith((".", "_")):
                continue
            if child.is_file() and child.suffixes == [".py"]:
                sources.append(PluginSource(child.stem, "module", str(child), folder))
            elif child.is_dir() and (child / "__init__.py").is_file():
                sources.append(PluginSource(child.name, "package", str(child), folder))
    return sources, missing


def discover_entry_point_sources(group: str) -> list[PluginSource]:
    """Sources declared by installed distributions under the entry-point ``group``."""
    sources = []
    for point in sorted(entry_points(group=group), key=lambda ep: ep.name):
        module, _, attribute = point.value.partition(":")
        sources.append(
            PluginSource(module.strip(), "entry-point", f"{point.name} = {point.value}", None, attribute.strip() or None)
        )
    return sources
