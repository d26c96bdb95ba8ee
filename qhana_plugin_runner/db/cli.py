# SPDX-License-Identifier: Apache-2.0
"""``flask create-db`` and ``flask drop-db``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from .db import DB

__all__ = ["register_db_commands"]


@click.command("create-db")
@with_appcontext
def create_db() -> None:
    """Create every table that does not exist yet (prefer `flask db upgrade`)."""
    DB.create_all()
    click.echo("Database tables created.")


@click.command("drop-db")
@with_appcontext
def drop_db() -> None:
    """Drop every table of the runner, deleting all tasks and plugin state."""
    DB.drop_all()
    click.echo("Database tables dropped.")


def register_db_commands(app: Flask) -> None:
    app.cli.add_command(create_db)
    app.cli.add_command(drop_db)
