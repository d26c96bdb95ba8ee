"""The models plugins use: constructor order, defaults, status, steps, links, subscriptions,
virtual plugins and plugin key-value state. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import (
    ProcessingTask,
    Step,
    TaskFile,
    TaskLink,
    TaskStatus,
    TaskUpdateSubscription,
    WebhookRef,
)
from qhana_plugin_runner.db.models.virtual_plugins import DataBlob, PluginState, VirtualPlugin


@pytest.fixture
def runner_config(runner_config: dict[str, Any], database_url: str) -> dict[str, Any]:
    return {**runner_config, "SQLALCHEMY_DATABASE_URI": database_url}


def _saved_task(name: str = "task", **kwargs: Any) -> ProcessingTask:
    task = ProcessingTask(name, **kwargs)
    task.save(commit=True)
    return task


def _fresh(model: type, ident: Any) -> Any:
    """The row as stored (a new session, nothing cached)."""
    DB.session.remove()
    return DB.session.get(model, ident)


def _init_fields(model: type) -> list[str]:
    return [field.name for field in dataclasses.fields(model) if field.init]


def _as_utc(value: datetime) -> datetime:
    """SQLite returns the stored UTC time without its zone; PostgreSQL returns it aware."""
    return (
        value.replace(tzinfo=timezone.utc)
        if value.tzinfo is None
        else value.astimezone(timezone.utc)
    )


def _count(model: type, **where: Any) -> int:
    query = select(func.count()).select_from(model).filter_by(**where)
    return DB.session.execute(query).scalar_one()


# --- constructor order ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (
            ProcessingTask,
            [
                "task_name",
                "started_at",
                "finished_at",
                "parameters",
                "data",
                "multi_step",
                "steps",
                "current_step",
                "progress_value",
                "progress_start",
                "progress_target",
                "progress_unit",
                "task_status",
                "task_log",
                "outputs",
                "links",
                "subscriptions",
            ],
        ),
        (
            TaskFile,
            [
                "task",
                "security_tag",
                "storage_provider",
                "file_name",
                "file_storage_data",
                "file_type",
                "mimetype",
                "created_at",
            ],
        ),
        (TaskLink, ["task", "type", "href"]),
        (TaskUpdateSubscription, ["task", "webhook_href", "task_href", "event_type"]),
        (VirtualPlugin, ["parent_id", "name", "version", "description", "tags", "href"]),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_constructor_argument_order_is_the_contract(
    app: Flask, model: type, fields: list[str]
) -> None:
    assert _init_fields(model) == fields


def test_step_number_and_ids_are_not_constructor_arguments(app: Flask) -> None:
    assert "number" not in _init_fields(Step)
    assert "id" not in _init_fields(ProcessingTask)


def test_processing_task_positional_constructor(app: Flask) -> None:
    started = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    finished = started + timedelta(minutes=5)
    task = ProcessingTask(
        "positional",
        started,
        finished,
        '{"a": 1}',
        {"d": [1]},
        True,
        [],
        0,
        5.0,
        1.0,
        10.0,
        "items",
        "SUCCESS",
        "line",
        [],
        [],
        [],
    )
    task.save(commit=True)
    stored = _fresh(ProcessingTask, task.id)
    assert stored.task_name == "positional"
    assert _as_utc(stored.started_at) == started
    assert _as_utc(stored.finished_at) == finished
    assert stored.parameters == '{"a": 1}'
    assert stored.data == {"d": [1]}
    assert stored.multi_step is True
    assert stored.current_step == 0
    assert (stored.progress_value, stored.progress_start, stored.progress_target) == (
        5.0,
        1.0,
        10.0,
    )
    assert stored.progress_unit == "items"
    assert stored.task_status == "SUCCESS"
    assert stored.task_log == "line"


def test_processing_task_defaults(app: Flask) -> None:
    stored = _fresh(ProcessingTask, _saved_task("defaults").id)
    assert stored.finished_at is None
    assert stored.parameters == ""
    assert stored.data == {}
    assert stored.multi_step is False
    assert (
        stored.steps == []
        and stored.outputs == []
        and stored.links == []
        and stored.subscriptions == []
    )
    assert stored.current_step == -1
    assert stored.progress_value is None
    assert (stored.progress_start, stored.progress_target, stored.progress_unit) == (0, 100, "%")
    assert stored.task_status is None
    assert stored.task_log == ""
    assert ProcessingTask.get_by_id(stored.id) is stored
    assert ProcessingTask.get_by_id(stored.id + 1000) is None


def test_started_at_is_taken_per_row_and_is_timezone_aware(app: Flask) -> None:
    before_first = datetime.now(timezone.utc)
    first = ProcessingTask("first")
    between = datetime.now(timezone.utc)
    second = ProcessingTask("second")
    after_second = datetime.now(timezone.utc)
    first_started, second_started = first.started_at, second.started_at

    assert first_started.tzinfo is not None and first_started.utcoffset() == timedelta(0)
    assert before_first <= first_started <= between <= second_started <= after_second

    first.save()
    second.save(commit=True)
    first_id, second_id = first.id, second.id
    assert _as_utc(_fresh(ProcessingTask, first_id).started_at) == first_started
    assert _as_utc(_fresh(ProcessingTask, second_id).started_at) == second_started


def test_task_file_created_at_is_taken_per_row(app: Flask) -> None:
    task = _saved_task()
    before = datetime.now(timezone.utc)
    info = TaskFile(task, "tag", "local_filesystem", "a.txt", "task_1/out/a.txt", "text")
    after = datetime.now(timezone.utc)
    created = info.created_at
    assert created.tzinfo is not None
    assert before <= created <= after
    info.save(commit=True)
    stored = _fresh(TaskFile, info.id)
    assert _as_utc(stored.created_at) == created
    assert stored.mimetype is None
    assert (stored.security_tag, stored.storage_provider, stored.file_name) == (
        "tag",
        "local_filesystem",
        "a.txt",
    )
    assert (stored.file_storage_data, stored.file_type) == ("task_1/out/a.txt", "text")


# --- status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finished", "task_status", "status", "is_ok"),
    [
        (False, None, "PENDING", False),
        (False, "SUCCESS", "PENDING", True),
        (True, "SUCCESS", "SUCCESS", True),
        (True, "FAILURE", "FAILURE", False),
        (True, None, "UNKNOWN", False),
    ],
)
def test_status_property(
    app: Flask, finished: bool, task_status: str | None, status: str, is_ok: bool
) -> None:
    task = _saved_task(
        finished_at=datetime.now(timezone.utc) if finished else None, task_status=task_status
    )
    stored = _fresh(ProcessingTask, task.id)
    assert stored.status == status
    assert stored.is_finished is finished
    assert stored.is_ok is is_ok


def test_status_values_are_the_wire_strings() -> None:
    assert [s.value for s in TaskStatus] == ["PENDING", "SUCCESS", "FAILURE", "UNKNOWN"]
    assert TaskStatus.SUCCESS == "SUCCESS"


# --- steps and log --------------------------------------------------------------------------


def test_steps_are_added_in_order_and_must_be_cleared_first(app: Flask) -> None:
    task = _saved_task("multi")
    task.add_next_step("http://p/step1/", "http://p/step1/ui/", "step1", commit=True)
    assert task.multi_step is True
    assert task.current_step == 0
    assert task.has_uncleared_step

    with pytest.raises(AssertionError):
        task.add_next_step("http://p/step2/", "http://p/step2/ui/", "step2")
    assert len(task.steps) == 1

    task.clear_previous_step()
    assert not task.has_uncleared_step
    task.add_next_step("http://p/step2/", "http://p/step2/ui/", "step2")
    task.clear_previous_step()
    task.add_next_step("http://p/step3/", None, None, commit=True)

    stored = _fresh(ProcessingTask, task.id)
    assert stored.current_step == 2
    assert [s.number for s in stored.steps] == [0, 1, 2]
    assert [s.step_id for s in stored.steps] == ["step1", "step2", None]
    assert [s.href for s in stored.steps] == [
        "http://p/step1/",
        "http://p/step2/",
        "http://p/step3/",
    ]
    assert [s.ui_href for s in stored.steps] == ["http://p/step1/ui/", "http://p/step2/ui/", None]
    assert [s.cleared for s in stored.steps] == [True, True, False]
    assert all(s.id == task.id for s in stored.steps)
    assert stored.has_uncleared_step


def test_first_step_can_be_added_before_the_task_is_flushed(app: Flask) -> None:
    task = ProcessingTask("unsaved")
    task.add_next_step("http://p/a/", "http://p/a/ui/", "a")
    task.save(commit=True)
    stored = _fresh(ProcessingTask, task.id)
    assert [(s.number, s.step_id, s.id) for s in stored.steps] == [(0, "a", task.id)]


def test_clear_previous_step_commits_when_asked(app: Flask) -> None:
    task = _saved_task()
    task.add_next_step("http://p/a/", "http://p/a/ui/", "a", commit=True)
    task.clear_previous_step(commit=True)
    assert _fresh(ProcessingTask, task.id).steps[0].cleared is True


def test_clear_previous_step_without_steps_does_nothing(app: Flask) -> None:
    task = _saved_task()
    task.clear_previous_step(commit=True)
    stored = _fresh(ProcessingTask, task.id)
    assert stored.steps == [] and stored.current_step == -1 and stored.multi_step is False


def test_add_task_log_entry_appends_lines(app: Flask) -> None:
    task = _saved_task()
    task.add_task_log_entry("first")
    task.add_task_log_entry("second", commit=True)
    assert _fresh(ProcessingTask, task.id).task_log == "first\nsecond"


# --- links and subscriptions ----------------------------------------------------------------


def test_task_link_positional_and_keyword_construction(app: Flask) -> None:
    task = _saved_task()
    TaskLink(task, "of-weights", "http://p/weights/")
    TaskLink(task, type="plot", href="http://p/plot/")
    DB.session.commit()  # the links joined the task's session on construction
    stored = _fresh(ProcessingTask, task.id)
    assert sorted((link.type, link.href) for link in stored.links) == [
        ("of-weights", "http://p/weights/"),
        ("plot", "http://p/plot/"),
    ]
    assert all(link.task_id == task.id for link in stored.links)


def _subscribe(task: ProcessingTask, webhook: str, event: str | None = None) -> None:
    TaskUpdateSubscription(task, webhook, f"http://runner/tasks/{task.id}/", event)


def test_subscription_positional_constructor(app: Flask) -> None:
    task = _saved_task()
    _subscribe(task, "http://hook/a", "status")
    DB.session.commit()
    (stored,) = _fresh(ProcessingTask, task.id).subscriptions
    assert (stored.webhook_href, stored.task_href, stored.event_type) == (
        "http://hook/a",
        f"http://runner/tasks/{task.id}/",
        "status",
    )


def test_get_by_task_and_event(app: Flask) -> None:
    task, other = _saved_task(), _saved_task()
    task_href = f"http://runner/tasks/{task.id}/"
    _subscribe(task, "http://hook/all")
    _subscribe(task, "http://hook/all")  # a duplicate is reported once
    _subscribe(task, "http://hook/status", "status")
    _subscribe(task, "http://hook/steps", "steps")
    _subscribe(other, "http://hook/other")
    DB.session.commit()

    assert TaskUpdateSubscription.get_by_task_and_event(task) == [
        WebhookRef("http://hook/all", task_href)
    ]
    assert sorted(TaskUpdateSubscription.get_by_task_and_event(task, "status")) == [
        WebhookRef("http://hook/all", task_href),
        WebhookRef("http://hook/status", task_href),
    ]
    assert sorted(TaskUpdateSubscription.get_by_task_and_event(task.id, "steps")) == [
        WebhookRef("http://hook/all", task_href),
        WebhookRef("http://hook/steps", task_href),
    ]
    ref = TaskUpdateSubscription.get_by_task_and_event(task, "unknown-event")[0]
    assert (ref.webhook_href, ref.task_href) == ("http://hook/all", task_href)


def test_get_by_task_and_subscriber(app: Flask) -> None:
    task, other = _saved_task(), _saved_task()
    _subscribe(task, "http://hook/a")
    _subscribe(task, "http://hook/a", "status")
    _subscribe(task, "http://hook/a", "steps")
    _subscribe(task, "http://hook/b", "status")
    _subscribe(other, "http://hook/a", "status")
    DB.session.commit()

    def events(found: Any) -> list[str | None]:
        assert all(s.task_id == task.id and s.webhook_href == "http://hook/a" for s in found)
        return sorted((s.event_type for s in found), key=str)

    assert events(TaskUpdateSubscription.get_by_task_and_subscriber(task, "http://hook/a")) == [
        None,
        "status",
        "steps",
    ]
    assert events(
        TaskUpdateSubscription.get_by_task_and_subscriber(task, "http://hook/a", ...)
    ) == [None, "status", "steps"]
    assert events(
        TaskUpdateSubscription.get_by_task_and_subscriber(task, "http://hook/a", None)
    ) == [None]
    assert events(
        TaskUpdateSubscription.get_by_task_and_subscriber(task.id, "http://hook/a", "status")
    ) == ["status"]
    assert TaskUpdateSubscription.get_by_task_and_subscriber(task, "http://hook/a", "other") == []
    assert TaskUpdateSubscription.get_by_task_and_subscriber(task, "http://hook/none") == []


def test_deleting_a_task_deletes_everything_that_belongs_to_it(app: Flask) -> None:
    task, keep = _saved_task("delete-me"), _saved_task("keep-me")
    for owner in (task, keep):
        owner.add_next_step("http://p/s/", "http://p/s/ui/", "s")
        TaskFile(owner, "tag", "local_filesystem", "f.txt", f"task_{owner.id}/out/f.txt", "text")
        TaskLink(owner, "plot", "http://p/plot/")
        _subscribe(owner, "http://hook/a")
    DB.session.commit()
    task_id, keep_id = task.id, keep.id

    DB.session.delete(task)
    DB.session.commit()
    DB.session.remove()

    assert DB.session.get(ProcessingTask, task_id) is None
    for model in (TaskFile, TaskLink, TaskUpdateSubscription):
        assert _count(model, task_id=task_id) == 0
        assert _count(model, task_id=keep_id) == 1
    assert _count(Step, id=task_id) == 0
    assert _count(Step, id=keep_id) == 1


def test_get_task_result_files_leaves_out_temp_files(app: Flask) -> None:
    task = _saved_task()
    first = TaskFile(task, "t1", "local_filesystem", "a.txt", "a", "text")
    TaskFile(task, "t2", "local_filesystem", "tmp.bin", "tmp", "temp-file")
    untyped = TaskFile(task, "t3", "local_filesystem", "b", "b", None)
    DB.session.commit()
    assert [f.id for f in TaskFile.get_task_result_files(task)] == [first.id, untyped.id]
    assert [f.id for f in TaskFile.get_task_result_files(task.id)] == [first.id, untyped.id]
    assert TaskFile.get_by_id(first.id) is first


# --- virtual plugins ------------------------------------------------------------------------


def _virtual(
    parent: str, name: str, href: str, tags: str = "", version: str = "1.0.0"
) -> VirtualPlugin:
    plugin = VirtualPlugin(parent, name, version, f"{name} description", tags, href)
    DB.session.add(plugin)
    return plugin


def test_virtual_plugin_properties(app: Flask) -> None:
    plugin = _virtual("parent@v1", "my.workflow", "http://p/wf/1/", tags="workflow\n  bpmn \n\n")
    DB.session.commit()
    stored = _fresh(VirtualPlugin, plugin.id)
    assert stored.tag_list == ["workflow", "bpmn"]
    assert stored.identifier == "my-workflow@1-0-0"
    assert (stored.parent_id, stored.description, stored.href) == (
        "parent@v1",
        "my.workflow description",
        "http://p/wf/1/",
    )


def test_virtual_plugin_queries(app: Flask) -> None:
    assert VirtualPlugin.exists() is False
    a = _virtual("p1", "a", "http://p1/a/")
    _virtual("p1", "b", "http://p1/b/")
    _virtual("p2", "c", "http://p2/c/")
    DB.session.commit()

    assert [v.name for v in VirtualPlugin.get_all()] == ["a", "b", "c"]
    assert [v.name for v in VirtualPlugin.get_all(for_parents=["p1"])] == ["a", "b"]
    assert [v.name for v in VirtualPlugin.get_all(for_parents=("p2", "p3"))] == ["c"]
    assert VirtualPlugin.get_all(for_parents=[]) == []
    assert [v.name for v in VirtualPlugin.get_all(filters=[VirtualPlugin.name != "b"])] == [
        "a",
        "c",
    ]
    assert [v.name for v in VirtualPlugin.get_all_by_name("b")] == ["b"]

    assert VirtualPlugin.get_by_href("http://p1/a/") is a
    assert VirtualPlugin.get_by_href("http://p1/a/", parent_id="p1") is a
    assert VirtualPlugin.get_by_href("http://p1/a/", parent_id="p2") is None
    assert VirtualPlugin.get_by_href("http://nowhere/") is None

    assert VirtualPlugin.exists() is True
    assert VirtualPlugin.exists([VirtualPlugin.href == "http://p2/c/"]) is True
    assert (
        VirtualPlugin.exists(
            [VirtualPlugin.href == "http://p2/c/", VirtualPlugin.parent_id == "p1"]
        )
        is False
    )

    VirtualPlugin.delete_by_href("http://p1/b/", parent_id="p2", commit=True)  # wrong parent
    assert VirtualPlugin.exists([VirtualPlugin.href == "http://p1/b/"]) is True
    VirtualPlugin.delete_by_href("http://p1/b/", commit=True)
    VirtualPlugin.delete_by_name_and_version("c", "1.0.0", commit=True)
    DB.session.remove()
    assert [v.href for v in VirtualPlugin.get_all()] == ["http://p1/a/"]


# --- plugin state and data blobs ------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "first", "second"),
    [
        (PluginState, {"config": [1, 2]}, "replaced"),
        (PluginState, None, 0),
        (DataBlob, b"\x00\x01binary", b"new bytes"),
    ],
    ids=["state-json", "state-falsy", "blob"],
)
def test_key_value_get_set_delete(app: Flask, model: Any, first: Any, second: Any) -> None:
    with pytest.raises(KeyError):
        model.get_value("plugin@v1", "key")
    assert model.get_value("plugin@v1", "key", "fallback") == "fallback"
    assert model.get_value("plugin@v1", "key", None) is None

    assert model.set_value("plugin@v1", "key", first, commit=True) is None
    DB.session.remove()
    assert model.get_value("plugin@v1", "key") == first
    assert model.get_value("plugin@v1", "key", "fallback") == first
    assert model.get_value("other@v1", "key", "fallback") == "fallback"

    assert model.set_value("plugin@v1", "key", second, commit=True) == first
    DB.session.remove()
    assert model.get_value("plugin@v1", "key") == second
    assert model.get_item("plugin@v1", "key").value == second

    model.delete_value("plugin@v1", "key", commit=True)
    DB.session.remove()
    with pytest.raises(KeyError):
        model.get_value("plugin@v1", "key")
    assert model.get_item("plugin@v1", "key") is None


@pytest.mark.parametrize("model", [PluginState, DataBlob])
def test_set_value_twice_before_commit_returns_the_pending_value(app: Flask, model: Any) -> None:
    value1, value2 = (b"1", b"2") if model is DataBlob else (1, 2)
    assert model.set_value("p", "k", value1) is None
    assert model.set_value("p", "k", value2) == value1
    DB.session.commit()
    DB.session.remove()
    assert model.get_value("p", "k") == value2


@pytest.mark.parametrize("model", [PluginState, DataBlob])
def test_get_all_items_like_treats_wildcards_literally(app: Flask, model: Any) -> None:
    value = b"v" if model is DataBlob else "v"
    ids = ["plugin_a@v1", "pluginXa@v1", "100%@v1", "1000@v1", "back\\slash", "other"]
    for plugin_id in ids:
        model.set_value(plugin_id, "k", value)
    DB.session.commit()

    def like(text: str) -> list[str]:
        return sorted(item.plugin_id for item in model.get_all_items_like(text))

    assert like("plugin_a") == ["plugin_a@v1"]
    assert like("100%") == ["100%@v1"]
    assert like("%") == ["100%@v1"]
    assert like("_") == ["plugin_a@v1"]
    assert like("back\\slash") == ["back\\slash"]
    assert like("@v1") == sorted(["1000@v1", "100%@v1", "plugin_a@v1", "pluginXa@v1"])
    assert [item.key for item in model.get_all_items("pluginXa@v1")] == ["k"]


# --- database set-up ------------------------------------------------------------------------


def test_foreign_keys_are_enforced(app: Flask) -> None:
    with pytest.raises(IntegrityError):
        DB.session.execute(insert(TaskLink).values(task_id=424242, type="x", href="http://x/"))
        DB.session.flush()
    DB.session.rollback()


def test_engine_settings_per_database(app: Flask) -> None:
    if DB.engine.dialect.name != "sqlite":
        assert DB.engine.dialect.driver == "psycopg"  # postgresql:// URIs use psycopg 3
        return
    with DB.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_constraint_names_follow_the_naming_convention() -> None:
    assert ProcessingTask.__table__.primary_key.name == "pk_ProcessingTask"
    foreign_keys = {fk.name for fk in TaskLink.__table__.foreign_key_constraints}
    assert foreign_keys == {"fk_TaskLink_task_id_ProcessingTask"}
    assert {ix.name for ix in TaskFile.__table__.indexes} == {"ix_TaskFile_file_name", "ix_TaskFile_task_id"}


@pytest.mark.parametrize("model", [TaskFile, TaskLink, TaskUpdateSubscription])
def test_a_tasks_children_are_found_through_an_index(app: Flask, model: Any) -> None:
    """GET /tasks/<id>/ reads outputs and links by task id (status changes read the
    subscriptions): with a million tasks a full-table scan each time made it ten times slower."""
    table = model.__tablename__
    query = f'SELECT * FROM "{table}" WHERE task_id = 7'
    with DB.engine.connect() as connection:
        if DB.engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}"))
        else:  # the planner scans tiny tables anyway: forbid that to see whether an index exists
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {query}"))
    assert f"ix_{table}_task_id" in plan, plan


def test_save_with_commit_keeps_the_id_loaded_and_reloads_the_rest(app: Flask) -> None:
    """Plugins read ``task.id`` right after ``save(commit=True)``: no SELECT for that, but
    every other attribute is still reloaded on access (a change made elsewhere is seen)."""
    from sqlalchemy import event, text

    from qhana_plugin_runner.db.db import DB
    from qhana_plugin_runner.db.models.tasks import ProcessingTask

    task = ProcessingTask(task_name="keep-id")
    statements: list[str] = []
    engine = DB.engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        task.save(commit=True)
        saved = list(statements)
        task_id = task.id
        assert statements == saved, f"reading the id ran {statements[len(saved):]}"
        with engine.begin() as conn:  # another connection changes the row
            conn.execute(text('UPDATE "ProcessingTask" SET task_name = :n WHERE id = :i'), {"n": "renamed", "i": task_id})
        assert task.task_name == "renamed"
        assert any(s.lstrip().upper().startswith("SELECT") for s in statements[len(saved):])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert DB.session.get(ProcessingTask, task_id) is task
