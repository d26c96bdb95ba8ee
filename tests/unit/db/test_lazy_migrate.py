"""Flask-Migrate (and alembic) load only when migrations are used, yet ``MIGRATE`` and
``flask db`` behave as Flask-Migrate's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask

from qhana_plugin_runner.db.db import MIGRATE


def test_creating_the_app_does_not_import_alembic(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from qhana_plugin_runner.testing import build_app, make_test_config\n"
        "from pathlib import Path\n"
        f"build_app(make_test_config(Path({str(tmp_path)!r})))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'flask_migrate', 'mako'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_flask_db_upgrade_and_current(tmp_path: Path) -> None:
    from qhana_plugin_runner.testing import build_app, dispose, make_test_config

    fresh = build_app(make_test_config(tmp_path), create_tables=False)
    try:
        _upgrade_and_check(fresh)
    finally:
        dispose(fresh)


def _upgrade_and_check(app: Flask) -> None:
    runner = app.test_cli_runner()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    with app.app_context():
        from sqlalchemy import inspect, text

        from qhana_plugin_runner.db.db import DB

        assert "ProcessingTask" in inspect(DB.engine).get_table_names()
        with DB.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    helped = runner.invoke(args=["db", "--help"])
    assert "--directory" in helped.output and "upgrade" in helped.output


def test_migrate_attributes_reach_flask_migrate(app: Flask) -> None:
    from flask_migrate import Migrate

    assert isinstance(MIGRATE.real(), Migrate)
    assert callable(MIGRATE.configure)  # plugins may register configure callbacks
    with app.app_context():
        assert app.extensions["migrate"].directory.endswith("migrations")
