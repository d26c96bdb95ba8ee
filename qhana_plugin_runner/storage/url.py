# SPDX-License-Identifier: Apache-2.0
"""``url_file_store``: the "file" is a URL that already serves it; only the URL is recorded."""

from __future__ import annotations

from typing import Any

from .base import DEFAULT_MIMETYPE, FileStore

__all__ = ["UrlFileStore"]


class UrlFileStore(FileStore, name="url_file_store"):
    """Records outputs that live elsewhere (``file_`` must be their URL)."""

    def persist_file(self, file_: Any, target: str, mimetype: str = DEFAULT_MIMETYPE) -> None:
        if not isinstance(file_, str) or not file_.startswith(("http://", "https://", "data:")):
            raise TypeError("url_file_store only records http(s) or data URLs given as str")

    def _reserve_target(self, target: str, file_: Any) -> str:
        return file_  # the URL itself is what gets recorded

    def _get_file_identifier(self, target: str) -> str:
        return target

    def _rewrite_target(self, earlier: Any, file_: Any) -> str | None:
        return file_ if isinstance(file_, str) else None  # a repeated run records its own URL

    def get_file_url(self, file_storage_data: str, external: bool = True) -> str:
        return file_storage_data
