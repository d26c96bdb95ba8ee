"""The file store's disk is full, or its folder cannot be written, while tasks store outputs.

Tests run as root, where file modes stop nothing, so the faults are injected where the store
meets the operating system: ``os.fdopen`` hands out files whose writes fail with ENOSPC (after
part of the data, as a disk filling up does), ``os.open``/``os.mkdir`` refuse with EACCES, for
paths below the store root only. The task must end FAILURE with a task log that names the
error and the file, and leave neither a partial file nor a record of a file that is not there.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_tools import HELLO, summary
from flask import Flask

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import TaskFile
from qhana_plugin_runner.storage import STORE, LocalFileStore

from helpers import ROOT, wait_final

pytestmark = pytest.mark.slow


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")]}


@pytest.fixture
def store_root(app: Flask) -> Path:
    store = STORE["local_filesystem"]
    assert isinstance(store, LocalFileStore)
    return store.root


def _below(path: Any, root: Path) -> bool:
    try:
        return Path(os.fsdecode(path)).resolve().is_relative_to(root)
    except (TypeError, ValueError):
        return False


class _FillingDisk:
    """A file whose first write stores half its data, then the disk is full."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def write(self, data: bytes) -> int:
        self._handle.write(data[: len(data) // 2])
        self._handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _FillingDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


@pytest.fixture
def disk_full(store_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_fdopen = os.fdopen

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, *args, **kwargs)
        return _FillingDisk(handle) if _below(os.readlink(f"/proc/self/fd/{fd}"), store_root) else handle

    monkeypatch.setattr(os, "fdopen", fdopen)
    yield


@pytest.fixture
def store_unwritable(store_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_open, real_mkdir = os.open, os.mkdir

    def refuse(path: Any) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))

    def guarded_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and _below(path, store_root):
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def guarded_mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if _below(path, store_root):
            refuse(path)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "mkdir", guarded_mkdir)
    yield


def _run_hello(client: Any, count: int, prefix: str) -> list[dict[str, Any]]:
    urls = []
    for n in range(count):
        response = client.post(HELLO, data={"inputStr": f"{prefix} input {n}"})
        assert response.status_code == 303
        urls.append(response.headers["Location"])
    return [{"id": int(url.rstrip("/").rsplit("/", 1)[-1]), **wait_final(client, url, timeout=30)} for url in urls]


def _assert_nothing_left(store_root: Path, tasks: list[dict[str, Any]]) -> None:
    for task in tasks:
        folder = store_root / f"task_{task['id']}"
        left = [p.relative_to(store_root) for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
        assert left == [], f"task {task['id']} left {left}"
        assert task["outputs"] == []
    DB.session.expire_all()
    for info in DB.session.execute(DB.select(TaskFile)).scalars():
        assert (store_root / info.file_storage_data).is_file(), f"{info.file_storage_data} is recorded but not on disk"


def test_a_full_disk_fails_the_task_with_a_clear_log(client: Any, celery_worker: Any, store_root: Path, disk_full: None) -> None:
    tasks = _run_hello(client, 3, "full disk")
    summary("disk-full", [t["status"] for t in tasks])
    for task in tasks:
        assert task["status"] == "FAILURE", task
        first_line = task["log"].splitlines()[0]
        assert "No space left on device" in first_line and f"task_{task['id']}/out/out.txt" in first_line, task["log"][:500]
    _assert_nothing_left(store_root, tasks)


def test_an_unwritable_store_fails_the_task_with_a_clear_log(client: Any, celery_worker: Any, store_root: Path, store_unwritable: None) -> None:
    tasks = _run_hello(client, 3, "unwritable")
    summary("store-unwritable", [t["status"] for t in tasks])
    for task in tasks:
        assert task["status"] == "FAILURE", task
        first_line = task["log"].splitlines()[0]
        assert "Permission denied" in first_line and f"task_{task['id']}/out/out.txt" in first_line, task["log"][:500]
    _assert_nothing_left(store_root, tasks)


def test_the_worker_stores_again_once_the_disk_has_room(client: Any, celery_worker: Any, store_root: Path, monkeypatch: pytest.MonkeyPatch, disk_full: None) -> None:
    [failed] = _run_hello(client, 1, "no room")
    monkeypatch.undo()  # space freed
    [stored] = _run_hello(client, 1, "room again")
    summary("disk-full-then-freed", [failed["status"], stored["status"]])
    assert (failed["status"], stored["status"]) == ("FAILURE", "SUCCESS")
    assert (store_root / f"task_{stored['id']}" / "out" / "out.txt").read_text() == "room again output 0"
