# SPDX-License-Identifier: Apache-2.0
"""Flask CLI commands of the runner (``flask plugins ...``, ``flask install``, ``flask tasks ...``)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import click
from flask import Flask

__all__ = ["register_cli", "LazyCommand"]


class LazyCommand(click.Command):
    """A command whose module is imported when the command runs or shows its own help.

    Every process that builds the app (API servers, workers) registers the CLI, and
    ``flask install``'s module compiles ``packaging``'s requirement grammar on import
    (about 60 ms of every start); listing the commands needs only the name and short help.
    """

    def __init__(self, name: str, target: str, short_help: str) -> None:
        super().__init__(name, short_help=short_help, help=short_help)
        self._target = target
        self._command: click.Command | None = None

    @property
    def command(self) -> click.Command:
        if self._command is None:
            module, _, attribute = self._target.partition(":")
            self._command = getattr(import_module(module), attribute)
        return self._command

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any) -> click.Context:
        return self.command.make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return self.command.invoke(ctx)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return self.command.get_params(ctx)

    def get_help(self, ctx: click.Context) -> str:
        return self.command.get_help(ctx)


def register_cli(app: Flask) -> None:
    from .plugins_cli import PLUGINS_CLI
    from .tasks_cli import TASKS_CLI

    app.cli.add_command(PLUGINS_CLI)
    app.cli.add_command(
        LazyCommand("install", f"{__name__}.install_cli:INSTALL_CLI", "Install the requirements of the runner and of every loaded plugin.")
    )
    app.cli.add_command(TASKS_CLI)
