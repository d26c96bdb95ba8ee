# SPDX-License-Identifier: Apache-2.0
"""Import plugin sources, validate the plugin classes they define, and register them.

Each source is imported inside a loading session (``LOADING_APP`` set), so classes defined
during the import are instantiated for the app being built. A source that fails to import and a
class that breaks a rule become :class:`LoadFailure` records in the :class:`LoadReport`, logged
as warnings; the other plugins load regardless.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import logging
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from flask import Flask
from packaging.version import InvalidVersion, Version

from ..errors import PluginLoadError, PluginValidationError
from .base import CLASSES_BY_MODULE, LOADING_APP, QHAnaPluginBase
from .discovery import PluginSource, discover_entry_point_sources, discover_folder_sources
from .registry import PluginRegistry

__all__ = ["LoadFailure", "LoadReport", "load_plugins", "collect_sources"]

_LOG = logging.getLogger(__name__)
_NAME_PATTERN = re.compile(r"^[\w.~-]+$")


@dataclass
class LoadFailure:
    """Why a plugin source or class was not loaded."""

    source: str
    stage: str  # "import", "validate" or "mount"
    reason: str
    plugin: str | None = None
    detail: str | None = None  # traceback, when there is one


@dataclass
class LoadReport:
    """What the loader did for one app."""

    sources: list[PluginSource] = field(default_factory=list)
    plugins: list[QHAnaPluginBase] = field(default_factory=list)
    failures: list[LoadFailure] = field(default_factory=list)
    missing_folders: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)  # modules whose import succeeded

    def fail(self, failure: LoadFailure) -> None:
        self.failures.append(failure)
        who = failure.plugin or failure.source
        _LOG.warning("Plugin %s not loaded (%s): %s", who, failure.stage, failure.reason)


def collect_sources(app: Flask) -> tuple[list[PluginSource], list[str]]:
    """Folder sources, explicitly named modules, then entry points (in that order)."""
    sources, missing = discover_folder_sources(app.config.get("PLUGIN_FOLDERS") or [])
    for module in app.config.get("PLUGIN_MODULES") or []:
        sources.append(PluginSource(module, "module-name", module))
    group = app.config.get("PLUGIN_ENTRY_POINT_GROUP")
    if group:
        sources.extend(discover_entry_point_sources(group))
    return sources, missing


def load_plugins(app: Flask, registry: PluginRegistry) -> LoadReport:
    """Import every plugin source of ``app`` and register its valid plugins in ``registry``."""
    report = LoadReport()
    report.sources, report.missing_folders = collect_sources(app)
    for folder in report.missing_folders:
        _LOG.info("Plugin folder %s does not exist; skipped.", folder)
    token = LOADING_APP.set(app)
    try:
        for source in report.sources:
            _load_source(app, source, registry, report)
    finally:
        LOADING_APP.reset(token)
    return report


def _load_source(app: Flask, source: PluginSource, registry: PluginRegistry, report: LoadReport) -> None:
    try:
        _import_source(source)
    except PluginLoadError as err:
        report.fail(LoadFailure(source.label, "import", str(err)))
        return
    except ImportError as err:
        missing = f"missing dependency {err.name!r}" if err.name and err.name != source.module else str(err)
        report.fail(LoadFailure(source.label, "import", missing, detail=traceback.format_exc()))
        return
    except (Exception, SystemExit) as err:  # plugin code: never let it stop the others
        report.fail(LoadFailure(source.label, "import", repr(err), detail=traceback.format_exc()))
        return
    report.modules.append(source.module)
    for cls in _classes_of(source.module):
        try:
            plugin = _validate(cls)
            registry.add(plugin)
        except PluginValidationError as err:
            report.fail(LoadFailure(source.label, "validate", str(err), plugin=_describe(cls)))
            continue
        if getattr(plugin, "app", None) is not app:
            plugin.app = app
            plugin.init_app(app)
        report.plugins.append(plugin)


def _import_source(source: PluginSource) -> ModuleType:
    if source.search_path is not None:
        _check_name_free(source)
        path = str(source.search_path)
        if path not in sys.path:
            sys.path.append(path)
    module = importlib.import_module(source.module)
    if source.attribute:
        target: object = module
        for part in source.attribute.split("."):
            target = getattr(target, part)
    return module


def _expected_origin(source: PluginSource) -> Path:
    location = Path(source.location)
    return location / "__init__.py" if source.kind == "package" else location


def _check_name_free(source: PluginSource) -> None:
    """Refuse a folder plugin whose top-level name is taken by another module."""
    name = source.module
    expected = _expected_origin(source).resolve()
    if name in sys.builtin_module_names or name in getattr(sys, "stdlib_module_names", ()):
        raise PluginLoadError(f"the name {name!r} is taken by a standard library module; rename the plugin")
    loaded = sys.modules.get(name)
    if loaded is not None:
        origin = getattr(loaded, "__file__", None)
        if origin is None or Path(origin).resolve() != expected:
            raise PluginLoadError(f"the module name {name!r} is already taken by {origin or 'a built-in module'}")
        return
    others = [p for p in sys.path if Path(p or ".").resolve() != source.search_path]
    spec = importlib.machinery.PathFinder.find_spec(name, others)
    if spec is not None and spec.origin and Path(spec.origin).resolve() != expected:
        raise PluginLoadError(
            f"the module name {name!r} is already taken by {spec.origin}; two plugins or a plugin "
            "and an installed package cannot share a top-level name"
        )


def _classes_of(module: str) -> list[type[QHAnaPluginBase]]:
    """Plugin classes defined in ``module`` or its submodules (latest definition of each)."""
    found: dict[tuple[str, str], type[QHAnaPluginBase]] = {}
    prefix = module + "."
    for name, classes in list(CLASSES_BY_MODULE.items()):
        if name == module or name.startswith(prefix):
            for cls in classes:
                found[(cls.__module__, cls.__qualname__)] = cls
    return list(found.values())


def _describe(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _validate(cls: type[QHAnaPluginBase]) -> QHAnaPluginBase:
    who = _describe(cls)
    name = getattr(cls, "name", None)
    version = getattr(cls, "version", None)
    if not isinstance(name, str) or not name.strip():
        raise PluginValidationError(who, "missing name (set the class attribute `name`)")
    if not _NAME_PATTERN.match(name):
        raise PluginValidationError(who, f"name {name!r} may only use letters, digits, '.', '_', '~' and '-'")
    if not isinstance(version, str) or not version.strip():
        raise PluginValidationError(who, "missing version (set the class attribute `version`)")
    try:
        Version(version)
    except InvalidVersion:
        raise PluginValidationError(who, f"version {version!r} is not a PEP 440 version (e.g. v1.0.0)") from None
    if not isinstance(cls.tags, list | tuple) or not all(isinstance(t, str) for t in cls.tags):
        raise PluginValidationError(who, "tags must be a list of strings")
    if cls.construction_error is not None:
        raise PluginValidationError(who, f"the plugin's constructor failed: {cls.construction_error!r}")
    if cls.instance is None:
        raise PluginValidationError(who, "the plugin has no instance")
    return cls.instance
