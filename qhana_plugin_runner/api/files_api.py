# SPDX-License-Identifier: Apache-2.0
"""``/files/<id>/?file-id=<tag>``: downloads of task files kept in the local file store.

The tag (``secrets.token_urlsafe(32)``, 256 bits) is the only credential: it is compared in
constant time, and a wrong tag gets the same 404 as a missing file. Files are served with
``X-Content-Type-Options: nosniff``, and types a browser would run scripts in (HTML, SVG, XML)
with ``Content-Security-Policy: sandbox allow-scripts``, so an output built from hostile input
runs in an opaque origin instead of the runner's.
"""

from __future__ import annotations

import hmac
from typing import Any

import marshmallow as ma
from flask import send_file
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ..db.models.tasks import TaskFile
from ..storage import STORE, LocalFileStore

__all__ = ["FILES_BLP", "SCRIPTABLE_TYPES"]

#: Served sandboxed: a browser would run scripts embedded in these.
SCRIPTABLE_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/xsl"}
)

FILES_BLP = Blueprint("files-api", __name__, description="Downloads of task files.")


class FileSecuritySchema(ma.Schema):
    security_tag = ma.fields.String(required=True, data_key="file-id", metadata={"description": "the file's security tag"})


@FILES_BLP.route("/<int:file_id>/")
class FileView(MethodView):
    @FILES_BLP.arguments(FileSecuritySchema(), location="query", as_kwargs=True)
    @FILES_BLP.response(200, content_type="application/octet-stream")
    @FILES_BLP.alt_response(404, description="No such file, or a wrong tag.")
    def get(self, file_id: int, **kwargs: Any) -> Any:
        """The file's bytes, inline, with its content type and file name."""
        tag = kwargs["security_tag"]
        info = TaskFile.get_by_id(file_id)
        if info is None or not hmac.compare_digest(info.security_tag.encode(), tag.encode()):
            abort(404, message="File not found.")
        store = STORE[info.storage_provider] if info.storage_provider in STORE else None
        if not isinstance(store, LocalFileStore):
            abort(404, message="File not found.")
        try:
            path = store.path_of(info.file_storage_data)
        except ValueError:
            abort(404, message="File not found.")
        if not path.is_file():
            abort(404, message="File not found.")
        response = send_file(
            path,
            mimetype=info.mimetype or "application/octet-stream",
            download_name=info.file_name,
            as_attachment=False,
            conditional=True,
            max_age=0,
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        if (response.mimetype or "").lower() in SCRIPTABLE_TYPES:
            response.headers["Content-Security-Policy"] = "sandbox allow-scripts"
        return response
