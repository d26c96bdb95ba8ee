# SPDX-License-Identifier: Apache-2.0
"""HTML side of the runner: templates, static files, Jinja helpers, CORS and proxy headers."""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix

__all__ = ["init_web"]


def init_web(app: Flask) -> None:
    """Jinja helpers, framing rules, CORS, body limits, debug pages, ProxyFix behind proxies."""
    from .debug import init_debug_pages
    from .framing import init_framing
    from .jinja_helpers import register_jinja_helpers
    from .licenses import LICENSES_BLP
    from .request_limits import init_request_limits
    from .sessions import init_sessions

    register_jinja_helpers(app)
    init_framing(app)
    init_request_limits(app)
    init_sessions(app)
    app.register_blueprint(LICENSES_BLP)
    init_debug_pages(app)
    CORS(app, origins=app.config.get("CORS_ORIGINS", "*"))
    count = int(app.config.get("REVERSE_PROXY_COUNT") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_host=count, x_port=count, x_prefix=count, x_proto=count)  # type: ignore[method-assign]
