# SPDX-License-Identifier: Apache-2.0
"""flask-smorest's ``Api`` with the blueprints' OpenAPI documentation built on first use.

flask-smorest documents a blueprint's views while registering it: every schema is resolved and
the view docs are deep-copied, about a fifth of building the app with the bundled plugins.
Workers, CLI commands and most API processes never serve the document, so :class:`Api`
registers the routes at once (they answer requests as before) and documents the blueprints,
in registration order, the first time anything reads ``api.spec`` (``/api-spec.json``, the doc
pages, ``flask openapi print``).

A blueprint whose documentation fails (a schema apispec cannot express) keeps its routes; the
error is logged with the blueprint's name and the document lists the other blueprints.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import flask_smorest

__all__ = ["Api"]

_LOG = logging.getLogger(__name__)


class Api(flask_smorest.Api):
    """An ``Api`` that documents registered blueprints when its spec is first read."""

    def __init__(self, app: Any = None, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        self._undocumented: list[tuple[Any, str, Any]] = []
        self._documenting = threading.RLock()
        self._in_progress = False
        self._spec: Any = None
        super().__init__(app, spec_kwargs=spec_kwargs)

    @property  # type: ignore[override]
    def spec(self) -> Any:
        """The APISpec, with every blueprint registered so far documented in it."""
        if self._undocumented:
            self._document_blueprints()
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:
        self._spec = value

    @property
    def undocumented_blueprints(self) -> list[str]:
        """Names of the blueprints whose documentation has not been built yet."""
        return [name for _, name, _ in self._undocumented]

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """Register ``blp`` with the app now; document it when the spec is first read."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    def _document_blueprints(self) -> None:
        # the list is emptied only when all are documented: a second reader waits for the lock
        # instead of taking a half-built document, and then finds nothing left to do
        with self._documenting:
            if self._in_progress:  # read again while documenting (in this thread: the lock is held)
                return
            self._in_progress = True
            try:
                self._document_pending()
            finally:
                self._in_progress = False

    def _document_pending(self) -> None:
        pending = list(self._undocumented)
        for blp, name, parameters in pending:
            try:
                blp.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
            except Exception:  # plugin schemas; the routes themselves are registered and work
                _LOG.exception("The OpenAPI documentation of blueprint %r could not be built; it is left out", name)
                continue
            self._spec.tag({"name": name, "description": blp.description})
        del self._undocumented[: len(pending)]
