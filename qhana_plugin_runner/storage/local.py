# SPDX-License-Identifier: Apache-2.0
"""``local_filesystem``: files below ``FILE_STORE_ROOT_PATH``, downloaded through ``/files/``."""

from __future__ import annotations

import io
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from flask import Flask, url_for
from sqlalchemy import select

from ..db.db import DB
from ..db.models.tasks import TaskFile
from .base import DEFAULT_MIMETYPE, FileStore, TaskRun

__all__ = ["LocalFileStore"]

_CHUNK = 1024 * 1024


class LocalFileStore(FileStore, name="local_filesystem"):
    """Stores files on a local (or shared, mounted) file system."""

    root: Path

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        self.root = Path(app.config["FILE_STORE_ROOT_PATH"]).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path_of(self, file_storage_data: str) -> Path:
        """The absolute path of a stored file; refuses anything outside the store root."""
        stored = Path(file_storage_data)
        path = (stored if stored.is_absolute() else self.root / stored).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"{file_storage_data} lies outside the file store")
        return path

    def _reserve_target(self, target: str, file_: Any) -> str:
        """Claim a file name that no other file of the task uses (name, name-1, name-2, ...)."""
        relative = self.prepare_path(target)
        # path_of follows symlinks: a task folder linked out of the store is refused before
        # anything (not even an empty placeholder) is created through it
        folder = self.path_of(str(relative.parent))
        folder.mkdir(parents=True, exist_ok=True)
        stem, suffix = os.path.splitext(relative.name)
        run = TaskRun.current()
        repeated = run is not None and run.repeated
        for counter in range(10_000):
            candidate = relative.name if counter == 0 else f"{stem}-{counter}{suffix}"
            try:
                os.close(os.open(folder / candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640))
            except FileExistsError:
                if repeated and not self._is_recorded(str(relative.parent / candidate)):
                    # written by the earlier run, whose worker died before recording it
                    return str(relative.parent / candidate)
                continue
            return str(relative.parent / candidate)
        raise FileExistsError(f"too many files named {relative.name}")

    def _is_recorded(self, file_storage_data: str) -> bool:
        query = select(TaskFile.id).where(TaskFile.storage_provider == self.name, TaskFile.file_storage_data == file_storage_data)
        return DB.session.execute(query.limit(1)).first() is not None

    def _release_target(self, target: str) -> None:
        """Remove the empty placeholder :meth:`_reserve_target` created for a failed write."""
        self.path_of(str(self.prepare_path(target))).unlink(missing_ok=True)

    def persist_file(self, file_: Any, target: str, mimetype: str = DEFAULT_MIMETYPE) -> None:
        path = self.path_of(str(self.prepare_path(target)))
        if path == self.root:
            raise ValueError(f"target {target!r} names no file")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write(file_, path)

    def _write_reserved(self, file_: Any, target: str, mimetype: str) -> None:
        """Write into the placeholder :meth:`_reserve_target` has just created: its folder was
        resolved, checked and created there, and a plain file (no symlink) in it needs neither
        again. Anything else there (a symlink an earlier run left) goes through persist_file."""
        path = self.root / target
        try:
            plain = stat.S_ISREG(os.lstat(path).st_mode)
        except OSError:
            plain = False
        if not plain:
            self.persist_file(file_, target, mimetype)
            return
        self._write(file_, path)

    def _write(self, file_: Any, path: Path) -> None:
        """Write ``file_`` to ``path`` (in a folder known to lie inside the store) atomically."""
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as out:
                _copy_into(file_, out)
            os.replace(temp_name, path)  # readers never see a half-written file
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def _get_file_identifier(self, target: str) -> str:
        return str(self.prepare_path(target))

    def get_file_url(self, file_storage_data: str, external: bool = True) -> str:
        if not external:
            return self.path_of(file_storage_data).as_uri()
        query = select(TaskFile).where(TaskFile.storage_provider == self.name, TaskFile.file_storage_data == file_storage_data)
        info = DB.session.execute(query).scalars().first()
        if info is None:
            raise ValueError(f"{file_storage_data} is not a task file; only task files have download URLs")
        return self.get_task_file_url(info, external=True)

    def get_task_file_url(self, file_info: TaskFile, external: bool = True) -> str:
        if not external:
            return self.path_of(file_info.file_storage_data).as_uri()
        return url_for("files-api.FileView", file_id=file_info.id, _external=True, **{"file-id": file_info.security_tag})

    def remove_file(self, file_storage_data: str) -> None:
        """Delete a stored file (a missing file is not an error)."""
        self.path_of(file_storage_data).unlink(missing_ok=True)

    @contextmanager
    def open(self, file_info: TaskFile) -> Iterator[IO[bytes]]:
        with self.path_of(file_info.file_storage_data).open("rb") as handle:
            yield handle


def _copy_into(file_: Any, out: IO[bytes]) -> None:
    """Write str, bytes or any text or binary file object to ``out``."""
    if isinstance(file_, str):
        out.write(file_.encode("utf-8"))
        return
    if isinstance(file_, bytes | bytearray | memoryview):
        out.write(bytes(file_))
        return
    if not hasattr(file_, "read"):
        raise TypeError(f"cannot store a {type(file_).__name__}; give str, bytes or a file object")
    if hasattr(file_, "seek"):
        try:
            file_.seek(0)
        except (OSError, io.UnsupportedOperation, ValueError):
            pass  # not seekable: read from where it stands
    while True:
        chunk = file_.read(_CHUNK)
        if not chunk:
            break
        out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
