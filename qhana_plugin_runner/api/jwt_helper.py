# SPDX-License-Identifier: Apache-2.0
"""JWT support for plugin blueprints (``require_jwt``) and the OpenAPI security schemes.

There is no login or user store: the API is open unless a deployment puts tokens in front.
A token that is sent must be valid (401 otherwise), which is what the original runner did.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask
from flask_jwt_extended import JWTManager, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_smorest import abort
from jwt.exceptions import PyJWTError

__all__ = ["JWTMixin", "SECURITY_SCHEMES", "init_jwt", "JWT"]

JWT = JWTManager()

SECURITY_SCHEMES = {
    "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "jwt-refresh-token": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
}


def init_jwt(app: Flask) -> None:
    app.config.setdefault("JWT_SECRET_KEY", app.config["SECRET_KEY"])
    JWT.init_app(app)


class JWTMixin:
    """Adds ``require_jwt`` to a flask-smorest Blueprint."""

    def require_jwt(
        self,
        security_scheme: str | dict[str, Any],
        *,
        fresh: bool = False,
        optional: bool = False,
        refresh_token: bool = False,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Check the bearer token (if ``optional``, only when one is sent); document the scheme."""
        scheme = {security_scheme: []} if isinstance(security_scheme, str) else security_scheme

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    verify_jwt_in_request(optional=optional, fresh=fresh, refresh=refresh_token)
                except (JWTExtendedException, PyJWTError) as err:
                    abort(401, message=f"Invalid or missing token: {err}")
                return view(*args, **kwargs)

            doc = copy.deepcopy(getattr(view, "_apidoc", None) or {})
            manual = doc.setdefault("manual_doc", {})
            security = manual.setdefault("security", [])
            security.append(scheme)
            if optional:
                security.append({})
            manual.setdefault("responses", {})["401"] = "UNAUTHORIZED"  # a token that is sent must be valid
            wrapper._apidoc = doc  # type: ignore[attr-defined]
            return wrapper

        return decorator
