# SPDX-License-Identifier: Apache-2.0
"""Documents the error answers the runner gives for every operation of a kind.

Some answers do not come from the view, so no decorator documents them: the router answers
404 when a path segment does not fit its converter (``/tasks/abc/``), and webargs answers 400
when a JSON body cannot be parsed. This apispec plugin adds them to each operation in the
OpenAPI document, core and plugin alike, and gives every 4xx response that was documented with
a description only (``alt_response(404, description=...)``) the JSON error body the runner
sends. It runs once per operation while ``Api.register_blueprint`` builds the document.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from apispec import BasePlugin

__all__ = ["ErrorResponsesPlugin"]


class ErrorResponsesPlugin(BasePlugin):
    """apispec plugin: 404 for operations with path parameters, 400 for JSON bodies, error bodies."""

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        self.spec = spec

    def _error_content(self) -> dict[str, Any]:
        # flask-smorest registers the Error body lazily as the DEFAULT_ERROR response
        self.spec.components.get_ref("response", "DEFAULT_ERROR")
        return deepcopy(self.spec.components.responses["DEFAULT_ERROR"]["content"])

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            codes = {str(code) for code in responses}
            if path and "{" in path and "404" not in codes:
                responses["404"] = "NOT_FOUND"
            body = operation.get("requestBody")
            content = body.get("content", {}) if isinstance(body, dict) else {}
            if "application/json" in content and "400" not in codes:
                responses["400"] = "BAD_REQUEST"
            for code, response in responses.items():
                if str(code).startswith("4") and isinstance(response, dict) and set(response) == {"description"}:
                    response["content"] = self._error_content()
