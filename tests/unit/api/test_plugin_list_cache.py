"""``GET /plugins/`` is answered from memory: the virtual-plugin table is read again after this
process commits a change to it (ORM objects or DML statements), after a rollback of such a
change, and after ``PLUGIN_LIST_CACHE_SECONDS`` for changes the process cannot see."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, insert, text

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.virtual_plugins import VirtualPlugin

from helpers import ROOT

PARENT = "hello-world@v0-2-1"


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")], "PLUGIN_LIST_CACHE_SECONDS": 30.0}


def _names(client: Any) -> list[str]:
    response = client.get("/plugins/")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return [entry["name"] for entry in response.get_json()["plugins"]]


def _virtual(name: str) -> VirtualPlugin:
    return VirtualPlugin(PARENT, name, "v1", "a preset", "demo\npreset", f"http://localhost.localdomain/plugins/{PARENT}/p/{name}/")


def _statements(app: Flask) -> list[str]:
    seen: list[str] = []
    with app.app_context():
        event.listen(DB.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_the_list_is_read_once_and_then_served_from_memory(app: Flask, client: Any) -> None:
    first = client.get("/plugins/").get_data()
    statements = _statements(app)
    assert client.get("/plugins/").get_data() == first
    assert statements == [], "the second answer came from the cache"


def test_orm_add_and_delete_are_listed_at_once(app: Flask, client: Any) -> None:
    assert "vp-orm" not in _names(client)
    with app.app_context():
        DB.session.add(_virtual("vp-orm"))
        DB.session.commit()
    assert "vp-orm" in _names(client)
    with app.app_context():
        DB.session.delete(DB.session.execute(DB.select(VirtualPlugin).filter_by(name="vp-orm")).scalar_one())
        DB.session.commit()
    assert "vp-orm" not in _names(client)


def test_dml_statements_are_listed_at_once(app: Flask, client: Any) -> None:
    assert "vp-dml" not in _names(client)
    with app.app_context():
        DB.session.execute(
            insert(VirtualPlugin).values(parent_id=PARENT, name="vp-dml", version="v1", description="d", tags="", href="http://x/vp-dml/")
        )
        DB.session.commit()
    assert "vp-dml" in _names(client)
    with app.app_context():
        VirtualPlugin.delete_by_href("http://x/vp-dml/", commit=True)
    assert "vp-dml" not in _names(client)


def test_a_list_read_inside_an_uncommitted_change_is_not_kept(app: Flask, client: Any) -> None:
    with app.app_context():
        DB.session.add(_virtual("vp-rolled-back"))
        DB.session.flush()
        DB.session.rollback()
    assert "vp-rolled-back" not in _names(client)


def test_raw_sql_changes_are_listed_after_the_cache_time(app: Flask, client: Any) -> None:
    app.config["PLUGIN_LIST_CACHE_SECONDS"] = 0.2
    app.extensions.pop("qhana_plugin_list_body_cache", None)
    assert "vp-raw" not in _names(client)
    with app.app_context():  # as another process would: the ORM events do not see it
        DB.session.execute(
            text('INSERT INTO "VirtualPlugin" (parent_id, name, version, description, tags, href) VALUES (:p, :n, :v, :d, :t, :h)'),
            {"p": PARENT, "n": "vp-raw", "v": "v1", "d": "d", "t": "", "h": "http://x/vp-raw/"},
        )
        DB.session.commit()
    time.sleep(0.3)
    assert "vp-raw" in _names(client)


def test_zero_reads_the_table_on_every_request(app: Flask, client: Any) -> None:
    app.config["PLUGIN_LIST_CACHE_SECONDS"] = 0
    app.extensions.pop("qhana_plugin_list_body_cache", None)
    _names(client)
    statements = _statements(app)
    _names(client)
    assert any("VirtualPlugin" in s for s in statements)


def test_each_host_name_gets_its_own_api_roots(app: Flask, client: Any) -> None:
    app.config["SERVER_NAME"] = None
    one = client.get("/plugins/", base_url="http://one.example").get_json()["plugins"]
    two = client.get("/plugins/", base_url="http://two.example").get_json()["plugins"]
    assert all(entry["apiRoot"].startswith("http://one.example/") for entry in one)
    assert all(entry["apiRoot"].startswith("http://two.example/") for entry in two)


def test_an_unreadable_table_is_not_kept(app: Flask, client: Any, caplog: Any) -> None:
    with app.app_context():
        DB.session.execute(text('ALTER TABLE "VirtualPlugin" RENAME TO "VirtualPluginAway"'))
        DB.session.commit()
    try:
        assert _names(client)  # the loaded plugins are still listed
        statements = _statements(app)
        _names(client)
        assert any("VirtualPlugin" in s for s in statements), "the degraded list was not cached"
    finally:
        with app.app_context():
            DB.session.execute(text('ALTER TABLE "VirtualPluginAway" RENAME TO "VirtualPlugin"'))
            DB.session.commit()
