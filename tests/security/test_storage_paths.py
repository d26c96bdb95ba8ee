"""Nothing a plugin passes as a file name or target, and nothing stored in the database, can
make the local file store write or serve a file outside its root: ``..``, absolute paths,
Windows separators, NUL bytes and symlinks are refused or made harmless."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskFile
from qhana_plugin_runner.storage import STORE, LocalFileStore

from helpers import download


@pytest.fixture
def store(app: Flask) -> LocalFileStore:
    local = STORE["local_filesystem"]
    assert isinstance(local, LocalFileStore)
    return local


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def _task() -> ProcessingTask:
    task = ProcessingTask(task_name="t")
    task.save(commit=True)
    return task


def _inside(store: LocalFileStore, info: TaskFile) -> Path:
    path = store.path_of(info.file_storage_data)
    assert path.is_file() and path.is_relative_to(store.root.resolve())
    return path


@pytest.mark.parametrize(
    "target",
    [
        "../escape.txt",
        "a/../../escape.txt",
        "task_1/out/../../../escape.txt",
        "..\\escape.txt",
        "a\\..\\..\\escape.txt",
        "name\x00.txt",
        "/",
        "",
        ".",
    ],
)
def test_targets_leading_out_of_the_store_are_refused(store: LocalFileStore, tmp_path: Path, target: str) -> None:
    with pytest.raises(ValueError):
        store.persist_file("data", target)
    left = [p for p in tmp_path.rglob("*") if "escape" in p.name or p.name.startswith(".partial-")]
    assert left == []


@pytest.mark.parametrize("target", ["/etc/escape.txt", "C:\\Windows\\escape.txt", "\\\\server\\share\\escape.txt"])
def test_absolute_targets_stay_inside_the_store(store: LocalFileStore, target: str) -> None:
    store.persist_file("data", target)
    written = list(store.root.rglob("escape.txt"))
    assert len(written) == 1 and written[0].read_text() == "data"
    assert not Path("/etc/escape.txt").exists()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../escape.txt", "escape.txt"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\escape.txt", "escape.txt"),
        ("C:\\Windows\\escape.txt", "escape.txt"),
        ("esc\x00ape.txt", "escape.txt"),
        ("line\nbreak.txt", "linebreak.txt"),
    ],
)
def test_result_file_names_are_reduced_to_a_plain_name(store: LocalFileStore, name: str, shown: str) -> None:
    task = _task()
    info = STORE.persist_task_result(task.id, "data", name, "custom/text", "text/plain")
    assert info.file_name == shown
    assert _inside(store, info).parent == (store.root / f"task_{task.id}" / "out").resolve()


@pytest.mark.parametrize("name", ["..", ".", "", "/", "\\", "\x00"])
def test_names_without_a_usable_part_are_refused(store: LocalFileStore, name: str) -> None:
    with pytest.raises(ValueError):
        STORE.persist_task_result(_task().id, "data", name, "custom/text", "text/plain")


def test_symlinked_target_folder_is_refused_and_nothing_is_written_outside(
    store: LocalFileStore, outside: Path
) -> None:
    (store.root / "linked").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError):
        store.persist_file("data", "linked/escape.txt")
    assert list(outside.iterdir()) == []


def test_symlinked_task_folder_is_refused_and_nothing_is_created_outside(
    store: LocalFileStore, outside: Path
) -> None:
    task = _task()
    (store.root / f"task_{task.id}").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError):
        STORE.persist_task_result(task.id, "data", "out.txt", "custom/text", "text/plain")
    assert list(outside.rglob("*")) == [], "not even an empty placeholder"


def test_a_repeated_run_does_not_write_through_a_symlink_in_its_task_folder(
    store: LocalFileStore, outside: Path
) -> None:
    # a repeated run takes over an unrecorded file of its earlier run; a symlink there is
    # resolved and refused like any other target
    from qhana_plugin_runner.celery import CELERY

    task = _task()
    victim = outside / "victim.txt"
    victim.write_text("original")
    folder = store.root / f"task_{task.id}" / "out"
    folder.mkdir(parents=True)
    (folder / "out.txt").symlink_to(victim)

    @CELERY.task(name="tests.security.storage-paths.write", bind=True)
    def write(self: Any, db_id: int) -> None:
        STORE.persist_task_result(db_id, "overwritten", "out.txt", "custom/text", "text/plain")

    result = write.apply(kwargs={"db_id": task.id}, task_id="celery-symlink", retries=1)
    assert isinstance(result.result, ValueError)
    assert victim.read_text() == "original"


def test_symlinked_file_is_not_written_through(store: LocalFileStore, outside: Path) -> None:
    victim = outside / "victim.txt"
    victim.write_text("original")
    (store.root / "file-link.txt").symlink_to(victim)
    with pytest.raises(ValueError):
        store.persist_file("overwritten", "file-link.txt")
    assert victim.read_text() == "original"


@pytest.mark.parametrize("stored", ["/etc/passwd", "../../../../etc/passwd", "task_1/../../secret", "link/secret"])
def test_files_api_never_serves_a_path_outside_the_store(
    store: LocalFileStore, client: Any, outside: Path, stored: str
) -> None:
    (outside / "secret").write_text("secret")
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    info = STORE.persist_task_result(_task().id, "data", "out.txt", "custom/text", "text/plain")
    info.file_storage_data = stored  # as if the database had been tampered with
    info.save(commit=True)
    status, _, body = download(client, f"/files/{info.id}/?file-id={info.security_tag}")
    assert status == 404 and b"secret" not in body and b"root:" not in body
