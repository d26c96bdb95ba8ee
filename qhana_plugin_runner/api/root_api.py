# SPDX-License-Identifier: Apache-2.0
"""``GET /``: the API root (a JSON object that is not a plugin, for the registry's discovery)."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

__all__ = ["ROOT_BLP"]

ROOT_BLP = Blueprint("api-root", __name__, description="The API root.")


class RootSchema(ma.Schema):
    title = ma.fields.String(required=True)


@ROOT_BLP.route("/")
class RootView(MethodView):
    @ROOT_BLP.response(200, RootSchema())
    def get(self) -> dict[str, str]:
        """The API title."""
        return {"title": current_app.config.get("API_TITLE", "QHAna plugin runner api.")}
