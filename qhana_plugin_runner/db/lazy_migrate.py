# SPDX-License-Identifier: Apache-2.0
"""Flask-Migrate, imported only when a migration command (or plugin code) uses it.

Importing flask_migrate imports alembic, mako and pygments: a large share of the start-up time
and memory of every API, worker and beat process, none of which migrates. ``MIGRATE`` keeps
the public name and the ``init_app`` signature; the real ``flask_migrate.Migrate`` is created and
bound on first use, and ``flask db ...`` loads its commands when the group is opened.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask

__all__ = ["LazyMigrate"]


class LazyMigrate:
    """Stands in for ``flask_migrate.Migrate()``; attribute access reaches the real one."""

    def __init__(self) -> None:
        self._real: Any = None

    def real(self) -> Any:
        if self._real is None:
            from flask_migrate import Migrate

            self._real = Migrate()
        return self._real

    def init_app(self, app: Flask, db: Any = None, directory: str | None = None, **kwargs: Any) -> None:
        app.extensions["migrate"] = _PendingConfig(self, app, db, directory, kwargs)
        app.cli.add_command(_LazyDbGroup("db", help="Perform database migrations."))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


class _PendingConfig:
    """``app.extensions["migrate"]`` until first use; then Flask-Migrate's own config object."""

    def __init__(self, owner: LazyMigrate, app: Flask, db: Any, directory: str | None, kwargs: dict[str, Any]) -> None:
        self._owner, self._app, self._db, self._directory, self._kwargs = owner, app, db, directory, kwargs

    def load(self) -> Any:
        real = self._owner.real()
        real.init_app(self._app, self._db, directory=self._directory, **self._kwargs)
        return self._app.extensions["migrate"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.load(), name)


class _LazyDbGroup(click.Group):
    """``flask db``: takes over Flask-Migrate's group (options, callback, commands) when used."""

    _adopted = False

    def _adopt(self) -> None:
        if self._adopted:
            return
        from flask_migrate.cli import db

        self.params, self.callback, self.commands = list(db.params), db.callback, db.commands
        self.help = db.help or self.help
        self._adopted = True

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        self._adopt()
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._adopt()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._adopt()
        return super().get_command(ctx, cmd_name)
