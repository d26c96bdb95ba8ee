# SPDX-License-Identifier: Apache-2.0
"""``/licenses/``: the third-party distributions this runner uses and their licences.

An HTML table for browsers; JSON for clients that ask for ``application/json`` (or pass
``?format=json``). The list comes from :func:`qhana_plugin_runner.util.licenses.installed_licenses`.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from ..util.licenses import installed_licenses

__all__ = ["LICENSES_BLP"]

LICENSES_BLP = Blueprint("licenses", __name__)


def _wants_json() -> bool:
    if request.args.get("format") == "json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@LICENSES_BLP.route("/licenses/")
def licenses() -> Response | str:
    """The licences of the installed third-party distributions (HTML or JSON)."""
    entries = installed_licenses()
    if _wants_json():
        return jsonify({"licenses": [e.as_json() for e in entries]})
    return render_template("licenses.html", licenses=entries)
