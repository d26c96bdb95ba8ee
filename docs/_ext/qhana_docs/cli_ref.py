# SPDX-License-Identifier: Apache-2.0
"""Command-line reference generated from the code.

- ``qhana-flask-cli``: every ``flask`` command of a runner app (Flask's own, the runner's from
  ``register_cli``/``init_db``, and those of extensions found through the ``flask.commands``
  entry points, such as Flask-Migrate's ``db`` group and flask-smorest's ``openapi``).
- ``qhana-invoke-tasks``: the tasks of ``tasks.py`` as ``invoke`` sees them.
- ``qhana-launcher-help``: ``qhana-plugin-runner --help``.
- ``qhana-worker-help``: the options ``python -m qhana_plugin_runner.worker`` reads.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
from collections.abc import Iterator
from typing import Any

import click
from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from .nodes_util import SectionMaker, join, literal, paragraphs, table
from .runner import invoke_tasks_module, runner_app


def _origin(command: click.Command, ctx: click.Context | None = None) -> str:
    """Module that defines the command; for a group without a callback, its commands' modules."""
    callback = command.callback
    if callback is not None:
        return getattr(inspect.unwrap(callback), "__module__", "") or ""
    if isinstance(command, click.Group) and ctx is not None:
        modules = []
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            module = _origin(sub) if sub is not None else ""
            if module and module not in modules:
                modules.append(module)
        if modules:
            return ", ".join(modules)
    return type(command).__module__


def _command_section(sections: SectionMaker, command: click.Command, ctx: click.Context, path: list[str]) -> nodes.section:
    full = " ".join(path)
    section = sections.section([literal(full)], full)
    section.extend(paragraphs(command.help or command.short_help or ""))
    usage = command.get_usage(ctx).removeprefix("Usage: ")
    section += nodes.literal_block(usage, usage, language="none")
    rows = []
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            names, help_text = record
            if param.name == "help" and names == "--help":
                continue  # every command has it
            rows.append([literal(names), help_text])
        elif isinstance(param, click.Argument):
            metavar = param.make_metavar(ctx) if _takes_ctx(param.make_metavar) else param.make_metavar()
            rows.append([literal(metavar), "argument" + ("" if param.required else " (optional)")])
    if rows:
        section += table(["option", "description"], rows, [30, 70])
    origin = _origin(command, ctx)
    if origin:
        section += nodes.paragraph("", "", nodes.Text("Defined in "), *join(literal(module) for module in origin.split(", ")), nodes.Text("."))
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = click.Context(sub, info_name=name, parent=ctx)
            section += _command_section(sections, sub, sub_ctx, [*path, name])
    return section


def _takes_ctx(method: Any) -> bool:
    try:
        return "ctx" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


_INVOKE_KINDS = {str: "TEXT", int: "INTEGER", float: "FLOAT", list: "TEXT (repeatable)"}


class FlaskCliDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        from flask.cli import FlaskGroup, ScriptInfo

        self.env.note_reread()
        app = runner_app(self.env.app)
        group = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)
        info = ScriptInfo(create_app=lambda: app, set_debug_flag=False, load_dotenv_defaults=False)
        root = click.Context(group, info_name="flask", obj=info)
        sections = SectionMaker(self.state.document, "cli")
        result: list[nodes.Node] = []
        with root:
            names = group.list_commands(root)
            overview = []
            for name in names:
                command = group.get_command(root, name)
                if command is None or command.hidden:
                    continue
                ctx = click.Context(command, info_name=name, parent=root)
                origin = join(literal(module) for module in _origin(command, ctx).split(", "))
                overview.append([literal(f"flask {name}"), command.get_short_help_str(limit=90), origin])
            result.append(table(["command", "what it does", "defined in"], overview, [22, 50, 28]))
            for name in names:
                command = group.get_command(root, name)
                if command is None or command.hidden:
                    continue
                ctx = click.Context(command, info_name=name, parent=root)
                result.append(_command_section(sections, command, ctx, ["flask", name]))
        return result


class InvokeTasksDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        import invoke

        self.env.note_reread()
        module = invoke_tasks_module(self.env.app)
        collection = invoke.Collection.from_module(module)
        sections = SectionMaker(self.state.document, "invoke")
        result: list[nodes.Node] = []
        overview = []
        for name in sorted(collection.task_names):
            task = collection[name]
            overview.append([literal(f"invoke {name}"), paragraphs((task.body.__doc__ or "").split("\n\n")[0])])
        result.append(table(["task", "what it does"], overview, [30, 70]))
        for name, aliases in sorted(collection.task_names.items()):
            task = collection[name]
            section = sections.section([literal(f"invoke {name}")], name)
            section.extend(paragraphs(task.body.__doc__))
            if aliases:
                section += nodes.paragraph("", "", nodes.Text("Aliases: "), *join(literal(alias) for alias in aliases))
            rows = []
            for argument in task.get_arguments():
                flags = ", ".join(("--" if len(n) > 1 else "-") + n for n in argument.names)
                if argument.kind is not bool:
                    flags += " " + _INVOKE_KINDS.get(argument.kind, argument.kind.__name__.upper())
                show_default = argument.default not in (None, "") and not (argument.kind is bool and argument.default is False)
                rows.append([literal(flags), argument.help or "", literal(str(argument.default)) if show_default else ""])
            usage = f"invoke {name}" + (" [options]" if rows else "")
            section += nodes.literal_block(usage, usage, language="none")
            if rows:
                section += table(["option", "description", "default"], rows, [30, 50, 20])
            pre = [getattr(t, "name", str(t)) for t in task.pre]
            if pre:
                section += nodes.paragraph("", "", nodes.Text("Runs first: "), *join(literal(p) for p in pre))
            result.append(section)
        return result


@contextlib.contextmanager
def _help_environment() -> Iterator[None]:
    """Help text as a reader sees it: 96 columns (argparse wraps to the terminal's width), no
    ``HOST``/``PORT`` of the building shell as defaults; the environment is restored after."""
    saved = {name: os.environ.get(name) for name in ("COLUMNS", "HOST", "PORT")}
    os.environ["COLUMNS"] = "96"
    os.environ.pop("HOST", None)
    os.environ.pop("PORT", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class LauncherHelpDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        from qhana_plugin_runner.cli.embedded import main

        self.env.note_reread()
        out = io.StringIO()
        with _help_environment(), contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main(["--help"])  # argparse prints the help and exits before anything starts
        text = out.getvalue().rstrip()
        if not text:
            raise self.error("qhana-plugin-runner --help printed nothing")
        return [nodes.literal_block(text, text, language="none")]


class WorkerHelpDirective(SphinxDirective):
    """The options ``python -m qhana_plugin_runner.worker`` reads itself."""

    def run(self) -> list[nodes.Node]:
        from qhana_plugin_runner.worker import build_parser

        self.env.note_reread()
        with _help_environment():
            text = build_parser().format_help().rstrip()
        return [nodes.literal_block(text, text, language="none")]
