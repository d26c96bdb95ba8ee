"""File stores: what plugins hand to ``STORE``, where it lands, and how it is downloaded again."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskFile
from qhana_plugin_runner.errors import FileStoreNotConfigured, TaskNotFound
from qhana_plugin_runner.storage import STORE, FileStore, FileStoreRegistry, LocalFileStore
from qhana_plugin_runner.storage.base import STORE_CLASSES
from qhana_plugin_runner.testing import build_app, dispose, make_test_config

from helpers import download

TEXT = "first line\nzweite Zeile: äöü ✓\n"
BINARY = bytes(range(256)) * 4


@pytest.fixture
def closing() -> Iterator[ExitStack]:
    """Closes every file object a test opened (unclosed files are warnings, and those errors)."""
    with ExitStack() as stack:
        yield stack


@pytest.fixture
def task(app: Flask) -> ProcessingTask:
    task = ProcessingTask("storage-test")
    task.save(commit=True)
    return task


@pytest.fixture
def local_store(app: Flask) -> LocalFileStore:
    store = STORE["local_filesystem"]
    assert isinstance(store, LocalFileStore)
    return store


@pytest.fixture
def restore_store_classes() -> Iterator[None]:
    """Forget the store classes a test defines, so later apps do not get them."""
    saved = dict(STORE_CLASSES)
    yield
    STORE_CLASSES.clear()
    STORE_CLASSES.update(saved)


def _files_below(folder: Path) -> list[Path]:
    """Every file below ``folder`` except the test database (its WAL files come and go)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("test.db"))


# --- sources --------------------------------------------------------------------------------


def _spooled(
    mode: str, content: str | bytes, on_disk: bool = False
) -> Callable[[ExitStack, Path], Any]:
    def make(stack: ExitStack, _tmp: Path) -> Any:
        spooled = stack.enter_context(SpooledTemporaryFile(max_size=1 << 24, mode=mode))
        spooled.write(content)  # left at the end, as plugins do
        if on_disk:
            spooled.rollover()
        return spooled

    return make


def _real_file(
    mode: str, content: str | bytes, read_first: int = 0
) -> Callable[[ExitStack, Path], Any]:
    def make(stack: ExitStack, tmp: Path) -> Any:
        path = tmp / "source"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
            handle = stack.enter_context(open(path, mode, encoding="utf-8"))
        else:
            path.write_bytes(content)
            handle = stack.enter_context(open(path, mode))
        handle.read(read_first)
        return handle

    return make


def _partially_read(open_source: Callable[[], Any]) -> Callable[[ExitStack, Path], Any]:
    def make(stack: ExitStack, _tmp: Path) -> Any:
        source = stack.enter_context(open_source())
        source.read(5)
        return source

    return make


SOURCES: dict[str, tuple[Callable[[ExitStack, Path], Any], bytes]] = {
    "str": (lambda _s, _t: TEXT, TEXT.encode()),
    "empty-str": (lambda _s, _t: "", b""),
    "bytes": (lambda _s, _t: BINARY, BINARY),
    "bytearray": (lambda _s, _t: bytearray(BINARY), BINARY),
    "StringIO": (lambda s, _t: s.enter_context(io.StringIO(TEXT)), TEXT.encode()),
    "BytesIO": (lambda s, _t: s.enter_context(io.BytesIO(BINARY)), BINARY),
    "spooled-text-mode-w": (_spooled("w", TEXT), TEXT.encode()),
    "spooled-text-on-disk": (_spooled("w+", TEXT, on_disk=True), TEXT.encode()),
    "spooled-binary-mode-w+b": (_spooled("w+b", BINARY), BINARY),
    "spooled-binary-on-disk": (_spooled("w+b", BINARY, on_disk=True), BINARY),
    "spooled-binary-several-chunks": (_spooled("w+b", BINARY * 3000, on_disk=True), BINARY * 3000),
    "open-file-binary": (_real_file("rb", BINARY), BINARY),
    "open-file-text": (_real_file("r", TEXT), TEXT.encode()),
    "open-file-partially-read": (_real_file("rb", BINARY, read_first=100), BINARY),
    "StringIO-partially-read": (_partially_read(lambda: io.StringIO(TEXT)), TEXT.encode()),
    "BytesIO-partially-read": (_partially_read(lambda: io.BytesIO(BINARY)), BINARY),
}


@pytest.mark.parametrize("kind", SOURCES)
def test_persisted_result_downloads_with_its_bytes_type_and_name(
    client: Any,
    task: ProcessingTask,
    local_store: LocalFileStore,
    closing: ExitStack,
    tmp_path: Path,
    kind: str,
) -> None:
    make, expected = SOURCES[kind]
    info = STORE.persist_task_result(
        task.id, make(closing, tmp_path), "result.txt", "entity/list", "text/csv"
    )

    assert info.storage_provider == "local_filesystem"
    assert info.file_name == "result.txt"
    assert (info.file_type, info.mimetype) == ("entity/list", "text/csv")
    assert local_store.path_of(info.file_storage_data).read_bytes() == expected

    url = STORE.get_task_file_url(info)
    parts = urlsplit(url)
    assert parts.path == f"/files/{info.id}/"
    assert parts.query == f"file-id={info.security_tag}"

    status, headers, body = download(client, url)
    assert status == 200
    assert body == expected
    assert headers["Content-Type"].split(";")[0] == "text/csv"
    assert headers["Content-Disposition"] == "inline; filename=result.txt"


def test_result_is_listed_and_opened_through_the_store(
    task: ProcessingTask, local_store: LocalFileStore
) -> None:
    info = STORE.persist_task_result(task.id, BINARY, "data.bin", "raw", None)
    assert info.mimetype == "application/octet-stream"
    assert [f.id for f in TaskFile.get_task_result_files(task)] == [info.id]
    with STORE.open(info) as handle:
        assert handle.read() == BINARY
    internal = STORE.get_task_file_url(info, external=False)
    assert internal == local_store.path_of(info.file_storage_data).as_uri()
    assert STORE.get_file_url(info.file_storage_data) == STORE.get_task_file_url(info)
    with pytest.raises(ValueError):
        STORE.get_file_url("not/a/task/file")


def test_non_ascii_file_name_is_kept_for_the_download(client: Any, task: ProcessingTask) -> None:
    info = STORE.persist_task_result(
        task.id, b"x", "Ergebnis ü.json", "entity/list", "application/json"
    )
    status, headers, _ = download(client, STORE.get_task_file_url(info))
    assert status == 200
    assert headers["Content-Disposition"].startswith("inline;")
    assert quote("Ergebnis ü.json") in headers["Content-Disposition"]


def test_unusable_sources_are_rejected_without_a_record(
    task: ProcessingTask, local_store: LocalFileStore
) -> None:
    with pytest.raises(TypeError):
        STORE.persist_task_result(task.id, 12345, "number.txt", "text", "text/plain")
    assert TaskFile.get_task_result_files(task) == []
    assert _files_below(local_store.root) == []


# --- download errors ------------------------------------------------------------------------


def _error(client: Any, url: str) -> tuple[int, dict[str, Any]]:
    response = client.get(url)
    assert response.is_json, response.data
    return response.status_code, response.get_json()


def test_wrong_tag_is_not_found(client: Any, task: ProcessingTask) -> None:
    info = STORE.persist_task_result(task.id, "secret", "a.txt", "text", "text/plain")
    status, body = _error(client, f"/files/{info.id}/?file-id=wrong-{info.security_tag}")
    assert status == 404
    assert body["message"] == "File not found."
    assert "secret" not in str(body)


def test_missing_tag_is_unprocessable(client: Any, task: ProcessingTask) -> None:
    info = STORE.persist_task_result(task.id, "x", "a.txt", "text", "text/plain")
    status, body = _error(client, f"/files/{info.id}/")
    assert status == 422
    assert "file-id" in body["errors"]["query"]


def test_unknown_file_id_is_not_found(client: Any, task: ProcessingTask) -> None:
    info = STORE.persist_task_result(task.id, "x", "a.txt", "text", "text/plain")
    status, _ = _error(client, f"/files/{info.id + 100}/?file-id={info.security_tag}")
    assert status == 404


def test_file_gone_from_disk_is_not_found(
    client: Any, task: ProcessingTask, local_store: LocalFileStore
) -> None:
    info = STORE.persist_task_result(task.id, "x", "a.txt", "text", "text/plain")
    local_store.path_of(info.file_storage_data).unlink()
    status, _ = _error(client, STORE.get_task_file_url(info))
    assert status == 404


def test_files_of_other_stores_are_not_served(client: Any, task: ProcessingTask) -> None:
    info = STORE.persist_task_result(
        task.id,
        "https://example.org/a.json",
        "a.json",
        "entity/list",
        "application/json",
        storage_provider="url_file_store",
    )
    status, _ = _error(client, f"/files/{info.id}/?file-id={info.security_tag}")
    assert status == 404


def test_record_pointing_outside_the_store_is_not_served(
    client: Any, task: ProcessingTask, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    info = TaskFile(
        task, "tag", "local_filesystem", "outside.txt", str(outside), "text", "text/plain"
    )
    info.save(commit=True)
    status, _ = _error(client, f"/files/{info.id}/?file-id=tag")
    assert status == 404


# --- names and paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../../escape.txt", "escape.txt"),
        ("../", None),
        ("/etc/passwd", "passwd"),
        ("/tmp/absolute.txt", "absolute.txt"),
        ("..\\..\\windows.txt", "windows.txt"),
        ("C:\\Windows\\evil.dll", "evil.dll"),
        ("nested/dir/name.txt", "name.txt"),
        ("line\nbreak.txt", "linebreak.txt"),
    ],
)
def test_names_cannot_escape_the_store_root(
    client: Any,
    task: ProcessingTask,
    local_store: LocalFileStore,
    tmp_path: Path,
    given: str,
    shown: str | None,
) -> None:
    before_outside = _files_below(tmp_path)
    if shown is None:
        with pytest.raises(ValueError):
            STORE.persist_task_result(task.id, "payload", given, "text", "text/plain")
        assert TaskFile.get_task_result_files(task) == []
        assert _files_below(tmp_path) == before_outside
        return

    info = STORE.persist_task_result(task.id, "payload", given, "text", "text/plain")
    path = local_store.path_of(info.file_storage_data)
    assert path.is_relative_to(local_store.root / f"task_{task.id}" / "out")
    assert path.name == shown
    assert info.file_name == shown
    new_files = set(_files_below(tmp_path)) - set(before_outside)
    assert new_files == {path}
    status, headers, body = download(client, STORE.get_task_file_url(info))
    assert (status, body) == (200, b"payload")
    assert headers["Content-Disposition"] == f"inline; filename={shown}"


@pytest.mark.parametrize(
    ("target", "relative"),
    [
        ("a/b.txt", "a/b.txt"),
        ("/abs/c.txt", "abs/c.txt"),
        ("win\\d.txt", "win/d.txt"),
        ("./e.txt", "e.txt"),
    ],
)
def test_persist_file_keeps_targets_inside_the_root(
    local_store: LocalFileStore, target: str, relative: str
) -> None:
    STORE.persist_file(b"data", target)
    assert (local_store.root / relative).read_bytes() == b"data"
    assert _files_below(local_store.root) == [local_store.root / relative]


@pytest.mark.parametrize("target", ["../up.txt", "a/../../up.txt", "..\\up.txt"])
def test_persist_file_refuses_parent_references(
    local_store: LocalFileStore, tmp_path: Path, target: str
) -> None:
    before = _files_below(tmp_path)
    with pytest.raises(ValueError):
        STORE.persist_file(b"data", target)
    assert _files_below(tmp_path) == before


def test_prepare_path() -> None:
    assert str(FileStore.prepare_path("/a/b")) == "a/b"
    assert str(FileStore.prepare_path("a\\b")) == "a/b"
    with pytest.raises(ValueError):
        FileStore.prepare_path("a/../b")


def test_same_name_twice_keeps_both(
    client: Any, task: ProcessingTask, local_store: LocalFileStore
) -> None:
    first = STORE.persist_task_result(task.id, "one", "same.txt", "text", "text/plain")
    second = STORE.persist_task_result(task.id, "two", "same.txt", "text", "text/plain")
    assert first.file_storage_data != second.file_storage_data
    assert first.file_name == second.file_name == "same.txt"
    assert [f.id for f in TaskFile.get_task_result_files(task.id)] == [first.id, second.id]
    for info, content in ((first, b"one"), (second, b"two")):
        assert local_store.path_of(info.file_storage_data).read_bytes() == content
        status, headers, body = download(client, STORE.get_task_file_url(info))
        assert (status, body) == (200, content)
        assert headers["Content-Disposition"] == "inline; filename=same.txt"


def test_a_new_task_file_resolves_its_folder_once(
    task: ProcessingTask, local_store: LocalFileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the reservation resolves, checks and creates the task folder; writing the reserved
    # placeholder does not do it again
    resolved: list[str] = []
    original = LocalFileStore.path_of

    def spy(self: LocalFileStore, file_storage_data: str) -> Path:
        resolved.append(file_storage_data)
        return original(self, file_storage_data)

    monkeypatch.setattr(LocalFileStore, "path_of", spy)
    info = STORE.persist_task_result(task.id, "one", "once.txt", "text", "text/plain")
    assert resolved == [f"task_{task.id}/out"]
    assert (local_store.root / info.file_storage_data).read_bytes() == b"one"


def test_same_name_in_two_tasks_lands_in_separate_folders(
    task: ProcessingTask, local_store: LocalFileStore
) -> None:
    other = ProcessingTask("other")
    other.save(commit=True)
    a = STORE.persist_task_result(task.id, "a", "out.txt", "text", None)
    b = STORE.persist_task_result(other.id, "b", "out.txt", "text", None)
    assert (
        local_store.path_of(a.file_storage_data).parent
        != local_store.path_of(b.file_storage_data).parent
    )
    assert (
        local_store.path_of(a.file_storage_data).name
        == local_store.path_of(b.file_storage_data).name
        == "out.txt"
    )


def test_temp_files_are_not_results(task: ProcessingTask, local_store: LocalFileStore) -> None:
    result = STORE.persist_task_result(task.id, "r", "result.txt", "text", "text/plain")
    temp = STORE.persist_task_temp_file(task.id, b"t", "state.bin")
    assert temp.file_type == "temp-file"
    assert temp.mimetype == "application/octet-stream"
    assert local_store.path_of(temp.file_storage_data).is_relative_to(
        local_store.root / f"task_{task.id}" / "tmp"
    )
    assert [f.id for f in TaskFile.get_task_result_files(task)] == [result.id]
    with STORE.open(temp) as handle:
        assert handle.read() == b"t"


def test_a_new_file_belongs_to_its_task_and_shows_in_its_outputs(task: ProcessingTask) -> None:
    task_id = task.id
    info = STORE.persist_task_result(task_id, "a", "a.txt", "text", "text/plain", commit=False)
    assert info.task is task and info.task_id == task_id  # before any flush or commit
    DB.session.commit()
    assert [output.file_name for output in task.outputs] == ["a.txt"]  # reloaded after the commit

    assert [output.file_name for output in task.outputs] == ["a.txt"]  # the collection is loaded now
    second = STORE.persist_task_result(task_id, "b", "b.txt", "text", "text/plain", commit=False)
    assert [output.file_name for output in task.outputs] == ["a.txt", "b.txt"], "a loaded list stays true"
    DB.session.commit()
    ids = [info.id, second.id]
    DB.session.remove()
    reloaded = DB.session.get(ProcessingTask, task_id)
    assert [(output.id, output.task_id) for output in reloaded.outputs] == [(ids[0], task_id), (ids[1], task_id)]


def test_commit_false_leaves_the_record_uncommitted(task: ProcessingTask) -> None:
    info = STORE.persist_task_result(task.id, "x", "a.txt", "text", None, commit=False)
    assert info in DB.session.new
    DB.session.rollback()
    assert TaskFile.get_task_result_files(task) == []


def test_unknown_task_is_an_error_and_stores_nothing(local_store: LocalFileStore) -> None:
    with pytest.raises(TaskNotFound):
        STORE.persist_task_result(987654, "x", "a.txt", "text", None)
    with pytest.raises(KeyError):  # what callers of the original runner catch
        STORE.persist_task_temp_file(987654, "x", "a.txt")
    assert _files_below(local_store.root) == []


class _FailingReader(io.RawIOBase):
    """Gives some bytes, then fails like a dropped network stream."""

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls == 1:
            return b"partial content"
        raise OSError("connection lost")


def test_no_partial_file_is_left_when_the_source_fails(
    task: ProcessingTask, local_store: LocalFileStore
) -> None:
    source = _FailingReader()
    with pytest.raises(OSError, match="connection lost"):
        STORE.persist_task_result(task.id, source, "broken.txt", "text", "text/plain")
    source.close()
    assert _files_below(local_store.root) == []
    assert TaskFile.get_task_result_files(task) == []

    retry = STORE.persist_task_result(task.id, "whole", "broken.txt", "text", "text/plain")
    assert local_store.path_of(retry.file_storage_data).name == "broken.txt"
    assert [p.name for p in _files_below(local_store.root)] == ["broken.txt"]


def test_failed_overwrite_keeps_the_previous_file(local_store: LocalFileStore) -> None:
    STORE.persist_file(b"old", "plain/file.bin")
    source = _FailingReader()
    with pytest.raises(OSError):
        STORE.persist_file(source, "plain/file.bin")
    source.close()
    assert _files_below(local_store.root) == [local_store.root / "plain" / "file.bin"]
    assert (local_store.root / "plain" / "file.bin").read_bytes() == b"old"


# --- other stores and the registry ----------------------------------------------------------


def test_url_file_store_records_the_url(task: ProcessingTask) -> None:
    url = "https://data.example.org/results/42.json"
    info = STORE.persist_task_result(
        task.id,
        url,
        "42.json",
        "entity/list",
        "application/json",
        storage_provider="url_file_store",
    )
    assert info.storage_provider == "url_file_store"
    assert info.file_storage_data == url
    assert STORE.get_task_file_url(info) == url
    assert STORE.get_task_file_url(info, external=False) == url
    assert STORE.get_file_url(url, storage_provider="url_file_store") == url
    assert [f.id for f in TaskFile.get_task_result_files(task)] == [info.id]


@pytest.mark.parametrize("given", [b"bytes", "/local/path", "ftp://host/file"])
def test_url_file_store_accepts_only_urls(task: ProcessingTask, given: Any) -> None:
    with pytest.raises(TypeError):
        STORE.persist_task_result(
            task.id, given, "x", "text", None, storage_provider="url_file_store"
        )
    assert TaskFile.get_task_result_files(task) == []


def test_unknown_store_name(task: ProcessingTask) -> None:
    with pytest.raises(FileStoreNotConfigured) as info:
        STORE["no-such-store"]
    assert "no-such-store" in str(info.value)
    assert isinstance(info.value, NotImplementedError)  # what the original raised
    with pytest.raises(FileStoreNotConfigured):
        STORE.persist_task_result(
            task.id, "x", "a.txt", "text", None, storage_provider="no-such-store"
        )
    assert "no-such-store" not in STORE
    assert {"local_filesystem", "url_file_store"} <= set(STORE.names)


@pytest.mark.parametrize("default", [None, "", "missing-store"])
def test_no_usable_default_store(default: str | None) -> None:
    registry = FileStoreRegistry({}, default)
    with pytest.raises(FileStoreNotConfigured):
        registry.persist_task_result(1, b"x", "a", None, None)
    with pytest.raises(FileStoreNotConfigured):
        registry.persist_file(b"x", "a")
    with pytest.raises(FileStoreNotConfigured):
        registry.get_file_url("a")


def test_default_store_follows_the_configuration(app: Flask, tmp_path: Path) -> None:
    other = build_app(make_test_config(tmp_path / "other", DEFAULT_FILE_STORE="url_file_store"))
    try:
        with other.app_context():
            task = ProcessingTask("t")
            task.save(commit=True)
            info = STORE.persist_task_result(task.id, "https://example.org/x", "x", "text", None)
            assert info.storage_provider == "url_file_store"
    finally:
        dispose(other)
    assert STORE.default_name == "local_filesystem"  # the first app is unaffected


def test_store_class_defined_later_is_available_in_a_new_app(
    app: Flask, tmp_path: Path, restore_store_classes: None
) -> None:
    class MemoryStore(FileStore, name="test-memory-store"):
        def init_app(self, app: Flask) -> None:
            super().init_app(app)
            self.files: dict[str, bytes] = {}

        def persist_file(
            self, file_: Any, target: str, mimetype: str = "application/octet-stream"
        ) -> None:
            data = file_ if isinstance(file_, str | bytes) else file_.read()
            self.files[target] = data.encode() if isinstance(data, str) else data

        def get_file_url(self, file_storage_data: str, external: bool = True) -> str:
            return f"memory://{file_storage_data}"

    assert "test-memory-store" not in STORE  # stores are instantiated when an app is created
    second = build_app(make_test_config(tmp_path / "second"))
    try:
        with second.app_context():
            store = STORE["test-memory-store"]
            assert isinstance(store, MemoryStore)
            assert store.app is second
            task = ProcessingTask("t")
            task.save(commit=True)
            info = STORE.persist_task_result(
                task.id, "hello", "m.txt", "text", None, storage_provider="test-memory-store"
            )
            assert info.storage_provider == "test-memory-store"
            assert store.files == {info.file_storage_data: b"hello"}
            assert STORE.get_task_file_url(info) == f"memory://{info.file_storage_data}"
    finally:
        dispose(second)


def test_store_that_fails_to_start_is_left_out(
    app: Flask, tmp_path: Path, restore_store_classes: None, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenStore(FileStore, name="test-broken-store"):
        def init_app(self, app: Flask) -> None:
            raise RuntimeError("service unreachable")

        def persist_file(
            self, file_: Any, target: str, mimetype: str = "application/octet-stream"
        ) -> None:
            raise AssertionError("never constructed")

        def get_file_url(self, file_storage_data: str, external: bool = True) -> str:
            raise AssertionError("never constructed")

    with caplog.at_level(logging.WARNING, logger="qhana_plugin_runner.storage"):
        second = build_app(make_test_config(tmp_path / "second"))
    try:
        with second.app_context():
            assert "test-broken-store" not in STORE
            assert "local_filesystem" in STORE
    finally:
        dispose(second)
    assert any("test-broken-store" in record.getMessage() for record in caplog.records)


def test_store_root_is_created_below_the_instance(app: Flask, local_store: LocalFileStore) -> None:
    assert local_store.root == Path(app.config["FILE_STORE_ROOT_PATH"]).resolve()
    assert local_store.root.is_dir()
    assert local_store.root.is_relative_to(Path(app.instance_path).resolve())
    assert os.access(local_store.root, os.W_OK)


@pytest.mark.parametrize("name, kept", [("x" * 300 + ".csv", ".csv"), ("ä" * 200, "ää"), ("y" * 250 + "." + "z" * 30, "yy")])
def test_overlong_names_are_shortened_to_fit_the_file_system(
    task: ProcessingTask, local_store: LocalFileStore, name: str, kept: str
) -> None:
    # found by tests/fuzz/test_properties.py: names over 255 bytes failed with OSError
    info = STORE.persist_task_result(task.id, "data", name, "text", "text/plain")
    assert len(info.file_name.encode()) <= 200 and info.file_name.endswith(kept)
    assert local_store.path_of(info.file_storage_data).read_bytes() == b"data"
