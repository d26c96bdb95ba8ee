"""Per-request shortcuts keep Flask's behaviour: the cookie session of a plugin still round-trips
(and is not opened for requests without cookies), a session without a secret key is Flask's null
session, and chunked bodies without Content-Length still meet MAX_CONTENT_LENGTH."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask, session

from qhana_plugin_runner.web.sessions import CookieFreeFastSessionInterface


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "MAX_CONTENT_LENGTH": 64}


@pytest.fixture
def session_routes(app: Flask) -> Flask:
    @app.post("/_test/session")
    def _store() -> str:
        session["seen"] = session.get("seen", 0) + 1
        return str(session["seen"])

    @app.get("/_test/session")
    def _read() -> str:
        return str(session.get("seen", 0))

    return app


def test_the_runner_installs_the_fast_interface(app: Flask) -> None:
    assert isinstance(app.session_interface, CookieFreeFastSessionInterface)


def test_a_plugin_session_round_trips_through_the_cookie(session_routes: Flask) -> None:
    client = session_routes.test_client()
    assert client.get("/_test/session").get_data(as_text=True) == "0"
    first = client.post("/_test/session")
    assert "session=" in first.headers["Set-Cookie"]
    assert client.post("/_test/session").get_data(as_text=True) == "2"
    assert client.get("/_test/session").get_data(as_text=True) == "2"


def test_a_tampered_cookie_gives_an_empty_session(session_routes: Flask) -> None:
    client = session_routes.test_client()
    client.set_cookie("session", "not-signed")
    assert client.get("/_test/session").get_data(as_text=True) == "0"


def test_without_a_secret_key_flask_gives_its_null_session(session_routes: Flask) -> None:
    session_routes.secret_key = None
    session_routes.config["SECRET_KEY"] = None
    response = session_routes.test_client().get("/_test/session")
    assert response.status_code == 200 and response.get_data(as_text=True) == "0"


def test_api_answers_do_not_vary_on_cookies(client: Any) -> None:
    response = client.get("/plugins/")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_chunked_body_over_the_limit_is_refused(app: Flask) -> None:
    @app.post("/_test/echo")
    def _echo() -> str:
        from flask import request

        return str(len(request.get_data()))

    client = app.test_client()

    def chunked(size: int) -> Any:
        return client.post(
            "/_test/echo",
            input_stream=io.BytesIO(b"x" * size),
            content_type="application/octet-stream",
            headers={"Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        )

    assert chunked(100).status_code == 413
    under = chunked(10)
    assert under.status_code == 200 and under.get_data(as_text=True) == "10"


def test_get_without_a_body_is_not_read(app: Flask) -> None:
    @app.get("/_test/plain")
    def _plain() -> str:
        return "ok"

    response = app.test_client().get("/_test/plain", environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 200
