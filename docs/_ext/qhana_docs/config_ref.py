# SPDX-License-Identifier: Apache-2.0
"""Configuration reference generated from ``qhana_plugin_runner.config``.

``qhana-config-keys`` lists every key of the default classes (``ProductionConfig`` with the
values that ``DebugConfig`` and ``TestingConfig`` change) and then the keys the code reads
without a class default. ``qhana-env-vars`` lists the rows of ``ENV_OVERRIDES``
(``:which: overrides``) or the variables the code reads directly (``:which: other``).

Keys, defaults and variable names come from the code. Descriptions come from the code where it
has them (``EnvOverride.description``) and otherwise from the directive's body, one entry per
name::

    KEY: Markdown text,
      continued on indented lines.

The build warns (an error with ``-W``) about a name without a description and about a
description whose name the code no longer has, so the page cannot drift from the code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .nodes_util import join, literal, table
from .runner import ROOT, TASKS_FILE

LOG = logging.getLogger(__name__)

PACKAGE = ROOT / "qhana_plugin_runner"

_ENTRY = re.compile(r"^([A-Z][A-Z0-9_]*)\s*:\s?(.*)$")

# value formats of the parsers in config/env.py (fallback: the parser's name)
PARSER_FORMATS = {
    "_str": "text",
    "_int": "integer",
    "_float": "number",
    "parse_bool": "`true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`",
    "_path_list": "`:`-separated list",
    "_json_object": "JSON object",
    "_url_map": "JSON object `{regex: replacement}`",
    "_csv": "comma-separated list, or `*`",
}


def parse_descriptions(lines: Iterable[str]) -> dict[str, tuple[str, int]]:
    """``NAME: text`` entries (continuation lines indented) → {name: (text, line offset)}."""
    entries: dict[str, tuple[str, int]] = {}
    current: str | None = None
    for offset, line in enumerate(lines):
        if not line.strip():
            continue
        match = _ENTRY.match(line)
        if match and not line[0].isspace():
            current = match.group(1)
            if current in entries:
                raise ValueError(f"{current} is described twice")
            entries[current] = (match.group(2).strip(), offset)
        elif current is not None and line[0].isspace():
            text, start = entries[current]
            entries[current] = (f"{text} {line.strip()}".strip(), start)
        else:
            raise ValueError(f"line {offset + 1} is neither 'NAME: text' nor an indented continuation: {line!r}")
    return entries


def class_keys(cls: type) -> dict[str, Any]:
    """Upper-case attributes of a config class and its bases, in definition order."""
    keys: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if name.isupper() and not name.startswith("_"):
                keys[name] = value
    return keys


def show_value(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if value else "''"
    return repr(value)


def _module_name(path: Path) -> str:
    if path.parent == ROOT:
        return path.name
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _is_config_expr(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "config"
    if isinstance(node, ast.Name):
        return node.id == "config" or node.id.endswith("_config")
    return False


def _config_read(node: ast.AST) -> tuple[ast.expr, ast.expr | None] | None:
    """(key, default) of ``<...>.config.get(key, default)``, ``config.setdefault(...)`` or
    ``config[key]`` (also on names like ``config`` and ``test_config``), else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"get", "setdefault"} and _is_config_expr(node.func.value) and node.args:
        return node.args[0], node.args[1] if len(node.args) > 1 else None
    if isinstance(node, ast.Subscript) and _is_config_expr(node.value):
        return node.slice, None
    return None


def _key_helpers(tree: ast.Module) -> dict[str, tuple[int, str]]:
    """Functions that read the config key named by a parameter: {name: (position, parameter)}."""
    helpers: dict[str, tuple[int, str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = [arg.arg for arg in node.args.args]
        for inner in ast.walk(node):
            read = _config_read(inner)
            if read and isinstance(read[0], ast.Name) and read[0].id in params:
                helpers[node.name] = (params.index(read[0].id), read[0].id)
                break
    return helpers


def _note(found: dict[str, dict[str, Any]], module: str, constants: dict[str, str], key_node: ast.expr | None, default_node: ast.expr | None) -> None:
    """Record a read of the key ``key_node`` names (a literal or a module constant), if any."""
    if isinstance(key_node, ast.Constant) and isinstance(key_node.value, str):
        key = key_node.value
    elif isinstance(key_node, ast.Name) and key_node.id in constants:
        key = constants[key_node.id]
    else:
        return
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", key):
        return
    entry = found.setdefault(key, {"default": None, "modules": set()})
    entry["modules"].add(module)
    if default_node is not None and entry["default"] is None:
        entry["default"] = ast.unparse(default_node)


def keys_read_by_code(package: Path = PACKAGE) -> dict[str, dict[str, Any]]:
    """Config keys the package reads or sets by name: {key: {default, modules}}.

    Found syntactically: ``<...>.config.get("KEY", default)``, ``config.setdefault(...)`` and
    ``config["KEY"]`` with a literal key or a module-level string constant; calls of helpers that
    read the key named by their argument (``denied_networks(KEY, config)``); and string
    defaults of parameters called ``config_key``.
    """
    trees = {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in sorted(package.rglob("*.py"))}
    helpers: dict[str, tuple[int, str]] = {}
    for tree in trees.values():
        helpers.update(_key_helpers(tree))
    found: dict[str, dict[str, Any]] = {}
    for path, tree in trees.items():
        module = _module_name(path)
        constants = _module_constants(tree)

        for node in ast.walk(tree):
            read = _config_read(node)
            if read is not None:
                _note(found, module, constants, *read)
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name in helpers:
                    position, param = helpers[name]
                    if len(node.args) > position:
                        _note(found, module, constants, node.args[position], None)
                    for keyword in node.keywords:
                        if keyword.arg == param:
                            _note(found, module, constants, keyword.value, None)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                positional = [*node.args.posonlyargs, *node.args.args]
                defaults = list(zip(positional[len(positional) - len(node.args.defaults) :], node.args.defaults, strict=True))
                defaults += [(arg, default) for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True) if default is not None]
                for arg, default in defaults:
                    if arg.arg == "config_key":
                        _note(found, module, constants, default, None)
    return found


def _module_constants(tree: ast.Module) -> dict[str, str]:
    constants: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def _environ_expr(node: ast.expr) -> bool:
    """``os.environ`` or a mapping named ``environ`` (helpers often take one as a parameter)."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (isinstance(node, ast.Name) and node.id == "environ")


def _environ_read(node: ast.AST) -> tuple[ast.expr, ast.expr | None] | None:
    """(name, default) of ``os.environ.get(name, default)``, ``os.getenv(...)``,
    ``os.environ[name]`` (or the same on a mapping called ``environ``), else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
        is_get = node.func.attr == "get" and _environ_expr(node.func.value)
        is_getenv = node.func.attr == "getenv" and isinstance(node.func.value, ast.Name) and node.func.value.id == "os"
        if is_get or is_getenv:
            return node.args[0], node.args[1] if len(node.args) > 1 else None
    if isinstance(node, ast.Subscript) and _environ_expr(node.value) and isinstance(node.ctx, ast.Load):
        return node.slice, None
    return None


def _env_helpers(tree: ast.Module) -> dict[str, int]:
    """Functions that read the variable named by one of their parameters: {name: position}.

    ``def env_int(name, default): ... os.environ.get(name) ...`` makes ``env_int("PORT", 1)``
    a read of ``PORT`` (nested helpers are found too, by their bare name).
    """
    helpers: dict[str, int] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = [arg.arg for arg in node.args.args]
        for inner in ast.walk(node):
            read = _environ_read(inner)
            if read and isinstance(read[0], ast.Name) and read[0].id in params:
                helpers[node.name] = params.index(read[0].id)
                break
    return helpers


def env_vars_read_by_code(files: Iterable[Path]) -> dict[str, dict[str, Any]]:
    """Variables the code reads: {name: {default, modules}}.

    Found syntactically: ``os.environ.get``, ``os.getenv``, ``os.environ[...]`` (also on a
    mapping called ``environ``) with a literal name or a module-level string constant, and calls
    of helper functions that read the variable named by their argument (see :func:`_env_helpers`).
    """
    found: dict[str, dict[str, Any]] = {}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        constants = _module_constants(tree)
        helpers = _env_helpers(tree)
        module = _module_name(path)
        for node in ast.walk(tree):
            read = _environ_read(node)
            if read is None and isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
                position = helpers.get(name or "")
                if position is not None and len(node.args) > position:
                    rest = node.args[position + 1 :]
                    read = (node.args[position], rest[0] if rest else None)
            if read is None:
                continue
            name_node, default_node = read
            if isinstance(name_node, ast.Constant) and isinstance(name_node.value, str):
                name = name_node.value
            elif isinstance(name_node, ast.Name) and name_node.id in constants:
                name = constants[name_node.id]
            else:
                continue
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
                continue
            entry = found.setdefault(name, {"default": None, "modules": set()})
            entry["modules"].add(module)
            if default_node is not None and entry["default"] is None:
                entry["default"] = ast.unparse(default_node)
    return found


def _prefixes(option: str | None) -> list[str]:
    return [prefix.strip() for prefix in (option or "").split(",") if prefix.strip()]


class _DescribedTable(SphinxDirective):
    has_content = True
    option_spec = {"which": directives.unchanged, "exclude": directives.unchanged, "only": directives.unchanged}

    def setup_descriptions(self) -> None:
        self.env.note_reread()  # generated from the code: rebuilt on every run
        try:
            self.descriptions = parse_descriptions(self.content)
        except ValueError as err:
            raise self.error(f"{self.name}: {err}") from None
        self.used: set[str] = set()

    def description(self, name: str) -> list[nodes.Node]:
        """The body's description of ``name``, parsed as Markdown."""
        if name in self.descriptions:
            self.used.add(name)
            text, offset = self.descriptions[name]
        else:
            LOG.warning("%s: %s has no description; describe it in the directive body (NAME: text)", self.name, name, location=self.get_location(), type="qhana", subtype="undocumented")
            return [nodes.paragraph(text="")]
        container = nodes.container()
        self.state.nested_parse(StringList([text], source=self.get_source_info()[0]), self.content_offset + offset, container)
        return list(container.children)

    def warn_unused(self) -> None:
        for name in sorted(set(self.descriptions) - self.used):
            LOG.warning("%s: %s is described but the code has no such name (stale description?)", self.name, name, location=self.get_location(), type="qhana", subtype="stale")


class ConfigKeysDirective(_DescribedTable):
    """Every key of the default classes, then the keys the code reads without a class default.

    One body describes both tables, so a key can move into or out of the classes without its
    description moving.
    """

    def run(self) -> list[nodes.Node]:
        from qhana_plugin_runner.config.defaults import DebugConfig, ProductionConfig, TestingConfig
        from qhana_plugin_runner.config.env import ENV_OVERRIDES

        self.setup_descriptions()
        production = class_keys(ProductionConfig)
        variants = {"debug": class_keys(DebugConfig), "testing": class_keys(TestingConfig)}
        all_keys = dict(production)
        for keys in variants.values():
            for key, value in keys.items():
                all_keys.setdefault(key, value)

        env_by_key: dict[str, list[nodes.Node]] = {}
        for row in ENV_OVERRIDES:
            label = row.env if row.celery_key is None else f"{row.env} → {row.celery_key}"
            env_by_key.setdefault(row.key, []).append(literal(label))

        rows = []
        for key in all_keys:
            default: list[nodes.Node] = [literal(show_value(production[key]))] if key in production else [nodes.Text("unset")]
            for mode, keys in variants.items():
                if key in keys and (key not in production or keys[key] != production[key]):
                    default += [nodes.Text(f"; {mode}: "), literal(show_value(keys[key]))]
            rows.append([literal(key), default, join(env_by_key.get(key, [])), self.description(key)])
        result: list[nodes.Node] = [
            table(["key", "default (production; debug, testing)", "environment variable", "description"], rows, [22, 22, 16, 40], classes=["qhana-config"])
        ]

        rows = []
        for key, entry in sorted(keys_read_by_code().items()):
            if key in all_keys:
                continue
            default = [literal(entry["default"])] if entry["default"] is not None else [nodes.Text("unset")]
            modules = join(literal(module) for module in sorted(entry["modules"]))
            rows.append([literal(key), default, join(env_by_key.get(key, [])), self.description(key), modules])
        if rows:
            result.append(nodes.rubric(text="Keys without a class default"))
            result.append(
                nodes.paragraph(
                    text="Read by the code but not defined in the default classes, so unset unless a configuration file sets them; "
                    "the default is what the code uses then."
                )
            )
            result.append(table(["key", "default", "environment variable", "description", "read in"], rows, [20, 14, 14, 34, 18], classes=["qhana-config"]))
        self.warn_unused()
        return result


class EnvVarsDirective(_DescribedTable):
    """``:which: overrides`` (default): ``ENV_OVERRIDES``; ``:which: other``: read directly.

    With ``:which: other``, ``:exclude:`` and ``:only:`` take comma-separated module prefixes
    (``tasks.py`` is the module name of the invoke tasks).
    """

    def run(self) -> list[nodes.Node]:
        from qhana_plugin_runner.config.env import ENV_OVERRIDES

        self.setup_descriptions()
        which = self.options.get("which", "overrides")
        rows = []
        if which == "overrides":
            for row in ENV_OVERRIDES:
                target = row.key if row.celery_key is None else f'{row.key}["{row.celery_key}"]'
                parser = getattr(row.parse, "__name__", repr(row.parse))
                fmt = PARSER_FORMATS.get(parser, f"`{parser}`")
                code_text = getattr(row, "description", "") or ""
                if code_text:
                    description = self._code_description(code_text)
                    if row.env in self.descriptions:
                        self.used.add(row.env)
                        LOG.warning("%s: %s is described in ENV_OVERRIDES; drop the entry in the directive body", self.name, row.env, location=self.get_location(), type="qhana", subtype="duplicate")
                else:
                    description = self.description(row.env)
                rows.append([literal(row.env), literal(target), fmt, description])
            headers = ["variable", "sets", "format", "description"]
            widths = [20, 22, 14, 44]
        elif which == "other":
            excluded = _prefixes(self.options.get("exclude"))
            only = _prefixes(self.options.get("only"))
            files = [path for path in [*sorted(PACKAGE.rglob("*.py")), TASKS_FILE] if not any(_module_name(path).startswith(prefix) for prefix in excluded)]
            if only:
                files = [path for path in files if any(_module_name(path).startswith(prefix) for prefix in only)]
            # variables of ENV_OVERRIDES are in their own table, unless the caller picked modules
            known = set() if only else {row.env for row in ENV_OVERRIDES}
            for name, entry in sorted(env_vars_read_by_code(files).items()):
                if name in known:
                    continue
                default = [literal(entry["default"])] if entry["default"] is not None else [nodes.Text("unset")]
                modules = join(literal(module) for module in sorted(entry["modules"]))
                rows.append([literal(name), default, self.description(name), modules])
            headers = ["variable", "default", "description", "read in"]
            widths = [26, 12, 44, 18]
        else:
            raise self.error(f"{self.name}: unknown :which: {which!r} (overrides or other)")
        self.warn_unused()
        return [table(headers, rows, widths, classes=["qhana-env"])]

    def _code_description(self, text: str) -> list[nodes.Node]:
        container = nodes.container()
        self.state.nested_parse(StringList([text], source="qhana_plugin_runner/config/env.py"), 0, container)
        return list(container.children)
