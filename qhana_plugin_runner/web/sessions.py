# SPDX-License-Identifier: Apache-2.0
"""Flask's signed-cookie session, opened without work when the request carries no cookie.

The runner's own endpoints never use ``flask.session``, but plugins may, so the session stays.
Flask's interface builds an ``itsdangerous`` serializer and parses the cookies on every request;
API clients send no cookies, so for them the (empty) session is made directly. Requests with a
``Cookie`` header, and saving, are Flask's own code.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

__all__ = ["CookieFreeFastSessionInterface", "init_sessions"]


class CookieFreeFastSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None  # as Flask: no secret key, no session (a NullSession)
        if "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)


def init_sessions(app: Flask) -> None:
    if type(app.session_interface) is SecureCookieSessionInterface:  # not one an app set itself
        app.session_interface = CookieFreeFastSessionInterface()
