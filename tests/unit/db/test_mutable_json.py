"""MutableJSON: any JSON value persists, and in-place changes at any depth are saved.

Each test runs on SQLite (a file) and on PostgreSQL. A value is read back only after a commit
and either ``expire_all()`` (the refresh path) or a new session (the load path), so a passing
test means the database holds the value, not just the identity map.
"""

from __future__ import annotations

import copy
import gc
import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.db.models.virtual_plugins import PluginState
from qhana_plugin_runner.db.mutable_json import TrackedDict, TrackedList


@pytest.fixture
def runner_config(runner_config: dict[str, Any], database_url: str) -> dict[str, Any]:
    return {**runner_config, "SQLALCHEMY_DATABASE_URI": database_url}


def _new_task(data: Any = ...) -> int:
    task = (
        ProcessingTask("mutable-json") if data is ... else ProcessingTask("mutable-json", data=data)
    )
    task.save(commit=True)
    return task.id


def _reload(task_id: int, how: str = "expire") -> ProcessingTask:
    """The task as stored: expire the identity map, or start a fresh session."""
    if how == "expire":
        DB.session.expire_all()
    else:
        DB.session.remove()
    task = DB.session.get(ProcessingTask, task_id)
    assert task is not None
    return task


def test_new_task_has_an_empty_dict(app: Flask) -> None:
    task_id = _new_task()
    data = _reload(task_id).data
    assert data == {}
    assert isinstance(data, dict)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        42,
        -7,
        2**40,
        3.25,
        -0.5,
        "",
        "text ünïcode",
        [],
        [1, "a", None, True],
        {},
        {"a": {"b": [1, 2.5]}},
    ],
    ids=repr,
)
@pytest.mark.parametrize("how", ["expire", "new_session"])
def test_any_json_value_persists(app: Flask, value: Any, how: str) -> None:
    task_id = _new_task(value)
    stored = _reload(task_id, how).data
    assert stored == value
    if isinstance(value, dict | list):
        assert isinstance(stored, type(value))  # a tracked subclass
    else:
        assert type(stored) is type(value)  # 0 stays int, not False; 1.0 stays float


@pytest.mark.parametrize("value", [None, False, 7, "x", 1.5, [1]], ids=repr)
def test_replacing_the_whole_value_persists(app: Flask, value: Any) -> None:
    task_id = _new_task({"old": 1})
    task = _reload(task_id)
    task.data = value
    DB.session.commit()
    assert _reload(task_id).data == value


def _set_top(d: Any) -> None:
    d["top"] = 1


def _nested_assign(d: Any) -> None:
    d["a"]["b"] = "replaced"


def _deep_assign(d: Any) -> None:
    d["a"]["deep"]["deeper"]["x"] = 2


def _append(d: Any) -> None:
    d["a"]["b"].append(4)


def _iadd_list(d: Any) -> None:
    d["a"]["b"] += [4, 5]


def _iadd_number(d: Any) -> None:
    d["a"]["n"] += 1


def _iadd_str(d: Any) -> None:
    d["s"] += "!"


def _dict_pop(d: Any) -> None:
    d["a"].pop("n")


def _dict_del(d: Any) -> None:
    del d["a"]["deep"]


def _dict_popitem(d: Any) -> None:
    d["a"]["deep"]["deeper"].popitem()


def _dict_clear(d: Any) -> None:
    d["a"]["deep"].clear()


def _list_pop(d: Any) -> None:
    d["a"]["b"].pop(0)


def _update(d: Any) -> None:
    d["a"].update({"n": 10, "new": [1]})


def _update_kwargs(d: Any) -> None:
    d["a"].update(kw="arg")


def _ior(d: Any) -> None:
    d["a"] |= {"n": 11}


def _setdefault_new(d: Any) -> None:
    d.setdefault("created", []).append("x")


def _setdefault_existing(d: Any) -> None:
    d.setdefault("a", {})["b"].append(9)


def _list_of_dicts(d: Any) -> None:
    d["items"][1]["name"] = "second!"


def _list_item_assign(d: Any) -> None:
    d["a"]["b"][0] = {"now": "a dict"}


def _then_mutate_assigned(d: Any) -> None:
    d["fresh"] = {"inner": []}
    d["fresh"]["inner"].append({"k": "v"})
    d["fresh"]["inner"][0]["k2"] = "v2"


def _list_methods(d: Any) -> None:
    items = d["a"]["b"]
    items.insert(0, 0)
    items.extend([7, 5])
    items.remove(2)
    items.sort()
    items.reverse()


def _list_slice(d: Any) -> None:
    d["a"]["b"][1:] = [{"z": 1}]
    d["a"]["b"][1]["z"] = 2


def _list_del_and_clear(d: Any) -> None:
    del d["a"]["b"][0]
    d["items"].clear()


def _list_imul(d: Any) -> None:
    d["a"]["b"] *= 2


INITIAL = {
    "a": {"b": [1, 2, 3], "n": 1, "deep": {"deeper": {"x": 1}}},
    "items": [{"name": "first"}, {"name": "second"}],
    "s": "hi",
}

MUTATIONS: list[tuple[Callable[[Any], None], Callable[[dict[str, Any]], None]]] = [
    (_set_top, lambda e: e.update(top=1)),
    (_nested_assign, lambda e: e["a"].update(b="replaced")),
    (_deep_assign, lambda e: e["a"]["deep"]["deeper"].update(x=2)),
    (_append, lambda e: e["a"]["b"].append(4)),
    (_iadd_list, lambda e: e["a"]["b"].extend([4, 5])),
    (_iadd_number, lambda e: e["a"].update(n=2)),
    (_iadd_str, lambda e: e.update(s="hi!")),
    (_dict_pop, lambda e: e["a"].pop("n")),
    (_dict_del, lambda e: e["a"].pop("deep")),
    (_dict_popitem, lambda e: e["a"]["deep"].update(deeper={})),
    (_dict_clear, lambda e: e["a"].update(deep={})),
    (_list_pop, lambda e: e["a"]["b"].pop(0)),
    (_update, lambda e: e["a"].update(n=10, new=[1])),
    (_update_kwargs, lambda e: e["a"].update(kw="arg")),
    (_ior, lambda e: e["a"].update(n=11)),
    (_setdefault_new, lambda e: e.update(created=["x"])),
    (_setdefault_existing, lambda e: e["a"]["b"].append(9)),
    (_list_of_dicts, lambda e: e["items"][1].update(name="second!")),
    (_list_item_assign, lambda e: e["a"]["b"].__setitem__(0, {"now": "a dict"})),
    (_then_mutate_assigned, lambda e: e.update(fresh={"inner": [{"k": "v", "k2": "v2"}]})),
    (_list_methods, lambda e: e["a"].update(b=[7, 5, 3, 1, 0])),
    (_list_slice, lambda e: e["a"].update(b=[1, {"z": 2}])),
    (_list_del_and_clear, lambda e: (e["a"].update(b=[2, 3]), e.update(items=[]))),
    (_list_imul, lambda e: e["a"].update(b=[1, 2, 3, 1, 2, 3])),
]


@pytest.mark.parametrize(
    ("mutate", "expect"), MUTATIONS, ids=[m.__name__.strip("_") for m, _ in MUTATIONS]
)
@pytest.mark.parametrize("how", ["expire", "new_session"])
def test_in_place_change_persists(
    app: Flask, mutate: Callable[[Any], None], expect: Callable[[dict[str, Any]], None], how: str
) -> None:
    task_id = _new_task(copy.deepcopy(INITIAL))
    mutate(_reload(task_id, how).data)
    DB.session.commit()
    expected = copy.deepcopy(INITIAL)
    expect(expected)
    assert _reload(task_id, how).data == expected


def test_changes_before_the_first_commit_are_saved(app: Flask) -> None:
    task = ProcessingTask("pending")
    task.data["list"] = []
    task.data["list"].append({"x": 1})
    task.data["list"][0]["y"] = 2
    task.save(commit=True)
    assert _reload(task.id).data == {"list": [{"x": 1, "y": 2}]}


def test_tracking_survives_several_commits(app: Flask) -> None:
    task_id = _new_task({"log": []})
    for number in range(3):
        _reload(task_id).data["log"].append(number)
        DB.session.commit()
    assert _reload(task_id).data == {"log": [0, 1, 2]}


def test_nested_list_value_of_a_list_column_is_tracked(app: Flask) -> None:
    task_id = _new_task([[1], {"a": []}])
    data = _reload(task_id).data
    data[0].append(2)
    data[1]["a"].append(3)
    data.append("end")
    DB.session.commit()
    assert _reload(task_id).data == [[1, 2], {"a": [3]}, "end"]


def test_container_moved_within_the_value_stays_tracked(app: Flask) -> None:
    task_id = _new_task({"src": {"v": 1}})
    data = _reload(task_id).data
    data["dst"] = data.pop("src")
    DB.session.commit()
    _reload(task_id).data["dst"]["v"] = 2
    DB.session.commit()
    assert _reload(task_id).data == {"dst": {"v": 2}}


def test_unchanged_value_does_not_change_other_tasks(app: Flask) -> None:
    first, second = _new_task({"n": 1}), _new_task({"n": 1})
    _reload(first).data["n"] = 2
    DB.session.commit()
    assert _reload(first).data == {"n": 2}
    assert _reload(second).data == {"n": 1}


def test_tracked_values_serialise_as_plain_json(app: Flask) -> None:
    task_id = _new_task({"a": [{"b": 1}]})
    data = _reload(task_id).data
    assert isinstance(data, TrackedDict) and isinstance(data["a"], TrackedList)
    assert json.loads(json.dumps(data)) == {"a": [{"b": 1}]}
    restored = pickle.loads(pickle.dumps(data))
    assert restored == {"a": [{"b": 1}]} and type(restored) is dict
    assert type(copy.deepcopy(data)) is dict


def test_plugin_state_values_are_tracked_too(app: Flask) -> None:
    PluginState.set_value("plugin@v1", "state", {"runs": []}, commit=True)
    DB.session.expire_all()
    PluginState.get_value("plugin@v1", "state")["runs"].append({"ok": True})
    DB.session.commit()
    DB.session.remove()
    assert PluginState.get_value("plugin@v1", "state") == {"runs": [{"ok": True}]}


def test_change_through_a_task_nobody_holds_is_saved(app: Flask) -> None:
    """``ProcessingTask.get_by_id(i).data[k] = v``: the task is only weakly held by the session."""
    task_id = _new_task({"a": []})
    DB.session.expire_all()
    ProcessingTask.get_by_id(task_id).data["k"] = "v"  # type: ignore[union-attr]
    gc.collect()
    ProcessingTask.get_by_id(task_id).data["a"].append(1)  # type: ignore[union-attr]
    gc.collect()
    DB.session.commit()
    assert _reload(task_id, "new_session").data == {"a": [1], "k": "v"}


def test_container_shared_between_two_rows_is_saved_for_both(app: Flask) -> None:
    source_id, copy_id = _new_task({"y": {"k": 1}}), _new_task()
    source, target = _reload(source_id), _reload(copy_id)
    target.data["x"] = source.data["y"]
    source.data["y"]["k"] = 2
    target.data["x"]["extra"] = True
    DB.session.commit()
    assert _reload(source_id, "new_session").data == {"y": {"k": 2}}
    assert _reload(copy_id, "new_session").data == {"x": {"k": 1, "extra": True}}


def test_whole_value_taken_from_another_row_is_saved_for_both(app: Flask) -> None:
    PluginState.set_value("plugin@v1", "defaults", {"opts": [1]}, commit=True)
    task_id = _new_task()
    task = _reload(task_id)
    task.data = PluginState.get_value("plugin@v1", "defaults")
    task.data["opts"].append(2)
    PluginState.get_value("plugin@v1", "defaults")["opts"].append(3)
    DB.session.commit()
    DB.session.remove()
    assert ProcessingTask.get_by_id(task_id).data == {"opts": [1, 2]}  # type: ignore[union-attr]
    assert PluginState.get_value("plugin@v1", "defaults") == {"opts": [1, 3]}


def test_alias_within_one_row_stays_one_object(app: Flask) -> None:
    task_id = _new_task({"a": {"inner": {"v": 1}}, "list": []})
    data = _reload(task_id).data
    inner = data["a"]["inner"]
    data["list"].append(inner)
    assert data["list"][0] is inner
    DB.session.commit()
    data = _reload(task_id).data
    data["a"]["inner"]["v"] = 2
    DB.session.commit()
    assert _reload(task_id).data == {"a": {"inner": {"v": 2}}, "list": [{"v": 1}]}
