"""Fixtures of the template tests: a bare Flask app with the runner's templates and helpers."""

from __future__ import annotations

import pytest
from flask import Flask
from web_dom import WEB

from qhana_plugin_runner.web.jinja_helpers import register_jinja_helpers


@pytest.fixture
def app() -> Flask:
    app = Flask(
        "qhana_plugin_runner",
        template_folder=str(WEB / "templates"),
        static_folder=str(WEB / "static"),
    )
    register_jinja_helpers(app)
    return app

