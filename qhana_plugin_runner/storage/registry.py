# SPDX-License-Identifier: Apache-2.0
"""The file stores of one app: the default one and every named one (``STORE[name]``)."""

from __future__ import annotations

from typing import Any

from ..db.models.tasks import TaskFile
from ..errors import FileStoreNotConfigured
from .base import FileStore

__all__ = ["FileStoreRegistry"]


class FileStoreRegistry:
    """Dispatches to the default store, or to the store named by ``storage_provider``."""

    def __init__(self, stores: dict[str, FileStore], default: str | None) -> None:
        self._stores = stores
        self.default_name = default

    def __getitem__(self, name: str) -> FileStore:
        try:
            return self._stores[name]
        except KeyError:
            raise FileStoreNotConfigured(f"No file store named {name!r} is configured (known: {sorted(self._stores)}).") from None

    def __contains__(self, name: object) -> bool:
        return name in self._stores

    @property
    def stores(self) -> dict[str, FileStore]:
        """Every configured store by name."""
        return dict(self._stores)

    @property
    def names(self) -> list[str]:
        return sorted(self._stores)

    def _pick(self, storage_provider: str | None) -> FileStore:
        name = storage_provider or self.default_name
        if not name:
            raise FileStoreNotConfigured("No default file store is configured (DEFAULT_FILE_STORE).")
        return self[name]

    def persist_file(self, file_: Any, target: str, mimetype: str = "application/octet-stream", storage_provider: str | None = None) -> None:
        self._pick(storage_provider).persist_file(file_, target, mimetype)

    def persist_task_result(self, task_db_id: int, file_: Any, file_name: str, file_type: str | None, mimetype: str | None, commit: bool = True, storage_provider: str | None = None) -> TaskFile:
        return self._pick(storage_provider).persist_task_result(task_db_id, file_, file_name, file_type, mimetype, commit=commit)

    def persist_task_temp_file(self, task_db_id: int, file_: Any, file_name: str, mimetype: str | None = None, commit: bool = True, storage_provider: str | None = None) -> TaskFile:
        return self._pick(storage_provider).persist_task_temp_file(task_db_id, file_, file_name, mimetype, commit=commit)

    def get_file_url(self, file_storage_data: str, external: bool = True, storage_provider: str | None = None) -> str:
        return self._pick(storage_provider).get_file_url(file_storage_data, external=external)

    def get_task_file_url(self, file_info: TaskFile, external: bool = True) -> str:
        return self[file_info.storage_provider].get_task_file_url(file_info, external=external)

    def open(self, file_info: TaskFile) -> Any:
        return self[file_info.storage_provider].open(file_info)
