"""Plugin endpoints decorated with ``require_jwt("jwt")`` accept only a valid access token:
missing, malformed, foreign-key, expired, ``alg: none`` and refresh tokens get a JSON 401 and
the view never runs."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from flask_jwt_extended import create_access_token, create_refresh_token

PROTECTED = "/plugins/fx-security@1-0-0/protected/"
FORM = {"text": "hello"}


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "mallory", "type": "access", "fresh": False, "jti": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + 600, **extra}


def _bad_tokens(app: Flask) -> dict[str, str]:
    signed_elsewhere = jwt.encode(_claims(), "another-key-that-is-long-enough-123", algorithm="HS256")
    valid = create_access_token(identity="alice")
    header, payload, _ = valid.split(".")
    return {
        "garbage": "not-a-token",
        "other key": signed_elsewhere,
        "expired": create_access_token(identity="alice", expires_delta=timedelta(seconds=-30)),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
        "alg none, original payload": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "tampered payload": f"{header}.{_b64(_claims(sub='admin'))}.{valid.split('.')[2]}",
        "HS512 with other key": jwt.encode(_claims(), "k" * 32 + "another-key-that-is-long-enough-1", algorithm="HS512"),
        "refresh token": create_refresh_token(identity="alice"),
    }


def _call(client: Any, method: str, headers: dict[str, str] | None = None) -> Any:
    if method == "GET":
        return client.get(PROTECTED, headers=headers or {})
    return client.post(PROTECTED, data=FORM, headers=headers or {})


def _assert_json_401(response: Any) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert body["code"] == 401 and body["status"] == "Unauthorized" and body["message"]
    assert "ok" not in body


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_missing_token_is_refused(client: Any, method: str) -> None:
    _assert_json_401(_call(client, method))
    _assert_json_401(_call(client, method, {"Authorization": ""}))
    _assert_json_401(_call(client, method, {"Authorization": "Basic YWxpY2U6cHc="}))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_invalid_tokens_are_refused(app: Flask, client: Any, method: str) -> None:
    for name, token in _bad_tokens(app).items():
        response = _call(client, method, {"Authorization": f"Bearer {token}"})
        try:
            _assert_json_401(response)
        except AssertionError as err:
            raise AssertionError(f"{name}: {err}") from None


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_valid_token_is_accepted(app: Flask, client: Any, method: str) -> None:
    token = create_access_token(identity="alice")
    response = _call(client, method, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json() == {"ok": True}


def test_protected_endpoints_are_documented_as_such(client: Any) -> None:
    spec = client.get("/api-spec.json").get_json()
    operation = spec["paths"][PROTECTED]["get"]
    assert operation["security"] == [{"jwt": []}]
