# SPDX-License-Identifier: Apache-2.0
"""The file store interface and the base class implementations (and plugins) derive from.

``class MyStore(FileStore, name="my-store")`` registers the class under that name; every
registered class is instantiated for each app by :func:`qhana_plugin_runner.storage.init_storage`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import PurePosixPath
from secrets import token_urlsafe
from typing import IO, Any, ClassVar

from flask import Flask
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from ..db.db import DB
from ..db.models.tasks import ProcessingTask, TaskFile
from ..errors import TaskNotFound

__all__ = ["FileStoreInterface", "FileStore", "STORE_CLASSES", "TEMP_FILE_TYPE"]

TEMP_FILE_TYPE = "temp-file"
DEFAULT_MIMETYPE = "application/octet-stream"

_MAX_NAME_BYTES = 200
STORE_CLASSES: dict[str, type[FileStore]] = {}
"""Every file store class defined in this process, by name (``class X(FileStore, name=...)``)."""

# (Celery request of the running task, ids of the files this run wrote or replaced)
_RUN_FILES: ContextVar[tuple[Any, set[int]] | None] = ContextVar("qhana_run_files", default=None)


class TaskRun:
    """The Celery task run a file is written in: its task id and the files it wrote so far.

    ``repeated``: an earlier run of the same Celery task may have written files. A task id runs
    again only when its message was delivered again (the broker marks it ``redelivered``: the
    Redis and filesystem transports when they put a message back, RabbitMQ itself) or the task
    was retried (``retries``); a first run never looks for an earlier run's files.
    """

    def __init__(self, request: Any, written: set[int]) -> None:
        self.celery_task_id: str = request.id
        self.written = written
        delivery = request.delivery_info or {}
        self.repeated = bool(delivery.get("redelivered")) or bool(request.retries)

    @classmethod
    def current(cls) -> TaskRun | None:
        """The running Celery task (in a worker), or None (in a request, or called directly)."""
        from celery import current_task

        request = getattr(current_task, "request", None) if current_task else None
        if request is None or not request.id or request.called_directly:
            return None
        files = _RUN_FILES.get()
        if files is None or files[0] is not request:  # each run gets a request object of its own
            files = (request, set())
            _RUN_FILES.set(files)
        return cls(request, files[1])

    def earlier_file(self, task_db_id: int, file_name: str, temp: bool) -> TaskFile | None:
        """A file of this name an earlier run of the same Celery task wrote and this run has
        not replaced yet (the k-th write of a name replaces the k-th earlier file)."""
        query = select(TaskFile).where(TaskFile.task_id == task_db_id, TaskFile.celery_task_id == self.celery_task_id, TaskFile.file_name == file_name)
        query = query.where(TaskFile.file_type == TEMP_FILE_TYPE) if temp else query.where((TaskFile.file_type.is_(None)) | (TaskFile.file_type != TEMP_FILE_TYPE))
        for info in DB.session.execute(query.order_by(TaskFile.id)).scalars():
            if info.id not in self.written:
                return info
        return None


class FileStoreInterface(ABC):
    """What every file store offers to plugins (through ``STORE``)."""

    @abstractmethod
    def persist_file(self, file_: Any, target: str, mimetype: str = DEFAULT_MIMETYPE) -> None:
        """Store ``file_`` (str, bytes or a file object) under ``target``."""

    @abstractmethod
    def persist_task_result(self, task_db_id: int, file_: Any, file_name: str, file_type: str | None, mimetype: str | None, commit: bool = True) -> TaskFile:
        """Store a result file of the task and record it as a task output."""

    @abstractmethod
    def persist_task_temp_file(self, task_db_id: int, file_: Any, file_name: str, mimetype: str | None = None, commit: bool = True) -> TaskFile:
        """Store a file the task needs internally (not listed in the outputs)."""

    @abstractmethod
    def get_file_url(self, file_storage_data: str, external: bool = True) -> str:
        """URL of a stored file; external URLs work without credentials for at least 2 h."""

    @abstractmethod
    def get_task_file_url(self, file_info: TaskFile, external: bool = True) -> str:
        """URL of a task file."""

    @abstractmethod
    def open(self, file_info: TaskFile) -> Any:
        """Context manager yielding the task file as a binary file object."""


class FileStore(FileStoreInterface):
    """Base class of file stores; subclasses implement persist_file and get_file_url."""

    name: ClassVar[str] = ""

    def __init_subclass__(cls, name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if name:
            cls.name = name
            STORE_CLASSES[name] = cls

    def __init__(self, app: Flask | None = None) -> None:
        self.app = app
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read the store's configuration from ``app``."""
        self.app = app

    @staticmethod
    def prepare_path(path: str | PurePosixPath) -> PurePosixPath:
        """A relative path without ``..``; absolute paths are made relative."""
        pure = PurePosixPath(str(path).replace("\\", "/"))
        if ".." in pure.parts:
            raise ValueError(f"Path {path!s} must not contain '..'")
        # "//host/share" (a UNC path once backslashes are turned) keeps "//" as its root part
        return PurePosixPath(*[part for part in pure.parts if part.strip("/")]) if pure.parts else pure

    @staticmethod
    def sanitize_file_name(file_name: str) -> str:
        """The last path component of ``file_name``, without control characters.

        Names longer than 200 bytes (UTF-8) are shortened before their extension: file
        systems refuse components over 255 bytes, and a store may append ``-<n>``.
        """
        name = str(file_name).replace("\\", "/").rsplit("/", 1)[-1]
        name = "".join(ch for ch in name if ch.isprintable()).strip()
        if len(name.encode()) > _MAX_NAME_BYTES:
            stem, dot, extension = name.rpartition(".")
            if not (dot and stem and extension) or len(extension) > 16:
                stem, extension = name, ""
            extension = f".{extension}" if extension else ""
            budget = _MAX_NAME_BYTES - len(extension.encode())
            name = stem.encode()[:budget].decode(errors="ignore").rstrip() + extension
        if name in ("", ".", ".."):
            raise ValueError(f"{file_name!r} is not a usable file name")
        return name

    def _get_file_identifier(self, target: str) -> str:
        return str(target)

    def _reserve_target(self, target: str, file_: Any) -> str:
        """Pick the final target for a new task file (stores that can collide override this)."""
        return target

    def _release_target(self, target: str) -> None:
        """Undo :meth:`_reserve_target` after the file could not be written (default: nothing)."""

    def _write_reserved(self, file_: Any, target: str, mimetype: str) -> None:
        """Write a new task file to the target :meth:`_reserve_target` has just picked.

        Default: :meth:`persist_file`; a store whose reservation already checked (and created)
        what persist_file would check again may skip doing it twice.
        """
        self.persist_file(file_, target, mimetype)

    def _rewrite_target(self, earlier: TaskFile, file_: Any) -> str | None:
        """Where a repeated task run writes the file replacing ``earlier``, or None to add a new
        file instead. Default: the earlier file's own target, if the identifier is the target."""
        data = earlier.file_storage_data
        return data if self._get_file_identifier(data) == data else None

    def _persist_task_file(self, task_db_id: int, file_: Any, file_name: str, folder: str, file_type: str | None, mimetype: str | None, commit: bool) -> TaskFile:
        task = ProcessingTask.get_by_id(task_db_id)
        if task is None:
            raise TaskNotFound(f"No ProcessingTask with id {task_db_id}.")
        mimetype = mimetype or DEFAULT_MIMETYPE
        display_name = self.sanitize_file_name(file_name)
        run = TaskRun.current()
        earlier = run.earlier_file(task_db_id, display_name, file_type == TEMP_FILE_TYPE) if run is not None and run.repeated else None
        if run is not None and earlier is not None and earlier.storage_provider == self.name:
            target = self._rewrite_target(earlier, file_)
            if target is not None:
                with _naming_the_file(target):
                    self.persist_file(file_, target, mimetype)  # the earlier content stays if this fails
                earlier.file_storage_data = self._get_file_identifier(target)
                earlier.file_type, earlier.mimetype = file_type, mimetype
                run.written.add(earlier.id)
                earlier.save(commit=commit)
                return earlier
        intended = f"task_{task_db_id}/{folder}/{display_name}"
        with _naming_the_file(intended):
            target = self._reserve_target(intended, file_)
        try:
            with _naming_the_file(target):
                self._write_reserved(file_, target, mimetype)
        except BaseException:
            self._release_target(target)
            raise
        # Linked through its task_id, not through ``task``: setting the relationship appends the
        # file to ``task.outputs`` (backref), which marks the task changed and makes every flush
        # of this session check the task's collections for orphans, about a third of storing a
        # small file. Only when this session already holds ``task.outputs`` loaded (a plugin
        # read it) is the file appended there, so that list stays true.
        outputs_loaded = "outputs" in sa_inspect(task).dict
        info = TaskFile(
            task=task if outputs_loaded else None,  # type: ignore[arg-type]
            security_tag=token_urlsafe(32),
            storage_provider=self.name,
            file_name=display_name,
            file_storage_data=self._get_file_identifier(target),
            file_type=file_type,
            mimetype=mimetype,
        )
        if run is not None:
            info.celery_task_id = run.celery_task_id
        if not outputs_loaded:
            info.task_id = task_db_id
            if commit:
                # one INSERT and the commit, without the unit of work (see _Saving._insert_new;
                # a tenth of a hello-world task's CPU in the worker went into that flush)
                info.save(commit=True)
                set_committed_value(info, "task", task)  # as if loaded with the file
                if run is not None:
                    run.written.add(info.id)
                return info
            set_committed_value(info, "task", task)  # as if loaded: no change history to flush
        if run is not None:
            info.save()
            DB.session.flush()  # the id now: after the commit, reading it would reload the row
            run.written.add(info.id)
        info.save(commit=commit)
        return info

    def persist_task_result(self, task_db_id: int, file_: Any, file_name: str, file_type: str | None, mimetype: str | None, commit: bool = True) -> TaskFile:
        return self._persist_task_file(task_db_id, file_, file_name, "out", file_type, mimetype, commit)

    def persist_task_temp_file(self, task_db_id: int, file_: Any, file_name: str, mimetype: str | None = None, commit: bool = True) -> TaskFile:
        return self._persist_task_file(task_db_id, file_, file_name, "tmp", TEMP_FILE_TYPE, mimetype, commit)

    def get_task_file_url(self, file_info: TaskFile, external: bool = True) -> str:
        return self.get_file_url(file_info.file_storage_data, external=external)

    @contextmanager
    def open(self, file_info: TaskFile) -> Iterator[IO[bytes]]:
        from ..requests import open_url_as_file_like_simple

        with open_url_as_file_like_simple(self.get_task_file_url(file_info, external=False)) as handle:
            yield handle


@contextmanager
def _naming_the_file(target: str) -> Iterator[None]:
    """An OSError while storing a task file names the file (a full disk's ENOSPC does not), so
    the task log says which output could not be written and why."""
    try:
        yield
    except OSError as err:
        if str(target) in str(err):
            raise
        try:
            named = type(err)(err.errno, f"{err.strerror or err} while storing {target}")
        except TypeError:  # an OSError subclass with a constructor of its own
            raise err from None
        raise named from err
