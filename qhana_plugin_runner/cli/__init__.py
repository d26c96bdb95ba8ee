# SPDX-License-Identifier: Apache-2.0
"""Flask CLI commands of the runner (``flask plugins ...``, ``flask install``, ``flask tasks ...``)."""

from __future__ import annotations

from flask import Flask

__all__ = ["register_cli"]


def register_cli(app: Flask) -> None:
    from .install_cli import INSTALL_CLI
    from .plugins_cli import PLUGINS_CLI
    from .tasks_cli import TASKS_CLI

    app.cli.add_command(PLUGINS_CLI)
    app.cli.add_command(INSTALL_CLI)
    app.cli.add_command(TASKS_CLI)
